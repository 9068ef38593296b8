/* The library's pipeline API as a researcher's program uses it: a dataset made by one
 * pipeline, written by another that holds writers.3dtiles alone (ct_pipeline_run_on),
 * while the same writer-only pipeline run from nothing (ct_pipeline_run, what the CLI
 * does) is refused before any stage runs. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "citytiler/pipeline.h"
#include "ct_test.h"

static int write_json(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f) return 0;
    fputs(text, f);
    return fclose(f) == 0;
}

int main(void) {
    const char *src = ct_test_env("CT_SOURCE_DIR", "."), *bin = ct_test_env("CT_BINARY_DIR", ".");
    char dir[4096], prep[4200], writer[4200], tiles[4200], tileset[4300], json[16384];
    snprintf(dir, sizeof dir, "%s/test-out/pipeline_api", bin);
    mkdir(dir, 0777);
    snprintf(prep, sizeof prep, "%s/prepare.json", dir);
    snprintf(writer, sizeof writer, "%s/writer.json", dir);
    snprintf(tiles, sizeof tiles, "%s/tiles", dir);
    snprintf(tileset, sizeof tileset, "%s/tileset.json", tiles);
    snprintf(json, sizeof json,
             "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"%s/data-samples/delft/bgt_pand.gpkg\"},"
             " {\"type\": \"filters.extrude\", \"height\": 8}]}", src);
    CT_CHECK(write_json(prep, json));
    snprintf(json, sizeof json, "{\"pipeline\": [{\"type\": \"writers.3dtiles\", \"path\": \"%s\"}]}", tiles);
    CT_CHECK(write_json(writer, json));

    ct_context *ctx = ct_context_create();
    ct_pipeline *p = NULL, *w = NULL;
    ct_dataset *ds = NULL;
    ct_status st = ct_pipeline_load(ctx, prep, NULL, 0, &p);
    if (st == CT_OK) st = ct_pipeline_run(ctx, p, &ds);
    CT_CHECK_MSG(st == CT_OK && ds && ds->nbuildings > 0, "prepare: %s", ct_error_message(ctx));

    st = ct_pipeline_load(ctx, writer, NULL, 0, &w);
    CT_CHECK_MSG(st == CT_OK, "a writer-only pipeline loads: %s", ct_error_message(ctx));
    if (w && ds) {
        st = ct_pipeline_run_on(ctx, w, ds);
        CT_CHECK_MSG(st == CT_OK, "it writes a dataset made before: %s", ct_error_message(ctx));
        struct stat sb;
        CT_CHECK_MSG(stat(tileset, &sb) == 0 && sb.st_size > 0, "%s written", tileset);
        /* From nothing it has no buildings: refused, naming the problem. */
        ct_error_clear(ctx);
        st = ct_pipeline_run(ctx, w, NULL);
        CT_CHECK_MSG(st == CT_ERR_USAGE && strstr(ct_error_message(ctx), "has nothing to write"),
                     "from nothing: %s (%s)", ct_status_name(st), ct_error_message(ctx));
    }
    ct_dataset_destroy(ds);
    ct_pipeline_destroy(w);
    ct_pipeline_destroy(p);
    ct_context_destroy(ctx);
    return ct_test_finish("test_pipeline_api");
}
