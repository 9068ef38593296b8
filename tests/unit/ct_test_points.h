/* LiDAR-like points held in arrays, handed to the point store in chunks
 * (ct_point_store_add_chunks), for the tests of the store and of heights. */
#ifndef CT_TEST_POINTS_H
#define CT_TEST_POINTS_H
#include <stddef.h>
#include <stdint.h>

#include "citytiler/context.h"

typedef struct ct_test_points {
    double *x, *y, *z;
    uint8_t *cls;
    size_t n, cap;
    size_t chunk; /* points per chunk */
} ct_test_points;

/* Appends a point; 0 when out of memory. */
int ct_test_points_add(ct_test_points *p, double x, double y, double z, uint8_t cls);
/* Chunks of p->chunk points: (p->n + p->chunk - 1) / p->chunk of them. */
size_t ct_test_points_chunks(const ct_test_points *p);
/* The ct_point_chunk_fn of ct_point_store_add_chunks, user a ct_test_points. */
ct_status ct_test_points_chunk(ct_context *ctx, void *user, size_t chunk, double *x, double *y, double *z,
                               uint8_t *cls, size_t *n);
void ct_test_points_free(ct_test_points *p);
#endif
