/* Partitions' results for the merge: see partition_results.h. */
#include "core/partition_results.h"
#include "core/hash.h"
#include "io/outdir.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { RESULTS_VERSION = 2 };
static const char MAGIC[8] = {'C', 'T', 'P', 'R', 'E', 'S', 'U', 'L'};

/* The file's header (written as it lies in memory: the merge runs the same binary's
 * layout, and a file of another layout fails the magic, version or size checks), then
 * `count` records of an item's index (uint64_t) and its result (rec_size bytes), then a
 * checksum of both. */
typedef struct results_header {
    char magic[8];
    uint32_t version, rec_size;
    uint64_t run_hash, data_hash, total, count;
    uint32_t k, n;
} results_header;

/* The first item of partition k's share of total (n partitions). */
static uint64_t share_first(uint64_t total, int k, int n) {
    return total / (uint64_t)n * (uint64_t)k + total % (uint64_t)n * (uint64_t)k / (uint64_t)n;
}

uint64_t ct_partition_results_run_hash(const ct_context *ctx, uint64_t h, const char *const *paths, size_t npaths) {
    if (h == 0) h = CT_FNV1A_BASIS;
    json_t *stages = json_deep_copy(json_object_get(ct_context_pipeline_json(ctx), "stages"));
    if (!stages) return 0;
    size_t i;
    json_t *stage;
    json_array_foreach(stages, i, stage) {
        const char *type = json_string_value(json_object_get(stage, "type"));
        if (type && strncmp(type, "writers.", 8) == 0) json_object_del(stage, "path");
    }
    char *text = json_dumps(stages, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(stages);
    if (!text) return 0;
    h = ct_fnv1a(h, text, strlen(text) + 1);
    free(text);
    for (size_t f = 0; f < npaths; f++) {
        struct stat st;
        if (stat(paths[f], &st) != 0) return 0;
        uint64_t id[6] = {(uint64_t)st.st_dev, (uint64_t)st.st_ino, (uint64_t)st.st_size, (uint64_t)st.st_mtim.tv_sec,
                          (uint64_t)st.st_mtim.tv_nsec, (uint64_t)st.st_ctim.tv_sec};
        h = ct_fnv1a(h, id, sizeof id);
    }
    return h ? h : 1; /* (0 means "unknown") */
}

int ct_partition_results_declare(ct_context *ctx, const char *type, char *key, size_t size) {
    size_t n = 0, len = strlen(type);
    const char *const *keys = ct_context_partition_results(ctx, &n);
    int nth = 0;
    for (size_t i = 0; i < n; i++) nth += keys[i] && strncmp(keys[i], type, len) == 0 && keys[i][len] == '-';
    snprintf(key, size, "%s-%d", type, nth);
    return ct_context_declare_partition_results(ctx, key);
}

/* Word by word (the footprints of a country are hundreds of megabytes). */
static uint64_t mix(uint64_t h, uint64_t v) {
    h ^= v;
    h *= 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 31);
}

static uint64_t mix_double(uint64_t h, double d) {
    uint64_t v;
    memcpy(&v, &d, sizeof v);
    return mix(h, v);
}

uint64_t ct_partition_results_buildings_hash(const ct_dataset *ds) {
    uint64_t h = mix(CT_FNV1A_BASIS, ds->nbuildings);
    for (size_t i = 0; i < ds->nbuildings; i++) {
        const ct_building *b = &ds->buildings[i];
        h = mix(h, ct_fnv1a_str(b->id));
        h = mix(h, b->footprint.nparts);
        for (uint32_t p = 0; p < b->footprint.nparts; p++) {
            const ct_polygon *poly = &b->footprint.parts[p];
            h = mix(h, poly->nrings);
            for (uint32_t r = 0; r <= poly->nrings; r++) h = mix(h, poly->ring_start[r]);
            for (uint32_t v = 0; v < 2 * poly->ring_start[poly->nrings]; v++) h = mix_double(h, poly->xy[v]);
        }
    }
    return h;
}

uint64_t ct_partition_results_assets_hash(const ct_asset_set *set) {
    uint64_t h = mix(CT_FNV1A_BASIS, set ? set->n : 0);
    for (size_t i = 0; set && i < set->n; i++) {
        const ct_asset *a = &set->items[i];
        h = mix(mix(h, ct_fnv1a_str(a->id)), a->flags);
        h = mix_double(mix_double(mix_double(h, a->x), a->y), a->z);
    }
    return h;
}

static void file_path(const char *dir, const char *key, int k, int n, char *out, size_t size) {
    snprintf(out, size, "%s/.resume/results-%s-%d-of-%d.bin", dir, key, k, n);
}

static uint64_t checksum(const results_header *h, const void *body, size_t bytes) {
    return ct_fnv1a(ct_fnv1a(CT_FNV1A_BASIS, h, sizeof *h), body, bytes);
}

void ct_partition_results_share(const ct_context *ctx, size_t total, size_t *first, size_t *count) {
    int k = 0, n = 1;
    ct_context_partition(ctx, &k, &n);
    *first = (size_t)share_first(total, k, n);
    *count = (size_t)share_first(total, k + 1, n) - *first;
}

int ct_partition_results_saving(const ct_context *ctx) {
    int k = 0, n = 1;
    ct_context_partition(ctx, &k, &n);
    return ct_context_work_dir(ctx) && n > 1 && !ct_context_merge(ctx) && !ct_context_has_allgather(ctx);
}

int ct_partition_results_taken(const ct_context *ctx) {
    int k = 0, n = 1;
    ct_context_partition(ctx, &k, &n);
    return ct_context_work_dir(ctx) && (ct_context_merge(ctx) || (n > 1 && !ct_context_has_allgather(ctx)));
}

/* The number of partitions: this run's, or in a merge the one the journal recorded
 * (.resume/partitions; 0 when none). */
static int partitions_of(const ct_context *ctx, const char *dir) {
    int k = 0, n = 1;
    ct_context_partition(ctx, &k, &n);
    if (!ct_context_merge(ctx)) return n > 1 ? n : 0;
    n = ct_outdir_partitions(dir);
    return n >= 2 && n <= 1000000 ? n : 0;
}

ct_status ct_partition_results_save(ct_context *ctx, const char *key, uint64_t run_hash, uint64_t data_hash,
                                    const size_t *idx, const void *recs, size_t m, size_t rec_size, size_t total) {
    const char *dir = ct_context_work_dir(ctx);
    int k = 0, n = 1;
    ct_context_partition(ctx, &k, &n);
    if (!ct_partition_results_saving(ctx) || run_hash == 0) return CT_OK;
    const uint64_t first = idx ? 0 : share_first(total, k, n);
    const size_t count = idx ? m : (size_t)(share_first(total, k + 1, n) - first);
    const size_t rec = sizeof(uint64_t) + rec_size;
    results_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, MAGIC, sizeof MAGIC);
    h.version = RESULTS_VERSION;
    h.rec_size = (uint32_t)rec_size;
    h.run_hash = run_hash;
    h.data_hash = data_hash;
    h.total = total;
    h.count = count;
    h.k = (uint32_t)k;
    h.n = (uint32_t)n;
    unsigned char *body = malloc(count ? count * rec : 1);
    if (!body) return ct_error_nomem(ctx, "partition results");
    for (size_t j = 0; j < count; j++) {
        uint64_t i = idx ? idx[j] : first + j;
        memcpy(body + j * rec, &i, sizeof i);
        memcpy(body + j * rec + sizeof i, (const unsigned char *)recs + (idx ? j : (size_t)i) * rec_size, rec_size);
    }
    const size_t bytes = count * rec;
    uint64_t sum = checksum(&h, body, bytes);
    char resume[4200], path[4400], tmp[4500];
    snprintf(resume, sizeof resume, "%s/.resume", dir);
    file_path(dir, key, k, n, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
    ct_status st = ct_mkdirs(ctx, resume);
    if (st != CT_OK) {
        free(body);
        return st;
    }
    /* The number of partitions, for the merge (the writer's journal records it too; a
     * merge after --measure-only alone then names the partitions still to run). */
    if (ct_outdir_partitions(dir) == 0 && (st = ct_outdir_record_partitions(ctx, dir, n)) != CT_OK) {
        free(body);
        return st;
    }
    /* Written aside, then renamed: a partition killed while writing leaves no torn file. */
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        free(body);
        return ct_error(ctx, CT_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    }
    int ok = fwrite(&h, sizeof h, 1, f) == 1 && (bytes == 0 || fwrite(body, 1, bytes, f) == bytes) &&
             fwrite(&sum, sizeof sum, 1, f) == 1;
    free(body);
    int err = errno;
    if (fclose(f) != 0 && ok) {
        ok = 0;
        err = errno;
    }
    if (ok && rename(tmp, path) != 0) {
        ok = 0;
        err = errno;
    }
    if (!ok) {
        unlink(tmp);
        return ct_error(ctx, CT_ERR_IO, "%s: cannot write the partition's results for the merge: %s", path,
                        strerror(err));
    }
    return CT_OK;
}

/* Opens partition k's file and checks its header against the run and rec_size (0: any),
 * 0 and *why when it does not fit; the file stays open in *out otherwise. */
static int open_share(const char *dir, const char *key, int k, int n, uint64_t run_hash, size_t rec_size,
                      results_header *h, FILE **out, char *path, size_t psize, const char **why) {
    file_path(dir, key, k, n, path, psize);
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        *why = "missing";
        return 0;
    }
    struct stat st;
    *why = "damaged (not such a file, or cut short)";
    if (fread(h, sizeof *h, 1, f) != 1 || memcmp(h->magic, MAGIC, sizeof MAGIC) != 0 || h->version != RESULTS_VERSION ||
        (rec_size && h->rec_size != rec_size) || h->k != (uint32_t)k || h->n != (uint32_t)n || h->count > h->total ||
        fstat(fileno(f), &st) != 0 ||
        (uint64_t)st.st_size != sizeof *h + h->count * (sizeof(uint64_t) + h->rec_size) + sizeof(uint64_t)) {
        fclose(f);
        return 0;
    }
    if (h->run_hash != run_hash) {
        *why = "from a run of another pipeline, options or LiDAR files";
        fclose(f);
        return 0;
    }
    *out = f;
    return 1;
}

int ct_partition_results_ready(const ct_context *ctx, const char *key, uint64_t run_hash, size_t rec_size) {
    const char *dir = ct_context_work_dir(ctx);
    if (!dir || !ct_partition_results_taken(ctx) || run_hash == 0) return 0;
    int n = partitions_of(ctx, dir);
    uint64_t total = 0, counted = 0;
    for (int k = 0; k < n; k++) { /* (every share must give the total the first gave) */
        results_header h;
        FILE *f = NULL;
        char path[4400];
        const char *why = NULL;
        if (!open_share(dir, key, k, n, run_hash, rec_size, &h, &f, path, sizeof path, &why)) return 0;
        fclose(f);
        if (k > 0 && h.total != total) return 0;
        total = h.total;
        counted += h.count;
    }
    return n > 0 && counted == total; /* (an item given twice and another never: load says so) */
}

ct_status ct_partition_results_load(ct_context *ctx, const char *key, uint64_t run_hash, uint64_t data_hash, void *recs,
                                    size_t rec_size, size_t total, const char *what) {
    const char *dir = ct_context_work_dir(ctx);
    int n = dir ? partitions_of(ctx, dir) : 0;
    if (n < 2) return ct_error(ctx, CT_ERR_INPUT, "%s: no partition recorded its results for the merge", dir ? dir : "?");
    const size_t rec = sizeof(uint64_t) + rec_size;
    unsigned char *got = calloc(total ? total : 1, 1);
    unsigned char *body = NULL;
    size_t body_cap = 0;
    ct_status st = got ? CT_OK : ct_error_nomem(ctx, "partition results");
    for (int k = 0; st == CT_OK && k < n; k++) {
        results_header h;
        FILE *f = NULL;
        char path[4400];
        const char *why = NULL;
        if (!open_share(dir, key, k, n, run_hash, rec_size, &h, &f, path, sizeof path, &why)) {
            st = ct_error(ctx, CT_ERR_INPUT, "%s: partition %d/%d's results are %s: run partition %d/%d again", path, k,
                          n, why, k, n);
            break;
        }
        if (h.total != total || h.data_hash != data_hash) {
            fclose(f);
            st = ct_error(ctx, CT_ERR_USAGE, "%s: partition %d/%d measured other %s (%llu) than this run has (%zu): "
                          "did an input change since the partitions ran? Run every partition again", path, k, n, what,
                          (unsigned long long)h.total, total);
            break;
        }
        const size_t bytes = (size_t)h.count * rec;
        if (bytes > body_cap) {
            unsigned char *grown = realloc(body, bytes);
            if (!grown) {
                fclose(f);
                st = ct_error_nomem(ctx, "partition results");
                break;
            }
            body = grown;
            body_cap = bytes;
        }
        uint64_t sum = 0;
        int ok = (bytes == 0 || fread(body, 1, bytes, f) == bytes) && fread(&sum, sizeof sum, 1, f) == 1 &&
                 sum == checksum(&h, body, bytes);
        fclose(f);
        if (!ok) {
            st = ct_error(ctx, CT_ERR_INPUT, "%s: partition %d/%d's results are damaged (checksum): run partition %d/%d "
                          "again", path, k, n, k, n);
            break;
        }
        for (size_t j = 0; j < h.count; j++) {
            uint64_t i;
            memcpy(&i, body + j * rec, sizeof i);
            if (i >= total || got[i]) {
                st = ct_error(ctx, CT_ERR_INPUT, "%s: partition %d/%d gave the result of %s %llu %s: were the "
                              "partitions run alike? Run every partition again", path, k, n, what,
                              (unsigned long long)i, i >= total ? "(no such item)" : "twice");
                break;
            }
            got[i] = 1;
            memcpy((unsigned char *)recs + i * rec_size, body + j * rec + sizeof i, rec_size);
        }
    }
    for (size_t i = 0; st == CT_OK && i < total; i++)
        if (!got[i])
            st = ct_error(ctx, CT_ERR_INPUT, "%s: no partition measured %s %zu: were the partitions run alike? Run "
                          "every partition again", dir, what, i);
    free(got);
    free(body);
    return st;
}
