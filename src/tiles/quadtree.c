#include "tiles/quadtree.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct builder {
    ct_quadtree *q;
    size_t cap;
    const double *c;
    size_t max_per_leaf;
    const uint64_t *weights;
    uint64_t max_weight;
    int cell_level;
    int max_level;
    uint32_t *scratch;
} builder;

static int32_t new_tile(builder *b, int level, uint32_t x, uint32_t y, const double bounds[4], int32_t parent) {
    if (b->q->ntiles == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        ct_qtile *t = realloc(b->q->tiles, cap * sizeof *t);
        if (!t) return -1;
        b->q->tiles = t;
        b->cap = cap;
    }
    ct_qtile *t = &b->q->tiles[b->q->ntiles];
    memset(t, 0, sizeof *t);
    t->level = level;
    t->x = x;
    t->y = y;
    memcpy(t->bounds, bounds, 4 * sizeof(double));
    t->parent = parent;
    for (int k = 0; k < 4; k++) t->child[k] = -1;
    return (int32_t)b->q->ntiles++;
}

/* Quadrant of centroid i in a tile split at (mx, my): 0 SW, 1 SE, 2 NW, 3 NE. */
static int quadrant(const builder *b, uint32_t i, double mx, double my) {
    return (b->c[2 * i] >= mx ? 1 : 0) + (b->c[2 * i + 1] >= my ? 2 : 0);
}

/* 1 when the count centroids ord[0..count) are all the same point: no split can part
 * them (the same footprint given 300 times went down to max_level, one child a level,
 * each parent carrying the same HLOD meshes). */
static int all_at_one_point(const builder *b, const uint32_t *ord, size_t count) {
    const double *p0 = b->c + 2 * (size_t)ord[0];
    for (size_t k = 1; k < count; k++) {
        const double *p = b->c + 2 * (size_t)ord[k];
        if (p[0] != p0[0] || p[1] != p0[1]) return 0;
    }
    return 1;
}

/* Splits tile `ti`, whose buildings are order[first, first+count). Stable, so indices
 * stay ascending within each child. */
static int split(builder *b, int32_t ti, size_t first, size_t count) {
    ct_qtile t = b->q->tiles[ti];
    b->q->tiles[ti].first = first;
    b->q->tiles[ti].count = count;
    uint64_t weight = 0;
    for (size_t k = 0; b->weights && k < count; k++) weight += b->weights[b->q->order[first + k]];
    int within = count <= b->max_per_leaf && (!b->weights || weight <= b->max_weight || count == 1);
    if ((within && t.level >= b->cell_level) || t.level >= b->max_level ||
        (t.level >= b->cell_level && all_at_one_point(b, b->q->order + first, count))) {
        b->q->tiles[ti].first = first;
        b->q->tiles[ti].count = count;
        return 1;
    }
    double mx = 0.5 * (t.bounds[0] + t.bounds[2]), my = 0.5 * (t.bounds[1] + t.bounds[3]);
    uint32_t *ord = b->q->order + first;
    size_t counts[4] = {0, 0, 0, 0}, start[4];
    for (size_t k = 0; k < count; k++) counts[quadrant(b, ord[k], mx, my)]++;
    start[0] = 0;
    for (int q = 1; q < 4; q++) start[q] = start[q - 1] + counts[q - 1];
    size_t fill[4] = {start[0], start[1], start[2], start[3]};
    for (size_t k = 0; k < count; k++) b->scratch[fill[quadrant(b, ord[k], mx, my)]++] = ord[k];
    memcpy(ord, b->scratch, count * sizeof *ord);
    for (int q = 0; q < 4; q++) {
        if (!counts[q]) continue;
        double cb[4] = {q & 1 ? mx : t.bounds[0], q & 2 ? my : t.bounds[1], q & 1 ? t.bounds[2] : mx,
                        q & 2 ? t.bounds[3] : my};
        int32_t c = new_tile(b, t.level + 1, 2 * t.x + (q & 1), 2 * t.y + (q >> 1), cb, ti);
        if (c < 0) return 0;
        b->q->tiles[ti].child[q] = c;
        if (!split(b, c, first + start[q], counts[q])) return 0;
    }
    return 1;
}

void ct_quadtree_root_for(const double bbox[4], double cell_size, double root[4], int *cell_level) {
    double x0 = floor(bbox[0] / cell_size) * cell_size, y0 = floor(bbox[1] / cell_size) * cell_size;
    int level = 0;
    double side = cell_size;
    while ((x0 + side <= bbox[2] || y0 + side <= bbox[3]) && level < 30) {
        side *= 2.0;
        level++;
    }
    root[0] = x0;
    root[1] = y0;
    root[2] = x0 + side;
    root[3] = y0 + side;
    *cell_level = level;
}

ct_status ct_quadtree_build(ct_context *ctx, const double *centroids, size_t n, const double root[4],
                            int cell_level, size_t max_per_leaf, int max_level, ct_quadtree *out) {
    return ct_quadtree_build_weighted(ctx, centroids, NULL, n, root, cell_level, max_per_leaf, 0, max_level, out);
}

ct_status ct_quadtree_build_weighted(ct_context *ctx, const double *centroids, const uint64_t *weights, size_t n,
                                     const double root[4], int cell_level, size_t max_per_leaf, uint64_t max_weight,
                                     int max_level, ct_quadtree *out) {
    memset(out, 0, sizeof *out);
    if (n == 0) return ct_error(ctx, CT_ERR_INPUT, "quadtree: no buildings to tile");
    if (max_per_leaf < 1) max_per_leaf = 1;
    if (max_level < cell_level) max_level = cell_level;
    builder b = {out, 0, centroids, max_per_leaf, weights, max_weight, cell_level, max_level, NULL};
    out->order = malloc(n * sizeof *out->order);
    b.scratch = malloc(n * sizeof *b.scratch);
    if (!out->order || !b.scratch) {
        free(b.scratch);
        ct_quadtree_free(out);
        return ct_error_nomem(ctx, "quadtree");
    }
    out->n = n;
    out->cell_level = cell_level;
    for (size_t i = 0; i < n; i++) out->order[i] = (uint32_t)i;
    int ok = new_tile(&b, 0, 0, 0, root, -1) == 0 && split(&b, 0, 0, n);
    free(b.scratch);
    if (!ok) {
        ct_quadtree_free(out);
        return ct_error_nomem(ctx, "quadtree tiles");
    }
    return CT_OK;
}

void ct_quadtree_free(ct_quadtree *q) {
    free(q->tiles);
    free(q->order);
    memset(q, 0, sizeof *q);
}
