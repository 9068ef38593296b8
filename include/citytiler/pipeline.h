/* citytiler — loading and running a JSON pipeline file. */
#ifndef CITYTILER_PIPELINE_H
#define CITYTILER_PIPELINE_H

#include <stddef.h>
#include "citytiler/context.h"
#include "citytiler/dataset.h"

typedef struct ct_pipeline ct_pipeline;

/* Loads and validates `path`: JSON syntax (line and column), stage types, options
 * (names file, stage index and key). `overrides` are "stage.type.option=value"
 * strings from the command line (value parsed as JSON when it parses, else a string;
 * relative paths in overrides resolve against the current directory).
 * Creates every stage, so option errors surface before anything runs.
 * On success the caller owns *out (ct_pipeline_destroy). */
ct_status ct_pipeline_load(ct_context *ctx, const char *path, const char *const *overrides,
                           size_t noverrides, ct_pipeline **out);

/* Runs the stages in order on a fresh dataset. If `out` is not NULL the dataset is
 * returned to the caller (who destroys it), else it is destroyed. A pipeline that cannot
 * work from nothing (writers.3dtiles without readers.footprints and filters.extrude
 * before it, filters.heights without a reader of what it measures) is refused before
 * any stage runs (CT_ERR_USAGE). For `citytiler merge` (ct_context_merge) whose outputs
 * are all finished already (merged, or written whole by --partition 0/1): a warning,
 * CT_OK and *out NULL, no stage run. */
ct_status ct_pipeline_run(ct_context *ctx, ct_pipeline *p, ct_dataset **out);

/* Runs the stages in order on an existing dataset (e.g. to write one dataset several
 * ways in a benchmark: a pipeline of writers.3dtiles alone is fine here). */
ct_status ct_pipeline_run_on(ct_context *ctx, ct_pipeline *p, ct_dataset *ds);

size_t ct_pipeline_stage_count(const ct_pipeline *p);
void ct_pipeline_destroy(ct_pipeline *p);

#endif
