/* The stage registry: a researcher adds a stage with one file and one line here. */
#include "citytiler/stage.h"

#include <string.h>

extern const ct_stage_vtable ct_stage_readers_footprints;
extern const ct_stage_vtable ct_stage_readers_lidar;
extern const ct_stage_vtable ct_stage_readers_raster;
extern const ct_stage_vtable ct_stage_readers_assets;
extern const ct_stage_vtable ct_stage_filters_heights;
extern const ct_stage_vtable ct_stage_filters_clamp;
extern const ct_stage_vtable ct_stage_filters_clean;
extern const ct_stage_vtable ct_stage_filters_simplify;
extern const ct_stage_vtable ct_stage_filters_extrude;
extern const ct_stage_vtable ct_stage_writers_3dtiles;

static const ct_stage_vtable *const registry[] = {
    &ct_stage_readers_footprints,
    &ct_stage_readers_lidar,
    &ct_stage_readers_raster,
    &ct_stage_readers_assets,
    &ct_stage_filters_heights,
    &ct_stage_filters_clamp,
    &ct_stage_filters_clean,
    &ct_stage_filters_simplify,
    &ct_stage_filters_extrude,
    &ct_stage_writers_3dtiles,
    NULL,
};

const ct_stage_vtable *const *ct_stage_registry(void) { return registry; }

const ct_stage_vtable *ct_stage_find(const char *type) {
    for (size_t i = 0; registry[i]; i++)
        if (strcmp(registry[i]->type, type) == 0) return registry[i];
    return NULL;
}
