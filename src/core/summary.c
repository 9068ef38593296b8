/* The run summary: what went in, what came out, what was skipped and why, how long each
 * stage took and how much memory the run needed — for batch logs and dashboards — and
 * the pipeline as it ran (every option), to see and repeat what made the tiles. */
#include "citytiler/summary.h"

#include <jansson.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

#include "citytiler/assets.h"
#include "citytiler/points.h"
#include "citytiler/version.h"
#include "core/rank_band.h"

uint64_t ct_peak_rss_bytes(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    uint64_t peak = (uint64_t)ru.ru_maxrss * 1024u; /* Linux reports KiB */
    /* The kernel updates its high-water mark lazily: it may lag the resident size read
     * now ("memory 88 MiB, peak 87 MiB"). The peak is at least that. */
    uint64_t now = ct_current_rss_bytes();
    return now > peak ? now : peak;
}

uint64_t ct_current_rss_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return 0;
    unsigned long long size = 0, resident = 0;
    int ok = fscanf(f, "%llu %llu", &size, &resident) == 2;
    fclose(f);
    long page = sysconf(_SC_PAGESIZE);
    return ok && page > 0 ? (uint64_t)resident * (uint64_t)page : 0;
}

static json_t *reasons(const ct_reason_count *r, size_t n) {
    json_t *o = json_object();
    for (size_t i = 0; o && i < n; i++) json_object_set_new(o, r[i].reason, json_integer((json_int_t)r[i].count));
    return o;
}

ct_status ct_run_summary(ct_context *ctx, const ct_dataset *ds, const char *current_stage, double current_seconds,
                         double current_cpu_seconds, json_t *output, json_t **out) {
    json_t *j = json_object(), *in = json_object(), *res = json_object(), *stages = json_array();
    if (!j || !in || !res || !stages) {
        json_decref(j); json_decref(in); json_decref(res); json_decref(stages);
        return ct_error_nomem(ctx, "run summary");
    }
    json_object_set_new(j, "citytiler", json_string(ct_version()));
    json_object_set_new(j, "threads", json_integer(ct_context_threads(ctx)));
    int part_k = 0, part_n = 1;
    ct_context_partition(ctx, &part_k, &part_n);
    if (part_n > 1) {
        char part[48];
        snprintf(part, sizeof part, "%d/%d", part_k, part_n);
        json_object_set_new(j, "partition", json_string(part));
    }
    if (ct_context_memory_limit(ctx) > 0)
        json_object_set_new(j, "memory_limit_mib", json_real(ct_context_memory_limit(ctx)));
    if (ct_context_resume(ctx)) json_object_set_new(j, "resumed", json_true());
    json_object_set_new(in, "features", json_integer((json_int_t)ds->input_features));
    if (ds->points) {
        /* (under MPI bands, the points of every process, each counted once, as one process keeps them) */
        json_object_set_new(in, "lidar_points_kept", json_integer((json_int_t)(ds->band ? ds->band->kept_all
                                                                                        : ct_point_store_count(ds->points))));
        if (ds->band)
            json_object_set_new(in, "lidar_points_kept_by_this_process",
                                json_integer((json_int_t)ct_point_store_count(ds->points)));
        json_object_set_new(in, "lidar_cells", json_integer((json_int_t)ct_point_store_cell_count(ds->points)));
        json_object_set_new(in, "lidar_points_on_disk", json_boolean(ct_point_store_on_disk(ds->points)));
    }
    if (ds->assets) {
        json_object_set_new(in, "asset_rows", json_integer((json_int_t)ds->assets->input_rows));
        json_object_set_new(in, "assets_kept", json_integer((json_int_t)ds->assets->n));
        json_object_set_new(in, "assets_skipped", reasons(ds->assets->skipped, ds->assets->nskipped));
    }
    if (ds->sources) json_object_set(in, "sources", ds->sources);
    json_object_set_new(j, "inputs", in);
    json_object_set_new(res, "buildings", json_integer((json_int_t)ds->nbuildings));
    if (output) json_object_set(res, "tiles", output);
    json_object_set_new(j, "outputs", res);
    json_object_set_new(j, "skipped", reasons(ds->skipped, ds->nskipped));
    json_object_set_new(j, "changed", reasons(ds->changed, ds->nchanged));
    size_t nt = 0;
    const ct_stage_timing *t = ct_context_stage_timings(ctx, &nt);
    for (size_t i = 0; i < nt; i++) {
        json_t *s = json_object();
        json_object_set_new(s, "type", json_string(t[i].type));
        json_object_set_new(s, "seconds", json_real(t[i].seconds));
        json_object_set_new(s, "cpu_seconds", json_real(t[i].cpu_seconds));
        json_object_set_new(s, "buildings_after", json_integer((json_int_t)t[i].buildings_after));
        json_object_set_new(s, "rss_bytes_after", json_integer((json_int_t)t[i].rss_bytes));
        json_object_set_new(s, "peak_rss_bytes_after", json_integer((json_int_t)t[i].peak_rss_bytes));
        json_array_append_new(stages, s);
    }
    if (current_stage) {
        json_t *s = json_object();
        json_object_set_new(s, "type", json_string(current_stage));
        json_object_set_new(s, "seconds", json_real(current_seconds));
        json_object_set_new(s, "cpu_seconds", json_real(current_cpu_seconds));
        json_object_set_new(s, "buildings_after", json_integer((json_int_t)ds->nbuildings));
        /* (the writer, still running: its memory as the summary is written, as for the others) */
        json_object_set_new(s, "rss_bytes_after", json_integer((json_int_t)ct_current_rss_bytes()));
        json_object_set_new(s, "peak_rss_bytes_after", json_integer((json_int_t)ct_peak_rss_bytes()));
        json_array_append_new(stages, s);
    }
    json_object_set_new(j, "stages", stages);
    json_object_set_new(j, "wall_seconds", json_real(ct_context_elapsed(ctx)));
    json_object_set_new(j, "peak_rss_bytes", json_integer((json_int_t)ct_peak_rss_bytes()));
    if (ct_context_pipeline_json(ctx)) json_object_set(j, "pipeline", ct_context_pipeline_json(ctx));
    *out = j;
    return CT_OK;
}
