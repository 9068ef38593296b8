/* citytiler — the run summary (run-summary.json next to the tileset). */
#ifndef CITYTILER_SUMMARY_H
#define CITYTILER_SUMMARY_H

#include "citytiler/context.h"
#include "citytiler/dataset.h"

struct json_t;

/* Builds the summary of the run so far: version, threads, inputs (features, LiDAR points,
 * assets), outputs (buildings, and the writer's `output` object, borrowed), skipped and
 * changed features by reason, per-stage timings (the running writer given as
 * `current_stage` with its wall and CPU seconds so far), wall time and peak memory; the
 * run's partition, memory limit and --resume when set, and the pipeline as it ran
 * (ct_context_pipeline_json).
 * Caller owns *out. */
ct_status ct_run_summary(ct_context *ctx, const ct_dataset *ds, const char *current_stage, double current_seconds,
                         double current_cpu_seconds, struct json_t *output, struct json_t **out);

/* Peak resident set size of this process, in bytes (0 when unknown). */
uint64_t ct_peak_rss_bytes(void);
/* Resident set size of this process now, in bytes (0 when unknown). */
uint64_t ct_current_rss_bytes(void);

#endif
