/* libFuzzer target over the GeoJSON geometry checker (ct_geojson_geometry_problem: what
 * is wrong with a geometry GDAL dropped), on any JSON value, with a message buffer of 200
 * bytes and of 8 (a message cut short must stay a terminated string). Built as
 * geojson_geometry_fuzz (CT_FUZZ=ON) and as geojson_geometry_replay (ctest
 * fuzz.geojson_geometry_replay, over corpus-geojson/). */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/geojson_geometry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (!j) return 0;
    char why[200] = "", small[8] = "";
    ct_geojson_geometry_problem(j, why, sizeof why);
    if (strnlen(why, sizeof why) == sizeof why) abort(); /* not terminated */
    ct_geojson_geometry_problem(j, small, sizeof small);
    if (strnlen(small, sizeof small) == sizeof small) abort();
    json_decref(j);
    return 0;
}
