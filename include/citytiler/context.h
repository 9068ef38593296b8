/* citytiler — the run context: error slot, logger, progress, thread count.
 * There is no global mutable state: everything a run shares lives here. */
#ifndef CITYTILER_CONTEXT_H
#define CITYTILER_CONTEXT_H

#include <stddef.h>
#include <stdint.h>
#include "citytiler/status.h"

#if defined(__GNUC__)
#define CT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CT_PRINTF(a, b)
#endif

typedef struct ct_context ct_context;

typedef enum ct_log_level { CT_LOG_ERROR = 0, CT_LOG_WARN, CT_LOG_INFO, CT_LOG_DEBUG } ct_log_level;

/* Receives each log line (no trailing newline). Called under a lock: may be
 * called from any thread but never concurrently. */
typedef void (*ct_log_fn)(void *user, ct_log_level level, const char *message);

/* Receives progress of a long step: `done` of `total` units of `what`
 * (total 0 = unknown). Called from the thread that runs the stage. */
typedef void (*ct_progress_fn)(void *user, const char *what, uint64_t done, uint64_t total);

/* Creates a context with defaults (1 thread, no logger, no progress).
 * Returns NULL only when out of memory. Caller owns it: ct_context_destroy. */
ct_context *ct_context_create(void);
void ct_context_destroy(ct_context *ctx);

void ct_context_set_logger(ct_context *ctx, ct_log_fn fn, void *user, ct_log_level max_level);
void ct_context_set_progress(ct_context *ctx, ct_progress_fn fn, void *user);

/* Threads used by parallel stages; n < 1 means 1. */
void ct_context_set_threads(ct_context *ctx, int n);
int ct_context_threads(const ct_context *ctx);

/* Records an error (the first one wins until ct_error_clear) and returns `code`,
 * so a caller can write `return ct_error(ctx, CT_ERR_INPUT, "%s: ...", path);`.
 * Thread-safe. With ctx NULL nothing is recorded (for probes: a function called with a
 * NULL context fails with its code and no message, and leaves every context alone). */
ct_status ct_error(ct_context *ctx, ct_status code, const char *fmt, ...) CT_PRINTF(3, 4);
/* Shortcut for an allocation failure, naming what was being allocated. */
ct_status ct_error_nomem(ct_context *ctx, const char *what);
ct_status ct_error_code(const ct_context *ctx);
/* The message of the recorded error, "" when none. Owned by ctx. */
const char *ct_error_message(const ct_context *ctx);
void ct_error_clear(ct_context *ctx);

/* Logs one line through the context's logger. Thread-safe. */
void ct_log(ct_context *ctx, ct_log_level level, const char *fmt, ...) CT_PRINTF(3, 4);

/* Reports progress (no-op without a progress callback). Thread-safe: the callback runs
 * under the context's lock, one call at a time. */
void ct_progress(ct_context *ctx, const char *what, uint64_t done, uint64_t total);

/* --memory-limit: MiB the run may use for bulky data (LiDAR points); 0 = the stages' own
 * settings. Stages take the smaller of this and their option. */
void ct_context_set_memory_limit(ct_context *ctx, double mib);
double ct_context_memory_limit(const ct_context *ctx);

/* --resume: writers keep what an interrupted run already finished. */
void ct_context_set_resume(ct_context *ctx, int resume);
int ct_context_resume(const ct_context *ctx);

/* Work split across processes (`--partition K/N`, or MPI ranks): this process builds the
 * tiles of partition k of n. Default 0 of 1. */
void ct_context_set_partition(ct_context *ctx, int k, int n);
void ct_context_partition(const ct_context *ctx, int *k, int *n);
/* --measure-only (with --partition K/N): the run keeps only the LiDAR of partition K's
 * band of the city, its stages measure only that band's buildings and assets, leave the
 * results for the partitions run after and the merge, and the pipeline stops after the
 * last stage that reads points. */
void ct_context_set_measure_only(ct_context *ctx, int on);
int ct_context_measure_only(const ct_context *ctx);
/* `citytiler merge`: writers take every tile from the partitions' records. */
void ct_context_set_merge(ct_context *ctx, int merge);
int ct_context_merge(const ct_context *ctx);
/* A barrier across the processes of one run (MPI); none by default. Returns 0 on success. */
typedef int (*ct_barrier_fn)(void *user);
void ct_context_set_barrier(ct_context *ctx, ct_barrier_fn fn, void *user);
/* 1 when a barrier is set (the processes of the run can wait for each other). */
int ct_context_has_barrier(const ct_context *ctx);
ct_status ct_context_barrier(ct_context *ctx);
/* Every process of the run contributes `bytes` bytes (their number may differ); each gets
 * all contributions concatenated in partition order in *all (malloc'd, caller frees) and
 * their sizes in counts[0..n-1]. Returns 0 on success. None by default (MPI sets one). */
typedef int (*ct_allgather_fn)(void *user, const void *mine, size_t bytes, void **all, size_t *counts);
void ct_context_set_allgather(ct_context *ctx, ct_allgather_fn fn, void *user);
int ct_context_has_allgather(const ct_context *ctx);
/* As the callback; an error (with message) when it fails or none is set. */
ct_status ct_context_allgather(ct_context *ctx, const void *mine, size_t bytes, void **all, size_t *counts);

/* How far around a building or asset a stage reads LiDAR points (m), declared by the
 * stage's create. Under MPI, readers.lidar keeps on each process only the points of its
 * band of the city widened by the largest reach declared. NAN: anywhere (a stage that
 * reads points without declaring is taken so: every process then keeps every point). */
void ct_context_declare_point_reach(ct_context *ctx, double metres);
/* The largest reach declared (0 when none); NAN when some stage reads points anywhere. */
double ct_context_point_reach(const ct_context *ctx);
/* How many declarations were made so far (the pipeline checks that point readers made one). */
int ct_context_point_reach_declarations(const ct_context *ctx);

/* The directory the processes of one run share, for --partition and merge: the output's
 * work directory (OUTPUT.partial), set by the writer's create; NULL when none. The path
 * is copied; returns 0 when out of memory. */
int ct_context_set_work_dir(ct_context *ctx, const char *dir);
const char *ct_context_work_dir(const ct_context *ctx);
/* Stages that read the LiDAR points declare in their create whether partitions leave
 * their results for the merge (src/core/partition_results.h): the key the results go
 * under (copied), or NULL when the merge cannot take them (then it reads the LiDAR).
 * The pipeline declares NULL for a point reader that said nothing. Returns 0 when out of
 * memory. */
int ct_context_declare_partition_results(ct_context *ctx, const char *key);
/* The keys declared so far, in order (NULL entries included), and their number. */
const char *const *ct_context_partition_results(const ct_context *ctx, size_t *n);

/* Stage timings of the run, for the run summary. `type` is copied (up to 63 bytes). */
typedef struct ct_stage_timing {
    char type[64];
    double seconds;
    double cpu_seconds;      /* CPU time of the process (all threads) during the stage */
    uint64_t buildings_after;
    uint64_t rss_bytes;      /* resident memory when the stage ended */
    uint64_t peak_rss_bytes; /* the process's peak so far */
} ct_stage_timing;
void ct_context_record_stage(ct_context *ctx, const char *type, double seconds, double cpu_seconds,
                             uint64_t buildings_after);
/* The recorded timings (owned by ctx) and their count. */
const ct_stage_timing *ct_context_stage_timings(const ct_context *ctx, size_t *n);
/* The stage running now (its type, e.g. "filters.heights"; NULL between stages), for
 * logs that tag their lines with it. The string is the caller's and must outlive the stage. */
void ct_context_set_current_stage(ct_context *ctx, const char *type);
const char *ct_context_current_stage(const ct_context *ctx);
/* Set by a writer once its output is complete and in place (what a stop signal then
 * says: nothing is left to resume); read from any thread. */
void ct_context_set_output_done(ct_context *ctx);
int ct_context_output_done(const ct_context *ctx);
/* The pipeline as it runs, for the run summary: {"file": ..., "stages": [...]}, each stage
 * object with every option (defaults filled in, paths absolute, --set applied), so a
 * summary says exactly what made the tiles and its stages can be run again. The context
 * takes a reference (NULL clears it). */
struct json_t;
void ct_context_set_pipeline_json(ct_context *ctx, struct json_t *pipeline);
/* That object (borrowed; NULL when none was set). */
struct json_t *ct_context_pipeline_json(const ct_context *ctx);
/* CPU seconds the process (all its threads) used so far. */
double ct_process_cpu_seconds(void);
/* Seconds since the context was created (monotonic clock). */
double ct_context_elapsed(const ct_context *ctx);

#endif
