/* Each cell's fine index: a stable counting sort of its points by class group and fine
 * bin gives a CSR table (group, bin -> point range), so a query for a box touches only
 * the bins it overlaps, and only in the groups of the classes it wants. */
#include "geom/point_store_internal.h"

#include <omp.h>
#include <stdlib.h>

static int bin_of(const ct_point_store *s, float v) {
    int b = (int)((double)v / s->fine_size);
    if (b < 0) b = 0;
    if (b >= s->nb) b = s->nb - 1;
    return b;
}

/* bin_of without a division or branches: an estimate by multiplication, corrected
 * against the exact lower bounds of the bins (s->bin_lo[k]: the smallest float in bin
 * k), so the result is bin_of's to the last bit. The estimate is off by at most one:
 * v * (1 / fs) and v / fs differ by a few ulps, far below 1 for nb <= 4096. */
static inline int bin_fast(const ct_point_store *s, float v) {
    double q = (double)v * s->inv_fine, top = (double)(s->nb - 1);
    q = q > 0.0 ? q : 0.0; /* maxsd / minsd (fmax and fmin may be calls) */
    q = q < top ? q : top;
    int b = (int)q;
    b += v >= s->bin_lo[b + 1];
    b -= v < s->bin_lo[b];
    return b;
}

void ps_index_scratch_free(index_scratch *x) {
    free(x->tmp);
    free(x->bin);
    free(x->fill);
    memset(x, 0, sizeof *x);
}

/* Grows the scratch to at least `need` points (`hint` at once when larger). 0: no memory. */
int ps_scratch_reserve(index_scratch *x, size_t need, size_t hint) {
    if (need <= x->cap) return 1;
    size_t cap = hint > need ? hint : need;
    free(x->tmp);
    free(x->bin);
    x->tmp = ps_alloc_points(cap);
    x->bin = cap <= SIZE_MAX / sizeof *x->bin ? ps_alloc_huge(cap * sizeof *x->bin) : NULL;
    x->cap = x->tmp && x->bin ? cap : 0;
    return x->cap != 0;
}

/* Stable counting sort of one cell's points by fine bin, through the thread's scratch
 * array (so the cell keeps its already-touched memory); the scratch grows to at least
 * `hint` points at once. With `packed` (the cell's points as on disk, read into x->tmp
 * by a load), they are unpacked as they are sorted straight into the cell (no unpacking
 * pass, no copy back). Returns 0 when out of memory. */
int ps_index_cell(const ct_point_store *s, cell *c, index_scratch *x, size_t hint, uint32_t *start_in_arena,
                  const unsigned char *packed) {
    const size_t nbins_all = ps_nbins(s), per_group = (size_t)s->nb * (size_t)s->nb;
    if (!x->fill && !(x->fill = malloc(nbins_all * sizeof *x->fill))) return 0;
    if (!packed && !ps_scratch_reserve(x, c->n, hint)) return 0;
    uint32_t *start = start_in_arena;
    if (start) memset(start, 0, (nbins_all + 1) * sizeof *start);
    else if (!(start = calloc(nbins_all + 1, sizeof *start))) return 0;
    const int nb = s->nb;
    const ct_point_rec *pts = c->pts;
    uint32_t *bin = x->bin; /* found once: finding a bin exactly costs more than storing it */
    for (size_t i = 0; i < c->n; i++) {
        float px, py;
        uint8_t cls;
        if (packed) {
            memcpy(&px, packed + SPILL_REC * i, 4);
            memcpy(&py, packed + SPILL_REC * i + 4, 4);
            cls = packed[SPILL_REC * i + 12];
        } else {
            px = pts[i].x;
            py = pts[i].y;
            cls = pts[i].cls;
        }
        uint32_t b = (uint32_t)((size_t)ct_point_group(cls) * per_group + (size_t)(bin_fast(s, py) * nb + bin_fast(s, px)));
        bin[i] = b;
        start[b + 1]++;
    }
    for (size_t b = 0; b < nbins_all; b++) start[b + 1] += start[b];
    uint32_t *fill = x->fill;
    memcpy(fill, start, nbins_all * sizeof *fill);
    if (packed) {
        for (size_t i = 0; i < c->n; i++) ps_spill_rec_to(&c->pts[fill[bin[i]]++], packed + SPILL_REC * i);
    } else {
        for (size_t i = 0; i < c->n; i++) x->tmp[fill[bin[i]]++] = pts[i];
        memcpy(c->pts, x->tmp, c->n * sizeof *x->tmp);
    }
    if (!c->bins_in_arena) free(c->bin_start);
    c->bin_start = start;
    c->bins_in_arena = start_in_arena != NULL;
    c->indexed = 1;
    return 1;
}

ct_status ct_point_store_index(ct_context *ctx, ct_point_store *s, int threads) {
    int failed = 0;
    const double t_start = omp_get_wtime();
    long n = (long)s->ncells;
    size_t hint = 0; /* the largest cell to index: one scratch allocation per thread */
    size_t todo = 0;
    for (long i = 0; i < n; i++)
        if (!s->cells[i].indexed && (!s->on_disk || s->cells[i].resident)) {
            todo++;
            if (s->cells[i].n > hint) hint = s->cells[i].n;
        }
    /* In memory, the bin tables of all these cells in one arena (as the points). */
    const size_t nbins1 = ps_nbins(s) + 1;
    uint32_t *bins = NULL;
    size_t *slot = NULL;
    if (!s->on_disk && todo > 0) {
        void **na = realloc(s->arenas, (s->narenas + 1) * sizeof *na);
        if (!na) return ct_error_nomem(ctx, "point index");
        s->arenas = na;
        bins = todo <= SIZE_MAX / sizeof *bins / nbins1 ? ps_alloc_huge(todo * nbins1 * sizeof *bins) : NULL;
        slot = malloc(s->ncells * sizeof *slot);
        if (!bins || !slot) {
            free(bins);
            free(slot);
            return ct_error_nomem(ctx, "point index");
        }
        s->arenas[s->narenas++] = bins;
        size_t k = 0;
        for (long i = 0; i < n; i++)
            if (!s->cells[i].indexed) slot[i] = k++;
    }
#pragma omp parallel num_threads(threads < 1 ? 1 : threads) reduction(| : failed)
    {
        index_scratch x;
        memset(&x, 0, sizeof x);
#pragma omp for schedule(dynamic, 1)
        for (long i = 0; i < n; i++)
            if (!s->cells[i].indexed && (!s->on_disk || s->cells[i].resident) &&
                !ps_index_cell(s, &s->cells[i], &x, hint, bins ? bins + slot[i] * nbins1 : NULL, NULL))
                failed = 1;
        ps_index_scratch_free(&x);
    }
    free(slot);
    ct_log(ctx, CT_LOG_DEBUG, "points: index of %zu cells %.1f ms", todo, (omp_get_wtime() - t_start) * 1e3);
    if (failed) return ct_error_nomem(ctx, "point index");
    if (s->cell_size / s->fine_size > 65535 || s->count > UINT32_MAX * (uint64_t)(s->ncells ? s->ncells : 1))
        return ct_error(ctx, CT_ERR_UNSUPPORTED, "point store: too many points per cell");
    return CT_OK;
}

/* Bounds of ox + (double)v over the floats v of bins a..b (one axis). Rounding is
 * monotone, so the bins' extreme floats give exact bounds; bin 0 also holds negative
 * values and the last bin everything above, so those ends are open. */
static void bin_bounds(const ct_point_store *s, double o, int a, int b, double *lo, double *hi) {
    *lo = a == 0 ? -INFINITY : o + (double)s->bin_lo[a];
    *hi = b == s->nb - 1 ? INFINITY : o + (double)s->bin_hi[b];
}

static int push_span(const ct_point_store *s, ct_span_list *l, const cell *c, size_t from, size_t to, double ox,
                     double oy, int bx0, int bx1, int by) {
    if (to <= from) return 1;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        ct_point_span *v = realloc(l->v, cap * sizeof *v);
        if (!v) return 0;
        l->v = v;
        l->cap = cap;
    }
    ct_point_span *sp = &l->v[l->n++];
    sp->p = c->pts + from;
    sp->n = to - from;
    sp->ox = ox;
    sp->oy = oy;
    bin_bounds(s, ox, bx0, bx1, &sp->xlo, &sp->xhi);
    bin_bounds(s, oy, by, by, &sp->ylo, &sp->yhi);
    return 1;
}

/* The spans of cell c's group-g bins (its grid: `grid`) in bbox: one per bin row, or,
 * with `split`, up to three: the bins left of split's x-range, those meeting it, those
 * right of it. With `rows`, each bin row's run is narrowed to the x-range rows give for
 * the row's points (whose y-bounds the bins know exactly), and rows holding none are
 * passed over. Returns 0 when the list cannot grow. */
static int cell_spans(const ct_point_store *s, const cell *c, const uint32_t *grid, const double bbox[4],
                      const double *split, const ct_row_filter *rows, ct_span_list *list) {
    double ox = (double)c->cx * s->cell_size, oy = (double)c->cy * s->cell_size;
    int bx0 = bin_of(s, (float)(bbox[0] - ox)), bx1 = bin_of(s, (float)(bbox[2] - ox));
    int by0 = bin_of(s, (float)(bbox[1] - oy)), by1 = bin_of(s, (float)(bbox[3] - oy));
    int sa = bx0, sb = bx1 + 1; /* split's run: [sa, sb - 1] */
    if (split) {
        sa = bin_of(s, (float)(split[0] - ox));
        sb = bin_of(s, (float)(split[2] - ox)) + 1;
    }
    for (int by = by0; by <= by1; by++) {
        int a = bx0, b = bx1;
        if (rows) {
            double ylo, yhi, xlo, xhi;
            bin_bounds(s, oy, by, by, &ylo, &yhi);
            if (!rows->xrange(rows->arg, fmax(ylo, bbox[1]), fmin(yhi, bbox[3]), &xlo, &xhi)) continue;
            int ra = bin_of(s, (float)(xlo - ox)), rb = bin_of(s, (float)(xhi - ox));
            a = ra > a ? ra : a;
            b = rb < b ? rb : b;
            if (a > b) continue;
        }
        /* the runs of bins: [cut[0], cut[1] - 1], [cut[1], cut[2] - 1], [cut[2], cut[3] - 1] */
        int cut[4] = {a, a, a, b + 1};
        if (split) {
            cut[1] = sa < a ? a : (sa > b + 1 ? b + 1 : sa);
            cut[2] = sb < cut[1] ? cut[1] : (sb > b + 1 ? b + 1 : sb);
        }
        const uint32_t *row = grid + (size_t)by * (size_t)s->nb;
        for (int k = 0; k < 3; k++)
            if (cut[k + 1] > cut[k] &&
                !push_span(s, list, c, row[cut[k]], row[cut[k + 1]], ox, oy, cut[k], cut[k + 1] - 1, by))
                return 0;
    }
    return 1;
}

/* Spans of the points of group g's bins in box[g] (groups without a box skipped), as
 * cell_spans gives them, cell by cell. */
static ct_status query(const ct_point_store *s, const double *const box[CT_POINT_GROUPS], ct_span_list *list,
                       const double *split, const ct_row_filter *rows) {
    list->n = 0;
    const double cs = s->cell_size;
    const size_t per_group = (size_t)s->nb * (size_t)s->nb;
    for (int g = 0; g < CT_POINT_GROUPS; g++) {
        const double *bbox = box[g];
        if (!bbox) continue;
        int64_t cx0 = (int64_t)floor(bbox[0] / cs), cx1 = (int64_t)floor(bbox[2] / cs);
        int64_t cy0 = (int64_t)floor(bbox[1] / cs), cy1 = (int64_t)floor(bbox[3] / cs);
        for (int64_t cy = cy0; cy <= cy1; cy++)
            for (int64_t cx = cx0; cx <= cx1; cx++) {
                long ci = ps_find_cell((ct_point_store *)s, cx, cy, 0);
                if (ci < 0) continue;
                const cell *c = &s->cells[ci];
                if (s->on_disk && !c->resident) return CT_ERR_USAGE;
                if (c->bin_start && !cell_spans(s, c, c->bin_start + (size_t)g * per_group, bbox, split, rows, list))
                    return CT_ERR_NOMEM;
            }
    }
    return CT_OK;
}

ct_status ct_point_store_query(const ct_point_store *s, const double bbox[4], ct_span_list *list) {
    const double *box[CT_POINT_GROUPS];
    for (int g = 0; g < CT_POINT_GROUPS; g++) box[g] = bbox;
    return query(s, box, list, NULL, NULL);
}

unsigned ct_point_groups_of(const uint8_t classes[256]) {
    /* Called per building: the table is OR-ed a word at a time, classes 2 and 6 (the
     * two with groups of their own in ct_point_group) apart. unit.test_point_index
     * compares this with ct_point_group class by class. */
    uint8_t first[8];
    memcpy(first, classes, sizeof first);
    first[2] = first[6] = 0;
    uint64_t any, w;
    memcpy(&any, first, sizeof any);
    for (int k = 8; k < 256; k += 8) {
        memcpy(&w, classes + k, sizeof w);
        any |= w;
    }
    return (classes[2] ? 1u << ct_point_group(2) : 0u) | (classes[6] ? 1u << ct_point_group(6) : 0u) |
           (any ? 1u << ct_point_group(0) : 0u);
}

ct_status ct_point_store_query_groups(const ct_point_store *s, const double wide[4], unsigned wide_groups,
                                      const double narrow[4], unsigned narrow_groups, const double split[4],
                                      const ct_row_filter *rows, ct_span_list *list) {
    const double *box[CT_POINT_GROUPS];
    for (int g = 0; g < CT_POINT_GROUPS; g++)
        box[g] = (wide_groups >> g) & 1 ? wide : ((narrow_groups >> g) & 1 ? narrow : NULL);
    return query(s, box, list, split, rows);
}

void ct_span_list_free(ct_span_list *l) {
    free(l->v);
    memset(l, 0, sizeof *l);
}
