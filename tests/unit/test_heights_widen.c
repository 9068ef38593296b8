/* filters.heights' widened ground search and the borrowed ground (peer QA found both):
 * 1. the buffer doubles until it reaches max_buffer, the last step cut to it (buffer 5,
 *    max_buffer 24: 10, 20, 24; it stopped at 20, and the log said 24), and from 0 it
 *    starts at 1 m (it never widened);
 * 2. a building whose ground lies 21-23 m away finds it with buffer 5 (it got none);
 * 3. a building without ground stands on the median ground of the others, the mean of
 *    the middle two for an even count (it took the upper one). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "citytiler/dataset.h"
#include "citytiler/heights.h"
#include "citytiler/points.h"
#include "ct_test.h"
#include "ct_test_heights.h"
#include "ct_test_las.h"
#include "ct_test_pipeline.h"

static const double X0 = 85000.0, Y0 = 447000.0;

static void sequence(double buffer, double max_buffer, const double *want, int n) {
    ct_heights_params prm;
    ct_test_heights_defaults(&prm);
    prm.buffer = buffer;
    prm.max_buffer = max_buffer;
    double b = buffer;
    for (int i = 0; i <= n; i++) {
        double next = ct_heights_next_buffer(&prm, b);
        double expect = i < n ? want[i] : 0.0;
        CT_CHECK_MSG(next == expect, "buffer %g, max %g: step %d gives %g, expected %g", buffer, max_buffer, i, next, expect);
        if (next == 0) break;
        b = next;
    }
}

/* A 10 m square at (X0, Y0) with roof points inside and ground points only on a ring 21 to
 * 23 m beyond its sides. */
static void far_ground(void) {
    ct_context *ctx = ct_context_create();
    ct_point_store *store = ct_point_store_create(100.0, 2.0);
    CT_CHECK(ctx && store);
    if (!ctx || !store) return;
    enum { N = 4000 };
    static double x[N], y[N], z[N];
    static uint8_t cls[N];
    size_t n = 0;
    for (int i = 0; i < 100; i++, n++) {
        x[n] = X0 + 0.5 + i % 10, y[n] = Y0 + 0.5 + i / 10, z[n] = 12, cls[n] = 6;
    }
    for (int i = 0; n < N; i++, n++) {
        double a = 2 * M_PI * i / (N - 100), r = 5 * sqrt(2.0) + 22; /* from the centre: beyond 21 m of every side */
        x[n] = X0 + 5 + r * cos(a), y[n] = Y0 + 5 + r * sin(a), z[n] = 1.25, cls[n] = 2;
    }
    CT_CHECK(ct_point_store_add(ctx, store, x, y, z, cls, n) == CT_OK);
    CT_CHECK(ct_point_store_index(ctx, store, 1) == CT_OK);
    double sq[8] = {X0, Y0, X0 + 10, Y0, X0 + 10, Y0 + 10, X0, Y0 + 10};
    uint32_t starts[2] = {0, 4};
    ct_polygon poly = {1, starts, sq};
    ct_footprint fp = {1, &poly};
    ct_heights_scratch scratch;
    memset(&scratch, 0, sizeof scratch);
    const double buffers[2] = {5.0, 0.0};
    for (int k = 0; k < 2; k++) {
        ct_heights_params prm;
        ct_test_heights_defaults(&prm);
        prm.buffer = buffers[k];
        prm.max_buffer = 24;
        ct_heights_result r;
        CT_CHECK(ct_heights_compute(store, &fp, &prm, &scratch, &r) == CT_OK);
        CT_CHECK_MSG(r.ground_buffer_used == 24.0 && r.ground_z == 1.25f && r.ground_points > 100,
                     "buffer %g: searched to %g m, ground %g from %u points", prm.buffer, r.ground_buffer_used,
                     r.ground_z, r.ground_points);
        CT_CHECK(r.roof_z == 12.0f);
    }
    ct_heights_scratch_free(&scratch);
    ct_point_store_destroy(store);
    ct_context_destroy(ctx);
}

/* Buildings b1 and b2 with ground at 1 m and 2 m around them, b3 500 m away with a roof
 * and no ground: b3 stands on 1.5 m. */
static void median_ground(void) {
    const char *bin = ct_test_env("CT_BINARY_DIR", ".");
    char dir[2048], las[2100], geo[2100], pipe[2100], json[8192];
    snprintf(dir, sizeof dir, "%s/test-out", bin);
    mkdir(dir, 0777);
    snprintf(dir, sizeof dir, "%s/test-out/heights_widen", bin);
    mkdir(dir, 0777);
    snprintf(las, sizeof las, "%s/points.las", dir);
    snprintf(geo, sizeof geo, "%s/fp.geojson", dir);
    snprintf(pipe, sizeof pipe, "%s/pipeline.json", dir);
    enum { N = 3 * 100 + 2 * 400 };
    static double x[N], y[N], z[N];
    static uint8_t c[N];
    const double bx[3] = {X0, X0 + 100, X0 + 500}, ground[2] = {1.0, 2.0};
    size_t n = 0;
    for (int b = 0; b < 3; b++) {
        for (int i = 0; i < 100; i++, n++) /* roof points */
            x[n] = bx[b] + 0.5 + i % 10, y[n] = Y0 + 0.5 + i / 10, z[n] = 12, c[n] = 6;
        for (int i = 0; b < 2 && i < 400; i++, n++) { /* ground within 2 m of the walls */
            double a = 2 * M_PI * i / 400;
            x[n] = bx[b] + 5 + 8 * cos(a), y[n] = Y0 + 5 + 8 * sin(a), z[n] = ground[b], c[n] = 2;
        }
    }
    CT_CHECK(ct_test_write_las(las, x, y, z, c, n, NULL));
    FILE *f = fopen(geo, "w");
    CT_CHECK(f != NULL);
    if (!f) return;
    fprintf(f, "{\"type\": \"FeatureCollection\", \"crs\": {\"type\": \"name\", \"properties\": {\"name\": "
               "\"urn:ogc:def:crs:EPSG::28992\"}}, \"features\": [");
    for (int b = 0; b < 3; b++)
        fprintf(f, "%s{\"type\": \"Feature\", \"properties\": {\"id\": \"b%d\"}, \"geometry\": {\"type\": \"Polygon\", "
                   "\"coordinates\": [[[%.2f, %.2f], [%.2f, %.2f], [%.2f, %.2f], [%.2f, %.2f], [%.2f, %.2f]]]}}",
                b ? ", " : "", b + 1, bx[b], Y0, bx[b] + 10, Y0, bx[b] + 10, Y0 + 10, bx[b], Y0 + 10, bx[b], Y0);
    fprintf(f, "]}\n");
    CT_CHECK(fclose(f) == 0);
    snprintf(json, sizeof json,
             "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"%s\", \"id_field\": \"id\"}, "
             "{\"type\": \"readers.lidar\", \"path\": \"%s\", \"srs\": \"EPSG:28992\"}, {\"type\": \"filters.heights\"}]}",
             geo, las);
    ct_context *ctx = NULL;
    ct_pipeline *p = NULL;
    ct_dataset *ds = ct_test_run_pipeline(pipe, json, 1, &ctx, &p);
    if (ds) {
        CT_CHECK(ds->nbuildings == 3);
        for (size_t i = 0; i < ds->nbuildings; i++) {
            const ct_building *b = &ds->buildings[i];
            double want = strcmp(b->id, "b1") == 0 ? 1.0 : (strcmp(b->id, "b2") == 0 ? 2.0 : 1.5);
            CT_CHECK_MSG(b->base_z == want && b->top_z == 12.0, "%s: base %g (expected %g), top %g", b->id, b->base_z,
                         want, b->top_z);
        }
    }
    ct_test_pipeline_free(ctx, p, ds);
}

int main(void) {
    sequence(5, 24, (const double[]){10, 20, 24}, 3);
    sequence(3, 24, (const double[]){6, 12, 24}, 3);
    sequence(0, 24, (const double[]){1, 2, 4, 8, 16, 24}, 6);
    sequence(0, 0, NULL, 0);
    sequence(3, 3, NULL, 0);
    far_ground();
    median_ground();
    return ct_test_finish("test_heights_widen");
}
