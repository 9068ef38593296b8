/* A cloned transform (what each writer thread uses) transforms every point to the same
 * bits as the transform it was cloned from, with and without the geoid step, and a
 * clone of a clone too; the clone works after the original is destroyed. Geoid "none"
 * keeps the horizontal datum shift. */
#include <math.h>
#include <string.h>

#include "citytiler/crs.h"
#include "ct_test.h"

/* Points around Delft in EPSG:28992 (RD New) with NAP heights. */
static void grid(double *x, double *y, double *z, size_t n) {
    for (size_t i = 0; i < n; i++) {
        x[i] = 84000.0 + 137.25 * (double)(i % 17);
        y[i] = 445000.0 + 211.5 * (double)(i / 17);
        z[i] = -3.0 + 0.75 * (double)(i % 41);
    }
}

static int same_bits(const double *a, const double *b, size_t n) { return memcmp(a, b, n * sizeof *a) == 0; }

static void check_clone(ct_context *ctx, const ct_geo_options *o, int want_geoid) {
    ct_geo_transform *t = NULL, *c = NULL, *cc = NULL;
    CT_CHECK(ct_geo_transform_create_ex(ctx, "EPSG:28992", o, &t) == CT_OK);
    if (!t) return;
    CT_CHECK(ct_geo_transform_uses_geoid(t) == want_geoid);
    CT_CHECK(ct_geo_transform_clone(ctx, t, &c) == CT_OK);
    if (c) CT_CHECK(ct_geo_transform_clone(ctx, c, &cc) == CT_OK);
    enum { N = 17 * 12 };
    double x[3][N], y[3][N], z[3][N], h[N];
    for (int k = 0; k < 3; k++) grid(x[k], y[k], z[k], N);
    memcpy(h, z[0], sizeof h);
    CT_CHECK(ct_geo_to_ecef(ctx, t, x[0], y[0], z[0], 1, N) == CT_OK);
    ct_geo_transform_destroy(t); /* the clones own everything they use */
    if (c) CT_CHECK(ct_geo_to_ecef(ctx, c, x[1], y[1], z[1], 1, N) == CT_OK);
    if (cc) CT_CHECK(ct_geo_to_ecef(ctx, cc, x[2], y[2], z[2], 1, N) == CT_OK);
    for (int k = 1; k < 3; k++) {
        CT_CHECK_MSG(same_bits(x[0], x[k], N) && same_bits(y[0], y[k], N) && same_bits(z[0], z[k], N),
                     "clone %d: ECEF differs from the original's", k);
    }
    /* ECEF of a point near Delft: about 3.9e6, 0.3e6, 5.0e6 m. */
    CT_CHECK_NEAR(x[0][0], 3.92e6, 0.02e6);
    CT_CHECK(isfinite(z[0][N - 1]));
    /* Back to geodetic with the clone: the heights show whether the geoid was added
     * (EGM96 near Delft: about 47 m) or not. */
    if (c) {
        double gx[N], gy[N], gz[N];
        grid(gx, gy, gz, N);
        CT_CHECK(ct_geo_to_geodetic(ctx, c, gx, gy, gz, 1, N) == CT_OK);
        double dz = gz[0] - h[0];
        if (want_geoid) CT_CHECK_MSG(dz > 40.0 && dz < 50.0, "undulation %.3f", dz);
        else if (!o->vertical_crs) CT_CHECK_MSG(fabs(dz) < 1e-6, "heights changed by %.3f", dz);
    }
    ct_geo_transform_destroy(c);
    ct_geo_transform_destroy(cc);
}

/* ECEF of the grid through t; 0 when it fails. */
static int grid_ecef(ct_context *ctx, ct_geo_transform *t, double *x, double *y, double *z, size_t n) {
    grid(x, y, z, n);
    return ct_geo_to_ecef(ctx, t, x, y, z, 1, n) == CT_OK;
}

/* Geoid "none" with a vertical CRS PROJ has no grid for (NAP here): PROJ's ballpark for
 * the compound CRS dropped the horizontal datum shift too, and the city moved 108 m. The
 * points must land where the horizontal CRS alone puts them, heights unchanged. */
static void check_never_keeps_datum(ct_context *ctx) {
    ct_geo_options never = {"EPSG:5709", "egm96_15.gtx", CT_GEOID_NEVER, {85000.0, 446000.0}};
    ct_geo_options plain = {NULL, NULL, CT_GEOID_NEVER, {85000.0, 446000.0}};
    ct_geo_transform *a = NULL, *b = NULL;
    CT_CHECK(ct_geo_transform_create_ex(ctx, "EPSG:28992", &never, &a) == CT_OK);
    CT_CHECK(ct_geo_transform_create_ex(ctx, "EPSG:28992", &plain, &b) == CT_OK);
    if (a && b) {
        CT_CHECK(!ct_geo_transform_uses_geoid(a));
        enum { N = 17 * 3 };
        double x[2][N], y[2][N], z[2][N];
        CT_CHECK(grid_ecef(ctx, a, x[0], y[0], z[0], N) && grid_ecef(ctx, b, x[1], y[1], z[1], N));
        double worst = 0;
        for (size_t i = 0; i < N; i++)
            worst = fmax(worst, fmax(fabs(x[0][i] - x[1][i]), fmax(fabs(y[0][i] - y[1][i]), fabs(z[0][i] - z[1][i]))));
        CT_CHECK_MSG(worst < 0.01, "geoid none: %.3f m from where the horizontal CRS puts the points", worst);
    }
    ct_geo_transform_destroy(a);
    ct_geo_transform_destroy(b);
}

/* The unit of a CRS's heights: the vertical part's, or (2D projected) the easting's. */
static void check_height_units(ct_context *ctx) {
    static const struct { const char *crs; double f; int assumed; const char *name; } cases[] = {
        {"EPSG:2263+6360", 1200.0 / 3937.0, 0, "US survey foot"}, /* NY Long Island ftUS + NAVD88 ftUS */
        {"EPSG:2263+5703", 1.0, 0, "metre"},                        /* feet x, y; metre heights */
        {"EPSG:6360", 1200.0 / 3937.0, 0, "US survey foot"},
        {"EPSG:2263", 1200.0 / 3937.0, 1, "US survey foot"},       /* no vertical CRS: assumed */
        {"EPSG:28992+5709", 1.0, 0, "metre"},
        {"EPSG:28992", 1.0, 1, "metre"},
        {"EPSG:4326", 1.0, 0, "metre"},
        {"EPSG:4979", 1.0, 0, "metre"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ct_height_unit u;
        CT_CHECK_MSG(ct_crs_height_unit(ctx, cases[i].crs, &u) == CT_OK, "%s", cases[i].crs);
        CT_CHECK_MSG(fabs(u.metres_per_unit - cases[i].f) < 1e-12 && u.assumed == cases[i].assumed &&
                         strcmp(u.name, cases[i].name) == 0,
                     "%s: %.12g '%s' assumed %d", cases[i].crs, u.metres_per_unit, u.name, u.assumed);
    }
    ct_height_unit u;
    CT_CHECK(ct_crs_height_unit(ctx, "not a CRS", &u) == CT_ERR_INPUT);
}

/* Heights are metres whatever the unit of the vertical CRS: NAVD88 in US feet (6360)
 * gives the ellipsoidal heights of NAVD88 in metres (5703) for the same numbers. */
static void check_vertical_in_feet(ct_context *ctx, ct_geoid_mode mode) {
    ct_geo_options ft = {"EPSG:6360", "egm96_15.gtx", mode, {585675.0, 4512388.0}};
    ct_geo_options m = {"EPSG:5703", "egm96_15.gtx", mode, {585675.0, 4512388.0}};
    ct_geo_transform *tf = NULL, *tm = NULL;
    CT_CHECK(ct_geo_transform_create_ex(ctx, "EPSG:32618", &ft, &tf) == CT_OK);
    CT_CHECK(ct_geo_transform_create_ex(ctx, "EPSG:32618", &m, &tm) == CT_OK);
    if (tf && tm) {
        double x[2] = {585675.0, 585675.0}, y[2] = {4512388.0, 4512388.0}, z[2] = {30.0, 30.0};
        CT_CHECK(ct_geo_to_geodetic(ctx, tf, x, y, z, 1, 1) == CT_OK);
        CT_CHECK(ct_geo_to_geodetic(ctx, tm, x + 1, y + 1, z + 1, 1, 1) == CT_OK);
        CT_CHECK_MSG(fabs(z[0] - z[1]) < 1e-6, "geoid mode %d: %.6f from feet, %.6f from metres", (int)mode, z[0], z[1]);
        CT_CHECK_MSG(fabs(z[1] - 30.0) < 40.0, "geoid undulation in New York %.3f", z[1] - 30.0);
    }
    ct_geo_transform_destroy(tf);
    ct_geo_transform_destroy(tm);
}

/* Band unit types (GDALGetRasterUnitType) by PROJ's database: names, short names,
 * plurals; nothing for what is not a linear unit. */
static void check_linear_units(void) {
    const double usft = 1200.0 / 3937.0;
    struct { const char *name; double metres; } cases[] = {
        {"m", 1}, {"metre", 1}, {"Metres", 1}, {"meter", 1}, {"meters", 1}, {"ft", 0.3048}, {"foot", 0.3048},
        {"feet", 0.3048}, {"us-ft", usft}, {"ftUS", usft}, {"US survey foot", usft}, {"us_survey_foot", usft},
        {"US survey feet", usft}, {"millimetre", 0.001}, {"centimetres", 0.01}, {"km", 1000}, {"yard", 0.9144},
        {"", 0}, {"degree", 0}, {"furlongs per fortnight", 0}, {"s", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double f = ct_linear_unit_metres(cases[i].name);
        CT_CHECK_MSG(fabs(f - cases[i].metres) < 1e-12, "'%s': %.15g, expected %.15g", cases[i].name, f, cases[i].metres);
    }
    CT_CHECK(ct_linear_unit_metres(NULL) == 0);
}

int main(void) {
    check_linear_units();
    ct_context *ctx = ct_context_create();
    if (!ctx) return 1;
    ct_geo_options plain = {NULL, NULL, CT_GEOID_NEVER, {0, 0}};
    check_clone(ctx, &plain, 0);
    ct_geo_options geoid = {"EPSG:5709", "egm96_15.gtx", CT_GEOID_FORCE, {85000.0, 446000.0}};
    check_clone(ctx, &geoid, 1);
    check_height_units(ctx);
    check_never_keeps_datum(ctx);
    check_vertical_in_feet(ctx, CT_GEOID_AUTO);
    check_vertical_in_feet(ctx, CT_GEOID_NEVER);
    ct_context_destroy(ctx);
    return ct_test_finish("test_crs");
}
