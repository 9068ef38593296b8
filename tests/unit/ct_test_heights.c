#include "ct_test_heights.h"

#include <string.h>

void ct_test_heights_defaults(ct_heights_params *p) {
    memset(p, 0, sizeof *p);
    p->roof_percentile = 90;
    p->ground_percentile = 10;
    p->buffer = 3;
    p->max_buffer = 24;
    p->min_roof_points = 5;
    p->min_ground_points = 3;
    p->ground_class[2] = p->roof_class[6] = 1;
}

/* The references every edge gives (the predicates of geom/edge_grid, spelled out). */
int ct_test_ref_inside(const ct_footprint *fp, double x, double y) {
    int in = 0;
    for (uint32_t p = 0; p < fp->nparts; p++) {
        const ct_polygon *pg = &fp->parts[p];
        for (uint32_t r = 0; r < pg->nrings; r++) {
            uint32_t m = ct_ring_size(pg, r);
            const double *v = pg->xy + 2 * (size_t)pg->ring_start[r];
            for (uint32_t a = m - 1, b = 0; b < m; a = b++) {
                double ax = v[2 * a], ay = v[2 * a + 1], ex = v[2 * b] - ax, ey = v[2 * b + 1] - ay;
                double slope = ey != 0 ? ex / ey : 0.0;
                if ((ay > y) != (ay + ey > y) && x < ax + (y - ay) * slope) in = !in;
            }
        }
    }
    return in;
}

int ct_test_ref_near(const ct_footprint *fp, double x, double y, double buffer) {
    for (uint32_t p = 0; p < fp->nparts; p++) {
        const ct_polygon *pg = &fp->parts[p];
        for (uint32_t r = 0; r < pg->nrings; r++) {
            uint32_t m = ct_ring_size(pg, r);
            const double *v = pg->xy + 2 * (size_t)pg->ring_start[r];
            for (uint32_t a = m - 1, b = 0; b < m; a = b++) {
                double ax = v[2 * a], ay = v[2 * a + 1], ex = v[2 * b] - ax, ey = v[2 * b + 1] - ay;
                double l2 = ex * ex + ey * ey, inv = l2 > 0 ? 1.0 / l2 : 0.0;
                double px = x - ax, py = y - ay, t = (px * ex + py * ey) * inv;
                t = t < 0 ? 0 : (t > 1 ? 1 : t);
                double dx = px - t * ex, dy = py - t * ey;
                if (dx * dx + dy * dy <= buffer * buffer) return 1;
            }
        }
    }
    return 0;
}

void ct_test_make_rect(ct_test_bldg *b, double x0, double y0, double w, double h) {
    const double v[8] = {x0, y0, x0 + w, y0, x0 + w, y0 + h, x0, y0 + h};
    memcpy(b->xy, v, sizeof v);
    b->start[0] = 0;
    b->start[1] = 4;
    b->part.nrings = 1;
    b->part.ring_start = b->start;
    b->part.xy = b->xy;
    b->fp.nparts = 1;
    b->fp.parts = &b->part;
}
