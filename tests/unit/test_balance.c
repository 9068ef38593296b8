/* ct_balance_by_weight: every item gets a process; heaviest first to the least loaded
 * process, so no process carries more than the ideal share plus the heaviest item;
 * the split is the same on every call (every process computes it alone).
 * ct_balance_in_runs: consecutive items in order, each process within one item of its share. */
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

    /* In runs: consecutive items, processes in order, each within one item of its share. */
    CT_CHECK(ct_balance_in_runs(rw, N, P, rp));
    uint64_t rl[P] = {0};
    int ordered = rp[0] == 0 && rp[N - 1] == P - 1;
    for (int i = 0; i < N; i++) {
        rl[rp[i]] += rw[i];
        if (i > 0) ordered &= rp[i] == rp[i - 1] || rp[i] == rp[i - 1] + 1;
    }
    CT_CHECK_MSG(ordered, "runs not consecutive");
    for (int k = 0; k < P; k++)
        CT_CHECK_MSG(rl[k] * P <= total + (uint64_t)P * heaviest && rl[k] * P + (uint64_t)P * heaviest >= total,
                     "run %d: %llu of %llu", k, (unsigned long long)rl[k], (unsigned long long)total);
    /* The skewed example: 118 | 17 25 0 40 | 40 40 3 (shares of 94.3: middles 59, 127.5, ...). */
    CT_CHECK(ct_balance_in_runs(w, 8, 3, part));
    const int expect[8] = {0, 1, 1, 1, 1, 2, 2, 2};
    CT_CHECK(memcmp(part, expect, sizeof part) == 0);
    /* Every weight 0: by count; one process; no process. */
    const uint64_t zero[6] = {0, 0, 0, 0, 0, 0};
    CT_CHECK(ct_balance_in_runs(zero, 6, 2, part));
    CT_CHECK(part[0] == 0 && part[2] == 0 && part[3] == 1 && part[5] == 1);
    CT_CHECK(ct_balance_in_runs(rw, N, 1, rp));
    all0 = 1;
    for (int i = 0; i < N; i++) all0 &= rp[i] == 0;
    CT_CHECK(all0);
    CT_CHECK(!ct_balance_in_runs(rw, N, 0, rp));
    free(rw);
    free(rp);
    return ct_test_finish("test_balance");
}
