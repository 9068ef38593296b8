/* run_with_volume: a program of a researcher's own that runs citytiler pipelines with one
 * more stage type, filters.volume (filters_volume.c), added with ct_context_add_stage
 * (README, "Adding a stage").
 *
 *   run_with_volume PIPELINE.json [--threads N] [--set STAGE.OPTION=VALUE ...]
 *
 * Exit codes as citytiler run's: 0 done, 2 usage or input error, 1 any other failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "citytiler/pipeline.h"
#include "filters_volume.h"

static void log_line(void *user, ct_log_level level, const char *msg) {
    static const char *const names[] = {"error", "warning", "info", "debug"};
    (void)user;
    fprintf(stderr, "run_with_volume: %s: %s\n", (unsigned)level < 4 ? names[level] : "log", msg);
}

int main(int argc, char **argv) {
    const char *path = NULL;
    const char **sets = calloc((size_t)argc, sizeof *sets);
    size_t nsets = 0;
    int threads = 1;
    for (int i = 1; sets && i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--set") == 0 && i + 1 < argc) sets[nsets++] = argv[++i];
        else if (!path && argv[i][0] != '-') path = argv[i];
        else path = NULL, i = argc;
    }
    if (!sets || !path || threads < 1) {
        fprintf(stderr, "usage: run_with_volume PIPELINE.json [--threads N] [--set STAGE.OPTION=VALUE ...]\n");
        free(sets);
        return 2;
    }
    ct_context *ctx = ct_context_create();
    if (!ctx) {
        fprintf(stderr, "run_with_volume: out of memory\n");
        free(sets);
        return 1;
    }
    ct_context_set_logger(ctx, log_line, NULL, CT_LOG_INFO);
    ct_context_set_threads(ctx, threads);
    ct_pipeline *p = NULL;
    ct_status st = ct_context_add_stage(ctx, &filters_volume_stage); /* before the pipeline is loaded */
    if (st == CT_OK) st = ct_pipeline_load(ctx, path, sets, nsets, &p);
    if (st == CT_OK) st = ct_pipeline_run(ctx, p, NULL);
    if (st != CT_OK) fprintf(stderr, "run_with_volume: error: %s\n", ct_error_message(ctx));
    int code = st == CT_OK ? 0 : (st == CT_ERR_USAGE || st == CT_ERR_INPUT || st == CT_ERR_UNSUPPORTED ? 2 : 1);
    ct_pipeline_destroy(p);
    ct_context_destroy(ctx);
    free(sets);
    return code;
}
