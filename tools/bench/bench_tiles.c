/* tools/bench/tiles: writers.3dtiles alone on an extruded city, with and without
 * compression, 1 and 2 threads: tiles/s, MB/s written, bytes per building.
 *
 *   bench_tiles [--city DIR] [--rounds R] [--work DIR]
 *
 * DIR holds tools/synthcity output (footprints.gpkg, points.las); by default the
 * benchmark runs build-rel/tools/synthcity/synthcity for 10,000 buildings at 1 pt/m². */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "citytiler/pipeline.h"
#include "io/outdir.h"
#include "util.h"

static ct_pipeline *load(ct_context *ctx, const char *work, const char *name, const char *json) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.json", work, name);
    FILE *f = fopen(path, "w");
    if (!f) return NULL;
    fputs(json, f);
    fclose(f);
    ct_pipeline *p = NULL;
    if (ct_pipeline_load(ctx, path, NULL, 0, &p) != CT_OK) fprintf(stderr, "bench_tiles: %s\n", ct_error_message(ctx));
    return p;
}

/* Bytes and files under dir (non-recursive into tiles/ only). */
static void dir_size(const char *dir, double *bytes, int *files) {
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "find '%s' -name '*.glb' -printf '%%s\\n'", dir);
    FILE *p = popen(cmd, "r");
    *bytes = 0;
    *files = 0;
    long long b;
    while (p && fscanf(p, "%lld", &b) == 1) {
        *bytes += (double)b;
        (*files)++;
    }
    if (p) pclose(p);
}

int main(int argc, char **argv) {
    const char *city = NULL, *work = "/tmp/citytiler-bench-tiles";
    int rounds = 3;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--city") == 0 && i + 1 < argc) city = argv[++i];
        else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) rounds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--work") == 0 && i + 1 < argc) work = argv[++i];
        else {
            fprintf(stderr, "usage: bench_tiles [--city DIR] [--rounds R] [--work DIR]\n");
            return 2;
        }
    }
    mkdir(work, 0777);
    char citydir[4096];
    if (!city) {
        snprintf(citydir, sizeof citydir, "%s/city", work);
        char cmd[8300];
        snprintf(cmd, sizeof cmd, "build-rel/tools/synthcity/synthcity --buildings 10000 --density 1 --seed 3 --out '%s' > /dev/null",
                 citydir);
        if (system(cmd) != 0) {
            fprintf(stderr, "bench_tiles: cannot run synthcity (run from the repository root after building build-rel)\n");
            return 1;
        }
        city = citydir;
    }
    ct_context *ctx = ct_context_create();
    ct_context_set_threads(ctx, 2);
    char json[16384];
    snprintf(json, sizeof json,
             "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"%s/footprints.gpkg\", \"id_field\": \"id\"},"
             "{\"type\": \"readers.lidar\", \"path\": \"%s/points.las\"}, {\"type\": \"filters.heights\"},"
             "{\"type\": \"filters.clean\"}, {\"type\": \"filters.extrude\"}]}", city, city);
    ct_pipeline *prep = load(ctx, work, "prepare", json);
    ct_dataset *ds = NULL;
    if (!prep || ct_pipeline_run(ctx, prep, &ds) != CT_OK) {
        fprintf(stderr, "bench_tiles: %s\n", ct_error_message(ctx));
        return 1;
    }
    printf("city: %s, %zu buildings extruded\n", city, ds->nbuildings);
    /* Each round writes a new directory, all removed at the end: writing over the previous
     * round's tileset measures ext4 deleting its files more than the writer (see city.sh). */
    const char *modes[] = {"none", "meshopt"};
    char out[4200];
    for (int m = 0; m < 2; m++) {
        for (int threads = 1; threads <= 2; threads++) {
            ct_context_set_threads(ctx, threads);
            double best = 1e30;
            for (int r = 0; r < rounds; r++) {
                snprintf(out, sizeof out, "%s/tiles-%s-%d-%d", work, modes[m], threads, r);
                snprintf(json, sizeof json,
                         "{\"pipeline\": [{\"type\": \"writers.3dtiles\", \"path\": \"%s\", \"compression\": \"%s\"}]}",
                         out, modes[m]);
                ct_pipeline *w = load(ctx, work, modes[m], json);
                if (!w) return 1;
                double t0 = bench_now();
                if (ct_pipeline_run_on(ctx, w, ds) != CT_OK) {
                    fprintf(stderr, "bench_tiles: %s\n", ct_error_message(ctx));
                    return 1;
                }
                double t = bench_now() - t0;
                if (t < best) best = t;
                ct_pipeline_destroy(w);
            }
            double bytes;
            int files;
            dir_size(out, &bytes, &files);
            printf("%-8s threads %d: %6.2f s, %6.0f tiles/s, %6.1f MB/s, %5.0f bytes/building (%d tiles, %.1f MB)\n",
                   modes[m], threads, best, files / best, bytes / best / 1e6, bytes / (double)ds->nbuildings, files,
                   bytes / 1e6);
        }
    }
    for (int m = 0; m < 2; m++)
        for (int threads = 1; threads <= 2; threads++)
            for (int r = 0; r < rounds; r++) {
                snprintf(out, sizeof out, "%s/tiles-%s-%d-%d", work, modes[m], threads, r);
                ct_remove_tree(out);
            }
    ct_dataset_destroy(ds);
    ct_pipeline_destroy(prep);
    ct_context_destroy(ctx);
    printf("peak RSS: %.1f MiB\n", bench_peak_rss_mib());
    return 0;
}
