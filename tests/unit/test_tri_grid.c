/* ct_tri_grid_distance (the LOD deviation's nearest-triangle search) against a scan of
 * every triangle: the same distance where it exceeds `enough`, at most `enough` where the
 * scan finds it no more; on random triangle soups, long diagonal slivers (placed by rows)
 * and points outside the grid. */
#include <math.h>
#include <stdlib.h>

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

int main(void) {
    uint64_t seed = 12345;
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
            double got = ct_tri_grid_distance(&g, p, enough);
            if (exact > enough ? got != exact : !(got <= enough)) bad++;
        }
        CT_CHECK_MSG(bad == 0, "round %d: %zu of 200 distances differ from the scan", round, bad);
        ct_tri_grid_free(&g);
        free(pos);
        free(idx);
    }
    return ct_test_finish("test_tri_grid");
}
