/* tools/bench/geometry: buildings/s of filters.clean, filters.extrude, clean + extrude
 * and filters.simplify, for 1 and 2 threads, on the real sample repeated to >= 100k
 * buildings.
 *
 *   bench_geometry [--footprints GPKG] [--buildings N] [--rounds R] [--threads T] [--no-simplify]
 *                  [--compare] [--corpus GEOJSON]
 *
 * The footprints (default: the Delft sample) are read once through readers.footprints;
 * shifted copies (a grid, one sample extent plus 50 m apart) fill an in-memory dataset
 * of at least N buildings (default 100000). Each measurement runs a stage through its
 * vtable (options validated with defaults filled, as a pipeline does) on a fresh copy
 * of that dataset, R times (default 3), and reports the best round with its CPU time
 * (user + system; "cores busy" = cpu / wall: below the thread count, other processes
 * had the cores or the threads waited) and minor page faults (first touches of fresh memory: most of
 * filters.extrude's time on a VM, where a fault costs microseconds).
 *
 * Every (threads, heap) measurement runs in a child process (fork), so each starts from
 * the same state: "cold" rounds allocate fresh memory, as a one-shot pipeline run does
 * (each first touch of a page is a page fault: on the PVM-virtualised machines here a
 * fault costs 13-17 us, ~100x bare metal, and faults scale poorly with threads), each
 * cold round in its own process; "warm" rounds follow a discarded round in the same
 * process, with malloc told to keep freed memory (M_TRIM_THRESHOLD), so they measure
 * the computation (plus the faults of the second thread's malloc arena).
 *
 * --compare: per-building microseconds of ct_extrude_footprint on the cleaned sample
 * with ear clipping (the default) and with GEOS's constrained Delaunay triangulation
 * (CT_EXTRUDE_TRIANGULATOR=geos, the former path: validity check + triangulation),
 * and how many footprints of the bad-footprint corpus (after filters.clean) each
 * extrudes into a closed mesh. */
#include <jansson.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/options.h"
#include "citytiler/extrude.h"
#include "citytiler/pipeline.h"
#include "citytiler/stage.h"
#include "util.h"

static void quiet(void *user, ct_log_level level, const char *message) {
    (void)user;
    if (level == CT_LOG_ERROR) fprintf(stderr, "bench_geometry: %s\n", message);
}

/* Runs a pipeline given as JSON text (written to a temporary file). */
static ct_dataset *run_json(ct_context *ctx, const char *json) {
    char path[] = "/tmp/ct-bench-geometry-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return NULL;
    FILE *f = fdopen(fd, "w");
    if (!f) return NULL;
    fputs(json, f);
    fclose(f);
    ct_pipeline *p = NULL;
    ct_dataset *ds = NULL;
    ct_status st = ct_pipeline_load(ctx, path, NULL, 0, &p);
    if (st == CT_OK) st = ct_pipeline_run(ctx, p, &ds);
    if (st != CT_OK) fprintf(stderr, "bench_geometry: %s\n", ct_error_message(ctx));
    ct_pipeline_destroy(p);
    unlink(path);
    return ds;
}

static int copy_footprint(const ct_footprint *src, ct_footprint *dst, double dx, double dy) {
    dst->nparts = 0;
    dst->parts = calloc(src->nparts ? src->nparts : 1, sizeof(ct_polygon));
    if (!dst->parts) return 0;
    for (uint32_t i = 0; i < src->nparts; i++) {
        const ct_polygon *p = &src->parts[i];
        ct_polygon *q = &dst->parts[i];
        uint32_t n = p->ring_start[p->nrings];
        q->nrings = p->nrings;
        q->ring_start = malloc(((size_t)p->nrings + 1) * sizeof *q->ring_start);
        q->xy = malloc(2 * ((size_t)n + 1) * sizeof *q->xy);
        dst->nparts = i + 1;
        if (!q->ring_start || !q->xy) return 0;
        memcpy(q->ring_start, p->ring_start, ((size_t)p->nrings + 1) * sizeof *q->ring_start);
        for (uint32_t k = 0; k < n; k++) {
            q->xy[2 * k] = p->xy[2 * k] + dx;
            q->xy[2 * k + 1] = p->xy[2 * k + 1] + dy;
        }
    }
    return 1;
}

/* A new dataset holding `copies` shifted copies of src's footprints (ids and heights
 * copied; no attributes). */
static ct_dataset *repeat(ct_context *ctx, const ct_dataset *src, size_t copies) {
    double bb[4];
    if (!ct_dataset_bbox(src, bb)) return NULL;
    double sx = bb[2] - bb[0] + 50, sy = bb[3] - bb[1] + 50;
    size_t side = (size_t)ceil(sqrt((double)copies));
    ct_dataset *ds = ct_dataset_create();
    if (!ds) return NULL;
    for (size_t c = 0; c < copies; c++) {
        double dx = sx * (double)(c % side), dy = sy * (double)(c / side);
        for (size_t i = 0; i < src->nbuildings; i++) {
            const ct_building *b = &src->buildings[i];
            ct_building *nb = NULL;
            if (ct_dataset_append(ctx, ds, &nb) != CT_OK) goto fail;
            size_t len = strlen(b->id) + 24;
            nb->id = malloc(len);
            if (!nb->id) goto fail;
            snprintf(nb->id, len, "%s@%zu", b->id, c);
            nb->source_record = b->source_record;
            nb->base_z = b->base_z;
            nb->top_z = b->top_z;
            nb->fallback_height = b->fallback_height;
            if (!copy_footprint(&b->footprint, &nb->footprint, dx, dy)) goto fail;
        }
    }
    return ds;
fail:
    ct_dataset_destroy(ds);
    return NULL;
}

/* Creates stage `type` with options `json` (validated, defaults filled). */
static const ct_stage_vtable *make_stage(ct_context *ctx, const char *type, const char *json, void **state) {
    const ct_stage_vtable *vt = ct_stage_find(type);
    json_t *opts = json_loads(json, 0, NULL);
    ct_option_origin origin = {"bench_geometry", 0, NULL};
    int ok = vt && opts && ct_options_check(ctx, vt, opts, &origin) == CT_OK && vt->create(ctx, opts, state) == CT_OK;
    json_decref(opts);
    if (!ok) {
        fprintf(stderr, "bench_geometry: cannot create %s: %s\n", type, ct_error_message(ctx));
        return NULL;
    }
    return vt;
}

/* CPU seconds (user + system) and minor page faults of the process so far. */
static double cpu_now(long *minflt) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    *minflt = ru.ru_minflt;
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
}

/* Runs stage `type` on ds, returns seconds (negative on error); CPU seconds and page
 * faults added to *cpu and *faults. */
static double time_stage(ct_context *ctx, const char *type, const char *json, ct_dataset *ds, double *cpu,
                         long *faults) {
    void *state = NULL;
    const ct_stage_vtable *vt = make_stage(ctx, type, json, &state);
    if (!vt) return -1;
    long f0, f1;
    double c0 = cpu_now(&f0);
    double t0 = bench_now();
    ct_status st = vt->run(ctx, state, ds);
    double t = bench_now() - t0;
    *cpu = cpu_now(&f1) - c0;
    *faults = f1 - f0;
    vt->destroy(state);
    if (st != CT_OK) {
        fprintf(stderr, "bench_geometry: %s: %s\n", type, ct_error_message(ctx));
        return -1;
    }
    return t;
}

/* Per-building microseconds of ct_extrude_footprint over ds (cleaned), `rounds` times
 * (best round), and the number of failures. */
static double extrude_us(const ct_dataset *ds, int rounds, size_t *failures) {
    ct_extruder *ex = ct_extruder_create();
    if (!ex) return -1;
    double best = INFINITY;
    for (int r = 0; r < rounds; r++) {
        size_t fails = 0;
        double t0 = bench_now();
        for (size_t i = 0; i < ds->nbuildings; i++) {
            ct_mesh m;
            if (ct_extrude_footprint(ex, &ds->buildings[i].footprint, 0, 10, 1, &m) != CT_EXTRUDE_OK) fails++;
            else ct_mesh_free(&m);
        }
        double t = bench_now() - t0;
        if (t < best) best = t;
        *failures = fails;
    }
    ct_extruder_destroy(ex);
    return best / (double)ds->nbuildings * 1e6;
}

/* Footprints of ds extruded into closed meshes (ct_mesh_check_topology). */
static size_t closed_meshes(const ct_dataset *ds, size_t *failed) {
    ct_extruder *ex = ct_extruder_create();
    size_t ok = 0;
    *failed = 0;
    for (size_t i = 0; ex && i < ds->nbuildings; i++) {
        ct_mesh m;
        if (ct_extrude_footprint(ex, &ds->buildings[i].footprint, 0, 10, 1, &m) != CT_EXTRUDE_OK) {
            (*failed)++;
            fprintf(stderr, "    %s: %s\n", ds->buildings[i].id, ct_extruder_reason(ex));
            continue;
        }
        ct_mesh_check c;
        if (ct_mesh_check_topology(&m, &c) == 0 && c.boundary_edges == 0 && c.nonmanifold_edges == 0 &&
            c.misoriented_edges == 0 && c.signed_volume > 0)
            ok++;
        ct_mesh_free(&m);
    }
    ct_extruder_destroy(ex);
    return ok;
}

static void compare(ct_context *ctx, const char *gpkg, const char *corpus, int rounds) {
    char json[8192];
    snprintf(json, sizeof json,
             "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"%s\"}, {\"type\": \"filters.clean\"}]}", gpkg);
    ct_dataset *ds = run_json(ctx, json);
    ct_dataset *cds = NULL;
    if (corpus) {
        snprintf(json, sizeof json,
                 "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"%s\", \"id_field\": \"name\"},"
                 " {\"type\": \"filters.clean\"}]}",
                 corpus);
        cds = run_json(ctx, json);
    }
    if (!ds) return;
    size_t nv = 0, nholes = 0;
    for (size_t i = 0; i < ds->nbuildings; i++)
        for (uint32_t p = 0; p < ds->buildings[i].footprint.nparts; p++) {
            nv += ds->buildings[i].footprint.parts[p].ring_start[ds->buildings[i].footprint.parts[p].nrings];
            nholes += ds->buildings[i].footprint.parts[p].nrings - 1;
        }
    printf("compare: %zu cleaned footprints (%.1f vertices each, %zu holes), %d rounds, 1 thread\n", ds->nbuildings,
           (double)nv / (double)ds->nbuildings, nholes, rounds);
    printf("  %-34s %14s %10s %18s\n", "triangulation", "us/building", "failures", "corpus closed");
    const char *modes[2] = {"earclip", "geos"};
    const char *names[2] = {"ear clipping (GEOS fallback)", "GEOS constrained Delaunay"};
    for (int m = 0; m < 2; m++) {
        setenv("CT_EXTRUDE_TRIANGULATOR", modes[m], 1);
        size_t fails = 0, cfail = 0, cok = 0;
        double us = extrude_us(ds, rounds, &fails);
        if (cds) {
            fprintf(stderr, "  %s: corpus failures:\n", names[m]);
            cok = closed_meshes(cds, &cfail);
        }
        printf("  %-34s %14.2f %10zu %10zu of %zu\n", names[m], us, fails, cok, cds ? cds->nbuildings : 0);
    }
    /* The corpus's 1e5-vertex circle (r = 15 m), uncleaned, and a gear (every other
     * vertex 0.5 m in: 5e4 reflex vertices). */
    for (int shape = 0; shape < 2; shape++) {
        uint32_t n = 100000, rs[2] = {0, n};
        double *xy = malloc(2 * (size_t)n * sizeof *xy);
        if (!xy) break;
        for (uint32_t i = 0; i < n; i++) {
            double a = 2 * 3.14159265358979323846 * i / n, r = 15 - (shape && i % 2 ? 0.5 : 0);
            xy[2 * i] = 86250 + r * cos(a);
            xy[2 * i + 1] = 447000 + r * sin(a);
        }
        ct_polygon p = {1, rs, xy};
        ct_footprint f = {1, &p};
        for (int m = 0; m < 2; m++) {
            setenv("CT_EXTRUDE_TRIANGULATOR", modes[m], 1);
            ct_extruder *ex = ct_extruder_create();
            ct_mesh mesh;
            double t0 = bench_now();
            ct_extrude_result r = ct_extrude_footprint(ex, &f, 0, 10, 1, &mesh);
            double t = bench_now() - t0;
            printf("  %-34s %14.0f %10s   (1e5-vertex %s)\n", names[m], t * 1e6, r == CT_EXTRUDE_OK ? "ok" : "FAILED",
                   shape ? "gear" : "circle");
            if (r == CT_EXTRUDE_OK) ct_mesh_free(&mesh);
            ct_extruder_destroy(ex);
        }
        free(xy);
    }
    unsetenv("CT_EXTRUDE_TRIANGULATOR");
    ct_dataset_destroy(ds);
    ct_dataset_destroy(cds);
}

typedef struct result {
    double best[4], cpu[4];
    long faults[4];
    size_t extruded, n, nsrc, copies;
    double rss_input; /* MiB, before measuring */
    int ok;
} result;

/* One (threads, heap) measurement, in the calling (child) process. */
static result measure(ct_context *ctx, const ct_dataset *big, int threads, int warm, int rounds, int simplify) {
    result res;
    memset(&res, 0, sizeof res);
    for (int k = 0; k < 4; k++) res.best[k] = INFINITY;
    ct_context_set_threads(ctx, threads);
    const char *clean_opts = "{}", *extrude_opts = "{}", *simplify_opts = "{\"tolerance\": 0.5}";
    if (warm) {
        mallopt(M_TRIM_THRESHOLD, 1 << 30);
        mallopt(M_MMAP_THRESHOLD, 1 << 30);
    }
    for (int r = 0; r < rounds + warm; r++) {
        ct_dataset *ds = repeat(ctx, big, 1);
        if (!ds) return res;
        double cc = 0, ce = 0, cs = 0, cc2 = 0;
        long fc = 0, fe = 0, fs = 0, fc2 = 0;
        double tc = time_stage(ctx, "filters.clean", clean_opts, ds, &cc, &fc);
        double te = time_stage(ctx, "filters.extrude", extrude_opts, ds, &ce, &fe);
        res.extruded = ds->nbuildings;
        ct_dataset_destroy(ds);
        double tc2 = 0, ts = 0;
        if (simplify) {
            ds = repeat(ctx, big, 1);
            if (!ds) return res;
            tc2 = time_stage(ctx, "filters.clean", clean_opts, ds, &cc2, &fc2);
            ts = time_stage(ctx, "filters.simplify", simplify_opts, ds, &cs, &fs);
            ct_dataset_destroy(ds);
        }
        if (tc < 0 || te < 0 || tc2 < 0 || ts < 0) return res;
        if (warm && r == 0) continue; /* fills the heap */
        if (tc < res.best[0]) res.best[0] = tc, res.cpu[0] = cc, res.faults[0] = fc;
        if (te < res.best[1]) res.best[1] = te, res.cpu[1] = ce, res.faults[1] = fe;
        if (tc + te < res.best[2]) res.best[2] = tc + te, res.cpu[2] = cc + ce, res.faults[2] = fc + fe;
        if (simplify && ts < res.best[3]) res.best[3] = ts, res.cpu[3] = cs, res.faults[3] = fs;
    }
    res.ok = 1;
    return res;
}

/* Reads the footprints and repeats them into >= want buildings, then measure(). */
static result load_and_measure(ct_context *ctx, const char *gpkg, size_t want, int threads, int warm, int rounds,
                               int simplify) {
    result res;
    memset(&res, 0, sizeof res);
    char json[8192];
    snprintf(json, sizeof json, "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"%s\"}]}", gpkg);
    ct_context_set_threads(ctx, threads);
    ct_dataset *src = run_json(ctx, json);
    if (!src || src->nbuildings == 0) return res;
    size_t copies = (want + src->nbuildings - 1) / src->nbuildings;
    ct_dataset *big = repeat(ctx, src, copies);
    if (big) {
        double rss = bench_peak_rss_mib();
        res = measure(ctx, big, threads, warm, rounds, simplify);
        res.rss_input = rss;
        res.n = big->nbuildings;
        res.nsrc = src->nbuildings;
        res.copies = copies;
    }
    ct_dataset_destroy(big);
    ct_dataset_destroy(src);
    return res;
}

/* Runs load_and_measure() in a child process, so every measurement starts from the
 * same heap, and OpenMP's thread pool is created in the child (libgomp's pool does not
 * survive fork: the parent never runs a parallel region before forking). */
static result measure_forked(ct_context *ctx, const char *gpkg, size_t want, int threads, int warm, int rounds,
                             int simplify) {
    result res;
    memset(&res, 0, sizeof res);
    int fd[2];
    if (pipe(fd) != 0) return res;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        result r = load_and_measure(ctx, gpkg, want, threads, warm, rounds, simplify);
        ssize_t w = write(fd[1], &r, sizeof r);
        _exit(w == (ssize_t)sizeof r ? 0 : 1);
    }
    close(fd[1]);
    if (pid > 0) {
        if (read(fd[0], &res, sizeof res) != (ssize_t)sizeof res) res.ok = 0;
        waitpid(pid, NULL, 0);
    }
    close(fd[0]);
    return res;
}

int main(int argc, char **argv) {
    const char *gpkg = "data-samples/delft/bgt_pand.gpkg", *corpus = NULL;
    size_t want = 100000;
    int rounds = 3, do_compare = 0, simplify = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--footprints") == 0 && i + 1 < argc) gpkg = argv[++i];
        else if (strcmp(argv[i], "--buildings") == 0 && i + 1 < argc) want = (size_t)atol(argv[++i]);
        else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) rounds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--compare") == 0) do_compare = 1;
        else if (strcmp(argv[i], "--no-simplify") == 0) simplify = 0;
        else if (strcmp(argv[i], "--corpus") == 0 && i + 1 < argc) corpus = argv[++i];
        else {
            fprintf(stderr, "usage: bench_geometry [--footprints GPKG] [--buildings N] [--rounds R] [--no-simplify]"
                            " [--compare] [--corpus GEOJSON]\n"
                            "(run from the repository root for the default input)\n");
            return 2;
        }
    }
    if (rounds < 1 || want < 1) return 2;
    char abs_gpkg[4096], abs_corpus[4096];
    if (!realpath(gpkg, abs_gpkg)) snprintf(abs_gpkg, sizeof abs_gpkg, "%s", gpkg);
    if (corpus && !realpath(corpus, abs_corpus)) snprintf(abs_corpus, sizeof abs_corpus, "%s", corpus);
    ct_context *ctx = ct_context_create();
    if (!ctx) return 1;
    ct_context_set_logger(ctx, quiet, NULL, CT_LOG_WARN);
    ct_context_set_threads(ctx, 1); /* no parallel region in this process (see measure_forked) */
    if (do_compare) compare(ctx, abs_gpkg, corpus ? abs_corpus : NULL, rounds * 100);

    size_t n = 0;
    double rss_input = 0;
    const char *label[4] = {"filters.clean", "filters.extrude", "clean + extrude", "filters.simplify (0.5 m)"};
    int failed = 0;
    for (int warm = 0; warm <= 1; warm++) {
        result r[2];
        for (int t = 0; t < 2; t++) {
            if (warm) {
                r[t] = measure_forked(ctx, abs_gpkg, want, t + 1, 1, rounds, 0);
            } else { /* every cold round in a fresh process */
                for (int k = 0; k < rounds; k++) {
                    result one = measure_forked(ctx, abs_gpkg, want, t + 1, 0, 1, simplify);
                    if (!one.ok) r[t].ok = 0;
                    if (k == 0) r[t] = one;
                    else
                        for (int m = 0; m < 4; m++)
                            if (one.best[m] < r[t].best[m])
                                r[t].best[m] = one.best[m], r[t].cpu[m] = one.cpu[m], r[t].faults[m] = one.faults[m];
                }
            }
            if (!r[t].ok) failed = 1;
        }
        if (failed) break;
        if (!n) {
            n = r[0].n;
            rss_input = r[0].rss_input;
            printf("input: %s, %zu footprints x %zu shifted copies = %zu buildings; best of %d rounds\n", gpkg, r[0].nsrc,
                   r[0].copies, n, rounds);
        }
        printf("%s heap%s:\n", warm ? "warm" : "cold",
               warm ? " (freed memory reused: the computation)" : " (fresh memory, page faults included: a one-shot run)");
        printf("  %-26s %14s %14s %9s   %s\n", "", "1 thread", "2 threads", "speed-up",
               "cpu s, page faults, cores busy (1 / 2 threads)");
        for (int k = 0; k < 4; k++) {
            if (k == 3 && (warm || !simplify)) continue;
            double r1 = (double)n / r[0].best[k], r2 = (double)n / r[1].best[k];
            printf("  %-26s %10.0f b/s %10.0f b/s %8.2fx   %.3f, %ld, %.2f / %.3f, %ld, %.2f\n", label[k], r1, r2, r2 / r1,
                   r[0].cpu[k], r[0].faults[k], r[0].cpu[k] / r[0].best[k], r[1].cpu[k], r[1].faults[k],
                   r[1].cpu[k] / r[1].best[k]);
        }
        if (r[0].extruded != n || r[1].extruded != n)
            printf("  note: %zu / %zu of %zu buildings extruded\n", r[0].extruded, r[1].extruded, n);
    }
    printf("goal: clean + extrude >= 100000 buildings/s on 2 threads, speed-up >= 1.8x\n");
    struct rusage ch;
    getrusage(RUSAGE_CHILDREN, &ch);
    printf("peak RSS: %.1f MiB (largest measurement process; %.1f MiB of it after making the input)\n",
           (double)ch.ru_maxrss / 1024.0, rss_input);
    ct_context_destroy(ctx);
    return failed;
}
