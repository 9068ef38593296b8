/* citytiler — ground height at a point, interpolated from ground samples around it.
 *
 * Two layers, so that another ground source can be added without touching the
 * interpolation: ct_ground_interpolate works on any set of samples (dx, dy, z) around
 * the query point; ct_ground_at gathers them from the binned LiDAR (ground classes).
 * A DTM raster would gather its cell centres (ct_raster_read_cells) into the same
 * samples and call ct_ground_interpolate. */
#ifndef CITYTILER_GROUND_H
#define CITYTILER_GROUND_H

#include <stddef.h>
#include <stdint.h>
#include "citytiler/points.h"

typedef enum ct_ground_method {
    CT_GROUND_PLANE = 0, /* least-squares plane through the k nearest samples, evaluated at the point */
    CT_GROUND_IDW        /* inverse-distance (power 2) weighting of the k nearest samples */
} ct_ground_method;

typedef struct ct_ground_params {
    ct_ground_method method;
    double radius;       /* first search radius (m) */
    double max_radius;   /* the radius doubles, up to this, until k samples are found (m) */
    uint32_t k;          /* nearest samples used (>= 3) */
    uint32_t min_points; /* fewer samples within max_radius: no estimate (>= 1) */
    uint8_t ground_class[256]; /* nonzero: the class counts as ground */
} ct_ground_params;

/* Fills defaults: plane, radius 1, max_radius 8, k 12, min_points 3, class 2. */
void ct_ground_params_default(ct_ground_params *p);

/* One sample, relative to the query point. */
typedef struct ct_ground_sample {
    double dx, dy, z, d2; /* d2 = dx² + dy² */
} ct_ground_sample;

typedef struct ct_ground_result {
    double z;          /* NaN when fewer than min_points samples within max_radius */
    uint32_t points;   /* samples used */
    double radius;     /* search radius that gave them */
    double nearest;    /* distance to the nearest sample (m); NaN when none */
    double rms;        /* plane: rms residual of the fit; IDW: NaN */
    int used_plane;    /* 1 when the plane was used (0: IDW, also as fallback) */
} ct_ground_result;

/* Reusable per-thread buffers. Zero-initialise; free with ct_ground_scratch_free. */
typedef struct ct_ground_scratch {
    ct_span_list spans;
    ct_ground_sample *s;
    size_t n, cap;
} ct_ground_scratch;
void ct_ground_scratch_free(ct_ground_scratch *s);

/* Interpolates the ground at (0, 0) from samples s[0..n-1] (overwritten: the k nearest
 * come first, nearest first). Plane: when the k nearest are too close to collinear (smallest spread
 * below 0.2 m) or fewer than 3, IDW is used instead; the plane's value is kept within
 * 1 m of the samples' z range, so that extrapolating never runs away. Deterministic:
 * ties in distance are broken by position and z. */
void ct_ground_interpolate(const ct_ground_params *p, ct_ground_sample *s, size_t n, ct_ground_result *out);

/* Ground at (x, y) (working CRS) from the ground-class points of `store`: points within
 * the radius (doubling up to max_radius until k are found), then ct_ground_interpolate.
 * Thread-safe for distinct scratch after ct_point_store_index. Returns CT_ERR_NOMEM
 * (no message) when a buffer cannot grow, CT_ERR_USAGE when a needed cell is on disk
 * and not loaded. */
ct_status ct_ground_at(const ct_point_store *store, double x, double y, const ct_ground_params *p,
                       ct_ground_scratch *scratch, ct_ground_result *out);

/* Sets *covered to 1 when a point of any class lies within `radius` of (x, y): the
 * location is inside the LiDAR coverage (a point under a roof counts; beyond the edge of
 * the data, or in a hole of it, there is none). Same threading and errors as ct_ground_at. */
ct_status ct_points_cover(const ct_point_store *store, double x, double y, double radius, ct_ground_scratch *scratch,
                          int *covered);

#endif
