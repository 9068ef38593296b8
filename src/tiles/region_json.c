/* Bounding regions for tileset.json: their union and their JSON (explicit and implicit tilesets). */
#include "tiles/region_json.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

#define TWO_PI (2.0 * M_PI)

/* The east end of [w, e] counted on from w (e + 2 pi when the interval crosses). */
static double unwrapped_east(double w, double e) { return e >= w ? e : e + TWO_PI; }

void ct_lon_union(double *west, double *east, double w, double e) {
    double aw = *west, ae = unwrapped_east(*west, *east), be = unwrapped_east(w, e);
    /* [w, e] placed one turn west, as is and one turn east of [*west, *east]: the
     * placement that gives the shortest union wins (as is on a tie). The ends kept are
     * the input values themselves, so no rounding creeps in. */
    double best = INFINITY, bw = *west, bee = *east;
    static const double turns[3] = {0.0, -1.0, 1.0};
    for (int k = 0; k < 3; k++) {
        double sw = w + turns[k] * TWO_PI, se = be + turns[k] * TWO_PI;
        double lo = aw <= sw ? aw : sw, hi = ae >= se ? ae : se;
        if (hi - lo < best) {
            best = hi - lo;
            bw = aw <= sw ? *west : w;
            bee = ae >= se ? *east : e;
        }
    }
    if (best >= TWO_PI) { /* nothing shorter than the whole circle */
        bw = -M_PI;
        bee = M_PI;
    }
    *west = bw;
    *east = bee;
}

void ct_lon_range(const double *lon, size_t n, size_t stride, double *west, double *east) {
    double lo = lon[0], hi = lon[0];
    for (size_t i = 1; i < n; i++) {
        double v = lon[i * stride];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
    }
    *west = lo;
    *east = hi;
    if (hi - lo <= M_PI) return;
    /* Across the antimeridian: negative longitudes count one turn on. */
    double ulo = INFINITY, uhi = -INFINITY, w = lo, e = hi;
    for (size_t i = 0; i < n; i++) {
        double v = lon[i * stride], u = v < 0 ? v + TWO_PI : v;
        if (u < ulo) { ulo = u; w = v; }
        if (u > uhi) { uhi = u; e = v; }
    }
    if (uhi - ulo < hi - lo) {
        *west = w;
        *east = e;
    }
}

/* A flat face whose longest edge is l sags below the ellipsoid its corners stand on, by
 * up to l^2 / 6R (a 2 km building's floor: 0.2 m below its corners), and near a pole an
 * edge passes closer to the pole than its ends (10 m walls 100 m from the South Pole:
 * 0.12 m), or over it. */
void ct_region_hold_faces(double r[6], double l) {
    const double radius = 6335439.0; /* WGS84's smallest radius of curvature */
    r[4] -= l * l / (6 * radius);
    int north = fabs(r[3]) >= fabs(r[1]);
    double rho = radius * cos(north ? r[3] : r[1]); /* distance to the axis at the polar-most corner */
    if (rho <= l / sqrt(3.0)) { /* a face may hold the pole (every point of a triangle is within
                                 * longest edge / sqrt 3 of a corner) */
        if (north) r[3] = M_PI_2;
        else r[1] = -M_PI_2;
        r[0] = -M_PI;
        r[2] = M_PI;
        return;
    }
    double dlat = (rho - sqrt(rho * rho - 0.25 * l * l)) / radius;
    if (north) r[3] = fmin(r[3] + dlat, M_PI_2);
    else r[1] = fmax(r[1] - dlat, -M_PI_2);
}

void ct_region_union(double acc[6], const double r[6], int *first) {
    if (*first) {
        memcpy(acc, r, 6 * sizeof(double));
        *first = 0;
        return;
    }
    ct_lon_union(&acc[0], &acc[2], r[0], r[2]);
    if (r[1] < acc[1]) acc[1] = r[1];
    if (r[3] > acc[3]) acc[3] = r[3];
    if (r[4] < acc[4]) acc[4] = r[4];
    if (r[5] > acc[5]) acc[5] = r[5];
}

json_t *ct_json_reals(const double *v, size_t n) {
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, json_real(v[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

json_t *ct_region_volume(const double region[6]) {
    json_t *bv = json_object();
    if (bv && json_object_set_new(bv, "region", ct_json_reals(region, 6)) != 0) {
        json_decref(bv);
        return NULL;
    }
    return bv;
}
