/* citytiler — a building's mesh, kept in memory or rebuilt when it is needed.
 *
 * For large cities filters.extrude keeps only each mesh's counts (the footprint, base_z,
 * top_z and the floor option define it completely) and the writer extrudes it again for
 * the tile that needs it: the same mesh, byte for byte, without holding every mesh of the
 * city in memory at once. */
#ifndef CITYTILER_BUILDING_MESH_H
#define CITYTILER_BUILDING_MESH_H

#include "citytiler/dataset.h"
#include "citytiler/extrude.h"

/* 1 when b's mesh is to be rebuilt on demand (counts only). */
static inline int ct_building_mesh_deferred(const ct_building *b) {
    return b->mesh.nindices > 0 && b->mesh.pos == NULL;
}

/* Forgets b's mesh arrays, keeping its counts (call after a successful extrusion that
 * did not use an arena). */
void ct_building_mesh_defer(ct_building *b);

/* The mesh of building b: the stored one, or a new extrusion into *tmp (which the caller
 * frees with ct_mesh_free). NULL when out of memory or when the extrusion no longer
 * succeeds (it did in filters.extrude, so that means the building changed since). */
const ct_mesh *ct_building_mesh(ct_extruder *ex, const ct_dataset *ds, const ct_building *b, ct_mesh *tmp);

#endif
