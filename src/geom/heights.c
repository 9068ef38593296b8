/* Per building: roof samples are roof-class points inside the footprint; ground samples
 * are ground-class points inside it or within `buffer` of its boundary. Percentiles of
 * each give the heights (3dfier's choice: roof p90, ground p10 within 3 m). */
#include "citytiler/heights.h"
#include "core/reserve.h"
#include "geom/edge_grid.h"
#include "geom/heights_thin.h"
#include "geom/outline_rows.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A building's samples thinned (more candidates than max_samples). */
struct ct_heights_thin {
    ct_thin_set roof, ground;
};

void ct_heights_scratch_free(ct_heights_scratch *s) {
    ct_span_list_free(&s->spans);
    free(s->roof);
    free(s->ground);
    if (s->grid) ct_edge_grid_free(s->grid);
    free(s->grid);
    if (s->rows) ct_outline_rows_free(s->rows);
    free(s->rows);
    if (s->thin) {
        ct_thin_free(&s->thin->roof);
        ct_thin_free(&s->thin->ground);
    }
    free(s->thin);
    memset(s, 0, sizeof *s);
}

static void insertion_sort(float *v, size_t n) {
    for (size_t i = 1; i < n; i++) {
        float x = v[i];
        size_t j = i;
        while (j > 0 && v[j - 1] > x) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

/* The median of v[lo], v[(lo + hi) / 2] and v[hi]: the pivot of the sort and the selection. */
static float median_of_three(const float *v, size_t lo, size_t hi) {
    float a = v[lo], b = v[lo + (hi - lo) / 2], c = v[hi];
    return a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double ct_median_doubles(double *v, size_t n) {
    if (n == 0) return NAN;
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Hoare partition of v[lo..hi] (hi > lo) around the median of its first, middle and
 * last values: returns j with v[lo..j] <= pivot <= v[j+1..hi], lo <= j < hi. */
static size_t partition(float *v, size_t lo, size_t hi) {
    float pivot = median_of_three(v, lo, hi);
    size_t i = lo, j = hi;
    for (;;) {
        while (v[i] < pivot) i++;
        while (v[j] > pivot) j--;
        if (i >= j) return j;
        float t = v[i];
        v[i] = v[j];
        v[j] = t;
        i++;
        j--;
    }
}

/* Quicksort with a median-of-three pivot, insertion sort for short runs, recursion on
 * the smaller side only (depth O(log n)). Inline comparisons: 3-4x faster than qsort
 * with a callback, measured on the heights benchmark. Values are finite floats. */
void ct_sort_floats(float *v, size_t n) {
    while (n > 24) {
        size_t left = partition(v, 0, n - 1) + 1; /* v[0..left-1] <= pivot <= v[left..n-1] */
        if (left < n - left) {
            ct_sort_floats(v, left);
            v += left;
            n -= left;
        } else {
            ct_sort_floats(v + left, n - left);
            n = left;
        }
    }
    insertion_sort(v, n);
}

double ct_percentile_sorted(const float *v, size_t n, double p) {
    double rank = p / 100.0 * (double)(n - 1);
    size_t lo = (size_t)floor(rank);
    if (lo >= n - 1) return v[n - 1];
    double f = rank - (double)lo;
    return (double)v[lo] + f * ((double)v[lo + 1] - (double)v[lo]);
}

/* Moves the k-th smallest value to v[k], smaller ones before it, larger after
 * (Hoare's selection with a median-of-three pivot). The partition is Lomuto's without
 * branches (the comparison only advances an index): z values arrive in no order, so a
 * branching partition mispredicts about every fourth comparison; this one ran the
 * selections 1.8x faster on roof-like data (many equal values). */
static void select_kth(float *v, size_t n, size_t k) {
    if (k == n - 1) { /* the largest (a percentile of 100): one scan */
        size_t m = 0;
        for (size_t i = 1; i < n; i++)
            if (v[i] > v[m]) m = i;
        float t = v[m];
        v[m] = v[n - 1];
        v[n - 1] = t;
        return;
    }
    size_t lo = 0, hi = n - 1;
    while (hi > lo + 16) {
        float pivot = median_of_three(v, lo, hi);
        /* v[lo..i-1] < pivot <= v[i..hi]; i <= hi as the pivot is one of the values */
        size_t i = lo;
        for (size_t j = lo; j <= hi; j++) {
            float x = v[j];
            v[j] = v[i];
            v[i] = x;
            i += x < pivot;
        }
        if (k < i) {
            hi = i - 1;
        } else if (i > lo) {
            lo = i;
        } else { /* the pivot is the smallest: set its copies apart, v[lo..m-1] == pivot */
            size_t m = lo;
            for (size_t j = lo; j <= hi; j++) {
                float x = v[j];
                v[j] = v[m];
                v[m] = x;
                m += x <= pivot;
            }
            if (k < m) return;
            lo = m;
        }
    }
    insertion_sort(v + lo, hi - lo + 1);
}

double ct_percentile_select(float *v, size_t n, double p) {
    double out;
    ct_percentiles_select(v, n, &p, 1, &out);
    return out;
}

void ct_percentiles_select(float *v, size_t n, const double *p, size_t k, double *out) {
    /* Highest rank first: each selection leaves everything at or above its rank in
     * place, so the next one searches only the part below. */
    size_t order[CT_MAX_PERCENTILES];
    for (size_t i = 0; i < k; i++) {
        size_t j = i;
        for (; j > 0 && p[order[j - 1]] < p[i]; j--) order[j] = order[j - 1];
        order[j] = i;
    }
    size_t hi = n;      /* v[0..hi-1] <= v[hi] <= v[hi+1..n-1] once hi < n */
    double next = NAN;  /* the smallest value after position hi */
    for (size_t oi = 0; oi < k; oi++) {
        double rank = p[order[oi]] / 100.0 * (double)(n - 1);
        size_t lo = (size_t)floor(rank);
        if (lo >= n - 1) lo = n - 1;
        double b;
        if (lo < hi) {
            select_kth(v, hi, lo);
            float m = hi < n ? v[hi] : INFINITY;
            for (size_t i = lo + 1; i < hi; i++)
                if (v[i] < m) m = v[i];
            b = m;
        } else { /* the same position as the previous one */
            b = next;
        }
        double a = v[lo];
        out[order[oi]] = lo == n - 1 ? a : a + (rank - (double)lo) * (b - a);
        hi = lo;
        next = b;
    }
}

int ct_floats_reserve(float **v, size_t *cap, size_t n) { return ct_reserve((void **)v, cap, n, sizeof **v); }

void ct_heights_result_init(ct_heights_result *out, const ct_heights_params *prm) {
    out->ground_z = out->roof_z = out->roof_p50 = out->roof_p70 = out->roof_max = NAN;
    out->roof_points = out->ground_points = 0;
    out->roof_thin = out->ground_thin = 0;
    out->density = 0;
    out->ground_buffer_used = prm->buffer;
}

void ct_heights_roof_stats(float *v, size_t n, double roof_percentile, ct_heights_result *out) {
    const double ps[4] = {roof_percentile, 50.0, 70.0, 100.0};
    double r[4];
    ct_percentiles_select(v, n, ps, 4, r);
    out->roof_z = r[0];
    out->roof_p50 = r[1];
    out->roof_p70 = r[2];
    out->roof_max = r[3];
}

static int rows_xrange(const void *arg, double ya, double yb, double *lo, double *hi) {
    return ct_outline_rows_xrange(arg, ya, yb, lo, hi);
}

/* The samples of a building with more candidate points than max_samples, each point's
 * hash offered to its thinned set (the tests of collect's loop, with branches: this is
 * one building in millions). roof NULL: ground samples only. */
static ct_status gather_thinned(ct_heights_scratch *s, const ct_edge_grid *g, const double q[4],
                                const uint8_t want[2][256], size_t max, ct_heights_samples *roof,
                                ct_heights_samples *ground) {
    if (!s->thin && !(s->thin = calloc(1, sizeof *s->thin))) return CT_ERR_NOMEM;
    ct_thin_set *tr = &s->thin->roof, *tg = &s->thin->ground;
    if (roof) ct_thin_clear(tr);
    ct_thin_clear(tg);
    uint32_t hint = UINT32_MAX;
    for (size_t k = 0; k < s->spans.n; k++) {
        const ct_point_span *sp = &s->spans.v[k];
        const uint8_t *wt =
            want[sp->xhi < g->bb[0] || sp->xlo > g->bb[2] || sp->yhi < g->bb[1] || sp->ylo > g->bb[3]];
        for (size_t i = 0; i < sp->n; i++) {
            const ct_point_rec *pt = &sp->p[i];
            unsigned w = wt[pt->cls];
            if (!w) continue;
            double x = sp->ox + (double)pt->x, y = sp->oy + (double)pt->y;
            if ((x < q[0]) | (x > q[2]) | (y < q[1]) | (y > q[3])) continue;
            int row = ct_edge_grid_row(g, y);
            int inside = ct_edge_grid_inside(g, ct_edge_grid_col(g, x), row, x, y);
            int is_roof = (w & 1) && inside;
            int is_ground = (w & 2) && (inside || ct_edge_grid_near(g, row, x, y, &hint));
            if (!is_roof && !is_ground) continue;
            uint32_t h = ct_point_hash(x, y, pt->z);
            if ((is_roof && !ct_thin_add(tr, pt->z, h, max)) || (is_ground && !ct_thin_add(tg, pt->z, h, max)))
                return CT_ERR_NOMEM;
        }
    }
    if (roof) *roof = (ct_heights_samples){tr->z, tr->n, (size_t)tr->total, tr->bits};
    *ground = (ct_heights_samples){tg->z, tg->n, (size_t)tg->total, tg->bits};
    return CT_OK;
}

/* Collects samples around the footprint for one buffer size. roof NULL: ground samples only. */
static ct_status collect(const ct_point_store *store, const ct_footprint *fp, const double bb[4], double buffer,
                         const ct_heights_params *prm, ct_heights_scratch *s, ct_heights_samples *roof,
                         ct_heights_samples *ground) {
    const int want_roof = roof != NULL;
    double q[4] = {bb[0] - buffer, bb[1] - buffer, bb[2] + buffer, bb[3] + buffer};
    /* Ground points are wanted in q, roof points only in the footprint's box: the groups
     * of other classes are not read. */
    unsigned ground_groups = ct_point_groups_of(prm->ground_class);
    unsigned roof_groups = want_roof ? ct_point_groups_of(prm->roof_class) : 0;
    /* A long diagonal footprint's box is mostly far from it: the query reads only the
     * bins near its outline (the same points are tested and kept below). */
    ct_row_filter filter = {rows_xrange, NULL};
    if (ct_outline_rows_worthwhile(fp, q, buffer)) {
        if (!s->rows && !(s->rows = calloc(1, sizeof *s->rows))) return CT_ERR_NOMEM;
        if (!ct_outline_rows_build(s->rows, fp, buffer, q[1], q[3], fmax(1.0, (q[3] - q[1]) / 4096)))
            return CT_ERR_NOMEM;
        filter.arg = s->rows;
    }
    ct_status qs = ct_point_store_query_groups(store, q, ground_groups, bb, roof_groups, bb,
                                               filter.arg ? &filter : NULL, &s->spans);
    if (qs != CT_OK) return qs;
    if (!s->grid && !(s->grid = calloc(1, sizeof *s->grid))) return CT_ERR_NOMEM;
    ct_edge_grid *g = s->grid;
    if (!ct_edge_grid_build(g, fp, bb, q, buffer)) return CT_ERR_NOMEM;
    *ground = (ct_heights_samples){s->ground, 0, 0, 0};
    if (want_roof) *roof = (ct_heights_samples){s->roof, 0, 0, 0};
    if (g->nedges == 0) return CT_OK;
    size_t total = 0;
    for (size_t k = 0; k < s->spans.n; k++) total += s->spans.v[k].n;
    /* bit 0: roof sample, bit 1: ground sample; [1]: for bins beyond the footprint's box,
     * where no point can be inside (roof points, most of a dense block's, skip at once) */
    uint8_t want[2][256];
    for (int c = 0; c < 256; c++) {
        want[0][c] = (uint8_t)((want_roof && prm->roof_class[c] ? 1 : 0) | (prm->ground_class[c] ? 2 : 0));
        want[1][c] = (uint8_t)(want[0][c] & 2);
    }
    if (prm->max_samples > 0 && total > prm->max_samples)
        return gather_thinned(s, g, q, (const uint8_t(*)[256])want, prm->max_samples, roof, ground);
    /* Room for every candidate up front: the loop below then stores without checks. */
    if ((want_roof && !ct_floats_reserve(&s->roof, &s->roof_cap, total)) || !ct_floats_reserve(&s->ground, &s->ground_cap, total))
        return CT_ERR_NOMEM;
    float *rv = want_roof ? s->roof : NULL, *gv = s->ground;
    size_t nr = 0, ng = 0;
    uint32_t hint = UINT32_MAX;
    for (size_t k = 0; k < s->spans.n; k++) {
        const ct_point_span *sp = &s->spans.v[k];
        /* Spans are cut at the footprint's box: one beyond it is tested for ground
         * points only (no point there is inside). */
        const uint8_t *wt =
            want[sp->xhi < g->bb[0] || sp->xlo > g->bb[2] || sp->yhi < g->bb[1] || sp->ylo > g->bb[3]];
        for (size_t i = 0; i < sp->n; i++) {
            const ct_point_rec *pt = &sp->p[i];
            unsigned w = wt[pt->cls];
            if (!w) continue;
            double x = sp->ox + (double)pt->x, y = sp->oy + (double)pt->y;
            if ((x < q[0]) | (x > q[2]) | (y < q[1]) | (y > q[3])) continue; /* one branch */
            int col = ct_edge_grid_col(g, x), row = ct_edge_grid_row(g, y);
            unsigned inside = (unsigned)ct_edge_grid_inside(g, col, row, x, y);
            float z = pt->z;
            if (rv) rv[nr] = z;
            nr += w & inside;
            unsigned gr = (w >> 1) & inside;
            if ((w & 2) && !inside) gr = (unsigned)ct_edge_grid_near(g, row, x, y, &hint);
            gv[ng] = z;
            ng += gr;
        }
    }
    if (want_roof) *roof = (ct_heights_samples){s->roof, nr, nr, 0};
    *ground = (ct_heights_samples){s->ground, ng, ng, 0};
    return CT_OK;
}

double ct_heights_next_buffer(const ct_heights_params *prm, double buffer) {
    if (!(buffer < prm->max_buffer)) return 0;
    double next = buffer > 0 ? 2 * buffer : 1.0;
    return next < prm->max_buffer ? next : prm->max_buffer;
}

int ct_heights_needs_widening(const ct_heights_params *prm, size_t nground) {
    return nground < prm->min_ground_points && ct_heights_next_buffer(prm, prm->buffer) > 0;
}

/* A self-intersecting footprint (heights before filters.clean) has a signed area that its
 * lobes cancel, while its points are counted by the even-odd rule: a bow-tie gave 0 or
 * 1.8e7 points/m2. Where the area is no more than a millionth of the box's, the density
 * is unknown. */
double ct_heights_density(const ct_footprint *fp, size_t n) {
    double area = ct_footprint_area(fp), bb[4];
    double box = ct_footprint_bbox(fp, bb) ? (bb[2] - bb[0]) * (bb[3] - bb[1]) : 0.0;
    return area > 0 && area > 1e-6 * box ? (double)n / area : NAN;
}

void ct_heights_set_roof(ct_heights_result *out, const ct_footprint *fp, ct_heights_samples roof,
                         const ct_heights_params *prm) {
    out->roof_points = (uint32_t)roof.total;
    out->roof_thin = roof.thin;
    out->density = ct_heights_density(fp, roof.total);
    if (roof.total >= prm->min_roof_points && roof.n > 0) ct_heights_roof_stats(roof.v, roof.n, prm->roof_percentile, out);
}

void ct_heights_set_ground(ct_heights_result *out, ct_heights_samples ground, double buffer,
                           const ct_heights_params *prm) {
    out->ground_buffer_used = buffer;
    out->ground_points = (uint32_t)ground.total;
    out->ground_thin = ground.thin;
    if (ground.total >= prm->min_ground_points && ground.n > 0)
        out->ground_z = ct_percentile_select(ground.v, ground.n, prm->ground_percentile);
}

/* Few ground points within prm->buffer (a building in a courtyard, a dense block): the
 * search widens, the buffer doubling (from 0: 1 m) until it reaches max_buffer; then the
 * ground is set. */
static ct_status widen_ground(const ct_point_store *store, const ct_footprint *fp, const double bb[4],
                              const ct_heights_params *prm, ct_heights_scratch *s, ct_heights_samples ground,
                              ct_heights_result *out) {
    double buffer = prm->buffer, next;
    ct_status st = CT_OK;
    while (st == CT_OK && ground.total < prm->min_ground_points && (next = ct_heights_next_buffer(prm, buffer)) > 0) {
        buffer = next;
        st = collect(store, fp, bb, buffer, prm, s, NULL, &ground);
    }
    if (st == CT_OK) ct_heights_set_ground(out, ground, buffer, prm);
    return st;
}

ct_status ct_heights_widen_ground(const ct_point_store *store, const ct_footprint *fp, const ct_heights_params *prm,
                                  ct_heights_scratch *s, ct_heights_result *out) {
    double bb[4];
    if (!ct_footprint_bbox(fp, bb)) return CT_OK;
    /* (fewer than min_ground_points were found within prm->buffer: none are needed) */
    ct_heights_samples none = {s->ground, 0, out->ground_points, 0};
    return widen_ground(store, fp, bb, prm, s, none, out);
}

ct_status ct_heights_compute(const ct_point_store *store, const ct_footprint *fp, const ct_heights_params *prm,
                             ct_heights_scratch *s, ct_heights_result *out) {
    ct_heights_result_init(out, prm);
    double bb[4];
    if (!ct_footprint_bbox(fp, bb)) return CT_OK;
    ct_heights_samples roof, ground;
    ct_status st = collect(store, fp, bb, prm->buffer, prm, s, &roof, &ground);
    if (st != CT_OK) return st;
    ct_heights_set_roof(out, fp, roof, prm);
    return widen_ground(store, fp, bb, prm, s, ground, out);
}
