/* citytiler — coordinate reference systems through PROJ: working CRS to WGS84
 * geodetic / ECEF, and local east-north-up frames. */
#ifndef CITYTILER_CRS_H
#define CITYTILER_CRS_H

#include <stddef.h>
#include "citytiler/context.h"

/* Transforms from one working CRS to WGS84 (EPSG:4979 lon/lat/h and EPSG:4978 ECEF).
 * Holds its own PJ_CONTEXT: use one per thread. */
typedef struct ct_geo_transform ct_geo_transform;

/* `src_crs` is anything PROJ accepts (WKT, "EPSG:28992", PROJJSON). Heights of a
 * 2D source CRS pass through as ellipsoidal heights. Caller destroys *out. */
ct_status ct_geo_transform_create(ct_context *ctx, const char *src_crs, ct_geo_transform **out);

typedef enum ct_geoid_mode {
    CT_GEOID_AUTO = 0, /* use the geoid grid only when PROJ's own operation is a ballpark one */
    CT_GEOID_FORCE,    /* always: heights + geoid undulation */
    CT_GEOID_NEVER     /* never: PROJ's operation as it is */
} ct_geoid_mode;

typedef struct ct_geo_options {
    const char *vertical_crs; /* CRS of the heights (e.g. "EPSG:5709"); NULL: heights are ellipsoidal.
                               * Heights are metres whatever its unit (EPSG:6360, NAVD88 height
                               * in US feet, is taken as NAVD88 in metres) */
    const char *geoid_grid;   /* PROJ grid of geoid undulations, e.g. "egm96_15.gtx" */
    ct_geoid_mode geoid_mode;
    double probe[2];          /* a point of the data (working CRS) to detect ballpark operations */
} ct_geo_options;

/* Like ct_geo_transform_create, with the heights in `o->vertical_crs`. PROJ falls back
 * silently to a "ballpark" vertical transformation (heights unchanged) when a grid is
 * missing (e.g. NAP with Debian's proj-data): in CT_GEOID_AUTO mode that is detected at
 * o->probe and the geoid grid is applied instead (h = H + N). */
ct_status ct_geo_transform_create_ex(ct_context *ctx, const char *src_crs, const ct_geo_options *o,
                                     ct_geo_transform **out);
/* 1 when the transform adds the geoid grid's undulation to the heights. */
int ct_geo_transform_uses_geoid(const ct_geo_transform *t);
/* The operation PROJ uses from the working CRS to WGS 84 at `probe` (working CRS): its
 * name into name[size] and its accuracy in metres from PROJ's database into *accuracy
 * (negative when unknown: a ballpark one, without a datum shift). Transforms the probe on
 * t (not thread-safe on t). Returns 0 when the probe does not transform. */
int ct_geo_transform_operation(ct_geo_transform *t, const double probe[2], char *name, size_t size, double *accuracy);
/* A copy of t with its own PJ_CONTEXT, for another thread. It skips PROJ's search for
 * the operation (measured: 50 to 150 ms per create with a vertical CRS, about 1 ms per
 * clone), and transforms exactly as t does. Not thread-safe on t: clone serially. */
ct_status ct_geo_transform_clone(ct_context *ctx, const ct_geo_transform *t, ct_geo_transform **out);
void ct_geo_transform_destroy(ct_geo_transform *t);
/* 1 when PROJ finds the geoid grid `grid` (e.g. "egm96_15.gtx") and can use it. */
/* 1 when def names a vertical CRS, or a compound CRS with one (what a writer's
 * vertical_crs may be); PROJ's messages are kept off stderr. */
int ct_crs_has_vertical(const char *def);
/* ct_crs_has_vertical, and the vertical CRS's name (e.g. "NAP height") into name[size]
 * ("" when unnamed). */
int ct_crs_vertical_name(const char *def, char *name, size_t size);
int ct_geoid_grid_available(const char *grid);

/* In place: x, y, z (each `stride` doubles apart, n points) in the working CRS become
 * longitude, latitude (radians) and ellipsoidal height. ctx may be NULL (a probe): a
 * failure then returns CT_ERR_INPUT without a message. */
ct_status ct_geo_to_geodetic(ct_context *ctx, ct_geo_transform *t, double *x, double *y, double *z,
                             size_t stride, size_t n);
/* In place: working CRS -> ECEF metres (EPSG:4978). */
ct_status ct_geo_to_ecef(ct_context *ctx, ct_geo_transform *t, double *x, double *y, double *z,
                         size_t stride, size_t n);
/* In place: ECEF -> working CRS (for checks and tests). */
ct_status ct_geo_from_ecef(ct_context *ctx, ct_geo_transform *t, double *x, double *y, double *z,
                           size_t stride, size_t n);
/* In place: geodetic radians/metres -> working CRS. */
ct_status ct_geo_from_geodetic(ct_context *ctx, ct_geo_transform *t, double *x, double *y, double *z,
                               size_t stride, size_t n);

/* The unit of the heights (z) of a CRS. */
typedef struct ct_height_unit {
    double metres_per_unit; /* 1 for metres, 0.3048006096... for US survey feet */
    char name[64];          /* as PROJ names it: "metre", "US survey foot", ... */
    int assumed;            /* 1: the CRS has no vertical axis (a 2D projected CRS) and the
                             * unit is its easting's (LAS files in feet carry z in feet) */
} ct_height_unit;

/* The unit of the heights of `crs` (anything PROJ accepts): that of the vertical part of a
 * compound CRS, of a vertical CRS or of a 3D CRS's third axis; for a 2D projected CRS its
 * easting's (out->assumed = 1); metres for a 2D geographic CRS. CT_ERR_INPUT when PROJ
 * cannot read it (without a message when ctx is NULL). Heights everywhere after the
 * readers are metres: transforms made with a vertical CRS in another unit take its heights
 * as metres (see ct_geo_options). */
ct_status ct_crs_height_unit(ct_context *ctx, const char *crs, ct_height_unit *out);
/* Metres per unit of the linear unit `name` as PROJ's database names it, by its name or
 * short name, any case ("metre", "m", "foot", "ft", "US survey foot", "us-ft",
 * "decimetre"), also plural ("metres", "feet") or with '_' for ' '; "meter" and "ftUS" are
 * taken for "metre" and "us-ft". 0 when it names none (empty, unknown, not linear). */
double ct_linear_unit_metres(const char *name);

/* The column-major 4x4 matrix mapping a local east-north-up frame with origin at
 * (lon, lat radians, height metres on WGS84) to ECEF. */
void ct_enu_to_ecef_matrix(double lon, double lat, double h, double m[16]);
/* WGS84 geodetic (radians, metres) -> ECEF. */
void ct_geodetic_to_ecef(double lon, double lat, double h, double out[3]);

#endif
