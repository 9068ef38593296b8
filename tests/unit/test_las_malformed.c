/* Malformed LAS files, built at run time from small valid files of the shared
 * conformance set (mutated copies in $CT_BINARY_DIR/las_malformed/): every one
 * must give a clear error naming the file and the problem (or, where common
 * readers tolerate the defect, open with a warning). Also: LAZ recognised, and
 * multi-threaded ct_las_read_points against single-threaded. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "citytiler/las.h"
#include "ct_test.h"

typedef struct logbuf {
    int warnings;
    char all[4096];
} logbuf;

static void on_log(void *user, ct_log_level level, const char *msg) {
    logbuf *b = user;
    if (level <= CT_LOG_WARN) {
        b->warnings++;
        size_t n = strlen(b->all);
        snprintf(b->all + n, sizeof b->all - n, "%s\n", msg);
    }
}

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(sz > 0 ? (size_t)sz : 1);
    if (b && fread(b, 1, (size_t)sz, f) != (size_t)sz) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *n = (size_t)sz;
    return b;
}

static int spit(const char *path, const unsigned char *b, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(b, 1, n, f);
    return fclose(f) == 0 && w == n ? 0 : -1;
}

static void put16(unsigned char *p, unsigned v) { p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); }
static void put32(unsigned char *p, uint32_t v) { put16(p, v & 0xFFFF); put16(p + 2, v >> 16); }
static void put64(unsigned char *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }
static void putd(unsigned char *p, double d) { uint64_t u; memcpy(&u, &d, 8); put64(p, u); }

static char outdir[4096];
static ct_context *ctx;
static logbuf lb;

typedef void (*mutate_fn)(unsigned char *b, size_t *n);

/* Writes a mutated copy of `base` as NAME.las and opens it; checks the status
 * and that the message names the file and contains every `needles` word. */
static void expect(const unsigned char *base, size_t n, const char *name, mutate_fn mut, ct_status want,
                   const char *const *needles) {
    unsigned char *b = malloc(n + 64);
    if (!b) return;
    memcpy(b, base, n);
    size_t m = n;
    mut(b, &m);
    char path[4200];
    snprintf(path, sizeof path, "%s/%s.las", outdir, name);
    CT_CHECK_MSG(spit(path, b, m) == 0, "cannot write %s", path);
    free(b);
    ct_error_clear(ctx);
    memset(&lb, 0, sizeof lb);
    ct_las_reader *r = NULL;
    ct_status st = ct_las_open(ctx, path, &r);
    const char *msg = want == CT_OK ? lb.all : ct_error_message(ctx);
    CT_CHECK_MSG(st == want, "%s: status %s, expected %s (%s)", name, ct_status_name(st),
                 ct_status_name(want), ct_error_message(ctx));
    CT_CHECK_MSG(strstr(msg, path) != NULL, "%s: message does not name the file: '%s'", name, msg);
    for (int i = 0; needles && needles[i]; i++)
        CT_CHECK_MSG(strstr(msg, needles[i]) != NULL, "%s: message lacks '%s': '%s'", name, needles[i], msg);
    if (want != CT_OK) CT_CHECK(r == NULL);
    else CT_CHECK_MSG(lb.warnings > 0, "%s: tolerated defect should log a warning", name);
    printf("%-22s %-12s %s", name, ct_status_name(st), want == CT_OK ? msg : msg);
    if (want != CT_OK) printf("\n");
    ct_las_close(r);
}

/* base A: lazperf_point-color-time.las (LAS 1.2, PDRF 3, 1065 points, 4 VLRs) */
static void m_signature(unsigned char *b, size_t *n) { (void)n; memcpy(b, "LASX", 4); }
static void m_truncated(unsigned char *b, size_t *n) { (void)b; *n -= 10; }
static void m_4g_points(unsigned char *b, size_t *n) { (void)n; put32(b + 107, 0xFFFFFFFFu); }
static void m_offset_past_end(unsigned char *b, size_t *n) { put32(b + 96, (uint32_t)*n + 100); }
static void m_offset_in_header(unsigned char *b, size_t *n) { (void)n; put32(b + 96, 100); }
static void m_zero_scale(unsigned char *b, size_t *n) { (void)n; putd(b + 131 + 8, 0.0); }
static void m_nan_scale(unsigned char *b, size_t *n) { (void)n; putd(b + 131 + 16, NAN); }
static void m_short_record(unsigned char *b, size_t *n) { (void)n; put16(b + 105, 20); }
static void m_version_2(unsigned char *b, size_t *n) { (void)n; b[24] = 2; b[25] = 0; }
static void m_version_15(unsigned char *b, size_t *n) { (void)n; b[25] = 5; }
static void m_format_11(unsigned char *b, size_t *n) { (void)n; b[104] = 11; }
static void m_laz_bit(unsigned char *b, size_t *n) { (void)n; b[104] |= 0x80; }
static void m_header_size(unsigned char *b, size_t *n) { (void)n; put16(b + 94, 100); }
static void m_v13_short_header(unsigned char *b, size_t *n) { (void)n; b[25] = 3; } /* header stays 227 bytes */
static void m_tiny(unsigned char *b, size_t *n) { (void)b; *n = 100; }
static void m_empty(unsigned char *b, size_t *n) { (void)b; *n = 0; }
static void m_vlr_overrun(unsigned char *b, size_t *n) {
    (void)n; /* first VLR claims 65535 bytes: past the point data */
    unsigned hs = b[94] | (b[95] << 8);
    put16(b + hs + 20, 0xFFFF);
}
/* a writer that stopped before it wrote the count (0), or wrote a stale one */
static void m_count_zero(unsigned char *b, size_t *n) { (void)n; put32(b + 107, 0); }
static void m_count_stale(unsigned char *b, size_t *n) { (void)n; put32(b + 107, 1000); }
static void m_vlr_count(unsigned char *b, size_t *n) { (void)n; put32(b + 100, 0x7FFFFFFF); }
static void m_laszip_vlr(unsigned char *b, size_t *n) {
    (void)n; /* rename the first VLR to the laszip one */
    unsigned hs = b[94] | (b[95] << 8);
    memset(b + hs + 2, 0, 16);
    memcpy(b + hs + 2, "laszip encoded", 14);
    put16(b + hs + 18, 22204);
}
/* base B: laspy_1_4_w_evlr.las (LAS 1.4, PDRF 6, 1000 points, 1 EVLR) */
static void m_count64_huge(unsigned char *b, size_t *n) { (void)n; put64(b + 247, (uint64_t)1 << 62); }
static void m_evlr_past_end(unsigned char *b, size_t *n) { put64(b + 235, (uint64_t)*n + 1000); }
static void m_evlr_length(unsigned char *b, size_t *n) {
    (void)n;
    uint64_t off = 0;
    for (int i = 7; i >= 0; i--) off = (off << 8) | b[235 + i];
    put64(b + off + 20, (uint64_t)1 << 40);
}
static void m_evlr_count(unsigned char *b, size_t *n) { (void)n; put32(b + 243, 0xFFFFFFFFu); }

typedef struct job {
    const ct_las_reader *r;
    uint64_t first;
    size_t count, step;
    int nthreads, id;
    ct_las_points *out; /* the full-size destination (fields set) */
    int failed;
} job;

/* Each thread reads ranges id, id + nthreads, ... of `step` points into its
 * own buffer and copies them into the shared destination (disjoint slices). */
static void *worker(void *arg) {
    job *j = arg;
    ct_las_points p;
    if (ct_las_points_alloc(ctx, j->step, CT_LAS_ALL, &p) != CT_OK) {
        j->failed = 1;
        return NULL;
    }
    for (size_t s = (size_t)j->id * j->step; s < j->count; s += (size_t)j->nthreads * j->step) {
        size_t n = j->count - s < j->step ? j->count - s : j->step;
        if (ct_las_read_points(ctx, j->r, s, n, &p) != CT_OK) {
            j->failed = 1;
            break;
        }
#define CP(f) memcpy(j->out->f + s, p.f, n * sizeof *p.f)
        CP(x); CP(y); CP(z); CP(intensity); CP(return_number); CP(number_of_returns); CP(cls);
        CP(class_flags); CP(scan_angle); CP(user_data); CP(point_source_id); CP(gps_time);
        CP(red); CP(green); CP(blue); CP(nir);
#undef CP
    }
    ct_las_points_free(&p);
    return NULL;
}

static int same_points(const ct_las_points *a, const ct_las_points *b, size_t n) {
#define EQ(f) (memcmp(a->f, b->f, n * sizeof *a->f) == 0)
    return EQ(x) && EQ(y) && EQ(z) && EQ(intensity) && EQ(return_number) && EQ(number_of_returns) &&
           EQ(cls) && EQ(class_flags) && EQ(scan_angle) && EQ(user_data) && EQ(point_source_id) &&
           EQ(gps_time) && EQ(red) && EQ(green) && EQ(blue) && EQ(nir);
#undef EQ
}

static void threads_test(const char *path) {
    ct_error_clear(ctx);
    ct_las_reader *r = NULL;
    CT_CHECK_MSG(ct_las_open(ctx, path, &r) == CT_OK, "%s", ct_error_message(ctx));
    if (!r) return;
    const ct_las_header *h = ct_las_get_header(r);
    size_t n = (size_t)h->point_count;
    ct_las_points one, many;
    CT_CHECK(ct_las_points_alloc(ctx, n, CT_LAS_ALL, &one) == CT_OK);
    CT_CHECK(ct_las_points_alloc(ctx, n, CT_LAS_ALL, &many) == CT_OK);
    if (one.x && many.x) {
        CT_CHECK(ct_las_read_points(ctx, r, 0, n, &one) == CT_OK);
        CT_CHECK(one.count == n);
        enum { NT = 4 };
        pthread_t t[NT];
        job jobs[NT];
        for (int i = 0; i < NT; i++) {
            jobs[i] = (job){r, 0, n, 3001, NT, i, &many, 0};
            CT_CHECK(pthread_create(&t[i], NULL, worker, &jobs[i]) == 0);
        }
        for (int i = 0; i < NT; i++) {
            pthread_join(t[i], NULL);
            CT_CHECK(!jobs[i].failed);
        }
        CT_CHECK_MSG(same_points(&one, &many, n), "%s: threaded read differs", path);
        /* a sub-range equals the same slice of the full read */
        ct_las_points part;
        size_t first = n / 3, cnt = n / 4;
        CT_CHECK(ct_las_points_alloc(ctx, cnt, CT_LAS_XYZ | CT_LAS_CLASS, &part) == CT_OK);
        CT_CHECK(ct_las_read_points(ctx, r, first, cnt, &part) == CT_OK);
        CT_CHECK(part.intensity == NULL);
        CT_CHECK(memcmp(part.x, one.x + first, cnt * sizeof(double)) == 0);
        CT_CHECK(memcmp(part.cls, one.cls + first, cnt) == 0);
        /* out-of-range and over-capacity requests are usage errors */
        ct_error_clear(ctx);
        CT_CHECK(ct_las_read_points(ctx, r, n - 1, 2, &part) == CT_ERR_USAGE);
        ct_error_clear(ctx);
        CT_CHECK(ct_las_read_points(ctx, r, 0, cnt + 1, &part) == CT_ERR_USAGE);
        ct_error_clear(ctx);
        CT_CHECK(ct_las_read_points(ctx, r, UINT64_MAX, 1, &part) == CT_ERR_USAGE);
        ct_las_points_free(&part);
        /* raw records */
        unsigned char *raw = malloc((size_t)h->record_length * 10);
        CT_CHECK(raw && ct_las_read_raw(ctx, r, n - 10, 10, raw) == CT_OK);
        free(raw);
    }
    ct_las_points_free(&one);
    ct_las_points_free(&many);
    ct_las_close(r);
}

int main(void) {
    const char *shared = ct_test_env("CT_SHARED_DATA", NULL);
    const char *bin = ct_test_env("CT_BINARY_DIR", ".");
    struct stat sb;
    if (!shared || stat(shared, &sb) != 0) {
        if (strcmp(ct_test_env("CT_ALLOW_NO_SHARED", "0"), "1") == 0) {
            CT_CHECK(1);
            printf("shared data absent and CT_ALLOW_NO_SHARED=1: skipping\n");
            return ct_test_finish("test_las_malformed");
        }
        fprintf(stderr, "CT_SHARED_DATA (%s) is absent: set CT_ALLOW_NO_SHARED=1 to skip\n",
                shared ? shared : "unset");
        return 1;
    }
    snprintf(outdir, sizeof outdir, "%s/las_malformed", bin);
    if (mkdir(outdir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "cannot create %s\n", outdir);
        return 1;
    }
    ctx = ct_context_create();
    ct_context_set_logger(ctx, on_log, &lb, CT_LOG_WARN);
    char path[4200];
    size_t na = 0, nb = 0;
    snprintf(path, sizeof path, "%s/las/lazperf_point-color-time.las", shared);
    unsigned char *a = slurp(path, &na);
    snprintf(path, sizeof path, "%s/las/laspy_1_4_w_evlr.las", shared);
    unsigned char *b = slurp(path, &nb);
    CT_CHECK(a && b);
    if (a && b) {
        /* sanity: the unmodified bases open */
        const char *const none[] = {NULL};
        (void)none;
#define W(...) ((const char *const[]){__VA_ARGS__, NULL})
        expect(a, na, "signature", m_signature, CT_ERR_INPUT, W("signature", "LASX", "LASF"));
        expect(a, na, "truncated", m_truncated, CT_ERR_INPUT, W("truncated", "37417", "37407", "1065"));
        expect(a, na, "4g_points", m_4g_points, CT_ERR_INPUT, W("truncated", "4294967295"));
        expect(a, na, "offset_past_end", m_offset_past_end, CT_ERR_INPUT, W("offset to point data", "past the end"));
        expect(a, na, "offset_in_header", m_offset_in_header, CT_ERR_INPUT, W("offset to point data", "header"));
        expect(a, na, "zero_scale", m_zero_scale, CT_ERR_INPUT, W("y scale factor"));
        expect(a, na, "nan_scale", m_nan_scale, CT_ERR_INPUT, W("z scale factor"));
        expect(a, na, "short_record", m_short_record, CT_ERR_INPUT, W("record length 20", "34"));
        expect(a, na, "version_2", m_version_2, CT_ERR_UNSUPPORTED, W("version 2.0"));
        expect(a, na, "version_15", m_version_15, CT_ERR_UNSUPPORTED, W("version 1.5"));
        expect(a, na, "format_11", m_format_11, CT_ERR_UNSUPPORTED, W("point data record format 11"));
        /* the compression bit without LASzip's VLR: nothing says how to decode */
        expect(a, na, "laz_bit", m_laz_bit, CT_ERR_INPUT, W("LAZ (compressed)", "no 'laszip encoded' VLR"));
        /* LASzip's VLR left in an uncompressed file (the format byte decides) */
        expect(a, na, "laszip_vlr", m_laszip_vlr, CT_OK, W("'laszip encoded' VLR", "reading them as LAS records"));
        expect(a, na, "header_size", m_header_size, CT_ERR_INPUT, W("header size"));
        expect(a, na, "tiny", m_tiny, CT_ERR_INPUT, W("truncated header", "100 bytes"));
        expect(a, na, "empty", m_empty, CT_ERR_INPUT, W("not a LAS file"));
        /* tolerated with a warning, as PDAL/LAStools do */
        expect(a, na, "vlr_overrun", m_vlr_overrun, CT_OK, W("VLR 0", "past the point data"));
        expect(a, na, "vlr_count", m_vlr_count, CT_OK, W("2147483647 VLRs"));
        expect(a, na, "count_zero", m_count_zero, CT_OK, W("header says 0 points but 1065 complete records", "reading 0"));
        expect(a, na, "v13_short_header", m_v13_short_header, CT_OK, W("header size field is 227", "LAS 1.3 specifies 235"));
        { /* and its points are read as from the LAS 1.2 file it was */
            snprintf(path, sizeof path, "%s/v13_short_header.las", outdir);
            ct_las_reader *r13 = NULL;
            ct_error_clear(ctx);
            CT_CHECK(ct_las_open(ctx, path, &r13) == CT_OK);
            if (r13) {
                CT_CHECK(ct_las_get_header(r13)->point_count == 1065 && ct_las_get_header(r13)->waveform_offset == 0 &&
                         ct_las_get_header(r13)->nvlrs == 4);
                ct_las_close(r13);
            }
        }
        expect(a, na, "count_stale", m_count_stale, CT_OK, W("header says 1000 points but 1065 complete records"));
        expect(b, nb, "count64_huge", m_count64_huge, CT_ERR_INPUT, W("truncated", "4611686018427387904"));
        expect(b, nb, "evlr_past_end", m_evlr_past_end, CT_OK, W("EVLRs", "ignoring"));
        expect(b, nb, "evlr_length", m_evlr_length, CT_OK, W("EVLR 0", "past the end"));
        expect(b, nb, "evlr_count", m_evlr_count, CT_OK, W("EVLR 1", "keeping 1"));
#undef W
        /* the in-memory parser agrees on a valid file and on a broken one */
        ct_error_clear(ctx);
        ct_las_reader *r = NULL;
        CT_CHECK(ct_las_parse_header_bytes(ctx, "mem.las", b, nb, NULL, &r) == CT_OK);
        if (r) {
            CT_CHECK(ct_las_get_header(r)->point_count == 1000 && ct_las_get_header(r)->nevlrs == 1);
            ct_las_points p;
            CT_CHECK(ct_las_points_alloc(ctx, 1, CT_LAS_XYZ, &p) == CT_OK);
            ct_error_clear(ctx);
            CT_CHECK(ct_las_read_points(ctx, r, 0, 1, &p) == CT_ERR_USAGE);
            ct_las_points_free(&p);
            ct_las_close(r);
        }
        ct_error_clear(ctx);
        CT_CHECK(ct_las_parse_header_bytes(ctx, "mem.las", b, 300, NULL, &r) == CT_ERR_INPUT);
        CT_CHECK(strstr(ct_error_message(ctx), "mem.las") != NULL);
    }
    free(a);
    free(b);

    /* LAZ is recognised and read (its records: test_laz_reader) */
    snprintf(path, sizeof path, "%s/laz/lazperf_point10.laz", shared);
    ct_error_clear(ctx);
    ct_las_reader *r = NULL;
    CT_CHECK(ct_las_is_laz(path) == 1);
    CT_CHECK_MSG(ct_las_open(ctx, path, &r) == CT_OK, "LAZ: %s", ct_error_message(ctx));
    CT_CHECK(r && ct_las_get_header(r)->compressed && ct_las_get_header(r)->laz_chunks > 0);
    ct_las_close(r);
    r = NULL;
    {
        size_t nz = 0;
        unsigned char *z = slurp(path, &nz);
        char renamed[4300];
        snprintf(renamed, sizeof renamed, "%s/laz_named_las.las", outdir);
        CT_CHECK(z && spit(renamed, z, nz) == 0);
        free(z);
        CT_CHECK_MSG(ct_las_is_laz(renamed) == 1, "LAZ content under a .las name must be recognised");
        ct_error_clear(ctx);
        CT_CHECK_MSG(ct_las_open(ctx, renamed, &r) == CT_OK, "LAZ named .las: %s", ct_error_message(ctx));
        CT_CHECK(r && ct_las_get_header(r)->compressed);
        ct_las_close(r);
        r = NULL;
    }
    snprintf(path, sizeof path, "%s/las/lazperf_point10.las", shared);
    CT_CHECK(ct_las_is_laz(path) == 0);
    snprintf(path, sizeof path, "%s/missing-file.las", outdir);
    ct_error_clear(ctx);
    CT_CHECK(ct_las_open(ctx, path, &r) == CT_ERR_INPUT);
    CT_CHECK(strstr(ct_error_message(ctx), path) != NULL);

    /* multi-threaded reads equal single-threaded ones */
    snprintf(path, sizeof path, "%s/las/lasr_Megaplot.las", shared);
    threads_test(path);
    snprintf(path, sizeof path, "%s/las/laspy_append-bug_pdrf8.las", shared);
    threads_test(path);

    ct_context_destroy(ctx);
    return ct_test_finish("test_las_malformed");
}
