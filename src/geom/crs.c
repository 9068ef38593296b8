/* PROJ wrappers. Each ct_geo_transform owns a PJ_CONTEXT so threads never share one. */
#include "citytiler/crs.h"

#include <math.h>
#include <proj.h>
#include <stdlib.h>

struct ct_geo_transform {
    PJ_CONTEXT *pj_ctx;
    PJ *to_geodetic; /* working CRS -> EPSG:4979, lon/lat order */
    PJ *to_ecef;     /* working CRS -> EPSG:4978 */
};

static PJ *make_op(PJ_CONTEXT *c, const char *src, const char *dst) {
    PJ *raw = proj_create_crs_to_crs(c, src, dst, NULL);
    if (!raw) return NULL;
    PJ *norm = proj_normalize_for_visualization(c, raw);
    proj_destroy(raw);
    return norm;
}

ct_status ct_geo_transform_create(ct_context *ctx, const char *src_crs, ct_geo_transform **out) {
    *out = NULL;
    ct_geo_transform *t = calloc(1, sizeof *t);
    if (!t) return ct_error_nomem(ctx, "CRS transform");
    t->pj_ctx = proj_context_create();
    if (!t->pj_ctx) {
        free(t);
        return ct_error_nomem(ctx, "PROJ context");
    }
    t->to_geodetic = make_op(t->pj_ctx, src_crs, "EPSG:4979");
    t->to_ecef = make_op(t->pj_ctx, src_crs, "EPSG:4978");
    if (!t->to_geodetic || !t->to_ecef) {
        int err = proj_context_errno(t->pj_ctx);
        ct_status st = ct_error(ctx, CT_ERR_INPUT, "PROJ cannot transform from the working CRS to WGS84: %s",
                                proj_context_errno_string(t->pj_ctx, err));
        ct_geo_transform_destroy(t);
        return st;
    }
    *out = t;
    return CT_OK;
}

void ct_geo_transform_destroy(ct_geo_transform *t) {
    if (!t) return;
    proj_destroy(t->to_geodetic);
    proj_destroy(t->to_ecef);
    proj_context_destroy(t->pj_ctx);
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
    return CT_OK;
}

ct_status ct_geo_from_geodetic(ct_context *ctx, ct_geo_transform *t, double *x, double *y, double *z,
                               size_t stride, size_t n) {
    for (size_t i = 0; i < n; i++) {
        x[i * stride] *= 180.0 / M_PI;
        y[i * stride] *= 180.0 / M_PI;
    }
    return run(ctx, t, t->to_geodetic, PJ_INV, x, y, z, stride, n);
}

ct_status ct_geo_to_ecef(ct_context *ctx, ct_geo_transform *t, double *x, double *y, double *z,
                         size_t stride, size_t n) {
    return run(ctx, t, t->to_ecef, PJ_FWD, x, y, z, stride, n);
}

ct_status ct_geo_from_ecef(ct_context *ctx, ct_geo_transform *t, double *x, double *y, double *z,
                           size_t stride, size_t n) {
    return run(ctx, t, t->to_ecef, PJ_INV, x, y, z, stride, n);
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
