/* Layered LAZ chunks (point formats 6-10, src/io/laz_layered.c): every chunk of the LAZ
 * twins in $CT_SHARED_DATA/laz decodes to the records of the LAS twin byte for byte, in
 * file order and in reverse order; a chunk that is cut, whose layer sizes lie, or whose
 * bytes are garbage is CT_ERR_INPUT naming the file and the chunk, never a crash or a read
 * out of bounds (each chunk is decoded from its own exact-size copy, so ASan sees any). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "citytiler/context.h"
#include "ct_test.h"
#include "ct_test_laz.h"
#include "io/laz.h"
#include "io/laz_layered.h"

static const char *const TWINS[] = {"laspy_1_4_w_evlr", "laspy_simple1_4", "laspy_append-bug_pdrf8",
                                    "laspy_fullwave_pdrf10", "loadersgl_pdrf10-1.4"};

static uint32_t g32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

typedef struct laz_file {
    char path[512];
    ct_test_lasfile f;
    ct_laz_info info;
    uint64_t npoints;
    const uint8_t *data;
    ct_laz_chunk *chunks;
    size_t nchunks;
} laz_file;

/* The LAZ twin through the VLR parser and the chunk table reader, and its LAS twin. */
static int open_twin(ct_context *ctx, const char *name, laz_file *z, ct_test_lasfile *las) {
    memset(z, 0, sizeof *z);
    memset(las, 0, sizeof *las);
    char rel[256], lp[512];
    snprintf(rel, sizeof rel, "laz/%s.laz", name);
    ct_test_data_path(z->path, sizeof z->path, rel);
    snprintf(rel, sizeof rel, "las/%s.las", name);
    ct_test_data_path(lp, sizeof lp, rel);
    int ok = ct_test_lasfile_load(z->path, &z->f) == 0;
    ok = (ct_test_lasfile_load(lp, las) == 0) && ok;
    CT_CHECK_MSG(ok, "%s or its LAS twin is missing", z->path);
    if (!ok) return 0;
    size_t vlen = 0;
    const uint8_t *vlr = ct_test_laszip_vlr(&z->f, &vlen);
    CT_CHECK_MSG(vlr != NULL, "%s: no laszip VLR", z->path);
    if (!vlr) return 0;
    ct_status st = ct_laz_parse_vlr(ctx, z->path, vlr, vlen, z->f.point_format, z->f.record_length, &z->info);
    if (st == CT_OK)
        st = ct_laz_read_chunk_table(ctx, z->path, &z->info, ct_test_lasfile_read, &z->f, z->f.offset_to_points,
                                     z->f.points_end, z->f.point_count, &z->chunks, &z->nchunks);
    CT_CHECK_MSG(st == CT_OK && z->info.compressor == CT_LAZ_LAYERED_CHUNKED, "%s: %s", z->path,
                 ct_error_message(ctx));
    ct_error_clear(ctx);
    z->data = z->f.bytes;
    z->npoints = z->f.point_count;
    return st == CT_OK && z->info.compressor == CT_LAZ_LAYERED_CHUNKED;
}

static void close_twin(laz_file *z, ct_test_lasfile *las) {
    ct_test_lasfile_free(&z->f);
    ct_test_lasfile_free(las);
    free(z->chunks);
}

/* Chunk i from its own exact-size copy (ASan sees a read past it). */
static ct_status decode_via(ct_context *ctx, const laz_file *z, size_t i, const uint8_t *bytes, size_t len,
                            uint32_t npoints, uint8_t *out, int dispatch) {
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) return CT_ERR_NOMEM;
    memcpy(copy, bytes, len);
    ct_status st = dispatch ? ct_laz_decode_chunk(ctx, z->path, &z->info, i, copy, len, npoints, out)
                            : ct_laz_decode_layered(ctx, z->path, &z->info, i, copy, len, npoints, npoints, out);
    free(copy);
    return st;
}

static ct_status decode(ct_context *ctx, const laz_file *z, size_t i, const uint8_t *bytes, size_t len,
                        uint32_t npoints, uint8_t *out) {
    return decode_via(ctx, z, i, bytes, len, npoints, out, 0);
}

static void check_twin(ct_context *ctx, const char *name) {
    laz_file z;
    ct_test_lasfile las;
    if (!open_twin(ctx, name, &z, &las)) {
        close_twin(&z, &las);
        return;
    }
    size_t rl = z.info.record_length;
    const uint8_t *want = las.bytes + las.offset_to_points;
    CT_CHECK(las.record_length == rl && las.point_count == z.npoints);
    CT_CHECK(las.offset_to_points + z.npoints * rl <= las.size);
    uint8_t *got = malloc(z.npoints * rl + 1);
    for (int reverse = 0; reverse < 2 && got; reverse++) {
        memset(got, 0xA5, z.npoints * rl);
        clock_t t0 = clock();
        for (size_t k = 0; k < z.nchunks; k++) {
            size_t i = reverse ? z.nchunks - 1 - k : k;
            const ct_laz_chunk *c = &z.chunks[i];
            /* the reverse pass goes through ct_laz_decode_chunk, which dispatches here */
            ct_status st = decode_via(ctx, &z, i, z.data + c->offset, c->bytes, c->points,
                                      got + c->first_point * rl, reverse);
            CT_CHECK_MSG(st == CT_OK, "%s chunk %zu: %s", name, i, ct_error_message(ctx));
            ct_error_clear(ctx);
        }
        double s = (double)(clock() - t0) / CLOCKS_PER_SEC;
        size_t bad = 0;
        for (uint64_t p = 0; p < z.npoints; p++) bad += memcmp(got + p * rl, want + p * rl, rl) != 0;
        CT_CHECK_MSG(bad == 0, "%s (%s order): %zu of %llu records differ from the LAS twin", name,
                     reverse ? "reverse" : "file", bad, (unsigned long long)z.npoints);
        if (!reverse)
            printf("%s: %llu points in %zu chunks, %.2f Mpts/s\n", name, (unsigned long long)z.npoints, z.nchunks,
                   s > 0 ? (double)z.npoints / s / 1e6 : 0.0);
    }
    free(got);
    close_twin(&z, &las);
}

/* A corrupt chunk must fail as CT_ERR_INPUT naming the file and the chunk. */
static void expect_input_error(ct_context *ctx, const laz_file *z, const uint8_t *bytes, size_t len, uint32_t n,
                               uint8_t *out, const char *what) {
    ct_status st = decode(ctx, z, 7, bytes, len, n, out);
    char want[600];
    snprintf(want, sizeof want, "%s: chunk 7:", z->path);
    CT_CHECK_MSG(st == CT_ERR_INPUT, "%s: status %d (%s)", what, (int)st, ct_error_message(ctx));
    CT_CHECK_MSG(st == CT_OK || strstr(ct_error_message(ctx), want), "%s: message '%s'", what,
                 ct_error_message(ctx));
    ct_error_clear(ctx);
}

static uint32_t layer_count(const ct_laz_info *info) {
    uint32_t n = 0;
    for (uint16_t i = 0; i < info->nitems; i++) {
        uint16_t t = info->items[i].type;
        n += t == 10 ? 9 : t == 12 ? 2 : t == 14 ? info->items[i].size : 1;
    }
    return n;
}

static void check_malformed(ct_context *ctx, const char *name) {
    laz_file z;
    ct_test_lasfile las;
    if (!open_twin(ctx, name, &z, &las)) {
        close_twin(&z, &las);
        return;
    }
    const ct_laz_chunk *c = &z.chunks[0];
    size_t rl = z.info.record_length, len = c->bytes;
    uint32_t n = c->points, nl = layer_count(&z.info);
    uint8_t *out = malloc((size_t)n * rl), *bad = malloc(len);
    if (!out || !bad) goto done;
    const uint8_t *chunk = z.data + c->offset;
    size_t sizes = rl + 4; /* the layer sizes' offset */

    /* cut anywhere: before the count, in the sizes, in the layers */
    for (size_t cut = 0; cut < len; cut += 1 + cut / 3)
        expect_input_error(ctx, &z, chunk, cut, n, out, "a cut chunk");
    expect_input_error(ctx, &z, chunk, len - 1, n, out, "a chunk one byte short");

    /* a layer size beyond the chunk, and one that wraps the sum around 32 bits */
    memcpy(bad, chunk, len);
    bad[sizes] = bad[sizes + 1] = bad[sizes + 2] = bad[sizes + 3] = 0xFF;
    expect_input_error(ctx, &z, bad, len, n, out, "a layer larger than the chunk");
    memcpy(bad, chunk, len);
    uint32_t l0 = g32(chunk + sizes), l1 = g32(chunk + sizes + 4);
    uint32_t w0 = l0 + l1, w1 = (uint32_t)(0u - l0); /* l0' + l1' = l0 + l1 mod 2^32 */
    for (int k = 0; k < 4; k++) {
        bad[sizes + k] = (uint8_t)(w0 >> (8 * k));
        bad[sizes + 4 + k] = (uint8_t)(w1 >> (8 * k));
    }
    expect_input_error(ctx, &z, bad, len, n, out, "layer sizes that wrap around");

    /* the first layer cut short: its size lowered, the bytes it loses given to the next */
    memcpy(bad, chunk, len);
    uint32_t cut = l0 / 2;
    for (int k = 0; k < 4; k++) {
        bad[sizes + k] = (uint8_t)((l0 - cut) >> (8 * k));
        bad[sizes + 4 + k] = (uint8_t)((l1 + cut) >> (8 * k));
    }
    expect_input_error(ctx, &z, bad, len, n, out, "a layer cut short");

    /* the point count disagreeing with the table */
    expect_input_error(ctx, &z, chunk, len, n + 1, out, "a count that disagrees");

    /* garbage layers: whatever comes out, no crash and no read beyond (ASan) */
    uint64_t seed = 0x9E3779B97F4A7C15ull;
    size_t data = sizes + 4 * (size_t)nl;
    for (int round = 0; round < 8; round++) {
        memcpy(bad, chunk, len);
        for (size_t i = data; i < len; i++) bad[i] = (uint8_t)(ct_test_unif(&seed) * 256);
        ct_status st = decode(ctx, &z, 7, bad, len, n, out);
        CT_CHECK_MSG(st == CT_OK || st == CT_ERR_INPUT, "garbage layers: status %d", (int)st);
        ct_error_clear(ctx);
    }
    /* garbage everywhere after the first point: the layer sizes too */
    memcpy(bad, chunk, len);
    for (size_t i = sizes; i < len; i++) bad[i] = (uint8_t)(ct_test_unif(&seed) * 256);
    expect_input_error(ctx, &z, bad, len, n, out, "garbage layer sizes");

done:
    free(out);
    free(bad);
    close_twin(&z, &las);
}

/* The scanner-channel switch of the BYTE14, RGB14 and WAVEPACKET14 items (no twin here
 * switches channel, so its rule is checked alone): the same channel predicts from itself;
 * a channel new in the chunk is started from the previous one's values; a channel used
 * before predicts from the previous one in v3 (LASzip's quirk), from itself in v4. */
static void check_channel_switch(void) {
    uint32_t current = 0, from = 9;
    CT_CHECK(ct_laz_channel_switch(&current, 0, 1, 0, &from) == 0 && current == 0 && from == 0);
    CT_CHECK(ct_laz_channel_switch(&current, 2, 0, 0, &from) == 1 && current == 2 && from == 0);
    CT_CHECK(ct_laz_channel_switch(&current, 0, 1, 0, &from) == 0 && current == 0 && from == 2);
    CT_CHECK(ct_laz_channel_switch(&current, 2, 1, 1, &from) == 0 && current == 2 && from == 2);
    CT_CHECK(ct_laz_channel_switch(&current, 3, 0, 1, &from) == 1 && current == 3 && from == 2);
}

int main(void) {
    check_channel_switch();
    const char *shared = ct_test_env("CT_SHARED_DATA", NULL);
    CT_CHECK_MSG(shared != NULL, "CT_SHARED_DATA is not set");
    ct_context *ctx = ct_context_create();
    CT_CHECK(ctx != NULL);
    if (shared && ctx) {
        for (size_t i = 0; i < sizeof TWINS / sizeof *TWINS; i++) check_twin(ctx, TWINS[i]);
        check_malformed(ctx, "laspy_simple1_4");
        check_malformed(ctx, "loadersgl_pdrf10-1.4");
    }
    ct_context_destroy(ctx);
    return ct_test_finish("laz_layered");
}
