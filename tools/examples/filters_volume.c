/* filters.volume: an example of a stage written outside citytiler (README, "Adding a
 * stage"). Each building gets its footprint's area (m²) and its volume (m³: that area
 * times the height from its ground to its roof, as filters.heights measured them), two
 * attributes the writer puts in the tiles' metadata like any other. A building without
 * both heights gets no volume (null), counted in the log. */
#include <math.h>
#include <stddef.h>

#include "citytiler/dataset.h"
#include "citytiler/stage.h"
#include "filters_volume.h"

static const ct_option_def options[] = {
    {"area_attribute", CT_OPT_STRING, "\"footprint_area\"", 0, "attribute that gets the footprint's area (m²)"},
    {"volume_attribute", CT_OPT_STRING, "\"volume\"", 0, "attribute that gets area x (roof - ground) (m³)"},
    {NULL, 0, NULL, 0, NULL},
};

static ct_status run(ct_context *ctx, void *state, ct_dataset *ds) {
    const ct_json *opts = state; /* (ct_stage_keep_options: the checked options) */
    const char *names[2] = {ct_opt_string(opts, "area_attribute"), ct_opt_string(opts, "volume_attribute")};
    const ct_attr_type types[2] = {CT_ATTR_REAL, CT_ATTR_REAL};
    int col[2];
    ct_status st = ct_dataset_claim_attrs(ctx, ds, "filters.volume", names, types, 2, col);
    if (st != CT_OK) return st;
    size_t unknown = 0;
    for (size_t i = 0; i < ds->nbuildings; i++) {
        ct_building *b = &ds->buildings[i];
        double area = ct_footprint_area(&b->footprint), height = b->top_z - b->base_z;
        b->attrs[col[0]].is_null = 0;
        b->attrs[col[0]].v.r = area;
        if (isfinite(height) && height >= 0) {
            b->attrs[col[1]].is_null = 0;
            b->attrs[col[1]].v.r = area * height;
        } else {
            unknown++; /* (claimed columns start null) */
        }
    }
    ct_log(ctx, CT_LOG_INFO, "filters.volume: %zu buildings, %zu without both heights (no volume)", ds->nbuildings,
           unknown);
    return CT_OK;
}

const ct_stage_vtable filters_volume_stage = {
    .type = "filters.volume",
    .summary = "footprint area and volume (area x (roof - ground)) of each building",
    .options = options,
    .create = ct_stage_keep_options,
    .run = run,
    .destroy = ct_stage_release_options,
};
