/* Percentiles by selection equal percentiles of the sorted values (numpy's linear
 * interpolation), on random arrays with ties, and on edge cases. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "citytiler/heights.h"
#include "ct_test.h"

int main(void) {
    /* ct_median_doubles: odd count the middle, even the middle two's mean, none NaN */
    double odd[3] = {3.0, 1.0, 2.0}, even[4] = {4.0, 1.0, 3.0, 2.0};
    CT_CHECK(ct_median_doubles(odd, 3) == 2.0);
    CT_CHECK(ct_median_doubles(even, 4) == 2.5);
    CT_CHECK(isnan(ct_median_doubles(even, 0)));
    uint64_t seed = 12345;
    float a[2000], b[2000];
    static const double ps[] = {0, 1, 10, 33.3, 50, 70, 90, 99.9, 100};
    for (int round = 0; round < 300; round++) {
        size_t n = 1 + (size_t)(round * 7 % 1999);
        for (size_t i = 0; i < n; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            a[i] = (float)((seed >> 40) % (round % 3 ? 100000 : 7)) * 0.01f; /* some rounds full of ties */
        }
        memcpy(b, a, n * sizeof *a);
        ct_sort_floats(b, n);
        for (size_t i = 1; i < n; i++) CT_CHECK(b[i - 1] <= b[i]);
        for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++) {
            double want = ct_percentile_sorted(b, n, ps[k]);
            double got = ct_percentile_select(a, n, ps[k]); /* reorders a: later picks must still hold */
            CT_CHECK_MSG(got == want, "n=%zu p=%.1f: %.9g vs %.9g", n, ps[k], got, want);
        }
        /* Several at once, in a mixed order with repeats, on a fresh shuffle. */
        static const double many[] = {70, 90, 50, 100, 0, 90, 10, 99.9, 33.3, 1};
        size_t k = 1 + (size_t)round % (sizeof many / sizeof many[0]);
        double got[16];
        for (size_t i = 0; i < n; i++) { /* reverse + rotate: a different order than before */
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            size_t j = (size_t)(seed >> 33) % n;
            float t = a[i]; a[i] = a[j]; a[j] = t;
        }
        ct_percentiles_select(a, n, many, k, got);
        for (size_t i = 0; i < k; i++) {
            double want = ct_percentile_sorted(b, n, many[i]);
            CT_CHECK_MSG(got[i] == want, "n=%zu k=%zu p=%.1f: %.9g vs %.9g", n, k, many[i], got[i], want);
        }
    }
    float one = 4.5f;
    CT_CHECK(ct_percentile_select(&one, 1, 90) == 4.5);
    float two[2] = {3, 1};
    CT_CHECK(ct_percentile_select(two, 2, 50) == 2.0);
    return ct_test_finish("test_percentile");
}
