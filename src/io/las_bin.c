/* Binning LAS points straight from the raw records (readers.lidar's fast path when the
 * points need no reprojection): no intermediate arrays of doubles, and the per-point
 * tests (class, crop, usable coordinates, cell) are integer comparisons on the stored
 * X and Y.
 *
 * x = X * scale + offset is monotone in X (positive scale), so every test on x is an
 * interval of X: its bounds are found once by binary search with the very expression
 * the generic path evaluates, which keeps the results exact. The cell of a point is
 * cached as the interval of X (and of Y) that maps to it; only a point leaving it
 * pays for floor(x / cell_size) and a short search for the new interval. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "citytiler/points.h"
#include "io/las_internal.h"

/* Records per pread: ~96 KiB, as in las_points.c (stays in L2, below mmap threshold). */
#define BLOCK_BYTES (96u * 1024u)

static inline double scaled(int64_t v, double s, double o) { return (double)(int32_t)v * s + o; }

/* Monotone predicates of x (false for small X, true for large X). */
enum { P_NOT_LT, P_GT, P_GE, P_CELL_GE };

typedef struct axis_pred {
    int kind;
    double s, o;   /* scale, offset */
    double q;      /* threshold (P_NOT_LT, P_GT, P_GE) */
    double cs;     /* cell size (P_CELL_GE) */
    int64_t k;     /* cell (P_CELL_GE) */
} axis_pred;

static inline int pred(const axis_pred *p, int64_t v) {
    double x = scaled(v, p->s, p->o);
    switch (p->kind) {
    case P_NOT_LT: return !(x < p->q);
    case P_GT: return x > p->q;
    case P_GE: return x >= p->q;
    default: return (int64_t)floor(x / p->cs) >= p->k;
    }
}

/* Smallest v in [a, b] with pred(v), where pred(b) is true or b is one past the range. */
static int64_t bsearch_first(const axis_pred *p, int64_t a, int64_t b) {
    while (a < b) {
        int64_t m = a + (b - a) / 2;
        if (pred(p, m)) b = m;
        else a = m + 1;
    }
    return a;
}

/* Smallest v in [lo, hi] with pred(v) (hi + 1 when none), searching outwards from guess. */
static int64_t first_true_near(const axis_pred *p, int64_t lo, int64_t hi, int64_t guess) {
    if (lo > hi) return hi + 1;
    if (guess < lo) guess = lo;
    if (guess > hi + 1) guess = hi + 1;
    if (guess <= hi && pred(p, guess)) {
        int64_t b = guess, step = 1, a;
        for (;;) {
            a = b - step;
            if (a < lo) { a = lo - 1; break; }
            if (!pred(p, a)) break;
            b = a;
            step *= 2;
        }
        return bsearch_first(p, a + 1, b);
    }
    if (guess > hi) return hi + 1;
    int64_t a = guess, step = 1, b;
    for (;;) {
        b = a + step;
        if (b > hi) { b = hi + 1; break; }
        if (pred(p, b)) break;
        a = b;
        step *= 2;
    }
    return bsearch_first(p, a + 1, b);
}

static int64_t first_true(int kind, double s, double o, double q) {
    axis_pred p = {kind, s, o, q, 1, 0};
    return bsearch_first(&p, INT32_MIN, (int64_t)INT32_MAX + 1);
}

/* The intervals of X for one axis: crop (points outside are not kept), usable
 * (|x| < 1e15: outside, the point is ignored), and their intersection. */
typedef struct axis_bounds {
    double s, o;
    int64_t crop_lo, crop_hi, ok_lo, ok_hi, lo, hi;
} axis_bounds;

static void axis_bounds_init(axis_bounds *a, double s, double o, double qlo, double qhi) {
    a->s = s;
    a->o = o;
    a->crop_lo = first_true(P_NOT_LT, s, o, qlo);
    a->crop_hi = first_true(P_GT, s, o, qhi) - 1;
    a->ok_lo = first_true(P_GT, s, o, -1e15);
    a->ok_hi = first_true(P_GE, s, o, 1e15) - 1;
    a->lo = a->crop_lo > a->ok_lo ? a->crop_lo : a->ok_lo;
    a->hi = a->crop_hi < a->ok_hi ? a->crop_hi : a->ok_hi;
}

/* The X interval [lo, hi] of one cell c. */
typedef struct cell_span {
    int64_t lo, hi, c;
} cell_span;

/* The cell of v (inside [a->lo, a->hi]) and the interval of values that share it. */
static cell_span cell_of(const axis_bounds *a, double cs, int64_t v) {
    cell_span r;
    double x = scaled(v, a->s, a->o);
    r.c = (int64_t)floor(x / cs);
    axis_pred p = {P_CELL_GE, a->s, a->o, 0, cs, r.c};
    double g = ceil(((double)r.c * cs - a->o) / a->s);
    int64_t guess = g > (double)a->lo ? (g < (double)a->hi ? (int64_t)g : a->hi) : a->lo;
    r.lo = first_true_near(&p, a->lo, v, guess);
    p.k = r.c + 1;
    g = ceil(((double)(r.c + 1) * cs - a->o) / a->s);
    guess = g > (double)v ? (g < (double)a->hi ? (int64_t)g : a->hi) : v;
    r.hi = first_true_near(&p, v, a->hi, guess) - 1;
    return r;
}

/* Cell of v with a two-entry cache (scan lines often go back and forth over a border). */
static inline void axis_cell(const axis_bounds *a, double cs, cell_span *cur, cell_span *prev, int64_t v) {
    if (v >= cur->lo && v <= cur->hi) return;
    cell_span t = *cur;
    if (v >= prev->lo && v <= prev->hi) *cur = *prev;
    else *cur = cell_of(a, cs, v);
    *prev = t;
}

int ct_las_bin_supported(const ct_las_reader *r) {
    const ct_las_header *h = &r->hdr;
    if (!(h->scale[0] > 0) || !(h->scale[1] > 0)) return 0;
    double zlo = scaled(INT32_MIN, h->scale[2], h->offset[2]), zhi = scaled(INT32_MAX, h->scale[2], h->offset[2]);
    /* Every Z usable (|z| < 1e15, as the generic path requires): the fast path tests
     * only X and Y; a file that may hold unusable Z values takes the generic path. */
    return fabs(zlo) < 1e15 && fabs(zhi) < 1e15 && h->record_length >= 17;
}

/* Byte offset and mask of the class in a record. */
static void class_field(const ct_las_header *h, size_t *off, unsigned *mask) {
    *off = h->point_format >= 6 ? 16 : 15;
    *mask = h->point_format >= 6 ? 0xFFu : 0x1Fu;
}

/* The withheld flag in byte 15 of a record (formats 0-5: bit 7 beside the class; 6-10:
 * bit 2 of the classification flags); 0 when withheld points are kept. */
static unsigned withheld_mask(const ct_las_header *h, const ct_las_bin_params *p) {
    if (!p->drop_withheld) return 0;
    return h->point_format >= 6 ? 0x04u : 0x80u;
}

enum { MAP_SLOTS = 512 };

static uint64_t hash_cell(int64_t cx, int64_t cy) {
    uint64_t h = (uint64_t)cx * 0x9E3779B97F4A7C15ull ^ ((uint64_t)cy + 0x632BE59BD9B4E019ull) * 0xC2B2AE3D27D4EB4Full;
    return h ^ (h >> 29);
}

ct_status ct_las_bin_locate(ct_context *ctx, const ct_las_reader *r, uint64_t first, size_t count,
                            const ct_las_bin_params *p, uint8_t *ids, int64_t *cxy, uint32_t *counts,
                            size_t *ncells, uint64_t *ignored, const uint8_t *raw) {
    *ncells = 0;
    *ignored = 0;
    ct_status s = ct_las_check_range(ctx, r, first, count);
    if (s != CT_OK) return s;
    if (!ct_las_bin_supported(r)) {
        *ncells = CT_CHUNK_GENERIC;
        return CT_OK;
    }
    if (count == 0) return CT_OK;
    const ct_las_header *h = &r->hdr;
    const size_t rl = h->record_length;
    const double cs = p->cell_size;
    size_t cls_off;
    unsigned cls_mask;
    class_field(h, &cls_off, &cls_mask);
    const unsigned wh_mask = withheld_mask(h, p);
    axis_bounds ax, ay;
    axis_bounds_init(&ax, h->scale[0], h->offset[0], p->crop[0], p->crop[2]);
    axis_bounds_init(&ay, h->scale[1], h->offset[1], p->crop[1], p->crop[3]);
    const uint8_t *drop = p->drop_class;

    size_t per = ct_las_block_records(r, count, BLOCK_BYTES / rl ? BLOCK_BYTES / rl : 1);
    size_t block = count < per ? count : per;
    uint8_t *buf = raw ? NULL : malloc(block * rl); /* raw: the records are given */
    if (!raw && !buf) return ct_error_nomem(ctx, "LAS read buffer");
    uint16_t slots[MAP_SLOTS];
    memset(slots, 0, sizeof slots);
    size_t nc = 0;
    uint64_t ign = 0;
    /* Current cell per axis (empty intervals: the first point takes the slow path). */
    cell_span xcur = {1, 0, 0}, xprev = {1, 0, 0}, ycur = {1, 0, 0}, yprev = {1, 0, 0};
    int64_t lo_x = 1, hi_x = 0, lo_y = 1, hi_y = 0; /* intervals of the cell `id` */
    unsigned id = 0;
    size_t done = 0;
    while (done < count) {
        size_t n = count - done < block ? count - done : block;
        uint64_t rec0 = first + done;
        ct_status rst = raw ? CT_OK : ct_las_read_raw(ctx, r, rec0, n, buf);
        if (rst != CT_OK) {
            free(buf);
            return rst;
        }
        const uint8_t *q = raw ? raw + done * rl : buf;
        uint8_t *out = ids + done;
        for (size_t i = 0; i < n; i++, q += rl) {
            int64_t X = (int32_t)ct_le32(q), Y = (int32_t)ct_le32(q + 4);
            unsigned c = q[cls_off] & cls_mask;
            int withheld = (q[15] & wh_mask) != 0;
            if (X >= lo_x && X <= hi_x && Y >= lo_y && Y <= hi_y && !drop[c] && !withheld) {
                out[i] = (uint8_t)id;
                counts[id]++;
                continue;
            }
            /* The slow path, in the generic path's order: class and crop drop a point,
             * unusable coordinates make it ignored. */
            out[i] = CT_CELL_SKIP;
            if (drop[c] || withheld || X < ax.crop_lo || X > ax.crop_hi || Y < ay.crop_lo || Y > ay.crop_hi) continue;
            if (X < ax.ok_lo || X > ax.ok_hi || Y < ay.ok_lo || Y > ay.ok_hi) {
                ign++;
                continue;
            }
            axis_cell(&ax, cs, &xcur, &xprev, X);
            axis_cell(&ay, cs, &ycur, &yprev, Y);
            size_t slot = hash_cell(xcur.c, ycur.c) & (MAP_SLOTS - 1);
            while (slots[slot] && (cxy[2 * (slots[slot] - 1)] != xcur.c || cxy[2 * (slots[slot] - 1) + 1] != ycur.c))
                slot = (slot + 1) & (MAP_SLOTS - 1);
            if (!slots[slot]) {
                if (nc == CT_CHUNK_MAX_CELLS) { /* too many cells for one byte per point */
                    free(buf);
                    *ncells = CT_CHUNK_GENERIC;
                    return CT_OK;
                }
                cxy[2 * nc] = xcur.c;
                cxy[2 * nc + 1] = ycur.c;
                counts[nc] = 0;
                slots[slot] = (uint16_t)++nc;
            }
            id = slots[slot] - 1u;
            lo_x = xcur.lo; hi_x = xcur.hi;
            lo_y = ycur.lo; hi_y = ycur.hi;
            out[i] = (uint8_t)id;
            counts[id]++;
        }
        done += n;
    }
    free(buf);
    *ncells = nc;
    *ignored = ign;
    return CT_OK;
}

ct_status ct_las_bin_fill(ct_context *ctx, const ct_las_reader *r, uint64_t first, size_t count,
                          const ct_las_bin_params *p, const uint8_t *ids, const int64_t *cxy, size_t ncells,
                          struct ct_point_rec *const *dst, uint64_t class_counts[256], const uint8_t *raw) {
    ct_status s = ct_las_check_range(ctx, r, first, count);
    if (s != CT_OK) return s;
    if (count == 0 || ncells == 0) return CT_OK;
    const ct_las_header *h = &r->hdr;
    const size_t rl = h->record_length;
    const double cs = p->cell_size;
    const double sx = h->scale[0], sy = h->scale[1], sz = h->scale[2];
    const double ox = h->offset[0], oy = h->offset[1], oz = h->offset[2];
    size_t cls_off;
    unsigned cls_mask;
    class_field(h, &cls_off, &cls_mask);
    ct_point_rec *d[CT_CHUNK_MAX_CELLS];
    double cx0[CT_CHUNK_MAX_CELLS], cy0[CT_CHUNK_MAX_CELLS];
    for (size_t k = 0; k < ncells; k++) {
        d[k] = dst[k];
        cx0[k] = (double)cxy[2 * k] * cs; /* as ct_point_store_add: x - (double)cx * cs */
        cy0[k] = (double)cxy[2 * k + 1] * cs;
    }
    size_t per = ct_las_block_records(r, count, BLOCK_BYTES / rl ? BLOCK_BYTES / rl : 1);
    size_t block = count < per ? count : per;
    uint8_t *buf = raw ? NULL : malloc(block * rl); /* raw: the records are given */
    if (!raw && !buf) return ct_error_nomem(ctx, "LAS read buffer");
    size_t done = 0;
    while (done < count) {
        size_t n = count - done < block ? count - done : block;
        const uint8_t *id = ids + done;
        size_t any = 0;
        while (any < n && id[any] == CT_CELL_SKIP) any++;
        if (any == n) { /* nothing kept here (cropped): no need to read it */
            done += n;
            continue;
        }
        uint64_t rec0 = first + done;
        ct_status rst = raw ? CT_OK : ct_las_read_raw(ctx, r, rec0, n, buf);
        if (rst != CT_OK) {
            free(buf);
            return rst;
        }
        const uint8_t *q = raw ? raw + done * rl : buf;
        for (size_t i = 0; i < n; i++, q += rl) {
            unsigned k = id[i];
            if (k == CT_CELL_SKIP) continue;
            double x = (double)(int32_t)ct_le32(q) * sx + ox;
            double y = (double)(int32_t)ct_le32(q + 4) * sy + oy;
            double z = (double)(int32_t)ct_le32(q + 8) * sz + oz;
            unsigned c = q[cls_off] & cls_mask;
            ct_point_rec *o = d[k]++;
            o->x = (float)(x - cx0[k]);
            o->y = (float)(y - cy0[k]);
            o->z = (float)z;
            o->cls = (uint8_t)c;
            o->reserved[0] = o->reserved[1] = o->reserved[2] = 0;
            class_counts[c]++;
        }
        done += n;
    }
    free(buf);
    return CT_OK;
}
