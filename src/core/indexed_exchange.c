/* The exchange of per-item results between processes (see indexed_exchange.h). */
#include "core/indexed_exchange.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

ct_status ct_exchange_by_index(ct_context *ctx, ct_status st, const size_t *idx, const void *results, size_t m,
                               size_t size, size_t n, void *out, unsigned char *got, const char *what) {
    int k = 0, nproc = 1;
    ct_context_partition(ctx, &k, &nproc);
    const size_t rec = sizeof(uint64_t) + size; /* a record: the item's index, then its result */
    unsigned char *send = st == CT_OK ? malloc(m ? m * rec : 1) : NULL;
    if (st == CT_OK && !send) st = ct_error_nomem(ctx, what);
    for (size_t j = 0; st == CT_OK && j < m; j++) {
        uint64_t i = idx[j];
        memcpy(send + j * rec, &i, sizeof i);
        memcpy(send + j * rec + sizeof i, (const unsigned char *)results + j * size, size);
    }
    void *all = NULL;
    size_t sizes[256] = {0};
    ct_status xs = nproc > 256 ? ct_error(ctx, CT_ERR_UNSUPPORTED, "%s: more than 256 processes", what)
                               : ct_context_allgather(ctx, send, st == CT_OK ? m * rec : 0, &all, sizes);
    free(send);
    if (st == CT_OK) st = xs;
    if (st == CT_OK) memset(got, 0, n);
    size_t off = 0;
    for (int r = 0; st == CT_OK && r < nproc; r++) {
        if (sizes[r] % rec != 0)
            st = ct_error(ctx, CT_ERR_IO, "%s: process %d sent %zu bytes of results", what, r, sizes[r]);
        for (size_t j = 0; st == CT_OK && j < sizes[r] / rec; j++) {
            const unsigned char *p = (const unsigned char *)all + off + j * rec;
            uint64_t i;
            memcpy(&i, p, sizeof i);
            if (i >= n || got[i]) {
                st = ct_error(ctx, CT_ERR_IO, "%s: process %d sent a result for item %llu %s", what, r,
                              (unsigned long long)i, i >= n ? "(no such item)" : "(sent already)");
                break;
            }
            got[i] = 1;
            memcpy((unsigned char *)out + i * size, p + sizeof i, size);
        }
        off += sizes[r];
    }
    free(all);
    return st;
}
