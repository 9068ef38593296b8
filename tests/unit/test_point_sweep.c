/* Points on disk (memory_limit), loaded as filters.heights loads them: boxes swept row by
 * row, so that cells behind the sweep give their memory to the cells loaded next; then
 * boxes behind the sweep and boxes at random, whose cells must come back. Every query
 * returns exactly the points inside its box (checked against the input, point by point),
 * over cells of very different sizes (a loaded cell can only take memory that fits). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "citytiler/context.h"
#include "citytiler/points.h"
#include "ct_test.h"
#include "ct_test_points.h"

enum { GRID = 7, CHUNK = 1000 };
static const double CELL = 50.0;

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static double unif(void) { return ct_test_unif(&rng); }

/* Queries box b and compares with the input: returns the number of wrong points
 * (missed, returned twice, or returned from outside the spans' cells). */
static size_t check_box(ct_context *ctx, ct_point_store *s, const ct_test_points *in, const double b[4], unsigned char *seen,
                        ct_span_list *list) {
    size_t wrong = 0;
    if (ct_point_store_load(ctx, s, b) != CT_OK) return in->n;
    memset(seen, 0, in->n);
    if (ct_point_store_query(s, b, list) != CT_OK) return in->n;
    for (size_t k = 0; k < list->n; k++)
        for (size_t i = 0; i < list->v[k].n; i++) {
            size_t id = (size_t)list->v[k].p[i].z;
            if (id >= in->n || seen[id]++) wrong++;
            else if (list->v[k].p[i].cls != in->cls[id]) wrong++;
        }
    for (size_t i = 0; i < in->n; i++)
        if (in->x[i] >= b[0] && in->x[i] <= b[2] && in->y[i] >= b[1] && in->y[i] <= b[3] && !seen[i]) wrong++;
    return wrong;
}

int main(void) {
    /* Cells of 20 to about 1500 points, in a scan-like order (row by row, with runs that
     * cross cell borders), so each cell is a few runs in the temporary files. */
    ct_test_points in = {.chunk = CHUNK};
    for (int cy = 0; cy < GRID; cy++)
        for (int cx = 0; cx < GRID; cx++) {
            size_t m = 20 + (size_t)((cx * 7 + cy * 13) % 11) * 140;
            for (size_t i = 0; i < m; i++) {
                double x = (cx + unif()) * CELL, y = (cy + unif()) * CELL;
                /* z identifies the point */
                if (!ct_test_points_add(&in, x, y, (double)in.n, (uint8_t)(in.n % 3 == 0 ? 2 : (in.n % 3 == 1 ? 6 : 1))))
                    return 1;
            }
        }
    ct_context *ctx = ct_context_create();
    ct_point_store *s = ct_point_store_create(CELL, 2.0);
    unsigned char *seen = malloc(in.n);
    CT_CHECK(ctx && s && seen);
    if (!ctx || !s || !seen) return 1;
    ct_context_set_threads(ctx, 2);
    /* About 6 average cells' points loaded at once: fewer than two rows of 7. */
    ct_point_store_set_memory_limit(s, 6 * (in.n / (GRID * GRID)) * sizeof(ct_point_rec), NULL);
    size_t nchunks = (in.n + CHUNK - 1) / CHUNK;
    CT_CHECK(ct_point_store_add_chunks(ctx, s, nchunks, CHUNK, ct_test_points_chunk, &in, 2) == CT_OK);
    CT_CHECK(ct_point_store_on_disk(s));
    CT_CHECK(ct_point_store_count(s) == in.n);

    ct_span_list list;
    memset(&list, 0, sizeof list);
    size_t wrong = 0, boxes = 0;
    /* The sweep: boxes along each row, reaching 10 m into the neighbouring cells. */
    for (int cy = 0; cy < GRID; cy++)
        for (int cx = 0; cx < GRID; cx += 2, boxes++) {
            const double b[4] = {cx * CELL - 10, cy * CELL - 10, (cx + 2) * CELL + 10, (cy + 1) * CELL + 10};
            wrong += check_box(ctx, s, &in, b, seen, &list);
        }
    /* Behind the sweep: the first rows again (their memory went to later cells). */
    for (int cy = 0; cy < 2; cy++, boxes++) {
        const double b[4] = {0, cy * CELL + 1, GRID * CELL, cy * CELL + 30};
        wrong += check_box(ctx, s, &in, b, seen, &list);
    }
    /* At random, some across several rows. */
    for (int q = 0; q < 60; q++, boxes++) {
        double w = unif() * 120, h = unif() * (q % 5 == 0 ? 200 : 40);
        double b[4] = {unif() * GRID * CELL - 20, unif() * GRID * CELL - 20, 0, 0};
        b[2] = b[0] + w;
        b[3] = b[1] + h;
        wrong += check_box(ctx, s, &in, b, seen, &list);
    }
    CT_CHECK_MSG(wrong == 0, "%zu points wrong over %zu boxes", wrong, boxes);
    CT_CHECK(ct_point_store_unload(ctx, s) == CT_OK);
    ct_span_list_free(&list);
    ct_point_store_destroy(s);
    ct_context_destroy(ctx);
    free(seen);
    ct_test_points_free(&in);
    return ct_test_finish("test_point_sweep");
}
