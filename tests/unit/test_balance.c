/* ct_balance_by_weight: every item gets a process; heaviest first to the least loaded
 * process, so no process carries more than the ideal share plus the heaviest item;
 * the split is the same on every call (every process computes it alone). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/balance.h"
#include "ct_test.h"

static uint64_t rng = 0x853C49E6748FEA9Bull;

int main(void) {
    /* The 1k synthetic city's cells went 420/333/247 round robin: a skewed example. */
    const uint64_t w[] = {118, 17, 25, 0, 40, 40, 40, 3};
    int part[8], again[8];
    CT_CHECK(ct_balance_by_weight(w, 8, 3, part));
    uint64_t load[3] = {0, 0, 0};
    for (int i = 0; i < 8; i++) {
        CT_CHECK(part[i] >= 0 && part[i] < 3);
        load[part[i]] += w[i];
    }
    CT_CHECK(part[0] == 0);                /* the heaviest first, to process 0 */
    CT_CHECK(part[4] == 1 && part[5] == 2); /* equal weights: the lower index first */
    CT_CHECK(load[0] == 118 && load[1] + load[2] == 283 - 118 && load[1] == 83 && load[2] == 82);
    CT_CHECK(ct_balance_by_weight(w, 8, 3, again) && memcmp(part, again, sizeof part) == 0);

    /* Random weights: every process within the heaviest item of the mean. */
    enum { N = 500, P = 7 };
    uint64_t *rw = malloc(N * sizeof *rw);
    int *rp = malloc(N * sizeof *rp);
    CT_CHECK(rw && rp);
    if (!rw || !rp) return 1;
    uint64_t total = 0, heaviest = 0;
    for (int i = 0; i < N; i++) {
        rw[i] = (uint64_t)(1 + 1000 * ct_test_unif(&rng) * ct_test_unif(&rng));
        total += rw[i];
        if (rw[i] > heaviest) heaviest = rw[i];
    }
    CT_CHECK(ct_balance_by_weight(rw, N, P, rp));
    uint64_t pl[P] = {0};
    for (int i = 0; i < N; i++) pl[rp[i]] += rw[i];
    for (int k = 0; k < P; k++)
        CT_CHECK_MSG(pl[k] * P <= total + (uint64_t)P * heaviest && pl[k] * P + (uint64_t)P * heaviest >= total,
                     "process %d: %llu of %llu", k, (unsigned long long)pl[k], (unsigned long long)total);
    /* One process, no items, no process. */
    CT_CHECK(ct_balance_by_weight(rw, N, 1, rp));
    int all0 = 1;
    for (int i = 0; i < N; i++) all0 &= rp[i] == 0;
    CT_CHECK(all0);
    CT_CHECK(ct_balance_by_weight(rw, 0, 3, rp));
    CT_CHECK(!ct_balance_by_weight(rw, N, 0, rp));
    free(rw);
    free(rp);
    return ct_test_finish("test_balance");
}
