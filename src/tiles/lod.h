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

#endif
