/* What ct_geojson_geometry_problem says is wrong with a GeoJSON geometry object. */
#include <jansson.h>
#include <string.h>

#include "ct_test.h"
#include "io/geojson_geometry.h"

/* The answer for the geometry JSON text (NULL: no geometry member). */
static int problem(const char *text, char *why, size_t size) {
    json_t *g = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
    CT_CHECK_MSG(!text || g, "bad test JSON: %s", text);
    int has = ct_geojson_geometry_problem(g, why, size);
    json_decref(g);
    return has;
}

static void expect(const char *text, const char *want) {
    char why[256];
    int has = problem(text, why, sizeof why);
    CT_CHECK_MSG(has == 1 && strcmp(why, want) == 0, "%s: got %d '%s', want '%s'", text, has, why, want);
}

int main(void) {
    char why[256];
    /* No geometry: absent or null. */
    CT_CHECK(problem(NULL, why, sizeof why) == 0 && why[0] == '\0');
    CT_CHECK(problem("null", why, sizeof why) == 0 && why[0] == '\0');
    /* Well-formed but empty (RFC 7946 allows it): no geometry either. */
    CT_CHECK(problem("{\"type\": \"Polygon\", \"coordinates\": []}", why, sizeof why) == 0 && why[0] == '\0');
    CT_CHECK(problem("{\"type\": \"MultiPolygon\", \"coordinates\": [[], []]}", why, sizeof why) == 0);
    CT_CHECK(problem("{\"type\": \"Point\", \"coordinates\": []}", why, sizeof why) == 0 && why[0] == '\0');
    CT_CHECK(problem("{\"type\": \"GeometryCollection\", \"geometries\": []}", why, sizeof why) == 0);
    /* Well-formed ones: a geometry, and no fault found. */
    expect("{\"type\": \"Point\", \"coordinates\": [1, 2]}", "");
    expect("{\"type\": \"Point\", \"coordinates\": [1, 2, 3]}", "");
    expect("{\"type\": \"Polygon\", \"coordinates\": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}", "");
    expect("{\"type\": \"MultiPolygon\", \"coordinates\": [[[[0, 0], [1, 0], [1, 1], [0, 0]]]]}", "");
    expect("{\"type\": \"GeometryCollection\", \"geometries\": [{\"type\": \"LineString\", \"coordinates\": [[0, 0], [1, 1]]}]}", "");
    /* Faults, each named with where it is. */
    expect("{\"type\": \"Polygonn\", \"coordinates\": []}", "\"Polygonn\" is not a GeoJSON geometry type");
    expect("{\"coordinates\": [1, 2]}", "the geometry has no \"type\" string");
    expect("[1, 2]", "the geometry is not a JSON object");
    expect("{\"type\": \"Polygon\"}", "the Polygon has no \"coordinates\"");
    expect("{\"type\": \"Point\", \"coordinates\": [1]}", "Point coordinates: a position needs at least 2 numbers, not 1");
    expect("{\"type\": \"Point\", \"coordinates\": [1, \"2\"]}", "Point coordinates[1]: a coordinate must be a number");
    expect("{\"type\": \"LineString\", \"coordinates\": [[0, 0]]}", "LineString coordinates: needs at least 2 positions, has 1");
    expect("{\"type\": \"Polygon\", \"coordinates\": [[[0, 0], [1, 0], [0, 0]]]}",
           "Polygon coordinates[0]: needs at least 4 positions, has 3");
    expect("{\"type\": \"Polygon\", \"coordinates\": [[0, 0], [1, 0], [1, 1], [0, 0]]}",
           "Polygon coordinates[0][0]: a position must be an array of numbers");
    expect("{\"type\": \"MultiPolygon\", \"coordinates\": [[[[0, 0], [1, 0], [1, 1], [0, 0]]], [[[0, 0], [1], [1, 1], [0, 0]]]]}",
           "MultiPolygon coordinates[1][0][1]: a position needs at least 2 numbers, not 1");
    expect("{\"type\": \"GeometryCollection\", \"geometries\": [{\"type\": \"Point\", \"coordinates\": [null, 1]}]}",
           "Point coordinates[0]: a coordinate must be a number");
    expect("{\"type\": \"GeometryCollection\"}", "a GeometryCollection needs a \"geometries\" array");
    /* A small buffer is cut, not overrun (ASan would tell). */
    char small[8];
    CT_CHECK(problem("{\"type\": \"Polygonn\"}", small, sizeof small) == 1 && strlen(small) == sizeof small - 1);
    return ct_test_finish("test_geojson_geometry");
}
