/* readers.footprints: building footprints from any OGR vector source. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "citytiler/stage.h"
#include "io/ogr_footprints.h"

typedef struct footprints_state {
    json_t *opts; /* a reference to the checked options */
} footprints_state;

static const ct_option_def options[] = {
    {"path", CT_OPT_PATH, NULL, 1, "file or connection string (GeoPackage, Shapefile, GeoJSON, FlatGeobuf, PG:...)"},
    {"layer", CT_OPT_STRING, NULL, 0, "layer name (default: the first layer)"},
    {"id_field", CT_OPT_STRING, NULL, 0, "field holding the building id (default: the feature id)"},
    {"attributes", CT_OPT_STRINGS_OR_ALL, "\"all\"", 0, "attributes to pass through: \"all\" or a list of field names"},
    {"srs", CT_OPT_STRING, NULL, 0, "CRS of the source when it has none or it is wrong (e.g. \"EPSG:28992\")"},
    {"where", CT_OPT_STRING, NULL, 0, "OGR SQL attribute filter, e.g. \"status = 'existing'\""},
    {"bbox", CT_OPT_BBOX, NULL, 0, "[xmin, ymin, xmax, ymax] in the source CRS"},
    {NULL, 0, NULL, 0, NULL},
};

static ct_status create(ct_context *ctx, const ct_json *opts, void **state) {
    footprints_state *s = calloc(1, sizeof *s);
    if (!s) return ct_error_nomem(ctx, "readers.footprints");
    s->opts = json_incref((json_t *)opts);
    *state = s;
    return CT_OK;
}

static ct_status run(ct_context *ctx, void *state, ct_dataset *ds) {
    footprints_state *s = state;
    ct_ogr_read_options o;
    memset(&o, 0, sizeof o);
    o.path = ct_opt_string(s->opts, "path");
    o.layer = ct_opt_string(s->opts, "layer");
    o.id_field = ct_opt_string(s->opts, "id_field");
    o.srs = ct_opt_string(s->opts, "srs");
    o.where = ct_opt_string(s->opts, "where");
    double bbox[4];
    const json_t *jb = ct_opt_get(s->opts, "bbox");
    if (jb) {
        for (size_t i = 0; i < 4; i++) bbox[i] = json_number_value(json_array_get(jb, i));
        o.bbox = bbox;
    }
    const char **names = NULL;
    ct_status ns = ct_opt_names(ctx, s->opts, "attributes", &o.all_fields, &names, &o.nfields);
    if (ns != CT_OK) return ns;
    o.fields = names;
    ct_status st = ct_ogr_read_footprints(ctx, &o, ds);
    free(names);
    return st;
}

static void destroy(void *state) {
    footprints_state *s = state;
    json_decref(s->opts);
    free(s);
}

const ct_stage_vtable ct_stage_readers_footprints = {
    "readers.footprints", "read building footprints from any OGR vector source", options, create, run, destroy,
};
