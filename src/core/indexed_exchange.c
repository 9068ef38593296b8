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
    const size_t head = sizeof(uint64_t);       /* first, the process's status (a failed one sends only that) */
    const ct_status own = st;
    unsigned char *send = malloc(head + (st == CT_OK ? m * rec : 0));
    if (!send) { /* (then it sends nothing, which the others take for a failure) */
        if (st == CT_OK) st = ct_error_nomem(ctx, what);
    } else {
        uint64_t status = (uint64_t)(int64_t)st;
        memcpy(send, &status, sizeof status);
    }
    for (size_t j = 0; send && st == CT_OK && j < m; j++) {
        uint64_t i = idx[j];
        memcpy(send + head + j * rec, &i, sizeof i);
        memcpy(send + head + j * rec + sizeof i, (const unsigned char *)results + j * size, size);
    }
    void *all = NULL;
    size_t sizes[256] = {0};
    ct_status xs = nproc > 256 ? ct_error(ctx, CT_ERR_UNSUPPORTED, "%s: more than 256 processes", what)
                               : ct_context_allgather(ctx, send, send ? head + (st == CT_OK ? m * rec : 0) : 0, &all,
                                                      sizes);
    free(send);
    if (st == CT_OK) st = xs;
    if (st == CT_OK) memset(got, 0, n);
    size_t off = 0;
    /* A process that failed: the others stop with its status (the same exit code on every
     * process, whichever ends the run first), its own error saying why. */
    for (int r = 0; st == CT_OK && r < nproc; r++) {
        uint64_t status = 1;
        if (sizes[r] >= head) memcpy(&status, (const unsigned char *)all + off, sizeof status);
        if (status != 0) {
            ct_status code = sizes[r] >= head && (int64_t)status > 0 ? (ct_status)(int64_t)status : CT_ERR_IO;
            st = ct_error(ctx, code, "%s: process %d of %d failed (its error says why)", what, r, nproc);
        }
        off += sizes[r];
    }
    off = 0;
    for (int r = 0; st == CT_OK && r < nproc; r++) {
        if ((sizes[r] - head) % rec != 0)
            st = ct_error(ctx, CT_ERR_IO, "%s: process %d sent %zu bytes of results", what, r, sizes[r]);
        for (size_t j = 0; st == CT_OK && j < (sizes[r] - head) / rec; j++) {
            const unsigned char *p = (const unsigned char *)all + off + head + j * rec;
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
    return own != CT_OK ? own : st;
}
