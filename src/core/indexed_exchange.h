/* citytiler (internal) — under MPI, the results each process measured for its own items
 * (buildings, assets), exchanged so that every process holds every item's. */
#ifndef CITYTILER_INDEXED_EXCHANGE_H
#define CITYTILER_INDEXED_EXCHANGE_H

#include "citytiler/context.h"

#include <stddef.h>

/* This process measured items idx[0..m-1] (of n), item idx[j]'s result being the `size`
 * bytes at results + j * size. Every process's are gathered (ct_context_allgather); item
 * i's result goes to out + i * size and got[i] (n entries, zeroed here) becomes 1. A
 * process that sent an item beyond n, or one already sent, is an error naming `what`.
 * Every process must call it, even after an error of its own (st != CT_OK): it then
 * sends only its status, and st is returned; the others then return an error with that
 * status (their exit code is the failed process's) saying which process failed. */
ct_status ct_exchange_by_index(ct_context *ctx, ct_status st, const size_t *idx, const void *results, size_t m,
                               size_t size, size_t n, void *out, unsigned char *got, const char *what);

#endif
