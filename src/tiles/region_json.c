/* Bounding regions for tileset.json: their union and their JSON (explicit and implicit tilesets). */
#include "tiles/region_json.h"

#include <jansson.h>
#include <string.h>

void ct_region_union(double acc[6], const double r[6], int *first) {
    if (*first) {
        memcpy(acc, r, 6 * sizeof(double));
        *first = 0;
        return;
    }
    for (int k = 0; k < 2; k++) if (r[k] < acc[k]) acc[k] = r[k];
    for (int k = 2; k < 4; k++) if (r[k] > acc[k]) acc[k] = r[k];
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
