/* bench_laz: single-threaded LAZ decoding speed, per file.
 *
 *   bench_laz [--reps N] [--reader] [--hash] FILE.laz...
 *
 * Each file is opened (ct_las_open_ex, no CRS) and its chunks' compressed bytes read into
 * memory once; then every chunk is decoded N times (default 5) with ct_laz_decode_chunk
 * and the best pass printed as points/s, with the range over the passes. --reader times
 * the public path instead: ct_las_read_raw of the whole file (its file reads included).
 * --hash prints an FNV-1a hash of the decoded records, the same for any decoder that
 * decodes the same bytes (a quick check that an optimisation changed none).
 *
 * For instruction counts run it once under callgrind with --reps 1:
 *   valgrind --tool=callgrind bench_laz --reps 1 FILE.laz */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "io/las_internal.h"

typedef struct opts {
    int reps, reader, hash;
} opts;

static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* Every chunk's bytes, read once (so that the passes time decoding only). */
static uint8_t *read_chunks(const ct_las_reader *r) {
    uint64_t total = 0;
    for (size_t k = 0; k < r->nchunks; k++) total += r->chunks[k].bytes;
    uint8_t *all = malloc(total ? (size_t)total : 1), *at = all;
    if (!all) return NULL;
    for (size_t k = 0; k < r->nchunks; k++, at += r->chunks[k - 1].bytes) {
        size_t n = (size_t)r->chunks[k].bytes, got = 0;
        while (got < n) {
            ssize_t g = pread(r->fd, at + got, n - got, (off_t)(r->chunks[k].offset + got));
            if (g <= 0) {
                free(all);
                return NULL;
            }
            got += (size_t)g;
        }
    }
    return all;
}

/* One pass over the file's chunks into `records`; 0 on success. */
static int decode_all(ct_context *ctx, const ct_las_reader *r, const uint8_t *all, uint8_t *records, int reader) {
    if (reader) return ct_las_read_raw(ctx, r, 0, (size_t)r->hdr.point_count, records) == CT_OK ? 0 : -1;
    const uint8_t *at = all;
    size_t rl = r->hdr.record_length;
    for (size_t k = 0; k < r->nchunks; k++) {
        const ct_laz_chunk *c = &r->chunks[k];
        if (ct_laz_decode_chunk(ctx, r->path, r->laz, k, at, (size_t)c->bytes, c->points,
                                records + (size_t)c->first_point * rl) != CT_OK)
            return -1;
        at += c->bytes;
    }
    return 0;
}

static int bench_file(ct_context *ctx, const char *path, const opts *o) {
    ct_las_open_options oo = {.skip_crs = 1};
    ct_las_reader *r = NULL;
    if (ct_las_open_ex(ctx, path, &oo, &r) != CT_OK) {
        fprintf(stderr, "%s\n", ct_error_message(ctx));
        return -1;
    }
    if (!r->laz) {
        fprintf(stderr, "%s: not LAZ\n", path);
        ct_las_close(r);
        return -1;
    }
    size_t n = (size_t)r->hdr.point_count, rl = r->hdr.record_length;
    uint8_t *all = read_chunks(r), *records = malloc(n * rl + 1);
    int rc = all && records ? 0 : -1;
    double best = 0, worst = 0;
    for (int i = 0; rc == 0 && i < o->reps; i++) {
        double t0 = bench_now();
        rc = decode_all(ctx, r, all, records, o->reader);
        double t = bench_now() - t0;
        if (i == 0 || t < best) best = t;
        if (i == 0 || t > worst) worst = t;
    }
    if (rc != 0) {
        fprintf(stderr, "%s: %s\n", path, ct_error_message(ctx));
    } else {
        const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        printf("%-32s fmt %2u %8zu pts %3zu chunks  %7.2f Mpts/s [%.2f-%.2f]", name, r->hdr.point_format, n,
               r->nchunks, n / best / 1e6, n / worst / 1e6, n / best / 1e6);
        if (o->hash) printf("  hash %016llx", (unsigned long long)fnv1a(0xcbf29ce484222325ull, records, n * rl));
        printf("\n");
    }
    free(all);
    free(records);
    ct_las_close(r);
    return rc;
}

int main(int argc, char **argv) {
    opts o = {5, 0, 0};
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc) o.reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reader")) o.reader = 1;
        else if (!strcmp(argv[i], "--hash")) o.hash = 1;
        else break;
    }
    if (i >= argc || o.reps < 1) {
        fprintf(stderr, "usage: bench_laz [--reps N] [--reader] [--hash] FILE.laz...\n");
        return 2;
    }
    ct_context *ctx = ct_context_create();
    if (!ctx) return 1;
    int failed = 0;
    for (; i < argc; i++) failed |= bench_file(ctx, argv[i], &o) != 0;
    ct_context_destroy(ctx);
    return failed;
}
