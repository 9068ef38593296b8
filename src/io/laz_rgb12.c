/* RGB12 version 2: three 16-bit colour channels, each as a low and a high byte. A 7-bit
 * symbol says which bytes changed (bits 0-5: red low, red high, green low, green high,
 * blue low, blue high) and whether the colour is not grey (bit 6; else green and blue copy
 * red). Green's bytes are predicted by the previous green plus red's change, blue's by the
 * previous blue plus the mean of red's and green's changes. */
#include <stdlib.h>

#include "io/laz_internal.h"

struct ct_laz_rgb12 {
    uint16_t last[3];
    ct_laz_sym_model used, diff[6];
};

ct_laz_rgb12 *ct_laz_rgb12_create(void) {
    ct_laz_rgb12 *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    int bad = ct_laz_sym_create(&s->used, 128);
    for (int i = 0; i < 6; i++) bad |= ct_laz_sym_create(&s->diff[i], 256);
    if (bad) {
        ct_laz_rgb12_free(s);
        return NULL;
    }
    return s;
}

void ct_laz_rgb12_free(ct_laz_rgb12 *s) {
    if (!s) return;
    ct_laz_sym_free(&s->used);
    for (int i = 0; i < 6; i++) ct_laz_sym_free(&s->diff[i]);
    free(s);
}

void ct_laz_rgb12_start(ct_laz_rgb12 *s, const uint8_t *item) {
    ct_laz_sym_init(&s->used, NULL);
    ct_laz_sym_init(&s->diff[0], NULL);
    for (int i = 1; i < 6; i++) ct_laz_sym_copy(&s->diff[i], &s->diff[0]);
    for (int i = 0; i < 3; i++) s->last[i] = ct_laz_le16(item + 2 * i);
}

static int clamp255(int v) { return v <= 0 ? 0 : v >= 255 ? 255 : v; }

/* A byte from its model's symbol added (mod 256) to the prediction. */
static int byte_from(ct_laz_dec *d, ct_laz_sym_model *m, int pred) {
    return (int)((ct_laz_decode_symbol(d, m) + (uint32_t)pred) & 0xFF);
}

void ct_laz_rgb12_read(ct_laz_rgb12 *s, ct_laz_dec *d, uint8_t *item) {
    const uint16_t *last = s->last;
    int lo[3], hi[3];
    for (int i = 0; i < 3; i++) {
        lo[i] = last[i] & 0xFF;
        hi[i] = last[i] >> 8;
    }
    uint32_t sym = ct_laz_decode_symbol(d, &s->used);
    int r_lo = sym & 1 ? byte_from(d, &s->diff[0], lo[0]) : lo[0];
    int r_hi = sym & 2 ? byte_from(d, &s->diff[1], hi[0]) : hi[0];
    int g_lo = r_lo, g_hi = r_hi, b_lo = r_lo, b_hi = r_hi;
    if (sym & 64) {
        int diff = r_lo - lo[0];
        g_lo = sym & 4 ? byte_from(d, &s->diff[2], clamp255(diff + lo[1])) : lo[1];
        if (sym & 16) {
            diff = (diff + (g_lo - lo[1])) / 2;
            b_lo = byte_from(d, &s->diff[4], clamp255(diff + lo[2]));
        } else {
            b_lo = lo[2];
        }
        diff = r_hi - hi[0];
        g_hi = sym & 8 ? byte_from(d, &s->diff[3], clamp255(diff + hi[1])) : hi[1];
        if (sym & 32) {
            diff = (diff + (g_hi - hi[1])) / 2;
            b_hi = byte_from(d, &s->diff[5], clamp255(diff + hi[2]));
        } else {
            b_hi = hi[2];
        }
    }
    s->last[0] = (uint16_t)(r_lo | r_hi << 8);
    s->last[1] = (uint16_t)(g_lo | g_hi << 8);
    s->last[2] = (uint16_t)(b_lo | b_hi << 8);
    for (int i = 0; i < 3; i++) ct_laz_put16(item + 2 * i, s->last[i]);
}
