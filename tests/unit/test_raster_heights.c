/* Heights from DTM / DSM rasters (include/citytiler/raster.h):
 * 1. synthetic GeoTIFFs written here: flat DTM 2 m, DSM 12 m on a square -> ground 2 and
 *    roof 12 exactly, nodata and NaN cells ignored, a footprint outside -> NaN with count
 *    0, the same through a reprojection (working CRS UTM 31N, raster RD New);
 * 2. the Delft footprints: raster heights (tests/data/rasters, made from the AHN3 sample)
 *    against the LiDAR heights of the same points (readers.lidar + filters.heights),
 *    distribution printed; 1 and 2 threads give the same bytes; buildings/s printed;
 * 3. errors: missing file, not a raster, no CRS and no srs, bad band, no geotransform,
 *    nodata everywhere under the footprints. */
#include <gdal.h>
#include <math.h>
#include <ogr_srs_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "citytiler/pipeline.h"
#include "citytiler/raster.h"
#include "ct_test.h"
#include "ct_test_heights.h"

#define NODATA (-9999.0)

static char outdir[2048];

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Writes a Float32 GeoTIFF of w x h cells of 1 m with its top-left corner at (x0, y0).
 * epsg 0: no CRS; with_gt 0: no geotransform. Returns 0 on failure. */
static int write_tif(const char *path, int w, int h, double x0, double y0, int epsg, int with_gt, const float *v) {
    GDALAllRegister();
    GDALDriverH drv = GDALGetDriverByName("GTiff");
    if (!drv) return 0;
    GDALDatasetH ds = GDALCreate(drv, path, w, h, 1, GDT_Float32, NULL);
    if (!ds) return 0;
    double gt[6] = {x0, 1, 0, y0, 0, -1};
    if (with_gt) GDALSetGeoTransform(ds, gt);
    if (epsg) {
        OGRSpatialReferenceH s = OSRNewSpatialReference(NULL);
        OSRImportFromEPSG(s, epsg);
        GDALSetSpatialRef(ds, s);
        OSRRelease(s);
    }
    GDALRasterBandH b = GDALGetRasterBand(ds, 1);
    GDALSetRasterNoDataValue(b, NODATA);
    int ok = GDALRasterIO(b, GF_Write, 0, 0, w, h, (void *)v, w, h, GDT_Float32, 0, 0) == CE_None;
    GDALClose(ds);
    return ok;
}

/* A one-ring footprint from n points (xy pairs). Storage is the caller's. */
static ct_footprint ring_footprint(ct_polygon *poly, uint32_t *starts, double *xy, uint32_t n) {
    starts[0] = 0;
    starts[1] = n;
    poly->nrings = 1;
    poly->ring_start = starts;
    poly->xy = xy;
    ct_footprint fp = {1, poly};
    return fp;
}

/* ---- 1. synthetic rasters ---- */

/* 40 x 40 cells of 1 m, RD New, top-left (85000, 447040): the square
 * 85010..85020 x 447010..447020 (100 cell centres) is 12 m in the DSM; 2 m elsewhere;
 * DTM 2 m everywhere. Nodata (and NaN) cells sprinkled over both, inside the square too. */
static const double SX0 = 85000, SY0 = 447040;

static void synthetic(ct_context *ctx, char *dtm, char *dsm, size_t cap) {
    enum { W = 40, H = 40 };
    float t[W * H], s[W * H];
    for (int r = 0; r < H; r++)
        for (int c = 0; c < W; c++) {
            double x = SX0 + c + 0.5, y = SY0 - r - 0.5;
            int in = x > 85010 && x < 85020 && y > 447010 && y < 447020;
            t[r * W + c] = 2.0f;
            s[r * W + c] = in ? 12.0f : 2.0f;
            if ((r * 7 + c * 3) % 11 == 0) t[r * W + c] = (float)NODATA;
            if ((r * 5 + c) % 13 == 0) s[r * W + c] = (float)NODATA;
            if ((r + c) % 17 == 0) s[r * W + c] = NAN;
        }
    snprintf(dtm, cap, "%s/synthetic_dtm.tif", outdir);
    snprintf(dsm, cap, "%s/synthetic_dsm.tif", outdir);
    CT_CHECK(write_tif(dtm, W, H, SX0, SY0, 28992, 1, t));
    CT_CHECK(write_tif(dsm, W, H, SX0, SY0, 28992, 1, s));
    /* Valid DSM cells whose centre is in the square. */
    size_t expect = 0;
    for (int r = 0; r < H; r++)
        for (int c = 0; c < W; c++) {
            double x = SX0 + c + 0.5, y = SY0 - r - 0.5;
            if (x > 85010 && x < 85020 && y > 447010 && y < 447020 && !((r * 5 + c) % 13 == 0) && !((r + c) % 17 == 0))
                expect++;
        }

    ct_raster_set_options o = {dtm, dsm, NULL, 0, "EPSG:28992", NULL};
    ct_raster_set *set = NULL;
    ct_status st = ct_raster_set_open(ctx, &o, &set);
    CT_CHECK_MSG(st == CT_OK, "%s", ct_error_message(ctx));
    if (st != CT_OK) return;
    CT_CHECK(ct_raster_same_crs(set->dsm));
    CT_CHECK_NEAR(ct_raster_cell_size(set->dsm), 1.0, 1e-12);
    ct_raster_scratch sc;
    st = ct_raster_scratch_init(ctx, set, &sc);
    CT_CHECK_MSG(st == CT_OK, "%s", ct_error_message(ctx));
    ct_heights_params prm;
    ct_test_heights_defaults(&prm);

    ct_polygon poly;
    uint32_t starts[2];
    double sq[8] = {85010, 447010, 85020, 447010, 85020, 447020, 85010, 447020};
    ct_footprint fp = ring_footprint(&poly, starts, sq, 4);
    ct_heights_result r;
    st = ct_raster_heights_compute(ctx, &fp, &prm, &sc, &r);
    CT_CHECK(st == CT_OK);
    CT_CHECK(r.roof_z == 12.0 && r.roof_p50 == 12.0 && r.roof_p70 == 12.0 && r.roof_max == 12.0);
    CT_CHECK(r.ground_z == 2.0);
    CT_CHECK_MSG(r.roof_points == expect, "%u roof cells, expected %zu", r.roof_points, expect);
    CT_CHECK_NEAR(r.density, (double)expect / 100.0, 1e-12);
    CT_CHECK(r.ground_points > 100 && r.ground_buffer_used == 3.0);
    printf("synthetic: roof %.3f (p50 %.3f, max %.3f, %u cells, density %.2f/m2), ground %.3f (%u cells)\n", r.roof_z,
           r.roof_p50, r.roof_max, r.roof_points, r.density, r.ground_z, r.ground_points);

    /* Outside the raster: NaN, count 0. */
    double far[8] = {95010, 447010, 95020, 447010, 95020, 447020, 95010, 447020};
    fp = ring_footprint(&poly, starts, far, 4);
    st = ct_raster_heights_compute(ctx, &fp, &prm, &sc, &r);
    CT_CHECK(st == CT_OK);
    CT_CHECK(isnan(r.roof_z) && isnan(r.ground_z) && isnan(r.roof_max) && r.roof_points == 0 && r.ground_points == 0);
    /* Overlapping the raster's edge: only the cells inside count. */
    double edge[8] = {84990, 447030, 85005, 447030, 85005, 447045, 84990, 447045};
    fp = ring_footprint(&poly, starts, edge, 4);
    st = ct_raster_heights_compute(ctx, &fp, &prm, &sc, &r);
    CT_CHECK(st == CT_OK && r.roof_z == 2.0 && r.roof_points > 0 && r.roof_points <= 50);
    ct_raster_scratch_free(&sc);
    ct_raster_set_destroy(set);

    /* DSM only: ground NaN (filters.heights then borrows the median ground). */
    ct_raster_set_options od = {NULL, dsm, NULL, 0, "EPSG:28992", NULL};
    st = ct_raster_set_open(ctx, &od, &set);
    CT_CHECK(st == CT_OK);
    if (st == CT_OK && ct_raster_scratch_init(ctx, set, &sc) == CT_OK) {
        fp = ring_footprint(&poly, starts, sq, 4);
        st = ct_raster_heights_compute(ctx, &fp, &prm, &sc, &r);
        CT_CHECK(st == CT_OK && r.roof_z == 12.0 && isnan(r.ground_z) && r.ground_points == 0);
    }
    ct_raster_scratch_free(&sc);
    ct_raster_set_destroy(set);

    /* Reprojected: working CRS UTM 31N, raster in RD New. A square well inside the
     * 12 m block, given in UTM, still sees only 12 m cells, and about 36 of them. */
    ct_raster_set_options ou = {dtm, dsm, NULL, 0, "EPSG:32631", NULL};
    st = ct_raster_set_open(ctx, &ou, &set);
    CT_CHECK_MSG(st == CT_OK, "%s", ct_error_message(ctx));
    if (st != CT_OK) return;
    CT_CHECK(!ct_raster_same_crs(set->dsm));
    CT_CHECK_NEAR(ct_raster_cell_size(set->dsm), 1.0, 0.01);
    OGRSpatialReferenceH rd = OSRNewSpatialReference(NULL), utm = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(rd, 28992);
    OSRImportFromEPSG(utm, 32631);
    OSRSetAxisMappingStrategy(rd, OAMS_TRADITIONAL_GIS_ORDER);
    OSRSetAxisMappingStrategy(utm, OAMS_TRADITIONAL_GIS_ORDER);
    OGRCoordinateTransformationH xf = OCTNewCoordinateTransformation(rd, utm);
    double ux[4] = {85012, 85018, 85018, 85012}, uy[4] = {447012, 447012, 447018, 447018}, inner[8];
    CT_CHECK(xf && OCTTransform(xf, 4, ux, uy, NULL));
    for (int k = 0; k < 4; k++) inner[2 * k] = ux[k], inner[2 * k + 1] = uy[k];
    if (xf) OCTDestroyCoordinateTransformation(xf);
    OSRRelease(rd);
    OSRRelease(utm);
    st = ct_raster_scratch_init(ctx, set, &sc);
    CT_CHECK(st == CT_OK);
    fp = ring_footprint(&poly, starts, inner, 4);
    if (st == CT_OK) st = ct_raster_heights_compute(ctx, &fp, &prm, &sc, &r);
    CT_CHECK_MSG(st == CT_OK, "%s", ct_error_message(ctx));
    CT_CHECK_MSG(r.roof_z == 12.0 && r.roof_max == 12.0 && r.ground_z == 2.0, "roof %f ground %f", r.roof_z, r.ground_z);
    CT_CHECK_MSG(r.roof_points >= 25 && r.roof_points <= 40, "%u cells", r.roof_points);
    printf("synthetic, reprojected to UTM 31N: roof %.3f (%u cells), ground %.3f\n", r.roof_z, r.roof_points, r.ground_z);
    ct_raster_scratch_free(&sc);
    ct_raster_set_destroy(set);
}

/* A footprint of many edges (a 3000-vertex star with a hole, over the synthetic rasters):
 * the cells counted are those whose centre every-edge tests (ct_footprint_contains,
 * ct_footprint_boundary_within) find inside or within the buffer, and the percentiles
 * theirs. (The cells are tested against the edges near them, as LiDAR points are.) */
static int read_tif(const char *path, float *v, int w, int h) {
    GDALDatasetH ds = GDALOpen(path, GA_ReadOnly);
    if (!ds) return 0;
    int ok = GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Read, 0, 0, w, h, v, w, h, GDT_Float32, 0, 0) == CE_None;
    GDALClose(ds);
    return ok;
}

static int cmp_float_asc(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static void many_edges(ct_context *ctx, const char *dtm, const char *dsm) {
    enum { W = 40, H = 40, NV = 3000, NH = 24 };
    static float t[W * H], s[W * H], roof[W * H], ground[W * H];
    static double xy[2 * (NV + NH)];
    CT_CHECK(read_tif(dtm, t, W, H) && read_tif(dsm, s, W, H));
    uint64_t seed = 77;
    for (int i = 0; i < NV; i++) { /* a ragged star around the 12 m block's corner */
        double a = 2 * M_PI * i / NV, r = 6 + 8 * ct_test_unif(&seed);
        xy[2 * i] = SX0 + 15 + r * cos(a);
        xy[2 * i + 1] = SY0 - 25 + r * sin(a);
    }
    for (int i = 0; i < NH; i++) { /* a clockwise hole of 2.5 m */
        double a = -2 * M_PI * i / NH;
        xy[2 * (NV + i)] = SX0 + 15 + 2.5 * cos(a);
        xy[2 * (NV + i) + 1] = SY0 - 25 + 2.5 * sin(a);
    }
    uint32_t starts[3] = {0, NV, NV + NH};
    ct_polygon poly = {2, starts, xy};
    ct_footprint fp = {1, &poly};
    ct_heights_params prm;
    ct_test_heights_defaults(&prm);
    prm.max_buffer = prm.buffer; /* one search to compare */
    size_t nr = 0, ng = 0;
    for (int r = 0; r < H; r++)
        for (int c = 0; c < W; c++) {
            double x = SX0 + c + 0.5, y = SY0 - r - 0.5;
            int in = ct_footprint_contains(&fp, x, y);
            if (in && s[r * W + c] != (float)NODATA && !isnan(s[r * W + c])) roof[nr++] = s[r * W + c];
            if ((in || ct_footprint_boundary_within(&fp, x, y, prm.buffer * prm.buffer)) && t[r * W + c] != (float)NODATA)
                ground[ng++] = t[r * W + c];
        }
    ct_raster_set_options o = {dtm, dsm, NULL, 0, "EPSG:28992", NULL};
    ct_raster_set *set = NULL;
    ct_raster_scratch sc;
    ct_heights_result res;
    CT_CHECK(ct_raster_set_open(ctx, &o, &set) == CT_OK);
    CT_CHECK(set && ct_raster_scratch_init(ctx, set, &sc) == CT_OK);
    if (!set) return;
    CT_CHECK(ct_raster_heights_compute(ctx, &fp, &prm, &sc, &res) == CT_OK);
    CT_CHECK_MSG(res.roof_points == nr && res.ground_points == ng, "%u/%zu roof cells, %u/%zu ground cells",
                 res.roof_points, nr, res.ground_points, ng);
    qsort(roof, nr, sizeof *roof, cmp_float_asc);
    qsort(ground, ng, sizeof *ground, cmp_float_asc);
    CT_CHECK(nr > 100 && ng > nr && res.roof_z == ct_percentile_sorted(roof, nr, prm.roof_percentile));
    CT_CHECK(res.roof_max == roof[nr - 1] && res.roof_p50 == ct_percentile_sorted(roof, nr, 50));
    CT_CHECK(res.ground_z == ct_percentile_sorted(ground, ng, prm.ground_percentile));
    printf("3000-vertex star: %zu roof and %zu ground cells, as every edge tested gives\n", nr, ng);
    ct_raster_scratch_free(&sc);
    ct_raster_set_destroy(set);
}

/* ---- 2. Delft: raster heights against LiDAR heights ---- */

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double q(const double *v, size_t n, double p) { return n ? v[(size_t)(p * (double)(n - 1) + 0.5)] : NAN; }

/* Raster heights of every building, `reps` times over, with `threads` threads (each
 * its own scratch and GDAL handles, opened before the clock starts); returns the
 * seconds of the sampling loop, -1 on error. */
static double raster_heights_all(ct_context *ctx, const ct_raster_set *set, const ct_dataset *ds,
                                 const ct_heights_params *prm, int threads, long reps, ct_heights_result *res) {
    long n = (long)ds->nbuildings;
    int failed = 0;
    double t0 = 0, t1 = 0;
#pragma omp parallel num_threads(threads) reduction(| : failed)
    {
        ct_raster_scratch sc;
        if (ct_raster_scratch_init(ctx, set, &sc) != CT_OK) failed = 1;
#pragma omp barrier
#pragma omp single
        t0 = now();
#pragma omp for schedule(dynamic, 16)
        for (long k = 0; k < n * reps; k++)
            if (!failed && ct_raster_heights_compute(ctx, &ds->buildings[k % n].footprint, prm, &sc, &res[k % n]) != CT_OK)
                failed = 1;
#pragma omp single
        t1 = now();
        ct_raster_scratch_free(&sc);
    }
    return failed ? -1.0 : t1 - t0;
}

static void delft(ct_context *ctx) {
    const char *src = ct_test_env("CT_SOURCE_DIR", ".");
    char path[4096], json[8192];
    snprintf(path, sizeof path, "%s/delft-lidar.json", outdir);
    snprintf(json, sizeof json,
             "{\"pipeline\": ["
             "{\"type\": \"readers.footprints\", \"path\": \"%s/data-samples/delft/bgt_pand.gpkg\"},"
             "{\"type\": \"readers.lidar\", \"path\": \"%s/data-samples/delft/delft_ahn3_every4th_epsg28992.las\"},"
             "{\"type\": \"filters.heights\"}]}",
             src, src);
    FILE *f = fopen(path, "w");
    CT_CHECK(f != NULL);
    if (!f) return;
    fputs(json, f);
    fclose(f);
    ct_pipeline *p = NULL;
    ct_dataset *ds = NULL;
    ct_status st = ct_pipeline_load(ctx, path, NULL, 0, &p);
    if (st == CT_OK) st = ct_pipeline_run(ctx, p, &ds);
    CT_CHECK_MSG(st == CT_OK, "%s", ct_error_message(ctx));
    ct_pipeline_destroy(p);
    if (!ds) return;
    CT_CHECK(ds->nbuildings == 160);
    int cr = ct_dataset_find_attr(ds, "roof_z"), cg = ct_dataset_find_attr(ds, "ground_z");
    CT_CHECK(cr >= 0 && cg >= 0);

    char dtm[4096], dsm[4096];
    snprintf(dtm, sizeof dtm, "%s/tests/data/rasters/delft_dtm_1m.tif", src);
    snprintf(dsm, sizeof dsm, "%s/tests/data/rasters/delft_dsm_1m.tif", src);
    double bbox[4];
    ct_dataset_bbox(ds, bbox);
    ct_raster_set_options o = {dtm, dsm, NULL, 0, ds->crs_wkt, bbox};
    ct_raster_set *set = NULL;
    st = ct_raster_set_open(ctx, &o, &set);
    CT_CHECK_MSG(st == CT_OK, "%s", ct_error_message(ctx));
    CT_CHECK(set && ct_raster_same_crs(set->dsm) && ct_raster_vertical_wkt(set->dsm) &&
             strstr(ct_raster_vertical_wkt(set->dsm), "NAP"));
    ct_heights_params prm;
    ct_test_heights_defaults(&prm);
    size_t n = ds->nbuildings;
    ct_heights_result *r1 = calloc(n, sizeof *r1), *r2 = calloc(n, sizeof *r2);
    double *droof = calloc(n, sizeof *droof), *dground = calloc(n, sizeof *dground);
    if (st != CT_OK || !r1 || !r2 || !droof || !dground) goto out;

    /* Time 1 and 2 threads, each pass over the buildings `reps` times, best of 3;
     * the GDAL handles are opened outside the clock (once per thread and run). */
    long reps = atol(ct_test_env("CT_RASTER_BENCH_REPS", "20"));
    if (reps < 1) reps = 1;
    double best[3] = {INFINITY, INFINITY, INFINITY};
    for (int rep = 0; rep < 3; rep++)
        for (int t = 1; t <= 2; t++) {
            double s = raster_heights_all(ctx, set, ds, &prm, t, reps, t == 1 ? r1 : r2);
            CT_CHECK_MSG(s >= 0, "%s", ct_error_message(ctx));
            if (s >= 0 && s < best[t]) best[t] = s;
        }
    printf("delft raster heights: %zu buildings x %ld, 1 thread %.0f buildings/s, 2 threads %.0f buildings/s\n", n, reps,
           (double)n * (double)reps / best[1], (double)n * (double)reps / best[2]);
    CT_CHECK_MSG(memcmp(r1, r2, n * sizeof *r1) == 0, "1 and 2 threads differ");

    size_t nr = 0, ng = 0, roof_ok = 0, ground_ok = 0, no_roof = 0, no_ground = 0;
    for (size_t i = 0; i < n; i++) {
        const ct_building *b = &ds->buildings[i];
        const ct_value *a = b->attrs;
        if (isnan(r1[i].roof_z)) no_roof++;
        if (isnan(r1[i].ground_z)) no_ground++;
        if (isnan(r1[i].roof_z) || (!a[cr].is_null && fabs(r1[i].roof_z - a[cr].v.r) >= 1.0))
            printf("delft: building %s (%.1f m2): raster roof %.2f (%u cells), lidar roof %.2f\n", b->id,
                   ct_footprint_area(&b->footprint), r1[i].roof_z, r1[i].roof_points, a[cr].is_null ? NAN : a[cr].v.r);
        if (!a[cr].is_null && !isnan(r1[i].roof_z)) {
            droof[nr] = r1[i].roof_z - a[cr].v.r;
            roof_ok += fabs(droof[nr]) < 1.0;
            nr++;
        }
        if (!a[cg].is_null && !isnan(r1[i].ground_z)) {
            dground[ng] = r1[i].ground_z - a[cg].v.r;
            ground_ok += fabs(dground[ng]) < 0.5;
            ng++;
        }
    }
    qsort(droof, nr, sizeof *droof, cmp_double);
    qsort(dground, ng, sizeof *dground, cmp_double);
    printf("delft roof_z (p90) raster - lidar over %zu buildings (m): min %.2f p5 %.2f p25 %.2f p50 %.2f p75 %.2f "
           "p95 %.2f max %.2f; |diff| < 1 m: %zu (%.1f%%)\n",
           nr, q(droof, nr, 0), q(droof, nr, .05), q(droof, nr, .25), q(droof, nr, .5), q(droof, nr, .75),
           q(droof, nr, .95), q(droof, nr, 1), roof_ok, 100.0 * (double)roof_ok / (double)(nr ? nr : 1));
    printf("delft ground_z (p10) raster - lidar over %zu buildings (m): min %.2f p5 %.2f p25 %.2f p50 %.2f p75 %.2f "
           "p95 %.2f max %.2f; |diff| < 0.5 m: %zu (%.1f%%)\n",
           ng, q(dground, ng, 0), q(dground, ng, .05), q(dground, ng, .25), q(dground, ng, .5), q(dground, ng, .75),
           q(dground, ng, .95), q(dground, ng, 1), ground_ok, 100.0 * (double)ground_ok / (double)(ng ? ng : 1));
    printf("delft: %zu buildings without a raster roof, %zu without a raster ground\n", no_roof, no_ground);
    CT_CHECK_MSG(nr >= n * 95 / 100, "only %zu buildings have both roofs", nr);
    CT_CHECK_MSG(roof_ok * 10 >= nr * 9, "roof: only %zu of %zu within 1 m", roof_ok, nr);
    CT_CHECK_MSG(ground_ok * 10 >= ng * 9, "ground: only %zu of %zu within 0.5 m", ground_ok, ng);
    CT_CHECK(fabs(q(droof, nr, .5)) < 0.3 && fabs(q(dground, ng, .5)) < 0.2);
out:
    free(r1);
    free(r2);
    free(droof);
    free(dground);
    ct_raster_set_destroy(set);
    ct_dataset_destroy(ds);
}

/* ---- 3. errors ---- */

static void expect_error(ct_context *ctx, const ct_raster_set_options *o, ct_status code, const char *name,
                         const char *needle) {
    ct_raster_set *set = NULL;
    ct_error_clear(ctx);
    ct_status st = ct_raster_set_open(ctx, o, &set);
    const char *m = ct_error_message(ctx);
    CT_CHECK_MSG(st == code && set == NULL, "%s: status %s (%s)", name, ct_status_name(st), m);
    CT_CHECK_MSG(strstr(m, needle) != NULL, "%s: message '%s' lacks '%s'", name, m, needle);
    CT_CHECK_MSG(strstr(m, o->dtm ? o->dtm : o->dsm) != NULL, "%s: message '%s' does not name the file", name, m);
    printf("error (%s): %s\n", name, m);
    ct_raster_set_destroy(set);
}

static void errors(ct_context *ctx, const char *dsm_ok) {
    const char *src = ct_test_env("CT_SOURCE_DIR", ".");
    char missing[4096], vector[4096], nocrs[4096], nogt[4096], empty[4096];
    snprintf(missing, sizeof missing, "%s/no_such_raster.tif", outdir);
    snprintf(vector, sizeof vector, "%s/data-samples/delft/bgt_pand.gpkg", src);
    snprintf(nocrs, sizeof nocrs, "%s/no_crs.tif", outdir);
    snprintf(nogt, sizeof nogt, "%s/no_geotransform.tif", outdir);
    snprintf(empty, sizeof empty, "%s/all_nodata.tif", outdir);
    float v[16], nd[16];
    for (int i = 0; i < 16; i++) v[i] = 5.0f, nd[i] = (float)NODATA;
    CT_CHECK(write_tif(nocrs, 4, 4, SX0, SY0, 0, 1, v));
    CT_CHECK(write_tif(nogt, 4, 4, SX0, SY0, 28992, 0, v));
    CT_CHECK(write_tif(empty, 4, 4, SX0, SY0, 28992, 1, nd));
    char text[4096];
    snprintf(text, sizeof text, "%s/tests/data/rasters/README.md", src);

    ct_raster_set_options o = {missing, NULL, NULL, 0, "EPSG:28992", NULL};
    expect_error(ctx, &o, CT_ERR_INPUT, "missing file", "no such file");
    o.dtm = vector;
    expect_error(ctx, &o, CT_ERR_INPUT, "vector file", "not a raster");
    o.dtm = text;
    expect_error(ctx, &o, CT_ERR_INPUT, "text file", "not a raster");
    o.dtm = nocrs;
    expect_error(ctx, &o, CT_ERR_INPUT, "no CRS", "no CRS");
    o.srs = "EPSG:28992"; /* ... fine with srs */
    ct_raster_set *set = NULL;
    CT_CHECK_MSG(ct_raster_set_open(ctx, &o, &set) == CT_OK, "%s", ct_error_message(ctx));
    CT_CHECK(set && ct_raster_same_crs(set->dtm));
    ct_raster_set_destroy(set);
    o.srs = "EPSG:nonsense";
    expect_error(ctx, &o, CT_ERR_USAGE, "bad srs", "srs");
    o.srs = NULL;
    o.dtm = nogt;
    expect_error(ctx, &o, CT_ERR_INPUT, "no geotransform", "not georeferenced");
    o.dtm = dsm_ok;
    o.band = 2;
    expect_error(ctx, &o, CT_ERR_USAGE, "band 2", "band 2");
    o.band = 0;
    double bbox[4] = {85001, 447037, 85003, 447039}, away[4] = {95001, 447001, 95003, 447003};
    o.dtm = empty;
    o.check_bbox = bbox;
    expect_error(ctx, &o, CT_ERR_INPUT, "nodata everywhere", "no valid cell");
    o.dtm = dsm_ok;
    o.check_bbox = away;
    expect_error(ctx, &o, CT_ERR_INPUT, "another area", "no valid cell");
    /* The second raster's errors name it. */
    o.dtm = dsm_ok;
    o.dsm = missing;
    o.check_bbox = NULL;
    ct_error_clear(ctx);
    CT_CHECK(ct_raster_set_open(ctx, &o, &set) == CT_ERR_INPUT && strstr(ct_error_message(ctx), missing));
    o.dtm = o.dsm = NULL;
    ct_error_clear(ctx);
    CT_CHECK(ct_raster_set_open(ctx, &o, &set) == CT_ERR_USAGE);
    ct_error_clear(ctx);
}

int main(void) {
    const char *bin = ct_test_env("CT_BINARY_DIR", ".");
    snprintf(outdir, sizeof outdir, "%s/test-out", bin);
    mkdir(outdir, 0777);
    snprintf(outdir, sizeof outdir, "%s/test-out/raster", bin);
    mkdir(outdir, 0777);
    ct_context *ctx = ct_context_create();
    CT_CHECK(ctx != NULL);
    if (!ctx) return 1;
    char dtm[4096], dsm[4096];
    synthetic(ctx, dtm, dsm, sizeof dtm);
    many_edges(ctx, dtm, dsm);
    delft(ctx);
    errors(ctx, dsm);
    ct_context_destroy(ctx);
    return ct_test_finish("test_raster_heights");
}
