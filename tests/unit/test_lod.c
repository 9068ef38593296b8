/* LOD meshes for parent tiles (HLOD):
 *  - the simplified mesh of a building stays within the error bound it was given, both
 *    ways (sampled Hausdorff distance between surfaces);
 *  - on the sample, every parent tile holds fewer triangles than the full-detail leaves
 *    below it, and the coarser the level the fewer triangles. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "citytiler/extrude.h"
#include "citytiler/pipeline.h"
#include "ct_glb_read.h"
#include "ct_test.h"
#include "tiles/lod.h"

/* Squared distance from p to triangle abc (Ericson's closest-point regions). */
static double dist2_tri(const double *p, const double *a, const double *b, const double *c) {
    double ab[3], ac[3], ap[3], q[3];
    for (int k = 0; k < 3; k++) { ab[k] = b[k] - a[k]; ac[k] = c[k] - a[k]; ap[k] = p[k] - a[k]; }
#define DOT(u, v) ((u)[0] * (v)[0] + (u)[1] * (v)[1] + (u)[2] * (v)[2])
    double d1 = DOT(ab, ap), d2 = DOT(ac, ap);
    if (d1 <= 0 && d2 <= 0) { memcpy(q, a, sizeof q); goto out; }
    double bp[3] = {p[0] - b[0], p[1] - b[1], p[2] - b[2]};
    double d3 = DOT(ab, bp), d4 = DOT(ac, bp);
    if (d3 >= 0 && d4 <= d3) { memcpy(q, b, sizeof q); goto out; }
    double vc = d1 * d4 - d3 * d2;
    if (vc <= 0 && d1 >= 0 && d3 <= 0) { double v = d1 / (d1 - d3); for (int k = 0; k < 3; k++) q[k] = a[k] + v * ab[k]; goto out; }
    double cp[3] = {p[0] - c[0], p[1] - c[1], p[2] - c[2]};
    double d5 = DOT(ab, cp), d6 = DOT(ac, cp);
    if (d6 >= 0 && d5 <= d6) { memcpy(q, c, sizeof q); goto out; }
    double vb = d5 * d2 - d1 * d6;
    if (vb <= 0 && d2 >= 0 && d6 <= 0) { double w = d2 / (d2 - d6); for (int k = 0; k < 3; k++) q[k] = a[k] + w * ac[k]; goto out; }
    double va = d3 * d6 - d5 * d4;
    if (va <= 0 && (d4 - d3) >= 0 && (d5 - d6) >= 0) {
        double w = (d4 - d3) / ((d4 - d3) + (d5 - d6));
        for (int k = 0; k < 3; k++) q[k] = b[k] + w * (c[k] - b[k]);
        goto out;
    }
    {
        double den = 1.0 / (va + vb + vc), v = vb * den, w = vc * den;
        for (int k = 0; k < 3; k++) q[k] = a[k] + ab[k] * v + ac[k] * w;
    }
out:
#undef DOT
    return (p[0] - q[0]) * (p[0] - q[0]) + (p[1] - q[1]) * (p[1] - q[1]) + (p[2] - q[2]) * (p[2] - q[2]);
}

/* Largest distance from points sampled on mesh `from` (vertices, edge midpoints, a
 * 4x4 barycentric grid per triangle) to the surface of mesh `to`. */
static double one_sided(const ct_mesh *from, const ct_mesh *to) {
    double worst = 0;
    for (size_t t = 0; t < from->nindices / 3; t++) {
        const double *a = from->pos + 3 * from->idx[3 * t], *b = from->pos + 3 * from->idx[3 * t + 1],
                     *c = from->pos + 3 * from->idx[3 * t + 2];
        for (int i = 0; i <= 4; i++)
            for (int j = 0; i + j <= 4; j++) {
                double u = i / 4.0, v = j / 4.0, w = 1 - u - v, p[3];
                for (int k = 0; k < 3; k++) p[k] = w * a[k] + u * b[k] + v * c[k];
                double best = INFINITY;
                for (size_t s = 0; s < to->nindices / 3; s++) {
                    double d = dist2_tri(p, to->pos + 3 * to->idx[3 * s], to->pos + 3 * to->idx[3 * s + 1],
                                         to->pos + 3 * to->idx[3 * s + 2]);
                    if (d < best) best = d;
                }
                if (best > worst) worst = best;
            }
    }
    return sqrt(worst);
}

/* A prism over the ring xy (n corners, counter-clockwise) from 0 to h. */
static void prism(const double *xy, int n, double h, ct_mesh *out) {
    ct_polygon p;
    p.nrings = 1;
    p.ring_start = malloc(2 * sizeof *p.ring_start);
    p.ring_start[0] = 0;
    p.ring_start[1] = (uint32_t)n;
    p.xy = malloc(2 * (size_t)n * sizeof *p.xy);
    for (int i = 0; i < 2 * n; i++) p.xy[i] = xy[i] + (i % 2 ? 447500 : 85000);
    ct_footprint fp = {1, &p};
    ct_extruder *ex = ct_extruder_create();
    CT_CHECK(ct_extrude_footprint(ex, &fp, 0, h, 1, out) == CT_EXTRUDE_OK);
    ct_extruder_destroy(ex);
    ct_polygon_free(&p);
}

/* A round tower: an n-gon of radius r (with a little noise) extruded to h. */
static void tower(int n, double r, double h, ct_mesh *out) {
    double *xy = malloc(2 * (size_t)n * sizeof *xy);
    CT_CHECK(xy != NULL);
    if (!xy) return;
    for (int i = 0; i < n; i++) {
        double a = 2 * M_PI * i / n, rr = r * (1 + 0.01 * sin(7.0 * a));
        xy[2 * i] = rr * cos(a);
        xy[2 * i + 1] = rr * sin(a);
    }
    prism(xy, n, h, out);
    free(xy);
}

static void check_bound(int n, double r, double h, double bound) {
    ct_mesh full, lod;
    tower(n, r, h, &full);
    double achieved = -1;
    CT_CHECK(ct_lod_simplify_mesh(&full, bound, &lod, &achieved) == 0);
    double d1 = one_sided(&lod, &full), d2 = one_sided(&full, &lod);
    printf("tower %d-gon r=%.0f: %zu -> %zu triangles, bound %.2f m, its own measure %.3f m, sampled Hausdorff %.3f / %.3f m\n",
           n, r, full.nindices / 3, lod.nindices / 3, bound, achieved, d1, d2);
    CT_CHECK_MSG(d1 <= bound * 1.05 + 1e-6 && d2 <= bound * 1.05 + 1e-6, "Hausdorff %.3f/%.3f over the bound %.3f", d1, d2, bound);
    CT_CHECK(lod.nindices <= full.nindices);
    if (bound >= 1.0) CT_CHECK_MSG(lod.nindices < full.nindices, "no simplification at %.2f m", bound);
    ct_mesh_free(&full);
    ct_mesh_free(&lod);
}

/* The mesh's corners welded by equal position: edges (a -> b) of the welded corners,
 * each of which must be met once and once reversed (closed, consistently wound). Also
 * its volume and the area of its level, upward-facing triangles (the roof). */
static int closed_shell(const ct_mesh *m, double *volume, double *roof) {
    size_t nv = m->nverts, nt = m->nindices / 3;
    size_t *id = malloc((nv ? nv : 1) * sizeof *id);
    long *edges = malloc((nt ? 3 * nt : 1) * 2 * sizeof *edges);
    int ok = id && edges;
    for (size_t v = 0; ok && v < nv; v++) {
        id[v] = v;
        for (size_t u = 0; u < v; u++)
            if (memcmp(m->pos + 3 * u, m->pos + 3 * v, 3 * sizeof *m->pos) == 0) {
                id[v] = id[u];
                break;
            }
    }
    *volume = *roof = 0;
    for (size_t t = 0; ok && t < nt; t++) {
        const double *a = m->pos + 3 * m->idx[3 * t], *b = m->pos + 3 * m->idx[3 * t + 1], *c = m->pos + 3 * m->idx[3 * t + 2];
        double u[3], w[3], n[3];
        for (int k = 0; k < 3; k++) { u[k] = b[k] - a[k]; w[k] = c[k] - a[k]; }
        n[0] = u[1] * w[2] - u[2] * w[1];
        n[1] = u[2] * w[0] - u[0] * w[2];
        n[2] = u[0] * w[1] - u[1] * w[0];
        double len = sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
        if (n[2] > 0.999 * len) *roof += len / 2;
        /* volume relative to the first corner (the prism is far from the origin) */
        double pa[3], pb[3], pc[3];
        for (int k = 0; k < 3; k++) { pa[k] = a[k] - m->pos[k]; pb[k] = b[k] - m->pos[k]; pc[k] = c[k] - m->pos[k]; }
        *volume += (pa[0] * (pb[1] * pc[2] - pb[2] * pc[1]) + pa[1] * (pb[2] * pc[0] - pb[0] * pc[2]) +
                    pa[2] * (pb[0] * pc[1] - pb[1] * pc[0])) / 6;
        for (int k = 0; k < 3; k++) {
            edges[2 * (3 * t + (size_t)k)] = (long)id[m->idx[3 * t + (size_t)k]];
            edges[2 * (3 * t + (size_t)k) + 1] = (long)id[m->idx[3 * t + (size_t)(k + 1) % 3]];
        }
    }
    for (size_t e = 0; ok && e < 3 * nt; e++) {
        int same = 0, reverse = 0;
        for (size_t f = 0; f < 3 * nt; f++) {
            same += edges[2 * f] == edges[2 * e] && edges[2 * f + 1] == edges[2 * e + 1];
            reverse += edges[2 * f] == edges[2 * e + 1] && edges[2 * f + 1] == edges[2 * e];
        }
        ok = same == 1 && reverse == 1;
    }
    free(id);
    free(edges);
    return ok;
}

/* A narrow or L-shaped building simplified with a bound wider than it: meshoptimizer
 * folded such buildings into zero-volume walls, dropped their roofs or turned them
 * inside out (the surface stays within the bound). The result must still be a closed,
 * outward shell with at least half the volume and roof of the full mesh. */
static void check_shape(const char *name, const double *xy, int n, double h, double bound, int must_simplify) {
    ct_mesh full, lod;
    prism(xy, n, h, &full);
    double achieved = -1, v0, r0, v1, r1;
    CT_CHECK(ct_lod_simplify_mesh(&full, bound, &lod, &achieved) == 0);
    CT_CHECK_MSG(closed_shell(&full, &v0, &r0), "%s: the full mesh is a closed shell", name);
    int closed = closed_shell(&lod, &v1, &r1);
    printf("%s, bound %.1f m: %zu -> %zu triangles, volume %.0f -> %.0f m3, roof %.0f -> %.0f m2\n", name, bound,
           full.nindices / 3, lod.nindices / 3, v0, v1, r0, r1);
    CT_CHECK_MSG(closed, "%s: simplified mesh not a closed, consistently wound shell", name);
    CT_CHECK_MSG(v1 >= 0.5 * v0 && v1 <= 2 * v0, "%s: volume %.1f against %.1f", name, v1, v0);
    CT_CHECK_MSG(r1 >= 0.5 * r0, "%s: roof %.1f against %.1f", name, r1, r0);
    if (must_simplify) CT_CHECK_MSG(lod.nindices < full.nindices, "%s: not simplified at %.1f m", name, bound);
    ct_mesh_free(&full);
    ct_mesh_free(&lod);
}

/* Sum of the triangles (index count / 3) in a content GLB. */
static long glb_triangles(const char *path) {
    ct_glb_file g;
    if (ct_glb_load(path, &g) != 0) return -1;
    json_t *prim = json_array_get(json_object_get(json_array_get(json_object_get(g.json, "meshes"), 0), "primitives"), 0);
    json_t *acc = json_array_get(json_object_get(g.json, "accessors"), (size_t)json_integer_value(json_object_get(prim, "indices")));
    long n = (long)json_integer_value(json_object_get(acc, "count")) / 3;
    ct_glb_release(&g);
    return n;
}

/* Triangles in this tile's content (0 when none) and, in *leaf_sum, in the leaves below. */
static long walk(const char *dir, json_t *tile, long *leaf_sum, int depth, long *per_level) {
    json_t *content = json_object_get(tile, "content");
    long own = 0;
    if (content) {
        char path[8192];
        snprintf(path, sizeof path, "%.4000s/%.4000s", dir, json_string_value(json_object_get(content, "uri")));
        own = glb_triangles(path);
        CT_CHECK(own > 0);
    }
    json_t *children = json_object_get(tile, "children");
    *leaf_sum = 0;
    if (!json_array_size(children)) {
        *leaf_sum = own;
    } else {
        size_t i;
        json_t *c;
        json_array_foreach(children, i, c) {
            long sub = 0;
            walk(dir, c, &sub, depth + 1, per_level);
            *leaf_sum += sub;
        }
        if (content)
            CT_CHECK_MSG(own < *leaf_sum, "parent content %ld triangles, not fewer than its leaves' %ld", own, *leaf_sum);
    }
    if (depth < 32) per_level[depth] += own;
    return own;
}

int main(void) {
    /* Simplification error bound, sampled both ways. */
    check_bound(64, 10, 30, 0.25);
    check_bound(64, 10, 30, 1.0);
    check_bound(200, 40, 80, 2.0);
    check_bound(12, 5, 10, 0.5);

    /* Shapes kept whatever the bound. */
    static const double slab[] = {0, 0, 60, 0, 60, 6, 0, 6};
    static const double ell[] = {0, 0, 40, 0, 40, 8, 8, 8, 8, 30, 0, 30};
    static const double comb[] = {0, 0, 50, 0, 50, 20, 44, 20, 44, 5, 31, 5, 31, 20, 25, 20, 25, 5, 12, 5, 12, 20, 0, 20};
    for (double bound = 4; bound <= 64; bound *= 2) {
        check_shape("slab 60 x 6 m, 20 m tall", slab, 4, 20, bound, 0);
        check_shape("L 40 x 30 m, 8 m wide, 15 m tall", ell, 6, 15, bound, 0);
        check_shape("comb 50 x 20 m, 12 m tall", comb, 12, 12, bound, 0);
    }
    /* A 40 x 30 m block whose sides carry 80 corners a few centimetres off the line:
     * simplified (the extra corners go), and still the block. */
    double wobbly[2 * 80];
    for (int i = 0; i < 80; i++) {
        int side = i / 20;
        double t = (i % 20) / 20.0, off = 0.05 * sin(3.0 * i);
        double x = side == 0 ? 40 * t : side == 1 ? 40 + off : side == 2 ? 40 * (1 - t) : off;
        double y = side == 0 ? off : side == 1 ? 30 * t : side == 2 ? 30 + off : 30 * (1 - t);
        wobbly[2 * i] = x;
        wobbly[2 * i + 1] = y;
    }
    check_shape("wobbly block 40 x 30 m, 10 m tall", wobbly, 80, 10, 1.0, 1);

    /* Triangle counts on a synthetic-size run of the sample: parents hold fewer triangles
     * than the leaves they stand for (parent tiles with small error ratios so that the
     * small Delft sample has several HLOD levels). */
    const char *src = ct_test_env("CT_SOURCE_DIR", "."), *bin = ct_test_env("CT_BINARY_DIR", ".");
    char pipeline[4096], set1[4200], set2[128], set3[128], dir[4096];
    snprintf(pipeline, sizeof pipeline, "%s/pipelines/sample.json", src);
    snprintf(dir, sizeof dir, "%s/test-out/lod", bin);
    snprintf(set1, sizeof set1, "writers.3dtiles.path=%s", dir);
    snprintf(set2, sizeof set2, "writers.3dtiles.max_buildings_per_tile=8");
    snprintf(set3, sizeof set3, "writers.3dtiles.lod_error_ratio=0.01");
    const char *sets[] = {set1, set2, set3};
    ct_context *ctx = ct_context_create();
    ct_pipeline *p = NULL;
    ct_status st = ct_pipeline_load(ctx, pipeline, sets, 3, &p);
    if (st == CT_OK) st = ct_pipeline_run(ctx, p, NULL);
    CT_CHECK_MSG(st == CT_OK, "%s", ct_error_message(ctx));
    ct_pipeline_destroy(p);
    ct_context_destroy(ctx);
    char ts[4200];
    snprintf(ts, sizeof ts, "%s/tileset.json", dir);
    json_t *j = json_load_file(ts, 0, NULL);
    CT_CHECK(j != NULL);
    long per_level[32] = {0}, leaves = 0;
    if (j) walk(dir, json_object_get(j, "root"), &leaves, 0, per_level);
    int parents = 0;
    for (int d = 0; d < 32; d++)
        if (per_level[d]) printf("level %d: %ld content triangles\n", d, per_level[d]);
    for (int d = 0; d < 31; d++) parents += per_level[d] > 0 && per_level[d + 1] > 0;
    printf("full detail: %ld triangles\n", leaves);
    CT_CHECK_MSG(parents >= 1, "the sample should have HLOD parents at these settings");
    json_decref(j);
    return ct_test_finish("test_lod");
}
