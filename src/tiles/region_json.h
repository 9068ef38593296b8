/* Internal: bounding regions as tileset.json writes them (3D Tiles `region`: west, south,
 * east, north in radians, then minimum and maximum height in metres). */
#ifndef CT_TILES_REGION_JSON_H
#define CT_TILES_REGION_JSON_H

#include <stddef.h>

struct json_t;

/* Longitudes are intervals on the circle: a region whose west is greater than its east
 * crosses the antimeridian (3D Tiles allows it), so a city on both sides of lon ±180 gets
 * a narrow region instead of a band around the globe. */

/* acc becomes the union of acc and r; when *first, acc becomes r and *first 0. The
 * longitude interval is the shortest one holding both (the whole circle [-pi, pi] when
 * none is shorter); when neither crosses the antimeridian and their plain union spans
 * at most pi, it is that union, bit for bit. */
void ct_region_union(double acc[6], const double r[6], int *first);

/* [*west, *east] becomes the shortest longitude interval (radians, each end in
 * [-pi, pi], west > east across the antimeridian) holding both it and [w, e]. */
void ct_lon_union(double *west, double *east, double w, double e);

/* The shortest longitude interval holding the n longitudes lon[0], lon[stride], ...
 * (radians in [-pi, pi], n >= 1): their plain minimum and maximum unless those are more
 * than pi apart and the points fit a shorter interval across the antimeridian. Its ends
 * are input values, bit for bit. */
void ct_lon_range(const double *lon, size_t n, size_t stride, double *west, double *east);

/* r, a region made of the corners of flat faces (triangles, boxes) no two points of which
 * are more than l metres apart, grown to hold the faces themselves: its minimum height
 * drops by their sag below the ellipsoid, its polar-most latitude by how much closer to
 * the pole an edge can pass, and it takes in the pole (all longitudes) when a face may
 * hold it. */
void ct_region_hold_faces(double r[6], double l);

/* A JSON array of the n numbers v (reals), or NULL when out of memory. */
struct json_t *ct_json_reals(const double *v, size_t n);

/* A boundingVolume {"region": [six reals]}, or NULL when out of memory. */
struct json_t *ct_region_volume(const double region[6]);

#endif
