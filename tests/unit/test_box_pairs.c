/* ct_box_pairs (which rings of a footprint may nearly touch, filters.clean): the pairs
 * found are those of a comparison of every box with every other, on random boxes of
 * mixed sizes, rows, columns and a grid of holes inside a shell's box; and the boxes
 * compared stay far below every pair: a grid of 96 x 96 holes compares about a column a
 * hole (every pair: 42 million). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "ct_test.h"
#include "geom/box_pairs.h"

typedef struct found {
    unsigned char *seen; /* n x n, pair (a, b) */
    size_t n, count, wrong;
} found;

static int note(size_t a, size_t b, void *arg) {
    found *f = arg;
    if (a == b || f->seen[a * f->n + b] || f->seen[b * f->n + a]) f->wrong++;
    f->seen[a * f->n + b] = 1;
    f->count++;
    return 0;
}

static int count(size_t a, size_t b, void *arg) {
    (void)a;
    (void)b;
    ++*(size_t *)arg;
    return 0;
}

static int stop_at_third(size_t a, size_t b, void *arg) {
    (void)a;
    (void)b;
    return ++*(int *)arg == 3 ? 7 : 0;
}

/* n boxes: kind 0 random, 1 a row, 2 a column, 3 a grid of unit squares in a shell. */
static double *make(uint64_t *seed, size_t n, int kind) {
    double *b = malloc(4 * n * sizeof *b);
    if (!b) exit(1);
    size_t side = (size_t)ceil(sqrt((double)n));
    for (size_t i = 0; i < n; i++) {
        double x = 0, y = 0, w = 1, h = 1;
        if (kind == 0) {
            x = 100 * ct_test_unif(seed);
            y = 100 * ct_test_unif(seed);
            w = ct_test_unif(seed) < 0.1 ? 40 * ct_test_unif(seed) : 3 * ct_test_unif(seed);
            h = 3 * ct_test_unif(seed);
        } else if (kind == 1 || kind == 2) {
            double along = 1.0005 * (double)i, across = 0.2 * ct_test_unif(seed);
            x = kind == 1 ? along : across;
            y = kind == 1 ? across : along;
        } else if (i == 0) {
            w = h = 2.0 * (double)side + 2; /* the shell */
        } else {
            x = 2.0 + 2.0 * (double)((i - 1) % side);
            y = 2.0 + 2.0 * (double)((i - 1) / side);
        }
        b[4 * i] = x;
        b[4 * i + 1] = y;
        b[4 * i + 2] = x + w;
        b[4 * i + 3] = y + h;
    }
    return b;
}

int main(void) {
    uint64_t seed = 99;
    const double tol = 0.001;
    for (int kind = 0; kind < 4; kind++)
        for (int round = 0; round < 4; round++) {
            size_t n = kind == 3 ? 1 + (size_t)(20 + 30 * round) : 50 + 150 * (size_t)round;
            double *b = make(&seed, n, kind);
            found f = {calloc(n * n, 1), n, 0, 0};
            if (!f.seen) return 1;
            CT_CHECK(ct_box_pairs(b, n, tol, note, &f, NULL) == 0);
            size_t expect = 0, missing = 0;
            for (size_t i = 0; i < n; i++)
                for (size_t j = i + 1; j < n; j++) {
                    const double *p = b + 4 * i, *q = b + 4 * j;
                    int near = !(q[0] > p[2] + tol || q[2] < p[0] - tol || q[1] > p[3] + tol || q[3] < p[1] - tol);
                    expect += (size_t)near;
                    if (near && !f.seen[i * n + j] && !f.seen[j * n + i]) missing++;
                }
            CT_CHECK_MSG(f.wrong == 0 && missing == 0 && f.count == expect,
                         "kind %d, %zu boxes: %zu pairs found (%zu repeated), %zu expected, %zu missing", kind, n,
                         f.count, f.wrong, expect, missing);
            int calls = 0;
            if (expect >= 3) CT_CHECK(ct_box_pairs(b, n, tol, stop_at_third, &calls, NULL) == 7 && calls == 3);
            free(f.seen);
            free(b);
        }
    /* The work: a grid of 96 x 96 holes in a shell, and a column of 9,216. */
    for (int kind = 2; kind <= 3; kind++) {
        size_t n = 96 * 96 + 1, tests = 0, pairs = 0;
        double *b = make(&seed, n, kind);
        CT_CHECK(ct_box_pairs(b, n, tol, count, &pairs, &tests) == 0);
        size_t all = n * (n - 1) / 2;
        CT_CHECK_MSG(tests < 2 * n * 97, "kind %d: %zu boxes compared of %zu pairs", kind, tests, all);
        CT_CHECK_MSG(pairs == (kind == 3 ? n - 1 : n - 1), "kind %d: %zu pairs near", kind, pairs);
        printf("kind %d: %zu boxes compared, %zu pairs near (every pair: %zu)\n", kind, tests, pairs, all);
        free(b);
    }
    return ct_test_finish("test_box_pairs");
}
