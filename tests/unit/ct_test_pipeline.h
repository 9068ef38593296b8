/* Running a pipeline from a test: the JSON written to a file, loaded and run. */
#ifndef CT_TEST_PIPELINE_H
#define CT_TEST_PIPELINE_H

#include "citytiler/pipeline.h"

/* Writes `json` to `path`, loads it and runs it with `threads` threads; returns the
 * dataset, or NULL when that failed (a failed check then gives the context's message).
 * The caller destroys the dataset, *p and *ctx (ct_test_pipeline_free). */
ct_dataset *ct_test_run_pipeline(const char *path, const char *json, int threads, ct_context **ctx, ct_pipeline **p);
void ct_test_pipeline_free(ct_context *ctx, ct_pipeline *p, ct_dataset *ds);

#endif
