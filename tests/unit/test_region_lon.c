/* Longitude intervals of bounding regions (tiles/region_json.h): across the antimeridian
 * a union or a range is the short interval with west > east, not a band around the
 * globe; away from it the plain minimum and maximum, bit for bit (the bytes of every
 * existing tileset stay the same). */
#include <math.h>
#include <string.h>

#include "ct_test.h"
#include "tiles/region_json.h"

static const double PI = M_PI;

static void test_union(void) {
    /* Plain: the old min/max, exactly. */
    double w = 0.0761, e = 0.0762;
    ct_lon_union(&w, &e, 0.07605, 0.07615);
    CT_CHECK(w == 0.07605 && e == 0.0762);
    /* Two sides of the antimeridian: the 2e-5 rad between them, west > east. */
    w = 3.14155;
    e = 3.14158;
    ct_lon_union(&w, &e, -3.14158, -3.14156);
    CT_CHECK_MSG(w == 3.14155 && e == -3.14156, "[%.9g, %.9g]", w, e);
    /* A crossing interval taking a plain one from either side. */
    ct_lon_union(&w, &e, 3.1415, 3.1416);
    CT_CHECK_MSG(w == 3.1415 && e == -3.14156, "[%.9g, %.9g]", w, e);
    ct_lon_union(&w, &e, -3.14, -3.13);
    CT_CHECK_MSG(w == 3.1415 && e == -3.13, "[%.9g, %.9g]", w, e);
    /* One inside the other stays the outer. */
    ct_lon_union(&w, &e, 3.1416, -3.1416);
    CT_CHECK_MSG(w == 3.1415 && e == -3.13, "[%.9g, %.9g]", w, e);
    /* Nothing shorter than the circle: the whole of it. */
    w = -3.0;
    e = 0.5;
    ct_lon_union(&w, &e, 0.0, -2.9);
    CT_CHECK_MSG(w == -PI && e == PI, "[%.9g, %.9g]", w, e);
    /* Regions: latitude and heights as before. */
    double acc[6] = {3.14155, -0.3, 3.14158, -0.2, 1, 5}, r[6] = {-3.14158, -0.4, -3.14157, -0.25, -7, 3};
    int first = 0;
    ct_region_union(acc, r, &first);
    const double want[6] = {3.14155, -0.4, -3.14157, -0.2, -7, 5};
    CT_CHECK(memcmp(acc, want, sizeof want) == 0);
}

static void test_range(void) {
    const double plain[4] = {0.5, 0.1, 0.3, 0.2};
    double w, e;
    ct_lon_range(plain, 4, 1, &w, &e);
    CT_CHECK(w == 0.1 && e == 0.5);
    /* Stride 3 (lon, lat, h): the town across the antimeridian. */
    const double pts[12] = {3.14158, 0, 0, -3.14157, 0, 0, 3.14156, 0, 0, -3.14159, 0, 0};
    ct_lon_range(pts, 4, 3, &w, &e);
    CT_CHECK_MSG(w == 3.14156 && e == -3.14157, "[%.9g, %.9g]", w, e);
    /* Spread over more than half the globe without a shorter way round: min/max. */
    const double wide[3] = {-2.0, 0.0, 2.0};
    ct_lon_range(wide, 3, 1, &w, &e);
    CT_CHECK(w == -2.0 && e == 2.0);
    /* More than pi apart but shorter across: -3 and 2 are 1.28 rad apart that way. */
    const double across[2] = {-3.0, 2.0};
    ct_lon_range(across, 2, 1, &w, &e);
    CT_CHECK(w == 2.0 && e == -3.0);
}

int main(void) {
    test_union();
    test_range();
    return ct_test_finish("test_region_lon");
}
