/* citytiler — a GLB encoder for instanced symbols (city assets and sensors): one mesh per
 * symbol, drawn once per instance with EXT_mesh_gpu_instancing, each instance a feature
 * (EXT_instance_features) with a row in that symbol's EXT_structural_metadata property table.
 *
 * Output (little-endian; same container rules as glb.h):
 *   node 0: the root, matrix y-up -> z-up [1,0,0,0, 0,0,-1,0, 0,1,0,0, 0,0,0,1], children 1..n
 *   node 1+s: mesh s, EXT_mesh_gpu_instancing {attributes: TRANSLATION, ROTATION, SCALE,
 *             _FEATURE_ID_0} and EXT_instance_features {featureIds: [{featureCount: ninstances,
 *             propertyTable: s, attribute: 0}]}
 *   meshes[s]: the symbol, POSITION + NORMAL + indices, material s (its base colour)
 *   EXT_structural_metadata: schema "citytiler", one class (default "asset"), property
 *             table s for symbol s (count = its instances; row i = instance i)
 *   extensionsUsed: EXT_mesh_gpu_instancing, EXT_instance_features, EXT_structural_metadata;
 *   extensionsRequired: EXT_mesh_gpu_instancing (without it the geometry is wrong).
 * Instance attribute accessors: TRANSLATION FLOAT VEC3 (with min/max), ROTATION FLOAT VEC4 (unit
 * quaternion x, y, z, w), SCALE FLOAT VEC3, _FEATURE_ID_0 SCALAR UNSIGNED_SHORT when the
 * symbol has at most 65536 instances, else FLOAT; each in its own bufferView without
 * `target`, tightly packed, at a 4-byte offset. Mesh bufferViews as in glb.h; metadata
 * bufferViews at 8-byte offsets. Same input -> same bytes; padding bytes are zero.
 *
 * Frames. Positions, translations and headings are in the tile's local east-north-up
 * frame, z up. glTF applies an instance's transform first and then the node chain:
 *   world_gltf = RootMatrix * (T * R * S) * vertex
 * RootMatrix maps z-up to y-up ((x, y, z) -> (x, z, -y)); 3D Tiles then maps the glTF y-up
 * result back to z-up ((x, y, z) -> (x, -z, y)); the two cancel, so a vertex v of the
 * symbol ends at ENU  translation + Rz(-heading) * (scale * v), which is what the caller
 * meant. That is why TRANSLATION, ROTATION and SCALE are written in the z-up frame, and
 * the rotation is about +z: q = (0, 0, sin(-h/2), cos(-h/2)) for heading h (degrees,
 * clockwise seen from above, like ct_asset.heading). */
#ifndef CITYTILER_GLB_INSTANCED_H
#define CITYTILER_GLB_INSTANCED_H

#include <stddef.h>
#include <stdint.h>
#include "citytiler/context.h"
#include "citytiler/dataset.h"
#include "citytiler/status.h"
#include "citytiler/symbol.h"

/* One symbol and its instances. */
typedef struct ct_glb_instances {
    const ct_symbol *symbol;       /* the mesh (z-up, metres, origin at the base centre) */
    size_t ninstances;             /* >= 1 */
    const float *translation;      /* 3*ninstances: where each base centre stands, ENU z-up */
    const double *heading;         /* ninstances degrees clockwise from north; NULL = all 0 */
    const float *scale;            /* 3*ninstances (x, y, z) factors, finite and != 0;
                                    * NULL = all (1, 1, 1) */
    const char *const *ids;        /* ninstances -> property "id" (NULL entries are nulls);
                                    * NULL = nulls (no "id" property when no set has ids) */
    const ct_value *const *rows;   /* rows[i][a]: column a of the input's defs for instance i;
                                    * may be NULL when ndefs == 0 */
    const char *name;              /* node and mesh name (e.g. the category); NULL = none */
} ct_glb_instances;

typedef struct ct_glb_instanced_input {
    const ct_glb_instances *sets;  /* nsets symbols; node/mesh/table order = this order */
    size_t nsets;                  /* >= 1 */
    const char *class_name;        /* metadata class; NULL = "asset" (sanitised like columns) */
    const ct_attr_def *defs;       /* columns shared by every set (one class) */
    size_t ndefs;
} ct_glb_instanced_input;

/* Encodes one GLB into *out (malloc'd, caller frees) of *out_len bytes.
 *
 * Columns: "id" (STRING, from ids) and then the defs, with the types, property-id
 * sanitising and noData sentinels of ct_glb_features (glb.h). Since every table uses one
 * class, a column's type (INT32 or INT64) and its noData value are chosen over the rows of
 * all sets together. A STRING column whose values in one set are all "" or null is
 * omitted from that set's table (a bufferView cannot be empty); readers then see no
 * value, the same as noData.
 *
 * Preconditions (else CT_ERR_USAGE): nsets >= 1; every set has a symbol with nverts > 0,
 * nindices > 0 and % 3 == 0, indices < nverts, finite positions; ninstances in
 * [1, 2^24]; translation given and finite; headings finite; scales finite and non-zero;
 * rows given when ndefs > 0. Errors: CT_ERR_USAGE, CT_ERR_UNSUPPORTED (over 4 GiB),
 * CT_ERR_NOMEM; the message is in ctx. On error *out is NULL and *out_len 0.
 * Thread-safe (no shared state). */
ct_status ct_glb_encode_instanced(ct_context *ctx, const ct_glb_instanced_input *in, uint8_t **out,
                                  size_t *out_len);

/* Bounding box in the tile's ENU frame (z-up) of every instance of every set: each
 * symbol's bounding box corners under the instance's transform (exact for the box, a
 * slight overestimate of the geometry when rotated). Returns 0, or -1 when there is no
 * instance. Use it for the tile content's bounding volume. */
int ct_glb_instanced_bounds(const ct_glb_instanced_input *in, double min[3], double max[3]);

/* The unit quaternion (x, y, z, w) of a heading (degrees clockwise seen from above) as a
 * rotation about +z, as written to ROTATION. */
void ct_glb_heading_quat(double heading_deg, float q[4]);

#endif
