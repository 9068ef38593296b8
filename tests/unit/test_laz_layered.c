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
#include "io/laz.h"
#include "io/laz_integer.h"

static const char *const TWINS[] = {"laspy_1_4_w_evlr", "laspy_simple1_4", "laspy_append-bug_pdrf8",
                                    "laspy_fullwave_pdrf10", "loadersgl_pdrf10-1.4"};

static uint16_t g16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t g32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static uint64_t g64(const uint8_t *p) { return (uint64_t)g32(p) | ((uint64_t)g32(p + 4) << 32); }

static uint8_t *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint8_t *b = NULL;
    long len = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0)
        b = malloc((size_t)len + 1);
    if (b && fread(b, 1, (size_t)len, f) != (size_t)len) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *n = (size_t)len;
    return b;
}

typedef struct laz_file {
    char path[512];
    uint8_t *data;
    size_t size;
    ct_laz_info info;
    uint64_t npoints;
    ct_laz_chunk *chunks;
    size_t nchunks;
} laz_file;

/* The 'laszip encoded' VLR's items, read here (the layered decoder's input). */
static int read_info(laz_file *z) {
    const uint8_t *d = z->data;
    if (z->size < 375) return 0;
    uint16_t hsize = g16(d + 94);
    uint32_t nvlr = g32(d + 100);
    memset(&z->info, 0, sizeof z->info);
    z->info.point_format = d[104] & 0x3F;
    z->info.record_length = g16(d + 105);
    z->npoints = g64(d + 247);
    size_t p = hsize;
    for (uint32_t i = 0; i < nvlr && p + 54 <= z->size; i++) {
        uint16_t len = g16(d + p + 20);
        if (g16(d + p + 18) == 22204 && p + 54 + len <= z->size && len >= 34) {
            const uint8_t *v = d + p + 54;
            z->info.compressor = g16(v);
            z->info.chunk_size = g32(v + 12);
            z->info.nitems = g16(v + 32);
            if (z->info.nitems > CT_LAZ_MAX_ITEMS || 34u + 6u * z->info.nitems > len) return 0;
            for (uint16_t k = 0; k < z->info.nitems; k++) {
                z->info.items[k].type = g16(v + 34 + 6 * k);
                z->info.items[k].size = g16(v + 36 + 6 * k);
                z->info.items[k].version = g16(v + 38 + 6 * k);
            }
            return z->info.compressor == CT_LAZ_LAYERED_CHUNKED;
        }
        p += 54 + len;
    }
    return 0;
}

/* The chunk table (an integer-compressed list of chunk sizes, and point counts when the
 * chunks vary), read here with the integer decompressor. */
static int read_chunks(laz_file *z) {
    const uint8_t *d = z->data;
    uint64_t start = g32(d + 96) + 8ull, table = g64(d + g32(d + 96));
    if (table + 8 > z->size || table < start) return 0;
    uint32_t n = g32(d + table + 4);
    if (n == 0 || n > 1000000) return 0;
    z->chunks = calloc(n, sizeof *z->chunks);
    ct_laz_ic ic;
    memset(&ic, 0, sizeof ic);
    if (!z->chunks || ct_laz_ic_create(&ic, 32, 2, 8, 0) != 0) return 0;
    ct_laz_dec dec;
    ct_laz_dec_init(&dec, d + table + 8, z->size - table - 8);
    uint32_t prev_count = 0, prev_bytes = 0;
    uint64_t first = 0, off = start;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t count = z->info.chunk_size;
        if (count == UINT32_MAX) prev_count = count = (uint32_t)ct_laz_ic_decompress(&ic, &dec, (int32_t)prev_count, 0);
        prev_bytes = (uint32_t)ct_laz_ic_decompress(&ic, &dec, (int32_t)prev_bytes, 1);
        if (first + count > z->npoints) count = (uint32_t)(z->npoints - first);
        z->chunks[i] = (ct_laz_chunk){first, count, off, prev_bytes};
        first += count;
        off += prev_bytes;
    }
    ct_laz_ic_free(&ic);
    z->nchunks = n;
    return !dec.overrun && first == z->npoints && off <= table;
}

static int open_twin(const char *shared, const char *name, laz_file *z, uint8_t **las, size_t *las_size) {
    memset(z, 0, sizeof *z);
    snprintf(z->path, sizeof z->path, "%s/laz/%s.laz", shared, name);
    char lp[512];
    snprintf(lp, sizeof lp, "%s/las/%s.las", shared, name);
    z->data = slurp(z->path, &z->size);
    *las = slurp(lp, las_size);
    CT_CHECK_MSG(z->data && *las, "%s or its LAS twin is missing", z->path);
    if (!z->data || !*las) return 0;
    int ok = read_info(z) && read_chunks(z);
    CT_CHECK_MSG(ok, "%s: no layered VLR or chunk table", z->path);
    return ok;
}

static void close_twin(laz_file *z, uint8_t *las) {
    free(z->data);
    free(z->chunks);
    free(las);
}

/* Chunk i from its own exact-size copy (ASan sees a read past it). */
static ct_status decode(ct_context *ctx, const laz_file *z, size_t i, const uint8_t *bytes, size_t len,
                        uint32_t npoints, uint8_t *out) {
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) return CT_ERR_NOMEM;
    memcpy(copy, bytes, len);
    ct_status st = ct_laz_decode_layered(ctx, z->path, &z->info, i, copy, len, npoints, out);
    free(copy);
    return st;
}

static void check_twin(ct_context *ctx, const char *shared, const char *name) {
    laz_file z;
    uint8_t *las;
    size_t las_size;
    if (!open_twin(shared, name, &z, &las, &las_size)) {
        close_twin(&z, las);
        return;
    }
    size_t rl = z.info.record_length;
    const uint8_t *want = las + g32(las + 96);
    CT_CHECK(g32(las + 96) + z.npoints * rl <= las_size);
    uint8_t *got = malloc(z.npoints * rl + 1);
    for (int reverse = 0; reverse < 2 && got; reverse++) {
        memset(got, 0xA5, z.npoints * rl);
        clock_t t0 = clock();
        for (size_t k = 0; k < z.nchunks; k++) {
            size_t i = reverse ? z.nchunks - 1 - k : k;
            const ct_laz_chunk *c = &z.chunks[i];
            ct_status st = decode(ctx, &z, i, z.data + c->offset, c->bytes, c->points, got + c->first_point * rl);
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
    close_twin(&z, las);
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

static void check_malformed(ct_context *ctx, const char *shared, const char *name) {
    laz_file z;
    uint8_t *las;
    size_t las_size;
    if (!open_twin(shared, name, &z, &las, &las_size)) {
        close_twin(&z, las);
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
    close_twin(&z, las);
}

int main(void) {
    const char *shared = ct_test_env("CT_SHARED_DATA", NULL);
    CT_CHECK_MSG(shared != NULL, "CT_SHARED_DATA is not set");
    ct_context *ctx = ct_context_create();
    CT_CHECK(ctx != NULL);
    if (shared && ctx) {
        for (size_t i = 0; i < sizeof TWINS / sizeof *TWINS; i++) check_twin(ctx, shared, TWINS[i]);
        check_malformed(ctx, shared, "laspy_simple1_4");
        check_malformed(ctx, shared, "loadersgl_pdrf10-1.4");
    }
    ct_context_destroy(ctx);
    return ct_test_finish("laz_layered");
}
