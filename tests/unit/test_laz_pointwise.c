/* LAZ point formats 0-3 (pointwise chunks: POINT10, GPSTIME11, RGB12, BYTE items v2): every
 * chunk of each LAZ file with a LAS twin decodes to the twin's records byte for byte, in
 * file order and in reverse order (chunks are independent); malformed copies (truncated,
 * a chunk cut short or overwritten, a table pointer beyond the file, wrong VLR items) fail
 * with a message naming the file, never a crash (the ASan build checks the reads). Prints
 * the decoding speed on ahn3_cropped_1.laz (informative). Data absent: the test fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "citytiler/context.h"
#include "ct_test.h"
#include "ct_test_laz.h"
#include "ct_test_laz_enc.h"
#include "io/laz.h"

typedef struct twin {
    const char *laz, *las;
} twin;

static const twin twins[] = {
    {"laz/lazperf_point10.laz", "las/lazperf_point10.las"},
    {"laz/lasr_Topography.laz", "las/lasr_Topography.las"},
    {"laz/lazperf_point-time.laz", "las/lazperf_point-time.las"},
    {"laz/lazperf_point-color.laz", "las/lazperf_point-color.las"},
    {"laz/lazperf_point-color-time.laz", "las/lazperf_point-color-time.las"},
    {"laz/liblas_1.2_3.laz", "las/liblas_1.2_3.las"},
    {"delft/ahn3_cropped_1.laz", "delft/ahn3_cropped_1.las"},
    {"delft/ahn3_cropped_2.laz", "delft/ahn3_cropped_2.las"},
    {"amsterdam/ahn_2386_9702.laz", "amsterdam/ahn_2386_9702_nocrs.las"},
    {"amsterdam_trees/ahn_2496_9727.laz", "amsterdam_trees/ahn4_2496_9727_epsg28992.las"},
};

static ct_context *ctx;

/* Everything about a LAZ file in memory up to its chunks. */
typedef struct lazfile {
    ct_laz_info info;
    ct_laz_chunk *chunks;
    size_t nchunks;
} lazfile;

static ct_status open_laz(const char *name, ct_test_lasfile *f, lazfile *z) {
    memset(z, 0, sizeof *z);
    size_t vlen = 0;
    const uint8_t *vlr = ct_test_laszip_vlr(f, &vlen);
    if (!vlr) return ct_error(ctx, CT_ERR_INPUT, "%s: no laszip VLR", name);
    ct_status st = ct_laz_parse_vlr(ctx, name, vlr, vlen, f->point_format, f->record_length, &z->info);
    if (st != CT_OK) return st;
    return ct_laz_read_chunk_table(ctx, name, &z->info, ct_test_lasfile_read, f, f->offset_to_points, f->points_end,
                                   f->point_count, &z->chunks, &z->nchunks);
}

/* Decodes every chunk (in reverse order when asked) into *records (malloc'd). */
static ct_status decode_all(const char *name, ct_test_lasfile *f, lazfile *z, int reverse, uint8_t **records) {
    *records = NULL;
    size_t rl = z->info.record_length;
    uint8_t *rec = malloc(f->point_count * rl + 1);
    if (!rec) return ct_error_nomem(ctx, "test records");
    ct_status st = CT_OK;
    for (size_t k = 0; k < z->nchunks && st == CT_OK; k++) {
        size_t i = reverse ? z->nchunks - 1 - k : k;
        const ct_laz_chunk *c = &z->chunks[i];
        st = ct_laz_decode_chunk(ctx, name, &z->info, i, f->bytes + c->offset, (size_t)c->bytes, c->points,
                                 rec + c->first_point * rl);
    }
    if (st != CT_OK) {
        free(rec);
        return st;
    }
    *records = rec;
    return CT_OK;
}

/* The whole path: VLR, table, every chunk; the status of the first failure. */
static ct_status decode_file(const char *name, ct_test_lasfile *f) {
    lazfile z;
    ct_status st = open_laz(name, f, &z);
    uint8_t *rec = NULL;
    if (st == CT_OK) st = decode_all(name, f, &z, 0, &rec);
    free(rec);
    free(z.chunks);
    return st;
}

static void check_twin(const twin *t) {
    char lazp[4096], lasp[4096];
    ct_test_data_path(lazp, sizeof lazp, t->laz);
    ct_test_data_path(lasp, sizeof lasp, t->las);
    ct_test_lasfile f, g;
    int loaded = ct_test_lasfile_load(lazp, &f) == 0;
    CT_CHECK_MSG(loaded, "%s absent", lazp);
    if (!loaded) return;
    loaded = ct_test_lasfile_load(lasp, &g) == 0;
    CT_CHECK_MSG(loaded, "%s absent", lasp);
    if (!loaded) {
        ct_test_lasfile_free(&f);
        return;
    }
    lazfile z;
    ct_error_clear(ctx);
    ct_status st = open_laz(t->laz, &f, &z);
    CT_CHECK_MSG(st == CT_OK, "%s: %s", t->laz, ct_error_message(ctx));
    CT_CHECK(f.point_count == g.point_count && f.record_length == g.record_length);
    if (st == CT_OK && f.point_count == g.point_count && f.record_length == g.record_length) {
        uint64_t covered = 0;
        for (size_t i = 0; i < z.nchunks; i++) {
            CT_CHECK(z.chunks[i].first_point == covered);
            covered += z.chunks[i].points;
        }
        CT_CHECK_MSG(covered == f.point_count, "%s: chunks cover %llu of %llu points", t->laz,
                     (unsigned long long)covered, (unsigned long long)f.point_count);
        size_t n = f.point_count * f.record_length;
        const uint8_t *want = g.bytes + g.offset_to_points;
        CT_CHECK(g.offset_to_points + n <= g.size);
        for (int reverse = 0; reverse < 2; reverse++) {
            uint8_t *rec = NULL;
            st = decode_all(t->laz, &f, &z, reverse, &rec);
            CT_CHECK_MSG(st == CT_OK, "%s: %s", t->laz, ct_error_message(ctx));
            if (st != CT_OK) continue;
            size_t bad = n;
            for (size_t i = 0; i < n && bad == n; i++)
                if (rec[i] != want[i]) bad = i;
            CT_CHECK_MSG(bad == n, "%s%s: records differ from %s from point %zu (byte %zu of the record)", t->laz,
                         reverse ? " (chunks in reverse)" : "", t->las, bad / f.record_length, bad % f.record_length);
            if (!reverse)
                printf("%s: %llu points of format %u in %zu chunks identical to %s\n", t->laz,
                       (unsigned long long)f.point_count, (unsigned)z.info.point_format, z.nchunks, t->las);
            free(rec);
        }
        free(z.chunks);
    }
    ct_test_lasfile_free(&f);
    ct_test_lasfile_free(&g);
}

/* A malformed copy must fail with `want` (0: INPUT or UNSUPPORTED) and a message naming it. */
static void expect_failure(const char *what, ct_status st, ct_status want) {
    const char *msg = ct_error_message(ctx);
    int ok = want ? st == want : (st == CT_ERR_INPUT || st == CT_ERR_UNSUPPORTED);
    CT_CHECK_MSG(ok, "%s: status %d (%s)", what, (int)st, msg);
    CT_CHECK_MSG(strstr(msg, what) != NULL, "%s: message does not name the file: %s", what, msg);
    if (ok) printf("  %s -> %s\n", what, msg);
    ct_error_clear(ctx);
}

static ct_test_lasfile copy_of(const ct_test_lasfile *f, size_t size) {
    ct_test_lasfile c = *f;
    c.bytes = malloc(size ? size : 1);
    memcpy(c.bytes, f->bytes, size < f->size ? size : f->size);
    c.size = size;
    if (size > f->size) memset(c.bytes + f->size, 0, size - f->size);
    c.points_end = c.points_end > size ? size : c.points_end;
    if (f->points_end == f->size) c.points_end = size;
    return c;
}

static void put64(uint8_t *p, uint64_t v) {
    for (int k = 0; k < 8; k++) p[k] = (uint8_t)(v >> (8 * k));
}

static void check_malformed(void) {
    char path[4096];
    ct_test_lasfile f;
    int loaded = ct_test_lasfile_load(ct_test_data_path(path, sizeof path, "laz/lasr_Topography.laz"), &f) == 0;
    CT_CHECK_MSG(loaded, "%s absent", path);
    if (!loaded) return;
    lazfile z;
    ct_status st = open_laz("topo.laz", &f, &z);
    CT_CHECK(st == CT_OK && z.nchunks == 2);
    if (st != CT_OK || z.nchunks != 2) {
        ct_test_lasfile_free(&f);
        return;
    }
    const ct_laz_chunk *c1 = &z.chunks[1];
    uint64_t table = z.chunks[1].offset + z.chunks[1].bytes;
    printf("malformed copies of lasr_Topography.laz:\n");

    /* truncated files: in the table, before it, in chunk 1, in chunk 0 */
    const size_t cuts[] = {f.size - 3, (size_t)table + 4, (size_t)(c1->offset + c1->bytes / 2),
                           (size_t)(z.chunks[0].offset + 1000), f.offset_to_points + 4};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        ct_test_lasfile t = copy_of(&f, cuts[i]);
        char name[64];
        snprintf(name, sizeof name, "cut-at-%zu.laz", cuts[i]);
        expect_failure(name, decode_file(name, &t), CT_ERR_INPUT);
        ct_test_lasfile_free(&t);
    }

    /* chunk 1's bytes cut short, then its second half overwritten with garbage */
    uint8_t *rec = malloc((size_t)c1->points * z.info.record_length);
    uint8_t *buf = malloc((size_t)c1->bytes);
    memcpy(buf, f.bytes + c1->offset, (size_t)c1->bytes);
    expect_failure("short-chunk.laz", ct_laz_decode_chunk(ctx, "short-chunk.laz", &z.info, 1, buf,
                                                          (size_t)c1->bytes / 2, c1->points, rec), CT_ERR_INPUT);
    expect_failure("tiny-chunk.laz", ct_laz_decode_chunk(ctx, "tiny-chunk.laz", &z.info, 1, buf, 10, c1->points, rec),
                   CT_ERR_INPUT);
    uint64_t seed = 0x9E3779B97F4A7C15ull;
    for (int round = 0; round < 4; round++) {
        size_t from = round == 0 ? z.info.record_length : (size_t)c1->bytes / (size_t)(round + 1);
        memcpy(buf, f.bytes + c1->offset, (size_t)c1->bytes);
        for (size_t i = from; i < c1->bytes; i++) buf[i] = (uint8_t)(ct_test_unif(&seed) * 256);
        char name[64];
        snprintf(name, sizeof name, "garbage-from-%zu.laz", from);
        expect_failure(name, ct_laz_decode_chunk(ctx, name, &z.info, 1, buf, (size_t)c1->bytes, c1->points, rec),
                       CT_ERR_INPUT);
    }
    free(buf);
    free(rec);

    /* the table pointer beyond the file, before the points, and -1 with nothing at the end */
    const int64_t pointers[] = {(int64_t)f.size + 100, (int64_t)f.offset_to_points - 100, 0, -1};
    for (size_t i = 0; i < sizeof pointers / sizeof pointers[0]; i++) {
        ct_test_lasfile t = copy_of(&f, f.size);
        put64(t.bytes + f.offset_to_points, (uint64_t)pointers[i]);
        char name[64];
        snprintf(name, sizeof name, "table-at-%lld.laz", (long long)pointers[i]);
        expect_failure(name, decode_file(name, &t), CT_ERR_INPUT);
        ct_test_lasfile_free(&t);
    }
    /* ... but -1 with the table's offset in the last 8 bytes is valid */
    {
        ct_test_lasfile t = copy_of(&f, f.size + 8);
        put64(t.bytes + f.offset_to_points, UINT64_MAX);
        put64(t.bytes + f.size, table);
        ct_status s = decode_file("table-at-end.laz", &t);
        CT_CHECK_MSG(s == CT_OK, "table offset at the end: %s", ct_error_message(ctx));
        ct_test_lasfile_free(&t);
    }
    /* the chunk count and the version of the table damaged */
    for (int i = 0; i < 3; i++) {
        ct_test_lasfile t = copy_of(&f, f.size);
        const uint32_t counts[] = {1, 3, 0xFFFFFFFFu};
        t.bytes[table + 4] = (uint8_t)counts[i];
        t.bytes[table + 5] = (uint8_t)(counts[i] >> 8);
        t.bytes[table + 6] = (uint8_t)(counts[i] >> 16);
        t.bytes[table + 7] = (uint8_t)(counts[i] >> 24);
        char name[64];
        snprintf(name, sizeof name, "table-count-%u.laz", (unsigned)counts[i]);
        expect_failure(name, decode_file(name, &t), CT_ERR_INPUT);
        ct_test_lasfile_free(&t);
    }
    {
        ct_test_lasfile t = copy_of(&f, f.size);
        t.bytes[table] = 1;
        expect_failure("table-version.laz", decode_file("table-version.laz", &t), CT_ERR_UNSUPPORTED);
        ct_test_lasfile_free(&t);
    }
    /* the coded table overwritten: counts that do not add up */
    {
        ct_test_lasfile t = copy_of(&f, f.size);
        for (size_t i = (size_t)table + 8; i < t.size; i++) t.bytes[i] ^= 0x5A;
        expect_failure("table-garbage.laz", decode_file("table-garbage.laz", &t), CT_ERR_INPUT);
        ct_test_lasfile_free(&t);
    }

    /* the VLR: wrong item sizes, versions, types, compressor, coder, a short payload */
    size_t vlen = 0;
    const uint8_t *vlr = ct_test_laszip_vlr(&f, &vlen);
    uint8_t pl[256];
    CT_CHECK(vlr && vlen <= sizeof pl);
    if (vlr && vlen <= sizeof pl) {
        ct_laz_info info;
        struct {
            const char *name;
            size_t at;
            uint8_t value;
            ct_status want;
        } edits[] = {
            {"item-size-21.laz", 34 + 2, 21, CT_ERR_INPUT},      /* POINT10 of 21 bytes */
            {"item-size-7.laz", 34 + 6 + 2, 7, CT_ERR_INPUT},    /* GPSTIME11 of 7 */
            {"item-version-1.laz", 34 + 4, 1, CT_ERR_UNSUPPORTED},
            {"item-version-3.laz", 34 + 6 + 4, 3, CT_ERR_UNSUPPORTED},
            {"item-type-rgb.laz", 34 + 6, 8, CT_ERR_INPUT},      /* RGB12 where format 1 has GPSTIME11 */
            {"compressor-9.laz", 0, 9, CT_ERR_UNSUPPORTED},
            {"compressor-layered.laz", 0, 3, CT_ERR_UNSUPPORTED},
            {"coder-1.laz", 2, 1, CT_ERR_UNSUPPORTED},
            {"items-0.laz", 32, 0, CT_ERR_INPUT},
            {"items-200.laz", 32, 200, CT_ERR_INPUT},
        };
        for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
            memcpy(pl, vlr, vlen);
            pl[edits[i].at] = edits[i].value;
            expect_failure(edits[i].name, ct_laz_parse_vlr(ctx, edits[i].name, pl, vlen, f.point_format,
                                                           f.record_length, &info), edits[i].want);
        }
        memcpy(pl, vlr, vlen); /* sizes that still add up to the record: POINT10 of 21, GPSTIME11 of 7 */
        pl[34 + 2] = 21;
        pl[34 + 6 + 2] = 7;
        expect_failure("item-sizes-21-7.laz", ct_laz_parse_vlr(ctx, "item-sizes-21-7.laz", pl, vlen, f.point_format,
                                                               f.record_length, &info), CT_ERR_INPUT);
        memcpy(pl, vlr, vlen);
        expect_failure("vlr-short.laz", ct_laz_parse_vlr(ctx, "vlr-short.laz", pl, vlen - 4, f.point_format,
                                                         f.record_length, &info), CT_ERR_INPUT);
        expect_failure("record-29.laz", ct_laz_parse_vlr(ctx, "record-29.laz", pl, vlen, f.point_format, 29, &info),
                       CT_ERR_INPUT);
        expect_failure("format-0.laz", ct_laz_parse_vlr(ctx, "format-0.laz", pl, vlen, 0x80, f.record_length, &info),
                       CT_ERR_INPUT);
    }
    free(z.chunks);
    ct_test_lasfile_free(&f);
}

/* lasr_Topography.laz rewritten with a variable chunk size (as laz-perf and COPC writers
 * do): its table then codes each chunk's point count too; the records must not change. */
static void check_variable_chunks(void) {
    char path[4096];
    ct_test_lasfile f, g;
    int loaded = ct_test_lasfile_load(ct_test_data_path(path, sizeof path, "laz/lasr_Topography.laz"), &f) == 0;
    CT_CHECK_MSG(loaded, "%s absent", path);
    if (!loaded) return;
    loaded = ct_test_lasfile_load(ct_test_data_path(path, sizeof path, "las/lasr_Topography.las"), &g) == 0;
    CT_CHECK_MSG(loaded, "%s absent", path);
    lazfile z;
    if (!loaded || open_laz("topo.laz", &f, &z) != CT_OK) {
        CT_CHECK(0);
        ct_test_lasfile_free(&f);
        if (loaded) ct_test_lasfile_free(&g);
        return;
    }
    uint64_t table = z.chunks[z.nchunks - 1].offset + z.chunks[z.nchunks - 1].bytes;
    /* the same chunks (50000 and 23403 points), their counts now in the table */
    ct_laz_ic ic;
    CT_CHECK(ct_laz_ic_create(&ic, 32, 2, 8, 0) == 0);
    ct_test_enc e = CT_TEST_ENC_INIT;
    uint32_t prev_points = 0, prev_bytes = 0;
    for (size_t i = 0; i < z.nchunks; i++) {
        ct_test_enc_int(&e, &ic, (int32_t)prev_points, (int32_t)z.chunks[i].points, 0);
        ct_test_enc_int(&e, &ic, (int32_t)prev_bytes, (int32_t)z.chunks[i].bytes, 1);
        prev_points = z.chunks[i].points;
        prev_bytes = (uint32_t)z.chunks[i].bytes;
    }
    ct_test_enc_done(&e);
    ct_laz_ic_free(&ic);

    ct_test_lasfile t = copy_of(&f, (size_t)table + 8 + e.n);
    memcpy(t.bytes + table + 8, e.out, e.n);
    size_t vlen = 0;
    uint8_t *vlr = (uint8_t *)ct_test_laszip_vlr(&t, &vlen);
    put64(vlr + 8, (uint64_t)0xFFFFFFFFu << 32); /* options 0, chunk size: variable */
    free(e.out);
    lazfile v;
    ct_status st = open_laz("variable.laz", &t, &v);
    CT_CHECK_MSG(st == CT_OK && v.info.chunk_size == UINT32_MAX, "variable.laz: %s", ct_error_message(ctx));
    if (st == CT_OK) {
        CT_CHECK(v.nchunks == z.nchunks);
        for (size_t i = 0; i < v.nchunks && i < z.nchunks; i++)
            CT_CHECK(v.chunks[i].points == z.chunks[i].points && v.chunks[i].offset == z.chunks[i].offset);
        uint8_t *rec = NULL;
        st = decode_all("variable.laz", &t, &v, 1, &rec);
        CT_CHECK_MSG(st == CT_OK, "variable.laz: %s", ct_error_message(ctx));
        if (rec) CT_CHECK(memcmp(rec, g.bytes + g.offset_to_points, f.point_count * f.record_length) == 0);
        free(rec);
        free(v.chunks);
        printf("variable.laz: a variable chunk table decodes (%zu chunks)\n", z.nchunks);
    }
    /* a header with one point more than the variable table's chunks hold */
    t.point_count = f.point_count + 1;
    expect_failure("variable-count.laz", decode_file("variable-count.laz", &t), CT_ERR_INPUT);
    ct_test_lasfile_free(&t);
    free(z.chunks);
    ct_test_lasfile_free(&f);
    ct_test_lasfile_free(&g);
}

/* Mpts/s decoding ahn3_cropped_1.laz (informative, not asserted). */
static void report_speed(void) {
    char path[4096];
    ct_test_lasfile f;
    if (ct_test_lasfile_load(ct_test_data_path(path, sizeof path, "delft/ahn3_cropped_1.laz"), &f) != 0) return;
    lazfile z;
    if (open_laz("ahn3_cropped_1.laz", &f, &z) == CT_OK) {
        struct timespec t0, t1;
        uint8_t *rec = NULL;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        ct_status st = decode_all("ahn3_cropped_1.laz", &f, &z, 0, &rec);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        if (st == CT_OK)
            printf("speed: ahn3_cropped_1.laz, %llu points in %.3f s: %.2f Mpts/s (one thread)\n",
                   (unsigned long long)f.point_count, s, (double)f.point_count / s / 1e6);
        free(rec);
        free(z.chunks);
    }
    ct_test_lasfile_free(&f);
}

int main(void) {
    ctx = ct_context_create();
    if (!ctx) return 1;
    for (size_t i = 0; i < sizeof twins / sizeof twins[0]; i++) check_twin(&twins[i]);
    check_malformed();
    check_variable_chunks();
    report_speed();
    ct_context_destroy(ctx);
    return ct_test_finish("test_laz_pointwise");
}
