/* City assets from OGR: open, pick a layer, find where the coordinates are (point
 * geometry, x/y or lon/lat columns, a WKT column), read every row into a raw record,
 * then decide the source CRS, check the area of use, reproject, drop duplicate ids,
 * report the bad rows in source order and append the good ones to ds->assets.
 *
 * CSV columns are read as text (the CSV driver's default) and parsed strictly here, so
 * "12abc" is a bad number rather than 12; attribute columns of a CSV get a type from
 * their values (integer, real or string). */
#include "io/ogr_assets.h"
#include "io/geojson_geometry.h"
#include "io/csv_scan.h"
#include "io/ogr_next_feature.h"
#include "io/ogr_source.h"
#include "io/ogr_values.h"
#include "io/input_file.h"
#include "core/hash.h"

#include <cpl_conv.h>
#include <cpl_vsi.h>
#include <ctype.h>
#include <errno.h>
#include <gdal.h>
#include <math.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Reasons a row is skipped (also the keys of the skip counts). */
static const char *const R_NO_GEOM = "missing geometry";
static const char *const R_UNREADABLE = "unreadable geometry (corrupt blob)";
static const char *const R_UNREADABLE_GEOJSON = "unreadable geometry (GeoJSON)";
static const char *const R_NOT_POINT = "non-point geometry";
static const char *const R_BAD_WKT = "invalid WKT";
static const char *const R_MISSING_X = "missing x";
static const char *const R_MISSING_Y = "missing y";
static const char *const R_BAD_X = "non-numeric x";
static const char *const R_BAD_Y = "non-numeric y";
static const char *const R_NONFINITE = "non-finite coordinate";
static const char *const R_OUTSIDE = "outside the CRS's area of use";
static const char *const R_REPROJECT = "cannot reproject";
static const char *const R_MISSING_ID = "missing id";
static const char *const R_DUP_ID = "duplicate id";
static const char *const R_BAD_Z = "non-numeric z";
static const char *const R_BAD_HEIGHT = "non-numeric height";
static const char *const R_BAD_HEADING = "non-numeric heading";
static const char *const R_BAD_SCALE = "invalid scale";
static const char *const R_Z_RANGE = "z out of range";
static const char *const R_HEIGHT_RANGE = "height out of range";
static const char *const R_SCALE_RANGE = "scale out of range";

enum { MODE_GEOM, MODE_XY, MODE_WKT };

typedef struct raw_row {
    uint64_t fid;
    double x, y;      /* source CRS, then working CRS */
    double lon, lat;  /* degrees (area check) */
    double z, hag, heading, scale;
    char *id, *category;
    ct_value *vals;   /* one per field map */
    const char *why;  /* NULL: good */
    int not_utf8;     /* its id, category or a text attribute was not UTF-8: read as Latin-1 */
    int not_finite;   /* a real attribute was NaN or infinite: no data */
    char *detail;     /* optional text after the reason */
} raw_row;

typedef struct reader {
    ct_context *ctx;
    const ct_ogr_assets_options *o;
    GDALDatasetH gd;
    OGRLayerH layer;
    int is_csv, mode, lonlat_names;
    int fx, fy, fwkt, fid_field, fcat, fz, fh, fhead, fscale; /* field indexes or -1 */
    ct_ogr_field_map *maps; /* dst set when appending */
    size_t nmaps;
    raw_row *rows;
    size_t nrows, cap;
    ct_csv_scan csv; /* CSV: line (and fields) of each data record (csv.line[k] for FID k+1); csv.line NULL when not read */
    ct_ogr_read_error read_error; /* GDAL's error while the current feature was read */
    ct_geojson_diag diag;         /* GeoJSON: a feature without geometry may have one GDAL could not read */
} reader;

/* ---- small helpers ---- */

static int find_field_ci(OGRFeatureDefnH defn, const char *name) {
    int nf = OGR_FD_GetFieldCount(defn);
    for (int i = 0; i < nf; i++)
        if (strcmp(OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, i)), name) == 0) return i;
    for (int i = 0; i < nf; i++)
        if (strcasecmp(OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, i)), name) == 0) return i;
    return -1;
}

/* Parses a whole string as a finite number: 1 ok, 0 empty, -1 not a number. */
static int parse_number(const char *s, double *out) {
    while (*s && isspace((unsigned char)*s)) s++;
    if (!*s) return 0;
    /* Decimal only: strtod also reads hexadecimal ("0x1A" = 26, "0x14C12" = 85010), so a
     * column of hex codes became numbers and a hex coordinate a position. */
    if (strspn(s, "0123456789+-.eE \t\r\n\f\v") != strlen(s)) return -1;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s) return -1;
    while (*end && isspace((unsigned char)*end)) end++;
    if (*end || !isfinite(v)) return -1;
    *out = v;
    return 1;
}

/* A number from field idx: 1 ok, 0 null/empty, -1 not a number. */
static int field_number(OGRFeatureH f, int idx, double *out) {
    if (idx < 0 || !OGR_F_IsFieldSetAndNotNull(f, idx)) return 0;
    OGRFieldType t = OGR_Fld_GetType(OGR_F_GetFieldDefnRef(f, idx));
    if (t == OFTReal || t == OFTInteger || t == OFTInteger64) {
        double v = OGR_F_GetFieldAsDouble(f, idx);
        if (!isfinite(v)) return -1;
        *out = v;
        return 1;
    }
    return parse_number(OGR_F_GetFieldAsString(f, idx), out);
}
/* *id becomes prefix + *id (the old one freed); 0 when out of memory (*id freed too). */
static int prefix_id(char **id, const char *prefix) {
    size_t a = strlen(prefix), b = strlen(*id);
    char *joined = malloc(a + b + 1);
    if (joined) {
        memcpy(joined, prefix, a);
        memcpy(joined + a, *id, b + 1);
    }
    free(*id);
    *id = joined;
    return joined != NULL;
}


static char *trimmed_copy(const char *s) {
    while (*s && isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) n--;
    char *c = malloc(n + 1);
    if (!c) return NULL;
    memcpy(c, s, n);
    c[n] = '\0';
    return c;
}

static char *fmt_detail(const char *fmt, const char *a, uint64_t b) {
    char buf[160];
    char val[64];
    size_t n = a ? strlen(a) : 0;
    if (n < sizeof val) {
        memcpy(val, a ? a : "", n + 1);
    } else { /* keep messages short */
        memcpy(val, a, sizeof val - 4);
        memcpy(val + sizeof val - 4, "...", 4);
    }
    snprintf(buf, sizeof buf, fmt, val, (unsigned long long)b);
    return strdup(buf);
}


static void free_rows(reader *r) {
    for (size_t i = 0; i < r->nrows; i++) {
        raw_row *w = &r->rows[i];
        free(w->id);
        free(w->category);
        free(w->detail);
        for (size_t k = 0; w->vals && k < r->nmaps; k++) ct_value_clear(&w->vals[k], r->maps[k].type);
        free(w->vals);
    }
    free(r->rows);
    r->rows = NULL;
    r->nrows = 0;
}

/* ---- opening and fields ---- */

/* GDAL drops the fields of a CSV row beyond the header's without a word (a value
 * holding the delimiter, unquoted, shifts the rest): one warning names the first row. */
static void warn_extra_fields(const reader *r) {
    const ct_csv_scan *c = &r->csv;
    size_t count = 0, first = 0;
    for (size_t k = 0; c->nfields && k < c->n; k++)
        if (c->nfields[k] > c->header_fields && count++ == 0) first = k;
    if (count)
        ct_log(r->ctx, CT_LOG_WARN, "%s: %zu rows have more fields than the header's %u (first: row %llu, %u fields): "
               "their extra fields are ignored (a value holding the delimiter without quotes?)", r->o->path, count,
               (unsigned)c->header_fields, (unsigned long long)c->line[first], (unsigned)c->nfields[first]);
}

static ct_status open_layer(reader *r) {
    ct_status st = ct_input_file_check(r->ctx, r->o->path, "asset source");
    if (st != CT_OK) return st;
    st = ct_ogr_source_open(r->ctx, r->o->path, r->o->layer, &r->gd, &r->layer);
    if (st != CT_OK) return st;
    GDALDriverH drv = GDALGetDatasetDriver(r->gd);
    r->is_csv = drv && strcmp(GDALGetDriverShortName(drv), "CSV") == 0;
    return CT_OK;
}

/* Index of a field the user named (must exist), or -1 when name is NULL. */
static ct_status named_field(reader *r, OGRFeatureDefnH defn, const char *option, const char *name, int *out) {
    *out = -1;
    if (!name) return CT_OK;
    *out = find_field_ci(defn, name);
    if (*out < 0) {
        char names[512] = "";
        size_t used = 0;
        for (int i = 0; i < OGR_FD_GetFieldCount(defn); i++) {
            int w = snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
                             OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, i)));
            if (w < 0 || (size_t)w >= sizeof names - used) break;
            used += (size_t)w;
        }
        return ct_error(r->ctx, CT_ERR_INPUT, "%s: %s '%s' is not a field of layer '%s' (fields: %s)", r->o->path, option,
                        name, OGR_L_GetName(r->layer), names);
    }
    return CT_OK;
}

static ct_status choose_mode(reader *r, OGRFeatureDefnH defn) {
    const ct_ogr_assets_options *o = r->o;
    ct_context *ctx = r->ctx;
    r->fx = r->fy = r->fwkt = -1;
    if (o->x_field || o->y_field) {
        if (!o->x_field || !o->y_field)
            return ct_error(ctx, CT_ERR_USAGE, "%s: give both x_field and y_field", o->path);
        ct_status st = named_field(r, defn, "x_field", o->x_field, &r->fx);
        if (st == CT_OK) st = named_field(r, defn, "y_field", o->y_field, &r->fy);
        r->mode = MODE_XY;
        const char *xn = o->x_field;
        r->lonlat_names = strncasecmp(xn, "lon", 3) == 0 || strcasecmp(xn, "lng") == 0;
        return st;
    }
    if (o->geometry_field) {
        r->mode = MODE_WKT;
        return named_field(r, defn, "geometry_field", o->geometry_field, &r->fwkt);
    }
    if (!r->is_csv && OGR_FD_GetGeomFieldCount(defn) > 0) {
        r->mode = MODE_GEOM;
        return CT_OK;
    }
    static const char *const pairs[][2] = {{"x", "y"}, {"lon", "lat"}, {"longitude", "latitude"}, {"lng", "lat"},
                                           {"long", "lat"}, {"easting", "northing"}};
    for (size_t k = 0; k < sizeof pairs / sizeof pairs[0]; k++) {
        int ix = find_field_ci(defn, pairs[k][0]), iy = find_field_ci(defn, pairs[k][1]);
        if (ix >= 0 && iy >= 0) {
            r->fx = ix;
            r->fy = iy;
            r->mode = MODE_XY;
            r->lonlat_names = k >= 1 && k <= 4;
            return CT_OK;
        }
    }
    static const char *const wkt_names[] = {"wkt", "geom", "geometry", "the_geom", "wkt_geom", "geometry_wkt"};
    for (size_t k = 0; k < sizeof wkt_names / sizeof wkt_names[0]; k++) {
        int i = find_field_ci(defn, wkt_names[k]);
        if (i >= 0) {
            r->fwkt = i;
            r->mode = MODE_WKT;
            return CT_OK;
        }
    }
    if (OGR_FD_GetGeomFieldCount(defn) > 0) {
        r->mode = MODE_GEOM;
        return CT_OK;
    }
    return ct_error(ctx, CT_ERR_INPUT,
                    "%s: layer '%s' has no point geometry and no coordinate columns (x/y, lon/lat, longitude/latitude "
                    "or a WKT column): give x_field and y_field (or geometry_field)",
                    o->path, OGR_L_GetName(r->layer));
}

static ct_status map_fields(reader *r, OGRFeatureDefnH defn) {
    const ct_ogr_assets_options *o = r->o;
    /* Never attributes under "all": the coordinate columns, and an id field named "id"
     * (it holds what the asset's "id" property does, and became a second column "id_2"). */
    int id_named_id = r->fid_field >= 0 &&
                      strcmp(OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, r->fid_field)), "id") == 0;
    const int skip[4] = {r->fx, r->fy, r->fwkt, id_named_id ? r->fid_field : -1};
    ct_ogr_field_pick pick = {o->all_fields, skip, 4, o->fields, o->nfields, 1};
    ct_status st = ct_ogr_pick_fields(r->ctx, defn, &pick, "asset field map", &r->maps, &r->nmaps);
    for (size_t k = 0; k < o->nfields && st == CT_OK; k++) {
        int i;
        st = named_field(r, defn, "attribute", o->fields[k], &i);
    }
    for (size_t k = 0; k < r->nmaps; k++) r->maps[k].infer = r->is_csv && r->maps[k].type == CT_ATTR_STRING;
    return st;
}

/* ---- reading rows ---- */

static ct_status set_value(reader *r, OGRFeatureH f, const ct_ogr_field_map *m, ct_value *v, int *not_utf8,
                           int *not_finite) {
    v->is_null = 1;
    return ct_ogr_read_value(r->ctx, f, m->src, m->type, m->infer, v, not_utf8, not_finite);
}

/* Makes *s (malloc'd, or NULL) valid UTF-8, reading other bytes as Latin-1. 0 when out of memory. */
static int make_utf8(char **s, int *not_utf8) {
    if (!*s) return 1;
    int bad = 0;
    char *c = ct_ogr_utf8_copy(*s, &bad);
    if (!c) return 0;
    free(*s);
    *s = c;
    *not_utf8 |= bad;
    return 1;
}

static void reject(raw_row *w, const char *why, char *detail) {
    if (w->why) {
        free(detail);
        return;
    }
    w->why = why;
    w->detail = detail;
}

/* One optional number field into *dst; a non-empty non-number rejects the row. */
static void optional_number(raw_row *w, OGRFeatureH f, int idx, double *dst, const char *why) {
    double v;
    int k = field_number(f, idx, &v);
    if (k > 0) *dst = v;
    else if (k < 0) reject(w, why, fmt_detail(" ('%s')", OGR_F_GetFieldAsString(f, idx), 0));
}

/* v (NaN: not given) outside [lo, hi] rejects the row: one row at z 1e9 stretched the
 * whole tileset's bounds to 1,000 km without a word, and z, height or scale 1e300 failed
 * the writer at the end of the run, naming no row. */
static void check_range(raw_row *w, double v, double lo, double hi, const char *why) {
    if (isnan(v) || (v >= lo && v <= hi)) return;
    char text[96];
    snprintf(text, sizeof text, "%g; from %g to %g", v, lo, hi);
    reject(w, why, fmt_detail(" (%s)", text, 0));
}

static void read_coords(reader *r, OGRFeatureH f, raw_row *w) {
    OGRGeometryH g = NULL, owned = NULL;
    if (r->mode == MODE_XY) {
        double x = 0, y = 0;
        int kx = field_number(f, r->fx, &x), ky = field_number(f, r->fy, &y);
        const char *cx = OGR_Fld_GetNameRef(OGR_F_GetFieldDefnRef(f, r->fx));
        const char *cy = OGR_Fld_GetNameRef(OGR_F_GetFieldDefnRef(f, r->fy));
        if (kx == 0) reject(w, R_MISSING_X, fmt_detail(" (column '%s' empty)", cx, 0));
        else if (kx < 0) reject(w, R_BAD_X, fmt_detail(" ('%s')", OGR_F_GetFieldAsString(f, r->fx), 0));
        else if (ky == 0) reject(w, R_MISSING_Y, fmt_detail(" (column '%s' empty)", cy, 0));
        else if (ky < 0) reject(w, R_BAD_Y, fmt_detail(" ('%s')", OGR_F_GetFieldAsString(f, r->fy), 0));
        w->x = x;
        w->y = y;
        return;
    }
    if (r->mode == MODE_WKT) {
        const char *s = OGR_F_IsFieldSetAndNotNull(f, r->fwkt) ? OGR_F_GetFieldAsString(f, r->fwkt) : "";
        while (*s && isspace((unsigned char)*s)) s++;
        if (!*s) {
            reject(w, R_NO_GEOM, NULL);
            return;
        }
        char *text = (char *)s;
        if (OGR_G_CreateFromWkt(&text, NULL, &owned) != OGRERR_NONE || !owned) {
            reject(w, R_BAD_WKT, fmt_detail(" ('%s')", s, 0));
            return;
        }
        g = owned;
    } else {
        g = OGR_F_GetGeometryRef(f);
        /* A geometry GDAL could not decode comes back as none: only its error tells. */
        if (!g && r->read_error.msg[0]) {
            reject(w, R_UNREADABLE, fmt_detail(" (%s)", r->read_error.msg, 0));
            return;
        }
    }
    char why[256];
    /* (GDAL gives a GeoJSON point of NaN as an empty point) */
    if ((!g || OGR_G_IsEmpty(g)) && ct_geojson_diag_feature(&r->diag, (long long)OGR_F_GetFID(f), why, sizeof why)) {
        reject(w, R_UNREADABLE_GEOJSON, fmt_detail(": %s", why, 0));
    } else if (!g || OGR_G_IsEmpty(g)) {
        reject(w, R_NO_GEOM, NULL);
    } else {
        OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
        OGRGeometryH p = g;
        if (t == wkbMultiPoint && OGR_G_GetGeometryCount(g) == 1) {
            p = OGR_G_GetGeometryRef(g, 0);
            t = wkbPoint;
        }
        if (t != wkbPoint) {
            reject(w, R_NOT_POINT, fmt_detail(" (%s)", OGRGeometryTypeToName(OGR_G_GetGeometryType(g)), 0));
        } else {
            w->x = OGR_G_GetX(p, 0);
            w->y = OGR_G_GetY(p, 0);
            if (!isfinite(w->x) || !isfinite(w->y)) reject(w, R_NONFINITE, NULL);
        }
    }
    if (owned) OGR_G_DestroyGeometry(owned);
}

static ct_status read_rows(reader *r) {
    ct_context *ctx = r->ctx;
    const ct_ogr_assets_options *o = r->o;
    GIntBig total = OGR_L_GetFeatureCount(r->layer, FALSE);
    OGR_L_ResetReading(r->layer);
    OGRFeatureH f;
    ct_status st = CT_OK;
    ct_geojson_diag_init(&r->diag, r->gd, o->path, o->layer);
    while (st == CT_OK && (f = ct_ogr_next_feature(ctx, o->path, r->layer, &r->read_error)) != NULL) {
        ct_geojson_diag_take_error(ctx, &r->diag, &r->read_error, "rows"); /* (not the first row's) */
        if (r->nrows == r->cap) {
            size_t nc = r->cap ? r->cap * 2 : 1024;
            raw_row *v = realloc(r->rows, nc * sizeof *v);
            if (!v) {
                OGR_F_Destroy(f);
                return ct_error_nomem(ctx, "asset rows");
            }
            r->rows = v;
            r->cap = nc;
        }
        raw_row *w = &r->rows[r->nrows++];
        memset(w, 0, sizeof *w);
        w->z = w->hag = NAN;
        w->heading = 0;
        w->scale = 1;
        w->fid = (uint64_t)OGR_F_GetFID(f);
        w->vals = calloc(r->nmaps ? r->nmaps : 1, sizeof *w->vals);
        if (!w->vals) st = ct_error_nomem(ctx, "asset attributes");
        for (size_t k = 0; st == CT_OK && k < r->nmaps; k++) st = set_value(r, f, &r->maps[k], &w->vals[k], &w->not_utf8, &w->not_finite);
        if (st == CT_OK) {
            read_coords(r, f, w);
            optional_number(w, f, r->fz, &w->z, R_BAD_Z);
            optional_number(w, f, r->fh, &w->hag, R_BAD_HEIGHT);
            optional_number(w, f, r->fhead, &w->heading, R_BAD_HEADING);
            optional_number(w, f, r->fscale, &w->scale, R_BAD_SCALE);
            if (!(w->scale > 0) && !w->why) reject(w, R_BAD_SCALE, fmt_detail(" (%s)", "not positive", 0));
            /* (deeper than the deepest sea and higher than the highest mountain, with room;
             * a mast or pit of a kilometre; a symbol scaled a thousand times) */
            check_range(w, w->z, -12000, 12000, R_Z_RANGE);
            check_range(w, w->hag, -1000, 1000, R_HEIGHT_RANGE);
            check_range(w, w->scale, 0, 1000, R_SCALE_RANGE);
            w->heading = fmod(w->heading, 360.0);
            if (w->heading < 0) w->heading += 360.0;
            if (r->fid_field >= 0) {
                w->id = trimmed_copy(OGR_F_IsFieldSetAndNotNull(f, r->fid_field) ? OGR_F_GetFieldAsString(f, r->fid_field) : "");
            } else {
                char buf[32];
                snprintf(buf, sizeof buf, "%lld", (long long)OGR_F_GetFID(f));
                w->id = strdup(buf);
            }
            if (w->id && !w->id[0]) reject(w, R_MISSING_ID, NULL);
            if (w->id && o->id_prefix && !prefix_id(&w->id, o->id_prefix)) w->id = NULL; /* (out of memory below) */
            const char *cat = o->category ? o->category
                              : r->fcat >= 0 && OGR_F_IsFieldSetAndNotNull(f, r->fcat) ? OGR_F_GetFieldAsString(f, r->fcat)
                                                                                       : "";
            w->category = trimmed_copy(cat);
            if (!w->id || !w->category || !make_utf8(&w->id, &w->not_utf8) || !make_utf8(&w->category, &w->not_utf8))
                st = ct_error_nomem(ctx, "asset id");
        }
        OGR_F_Destroy(f);
        if ((r->nrows & 4095) == 0) ct_progress(ctx, "reading assets", r->nrows, total > 0 ? (uint64_t)total : 0);
    }
    ct_progress(ctx, "reading assets", r->nrows, r->nrows);
    /* OGR ends a layer the same way at its end and on an error (a damaged file). */
    if (st == CT_OK && r->read_error.msg[0]) {
        char where[64];
        snprintf(where, sizeof where, "after %zu rows", r->nrows);
        st = ct_ogr_reading_stopped(ctx, o->path, where, "rows", &r->read_error);
    }
    return st;
}

/* CSV text columns become integer or real columns when every value parses as one, in
 * the rows kept: a skipped row (a value holding the delimiter shifted its fields) made
 * the z and heading columns text for every asset. */
static ct_status infer_types(reader *r) {
    for (size_t k = 0; k < r->nmaps; k++) {
        ct_ogr_field_map *m = &r->maps[k];
        if (!m->infer) continue;
        int all_int = 1, all_real = 1, any = 0;
        for (size_t i = 0; i < r->nrows && (all_int || all_real); i++) {
            const ct_value *v = &r->rows[i].vals[k];
            if (v->is_null || r->rows[i].why) continue;
            any = 1;
            const char *s = v->v.s;
            double d;
            if (parse_number(s, &d) <= 0 || isspace((unsigned char)s[0])) {
                all_int = all_real = 0;
                break;
            }
            const char *p = s + (s[0] == '-' || s[0] == '+');
            int digits = *p != '\0';
            for (const char *q = p; *q; q++) digits &= isdigit((unsigned char)*q) != 0;
            if (!digits || (p[0] == '0' && p[1]) || strlen(p) > 18) all_int = 0; /* "007" stays text */
            if (p[0] == '0' && isdigit((unsigned char)p[1])) all_real = 0;
        }
        if (!any || (!all_int && !all_real)) continue;
        ct_attr_type t = all_int ? CT_ATTR_INT : CT_ATTR_REAL;
        for (size_t i = 0; i < r->nrows; i++) {
            ct_value *v = &r->rows[i].vals[k];
            if (v->is_null) continue;
            char *s = v->v.s;
            if (r->rows[i].why) { /* (skipped: its value is not kept) */
                v->is_null = 1;
                v->v.i = 0;
            } else if (t == CT_ATTR_INT) v->v.i = strtoll(s, NULL, 10);
            else v->v.r = strtod(s, NULL);
            free(s);
        }
        m->type = t;
    }
    return CT_OK;
}

/* ---- CRS ---- */

/* The user's srs, else a point layer's CRS, else EPSG:4326 when the columns are named
 * lon/lat or every coordinate looks like degrees. */
static ct_status source_srs(reader *r, OGRSpatialReferenceH *out) {
    const ct_ogr_assets_options *o = r->o;
    ct_context *ctx = r->ctx;
    /* Coordinate columns carry no CRS: only a point geometry's layer has one. */
    ct_status st = ct_ogr_source_crs(ctx, o->path, o->srs, r->mode == MODE_GEOM ? r->layer : NULL, out);
    if (st != CT_OK || *out) return st;
    int degrees = 0, good = 0;
    if (!r->lonlat_names) {
        degrees = 1;
        for (size_t i = 0; i < r->nrows; i++) {
            const raw_row *w = &r->rows[i];
            if (w->why) continue;
            good++;
            if (!(fabs(w->x) <= 180 && fabs(w->y) <= 90)) degrees = 0;
        }
    }
    if (!r->lonlat_names && !(degrees && good))
        return ct_error(ctx, CT_ERR_INPUT,
                        "%s: layer '%s' has no CRS; give readers.assets an \"srs\" option (e.g. \"EPSG:28992\")",
                        o->path, OGR_L_GetName(r->layer));
    *out = ct_ogr_epsg(4326);
    if (!*out) return ct_error(ctx, CT_ERR_INTERNAL, "%s: cannot set up EPSG:4326", o->path);
    if (r->lonlat_names)
        ct_log(ctx, CT_LOG_INFO, "%s: no CRS given: longitude/latitude columns, assuming EPSG:4326 (WGS 84)", o->path);
    else
        ct_log(ctx, CT_LOG_WARN, "%s: no CRS given: every coordinate looks like longitude/latitude, assuming "
               "EPSG:4326 (WGS 84); set \"srs\" if that is wrong", o->path);
    return CT_OK;
}

/* The working CRS (see ct_ogr_working_crs); the good rows' lon/lat centre picks the UTM
 * zone when one is needed. */
static ct_status working_srs(reader *r, ct_dataset *ds, OGRSpatialReferenceH src, OGRSpatialReferenceH *out) {
    double lon0 = INFINITY, lon1 = -INFINITY, lat0 = INFINITY, lat1 = -INFINITY;
    for (size_t i = 0; i < r->nrows; i++) {
        const raw_row *w = &r->rows[i];
        if (w->why) continue;
        if (w->lon < lon0) lon0 = w->lon;
        if (w->lon > lon1) lon1 = w->lon;
        if (w->lat < lat0) lat0 = w->lat;
        if (w->lat > lat1) lat1 = w->lat;
    }
    double lon = isfinite(lon0) ? ct_lon_middle(lon0, lon1) : 0, lat = isfinite(lat0) ? 0.5 * (lat0 + lat1) : 0;
    int chosen_here = ds->crs_wkt == NULL;
    ct_status st = ct_ogr_working_crs(r->ctx, r->o->path, src, lon, lat, 1, ds, out);
    if (st == CT_OK && chosen_here)
        ct_log(r->ctx, CT_LOG_INFO, "%s: working CRS %s (no footprints read before)", r->o->path, OSRGetName(*out));
    return st;
}

/* Transforms the good rows' x, y in place (or into lon/lat when to_lonlat);
 * rows that fail get R_REPROJECT. */
static ct_status transform_rows(reader *r, OGRSpatialReferenceH from, OGRSpatialReferenceH to, int to_lonlat) {
    size_t n = 0;
    for (size_t i = 0; i < r->nrows; i++) n += !r->rows[i].why;
    double *x = malloc((n ? n : 1) * sizeof *x), *y = malloc((n ? n : 1) * sizeof *y);
    int *ok = malloc((n ? n : 1) * sizeof *ok);
    if (!x || !y || !ok) {
        free(x);
        free(y);
        free(ok);
        return ct_error_nomem(r->ctx, "asset coordinates");
    }
    size_t k = 0;
    for (size_t i = 0; i < r->nrows; i++)
        if (!r->rows[i].why) {
            x[k] = r->rows[i].x;
            y[k] = r->rows[i].y;
            ok[k++] = 1;
        }
    ct_status st = CT_OK;
    if (n && !OSRIsSame(from, to)) {
        OGRCoordinateTransformationH t = OCTNewCoordinateTransformation(from, to);
        if (!t) {
            st = ct_error(r->ctx, CT_ERR_INPUT, "%s: cannot transform from the source CRS to %s", r->o->path,
                          OSRGetName(to));
        } else {
            CPLPushErrorHandler(CPLQuietErrorHandler); /* per-point failures are reported per row */
            OCTTransformEx(t, (int)n, x, y, NULL, ok);
            CPLPopErrorHandler();
            OCTDestroyCoordinateTransformation(t);
        }
    }
    k = 0;
    for (size_t i = 0; st == CT_OK && i < r->nrows; i++) {
        raw_row *w = &r->rows[i];
        if (w->why) continue;
        if (!ok[k] || !isfinite(x[k]) || !isfinite(y[k])) {
            reject(w, R_REPROJECT, NULL);
        } else if (to_lonlat) {
            w->lon = x[k];
            w->lat = y[k];
        } else {
            w->x = x[k];
            w->y = y[k];
        }
        k++;
    }
    free(x);
    free(y);
    free(ok);
    return st;
}

/* Rows whose lon/lat lies outside the source CRS's area of use (plus margin) are rejected. */
static void check_area(reader *r, OGRSpatialReferenceH src) {
    double w = -180, s = -90, e = 180, n = 90;
    const char *name = NULL;
    int known = OSRGetAreaOfUse(src, &w, &s, &e, &n, &name);
    if (!known || w < -1000) w = -180, s = -90, e = 180, n = 90; /* unknown: the world */
    double m = r->o->area_margin;
    int geographic = OSRIsGeographic(src);
    for (size_t i = 0; i < r->nrows; i++) {
        raw_row *row = &r->rows[i];
        if (row->why) continue;
        double lon = row->lon, lat = row->lat;
        /* A longitude up to the margin past 180 (a point beside the antimeridian given as
         * 180.0001, as footprints across it are): PROJ wraps it, and so does this check. */
        if (lon > 180 && lon <= 180 + m) lon -= 360;
        else if (lon < -180 && lon >= -180 - m) lon += 360;
        row->lon = lon; /* (for the UTM zone of the working CRS) */
        int inside = fabs(lat) <= 90 && fabs(lon) <= 180;
        if (geographic) inside = inside && fabs(row->x) <= 180 + m && fabs(row->y) <= 90 + 1e-9;
        if (inside && known) {
            int lon_ok = w <= e ? (lon >= w - m && lon <= e + m) : (lon >= w - m || lon <= e + m);
            inside = lon_ok && lat >= s - m && lat <= n + m;
        }
        if (!inside) {
            char buf[160];
            snprintf(buf, sizeof buf, " (%.6g, %.6g is lon %.4f lat %.4f; area of use lon %.2f..%.2f lat %.2f..%.2f)",
                     row->x, row->y, lon, lat, w, e, s, n);
            if (geographic) snprintf(buf, sizeof buf, " (lon %.6g lat %.6g; area of use lon %.2f..%.2f lat %.2f..%.2f)",
                                     row->x, row->y, w, e, s, n);
            /* (PROJ gives some lon/lat for 1e300: naming it said "lon -174.6983 lat -52.4232") */
            else if (!(fabs(row->x) < 1e9 && fabs(row->y) < 1e9))
                snprintf(buf, sizeof buf, " (%.6g, %.6g: beyond any CRS's extent)", row->x, row->y);
            reject(row, R_OUTSIDE, strdup(buf));
        }
    }
}

/* ---- duplicate ids ---- */

typedef struct id_slot {
    const char *id;
    uint64_t rec; /* row/feature of the first one; UINT64_MAX: read by an earlier stage */
} id_slot;

static ct_status check_duplicates(reader *r, const ct_asset_set *set, int csv_lines) {
    size_t need = set->n + r->nrows + 1, cap = 16;
    while (cap < 2 * need) cap *= 2;
    id_slot *tab = calloc(cap, sizeof *tab);
    if (!tab) return ct_error_nomem(r->ctx, "asset id table");
    for (size_t pass = 0; pass < 2; pass++) {
        size_t n = pass == 0 ? set->n : r->nrows;
        for (size_t i = 0; i < n; i++) {
            const char *id;
            uint64_t rec;
            raw_row *w = NULL;
            if (pass == 0) {
                id = set->items[i].id;
                rec = UINT64_MAX;
            } else {
                w = &r->rows[i];
                if (w->why) continue;
                id = w->id;
                rec = csv_lines ? r->csv.line[w->fid - 1] : w->fid;
            }
            size_t h = (size_t)ct_fnv1a_str(id) & (cap - 1);
            while (tab[h].id && strcmp(tab[h].id, id) != 0) h = (h + 1) & (cap - 1);
            if (!tab[h].id) {
                tab[h].id = id;
                tab[h].rec = rec;
            } else if (w) {
                char buf[200];
                char shown[64];
                snprintf(shown, sizeof shown, "%s", id);
                if (tab[h].rec == UINT64_MAX)
                    snprintf(buf, sizeof buf, " '%s' (already read by an earlier stage; id_field or id_prefix keeps "
                             "the sources apart)", shown);
                else
                    snprintf(buf, sizeof buf, " '%s' (first at %s %llu)", shown, csv_lines ? "row" : "feature",
                             (unsigned long long)tab[h].rec);
                reject(w, R_DUP_ID, strdup(buf));
            }
        }
    }
    free(tab);
    return CT_OK;
}

/* ---- the whole read ---- */

static ct_status append_rows(reader *r, ct_asset_set *set, OGRFeatureDefnH defn, int csv_lines, uint64_t *kept) {
    ct_context *ctx = r->ctx;
    for (size_t k = 0; k < r->nmaps; k++) {
        const char *name = OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, r->maps[k].src));
        ct_status st = ct_asset_set_add_attr(ctx, set, name, r->maps[k].type, &r->maps[k].dst);
        if (st != CT_OK) return st;
    }
    *kept = 0;
    uint64_t not_utf8 = 0, first_not_utf8 = 0, not_finite = 0, first_not_finite = 0;
    for (size_t i = 0; i < r->nrows; i++) {
        raw_row *w = &r->rows[i];
        uint64_t rec = csv_lines ? r->csv.line[w->fid - 1] : w->fid;
        if (w->not_utf8 && !w->why && not_utf8++ == 0) first_not_utf8 = rec;
        if (w->not_finite && !w->why && not_finite++ == 0) first_not_finite = rec;
        if (w->why) {
            ct_log(ctx, CT_LOG_WARN, "%s: %s %llu: skipped: %s%s", r->o->path, csv_lines ? "row" : "feature",
                   (unsigned long long)rec, w->why, w->detail ? w->detail : "");
            ct_status st = ct_asset_set_count_skip(ctx, set, w->why);
            if (st != CT_OK) return st;
            continue;
        }
        ct_asset *a = NULL;
        ct_status st = ct_asset_set_append(ctx, set, &a);
        if (st != CT_OK) return st;
        a->source_record = rec;
        if (csv_lines) a->flags |= CT_ASSET_FROM_ROW;
        a->x = w->x;
        a->y = w->y;
        if (!isnan(w->z)) {
            a->z = w->z;
            a->flags |= CT_ASSET_Z_GIVEN;
        }
        a->height_above_ground = w->hag;
        a->heading = w->heading;
        a->scale = w->scale;
        if (r->o->on_roof) a->flags |= CT_ASSET_ON_ROOF;
        a->id = w->id;
        w->id = NULL;
        free(a->category);
        a->category = w->category;
        w->category = NULL;
        for (size_t k = 0; k < r->nmaps; k++) {
            a->attrs[r->maps[k].dst] = w->vals[k];
            w->vals[k].is_null = 1; /* moved */
        }
        (*kept)++;
    }
    if (not_utf8)
        ct_log(ctx, CT_LOG_WARN, "%s: %llu assets have an id, category or text attribute that is not UTF-8 (first: %s "
               "%llu): its bytes that are not were read as Latin-1 (tile metadata must be UTF-8); save the file as UTF-8 "
               "if it is in another encoding", r->o->path, (unsigned long long)not_utf8, csv_lines ? "row" : "feature",
               (unsigned long long)first_not_utf8);
    if (not_finite)
        ct_log(ctx, CT_LOG_WARN, "%s: %llu assets have a number attribute that is NaN or infinite (first: %s %llu): "
               "written as no data (tile metadata has no such numbers)", r->o->path, (unsigned long long)not_finite,
               csv_lines ? "row" : "feature", (unsigned long long)first_not_finite);
    return CT_OK;
}

ct_status ct_ogr_read_assets(ct_context *ctx, const ct_ogr_assets_options *o, ct_dataset *ds) {
    reader r;
    memset(&r, 0, sizeof r);
    r.ctx = ctx;
    r.o = o;
    r.fid_field = r.fcat = r.fz = r.fh = r.fhead = r.fscale = -1;
    if (!ds->assets) {
        ds->assets = ct_asset_set_create();
        if (!ds->assets) return ct_error_nomem(ctx, "asset set");
    }
    ct_asset_set *set = ds->assets;
    OGRSpatialReferenceH src = NULL, work = NULL, wgs = NULL;
    ct_status st = open_layer(&r);
    OGRFeatureDefnH defn = st == CT_OK ? OGR_L_GetLayerDefn(r.layer) : NULL;
    if (st == CT_OK) st = choose_mode(&r, defn);
    if (st == CT_OK) st = named_field(&r, defn, "id_field", o->id_field, &r.fid_field);
    if (st == CT_OK && !o->id_field) r.fid_field = find_field_ci(defn, "id");
    if (st == CT_OK) st = named_field(&r, defn, "category_field", o->category_field, &r.fcat);
    if (st == CT_OK && !o->category_field && !o->category) r.fcat = find_field_ci(defn, "category");
    if (st == CT_OK) st = named_field(&r, defn, "z_field", o->z_field, &r.fz);
    if (st == CT_OK) st = named_field(&r, defn, "height_field", o->height_field, &r.fh);
    if (st == CT_OK) st = named_field(&r, defn, "heading_field", o->heading_field, &r.fhead);
    if (st == CT_OK) st = named_field(&r, defn, "scale_field", o->scale_field, &r.fscale);
    if (st == CT_OK) st = map_fields(&r, defn);
    if (st == CT_OK && r.is_csv) ct_csv_scan_file(o->path, (size_t)OGR_FD_GetFieldCount(defn), &r.csv);
    if (st == CT_OK) st = read_rows(&r);
    int csv_lines = 0;
    if (st == CT_OK && r.csv.line && r.csv.n == r.nrows) {
        csv_lines = 1;
        for (size_t i = 0; i < r.nrows; i++) csv_lines &= r.rows[i].fid >= 1 && (uint64_t)r.rows[i].fid <= r.csv.n;
    }
    if (st == CT_OK && csv_lines) warn_extra_fields(&r);
    if (st == CT_OK && r.is_csv && !csv_lines)
        ct_log(ctx, CT_LOG_DEBUG, "%s: CSV line numbers not available; rows are named by feature id", o->path);
    if (st == CT_OK) st = infer_types(&r);
    if (st == CT_OK) st = source_srs(&r, &src);
    if (st == CT_OK && !(wgs = ct_ogr_epsg(4326))) st = ct_error(ctx, CT_ERR_INTERNAL, "cannot set up EPSG:4326");
    /* lon/lat for the area check (and the UTM zone when the working CRS is chosen here) */
    if (st == CT_OK) {
        for (size_t i = 0; i < r.nrows; i++) {
            r.rows[i].lon = r.rows[i].x;
            r.rows[i].lat = r.rows[i].y;
        }
        st = transform_rows(&r, src, wgs, 1);
    }
    if (st == CT_OK) check_area(&r, src);
    if (st == CT_OK) st = working_srs(&r, ds, src, &work);
    if (st == CT_OK) st = transform_rows(&r, src, work, 0);
    if (st == CT_OK) st = check_duplicates(&r, set, csv_lines);
    uint64_t kept = 0;
    if (st == CT_OK) st = append_rows(&r, set, defn, csv_lines, &kept);
    if (st == CT_OK) {
        set->input_rows += r.nrows;
        /* One summary line: counts by reason, in order of first appearance (the
         * reasons are the few static strings above, compared by address). */
        const char *why_seen[32];
        size_t why_count[32], nwhy = 0;
        for (size_t i = 0; i < r.nrows; i++) {
            const char *why = r.rows[i].why;
            if (!why) continue;
            size_t j = 0;
            while (j < nwhy && why_seen[j] != why) j++;
            if (j == nwhy && nwhy < 32) {
                why_seen[nwhy] = why;
                why_count[nwhy++] = 0;
            }
            if (j < nwhy) why_count[j]++;
        }
        char reasons[1024] = "";
        size_t used = 0;
        for (size_t j = 0; j < nwhy; j++) {
            int wr = snprintf(reasons + used, sizeof reasons - used, "%s%zu %s", used ? ", " : ": ", why_count[j],
                              why_seen[j]);
            if (wr < 0 || (size_t)wr >= sizeof reasons - used) break;
            used += (size_t)wr;
        }
        ct_log(ctx, CT_LOG_INFO, "%s: assets: %zu read, %llu kept, %llu skipped%s", o->path, r.nrows,
               (unsigned long long)kept, (unsigned long long)(r.nrows - kept), reasons);
        /* An input that gives nothing is worth more than an info line in a batch log. */
        if (r.nrows == 0)
            ct_log(ctx, CT_LOG_WARN, "%s: no asset rows: the layer is empty (a CSV with a header only?)", o->path);
        else if (kept == 0)
            ct_log(ctx, CT_LOG_WARN, "%s: none of its %zu asset rows was kept (every one skipped, see above)", o->path,
                   r.nrows);
    }
    if (src) OSRRelease(src);
    if (work) OSRRelease(work);
    if (wgs) OSRRelease(wgs);
    free_rows(&r);
    free(r.maps);
    ct_csv_scan_free(&r.csv);
    ct_geojson_diag_close(&r.diag);
    if (r.gd) GDALClose(r.gd);
    return st;
}
