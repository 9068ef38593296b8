/* Internal: 3D Tiles 1.1 implicit tiling (QUADTREE over a `region`).
 *
 * Implicit subdivision is uniform in the root region's longitude and latitude, so the
 * tree is built in that space: a building goes to the tile holding its centroid's
 * lon/lat (never cut), and a tile splits while it holds more than a budget, as in the
 * explicit quadtree. A building therefore sticks out of the implicit volume of its tile;
 * every available tile gets its tight volume and its error as tile metadata in the
 * subtree (semantics TILE_BOUNDING_REGION and TILE_GEOMETRIC_ERROR), which clients use
 * instead of the subdivided volume and the halved error (3D Tiles 1.1, implicit tiling,
 * "Tile Metadata"). Tight volumes are unions over the subtree, so each lies inside its
 * parent's and holds its content (spatial coherence).
 *
 * Implicit tiles have no `transform`: each content GLB places itself (its root node maps
 * its ENU frame to ECEF, see CT_TILE_EMBED_TRANSFORM). */
#ifndef CT_TILES_IMPLICIT_H
#define CT_TILES_IMPLICIT_H

#include <stddef.h>
#include <stdint.h>
#include "citytiler/context.h"
#include "citytiler/dataset.h"
#include "tiles/quadtree.h"
#include "tiles/tile_content.h"

/* The subdivision frame: the root region's horizontal extent and a local
 * equirectangular scale, so that quadtree bounds are in (approximate) metres. */
typedef struct ct_implicit_grid {
    double region[4]; /* west, south, east, north (radians) of the implicit root; west <= east,
                       * so across the antimeridian east runs past pi (tileset.json gets it
                       * back in [-pi, pi]: west > east) */
    double kx, ky;    /* metres per radian of longitude / latitude at the centre */
} ct_implicit_grid;

/* The grid for data whose lon/lat bounding box is `extent` (west, south, east, north,
 * radians): padded by 1 % (at least ~6 m) and made square in metres, so tiles are about
 * square at every level. */
void ct_implicit_grid_for(const double extent[4], ct_implicit_grid *grid);

/* The tree over n points lonlat (lon0, lat0, lon1, ...; radians, all inside the grid):
 * a tile holding more than max_per_leaf points splits, down to max_level. q's tile
 * bounds are in the grid's metres (x east of its west edge, y north of its south edge);
 * q's tile (level, x, y) is the implicit tile (level, x, y). Caller frees q with
 * ct_quadtree_free. */
ct_status ct_implicit_quadtree_lonlat(ct_context *ctx, const ct_implicit_grid *grid, const double *lonlat,
                                      size_t n, size_t max_per_leaf, int max_level, ct_quadtree *q);

/* Like ct_implicit_quadtree_lonlat, and a tile also splits while the weights of its
 * points (e.g. mesh vertices) add up to more than max_weight, as in explicit tiling
 * (ct_quadtree_build_weighted; weights NULL: no such budget). Tiles absent from the
 * tree are unavailable in the subtrees, so a budget gives a sparse implicit tree. */
ct_status ct_implicit_quadtree_lonlat_weighted(ct_context *ctx, const ct_implicit_grid *grid, const double *lonlat,
                                               const uint64_t *weights, size_t n, size_t max_per_leaf,
                                               uint64_t max_weight, int max_level, ct_quadtree *q);

/* The implicit counterpart of the processing cells' level: the first level whose tiles
 * are no larger than cell_size metres (in the grid's metres; 0 when the whole grid is).
 * Implicit tiles follow the lon/lat grid, not the cells, so they are not split down to
 * this level; it is the floor of max_level, so that a tile max_level stops is never
 * larger than a processing cell, as in explicit tiling. */
int ct_implicit_cell_level(const ct_implicit_grid *grid, double cell_size);

/* What makes a tile split (writers.3dtiles' budgets). */
typedef struct ct_implicit_budget {
    size_t max_per_leaf;     /* buildings */
    const uint64_t *weights; /* per building (mesh vertices), or NULL: no such budget */
    uint64_t max_weight;
    int max_level;           /* raised to ct_implicit_cell_level when below it */
} ct_implicit_budget;

/* For a dataset (working CRS ds->crs_wkt, every building meshed): the grid covering all
 * meshes and the tree of the buildings' centroids (centroids: x0, y0, ... in the working
 * CRS, one per building) under budget b, whose max_level is raised to the grid's
 * ct_implicit_cell_level for ds->cell_size; that level in *cell_level (the caller warns
 * when it raised max_level). */
ct_status ct_implicit_quadtree(ct_context *ctx, const ct_dataset *ds, const double *centroids,
                               const ct_implicit_budget *b, ct_implicit_grid *grid, ct_quadtree *q, int *cell_level);

typedef struct ct_implicit_plan {
    const ct_quadtree *q;         /* from ct_implicit_quadtree*: every tile is available */
    const ct_tile_output *tiles;  /* per tile: has_content, region */
    const double *errors;         /* per tile geometric error, falling strictly with depth */
    int replace;                  /* refine REPLACE (parents carry coarser content) or ADD */
    const ct_implicit_grid *grid;
    int subtree_levels;           /* 1..CT_IMPLICIT_MAX_SUBTREE_LEVELS */
} ct_implicit_plan;

#define CT_IMPLICIT_MAX_SUBTREE_LEVELS 10

/* Writes DIR/tileset.json (root with implicitTiling; content "tiles/{level}_{x}_{y}.glb",
 * the names ct_tile_name gives) and DIR/subtrees/{level}_{x}_{y}.subtree: tile, content
 * and child subtree availability, and a property table of tile metadata (class "tile":
 * boundingRegion TILE_BOUNDING_REGION, geometricError TILE_GEOMETRIC_ERROR) for the
 * available tiles in tile-index order. Same input, same bytes. */
ct_status ct_implicit_write(ct_context *ctx, const char *dir, const ct_implicit_plan *plan);

/* Morton index of (x, y) (x in the lowest bit), as availability bitstreams order tiles. */
uint64_t ct_implicit_morton(uint32_t x, uint32_t y);

#endif
