/* Each partition's summary, for the merge's run-summary.json (see partition_summaries.h). */
#include "core/partition_summaries.h"
#include "io/outdir.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void summary_path(const char *dir, int k, int n, char *out, size_t size) {
    snprintf(out, size, "%s/.resume/summary-%d-of-%d.json", dir, k, n);
}

ct_status ct_partition_summary_save(ct_context *ctx, const char *dir, int k, int n, const json_t *summary) {
    json_t *copy = json_copy((json_t *)summary); /* (shallow: only the top level changes) */
    if (!copy) return ct_error_nomem(ctx, "partition summary");
    json_object_del(copy, "pipeline");
    char *text = json_dumps(copy, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(copy);
    if (!text) return ct_error_nomem(ctx, "partition summary");
    char resume[4200], path[4400], tmp[4500];
    snprintf(resume, sizeof resume, "%s/.resume", dir);
    summary_path(dir, k, n, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
    ct_status st = ct_mkdirs(ctx, resume);
    if (st == CT_OK) st = ct_write_file(ctx, tmp, text, strlen(text));
    free(text);
    if (st == CT_OK && rename(tmp, path) != 0)
        st = ct_error(ctx, CT_ERR_IO, "%s: cannot write the partition's summary: %s", path, strerror(errno));
    if (st != CT_OK) unlink(tmp);
    return st;
}

json_t *ct_partition_summaries_load(const char *dir, int n, int *missing) {
    json_t *all = json_array();
    *missing = 0;
    for (int k = 0; all && k < n; k++) {
        char path[4400];
        summary_path(dir, k, n, path, sizeof path);
        json_t *s = json_load_file(path, 0, NULL);
        if (!json_is_object(s)) {
            json_decref(s);
            ++*missing;
            continue;
        }
        if (json_array_append_new(all, s) != 0) {
            json_decref(all);
            all = NULL;
        }
    }
    return all;
}
