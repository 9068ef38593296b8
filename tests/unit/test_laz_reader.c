/* The LAS reader over LAZ files: every LAZ of ../shared/data with an uncompressed twin
 * (compressed from it, or decompressed into it, by LASzip) must read as the twin does —
 * the same point count, the same raw records byte for byte through ct_las_read_raw in
 * ranges that start and end inside chunks, single records anywhere, ct_las_read_points'
 * decoded fields, and the same answers from the header-bounds checks; and blocks
 * (ct_las_block_end) that end where the chunks end. And damage inside a chunk (LAZ has
 * no checksum) is an error naming the file and the chunk, not wrong points. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "citytiler/context.h"
#include "citytiler/las.h"
#include "ct_test.h"

static ct_context *ctx;

/* Every record of r (count * record_length bytes; caller frees), read in one go. */
static uint8_t *all_records(const ct_las_reader *r) {
    const ct_las_header *h = ct_las_get_header(r);
    uint8_t *b = malloc((size_t)h->point_count * h->record_length + 1);
    if (b && ct_las_read_raw(ctx, r, 0, (size_t)h->point_count, b) != CT_OK) {
        fprintf(stderr, "%s: %s\n", ct_las_path(r), ct_error_message(ctx));
        free(b);
        b = NULL;
    }
    return b;
}

/* Ranges of `step` records from `start` (so they cross the chunks' ends) over the first
 * RANGE_SPAN records, and 24 single records anywhere, each compared with the twin's
 * records `want` (a range decodes its chunks from their start: over whole files the test
 * took minutes under ASan). */
enum { RANGE_SPAN = 120000 };
static void check_ranges(const ct_las_reader *z, const uint8_t *want, uint64_t start, size_t step, const char *name) {
    const ct_las_header *h = ct_las_get_header(z);
    size_t rl = h->record_length;
    uint8_t *buf = malloc(step * rl + 1);
    if (!buf) return;
    int bad = 0;
    uint64_t span = h->point_count < RANGE_SPAN ? h->point_count : RANGE_SPAN;
    for (uint64_t first = start; first < span && !bad; first += step) {
        size_t n = h->point_count - first < step ? (size_t)(h->point_count - first) : step;
        if (ct_las_read_raw(ctx, z, first, n, buf) != CT_OK || memcmp(buf, want + first * rl, n * rl) != 0) bad = 1;
        CT_CHECK_MSG(!bad, "%s: records %llu..+%zu differ from the twin's (%s)", name, (unsigned long long)first, n,
                     ct_error_message(ctx));
    }
    uint64_t seed = 12345;
    for (int i = 0; i < 24 && !bad; i++) {
        uint64_t p = (uint64_t)(ct_test_unif(&seed) * (double)h->point_count);
        if (ct_las_read_raw(ctx, z, p, 1, buf) != CT_OK || memcmp(buf, want + p * rl, rl) != 0) bad = 1;
        CT_CHECK_MSG(!bad, "%s: record %llu differs from the twin's", name, (unsigned long long)p);
    }
    free(buf);
}

/* ct_las_read_points of every field over the whole file, LAZ against the twin. */
static void check_points(const ct_las_reader *z, const ct_las_reader *l, const char *name) {
    uint64_t n = ct_las_get_header(z)->point_count;
    ct_las_points a, b;
    if (ct_las_points_alloc(ctx, (size_t)n, CT_LAS_ALL, &a) != CT_OK) return;
    if (ct_las_points_alloc(ctx, (size_t)n, CT_LAS_ALL, &b) != CT_OK) {
        ct_las_points_free(&a);
        return;
    }
    CT_CHECK(ct_las_read_points(ctx, z, 0, (size_t)n, &a) == CT_OK);
    CT_CHECK(ct_las_read_points(ctx, l, 0, (size_t)n, &b) == CT_OK);
    CT_CHECK_MSG(memcmp(a.x, b.x, n * sizeof *a.x) == 0 && memcmp(a.z, b.z, n * sizeof *a.z) == 0 &&
                     memcmp(a.cls, b.cls, n) == 0 && memcmp(a.gps_time, b.gps_time, n * sizeof *a.gps_time) == 0 &&
                     memcmp(a.red, b.red, n * sizeof *a.red) == 0,
                 "%s: decoded points differ from the twin's", name);
    ct_las_points_free(&a);
    ct_las_points_free(&b);
}

/* Blocks end where chunks end, and tile the file. */
static void check_blocks(const ct_las_reader *z, const char *name) {
    const ct_las_header *h = ct_las_get_header(z);
    uint64_t blocks = 0, p = 0;
    while (p < h->point_count) {
        uint64_t e = ct_las_block_end(z, p);
        if (e <= p || e > h->point_count) break;
        if (h->laz_chunk_size != UINT32_MAX && e != h->point_count)
            CT_CHECK_MSG(e % h->laz_chunk_size == 0, "%s: block end %llu not at a chunk's end", name,
                         (unsigned long long)e);
        CT_CHECK(ct_las_block_end(z, e - 1) == e);
        p = e;
        blocks++;
    }
    CT_CHECK_MSG(p == h->point_count && blocks == h->laz_chunks, "%s: %llu blocks for %llu chunks", name,
                 (unsigned long long)blocks, (unsigned long long)h->laz_chunks);
}

static int compare_twins(const char *laz, const char *las) {
    ct_las_reader *z = NULL, *l = NULL;
    ct_error_clear(ctx);
    CT_CHECK_MSG(ct_las_open(ctx, laz, &z) == CT_OK, "%s: %s", laz, ct_error_message(ctx));
    CT_CHECK_MSG(ct_las_open(ctx, las, &l) == CT_OK, "%s: %s", las, ct_error_message(ctx));
    if (!z || !l) {
        ct_las_close(z);
        ct_las_close(l);
        return 0;
    }
    const ct_las_header *hz = ct_las_get_header(z), *hl = ct_las_get_header(l);
    CT_CHECK(hz->compressed && !hl->compressed);
    CT_CHECK_MSG(hz->point_count == hl->point_count && hz->point_format == hl->point_format &&
                     hz->record_length == hl->record_length,
                 "%s: header differs from the twin's", laz);
    if (hz->point_count == hl->point_count && hz->record_length == hl->record_length && hz->point_count > 0) {
        uint8_t *a = all_records(z), *b = all_records(l);
        CT_CHECK_MSG(a && b && memcmp(a, b, (size_t)hz->point_count * hz->record_length) == 0,
                     "%s: records differ from %s", laz, las);
        if (b) {
            check_ranges(z, b, 0, 7777, laz);
            check_ranges(z, b, 3, 50000, laz);
        }
        free(a);
        free(b);
        check_points(z, l, laz);
        check_blocks(z, laz);
        CT_CHECK(ct_las_points_within_header(z) == ct_las_points_within_header(l));
        /* (a one-chunk LAZ sampled its first point 64 times: "collapsed", a damaged scale) */
        double sz[2], sl[2];
        CT_CHECK_MSG(ct_las_points_collapsed(z, sz) == ct_las_points_collapsed(l, sl), "%s: collapsed differs", laz);
        uint64_t iz = 0, il = 0;
        double xz[3], xl[3];
        CT_CHECK(ct_las_z_beyond_header(z, &iz, xz) == ct_las_z_beyond_header(l, &il, xl));
    }
    printf("%-60s %9llu points in %4llu chunks: as its twin\n", laz, (unsigned long long)hz->point_count,
           (unsigned long long)hz->laz_chunks);
    ct_las_close(z);
    ct_las_close(l);
    return 1;
}

/* A copy of `src` with `len` bytes zeroed from `at` (a byte offset, or when below 1 a
 * fraction of the length): it opens (the header,
 * VLR and chunk table are whole) but reading its points fails, naming the file and the
 * chunk. LAZ has no checksum: the decoder's leftover bytes are what tell. */
static void check_damaged(const char *src, double at, size_t len, const char *name) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", ct_test_env("CT_BINARY_DIR", "."), name);
    FILE *in = fopen(src, "rb"), *out = NULL;
    uint8_t *b = NULL;
    long n = 0;
    if (in && fseek(in, 0, SEEK_END) == 0 && (n = ftell(in)) > 0 && fseek(in, 0, SEEK_SET) == 0 &&
        (b = malloc((size_t)n)) && fread(b, 1, (size_t)n, in) == (size_t)n) {
        size_t from = at < 1 ? (size_t)((double)n * at) : (size_t)at;
        if (from + len <= (size_t)n) memset(b + from, 0, len);
        out = fopen(path, "wb");
        if (out) CT_CHECK(fwrite(b, 1, (size_t)n, out) == (size_t)n);
    }
    if (in) fclose(in);
    if (out) fclose(out);
    CT_CHECK_MSG(out != NULL, "%s: cannot make the damaged copy", name);
    ct_las_reader *r = NULL;
    ct_error_clear(ctx);
    CT_CHECK_MSG(ct_las_open(ctx, path, &r) == CT_OK, "%s: %s", name, ct_error_message(ctx));
    if (r) {
        const ct_las_header *h = ct_las_get_header(r);
        uint8_t *recs = malloc((size_t)h->point_count * h->record_length + 1);
        ct_status st = recs ? ct_las_read_raw(ctx, r, 0, (size_t)h->point_count, recs) : CT_ERR_NOMEM;
        CT_CHECK_MSG(st == CT_ERR_INPUT && strstr(ct_error_message(ctx), path) && strstr(ct_error_message(ctx), "chunk 0"),
                     "%s: %s: %s", name, ct_status_name(st), ct_error_message(ctx));
        printf("%s: %s\n", name, ct_error_message(ctx));
        free(recs);
        ct_las_close(r);
    }
    free(b);
}

/* Warnings logged, for the checks below. */
typedef struct logbuf {
    char all[8192];
} logbuf;

static void on_log(void *user, ct_log_level level, const char *msg) {
    logbuf *b = user;
    size_t n = strlen(b->all);
    if (level <= CT_LOG_WARN) snprintf(b->all + n, sizeof b->all - n, "%s\n", msg);
}

static uint8_t *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    uint8_t *b = NULL;
    long sz = 0;
    if (f && fseek(f, 0, SEEK_END) == 0 && (sz = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 && (b = malloc((size_t)sz)) &&
        fread(b, 1, (size_t)sz, f) != (size_t)sz) {
        free(b);
        b = NULL;
    }
    if (f) fclose(f);
    *n = b ? (size_t)sz : 0;
    return b;
}

static void put_le(uint8_t *p, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* The payload offset of the 'laszip encoded' VLR of a file image, 0 when none. */
static size_t laszip_vlr(const uint8_t *b, size_t n) {
    size_t pos = (size_t)(b[94] | b[95] << 8), nv = (size_t)(b[100] | b[101] << 8 | b[102] << 16);
    for (size_t i = 0; i < nv && pos + 54 <= n; i++) {
        size_t len = (size_t)(b[pos + 20] | b[pos + 21] << 8);
        if (memcmp(b + pos + 2, "laszip encoded", 14) == 0) return pos + 54;
        pos += 54 + len;
    }
    return 0;
}

/* Writes the image (n bytes) under name, opens it and reads all its points: the open's and
 * the read's statuses and the warnings into *log; the message of a failure too. */
static ct_status open_and_read(const uint8_t *b, size_t n, const char *name, logbuf *log, ct_status *read_st) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", ct_test_env("CT_BINARY_DIR", "."), name);
    FILE *f = fopen(path, "wb");
    CT_CHECK(f && fwrite(b, 1, n, f) == n);
    if (f) fclose(f);
    memset(log, 0, sizeof *log);
    ct_context_set_logger(ctx, on_log, log, CT_LOG_WARN);
    ct_error_clear(ctx);
    ct_las_reader *r = NULL;
    ct_status st = ct_las_open(ctx, path, &r);
    *read_st = CT_ERR_USAGE;
    if (st == CT_OK) {
        const ct_las_header *h = ct_las_get_header(r);
        uint8_t *recs = malloc((size_t)h->point_count * h->record_length + 1);
        *read_st = recs ? ct_las_read_raw(ctx, r, 0, (size_t)h->point_count, recs) : CT_ERR_NOMEM;
        free(recs);
        ct_las_close(r);
    }
    size_t m = strlen(log->all);
    snprintf(log->all + m, sizeof log->all - m, "%s\n", ct_error_message(ctx));
    ct_context_set_logger(ctx, NULL, NULL, CT_LOG_WARN);
    printf("%s: %s", name, log->all);
    return st;
}

/* Damage that changes a LAZ's structure, each said so (QA 4). */
static void check_structure(const char *shared) {
    char path[4200];
    size_t n = 0;
    logbuf log;
    ct_status rd;
    snprintf(path, sizeof path, "%s/delft/ahn3_cropped_2.laz", shared);
    uint8_t *b = slurp(path, &n);
    CT_CHECK(b != NULL);
    if (!b) return;
    size_t pts = (size_t)(b[96] | b[97] << 8 | b[98] << 16 | (size_t)b[99] << 24);
    /* cut in half: "truncated?", not a table "outside the point data" */
    CT_CHECK(open_and_read(b, n / 2, "laz_half.laz", &log, &rd) == CT_ERR_INPUT && strstr(log.all, "truncated?"));
    /* one bit of chunk 0's first point (stored whole): every point of the chunk moves 2,147 km,
     * nothing is left unread: read, but said */
    uint8_t *d = malloc(n);
    if (d) {
        memcpy(d, b, n);
        d[pts + 8 + 3] ^= 0x80;
        CT_CHECK(open_and_read(d, n, "laz_first_point.laz", &log, &rd) == CT_OK && rd == CT_OK &&
                 strstr(log.all, "LAZ chunk 0: 50000 of its 50000 points lie outside the header's x/y bounds"));
        /* compressor 1 (not chunked): refused with what to do */
        memcpy(d, b, n);
        size_t v = laszip_vlr(d, n);
        CT_CHECK(v > 0);
        if (v) put_le(d + v, 1, 2);
        CT_CHECK(open_and_read(d, n, "laz_compressor1.laz", &log, &rd) == CT_ERR_UNSUPPORTED &&
                 strstr(log.all, "compressor 1") && strstr(log.all, "recompress"));
        free(d);
    }
    free(b);
    /* LAS 1.4 with an EVLR: its offset damaged to lie inside the compressed points. Read as
     * the LAS reader reads such a file: without the EVLRs, with a warning. */
    snprintf(path, sizeof path, "%s/laz/laspy_1_4_w_evlr.laz", shared);
    b = slurp(path, &n);
    CT_CHECK(b != NULL);
    if (b) {
        pts = (size_t)(b[96] | b[97] << 8 | b[98] << 16 | (size_t)b[99] << 24);
        put_le(b + 235, pts + 100, 8);
        CT_CHECK(open_and_read(b, n, "laz_evlr_inside.laz", &log, &rd) == CT_OK && rd == CT_OK &&
                 strstr(log.all, "inside its compressed points: ignoring the EVLRs"));
        free(b);
    }
}

int main(void) {
    const char *shared = ct_test_env("CT_SHARED_DATA", "../shared/data");
    ctx = ct_context_create();
    if (!ctx) return 1;
    static const char *const twins[][2] = {
        {"laz/lazperf_point10.laz", "las/lazperf_point10.las"},
        {"laz/lazperf_point-time.laz", "las/lazperf_point-time.las"},
        {"laz/lazperf_point-color.laz", "las/lazperf_point-color.las"},
        {"laz/lazperf_point-color-time.laz", "las/lazperf_point-color-time.las"},
        {"laz/liblas_1.2_3.laz", "las/liblas_1.2_3.las"},
        {"laz/lasr_Topography.laz", "las/lasr_Topography.las"},
        {"laz/laspy_1_4_w_evlr.laz", "las/laspy_1_4_w_evlr.las"},
        {"laz/laspy_simple1_4.laz", "las/laspy_simple1_4.las"},
        {"laz/laspy_append-bug_pdrf8.laz", "las/laspy_append-bug_pdrf8.las"},
        {"laz/laspy_fullwave_pdrf10.laz", "las/laspy_fullwave_pdrf10.las"},
        {"laz/loadersgl_pdrf10-1.4.laz", "las/loadersgl_pdrf10-1.4.las"},
        {"delft/ahn3_cropped_1.laz", "delft/ahn3_cropped_1.las"},
        {"delft/ahn3_cropped_2.laz", "delft/ahn3_cropped_2.las"},
        {"amsterdam/ahn_2386_9702.laz", "amsterdam/ahn_2386_9702_nocrs.las"},
        {"amsterdam/ahn_2397_9705.laz", "amsterdam/ahn_2397_9705_nocrs.las"},
        {"amsterdam_trees/ahn_2496_9727.laz", "amsterdam_trees/ahn4_2496_9727_epsg28992.las"},
    };
    int compared = 0;
    for (size_t i = 0; i < sizeof twins / sizeof twins[0]; i++) {
        char a[4200], b[4200];
        snprintf(a, sizeof a, "%s/%s", shared, twins[i][0]);
        snprintf(b, sizeof b, "%s/%s", shared, twins[i][1]);
        compared += compare_twins(a, b);
    }
    CT_CHECK_MSG(compared == (int)(sizeof twins / sizeof twins[0]), "%d twins compared", compared);
    char src[4200];
    snprintf(src, sizeof src, "%s/delft/ahn3_cropped_2.laz", shared); /* pointwise */
    check_damaged(src, 0.02, 400, "laz_damaged_pointwise.laz");
    /* 4000 zeros 5000 bytes into chunk 0 (its data from byte 329 + 8): decoded without running out
     * of bytes, but from 7,800 of its 277,228 (the points were wrong, exit 0, before) */
    check_damaged(src, 5337, 4000, "laz_damaged_unread.laz");
    snprintf(src, sizeof src, "%s/laz/lasr_Topography.laz", shared);
    check_damaged(src, 0.3, 400, "laz_damaged_topography.laz");
    snprintf(src, sizeof src, "%s/laz/laspy_simple1_4.laz", shared); /* layered */
    check_damaged(src, 0.5, 400, "laz_damaged_layered.laz");
    snprintf(src, sizeof src, "%s/laz/laspy_append-bug_pdrf8.laz", shared);
    check_damaged(src, 0.6, 400, "laz_damaged_layered8.laz");
    check_structure(shared);
    ct_context_destroy(ctx);
    return ct_test_finish("test_laz_reader");
}
