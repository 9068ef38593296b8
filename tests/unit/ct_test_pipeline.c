#include "ct_test_pipeline.h"

#include "ct_test.h"

ct_dataset *ct_test_run_pipeline(const char *path, const char *json, int threads, ct_context **ctx, ct_pipeline **p) {
    *p = NULL;
    *ctx = ct_context_create();
    CT_CHECK(*ctx != NULL);
    if (!*ctx) return NULL;
    FILE *f = fopen(path, "w");
    CT_CHECK_MSG(f != NULL, "cannot write %s", path);
    if (!f) return NULL;
    fputs(json, f);
    CT_CHECK(fclose(f) == 0);
    ct_context_set_threads(*ctx, threads);
    ct_dataset *ds = NULL;
    ct_status st = ct_pipeline_load(*ctx, path, NULL, 0, p);
    if (st == CT_OK) st = ct_pipeline_run(*ctx, *p, &ds);
    CT_CHECK_MSG(st == CT_OK, "%s: %s", path, ct_error_message(*ctx));
    if (st != CT_OK) {
        ct_dataset_destroy(ds);
        return NULL;
    }
    return ds;
}

void ct_test_pipeline_free(ct_context *ctx, ct_pipeline *p, ct_dataset *ds) {
    ct_dataset_destroy(ds);
    ct_pipeline_destroy(p);
    ct_context_destroy(ctx);
}
