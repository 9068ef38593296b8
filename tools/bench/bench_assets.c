/* tools/bench/assets: 100,000 city assets placed (filters.clamp on the LiDAR ground) and
 * written (writers.3dtiles: instanced symbols) over the Delft sample, 1 and 2 threads.
 *
 *   bench_assets [--assets N] [--rounds R] [--work DIR] [--seed S]
 *
 * Run from the repository root (it reads data-samples/delft/). It writes N random assets
 * (id, category street_light/air_quality/bin/camera, x, y in EPSG:28992, heading, status)
 * uniformly over the extent of data-samples/delft/delft_ahn3_every4th_epsg28992.las into
 * WORK/assets.csv, then runs
 *   readers.footprints (bgt_pand.gpkg) + readers.lidar + readers.assets + filters.heights
 *   + filters.clamp + filters.extrude + writers.3dtiles
 * and the same pipeline without readers.assets / filters.clamp (the buildings alone), and
 * prints from the context's stage timings:
 *   - readers.assets: assets/s read (CSV parse + reprojection check);
 *   - filters.clamp: assets/s placed;
 *   - writers.3dtiles: assets/s written, from the writer's time minus the writer's time
 *     of the run without assets (and, as a lower bound, from the writer's whole time);
 * the best of R rounds each, and the process's peak RSS. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "citytiler/context.h"
#include "citytiler/pipeline.h"
#include "util.h"

#define LAS "data-samples/delft/delft_ahn3_every4th_epsg28992.las"
#define GPKG "data-samples/delft/bgt_pand.gpkg"

/* splitmix64: a small deterministic generator. */
static uint64_t rng_state;
static uint64_t rng_next(void) {
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static double rng_unit(void) { return (double)(rng_next() >> 11) / 9007199254740992.0; }

/* The LAS header's x/y extent (LAS 1.0-1.4: max x at 179, min x 187, max y 195, min y 203). */
static int las_extent(const char *path, double bb[4]) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    unsigned char h[227];
    size_t got = fread(h, 1, sizeof h, f);
    fclose(f);
    if (got != sizeof h || memcmp(h, "LASF", 4) != 0) return -1;
    double v[4];
    memcpy(v, h + 179, sizeof v); /* max x, min x, max y, min y */
    bb[0] = v[1]; bb[1] = v[3]; bb[2] = v[0]; bb[3] = v[2];
    return 0;
}

static int write_assets(const char *path, size_t n, const double bb[4]) {
    static const char *const cats[] = {"street_light", "air_quality", "bin", "camera"};
    static const char *const status[] = {"ok", "maintenance", "offline"};
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fprintf(f, "id,category,x,y,heading,status\n");
    for (size_t i = 0; i < n; i++) {
        double x = bb[0] + rng_unit() * (bb[2] - bb[0]), y = bb[1] + rng_unit() * (bb[3] - bb[1]);
        fprintf(f, "A%07zu,%s,%.3f,%.3f,%.1f,%s\n", i, cats[rng_next() % 4], x, y, rng_unit() * 360.0,
                status[rng_next() % 3]);
    }
    return fclose(f);
}

static ct_pipeline *load(ct_context *ctx, const char *work, const char *name, const char *json) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.json", work, name);
    FILE *f = fopen(path, "w");
    if (!f) return NULL;
    fputs(json, f);
    fclose(f);
    ct_pipeline *p = NULL;
    if (ct_pipeline_load(ctx, path, NULL, 0, &p) != CT_OK) fprintf(stderr, "bench_assets: %s\n", ct_error_message(ctx));
    return p;
}

typedef struct times { double assets, clamp, writer, total; } times;

/* One whole run in a fresh context; the stage timings of interest. */
static int run_once(const char *work, const char *name, const char *json, int threads, times *t) {
    ct_context *ctx = ct_context_create();
    if (!ctx) return -1;
    ct_context_set_threads(ctx, threads);
    ct_pipeline *p = load(ctx, work, name, json);
    ct_dataset *ds = NULL;
    int rc = 0;
    double t0 = bench_now();
    if (!p || ct_pipeline_run(ctx, p, &ds) != CT_OK) {
        fprintf(stderr, "bench_assets: %s: %s\n", name, ct_error_message(ctx));
        rc = -1;
    }
    memset(t, 0, sizeof *t);
    t->total = bench_now() - t0;
    size_t n = 0;
    const ct_stage_timing *st = ct_context_stage_timings(ctx, &n);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(st[i].type, "readers.assets") == 0) t->assets += st[i].seconds;
        else if (strcmp(st[i].type, "filters.clamp") == 0) t->clamp += st[i].seconds;
        else if (strcmp(st[i].type, "writers.3dtiles") == 0) t->writer += st[i].seconds;
    }
    if (ds) ct_dataset_destroy(ds);
    if (p) ct_pipeline_destroy(p);
    ct_context_destroy(ctx);
    return rc;
}

static void best_of(times *best, const times *t) {
    best->assets = fmin(best->assets, t->assets);
    best->clamp = fmin(best->clamp, t->clamp);
    best->writer = fmin(best->writer, t->writer);
    best->total = fmin(best->total, t->total);
}

int main(int argc, char **argv) {
    const char *work = "/tmp/citytiler-bench-assets";
    size_t nassets = 100000;
    int rounds = 2;
    rng_state = 42;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--assets") == 0 && i + 1 < argc) nassets = (size_t)strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) rounds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--work") == 0 && i + 1 < argc) work = argv[++i];
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) rng_state = strtoull(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "usage: bench_assets [--assets N] [--rounds R] [--work DIR] [--seed S]\n");
            return 2;
        }
    }
    if (rounds < 1) rounds = 1;
    mkdir(work, 0777);
    double bb[4];
    if (las_extent(LAS, bb) != 0) {
        fprintf(stderr, "bench_assets: cannot read %s (run from the repository root)\n", LAS);
        return 1;
    }
    char csv[4200];
    snprintf(csv, sizeof csv, "%s/assets.csv", work);
    double tg = bench_now();
    if (write_assets(csv, nassets, bb) != 0) {
        fprintf(stderr, "bench_assets: cannot write %s\n", csv);
        return 1;
    }
    printf("%zu assets over [%.1f, %.1f] x [%.1f, %.1f] (EPSG:28992, %.0f m x %.0f m) written to %s in %.2f s\n", nassets,
           bb[0], bb[2], bb[1], bb[3], bb[2] - bb[0], bb[3] - bb[1], csv, bench_now() - tg);

    char cwd[4096];
    if (!realpath(".", cwd)) return 1;
    static const char symbols[] =
        "\"symbols\": {\"street_light\": {\"builtin\": \"pole\"}, \"air_quality\": {\"builtin\": \"box\", \"scale\": 0.4},"
        " \"bin\": {\"builtin\": \"box\", \"scale\": 0.8}, \"camera\": {\"builtin\": \"sphere\", \"scale\": 0.3}}";
    char with[16384], without[16384];
    snprintf(with, sizeof with,
             "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"%s/" GPKG "\", \"id_field\": \"gml_id\"},"
             "{\"type\": \"readers.lidar\", \"path\": \"%s/" LAS "\"},"
             "{\"type\": \"readers.assets\", \"path\": \"%s\", \"srs\": \"EPSG:28992\", \"heading_field\": \"heading\"},"
             "{\"type\": \"filters.heights\"}, {\"type\": \"filters.clamp\"}, {\"type\": \"filters.extrude\"},"
             "{\"type\": \"writers.3dtiles\", \"path\": \"%s/tiles-assets\", %s}]}",
             cwd, cwd, csv, work, symbols);
    snprintf(without, sizeof without,
             "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"%s/" GPKG "\", \"id_field\": \"gml_id\"},"
             "{\"type\": \"readers.lidar\", \"path\": \"%s/" LAS "\"},"
             "{\"type\": \"filters.heights\"}, {\"type\": \"filters.extrude\"},"
             "{\"type\": \"writers.3dtiles\", \"path\": \"%s/tiles-buildings\"}]}",
             cwd, cwd, work);

    printf("%-9s %12s %12s %12s %12s %14s %14s %10s\n", "threads", "read s", "clamp s", "writer s", "writer-0 s",
           "placed/s", "written/s", "total s");
    for (int threads = 1; threads <= 2; threads++) {
        times b = {1e30, 1e30, 1e30, 1e30}, b0 = {1e30, 1e30, 1e30, 1e30}, t;
        for (int r = 0; r < rounds; r++) {
            if (run_once(work, "with-assets", with, threads, &t) != 0) return 1;
            best_of(&b, &t);
            if (run_once(work, "buildings-only", without, threads, &t) != 0) return 1;
            best_of(&b0, &t);
        }
        double wdiff = b.writer - b0.writer;
        printf("%-9d %12.3f %12.3f %12.3f %12.3f %14.0f %14.0f %10.2f\n", threads, b.assets, b.clamp, b.writer, wdiff,
               nassets / b.clamp, wdiff > 0 ? nassets / wdiff : NAN, b.total);
        printf("          read %.0f assets/s; written %.0f assets/s counting the whole writer (buildings too, %.3f s alone)\n",
               nassets / b.assets, nassets / b.writer, b0.writer);
    }
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "du -sb '%s/tiles-assets/assets' | cut -f1", work);
    FILE *p = popen(cmd, "r");
    long long bytes = 0;
    if (p && fscanf(p, "%lld", &bytes) == 1)
        printf("asset tiles: %.1f MB (%.0f bytes/asset)\n", bytes / 1e6, (double)bytes / (double)nassets);
    if (p) pclose(p);
    printf("peak RSS: %.1f MiB\n", bench_peak_rss_mib());
    return 0;
}
