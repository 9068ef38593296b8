/* citytiler — a GLB (binary glTF 2.0) encoder for 3D Tiles content: one mesh,
 * one primitive, optional per-vertex feature IDs (EXT_mesh_features) and one
 * property table of feature attributes (EXT_structural_metadata).
 *
 * Output layout (little-endian):
 *   12-byte header "glTF", 2, total length
 *   JSON chunk, padded with spaces to 4 bytes
 *   BIN chunk, padded with zeros to 4 bytes; geometry bufferViews start at
 *   4-byte offsets, metadata bufferViews at 8-byte offsets
 * The root node 0 carries the y-up -> z-up matrix [1,0,0,0, 0,0,-1,0, 0,1,0,0, 0,0,0,1]
 * so that z-up input ends up z-up after the 3D Tiles y-up -> z-up rotation.
 * Same input -> same bytes; padding bytes are zero. */
#ifndef CITYTILER_GLB_H
#define CITYTILER_GLB_H

#include <stddef.h>
#include <stdint.h>
#include "citytiler/context.h"
#include "citytiler/dataset.h"
#include "citytiler/status.h"

/* One triangle mesh. Zero-initialised optional fields mean defaults. */
typedef struct ct_glb_mesh_input {
    size_t nverts;
    const float *pos;             /* 3*nverts, local frame, Z-UP (east, north, up); finite */
    const float *nrm;             /* 3*nverts unit normals, z-up, may be NULL. A normal whose
                                   * length is off by more than 1e-4 is renormalised; a zero or
                                   * non-finite one is replaced by (0,0,1) with a warning. */
    const uint32_t *feature_id;   /* nverts, feature index in [0, nfeatures), may be NULL */
    size_t nindices;              /* multiple of 3 */
    const uint32_t *idx;          /* triangles (counter-clockwise seen from outside), < nverts */
    float base_color[4];          /* linear RGBA in [0,1]; all zero = light grey (0.8,0.8,0.8,1).
                                   * Alpha < 1 gives alphaMode BLEND. */
    const double *root_matrix;    /* NULL, or a column-major 4x4 rigid transform (rotation +
                                   * translation) mapping the z-up local frame to its parent's
                                   * z-up frame (e.g. ENU -> ECEF, for implicit tiles, which
                                   * have no tile transform). Node 0 then carries
                                   * Z_UP_TO_Y_UP x root_matrix (doubles) instead of the plain
                                   * y-up -> z-up matrix. NULL gives the output described above. */
} ct_glb_mesh_input;

/* The property table: one row per feature. Feature f is the one whose vertices
 * carry feature_id == f.
 *
 * Column mapping (schema id "citytiler", class `class_name`):
 *   ids            -> property "id", STRING (omitted when ids is NULL)
 *   CT_ATTR_STRING -> STRING, UINT32 stringOffsets
 *   CT_ATTR_REAL   -> SCALAR FLOAT64
 *   CT_ATTR_INT    -> SCALAR INT32 when every value (and the noData sentinel) fits, else INT64
 *   CT_ATTR_BOOL   -> BOOLEAN (bitstream, LSB first)
 * Property ids are column names made valid identifiers (^[a-zA-Z_][a-zA-Z0-9_]*$):
 * other characters (a whole UTF-8 sequence at a time) become '_', a leading digit gets a
 * '_' prefix, clashes get "_2", "_3", ... ("id" is taken by the ids). When the id differs
 * from the column name, the original name is kept in the property's "name".
 *
 * Nulls (3D Metadata: a class property's `noData` is a sentinel value, given only when
 * the column has a null; BOOLEAN may not have one):
 *   STRING  noData ""  (a null is written as an empty string, so "" and null are the same)
 *   FLOAT64 noData -1.7976931348623157e308 (-DBL_MAX); NaN counts as null and is never
 *           written. If a value equals the sentinel, +DBL_MAX, then the next representable
 *           values above -DBL_MAX are tried, so a sentinel never collides with data.
 *   INT32   noData -2147483648 (INT32_MIN), INT64 noData INT64_MIN, with the same
 *           collision rule (type max, then min+1, min+2, ...).
 *   BOOLEAN a null is written as false (the spec allows no noData for BOOLEAN).
 * String values are written as given and must be UTF-8. */
typedef struct ct_glb_features {
    const char *class_name;        /* e.g. "building"; NULL = "feature"; sanitised like columns */
    size_t nfeatures;              /* 0 = no features (feature_id ignored) */
    const char *const *ids;        /* nfeatures strings -> property "id" (STRING); NULL entries
                                    * are nulls; NULL array = no "id" property */
    const ct_attr_def *defs;       /* further columns */
    size_t ndefs;
    const ct_value *const *rows;   /* rows[f][a] = value of column a for feature f
                                    * (may be NULL when ndefs == 0) */
} ct_glb_features;

/* Encodes one GLB into *out (malloc'd, caller frees) of *out_len bytes.
 *
 * Preconditions: nverts > 0, nindices > 0, nindices % 3 == 0, every index < nverts,
 * positions finite (else CT_ERR_USAGE). When `features` has nfeatures > 0, mesh->feature_id
 * must be given and every id < nfeatures (else CT_ERR_USAGE); nfeatures <= 2^24.
 * Feature IDs are written as _FEATURE_ID_0 (UNSIGNED_SHORT with byteStride 4 up to 65536
 * features, else FLOAT) with EXT_mesh_features featureIds[0] = {featureCount: nfeatures,
 * attribute: 0, propertyTable: 0}; feature_id without features is ignored.
 * Indices are UNSIGNED_SHORT when nverts <= 65535, else UNSIGNED_INT.
 * Errors: CT_ERR_USAGE (bad input), CT_ERR_UNSUPPORTED (GLB would exceed 4 GiB),
 * CT_ERR_NOMEM; the message is in ctx. On error *out is NULL and *out_len 0.
 * Thread-safe (no shared state). */
ct_status ct_glb_encode(ct_context *ctx, const ct_glb_mesh_input *mesh,
                        const ct_glb_features *features, uint8_t **out, size_t *out_len);

/* ---------------------------------------------------------------- compression */

typedef enum ct_glb_compression {
    CT_GLB_COMPRESSION_NONE = 0,   /* the layout described above */
    CT_GLB_COMPRESSION_MESHOPT = 1 /* EXT_meshopt_compression + KHR_mesh_quantization, see below */
} ct_glb_compression;

/* Encoder options; a zero-initialised struct (or NULL) gives ct_glb_encode's output. */
/* A column's type and noData over a whole tileset (ct_glb_plan_columns). */
typedef struct ct_glb_column_plan {
    int kind;                      /* (io/glb_internal.h's ct_glb_kind) */
    int has_null;
    double nodata_r;
    int64_t nodata_i;
} ct_glb_column_plan;

typedef struct ct_glb_options {
    ct_glb_compression compression;
    double max_position_error;     /* MESHOPT: bound in metres on the distance between an input
                                    * position and its decoded one; 0 = 0.01 (1 cm) */
    /* One per column of the features' defs (ct_glb_plan_columns over every feature of the
     * tileset), or NULL. Given, every tile declares each property alike: INT64 in every
     * tile when one value of the tileset needs it, the same noData, declared whenever a
     * feature of the tileset has a null, and "default": "" on every STRING property. NULL:
     * each tile chooses from its own rows (an attribute could be INT32 in one tile and
     * INT64 in another, under one schema id). */
    const ct_glb_column_plan *column_plans;
} ct_glb_options;

/* Plans every column of defs over rows[0..nrows) (rows[i][a]: column a of feature i) as
 * one tile would, into plans[0..ndefs). CT_ERR_NOMEM, or CT_ERR_INTERNAL when no noData
 * value is free. */
ct_status ct_glb_plan_columns(ct_context *ctx, const ct_attr_def *defs, size_t ndefs, const ct_value *const *rows,
                              size_t nrows, ct_glb_column_plan *plans);

/* What one encode wrote (filled on success when the pointer is given). Geometry = positions,
 * normals and indices; "raw" counts them as the uncompressed layout stores them (float32 VEC3
 * positions and normals, UNSIGNED_SHORT/UNSIGNED_INT indices, for the input vertex count). */
typedef struct ct_glb_stats {
    size_t nverts;               /* vertices written (MESHOPT drops vertices no triangle uses) */
    size_t geometry_raw;         /* bytes */
    size_t geometry_bytes;       /* bytes in the BIN chunk (compressed streams for MESHOPT) */
    size_t feature_id_raw;       /* _FEATURE_ID_0: 4 bytes per input vertex */
    size_t feature_id_bytes;
    size_t total_bytes;          /* the whole GLB */
    int positions_quantized;     /* MESHOPT: 1 = UNSIGNED_SHORT + node scale/translation,
                                  * 0 = FLOAT with the EXPONENTIAL filter (tile too large) */
    double max_position_error;   /* metres: largest distance input -> decoded position */
} ct_glb_stats;

/* ct_glb_encode with options, and statistics (`stats` may be NULL).
 *
 * compression = CT_GLB_COMPRESSION_MESHOPT (meshoptimizer; deterministic bytes):
 * - Reordering: triangles for the vertex cache (meshopt_optimizeVertexCache), then vertices
 *   in first-use order (meshopt_optimizeVertexFetchRemap); positions, normals and feature IDs
 *   move together, so every vertex keeps its feature ID. Unused vertices are dropped. The
 *   triangle set (as vertex triples, winding kept) is unchanged; its order is not.
 * - KHR_mesh_quantization: positions UNSIGNED_SHORT VEC3 (byteStride 8, not normalized) on
 *   a uniform grid over the mesh's bounding box; the mesh then hangs from node 1, a child of
 *   the root node 0 (whose matrix is unchanged), with "translation" = the box minimum and a
 *   uniform "scale" = the grid step, so node 1 maps the integers back to the same local frame
 *   in metres. POSITION min/max are the integer bounds. When the grid step needed for
 *   max_position_error would not fit 16 bits (extent above ~757 m at 1 cm), positions stay
 *   FLOAT (mesh on node 0 as without compression) and are stored with the EXPONENTIAL filter,
 *   with just enough mantissa bits for max_position_error.
 *   Normals: BYTE VEC3 normalized, byteStride 4 (error <= 0.5 degree). Feature IDs: as
 *   without compression (UNSIGNED_SHORT, byteStride 4, or FLOAT).
 * - EXT_meshopt_compression on the POSITION, NORMAL, _FEATURE_ID_0 (mode ATTRIBUTES) and
 *   index (mode TRIANGLES) bufferViews; their uncompressed ranges point into buffer 1, a
 *   fallback buffer without data ({"fallback": true}); the compressed bytes and the property
 *   table stay in buffer 0 (the BIN chunk). Both extensions are listed in extensionsUsed and
 *   extensionsRequired. Loaders need a meshopt decoder (CesiumJS has one).
 * - The first MESHOPT call sets meshoptimizer's index codec to version 1 (the bitstream the
 *   extension specifies, header 0xe1) with meshopt_encodeIndexVersion, once per process
 *   (pthread_once); nothing else in the process may set it back to 0.
 * - Limits: nverts < 2^32. meshoptimizer's own allocations are not checked (it aborts when
 *   out of memory).
 * Preconditions, errors and thread-safety: as ct_glb_encode. */
ct_status ct_glb_encode_ex(ct_context *ctx, const ct_glb_mesh_input *mesh,
                           const ct_glb_features *features, const ct_glb_options *options,
                           uint8_t **out, size_t *out_len, ct_glb_stats *stats);

#endif
