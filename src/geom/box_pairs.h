/* Pairs of boxes that come within a distance of each other, by sorting and sweeping
 * (internal). A footprint with thousands of holes asks which of its rings nearly touch:
 * comparing every box with every other took 5 s of filters.clean for 96,000 courtyards. */
#ifndef CT_GEOM_BOX_PAIRS_H
#define CT_GEOM_BOX_PAIRS_H

#include <stddef.h>

/* Called with the boxes a and b of a pair (a before b in the sweep's order, which is the
 * same on every run); a nonzero return stops the sweep. The pairs of one a come
 * together. */
typedef int (*ct_box_pair_fn)(size_t a, size_t b, void *arg);

/* Calls fn for every pair of the n boxes (boxes[4 * i ...]: xmin, ymin, xmax, ymax) whose
 * ranges come within tol of each other on both axes, sweeping along the axis where fewer
 * ranges overlap. Returns fn's nonzero value when it stopped the sweep, 0 when every
 * pair was seen, -1 when out of memory. When tests is not NULL, the boxes compared are
 * added to *tests (tests assert the work, not the time). */
int ct_box_pairs(const double *boxes, size_t n, double tol, ct_box_pair_fn fn, void *arg, size_t *tests);

#endif
