/* Private to src/io/glb_*.c: what the buildings writer (glb_writer.c) and the instanced
 * writer (glb_instanced.c) share.
 *
 * glb_container.c: the BIN chunk layout (buffer views), the glTF JSON building blocks
 * (setters, views, accessors, asset, scene, material) and the GLB container itself.
 * glb_metadata.c: EXT_structural_metadata property tables (column types, noData
 * sentinels, string offsets, 8-byte aligned views) planned over one or more tables that
 * share one class, and filled in place.
 *
 * Both writers work in two passes: check and size everything (ct_glb_metadata_plan, the
 * layout), build the JSON, then allocate the output once (ct_glb_container) and fill the
 * BIN chunk in place. */
#ifndef CT_IO_GLB_INTERNAL_H
#define CT_IO_GLB_INTERNAL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "citytiler/context.h"
#include "citytiler/dataset.h"
#include "citytiler/glb.h"
#include "citytiler/status.h"
#include "io/glb_ident.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the GLB writers write host-order integers and floats: little-endian hosts only"
#endif

/* glTF componentType and bufferView target values */
enum {
    GL_BYTE = 5120,
    GL_UNSIGNED_SHORT = 5123,
    GL_UNSIGNED_INT = 5125,
    GL_FLOAT = 5126,
    GL_ARRAY_BUFFER = 34962,
    GL_ELEMENT_ARRAY_BUFFER = 34963
};

/* ---------------------------------------------------------------- layout (glb_container.c) */

typedef struct ct_glb_view {
    size_t offset, length; /* in the BIN chunk (buffer 0) */
    unsigned stride;       /* 0 = none */
    int target;            /* 0 = none */
    /* EXT_meshopt_compression (mode != NULL): offset/length above are the compressed bytes;
     * the view itself is count * mo_stride bytes at fb_offset in the fallback buffer 1 */
    const char *mode, *filter;
    size_t count, fb_offset;
    unsigned mo_stride;
} ct_glb_view;

typedef struct ct_glb_layout {
    ct_glb_view *views; /* room for every view the caller adds */
    size_t nviews;
    size_t end;    /* bytes used so far in BIN */
    size_t fb_end; /* bytes used so far in the fallback buffer */
    int overflow;  /* a size did not fit size_t */
} ct_glb_layout;

/* Reserves a buffer view of `len` bytes at the next multiple of `align`; returns its index.
 * Views are added in increasing offset order. */
int ct_glb_layout_add(ct_glb_layout *L, size_t align, size_t len, unsigned stride, int target);

/* a * b, flagging overflow in L. */
size_t ct_glb_mul(ct_glb_layout *L, size_t a, size_t b);

static inline size_t ct_glb_pad4(size_t n) { return (n + 3) & ~(size_t)3; }

/* ---------------------------------------------------------------- JSON (glb_container.c) */

/* Every setter records a failure (out of memory) in *fail; the value is consumed. */
static inline void ct_glb_jset(int *fail, json_t *obj, const char *key, json_t *val) {
    if (json_object_set_new(obj, key, val) != 0) *fail = 1;
}
static inline void ct_glb_japp(int *fail, json_t *arr, json_t *val) {
    if (json_array_append_new(arr, val) != 0) *fail = 1;
}
static inline json_t *ct_glb_jint(long long v) { return json_integer((json_int_t)v); }

/* A new glTF root holding only "asset" (version 2.0, generator "citytiler VERSION"). */
json_t *ct_glb_json_root(int *fail);
/* Sets "scene": 0 and "scenes": [{"nodes": [0]}]. */
void ct_glb_json_scene(int *fail, json_t *root);
/* The y-up to z-up matrix [1,0,0,0, 0,0,-1,0, 0,1,0,0, 0,0,0,1] as 16 integers. */
json_t *ct_glb_json_yup_to_zup(int *fail);
json_t *ct_glb_json_vec3(int *fail, const float v[3]);
json_t *ct_glb_json_accessor(int *fail, int view, int ctype, size_t count, const char *type);
/* Sets root's "accessors" (consumed), "bufferViews" (every view of L) and "buffers": the BIN
 * chunk of bin_len bytes, then when `fallback` the EXT_meshopt_compression fallback buffer
 * (no data, L->fb_end rounded up to 4 bytes: the decoded views' ranges). */
void ct_glb_json_buffers(int *fail, json_t *root, json_t *accessors, const ct_glb_layout *L, size_t bin_len,
                         int fallback);
/* A metallic 0, roughness 1 material of base_color (linear RGBA, clamped to [0,1], NaN
 * -> 0; all zero = (0.8, 0.8, 0.8, 1)); alphaMode BLEND when alpha < 1. */
json_t *ct_glb_json_material(int *fail, const float base_color[4]);

/* ---------------------------------------------------------------- container (glb_container.c) */

/* Serialises root and allocates the GLB (malloc'd *glb of *glb_len bytes): the header, the
 * JSON chunk padded with spaces, the BIN chunk of bin_len bytes (a multiple of 4) whose
 * bytes outside L's views are zeroed; *bin points at its data, for the caller to fill.
 * `fail` (a setter failed) reports out of memory. */
ct_status ct_glb_container(ct_context *ctx, const json_t *root, int fail, const ct_glb_layout *L,
                           size_t bin_len, uint8_t **glb, size_t *glb_len, uint8_t **bin);

/* ---------------------------------------------------------------- BIN helpers (glb_container.c) */

/* Unit normal for n: kept when its squared length is within 1e-4 of 1, else renormalised;
 * a zero or non-finite one becomes (0,0,1) and *fixed is incremented. */
void ct_glb_unit_normal(const float *n, float out[3], size_t *fixed);

/* Triangle indices as UNSIGNED_SHORT (ushort) or UNSIGNED_INT. */
void ct_glb_put_indices(uint8_t *dst, const uint32_t *idx, size_t n, int ushort);

/* ---------------------------------------------------------------- property tables (glb_metadata.c) */

/* The rows of one property table. */
typedef struct ct_glb_table_rows {
    size_t count;                /* rows (features, instances) */
    const char *const *ids;      /* count ids for the "id" column; NULL entries and a NULL
                                  * array are nulls */
    const ct_value *const *rows; /* rows[i][a] = column a of the defs; NULL when no defs */
} ct_glb_table_rows;

typedef enum ct_glb_kind { CT_GLB_STRING, CT_GLB_F64, CT_GLB_I32, CT_GLB_I64, CT_GLB_BOOL } ct_glb_kind;

typedef struct ct_glb_column {
    char *pid;         /* sanitised property id (owned) */
    const char *name;  /* original name when it differs from pid and is valid UTF-8, else NULL */
    long src;          /* -1 = ids, else the def */
    ct_glb_kind kind;
    int has_null;
    double nodata_r;
    int64_t nodata_i;
    size_t *str_bytes; /* per table (STRING): total bytes of the values */
    int *bv_values;    /* per table; -1 = left out of that table (STRING with no bytes: a
                        * 0-byte bufferView is invalid glTF; readers use the default "") */
    int *bv_offsets;   /* per table (STRING) */
} ct_glb_column;

typedef struct ct_glb_metadata {
    const ct_glb_table_rows *tables; /* borrowed */
    size_t ntables;
    size_t nrows;                    /* over all tables */
    char *class_id;
    ct_glb_column *cols;
    size_t ncols;
    int string_default;              /* 1: every STRING property has "default": "", else only
                                      * one left out of a table */
    size_t *str_bytes_all;           /* storage behind the columns' per-table arrays */
    int *bv_all;
} ct_glb_metadata;

/* Plans one class (class_name sanitised; NULL = default_class) and its columns: "id" (STRING,
 * from the tables' ids) when with_ids, then the defs. A column's type (INT32 or INT64) and
 * its noData value are chosen over the rows of every table, or taken from fixed[a] when
 * given (a tileset's: ct_glb_plan_columns). On error md is still to be freed. */
ct_status ct_glb_metadata_plan(ct_context *ctx, ct_glb_metadata *md, const char *class_name,
                               const char *default_class, int with_ids, const ct_attr_def *defs,
                               size_t ndefs, const ct_glb_table_rows *tables, size_t ntables,
                               const ct_glb_column_plan *fixed);

/* The most views ct_glb_metadata_layout adds. */
static inline size_t ct_glb_metadata_nviews(const ct_glb_metadata *md) {
    return 2 * md->ncols * md->ntables;
}

/* Reserves every table's views (8-byte aligned), table by table, column by column. */
void ct_glb_metadata_layout(ct_glb_metadata *md, ct_glb_layout *L);

/* EXT_structural_metadata: the schema (one class) and one property table per table. */
json_t *ct_glb_metadata_json(int *fail, const ct_glb_metadata *md);

/* Fills table t's views in bin (second pass over its rows). */
void ct_glb_metadata_fill(const ct_glb_metadata *md, size_t t, uint8_t *bin, const ct_glb_view *views);

void ct_glb_metadata_free(ct_glb_metadata *md);

#endif
