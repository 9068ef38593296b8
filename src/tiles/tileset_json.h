/* Internal: tileset.json from the quadtree and the per-tile results. */
#ifndef CT_TILES_TILESET_JSON_H
#define CT_TILES_TILESET_JSON_H

#include "citytiler/context.h"
#include "tiles/quadtree.h"
#include "tiles/tile_content.h"

typedef struct ct_tileset_plan {
    const ct_quadtree *q;
    const ct_tile_output *tiles; /* per tile: has_content, region, transform */
    const double *errors;        /* per tile geometric error (leaves 0) */
    int replace;                 /* refine REPLACE (parents carry coarser content) or ADD */
    struct json_t *extra_root;   /* another tree (the assets) beside the buildings, or NULL:
                                  * both then hang under a content-less root (ADD) */
    double extra_region[6];
    double extra_error;
} ct_tileset_plan;

/* Writes DIR/tileset.json: content uris "tiles/L_X_Y.glb"; a tile's region is the union
 * of its content's and its children's; tile transforms are composed so that each
 * content lands in its own ENU frame. */
ct_status ct_tileset_write(ct_context *ctx, const char *dir, const ct_tileset_plan *plan);

/* Writes PATH (a tileset.json): asset, the tileset's geometric error, `schema` (NULL:
 * none) and `root` (a tile's JSON). Takes over root and schema, also on error. */
ct_status ct_tileset_write_root(ct_context *ctx, const char *path, struct json_t *root, struct json_t *schema,
                                double error);

/* "L_X_Y" of a tile, for its file name. */
void ct_tile_name(const ct_qtile *t, char *buf, size_t n);
/* The content file of a tile: "tiles/L_X_Y.glb" (its uri in tileset.json), under `dir`
 * when dir is not NULL. */
void ct_tile_content_path(const char *dir, const ct_qtile *t, char *buf, size_t n);

/* out = inverse(a) x b for rigid transforms (column-major 4x4, a = rotation + translation). */
void ct_rigid_inverse_times(const double a[16], const double b[16], double out[16]);

#endif
