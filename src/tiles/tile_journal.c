/* Each finished tile's GLB is written first and its record after it, so a record always
 * means a complete GLB, whenever the run is killed (a GLB without a record is written
 * again). The records of a process are lines appended to one file, each by one write():
 * a file per tile (and a rename each) cost two more operations under a directory's lock
 * a tile, and the thousands of files deleted at the end made the next run's file creation
 * slow on ext4 without a journal, which scans past recently deleted inodes. A line cut by
 * a kill has no newline, or does not parse: it is skipped, and its tile written again. */
#include "tiles/tile_journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/reserve.h"
#include "io/outdir.h"
#include "tiles/tileset_json.h"

/* One record: the tile's name (L_X_Y), what it gave, and its place among the records
 * read (a tile recorded twice, by a run and the run resuming it, keeps its last record). */
typedef struct record {
    char name[64];
    size_t seq;
    ct_tile_output out;
} record;

struct ct_journal {
    char *dir;
    int fd; /* DIR/.resume/records-WRITER.jsonl, opened to append */
    char *path;
    record *recs; /* sorted by name, one per name */
    size_t nrecs, cap;
    int partitions; /* DIR/.resume/partitions, 0 when absent */
};

static int cmp_record(const void *a, const void *b) {
    const record *p = a, *q = b;
    int c = strcmp(p->name, q->name);
    return c ? c : (p->seq > q->seq) - (p->seq < q->seq);
}

/* Parses one line; 0 when it is not a whole record. */
static int parse_record(const char *line, size_t len, record *r) {
    json_t *j = json_loadb(line, len, 0, NULL);
    if (!j) return 0;
    json_t *name = json_object_get(j, "tile"), *region = json_object_get(j, "region"),
           *tr = json_object_get(j, "transform");
    int ok = json_is_string(name) && strlen(json_string_value(name)) < sizeof r->name &&
             json_is_integer(json_object_get(j, "has_content"));
    memset(&r->out, 0, sizeof r->out);
    if (ok) {
        snprintf(r->name, sizeof r->name, "%s", json_string_value(name));
        r->out.has_content = (int)json_integer_value(json_object_get(j, "has_content"));
    }
    if (ok && r->out.has_content) {
        ok = json_array_size(region) == 6 && json_array_size(tr) == 16;
        for (size_t k = 0; ok && k < 6; k++) r->out.region[k] = json_number_value(json_array_get(region, k));
        for (size_t k = 0; ok && k < 16; k++) r->out.transform[k] = json_number_value(json_array_get(tr, k));
        r->out.stats.geometry_raw = (size_t)json_integer_value(json_object_get(j, "geometry_raw"));
        r->out.stats.geometry_bytes = (size_t)json_integer_value(json_object_get(j, "geometry_bytes"));
        r->out.stats.total_bytes = (size_t)json_integer_value(json_object_get(j, "total_bytes"));
    }
    json_decref(j);
    return ok;
}

/* Appends the whole lines of one records file. Returns 0 when out of memory. */
static int read_records(ct_journal *j, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return 1; /* (gone: nothing recorded there) */
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int ok = 1;
    for (;;) {
        if (!ct_reserve((void **)&buf, &cap, len + 65536, 1)) {
            ok = 0;
            break;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    fclose(f);
    for (size_t at = 0; ok && at < len;) {
        char *nl = memchr(buf + at, '\n', len - at);
        if (!nl) break; /* a last line without its newline was cut */
        size_t n = (size_t)(nl - (buf + at));
        if (!ct_reserve((void **)&j->recs, &j->cap, j->nrecs + 1, sizeof *j->recs)) ok = 0;
        else if (parse_record(buf + at, n, &j->recs[j->nrecs])) {
            j->recs[j->nrecs].seq = j->nrecs;
            j->nrecs++;
        }
        at += n + 1;
    }
    free(buf);
    return ok;
}

static int cmp_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

ct_status ct_journal_reload(ct_context *ctx, ct_journal *j) {
    char path[4200];
    j->partitions = ct_outdir_partitions(j->dir);
    snprintf(path, sizeof path, "%s/.resume", j->dir);
    j->nrecs = 0;
    DIR *d = opendir(path);
    if (!d) return ct_error(ctx, CT_ERR_IO, "%s: cannot read the tile records: %s", path, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    int ok = 1;
    for (struct dirent *e; ok && (e = readdir(d)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, "records-", 8) != 0 || len < 6 || strcmp(e->d_name + len - 6, ".jsonl") != 0) continue;
        ok = ct_reserve((void **)&names, &cap, n + 1, sizeof *names) && (names[n] = strdup(e->d_name)) != NULL;
        n += ok;
    }
    closedir(d);
    /* (in name order: the same records whatever order the directory lists them in) */
    if (ok && n > 1) qsort(names, n, sizeof *names, cmp_name);
    for (size_t i = 0; ok && i < n; i++) {
        snprintf(path, sizeof path, "%s/.resume/%s", j->dir, names[i]);
        ok = read_records(j, path);
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    if (!ok) return ct_error_nomem(ctx, "tile records");
    /* One record per tile, its last. */
    if (j->nrecs > 1) qsort(j->recs, j->nrecs, sizeof *j->recs, cmp_record);
    size_t kept = 0;
    for (size_t i = 0; i < j->nrecs; i++) {
        if (kept > 0 && strcmp(j->recs[kept - 1].name, j->recs[i].name) == 0) kept--;
        j->recs[kept++] = j->recs[i];
    }
    j->nrecs = kept;
    return CT_OK;
}

static ct_status check_fingerprint(ct_context *ctx, const char *dir, uint64_t fingerprint, ct_journal_mode mode) {
    char path[4200], want[32];
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
        if (mode == CT_JOURNAL_RESUME) {
            /* No fingerprint: not a run this command can be sure to finish (a damaged work
             * folder, or an earlier tileset a kill left there while it was being replaced):
             * its tiles were kept whatever the options (meshopt tiles beside plain ones).
             * Start over in an empty folder. */
            ct_log(ctx, CT_LOG_WARN, "%s: no record of the inputs and options of the run there (.resume/fingerprint): "
                   "nothing is kept from it; every tile is written again", dir);
            char resume[4200];
            snprintf(resume, sizeof resume, "%s/.resume", dir);
            ct_remove_tree(dir);
            ct_status st = ct_mkdirs(ctx, resume);
            if (st != CT_OK) return st;
        }
    }
    return ct_write_file(ctx, path, want, strlen(want));
}

ct_status ct_journal_begin(ct_context *ctx, const char *dir, uint64_t fingerprint, ct_journal_mode mode, int writer,
                           int partitions, ct_journal **out) {
    *out = NULL;
    char path[4200];
    snprintf(path, sizeof path, "%s/.resume", dir);
    ct_status st = ct_mkdirs(ctx, path);
    if (st == CT_OK) st = check_fingerprint(ctx, dir, fingerprint, mode);
    /* Partitions run one after another share the work directory too, not only the lock:
     * a run split another way there would mix its tiles with theirs. */
    int recorded = partitions > 1 ? ct_outdir_partitions(dir) : 0;
    if (st == CT_OK && recorded > 0 && recorded != partitions)
        st = ct_error(ctx, CT_ERR_USAGE, "%s: holds the work of a run split into %d partitions, and this one is split "
                      "into %d: use the same N for every --partition K/N of a run, or remove %s to start over", dir,
                      recorded, partitions, dir);
    if (st == CT_OK && partitions > 1 && recorded != partitions) st = ct_outdir_record_partitions(ctx, dir, partitions);
    if (st != CT_OK) return st;
    ct_journal *j = calloc(1, sizeof *j);
    if (!j || !(j->dir = strdup(dir))) {
        free(j);
        return ct_error_nomem(ctx, "tile records");
    }
    j->fd = -1;
    snprintf(path, sizeof path, "%s/.resume/records-%d.jsonl", dir, writer);
    if (!(j->path = strdup(path))) st = ct_error_nomem(ctx, "tile records");
    if (st == CT_OK && mode != CT_JOURNAL_NEW) st = ct_journal_reload(ctx, j);
    if (st == CT_OK) {
        j->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (j->fd < 0) st = ct_error(ctx, CT_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    }
    if (st != CT_OK) {
        ct_journal_close(j);
        return st;
    }
    *out = j;
    return CT_OK;
}

int ct_journal_partitions(const ct_journal *j) { return j->partitions; }

int ct_journal_load(const ct_journal *j, const ct_qtile *t, ct_tile_output *out) {
    record key;
    ct_tile_name(t, key.name, sizeof key.name);
    memset(out, 0, sizeof *out);
    size_t lo = 0, hi = j->nrecs;
    while (lo < hi) {
        size_t m = lo + (hi - lo) / 2;
        if (strcmp(j->recs[m].name, key.name) < 0) lo = m + 1;
        else hi = m;
    }
    if (lo == j->nrecs || strcmp(j->recs[lo].name, key.name) != 0) return 0;
    const ct_tile_output *r = &j->recs[lo].out;
    if (r->has_content) {
        /* The GLB must still be there, whole: a record alone (the GLB deleted, or cut by a
         * crash of the machine before its blocks reached the disk) made a tileset pointing
         * at a missing or broken file. Then the tile is written again. */
        char glb[4300];
        struct stat fs;
        ct_tile_content_path(j->dir, t, glb, sizeof glb);
        if (stat(glb, &fs) != 0 || !S_ISREG(fs.st_mode) || (uint64_t)fs.st_size != (uint64_t)r->stats.total_bytes)
            return 0;
    }
    *out = *r;
    return 1;
}

ct_status ct_journal_save(ct_context *ctx, ct_journal *j, const ct_qtile *t, const ct_tile_output *out) {
    char name[64];
    ct_tile_name(t, name, sizeof name);
    json_t *o = json_object(), *region = json_array(), *tr = json_array();
    int ok = o && region && tr && json_object_set_new(o, "tile", json_string(name)) == 0 &&
             json_object_set_new(o, "has_content", json_integer(out->has_content)) == 0;
    for (size_t k = 0; ok && k < 6; k++) ok = json_array_append_new(region, json_real(out->region[k])) == 0;
    for (size_t k = 0; ok && k < 16; k++) ok = json_array_append_new(tr, json_real(out->transform[k])) == 0;
    ok = ok && json_object_set(o, "region", region) == 0 && json_object_set(o, "transform", tr) == 0 &&
         json_object_set_new(o, "geometry_raw", json_integer((json_int_t)out->stats.geometry_raw)) == 0 &&
         json_object_set_new(o, "geometry_bytes", json_integer((json_int_t)out->stats.geometry_bytes)) == 0 &&
         json_object_set_new(o, "total_bytes", json_integer((json_int_t)out->stats.total_bytes)) == 0;
    /* 17 significant digits: the values read back are the very doubles written. */
    char *text = ok ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(o);
    json_decref(region);
    json_decref(tr);
    size_t len = text ? strlen(text) : 0;
    char *line = text ? realloc(text, len + 2) : NULL;
    if (!line) {
        free(text);
        return ct_error_nomem(ctx, "tile record");
    }
    line[len] = '\n';
    line[len + 1] = '\0';
    /* One write() a line: with O_APPEND, lines of several threads do not interleave. */
    ssize_t w = write(j->fd, line, len + 1);
    int err = errno;
    free(line);
    if (w != (ssize_t)(len + 1))
        return ct_error(ctx, CT_ERR_IO, "%s: cannot write the record of tile %s: %s", j->path, name,
                        w < 0 ? strerror(err) : "short write");
    return CT_OK;
}

void ct_journal_end(ct_journal *j) {
    char path[4200];
    snprintf(path, sizeof path, "%s/.resume", j->dir);
    ct_remove_tree(path);
}

void ct_journal_close(ct_journal *j) {
    if (!j) return;
    if (j->fd >= 0) close(j->fd);
    free(j->dir);
    free(j->path);
    free(j->recs);
    free(j);
}
