/* Internal: one tile's content — the buildings of a leaf as one GLB in the tile's
 * local east-north-up frame. */
#ifndef CT_TILES_TILE_CONTENT_H
#define CT_TILES_TILE_CONTENT_H

#include <stddef.h>
#include <stdint.h>
#include "citytiler/crs.h"
#include "citytiler/dataset.h"
#include "citytiler/glb.h"

typedef struct ct_tile_output {
    int has_content;
    int resumed;          /* taken from an interrupted run's record (--resume) */
    int foreign;          /* another partition's tile, not built here */
    double region[6];     /* west, south, east, north (radians), min and max height (m) */
    double transform[16]; /* ENU at the tile centre -> ECEF, column-major */
    uint8_t *glb;         /* malloc'd */
    size_t glb_len;
    ct_glb_stats stats;   /* sizes written, for the run summary and benchmarks */
} ct_tile_output;

/* Builds the GLB of buildings ds->buildings[idx[0..n-1]]: their own meshes, or
 * meshes[i] for building idx[i] when `meshes` is given (coarser levels). Feature i of
 * the tile is building idx[i]. `geo` must belong to this thread. */
ct_status ct_tile_build(ct_context *ctx, ct_geo_transform *geo, const ct_dataset *ds, const uint32_t *idx,
                        size_t n, const ct_mesh *meshes, const char *class_name, const ct_glb_options *glb,
                        ct_tile_output *out);

/* Flags of ct_tile_build_ex. */
enum {
    /* The GLB places itself: its root node carries out->transform (ENU -> ECEF), so the
     * tile needs no `transform` (implicit tiles cannot have one). */
    CT_TILE_EMBED_TRANSFORM = 1
};

/* ct_tile_build with flags (0 = ct_tile_build, byte for byte). */
ct_status ct_tile_build_ex(ct_context *ctx, ct_geo_transform *geo, const ct_dataset *ds, const uint32_t *idx,
                           size_t n, const ct_mesh *meshes, const char *class_name, const ct_glb_options *glb,
                           unsigned flags, ct_tile_output *out);

#endif
