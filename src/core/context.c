/* The run context. Errors and logging go through a mutex so that stages may
 * report from OpenMP worker threads. */
#include "citytiler/context.h"
#include "citytiler/stage.h"
#include "citytiler/summary.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct ct_context {
    pthread_mutex_t lock;
    ct_status code;
    char message[2048];
    ct_log_fn log_fn;
    void *log_user;
    ct_log_level log_max;
    ct_progress_fn progress_fn;
    void *progress_user;
    int threads;
    int resume;
    double memory_limit_mib;
    int part_k, part_n, merge;
    int measure_only;
    ct_barrier_fn barrier_fn;
    void *barrier_user;
    ct_allgather_fn allgather_fn;
    void *allgather_user;
    double point_reach; /* the largest declared (NAN: anywhere) */
    int point_reach_declarations;
    char *work_dir;         /* shared by partitions and the merge, or NULL */
    char **result_keys;     /* ct_context_declare_partition_results (NULL entries: cannot) */
    size_t nresult_keys;
    ct_stage_timing *timings;
    size_t ntimings;
    json_t *pipeline; /* as run, for the summary */
    const char *stage; /* the stage running now, or NULL */
    struct timespec start;
    atomic_int output_done; /* ct_context_set_output_done (read by the CLI's stop thread) */
    const ct_stage_vtable **added_stages; /* ct_context_add_stage */
    size_t nadded_stages;
};

ct_context *ct_context_create(void) {
    ct_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return NULL;
    if (pthread_mutex_init(&ctx->lock, NULL) != 0) {
        free(ctx);
        return NULL;
    }
    ctx->threads = 1;
    ctx->part_n = 1;
    ctx->log_max = CT_LOG_INFO;
    clock_gettime(CLOCK_MONOTONIC, &ctx->start);
    return ctx;
}

void ct_context_destroy(ct_context *ctx) {
    if (!ctx) return;
    pthread_mutex_destroy(&ctx->lock);
    free(ctx->timings);
    free(ctx->work_dir);
    for (size_t i = 0; i < ctx->nresult_keys; i++) free(ctx->result_keys[i]);
    free(ctx->result_keys);
    json_decref(ctx->pipeline);
    free(ctx->added_stages);
    free(ctx);
}

/* readers.NAME, filters.NAME or writers.NAME, NAME of letters, digits and _ (what a
 * pipeline file and --set stage.option=value can name). */
static int stage_type_name(const char *type) {
    static const char *const kinds[] = {"readers.", "filters.", "writers."};
    for (size_t k = 0; k < 3; k++) {
        size_t n = strlen(kinds[k]);
        if (strncmp(type, kinds[k], n) != 0 || !type[n]) continue;
        for (const char *c = type + n; *c; c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_'))
                return 0;
        return 1;
    }
    return 0;
}

ct_status ct_context_add_stage(ct_context *ctx, const ct_stage_vtable *vt) {
    if (!vt || !vt->type || !vt->create || !vt->run || !vt->destroy || !vt->options)
        return ct_error(ctx, CT_ERR_USAGE, "adding a stage: its type, create, run, destroy and options must all be set");
    if (!stage_type_name(vt->type))
        return ct_error(ctx, CT_ERR_USAGE,
                        "adding stage '%s': a type is readers.NAME, filters.NAME or writers.NAME (NAME of letters, digits and _)",
                        vt->type);
    if (ct_stage_lookup(ctx, vt->type))
        return ct_error(ctx, CT_ERR_USAGE, "adding stage '%s': that type is already %s", vt->type,
                        ct_stage_find(vt->type) ? "built in" : "added");
    const ct_stage_vtable **grown = realloc(ctx->added_stages, (ctx->nadded_stages + 1) * sizeof *grown);
    if (!grown) return ct_error_nomem(ctx, "adding a stage");
    grown[ctx->nadded_stages++] = vt;
    ctx->added_stages = grown;
    return CT_OK;
}

const ct_stage_vtable *ct_stage_lookup(const ct_context *ctx, const char *type) {
    for (size_t i = 0; ctx && type && i < ctx->nadded_stages; i++)
        if (strcmp(ctx->added_stages[i]->type, type) == 0) return ctx->added_stages[i];
    return type ? ct_stage_find(type) : NULL;
}

void ct_context_set_logger(ct_context *ctx, ct_log_fn fn, void *user, ct_log_level max_level) {
    ctx->log_fn = fn;
    ctx->log_user = user;
    ctx->log_max = max_level;
}

void ct_context_set_progress(ct_context *ctx, ct_progress_fn fn, void *user) {
    ctx->progress_fn = fn;
    ctx->progress_user = user;
}

void ct_context_set_threads(ct_context *ctx, int n) { ctx->threads = n < 1 ? 1 : n; }
int ct_context_threads(const ct_context *ctx) { return ctx->threads; }

/* Formats into buf (size bytes, at least 128). A longer text keeps its start and its end,
 * where the problem is said ("PATH: no such file"), around a note of what was left out:
 * cut at the end only, a 100,000-character path left an error that never said what was
 * wrong. Cuts fall between UTF-8 characters. */
static void format_bounded(char *buf, size_t size, const char *fmt, va_list ap) {
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(buf, size, fmt, ap);
    char *full = n >= 0 && (size_t)n >= size ? malloc((size_t)n + 1) : NULL;
    if (full) { /* (out of memory: the start alone) */
        vsnprintf(full, (size_t)n + 1, fmt, again);
        size_t len = (size_t)n, keep = size - 1 - 48; /* 48: room for the note */
        size_t head = keep / 2, tail = len - (keep - head);
        while (head > 0 && ((unsigned char)full[head] & 0xC0) == 0x80) head--;
        while (tail < len && ((unsigned char)full[tail] & 0xC0) == 0x80) tail++;
        snprintf(buf, size, "%.*s [... %zu characters left out ...] %s", (int)head, full, tail - head, full + tail);
        free(full);
    }
    va_end(again);
}

ct_status ct_error(ct_context *ctx, ct_status code, const char *fmt, ...) {
    if (!ctx) return code; /* a probe whose failure is not an error of the run */
    pthread_mutex_lock(&ctx->lock);
    if (ctx->code == CT_OK) {
        va_list ap;
        va_start(ap, fmt);
        format_bounded(ctx->message, sizeof ctx->message, fmt, ap);
        va_end(ap);
        ctx->code = code;
    }
    pthread_mutex_unlock(&ctx->lock);
    return code;
}

ct_status ct_error_nomem(ct_context *ctx, const char *what) {
    return ct_error(ctx, CT_ERR_NOMEM, "out of memory while allocating %s", what);
}

ct_status ct_error_code(const ct_context *ctx) { return ctx->code; }
const char *ct_error_message(const ct_context *ctx) { return ctx->message; }

void ct_error_clear(ct_context *ctx) {
    pthread_mutex_lock(&ctx->lock);
    ctx->code = CT_OK;
    ctx->message[0] = '\0';
    pthread_mutex_unlock(&ctx->lock);
}

void ct_log(ct_context *ctx, ct_log_level level, const char *fmt, ...) {
    if (!ctx->log_fn || level > ctx->log_max) return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    format_bounded(line, sizeof line, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&ctx->lock);
    ctx->log_fn(ctx->log_user, level, line);
    pthread_mutex_unlock(&ctx->lock);
}

void ct_progress(ct_context *ctx, const char *what, uint64_t done, uint64_t total) {
    if (!ctx->progress_fn) return;
    /* (the writer reports from its worker threads: the callback's state is not theirs) */
    pthread_mutex_lock(&ctx->lock);
    ctx->progress_fn(ctx->progress_user, what, done, total);
    pthread_mutex_unlock(&ctx->lock);
}

void ct_context_record_stage(ct_context *ctx, const char *type, double seconds, double cpu_seconds,
                             uint64_t buildings_after) {
    ct_stage_timing *t = realloc(ctx->timings, (ctx->ntimings + 1) * sizeof *t);
    if (!t) return; /* the summary then lacks this line; nothing else depends on it */
    ctx->timings = t;
    snprintf(t[ctx->ntimings].type, sizeof t[ctx->ntimings].type, "%s", type);
    t[ctx->ntimings].seconds = seconds;
    t[ctx->ntimings].cpu_seconds = cpu_seconds;
    t[ctx->ntimings].buildings_after = buildings_after;
    t[ctx->ntimings].rss_bytes = ct_current_rss_bytes();
    t[ctx->ntimings].peak_rss_bytes = ct_peak_rss_bytes();
    ctx->ntimings++;
}

void ct_context_set_pipeline_json(ct_context *ctx, json_t *pipeline) {
    json_incref(pipeline);
    json_decref(ctx->pipeline);
    ctx->pipeline = pipeline;
}

json_t *ct_context_pipeline_json(const ct_context *ctx) { return ctx->pipeline; }

void ct_context_set_current_stage(ct_context *ctx, const char *type) { ctx->stage = type; }
const char *ct_context_current_stage(const ct_context *ctx) { return ctx->stage; }
void ct_context_set_output_done(ct_context *ctx) { atomic_store(&ctx->output_done, 1); }
int ct_context_output_done(const ct_context *ctx) { return atomic_load(&((ct_context *)ctx)->output_done); }

const ct_stage_timing *ct_context_stage_timings(const ct_context *ctx, size_t *n) {
    *n = ctx->ntimings;
    return ctx->timings;
}

double ct_process_cpu_seconds(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0) return 0;
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double ct_context_elapsed(const ct_context *ctx) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - ctx->start.tv_sec) + 1e-9 * (double)(now.tv_nsec - ctx->start.tv_nsec);
}

void ct_context_set_resume(ct_context *ctx, int resume) { ctx->resume = resume; }
int ct_context_resume(const ct_context *ctx) { return ctx->resume; }

void ct_context_set_partition(ct_context *ctx, int k, int n) {
    ctx->part_n = n < 1 ? 1 : n;
    ctx->part_k = k < 0 || k >= ctx->part_n ? 0 : k;
}

void ct_context_partition(const ct_context *ctx, int *k, int *n) {
    *k = ctx->part_k;
    *n = ctx->part_n;
}

void ct_context_set_merge(ct_context *ctx, int merge) { ctx->merge = merge; }
int ct_context_merge(const ct_context *ctx) { return ctx->merge; }

void ct_context_set_barrier(ct_context *ctx, ct_barrier_fn fn, void *user) {
    ctx->barrier_fn = fn;
    ctx->barrier_user = user;
}

int ct_context_has_barrier(const ct_context *ctx) { return ctx->barrier_fn != NULL; }

void ct_context_set_allgather(ct_context *ctx, ct_allgather_fn fn, void *user) {
    ctx->allgather_fn = fn;
    ctx->allgather_user = user;
}

int ct_context_has_allgather(const ct_context *ctx) { return ctx->allgather_fn != NULL; }

void ct_context_declare_point_reach(ct_context *ctx, double metres) {
    ctx->point_reach_declarations++;
    if (isnan(ctx->point_reach)) return;
    if (!(metres >= 0) || isinf(metres)) ctx->point_reach = NAN;
    else if (metres > ctx->point_reach) ctx->point_reach = metres;
}

double ct_context_point_reach(const ct_context *ctx) { return ctx->point_reach; }
int ct_context_point_reach_declarations(const ct_context *ctx) { return ctx->point_reach_declarations; }

void ct_context_set_measure_only(ct_context *ctx, int on) { ctx->measure_only = on != 0; }
int ct_context_measure_only(const ct_context *ctx) { return ctx->measure_only; }

int ct_context_set_work_dir(ct_context *ctx, const char *dir) {
    char *copy = dir ? strdup(dir) : NULL;
    if (dir && !copy) return 0;
    free(ctx->work_dir);
    ctx->work_dir = copy;
    return 1;
}

const char *ct_context_work_dir(const ct_context *ctx) { return ctx->work_dir; }

int ct_context_declare_partition_results(ct_context *ctx, const char *key) {
    char *copy = key ? strdup(key) : NULL;
    char **keys = realloc(ctx->result_keys, (ctx->nresult_keys + 1) * sizeof *keys);
    if ((key && !copy) || !keys) {
        free(copy);
        if (keys) ctx->result_keys = keys;
        return 0;
    }
    keys[ctx->nresult_keys++] = copy;
    ctx->result_keys = keys;
    return 1;
}

const char *const *ct_context_partition_results(const ct_context *ctx, size_t *n) {
    *n = ctx->nresult_keys;
    return (const char *const *)ctx->result_keys;
}

ct_status ct_context_allgather(ct_context *ctx, const void *mine, size_t bytes, void **all, size_t *counts) {
    *all = NULL;
    if (!ctx->allgather_fn)
        return ct_error(ctx, CT_ERR_INTERNAL, "no way to exchange data between the processes of this run");
    if (ctx->allgather_fn(ctx->allgather_user, mine, bytes, all, counts) != 0) {
        free(*all);
        *all = NULL;
        return ct_error(ctx, CT_ERR_IO, "the processes of this run could not exchange their results (MPI allgather failed)");
    }
    return CT_OK;
}

ct_status ct_context_barrier(ct_context *ctx) {
    if (ctx->barrier_fn && ctx->barrier_fn(ctx->barrier_user) != 0)
        return ct_error(ctx, CT_ERR_IO, "the processes of this run could not synchronise (MPI barrier failed)");
    return CT_OK;
}

void ct_context_set_memory_limit(ct_context *ctx, double mib) { ctx->memory_limit_mib = mib > 0 ? mib : 0; }
double ct_context_memory_limit(const ct_context *ctx) { return ctx->memory_limit_mib; }
