/* readers.assets: city assets and sensors (points with attributes) from any OGR source. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "citytiler/stage.h"
#include "io/ogr_assets.h"

static const ct_option_def options[] = {
    {"path", CT_OPT_PATH, NULL, 1, "file or connection string (CSV, GeoJSON, GeoPackage, Shapefile, PG:...)"},
    {"layer", CT_OPT_STRING, NULL, 0, "layer name (default: the first layer)"},
    {"id_field", CT_OPT_STRING, NULL, 0, "field holding the asset id (default: a field named id, else the feature id); duplicates are skipped"},
    {"category_field", CT_OPT_STRING, NULL, 0, "field holding the category (default: \"category\" when the source has it)"},
    {"category", CT_OPT_STRING, NULL, 0, "one category for every asset (instead of category_field)"},
    {"x_field", CT_OPT_STRING, NULL, 0, "column of x / longitude (default: autodetect x, lon, longitude, lng, easting)"},
    {"y_field", CT_OPT_STRING, NULL, 0, "column of y / latitude (default: autodetect y, lat, latitude, northing)"},
    {"geometry_field", CT_OPT_STRING, NULL, 0, "column holding WKT points (default: autodetect wkt, geom, geometry)"},
    {"srs", CT_OPT_STRING, NULL, 0, "CRS of the source when it has none or a wrong one (lon/lat columns: EPSG:4326)"},
    {"attributes", CT_OPT_STRINGS_OR_ALL, "\"all\"", 0, "attributes to pass through: \"all\" (except coordinate columns) or a list"},
    {"z_field", CT_OPT_STRING, NULL, 0, "field with an explicit base z (wins over ground clamping)"},
    {"height_field", CT_OPT_STRING, NULL, 0, "field with a height above the ground (or roof) in metres"},
    {"heading_field", CT_OPT_STRING, NULL, 0, "field with the heading, degrees clockwise from north"},
    {"scale_field", CT_OPT_STRING, NULL, 0, "field with a uniform symbol scale (> 0)"},
    {"on_roof", CT_OPT_BOOL, "false", 0, "place the assets on the roof of the building they fall in (filters.clamp)"},
    {"area_margin", CT_OPT_NUMBER, "1", 0, "degrees a point may lie outside its CRS's area of use before it is skipped"},
    {NULL, 0, NULL, 0, NULL},
};

static ct_status create(ct_context *ctx, const ct_json *opts, void **state) {
    if (ct_opt_string(opts, "category") && ct_opt_string(opts, "category_field"))
        return ct_error(ctx, CT_ERR_USAGE, "readers.assets: give either category or category_field, not both");
    if ((ct_opt_string(opts, "x_field") != NULL) != (ct_opt_string(opts, "y_field") != NULL))
        return ct_error(ctx, CT_ERR_USAGE, "readers.assets: give both x_field and y_field");
    double m = ct_opt_number(opts, "area_margin");
    if (!(m >= 0 && m <= 360)) return ct_error(ctx, CT_ERR_USAGE, "readers.assets: area_margin must be 0 to 360 degrees");
    return ct_stage_keep_options(ctx, opts, state);
}

static ct_status run(ct_context *ctx, void *state, ct_dataset *ds) {
    const json_t *opts = state;
    ct_ogr_assets_options o;
    memset(&o, 0, sizeof o);
    o.path = ct_opt_string(opts, "path");
    o.layer = ct_opt_string(opts, "layer");
    o.id_field = ct_opt_string(opts, "id_field");
    o.category_field = ct_opt_string(opts, "category_field");
    o.category = ct_opt_string(opts, "category");
    o.x_field = ct_opt_string(opts, "x_field");
    o.y_field = ct_opt_string(opts, "y_field");
    o.geometry_field = ct_opt_string(opts, "geometry_field");
    o.srs = ct_opt_string(opts, "srs");
    o.z_field = ct_opt_string(opts, "z_field");
    o.height_field = ct_opt_string(opts, "height_field");
    o.heading_field = ct_opt_string(opts, "heading_field");
    o.scale_field = ct_opt_string(opts, "scale_field");
    o.on_roof = ct_opt_bool(opts, "on_roof");
    o.area_margin = ct_opt_number(opts, "area_margin");
    const char **names = NULL;
    ct_status ns = ct_opt_names(ctx, opts, "attributes", &o.all_fields, &names, &o.nfields);
    if (ns != CT_OK) return ns;
    o.fields = names;
    uint64_t before = ds->assets ? ds->assets->input_rows : 0;
    ct_status st = ct_ogr_read_assets(ctx, &o, ds);
    free(names);
    if (st == CT_OK && ds->assets)
        st = ct_dataset_note_source(ctx, ds, "readers.assets", o.path, "rows", ds->assets->input_rows - before);
    return st;
}

const ct_stage_vtable ct_stage_readers_assets = {
    "readers.assets", "read city assets and sensors (points with attributes) from any OGR source", options, create, run,
    ct_stage_release_options,
};
