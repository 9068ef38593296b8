/* Internal: bounding regions as tileset.json writes them (3D Tiles `region`: west, south,
 * east, north in radians, then minimum and maximum height in metres). */
#ifndef CT_TILES_REGION_JSON_H
#define CT_TILES_REGION_JSON_H

#include <stddef.h>

struct json_t;

/* acc becomes the union of acc and r; when *first, acc becomes r and *first 0. */
void ct_region_union(double acc[6], const double r[6], int *first);

/* A JSON array of the n numbers v (reals), or NULL when out of memory. */
struct json_t *ct_json_reals(const double *v, size_t n);

/* A boundingVolume {"region": [six reals]}, or NULL when out of memory. */
struct json_t *ct_region_volume(const double region[6]);

#endif
