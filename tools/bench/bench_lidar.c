/* tools/bench/lidar: LAS read, read + bin, and per-building heights throughput.
 *
 *   bench_lidar [--las FILE] [--footprints GPKG] [--tiles K] [--rounds R] [--work DIR]
 *               [--reps N] [--readbin-only] [--debug]
 *
 * Makes a K x K tiled copy of a real LAS file (default: the Delft sample, K = 5: 25x
 * the sample; K = 1 reads the file itself, any LAS version) and of its footprints, then prints for 1 and 2 threads: points/s of
 * decoding (x, y, z, class), points/s of read + bin (the readers.lidar stage), and
 * buildings/s of filters.heights' computation, next to the raw read speed of the same
 * warm file (read(2) into a buffer, like cat > /dev/null), and the peak RSS.
 * --reps N (default 3): read-only and read + bin are each timed N times, after one
 * untimed run that loads GDAL and PROJ (best shown, range in brackets), each run right
 * after a raw read of the file: a line's percentage is its best against the best raw
 * read of its own runs (this virtual machine's speed drifts by tens of percent within
 * minutes). Read + bin is the whole readers.lidar stage (open, CRS, both binning passes,
 * and the per-cell fine index that filters.heights queries); "of which binning" is the
 * same runs without the fine index (reading and binning into the processing cells).
 * --readbin-only: stop after read + bin (no heights); --debug: print the stages' debug
 * lines (times of the binning passes and of the index). */
#include <gdal.h>
#include <jansson.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <unistd.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "util.h"
#include "citytiler/heights.h"
#include "citytiler/las.h"
#include "citytiler/pipeline.h"

static double read_only(ct_context *ctx, const char *path, int threads, uint64_t *npts) {
    ct_las_reader *r = NULL;
    if (ct_las_open(ctx, path, &r) != CT_OK) return -1;
    uint64_t n = ct_las_get_header(r)->point_count;
    const size_t chunk = 1 << 20;
    double t0 = bench_now();
    int failed = 0;
#pragma omp parallel num_threads(threads) reduction(| : failed)
    {
        ct_las_points p;
        if (ct_las_points_alloc(ctx, chunk, CT_LAS_XYZ | CT_LAS_CLASS, &p) != CT_OK) failed = 1;
#pragma omp for schedule(static, 1)
        for (long c = 0; c < (long)((n + chunk - 1) / chunk); c++) {
            uint64_t first = (uint64_t)c * chunk;
            size_t cnt = (size_t)(n - first < chunk ? n - first : chunk);
            if (!failed && ct_las_read_points(ctx, r, first, cnt, &p) != CT_OK) failed = 1;
        }
        ct_las_points_free(&p);
    }
    double t = bench_now() - t0;
    ct_las_close(r);
    *npts = n;
    return failed ? -1 : (double)n / t;
}

/* The debug lines: printed with --debug; the index's time is kept for read + bin. */
typedef struct log_state {
    int print;
    double index_ms; /* of the last run */
} log_state;

static void on_log(void *user, ct_log_level level, const char *message) {
    log_state *l = user;
    if (level != CT_LOG_DEBUG) return;
    size_t cells;
    double ms;
    if (sscanf(message, "points: index of %zu cells %lf ms", &cells, &ms) == 2) l->index_ms = ms;
    if (l->print) fprintf(stderr, "  %s\n", message);
}

/* Runs `json` as a pipeline and returns the dataset (timing in *secs). */
static ct_dataset *run_pipeline(ct_context *ctx, const char *work, const char *name, const char *json, double *secs) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.json", work, name);
    FILE *f = fopen(path, "w");
    if (!f) return NULL;
    fputs(json, f);
    fclose(f);
    ct_pipeline *p = NULL;
    ct_dataset *ds = NULL;
    double t0 = bench_now();
    ct_status st = ct_pipeline_load(ctx, path, NULL, 0, &p);
    if (st == CT_OK) st = ct_pipeline_run(ctx, p, &ds);
    *secs = bench_now() - t0;
    if (st != CT_OK) fprintf(stderr, "bench_lidar: %s\n", ct_error_message(ctx));
    ct_pipeline_destroy(p);
    return ds;
}

/* Copies building b's footprint shifted by (dx, dy) into a new building of ds. */
static int append_shifted(ct_context *ctx, ct_dataset *ds, size_t b, double dx, double dy) {
    ct_building *nb = NULL;
    if (ct_dataset_append(ctx, ds, &nb) != CT_OK) return 0;
    const ct_footprint *src = &ds->buildings[b].footprint;
    nb->footprint.parts = calloc(src->nparts, sizeof(ct_polygon));
    if (!nb->footprint.parts) return 0;
    nb->footprint.nparts = src->nparts;
    for (uint32_t i = 0; i < src->nparts; i++) {
        const ct_polygon *p = &src->parts[i];
        ct_polygon *q = &nb->footprint.parts[i];
        uint32_t n = p->ring_start[p->nrings];
        q->nrings = p->nrings;
        q->ring_start = malloc((p->nrings + 1) * sizeof *q->ring_start);
        q->xy = malloc(2 * (size_t)n * sizeof *q->xy);
        if (!q->ring_start || !q->xy) return 0;
        memcpy(q->ring_start, p->ring_start, (p->nrings + 1) * sizeof *q->ring_start);
        for (uint32_t k = 0; k < n; k++) {
            q->xy[2 * k] = p->xy[2 * k] + dx;
            q->xy[2 * k + 1] = p->xy[2 * k + 1] + dy;
        }
    }
    return 1;
}

/* Writes the dataset's footprints to a GeoPackage (layer "buildings", field id). */
static int write_gpkg(const ct_dataset *ds, const char *path) {
    GDALAllRegister();
    GDALDriverH drv = GDALGetDriverByName("GPKG");
    unlink(path);
    GDALDatasetH out = drv ? GDALCreate(drv, path, 0, 0, 0, GDT_Unknown, NULL) : NULL;
    if (!out) return 0;
    OGRSpatialReferenceH srs = OSRNewSpatialReference(ds->crs_wkt);
    OGRLayerH layer = GDALDatasetCreateLayer(out, "buildings", srs, wkbPolygon, NULL);
    OGRFieldDefnH fd = OGR_Fld_Create("id", OFTString);
    OGR_L_CreateField(layer, fd, TRUE);
    OGR_Fld_Destroy(fd);
    GDALDatasetStartTransaction(out, FALSE);
    int ok = layer != NULL;
    for (size_t i = 0; ok && i < ds->nbuildings; i++) {
        const ct_polygon *p = &ds->buildings[i].footprint.parts[0];
        OGRGeometryH poly = OGR_G_CreateGeometry(wkbPolygon);
        for (uint32_t r = 0; r < p->nrings; r++) {
            OGRGeometryH ring = OGR_G_CreateGeometry(wkbLinearRing);
            for (uint32_t k = 0; k <= ct_ring_size(p, r); k++) {
                uint32_t j = p->ring_start[r] + k % ct_ring_size(p, r);
                OGR_G_AddPoint_2D(ring, p->xy[2 * j], p->xy[2 * j + 1]);
            }
            OGR_G_AddGeometryDirectly(poly, ring);
        }
        OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(layer));
        char id[32];
        snprintf(id, sizeof id, "b%zu", i);
        OGR_F_SetFieldString(f, 0, id);
        OGR_F_SetGeometryDirectly(f, poly);
        ok = OGR_L_CreateFeature(layer, f) == OGRERR_NONE;
        OGR_F_Destroy(f);
    }
    GDALDatasetCommitTransaction(out);
    OSRRelease(srs);
    GDALClose(out);
    return ok;
}

int main(int argc, char **argv) {
    const char *las = "data-samples/delft/delft_ahn3_every4th_epsg28992.las";
    const char *gpkg = "data-samples/delft/bgt_pand.gpkg";
    const char *work = "/tmp/citytiler-bench";
    int tiles = 5, rounds = 20, reps = 3, readbin_only = 0, debug = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--las") == 0 && i + 1 < argc) las = argv[++i];
        else if (strcmp(argv[i], "--footprints") == 0 && i + 1 < argc) gpkg = argv[++i];
        else if (strcmp(argv[i], "--tiles") == 0 && i + 1 < argc) tiles = atoi(argv[++i]);
        else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) rounds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--work") == 0 && i + 1 < argc) work = argv[++i];
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) reps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--readbin-only") == 0) readbin_only = 1;
        else if (strcmp(argv[i], "--debug") == 0) debug = 1;
        else {
            fprintf(stderr, "usage: bench_lidar [--las FILE] [--footprints GPKG] [--tiles K] [--rounds R] [--work DIR]\n"
                            "                   [--reps N] [--readbin-only] [--debug]\n"
                            "(run from the repository root for the default inputs)\n");
            return 2;
        }
    }
    if (tiles < 1 || rounds < 1 || reps < 1) return 2;
    mkdir(work, 0777);
    char big[4096];
    snprintf(big, sizeof big, "%s/tiled_%dx%d.las", work, tiles, tiles);
    double dx = 0, dy = 0;
    if (tiles == 1) snprintf(big, sizeof big, "%s", las); /* no copy: LAS 1.4 (PDRF 6-10) too */
    else if (bench_tile_las(las, big, tiles, &dx, &dy) != 0) {
        fprintf(stderr, "bench_lidar: cannot make %s from %s (LAS 1.0-1.3 input needed)\n", big, las);
        return 1;
    }
    struct stat sb;
    stat(big, &sb);
    bench_raw_read(big); /* warm the page cache */
    double raw = bench_raw_read(big);
    printf("input: %s x %d x %d = %s (%.1f MB)\n", las, tiles, tiles, big, (double)sb.st_size / 1e6);
    printf("raw read (read(2), warm, like cat > /dev/null): %.0f MB/s at the start; each line below is against\n"
           "the best raw read of its own runs\n", raw / 1e6);

    ct_context *ctx = ct_context_create();
    log_state logs = {debug, 0};
    if (ctx) ct_context_set_logger(ctx, on_log, &logs, CT_LOG_DEBUG);
    for (int threads = 1; threads <= 2; threads++) {
        uint64_t n = 0;
        double pps = 0, lo = INFINITY, best_raw = 0, cpu = INFINITY;
        for (int k = 0; k < reps; k++) {
            double r = bench_raw_read(big);
            if (r > best_raw) best_raw = r;
            double c0 = bench_cpu_seconds();
            double v = read_only(ctx, big, threads, &n);
            double c = bench_cpu_seconds() - c0;
            if (v > pps) pps = v;
            if (v < lo) lo = v;
            if (c < cpu) cpu = c;
        }
        double rec = (double)sb.st_size / (double)n; /* bytes per point incl. header share */
        printf("threads %d: read only       %7.1f Mpoints/s (%6.0f MB/s, %.0f%% of raw %.0f MB/s)", threads, pps / 1e6,
               pps * rec / 1e6, 100.0 * pps * rec / best_raw, best_raw / 1e6);
        if (reps > 1) printf(" [%.1f-%.1f]", lo / 1e6, pps / 1e6);
        printf(", CPU %.2f s (user + system, least)\n", cpu);
    }
    {   /* untimed: the first pipeline run also loads GDAL's drivers and PROJ's database */
        char json[8192];
        snprintf(json, sizeof json, "{\"pipeline\": [{\"type\": \"readers.lidar\", \"path\": \"%s\"}]}", big);
        double t = 0;
        ct_dataset_destroy(run_pipeline(ctx, work, "warmup", json, &t));
    }
    for (int threads = 1; threads <= 2; threads++) {
        ct_context_set_threads(ctx, threads);
        char json[8192];
        snprintf(json, sizeof json, "{\"pipeline\": [{\"type\": \"readers.lidar\", \"path\": \"%s\"}]}", big);
        double secs = INFINITY, worst = 0, best_raw = 0, bin_secs = INFINITY, index_secs = INFINITY;
        ct_dataset *ds = NULL;
        for (int k = 0; k < reps; k++) {
            double t = 0;
            ct_dataset_destroy(ds);
            ds = NULL;
            double r = bench_raw_read(big);
            if (r > best_raw) best_raw = r;
            logs.index_ms = 0;
            ds = run_pipeline(ctx, work, "readbin", json, &t);
            if (!ds) return 1;
            if (t < secs) secs = t;
            if (t - logs.index_ms / 1e3 < bin_secs) bin_secs = t - logs.index_ms / 1e3;
            if (logs.index_ms / 1e3 < index_secs) index_secs = logs.index_ms / 1e3;
            if (t > worst) worst = t;
        }
        uint64_t n = ct_point_store_count(ds->points);
        printf("threads %d: read + bin      %7.1f Mpoints/s (%6.0f MB/s, %.0f%% of raw %.0f MB/s), %zu cells, %.0f MiB store",
               threads, (double)n / secs / 1e6, (double)sb.st_size / secs / 1e6, 100.0 * (double)sb.st_size / secs / best_raw,
               best_raw / 1e6, ct_point_store_cell_count(ds->points), (double)ct_point_store_bytes(ds->points) / 1048576.0);
        if (reps > 1) printf(" [%.1f-%.1f]", (double)n / worst / 1e6, (double)n / secs / 1e6);
        printf("\n");
        printf("           of which binning %7.1f Mpoints/s (%6.0f MB/s, %.0f%% of raw), fine index %.1f ms\n",
               (double)n / bin_secs / 1e6, (double)sb.st_size / bin_secs / 1e6, 100.0 * (double)sb.st_size / bin_secs / best_raw,
               index_secs * 1e3);
        ct_dataset_destroy(ds);
    }

    if (readbin_only) {
        ct_context_destroy(ctx);
        printf("peak RSS: %.1f MiB\n", bench_peak_rss_mib());
        return 0;
    }
    /* Heights: the footprints tiled like the points, computed `rounds` times. */
    char json[16384];
    char abs_gpkg[4096];
    if (!realpath(gpkg, abs_gpkg)) snprintf(abs_gpkg, sizeof abs_gpkg, "%s", gpkg);
    snprintf(json, sizeof json,
             "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"%s\"}, {\"type\": \"readers.lidar\", \"path\": \"%s\", \"crop\": false}]}",
             abs_gpkg, big);
    double secs = 0;
    ct_context_set_threads(ctx, 2);
    ct_dataset *ds = run_pipeline(ctx, work, "heights", json, &secs);
    if (!ds) return 1;
    size_t base = ds->nbuildings;
    for (int ty = 0; ty < tiles; ty++)
        for (int tx = 0; tx < tiles; tx++)
            for (size_t b = 0; (tx || ty) && b < base; b++)
                if (!append_shifted(ctx, ds, b, dx * tx, dy * ty)) return 1;
    char tiled_gpkg[4096];
    snprintf(tiled_gpkg, sizeof tiled_gpkg, "%s/tiled_%dx%d.gpkg", work, tiles, tiles);
    if (!write_gpkg(ds, tiled_gpkg)) fprintf(stderr, "bench_lidar: cannot write %s\n", tiled_gpkg);
    else printf("footprints: %zu buildings in %s (for tools/bench/memory.sh)\n", ds->nbuildings, tiled_gpkg);
    ct_heights_params prm;
    memset(&prm, 0, sizeof prm);
    prm.roof_percentile = 90;
    prm.ground_percentile = 10;
    prm.buffer = 3;
    prm.max_buffer = 24;
    prm.min_roof_points = 5;
    prm.min_ground_points = 3;
    prm.roof_class[6] = 1;
    prm.ground_class[2] = 1;
    for (int threads = 1; threads <= 2; threads++) {
        double t0 = bench_now();
        struct timespec c0, c1; /* this thread's CPU time: the 1-thread figure without other load */
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
        long n = (long)ds->nbuildings;
        double sum = 0;
        for (int r = 0; r < rounds; r++) {
#pragma omp parallel num_threads(threads) reduction(+ : sum)
            {
                ct_heights_scratch s;
                memset(&s, 0, sizeof s);
#pragma omp for schedule(dynamic, 32)
                for (long i = 0; i < n; i++) {
                    ct_heights_result res;
                    if (ct_heights_compute(ds->points, &ds->buildings[i].footprint, &prm, &s, &res) == CT_OK &&
                        isfinite(res.roof_z))
                        sum += res.roof_z;
                }
                ct_heights_scratch_free(&s);
            }
        }
        double t = bench_now() - t0;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
        double cpu = (double)(c1.tv_sec - c0.tv_sec) + 1e-9 * (double)(c1.tv_nsec - c0.tv_nsec);
        printf("threads %d: heights         %7.0f buildings/s (%ld buildings x %d rounds; checksum %.1f)", threads,
               (double)n * rounds / t, n, rounds, sum / rounds);
        if (threads == 1) printf(", %.0f per CPU-second", (double)n * rounds / cpu);
        printf("\n");
    }
    ct_dataset_destroy(ds);
    ct_context_destroy(ctx);
    printf("peak RSS: %.1f MiB\n", bench_peak_rss_mib());
    return 0;
}
