/* Internal: coarser meshes for parent tiles (HLOD). */
#ifndef CT_TILES_LOD_H
#define CT_TILES_LOD_H

#include "citytiler/mesh.h"

/* Simplifies a building mesh so that it deviates from the input by at most about
 * abs_error metres (meshoptimizer's edge-collapse simplifier on the welded positions),
 * and returns it flat-shaded in *out (caller frees with ct_mesh_free). *achieved
 * receives the measured deviation (metres). Returns 0 on success,
 * -1 when out of memory. */
int ct_lod_simplify_mesh(const ct_mesh *in, double abs_error, ct_mesh *out, double *achieved);

/* The work of one simplification: what tests assert to catch a superlinear step
 * without timing it. */
typedef struct ct_lod_work {
    size_t distance_tests; /* point-to-triangle distances measured (deviation) */
    size_t grid_entries;   /* cell entries of the triangle grids built */
    size_t grids;          /* triangle grids built */
    size_t tries;          /* meshoptimizer simplifications of the whole mesh */
} ct_lod_work;

/* ct_lod_simplify_mesh, adding its work to *work (not NULL). */
int ct_lod_simplify_mesh_work(const ct_mesh *in, double abs_error, ct_mesh *out, double *achieved, ct_lod_work *work);

#endif
