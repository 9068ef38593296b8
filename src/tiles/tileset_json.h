/* Internal: tileset.json from the quadtree and the per-tile results. */
#ifndef CT_TILES_TILESET_JSON_H
#define CT_TILES_TILESET_JSON_H

#include "citytiler/context.h"
#include "tiles/quadtree.h"
#include "tiles/tile_content.h"

/* Writes DIR/tileset.json. leaf_out[t] holds region and transform of leaf tile t
 * (entries of inner tiles are ignored); content uris are "tiles/L_X_Y.glb". */
ct_status ct_tileset_write(ct_context *ctx, const char *dir, const ct_quadtree *q, const ct_tile_output *leaf_out);

/* "L_X_Y" of a tile, for its file name. */
void ct_tile_name(const ct_qtile *t, char *buf, size_t n);

#endif
