/* ct_tri_grid_distance (the LOD deviation's nearest-triangle search) against a scan of
 * every triangle: the same distance where it exceeds `enough`, at most `enough` where the
 * scan finds it no more; on random triangle soups, long diagonal slivers (placed by rows)
 * and points outside the grid. And the work, counted rather than timed: on a long strip
 * (a block of courtyards in a few rows) 4x the triangles cost about 4x the distances
 * (a grid of at most 1024 cells a side made it 16x), and a fan of slivers as long as the
 * strip (how such a block's roof is triangulated) keeps the grid's entries within its
 * budget (they grew with the square of the triangles). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct_test.h"
#include "tiles/tri_grid.h"

static double scan(const float *p, const float *pos, const unsigned int *idx, size_t ni) {
    double best = INFINITY;
    for (size_t t = 0; t + 2 < ni; t += 3) {
        double d = ct_dist2_tri(p, pos + 3 * idx[t], pos + 3 * idx[t + 1], pos + 3 * idx[t + 2]);
        if (d < best) best = d;
    }
    return sqrt(best);
}

/* A strip n metres long and 4 wide of unit right triangles at z 0, and with fan, n slivers
 * from its corner to (k, 4) at z 1. Every triangle's centroid (raised 0.25) is measured
 * with enough 0 (the exact distance; with the fan, one in 97: near its corner a point
 * has thousands of slivers within a metre, whatever the grid). Adds the distances
 * measured to *tests and returns the grid's entries; checks the distances against the
 * scan on a sample. */
static size_t strip(size_t n, int fan, size_t *tests) {
    size_t ntri = 2 * n + (fan ? n : 0), nv = 3 * ntri;
    float *pos = malloc(nv * 3 * sizeof *pos);
    unsigned int *idx = malloc(nv * sizeof *idx);
    if (!pos || !idx) exit(1);
    for (size_t t = 0; t < ntri; t++) {
        float x = (float)(t / 2 % n), y = (float)(t % 2 * 2);
        float v[3][3] = {{x, y, 0}, {x + 1, y, 0}, {x, y + 1, 0}};
        if (t >= 2 * n) { /* the fan */
            float k = (float)(t - 2 * n + 1);
            float f[3][3] = {{0, 0, 1}, {k, 4, 1}, {k - 1, 4, 1}};
            memcpy(v, f, sizeof v);
        }
        for (int k = 0; k < 3; k++) {
            memcpy(pos + 3 * (3 * t + (size_t)k), v[k], sizeof v[k]);
            idx[3 * t + (size_t)k] = (unsigned int)(3 * t + (size_t)k);
        }
    }
    ct_tri_grid g;
    CT_CHECK(ct_tri_grid_build(&g, pos, idx, nv) == 0);
    size_t entries = ct_tri_grid_entries(&g), bad = 0;
    for (size_t t = 0; t < ntri; t += fan ? 97 : 1) {
        const float *a = pos + 9 * t;
        float p[3] = {(a[0] + a[3] + a[6]) / 3, (a[1] + a[4] + a[7]) / 3, (a[2] + a[5] + a[8]) / 3 + 0.25f};
        double got = ct_tri_grid_distance(&g, p, 0, tests);
        if (t % 97 == 0 && got != scan(p, pos, idx, nv)) bad++;
    }
    CT_CHECK_MSG(bad == 0, "strip of %zu: %zu distances differ from the scan", n, bad);
    ct_tri_grid_free(&g);
    free(pos);
    free(idx);
    return entries;
}

int main(void) {
    uint64_t seed = 12345;
    {
        size_t small = 0, large = 0;
        (void)strip(4096, 0, &small);
        (void)strip(16384, 0, &large);
        CT_CHECK_MSG(large < 6 * small, "strip: %zu distances for 4096 m, %zu for 16384 m", small, large);
        printf("strip: %zu -> %zu distances (4x the triangles)\n", small, large);
        size_t t0 = 0, t1 = 0, e0 = strip(2048, 1, &t0), e1 = strip(8192, 1, &t1);
        CT_CHECK_MSG(e1 <= 16 * 3 * 8192 + 4096, "fan: %zu grid entries for %d triangles", e1, 3 * 8192);
        CT_CHECK_MSG(e1 < 6 * e0, "fan: %zu grid entries for 2048 slivers, %zu for 8192", e0, e1);
        printf("fan: %zu -> %zu entries (4x the triangles)\n", e0, e1);
    }
    for (int round = 0; round < 40; round++) {
        size_t ntri = 1 + (size_t)(ct_test_unif(&seed) * 400), nv = 3 * ntri;
        float *pos = malloc(nv * 3 * sizeof *pos);
        unsigned int *idx = malloc(nv * sizeof *idx);
        if (!pos || !idx) return 1;
        double span = 10 + 2000 * ct_test_unif(&seed);
        for (size_t t = 0; t < ntri; t++) {
            double cx = span * ct_test_unif(&seed), cy = span * ct_test_unif(&seed), cz = 30 * ct_test_unif(&seed);
            int sliver = round % 3 == 0 && t % 4 == 0; /* a long diagonal sliver across the area */
            for (int k = 0; k < 3; k++) {
                float *v = pos + 3 * (3 * t + (size_t)k);
                if (sliver) {
                    v[0] = (float)(k == 0 ? 0 : k == 1 ? span : span + 0.3);
                    v[1] = (float)(k == 0 ? 0 : k == 1 ? span : span - 0.3);
                } else {
                    v[0] = (float)(cx + 20 * ct_test_unif(&seed));
                    v[1] = (float)(cy + 20 * ct_test_unif(&seed));
                }
                v[2] = (float)(cz + (k == 2 ? 10 * ct_test_unif(&seed) : 0));
                idx[3 * t + (size_t)k] = (unsigned int)(3 * t + (size_t)k);
            }
        }
        ct_tri_grid g;
        CT_CHECK(ct_tri_grid_build(&g, pos, idx, nv) == 0);
        size_t bad = 0;
        for (int q = 0; q < 200; q++) {
            float p[3] = {(float)(span * (1.4 * ct_test_unif(&seed) - 0.2)), (float)(span * (1.4 * ct_test_unif(&seed) - 0.2)),
                          (float)(50 * ct_test_unif(&seed))};
            double exact = scan(p, pos, idx, nv);
            double enough = q % 2 ? 0 : exact * 2 * ct_test_unif(&seed);
            double got = ct_tri_grid_distance(&g, p, enough, NULL);
            if (exact > enough ? got != exact : !(got <= enough)) bad++;
        }
        CT_CHECK_MSG(bad == 0, "round %d: %zu of 200 distances differ from the scan", round, bad);
        ct_tri_grid_free(&g);
        free(pos);
        free(idx);
    }
    return ct_test_finish("test_tri_grid");
}
