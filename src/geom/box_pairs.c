/* Sort and sweep (see box_pairs.h). Boxes are sorted by their low end on one axis; a box's
 * partners are the boxes after it whose low end is within its high end plus tol, tested
 * on the other axis. The axis is the one with fewer such candidates (counted by binary
 * search on both): a column of holes shares its x range, a row its y range, and a grid
 * of holes costs about a row or column a hole on either. */
#include "geom/box_pairs.h"

#include <stdint.h>
#include <stdlib.h>

typedef struct entry {
    double lo, hi; /* the box's range on the sweep axis */
    size_t i;
} entry;

static int cmp_entry(const void *x, const void *y) {
    const entry *a = x, *b = y;
    if (a->lo != b->lo) return a->lo < b->lo ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

/* Sorts the boxes' ranges on axis (0: x, 1: y) into e; returns the candidate pairs. */
static size_t sorted_axis(const double *boxes, size_t n, int axis, double tol, entry *e) {
    for (size_t i = 0; i < n; i++) {
        e[i].lo = boxes[4 * i + (size_t)axis];
        e[i].hi = boxes[4 * i + 2 + (size_t)axis];
        e[i].i = i;
    }
    qsort(e, n, sizeof *e, cmp_entry);
    size_t pairs = 0;
    for (size_t k = 0; k < n; k++) { /* the first entry after k whose low end is beyond k's reach */
        size_t lo = k + 1, hi = n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (e[mid].lo <= e[k].hi + tol) lo = mid + 1;
            else hi = mid;
        }
        pairs += lo - k - 1;
    }
    return pairs;
}

int ct_box_pairs(const double *boxes, size_t n, double tol, ct_box_pair_fn fn, void *arg, size_t *tests) {
    if (n < 2) return 0;
    entry *ex = malloc(n * sizeof *ex), *ey = malloc(n * sizeof *ey);
    if (!ex || !ey) {
        free(ex);
        free(ey);
        return -1;
    }
    size_t px = sorted_axis(boxes, n, 0, tol, ex), py = sorted_axis(boxes, n, 1, tol, ey);
    const entry *e = px <= py ? ex : ey;
    size_t other = px <= py ? 1 : 0, seen = 0;
    int rc = 0;
    for (size_t k = 0; k < n && rc == 0; k++) {
        const double *a = boxes + 4 * e[k].i;
        for (size_t m = k + 1; m < n && e[m].lo <= e[k].hi + tol && rc == 0; m++) {
            const double *b = boxes + 4 * e[m].i;
            seen++;
            if (b[other] > a[2 + other] + tol || b[2 + other] < a[other] - tol) continue;
            rc = fn(e[k].i, e[m].i, arg);
        }
    }
    if (tests) *tests += seen;
    free(ex);
    free(ey);
    return rc;
}
