/* Vertical placement: a building whose ground is at a known orthometric height (NAP,
 * EPSG:5709) lands at the ellipsoidal height PROJ itself gives for that point. Debian's
 * proj-data has no NAP grid, so PROJ's NAP -> WGS84 operation is a ballpark one (heights
 * unchanged); citytiler detects that and adds the EGM96 geoid instead. The expected value
 * is PROJ's own transformation of the same point from EGM96 heights (EPSG:5773). */
#include <jansson.h>
#include <math.h>
#include <proj.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "citytiler/pipeline.h"
#include "ct_test.h"

/* Runs footprints -> extrude (ground at base_z, 10 m) -> 3D Tiles; returns the root region. */
static int run(const char *name, double base_z, const char *vertical, double region[6]) {
    const char *src = ct_test_env("CT_SOURCE_DIR", "."), *bin = ct_test_env("CT_BINARY_DIR", ".");
    char dir[4096], path[4200], json[8192], vopt[256] = "";
    snprintf(dir, sizeof dir, "%s/test-out", bin);
    mkdir(dir, 0777);
    snprintf(path, sizeof path, "%s/placement-%s.json", dir, name);
    if (vertical) snprintf(vopt, sizeof vopt, ", \"vertical_crs\": \"%s\"", vertical);
    snprintf(json, sizeof json,
             "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"%s/tests/data/placement_square.geojson\"},"
             "{\"type\": \"filters.extrude\", \"base_z\": %.3f, \"height\": 10},"
             "{\"type\": \"writers.3dtiles\", \"path\": \"%s/placement-%s\"%s}]}",
             src, base_z, dir, name, vopt);
    FILE *f = fopen(path, "w");
    if (!f) return 0;
    fputs(json, f);
    fclose(f);
    ct_context *ctx = ct_context_create();
    ct_pipeline *p = NULL;
    ct_status st = ct_pipeline_load(ctx, path, NULL, 0, &p);
    if (st == CT_OK) st = ct_pipeline_run(ctx, p, NULL);
    CT_CHECK_MSG(st == CT_OK, "%s: %s", name, ct_error_message(ctx));
    ct_pipeline_destroy(p);
    ct_context_destroy(ctx);
    char ts[4300];
    snprintf(ts, sizeof ts, "%s/placement-%s/tileset.json", dir, name);
    json_t *j = json_load_file(ts, 0, NULL);
    json_t *r = json_object_get(json_object_get(json_object_get(j, "root"), "boundingVolume"), "region");
    int ok = json_array_size(r) == 6;
    for (size_t k = 0; ok && k < 6; k++) region[k] = json_number_value(json_array_get(r, k));
    json_decref(j);
    return ok;
}

/* PROJ's ellipsoidal height of (x, y) in RD New at `height` in vertical CRS `vert`. */
static double proj_ellipsoidal(double x, double y, double height, const char *vert) {
    char src[128];
    snprintf(src, sizeof src, "EPSG:28992+%s", vert);
    PJ *op = proj_create_crs_to_crs(NULL, src, "EPSG:4979", NULL);
    PJ *norm = op ? proj_normalize_for_visualization(NULL, op) : NULL;
    double h = NAN;
    if (norm) h = proj_trans(norm, PJ_FWD, proj_coord(x, y, height, 0)).xyz.z;
    proj_destroy(norm);
    proj_destroy(op);
    return h;
}

int main(void) {
    const double x = 84910, y = 447510, ground = 1.25; /* the square's centre, 1.25 m NAP */
    double expect = proj_ellipsoidal(x, y, ground, "5773");
    double ballpark = proj_ellipsoidal(x, y, ground, "5709");
    printf("PROJ: %.2f m NAP -> %.3f m ellipsoidal via EGM96; NAP's own operation gives %.3f (ballpark)\n", ground,
           expect, ballpark);
    CT_CHECK(isfinite(expect) && expect > 40 && expect < 47); /* the geoid is ~43.5 m above the ellipsoid in Delft */

    double r[6];
    CT_CHECK(run("nap", ground, "EPSG:5709", r));
    printf("NAP input: region heights %.3f .. %.3f\n", r[4], r[5]);
    CT_CHECK_MSG(fabs(r[4] - expect) < 1.0, "ground at %.3f m, expected %.3f m", r[4], expect);
    CT_CHECK_MSG(fabs(r[5] - (expect + 10.0)) < 1.0, "roof at %.3f m, expected %.3f m", r[5], expect + 10.0);

    /* The same heights declared as EGM96 go through PROJ's own (grid-based) operation. */
    CT_CHECK(run("egm96", ground, "EPSG:5773", r));
    CT_CHECK_MSG(fabs(r[4] - expect) < 0.01, "EGM96 ground at %.3f m, expected %.3f m", r[4], expect);

    /* Without vertical information the heights stay as given (and a warning is logged). */
    CT_CHECK(run("none", ground, NULL, r));
    CT_CHECK_MSG(fabs(r[4] - ground) < 0.01, "unplaced ground at %.3f m, expected %.3f", r[4], ground);
    return ct_test_finish("test_placement");
}
