/* citytiler (internal) — growing an array by doubling. */
#ifndef CITYTILER_RESERVE_H
#define CITYTILER_RESERVE_H

#include <stddef.h>

/* Makes *p (elements of elem bytes, *cap of them) hold at least need elements,
 * doubling from 64. Returns 0 when out of memory or the size overflows (*p unchanged). */
int ct_reserve(void **p, size_t *cap, size_t need, size_t elem);

#endif
