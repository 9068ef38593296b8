/* Each finished tile's GLB is written first and its record after it, through a rename,
 * so a record always means a complete GLB, whenever the run is killed (a GLB without a
 * record is written again). */
#include "tiles/tile_journal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/outdir.h"
#include "tiles/tileset_json.h"

static void record_path(const char *dir, const ct_qtile *t, char *buf, size_t n) {
    char name[64];
    ct_tile_name(t, name, sizeof name);
    snprintf(buf, n, "%s/.resume/%s.json", dir, name);
}

ct_status ct_journal_begin(ct_context *ctx, const char *dir, uint64_t fingerprint, ct_journal_mode mode) {
    char path[4200], want[32];
    snprintf(path, sizeof path, "%s/.resume", dir);
    ct_status st = ct_mkdirs(ctx, path);
    if (st != CT_OK) return st;
    snprintf(path, sizeof path, "%s/.resume/fingerprint", dir);
    snprintf(want, sizeof want, "%016llx", (unsigned long long)fingerprint);
    if (mode != CT_JOURNAL_NEW) {
        FILE *f = fopen(path, "r");
        if (f) {
            char have[32] = "";
            int ok = fgets(have, sizeof have, f) != NULL && strncmp(have, want, 16) == 0;
            fclose(f);
            if (!ok && mode == CT_JOURNAL_SHARED) /* (it said "run again without --resume", never given) */
                return ct_error(ctx, CT_ERR_USAGE, "%s: the partitions there were run with other inputs or options: "
                                                   "every partition and the merge need the "
                                                   "same pipeline and --set options; remove %s to start over", dir, dir);
            if (!ok)
                return ct_error(ctx, CT_ERR_USAGE, "%s: the interrupted run there was made from other inputs or options; "
                                                   "run again without --resume", dir);
            return CT_OK;
        }
    }
    return ct_write_file(ctx, path, want, strlen(want));
}

int ct_journal_load(const char *dir, const ct_qtile *t, ct_tile_output *out) {
    char path[4200];
    record_path(dir, t, path, sizeof path);
    json_t *j = json_load_file(path, 0, NULL);
    if (!j) return 0;
    json_t *region = json_object_get(j, "region"), *tr = json_object_get(j, "transform");
    int ok = json_is_integer(json_object_get(j, "has_content"));
    memset(out, 0, sizeof *out);
    out->has_content = (int)json_integer_value(json_object_get(j, "has_content"));
    if (ok && out->has_content) {
        ok = json_array_size(region) == 6 && json_array_size(tr) == 16;
        for (size_t k = 0; ok && k < 6; k++) out->region[k] = json_number_value(json_array_get(region, k));
        for (size_t k = 0; ok && k < 16; k++) out->transform[k] = json_number_value(json_array_get(tr, k));
        out->stats.geometry_raw = (size_t)json_integer_value(json_object_get(j, "geometry_raw"));
        out->stats.geometry_bytes = (size_t)json_integer_value(json_object_get(j, "geometry_bytes"));
        out->stats.total_bytes = (size_t)json_integer_value(json_object_get(j, "total_bytes"));
    }
    json_decref(j);
    if (ok && out->has_content) {
        /* The GLB must still be there, whole: a record alone (the GLB deleted, or cut by a
         * crash of the machine before its blocks reached the disk) made a tileset pointing
         * at a missing or broken file. Then the tile is written again. */
        char glb[4300];
        struct stat fs;
        ct_tile_content_path(dir, t, glb, sizeof glb);
        ok = stat(glb, &fs) == 0 && S_ISREG(fs.st_mode) && (uint64_t)fs.st_size == (uint64_t)out->stats.total_bytes;
    }
    if (!ok) memset(out, 0, sizeof *out);
    return ok;
}

ct_status ct_journal_save(ct_context *ctx, const char *dir, const ct_qtile *t, const ct_tile_output *out) {
    json_t *j = json_object(), *region = json_array(), *tr = json_array();
    if (!j || !region || !tr) {
        json_decref(j); json_decref(region); json_decref(tr);
        return ct_error_nomem(ctx, "tile record");
    }
    json_object_set_new(j, "has_content", json_integer(out->has_content));
    for (size_t k = 0; k < 6; k++) json_array_append_new(region, json_real(out->region[k]));
    for (size_t k = 0; k < 16; k++) json_array_append_new(tr, json_real(out->transform[k]));
    json_object_set_new(j, "region", region);
    json_object_set_new(j, "transform", tr);
    json_object_set_new(j, "geometry_raw", json_integer((json_int_t)out->stats.geometry_raw));
    json_object_set_new(j, "geometry_bytes", json_integer((json_int_t)out->stats.geometry_bytes));
    json_object_set_new(j, "total_bytes", json_integer((json_int_t)out->stats.total_bytes));
    char path[4200], part[4300];
    record_path(dir, t, path, sizeof path);
    snprintf(part, sizeof part, "%s.part", path);
    ct_status st = CT_OK;
    /* 17 significant digits: the values read back are the very doubles written. */
    if (json_dump_file(j, part, JSON_COMPACT | JSON_REAL_PRECISION(17)) != 0 || rename(part, path) != 0)
        st = ct_error(ctx, CT_ERR_IO, "%s: cannot write the tile record", path);
    json_decref(j);
    return st;
}

void ct_journal_end(const char *dir) {
    char path[4200];
    snprintf(path, sizeof path, "%s/.resume", dir);
    ct_remove_tree(path);
}
