/* Planar measures of footprints: areas, bounding boxes, centroids. */
#include "citytiler/geometry.h"

#include <math.h>
#include <stdlib.h>

void ct_polygon_free(ct_polygon *p) {
    free(p->ring_start);
    free(p->xy);
    p->ring_start = NULL;
    p->xy = NULL;
    p->nrings = 0;
}

void ct_footprint_free(ct_footprint *f) {
    for (uint32_t i = 0; i < f->nparts; i++) ct_polygon_free(&f->parts[i]);
    free(f->parts);
    f->parts = NULL;
    f->nparts = 0;
}

double ct_ring_signed_area(const ct_polygon *p, uint32_t r) {
    uint32_t s = p->ring_start[r], n = ct_ring_size(p, r);
    if (n < 3) return 0.0;
    /* Shoelace relative to the first point, to keep precision with large coordinates. */
    const double *xy = p->xy + 2 * (size_t)s;
    double x0 = xy[0], y0 = xy[1], a = 0.0;
    for (uint32_t i = 1; i + 1 < n; i++) {
        double ax = xy[2 * i] - x0, ay = xy[2 * i + 1] - y0;
        double bx = xy[2 * i + 2] - x0, by = xy[2 * i + 3] - y0;
        a += ax * by - bx * ay;
    }
    return 0.5 * a;
}

double ct_polygon_area(const ct_polygon *p) {
    if (p->nrings == 0) return 0.0;
    double a = fabs(ct_ring_signed_area(p, 0));
    for (uint32_t r = 1; r < p->nrings; r++) a -= fabs(ct_ring_signed_area(p, r));
    return a;
}

double ct_footprint_perimeter(const ct_footprint *f) {
    double s = 0;
    for (uint32_t i = 0; i < f->nparts; i++) {
        const ct_polygon *p = &f->parts[i];
        for (uint32_t r = 0; r < p->nrings; r++) {
            uint32_t n = ct_ring_size(p, r);
            const double *xy = p->xy + 2 * (size_t)p->ring_start[r];
            for (uint32_t k = 0; k < n; k++) {
                uint32_t j = (k + 1) % n;
                s += hypot(xy[2 * j] - xy[2 * k], xy[2 * j + 1] - xy[2 * k + 1]);
            }
        }
    }
    return s;
}

double ct_footprint_area(const ct_footprint *f) {
    double a = 0.0;
    for (uint32_t i = 0; i < f->nparts; i++) a += ct_polygon_area(&f->parts[i]);
    return a;
}

int ct_footprint_bbox(const ct_footprint *f, double out[4]) {
    int any = 0;
    for (uint32_t i = 0; i < f->nparts; i++) {
        const ct_polygon *p = &f->parts[i];
        if (p->nrings == 0) continue;
        uint32_t n = p->ring_start[p->nrings];
        for (uint32_t k = 0; k < n; k++) {
            double x = p->xy[2 * k], y = p->xy[2 * k + 1];
            if (!any) {
                out[0] = out[2] = x;
                out[1] = out[3] = y;
                any = 1;
            } else {
                if (x < out[0]) out[0] = x;
                if (y < out[1]) out[1] = y;
                if (x > out[2]) out[2] = x;
                if (y > out[3]) out[3] = y;
            }
        }
    }
    return any;
}

void ct_footprint_centroid(const ct_footprint *f, double out[2]) {
    double bb[4] = {0, 0, 0, 0};
    ct_footprint_bbox(f, bb);
    /* Accumulate relative to the bbox corner to keep precision. */
    double ox = bb[0], oy = bb[1], sa = 0.0, sx = 0.0, sy = 0.0;
    for (uint32_t i = 0; i < f->nparts; i++) {
        const ct_polygon *p = &f->parts[i];
        for (uint32_t r = 0; r < p->nrings; r++) {
            uint32_t s = p->ring_start[r], n = ct_ring_size(p, r);
            double sign = 1.0;
            double ra = ct_ring_signed_area(p, r);
            /* Shell counts positive, holes negative, whatever their winding. */
            if ((r == 0 && ra < 0) || (r > 0 && ra > 0)) sign = -1.0;
            for (uint32_t k = 0; k < n; k++) {
                const double *a = p->xy + 2 * (size_t)(s + k);
                const double *b = p->xy + 2 * (size_t)(s + (k + 1) % n);
                double ax = a[0] - ox, ay = a[1] - oy, bx = b[0] - ox, by = b[1] - oy;
                double c = (ax * by - bx * ay) * sign;
                sa += c;
                sx += (ax + bx) * c;
                sy += (ay + by) * c;
            }
        }
    }
    if (fabs(sa) > 1e-12) {
        out[0] = ox + sx / (3.0 * sa);
        out[1] = oy + sy / (3.0 * sa);
    } else {
        out[0] = 0.5 * (bb[0] + bb[2]);
        out[1] = 0.5 * (bb[1] + bb[3]);
    }
}

int ct_polygon_contains(const ct_polygon *p, double x, double y) {
    int inside = 0;
    for (uint32_t r = 0; r < p->nrings; r++) {
        uint32_t s = p->ring_start[r], n = ct_ring_size(p, r);
        const double *xy = p->xy + 2 * (size_t)s;
        for (uint32_t i = 0, j = n - 1; i < n; j = i++) {
            double yi = xy[2 * i + 1], yj = xy[2 * j + 1];
            if ((yi > y) != (yj > y)) {
                double xi = xy[2 * i], xj = xy[2 * j];
                if (x < xi + (y - yi) * (xj - xi) / (yj - yi)) inside = !inside;
            }
        }
    }
    return inside;
}

double ct_segment_dist2(double x, double y, double ax, double ay, double bx, double by) {
    double ex = bx - ax, ey = by - ay, px = x - ax, py = y - ay, len2 = ex * ex + ey * ey;
    double t = len2 > 0 ? (px * ex + py * ey) / len2 : 0.0;
    if (t < 0) t = 0;
    if (t > 1) t = 1;
    double dx = px - t * ex, dy = py - t * ey;
    return dx * dx + dy * dy;
}

/* Smallest squared distance to a ring edge; stops early once one is within `enough`. */
static double boundary_dist2(const ct_polygon *p, double x, double y, double enough) {
    double best = INFINITY;
    for (uint32_t r = 0; r < p->nrings; r++) {
        uint32_t s = p->ring_start[r], n = ct_ring_size(p, r);
        const double *xy = p->xy + 2 * (size_t)s;
        for (uint32_t i = 0, j = n - 1; i < n; j = i++) {
            double d2 = ct_segment_dist2(x, y, xy[2 * j], xy[2 * j + 1], xy[2 * i], xy[2 * i + 1]);
            if (d2 < best) best = d2;
            if (best <= enough) return best;
        }
    }
    return best;
}

double ct_polygon_boundary_dist2(const ct_polygon *p, double x, double y) { return boundary_dist2(p, x, y, -1.0); }

int ct_polygon_boundary_within(const ct_polygon *p, double x, double y, double d2) {
    return boundary_dist2(p, x, y, d2) <= d2;
}

int ct_footprint_contains(const ct_footprint *f, double x, double y) {
    for (uint32_t i = 0; i < f->nparts; i++)
        if (ct_polygon_contains(&f->parts[i], x, y)) return 1;
    return 0;
}

int ct_footprint_boundary_within(const ct_footprint *f, double x, double y, double d2) {
    for (uint32_t i = 0; i < f->nparts; i++)
        if (ct_polygon_boundary_within(&f->parts[i], x, y, d2)) return 1;
    return 0;
}
