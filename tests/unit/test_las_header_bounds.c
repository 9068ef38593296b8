/* ct_las_header_box and ct_las_points_within_header (src/io/las_header_bounds.c), on
 * which readers.lidar passes a LAS file over unread: on files made here (bounds that hold
 * the points, stale bounds, the last point outside them, NaN or inverted bounds, no
 * points) and on every readable file of the LAS conformance set, where the sample must
 * agree with a scan of every point (exactly, for files of 64 points or fewer; a file
 * whose points all lie within its bounds must always be trusted). Also
 * ct_las_z_beyond_header: damaged z scale or offset found, no real file refused. */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "citytiler/context.h"
#include "citytiler/las.h"
#include "ct_test.h"
#include "ct_test_las.h"

static void put_u32(unsigned char *p, uint32_t v) {
    for (int k = 0; k < 4; k++) p[k] = (unsigned char)(v >> (8 * k));
}
static void put_f64(unsigned char *p, double v) { memcpy(p, &v, 8); } /* (little-endian hosts) */

/* A LAS 1.2 file of format 1 with n points on a 1 m grid from (x0, y0), scale 0.01, whose
 * header says bounds b (min x, min y, max x, max y). Point `odd` (n: none) goes 5 km east. */
static int write_las(const char *path, size_t n, double x0, double y0, const double b[4], size_t odd) {
    double *x = malloc((n ? n : 1) * sizeof *x), *y = malloc((n ? n : 1) * sizeof *y), *z = malloc((n ? n : 1) * sizeof *z);
    uint8_t *c = malloc(n ? n : 1);
    int ok = x && y && z && c;
    for (size_t i = 0; ok && i < n; i++) {
        x[i] = x0 + (double)(i % 40) + (i == odd ? 5000.0 : 0.0);
        y[i] = y0 + (double)(i / 40);
        z[i] = 5.0;
        c[i] = 2;
    }
    const double box[6] = {b[0], b[1], 0.0, b[2], b[3], 10.0};
    ok = ok && ct_test_write_las(path, x, y, z, c, n, box);
    free(x);
    free(y);
    free(z);
    free(c);
    return ok;
}

/* ct_las_points_within_header of a file made by write_las (-1: it could not be made or opened). */
static int trusted(ct_context *ctx, const char *path, size_t n, double x0, double y0, const double b[4], size_t odd,
                   double box[4], int *has_box) {
    if (!write_las(path, n, x0, y0, b, odd)) return -1;
    ct_las_reader *r = NULL;
    if (ct_las_open(ctx, path, &r) != CT_OK) return -1;
    *has_box = ct_las_header_box(r, box);
    int t = ct_las_points_within_header(r);
    ct_las_close(r);
    return t;
}

static void made_here(ct_context *ctx, const char *dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/made.las", dir);
    const double x0 = 85000.0, y0 = 447000.0;
    const size_t n = 1000; /* 40 x 25 m */
    const double right[4] = {x0, y0, x0 + 39.0, y0 + 24.0};
    double box[4];
    int has = 0;
    /* Bounds that hold the points: a box a little wider than them, trusted. */
    CT_CHECK(trusted(ctx, path, n, x0, y0, right, n, box, &has) == 1);
    CT_CHECK(has && box[0] < x0 && box[0] > x0 - 0.1 && box[2] > x0 + 39.0 && box[2] < x0 + 39.1);
    CT_CHECK(box[1] < y0 && box[1] > y0 - 0.1 && box[3] > y0 + 24.0 && box[3] < y0 + 24.1);
    /* Bounds rounded by the writer to the scale (min a unit above the first point): trusted. */
    const double rounded[4] = {x0 + 0.01, y0 + 0.01, x0 + 38.99, y0 + 23.99};
    CT_CHECK(trusted(ctx, path, n, x0, y0, rounded, n, box, &has) == 1);
    /* Stale bounds, 10 km away from the points: not trusted. */
    const double stale[4] = {x0 + 10000.0, y0 + 10000.0, x0 + 10039.0, y0 + 10024.0};
    CT_CHECK(trusted(ctx, path, n, x0, y0, stale, n, box, &has) == 0);
    CT_CHECK(has && box[0] > x0 + 9999.0);
    /* The last point appended outside the bounds (a header not updated): not trusted. */
    CT_CHECK(trusted(ctx, path, n, x0, y0, right, n - 1, box, &has) == 0);
    /* The first one too. */
    CT_CHECK(trusted(ctx, path, n, x0, y0, right, 0, box, &has) == 0);
    /* A file of 64 points or fewer is read whole: any point outside is seen. */
    const double small[4] = {x0, y0, x0 + 39.0, y0 + 1.0};
    for (size_t odd = 0; odd < 50; odd += 7)
        CT_CHECK_MSG(trusted(ctx, path, 50, x0, y0, small, odd, box, &has) == 0, "point %zu of 50 outside", odd);
    CT_CHECK(trusted(ctx, path, 50, x0, y0, small, 50, box, &has) == 1);
    /* A file passed over gives its descriptor back (ct_las_release_file): its header
     * stays, reading its points fails with a message, and the descriptor is free. */
    CT_CHECK(trusted(ctx, path, n, x0, y0, right, n, box, &has) == 1);
    ct_las_reader *r = NULL;
    CT_CHECK(ct_las_open(ctx, path, &r) == CT_OK);
    if (r) {
        ct_las_points p;
        CT_CHECK(ct_las_points_alloc(ctx, 8, CT_LAS_XYZ, &p) == CT_OK);
        CT_CHECK(ct_las_read_points(ctx, r, 0, 8, &p) == CT_OK && p.count == 8);
        int probe = dup(0), next_before = probe; /* (the lowest free descriptor now) */
        if (probe >= 0) close(probe);
        ct_las_release_file(r);
        probe = dup(0);
        CT_CHECK_MSG(probe >= 0 && probe < next_before, "descriptor %d free after the release (before: %d)", probe,
                     next_before);
        if (probe >= 0) close(probe);
        ct_las_release_file(r); /* (twice: nothing more) */
        CT_CHECK(ct_las_get_header(r)->point_count == n && strcmp(ct_las_path(r), path) == 0);
        ct_error_clear(ctx);
        CT_CHECK(ct_las_read_points(ctx, r, 0, 8, &p) == CT_ERR_USAGE);
        CT_CHECK(strstr(ct_error_message(ctx), "a file passed over") != NULL);
        ct_error_clear(ctx);
        ct_las_points_free(&p);
        ct_las_close(r);
    }
    /* NaN bounds, inverted bounds: no box, not trusted. */
    const double nan_b[4] = {NAN, y0, x0 + 39.0, y0 + 24.0};
    CT_CHECK(trusted(ctx, path, n, x0, y0, nan_b, n, box, &has) == 0 && !has);
    const double inverted[4] = {x0 + 39.0, y0, x0, y0 + 24.0};
    CT_CHECK(trusted(ctx, path, n, x0, y0, inverted, n, box, &has) == 0 && !has);
    /* No points: nothing contradicts the bounds. */
    CT_CHECK(trusted(ctx, path, 0, x0, y0, right, 0, box, &has) == 1 && has);
    unlink(path);
}

/* A LAS 1.2 file of format 1 with 1000 points (z = 0 to 25 m at scale 0.01, raw) whose
 * header says z scale zscale, z offset zoff and z bounds zmin..zmax; then
 * ct_las_z_beyond_header on it (-1: not made or opened). */
static int z_beyond(ct_context *ctx, const char *path, double zscale, double zoff, double zmin, double zmax,
                    uint64_t *at, double v[3]) {
    const double b[4] = {85000.0, 447000.0, 85039.0, 447024.0};
    if (!write_las(path, 1000, b[0], b[1], b, 1000)) return -1;
    FILE *f = fopen(path, "r+b");
    unsigned char rec[4];
    int ok = f != NULL;
    for (size_t i = 0; ok && i < 1000; i++) { /* z of point i: (i % 26) m */
        put_u32(rec, (uint32_t)((i % 26) * 100));
        ok = fseek(f, (long)(227 + 28 * i + 8), SEEK_SET) == 0 && fwrite(rec, 1, 4, f) == 4;
    }
    unsigned char h[8];
    const struct { long at; double v; } fields[] = {{147, zscale}, {171, zoff}, {211, zmax}, {219, zmin}};
    for (size_t k = 0; ok && k < 4; k++) {
        put_f64(h, fields[k].v);
        ok = fseek(f, fields[k].at, SEEK_SET) == 0 && fwrite(h, 1, 8, f) == 8;
    }
    if (f && fclose(f) != 0) ok = 0;
    ct_las_reader *r = NULL;
    if (!ok || ct_las_open(ctx, path, &r) != CT_OK) return -1;
    int beyond = ct_las_z_beyond_header(r, at, v);
    ct_las_close(r);
    return beyond;
}

/* ct_las_z_beyond_header: damaged z scale or offset against bounds that hold the points. */
static void z_bounds(ct_context *ctx, const char *dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/z.las", dir);
    uint64_t at = 0;
    double v[3] = {0, 0, 0};
    /* The header right: not beyond. */
    CT_CHECK(z_beyond(ctx, path, 0.01, 0, 0, 25, &at, v) == 0);
    /* Bounds a few metres off (writers round, tools crop): still not. */
    CT_CHECK(z_beyond(ctx, path, 0.01, 0, 3, 20, &at, v) == 0);
    /* z scale 10 times too large: roofs up to 250 m against bounds 0..25. The first sampled
     * point beyond 25 + 25 m is named: point 15 (every 15th is sampled; z 15 m, 150 m read). */
    CT_CHECK(z_beyond(ctx, path, 0.1, 0, 0, 25, &at, v) == 1);
    CT_CHECK_MSG(at == 15 && fabs(v[2] - 150.0) < 1e-9 && fabs(v[0] - 85015.0) < 1e-6, "point %llu at z %g",
                 (unsigned long long)at, v[2]);
    /* An offset of 1e5 m, up or down. */
    CT_CHECK(z_beyond(ctx, path, 0.01, 1e5, 0, 25, &at, v) == 1 && at == 0 && fabs(v[2] - 1e5) < 1e-6);
    CT_CHECK(z_beyond(ctx, path, 0.01, -1e5, 0, 25, &at, v) == 1 && at == 0);
    /* Bounds in record units (0..2500 for 0..25 m at scale 0.01): taken as such. */
    CT_CHECK(z_beyond(ctx, path, 0.01, 0, 0, 2500, &at, v) == 0);
    /* Bounds never filled in (both zero), NaN or inverted: not checked. */
    CT_CHECK(z_beyond(ctx, path, 0.1, 0, 0, 0, &at, v) == 0);
    CT_CHECK(z_beyond(ctx, path, 0.1, 0, NAN, 25, &at, v) == 0);
    CT_CHECK(z_beyond(ctx, path, 0.1, 0, 25, 0, &at, v) == 0);
    unlink(path);
}

/* Every readable LAS file of the conformance set: the sample against a scan of every point. */
static void conformance(ct_context *ctx, const char *dir) {
    DIR *d = opendir(dir);
    CT_CHECK_MSG(d != NULL, "cannot read %s", dir);
    if (!d) return;
    struct dirent *e;
    int files = 0, trusted_n = 0, outside = 0;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 4, ".las") != 0) continue;
        char path[8192];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= sizeof path) continue;
        ct_las_reader *r = NULL;
        if (ct_las_open(ctx, path, &r) != CT_OK) {
            ct_error_clear(ctx);
            continue;
        }
        files++;
        double box[4];
        int has = ct_las_header_box(r, box);
        const ct_las_header *h = ct_las_get_header(r);
        int all_in = has;
        uint64_t n = h->point_count;
        ct_las_points p;
        if (has && n > 0 && ct_las_points_alloc(ctx, 4096, CT_LAS_XYZ, &p) == CT_OK) {
            for (uint64_t first = 0; first < n && all_in >= 0; first += 4096) {
                size_t cnt = (size_t)(n - first < 4096 ? n - first : 4096);
                if (ct_las_read_points(ctx, r, first, cnt, &p) != CT_OK) {
                    ct_error_clear(ctx);
                    all_in = -1; /* unreadable records: the sample's answer is not checked */
                    break;
                }
                for (size_t i = 0; i < cnt; i++)
                    if (!(p.x[i] >= box[0] && p.x[i] <= box[2] && p.y[i] >= box[1] && p.y[i] <= box[3])) all_in = 0;
            }
            ct_las_points_free(&p);
        }
        int t = ct_las_points_within_header(r);
        trusted_n += t;
        outside += all_in == 0 && has;
        if (all_in == 1)
            CT_CHECK_MSG(t == 1, "%s: every point within its bounds, yet not trusted", e->d_name);
        if (all_in == 0 && n <= 64)
            CT_CHECK_MSG(t == 0, "%s: %llu points, some outside its bounds, yet trusted", e->d_name,
                         (unsigned long long)n);
        if (!has) CT_CHECK_MSG(t == 0, "%s: no usable bounds, yet trusted", e->d_name);
        /* Real surveys' heights are never refused (laspy_simple1_3.las has its bounds in
         * record units: taken as such). */
        uint64_t at = 0;
        double v[3];
        CT_CHECK_MSG(!ct_las_z_beyond_header(r, &at, v), "%s: point %llu at z %g refused against header z %g..%g",
                     e->d_name, (unsigned long long)at, v[2], h->min[2], h->max[2]);
        ct_las_close(r);
    }
    closedir(d);
    printf("%d readable files: %d trusted, %d with points outside their header's bounds\n", files, trusted_n, outside);
    CT_CHECK_MSG(files >= 40, "%d readable files in %s", files, dir);
}

int main(void) {
    ct_context *ctx = ct_context_create();
    CT_CHECK(ctx != NULL);
    if (!ctx) return ct_test_finish("test_las_header_bounds");
    char dir[] = "/tmp/ct_las_bounds_XXXXXX";
    CT_CHECK(mkdtemp(dir) != NULL);
    made_here(ctx, dir);
    z_bounds(ctx, dir);
    rmdir(dir);
    const char *shared = ct_test_env("CT_SHARED_DATA", NULL);
    struct stat sb;
    char las[4096];
    snprintf(las, sizeof las, "%s/las", shared ? shared : "");
    if (shared && stat(las, &sb) == 0) {
        conformance(ctx, las);
    } else if (strcmp(ct_test_env("CT_ALLOW_NO_SHARED", "0"), "1") != 0) {
        fprintf(stderr, "CT_SHARED_DATA (%s) has no las/: set CT_ALLOW_NO_SHARED=1 to skip that part\n",
                shared ? shared : "unset");
        ct_test_failures++;
    }
    ct_context_destroy(ctx);
    return ct_test_finish("test_las_header_bounds");
}
