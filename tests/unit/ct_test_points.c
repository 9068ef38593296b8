#include "ct_test_points.h"

#include <stdlib.h>
#include <string.h>

int ct_test_points_add(ct_test_points *p, double x, double y, double z, uint8_t cls) {
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 4096;
        double *nx = realloc(p->x, cap * sizeof *nx);
        if (nx) p->x = nx;
        double *ny = realloc(p->y, cap * sizeof *ny);
        if (ny) p->y = ny;
        double *nz = realloc(p->z, cap * sizeof *nz);
        if (nz) p->z = nz;
        uint8_t *nc = realloc(p->cls, cap);
        if (nc) p->cls = nc;
        if (!nx || !ny || !nz || !nc) return 0;
        p->cap = cap;
    }
    p->x[p->n] = x;
    p->y[p->n] = y;
    p->z[p->n] = z;
    p->cls[p->n++] = cls;
    return 1;
}

size_t ct_test_points_chunks(const ct_test_points *p) { return (p->n + p->chunk - 1) / p->chunk; }

ct_status ct_test_points_chunk(ct_context *ctx, void *user, size_t chunk, double *x, double *y, double *z,
                               uint8_t *cls, size_t *n) {
    (void)ctx;
    const ct_test_points *p = user;
    size_t first = chunk * p->chunk, k = p->n - first < p->chunk ? p->n - first : p->chunk;
    memcpy(x, p->x + first, k * sizeof *x);
    memcpy(y, p->y + first, k * sizeof *y);
    memcpy(z, p->z + first, k * sizeof *z);
    memcpy(cls, p->cls + first, k);
    *n = k;
    return CT_OK;
}

void ct_test_points_free(ct_test_points *p) {
    free(p->x);
    free(p->y);
    free(p->z);
    free(p->cls);
    memset(p, 0, sizeof *p);
}
