/* citytiler — triangulation of polygons with holes (ear clipping with hole bridging).
 *
 * Handles what valid footprints bring: holes touching the shell or each other at a
 * point (at a vertex or inside an edge), collinear runs, repeated points, and rings of
 * 1e5 vertices (z-order accelerated ear tests). Deterministic: the result depends on
 * the input only. Orientation tests are exact (floating-point filter, then an exact
 * expansion), so near-degenerate footprints are judged as they are. */
#ifndef CITYTILER_TRIANGULATE_H
#define CITYTILER_TRIANGULATE_H

#include <stddef.h>
#include <stdint.h>

#include "citytiler/geometry.h"

/* Per-thread workspace (scratch buffers, reused between calls). Not thread-safe.
 * NULL when out of memory. */
typedef struct ct_triangulator ct_triangulator;
ct_triangulator *ct_triangulator_create(void);
void ct_triangulator_destroy(ct_triangulator *t);

/* The boundary of a polygon as the mesh must follow it. Ring r holds the entries
 * ring_start[r] .. ring_start[r+1]-1 of idx and rank; idx are point indices into the
 * polygon's xy. The shell runs counter-clockwise and holes clockwise (the interior on
 * the left), consecutive repeated points are dropped, rings without area are left out,
 * and a point of another ring lying inside an edge is inserted into that edge (so the
 * triangulation and the walls split the edge at the same point).
 * rank: 0, or k > 0 for the k-th further occurrence of a position that several boundary
 * entries share (a hole touching the shell at a point): the extruder uses it to keep
 * the vertical wall edges at such a point distinct. */
typedef struct ct_boundary {
    uint32_t nrings;
    const uint32_t *ring_start; /* nrings + 1 */
    const uint32_t *idx;
    const uint32_t *rank;
    int touching;               /* 1 when some position is shared by two entries */
} ct_boundary;

typedef enum ct_tri_status {
    CT_TRI_OK = 0,
    CT_TRI_FAILED,   /* no triangulation found or it failed verification: see ct_triangulator_reason() */
    CT_TRI_NOMEM
} ct_tri_status;

/* Computes the boundary of polygon p (any ring winding) into *b (owned by t, valid until
 * the next call on t). Fails when the shell has no area or when boundary edges overlap
 * (two rings sharing a segment: an invalid polygon). */
ct_tri_status ct_boundary_build(ct_triangulator *t, const ct_polygon *p, ct_boundary *b);

/* Ear-clips the boundary b last built by t from p, then flips edges where a triangle is
 * a sliver (thinner than 1e-3 of its longest side) and a flip shapes both better.
 * *tris receives 3 * *ntris point indices (counter-clockwise triangles, positive area,
 * referring to p's points; owned by t, valid until the next call). The result is
 * verified (ct_triangulation_verify without the chain check, which ear clipping and the
 * flips satisfy by construction). */
ct_tri_status ct_triangulate_earclip(ct_triangulator *t, const ct_polygon *p, const ct_boundary *b,
                                     const uint32_t **tris, size_t *ntris);

/* Checks that triangles cover the polygon exactly once: every triangle has positive
 * area (exact orientation test); the sum of their areas equals the polygon's within
 * 1e-9 relative; and, when check_chain is set, their edges cancel in pairs except the
 * boundary edges of b, each used once in its direction (together with positive
 * orientation this proves that no triangle lies outside and none overlap). Positions
 * are compared, not indices, so points repeated at a touching point are the same.
 * Returns 1 when correct, 0 when not (reason in t), -1 when out of memory. */
int ct_triangulation_verify(ct_triangulator *t, const ct_polygon *p, const ct_boundary *b, const uint32_t *tris,
                            size_t ntris, int check_chain);

/* Text for the last failure. Owned by t. */
const char *ct_triangulator_reason(const ct_triangulator *t);

/* Sign of the orientation of (a, b, c), exactly: > 0 counter-clockwise, < 0 clockwise,
 * 0 collinear. */
double ct_orient2d(double ax, double ay, double bx, double by, double cx, double cy);

#endif
