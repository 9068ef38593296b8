/* citytiler (internal) — where a footprint's search area lies, row by row.
 *
 * filters.heights wants, around each building, the points inside its footprint and the
 * ground points within `buffer` of its edges. Reading its whole box is right for most
 * buildings, whose box they nearly fill; a long diagonal strip's box is mostly empty of
 * both (800 diagonal 1 km strips read every point of 800 square kilometre boxes). These
 * rows narrow the reads: for each band of y, an x-range that holds every such point. The
 * ranges are conservative (a margin for rounding), so the points read are a superset of
 * the wanted ones, and each point is still tested as before: the samples are the same. */
#ifndef CITYTILER_OUTLINE_ROWS_H
#define CITYTILER_OUTLINE_ROWS_H

#include <stddef.h>
#include "citytiler/geometry.h"

typedef struct ct_outline_rows {
    double y0, h; /* band r is y0 + r * h .. y0 + (r + 1) * h (each grown by a margin) */
    int n;
    double *lo, *hi; /* band r's x-range; lo[r] > hi[r] when the band holds none */
    size_t cap;
} ct_outline_rows;

void ct_outline_rows_free(ct_outline_rows *r);

/* Bands of height h from y0 up to y1 (at least one), over footprint fp's edges grown by
 * buffer. Every point (x, y) with y in band r (up to the margin) that lies inside fp (by
 * the even-odd rule) or within buffer of one of its edges has lo[r] <= x <= hi[r].
 * Returns 0 when out of memory or when the bands would be more than 1 << 20. */
int ct_outline_rows_build(ct_outline_rows *r, const ct_footprint *fp, double buffer, double y0, double y1, double h);

/* The x-range of the bands that [ya, yb] meets (clamped to the bands): 0 when they hold
 * no point (lo > hi in all of them), else 1 with *lo, *hi set. */
int ct_outline_rows_xrange(const ct_outline_rows *r, double ya, double yb, double *lo, double *hi);

/* Whether narrowing by rows pays for footprint fp in search box q: a large box that the
 * footprint and its buffer fill less than half of (estimated from the area and the
 * perimeter; a wrong guess only costs time). */
int ct_outline_rows_worthwhile(const ct_footprint *fp, const double q[4], double buffer);

#endif
