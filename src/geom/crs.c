/* PROJ wrappers. Each ct_geo_transform owns a PJ_CONTEXT so threads never share one. */
#include "citytiler/crs.h"

#include <math.h>
#include <proj.h>
#include <proj_experimental.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct ct_geo_transform {
    PJ_CONTEXT *pj_ctx;
    PJ *to_geodetic; /* working CRS -> EPSG:4979, lon/lat order */
    PJ *to_ecef;     /* working CRS -> EPSG:4978, made on first use (the writer never needs it,
                      * and PROJ's search for it cost as much as for to_geodetic) */
    char *ecef_src;  /* the CRS to_ecef starts from */
    PJ *geoid;       /* vgridshift adding the undulation (radians in), or NULL */
    char proj_error[256]; /* PROJ's last error message (its own printing to stderr broke
                           * the JSON log lines), for ours */
};

/* PROJ's log: its errors kept for our messages (user: a char[256]), nothing printed. */
static void keep_proj_error(void *user, int level, const char *msg) {
    if (level == PJ_LOG_ERROR && msg) snprintf((char *)user, 256, "%s", msg);
}

static PJ_CONTEXT *new_context(char *proj_error) {
    PJ_CONTEXT *c = proj_context_create();
    if (c) proj_log_func(c, proj_error, keep_proj_error);
    return c;
}

static PJ *make_op(PJ_CONTEXT *c, const char *src, const char *dst) {
    PJ *raw = proj_create_crs_to_crs(c, src, dst, NULL);
    if (!raw) return NULL;
    PJ *norm = proj_normalize_for_visualization(c, raw);
    proj_destroy(raw);
    return norm;
}

ct_status ct_geo_transform_create(ct_context *ctx, const char *src_crs, ct_geo_transform **out) {
    ct_geo_options o = {NULL, NULL, CT_GEOID_NEVER, {0, 0}};
    return ct_geo_transform_create_ex(ctx, src_crs, &o, out);
}

int ct_geo_transform_uses_geoid(const ct_geo_transform *t) { return t->geoid != NULL; }

int ct_geo_transform_operation(ct_geo_transform *t, const double probe[2], char *name, size_t size, double *accuracy) {
    PJ_COORD c = proj_trans(t->to_geodetic, PJ_FWD, proj_coord(probe[0], probe[1], 0, 0));
    if (!isfinite(c.v[0]) || c.v[0] == HUGE_VAL) return 0;
    /* (a PJ of alternatives: the one chosen for the probe; else the operation itself) */
    PJ *used = proj_trans_get_last_used_operation(t->to_geodetic);
    const PJ *op = used ? used : t->to_geodetic;
    const char *n = proj_get_name(op);
    snprintf(name, size, "%s", n ? n : "an unnamed operation");
    *accuracy = proj_coordoperation_get_accuracy(t->pj_ctx, op);
    proj_destroy(used);
    return 1;
}

/* Metres per unit of axis `axis` of crs's coordinate system, 0 when unknown; its name
 * goes into name[size] when name is not NULL. */
static double axis_unit(PJ_CONTEXT *c, const PJ *crs, int axis, char *name, size_t size) {
    PJ *cs = proj_crs_get_coordinate_system(c, crs);
    double f = 0;
    const char *unit = NULL;
    if (!cs || axis >= proj_cs_get_axis_count(c, cs) ||
        !proj_cs_get_axis_info(c, cs, axis, NULL, NULL, NULL, &f, &unit, NULL, NULL))
        f = 0;
    if (name) snprintf(name, size, "%s", unit && f > 0 ? unit : "unknown");
    proj_destroy(cs); /* (unit belongs to cs) */
    return f;
}

/* v itself when its heights are in metres, else the same vertical CRS (datum, name) with
 * the metre as its unit: the heights of the pipeline are metres (readers.lidar converts
 * z in feet), and PROJ finds the same operations for it (it carries no EPSG code that
 * would bring back the unit change). NULL (v destroyed) when PROJ cannot make it. */
static PJ *vertical_in_metres(PJ_CONTEXT *c, PJ *v) {
    double f = axis_unit(c, v, 0, NULL, 0);
    if (f == 1.0) return v;
    PJ *m = proj_crs_alter_cs_linear_unit(c, v, "metre", 1.0, "EPSG", "9001");
    proj_destroy(v);
    return m;
}

/* The vertical CRS def names, or a compound's vertical part; NULL when it has none. */
static PJ *vertical_part(PJ_CONTEXT *c, const char *def) {
    PJ *v = proj_create(c, def);
    if (v && proj_get_type(v) == PJ_TYPE_COMPOUND_CRS) {
        PJ *sub = proj_crs_get_sub_crs(c, v, 1);
        proj_destroy(v);
        v = sub;
    }
    if (v && proj_get_type(v) != PJ_TYPE_VERTICAL_CRS) {
        proj_destroy(v);
        v = NULL;
    }
    return v;
}

/* The compound of the working CRS and the heights' vertical CRS (in metres), as PROJ text. */
static PJ *compound_crs(PJ_CONTEXT *c, const char *horiz, const char *vert) {
    PJ *h = proj_create(c, horiz), *v = vertical_part(c, vert), *cc = NULL;
    if (v) v = vertical_in_metres(c, v);
    if (h && v) cc = proj_create_compound_crs(c, "working CRS + heights", h, v);
    proj_destroy(h);
    proj_destroy(v);
    return cc;
}

/* 1 when `op` leaves heights unchanged at the probe point (a ballpark vertical step). */
static int is_ballpark(PJ *op, const double probe[2]) {
    PJ_COORD in = proj_coord(probe[0], probe[1], 0.0, 0.0);
    PJ_COORD out = proj_trans(op, PJ_FWD, in);
    return isfinite(out.xyz.z) && fabs(out.xyz.z) < 1e-6;
}

/* The step adding the undulations of geoid grid `grid` to heights (radians in), or NULL. */
static PJ *geoid_op(PJ_CONTEXT *c, const char *grid) {
    char def[512];
    snprintf(def, sizeof def, "+proj=vgridshift +grids=%s +multiplier=1", grid);
    return proj_create(c, def);
}

int ct_crs_vertical_name(const char *def, char *name, size_t size) {
    PJ_CONTEXT *c = proj_context_create();
    if (!c) return 0;
    proj_log_level(c, PJ_LOG_NONE);
    PJ *v = vertical_part(c, def);
    const char *n = v ? proj_get_name(v) : NULL;
    if (name && size) snprintf(name, size, "%s", n ? n : "");
    int found = v != NULL;
    proj_destroy(v);
    proj_context_destroy(c);
    return found;
}

int ct_crs_has_vertical(const char *def) { return ct_crs_vertical_name(def, NULL, 0); }

ct_status ct_geo_transform_create_ex(ct_context *ctx, const char *src_crs, const ct_geo_options *o,
                                     ct_geo_transform **out) {
    *out = NULL;
    ct_geo_transform *t = calloc(1, sizeof *t);
    if (!t) return ct_error_nomem(ctx, "CRS transform");
    t->pj_ctx = new_context(t->proj_error);
    if (!t->pj_ctx) {
        free(t);
        return ct_error_nomem(ctx, "PROJ context");
    }
    const char *src = src_crs;
    char *wkt = NULL;
    if (o->vertical_crs) {
        PJ *cc = compound_crs(t->pj_ctx, src_crs, o->vertical_crs);
        const char *text = cc ? proj_as_wkt(t->pj_ctx, cc, PJ_WKT2_2019, NULL) : NULL;
        wkt = text ? strdup(text) : NULL;
        proj_destroy(cc);
        if (!wkt) {
            ct_status st = ct_error(ctx, CT_ERR_INPUT, "PROJ cannot combine the working CRS with the vertical CRS '%s'%s%s",
                                    o->vertical_crs, t->proj_error[0] ? ": " : "", t->proj_error);
            ct_geo_transform_destroy(t);
            return st;
        }
        src = wkt;
    }
    t->to_geodetic = make_op(t->pj_ctx, src, "EPSG:4979");
    t->ecef_src = strdup(src);
    /* PROJ's ballpark for a compound CRS (no grid for its vertical datum) is ballpark in
     * the horizontal too: for EPSG:28992+5709 it dropped the Amersfoort datum shift, and
     * with geoid "none" the city came out 108 m north of where it is. So whenever the
     * heights' step is a ballpark, the horizontal-only operations are used (heights
     * unchanged), and the geoid is added to them unless the mode says never. */
    int ballpark = o->vertical_crs && t->to_geodetic && is_ballpark(t->to_geodetic, o->probe);
    int want_geoid = o->geoid_mode == CT_GEOID_FORCE || (o->geoid_mode == CT_GEOID_AUTO && ballpark);
    if ((ballpark || want_geoid) && t->to_geodetic) {
        proj_destroy(t->to_geodetic);
        t->to_geodetic = make_op(t->pj_ctx, src_crs, "EPSG:4979");
        free(t->ecef_src);
        t->ecef_src = strdup(src_crs);
    }
    if (want_geoid && t->to_geodetic) {
        t->geoid = geoid_op(t->pj_ctx, o->geoid_grid ? o->geoid_grid : "egm96_15.gtx");
        if (!t->geoid) {
            free(wkt);
            ct_status st = ct_error(ctx, CT_ERR_INPUT, "PROJ cannot load the geoid grid '%s' (install proj-data)",
                                    o->geoid_grid ? o->geoid_grid : "egm96_15.gtx");
            ct_geo_transform_destroy(t);
            return st;
        }
    }
    free(wkt);
    if (!t->ecef_src) {
        ct_geo_transform_destroy(t);
        return ct_error_nomem(ctx, "CRS transform");
    }
    if (!t->to_geodetic) {
        int err = proj_context_errno(t->pj_ctx);
        ct_status st = ct_error(ctx, CT_ERR_INPUT, "PROJ cannot transform from the working CRS to WGS84: %s",
                                proj_context_errno_string(t->pj_ctx, err));
        ct_geo_transform_destroy(t);
        return st;
    }
    *out = t;
    return CT_OK;
}

ct_status ct_geo_transform_clone(ct_context *ctx, const ct_geo_transform *t, ct_geo_transform **out) {
    *out = NULL;
    ct_geo_transform *c = calloc(1, sizeof *c);
    if (!c) return ct_error_nomem(ctx, "CRS transform");
    c->pj_ctx = new_context(c->proj_error);
    if (c->pj_ctx) {
        c->to_geodetic = proj_clone(c->pj_ctx, t->to_geodetic);
        if (t->to_ecef) c->to_ecef = proj_clone(c->pj_ctx, t->to_ecef);
        if (t->geoid) c->geoid = proj_clone(c->pj_ctx, t->geoid);
        c->ecef_src = strdup(t->ecef_src);
    }
    if (!c->pj_ctx || !c->to_geodetic || (t->to_ecef && !c->to_ecef) || (t->geoid && !c->geoid) || !c->ecef_src) {
        const char *why = c->pj_ctx ? proj_context_errno_string(c->pj_ctx, proj_context_errno(c->pj_ctx)) : NULL;
        ct_status st = ct_error(ctx, CT_ERR_INTERNAL, "PROJ cannot copy the transformation to WGS84%s%s", why ? ": " : "",
                                why ? why : "");
        ct_geo_transform_destroy(c);
        return st;
    }
    *out = c;
    return CT_OK;
}

int ct_geoid_grid_available(const char *grid) {
    PJ_CONTEXT *c = proj_context_create();
    if (!c) return 0;
    proj_log_level(c, PJ_LOG_NONE);
    PJ *g = geoid_op(c, grid);
    proj_destroy(g);
    proj_context_destroy(c);
    return g != NULL;
}

void ct_geo_transform_destroy(ct_geo_transform *t) {
    if (!t) return;
    proj_destroy(t->to_geodetic);
    proj_destroy(t->to_ecef);
    proj_destroy(t->geoid);
    proj_context_destroy(t->pj_ctx);
    free(t->ecef_src);
    free(t);
}

static ct_status run(ct_context *ctx, ct_geo_transform *t, PJ *op, PJ_DIRECTION dir, double *x,
                     double *y, double *z, size_t stride, size_t n) {
    size_t bytes = stride * sizeof(double);
    proj_errno_reset(op);
    size_t done = proj_trans_generic(op, dir, x, bytes, n, y, bytes, n, z, bytes, n, NULL, 0, 0);
    int err = proj_errno(op);
    if (done != n || err) {
        return ct_error(ctx, CT_ERR_INPUT, "PROJ transformation failed for %zu of %zu points: %s", n - done, n,
                        proj_context_errno_string(t->pj_ctx, err));
    }
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i * stride]) || !isfinite(y[i * stride]) || !isfinite(z[i * stride]))
            return ct_error(ctx, CT_ERR_INPUT, "PROJ transformation gave a non-finite coordinate (point %zu)", i);
    return CT_OK;
}

ct_status ct_geo_to_geodetic(ct_context *ctx, ct_geo_transform *t, double *x, double *y, double *z,
                             size_t stride, size_t n) {
    ct_status st = run(ctx, t, t->to_geodetic, PJ_FWD, x, y, z, stride, n);
    if (st != CT_OK) return st;
    for (size_t i = 0; i < n; i++) {
        x[i * stride] *= M_PI / 180.0;
        y[i * stride] *= M_PI / 180.0;
    }
    if (t->geoid) st = run(ctx, t, t->geoid, PJ_FWD, x, y, z, stride, n);
    return st;
}

ct_status ct_geo_from_geodetic(ct_context *ctx, ct_geo_transform *t, double *x, double *y, double *z,
                               size_t stride, size_t n) {
    if (t->geoid) {
        ct_status st = run(ctx, t, t->geoid, PJ_INV, x, y, z, stride, n);
        if (st != CT_OK) return st;
    }
    for (size_t i = 0; i < n; i++) {
        x[i * stride] *= 180.0 / M_PI;
        y[i * stride] *= 180.0 / M_PI;
    }
    return run(ctx, t, t->to_geodetic, PJ_INV, x, y, z, stride, n);
}

/* to_ecef, made on first use. */
static ct_status need_ecef(ct_context *ctx, ct_geo_transform *t) {
    if (!t->to_ecef) t->to_ecef = make_op(t->pj_ctx, t->ecef_src, "EPSG:4978");
    if (!t->to_ecef)
        return ct_error(ctx, CT_ERR_INPUT, "PROJ cannot transform from the working CRS to ECEF: %s",
                        proj_context_errno_string(t->pj_ctx, proj_context_errno(t->pj_ctx)));
    return CT_OK;
}

ct_status ct_geo_to_ecef(ct_context *ctx, ct_geo_transform *t, double *x, double *y, double *z,
                         size_t stride, size_t n) {
    if (!t->geoid) {
        ct_status st = need_ecef(ctx, t);
        return st != CT_OK ? st : run(ctx, t, t->to_ecef, PJ_FWD, x, y, z, stride, n);
    }
    ct_status st = ct_geo_to_geodetic(ctx, t, x, y, z, stride, n);
    for (size_t i = 0; st == CT_OK && i < n; i++) {
        double e[3];
        ct_geodetic_to_ecef(x[i * stride], y[i * stride], z[i * stride], e);
        x[i * stride] = e[0];
        y[i * stride] = e[1];
        z[i * stride] = e[2];
    }
    return st;
}

ct_status ct_geo_from_ecef(ct_context *ctx, ct_geo_transform *t, double *x, double *y, double *z,
                           size_t stride, size_t n) {
    ct_status st = need_ecef(ctx, t);
    return st != CT_OK ? st : run(ctx, t, t->to_ecef, PJ_INV, x, y, z, stride, n);
}

/* WGS84 ellipsoid. */
static const double WGS84_A = 6378137.0;
static const double WGS84_F = 1.0 / 298.257223563;
#define WGS84_E2 (WGS84_F * (2.0 - WGS84_F))

void ct_geodetic_to_ecef(double lon, double lat, double h, double out[3]) {
    double s = sin(lat), c = cos(lat);
    double n = WGS84_A / sqrt(1.0 - WGS84_E2 * s * s);
    out[0] = (n + h) * c * cos(lon);
    out[1] = (n + h) * c * sin(lon);
    out[2] = (n * (1.0 - WGS84_E2) + h) * s;
}

void ct_enu_to_ecef_matrix(double lon, double lat, double h, double m[16]) {
    double sl = sin(lon), cl = cos(lon), sp = sin(lat), cp = cos(lat);
    double o[3];
    ct_geodetic_to_ecef(lon, lat, h, o);
    /* Columns: east, north, up, origin. */
    m[0] = -sl;      m[1] = cl;       m[2] = 0.0;  m[3] = 0.0;
    m[4] = -sp * cl; m[5] = -sp * sl; m[6] = cp;   m[7] = 0.0;
    m[8] = cp * cl;  m[9] = cp * sl;  m[10] = sp;  m[11] = 0.0;
    m[12] = o[0];    m[13] = o[1];    m[14] = o[2]; m[15] = 1.0;
}

/* The CRS's axis carrying heights: the vertical part of a compound, a vertical CRS, the
 * third axis of a 3D CRS; for a 2D projected CRS its easting (assumed); else metres. */
static double height_unit_of(PJ_CONTEXT *c, PJ *crs, ct_height_unit *out) {
    PJ_TYPE t = proj_get_type(crs);
    if (t == PJ_TYPE_BOUND_CRS || t == PJ_TYPE_COMPOUND_CRS) {
        PJ *sub = t == PJ_TYPE_BOUND_CRS ? proj_get_source_crs(c, crs) : proj_crs_get_sub_crs(c, crs, 1);
        double f = sub ? height_unit_of(c, sub, out) : 0;
        proj_destroy(sub);
        return f;
    }
    if (t == PJ_TYPE_VERTICAL_CRS) return axis_unit(c, crs, 0, out->name, sizeof out->name);
    PJ *cs = proj_crs_get_coordinate_system(c, crs);
    int naxes = cs ? proj_cs_get_axis_count(c, cs) : 0;
    proj_destroy(cs);
    if (naxes >= 3) return axis_unit(c, crs, 2, out->name, sizeof out->name);
    if (t == PJ_TYPE_PROJECTED_CRS) {
        out->assumed = 1;
        return axis_unit(c, crs, 0, out->name, sizeof out->name);
    }
    snprintf(out->name, sizeof out->name, "metre");
    return 1.0;
}

ct_status ct_crs_height_unit(ct_context *ctx, const char *crs, ct_height_unit *out) {
    memset(out, 0, sizeof *out);
    PJ_CONTEXT *c = proj_context_create();
    if (!c) return ct_error_nomem(ctx, "PROJ context");
    proj_log_level(c, PJ_LOG_NONE);
    PJ *p = proj_create(c, crs);
    double f = p ? height_unit_of(c, p, out) : 0;
    proj_destroy(p);
    proj_context_destroy(c);
    if (!(f > 0) || !isfinite(f))
        return ct_error(ctx, CT_ERR_INPUT, "PROJ cannot tell the unit of the heights of the CRS '%.80s'", crs);
    out->metres_per_unit = f;
    return CT_OK;
}

/* u matches PROJ unit info entry e by name or short name (any case). */
static int unit_named(const PROJ_UNIT_INFO *e, const char *u) {
    return (e->name && strcasecmp(e->name, u) == 0) || (e->proj_short_name && strcasecmp(e->proj_short_name, u) == 0);
}

/* The spellings of `name` to look up, in order: as given; with '_' as ' ' (and "meter",
 * "ftUS" as PROJ spells them); that singular. */
static int unit_spellings(const char *name, char out[3][96]) {
    size_t len = strlen(name);
    if (len == 0 || len >= 90) return 0;
    memcpy(out[0], name, len + 1);
    char *s = out[1];
    memcpy(s, name, len + 1);
    for (char *c = s; *c; c++)
        if (*c == '_') *c = ' ';
    if (strcasecmp(s, "meter") == 0 || strcasecmp(s, "meters") == 0) memcpy(s, "metre", 6);
    else if (strcasecmp(s, "ftUS") == 0) memcpy(s, "us-ft", 6);
    char *one = out[2];
    size_t l = strlen(s);
    memcpy(one, s, l + 1);
    if (l >= 4 && strcasecmp(one + l - 4, "feet") == 0) memcpy(one + l - 4, "foot", 5);
    else if (l > 1 && (one[l - 1] == 's' || one[l - 1] == 'S')) one[l - 1] = 0;
    return 3;
}

double ct_linear_unit_metres(const char *name) {
    char spell[3][96];
    int ns = name ? unit_spellings(name, spell) : 0;
    if (ns == 0) return 0;
    PJ_CONTEXT *c = proj_context_create();
    if (!c) return 0;
    proj_log_level(c, PJ_LOG_NONE);
    int n = 0;
    PROJ_UNIT_INFO **list = proj_get_units_from_database(c, NULL, "linear", 0, &n);
    double f = 0;
    for (int k = 0; list && k < ns && f == 0; k++)
        for (int i = 0; i < n && f == 0; i++)
            if (unit_named(list[i], spell[k]) && list[i]->conv_factor > 0) f = list[i]->conv_factor;
    proj_unit_list_destroy(list);
    proj_context_destroy(c);
    return f;
}
