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
    {"id_prefix", CT_OPT_STRING, NULL, 0, "text put before every id of this source (e.g. \"lights/\"), so that the ids of several sources (row numbers, feature ids) do not clash"},
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

/* Assets far from every footprint (farther than the footprints' extent, and 10 km):
 * latitude given as x, or a wrong srs, put street lights of Delft in the Indian Ocean
 * without a word, and the tileset's root then spanned both. One warning, with the first. */
static void warn_far_assets(ct_context *ctx, const ct_dataset *ds, size_t first, const char *path) {
    const ct_asset_set *set = ds->assets;
    double bb[4];
    if (!set || !ct_dataset_bbox(ds, bb)) return; /* (no footprints read before: nothing to compare with) */
    double limit = fmax(10000.0, hypot(bb[2] - bb[0], bb[3] - bb[1]));
    size_t far = 0, first_far = 0;
    double first_far_m = 0;
    for (size_t i = first; i < set->n; i++) {
        const ct_asset *a = &set->items[i];
        double dx = fmax(fmax(bb[0] - a->x, a->x - bb[2]), 0), dy = fmax(fmax(bb[1] - a->y, a->y - bb[3]), 0);
        double d = hypot(dx, dy);
        if (!(d > limit)) continue;
        if (far++ == 0) {
            first_far = i;
            first_far_m = d;
        }
    }
    if (far)
        ct_log(ctx, CT_LOG_WARN,
               "readers.assets: %s: %zu of its %zu assets lie more than %.0f km from the footprints (first: %s, %s %llu, "
               "%.0f km away): latitude given as x, or a wrong srs? They are kept, and the tileset reaches out to them",
               path, far, set->n - first, limit / 1000.0, set->items[first_far].id,
               ct_asset_record_word(&set->items[first_far]), (unsigned long long)set->items[first_far].source_record,
               first_far_m / 1000.0);
}

static ct_status run(ct_context *ctx, void *state, ct_dataset *ds) {
    const json_t *opts = state;
    ct_ogr_assets_options o;
    memset(&o, 0, sizeof o);
    o.path = ct_opt_string(opts, "path");
    o.layer = ct_opt_string(opts, "layer");
    o.id_field = ct_opt_string(opts, "id_field");
    o.id_prefix = ct_opt_string(opts, "id_prefix");
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
    size_t first = ds->assets ? ds->assets->n : 0;
    ct_status st = ct_ogr_read_assets(ctx, &o, ds);
    free(names);
    if (st == CT_OK) warn_far_assets(ctx, ds, first, o.path);
    if (st == CT_OK && ds->assets)
        st = ct_dataset_note_source(ctx, ds, "readers.assets", o.path, "rows", ds->assets->input_rows - before);
    return st;
}

const ct_stage_vtable ct_stage_readers_assets = {
    "readers.assets", "read city assets and sensors (points with attributes) from any OGR source", options, create, run,
    ct_stage_release_options,
};
