/* A footprint's search area as x-ranges of bands of y (see outline_rows.h). */
#include "geom/outline_rows.h"
#include "core/reserve.h"

#include <math.h>
#include <stdlib.h>

#define MAX_BANDS (1 << 20)
/* Boxes smaller than this (m²) are read whole: few points, and the rows cost more. */
#define MIN_BOX_AREA 4096.0

void ct_outline_rows_free(ct_outline_rows *r) {
    free(r->lo);
    r->lo = r->hi = NULL;
    r->cap = 0;
    r->n = 0;
}

/* Widens band range [lo, hi] of band k to hold [a, b]. */
static void widen(ct_outline_rows *r, int k, double a, double b) {
    if (a < r->lo[k]) r->lo[k] = a;
    if (b > r->hi[k]) r->hi[k] = b;
}

/* Edge (ax, ay) -> (bx, by): every band its points within `buffer` (in y) reach takes the
 * x-range of those points, grown by buffer. */
static void add_edge(ct_outline_rows *r, double ax, double ay, double bx, double by, double buffer) {
    double ymin = fmin(ay, by), ymax = fmax(ay, by), xmin = fmin(ax, bx), xmax = fmax(ax, bx);
    /* rounding of the callers' coordinates and of the crossings below */
    double ym = 1e-4 * r->h + 1e-6 + 1e-9 * fabs(r->y0) + 1e-9 * fmax(fabs(ymin), fabs(ymax));
    double fa = floor((ymin - buffer - ym - r->y0) / r->h), fb = floor((ymax + buffer + ym - r->y0) / r->h);
    if (!(fb >= 0) || !(fa <= r->n - 1)) return;
    int ka = fa < 0 ? 0 : (int)fa, kb = fb > r->n - 1 ? r->n - 1 : (int)fb;
    double ey = by - ay;
    double slope = ey != 0 ? (bx - ax) / ey : 0.0;
    double xm = 1e-6 + 1e-9 * fmax(fabs(xmin), fabs(xmax)) + (fabs(slope) + 1.0) * ym;
    for (int k = ka; k <= kb; k++) {
        /* the edge's points whose y lies within buffer of the band */
        double ya = r->y0 + (double)k * r->h - ym - buffer, yb = r->y0 + (double)(k + 1) * r->h + ym + buffer;
        double lo = xmin, hi = xmax;
        /* An edge reaching beyond the band (so |ey| > h) is clipped to it; a shorter one
         * keeps its whole x-range (a nearly horizontal edge's slope is no help). */
        if (ymin < ya || ymax > yb) {
            double ca = ymin < ya ? ya : ymin, cb = ymax > yb ? yb : ymax;
            double xa = ax + (ca - ay) * slope, xb = ax + (cb - ay) * slope;
            lo = fmax(xmin, fmin(xa, xb));
            hi = fmin(xmax, fmax(xa, xb));
        }
        widen(r, k, lo - buffer - xm, hi + buffer + xm);
    }
}

int ct_outline_rows_build(ct_outline_rows *r, const ct_footprint *fp, double buffer, double y0, double y1, double h) {
    if (!(h > 0) || !isfinite(y0) || !isfinite(y1) || !(buffer >= 0)) return 0;
    double nd = floor((y1 - y0) / h) + 1;
    if (!(nd >= 1)) nd = 1;
    if (nd > MAX_BANDS) return 0;
    int n = (int)nd;
    if (!ct_reserve((void **)&r->lo, &r->cap, 2 * (size_t)n, sizeof *r->lo)) return 0;
    r->hi = r->lo + n;
    r->y0 = y0;
    r->h = h;
    r->n = n;
    for (int k = 0; k < n; k++) {
        r->lo[k] = INFINITY;
        r->hi[k] = -INFINITY;
    }
    /* Every point inside fp has edge crossings on its line y on both sides, and every
     * point near an edge is near an edge point within buffer of its y: both lie within
     * the ranges the edges give their bands. */
    for (uint32_t i = 0; i < fp->nparts; i++) {
        const ct_polygon *p = &fp->parts[i];
        for (uint32_t ring = 0; ring < p->nrings; ring++) {
            uint32_t m = ct_ring_size(p, ring);
            const double *xy = p->xy + 2 * (size_t)p->ring_start[ring];
            for (uint32_t a = m ? m - 1 : 0, b = 0; b < m; a = b++)
                add_edge(r, xy[2 * a], xy[2 * a + 1], xy[2 * b], xy[2 * b + 1], buffer);
        }
    }
    return 1;
}

int ct_outline_rows_xrange(const ct_outline_rows *r, double ya, double yb, double *lo, double *hi) {
    double fa = floor((ya - r->y0) / r->h), fb = floor((yb - r->y0) / r->h);
    if (!(fb >= 0) || !(fa <= r->n - 1)) return 0;
    int ka = fa < 0 ? 0 : (int)fa, kb = fb > r->n - 1 ? r->n - 1 : (int)fb;
    double a = INFINITY, b = -INFINITY;
    for (int k = ka; k <= kb; k++) {
        if (r->lo[k] < a) a = r->lo[k];
        if (r->hi[k] > b) b = r->hi[k];
    }
    if (!(a <= b)) return 0;
    *lo = a;
    *hi = b;
    return 1;
}

int ct_outline_rows_worthwhile(const ct_footprint *fp, const double q[4], double buffer) {
    double box = (q[2] - q[0]) * (q[3] - q[1]);
    if (!(box >= MIN_BOX_AREA)) return 0;
    double perimeter = 0;
    for (uint32_t i = 0; i < fp->nparts; i++) {
        const ct_polygon *p = &fp->parts[i];
        for (uint32_t ring = 0; ring < p->nrings; ring++) {
            uint32_t m = ct_ring_size(p, ring);
            const double *xy = p->xy + 2 * (size_t)p->ring_start[ring];
            for (uint32_t a = m ? m - 1 : 0, b = 0; b < m; a = b++)
                perimeter += hypot(xy[2 * b] - xy[2 * a], xy[2 * b + 1] - xy[2 * a + 1]);
        }
    }
    /* what the rows would read: the footprint, a band of twice the buffer along its
     * edges, and the whole bins (a few metres) the query reads along them */
    double read = ct_footprint_area(fp) + perimeter * (2.0 * buffer + 4.0);
    return read < 0.5 * box;
}
