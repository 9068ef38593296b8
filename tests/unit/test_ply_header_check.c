/* The PLY header check before Assimp (io/ply_header_check): a header that declares more
 * elements than the file holds is refused at once (a 178-byte file declaring 4e9
 * vertices made Assimp allocate until the process was killed), valid ascii and binary
 * PLYs still load, and broken headers (no end_header, a bad count, an unknown type) are
 * refused with a message naming the file. */
#include "ct_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "citytiler/context.h"
#include "citytiler/symbol.h"
#include "io/ply_header_check.h"

static ct_context *g_ctx;
static char g_dir[1024];

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A header followed by `body` bytes (body_len of them) in memory. */
static size_t make(unsigned char *buf, size_t cap, const char *header, const void *body, size_t body_len) {
    size_t h = strlen(header);
    if (h + body_len > cap) abort();
    memcpy(buf, header, h);
    if (body_len) memcpy(buf + h, body, body_len);
    return h + body_len;
}

/* Checks the buffer; returns its status and leaves the message in g_ctx. */
static ct_status check_buf(const char *header, const void *body, size_t body_len) {
    static unsigned char buf[1 << 16];
    size_t n = make(buf, sizeof buf, header, body, body_len);
    ct_error_clear(g_ctx);
    return ct_ply_header_check_buffer(g_ctx, "m.ply", buf, n, n);
}

static int has(const char *needle) { return strstr(ct_error_message(g_ctx), needle) != NULL; }

static void write_file(const char *path, const char *header, const void *body, size_t body_len) {
    FILE *f = fopen(path, "wb");
    CT_CHECK_MSG(f != NULL, "cannot write %s", path);
    if (!f) return;
    fputs(header, f);
    if (body_len) fwrite(body, 1, body_len, f);
    fclose(f);
}

#define TETRA_HEADER(fmt)                                                                                              \
    "ply\nformat " fmt " 1.0\ncomment a tetrahedron\nobj_info test\nelement vertex 4\nproperty float x\n"              \
    "property float y\nproperty float z\nelement face 4\nproperty list uchar int vertex_indices\nend_header\n"

static const char tetra_ascii_body[] = "0 0 0\n1 0 0\n0 1 0\n0 0 1\n3 0 2 1\n3 0 1 3\n3 0 3 2\n3 1 2 3\n";

/* The tetrahedron's binary little-endian body (48 + 4 * 13 bytes). */
static size_t tetra_binary_body(unsigned char *b) {
    static const float v[12] = {0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1};
    static const int f[4][3] = {{0, 2, 1}, {0, 1, 3}, {0, 3, 2}, {1, 2, 3}};
    size_t n = 0;
    for (int i = 0; i < 12; i++) {
        unsigned char *p = (unsigned char *)&v[i];
        memcpy(b + n, p, 4); /* x86 and every target here: little-endian */
        n += 4;
    }
    for (int i = 0; i < 4; i++) {
        b[n++] = 3;
        for (int k = 0; k < 3; k++) {
            uint32_t x = (uint32_t)f[i][k];
            for (int q = 0; q < 4; q++)
                b[n++] = (unsigned char)(x >> (8 * q));
        }
    }
    return n;
}

static void valid_files(void) {
    unsigned char bin[128];
    size_t nb = tetra_binary_body(bin);
    CT_CHECK(nb == 100);
    CT_CHECK_MSG(check_buf(TETRA_HEADER("ascii"), tetra_ascii_body, strlen(tetra_ascii_body)) == CT_OK, "%s",
                 ct_error_message(g_ctx));
    CT_CHECK_MSG(check_buf(TETRA_HEADER("binary_little_endian"), bin, nb) == CT_OK, "%s", ct_error_message(g_ctx));
    CT_CHECK_MSG(check_buf(TETRA_HEADER("binary_big_endian"), bin, nb) == CT_OK, "%s", ct_error_message(g_ctx));
    /* CRLF line ends and an uppercase magic (Assimp takes both) */
    CT_CHECK_MSG(check_buf("PLY\r\nformat ascii 1.0\r\nelement vertex 1\r\nproperty float x\r\nend_header\r\n", "7\r\n",
                           3) == CT_OK,
                 "%s", ct_error_message(g_ctx));

    /* through ct_symbol_load: the header check passes them, Assimp loads them */
    const char *fmts[2] = {"ascii", "binary"};
    for (int k = 0; k < 2; k++) {
        char path[1200];
        snprintf(path, sizeof path, "%s/ply_check_tetra_%s.ply", g_dir, fmts[k]);
        if (k == 0)
            write_file(path, TETRA_HEADER("ascii"), tetra_ascii_body, strlen(tetra_ascii_body));
        else
            write_file(path, TETRA_HEADER("binary_little_endian"), bin, nb);
        ct_error_clear(g_ctx);
        CT_CHECK_MSG(ct_ply_header_check(g_ctx, path) == CT_OK, "%s: %s", path, ct_error_message(g_ctx));
        ct_symbol s;
        ct_error_clear(g_ctx);
        ct_status st = ct_symbol_load(g_ctx, path, NULL, &s);
        CT_CHECK_MSG(st == CT_OK, "%s: %s", path, ct_error_message(g_ctx));
        if (st == CT_OK) {
            CT_CHECK_MSG(s.nindices == 12, "%s: %zu indices (4 triangles)", fmts[k], s.nindices);
            /* the 4 corners, shared by the faces */
            CT_CHECK_MSG(s.nverts == 4, "%s: %zu vertices", fmts[k], s.nverts);
            ct_symbol_free(&s);
        }
    }
    /* the repository's PLY model passes the check */
    char path[1200];
    snprintf(path, sizeof path, "%s/tests/data/models/streetlight.ply", ct_test_env("CT_SOURCE_DIR", "."));
    ct_error_clear(g_ctx);
    CT_CHECK_MSG(ct_ply_header_check(g_ctx, path) == CT_OK, "%s: %s", path, ct_error_message(g_ctx));
}

#define V3(fmt, n)                                                                                                     \
    "ply\nformat " fmt " 1.0\nelement vertex " n "\nproperty float x\nproperty float y\nproperty float z\n"

static void too_short(void) {
    static unsigned char zeros[256];
    /* binary: exactly 48 bytes for 4 vertices, one fewer is refused */
    CT_CHECK(check_buf(V3("binary_little_endian", "4") "end_header\n", zeros, 48) == CT_OK);
    CT_CHECK(check_buf(V3("binary_little_endian", "4") "end_header\n", zeros, 47) == CT_ERR_INPUT);
    CT_CHECK_MSG(has("m.ply: damaged PLY model: its header declares 4 vertex elements (at least 48 bytes) but 47 "
                     "bytes follow the header"),
                 "%s", ct_error_message(g_ctx));
    CT_CHECK_MSG(!has("of which"), "%s", ct_error_message(g_ctx)); /* no element before it */
    /* the elements add up: 48 for the vertices, then at least 4 for 4 faces */
    const char *vf =
        V3("binary_little_endian", "4") "element face 4\nproperty list uchar int vertex_indices\nend_header\n";
    CT_CHECK(check_buf(vf, zeros, 52) == CT_OK);
    CT_CHECK(check_buf(vf, zeros, 51) == CT_ERR_INPUT);
    CT_CHECK_MSG(has("declares 4 face elements (at least 4 bytes) but 51 bytes follow the header, of which the "
                     "elements before them take at least 48"),
                 "%s", ct_error_message(g_ctx));
    /* a list counts its count type: uint is 4 bytes */
    const char *lu =
        "ply\nformat binary_big_endian 1.0\nelement face 10\nproperty list uint int vertex_indices\nend_header\n";
    CT_CHECK(check_buf(lu, zeros, 40) == CT_OK);
    CT_CHECK(check_buf(lu, zeros, 39) == CT_ERR_INPUT);
    CT_CHECK_MSG(has("10 face elements (at least 40 bytes)"), "%s", ct_error_message(g_ctx));
    /* double is 8 bytes, short 2 */
    const char *ds =
        "ply\nformat binary_little_endian 1.0\nelement p 3\nproperty double a\nproperty short b\nend_header\n";
    CT_CHECK(check_buf(ds, zeros, 30) == CT_OK);
    CT_CHECK(check_buf(ds, zeros, 29) == CT_ERR_INPUT);

    /* ascii: "0 " per value, the last line end optional: 2 vertices need 11 bytes */
    CT_CHECK(check_buf(V3("ascii", "2") "end_header\n", "0 0 0\n0 0 0", 11) == CT_OK);
    CT_CHECK(check_buf(V3("ascii", "2") "end_header\n", "0 0 0\n0 0 ", 10) == CT_ERR_INPUT);
    CT_CHECK(check_buf(V3("ascii", "1000") "end_header\n", "0 0 0\n", 6) == CT_ERR_INPUT);
    CT_CHECK_MSG(has("m.ply: damaged PLY model: its header declares 1000 vertex elements (at least 5999 bytes) but 6 "
                     "bytes follow the header"),
                 "%s", ct_error_message(g_ctx));
    /* an ascii list needs its count at least */
    const char *al = "ply\nformat ascii 1.0\nelement face 3\nproperty list uchar int vertex_indices\nend_header\n";
    CT_CHECK(check_buf(al, "0\n0\n0", 5) == CT_OK);
    CT_CHECK(check_buf(al, "0\n0\n", 4) == CT_ERR_INPUT);
    /* an element without properties still takes a byte each (Assimp makes an instance each) */
    CT_CHECK(check_buf("ply\nformat binary_little_endian 1.0\nelement junk 3\nend_header\n", zeros, 3) == CT_OK);
    CT_CHECK(check_buf("ply\nformat binary_little_endian 1.0\nelement junk 3\nend_header\n", zeros, 2) == CT_ERR_INPUT);
    /* Assimp's "element TextureFile NAME" has no count */
    CT_CHECK_MSG(check_buf("ply\nformat ascii 1.0\nelement TextureFile tex.png\n"
                           "element vertex 1\nproperty float x\nend_header\n",
                           "1", 1) == CT_OK,
                 "%s", ct_error_message(g_ctx));
    CT_CHECK(check_buf("ply\nformat ascii 1.0\nelement TextureFile tex.png\n"
                       "element vertex 9\nproperty float x\nend_header\n",
                       "1", 1) == CT_ERR_INPUT);
    /* count 0: nothing needed */
    CT_CHECK(check_buf(V3("binary_little_endian", "0") "end_header\n", zeros, 0) == CT_OK);
}

static const char huge_header[] =
    "ply\nformat binary_little_endian 1.0\nelement vertex 4000000000\nproperty float x\nproperty float y\n"
    "property float z\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n";

static void huge(void) {
    CT_CHECK(check_buf(huge_header, NULL, 0) == CT_ERR_INPUT);
    CT_CHECK_MSG(has("m.ply: damaged PLY model: its header declares 4000000000 vertex elements (at least 48000000000 "
                     "bytes) but 0 bytes follow the header"),
                 "%s", ct_error_message(g_ctx));
    CT_CHECK(check_buf("ply\nformat ascii 1.0\nelement vertex 4000000000\nproperty float x\nend_header\n", "1\n", 2) ==
             CT_ERR_INPUT);
    CT_CHECK_MSG(has("4000000000 vertex elements (at least 7999999999 bytes) but 2 bytes"), "%s",
                 ct_error_message(g_ctx));
    /* the product overflows 64 bits */
    CT_CHECK(check_buf(V3("binary_little_endian", "18446744073709551615") "end_header\n", NULL, 0) == CT_ERR_INPUT);
    CT_CHECK_MSG(has("declares 18446744073709551615 vertex elements (more than 2^64 bytes)"), "%s",
                 ct_error_message(g_ctx));
    /* huge counts whose sizes sum past 2^64: the first is refused (need never exceeds the file) */
    CT_CHECK(check_buf("ply\nformat binary_little_endian 1.0\nelement a 9223372036854775807\nproperty char x\n"
                       "element b 9223372036854775807\nproperty char x\nelement c 9\nproperty char x\nend_header\n",
                       NULL, 0) == CT_ERR_INPUT);
    CT_CHECK_MSG(has("9223372036854775807 a elements"), "%s", ct_error_message(g_ctx));

    /* through ct_symbol_load (and so under ASan here): refused at once, before Assimp; the
     * extension does not matter, the content does */
    const char *names[2] = {"ply_check_huge.ply", "ply_check_huge.model"};
    for (int k = 0; k < 2; k++) {
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", g_dir, names[k]);
        write_file(path, huge_header, NULL, 0);
        ct_symbol s;
        ct_error_clear(g_ctx);
        double t0 = now();
        ct_status st = ct_symbol_load(g_ctx, path, NULL, &s);
        double dt = now() - t0;
        CT_CHECK_MSG(st == CT_ERR_INPUT, "%s: status %d", path, (int)st);
        CT_CHECK_MSG(dt < 1.0, "%s: refused after %.2f s", path, dt);
        char want[1400];
        snprintf(want, sizeof want,
                 "%s: damaged PLY model: its header declares 4000000000 vertex elements (at least 48000000000 bytes) "
                 "but 0 bytes follow the header",
                 path);
        CT_CHECK_MSG(has(want), "%s", ct_error_message(g_ctx));
        if (st == CT_OK) ct_symbol_free(&s);
    }
    /* ".ply" and a first line "ply" with more on it: Assimp reads it as PLY, so is it checked */
    char path[1200];
    snprintf(path, sizeof path, "%s/ply_check_magic_extra.ply", g_dir);
    write_file(path, "ply   some words\nformat ascii 1.0\nelement vertex 100\nproperty float x\nend_header\n", "1", 1);
    ct_error_clear(g_ctx);
    CT_CHECK(ct_ply_header_check(g_ctx, path) == CT_ERR_INPUT);
    CT_CHECK_MSG(has("100 vertex elements (at least 199 bytes) but 1 bytes follow the header"), "%s",
                 ct_error_message(g_ctx));
}

static void malformed(void) {
    static unsigned char zeros[64];
    /* no end_header */
    CT_CHECK(check_buf(V3("binary_little_endian", "1"), zeros, 12) == CT_ERR_INPUT);
    CT_CHECK_MSG(has("m.ply: damaged PLY model: its header has no end_header"), "%s", ct_error_message(g_ctx));
    /* "end_header" as a property name is not the end */
    CT_CHECK(check_buf("ply\nformat ascii 1.0\nelement vertex 1\nproperty float end_header\n", NULL, 0) ==
             CT_ERR_INPUT);
    CT_CHECK(has("no end_header"));
    /* a header that goes on and on: only its first CT_PLY_HEADER_MAX bytes are read */
    {
        char path[1200];
        snprintf(path, sizeof path, "%s/ply_check_endless.ply", g_dir);
        FILE *f = fopen(path, "wb");
        CT_CHECK(f != NULL);
        if (f) {
            fputs("ply\nformat ascii 1.0\n", f);
            for (size_t i = 0; i < CT_PLY_HEADER_MAX / 16 + 10; i++)
                fputs("comment 1234567\n", f);
            fputs("end_header\n", f);
            fclose(f);
            ct_error_clear(g_ctx);
            CT_CHECK(ct_ply_header_check(g_ctx, path) == CT_ERR_INPUT);
            CT_CHECK_MSG(has("damaged PLY model: no end_header in its first 1048576 bytes"), "%s",
                         ct_error_message(g_ctx));
        }
    }
    /* counts that do not parse */
    const char *bad[] = {"abc", "-5", "1e9", "18446744073709551616", "4x", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char h[256];
        snprintf(h, sizeof h, "ply\nformat ascii 1.0\nelement vertex %s\nproperty float x\nend_header\n", bad[i]);
        CT_CHECK_MSG(check_buf(h, "1 2 3 4 5 6 7 8 9", 17) == CT_ERR_INPUT, "count \"%s\"", bad[i]);
        CT_CHECK_MSG(has("m.ply: damaged PLY model: element vertex has no valid count"), "count \"%s\": %s", bad[i],
                     ct_error_message(g_ctx));
    }
    /* a type Assimp does not know (it skips the property) is not refused: a byte at least */
    const char *u128 = "ply\nformat binary_little_endian 1.0\nelement vertex 2\nproperty float128 x\nend_header\n";
    CT_CHECK_MSG(check_buf(u128, zeros, 2) == CT_OK, "%s", ct_error_message(g_ctx));
    CT_CHECK(check_buf(u128, zeros, 1) == CT_ERR_INPUT);
    const char *ul = "ply\nformat binary_little_endian 1.0\nelement face 3\nproperty list quad int i\nend_header\n";
    CT_CHECK_MSG(check_buf(ul, zeros, 3) == CT_OK, "%s", ct_error_message(g_ctx));
    CT_CHECK(check_buf(ul, zeros, 2) == CT_ERR_INPUT);
    const char *ua = "ply\nformat ascii 1.0\nelement vertex 2\nproperty float x\nproperty int64 id\nend_header\n";
    CT_CHECK_MSG(check_buf(ua, "1 2\n3 4", 7) == CT_OK, "%s", ct_error_message(g_ctx));
    CT_CHECK(check_buf(ua, "1 2\n3 ", 6) == CT_ERR_INPUT);
    /* unknown formats; no format */
    CT_CHECK(check_buf("ply\nformat binary_middle_endian 1.0\nelement vertex 1\nproperty float x\nend_header\n", zeros,
                       4) == CT_ERR_INPUT);
    CT_CHECK_MSG(has("unknown format \"binary_middle_endian\""), "%s", ct_error_message(g_ctx));
    CT_CHECK(check_buf("ply\nelement vertex 1\nproperty float x\nend_header\n", zeros, 4) == CT_ERR_INPUT);
    CT_CHECK(check_buf("ply\ncomment no format\nend_header\n", zeros, 4) == CT_ERR_INPUT);
    CT_CHECK_MSG(has("its header has no format line"), "%s", ct_error_message(g_ctx));

    /* what is a PLY */
    CT_CHECK(ct_ply_is_ply((const unsigned char *)"ply\nformat", 10));
    CT_CHECK(ct_ply_is_ply((const unsigned char *)"Ply\r\nformat", 11));
    CT_CHECK(!ct_ply_is_ply((const unsigned char *)"plyx\n", 5));
    CT_CHECK(!ct_ply_is_ply((const unsigned char *)"solid x\n", 8));
    CT_CHECK(!ct_ply_is_ply((const unsigned char *)"ply", 3));
    /* another format (an OBJ) is left to Assimp */
    char path[1200];
    snprintf(path, sizeof path, "%s/ply_check_not.obj", g_dir);
    write_file(path, "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n", NULL, 0);
    ct_error_clear(g_ctx);
    CT_CHECK(ct_ply_header_check(g_ctx, path) == CT_OK);
    snprintf(path, sizeof path, "%s/ply_check_no_such_file.ply", g_dir);
    CT_CHECK(ct_ply_header_check(g_ctx, path) == CT_OK); /* Assimp says it is missing */
}

int main(void) {
    g_ctx = ct_context_create();
    if (!g_ctx) return 1;
    snprintf(g_dir, sizeof g_dir, "%s", ct_test_env("CT_BINARY_DIR", "."));
    valid_files();
    too_short();
    huge();
    malformed();
    ct_context_destroy(g_ctx);
    return ct_test_finish("ply_header_check");
}
