/* core/partition_results: what `--partition K/N` processes leave for `citytiler merge`.
 * Three partitions save their shares; the merge finds them ready and loads every record
 * back in place. A share missing, cut short, from another run (run hash) or with other
 * records is not ready; a share whose bytes changed, or that was measured from other
 * items (data hash), is an error naming the file. Saving outside a partition does
 * nothing. The run hash follows the pipeline's options (not the writer's path) and the
 * LAS files' identity; the data hashes follow every vertex and asset position. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include "citytiler/assets.h"
#include "citytiler/context.h"
#include "citytiler/dataset.h"
#include "core/partition_results.h"
#include "ct_test.h"
#include "ct_test_building.h"

static char work[512];

static ct_context *partition_ctx(int k, int n) {
    ct_context *ctx = ct_context_create();
    ct_context_set_partition(ctx, k, n);
    ct_context_set_work_dir(ctx, work);
    return ctx;
}

static ct_context *merge_ctx(void) {
    ct_context *ctx = ct_context_create();
    ct_context_set_merge(ctx, 1);
    ct_context_set_work_dir(ctx, work);
    return ctx;
}

static void save_all(const char *key, uint64_t run, uint64_t data, const uint64_t *recs, size_t total, int n) {
    for (int k = 0; k < n; k++) {
        ct_context *ctx = partition_ctx(k, n);
        CT_CHECK(ct_partition_results_save(ctx, key, run, data, NULL, recs, total, sizeof *recs, total) == CT_OK);
        ct_context_destroy(ctx);
    }
}

static int file_exists(const char *key, int k, int n) {
    char path[1024];
    snprintf(path, sizeof path, "%s/.resume/results-%s-%d-of-%d.bin", work, key, k, n);
    return access(path, F_OK) == 0;
}

static void share_path(const char *key, int k, int n, char *path, size_t size) {
    snprintf(path, size, "%s/.resume/results-%s-%d-of-%d.bin", work, key, k, n);
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    CT_CHECK(f != NULL);
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static ct_status load(const char *key, uint64_t run, uint64_t data, uint64_t *out, size_t total, char *msg, size_t size) {
    ct_context *ctx = merge_ctx();
    ct_status st = ct_partition_results_load(ctx, key, run, data, out, sizeof *out, total, "buildings");
    snprintf(msg, size, "%s", st == CT_OK ? "" : ct_error_message(ctx));
    ct_context_destroy(ctx);
    return st;
}

static int ready(const char *key, uint64_t run, size_t rec_size) {
    ct_context *ctx = merge_ctx();
    int r = ct_partition_results_ready(ctx, key, run, rec_size);
    ct_context_destroy(ctx);
    return r;
}

static void check_shares(void) {
    enum { TOTAL = 101 };
    uint64_t recs[TOTAL], back[TOTAL];
    for (size_t i = 0; i < TOTAL; i++) recs[i] = i * 3 + 1;
    char msg[4096];

    /* Not a partition, or under MPI's exchange, or a merge: nothing saved. */
    ct_context *lone = partition_ctx(0, 1), *merging = merge_ctx();
    CT_CHECK(ct_partition_results_save(lone, "k", 42, 7, NULL, recs, TOTAL, sizeof *recs, TOTAL) == CT_OK);
    CT_CHECK(ct_partition_results_save(merging, "k", 42, 7, NULL, recs, TOTAL, sizeof *recs, TOTAL) == CT_OK);
    ct_context_destroy(lone);
    ct_context_destroy(merging);
    char resume[1024];
    snprintf(resume, sizeof resume, "%s/.resume", work);
    CT_CHECK(access(resume, F_OK) != 0);

    save_all("k", 42, 7, recs, TOTAL, 3);
    for (int k = 0; k < 3; k++) CT_CHECK(file_exists("k", k, 3));
    /* The partitions' number is recorded (.resume/partitions, as the writer's journal does)
     * for the merge: without it, not ready. */
    char parts[1024], text[16] = "";
    snprintf(parts, sizeof parts, "%s/.resume/partitions", work);
    FILE *pf = fopen(parts, "r");
    CT_CHECK(pf && fgets(text, sizeof text, pf) && strcmp(text, "3") == 0);
    if (pf) fclose(pf);
    CT_CHECK(ready("k", 42, sizeof *recs));
    CT_CHECK(unlink(parts) == 0);
    CT_CHECK(!ready("k", 42, sizeof *recs));
    write_text(parts, "3");
    CT_CHECK(ready("k", 42, sizeof *recs));
    CT_CHECK(ready("k", 42, 0));
    CT_CHECK(!ready("k", 43, sizeof *recs)); /* another run */
    CT_CHECK(!ready("k", 42, 4));            /* other records */
    CT_CHECK(!ready("other", 42, 0));        /* another stage */
    memset(back, 0, sizeof back);
    CT_CHECK(load("k", 42, 7, back, TOTAL, msg, sizeof msg) == CT_OK);
    CT_CHECK(memcmp(back, recs, sizeof recs) == 0);

    /* Measured from other items: an error saying so. */
    CT_CHECK(load("k", 42, 8, back, TOTAL, msg, sizeof msg) == CT_ERR_USAGE);
    CT_CHECK_MSG(strstr(msg, "measured other buildings") && strstr(msg, "Run every partition again"), "%s", msg);
    CT_CHECK(load("k", 42, 7, back, TOTAL - 1, msg, sizeof msg) == CT_ERR_USAGE);
    CT_CHECK(load("k", 43, 7, back, TOTAL, msg, sizeof msg) == CT_ERR_INPUT);
    CT_CHECK_MSG(strstr(msg, "from a run of another pipeline"), "%s", msg);

    /* A byte of partition 2's records changed: the checksum says so, naming the file. */
    char p2[1024];
    share_path("k", 2, 3, p2, sizeof p2);
    FILE *f = fopen(p2, "r+b");
    CT_CHECK(f != NULL);
    if (f) {
        fseek(f, 64 + 5, SEEK_SET);
        int c = fgetc(f);
        fseek(f, 64 + 5, SEEK_SET);
        fputc(c ^ 0x10, f);
        fclose(f);
    }
    CT_CHECK(ready("k", 42, 0)); /* (the header is whole) */
    CT_CHECK(load("k", 42, 7, back, TOTAL, msg, sizeof msg) == CT_ERR_INPUT);
    CT_CHECK_MSG(strstr(msg, p2) && strstr(msg, "damaged (checksum)") && strstr(msg, "run partition 2/3 again"), "%s", msg);
    /* Cut short: not ready; missing: not ready, and the error names the partition. */
    CT_CHECK(truncate(p2, 100) == 0);
    CT_CHECK(!ready("k", 42, 0));
    CT_CHECK(unlink(p2) == 0);
    CT_CHECK(!ready("k", 42, 0));
    CT_CHECK(load("k", 42, 7, back, TOTAL, msg, sizeof msg) == CT_ERR_INPUT);
    CT_CHECK_MSG(strstr(msg, "partition 2/3's results are missing"), "%s", msg);

    /* Fewer records than partitions, and none: every share still fits. */
    save_all("few", 42, 7, recs, 2, 3);
    CT_CHECK(ready("few", 42, sizeof *recs));
    memset(back, 0, sizeof back);
    CT_CHECK(load("few", 42, 7, back, 2, msg, sizeof msg) == CT_OK && back[0] == 1 && back[1] == 4);
    save_all("none", 42, 7, NULL, 0, 3);
    CT_CHECK(ready("none", 42, sizeof *recs));
    CT_CHECK(load("none", 42, 7, NULL, 0, msg, sizeof msg) == CT_OK);
    /* --measure-only: each partition its own items (here every third), by index. */
    for (int k = 0; k < 3; k++) {
        size_t idx[TOTAL];
        uint64_t vals[TOTAL];
        size_t m = 0;
        for (size_t i = (size_t)k; i < TOTAL; i += 3) {
            idx[m] = i;
            vals[m++] = recs[i];
        }
        ct_context *ctx = partition_ctx(k, 3);
        CT_CHECK(ct_partition_results_save(ctx, "band", 42, 7, idx, vals, m, sizeof *vals, TOTAL) == CT_OK);
        /* (the same items again under another key, partition 2 giving item 0 instead of its own 2) */
        if (k == 2) idx[0] = 0;
        CT_CHECK(ct_partition_results_save(ctx, "twice", 42, 7, idx, vals, m, sizeof *vals, TOTAL) == CT_OK);
        ct_context_destroy(ctx);
    }
    CT_CHECK(ready("band", 42, sizeof *recs));
    memset(back, 0, sizeof back);
    CT_CHECK(load("band", 42, 7, back, TOTAL, msg, sizeof msg) == CT_OK);
    CT_CHECK(memcmp(back, recs, sizeof recs) == 0);
    CT_CHECK(load("twice", 42, 7, back, TOTAL, msg, sizeof msg) == CT_ERR_INPUT);
    CT_CHECK_MSG(strstr(msg, "partition 2/3 gave the result of buildings 0 twice"), "%s", msg);
    /* A partition run (not a merge) takes the shares of its own number of partitions. */
    ct_context *part = partition_ctx(1, 3);
    CT_CHECK(ct_partition_results_ready(part, "band", 42, sizeof *recs));
    ct_context_destroy(part);
    part = partition_ctx(1, 2);
    CT_CHECK(!ct_partition_results_ready(part, "band", 42, sizeof *recs));
    ct_context_destroy(part);

    /* Shares of runs with other numbers of partitions are other files. */
    CT_CHECK(!file_exists("few", 0, 2));
}

static void check_run_hash(void) {
    char las[1024];
    snprintf(las, sizeof las, "%s/points.las", work);
    write_text(las, "LASF");
    const char *paths[1] = {las};
    const char *text = "{\"file\": \"/a/p.json\", \"stages\": [{\"type\": \"readers.lidar\", \"path\": \"x.las\"}, "
                       "{\"type\": \"writers.3dtiles\", \"path\": \"/out/a\", \"lod\": true}]}";
    json_t *p1 = json_loads(text, 0, NULL), *p2 = json_deep_copy(p1), *p3 = json_deep_copy(p1);
    json_object_set_new(json_array_get(json_object_get(p2, "stages"), 1), "path", json_string("/elsewhere/b"));
    json_object_set_new(json_array_get(json_object_get(p3, "stages"), 1), "lod", json_false());
    ct_context *ctx = ct_context_create();
    ct_context_set_pipeline_json(ctx, p1);
    uint64_t h1 = ct_partition_results_run_hash(ctx, 0, paths, 1);
    ct_context_set_pipeline_json(ctx, p2);
    uint64_t h2 = ct_partition_results_run_hash(ctx, 0, paths, 1);
    ct_context_set_pipeline_json(ctx, p3);
    uint64_t h3 = ct_partition_results_run_hash(ctx, 0, paths, 1);
    CT_CHECK(h1 != 0 && h1 == h2); /* the writer's path is not the run */
    CT_CHECK(h3 != h1);             /* an option is */
    ct_context_set_pipeline_json(ctx, p1);
    struct utimbuf t = {1000000000, 1000000000};
    CT_CHECK(utime(las, &t) == 0);
    CT_CHECK(ct_partition_results_run_hash(ctx, 0, paths, 1) != h1); /* the LAS file changed */
    CT_CHECK(ct_partition_results_run_hash(ctx, h1, paths, 1) != ct_partition_results_run_hash(ctx, 0, paths, 1));
    unlink(las);
    CT_CHECK(ct_partition_results_run_hash(ctx, 0, paths, 1) == 0); /* gone: unknown */
    json_decref(p1);
    json_decref(p2);
    json_decref(p3);
    ct_context_destroy(ctx);
}

static void check_data_hashes(void) {
    ct_context *ctx = ct_context_create();
    ct_dataset *ds = ct_dataset_create();
    static const double xy[8] = {0, 0, 10, 0, 10, 10, 0, 10};
    ct_building *b = ds ? ct_test_add_building(ctx, ds, "b1", xy, 4) : NULL;
    CT_CHECK(b != NULL);
    if (!b) return;
    ct_polygon *part = b->footprint.parts;
    uint64_t h = ct_partition_results_buildings_hash(ds);
    CT_CHECK(h == ct_partition_results_buildings_hash(ds));
    part->xy[5] = 10.001;
    CT_CHECK(ct_partition_results_buildings_hash(ds) != h);
    part->xy[5] = 10;
    free(b->id);
    b->id = strdup("b2");
    CT_CHECK(ct_partition_results_buildings_hash(ds) != h);

    ct_asset_set *set = ct_asset_set_create();
    CT_CHECK(set != NULL);
    uint64_t empty = ct_partition_results_assets_hash(set);
    CT_CHECK(empty == ct_partition_results_assets_hash(NULL));
    ct_asset *a = NULL;
    CT_CHECK(ct_asset_set_append(ctx, set, &a) == CT_OK);
    if (a) {
        a->id = strdup("lamp");
        a->x = 5;
        a->y = 6;
        a->z = NAN;
        uint64_t ha = ct_partition_results_assets_hash(set);
        CT_CHECK(ha != empty);
        a->y = 6.5;
        CT_CHECK(ct_partition_results_assets_hash(set) != ha);
        a->y = 6;
        a->flags = CT_ASSET_ON_ROOF;
        CT_CHECK(ct_partition_results_assets_hash(set) != ha);
    }
    ct_asset_set_destroy(set);
    ct_dataset_destroy(ds);
    ct_context_destroy(ctx);
}

int main(void) {
    const char *tmp = ct_test_env("TMPDIR", "/tmp");
    char dir[400];
    snprintf(dir, sizeof dir, "%s/ct-partition-results-XXXXXX", tmp);
    CT_CHECK(mkdtemp(dir) != NULL);
    snprintf(work, sizeof work, "%s/out.partial", dir);
    CT_CHECK(mkdir(work, 0755) == 0);
    check_shares();
    check_run_hash();
    check_data_hashes();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CT_CHECK(system(cmd) == 0);
    return ct_test_finish("test_partition_results");
}
