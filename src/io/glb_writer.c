/* GLB (binary glTF 2.0) encoder: see include/citytiler/glb.h.
 *
 * Two passes over the input: the first checks it and sizes everything (position
 * bounds, per-column statistics, the BIN layout), the JSON is then built and
 * serialised, the output is allocated once, and the second pass fills the BIN
 * chunk in place. No allocation depends on the vertex count except the output.
 *
 * Feature ID attribute: glTF requires each vertex attribute element to start on a
 * 4-byte boundary, so one feature ID costs 4 bytes per vertex whatever its type:
 * UNSIGNED_SHORT with byteStride 4 (2 bytes of zero padding), FLOAT, or interleaving
 * it after position+normal (24 + 2 bytes padded to 28). Measured on test_glb's
 * 3000-box tile (72000 vertices): 288000 bytes either way; deflated 5679 bytes
 * (UNSIGNED_SHORT + 2 zero bytes) vs 4950 (FLOAT), i.e. 0.2% of the 297 kB gzipped tile.
 * We use UNSIGNED_SHORT because the IDs stay integers (no float-to-int conversion in
 * readers, nothing to get wrong near 2^24) and fall back to FLOAT (exact up to 2^24)
 * above 65536 features, since glTF forbids UNSIGNED_INT for vertex attributes. */
#include "citytiler/glb.h"

#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "citytiler/version.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "glb_writer.c writes host-order integers and floats: little-endian hosts only"
#endif

#define GLB_MAGIC 0x46546C67u  /* "glTF" */
#define GLB_JSON 0x4E4F534Au   /* "JSON" */
#define GLB_BIN 0x004E4942u    /* "BIN\0" */

enum {
    GL_UNSIGNED_SHORT = 5123,
    GL_UNSIGNED_INT = 5125,
    GL_FLOAT = 5126,
    GL_ARRAY_BUFFER = 34962,
    GL_ELEMENT_ARRAY_BUFFER = 34963
};

#define MAX_FEATURES_USHORT 65536u       /* ids 0..65535 */
#define MAX_FEATURES_FLOAT (1u << 24)    /* floats hold integers exactly up to 2^24 */

/* ---------------------------------------------------------------- layout */

typedef struct glb_view {
    size_t offset, length;
    unsigned stride; /* 0 = none */
    int target;      /* 0 = none */
} glb_view;

typedef struct glb_layout {
    glb_view *views;
    size_t nviews;
    size_t end;   /* bytes used so far in BIN */
    int overflow; /* a size did not fit size_t or uint32 */
} glb_layout;

/* Reserves a buffer view of `len` bytes at the next multiple of `align`; returns its index. */
static int layout_add(glb_layout *L, size_t align, size_t len, unsigned stride, int target) {
    size_t off = (L->end + align - 1) / align * align;
    if (off < L->end || off + len < off) L->overflow = 1;
    glb_view *v = &L->views[L->nviews];
    v->offset = off;
    v->length = len;
    v->stride = stride;
    v->target = target;
    L->end = off + len;
    return (int)L->nviews++;
}

/* a * b, flagging overflow. */
static size_t mul_sz(glb_layout *L, size_t a, size_t b) {
    if (b != 0 && a > SIZE_MAX / b) {
        L->overflow = 1;
        return 0;
    }
    return a * b;
}

/* ---------------------------------------------------------------- metadata columns */

typedef enum col_kind { K_STRING, K_F64, K_I32, K_I64, K_BOOL } col_kind;

typedef struct col_plan {
    char *pid;          /* sanitised property id (owned) */
    const char *name;   /* original name when it differs from pid and is valid UTF-8, else NULL */
    long src;           /* -1 = features->ids, else the column in defs/rows */
    col_kind kind;
    int has_null;
    double nodata_r;
    int64_t nodata_i;
    size_t str_bytes;   /* STRING: total bytes of the values */
    int bv_values, bv_offsets;
} col_plan;

/* Valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
static int utf8_valid(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p, n;
        uint32_t cp;
        if (c < 0x80) { p++; continue; }
        if (c >= 0xC2 && c <= 0xDF) { n = 1; cp = c & 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { n = 2; cp = c & 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { n = 3; cp = c & 0x07; }
        else return 0;
        for (unsigned i = 1; i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            return 0;
        p += n + 1;
    }
    return 1;
}

static int is_ident_char(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Makes `name` an identifier ^[a-zA-Z_][a-zA-Z0-9_]*$ (malloc'd; NULL when out of memory).
 * Each other byte run of one character (a UTF-8 lead byte and its continuation bytes)
 * becomes one '_'; a leading digit is prefixed with '_'; "" becomes "_". */
static char *sanitize_ident(const char *name) {
    if (!name) name = "";
    size_t n = strlen(name);
    char *out = malloc(n + 2);
    if (!out) return NULL;
    size_t k = 0;
    if (name[0] >= '0' && name[0] <= '9') out[k++] = '_';
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if (is_ident_char(*p)) out[k++] = (char)*p;
        else if ((*p & 0xC0) != 0x80) out[k++] = '_'; /* continuation bytes are dropped */
    }
    if (k == 0) out[k++] = '_';
    out[k] = '\0';
    return out;
}

/* Is `id` already used by cols[0..n)? */
static int ident_taken(const col_plan *cols, size_t n, const char *id) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(cols[i].pid, id) == 0) return 1;
    return 0;
}

/* Sanitises and de-duplicates (against cols[0..n)) a property id; NULL when out of memory. */
static char *unique_ident(const col_plan *cols, size_t n, const char *name) {
    char *base = sanitize_ident(name);
    if (!base || !ident_taken(cols, n, base)) return base;
    size_t len = strlen(base) + 24;
    char *cand = malloc(len);
    if (!cand) {
        free(base);
        return NULL;
    }
    for (size_t k = 2;; k++) {
        snprintf(cand, len, "%s_%zu", base, k);
        if (!ident_taken(cols, n, cand)) break;
    }
    free(base);
    return cand;
}

static const char *col_string(const ct_glb_features *F, long src, size_t f) {
    if (src < 0) return F->ids[f];
    const ct_value *v = &F->rows[f][src];
    return v->is_null ? NULL : v->v.s;
}

static int real_null(const ct_value *v) { return v->is_null || isnan(v->v.r); }

/* Is `x` a non-null value of column a? */
static int real_present(const ct_glb_features *F, size_t a, double x) {
    for (size_t f = 0; f < F->nfeatures; f++) {
        const ct_value *v = &F->rows[f][a];
        if (!real_null(v) && v->v.r == x) return 1;
    }
    return 0;
}

static int int_present(const ct_glb_features *F, size_t a, int64_t x) {
    for (size_t f = 0; f < F->nfeatures; f++) {
        const ct_value *v = &F->rows[f][a];
        if (!v->is_null && v->v.i == x) return 1;
    }
    return 0;
}

/* A value of [lo, hi] not present in column a (whose values lie in [mn, mx]):
 * lo, then hi, then lo+1, lo+2, ... Returns 0 when none was found. The scans only
 * run when a candidate lies inside [mn, mx]. */
static int int_sentinel(const ct_glb_features *F, size_t a, int64_t lo, int64_t hi, int64_t mn,
                        int64_t mx, int64_t *out) {
    if (lo < mn) { *out = lo; return 1; }
    if (hi > mx) { *out = hi; return 1; }
    /* [mn, mx] covers [lo, hi]: at most nfeatures values are taken */
    for (int64_t c = lo; c < hi; c++) {
        if (!int_present(F, a, c)) { *out = c; return 1; }
        if ((uint64_t)(c - lo) > F->nfeatures) break;
    }
    return 0;
}

static double real_sentinel(const ct_glb_features *F, size_t a, double mn, double mx) {
    if (-DBL_MAX < mn) return -DBL_MAX;
    if (!real_present(F, a, -DBL_MAX)) return -DBL_MAX;
    if (DBL_MAX > mx || !real_present(F, a, DBL_MAX)) return DBL_MAX;
    double c = nextafter(-DBL_MAX, 0.0);
    while (real_present(F, a, c)) c = nextafter(c, 0.0); /* ends: nfeatures values at most */
    return c;
}

/* Column statistics and type choice (first pass over the rows). */
static ct_status plan_column(ct_context *ctx, const ct_glb_features *F, col_plan *c,
                             ct_attr_type type) {
    size_t n = F->nfeatures;
    if (c->src < 0 || type == CT_ATTR_STRING) {
        c->kind = K_STRING;
        size_t total = 0;
        for (size_t f = 0; f < n; f++) {
            const char *s = col_string(F, c->src, f);
            if (!s) { c->has_null = 1; continue; }
            size_t len = strlen(s);
            if (total + len < total) return ct_error(ctx, CT_ERR_UNSUPPORTED, "glb: strings too long");
            total += len;
        }
        if (total > UINT32_MAX)
            return ct_error(ctx, CT_ERR_UNSUPPORTED,
                            "glb: property \"%s\": %zu bytes of strings exceed UINT32 offsets",
                            c->pid, total);
        c->str_bytes = total;
        return CT_OK;
    }
    size_t a = (size_t)c->src;
    switch (type) {
    case CT_ATTR_REAL: {
        c->kind = K_F64;
        double mn = INFINITY, mx = -INFINITY;
        for (size_t f = 0; f < n; f++) {
            const ct_value *v = &F->rows[f][a];
            if (real_null(v)) { c->has_null = 1; continue; }
            if (v->v.r < mn) mn = v->v.r;
            if (v->v.r > mx) mx = v->v.r;
        }
        if (c->has_null) c->nodata_r = real_sentinel(F, a, mn, mx);
        return CT_OK;
    }
    case CT_ATTR_INT: {
        int64_t mn = INT64_MAX, mx = INT64_MIN;
        for (size_t f = 0; f < n; f++) {
            const ct_value *v = &F->rows[f][a];
            if (v->is_null) { c->has_null = 1; continue; }
            if (v->v.i < mn) mn = v->v.i;
            if (v->v.i > mx) mx = v->v.i;
        }
        int fits32 = mn >= INT32_MIN && mx <= INT32_MAX; /* also true when all null */
        c->kind = fits32 ? K_I32 : K_I64;
        if (c->has_null) {
            if (fits32 && !int_sentinel(F, a, INT32_MIN, INT32_MAX, mn, mx, &c->nodata_i))
                c->kind = K_I64;
            if (c->kind == K_I64 && !int_sentinel(F, a, INT64_MIN, INT64_MAX, mn, mx, &c->nodata_i))
                return ct_error(ctx, CT_ERR_INTERNAL, "glb: no noData value free in \"%s\"", c->pid);
        }
        return CT_OK;
    }
    case CT_ATTR_BOOL:
        c->kind = K_BOOL;
        for (size_t f = 0; f < n; f++)
            if (F->rows[f][a].is_null) c->has_null = 1;
        return CT_OK;
    default:
        return ct_error(ctx, CT_ERR_USAGE, "glb: column %zu has an unknown type %d", a, (int)type);
    }
}

static void free_cols(col_plan *cols, size_t n) {
    if (!cols) return;
    for (size_t i = 0; i < n; i++) free(cols[i].pid);
    free(cols);
}

/* ---------------------------------------------------------------- JSON helpers */

/* Every setter records a failure (out of memory) in *fail; the value is consumed. */
static void jset(int *fail, json_t *obj, const char *key, json_t *val) {
    if (json_object_set_new(obj, key, val) != 0) *fail = 1;
}
static void japp(int *fail, json_t *arr, json_t *val) {
    if (json_array_append_new(arr, val) != 0) *fail = 1;
}
static json_t *jint(long long v) { return json_integer((json_int_t)v); }

static json_t *json_view(int *fail, const glb_view *v) {
    json_t *o = json_object();
    jset(fail, o, "buffer", jint(0));
    jset(fail, o, "byteOffset", jint((long long)v->offset));
    jset(fail, o, "byteLength", jint((long long)v->length));
    if (v->stride) jset(fail, o, "byteStride", jint(v->stride));
    if (v->target) jset(fail, o, "target", jint(v->target));
    return o;
}

static json_t *json_accessor(int *fail, int view, int ctype, size_t count, const char *type) {
    json_t *o = json_object();
    jset(fail, o, "bufferView", jint(view));
    jset(fail, o, "componentType", jint(ctype));
    jset(fail, o, "count", jint((long long)count));
    jset(fail, o, "type", json_string(type));
    return o;
}

static json_t *json_vec3(int *fail, const float v[3]) {
    json_t *a = json_array();
    for (int i = 0; i < 3; i++) japp(fail, a, json_real((double)v[i]));
    return a;
}

/* EXT_structural_metadata: schema and one property table. */
static json_t *json_metadata(int *fail, const char *class_id, size_t count, const col_plan *cols,
                             size_t ncols) {
    json_t *ext = json_object(), *schema = json_object(), *classes = json_object();
    json_t *klass = json_object(), *cprops = json_object();
    json_t *tables = json_array(), *table = json_object(), *tprops = json_object();
    jset(fail, schema, "id", json_string("citytiler"));
    for (size_t i = 0; i < ncols; i++) {
        const col_plan *c = &cols[i];
        json_t *p = json_object(), *t = json_object();
        if (c->name) jset(fail, p, "name", json_string(c->name));
        switch (c->kind) {
        case K_STRING:
            jset(fail, p, "type", json_string("STRING"));
            if (c->has_null) jset(fail, p, "noData", json_string(""));
            break;
        case K_F64:
            jset(fail, p, "type", json_string("SCALAR"));
            jset(fail, p, "componentType", json_string("FLOAT64"));
            if (c->has_null) jset(fail, p, "noData", json_real(c->nodata_r));
            break;
        case K_I32:
        case K_I64:
            jset(fail, p, "type", json_string("SCALAR"));
            jset(fail, p, "componentType", json_string(c->kind == K_I32 ? "INT32" : "INT64"));
            if (c->has_null) jset(fail, p, "noData", jint(c->nodata_i));
            break;
        case K_BOOL:
            jset(fail, p, "type", json_string("BOOLEAN"));
            break;
        }
        jset(fail, cprops, c->pid, p);
        jset(fail, t, "values", jint(c->bv_values));
        if (c->kind == K_STRING) {
            jset(fail, t, "stringOffsets", jint(c->bv_offsets));
            jset(fail, t, "stringOffsetType", json_string("UINT32"));
        }
        jset(fail, tprops, c->pid, t);
    }
    /* an empty "properties" is invalid (minProperties 1): omit it */
    if (ncols) jset(fail, klass, "properties", cprops); else json_decref(cprops);
    jset(fail, classes, class_id, klass);
    jset(fail, schema, "classes", classes);
    jset(fail, ext, "schema", schema);
    jset(fail, table, "class", json_string(class_id));
    jset(fail, table, "count", jint((long long)count));
    if (ncols) jset(fail, table, "properties", tprops); else json_decref(tprops);
    japp(fail, tables, table);
    jset(fail, ext, "propertyTables", tables);
    return ext;
}

/* ---------------------------------------------------------------- BIN filling */

/* Fills column c's bufferViews (second pass over the rows). */
static void fill_column(uint8_t *bin, const glb_view *views, const ct_glb_features *F,
                        const col_plan *c) {
    size_t n = F->nfeatures;
    uint8_t *vals = bin + views[c->bv_values].offset;
    switch (c->kind) {
    case K_STRING: {
        uint8_t *offs = bin + views[c->bv_offsets].offset;
        uint32_t at = 0;
        for (size_t f = 0; f < n; f++) {
            memcpy(offs + 4 * f, &at, 4);
            const char *s = col_string(F, c->src, f);
            if (!s) continue; /* null: empty string, the noData value */
            size_t len = strlen(s);
            memcpy(vals + at, s, len);
            at += (uint32_t)len;
        }
        memcpy(offs + 4 * n, &at, 4);
        break;
    }
    case K_F64:
        for (size_t f = 0; f < n; f++) {
            const ct_value *v = &F->rows[f][c->src];
            double x = real_null(v) ? c->nodata_r : v->v.r;
            memcpy(vals + 8 * f, &x, 8);
        }
        break;
    case K_I32:
        for (size_t f = 0; f < n; f++) {
            const ct_value *v = &F->rows[f][c->src];
            int32_t x = (int32_t)(v->is_null ? c->nodata_i : v->v.i);
            memcpy(vals + 4 * f, &x, 4);
        }
        break;
    case K_I64:
        for (size_t f = 0; f < n; f++) {
            const ct_value *v = &F->rows[f][c->src];
            int64_t x = v->is_null ? c->nodata_i : v->v.i;
            memcpy(vals + 8 * f, &x, 8);
        }
        break;
    case K_BOOL:
        memset(vals, 0, (n + 7) / 8);
        for (size_t f = 0; f < n; f++) {
            const ct_value *v = &F->rows[f][c->src];
            if (!v->is_null && v->v.i) vals[f >> 3] |= (uint8_t)(1u << (f & 7));
        }
        break;
    }
}

static void put_u32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

/* ---------------------------------------------------------------- encoder */

ct_status ct_glb_encode(ct_context *ctx, const ct_glb_mesh_input *mesh,
                        const ct_glb_features *features, uint8_t **out, size_t *out_len) {
    if (out) *out = NULL;
    if (out_len) *out_len = 0;
    if (!mesh || !out || !out_len)
        return ct_error(ctx, CT_ERR_USAGE, "glb: mesh, out and out_len are required");
    const size_t nv = mesh->nverts, ni = mesh->nindices;
    if (nv == 0 || ni == 0)
        return ct_error(ctx, CT_ERR_USAGE, "glb: empty mesh (%zu vertices, %zu indices)", nv, ni);
    if (!mesh->pos || !mesh->idx)
        return ct_error(ctx, CT_ERR_USAGE, "glb: positions and indices are required");
    if (ni % 3 != 0)
        return ct_error(ctx, CT_ERR_USAGE, "glb: %zu indices is not a multiple of 3", ni);

    const ct_glb_features *F = features && features->nfeatures > 0 ? features : NULL;
    if (F) {
        if (!mesh->feature_id)
            return ct_error(ctx, CT_ERR_USAGE, "glb: %zu features but no per-vertex feature_id",
                            F->nfeatures);
        if (F->nfeatures > MAX_FEATURES_FLOAT)
            return ct_error(ctx, CT_ERR_UNSUPPORTED, "glb: %zu features (at most %u per tile)",
                            F->nfeatures, MAX_FEATURES_FLOAT);
        if (F->ndefs > 0 && (!F->defs || !F->rows))
            return ct_error(ctx, CT_ERR_USAGE, "glb: %zu columns but no defs or rows", F->ndefs);
    }

    /* pass 1: positions bounds */
    float pmin[3], pmax[3];
    for (int k = 0; k < 3; k++) pmin[k] = pmax[k] = mesh->pos[k];
    for (size_t i = 0; i < nv; i++) {
        const float *p = mesh->pos + 3 * i;
        for (int k = 0; k < 3; k++) {
            if (!isfinite(p[k]))
                return ct_error(ctx, CT_ERR_USAGE, "glb: vertex %zu has a non-finite coordinate", i);
            if (p[k] < pmin[k]) pmin[k] = p[k];
            if (p[k] > pmax[k]) pmax[k] = p[k];
        }
    }

    /* pass 1: metadata columns */
    ct_status st = CT_OK;
    col_plan *cols = NULL;
    size_t ncols = 0;
    char *class_id = NULL;
    glb_view *views = NULL;
    json_t *root = NULL;
    char *text = NULL;
    uint8_t *buf = NULL;
    if (F) {
        size_t maxcols = F->ndefs + 1;
        cols = calloc(maxcols, sizeof *cols);
        class_id = sanitize_ident(F->class_name ? F->class_name : "feature");
        if (!cols || !class_id) { st = ct_error_nomem(ctx, "glb property table plan"); goto done; }
        if (F->ids) {
            col_plan *c = &cols[ncols];
            c->src = -1;
            if (!(c->pid = unique_ident(cols, ncols, "id"))) { st = ct_error_nomem(ctx, "glb"); goto done; }
            ncols++;
            if ((st = plan_column(ctx, F, c, CT_ATTR_STRING)) != CT_OK) goto done;
        }
        for (size_t a = 0; a < F->ndefs; a++) {
            col_plan *c = &cols[ncols];
            const char *nm = F->defs[a].name ? F->defs[a].name : "";
            c->src = (long)a;
            if (!(c->pid = unique_ident(cols, ncols, nm))) { st = ct_error_nomem(ctx, "glb"); goto done; }
            ncols++;
            if (strcmp(c->pid, nm) != 0 && nm[0] && utf8_valid(nm)) c->name = nm;
            if ((st = plan_column(ctx, F, c, F->defs[a].type)) != CT_OK) goto done;
        }
    }

    /* BIN layout */
    const int fid_float = F && F->nfeatures > MAX_FEATURES_USHORT;
    const int idx_ushort = nv <= 65535; /* 65535 is the primitive restart value */
    glb_layout L = {0};
    views = calloc(4 + 2 * ncols, sizeof *views);
    if (!views) { st = ct_error_nomem(ctx, "glb buffer views"); goto done; }
    L.views = views;
    const int bv_pos = layout_add(&L, 4, mul_sz(&L, nv, 12), 0, GL_ARRAY_BUFFER);
    const int bv_nrm = mesh->nrm ? layout_add(&L, 4, mul_sz(&L, nv, 12), 0, GL_ARRAY_BUFFER) : -1;
    const int bv_fid = F ? layout_add(&L, 4, mul_sz(&L, nv, 4), fid_float ? 0 : 4, GL_ARRAY_BUFFER) : -1;
    const int bv_idx = layout_add(&L, 4, mul_sz(&L, ni, idx_ushort ? 2 : 4), 0, GL_ELEMENT_ARRAY_BUFFER);
    for (size_t i = 0; i < ncols; i++) {
        col_plan *c = &cols[i];
        size_t n = F->nfeatures;
        switch (c->kind) {
        case K_STRING:
            c->bv_values = layout_add(&L, 8, c->str_bytes, 0, 0);
            c->bv_offsets = layout_add(&L, 8, mul_sz(&L, n + 1, 4), 0, 0);
            break;
        case K_F64: case K_I64: c->bv_values = layout_add(&L, 8, mul_sz(&L, n, 8), 0, 0); break;
        case K_I32: c->bv_values = layout_add(&L, 8, mul_sz(&L, n, 4), 0, 0); break;
        case K_BOOL: c->bv_values = layout_add(&L, 8, (n + 7) / 8, 0, 0); break;
        }
    }
    const size_t bin_len = (L.end + 3) & ~(size_t)3;
    if (L.overflow || bin_len < L.end || bin_len > UINT32_MAX) {
        st = ct_error(ctx, CT_ERR_UNSUPPORTED, "glb: %zu vertices, %zu indices: over 4 GiB", nv, ni);
        goto done;
    }

    /* JSON */
    {
        int fail = 0;
        char generator[64];
        snprintf(generator, sizeof generator, "citytiler %s", ct_version());
        root = json_object();
        json_t *asset = json_object();
        jset(&fail, asset, "version", json_string("2.0"));
        jset(&fail, asset, "generator", json_string(generator));
        jset(&fail, root, "asset", asset);
        if (F) {
            json_t *used = json_array();
            japp(&fail, used, json_string("EXT_mesh_features"));
            japp(&fail, used, json_string("EXT_structural_metadata"));
            jset(&fail, root, "extensionsUsed", used);
            json_t *ext = json_object();
            jset(&fail, ext, "EXT_structural_metadata",
                 json_metadata(&fail, class_id, F->nfeatures, cols, ncols));
            jset(&fail, root, "extensions", ext);
        }
        jset(&fail, root, "scene", jint(0));
        json_t *scenes = json_array(), *scene = json_object(), *snodes = json_array();
        japp(&fail, snodes, jint(0));
        jset(&fail, scene, "nodes", snodes);
        japp(&fail, scenes, scene);
        jset(&fail, root, "scenes", scenes);

        static const int yup_to_zup[16] = {1, 0, 0, 0, 0, 0, -1, 0, 0, 1, 0, 0, 0, 0, 0, 1};
        json_t *nodes = json_array(), *node = json_object(), *matrix = json_array();
        jset(&fail, node, "mesh", jint(0));
        for (int k = 0; k < 16; k++) japp(&fail, matrix, jint(yup_to_zup[k]));
        jset(&fail, node, "matrix", matrix);
        japp(&fail, nodes, node);
        jset(&fail, root, "nodes", nodes);

        /* accessors: 0 POSITION, then NORMAL, _FEATURE_ID_0, indices as present */
        json_t *accessors = json_array(), *attrs = json_object();
        int nacc = 0;
        json_t *acc = json_accessor(&fail, bv_pos, GL_FLOAT, nv, "VEC3");
        jset(&fail, acc, "min", json_vec3(&fail, pmin));
        jset(&fail, acc, "max", json_vec3(&fail, pmax));
        japp(&fail, accessors, acc);
        jset(&fail, attrs, "POSITION", jint(nacc++));
        if (bv_nrm >= 0) {
            japp(&fail, accessors, json_accessor(&fail, bv_nrm, GL_FLOAT, nv, "VEC3"));
            jset(&fail, attrs, "NORMAL", jint(nacc++));
        }
        if (bv_fid >= 0) {
            japp(&fail, accessors, json_accessor(&fail, bv_fid, fid_float ? GL_FLOAT : GL_UNSIGNED_SHORT,
                                                 nv, "SCALAR"));
            jset(&fail, attrs, "_FEATURE_ID_0", jint(nacc++));
        }
        japp(&fail, accessors, json_accessor(&fail, bv_idx,
                                             idx_ushort ? GL_UNSIGNED_SHORT : GL_UNSIGNED_INT, ni, "SCALAR"));
        const int acc_idx = nacc++;

        json_t *prim = json_object();
        jset(&fail, prim, "attributes", attrs);
        jset(&fail, prim, "indices", jint(acc_idx));
        jset(&fail, prim, "material", jint(0));
        if (F) {
            json_t *pext = json_object(), *mf = json_object(), *fids = json_array(), *fid = json_object();
            jset(&fail, fid, "featureCount", jint((long long)F->nfeatures));
            jset(&fail, fid, "attribute", jint(0));
            jset(&fail, fid, "propertyTable", jint(0));
            japp(&fail, fids, fid);
            jset(&fail, mf, "featureIds", fids);
            jset(&fail, pext, "EXT_mesh_features", mf);
            jset(&fail, prim, "extensions", pext);
        }
        json_t *meshes = json_array(), *jmesh = json_object(), *prims = json_array();
        japp(&fail, prims, prim);
        jset(&fail, jmesh, "primitives", prims);
        japp(&fail, meshes, jmesh);
        jset(&fail, root, "meshes", meshes);

        float col[4];
        const float *bc = mesh->base_color;
        if (bc[0] == 0 && bc[1] == 0 && bc[2] == 0 && bc[3] == 0) {
            col[0] = col[1] = col[2] = 0.8f;
            col[3] = 1.0f;
        } else {
            for (int k = 0; k < 4; k++) col[k] = fminf(fmaxf(bc[k], 0.0f), 1.0f); /* NaN -> 0 */
        }
        json_t *materials = json_array(), *mat = json_object(), *pbr = json_object(), *bcf = json_array();
        for (int k = 0; k < 4; k++) japp(&fail, bcf, json_real((double)col[k]));
        jset(&fail, pbr, "baseColorFactor", bcf);
        jset(&fail, pbr, "metallicFactor", jint(0));
        jset(&fail, pbr, "roughnessFactor", jint(1));
        jset(&fail, mat, "pbrMetallicRoughness", pbr);
        if (col[3] < 1.0f) jset(&fail, mat, "alphaMode", json_string("BLEND"));
        japp(&fail, materials, mat);
        jset(&fail, root, "materials", materials);

        jset(&fail, root, "accessors", accessors);
        json_t *jviews = json_array();
        for (size_t i = 0; i < L.nviews; i++) japp(&fail, jviews, json_view(&fail, &views[i]));
        jset(&fail, root, "bufferViews", jviews);
        json_t *buffers = json_array(), *buffer = json_object();
        jset(&fail, buffer, "byteLength", jint((long long)bin_len));
        japp(&fail, buffers, buffer);
        jset(&fail, root, "buffers", buffers);

        if (fail || !(text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER))) {
            st = ct_error_nomem(ctx, "glb JSON");
            goto done;
        }
    }

    /* allocate once, then pass 2: fill */
    const size_t json_len = strlen(text);
    const size_t json_pad = (json_len + 3) & ~(size_t)3;
    const size_t total = 12 + 8 + json_pad + 8 + bin_len;
    if (total > UINT32_MAX) {
        st = ct_error(ctx, CT_ERR_UNSUPPORTED, "glb: %zu bytes exceed the GLB limit of 4 GiB", total);
        goto done;
    }
    buf = malloc(total);
    if (!buf) { st = ct_error_nomem(ctx, "glb output"); goto done; }
    put_u32(buf, GLB_MAGIC);
    put_u32(buf + 4, 2);
    put_u32(buf + 8, (uint32_t)total);
    put_u32(buf + 12, (uint32_t)json_pad);
    put_u32(buf + 16, GLB_JSON);
    memcpy(buf + 20, text, json_len);
    memset(buf + 20 + json_len, ' ', json_pad - json_len);
    uint8_t *chunk = buf + 20 + json_pad;
    put_u32(chunk, (uint32_t)bin_len);
    put_u32(chunk + 4, GLB_BIN);
    uint8_t *bin = chunk + 8;

    /* zero the gaps between views and the tail (views are in increasing offset order) */
    for (size_t i = 0, at = 0; i <= L.nviews; i++) {
        size_t next = i < L.nviews ? views[i].offset : bin_len;
        memset(bin + at, 0, next - at);
        if (i < L.nviews) at = views[i].offset + views[i].length;
    }

    memcpy(bin + views[bv_pos].offset, mesh->pos, nv * 12);
    if (bv_nrm >= 0) {
        uint8_t *dst = bin + views[bv_nrm].offset;
        size_t fixed = 0;
        for (size_t i = 0; i < nv; i++) {
            float n[3] = {mesh->nrm[3 * i], mesh->nrm[3 * i + 1], mesh->nrm[3 * i + 2]};
            float l2 = n[0] * n[0] + n[1] * n[1] + n[2] * n[2];
            if (!(fabsf(l2 - 1.0f) <= 1e-4f)) {
                float l = sqrtf(l2);
                if (isfinite(l) && l > 1e-30f) {
                    for (int k = 0; k < 3; k++) n[k] /= l;
                } else {
                    n[0] = n[1] = 0.0f;
                    n[2] = 1.0f;
                    fixed++;
                }
            }
            memcpy(dst + 12 * i, n, 12);
        }
        if (fixed)
            ct_log(ctx, CT_LOG_WARN, "glb: %zu zero or non-finite normals replaced by (0,0,1)", fixed);
    }
    if (bv_fid >= 0) {
        uint8_t *dst = bin + views[bv_fid].offset;
        const uint32_t *fid = mesh->feature_id;
        for (size_t i = 0; i < nv; i++) {
            if (fid[i] >= F->nfeatures) {
                st = ct_error(ctx, CT_ERR_USAGE, "glb: vertex %zu has feature id %u, but there are %zu features",
                              i, (unsigned)fid[i], F->nfeatures);
                goto done;
            }
            if (fid_float) {
                float x = (float)fid[i];
                memcpy(dst + 4 * i, &x, 4);
            } else {
                /* little-endian: the UNSIGNED_SHORT then 2 zero bytes of stride padding */
                memcpy(dst + 4 * i, &fid[i], 4);
            }
        }
    }
    {
        uint8_t *dst = bin + views[bv_idx].offset;
        const uint32_t *idx = mesh->idx;
        for (size_t i = 0; i < ni; i++) {
            if (idx[i] >= nv) {
                st = ct_error(ctx, CT_ERR_USAGE, "glb: index %zu is %u, but there are %zu vertices", i,
                              (unsigned)idx[i], nv);
                goto done;
            }
            if (idx_ushort) {
                uint16_t x = (uint16_t)idx[i];
                memcpy(dst + 2 * i, &x, 2);
            }
        }
        if (!idx_ushort) memcpy(dst, idx, ni * 4);
    }
    for (size_t i = 0; i < ncols; i++) fill_column(bin, views, F, &cols[i]);

    *out = buf;
    *out_len = total;
    buf = NULL;

done:
    free(buf);
    free(text);
    json_decref(root);
    free(views);
    free(class_id);
    free_cols(cols, ncols);
    return st;
}
