/* Splits of weighted items between processes (see balance.h): longest processing time
 * first, or in runs of consecutive items. */
#include "core/balance.h"

#include <stdlib.h>

typedef struct item {
    uint64_t weight;
    size_t index;
} item;

static int heaviest_first(const void *a, const void *b) {
    const item *p = a, *q = b;
    if (p->weight != q->weight) return p->weight > q->weight ? -1 : 1;
    return (p->index > q->index) - (p->index < q->index);
}

int ct_balance_by_weight(const uint64_t *weight, size_t n, int parts, int *part) {
    if (parts < 1) return 0;
    item *items = malloc((n ? n : 1) * sizeof *items);
    uint64_t *load = calloc((size_t)parts, sizeof *load);
    if (!items || !load) {
        free(items);
        free(load);
        return 0;
    }
    for (size_t i = 0; i < n; i++) items[i] = (item){weight[i], i};
    qsort(items, n, sizeof *items, heaviest_first);
    for (size_t i = 0; i < n; i++) {
        int best = 0; /* (a linear scan: processes are few) */
        for (int k = 1; k < parts; k++)
            if (load[k] < load[best]) best = k;
        part[items[i].index] = best;
        load[best] += items[i].weight;
    }
    free(items);
    free(load);
    return 1;
}

int ct_balance_in_runs(const uint64_t *weight, size_t n, int parts, int *part) {
    if (parts < 1) return 0;
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) total += weight[i];
    const int counted = total == 0; /* (every weight 0: by count) */
    if (counted) total = n;
    uint64_t before = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t w = counted ? 1 : weight[i];
        /* the process whose share [k, k + 1) * total / parts holds before + w / 2 */
        uint64_t k = total ? (2 * before + w) * (uint64_t)parts / (2 * total) : 0;
        part[i] = k >= (uint64_t)parts ? parts - 1 : (int)k;
        before += w;
    }
    return 1;
}
