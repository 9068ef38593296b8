/* ct_rank_band_plan (MPI bands, rank_band.h): the rows of cells split in runs of about
 * equal buildings; every y has exactly one owner, the same whatever process asks; a
 * process keeps its rows widened by the reach (and a metre) and up to the top of its
 * buildings' boxes plus the reach, so every search around its buildings and assets lies
 * within what it keeps; processes beyond the rows get empty bands that keep nothing. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "citytiler/context.h"
#include "citytiler/dataset.h"
#include "core/rank_band.h"
#include "ct_test.h"

/* A w x h box building at (x, y). */
static void add_box(ct_context *ctx, ct_dataset *ds, double x, double y, double w, double h) {
    ct_building *b = NULL;
    CT_CHECK(ct_dataset_append(ctx, ds, &b) == CT_OK);
    if (!b) return;
    ct_polygon *part = calloc(1, sizeof *part);
    uint32_t *rs = malloc(2 * sizeof *rs);
    double *xy = malloc(8 * sizeof *xy);
    CT_CHECK(part && rs && xy);
    if (!part || !rs || !xy) return;
    rs[0] = 0;
    rs[1] = 4;
    const double v[8] = {x, y, x + w, y, x + w, y + h, x, y + h};
    memcpy(xy, v, sizeof v);
    part->nrings = 1;
    part->ring_start = rs;
    part->xy = xy;
    b->footprint.nparts = 1;
    b->footprint.parts = part;
}

int main(void) {
    ct_context *ctx = ct_context_create();
    ct_dataset *ds = ct_dataset_create();
    CT_CHECK(ctx && ds);
    if (!ctx || !ds) return 1;
    const double cs = 100.0, reach = 25.0;
    /* 10 buildings in each of rows 0..9, and a tall one (row 2 to row 6) */
    for (int r = 0; r < 10; r++)
        for (int i = 0; i < 10; i++) add_box(ctx, ds, 10.0 * i, 100.0 * r + 20.0, 8.0, 8.0);
    add_box(ctx, ds, 500.0, 250.0, 10.0, 400.0);

    for (int n = 1; n <= 12; n++) {
        ct_rank_band *b[12];
        for (int k = 0; k < n; k++) {
            b[k] = ct_rank_band_plan(ds, cs, k, n, reach);
            CT_CHECK(b[k] != NULL);
            if (!b[k]) return 1;
        }
        /* Every process computes the same owners; every y has one. */
        for (double y = -1000.0; y <= 2000.0; y += 7.0) {
            int o = ct_rank_band_owner(b[0], y);
            CT_CHECK(o >= 0 && o < n);
            for (int k = 1; k < n; k++) CT_CHECK(ct_rank_band_owner(b[k], y) == o);
            /* the owner's band holds y's row: an asset there finds its ground */
            CT_CHECK(ct_rank_band_covers(b[o], y - reach, y + reach));
        }
        CT_CHECK(ct_rank_band_owner(b[0], NAN) == 0);
        /* Each building: its owner keeps its box widened by the reach. */
        size_t per[12] = {0};
        for (size_t i = 0; i < ds->nbuildings; i++) {
            double bb[4];
            CT_CHECK(ct_footprint_bbox(&ds->buildings[i].footprint, bb));
            int o = ct_rank_band_building_owner(b[0], &ds->buildings[i]);
            CT_CHECK(o == ct_rank_band_owner(b[0], bb[1]));
            CT_CHECK(ct_rank_band_covers(b[o], bb[1] - reach, bb[3] + reach));
            per[o]++;
        }
        /* Runs of about equal buildings: no process more than its share plus a row (and
         * the tall building). */
        for (int k = 0; k < n; k++) CT_CHECK(per[k] <= (ds->nbuildings + (size_t)n - 1) / (size_t)n + 11);
        /* The bands are narrow: with several processes none keeps every row. */
        for (int k = 0; n > 1 && k < n; k++) CT_CHECK(!ct_rank_band_covers(b[k], 0.0, 1000.0));
        /* More processes than rows (n > 10): some bands are empty and keep nothing. */
        int empty = 0;
        for (int k = 0; k < n; k++)
            if (b[k]->keep[0] > b[k]->keep[1]) {
                empty++;
                CT_CHECK(per[k] == 0);
            }
        CT_CHECK(n <= 10 ? empty == 0 : empty == n - 10);
        for (int k = 0; k < n; k++) ct_rank_band_free(b[k]);
    }
    /* The tall building (row 2) is kept up to its top plus the reach by its owner. */
    ct_rank_band *lo = ct_rank_band_plan(ds, cs, 0, 5, reach);
    CT_CHECK(lo != NULL);
    if (lo) {
        CT_CHECK(ct_rank_band_owner(lo, 250.0) == 1);
        ct_rank_band *p1 = ct_rank_band_plan(ds, cs, 1, 5, reach);
        CT_CHECK(p1 && p1->keep[1] >= 650.0 + reach && p1->keep[0] <= 200.0 - reach);
        CT_CHECK(p1 && p1->keep[0] > 100.0); /* (not row 1's buildings) */
        ct_rank_band_free(p1);
        ct_rank_band_free(lo);
    }
    /* No buildings: one band (process 0's) keeps every y; the others none. */
    ct_dataset *empty_ds = ct_dataset_create();
    ct_rank_band *e0 = empty_ds ? ct_rank_band_plan(empty_ds, cs, 0, 3, reach) : NULL;
    ct_rank_band *e2 = empty_ds ? ct_rank_band_plan(empty_ds, cs, 2, 3, reach) : NULL;
    CT_CHECK(e0 && e2);
    if (e0 && e2) {
        CT_CHECK(ct_rank_band_owner(e2, 12345.0) == 0);
        CT_CHECK(ct_rank_band_covers(e0, -1e9, 1e9));
        CT_CHECK(e2->keep[0] > e2->keep[1]);
    }
    ct_rank_band_free(e0);
    ct_rank_band_free(e2);
    CT_CHECK(ct_rank_band_plan(ds, cs, 3, 3, reach) == NULL); /* (k out of range) */
    CT_CHECK(ct_rank_band_plan(ds, 0.0, 0, 3, reach) == NULL);
    ct_dataset_destroy(empty_ds);
    ct_dataset_destroy(ds);
    ct_context_destroy(ctx);
    return ct_test_finish("rank_band");
}
