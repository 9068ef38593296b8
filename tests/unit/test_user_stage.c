/* A stage of a program's own (ct_context_add_stage): its pipelines name it like a
 * built-in one, with options checked against its table and --set overrides; other
 * contexts do not know it (no global registry); a type that is built in, added twice,
 * badly named or a table with a missing function is refused with a message. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "citytiler/pipeline.h"
#include "citytiler/stage.h"
#include "ct_test.h"

static const ct_option_def part_options[] = {
    {"attribute", CT_OPT_STRING, "\"parts\"", 0, "attribute that gets the number of polygons"},
    {"plus", CT_OPT_INTEGER, "0", 0, "added to each count (to see the option arrive)"},
    {NULL, 0, NULL, 0, NULL},
};

/* filters.count_parts: each building's number of polygons (plus `plus`). */
static ct_status count_parts(ct_context *ctx, void *state, ct_dataset *ds) {
    const ct_json *opts = state;
    const char *name = ct_opt_string(opts, "attribute");
    const ct_attr_type type = CT_ATTR_INT;
    int col;
    ct_status st = ct_dataset_claim_attrs(ctx, ds, "filters.count_parts", &name, &type, 1, &col);
    for (size_t i = 0; st == CT_OK && i < ds->nbuildings; i++) {
        ds->buildings[i].attrs[col].is_null = 0;
        ds->buildings[i].attrs[col].v.i = (int64_t)ds->buildings[i].footprint.nparts + ct_opt_integer(opts, "plus");
    }
    return st;
}

static const ct_stage_vtable count_parts_stage = {
    .type = "filters.count_parts",
    .summary = "number of polygons of each footprint",
    .options = part_options,
    .create = ct_stage_keep_options,
    .run = count_parts,
    .destroy = ct_stage_release_options,
};

static int write_json(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f) return 0;
    fputs(text, f);
    return fclose(f) == 0;
}

/* ct_context_add_stage(vt) fails with CT_ERR_USAGE and a message holding `says`. */
static void refused(const ct_stage_vtable *vt, const char *says) {
    ct_context *ctx = ct_context_create();
    ct_status st = ct_context_add_stage(ctx, vt);
    CT_CHECK_MSG(st == CT_ERR_USAGE && strstr(ct_error_message(ctx), says), "'%s': %s (%s)",
                 vt && vt->type ? vt->type : "(null)", ct_status_name(st), ct_error_message(ctx));
    ct_context_destroy(ctx);
}

int main(void) {
    const char *src = ct_test_env("CT_SOURCE_DIR", "."), *bin = ct_test_env("CT_BINARY_DIR", ".");
    char dir[4096], path[4200], json[8192];
    snprintf(dir, sizeof dir, "%s/test-out/user_stage", bin);
    mkdir(dir, 0777);
    snprintf(path, sizeof path, "%s/p.json", dir);
    snprintf(json, sizeof json,
             "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"%s/data-samples/delft/bgt_pand.gpkg\"},"
             " {\"type\": \"filters.count_parts\", \"plus\": 100}]}", src);
    CT_CHECK(write_json(path, json));

    /* Added: the pipeline runs it, with its option and an override. */
    ct_context *ctx = ct_context_create();
    CT_CHECK(ct_context_add_stage(ctx, &count_parts_stage) == CT_OK);
    CT_CHECK(ct_stage_lookup(ctx, "filters.count_parts") == &count_parts_stage);
    CT_CHECK(ct_stage_lookup(ctx, "filters.heights") == ct_stage_find("filters.heights"));
    CT_CHECK(ct_stage_find("filters.count_parts") == NULL);
    const char *sets[] = {"filters.count_parts.attribute=polygons"};
    ct_pipeline *p = NULL;
    ct_dataset *ds = NULL;
    ct_status st = ct_pipeline_load(ctx, path, sets, 1, &p);
    if (st == CT_OK) st = ct_pipeline_run(ctx, p, &ds);
    CT_CHECK_MSG(st == CT_OK && ds && ds->nbuildings > 0, "run: %s", ct_error_message(ctx));
    int col = ds ? ct_dataset_find_attr(ds, "polygons") : -1;
    CT_CHECK_MSG(col >= 0 && ds->attrs[col].type == CT_ATTR_INT, "the column its --set named");
    size_t right = 0;
    for (size_t i = 0; col >= 0 && i < ds->nbuildings; i++)
        right += !ds->buildings[i].attrs[col].is_null &&
                 ds->buildings[i].attrs[col].v.i == 100 + (int64_t)ds->buildings[i].footprint.nparts;
    CT_CHECK_MSG(ds && right == ds->nbuildings, "%zu of %zu buildings counted", right, ds ? ds->nbuildings : 0);
    ct_dataset_destroy(ds);
    ct_pipeline_destroy(p);
    p = NULL;

    /* Its options are checked like a built-in stage's. */
    snprintf(json, sizeof json,
             "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"%s/data-samples/delft/bgt_pand.gpkg\"},"
             " {\"type\": \"filters.count_parts\", \"plus\": \"x\"}]}", src);
    CT_CHECK(write_json(path, json));
    ct_error_clear(ctx);
    st = ct_pipeline_load(ctx, path, NULL, 0, &p);
    CT_CHECK_MSG(st == CT_ERR_USAGE && strstr(ct_error_message(ctx), "filters.count_parts") &&
                     strstr(ct_error_message(ctx), "plus"),
                 "a bad option: %s (%s)", ct_status_name(st), ct_error_message(ctx));
    ct_pipeline_destroy(p);
    p = NULL;
    /* Added twice: refused. */
    ct_error_clear(ctx);
    st = ct_context_add_stage(ctx, &count_parts_stage);
    CT_CHECK_MSG(st == CT_ERR_USAGE && strstr(ct_error_message(ctx), "already added"), "twice: %s",
                 ct_error_message(ctx));
    ct_context_destroy(ctx);

    /* Another context does not know it: the same pipeline is an unknown stage type. */
    snprintf(json, sizeof json,
             "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"%s/data-samples/delft/bgt_pand.gpkg\"},"
             " {\"type\": \"filters.count_parts\"}]}", src);
    CT_CHECK(write_json(path, json));
    ctx = ct_context_create();
    st = ct_pipeline_load(ctx, path, NULL, 0, &p);
    CT_CHECK_MSG(st == CT_ERR_USAGE && strstr(ct_error_message(ctx), "unknown stage type 'filters.count_parts'"),
                 "another context: %s (%s)", ct_status_name(st), ct_error_message(ctx));
    ct_pipeline_destroy(p);
    ct_context_destroy(ctx);

    /* Refusals. */
    ct_stage_vtable v = count_parts_stage;
    v.type = "filters.heights";
    refused(&v, "already built in");
    const char *bad_names[] = {"count_parts", "filters.", "filter.count", "filters.count parts", "filters.a.b", ""};
    for (size_t i = 0; i < sizeof bad_names / sizeof *bad_names; i++) {
        v.type = bad_names[i];
        refused(&v, "a type is readers.NAME, filters.NAME or writers.NAME");
    }
    v = count_parts_stage;
    v.run = NULL;
    refused(&v, "must all be set");
    v = count_parts_stage;
    v.options = NULL;
    refused(&v, "must all be set");
    refused(NULL, "must all be set");
    return ct_test_finish("test_user_stage");
}
