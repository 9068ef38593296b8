/* Work one processing cell at a time: items sorted by the cell that holds them. */
#include <math.h>
#include <stdlib.h>

#include "citytiler/points.h"

typedef struct cell_key { int64_t cx, cy; size_t i; } cell_key;

static int cmp_cell_key(const void *a, const void *b) {
    const cell_key *p = a, *q = b;
    if (p->cy != q->cy) return p->cy < q->cy ? -1 : 1;
    if (p->cx != q->cx) return p->cx < q->cx ? -1 : 1;
    return (p->i > q->i) - (p->i < q->i);
}

ct_status ct_group_by_cell(ct_context *ctx, const double *xy, const unsigned char *use, size_t n, double cell_size,
                           size_t **order, ct_cell_group **groups, size_t *ngroups) {
    *order = NULL;
    *groups = NULL;
    *ngroups = 0;
    cell_key *keys = malloc((n ? n : 1) * sizeof *keys);
    size_t *ord = malloc((n ? n : 1) * sizeof *ord);
    ct_cell_group *gr = malloc((n ? n : 1) * sizeof *gr);
    if (!keys || !ord || !gr) {
        free(keys);
        free(ord);
        free(gr);
        return ct_error_nomem(ctx, "cell groups");
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (use && !use[i]) continue;
        keys[m].cx = (int64_t)floor(xy[2 * i] / cell_size);
        keys[m].cy = (int64_t)floor(xy[2 * i + 1] / cell_size);
        keys[m].i = i;
        m++;
    }
    qsort(keys, m, sizeof *keys, cmp_cell_key);
    size_t ng = 0;
    for (size_t k = 0; k < m; k++) {
        ord[k] = keys[k].i;
        if (k == 0 || keys[k].cx != keys[k - 1].cx || keys[k].cy != keys[k - 1].cy) {
            gr[ng].cx = keys[k].cx;
            gr[ng].cy = keys[k].cy;
            gr[ng].first = k;
            gr[ng].count = 0;
            ng++;
        }
        gr[ng - 1].count++;
    }
    free(keys);
    *order = ord;
    *groups = gr;
    *ngroups = ng;
    return CT_OK;
}
