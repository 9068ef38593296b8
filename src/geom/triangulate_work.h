/* citytiler (internal) — what tests and benchmarks may ask of a triangulator beyond the
 * public API: how much work the last call did (to assert scaling without timing it), and
 * the straightforward method to compare the fast paths with. */
#ifndef CITYTILER_TRIANGULATE_WORK_H
#define CITYTILER_TRIANGULATE_WORK_H

#include <stddef.h>

#include "citytiler/triangulate.h"

/* Work counts of the last ct_triangulate_earclip call. */
typedef struct ct_tri_stats {
    size_t bridge_edges;  /* edges tested by the hole bridges' rays */
    size_t bridge_points; /* points tested for a bridge's visibility */
    size_t ear_tries;     /* vertices tried as ears */
    size_t ear_points;    /* points tested against candidate ears (z-order walk) */
    size_t boundary_points; /* points looked at for insertion into an edge, by the last
                             * ct_boundary_build */
} ct_tri_stats;

void ct_triangulator_stats(const ct_triangulator *t, ct_tri_stats *out);

/* on: every bridge found by scanning the ring joined so far and the plain ear walk
 * (the method before the grid and the candidate list), for comparison; off (default):
 * the grid from CT_TRI_GRID_MIN hole components and the candidate list on large rings. */
void ct_triangulator_set_straightforward(ct_triangulator *t, int on);

#endif
