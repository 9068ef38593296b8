/* readers.lidar bins points straight from the raw records (src/io/las_bin.c) when no
 * reprojection is needed. Its point store must be exactly the generic path's (decode to
 * doubles, crop, drop classes, bin): same cells in the same order, same records in the
 * same order, same class counts and ignored points. Checked on every readable file of
 * the LAS conformance set and the Delft sample, with several cell sizes (one that makes
 * chunks touch more than 255 cells, so they fall back), crops and dropped classes. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "citytiler/las.h"
#include "citytiler/points.h"
#include "ct_test.h"

enum { CHUNK = 4096 }; /* small chunks: many of them, and chunks that end mid-file */

typedef struct job {
    const ct_las_reader *r;
    uint64_t npts;
    ct_las_bin_params bin;
    uint8_t drop[256];
    int give_raw; /* pass the records read beforehand instead of letting las_bin read them */
} job;

/* The chunk's records, read here when the job says so (caller frees); NULL otherwise. */
static uint8_t *raw_records(ct_context *ctx, const job *j, size_t c, size_t cnt) {
    if (!j->give_raw) return NULL;
    uint8_t *raw = malloc(cnt * ct_las_get_header(j->r)->record_length + 1);
    if (raw && ct_las_read_raw(ctx, j->r, (uint64_t)c * CHUNK, cnt, raw) != CT_OK) {
        free(raw);
        raw = NULL;
    }
    return raw;
}

static size_t chunk_count(const job *j, size_t c) {
    uint64_t first = (uint64_t)c * CHUNK;
    return (size_t)(j->npts - first < CHUNK ? j->npts - first : CHUNK);
}

/* The generic path, as readers.lidar's read_chunk does it (no reprojection). */
static ct_status generic(ct_context *ctx, void *user, size_t c, double *x, double *y, double *z, uint8_t *cls,
                         size_t *n) {
    const job *j = user;
    ct_las_points p;
    memset(&p, 0, sizeof p);
    p.capacity = CHUNK;
    p.x = x; p.y = y; p.z = z; p.cls = cls;
    size_t cnt = chunk_count(j, c);
    ct_status st = ct_las_read_points(ctx, j->r, (uint64_t)c * CHUNK, cnt, &p);
    if (st != CT_OK) return st;
    const double *q = j->bin.crop;
    size_t k = 0;
    for (size_t i = 0; i < cnt; i++) {
        if (j->drop[cls[i]] || x[i] < q[0] || x[i] > q[2] || y[i] < q[1] || y[i] > q[3]) continue;
        x[k] = x[i]; y[k] = y[i]; z[k] = z[i]; cls[k] = cls[i];
        k++;
    }
    *n = k;
    return CT_OK;
}

static ct_status locate(ct_context *ctx, void *user, size_t c, uint8_t *ids, size_t *n, int64_t *cxy,
                        uint32_t *counts, size_t *ncells, uint64_t *ignored) {
    const job *j = user;
    *n = chunk_count(j, c);
    uint8_t *raw = raw_records(ctx, j, c, *n);
    ct_status st = ct_las_bin_locate(ctx, j->r, (uint64_t)c * CHUNK, *n, &j->bin, ids, cxy, counts, ncells, ignored, raw);
    free(raw);
    return st;
}

static ct_status fill(ct_context *ctx, void *user, size_t c, const uint8_t *ids, size_t n, const int64_t *cxy,
                      size_t ncells, ct_point_rec *const *dst, uint64_t class_counts[256]) {
    const job *j = user;
    uint8_t *raw = raw_records(ctx, j, c, n);
    ct_status st = ct_las_bin_fill(ctx, j->r, (uint64_t)c * CHUNK, n, &j->bin, ids, cxy, ncells, dst, class_counts, raw);
    free(raw);
    return st;
}

/* limit: the store's memory limit (0: none). Pass 1 of the fast path then also writes
 * the records (early), or only keeps cell ids, or (points on disk) locates again. */
static ct_point_store *build(ct_context *ctx, job *j, int fast, double cell, uint64_t limit) {
    ct_point_store *s = ct_point_store_create(cell, cell / 8);
    if (!s) return NULL;
    ct_point_store_set_memory_limit(s, limit, NULL);
    ct_point_chunk_ops ops;
    memset(&ops, 0, sizeof ops);
    ops.points = generic;
    if (fast) {
        ops.locate = locate;
        ops.fill = fill;
    }
    size_t nchunks = (size_t)((j->npts + CHUNK - 1) / CHUNK);
    if (ct_point_store_add_chunks_ops(ctx, s, nchunks, CHUNK, &ops, j, 2) != CT_OK ||
        ct_point_store_index(ctx, s, 2) != CT_OK ||
        (ct_point_store_on_disk(s) && ct_point_store_load(ctx, s, (const double[4]){-1e18, -1e18, 1e18, 1e18}) != CT_OK)) {
        fprintf(stderr, "%s\n", ct_error_message(ctx));
        ct_point_store_destroy(s);
        return NULL;
    }
    return s;
}

/* 1 when both stores hold the same cells, in the same order, with the same records. */
static int same_store(const ct_point_store *a, const ct_point_store *b, const char *what) {
    int ok = ct_point_store_count(a) == ct_point_store_count(b) && ct_point_store_ignored(a) == ct_point_store_ignored(b) &&
             ct_point_store_cell_count(a) == ct_point_store_cell_count(b) &&
             memcmp(ct_point_store_class_counts(a), ct_point_store_class_counts(b), 256 * sizeof(uint64_t)) == 0;
    size_t nc = ct_point_store_cell_count(a);
    int64_t *ca = malloc((2 * nc + 1) * sizeof *ca), *cb = malloc((2 * nc + 1) * sizeof *cb);
    ct_span_list la, lb;
    memset(&la, 0, sizeof la);
    memset(&lb, 0, sizeof lb);
    if (ok && ca && cb) {
        ct_point_store_cells(a, ca, nc);
        ct_point_store_cells(b, cb, nc);
        ok = memcmp(ca, cb, 2 * nc * sizeof *ca) == 0;
        double cs = ct_point_store_cell_size(a);
        for (size_t i = 0; ok && i < nc; i++) { /* each cell whole: the same spans, the same bytes */
            double box[4] = {(double)ca[2 * i] * cs, (double)ca[2 * i + 1] * cs, ((double)ca[2 * i] + 0.999) * cs,
                             ((double)ca[2 * i + 1] + 0.999) * cs};
            ok = ct_point_store_query(a, box, &la) == CT_OK && ct_point_store_query(b, box, &lb) == CT_OK && la.n == lb.n;
            for (size_t k = 0; ok && k < la.n; k++)
                ok = la.v[k].n == lb.v[k].n && la.v[k].ox == lb.v[k].ox && la.v[k].oy == lb.v[k].oy &&
                     memcmp(la.v[k].p, lb.v[k].p, la.v[k].n * sizeof(ct_point_rec)) == 0;
        }
    } else if (ok) {
        ok = 0;
    }
    if (!ok)
        fprintf(stderr, "%s: fast path differs (points %llu/%llu, cells %zu/%zu)\n", what,
                (unsigned long long)ct_point_store_count(a), (unsigned long long)ct_point_store_count(b),
                ct_point_store_cell_count(a), ct_point_store_cell_count(b));
    free(ca);
    free(cb);
    ct_span_list_free(&la);
    ct_span_list_free(&lb);
    return ok;
}

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(void) {
    const char *shared = ct_test_env("CT_SHARED_DATA", "../shared/data");
    const char *src = ct_test_env("CT_SOURCE_DIR", ".");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/las", shared);
    char *names[256];
    size_t nnames = 0;
    DIR *d = opendir(dir);
    CT_CHECK_MSG(d != NULL, "cannot open %s", dir);
    for (struct dirent *e; d && (e = readdir(d)) && nnames < 255;) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".las") == 0) {
            char path[4400];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            names[nnames++] = strdup(path);
        }
    }
    if (d) closedir(d);
    qsort(names, nnames, sizeof *names, cmp_name);
    char sample[4200];
    snprintf(sample, sizeof sample, "%s/data-samples/delft/delft_ahn3_every4th_epsg28992.las", src);
    names[nnames++] = strdup(sample);

    size_t compared = 0, fast_files = 0, read_back = 0;
    uint64_t points = 0;
    for (size_t f = 0; f < nnames; f++) {
        ct_context *ctx = ct_context_create();
        ct_las_reader *r = NULL;
        if (!ctx) return 1;
        if (ct_las_open(ctx, names[f], &r) != CT_OK) { /* the broken members of the set */
            ct_context_destroy(ctx);
            continue;
        }
        const ct_las_header *h = ct_las_get_header(r);
        job j;
        memset(&j, 0, sizeof j);
        j.r = r;
        j.npts = h->point_count;
        j.bin.drop_class = j.drop;
        if (!ct_las_bin_supported(r) || j.npts == 0) {
            ct_las_close(r);
            ct_context_destroy(ctx);
            continue;
        }
        fast_files++;
        const double *mn = h->min, *mx = h->max;
        for (int variant = 0; variant < 5; variant++) {
            memset(j.drop, 0, sizeof j.drop);
            j.give_raw = variant >= 2;
            double w = mx[0] - mn[0], hgt = mx[1] - mn[1], side = fmax(w, hgt);
            double cell = variant == 0 || variant == 4 ? 100.0 : variant == 1 ? fmax(side / 600, 1e-3) : variant == 2 ? 7.3 : 1000.0;
            j.bin.cell_size = cell;
            if (variant == 1 || variant == 3 || variant == 4) { /* a crop through the middle, and noise dropped */
                j.bin.crop[0] = mn[0] + 0.25 * w;
                j.bin.crop[1] = mn[1] + 0.3 * hgt;
                j.bin.crop[2] = mn[0] + 0.8 * w;
                j.bin.crop[3] = mn[1] + 0.75 * hgt;
                j.drop[7] = j.drop[18] = 1;
            } else {
                j.bin.crop[0] = j.bin.crop[1] = -INFINITY;
                j.bin.crop[2] = j.bin.crop[3] = INFINITY;
            }
            uint64_t all = (uint64_t)((j.npts + CHUNK - 1) / CHUNK) * CHUNK * sizeof(ct_point_rec);
            /* Variant 4: more points than the limit in the files, fewer once cropped: they
             * go to the spill files in pass 1 and are read back into memory. */
            uint64_t limit = variant == 0 || variant == 2 ? 0 : variant == 1 ? all + all / 2 : variant == 3 ? 1 : all / 2;
            ct_point_store *a = build(ctx, &j, 0, cell, limit), *b = build(ctx, &j, 1, cell, limit);
            CT_CHECK_MSG(a && b, "%s: stores built", names[f]);
            if (a && b) {
                char what[4300];
                snprintf(what, sizeof what, "%s, cell %g, variant %d", names[f], cell, variant);
                CT_CHECK(same_store(a, b, what));
                points += ct_point_store_count(a);
                compared++;
                if (variant == 4 && !ct_point_store_on_disk(b)) read_back++;
                if (ct_point_store_on_disk(b)) { /* loaded back from the spill files: as in memory */
                    ct_point_store *m = build(ctx, &j, 1, cell, 0);
                    CT_CHECK_MSG(m && !ct_point_store_on_disk(m), "%s: in-memory store built", names[f]);
                    if (m) CT_CHECK(same_store(m, b, what));
                    ct_point_store_destroy(m);
                }
            }
            ct_point_store_destroy(a);
            ct_point_store_destroy(b);
        }
        ct_las_close(r);
        ct_context_destroy(ctx);
    }
    printf("%zu comparisons over %zu files read by the fast path (%llu points kept in all)\n", compared, fast_files,
           (unsigned long long)points);
    CT_CHECK(fast_files >= 40); /* most of the conformance set, and the sample */
    CT_CHECK(points > 1000000);
    printf("%zu files went to the spill files and back into memory\n", read_back);
    CT_CHECK(read_back >= 10);
    for (size_t f = 0; f < nnames; f++) free(names[f]);
    return ct_test_finish("test_las_bin");
}
