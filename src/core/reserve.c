/* Growing an array by doubling (see reserve.h). */
#include "core/reserve.h"

#include <stdint.h>
#include <stdlib.h>

int ct_reserve(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 1;
    if (elem == 0 || need > SIZE_MAX / elem) return 0;
    size_t n = *cap ? *cap : 64;
    while (n < need) n = n > SIZE_MAX / 2 ? need : n * 2;
    if (n > SIZE_MAX / elem) n = need;
    void *q = realloc(*p, n * elem);
    if (!q) return 0;
    *p = q;
    *cap = n;
    return 1;
}
