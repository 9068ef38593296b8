/* ct_heights_compute tests each point against the few edges near it (geom/edge_grid);
 * its samples must be exactly those of testing every edge. Random footprints (concave
 * shells, holes, several parts, axis-aligned runs, tiny and long edges) and random
 * points, many placed exactly on vertices and edges, against a brute-force reference
 * written here with the same predicates. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "citytiler/heights.h"
#include "geom/outline_rows.h"
#include "ct_test.h"
#include "ct_test_heights.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static double unif(void) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rng >> 11) * (1.0 / 9007199254740992.0);
}

/* A star-shaped ring around (cx, cy): n vertices at random radii, some snapped to a
 * 0.5 m lattice so that axis-aligned edges and coincident coordinates occur. */
static void star(double *xy, int n, double cx, double cy, double rmin, double rmax, int ccw) {
    for (int i = 0; i < n; i++) {
        double a = 2 * M_PI * (ccw ? i : n - i) / n, r = rmin + (rmax - rmin) * unif();
        double x = cx + r * cos(a), y = cy + r * sin(a);
        if (unif() < 0.4) { x = round(x * 2) / 2; y = round(y * 2) / 2; }
        xy[2 * i] = x;
        xy[2 * i + 1] = y;
    }
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

int main(void) {
    const double origin[2] = {85000.0, 447000.0}; /* RD-like coordinates: rounding as in real data */
    int cases = 0, with_ground = 0, strips = 0;
    uint64_t total_roof = 0, total_ground = 0;
    for (int tc = 0; tc < 120; tc++) {
        /* The footprint: 1-2 parts, the first with 0-2 holes. */
        ct_footprint fp;
        ct_polygon parts[2];
        uint32_t starts[2][4];
        double xy[2][2 * 160];
        const int strip = tc % 6 == 5; /* a long diagonal strip: its box read band by band */
        fp.nparts = tc % 5 == 0 && !strip ? 2 : 1;
        fp.parts = parts;
        double size = 3 + 40 * unif();
        if (strip) {
            double len = 100 + 300 * unif(), wid = 0.3 + 3 * unif(), a = 0.3 + 1.0 * unif();
            double c = cos(a), s = sin(a), x0 = origin[0] + 50, y0 = origin[1] + 50;
            const double u[4][2] = {{0, 0}, {len, 0}, {len, wid}, {0, wid}};
            for (int k = 0; k < 4; k++) {
                xy[0][2 * k] = x0 + u[k][0] * c - u[k][1] * s;
                xy[0][2 * k + 1] = y0 + u[k][0] * s + u[k][1] * c;
            }
            starts[0][0] = 0;
            starts[0][1] = 4;
            parts[0].nrings = 1;
            parts[0].ring_start = starts[0];
            parts[0].xy = xy[0];
        }
        for (uint32_t p = 0; p < fp.nparts && !strip; p++) {
            double cx = origin[0] + 50 + (p ? 2.2 * size : 0), cy = origin[1] + 50;
            int n = 3 + (int)(unif() * (tc % 3 ? 12 : 60));
            int holes = p == 0 ? tc % 3 : 0;
            star(xy[p], n, cx, cy, size * 0.6, size, 1);
            uint32_t used = (uint32_t)n;
            starts[p][0] = 0;
            starts[p][1] = used;
            for (int h = 0; h < holes; h++) { /* small holes well inside the shell's inner radius */
                double hx = cx + (h ? 0.25 : -0.25) * size, hy = cy;
                star(xy[p] + 2 * used, 6, hx, hy, 0.05 * size, 0.15 * size, 0);
                used += 6;
                starts[p][2 + h] = used;
            }
            parts[p].nrings = (uint32_t)(1 + holes);
            parts[p].ring_start = starts[p];
            parts[p].xy = xy[p];
        }
        double bb[4];
        CT_CHECK(ct_footprint_bbox(&fp, bb));
        if (strip) {
            double q[4] = {bb[0] - 4.5, bb[1] - 4.5, bb[2] + 4.5, bb[3] + 4.5};
            strips += ct_outline_rows_worthwhile(&fp, q, 4.5);
        }
        /* Points: uniform over the box grown by 2x the buffer, plus points exactly on
         * vertices, on edge midpoints, and on lattice lines. */
        double buffer = tc % 4 == 0 ? 0.0 : 0.5 + 4 * unif();
        size_t n = strip ? 40000 : 4000;
        double *px = malloc(n * sizeof *px), *py = malloc(n * sizeof *py), *pz = malloc(n * sizeof *pz);
        uint8_t *cls = malloc(n);
        CT_CHECK(px && py && pz && cls);
        if (!px || !py || !pz || !cls) return 1;
        for (size_t i = 0; i < n; i++) {
            double u = unif();
            const ct_polygon *pg = &parts[i % fp.nparts];
            uint32_t nv = pg->ring_start[pg->nrings], v = (uint32_t)(unif() * nv) % nv;
            if (u < 0.1) { px[i] = pg->xy[2 * v]; py[i] = pg->xy[2 * v + 1]; }
            else if (u < 0.2) {
                uint32_t w = (v + 1) % nv;
                px[i] = 0.5 * (pg->xy[2 * v] + pg->xy[2 * w]);
                py[i] = 0.5 * (pg->xy[2 * v + 1] + pg->xy[2 * w + 1]);
            } else if (strip && u < 0.4) { /* along the strip, out to twice the buffer beyond it */
                double t = -0.1 + 1.2 * unif(), w = unif();
                double ax = pg->xy[0], ay = pg->xy[1], ex = pg->xy[2] - ax, ey = pg->xy[3] - ay;
                double nx = pg->xy[6] - ax, ny = pg->xy[7] - ay, wid = hypot(nx, ny);
                double k = (-(2 * buffer + 0.5) + (wid + 4 * buffer + 1) * w) / wid;
                px[i] = ax + t * ex + k * nx;
                py[i] = ay + t * ey + k * ny;
            } else {
                px[i] = bb[0] - 2 * buffer - 1 + (bb[2] - bb[0] + 4 * buffer + 2) * unif();
                py[i] = bb[1] - 2 * buffer - 1 + (bb[3] - bb[1] + 4 * buffer + 2) * unif();
                if (u < 0.3) px[i] = round(px[i] * 2) / 2;
            }
            pz[i] = 100 * unif();
            cls[i] = (uint8_t)(u < 0.5 ? 6 : (u < 0.9 ? 2 : 1));
        }
        ct_point_store *store = ct_point_store_create(100.0, 2.0);
        ct_context *ctx = ct_context_create();
        CT_CHECK(store && ctx);
        if (!store || !ctx) return 1;
        CT_CHECK(ct_point_store_add(ctx, store, px, py, pz, cls, n) == CT_OK);
        CT_CHECK(ct_point_store_index(ctx, store, 1) == CT_OK);

        ct_heights_params prm;
        memset(&prm, 0, sizeof prm);
        prm.roof_percentile = 90;
        prm.ground_percentile = 10;
        prm.buffer = buffer;
        prm.max_buffer = buffer; /* no widening: one collection to compare */
        prm.min_roof_points = 1;
        prm.min_ground_points = 1;
        prm.roof_class[6] = 1;
        prm.ground_class[2] = 1;
        ct_heights_scratch scratch;
        memset(&scratch, 0, sizeof scratch);
        ct_heights_result res;
        CT_CHECK(ct_heights_compute(store, &fp, &prm, &scratch, &res) == CT_OK);

        /* The reference: every stored point (as the store gives it back), every edge. */
        float *roof = malloc(n * sizeof *roof), *ground = malloc(n * sizeof *ground);
        size_t nr = 0, ng = 0;
        ct_span_list all;
        memset(&all, 0, sizeof all);
        const double everything[4] = {origin[0] - 1000, origin[1] - 1000, origin[0] + 1000, origin[1] + 1000};
        CT_CHECK(ct_point_store_query(store, everything, &all) == CT_OK);
        double q[4] = {bb[0] - buffer, bb[1] - buffer, bb[2] + buffer, bb[3] + buffer};
        for (size_t k = 0; k < all.n; k++)
            for (size_t i = 0; i < all.v[k].n; i++) {
                const ct_point_rec *r = &all.v[k].p[i];
                double x = all.v[k].ox + (double)r->x, y = all.v[k].oy + (double)r->y;
                if (x < q[0] || x > q[2] || y < q[1] || y > q[3]) continue;
                int in = x >= bb[0] && x <= bb[2] && y >= bb[1] && y <= bb[3] && ct_test_ref_inside(&fp, x, y);
                if (r->cls == 6 && in) roof[nr++] = r->z;
                if (r->cls == 2 && (in || ct_test_ref_near(&fp, x, y, buffer))) ground[ng++] = r->z;
            }
        CT_CHECK_MSG(res.roof_points == nr, "case %d: %u roof samples, reference %zu", tc, res.roof_points, nr);
        CT_CHECK_MSG(res.ground_points == ng, "case %d: %u ground samples, reference %zu", tc, res.ground_points, ng);
        if (nr && res.roof_points == nr) {
            qsort(roof, nr, sizeof *roof, cmp_float);
            CT_CHECK(res.roof_z == ct_percentile_sorted(roof, nr, 90));
            CT_CHECK(res.roof_p50 == ct_percentile_sorted(roof, nr, 50));
            CT_CHECK(res.roof_p70 == ct_percentile_sorted(roof, nr, 70));
            CT_CHECK(res.roof_max == roof[nr - 1]);
        }
        if (ng && res.ground_points == ng) {
            qsort(ground, ng, sizeof *ground, cmp_float);
            CT_CHECK(res.ground_z == ct_percentile_sorted(ground, ng, 10));
            with_ground++;
        }
        total_roof += nr;
        total_ground += ng;
        cases++;
        ct_span_list_free(&all);
        ct_heights_scratch_free(&scratch);
        ct_point_store_destroy(store);
        ct_context_destroy(ctx);
        free(roof); free(ground); free(px); free(py); free(pz); free(cls);
    }
    printf("%d footprints (%d sparse strips), %d with ground samples; %llu roof and %llu ground samples matched\n", cases, strips, with_ground,
           (unsigned long long)total_roof, (unsigned long long)total_ground);
    CT_CHECK(total_roof > 10000 && total_ground > 10000); /* the comparison saw real samples */
    CT_CHECK(strips >= 15); /* and strips read band by band */
    return ct_test_finish("test_heights_grid");
}
