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
#include "io/glb_ident.h"

#include <float.h>
#include <jansson.h>
#include <math.h>
#include <meshoptimizer.h>
#include <pthread.h>
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
    GL_BYTE = 5120,
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
    size_t offset, length; /* in the BIN chunk (buffer 0) */
    unsigned stride; /* 0 = none */
    int target;      /* 0 = none */
    /* EXT_meshopt_compression (mode != NULL): offset/length above are the compressed bytes;
     * the view itself is count * mo_stride bytes at fb_offset in the fallback buffer 1 */
    const char *mode, *filter;
    size_t count, fb_offset;
    unsigned mo_stride;
} glb_view;

typedef struct glb_layout {
    glb_view *views;
    size_t nviews;
    size_t end;   /* bytes used so far in BIN */
    size_t fb_end; /* bytes used so far in the fallback buffer */
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
    int omit;           /* STRING with no bytes at all in this tile: left out of the property
                         * table (a 0-byte bufferView is invalid glTF); readers then use the
                         * class property's default "" */
    int bv_values, bv_offsets;
} col_plan;

/* Sanitises and de-duplicates (against cols[0..n)) a property id; NULL when out of memory. */
static char *unique_ident(const col_plan *cols, size_t n, const char *name) {
    const char **taken = malloc((n ? n : 1) * sizeof *taken);
    if (!taken) return NULL;
    for (size_t i = 0; i < n; i++) taken[i] = cols[i].pid;
    char *id = ct_glb_unique_ident(name, taken, n);
    free(taken);
    return id;
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
        c->omit = total == 0;
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
    if (v->mode) {
        json_t *ext = json_object(), *mo = json_object();
        jset(fail, o, "buffer", jint(1));
        jset(fail, o, "byteOffset", jint((long long)v->fb_offset));
        jset(fail, o, "byteLength", jint((long long)(v->count * v->mo_stride)));
        if (v->target == GL_ARRAY_BUFFER) jset(fail, o, "byteStride", jint(v->mo_stride));
        jset(fail, o, "target", jint(v->target));
        jset(fail, mo, "buffer", jint(0));
        jset(fail, mo, "byteOffset", jint((long long)v->offset));
        jset(fail, mo, "byteLength", jint((long long)v->length));
        jset(fail, mo, "byteStride", jint(v->mo_stride));
        jset(fail, mo, "count", jint((long long)v->count));
        jset(fail, mo, "mode", json_string(v->mode));
        if (v->filter) jset(fail, mo, "filter", json_string(v->filter));
        jset(fail, ext, "EXT_meshopt_compression", mo);
        jset(fail, o, "extensions", ext);
        return o;
    }
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
    size_t in_table = 0;
    jset(fail, schema, "id", json_string("citytiler"));
    for (size_t i = 0; i < ncols; i++) {
        const col_plan *c = &cols[i];
        json_t *p = json_object(), *t = json_object();
        if (c->name) jset(fail, p, "name", json_string(c->name));
        switch (c->kind) {
        case K_STRING:
            jset(fail, p, "type", json_string("STRING"));
            if (c->has_null) jset(fail, p, "noData", json_string(""));
            if (c->omit) jset(fail, p, "default", json_string(""));
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
        if (c->omit) {
            json_decref(t);
            continue;
        }
        in_table++;
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
    if (in_table) jset(fail, table, "properties", tprops); else json_decref(tprops);
    japp(fail, tables, table);
    jset(fail, ext, "propertyTables", tables);
    return ext;
}

/* ---------------------------------------------------------------- BIN filling */

/* Fills column c's bufferViews (second pass over the rows). */
static void fill_column(uint8_t *bin, const glb_view *views, const ct_glb_features *F,
                        const col_plan *c) {
    size_t n = F->nfeatures;
    if (c->omit) return;
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

/* ---------------------------------------------------------------- normals */

/* Unit normal for the input normal n: kept when its length is within 1e-4 of 1, else
 * renormalised; a zero or non-finite one becomes (0,0,1) and *fixed is incremented. */
static void unit_normal(const float *n, float out[3], size_t *fixed) {
    out[0] = n[0];
    out[1] = n[1];
    out[2] = n[2];
    float l2 = out[0] * out[0] + out[1] * out[1] + out[2] * out[2];
    if (fabsf(l2 - 1.0f) <= 1e-4f) return;
    float l = sqrtf(l2);
    if (isfinite(l) && l > 1e-30f) {
        for (int k = 0; k < 3; k++) out[k] /= l;
    } else {
        out[0] = out[1] = 0.0f;
        out[2] = 1.0f;
        (*fixed)++;
    }
}

/* ---------------------------------------------------------------- meshopt compression
 *
 * mo_prepare reorders, quantises and encodes the geometry streams before the layout is
 * planned; the encoder then only copies the compressed bytes into the BIN chunk. */

typedef struct mo_stream {
    uint8_t *data;   /* compressed bytes (malloc'd) */
    size_t len;      /* compressed length */
    size_t count;    /* elements */
    unsigned stride; /* bytes per element once decoded */
} mo_stream;

typedef struct mo_geom {
    size_t nv;                  /* vertices written */
    int quantized;              /* positions UNSIGNED_SHORT (else FLOAT + EXPONENTIAL filter) */
    double translation[3], scale;
    long qmin[3], qmax[3];      /* quantized: integer bounds */
    float pmin[3], pmax[3];     /* float: bounds of the decoded positions */
    double max_err;             /* metres */
    mo_stream pos, nrm, fid, idx;
} mo_geom;

static void mo_free(mo_geom *g) {
    free(g->pos.data);
    free(g->nrm.data);
    free(g->fid.data);
    free(g->idx.data);
}

static pthread_once_t mo_once = PTHREAD_ONCE_INIT;
/* EXT_meshopt_compression's TRIANGLES bitstream is index codec version 1 (header 0xe1);
 * meshoptimizer 0.18 encodes version 0 unless told otherwise. */
static void mo_init(void) { meshopt_encodeIndexVersion(1); }

/* Encodes `count` elements of `stride` bytes (attribute codec); 0 on success. */
static int mo_encode_attr(mo_stream *s, const void *data, size_t count, unsigned stride) {
    size_t cap = meshopt_encodeVertexBufferBound(count, stride);
    s->data = malloc(cap);
    if (!s->data) return -1;
    s->len = meshopt_encodeVertexBuffer(s->data, cap, data, count, stride);
    s->count = count;
    s->stride = stride;
    return s->len == 0 || s->data[0] != 0xa0 ? -2 : 0;
}

/* Smallest exponential-filter mantissa width K (<= 24) for which every coordinate whose
 * vector's largest |component| is <= maxabs decodes within `err` (per coordinate). The
 * filter stores 2^e * m with e = (frexp exponent of the vector's largest |component|) - (K-1). */
static int mo_exp_bits(double maxabs, double err) {
    int e;
    (void)frexp(maxabs, &e);
    for (int k = 1; k <= 24; k++)
        if (ldexp(0.5, e - (k - 1)) <= err) return k;
    return 24;
}

/* Reorders, quantises and compresses the mesh (indices and feature ids already checked). */
static ct_status mo_prepare(ct_context *ctx, const ct_glb_mesh_input *mesh, int with_fid,
                            int fid_float, double tol, mo_geom *g) {
    const size_t nv = mesh->nverts, ni = mesh->nindices;
    ct_status st = CT_OK;
    memset(g, 0, sizeof *g);
    if (nv > UINT32_MAX || ni > SIZE_MAX / 16 || nv > SIZE_MAX / 16)
        return ct_error(ctx, CT_ERR_UNSUPPORTED, "glb: %zu vertices: too many to compress", nv);
    pthread_once(&mo_once, mo_init);

    unsigned int *idx = malloc(ni * sizeof *idx);
    unsigned int *remap = malloc(nv * sizeof *remap);
    unsigned int *src = malloc(nv * sizeof *src); /* new vertex -> input vertex */
    void *tmp = malloc(nv * 16);                  /* one attribute stream at a time */
    void *tmp2 = NULL;
    if (!idx || !remap || !src || !tmp) { st = ct_error_nomem(ctx, "glb compression"); goto out; }

    /* triangles for the vertex cache, then vertices in first-use order */
    meshopt_optimizeVertexCache(idx, mesh->idx, ni, nv);
    const size_t nv2 = meshopt_optimizeVertexFetchRemap(remap, idx, ni, nv);
    for (size_t i = 0; i < nv; i++)
        if (remap[i] != ~0u) src[remap[i]] = (unsigned)i;
    for (size_t i = 0; i < ni; i++) idx[i] = remap[idx[i]];
    g->nv = nv2;

    /* positions */
    float pmin[3], pmax[3];
    for (int k = 0; k < 3; k++) {
        pmin[k] = INFINITY;
        pmax[k] = -INFINITY;
    }
    for (size_t i = 0; i < nv2; i++)
        for (int k = 0; k < 3; k++) {
            float x = mesh->pos[3 * (size_t)src[i] + k];
            if (x < pmin[k]) pmin[k] = x;
            if (x > pmax[k]) pmax[k] = x;
        }
    double extent = 0;
    for (int k = 0; k < 3; k++) extent = fmax(extent, (double)pmax[k] - (double)pmin[k]);
    double step = extent > 0 ? extent / 65535.0 : 1.0;
    g->quantized = step * sqrt(3.0) / 2.0 <= tol;
    if (g->quantized) {
        uint16_t *q = tmp;
        memset(q, 0, nv2 * 8);
        for (int k = 0; k < 3; k++) {
            g->translation[k] = pmin[k];
            g->qmin[k] = 65535;
            g->qmax[k] = 0;
        }
        g->scale = step;
        for (size_t i = 0; i < nv2; i++) {
            const float *p = mesh->pos + 3 * (size_t)src[i];
            double d2 = 0;
            for (int k = 0; k < 3; k++) {
                double v = nearbyint(((double)p[k] - g->translation[k]) / step);
                long qi = v < 0 ? 0 : v > 65535 ? 65535 : (long)v;
                q[4 * i + k] = (uint16_t)qi;
                if (qi < g->qmin[k]) g->qmin[k] = qi;
                if (qi > g->qmax[k]) g->qmax[k] = qi;
                double e = g->translation[k] + step * (double)qi - (double)p[k];
                d2 += e * e;
            }
            g->max_err = fmax(g->max_err, sqrt(d2));
        }
        if (mo_encode_attr(&g->pos, q, nv2, 8) == -1) { st = ct_error_nomem(ctx, "glb compression"); goto out; }
    } else {
        float *f = tmp;
        double maxabs = 0;
        for (size_t i = 0; i < nv2; i++)
            for (int k = 0; k < 3; k++) {
                f[3 * i + k] = mesh->pos[3 * (size_t)src[i] + k];
                maxabs = fmax(maxabs, fabs((double)f[3 * i + k]));
            }
        int bits = mo_exp_bits(maxabs, tol / sqrt(3.0));
        tmp2 = malloc(nv2 * 12);
        if (!tmp2) { st = ct_error_nomem(ctx, "glb compression"); goto out; }
        meshopt_encodeFilterExp(tmp2, nv2, 12, bits, f);
        /* decode a copy for the exact bounds and the error */
        float *dec = malloc(nv2 * 12);
        if (!dec) { st = ct_error_nomem(ctx, "glb compression"); goto out; }
        memcpy(dec, tmp2, nv2 * 12);
        meshopt_decodeFilterExp(dec, nv2, 12);
        for (int k = 0; k < 3; k++) {
            g->pmin[k] = INFINITY;
            g->pmax[k] = -INFINITY;
        }
        for (size_t i = 0; i < nv2; i++) {
            double d2 = 0;
            for (int k = 0; k < 3; k++) {
                float x = dec[3 * i + k];
                if (x < g->pmin[k]) g->pmin[k] = x;
                if (x > g->pmax[k]) g->pmax[k] = x;
                double e = (double)x - (double)f[3 * i + k];
                d2 += e * e;
            }
            g->max_err = fmax(g->max_err, sqrt(d2));
        }
        free(dec);
        if (mo_encode_attr(&g->pos, tmp2, nv2, 12) == -1) { st = ct_error_nomem(ctx, "glb compression"); goto out; }
    }
    if (g->pos.len == 0 || g->pos.data[0] != 0xa0) goto codec;

    /* normals: snorm8 x, y, z and a zero pad byte */
    if (mesh->nrm) {
        int8_t *n8 = tmp;
        size_t fixed = 0;
        for (size_t i = 0; i < nv2; i++) {
            float n[3];
            unit_normal(mesh->nrm + 3 * (size_t)src[i], n, &fixed);
            for (int k = 0; k < 3; k++) n8[4 * i + k] = (int8_t)lroundf(n[k] * 127.0f);
            n8[4 * i + 3] = 0;
        }
        if (fixed)
            ct_log(ctx, CT_LOG_WARN, "glb: %zu zero or non-finite normals replaced by (0,0,1)", fixed);
        int rc = mo_encode_attr(&g->nrm, n8, nv2, 4);
        if (rc == -1) { st = ct_error_nomem(ctx, "glb compression"); goto out; }
        if (rc) goto codec;
    }

    /* feature ids: UNSIGNED_SHORT + 2 zero bytes (little-endian uint32), or FLOAT */
    if (with_fid) {
        uint32_t *w = tmp;
        for (size_t i = 0; i < nv2; i++) {
            uint32_t id = mesh->feature_id[src[i]];
            if (fid_float) {
                float x = (float)id;
                memcpy(&w[i], &x, 4);
            } else {
                w[i] = id;
            }
        }
        int rc = mo_encode_attr(&g->fid, w, nv2, 4);
        if (rc == -1) { st = ct_error_nomem(ctx, "glb compression"); goto out; }
        if (rc) goto codec;
    }

    /* indices */
    {
        size_t cap = meshopt_encodeIndexBufferBound(ni, nv2);
        g->idx.data = malloc(cap);
        if (!g->idx.data) { st = ct_error_nomem(ctx, "glb compression"); goto out; }
        g->idx.len = meshopt_encodeIndexBuffer(g->idx.data, cap, idx, ni);
        g->idx.count = ni;
        g->idx.stride = nv2 <= 65535 ? 2 : 4;
        if (g->idx.len == 0 || g->idx.data[0] != 0xe1) goto codec;
    }
    goto out;

codec:
    st = ct_error(ctx, CT_ERR_INTERNAL,
                  "glb: meshoptimizer produced an unexpected bitstream (codec version changed?)");
out:
    free(idx);
    free(remap);
    free(src);
    free(tmp);
    free(tmp2);
    if (st != CT_OK) mo_free(g);
    return st;
}

/* Reserves a compressed view: st->len bytes in BIN at a 4-byte boundary, and its decoded
 * range (count * stride) in the fallback buffer at a 4-byte boundary. */
static int layout_add_mo(glb_layout *L, const mo_stream *st, int target, const char *mode,
                         const char *filter) {
    int i = layout_add(L, 4, st->len, 0, target);
    glb_view *v = &L->views[i];
    size_t raw = mul_sz(L, st->count, st->stride);
    size_t off = (L->fb_end + 3) & ~(size_t)3;
    if (off < L->fb_end || off + raw < off) L->overflow = 1;
    v->mode = mode;
    v->filter = filter;
    v->count = st->count;
    v->mo_stride = st->stride;
    v->fb_offset = off;
    L->fb_end = off + raw;
    return i;
}

/* ---------------------------------------------------------------- encoder */

ct_status ct_glb_encode(ct_context *ctx, const ct_glb_mesh_input *mesh,
                        const ct_glb_features *features, uint8_t **out, size_t *out_len) {
    return ct_glb_encode_ex(ctx, mesh, features, NULL, out, out_len, NULL);
}

ct_status ct_glb_encode_ex(ct_context *ctx, const ct_glb_mesh_input *mesh,
                           const ct_glb_features *features, const ct_glb_options *options,
                           uint8_t **out, size_t *out_len, ct_glb_stats *stats) {
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
    for (int k = 0; mesh->root_matrix && k < 16; k++)
        if (!isfinite(mesh->root_matrix[k]))
            return ct_error(ctx, CT_ERR_USAGE, "glb: root_matrix has a non-finite element");

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
    const int compress = options && options->compression == CT_GLB_COMPRESSION_MESHOPT;
    if (options && options->compression != CT_GLB_COMPRESSION_NONE && !compress)
        return ct_error(ctx, CT_ERR_USAGE, "glb: unknown compression %d", (int)options->compression);
    double tol = options && options->max_position_error > 0 ? options->max_position_error : 0.01;
    if (compress && !isfinite(tol))
        return ct_error(ctx, CT_ERR_USAGE, "glb: max_position_error must be finite");

    /* pass 1: indices and feature ids in range */
    for (size_t i = 0; i < ni; i++)
        if (mesh->idx[i] >= nv)
            return ct_error(ctx, CT_ERR_USAGE, "glb: index %zu is %u, but there are %zu vertices", i,
                            (unsigned)mesh->idx[i], nv);
    if (F)
        for (size_t i = 0; i < nv; i++)
            if (mesh->feature_id[i] >= F->nfeatures)
                return ct_error(ctx, CT_ERR_USAGE,
                                "glb: vertex %zu has feature id %u, but there are %zu features", i,
                                (unsigned)mesh->feature_id[i], F->nfeatures);

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
    mo_geom mo;
    memset(&mo, 0, sizeof mo);
    if (F) {
        size_t maxcols = F->ndefs + 1;
        cols = calloc(maxcols, sizeof *cols);
        class_id = ct_glb_ident(F->class_name ? F->class_name : "feature");
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
            if (strcmp(c->pid, nm) != 0 && nm[0] && ct_glb_utf8_valid(nm)) c->name = nm;
            if ((st = plan_column(ctx, F, c, F->defs[a].type)) != CT_OK) goto done;
        }
    }

    /* compression: reorder, quantise, encode */
    const int fid_float = F && F->nfeatures > MAX_FEATURES_USHORT;
    if (compress && (st = mo_prepare(ctx, mesh, F != NULL, fid_float, tol, &mo)) != CT_OK) goto done;
    const size_t nvw = compress ? mo.nv : nv;       /* vertices written */
    const int quantized = compress && mo.quantized; /* positions UNSIGNED_SHORT under node 1 */

    /* BIN layout */
    const int idx_ushort = nvw <= 65535; /* 65535 is the primitive restart value */
    glb_layout L = {0};
    views = calloc(4 + 2 * ncols, sizeof *views);
    if (!views) { st = ct_error_nomem(ctx, "glb buffer views"); goto done; }
    L.views = views;
    int bv_pos, bv_nrm = -1, bv_fid = -1, bv_idx;
    if (compress) {
        bv_pos = layout_add_mo(&L, &mo.pos, GL_ARRAY_BUFFER, "ATTRIBUTES", quantized ? NULL : "EXPONENTIAL");
        if (mesh->nrm) bv_nrm = layout_add_mo(&L, &mo.nrm, GL_ARRAY_BUFFER, "ATTRIBUTES", NULL);
        if (F) bv_fid = layout_add_mo(&L, &mo.fid, GL_ARRAY_BUFFER, "ATTRIBUTES", NULL);
        bv_idx = layout_add_mo(&L, &mo.idx, GL_ELEMENT_ARRAY_BUFFER, "TRIANGLES", NULL);
    } else {
        bv_pos = layout_add(&L, 4, mul_sz(&L, nv, 12), 0, GL_ARRAY_BUFFER);
        if (mesh->nrm) bv_nrm = layout_add(&L, 4, mul_sz(&L, nv, 12), 0, GL_ARRAY_BUFFER);
        if (F) bv_fid = layout_add(&L, 4, mul_sz(&L, nv, 4), fid_float ? 0 : 4, GL_ARRAY_BUFFER);
        bv_idx = layout_add(&L, 4, mul_sz(&L, ni, idx_ushort ? 2 : 4), 0, GL_ELEMENT_ARRAY_BUFFER);
    }
    for (size_t i = 0; i < ncols; i++) {
        col_plan *c = &cols[i];
        size_t n = F->nfeatures;
        switch (c->kind) {
        case K_STRING:
            if (c->omit) break;
            c->bv_values = layout_add(&L, 8, c->str_bytes, 0, 0);
            c->bv_offsets = layout_add(&L, 8, mul_sz(&L, n + 1, 4), 0, 0);
            break;
        case K_F64: case K_I64: c->bv_values = layout_add(&L, 8, mul_sz(&L, n, 8), 0, 0); break;
        case K_I32: c->bv_values = layout_add(&L, 8, mul_sz(&L, n, 4), 0, 0); break;
        case K_BOOL: c->bv_values = layout_add(&L, 8, (n + 7) / 8, 0, 0); break;
        }
    }
    const size_t bin_len = (L.end + 3) & ~(size_t)3;
    const size_t fb_len = (L.fb_end + 3) & ~(size_t)3;
    if (L.overflow || bin_len < L.end || bin_len > UINT32_MAX || fb_len < L.fb_end || fb_len > UINT32_MAX) {
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
        const int uses_quant = quantized || (compress && mesh->nrm);
        if (F || compress) {
            json_t *used = json_array();
            if (F) {
                japp(&fail, used, json_string("EXT_mesh_features"));
                japp(&fail, used, json_string("EXT_structural_metadata"));
            }
            if (compress) {
                json_t *req = json_array();
                japp(&fail, used, json_string("EXT_meshopt_compression"));
                japp(&fail, req, json_string("EXT_meshopt_compression"));
                if (uses_quant) {
                    japp(&fail, used, json_string("KHR_mesh_quantization"));
                    japp(&fail, req, json_string("KHR_mesh_quantization"));
                }
                jset(&fail, root, "extensionsUsed", used);
                jset(&fail, root, "extensionsRequired", req);
            } else {
                jset(&fail, root, "extensionsUsed", used);
            }
        }
        if (F) {
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
        double placed[16];
        if (mesh->root_matrix) {
            /* yup_to_zup x root_matrix: rows of the product are rows 0, 2, -1 of root_matrix */
            const double *r = mesh->root_matrix;
            for (int c = 0; c < 4; c++) {
                placed[4 * c] = r[4 * c];
                placed[4 * c + 1] = r[4 * c + 2];
                placed[4 * c + 2] = -r[4 * c + 1];
                placed[4 * c + 3] = r[4 * c + 3];
            }
        }
        if (quantized) {
            /* node 1 maps the UNSIGNED_SHORT grid back to metres in the local frame */
            json_t *children = json_array(), *qnode = json_object();
            json_t *tr = json_array(), *sc = json_array();
            japp(&fail, children, jint(1));
            jset(&fail, node, "children", children);
            jset(&fail, qnode, "mesh", jint(0));
            for (int k = 0; k < 3; k++) {
                japp(&fail, tr, json_real(mo.translation[k]));
                japp(&fail, sc, json_real(mo.scale));
            }
            jset(&fail, qnode, "translation", tr);
            jset(&fail, qnode, "scale", sc);
            for (int k = 0; k < 16; k++)
                japp(&fail, matrix, mesh->root_matrix ? json_real(placed[k] + 0.0) : jint(yup_to_zup[k]));
            jset(&fail, node, "matrix", matrix);
            japp(&fail, nodes, node);
            japp(&fail, nodes, qnode);
        } else {
            jset(&fail, node, "mesh", jint(0));
            for (int k = 0; k < 16; k++)
                japp(&fail, matrix, mesh->root_matrix ? json_real(placed[k] + 0.0) : jint(yup_to_zup[k]));
            jset(&fail, node, "matrix", matrix);
            japp(&fail, nodes, node);
        }
        jset(&fail, root, "nodes", nodes);

        /* accessors: 0 POSITION, then NORMAL, _FEATURE_ID_0, indices as present */
        json_t *accessors = json_array(), *attrs = json_object();
        int nacc = 0;
        json_t *acc = json_accessor(&fail, bv_pos, quantized ? GL_UNSIGNED_SHORT : GL_FLOAT, nvw, "VEC3");
        if (quantized) {
            json_t *qmn = json_array(), *qmx = json_array();
            for (int k = 0; k < 3; k++) {
                japp(&fail, qmn, jint(mo.qmin[k]));
                japp(&fail, qmx, jint(mo.qmax[k]));
            }
            jset(&fail, acc, "min", qmn);
            jset(&fail, acc, "max", qmx);
        } else {
            jset(&fail, acc, "min", json_vec3(&fail, compress ? mo.pmin : pmin));
            jset(&fail, acc, "max", json_vec3(&fail, compress ? mo.pmax : pmax));
        }
        japp(&fail, accessors, acc);
        jset(&fail, attrs, "POSITION", jint(nacc++));
        if (bv_nrm >= 0) {
            json_t *an = json_accessor(&fail, bv_nrm, compress ? GL_BYTE : GL_FLOAT, nvw, "VEC3");
            if (compress) jset(&fail, an, "normalized", json_true());
            japp(&fail, accessors, an);
            jset(&fail, attrs, "NORMAL", jint(nacc++));
        }
        if (bv_fid >= 0) {
            japp(&fail, accessors, json_accessor(&fail, bv_fid, fid_float ? GL_FLOAT : GL_UNSIGNED_SHORT,
                                                 nvw, "SCALAR"));
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
        if (compress) {
            /* the fallback buffer: no data, only the decoded views' ranges */
            json_t *fb = json_object(), *fbext = json_object(), *fbmo = json_object();
            jset(&fail, fb, "byteLength", jint((long long)fb_len));
            jset(&fail, fbmo, "fallback", json_true());
            jset(&fail, fbext, "EXT_meshopt_compression", fbmo);
            jset(&fail, fb, "extensions", fbext);
            japp(&fail, buffers, fb);
        }
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

    if (compress) {
        memcpy(bin + views[bv_pos].offset, mo.pos.data, mo.pos.len);
        if (bv_nrm >= 0) memcpy(bin + views[bv_nrm].offset, mo.nrm.data, mo.nrm.len);
        if (bv_fid >= 0) memcpy(bin + views[bv_fid].offset, mo.fid.data, mo.fid.len);
        memcpy(bin + views[bv_idx].offset, mo.idx.data, mo.idx.len);
    } else {
        memcpy(bin + views[bv_pos].offset, mesh->pos, nv * 12);
        if (bv_nrm >= 0) {
            uint8_t *dst = bin + views[bv_nrm].offset;
            size_t fixed = 0;
            for (size_t i = 0; i < nv; i++) {
                float n[3];
                unit_normal(mesh->nrm + 3 * i, n, &fixed);
                memcpy(dst + 12 * i, n, 12);
            }
            if (fixed)
                ct_log(ctx, CT_LOG_WARN, "glb: %zu zero or non-finite normals replaced by (0,0,1)", fixed);
        }
        if (bv_fid >= 0) {
            uint8_t *dst = bin + views[bv_fid].offset;
            const uint32_t *fid = mesh->feature_id;
            for (size_t i = 0; i < nv; i++) {
                if (fid_float) {
                    float x = (float)fid[i];
                    memcpy(dst + 4 * i, &x, 4);
                } else {
                    /* little-endian: the UNSIGNED_SHORT then 2 zero bytes of stride padding */
                    memcpy(dst + 4 * i, &fid[i], 4);
                }
            }
        }
        uint8_t *dst = bin + views[bv_idx].offset;
        if (idx_ushort) {
            for (size_t i = 0; i < ni; i++) {
                uint16_t x = (uint16_t)mesh->idx[i];
                memcpy(dst + 2 * i, &x, 2);
            }
        } else {
            memcpy(dst, mesh->idx, ni * 4);
        }
    }
    for (size_t i = 0; i < ncols; i++) fill_column(bin, views, F, &cols[i]);

    if (stats) {
        memset(stats, 0, sizeof *stats);
        stats->nverts = nvw;
        stats->geometry_raw = nv * 12 + (mesh->nrm ? nv * 12 : 0) + ni * (nv <= 65535 ? 2 : 4);
        stats->geometry_bytes = views[bv_pos].length + (bv_nrm >= 0 ? views[bv_nrm].length : 0) +
                                views[bv_idx].length;
        stats->feature_id_raw = F ? nv * 4 : 0;
        stats->feature_id_bytes = bv_fid >= 0 ? views[bv_fid].length : 0;
        stats->total_bytes = total;
        stats->positions_quantized = quantized;
        stats->max_position_error = compress ? mo.max_err : 0.0;
    }
    *out = buf;
    *out_len = total;
    buf = NULL;

done:
    mo_free(&mo);
    free(buf);
    free(text);
    json_decref(root);
    free(views);
    free(class_id);
    free_cols(cols, ncols);
    return st;
}
