/* filters.heights max_samples: a building's roof or ground samples beyond it are thinned
 * to the points whose coordinate hash has its lowest k bits zero (geom/heights_thin.h).
 * 1. the thinned set depends on the samples alone: any order, any split into merged
 *    parts, gives the same set, of at most max samples, at the smallest such k;
 * 2. with max_samples 1000 over a footprint of about 50,000 roof points: the memory path
 *    (ct_heights_compute) and the sweep on disk (1 and 2 threads) and in memory give the
 *    same heights to the bit; the kept roof samples are exactly those the test finds
 *    from the points themselves (at most 1000) and give the roof percentile; the counts
 *    and density are the true ones; the heights are within a tolerance of the exact
 *    ones; the buildings under the cap are unchanged;
 * 3. the stage: the flag points_thinned, one warning naming the building, the same
 *    heights with the points in memory and on disk, and max_samples 0, -5, 1.5, 999 refused. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "citytiler/context.h"
#include "citytiler/dataset.h"
#include "citytiler/heights.h"
#include "citytiler/pipeline.h"
#include "citytiler/points.h"
#include "ct_test.h"
#include "ct_test_heights.h"
#include "ct_test_las.h"
#include "ct_test_points.h"
#include "geom/heights_sweep.h"
#include "geom/heights_thin.h"

static const double CELL = 40.0;
static const double OX = 85000.0, OY = 447000.0;
enum { CAP = 1000 };

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static double unif(void) { return ct_test_unif(&rng); }

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* The kept samples of s, sorted, into v (room for s->n). */
static void sorted_kept(const ct_thin_set *s, float *v) {
    memcpy(v, s->z, s->n * sizeof *v);
    qsort(v, s->n, sizeof *v, cmp_float);
}

/* 1. Order and split do not matter. */
static void thin_set_order(void) {
    enum { N = 20000 };
    float *z = malloc(N * sizeof *z), *a = malloc(N * sizeof *a), *b = malloc(N * sizeof *b);
    uint32_t *h = malloc(N * sizeof *h);
    CT_CHECK(z && h && a && b);
    if (!z || !h || !a || !b) return;
    for (size_t i = 0; i < N; i++) {
        z[i] = (float)(100 * unif());
        h[i] = ct_point_hash(OX + 1000 * unif(), OY + 1000 * unif(), z[i]);
    }
    ct_thin_set fwd = {0}, rev = {0}, parts[3] = {{0}}, merged = {0};
    for (size_t i = 0; i < N; i++) {
        CT_CHECK(ct_thin_add(&fwd, z[i], h[i], CAP));
        CT_CHECK(ct_thin_add(&rev, z[N - 1 - i], h[N - 1 - i], CAP));
        CT_CHECK(ct_thin_add(&parts[i * 7 % 3], z[i], h[i], CAP)); /* (interleaved thirds) */
    }
    for (int k = 0; k < 3; k++) CT_CHECK(ct_thin_merge(&merged, &parts[k], CAP));
    size_t at_less = 0; /* samples at one bit fewer: more than CAP, or the bits were not the smallest */
    ct_thin_set probe = {0};
    probe.bits = fwd.bits - 1;
    for (size_t i = 0; i < N; i++) at_less += ct_thin_keeps(&probe, h[i]);
    CT_CHECK_MSG(fwd.bits > 0 && fwd.n <= CAP && fwd.n > 0 && at_less > CAP, "bits %u, kept %zu, at one bit fewer %zu",
                 fwd.bits, fwd.n, at_less);
    CT_CHECK(fwd.total == N && rev.total == N && merged.total == N);
    const ct_thin_set *other[2] = {&rev, &merged};
    sorted_kept(&fwd, a);
    for (int k = 0; k < 2; k++) {
        CT_CHECK_MSG(other[k]->bits == fwd.bits && other[k]->n == fwd.n, "%s: bits %u/%u, kept %zu/%zu",
                     k ? "merged" : "reversed", other[k]->bits, fwd.bits, other[k]->n, fwd.n);
        if (other[k]->n != fwd.n) continue;
        sorted_kept(other[k], b);
        CT_CHECK_MSG(memcmp(a, b, fwd.n * sizeof *a) == 0, "%s: other samples kept", k ? "merged" : "reversed");
    }
    ct_thin_free(&fwd);
    ct_thin_free(&rev);
    ct_thin_free(&merged);
    for (int k = 0; k < 3; k++) ct_thin_free(&parts[k]);
    free(z);
    free(h);
    free(a);
    free(b);
}

static int bits_equal(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

/* Two results bit for bit, the thinning included. */
static int same(const ct_heights_result *a, const ct_heights_result *b) {
    return bits_equal(a->ground_z, b->ground_z) && bits_equal(a->roof_z, b->roof_z) &&
           bits_equal(a->roof_p50, b->roof_p50) && bits_equal(a->roof_p70, b->roof_p70) &&
           bits_equal(a->roof_max, b->roof_max) && a->roof_points == b->roof_points &&
           a->ground_points == b->ground_points && bits_equal(a->density, b->density) &&
           a->ground_buffer_used == b->ground_buffer_used && a->roof_thin == b->roof_thin &&
           a->ground_thin == b->ground_thin;
}

/* A coordinate as the store keeps it: a float offset from its cell's corner. */
static double as_stored(double v) {
    double o = floor(v / CELL) * CELL;
    return o + (double)(float)(v - o);
}

/* 2. Memory path, sweep, and the samples the test finds itself. */
static void paths(void) {
    /* Building 0: 70 x 70 m over four cells (about 49,000 roof points at 10 a m² of
     * class 6); 1-8: 3 x 3 m (under the cap), those at x 78.5 across a cell border. */
    enum { NB = 9 };
    ct_test_bldg bl[NB];
    const ct_footprint *fps[NB];
    ct_test_make_rect(&bl[0], OX + 5.3, OY + 5.7, 70, 70);
    for (int i = 1; i < NB; i++) ct_test_make_rect(&bl[i], OX + 78.5 + (i % 2) * 8, OY + 4 + i * 9.7, 3, 3);
    for (int i = 0; i < NB; i++) fps[i] = &bl[i].fp;
    ct_test_points in = {.chunk = 4093};
    for (size_t i = 0; i < 100 * 100 * 20; i++) { /* 20 a m²: half ground (1-2 m), half roof (10-20 m) */
        int roof = unif() < 0.5;
        double x = OX + 100 * unif(), y = OY + 100 * unif();
        double z = roof ? 10 + 10 * unif() : 1 + unif();
        if (!ct_test_points_add(&in, x, y, z, roof ? 6 : 2)) return;
    }
    ct_context *ctx = ct_context_create();
    ct_point_store *mem = ct_point_store_create(CELL, 2.0), *disk = ct_point_store_create(CELL, 2.0);
    CT_CHECK(ctx && mem && disk);
    if (!ctx || !mem || !disk) return;
    size_t nchunks = ct_test_points_chunks(&in);
    CT_CHECK(ct_point_store_add_chunks(ctx, mem, nchunks, in.chunk, ct_test_points_chunk, &in, 2) == CT_OK);
    CT_CHECK(ct_point_store_index(ctx, mem, 2) == CT_OK);
    ct_point_store_set_memory_limit(disk, 64 * 1024, NULL);
    CT_CHECK(ct_point_store_add_chunks(ctx, disk, nchunks, in.chunk, ct_test_points_chunk, &in, 2) == CT_OK);
    CT_CHECK(ct_point_store_on_disk(disk));

    ct_heights_params exact, capped;
    ct_test_heights_defaults(&exact);
    capped = exact;
    capped.max_samples = CAP;
    ct_heights_result ref[NB], thin[NB], got[NB];
    ct_heights_scratch scratch;
    memset(&scratch, 0, sizeof scratch);
    for (int i = 0; i < NB; i++) {
        CT_CHECK(ct_heights_compute(mem, fps[i], &exact, &scratch, &ref[i]) == CT_OK);
        CT_CHECK(ct_heights_compute(mem, fps[i], &capped, &scratch, &thin[i]) == CT_OK);
    }
    /* the big one: thinned, true counts, heights near the exact ones */
    CT_CHECK_MSG(ref[0].roof_points > 45000 && ref[0].roof_thin == 0 && ref[0].ground_thin == 0, "%u roof points",
                 ref[0].roof_points);
    CT_CHECK_MSG(thin[0].roof_thin > 0 && thin[0].ground_thin > 0, "thinned by %u, %u bits", thin[0].roof_thin,
                 thin[0].ground_thin);
    CT_CHECK(thin[0].roof_points == ref[0].roof_points && thin[0].ground_points == ref[0].ground_points);
    CT_CHECK(bits_equal(thin[0].density, ref[0].density));
    CT_CHECK_NEAR(thin[0].roof_z, ref[0].roof_z, 0.3);
    CT_CHECK_NEAR(thin[0].roof_p50, ref[0].roof_p50, 0.5);
    CT_CHECK_NEAR(thin[0].ground_z, ref[0].ground_z, 0.05);
    CT_CHECK(!bits_equal(thin[0].roof_z, ref[0].roof_z)); /* (else the test proves nothing) */
    /* the small ones: under the cap, unchanged */
    for (int i = 1; i < NB; i++)
        CT_CHECK_MSG(same(&thin[i], &ref[i]) && ref[i].roof_points > 20 && ref[i].ground_points < CAP,
                     "building %d: roof %.17g/%.17g, %u/%u points", i, thin[i].roof_z, ref[i].roof_z,
                     thin[i].roof_points, ref[i].roof_points);

    /* the kept roof samples, found from the points: those inside whose hash has the
     * lowest roof_thin bits zero; at most CAP of them, more at one bit fewer */
    ct_thin_set at = {0}, fewer = {0};
    at.bits = thin[0].roof_thin;
    fewer.bits = thin[0].roof_thin - 1;
    float *kept = malloc(in.n * sizeof *kept);
    size_t nkept = 0, nfewer = 0;
    CT_CHECK(kept != NULL);
    for (size_t i = 0; kept && i < in.n; i++) {
        double x = as_stored(in.x[i]), y = as_stored(in.y[i]);
        float z = (float)in.z[i];
        if (in.cls[i] != 6 || !ct_test_ref_inside(fps[0], x, y)) continue;
        uint32_t h = ct_point_hash(x, y, z);
        if (ct_thin_keeps(&at, h)) kept[nkept++] = z;
        nfewer += ct_thin_keeps(&fewer, h);
    }
    CT_CHECK_MSG(nkept > 0 && nkept <= CAP && nfewer > CAP, "kept %zu, at one bit fewer %zu", nkept, nfewer);
    if (kept && nkept > 0) {
        ct_heights_result mine;
        ct_heights_result_init(&mine, &capped);
        ct_heights_roof_stats(kept, nkept, capped.roof_percentile, &mine);
        CT_CHECK_MSG(bits_equal(mine.roof_z, thin[0].roof_z) && bits_equal(mine.roof_max, thin[0].roof_max),
                     "roof %.17g from the test's samples, %.17g measured", mine.roof_z, thin[0].roof_z);
    }
    free(kept);

    /* the sweep: on disk with 1 and 2 threads, in memory; the same to the bit */
    unsigned char widen[NB];
    for (int run = 0; run < 3; run++) {
        size_t nwiden = 0;
        memset(got, 0xA5, sizeof got);
        CT_CHECK(ct_heights_sweep(ctx, run == 2 ? mem : disk, fps, NB, &capped, run == 0 ? 1 : 2, NULL, got, widen,
                                  &nwiden) == CT_OK);
        CT_CHECK(nwiden == 0);
        for (int i = 0; i < NB; i++)
            CT_CHECK_MSG(same(&got[i], &thin[i]), "run %d, building %d: roof %.17g/%.17g (%u/%u bits), ground "
                         "%.17g/%.17g (%u/%u bits)", run, i, got[i].roof_z, thin[i].roof_z, got[i].roof_thin,
                         thin[i].roof_thin, got[i].ground_z, thin[i].ground_z, got[i].ground_thin, thin[i].ground_thin);
    }
    ct_heights_scratch_free(&scratch);
    ct_point_store_destroy(mem);
    ct_point_store_destroy(disk);
    ct_context_destroy(ctx);
    ct_test_points_free(&in);
}

/* Warnings of a run, one a line. */
typedef struct logbook {
    char text[16384];
    size_t len;
} logbook;

static void log_warnings(void *user, ct_log_level level, const char *message) {
    logbook *b = user;
    if (level > CT_LOG_WARN) return;
    int n = snprintf(b->text + b->len, sizeof b->text - b->len, "%s\n", message);
    if (n > 0) b->len = b->len + (size_t)n < sizeof b->text ? b->len + (size_t)n : sizeof b->text - 1;
}

/* Runs the pipeline in file path (json written to it); *ds the dataset (NULL after an
 * error), warnings into *book, the error message into msg. */
static ct_status run_pipeline(const char *path, const char *json, logbook *book, ct_dataset **ds, char *msg,
                              size_t cap) {
    *ds = NULL;
    msg[0] = 0;
    FILE *f = fopen(path, "w");
    if (!f) return CT_ERR_IO;
    fputs(json, f);
    fclose(f);
    ct_context *ctx = ct_context_create();
    if (!ctx) return CT_ERR_NOMEM;
    ct_context_set_threads(ctx, 2);
    ct_context_set_logger(ctx, log_warnings, book, CT_LOG_WARN);
    ct_pipeline *p = NULL;
    ct_status st = ct_pipeline_load(ctx, path, NULL, 0, &p);
    if (st == CT_OK) st = ct_pipeline_run(ctx, p, ds);
    snprintf(msg, cap, "%s", ct_error_message(ctx));
    if (st != CT_OK) {
        ct_dataset_destroy(*ds);
        *ds = NULL;
    }
    ct_pipeline_destroy(p);
    ct_context_destroy(ctx);
    return st;
}

/* The building of id `id`, or NULL. */
static const ct_building *building(const ct_dataset *ds, const char *id) {
    for (size_t i = 0; i < ds->nbuildings; i++)
        if (strcmp(ds->buildings[i].id, id) == 0) return &ds->buildings[i];
    return NULL;
}

static const char *text_attr(const ct_dataset *ds, const ct_building *b, const char *name) {
    int col = ct_dataset_find_attr(ds, name);
    return col < 0 || b->attrs[col].is_null ? "(null)" : b->attrs[col].v.s;
}

/* 3. The stage: flag, warning, memory and disk alike, options refused. */
static void stage(void) {
    const char *bin = ct_test_env("CT_BINARY_DIR", ".");
    char dir[2048], las[2100], geo[2100], pipe[2100], json[8192], msg[1024];
    snprintf(dir, sizeof dir, "%s/test-out", bin);
    mkdir(dir, 0777);
    snprintf(dir, sizeof dir, "%s/test-out/heights_thin", bin);
    mkdir(dir, 0777);
    snprintf(las, sizeof las, "%s/points.las", dir);
    snprintf(geo, sizeof geo, "%s/fp.geojson", dir);
    snprintf(pipe, sizeof pipe, "%s/pipeline.json", dir);
    /* 60 x 60 m at 8 a m² on a centimetre grid (as the LAS stores them): the big
     * footprint (40 x 40 m, edges between centimetres) holds about 6,400 roof points */
    enum { N = 60 * 60 * 8 };
    double *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y), *z = malloc(N * sizeof *z);
    uint8_t *c = malloc(N);
    CT_CHECK(x && y && z && c);
    if (!x || !y || !z || !c) return;
    size_t big_roof = 0;
    for (size_t i = 0; i < N; i++) {
        int roof = unif() < 0.5;
        x[i] = OX + round(6000 * unif()) / 100;
        y[i] = OY + round(6000 * unif()) / 100;
        z[i] = roof ? 10 + round(1000 * unif()) / 100 : 1 + round(100 * unif()) / 100;
        c[i] = roof ? 6 : 2;
        big_roof += roof && x[i] > OX + 10.005 && x[i] < OX + 50.005 && y[i] > OY + 10.005 && y[i] < OY + 50.005;
    }
    CT_CHECK(ct_test_write_las(las, x, y, z, c, N, NULL));
    FILE *f = fopen(geo, "w");
    CT_CHECK(f != NULL);
    if (!f) return;
    fprintf(f, "{\"type\": \"FeatureCollection\", \"crs\": {\"type\": \"name\", \"properties\": {\"name\": "
               "\"urn:ogc:def:crs:EPSG::28992\"}}, \"features\": [");
    const char *ids[2] = {"small", "big"};
    const double box[2][4] = {{OX + 52.005, OY + 52.005, OX + 55.005, OY + 55.005},
                              {OX + 10.005, OY + 10.005, OX + 50.005, OY + 50.005}};
    for (int b = 0; b < 2; b++)
        fprintf(f, "%s{\"type\": \"Feature\", \"properties\": {\"id\": \"%s\"}, \"geometry\": {\"type\": \"Polygon\", "
                   "\"coordinates\": [[[%.3f, %.3f], [%.3f, %.3f], [%.3f, %.3f], [%.3f, %.3f], [%.3f, %.3f]]]}}",
                b ? ", " : "", ids[b], box[b][0], box[b][1], box[b][2], box[b][1], box[b][2], box[b][3], box[b][0],
                box[b][3], box[b][0], box[b][1]);
    fprintf(f, "]}\n");
    CT_CHECK(fclose(f) == 0);
    free(x);
    free(y);
    free(z);
    free(c);

    /* in memory (no limit) and on disk (0.05 MiB) */
    double roof[2] = {0, 0}, ground[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        snprintf(json, sizeof json,
                 "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"%s\", \"id_field\": \"id\"}, "
                 "{\"type\": \"readers.lidar\", \"path\": \"%s\", \"srs\": \"EPSG:28992\", \"memory_limit\": %s}, "
                 "{\"type\": \"filters.heights\", \"max_samples\": %d}]}",
                 geo, las, k ? "0.05" : "0", CAP);
        logbook book = {{0}, 0};
        ct_dataset *ds = NULL;
        ct_status st = run_pipeline(pipe, json, &book, &ds, msg, sizeof msg);
        CT_CHECK_MSG(st == CT_OK && ds, "%s", msg);
        if (!ds) continue;
        const ct_building *big = building(ds, "big"), *small = building(ds, "small");
        CT_CHECK(big && small);
        if (!big || !small) {
            ct_dataset_destroy(ds);
            continue;
        }
        CT_CHECK_MSG(strcmp(text_attr(ds, big, "flag"), "points_thinned") == 0, "big: flag '%s'",
                     text_attr(ds, big, "flag"));
        CT_CHECK_MSG(strcmp(text_attr(ds, small, "flag"), "") == 0, "small: flag '%s'", text_attr(ds, small, "flag"));
        int pc = ct_dataset_find_attr(ds, "point_count");
        CT_CHECK_MSG(pc >= 0 && big->attrs[pc].v.i == (int64_t)big_roof, "big: point_count %lld, %zu roof points",
                     pc >= 0 ? (long long)big->attrs[pc].v.i : -1LL, big_roof);
        char roof_points[64];
        snprintf(roof_points, sizeof roof_points, "of its %zu,%03zu roof points", big_roof / 1000, big_roof % 1000);
        CT_CHECK_MSG(strstr(book.text, "filters.heights: 1 buildings had more than max_samples (1000)") &&
                         strstr(book.text, "first: building big, feature 1: roof heights from 1 in ") &&
                         strstr(book.text, roof_points) && strstr(book.text, "flag points_thinned"),
                     "warnings:\n%s", book.text);
        CT_CHECK_NEAR(big->top_z, 19.0, 0.3);
        roof[k] = big->top_z;
        ground[k] = big->base_z;
        ct_dataset_destroy(ds);
    }
    CT_CHECK_MSG(bits_equal(roof[0], roof[1]) && bits_equal(ground[0], ground[1]),
                 "memory: roof %.17g ground %.17g; disk: roof %.17g ground %.17g", roof[0], ground[0], roof[1],
                 ground[1]);

    /* misuse */
    const char *bad[4] = {"0", "-5", "1.5", "999"};
    for (int k = 0; k < 4; k++) {
        snprintf(json, sizeof json,
                 "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"%s\", \"id_field\": \"id\"}, "
                 "{\"type\": \"readers.lidar\", \"path\": \"%s\", \"srs\": \"EPSG:28992\"}, "
                 "{\"type\": \"filters.heights\", \"max_samples\": %s}]}",
                 geo, las, bad[k]);
        logbook book = {{0}, 0};
        ct_dataset *ds = NULL;
        char want[256];
        snprintf(want, sizeof want, "max_samples must be a whole number from 1000 to 4294967295 (at least 1000 and "
                 "twice min_roof_points and min_ground_points) (got %s)", bad[k]);
        CT_CHECK_MSG(run_pipeline(pipe, json, &book, &ds, msg, sizeof msg) == CT_ERR_USAGE && strstr(msg, want),
                     "max_samples %s: '%s'", bad[k], msg);
        ct_dataset_destroy(ds);
    }
}

int main(void) {
    thin_set_order();
    paths();
    stage();
    return ct_test_finish("test_heights_thin");
}
