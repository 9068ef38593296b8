/* A building's mesh, stored or rebuilt on demand (see building_mesh.h). */
#include "citytiler/building_mesh.h"

#include <string.h>

void ct_building_mesh_defer(ct_building *b) {
    size_t nv = b->mesh.nverts, ni = b->mesh.nindices;
    ct_mesh_free(&b->mesh);
    b->mesh.nverts = nv;
    b->mesh.nindices = ni;
}

const ct_mesh *ct_building_mesh(ct_extruder *ex, const ct_dataset *ds, const ct_building *b, ct_mesh *tmp) {
    memset(tmp, 0, sizeof *tmp);
    if (!ct_building_mesh_deferred(b)) return &b->mesh;
    if (ct_extrude_footprint(ex, &b->footprint, b->base_z, b->top_z, ds->mesh_floor, tmp) != CT_EXTRUDE_OK) {
        ct_mesh_free(tmp);
        return NULL;
    }
    if (tmp->nverts != b->mesh.nverts || tmp->nindices != b->mesh.nindices) { /* not the mesh extruded before */
        ct_mesh_free(tmp);
        return NULL;
    }
    return tmp;
}
