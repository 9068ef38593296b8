/* filters.simplify: on a row of 10 terraced houses whose shared walls carry noisy extra
 * vertices (and a T-junction where one house is deeper), simplification with
 * keep_shared_walls creates no overlap and no gap between neighbours, keeps every
 * output valid, and changes each area by at most perimeter x tolerance; simplifying each
 * house alone is measured for comparison. On the Delft sample (through the pipeline
 * API) no pair of footprints that did not overlap overlaps afterwards, every output is
 * valid, and areas stay within the same bound; also with snap_tolerance = tolerance = 1 m,
 * where snapping made 78 footprints overlap a neighbour. Snapping across a gap (two
 * terraced houses and one 1 m north of them) moves no point beyond tolerance and makes
 * no overlap: the footprints it would have made overlap keep their input. */
#include <geos_c.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "citytiler/clean.h"
#include "citytiler/pipeline.h"
#include "citytiler/simplify.h"
#include "ct_test.h"

#define NH 10

static size_t npoints(const ct_footprint *f) {
    size_t n = 0;
    for (uint32_t i = 0; i < f->nparts; i++) n += f->parts[i].ring_start[f->parts[i].nrings];
    return n;
}

static double overlap_area(GEOSContextHandle_t h, const ct_footprint *a, const ct_footprint *b) {
    GEOSGeometry *ga = ct_geos_from_footprint(h, a), *gb = ct_geos_from_footprint(h, b);
    double area = 0;
    GEOSGeometry *x = ga && gb ? GEOSIntersection_r(h, ga, gb) : NULL;
    if (x) GEOSArea_r(h, x, &area);
    else area = INFINITY;
    if (x) GEOSGeom_destroy_r(h, x);
    if (ga) GEOSGeom_destroy_r(h, ga);
    if (gb) GEOSGeom_destroy_r(h, gb);
    return area;
}

/* Area of the union of n footprints and its number of holes + parts beyond one. */
static double union_area(GEOSContextHandle_t h, const ct_footprint *f, size_t n, int *gaps) {
    GEOSGeometry **g = calloc(n, sizeof *g);
    for (size_t i = 0; i < n; i++) g[i] = ct_geos_from_footprint(h, &f[i]);
    GEOSGeometry *c = GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, g, (unsigned)n);
    GEOSGeometry *u = GEOSUnaryUnion_r(h, c);
    double a = 0;
    GEOSArea_r(h, u, &a);
    *gaps = 0;
    int np = GEOSGetNumGeometries_r(h, u);
    *gaps += np - 1;
    for (int i = 0; i < np; i++) *gaps += GEOSGetNumInteriorRings_r(h, GEOSGetGeometryN_r(h, u, i));
    GEOSGeom_destroy_r(h, u);
    GEOSGeom_destroy_r(h, c);
    free(g);
    return a;
}

/* House i spans x in [6i, 6i+6]; walls x = 6i carry noise vertices shared by both
 * neighbours; the front (y = 0) and back are noisy too. House 4 is 2 m deeper, so
 * house 5's back-left corner is a T-junction on house 4's wall, which house 4 does not
 * have as a vertex. */
static void build_row(ct_footprint *row) {
    double wall_noise[NH + 1][8];
    unsigned seed = 12345;
    for (int w = 0; w <= NH; w++)
        for (int k = 0; k < 8; k++) {
            seed = seed * 1103515245u + 12345u;
            wall_noise[w][k] = ((double)((seed >> 16) & 0x7fff) / 32767.0 - 0.5) * 0.06; /* +-3 cm */
        }
    for (int i = 0; i < NH; i++) {
        double x0 = 85000 + 6.0 * i, x1 = x0 + 6.0, y0 = 447000, d = i == 4 ? 12.0 : 10.0;
        double dl = (i == 5) ? 10.0 : d, dr = (i == 3) ? 10.0 : d; /* depths of the walls to the left/right */
        (void)dl;
        (void)dr;
        double xy[2 * 64];
        uint32_t n = 0;
#define PT(X, Y) do { xy[2 * n] = (X); xy[2 * n + 1] = (Y); n++; } while (0)
        /* front, left to right, noisy */
        PT(x0, y0);
        for (int k = 1; k < 4; k++) PT(x0 + 1.5 * k, y0 + 0.02 * ((k & 1) ? 1 : -1));
        /* right wall x1 upwards: shared with house i+1 over the common depth */
        double hr = i + 1 < NH ? fmin(d, (i + 1 == 4) ? 12.0 : 10.0) : d;
        PT(x1, y0);
        for (int k = 1; k < 8; k++) PT(x1 + wall_noise[i + 1][k], y0 + hr * k / 8.0);
        PT(x1, y0 + hr);
        if (hr < d) PT(x1, y0 + d); /* house 4's right wall goes on past house 5 */
        /* back, right to left */
        for (int k = 3; k >= 1; k--) PT(x0 + 1.5 * k, y0 + d + 0.02 * ((k & 1) ? 1 : -1));
        double hl = i > 0 ? fmin(d, (i - 1 == 4) ? 12.0 : 10.0) : d;
        PT(x0, y0 + d);
        if (hl < d) PT(x0, y0 + hl); /* house 4's left wall: house 3 ends at 10 m */
        for (int k = 7; k >= 1; k--) PT(x0 + wall_noise[i][k], y0 + hl * k / 8.0);
#undef PT
        row[i].nparts = 1;
        row[i].parts = calloc(1, sizeof(ct_polygon));
        row[i].parts[0].nrings = 1;
        row[i].parts[0].ring_start = malloc(2 * sizeof(uint32_t));
        row[i].parts[0].ring_start[0] = 0;
        row[i].parts[0].ring_start[1] = n;
        row[i].parts[0].xy = malloc(2 * n * sizeof(double));
        memcpy(row[i].parts[0].xy, xy, 2 * n * sizeof(double));
    }
}

static void terraced_row(void) {
    GEOSContextHandle_t h = GEOS_init_r();
    ct_simplifier *s = ct_simplifier_create();
    ct_footprint row[NH], out[NH], alone[NH];
    build_row(row);
    const ct_footprint *in[NH];
    for (int i = 0; i < NH; i++) in[i] = &row[i];
    int gaps0 = 0;
    double u0 = union_area(h, row, NH, &gaps0);
    for (int i = 0; i + 1 < NH; i++)
        CT_CHECK_MSG(overlap_area(h, &row[i], &row[i + 1]) < 1e-9, "input houses %d/%d overlap", i, i + 1);
    CT_CHECK_MSG(gaps0 == 0, "input row has %d gaps", gaps0);
    double tol = 0.1;
    unsigned char kept[NH];
    ct_simplify_result r = ct_simplify_group(s, tol, 0.001, in, NH, out, kept);
    for (int i = 0; i < NH; i++) CT_CHECK_MSG(!kept[i], "house %d kept unsimplified", i);
    CT_CHECK_MSG(r == CT_SIMPLIFY_OK, "group: %d (%s)", (int)r, ct_simplifier_reason(s));
    size_t p0 = 0, p1 = 0, pa = 0;
    double worst_ov = 0, worst_ov_alone = 0;
    for (int i = 0; i < NH; i++) {
        p0 += npoints(&row[i]);
        p1 += npoints(&out[i]);
        GEOSGeometry *g = ct_geos_from_footprint(h, &out[i]);
        CT_CHECK_MSG(GEOSisValid_r(h, g) == 1, "house %d invalid after simplification", i);
        GEOSGeom_destroy_r(h, g);
        double a0 = ct_footprint_area(&row[i]), a1 = ct_footprint_area(&out[i]);
        CT_CHECK_MSG(fabs(a1 - a0) <= ct_footprint_perimeter(&row[i]) * tol, "house %d: area %.4f -> %.4f", i, a0, a1);
        CT_CHECK(ct_simplify_footprint(s, tol, &row[i], &alone[i]) == CT_SIMPLIFY_OK);
        pa += npoints(&alone[i]);
    }
    for (int i = 0; i + 1 < NH; i++) {
        double ov = overlap_area(h, &out[i], &out[i + 1]), ova = overlap_area(h, &alone[i], &alone[i + 1]);
        if (ov > worst_ov) worst_ov = ov;
        if (ova > worst_ov_alone) worst_ov_alone = ova;
        CT_CHECK_MSG(ov < 1e-9, "houses %d/%d overlap by %.6f m2 after simplification", i, i + 1, ov);
    }
    int gaps1 = 0, gapsa = 0;
    double u1 = union_area(h, out, NH, &gaps1), ua = union_area(h, alone, NH, &gapsa);
    double sum1 = 0;
    for (int i = 0; i < NH; i++) sum1 += ct_footprint_area(&out[i]);
    CT_CHECK_MSG(gaps1 == 0, "%d gaps between simplified houses", gaps1);
    CT_CHECK_MSG(fabs(sum1 - u1) < 1e-6, "areas %.6f vs union %.6f: overlaps", sum1, u1);
    CT_CHECK(p1 < p0);
    fprintf(stderr,
            "terraced row (tolerance %.2f m): %zu -> %zu vertices (shared walls kept), union %.3f -> %.3f m2, gaps %d;\n"
            "  each house alone: %zu vertices, worst neighbour overlap %.4f m2, union %.3f m2, gaps/holes %d\n",
            tol, p0, p1, u0, u1, gaps1, pa, worst_ov_alone, ua, gapsa);
    for (int i = 0; i < NH; i++) {
        ct_footprint_free(&row[i]);
        ct_footprint_free(&out[i]);
        ct_footprint_free(&alone[i]);
    }
    ct_simplifier_destroy(s);
    GEOS_finish_r(h);
}

static ct_footprint ring(const double *xy, uint32_t n) {
    ct_footprint f = {1, calloc(1, sizeof(ct_polygon))};
    f.parts[0].nrings = 1;
    f.parts[0].ring_start = malloc(2 * sizeof(uint32_t));
    f.parts[0].xy = malloc(2 * n * sizeof(double));
    f.parts[0].ring_start[0] = 0;
    f.parts[0].ring_start[1] = n;
    memcpy(f.parts[0].xy, xy, 2 * n * sizeof(double));
    return f;
}

static ct_footprint box(double x0, double y0, double x1, double y1) {
    double xy[8] = {x0, y0, x1, y0, x1, y1, x0, y1};
    return ring(xy, 4);
}

static double hausdorff(GEOSContextHandle_t h, const ct_footprint *a, const ct_footprint *b) {
    GEOSGeometry *ga = ct_geos_from_footprint(h, a), *gb = ct_geos_from_footprint(h, b);
    double d = INFINITY;
    if (!ga || !gb || !GEOSHausdorffDistance_r(h, ga, gb, &d)) d = INFINITY;
    if (ga) GEOSGeom_destroy_r(h, ga);
    if (gb) GEOSGeom_destroy_r(h, gb);
    return d;
}

/* Two terraced houses (shared wall at x = 6.6) and a house 1 m north of them whose
 * corner (x = 7) lies 0.4 m past their shared wall: synthcity seed 2's b0000001, 2 and
 * 17. With snap_tolerance 1.5, snapping inserted each side's corners into the other's
 * facing wall, moving both walls 1 m towards each other: the north house overlapped
 * both (8.8 m2 of area gained) even with tolerance 0. Now no point moves beyond
 * tolerance, no two results overlap, and a footprint kept unsimplified is its input. */
static void snap_across_gap(double tol, double snap) {
    GEOSContextHandle_t h = GEOS_init_r();
    ct_simplifier *s = ct_simplifier_create();
    ct_footprint in[3] = {box(0, 0, 6.6, 11), box(6.6, 0, 14.1, 11), box(-4, 12, 7, 19.3)}, out[3];
    const ct_footprint *pin[3] = {&in[0], &in[1], &in[2]};
    unsigned char kept[3];
    ct_simplify_result r = ct_simplify_group(s, tol, snap, pin, 3, out, kept);
    CT_CHECK_MSG(r == CT_SIMPLIFY_OK, "gap %g/%g: group: %d (%s)", tol, snap, (int)r, ct_simplifier_reason(s));
    int nkept = 0;
    for (int i = 0; i < 3 && r == CT_SIMPLIFY_OK; i++) {
        double d = hausdorff(h, &in[i], &out[i]), a0 = ct_footprint_area(&in[i]), a1 = ct_footprint_area(&out[i]);
        CT_CHECK_MSG(d <= tol + 1e-6, "gap %g/%g: house %d moved %.3f m", tol, snap, i, d);
        CT_CHECK_MSG(fabs(a1 - a0) <= ct_footprint_perimeter(&in[i]) * tol + 1e-6, "gap %g/%g: house %d area %.3f -> %.3f", tol,
                     snap, i, a0, a1);
        for (int j = i + 1; j < 3; j++) {
            double ov = overlap_area(h, &out[i], &out[j]);
            CT_CHECK_MSG(ov < 1e-6, "gap %g/%g: houses %d/%d overlap by %.3f m2", tol, snap, i, j, ov);
        }
        if (kept[i]) {
            nkept++;
            CT_CHECK_MSG(npoints(&out[i]) == 4 && memcmp(out[i].parts[0].xy, in[i].parts[0].xy, 8 * sizeof(double)) == 0,
                         "gap %g/%g: house %d kept but not its input", tol, snap, i);
            const char *detail = NULL;
            size_t other = 0;
            const char *why = ct_simplifier_refusal(s, (size_t)i, &detail, &other);
            CT_CHECK_MSG(why && strcmp(why, "would overlap a neighbour") == 0 && other < 3 && detail && *detail,
                         "gap %g/%g: house %d: reason '%s'", tol, snap, i, why ? why : "(null)");
        }
    }
    if (snap >= 1) CT_CHECK_MSG(nkept > 0, "gap %g/%g: snapping across the gap should have been refused", tol, snap);
    fprintf(stderr, "snap across a 1 m gap, tolerance %g m, snap_tolerance %g m: %d of 3 kept unsimplified\n", tol, snap,
            nkept);
    for (int i = 0; i < 3; i++) {
        ct_footprint_free(&in[i]);
        ct_footprint_free(&out[i]);
    }
    ct_simplifier_destroy(s);
    GEOS_finish_r(h);
}

/* A neighbour's corner 0.8 mm off a house's wall: the default snap_tolerance (1 mm)
 * inserts it, moving the wall 0.8 mm, beyond a tolerance of 0.5 mm: that house keeps its
 * input (before, it came out 0.8 mm wider); the neighbour is unchanged. */
static void snap_beyond_tolerance(void) {
    ct_simplifier *s = ct_simplifier_create();
    double bxy[8] = {5, 0, 10, 0, 10, 4, 5.0008, 4};
    ct_footprint in[2] = {box(0, 0, 5, 10), ring(bxy, 4)}, out[2];
    const ct_footprint *pin[2] = {&in[0], &in[1]};
    unsigned char kept[2];
    ct_simplify_result r = ct_simplify_group(s, 0.0005, 0.001, pin, 2, out, kept);
    CT_CHECK_MSG(r == CT_SIMPLIFY_OK && kept[0] && !kept[1], "off by 0.8 mm: %d, kept %d %d", (int)r, kept[0], kept[1]);
    const char *detail = NULL, *why = r == CT_SIMPLIFY_OK ? ct_simplifier_refusal(s, 0, &detail, NULL) : NULL;
    CT_CHECK_MSG(why && strcmp(why, "boundary would move more than tolerance") == 0, "off by 0.8 mm: '%s'",
                 why ? why : "(null)");
    for (int i = 0; i < 2 && r == CT_SIMPLIFY_OK; i++)
        CT_CHECK_MSG(npoints(&out[i]) == 4 && memcmp(out[i].parts[0].xy, in[i].parts[0].xy, 8 * sizeof(double)) == 0,
                     "off by 0.8 mm: footprint %d changed", i);
    for (int i = 0; i < 2; i++) {
        ct_footprint_free(&in[i]);
        ct_footprint_free(&out[i]);
    }
    ct_simplifier_destroy(s);
}

static int boxes_touch(const double *a, const double *b) {
    return a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3];
}

static ct_dataset *run_pipeline(const char *name, const char *stages, int threads) {
    const char *src = ct_test_env("CT_SOURCE_DIR", ".");
    const char *bin = ct_test_env("CT_BINARY_DIR", ".");
    char dir[4096], path[4200], json[8192];
    snprintf(dir, sizeof dir, "%s/test-out", bin);
    mkdir(dir, 0777);
    snprintf(path, sizeof path, "%s/simplify-%s.json", dir, name);
    snprintf(json, sizeof json,
             "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"%s/data-samples/delft/bgt_pand.gpkg\","
             " \"id_field\": \"gml_id\"}%s]}",
             src, stages);
    FILE *f = fopen(path, "w");
    if (!f) return NULL;
    fputs(json, f);
    fclose(f);
    ct_context *ctx = ct_context_create();
    ct_context_set_threads(ctx, threads);
    ct_pipeline *p = NULL;
    ct_dataset *ds = NULL;
    ct_status st = ct_pipeline_load(ctx, path, NULL, 0, &p);
    if (st == CT_OK) st = ct_pipeline_run(ctx, p, &ds);
    CT_CHECK_MSG(st == CT_OK, "%s: %s", name, ct_error_message(ctx));
    ct_pipeline_destroy(p);
    ct_context_destroy(ctx);
    return ds;
}

/* snap < 0: the default snap_tolerance. */
static void delft(double tol, int shared, double snap) {
    char stages[256], name[64], snap_opt[64] = "", snap_txt[32] = "default";
    if (snap >= 0) {
        snprintf(snap_opt, sizeof snap_opt, ", \"snap_tolerance\": %g", snap);
        snprintf(snap_txt, sizeof snap_txt, "%g m", snap);
    }
    snprintf(stages, sizeof stages, ", {\"type\": \"filters.clean\"}, {\"type\": \"filters.simplify\", \"tolerance\": %g, "
             "\"keep_shared_walls\": %s%s}", tol, shared ? "true" : "false", snap_opt);
    snprintf(name, sizeof name, snap >= 0 ? "delft-%g-%d-snap%g" : "delft-%g-%d", tol, shared, snap);
    ct_dataset *before = run_pipeline("delft-clean", ", {\"type\": \"filters.clean\"}", 1);
    ct_dataset *after = run_pipeline(name, stages, 2);
    ct_dataset *after1 = run_pipeline(name, stages, 1);
    CT_CHECK(before && after && after1);
    if (!before || !after || !after1) goto done;
    CT_CHECK(before->nbuildings == after->nbuildings && after->nbuildings == after1->nbuildings);
    GEOSContextHandle_t h = GEOS_init_r();
    size_t n = before->nbuildings, new_overlaps = 0, pairs = 0, p0 = 0, p1 = 0, same_threads = 1;
    double *bb = malloc(4 * n * sizeof *bb);
    for (size_t i = 0; i < n; i++) {
        const ct_footprint *a = &before->buildings[i].footprint, *b = &after->buildings[i].footprint;
        CT_CHECK(strcmp(before->buildings[i].id, after->buildings[i].id) == 0);
        ct_footprint_bbox(a, bb + 4 * i);
        GEOSGeometry *g = ct_geos_from_footprint(h, b);
        CT_CHECK_MSG(GEOSisValid_r(h, g) == 1, "%s: %s invalid", name, after->buildings[i].id);
        GEOSGeom_destroy_r(h, g);
        double a0 = ct_footprint_area(a), a1 = ct_footprint_area(b);
        CT_CHECK_MSG(fabs(a1 - a0) <= ct_footprint_perimeter(a) * tol + 1e-6, "%s: %s area %.3f -> %.3f", name,
                     after->buildings[i].id, a0, a1);
        p0 += npoints(a);
        p1 += npoints(b);
        const ct_footprint *c = &after1->buildings[i].footprint;
        if (npoints(b) != npoints(c) || memcmp(b->parts[0].xy, c->parts[0].xy, 2 * npoints(&(ct_footprint){1, b->parts}) * sizeof(double)) != 0)
            same_threads = 0;
    }
    CT_CHECK_MSG(same_threads, "%s: 1 and 2 threads give different footprints", name);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            if (!boxes_touch(bb + 4 * i, bb + 4 * j)) continue;
            pairs++;
            double o0 = overlap_area(h, &before->buildings[i].footprint, &before->buildings[j].footprint);
            double o1 = overlap_area(h, &after->buildings[i].footprint, &after->buildings[j].footprint);
            if (o1 > o0 + 1e-6) {
                new_overlaps++;
                if (shared)
                    fprintf(stderr, "%s: %s / %s overlap %.6f -> %.6f m2\n", name, before->buildings[i].id,
                            before->buildings[j].id, o0, o1);
            }
        }
    if (shared) CT_CHECK_MSG(new_overlaps == 0, "%s: %zu new overlaps", name, new_overlaps);
    fprintf(stderr, "Delft, tolerance %.2f m, keep_shared_walls %s, snap_tolerance %s: %zu -> %zu vertices; %zu neighbour "
            "pairs, %zu new overlaps\n", tol, shared ? "true" : "false", snap_txt, p0, p1,
            pairs, new_overlaps);
    free(bb);
    GEOS_finish_r(h);
done:
    ct_dataset_destroy(before);
    ct_dataset_destroy(after);
    ct_dataset_destroy(after1);
}

int main(void) {
    terraced_row();
    snap_across_gap(1.5, 1.5);
    snap_across_gap(3, 3);
    snap_across_gap(0, 0.001);
    snap_beyond_tolerance();
    delft(0.1, 1, -1);
    delft(0.5, 1, -1);
    delft(1.0, 1, -1);
    delft(1.0, 1, 1.0);
    delft(0.5, 0, -1);
    /* Groups: boxes touching transitively, ordered by first member. */
    {
        double bb[] = {0, 0, 1, 1, 5, 5, 6, 6, 1, 0, 2, 1, 2, 1, 3, 2, 10, 10, 11, 11};
        size_t members[5], start[6];
        size_t ng = ct_bbox_groups(bb, 5, 0.0, members, start);
        CT_CHECK(ng == 3);
        CT_CHECK(start[0] == 0 && start[1] == 3 && members[0] == 0 && members[1] == 2 && members[2] == 3);
        CT_CHECK(members[3] == 1 && members[4] == 4);
    }
    return ct_test_finish("test_simplify");
}
