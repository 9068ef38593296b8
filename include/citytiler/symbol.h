/* citytiler — symbol models for instanced assets (street lights, sensors, bins, ...):
 * one merged triangle mesh per symbol, loaded through Assimp or built in.
 *
 * Frame of every ct_symbol: metres, z up, origin at the symbol's base centre (the point
 * that stands on the ground): min z = 0 and the x/y bounding box centred on 0. Heading
 * 0 keeps the model's own orientation: for a y-up model (glTF, OBJ) that means model +x ->
 * east, model -z -> north (glTF's "front" +z faces south), model +y -> up. */
#ifndef CITYTILER_SYMBOL_H
#define CITYTILER_SYMBOL_H

#include <stddef.h>
#include <stdint.h>
#include "citytiler/context.h"
#include "citytiler/status.h"

/* One triangle mesh. Owned by whoever filled it: release with ct_symbol_free. */
typedef struct ct_symbol {
    size_t nverts;
    float *pos;            /* 3*nverts, metres, z-up, origin at the base centre; finite */
    float *nrm;            /* 3*nverts unit normals (z-up) */
    size_t nindices;       /* multiple of 3, > 0 */
    uint32_t *idx;         /* triangles, counter-clockwise seen from outside, < nverts */
    float base_color[4];   /* linear RGBA in [0,1] */
    float bbox_min[3];     /* bounding box of pos: bbox_min[2] == 0, x/y centred on 0 */
    float bbox_max[3];
} ct_symbol;

typedef enum ct_symbol_up {
    CT_SYMBOL_UP_Y = 0,    /* y-up model (glTF, OBJ, most exports): (x, y, z) -> (x, -z, y) */
    CT_SYMBOL_UP_Z = 1     /* z-up model (CAD, many STL/PLY files): kept */
} ct_symbol_up;

/* Load options. A zero-initialised struct (or NULL) gives the defaults. Applied in this
 * order: up axis, scale (or normalize_height), heading, then the origin is moved to the
 * base centre. */
typedef struct ct_symbol_options {
    double scale;            /* uniform factor, model units -> metres; 0 = 1. Must be finite
                              * and > 0. Ignored when normalize_height > 0. */
    ct_symbol_up up_axis;    /* default CT_SYMBOL_UP_Y */
    double heading;          /* degrees, clockwise seen from above (like a compass heading),
                              * about the up axis; finite */
    double normalize_height; /* > 0: uniform scale so that the height (max z - min z) is this
                              * many metres; 0 = off */
    float color[4];          /* linear RGBA override of the base colour; all zero = from the
                              * model's materials */
    int model_origin;        /* 0: the base centre of the bounding box stands on the point;
                              * 1: the model's own x/y origin does (its lowest point at the
                              * ground) — for models whose origin is their foot, e.g. a street
                              * light whose arm would shift the box centre off the pole */
} ct_symbol_options;

/* Checks options (scale, normalize_height: 0 or finite > 0; heading finite; color in
 * [0, 1]; a known up_axis); NULL is fine. Errors: CT_ERR_USAGE "WHERE: ..." (`where`
 * names the model file or the pipeline stage). */
ct_status ct_symbol_options_check(ct_context *ctx, const char *where, const ct_symbol_options *options);

/* How far (m) a loaded model may reach from the point it is placed at, after its scale:
 * farther is refused (ct_symbol_load), as no city asset is that large. */
#define CT_SYMBOL_MAX_REACH 1000.0

/* Parses a pipeline's "up_axis" value: "y"/"Y" or "z"/"Z". Returns 0 on success, -1 for
 * anything else (the caller reports it naming its option). */
int ct_symbol_up_axis_parse(const char *s, ct_symbol_up *out);

/* Loads a model file through Assimp (OBJ, glTF/GLB, COLLADA .dae, PLY, STL, FBX, and the
 * other formats Assimp reads) and merges all its meshes into one, node transforms applied
 * (aiProcess_PreTransformVertices), triangulated, identical vertices joined; missing
 * normals are generated (smoothing angle 30 degrees); points and lines are dropped.
 * Textures are not read. The base colour is the area-weighted mean of the meshes'
 * material colours (glTF base colour, else diffuse colour), unless options->color is set.
 *
 * Units: model units times `scale` are metres. Assimp keeps each format's own units
 * (FBX files in centimetres stay in centimetres): use `scale` or `normalize_height`.
 * COLLADA files are brought to y-up by Assimp from their <up_axis>, so keep the default
 * up_axis for them.
 *
 * On success fills *out (caller frees with ct_symbol_free). Errors (message names `path`):
 *   CT_ERR_INPUT  file missing, unreadable or broken: "PATH: cannot load model: <Assimp's
 *                 message>"; a model without triangles; non-finite coordinates; a model
 *                 of zero height with normalize_height
 *   CT_ERR_USAGE  bad options (scale <= 0, non-finite heading, ...)
 *   CT_ERR_UNSUPPORTED  over 2^32 - 1 vertices
 *   CT_ERR_NOMEM
 * On error *out is zeroed.
 * Thread-safety: NOT safe to call from several threads at once: Assimp's C API keeps its
 * last error message in one process-wide string. Load symbols before parallel regions. */
ct_status ct_symbol_load(ct_context *ctx, const char *path, const ct_symbol_options *options,
                         ct_symbol *out);

/* Built-in symbols, in metres in the frame above, closed 2-manifold, outward normals:
 *   "pole"    street light: a 6 m post on a base with a lantern head (surface of revolution,
 *             16 sides), dark grey
 *   "box"     1 m cube, flat normals, orange
 *   "sphere"  1 m diameter UV sphere (24 x 12), smooth normals, blue
 * Unknown name -> CT_ERR_USAGE naming it. Fills *out (ct_symbol_free). Thread-safe. */
ct_status ct_symbol_builtin(ct_context *ctx, const char *name, ct_symbol *out);

/* Applies options (scale or normalize_height, heading, color; up_axis is ignored since a
 * symbol is already z-up) to a symbol in place, then moves its origin to the base centre
 * and recomputes the bounding box; e.g. to resize or turn a built-in. Errors: CT_ERR_USAGE
 * (bad options), CT_ERR_INPUT (zero height with normalize_height; symbol unchanged).
 * Thread-safe. */
ct_status ct_symbol_transform(ct_context *ctx, ct_symbol *sym, const ct_symbol_options *options);

/* Frees the arrays and zeroes the struct; NULL and zeroed symbols are fine. */
void ct_symbol_free(ct_symbol *sym);

#endif
