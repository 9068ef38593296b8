/* citytiler (internal) — edge flips that make an ear-clipped triangulation well shaped.
 *
 * Ear clipping takes any convex corner whose triangle holds no other point, so a footprint
 * with a long side and a vertex a few micrometres off a line through two others gets
 * triangles micrometres high (real cadastral footprints have many). Positions stored as
 * 32-bit floats then collapse or turn them over. Each interior edge is flipped when the
 * other diagonal of its two triangles makes both better shaped (the larger of their
 * smallest height-to-longest-edge ratios; Lawson's local optimisation, so every flip
 * improves the worst pair and the loop ends). A flip needs a strictly convex quadrilateral
 * (exact orientation tests), so the triangles still cover the polygon exactly once. */
#ifndef CITYTILER_TRI_FLIP_H
#define CITYTILER_TRI_FLIP_H

#include <stddef.h>
#include <stdint.h>

#include "citytiler/geometry.h"

/* Scratch buffers, reused between calls (zero-initialise; free with ct_tri_flip_free). */
typedef struct ct_tri_flip {
    uint32_t *twin;   /* per half-edge 3k+e (tris[3k+e] -> tris[3k+(e+1)%3]): the opposite one */
    size_t twin_cap;
    uint32_t *table;  /* open addressing: half-edge ids by (from, to) */
    size_t table_cap;
    uint32_t *stack;  /* half-edges to look at */
    size_t stack_cap;
} ct_tri_flip;

void ct_tri_flip_free(ct_tri_flip *f);

/* Improves the nt counter-clockwise triangles tris (point indices into p's xy) in place,
 * when one of them is a sliver (twice its area under 1e-3 of its longest side squared).
 * Triangles keep positive orientation and the same cover; only pairs sharing an edge by
 * point index change. Returns the number of flips, or -1 when out of memory (tris is
 * then unchanged or still a valid triangulation). */
long ct_tri_flip_improve(ct_tri_flip *f, const ct_polygon *p, uint32_t *tris, size_t nt);

#endif
