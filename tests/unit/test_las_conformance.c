/* Every file of ../shared/data/las/MANIFEST.tsv: header fields, CRS, and the
 * first/last point against tests/data/las_reference.tsv (an independent
 * struct-only Python reader, tools/las_reference.py). Broken files must give
 * the expected error. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "citytiler/las.h"
#include "ct_test.h"

#define MAXCOL 16

typedef struct logbuf {
    int warnings;
    char last[512];
} logbuf;

static void on_log(void *user, ct_log_level level, const char *msg) {
    logbuf *b = user;
    if (level <= CT_LOG_WARN) {
        b->warnings++;
        snprintf(b->last, sizeof b->last, "%s", msg);
    }
}

/* Splits a TSV line in place. */
static int split(char *line, char **col, int max) {
    int n = 0;
    line[strcspn(line, "\r\n")] = 0;
    col[n++] = line;
    for (char *p = line; *p && n < max; p++)
        if (*p == '\t') {
            *p = 0;
            col[n++] = p + 1;
        }
    return n;
}

typedef struct ref_row {
    char file[128];
    char v[10][64];
} ref_row;

static ref_row *load_reference(const char *path, size_t *n) {
    FILE *f = fopen(path, "r");
    *n = 0;
    if (!f) return NULL;
    ref_row *rows = calloc(128, sizeof *rows);
    char line[2048];
    while (rows && *n < 128 && fgets(line, sizeof line, f)) {
        if (line[0] == '#' || strncmp(line, "file\t", 5) == 0) continue;
        char *col[MAXCOL];
        if (split(line, col, MAXCOL) < 10) continue;
        snprintf(rows[*n].file, sizeof rows[*n].file, "%s", col[0]);
        for (int i = 0; i < 9; i++) snprintf(rows[*n].v[i], sizeof rows[*n].v[i], "%s", col[1 + i]);
        (*n)++;
    }
    fclose(f);
    return rows;
}

static const ref_row *find_ref(const ref_row *rows, size_t n, const char *file) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(rows[i].file, file) == 0) return &rows[i];
    return NULL;
}

/* EPSG codes (not 32767) found in s, at most max. */
static int epsg_codes(const char *s, int *out, int max) {
    int n = 0;
    for (const char *p = strstr(s, "EPSG:"); p && n < max; p = strstr(p + 5, "EPSG:")) {
        int c = atoi(p + 5);
        if (c != 32767) out[n++] = c;
    }
    return n;
}

static int family(const char *root) {
    if (!strncmp(root, "PROJCS", 6) || !strncmp(root, "PROJCRS", 7)) return 1;
    if (!strncmp(root, "GEOGCS", 6) || !strncmp(root, "GEOGCRS", 7)) return 2;
    if (!strncmp(root, "COMPD_CS", 8) || !strncmp(root, "COMPOUNDCRS", 11)) return 3;
    if (!strncmp(root, "VERT_CS", 7) || !strncmp(root, "VERTCRS", 7)) return 4;
    return 0;
}

static int contains(const int *v, int n, int x) {
    for (int i = 0; i < n; i++)
        if (v[i] == x) return 1;
    return 0;
}

static void check_crs(const char *file, const char *col, const ct_las_header *h) {
    /* split the column into its GeoTIFF part(s) and WKT part */
    char geo[1024] = "", wkt[1024] = "";
    char tmp[2048];
    snprintf(tmp, sizeof tmp, "%s", col);
    for (char *seg = strtok(tmp, ";"); seg; seg = strtok(NULL, ";")) {
        while (*seg == ' ') seg++;
        if (!strncmp(seg, "WKT", 3)) snprintf(wkt, sizeof wkt, "%s", seg + 3);
        else if (strlen(geo) + strlen(seg) + 2 < sizeof geo) {
            strcat(geo, seg);
            strcat(geo, " ");
        }
    }
    int gcodes[8], ng = epsg_codes(geo, gcodes, 8);
    int wcodes[8], nw = epsg_codes(wkt, wcodes, 8);
    const char *wroot = wkt;
    while (*wroot == ' ') wroot++;
    /* GeoTIFF VerticalCSType 5001-5033 are ellipsoidal-height codes of the GeoTIFF
     * spec, not EPSG CRSs: alone (no horizontal key) they give no usable CRS. */
    int ellipsoidal_only = ng == 1 && !nw && gcodes[0] >= 5001 && gcodes[0] <= 5033 &&
                           strstr(geo, "VerticalCS") && !strstr(geo, "ProjectedCSType") &&
                           !strstr(geo, "GeographicType");
    int want_none = strcmp(col, "none") == 0 || ellipsoidal_only ||
                    (!ng && !strstr(geo, "32767") && !family(wroot));
    if (want_none) {
        CT_CHECK_MSG(h->crs_wkt == NULL, "%s: expected no usable CRS, got %s (%s)", file,
                     h->crs_source, h->crs_wkt ? h->crs_wkt : "");
        return;
    }
    CT_CHECK_MSG(h->crs_wkt != NULL, "%s: expected a CRS (%s)", file, col);
    if (!h->crs_wkt) return;
    int code = h->epsg_horizontal ? h->epsg_horizontal : h->epsg_vertical;
    if (strcmp(h->crs_source, "wkt") == 0) {
        const char *ours = h->crs_wkt;
        while (*ours == ' ' || *ours == '\n') ours++;
        CT_CHECK_MSG(family(wroot) != 0 && family(ours) == family(wroot),
                     "%s: WKT root '%.12s' vs manifest '%.12s'", file, ours, wroot);
        if (nw) CT_CHECK_MSG(code == wcodes[0], "%s: WKT EPSG %d vs manifest %d", file, code, wcodes[0]);
    } else {
        CT_CHECK_MSG(strcmp(h->crs_source, "geotiff") == 0, "%s: crs source %s", file, h->crs_source);
        if (ng) {
            CT_CHECK_MSG(contains(gcodes, ng, code), "%s: GeoTIFF EPSG %d not in manifest '%s'", file,
                         code, col);
            if (h->epsg_vertical)
                CT_CHECK_MSG(contains(gcodes, ng, h->epsg_vertical), "%s: vertical EPSG %d not in '%s'",
                             file, h->epsg_vertical, col);
        } else {
            /* user-defined keys: GDAL must have made a projected CRS of them */
            CT_CHECK_MSG(strstr(h->crs_wkt, "PROJCRS") != NULL, "%s: user-defined GeoTIFF gave %.60s",
                         file, h->crs_wkt);
        }
    }
}

static void check_points(const char *file, const ct_las_reader *r, const ref_row *ref,
                         ct_context *ctx) {
    const ct_las_header *h = ct_las_get_header(r);
    CT_CHECK_MSG(ref != NULL, "%s: no reference row", file);
    if (!ref) return;
    CT_CHECK_MSG(strtoull(ref->v[0], NULL, 10) == h->point_count, "%s: count %s vs %llu", file,
                 ref->v[0], (unsigned long long)h->point_count);
    if (h->point_count == 0 || ref->v[1][0] == '-') return;
    ct_las_points p;
    size_t n = (size_t)h->point_count;
    if (ct_las_points_alloc(ctx, n, CT_LAS_ALL, &p) != CT_OK) {
        CT_CHECK_MSG(0, "%s: alloc", file);
        return;
    }
    ct_status st = ct_las_read_points(ctx, r, 0, n, &p);
    CT_CHECK_MSG(st == CT_OK, "%s: read_points: %s", file, ct_error_message(ctx));
    if (st == CT_OK) {
        size_t idx[2] = {0, n - 1};
        for (int k = 0; k < 2; k++) {
            double want[3];
            for (int a = 0; a < 3; a++) want[a] = strtod(ref->v[1 + 4 * k + a], NULL);
            int cls = atoi(ref->v[4 + 4 * k]);
            double got[3] = {p.x[idx[k]], p.y[idx[k]], p.z[idx[k]]};
            for (int a = 0; a < 3; a++)
                CT_CHECK_MSG(fabs(got[a] - want[a]) <= 1e-9 * fmax(1.0, fabs(want[a])),
                             "%s: point %zu axis %d: %.17g vs %.17g", file, idx[k], a, got[a], want[a]);
            CT_CHECK_MSG(p.cls[idx[k]] == cls, "%s: point %zu class %d vs %d", file, idx[k],
                         p.cls[idx[k]], cls);
        }
        /* header bounds contain every point (within half a scale step) */
        double lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY};
        for (size_t i = 0; i < n; i++) {
            double v[3] = {p.x[i], p.y[i], p.z[i]};
            for (int a = 0; a < 3; a++) {
                if (v[a] < lo[a]) lo[a] = v[a];
                if (v[a] > hi[a]) hi[a] = v[a];
            }
        }
        for (int a = 0; a < 3; a++) {
            /* one scale step: some writers store the unquantised extent (libLAS 1.x_y files) */
            double tol = fabs(h->scale[a]) * 1.01 + 1e-9 * fabs(h->max[a]);
            CT_CHECK_MSG(lo[a] >= h->min[a] - tol && hi[a] <= h->max[a] + tol,
                         "%s: axis %d points [%.10g, %.10g] outside header bounds [%.10g, %.10g]", file,
                         a, lo[a], hi[a], h->min[a], h->max[a]);
        }
    }
    ct_las_points_free(&p);
}


/* Several files as one source; info JSON. */
static void source_and_info(ct_context *ctx, const char *shared, logbuf *lb) {
    char a[4096], b[4096], c[4096], g[4096];
    snprintf(a, sizeof a, "%s/las/lazperf_point10.las", shared);
    snprintf(b, sizeof b, "%s/las/lazperf_point-time.las", shared);
    snprintf(c, sizeof c, "%s/las/liblas_1.2_0.las", shared);
    snprintf(g, sizeof g, "%s/las/lazperf_point*.las", shared);
    ct_las_source *s = NULL;
    const char *two[] = {a, b};
    uint64_t *ids = NULL; /* (device, inode) pairs of the files read, as the dataset keeps them */
    size_t nids = 0;
    ct_error_clear(ctx);
    CT_CHECK_MSG(ct_las_source_open(ctx, two, 2, &ids, &nids, &s) == CT_OK, "source: %s", ct_error_message(ctx));
    CT_CHECK(nids == 2);
    if (s) {
        CT_CHECK(ct_las_source_count(s) == 2);
        CT_CHECK(ct_las_source_point_count(s) == 2130);
        CT_CHECK(ct_las_source_crs_wkt(s) != NULL);
        double mn[3], mx[3];
        ct_las_source_bounds(s, mn, mx);
        const ct_las_header *h0 = ct_las_get_header(ct_las_source_reader(s, 0));
        CT_CHECK(mn[0] <= h0->min[0] && mx[2] >= h0->max[2]);
        ct_las_source_close(s);
    }
    /* A file an earlier source read is refused; a failed open adds no file. */
    const char *again[] = {c, a};
    ct_error_clear(ctx);
    CT_CHECK(ct_las_source_open(ctx, again, 2, &ids, &nids, &s) == CT_ERR_USAGE);
    CT_CHECK_MSG(strstr(ct_error_message(ctx), a) && strstr(ct_error_message(ctx), "an earlier readers.lidar stage read this file"),
                 "read before: %s", ct_error_message(ctx));
    CT_CHECK(nids == 2);
    free(ids);
    ids = NULL;
    nids = 0;
    const char *mixed[] = {a, c};
    ct_error_clear(ctx);
    CT_CHECK(ct_las_source_open(ctx, mixed, 2, &ids, &nids, &s) == CT_ERR_INPUT);
    CT_CHECK_MSG(strstr(ct_error_message(ctx), a) && strstr(ct_error_message(ctx), c) &&
                 strstr(ct_error_message(ctx), "different CRS"), "mixed CRS: %s", ct_error_message(ctx));
    CT_CHECK(nids == 0);
    const char *glob1[] = {g};
    ct_error_clear(ctx);
    memset(lb, 0, sizeof *lb);
    CT_CHECK_MSG(ct_las_source_open(ctx, glob1, 1, &ids, &nids, &s) == CT_OK, "glob: %s", ct_error_message(ctx));
    if (s) {
        CT_CHECK(ct_las_source_count(s) == 6);
        CT_CHECK(ct_las_source_point_count(s) == 4 * 1065 + 2);
        CT_CHECK_MSG(lb->warnings > 0 && strstr(lb->last, "2 files have no CRS (first: "), "glob warning: %s", lb->last);
        ct_las_source_close(s);
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/delft", shared);
    const char *d1[] = {dir};
    ct_error_clear(ctx);
    CT_CHECK_MSG(ct_las_source_open(ctx, d1, 1, &ids, &nids, &s) == CT_OK, "dir: %s", ct_error_message(ctx));
    if (s) {
        CT_CHECK(ct_las_source_count(s) >= 2);
        uint64_t sum = 0;
        for (size_t i = 0; i < ct_las_source_count(s); i++)
            sum += ct_las_get_header(ct_las_source_reader(s, i))->point_count;
        CT_CHECK(sum == ct_las_source_point_count(s) && sum > 0);
        ct_las_source_close(s);
    }
    snprintf(dir, sizeof dir, "%s/las/no-such-*.las", shared);
    const char *none[] = {dir};
    ct_error_clear(ctx);
    CT_CHECK(ct_las_source_open(ctx, none, 1, &ids, &nids, &s) == CT_ERR_INPUT);
    free(ids);

    json_t *j = NULL;
    ct_error_clear(ctx);
    CT_CHECK_MSG(ct_las_info_json(ctx, a, 1, &j) == CT_OK, "info: %s", ct_error_message(ctx));
    if (j) {
        CT_CHECK(strcmp(json_string_value(json_object_get(j, "version")), "1.2") == 0);
        CT_CHECK(json_integer_value(json_object_get(j, "point_count")) == 1065);
        CT_CHECK(json_integer_value(json_object_get(json_object_get(j, "crs"), "epsg_horizontal")) == 26910);
        CT_CHECK(json_array_size(json_object_get(j, "vlrs")) == 4);
        json_t *cls = json_object_get(j, "classes");
        const char *k;
        json_t *v;
        json_int_t total = 0;
        json_object_foreach(cls, k, v) total += json_integer_value(v);
        CT_CHECK_MSG(total == 1065, "class counts sum to %lld", (long long)total);
        json_decref(j);
    }
}

int main(void) {
    const char *shared = ct_test_env("CT_SHARED_DATA", NULL);
    const char *src = ct_test_env("CT_SOURCE_DIR", ".");
    char path[4096];
    struct stat sb;
    if (!shared || stat(shared, &sb) != 0) {
        if (strcmp(ct_test_env("CT_ALLOW_NO_SHARED", "0"), "1") == 0) {
            printf("shared data absent and CT_ALLOW_NO_SHARED=1: skipping\n");
            CT_CHECK(1);
            return ct_test_finish("test_las_conformance");
        }
        fprintf(stderr, "CT_SHARED_DATA (%s) is absent: set CT_ALLOW_NO_SHARED=1 to skip\n",
                shared ? shared : "unset");
        return 1;
    }
    snprintf(path, sizeof path, "%s/tests/data/las_reference.tsv", src);
    size_t nref = 0;
    ref_row *refs = load_reference(path, &nref);
    CT_CHECK_MSG(refs && nref >= 59, "reference %s: %zu rows", path, nref);

    snprintf(path, sizeof path, "%s/las/MANIFEST.tsv", shared);
    FILE *mf = fopen(path, "r");
    CT_CHECK_MSG(mf != NULL, "cannot open %s", path);
    if (!mf) {
        free(refs);
        return ct_test_finish("test_las_conformance");
    }
    ct_context *ctx = ct_context_create();
    logbuf lb;
    ct_context_set_logger(ctx, on_log, &lb, CT_LOG_WARN);
    char line[8192];
    int rows = 0, opened = 0, refused = 0;
    while (fgets(line, sizeof line, mf)) {
        char *col[MAXCOL];
        if (strncmp(line, "file\t", 5) == 0) continue;
        int nc = split(line, col, MAXCOL);
        if (nc < 11) continue;
        rows++;
        const char *file = col[0], *ver = col[2], *crs = col[5], *findings = col[10];
        int fmt = atoi(col[3]);
        unsigned long long count = strtoull(col[4], NULL, 10);
        int header_size = atoi(col[7]);
        long nvlr = atol(col[8]);
        snprintf(path, sizeof path, "%s/las/%s", shared, file);
        ct_error_clear(ctx);
        memset(&lb, 0, sizeof lb);
        ct_las_reader *r = NULL;
        ct_status st = ct_las_open(ctx, path, &r);
        const char *msg = ct_error_message(ctx);
        int truncated = strstr(findings, "file truncated") != NULL;
        if (strcmp(ver, "1.5") == 0) {
            refused++;
            CT_CHECK_MSG(st == CT_ERR_UNSUPPORTED && strstr(msg, "1.5") && strstr(msg, file),
                         "%s: expected unsupported-version error, got %d '%s'", file, st, msg);
        } else if (truncated) {
            refused++;
            CT_CHECK_MSG(st == CT_ERR_INPUT && strstr(msg, "truncated") && strstr(msg, file),
                         "%s: expected truncation error, got %d '%s'", file, st, msg);
            /* and with allow_truncated, whatever is complete can be read */
            ct_error_clear(ctx);
            ct_las_open_options o = {1, 0};
            ct_las_reader *rt = NULL;
            CT_CHECK_MSG(ct_las_open_ex(ctx, path, &o, &rt) == CT_OK, "%s: allow_truncated: %s", file,
                         ct_error_message(ctx));
            if (rt) {
                const ct_las_header *h = ct_las_get_header(rt);
                CT_CHECK(h->point_count < count);
                CT_CHECK(h->offset_to_points + h->point_count * h->record_length <= h->file_size);
                ct_las_close(rt);
            }
        } else {
            CT_CHECK_MSG(st == CT_OK, "%s: open failed: %s", file, msg);
            if (st == CT_OK) {
                opened++;
                const ct_las_header *h = ct_las_get_header(r);
                char v[16];
                snprintf(v, sizeof v, "%u.%u", h->version_major, h->version_minor);
                CT_CHECK_MSG(strcmp(v, ver) == 0, "%s: version %s vs %s", file, v, ver);
                CT_CHECK_MSG(h->point_format == fmt, "%s: format %d vs %d", file, h->point_format, fmt);
                CT_CHECK_MSG(h->point_count == count, "%s: count %llu vs %llu", file,
                             (unsigned long long)h->point_count, count);
                CT_CHECK_MSG(h->header_size == header_size, "%s: header size", file);
                if (strstr(findings, "VLRs end at") == NULL)
                    CT_CHECK_MSG((long)h->nvlrs == nvlr, "%s: %zu VLRs vs %ld", file, h->nvlrs, nvlr);
                else
                    CT_CHECK_MSG((long)h->nvlrs < nvlr && lb.warnings > 0,
                                 "%s: broken VLR walk should keep fewer VLRs with a warning", file);
                const char *extra = nc > 9 ? col[9] : "";
                int eb = atoi(extra);
                if (strstr(extra, "extra bytes")) CT_CHECK_MSG(h->extra_bytes == eb, "%s: extra bytes %u vs %d", file, h->extra_bytes, eb);
                else CT_CHECK_MSG(h->extra_bytes == 0, "%s: extra bytes %u", file, h->extra_bytes);
                const char *ev = strstr(extra, "EVLR");
                if (ev) {
                    const char *q = ev - 1;
                    while (q > extra && q[-1] >= '0' && q[-1] <= '9') q--;
                    CT_CHECK_MSG(h->nevlrs == (size_t)atoi(q), "%s: %zu EVLRs vs '%s'", file, h->nevlrs, extra);
                } else {
                    CT_CHECK_MSG(h->nevlrs == 0, "%s: %zu EVLRs", file, h->nevlrs);
                }
                check_crs(file, crs, h);
                check_points(file, r, find_ref(refs, nref, file), ctx);
                if (strcmp(file, "lasr_malformed_extrabytes.las") == 0)
                    CT_CHECK_MSG(lb.warnings > 0 && h->nextra_dims == 0, "%s: expected a warning", file);
                if (strcmp(file, "pdal_extrabytes.las") == 0) CT_CHECK(h->nextra_dims > 1);
                if (strcmp(file, "laspy_append-bug_pdrf8.las") == 0) CT_CHECK(h->nextra_dims == 2);
            }
        }
        ct_las_close(r);
    }
    fclose(mf);
    source_and_info(ctx, shared, &lb);
    CT_CHECK_MSG(rows == 59, "MANIFEST has %d rows, expected 59", rows);
    printf("%d files: %d opened, %d refused as expected\n", rows, opened, refused);
    ct_context_destroy(ctx);
    free(refs);
    return ct_test_finish("test_las_conformance");
}
