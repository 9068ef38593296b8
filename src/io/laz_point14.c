/* POINT14 v3/v4: the 30 bytes every point of formats 6-10 has, in 9 layers (channel,
 * returns and XY; Z; classification; flags; intensity; scan angle; user data; point
 * source; GPS time). See laz_layered.h. */
#include "io/laz_layered.h"

enum { L_XY, L_Z, L_CLASS, L_FLAGS, L_INTENSITY, L_ANGLE, L_USER, L_PSID, L_GPS };

/* GPS time codes: multiples of the last difference up to MULTI, down to MINUS, then a
 * full 64-bit time, then switches to one of the other 3 sequences. */
enum { GPS_MULTI = 500, GPS_MINUS = -10, GPS_FULL = GPS_MULTI - GPS_MINUS + 1, GPS_SYMBOLS = GPS_FULL + 4 };

/* Context of the X/Y medians from (number of returns, return number): 6 classes. */
static const uint8_t return_map6[16][16] = {
    {0, 1, 2, 3, 4, 5, 3, 4, 4, 5, 5, 5, 5, 5, 5, 5}, {1, 0, 1, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3},
    {2, 1, 2, 4, 4, 4, 4, 4, 4, 4, 4, 3, 3, 3, 3, 3}, {3, 3, 4, 5, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4},
    {4, 3, 4, 4, 5, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4}, {5, 3, 4, 4, 4, 5, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4},
    {3, 3, 4, 4, 4, 4, 5, 4, 4, 4, 4, 4, 4, 4, 4, 4}, {4, 3, 4, 4, 4, 4, 4, 5, 4, 4, 4, 4, 4, 4, 4, 4},
    {4, 3, 4, 4, 4, 4, 4, 4, 5, 4, 4, 4, 4, 4, 4, 4}, {5, 3, 4, 4, 4, 4, 4, 4, 4, 5, 4, 4, 4, 4, 4, 4},
    {5, 3, 4, 4, 4, 4, 4, 4, 4, 4, 5, 4, 4, 4, 4, 4}, {5, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 4, 4, 4},
    {5, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 4, 4}, {5, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 4},
    {5, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5}, {5, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5}};

/* Context of Z: how deep the return is, |n - r| capped at 7. */
static inline uint32_t return_level8(uint32_t n, uint32_t r) {
    uint32_t d = n > r ? n - r : r - n;
    return d > 7 ? 7 : d;
}

static void unpack(ct_laz_p14_fields *f, const uint8_t *r) {
    f->x = (int32_t)ct_laz_le32(r);
    f->y = (int32_t)ct_laz_le32(r + 4);
    f->z = (int32_t)ct_laz_le32(r + 8);
    f->intensity = ct_laz_le16(r + 12);
    f->ret = r[14] & 15;
    f->nret = r[14] >> 4;
    f->class_flags = r[15] & 15;
    f->channel = (r[15] >> 4) & 3;
    f->scan_dir = (r[15] >> 6) & 1;
    f->edge = r[15] >> 7;
    f->cls = r[16];
    f->user = r[17];
    f->scan_angle = (int16_t)ct_laz_le16(r + 18);
    f->psid = ct_laz_le16(r + 20);
    f->gps = ct_laz_le64(r + 22);
    f->gps_changed = 0;
}

static void pack(uint8_t *r, const ct_laz_p14_fields *f) {
    ct_laz_put32(r, (uint32_t)f->x);
    ct_laz_put32(r + 4, (uint32_t)f->y);
    ct_laz_put32(r + 8, (uint32_t)f->z);
    ct_laz_put16(r + 12, f->intensity);
    r[14] = (uint8_t)(f->ret | (f->nret << 4));
    r[15] = (uint8_t)(f->class_flags | (f->channel << 4) | (f->scan_dir << 6) | (f->edge << 7));
    r[16] = f->cls;
    r[17] = f->user;
    ct_laz_put16(r + 18, (uint16_t)f->scan_angle);
    ct_laz_put16(r + 20, f->psid);
    ct_laz_put64(r + 22, f->gps);
}

size_t ct_laz_p14_storage(void) {
    size_t s = 8 * ct_laz_sym_storage(128) + ct_laz_sym_storage(3) + 32 * ct_laz_sym_storage(16) +
               ct_laz_sym_storage(13) + 64 * (2 * ct_laz_sym_storage(256) + ct_laz_sym_storage(64)) +
               ct_laz_sym_storage(GPS_SYMBOLS) + ct_laz_sym_storage(5);
    return 4 * s;
}

void ct_laz_p14_free(ct_laz_p14 *p) {
    for (int c = 0; c < 4; c++) {
        ct_laz_p14_ctx *x = &p->ctx[c];
        ct_laz_ic *ics[] = {&x->ic_dx, &x->ic_dy, &x->ic_z, &x->ic_intensity, &x->ic_scan_angle, &x->ic_psid,
                            &x->ic_gps};
        for (size_t k = 0; k < sizeof ics / sizeof *ics; k++) ct_laz_ic_free(ics[k]);
    }
}

/* Starts context c from the fields of the point before (the chunk's first point, or the
 * last point of the context it switches from). */
static int start_context(ct_laz_p14 *p, uint32_t c, const ct_laz_p14_fields *from) {
    ct_laz_p14_ctx *x = &p->ctx[c];
    ct_laz_arena *a = p->arena;
    int bad = 0;
    for (int k = 0; k < 8; k++) bad |= ct_laz_model_start(&x->m_changed[k], 128, a);
    bad |= ct_laz_model_start(&x->m_channel, 3, a);
    bad |= ct_laz_model_start(&x->m_rnum_same, 13, a);
    bad |= ct_laz_ic_start(&x->ic_dx, 32, 2, a);
    bad |= ct_laz_ic_start(&x->ic_dy, 32, 22, a);
    bad |= ct_laz_ic_start(&x->ic_z, 32, 20, a);
    bad |= ct_laz_ic_start(&x->ic_intensity, 16, 4, a);
    bad |= ct_laz_ic_start(&x->ic_scan_angle, 16, 2, a);
    bad |= ct_laz_ic_start(&x->ic_psid, 16, 1, a);
    bad |= ct_laz_model_start(&x->m_gps_multi, GPS_SYMBOLS, a);
    bad |= ct_laz_model_start(&x->m_gps_0diff, 5, a);
    bad |= ct_laz_ic_start(&x->ic_gps, 32, 9, a);
    if (bad) return -1;
    for (int k = 0; k < 12; k++) {
        ct_laz_median5_init(&x->last_dx[k]);
        ct_laz_median5_init(&x->last_dy[k]);
    }
    for (int k = 0; k < 8; k++) {
        x->last_z[k] = from->z;
        x->last_intensity[k] = from->intensity;
    }
    x->gps_last = x->gps_next = 0;
    memset(x->last_gps_diff, 0, sizeof x->last_gps_diff);
    memset(x->multi_extreme, 0, sizeof x->multi_extreme);
    x->last_gps[0] = from->gps;
    x->last_gps[1] = x->last_gps[2] = x->last_gps[3] = 0;
    x->last = *from;
    x->last.gps_changed = 0;
    x->used = 1;
    return 0;
}

int ct_laz_p14_start(ct_laz_p14 *p, const uint8_t *first) {
    ct_laz_p14_fields f;
    unpack(&f, first);
    p->current = f.channel;
    if (start_context(p, p->current, &f) != 0) return -1;
    return (int)p->current;
}

/* Adds a signed 32-bit difference to a time's bits, as LASzip does on its 64-bit integer. */
static inline uint64_t add_diff(uint64_t t, int32_t d) { return t + (uint64_t)(int64_t)d; }
static inline int32_t times(int32_t a, int32_t b) { return (int32_t)((uint32_t)a * (uint32_t)b); }

static void read_full_time(ct_laz_p14_ctx *x, ct_laz_dec *d) {
    x->gps_next = (x->gps_next + 1) & 3;
    uint64_t hi = (uint32_t)ct_laz_ic_decompress(&x->ic_gps, d, (int32_t)(uint32_t)(x->last_gps[x->gps_last] >> 32), 8);
    x->last_gps[x->gps_next] = (hi << 32) | ct_laz_read_int(d);
    x->gps_last = x->gps_next;
    x->last_gps_diff[x->gps_last] = 0;
    x->multi_extreme[x->gps_last] = 0;
}

/* Counts an extreme multiple; after 4 in a row it becomes the sequence's difference. */
static void extreme(ct_laz_p14_ctx *x, int32_t diff) {
    if (++x->multi_extreme[x->gps_last] > 3) {
        x->last_gps_diff[x->gps_last] = diff;
        x->multi_extreme[x->gps_last] = 0;
    }
}

/* The next GPS time of context x. A sequence switch is followed by the time itself; a
 * valid stream switches at most once per point, so more is corruption (-1). */
static int read_gps(ct_laz_p14_ctx *x, ct_laz_dec *d) {
    for (int round = 0; round < 4; round++) {
        int32_t last_diff = x->last_gps_diff[x->gps_last];
        if (last_diff == 0) {
            uint32_t multi = ct_laz_decode_symbol(d, &x->m_gps_0diff);
            if (multi == 0) {
                int32_t diff = ct_laz_ic_decompress(&x->ic_gps, d, 0, 0);
                x->last_gps_diff[x->gps_last] = diff;
                x->last_gps[x->gps_last] = add_diff(x->last_gps[x->gps_last], diff);
                x->multi_extreme[x->gps_last] = 0;
            } else if (multi == 1) {
                read_full_time(x, d);
            } else {
                x->gps_last = (x->gps_last + multi - 1) & 3;
                continue;
            }
            return 0;
        }
        int32_t multi = (int32_t)ct_laz_decode_symbol(d, &x->m_gps_multi);
        if (multi == 1) {
            x->last_gps[x->gps_last] = add_diff(x->last_gps[x->gps_last], ct_laz_ic_decompress(&x->ic_gps, d, last_diff, 1));
            x->multi_extreme[x->gps_last] = 0;
        } else if (multi < GPS_FULL) {
            int32_t diff;
            if (multi == 0) {
                diff = ct_laz_ic_decompress(&x->ic_gps, d, 0, 7);
                extreme(x, diff);
            } else if (multi < GPS_MULTI) {
                diff = ct_laz_ic_decompress(&x->ic_gps, d, times(multi, last_diff), multi < 10 ? 2 : 3);
            } else if (multi == GPS_MULTI) {
                diff = ct_laz_ic_decompress(&x->ic_gps, d, times(GPS_MULTI, last_diff), 4);
                extreme(x, diff);
            } else {
                int32_t m = GPS_MULTI - multi;
                if (m > GPS_MINUS) {
                    diff = ct_laz_ic_decompress(&x->ic_gps, d, times(m, last_diff), 5);
                } else {
                    diff = ct_laz_ic_decompress(&x->ic_gps, d, times(GPS_MINUS, last_diff), 6);
                    extreme(x, diff);
                }
            }
            x->last_gps[x->gps_last] = add_diff(x->last_gps[x->gps_last], diff);
        } else if (multi == GPS_FULL) {
            read_full_time(x, d);
        } else {
            x->gps_last = (x->gps_last + (uint32_t)(multi - GPS_FULL)) & 3;
            continue;
        }
        return 0;
    }
    return -1;
}

uint32_t ct_laz_p14_read(ct_laz_p14 *p, uint8_t *out) {
    ct_laz_layer *L = p->layer;
    ct_laz_dec *dxy = &L[L_XY].dec;
    ct_laz_p14_ctx *x = &p->ctx[p->current];
    ct_laz_p14_fields *last = &x->last;

    /* which fields changed, in the context of the last point's return and time change */
    uint32_t lpr = (last->ret == 1) + (last->ret >= last->nret ? 2u : 0u) + (last->gps_changed ? 4u : 0u);
    uint32_t changed = ct_laz_decode_symbol(dxy, &x->m_changed[lpr]);

    if (changed & (1u << 6)) { /* another scanner channel */
        uint32_t diff = ct_laz_decode_symbol(dxy, &x->m_channel);
        uint32_t c = (p->current + diff + 1) & 3;
        if (!p->ctx[c].used && start_context(p, c, last) != 0) goto out_of_arena;
        p->current = c;
        x = &p->ctx[c];
        last = &x->last;
        last->channel = (uint8_t)c;
    }
    ct_laz_arena *a = p->arena;
    int psid_change = (changed >> 5) & 1;
    uint32_t gps_change = (changed >> 4) & 1;
    int angle_change = (changed >> 3) & 1;

    uint32_t n = last->nret, r = last->ret;
    if (changed & (1u << 2)) {
        ct_laz_sym_model *m = ct_laz_lazy_model(&x->m_nret[n], 16, a);
        if (!m) goto out_of_arena;
        n = ct_laz_decode_symbol(dxy, m);
        last->nret = (uint8_t)n;
    }
    switch (changed & 3) {
    case 0: break;
    case 1: r = (r + 1) & 15; break;
    case 2: r = (r + 15) & 15; break;
    default:
        if (gps_change) {
            ct_laz_sym_model *m = ct_laz_lazy_model(&x->m_rnum[r], 16, a);
            if (!m) goto out_of_arena;
            r = ct_laz_decode_symbol(dxy, m);
        } else {
            r = (r + ct_laz_decode_symbol(dxy, &x->m_rnum_same) + 2) & 15;
        }
    }
    last->ret = (uint8_t)r;

    uint32_t m6 = return_map6[n][r], l8 = return_level8(n, r);
    uint32_t cpr = (r == 1) + (r >= n ? 2u : 0u); /* first 1, last 2, single 3 */
    uint32_t med = (m6 << 1) | gps_change;

    int32_t diff = ct_laz_ic_decompress(&x->ic_dx, dxy, x->last_dx[med].v[2], n == 1);
    last->x = (int32_t)((uint32_t)last->x + (uint32_t)diff);
    ct_laz_median5_add(&x->last_dx[med], diff);
    uint32_t k = ct_laz_ic_k(&x->ic_dx);
    diff = ct_laz_ic_decompress(&x->ic_dy, dxy, x->last_dy[med].v[2], (n == 1) + (k < 20 ? k & ~1u : 20));
    last->y = (int32_t)((uint32_t)last->y + (uint32_t)diff);
    ct_laz_median5_add(&x->last_dy[med], diff);

    if (L[L_Z].changed) {
        k = (ct_laz_ic_k(&x->ic_dx) + ct_laz_ic_k(&x->ic_dy)) / 2;
        last->z = ct_laz_ic_decompress(&x->ic_z, &L[L_Z].dec, x->last_z[l8], (n == 1) + (k < 18 ? k & ~1u : 18));
        x->last_z[l8] = last->z;
    }
    if (L[L_CLASS].changed) {
        uint32_t ccc = ((last->cls & 0x1Fu) << 1) + (cpr == 3);
        ct_laz_sym_model *m = ct_laz_lazy_model(&x->m_class[ccc], 256, a);
        if (!m) goto out_of_arena;
        last->cls = (uint8_t)ct_laz_decode_symbol(&L[L_CLASS].dec, m);
    }
    if (L[L_FLAGS].changed) {
        uint32_t f = ((uint32_t)last->edge << 5) | ((uint32_t)last->scan_dir << 4) | last->class_flags;
        ct_laz_sym_model *m = ct_laz_lazy_model(&x->m_flags[f], 64, a);
        if (!m) goto out_of_arena;
        f = ct_laz_decode_symbol(&L[L_FLAGS].dec, m);
        last->edge = (f >> 5) & 1;
        last->scan_dir = (f >> 4) & 1;
        last->class_flags = f & 15;
    }
    if (L[L_INTENSITY].changed) {
        uint32_t i = (cpr << 1) | gps_change;
        last->intensity = (uint16_t)ct_laz_ic_decompress(&x->ic_intensity, &L[L_INTENSITY].dec, x->last_intensity[i], cpr);
        x->last_intensity[i] = last->intensity;
    }
    if (L[L_ANGLE].changed && angle_change)
        last->scan_angle = (int16_t)(uint16_t)ct_laz_ic_decompress(&x->ic_scan_angle, &L[L_ANGLE].dec,
                                                                   last->scan_angle, gps_change);
    if (L[L_USER].changed) {
        ct_laz_sym_model *m = ct_laz_lazy_model(&x->m_user[last->user / 4], 256, a);
        if (!m) goto out_of_arena;
        last->user = (uint8_t)ct_laz_decode_symbol(&L[L_USER].dec, m);
    }
    if (L[L_PSID].changed && psid_change)
        last->psid = (uint16_t)ct_laz_ic_decompress(&x->ic_psid, &L[L_PSID].dec, last->psid, 0);
    if (L[L_GPS].changed && gps_change) {
        if (read_gps(x, &L[L_GPS].dec) != 0) p->corrupt = 1;
        last->gps = x->last_gps[x->gps_last];
    }
    pack(out, last);
    last->gps_changed = (uint8_t)gps_change;
    return p->current;

out_of_arena:
    p->arena->exhausted = 1;
    return p->current;
}
