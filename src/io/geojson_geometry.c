/* Why a GeoJSON feature came without geometry: see geojson_geometry.h. */
#include "io/geojson_geometry.h"
#include "io/ogr_next_feature.h"

#include <ctype.h>
#include <ogr_api.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int ct_geojson_is(GDALDatasetH d) {
    GDALDriverH drv = d ? GDALGetDatasetDriver(d) : NULL;
    return drv && strcmp(GDALGetDriverShortName(drv), "GeoJSON") == 0;
}

/* A position: an array of 2 or 3 numbers (more are allowed by RFC 7946; GDAL reads 2-4). */
static int position_problem(const json_t *p, const char *at, char *why, size_t size) {
    if (!json_is_array(p)) {
        snprintf(why, size, "%s: a position must be an array of numbers", at);
        return 1;
    }
    size_t n = json_array_size(p);
    if (n < 2) {
        snprintf(why, size, "%s: a position needs at least 2 numbers, not %zu", at, n);
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        if (!json_is_number(json_array_get(p, i))) {
            snprintf(why, size, "%s[%zu]: a coordinate must be a number", at, i);
            return 1;
        }
    return 0;
}

/* An array nested `depth` levels above its positions (0: a position), each level with at
 * least min[level] members (min[0] unused). */
static int coords_problem(const json_t *c, int depth, const size_t *min, const char *at, char *why, size_t size) {
    if (depth == 0) return position_problem(c, at, why, size);
    if (!json_is_array(c)) {
        snprintf(why, size, "%s: must be an array", at);
        return 1;
    }
    /* The members first: an array nested one level too shallow is then named as such,
     * not as too short. */
    for (size_t i = 0; i < json_array_size(c); i++) {
        char sub[96];
        snprintf(sub, sizeof sub, "%s[%zu]", at, i);
        if (coords_problem(json_array_get(c, i), depth - 1, min, sub, why, size)) return 1;
    }
    if (json_array_size(c) < min[depth]) {
        snprintf(why, size, "%s: needs at least %zu %s, has %zu", at, min[depth], depth == 1 ? "positions" : "members",
                 json_array_size(c));
        return 1;
    }
    return 0;
}

static int geometry_problem(const json_t *g, int level, char *why, size_t size) {
    if (!json_is_object(g)) {
        snprintf(why, size, "the geometry is not a JSON object");
        return 1;
    }
    const char *type = json_string_value(json_object_get(g, "type"));
    if (!type) {
        snprintf(why, size, "the geometry has no \"type\" string");
        return 1;
    }
    if (strcmp(type, "GeometryCollection") == 0) {
        const json_t *parts = json_object_get(g, "geometries");
        if (!json_is_array(parts)) {
            snprintf(why, size, "a GeometryCollection needs a \"geometries\" array");
            return 1;
        }
        for (size_t i = 0; level < 8 && i < json_array_size(parts); i++)
            if (geometry_problem(json_array_get(parts, i), level + 1, why, size)) return 1;
        return 0;
    }
    /* Nesting above the positions, and the fewest members per level (min[1]: positions). */
    static const struct { const char *type; int depth; size_t min[4]; } kinds[] = {
        {"Point", 0, {0, 0, 0, 0}},          {"MultiPoint", 1, {0, 0, 0, 0}},
        {"LineString", 1, {0, 2, 0, 0}},     {"MultiLineString", 2, {0, 2, 0, 0}},
        {"Polygon", 2, {0, 4, 0, 0}},        {"MultiPolygon", 3, {0, 4, 0, 0}},
    };
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        if (strcmp(type, kinds[k].type) != 0) continue;
        const json_t *c = json_object_get(g, "coordinates");
        if (!c) {
            snprintf(why, size, "the %s has no \"coordinates\"", type);
            return 1;
        }
        if (kinds[k].depth == 0 && json_is_array(c) && json_array_size(c) == 0) return 0; /* an empty Point */
        char at[32];
        snprintf(at, sizeof at, "coordinates");
        if (coords_problem(c, kinds[k].depth, kinds[k].min, at, why, size)) {
            char detail[256];
            snprintf(detail, sizeof detail, "%s", why);
            snprintf(why, size, "%s %s", type, detail);
            return 1;
        }
        return 0;
    }
    snprintf(why, size, "\"%.40s\" is not a GeoJSON geometry type", type);
    return 1;
}

/* 1 when a well-formed geometry has a position: "coordinates": [] (RFC 7946's empty
 * geometry) has none, and GDAL rightly gives it none. */
static int has_position(const json_t *g, int level) {
    const json_t *parts = json_object_get(g, "geometries");
    for (size_t i = 0; level < 8 && i < json_array_size(parts); i++)
        if (has_position(json_array_get(parts, i), level + 1)) return 1;
    const json_t *c = json_object_get(g, "coordinates");
    while (json_is_array(c) && json_array_size(c) > 0 && !json_is_number(json_array_get(c, 0))) {
        size_t i = 0; /* some member holds a position when any does (all have the same depth) */
        while (i < json_array_size(c) && json_array_size(json_array_get(c, i)) == 0) i++;
        if (i == json_array_size(c)) return 0;
        c = json_array_get(c, i);
    }
    return json_is_array(c) && json_array_size(c) > 0;
}

int ct_geojson_geometry_problem(const json_t *geometry, char *why, size_t size) {
    if (size) why[0] = '\0';
    if (!geometry || json_is_null(geometry)) return 0;
    if (geometry_problem(geometry, 0, why, size)) return 1;
    if (size) why[0] = '\0';
    return has_position(geometry, 0);
}

void ct_geojson_diag_init(ct_geojson_diag *d, GDALDatasetH source, const char *path, const char *layer) {
    memset(d, 0, sizeof *d);
    d->active = ct_geojson_is(source);
    d->path = path;
    d->layer = layer;
}

void ct_geojson_diag_take_error(ct_context *ctx, ct_geojson_diag *d, ct_ogr_read_error *err, const char *items) {
    if (!d->active || !err->msg[0]) return;
    if (!d->file_note[0]) {
        snprintf(d->file_note, sizeof d->file_note, "%s", err->msg);
        ct_log(ctx, CT_LOG_WARN, "%s: GDAL, reading the file: %s (the %s it concerns are named below)", d->path,
               d->file_note, items);
    }
    err->msg[0] = '\0';
}

/* GDAL reads NaN and Infinity as numbers where JSON has none, and drops a point with
 * one; the feature's text then does not parse as JSON. 1 (and why) when the parse
 * failed at such a word within the feature's geometry. */
static int nonfinite_word(const char *text, const json_error_t *err, char *why, size_t size) {
    const char *geometry = strstr(text, "\"geometry\"");
    size_t n = strlen(text), at = err->position < 0 ? 0 : (size_t)err->position;
    if (!geometry || at > n || at < (size_t)(geometry - text)) return 0;
    size_t a = at, b = at; /* the letters around where the parse stopped */
    while (a > 0 && isalpha((unsigned char)text[a - 1])) a--;
    while (b < n && isalpha((unsigned char)text[b])) b++;
    char word[16];
    if (b - a == 0 || b - a >= sizeof word) return 0;
    memcpy(word, text + a, b - a);
    word[b - a] = '\0';
    if (strcasecmp(word, "nan") != 0 && strcasecmp(word, "infinity") != 0 && strcasecmp(word, "inf") != 0) return 0;
    snprintf(why, size, "a coordinate is %s, not a finite number", word);
    return 1;
}

int ct_geojson_diag_feature(ct_geojson_diag *d, long long fid, char *why, size_t size) {
    if (size) why[0] = '\0';
    if (!d->active) return 0;
    if (!d->tried) {
        d->tried = 1;
        const char *const drivers[] = {"GeoJSON", NULL}, *const options[] = {"NATIVE_DATA=YES", NULL};
        ct_ogr_read_error ignored; /* GDAL says again what it said at the first reading */
        ct_ogr_errors_begin(NULL, NULL, &ignored);
        d->ds = GDALOpenEx(d->path, GDAL_OF_VECTOR | GDAL_OF_READONLY, drivers, options, NULL);
        ct_ogr_errors_end();
    }
    OGRLayerH l = !d->ds ? NULL : d->layer ? GDALDatasetGetLayerByName(d->ds, d->layer) : GDALDatasetGetLayer(d->ds, 0);
    if (!l) return 0;
    ct_ogr_read_error ignored;
    ct_ogr_errors_begin(NULL, NULL, &ignored);
    OGRFeatureH f = OGR_L_GetFeature(l, (GIntBig)fid);
    ct_ogr_errors_end();
    const char *native = f ? OGR_F_GetNativeData(f) : NULL;
    json_error_t err;
    json_t *feature = native ? json_loads(native, 0, &err) : NULL;
    int has = feature ? ct_geojson_geometry_problem(json_object_get(feature, "geometry"), why, size)
                      : native && nonfinite_word(native, &err, why, size);
    json_decref(feature);
    if (has && size && !why[0]) snprintf(why, size, "%s", d->file_note[0] ? d->file_note : "GDAL could not read it");
    if (f) OGR_F_Destroy(f);
    return has;
}

void ct_geojson_diag_close(ct_geojson_diag *d) {
    if (d->ds) GDALClose(d->ds);
    d->ds = NULL;
}
