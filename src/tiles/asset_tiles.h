/* Internal: city assets as instanced symbols in their own quadtree of tiles. */
#ifndef CT_TILES_ASSET_TILES_H
#define CT_TILES_ASSET_TILES_H

#include <jansson.h>
#include "citytiler/crs.h"
#include "citytiler/dataset.h"
#include "citytiler/symbol.h"

/* Category -> symbol. Categories without an entry use `fallback`. */
typedef struct ct_symbol_table {
    char **categories;
    ct_symbol *symbols;
    size_t n;
    ct_symbol fallback;
} ct_symbol_table;

/* Builds the table from the writer's "symbols" option: {"category": {"model": path,
 * "builtin": "pole"|"box"|"sphere", "scale", "up_axis", "heading", "height", "color"}, ...,
 * "*": {...} for every other category}. NULL option: street lights (categories containing
 * "light" or "lamp") are poles, everything else a 1 m box. */
ct_status ct_symbol_table_load(ct_context *ctx, const json_t *option, ct_symbol_table *out);
void ct_symbol_table_free(ct_symbol_table *t);

/* Writes DIR/assets/L_X_Y.glb for the assets of ds (all must have a finite z) in a
 * quadtree of at most max_per_tile instances per tile, and returns the JSON of its root
 * tile (refine ADD, regions from the instances' geometry) in *root_tile, and its region.
 * Each thread transforms with its own clone of proto. */
ct_status ct_asset_tiles_write(ct_context *ctx, const ct_dataset *ds, const ct_symbol_table *symbols,
                               const ct_geo_transform *proto, size_t max_per_tile, const char *dir,
                               json_t **root_tile, double region[6], size_t *ntiles);

/* Rewrites the content uris of a tree from "assets/X.glb" to "X.glb" (for a tileset.json
 * inside the assets folder). */
ct_status ct_asset_tiles_rebase(ct_context *ctx, json_t *tile);

#endif
