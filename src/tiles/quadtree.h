/* Internal: the output quadtree. Buildings go to the tile that holds their centroid
 * (a building is never cut); a tile splits while it holds more than a budget. */
#ifndef CT_TILES_QUADTREE_H
#define CT_TILES_QUADTREE_H

#include <stddef.h>
#include <stdint.h>
#include "citytiler/context.h"

typedef struct ct_qtile {
    int level;
    uint32_t x, y;          /* column and row at this level, from the root's south-west corner */
    double bounds[4];       /* square: xmin, ymin, xmax, ymax in the working CRS */
    int32_t parent;         /* -1 for the root */
    int32_t child[4];       /* -1 when absent; order SW, SE, NW, NE */
    size_t first, count;    /* the range of `order` holding the buildings of the subtree */
} ct_qtile;

typedef struct ct_quadtree {
    ct_qtile *tiles;        /* tiles[0] is the root; parents before children (depth first) */
    size_t ntiles;
    uint32_t *order;        /* building indices grouped by leaf, ascending within a leaf */
    size_t n;
    int cell_level;         /* the level whose tiles are the processing cells */
} ct_quadtree;

/* Builds the tree over n centroids (x0,y0,x1,y1,...) inside the square `root`
 * (xmin, ymin, xmax, ymax). Tiles always split down to `cell_level` (so that every
 * leaf lies in one processing cell); below it a tile holding more than max_per_leaf
 * centroids splits, down to max_level, unless they are all one point (no split parts them). */
ct_status ct_quadtree_build(ct_context *ctx, const double *centroids, size_t n, const double root[4],
                            int cell_level, size_t max_per_leaf, int max_level, ct_quadtree *out);

/* Like ct_quadtree_build, and a tile also splits while the weights of its buildings
 * (e.g. vertex counts) add up to more than max_weight (weights NULL: no such budget). */
ct_status ct_quadtree_build_weighted(ct_context *ctx, const double *centroids, const uint64_t *weights, size_t n,
                                     const double root[4], int cell_level, size_t max_per_leaf, uint64_t max_weight,
                                     int max_level, ct_quadtree *out);

/* The square root tile for a bounding box on the cell grid of size cell_size
 * (cells are aligned to multiples of cell_size in the working CRS): its side is
 * cell_size * 2^level, with *cell_level = level. */
void ct_quadtree_root_for(const double bbox[4], double cell_size, double root[4], int *cell_level);
void ct_quadtree_free(ct_quadtree *q);

static inline int ct_qtile_is_leaf(const ct_qtile *t) {
    return t->child[0] < 0 && t->child[1] < 0 && t->child[2] < 0 && t->child[3] < 0;
}

#endif
