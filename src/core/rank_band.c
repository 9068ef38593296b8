/* Each process's band of the city under MPI (see rank_band.h). */
#include "core/rank_band.h"
#include "core/balance.h"
#include "citytiler/geometry.h"

#include <math.h>
#include <stdlib.h>

/* The row of y, kept clear of INT64_MIN and INT64_MAX (which mark the open ends). */
static int64_t row_of(double y, double cs) {
    double r = floor(y / cs);
    if (!(r > -9.0e18)) return INT64_MIN + 1; /* (NaN too) */
    if (r > 9.0e18) return INT64_MAX - 1;
    return (int64_t)r;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

ct_rank_band *ct_rank_band_plan(const ct_dataset *ds, double cell_size, int k, int n, double reach) {
    if (n < 1 || k < 0 || k >= n || !(cell_size > 0)) return NULL;
    ct_rank_band *b = calloc(1, sizeof *b);
    int64_t *rows = malloc((ds->nbuildings ? ds->nbuildings : 1) * sizeof *rows);
    uint64_t *weight = malloc((ds->nbuildings ? ds->nbuildings : 1) * sizeof *weight);
    int *part = malloc((ds->nbuildings ? ds->nbuildings : 1) * sizeof *part);
    int64_t *start = malloc((size_t)(n + 1) * sizeof *start);
    if (b) b->first_row = malloc((size_t)(n + 1) * sizeof *b->first_row);
    if (!b || !b->first_row || !rows || !weight || !part || !start) {
        free(rows);
        free(weight);
        free(part);
        free(start);
        ct_rank_band_free(b);
        return NULL;
    }
    b->k = k;
    b->n = n;
    b->cell_size = cell_size;
    b->reach = reach;
    /* The distinct rows of the buildings' lowest y, weighted by their buildings. */
    size_t nr = 0;
    for (size_t i = 0; i < ds->nbuildings; i++) {
        double bb[4];
        if (ct_footprint_bbox(&ds->buildings[i].footprint, bb)) rows[nr++] = row_of(bb[1], cell_size);
    }
    qsort(rows, nr, sizeof *rows, cmp_i64);
    size_t nd = 0;
    for (size_t i = 0; i < nr; i++) {
        if (nd > 0 && rows[nd - 1] == rows[i]) {
            weight[nd - 1]++;
        } else {
            rows[nd] = rows[i];
            weight[nd++] = 1;
        }
    }
    /* Runs of rows of about equal buildings; a process with none has an empty band. */
    ct_balance_in_runs(weight, nd, n, part);
    for (int r = 0; r <= n; r++) start[r] = INT64_MAX;
    for (size_t i = 0; i < nd; i++)
        if (i == 0 || part[i] != part[i - 1]) start[part[i]] = rows[i];
    b->first_row[n] = INT64_MAX;
    for (int r = n - 1; r >= 1; r--) b->first_row[r] = start[r] != INT64_MAX ? start[r] : b->first_row[r + 1];
    b->first_row[0] = INT64_MIN;
    free(rows);
    free(weight);
    free(part);
    free(start);

    /* The strip kept: the band's rows and its buildings' boxes, widened by the reach and
     * a metre more (a row's bound computed as row * cell_size may lie an ulp above a
     * y whose row it is). */
    const double m = reach + 1.0;
    int64_t r0 = b->first_row[k], r1 = b->first_row[k + 1];
    if (r0 == r1) {
        b->keep[0] = 1.0; /* (an empty range, finite: no point is kept) */
        b->keep[1] = 0.0;
        return b;
    }
    b->keep[0] = r0 == INT64_MIN ? -INFINITY : (double)r0 * cell_size - m;
    b->keep[1] = r1 == INT64_MAX ? INFINITY : (double)r1 * cell_size + m;
    for (size_t i = 0; i < ds->nbuildings; i++) {
        double bb[4];
        if (ct_footprint_bbox(&ds->buildings[i].footprint, bb) && ct_rank_band_owner(b, bb[1]) == k &&
            bb[3] + m > b->keep[1])
            b->keep[1] = bb[3] + m;
    }
    return b;
}

void ct_rank_band_free(ct_rank_band *b) {
    if (!b) return;
    free(b->first_row);
    free(b);
}

int ct_rank_band_owner(const ct_rank_band *b, double y) {
    if (!isfinite(y)) return 0;
    int64_t row = row_of(y, b->cell_size);
    /* the last process whose first row is at or below the row (empty bands are skipped) */
    int lo = 0, hi = b->n; /* first_row[lo] <= row < first_row[hi] */
    while (hi - lo > 1) {
        int mid = lo + (hi - lo) / 2;
        if (b->first_row[mid] <= row) lo = mid;
        else hi = mid;
    }
    return lo;
}

int ct_rank_band_building_owner(const ct_rank_band *b, const ct_building *bld) {
    double bb[4];
    return ct_footprint_bbox(&bld->footprint, bb) ? ct_rank_band_owner(b, bb[1]) : 0;
}

int ct_rank_band_covers(const ct_rank_band *b, double y0, double y1) { return b->keep[0] <= y0 && y1 <= b->keep[1]; }
