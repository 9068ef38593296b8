/* Per building heights from rasters, the raster twin of heights.c: roof samples are
 * the DSM cells whose centre is inside the footprint, ground samples the DTM cells
 * whose centre is inside it or within `buffer` of its boundary; the same percentiles
 * (ct_percentile_select) give the heights. Only the window around the
 * footprint is read, through the thread's own readers. */
#include "citytiler/raster.h"
#include "geom/edge_grid.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void ct_raster_scratch_free(ct_raster_scratch *s) {
    ct_raster_reader_destroy(s->dtm);
    ct_raster_reader_destroy(s->dsm);
    ct_raster_cells_free(&s->cells);
    free(s->roof);
    free(s->ground);
    if (s->grid) ct_edge_grid_free(s->grid);
    free(s->grid);
    memset(s, 0, sizeof *s);
}

ct_status ct_raster_scratch_init(ct_context *ctx, const ct_raster_set *set, ct_raster_scratch *s) {
    memset(s, 0, sizeof *s);
    ct_status st = CT_OK;
    if (set && set->dtm) st = ct_raster_reader_create(ctx, set->dtm, &s->dtm);
    if (st == CT_OK && set && set->dsm) st = ct_raster_reader_create(ctx, set->dsm, &s->dsm);
    return st;
}

/* The footprint's edges over box q (its box bb grown by buffer), as filters.heights
 * tests LiDAR points: a cell centre is tested against the few edges near it, where
 * testing every edge took 71 s for a 24,000-vertex footprint over 3 million cells. */
static ct_status grid_for(ct_context *ctx, const ct_footprint *fp, const double bb[4], const double q[4], double buffer,
                          ct_raster_scratch *s) {
    if ((!s->grid && !(s->grid = calloc(1, sizeof *s->grid))) || !ct_edge_grid_build(s->grid, fp, bb, q, buffer))
        return ct_error_nomem(ctx, "raster footprint edges");
    return CT_OK;
}

/* DSM cells inside the footprint into s->roof. */
static ct_status collect_roof(ct_context *ctx, const ct_footprint *fp, const double bb[4], ct_raster_scratch *s,
                              size_t *n) {
    *n = 0;
    ct_status st = ct_raster_read_cells(ctx, s->dsm, bb, &s->cells);
    if (st == CT_OK) st = grid_for(ctx, fp, bb, bb, 0.0, s);
    if (st != CT_OK) return st;
    const ct_raster_cells *c = &s->cells;
    if (!ct_floats_reserve(&s->roof, &s->roof_cap, c->n ? c->n : 1)) return ct_error_nomem(ctx, "raster roof samples");
    const ct_edge_grid *g = s->grid;
    if (g->nedges == 0) return CT_OK;
    for (size_t i = 0; i < c->n; i++) {
        double x = c->x[i], y = c->y[i];
        if (x < bb[0] || x > bb[2] || y < bb[1] || y > bb[3]) continue; /* outside, and off the grid */
        if (ct_edge_grid_inside(g, ct_edge_grid_col(g, x), ct_edge_grid_row(g, y), x, y)) s->roof[(*n)++] = c->z[i];
    }
    return CT_OK;
}

/* DTM cells inside the footprint or within `buffer` of it into s->ground. */
static ct_status collect_ground(ct_context *ctx, const ct_footprint *fp, const double bb[4], double buffer,
                                ct_raster_scratch *s, size_t *n) {
    *n = 0;
    double q[4] = {bb[0] - buffer, bb[1] - buffer, bb[2] + buffer, bb[3] + buffer};
    ct_status st = ct_raster_read_cells(ctx, s->dtm, q, &s->cells);
    if (st == CT_OK) st = grid_for(ctx, fp, bb, q, buffer, s);
    if (st != CT_OK) return st;
    const ct_raster_cells *c = &s->cells;
    if (!ct_floats_reserve(&s->ground, &s->ground_cap, c->n ? c->n : 1)) return ct_error_nomem(ctx, "raster ground samples");
    const ct_edge_grid *g = s->grid;
    if (g->nedges == 0) return CT_OK;
    uint32_t hint = UINT32_MAX;
    for (size_t i = 0; i < c->n; i++) {
        double x = c->x[i], y = c->y[i];
        /* beyond q a centre is farther than buffer from every edge */
        if (x < q[0] || x > q[2] || y < q[1] || y > q[3]) continue;
        int row = ct_edge_grid_row(g, y);
        if (ct_edge_grid_inside(g, ct_edge_grid_col(g, x), row, x, y) || ct_edge_grid_near(g, row, x, y, &hint))
            s->ground[(*n)++] = c->z[i];
    }
    return CT_OK;
}

ct_status ct_raster_heights_compute(ct_context *ctx, const ct_footprint *fp, const ct_heights_params *prm,
                                    ct_raster_scratch *s, ct_heights_result *out) {
    ct_heights_result_init(out, prm);
    double bb[4];
    if (!ct_footprint_bbox(fp, bb)) return CT_OK;
    if (s->dsm) {
        size_t nroof = 0;
        ct_status st = collect_roof(ctx, fp, bb, s, &nroof);
        if (st != CT_OK) return st;
        out->roof_points = (uint32_t)nroof;
        out->density = ct_heights_density(fp, nroof);
        if (nroof >= prm->min_roof_points && nroof > 0) {
            ct_heights_roof_stats(s->roof, nroof, prm->roof_percentile, out);
        }
    }
    if (s->dtm) {
        size_t nground = 0;
        double buffer = prm->buffer;
        ct_status st = collect_ground(ctx, fp, bb, buffer, s, &nground);
        /* Few ground cells (a courtyard, a gap in the DTM under a large block): widen the search. */
        double next;
        while (st == CT_OK && nground < prm->min_ground_points && (next = ct_heights_next_buffer(prm, buffer)) > 0) {
            buffer = next;
            st = collect_ground(ctx, fp, bb, buffer, s, &nground);
        }
        if (st != CT_OK) return st;
        out->ground_buffer_used = buffer;
        out->ground_points = (uint32_t)nground;
        if (nground >= prm->min_ground_points && nground > 0) {
            out->ground_z = ct_percentile_select(s->ground, nground, prm->ground_percentile);
        }
    }
    return CT_OK;
}
