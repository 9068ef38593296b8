/* POINT10 version 2: the 20 bytes of a point format 0-5 record (x, y, z, intensity, the
 * return/flags byte, class, scan angle, user data, point source), predicted from the
 * previous point of the chunk.
 *
 * A symbol of 6 bits says which of the non-coordinate fields changed. Intensity and the
 * coordinate differences keep separate histories per return context m (from return number
 * and number of returns); x and y are predicted by the median of the last 5 differences,
 * z by the last z at the same return level l. */
#include <stdlib.h>
#include <string.h>

#include "io/laz_internal.h"

struct ct_laz_point10 {
    uint8_t last[20];
    uint16_t last_intensity[16];
    int32_t last_height[8];
    ct_laz_median5 dx[16], dy[16];
    ct_laz_sym_model changed, scan_angle[2];
    ct_laz_sym_model fresh256; /* never used: the 256-symbol models start as copies of it */
    ct_laz_sym_model *bit_byte[256], *classification[256], *user_data[256];
    ct_laz_ic ic_intensity, ic_source, ic_dx, ic_dy, ic_z;
};

/* Contexts for the return number r (row: number of returns n), also covering files that
 * count from 0 or swap r and n. */
static const uint8_t return_map[8][8] = {
    {15, 14, 13, 12, 11, 10, 9, 8},   {14, 0, 1, 3, 6, 10, 10, 9},    {13, 1, 2, 4, 7, 11, 11, 10},
    {12, 3, 4, 5, 8, 12, 12, 11},     {11, 6, 7, 8, 9, 13, 13, 12},   {10, 10, 11, 12, 13, 14, 14, 13},
    {9, 10, 11, 12, 13, 14, 15, 14},  {8, 9, 10, 11, 12, 13, 14, 15},
};
/* The level: |n - r|. */
static const uint8_t return_level[8][8] = {
    {0, 1, 2, 3, 4, 5, 6, 7}, {1, 0, 1, 2, 3, 4, 5, 6}, {2, 1, 0, 1, 2, 3, 4, 5}, {3, 2, 1, 0, 1, 2, 3, 4},
    {4, 3, 2, 1, 0, 1, 2, 3}, {5, 4, 3, 2, 1, 0, 1, 2}, {6, 5, 4, 3, 2, 1, 0, 1}, {7, 6, 5, 4, 3, 2, 1, 0},
};

void ct_laz_median5_add(ct_laz_median5 *m, int32_t x) {
    int32_t *v = m->v;
    if (m->high) {
        if (x < v[2]) {
            v[4] = v[3];
            v[3] = v[2];
            if (x < v[0]) {
                v[2] = v[1];
                v[1] = v[0];
                v[0] = x;
            } else if (x < v[1]) {
                v[2] = v[1];
                v[1] = x;
            } else {
                v[2] = x;
            }
        } else {
            if (x < v[3]) {
                v[4] = v[3];
                v[3] = x;
            } else {
                v[4] = x;
            }
            m->high = 0;
        }
    } else {
        if (v[2] < x) {
            v[0] = v[1];
            v[1] = v[2];
            if (v[4] < x) {
                v[2] = v[3];
                v[3] = v[4];
                v[4] = x;
            } else if (v[3] < x) {
                v[2] = v[3];
                v[3] = x;
            } else {
                v[2] = x;
            }
        } else {
            if (v[1] < x) {
                v[0] = v[1];
                v[1] = x;
            } else {
                v[0] = x;
            }
            m->high = 1;
        }
    }
}

ct_laz_point10 *ct_laz_point10_create(void) {
    ct_laz_point10 *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    int bad = ct_laz_sym_create(&s->changed, 64) | ct_laz_sym_create(&s->fresh256, 256);
    bad |= ct_laz_sym_create(&s->scan_angle[0], 256) | ct_laz_sym_create(&s->scan_angle[1], 256);
    bad |= ct_laz_ic_create(&s->ic_intensity, 16, 4, 8, 0) | ct_laz_ic_create(&s->ic_source, 16, 1, 8, 0);
    bad |= ct_laz_ic_create(&s->ic_dx, 32, 2, 8, 0) | ct_laz_ic_create(&s->ic_dy, 32, 22, 8, 0);
    bad |= ct_laz_ic_create(&s->ic_z, 32, 20, 8, 0);
    if (bad) {
        ct_laz_point10_free(s);
        return NULL;
    }
    return s;
}

static void free_models(ct_laz_sym_model **m) {
    for (int i = 0; i < 256; i++) {
        if (m[i]) ct_laz_sym_free(m[i]);
        free(m[i]);
        m[i] = NULL;
    }
}

void ct_laz_point10_free(ct_laz_point10 *s) {
    if (!s) return;
    ct_laz_sym_free(&s->changed);
    ct_laz_sym_free(&s->fresh256);
    ct_laz_sym_free(&s->scan_angle[0]);
    ct_laz_sym_free(&s->scan_angle[1]);
    ct_laz_ic_free(&s->ic_intensity);
    ct_laz_ic_free(&s->ic_source);
    ct_laz_ic_free(&s->ic_dx);
    ct_laz_ic_free(&s->ic_dy);
    ct_laz_ic_free(&s->ic_z);
    free_models(s->bit_byte);
    free_models(s->classification);
    free_models(s->user_data);
    free(s);
}

void ct_laz_point10_start(ct_laz_point10 *s, const uint8_t *item) {
    for (int i = 0; i < 16; i++) {
        ct_laz_median5_init(&s->dx[i]);
        ct_laz_median5_init(&s->dy[i]);
        s->last_intensity[i] = 0;
    }
    memset(s->last_height, 0, sizeof s->last_height);
    ct_laz_sym_init(&s->changed, NULL);
    ct_laz_sym_copy(&s->scan_angle[0], &s->fresh256);
    ct_laz_sym_copy(&s->scan_angle[1], &s->fresh256);
    ct_laz_ic_init(&s->ic_intensity);
    ct_laz_ic_init(&s->ic_source);
    ct_laz_ic_init(&s->ic_dx);
    ct_laz_ic_init(&s->ic_dy);
    ct_laz_ic_init(&s->ic_z);
    for (int i = 0; i < 256; i++) { /* (models made in an earlier chunk start afresh) */
        if (s->bit_byte[i]) ct_laz_sym_copy(s->bit_byte[i], &s->fresh256);
        if (s->classification[i]) ct_laz_sym_copy(s->classification[i], &s->fresh256);
        if (s->user_data[i]) ct_laz_sym_copy(s->user_data[i], &s->fresh256);
    }
    memcpy(s->last, item, 20);
    s->last[12] = s->last[13] = 0; /* the intensity is predicted from last_intensity only */
}

/* The next byte from the 256-symbol model kept for the previous byte value (made on first
 * use); -1 when it cannot be allocated. */
static int byte_by_context(ct_laz_sym_model **models, uint8_t prev, ct_laz_dec *d, const ct_laz_sym_model *fresh) {
    ct_laz_sym_model *m = models[prev];
    if (CT_LAZ_UNLIKELY(!m)) {
        m = malloc(sizeof *m);
        if (!m || ct_laz_sym_create_copy(m, fresh) != 0) {
            free(m);
            return -1;
        }
        models[prev] = m;
    }
    return (int)ct_laz_decode_symbol(d, m);
}

int ct_laz_point10_read(ct_laz_point10 *s, ct_laz_dec *d, uint8_t *item) {
    uint8_t *last = s->last;
    uint32_t changed = ct_laz_decode_symbol(d, &s->changed);
    if (changed & 32) {
        int v = byte_by_context(s->bit_byte, last[14], d, &s->fresh256);
        if (v < 0) return -1;
        last[14] = (uint8_t)v;
    }
    uint32_t r = last[14] & 7, n = (last[14] >> 3) & 7;
    uint32_t m = return_map[n][r], l = return_level[n][r];
    if (changed & 16) {
        uint32_t v = (uint32_t)ct_laz_ic_decompress(&s->ic_intensity, d, s->last_intensity[m], m < 3 ? m : 3);
        s->last_intensity[m] = (uint16_t)v;
    }
    ct_laz_put16(last + 12, s->last_intensity[m]);
    if (changed & 8) {
        int v = byte_by_context(s->classification, last[15], d, &s->fresh256);
        if (v < 0) return -1;
        last[15] = (uint8_t)v;
    }
    if (changed & 4) { /* the scan angle's change, modelled per scan direction */
        uint32_t v = ct_laz_decode_symbol(d, &s->scan_angle[(last[14] >> 6) & 1]);
        last[16] = (uint8_t)(v + last[16]);
    }
    if (changed & 2) {
        int v = byte_by_context(s->user_data, last[17], d, &s->fresh256);
        if (v < 0) return -1;
        last[17] = (uint8_t)v;
    }
    if (changed & 1) {
        int32_t v = ct_laz_ic_decompress(&s->ic_source, d, ct_laz_le16(last + 18), 0);
        ct_laz_put16(last + 18, (uint32_t)v);
    }

    int32_t diff = ct_laz_ic_decompress(&s->ic_dx, d, s->dx[m].v[2], n == 1);
    ct_laz_put32(last, ct_laz_le32(last) + (uint32_t)diff);
    ct_laz_median5_add(&s->dx[m], diff);

    uint32_t k = ct_laz_ic_k(&s->ic_dx);
    diff = ct_laz_ic_decompress(&s->ic_dy, d, s->dy[m].v[2], (n == 1) + (k < 20 ? k & ~1u : 20));
    ct_laz_put32(last + 4, ct_laz_le32(last + 4) + (uint32_t)diff);
    ct_laz_median5_add(&s->dy[m], diff);

    k = (ct_laz_ic_k(&s->ic_dx) + ct_laz_ic_k(&s->ic_dy)) / 2;
    int32_t z = ct_laz_ic_decompress(&s->ic_z, d, s->last_height[l], (n == 1) + (k < 18 ? k & ~1u : 18));
    ct_laz_put32(last + 8, (uint32_t)z);
    s->last_height[l] = z;

    memcpy(item, last, 20);
    return 0;
}
