/* readers.footprints: building footprints from any OGR vector source. */
#include <jansson.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "citytiler/stage.h"
#include "io/ogr_footprints.h"

static const ct_option_def options[] = {
    {"path", CT_OPT_PATH, NULL, 1, "file or connection string (GeoPackage, Shapefile, GeoJSON, FlatGeobuf, PG:...)"},
    {"layer", CT_OPT_STRING, NULL, 0, "layer name (default: the first layer)"},
    {"id_field", CT_OPT_STRING, NULL, 0, "field holding the building id (default: the feature id)"},
    {"attributes", CT_OPT_STRINGS_OR_ALL, "\"all\"", 0, "attributes to pass through: \"all\" or a list of field names"},
    {"srs", CT_OPT_STRING, NULL, 0, "CRS of the source when it has none or it is wrong (e.g. \"EPSG:28992\")"},
    {"where", CT_OPT_STRING, NULL, 0, "OGR SQL attribute filter, e.g. \"status = 'existing'\""},
    {"bbox", CT_OPT_BBOX, NULL, 0, "[xmin, ymin, xmax, ymax] in the source CRS"},
    {"max_vertices", CT_OPT_NUMBER, "100000", 0, "footprints with more vertices (all rings and parts) are skipped with a count, not triangulated for minutes (0: no limit)"},
    {NULL, 0, NULL, 0, NULL},
};

/* Checked when the pipeline loads (the error then names the file and the stage, and comes
 * before any stage ran), not when the stage runs. */
static ct_status create(ct_context *ctx, const ct_json *opts, void **state) {
    double maxv = ct_opt_number(opts, "max_vertices");
    if (!(maxv >= 0 && maxv <= 1e12) || maxv != floor(maxv)) /* (1.5 acted as 1, unsaid) */
        return ct_error(ctx, CT_ERR_USAGE, "readers.footprints: max_vertices must be a whole number from 0 (no limit) "
                        "to 1e12 (got %g)", maxv);
    return ct_stage_keep_options(ctx, opts, state);
}

static ct_status run(ct_context *ctx, void *state, ct_dataset *ds) {
    const json_t *opts = state;
    ct_ogr_read_options o;
    memset(&o, 0, sizeof o);
    o.path = ct_opt_string(opts, "path");
    o.layer = ct_opt_string(opts, "layer");
    o.id_field = ct_opt_string(opts, "id_field");
    o.srs = ct_opt_string(opts, "srs");
    o.where = ct_opt_string(opts, "where");
    o.max_vertices = (size_t)ct_opt_number(opts, "max_vertices");
    double bbox[4];
    const json_t *jb = ct_opt_get(opts, "bbox");
    if (jb) {
        for (size_t i = 0; i < 4; i++) bbox[i] = json_number_value(json_array_get(jb, i));
        o.bbox = bbox;
    }
    const char **names = NULL;
    ct_status ns = ct_opt_names(ctx, opts, "attributes", &o.all_fields, &names, &o.nfields);
    if (ns != CT_OK) return ns;
    o.fields = names;
    uint64_t before = ds->input_features;
    size_t had = ds->nbuildings; /* buildings of earlier stages */
    ct_status st = ct_ogr_read_footprints(ctx, &o, ds);
    free(names);
    if (st == CT_OK) st = ct_dataset_note_source(ctx, ds, "readers.footprints", o.path, "features", ds->input_features - before);
    if (st != CT_OK) return st;
    /* Ids are what a viewer shows and what users join on: say when they are not unique
     * (an id_field that is not a key, or the same source read twice). */
    size_t a = 0, b = 0, dups = ct_dataset_duplicate_ids(ds, &a, &b);
    if (dups == SIZE_MAX) return ct_error_nomem(ctx, "building id table");
    if (dups > 0 && a < had)
        ct_log(ctx, CT_LOG_WARN,
               "readers.footprints: %s: %zu building(s) have the id of a building an earlier readers.footprints stage read "
               "(first: '%s', feature %llu there and feature %llu here): ids in the tiles are not unique; is the same "
               "source read twice? Otherwise set id_field to a field that is unique in both",
               o.path, dups, ds->buildings[b].id ? ds->buildings[b].id : "",
               (unsigned long long)ds->buildings[a].source_record, (unsigned long long)ds->buildings[b].source_record);
    else if (dups > 0)
        ct_log(ctx, CT_LOG_WARN,
               "readers.footprints: %s: %zu building(s) have the id of an earlier one (first: '%s', features %llu and %llu): "
               "ids in the tiles are not unique; set id_field to a field that is",
               o.path, dups, ds->buildings[b].id ? ds->buildings[b].id : "", (unsigned long long)ds->buildings[a].source_record,
               (unsigned long long)ds->buildings[b].source_record);
    return CT_OK;
}

const ct_stage_vtable ct_stage_readers_footprints = {
    "readers.footprints", "read building footprints from any OGR vector source", options, create, run,
    ct_stage_release_options,
};
