/* citytiler — footprint → closed, outward-facing prism mesh. */
#ifndef CITYTILER_EXTRUDE_H
#define CITYTILER_EXTRUDE_H

#include "citytiler/context.h"
#include "citytiler/geometry.h"
#include "citytiler/mesh.h"

/* Per-thread extrusion workspace (GEOS handle, scratch buffers). Not thread-safe:
 * create one per thread. NULL when out of memory. */
typedef struct ct_extruder ct_extruder;
ct_extruder *ct_extruder_create(void);
void ct_extruder_destroy(ct_extruder *e);

typedef enum ct_extrude_result {
    CT_EXTRUDE_OK = 0,
    CT_EXTRUDE_INVALID,   /* footprint is not a valid polygon: ct_extruder_reason() says why */
    CT_EXTRUDE_FAILED,    /* triangulation failed */
    CT_EXTRUDE_NOMEM
} ct_extrude_result;

/* Builds the prism of every part between heights base < top: walls (flat, outward
 * normals), a roof, and a floor when with_floor is set. Rings may have any winding.
 * On success *out holds a new mesh the caller frees with ct_mesh_free. */
ct_extrude_result ct_extrude_footprint(ct_extruder *e, const ct_footprint *fp, double base, double top,
                                       int with_floor, ct_mesh *out);
/* Finished meshes go into `arena` (borrowed arrays, freed with the arena) instead of their
 * own allocations; NULL switches back. The arena must outlive the meshes. */
void ct_extruder_set_arena(ct_extruder *e, ct_mesh_arena *arena);

/* Text for the last non-OK result ("Self-intersection[x y]"). Owned by e. */
const char *ct_extruder_reason(const ct_extruder *e);

#endif
