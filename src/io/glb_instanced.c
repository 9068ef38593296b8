/* Instanced GLB encoder: see include/citytiler/glb_instanced.h.
 *
 * Same two-pass shape as glb_writer.c: check and size everything (column statistics over
 * all sets, the BIN layout), build and serialise the JSON, allocate the output once, fill
 * the BIN chunk in place. The property-table code follows glb_writer.c's conventions
 * (types, identifiers, noData sentinels) but plans each column over the rows of every set,
 * because all the sets' tables share one class.
 *
 * Per instance the BIN chunk holds 12 (TRANSLATION) + 16 (ROTATION) + 12 (SCALE) + 2 or 4
 * (_FEATURE_ID_0) bytes plus its metadata row. The feature IDs are tightly packed
 * UNSIGNED_SHORTs: the 4-byte element alignment of glTF applies to vertex attributes, and
 * these are instance attributes (bufferViews without target); the component alignment (2)
 * holds. */
#include "citytiler/glb_instanced.h"
#include "io/glb_ident.h"

#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "citytiler/version.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "glb_instanced.c writes host-order integers and floats: little-endian hosts only"
#endif

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define GLB_MAGIC 0x46546C67u /* "glTF" */
#define GLB_JSON 0x4E4F534Au  /* "JSON" */
#define GLB_BIN 0x004E4942u   /* "BIN\0" */

enum {
    GL_UNSIGNED_SHORT = 5123,
    GL_UNSIGNED_INT = 5125,
    GL_FLOAT = 5126,
    GL_ARRAY_BUFFER = 34962,
    GL_ELEMENT_ARRAY_BUFFER = 34963
};

#define MAX_INSTANCES_USHORT 65536u    /* ids 0..65535 */
#define MAX_INSTANCES (1u << 24)       /* FLOAT ids are exact up to 2^24 */

/* ---------------------------------------------------------------- layout */

typedef struct view {
    size_t offset, length;
    int target; /* 0 = none */
} view;

typedef struct layout {
    view *views;
    size_t nviews;
    size_t end;
    int overflow;
} layout;

static int add_view(layout *L, size_t align, size_t len, int target) {
    size_t off = (L->end + align - 1) / align * align;
    if (off < L->end || off + len < off) L->overflow = 1;
    view *v = &L->views[L->nviews];
    v->offset = off;
    v->length = len;
    v->target = target;
    L->end = off + len;
    return (int)L->nviews++;
}

static size_t mul(layout *L, size_t a, size_t b) {
    if (b != 0 && a > SIZE_MAX / b) {
        L->overflow = 1;
        return 0;
    }
    return a * b;
}

/* ---------------------------------------------------------------- rows of all sets */


static const ct_value *cell(const ct_glb_instanced_input *in, size_t s, size_t i, long a) {
    return &in->sets[s].rows[i][a];
}

static const char *cell_string(const ct_glb_instanced_input *in, size_t s, size_t i, long src) {
    if (src < 0) return in->sets[s].ids ? in->sets[s].ids[i] : NULL;
    const ct_value *v = cell(in, s, i, src);
    return v->is_null ? NULL : v->v.s;
}

static int real_null(const ct_value *v) { return v->is_null || isnan(v->v.r); }

static int real_present(const ct_glb_instanced_input *in, long a, double x) {
    for (size_t s = 0; s < in->nsets; s++)
        for (size_t i = 0; i < in->sets[s].ninstances; i++) {
            const ct_value *v = cell(in, s, i, a);
            if (!real_null(v) && v->v.r == x) return 1;
        }
    return 0;
}

static int int_present(const ct_glb_instanced_input *in, long a, int64_t x) {
    for (size_t s = 0; s < in->nsets; s++)
        for (size_t i = 0; i < in->sets[s].ninstances; i++) {
            const ct_value *v = cell(in, s, i, a);
            if (!v->is_null && v->v.i == x) return 1;
        }
    return 0;
}

/* A value of [lo, hi] absent from column a (values in [mn, mx]): lo, hi, lo+1, lo+2, ...
 * Returns 0 when none was found among the first total+1 candidates. */
static int int_sentinel(const ct_glb_instanced_input *in, long a, size_t total, int64_t lo, int64_t hi,
                        int64_t mn, int64_t mx, int64_t *out) {
    if (lo < mn) { *out = lo; return 1; }
    if (hi > mx) { *out = hi; return 1; }
    for (int64_t c = lo; c < hi; c++) {
        if (!int_present(in, a, c)) { *out = c; return 1; }
        if ((uint64_t)(c - lo) > total) break;
    }
    return 0;
}

static double real_sentinel(const ct_glb_instanced_input *in, long a, double mn, double mx) {
    if (-DBL_MAX < mn || !real_present(in, a, -DBL_MAX)) return -DBL_MAX;
    if (DBL_MAX > mx || !real_present(in, a, DBL_MAX)) return DBL_MAX;
    double c = nextafter(-DBL_MAX, 0.0);
    while (real_present(in, a, c)) c = nextafter(c, 0.0); /* ends: a finite number of values */
    return c;
}

/* ---------------------------------------------------------------- columns */

typedef enum kind { K_STRING, K_F64, K_I32, K_I64, K_BOOL } kind;

typedef struct column {
    char *pid;          /* property id (owned) */
    const char *name;   /* original name when it differs and is valid UTF-8 */
    long src;           /* -1 = ids, else the def */
    kind k;
    int has_null;
    double nodata_r;
    int64_t nodata_i;
    size_t *str_bytes;  /* per set (STRING) */
    int *bv_values;     /* per set */
    int *bv_offsets;    /* per set (STRING) */
} column;

static char *unique_ident(const column *cols, size_t n, const char *name) {
    const char **taken = malloc((n ? n : 1) * sizeof *taken);
    if (!taken) return NULL;
    for (size_t i = 0; i < n; i++) taken[i] = cols[i].pid;
    char *id = ct_glb_unique_ident(name, taken, n);
    free(taken);
    return id;
}

static ct_status plan_column(ct_context *ctx, const ct_glb_instanced_input *in, size_t total, column *c,
                             ct_attr_type type) {
    if (c->src < 0 || type == CT_ATTR_STRING) {
        c->k = K_STRING;
        for (size_t s = 0; s < in->nsets; s++) {
            size_t sum = 0;
            for (size_t i = 0; i < in->sets[s].ninstances; i++) {
                const char *str = cell_string(in, s, i, c->src);
                if (!str) { c->has_null = 1; continue; }
                size_t len = strlen(str);
                if (sum + len < sum) return ct_error(ctx, CT_ERR_UNSUPPORTED, "glb: strings too long");
                sum += len;
            }
            if (sum > UINT32_MAX)
                return ct_error(ctx, CT_ERR_UNSUPPORTED, "glb: property \"%s\": %zu bytes of strings exceed UINT32 offsets",
                                c->pid, sum);
            c->str_bytes[s] = sum;
        }
        return CT_OK;
    }
    const long a = c->src;
    if (type == CT_ATTR_REAL) {
        c->k = K_F64;
        double mn = INFINITY, mx = -INFINITY;
        for (size_t s = 0; s < in->nsets; s++)
            for (size_t i = 0; i < in->sets[s].ninstances; i++) {
                const ct_value *v = cell(in, s, i, a);
                if (real_null(v)) { c->has_null = 1; continue; }
                mn = fmin(mn, v->v.r);
                mx = fmax(mx, v->v.r);
            }
        if (c->has_null) c->nodata_r = real_sentinel(in, a, mn, mx);
        return CT_OK;
    }
    if (type == CT_ATTR_INT) {
        int64_t mn = INT64_MAX, mx = INT64_MIN;
        for (size_t s = 0; s < in->nsets; s++)
            for (size_t i = 0; i < in->sets[s].ninstances; i++) {
                const ct_value *v = cell(in, s, i, a);
                if (v->is_null) { c->has_null = 1; continue; }
                if (v->v.i < mn) mn = v->v.i;
                if (v->v.i > mx) mx = v->v.i;
            }
        int fits32 = mn >= INT32_MIN && mx <= INT32_MAX;
        c->k = fits32 ? K_I32 : K_I64;
        if (c->has_null) {
            if (fits32 && !int_sentinel(in, a, total, INT32_MIN, INT32_MAX, mn, mx, &c->nodata_i)) c->k = K_I64;
            if (c->k == K_I64 && !int_sentinel(in, a, total, INT64_MIN, INT64_MAX, mn, mx, &c->nodata_i))
                return ct_error(ctx, CT_ERR_INTERNAL, "glb: no noData value free in \"%s\"", c->pid);
        }
        return CT_OK;
    }
    if (type == CT_ATTR_BOOL) {
        c->k = K_BOOL;
        for (size_t s = 0; s < in->nsets; s++)
            for (size_t i = 0; i < in->sets[s].ninstances; i++)
                if (cell(in, s, i, a)->is_null) c->has_null = 1;
        return CT_OK;
    }
    return ct_error(ctx, CT_ERR_USAGE, "glb: column %ld has an unknown type %d", a, (int)type);
}

static void free_columns(column *cols, size_t n) {
    if (!cols) return;
    for (size_t i = 0; i < n; i++) {
        free(cols[i].pid);
        free(cols[i].str_bytes);
        free(cols[i].bv_values);
        free(cols[i].bv_offsets);
    }
    free(cols);
}

/* Fills column c's bufferViews for set s. */
static void fill_column(uint8_t *bin, const view *views, const ct_glb_instanced_input *in, size_t s,
                        const column *c) {
    const size_t n = in->sets[s].ninstances;
    if (c->bv_values[s] < 0) return; /* omitted: no strings */
    uint8_t *vals = bin + views[c->bv_values[s]].offset;
    switch (c->k) {
    case K_STRING: {
        uint8_t *offs = bin + views[c->bv_offsets[s]].offset;
        uint32_t at = 0;
        for (size_t i = 0; i < n; i++) {
            memcpy(offs + 4 * i, &at, 4);
            const char *str = cell_string(in, s, i, c->src);
            if (!str) continue; /* null: "" (the noData value) */
            size_t len = strlen(str);
            memcpy(vals + at, str, len);
            at += (uint32_t)len;
        }
        memcpy(offs + 4 * n, &at, 4);
        break;
    }
    case K_F64:
        for (size_t i = 0; i < n; i++) {
            const ct_value *v = cell(in, s, i, c->src);
            double x = real_null(v) ? c->nodata_r : v->v.r;
            memcpy(vals + 8 * i, &x, 8);
        }
        break;
    case K_I32:
        for (size_t i = 0; i < n; i++) {
            const ct_value *v = cell(in, s, i, c->src);
            int32_t x = (int32_t)(v->is_null ? c->nodata_i : v->v.i);
            memcpy(vals + 4 * i, &x, 4);
        }
        break;
    case K_I64:
        for (size_t i = 0; i < n; i++) {
            const ct_value *v = cell(in, s, i, c->src);
            int64_t x = v->is_null ? c->nodata_i : v->v.i;
            memcpy(vals + 8 * i, &x, 8);
        }
        break;
    case K_BOOL:
        memset(vals, 0, (n + 7) / 8);
        for (size_t i = 0; i < n; i++) {
            const ct_value *v = cell(in, s, i, c->src);
            if (!v->is_null && v->v.i) vals[i >> 3] |= (uint8_t)(1u << (i & 7));
        }
        break;
    }
}

/* ---------------------------------------------------------------- JSON helpers */

static void jset(int *fail, json_t *o, const char *k, json_t *v) {
    if (json_object_set_new(o, k, v) != 0) *fail = 1;
}
static void japp(int *fail, json_t *a, json_t *v) {
    if (json_array_append_new(a, v) != 0) *fail = 1;
}
static json_t *jint(long long v) { return json_integer((json_int_t)v); }

static json_t *jaccessor(int *fail, int bv, int ctype, size_t count, const char *type) {
    json_t *o = json_object();
    jset(fail, o, "bufferView", jint(bv));
    jset(fail, o, "componentType", jint(ctype));
    jset(fail, o, "count", jint((long long)count));
    jset(fail, o, "type", json_string(type));
    return o;
}

static json_t *jvec3(int *fail, const float v[3]) {
    json_t *a = json_array();
    for (int k = 0; k < 3; k++) japp(fail, a, json_real((double)v[k]));
    return a;
}

static json_t *jmetadata(int *fail, const ct_glb_instanced_input *in, const char *class_id, const column *cols,
                         size_t ncols) {
    json_t *ext = json_object(), *schema = json_object(), *classes = json_object(), *klass = json_object();
    json_t *cprops = json_object(), *tables = json_array();
    jset(fail, schema, "id", json_string("citytiler"));
    for (size_t i = 0; i < ncols; i++) {
        const column *c = &cols[i];
        json_t *p = json_object();
        if (c->name) jset(fail, p, "name", json_string(c->name));
        switch (c->k) {
        case K_STRING:
            jset(fail, p, "type", json_string("STRING"));
            if (c->has_null) jset(fail, p, "noData", json_string(""));
            /* A set whose values are all "" leaves the property out of its table: readers
             * then use this default. */
            jset(fail, p, "default", json_string(""));
            break;
        case K_F64:
            jset(fail, p, "type", json_string("SCALAR"));
            jset(fail, p, "componentType", json_string("FLOAT64"));
            if (c->has_null) jset(fail, p, "noData", json_real(c->nodata_r));
            break;
        case K_I32:
        case K_I64:
            jset(fail, p, "type", json_string("SCALAR"));
            jset(fail, p, "componentType", json_string(c->k == K_I32 ? "INT32" : "INT64"));
            if (c->has_null) jset(fail, p, "noData", jint(c->nodata_i));
            break;
        case K_BOOL:
            jset(fail, p, "type", json_string("BOOLEAN"));
            break;
        }
        jset(fail, cprops, c->pid, p);
    }
    if (ncols) jset(fail, klass, "properties", cprops); else json_decref(cprops);
    jset(fail, classes, class_id, klass);
    jset(fail, schema, "classes", classes);
    jset(fail, ext, "schema", schema);
    for (size_t s = 0; s < in->nsets; s++) {
        json_t *table = json_object(), *tprops = json_object();
        jset(fail, table, "class", json_string(class_id));
        jset(fail, table, "count", jint((long long)in->sets[s].ninstances));
        size_t nprops = 0;
        for (size_t i = 0; i < ncols; i++) {
            const column *c = &cols[i];
            if (c->bv_values[s] < 0) continue;
            nprops++;
            json_t *t = json_object();
            jset(fail, t, "values", jint(c->bv_values[s]));
            if (c->k == K_STRING) {
                jset(fail, t, "stringOffsets", jint(c->bv_offsets[s]));
                jset(fail, t, "stringOffsetType", json_string("UINT32"));
            }
            jset(fail, tprops, c->pid, t);
        }
        if (nprops) jset(fail, table, "properties", tprops); else json_decref(tprops);
        japp(fail, tables, table);
    }
    jset(fail, ext, "propertyTables", tables);
    return ext;
}

/* ---------------------------------------------------------------- maths */

void ct_glb_heading_quat(double heading_deg, float q[4]) {
    /* clockwise seen from above = counter-clockwise by -heading about +z */
    double h = fmod(heading_deg, 360.0);
    double half = -h * (M_PI / 360.0);
    q[0] = 0.0f;
    q[1] = 0.0f;
    q[2] = (float)sin(half) + 0.0f; /* + 0.0f: no negative zero */
    q[3] = (float)cos(half) + 0.0f;
}

int ct_glb_instanced_bounds(const ct_glb_instanced_input *in, double mn[3], double mx[3]) {
    int any = 0;
    for (int k = 0; k < 3; k++) {
        mn[k] = INFINITY;
        mx[k] = -INFINITY;
    }
    if (!in || !in->sets) return -1;
    for (size_t s = 0; s < in->nsets; s++) {
        const ct_glb_instances *set = &in->sets[s];
        if (!set->symbol || !set->translation) continue;
        const float *b0 = set->symbol->bbox_min, *b1 = set->symbol->bbox_max;
        for (size_t i = 0; i < set->ninstances; i++) {
            const double h = set->heading ? -set->heading[i] * (M_PI / 180.0) : 0.0;
            const double c = cos(h), sn = sin(h);
            const float *t = set->translation + 3 * i;
            for (int corner = 0; corner < 8; corner++) {
                double p[3];
                for (int k = 0; k < 3; k++) {
                    p[k] = (corner >> k) & 1 ? b1[k] : b0[k];
                    if (set->scale) p[k] *= set->scale[3 * i + k];
                }
                double q[3] = {c * p[0] - sn * p[1] + t[0], sn * p[0] + c * p[1] + t[1], p[2] + t[2]};
                for (int k = 0; k < 3; k++) {
                    mn[k] = fmin(mn[k], q[k]);
                    mx[k] = fmax(mx[k], q[k]);
                }
            }
            any = 1;
        }
    }
    return any ? 0 : -1;
}

/* ---------------------------------------------------------------- encoder */

typedef struct set_plan {
    int bv_pos, bv_nrm, bv_idx, bv_t, bv_r, bv_s, bv_fid;
    int idx_ushort, fid_ushort;
    float pmin[3], pmax[3];
    float tmin[3], tmax[3]; /* TRANSLATION bounds: CesiumJS then skips a CPU copy for bounds */
} set_plan;

static ct_status check_set(ct_context *ctx, const ct_glb_instanced_input *in, size_t s, set_plan *P) {
    const ct_glb_instances *set = &in->sets[s];
    const ct_symbol *sym = set->symbol;
    if (!sym || sym->nverts == 0 || sym->nindices == 0 || !sym->pos || !sym->nrm || !sym->idx)
        return ct_error(ctx, CT_ERR_USAGE, "glb: set %zu has no symbol mesh", s);
    if (sym->nindices % 3 != 0)
        return ct_error(ctx, CT_ERR_USAGE, "glb: set %zu: %zu indices is not a multiple of 3", s, sym->nindices);
    if (sym->nverts > UINT32_MAX)
        return ct_error(ctx, CT_ERR_UNSUPPORTED, "glb: set %zu: %zu vertices", s, sym->nverts);
    if (set->ninstances == 0 || set->ninstances > MAX_INSTANCES)
        return ct_error(ctx, CT_ERR_USAGE, "glb: set %zu has %zu instances (1 to %u)", s, set->ninstances,
                        MAX_INSTANCES);
    if (!set->translation) return ct_error(ctx, CT_ERR_USAGE, "glb: set %zu has no translations", s);
    if (in->ndefs > 0 && !set->rows)
        return ct_error(ctx, CT_ERR_USAGE, "glb: set %zu: %zu columns but no rows", s, in->ndefs);
    for (int k = 0; k < 3; k++) P->pmin[k] = P->pmax[k] = sym->pos[k];
    for (size_t i = 0; i < sym->nverts; i++)
        for (int k = 0; k < 3; k++) {
            float v = sym->pos[3 * i + k];
            if (!isfinite(v)) return ct_error(ctx, CT_ERR_USAGE, "glb: set %zu: vertex %zu is not finite", s, i);
            P->pmin[k] = fminf(P->pmin[k], v);
            P->pmax[k] = fmaxf(P->pmax[k], v);
        }
    for (size_t i = 0; i < sym->nindices; i++)
        if (sym->idx[i] >= sym->nverts)
            return ct_error(ctx, CT_ERR_USAGE, "glb: set %zu: index %zu is %u, but there are %zu vertices", s, i,
                            (unsigned)sym->idx[i], sym->nverts);
    for (int k = 0; k < 3; k++) P->tmin[k] = P->tmax[k] = set->translation[k];
    for (size_t i = 0; i < set->ninstances; i++) {
        const float *t = set->translation + 3 * i;
        if (!isfinite(t[0]) || !isfinite(t[1]) || !isfinite(t[2]))
            return ct_error(ctx, CT_ERR_USAGE, "glb: set %zu: instance %zu has a non-finite translation", s, i);
        for (int k = 0; k < 3; k++) {
            P->tmin[k] = fminf(P->tmin[k], t[k]);
            P->tmax[k] = fmaxf(P->tmax[k], t[k]);
        }
        if (set->heading && !isfinite(set->heading[i]))
            return ct_error(ctx, CT_ERR_USAGE, "glb: set %zu: instance %zu has a non-finite heading", s, i);
        if (set->scale)
            for (int k = 0; k < 3; k++) {
                float v = set->scale[3 * i + k];
                if (!isfinite(v) || v == 0.0f)
                    return ct_error(ctx, CT_ERR_USAGE, "glb: set %zu: instance %zu has a zero or non-finite scale", s, i);
            }
    }
    P->idx_ushort = sym->nverts <= 65535;
    P->fid_ushort = set->ninstances <= MAX_INSTANCES_USHORT;
    return CT_OK;
}

ct_status ct_glb_encode_instanced(ct_context *ctx, const ct_glb_instanced_input *in, uint8_t **out,
                                  size_t *out_len) {
    if (out) *out = NULL;
    if (out_len) *out_len = 0;
    if (!in || !out || !out_len) return ct_error(ctx, CT_ERR_USAGE, "glb: input, out and out_len are required");
    if (in->nsets == 0 || !in->sets) return ct_error(ctx, CT_ERR_USAGE, "glb: no symbol sets to encode");
    if (in->ndefs > 0 && !in->defs) return ct_error(ctx, CT_ERR_USAGE, "glb: %zu columns but no defs", in->ndefs);
    const size_t ns = in->nsets;

    ct_status st = CT_OK;
    set_plan *plans = NULL;
    column *cols = NULL;
    size_t ncols = 0;
    char *class_id = NULL;
    view *views = NULL;
    json_t *root = NULL;
    char *text = NULL;
    uint8_t *buf = NULL;

    plans = calloc(ns, sizeof *plans);
    if (!plans) return ct_error_nomem(ctx, "glb set plans");
    size_t total = 0;
    int any_ids = 0;
    for (size_t s = 0; s < ns; s++) {
        if ((st = check_set(ctx, in, s, &plans[s])) != CT_OK) goto done;
        total += in->sets[s].ninstances;
        if (in->sets[s].ids) any_ids = 1;
    }

    /* columns, planned over every set */
    cols = calloc(in->ndefs + 1, sizeof *cols);
    class_id = ct_glb_ident(in->class_name ? in->class_name : "asset");
    if (!cols || !class_id) { st = ct_error_nomem(ctx, "glb property table plan"); goto done; }
    for (long a = any_ids ? -1 : 0; a < (long)in->ndefs; a++) {
        column *c = &cols[ncols];
        const char *nm = a < 0 ? "id" : in->defs[a].name ? in->defs[a].name : "";
        c->src = a;
        c->pid = unique_ident(cols, ncols, nm);
        c->str_bytes = calloc(ns, sizeof *c->str_bytes);
        c->bv_values = calloc(ns, sizeof *c->bv_values);
        c->bv_offsets = calloc(ns, sizeof *c->bv_offsets);
        ncols++;
        if (!c->pid || !c->str_bytes || !c->bv_values || !c->bv_offsets) { st = ct_error_nomem(ctx, "glb"); goto done; }
        if (a >= 0 && strcmp(c->pid, nm) != 0 && nm[0] && ct_glb_utf8_valid(nm)) c->name = nm;
        if ((st = plan_column(ctx, in, total, c, a < 0 ? CT_ATTR_STRING : in->defs[a].type)) != CT_OK) goto done;
    }

    /* BIN layout: meshes, then instance attributes, then metadata */
    layout L = {0};
    views = calloc(ns * 7 + ns * 2 * ncols, sizeof *views);
    if (!views) { st = ct_error_nomem(ctx, "glb buffer views"); goto done; }
    L.views = views;
    for (size_t s = 0; s < ns; s++) {
        const ct_symbol *sym = in->sets[s].symbol;
        set_plan *P = &plans[s];
        P->bv_pos = add_view(&L, 4, mul(&L, sym->nverts, 12), GL_ARRAY_BUFFER);
        P->bv_nrm = add_view(&L, 4, mul(&L, sym->nverts, 12), GL_ARRAY_BUFFER);
        P->bv_idx = add_view(&L, 4, mul(&L, sym->nindices, P->idx_ushort ? 2 : 4), GL_ELEMENT_ARRAY_BUFFER);
    }
    for (size_t s = 0; s < ns; s++) {
        const size_t n = in->sets[s].ninstances;
        set_plan *P = &plans[s];
        P->bv_t = add_view(&L, 4, mul(&L, n, 12), 0);
        P->bv_r = add_view(&L, 4, mul(&L, n, 16), 0);
        P->bv_s = add_view(&L, 4, mul(&L, n, 12), 0);
        P->bv_fid = add_view(&L, 4, mul(&L, n, P->fid_ushort ? 2 : 4), 0);
    }
    for (size_t s = 0; s < ns; s++) {
        const size_t n = in->sets[s].ninstances;
        for (size_t i = 0; i < ncols; i++) {
            column *c = &cols[i];
            switch (c->k) {
            case K_STRING:
                if (c->str_bytes[s] == 0) { /* all "" or null: a bufferView may not be empty, */
                    c->bv_values[s] = c->bv_offsets[s] = -1; /* so the table omits the property */
                    break;
                }
                c->bv_values[s] = add_view(&L, 8, c->str_bytes[s], 0);
                c->bv_offsets[s] = add_view(&L, 8, mul(&L, n + 1, 4), 0);
                break;
            case K_F64: case K_I64: c->bv_values[s] = add_view(&L, 8, mul(&L, n, 8), 0); break;
            case K_I32: c->bv_values[s] = add_view(&L, 8, mul(&L, n, 4), 0); break;
            case K_BOOL: c->bv_values[s] = add_view(&L, 8, (n + 7) / 8, 0); break;
            }
        }
    }
    const size_t bin_len = (L.end + 3) & ~(size_t)3;
    if (L.overflow || bin_len < L.end || bin_len > UINT32_MAX) {
        st = ct_error(ctx, CT_ERR_UNSUPPORTED, "glb: %zu instances of %zu symbols: over 4 GiB", total, ns);
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
        json_t *used = json_array(), *req = json_array();
        japp(&fail, used, json_string("EXT_mesh_gpu_instancing"));
        japp(&fail, used, json_string("EXT_instance_features"));
        japp(&fail, used, json_string("EXT_structural_metadata"));
        japp(&fail, req, json_string("EXT_mesh_gpu_instancing"));
        jset(&fail, root, "extensionsUsed", used);
        jset(&fail, root, "extensionsRequired", req);
        json_t *ext = json_object();
        jset(&fail, ext, "EXT_structural_metadata", jmetadata(&fail, in, class_id, cols, ncols));
        jset(&fail, root, "extensions", ext);
        jset(&fail, root, "scene", jint(0));
        json_t *scenes = json_array(), *scene = json_object(), *snodes = json_array();
        japp(&fail, snodes, jint(0));
        jset(&fail, scene, "nodes", snodes);
        japp(&fail, scenes, scene);
        jset(&fail, root, "scenes", scenes);

        static const int yup_to_zup[16] = {1, 0, 0, 0, 0, 0, -1, 0, 0, 1, 0, 0, 0, 0, 0, 1};
        json_t *nodes = json_array(), *rootnode = json_object(), *matrix = json_array(), *children = json_array();
        for (size_t s = 0; s < ns; s++) japp(&fail, children, jint((long long)s + 1));
        jset(&fail, rootnode, "children", children);
        for (int k = 0; k < 16; k++) japp(&fail, matrix, jint(yup_to_zup[k]));
        jset(&fail, rootnode, "matrix", matrix);
        japp(&fail, nodes, rootnode);

        json_t *accessors = json_array(), *meshes = json_array(), *materials = json_array();
        int nacc = 0;
        for (size_t s = 0; s < ns; s++) {
            const ct_glb_instances *set = &in->sets[s];
            const ct_symbol *sym = set->symbol;
            const set_plan *P = &plans[s];
            /* mesh */
            json_t *attrs = json_object(), *acc = jaccessor(&fail, P->bv_pos, GL_FLOAT, sym->nverts, "VEC3");
            jset(&fail, acc, "min", jvec3(&fail, P->pmin));
            jset(&fail, acc, "max", jvec3(&fail, P->pmax));
            japp(&fail, accessors, acc);
            jset(&fail, attrs, "POSITION", jint(nacc++));
            japp(&fail, accessors, jaccessor(&fail, P->bv_nrm, GL_FLOAT, sym->nverts, "VEC3"));
            jset(&fail, attrs, "NORMAL", jint(nacc++));
            japp(&fail, accessors, jaccessor(&fail, P->bv_idx, P->idx_ushort ? GL_UNSIGNED_SHORT : GL_UNSIGNED_INT,
                                             sym->nindices, "SCALAR"));
            json_t *prim = json_object(), *prims = json_array(), *mesh = json_object();
            jset(&fail, prim, "attributes", attrs);
            jset(&fail, prim, "indices", jint(nacc++));
            jset(&fail, prim, "material", jint((long long)s));
            japp(&fail, prims, prim);
            if (set->name) jset(&fail, mesh, "name", json_string(set->name));
            jset(&fail, mesh, "primitives", prims);
            japp(&fail, meshes, mesh);
            /* material */
            float col[4];
            const float *bc = sym->base_color;
            if (bc[0] == 0 && bc[1] == 0 && bc[2] == 0 && bc[3] == 0) {
                col[0] = col[1] = col[2] = 0.8f;
                col[3] = 1.0f;
            } else {
                for (int k = 0; k < 4; k++) col[k] = fminf(fmaxf(bc[k], 0.0f), 1.0f);
            }
            json_t *mat = json_object(), *pbr = json_object(), *bcf = json_array();
            for (int k = 0; k < 4; k++) japp(&fail, bcf, json_real((double)col[k]));
            jset(&fail, pbr, "baseColorFactor", bcf);
            jset(&fail, pbr, "metallicFactor", jint(0));
            jset(&fail, pbr, "roughnessFactor", jint(1));
            jset(&fail, mat, "pbrMetallicRoughness", pbr);
            if (col[3] < 1.0f) jset(&fail, mat, "alphaMode", json_string("BLEND"));
            japp(&fail, materials, mat);
            /* instances */
            json_t *iattrs = json_object();
            const size_t n = set->ninstances;
            json_t *tacc = jaccessor(&fail, P->bv_t, GL_FLOAT, n, "VEC3");
            jset(&fail, tacc, "min", jvec3(&fail, P->tmin));
            jset(&fail, tacc, "max", jvec3(&fail, P->tmax));
            japp(&fail, accessors, tacc);
            jset(&fail, iattrs, "TRANSLATION", jint(nacc++));
            japp(&fail, accessors, jaccessor(&fail, P->bv_r, GL_FLOAT, n, "VEC4"));
            jset(&fail, iattrs, "ROTATION", jint(nacc++));
            japp(&fail, accessors, jaccessor(&fail, P->bv_s, GL_FLOAT, n, "VEC3"));
            jset(&fail, iattrs, "SCALE", jint(nacc++));
            japp(&fail, accessors, jaccessor(&fail, P->bv_fid, P->fid_ushort ? GL_UNSIGNED_SHORT : GL_FLOAT, n, "SCALAR"));
            jset(&fail, iattrs, "_FEATURE_ID_0", jint(nacc++));
            json_t *node = json_object(), *next = json_object(), *inst = json_object(), *feat = json_object();
            json_t *fids = json_array(), *fid = json_object();
            if (set->name) jset(&fail, node, "name", json_string(set->name));
            jset(&fail, node, "mesh", jint((long long)s));
            jset(&fail, inst, "attributes", iattrs);
            jset(&fail, next, "EXT_mesh_gpu_instancing", inst);
            jset(&fail, fid, "featureCount", jint((long long)n));
            jset(&fail, fid, "propertyTable", jint((long long)s));
            jset(&fail, fid, "attribute", jint(0));
            japp(&fail, fids, fid);
            jset(&fail, feat, "featureIds", fids);
            jset(&fail, next, "EXT_instance_features", feat);
            jset(&fail, node, "extensions", next);
            japp(&fail, nodes, node);
        }
        jset(&fail, root, "nodes", nodes);
        jset(&fail, root, "meshes", meshes);
        jset(&fail, root, "materials", materials);
        jset(&fail, root, "accessors", accessors);
        json_t *jviews = json_array();
        for (size_t i = 0; i < L.nviews; i++) {
            json_t *o = json_object();
            jset(&fail, o, "buffer", jint(0));
            jset(&fail, o, "byteOffset", jint((long long)views[i].offset));
            jset(&fail, o, "byteLength", jint((long long)views[i].length));
            if (views[i].target) jset(&fail, o, "target", jint(views[i].target));
            japp(&fail, jviews, o);
        }
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

    /* allocate once, then fill */
    const size_t json_len = strlen(text);
    const size_t json_pad = (json_len + 3) & ~(size_t)3;
    const size_t glb_len = 12 + 8 + json_pad + 8 + bin_len;
    if (glb_len > UINT32_MAX || glb_len < bin_len) {
        st = ct_error(ctx, CT_ERR_UNSUPPORTED, "glb: %zu bytes exceed the GLB limit of 4 GiB", glb_len);
        goto done;
    }
    buf = malloc(glb_len);
    if (!buf) { st = ct_error_nomem(ctx, "glb output"); goto done; }
    {
        uint32_t hdr[5] = {GLB_MAGIC, 2, (uint32_t)glb_len, (uint32_t)json_pad, GLB_JSON};
        memcpy(buf, hdr, sizeof hdr);
        memcpy(buf + 20, text, json_len);
        memset(buf + 20 + json_len, ' ', json_pad - json_len);
        uint32_t bh[2] = {(uint32_t)bin_len, GLB_BIN};
        memcpy(buf + 20 + json_pad, bh, sizeof bh);
    }
    uint8_t *bin = buf + 20 + json_pad + 8;
    for (size_t i = 0, at = 0; i <= L.nviews; i++) { /* zero the gaps and the tail */
        size_t next = i < L.nviews ? views[i].offset : bin_len;
        memset(bin + at, 0, next - at);
        if (i < L.nviews) at = views[i].offset + views[i].length;
    }
    for (size_t s = 0; s < ns; s++) {
        const ct_glb_instances *set = &in->sets[s];
        const ct_symbol *sym = set->symbol;
        const set_plan *P = &plans[s];
        memcpy(bin + views[P->bv_pos].offset, sym->pos, sym->nverts * 12);
        uint8_t *dn = bin + views[P->bv_nrm].offset;
        for (size_t i = 0; i < sym->nverts; i++) {
            float n[3] = {sym->nrm[3 * i], sym->nrm[3 * i + 1], sym->nrm[3 * i + 2]};
            float l2 = n[0] * n[0] + n[1] * n[1] + n[2] * n[2];
            if (!(fabsf(l2 - 1.0f) <= 1e-4f)) {
                float l = sqrtf(l2);
                if (isfinite(l) && l > 1e-30f) {
                    for (int k = 0; k < 3; k++) n[k] /= l;
                } else {
                    n[0] = n[1] = 0.0f;
                    n[2] = 1.0f;
                }
            }
            memcpy(dn + 12 * i, n, 12);
        }
        uint8_t *di = bin + views[P->bv_idx].offset;
        if (P->idx_ushort) {
            for (size_t i = 0; i < sym->nindices; i++) {
                uint16_t x = (uint16_t)sym->idx[i];
                memcpy(di + 2 * i, &x, 2);
            }
        } else {
            memcpy(di, sym->idx, sym->nindices * 4);
        }
        const size_t n = set->ninstances;
        memcpy(bin + views[P->bv_t].offset, set->translation, n * 12);
        uint8_t *dr = bin + views[P->bv_r].offset, *ds = bin + views[P->bv_s].offset;
        uint8_t *df = bin + views[P->bv_fid].offset;
        for (size_t i = 0; i < n; i++) {
            float q[4];
            ct_glb_heading_quat(set->heading ? set->heading[i] : 0.0, q);
            memcpy(dr + 16 * i, q, 16);
            static const float one[3] = {1.0f, 1.0f, 1.0f};
            memcpy(ds + 12 * i, set->scale ? set->scale + 3 * i : one, 12);
            if (P->fid_ushort) {
                uint16_t x = (uint16_t)i;
                memcpy(df + 2 * i, &x, 2);
            } else {
                float x = (float)i;
                memcpy(df + 4 * i, &x, 4);
            }
        }
        for (size_t c = 0; c < ncols; c++) fill_column(bin, views, in, s, &cols[c]);
    }

    *out = buf;
    *out_len = glb_len;
    buf = NULL;

done:
    free(buf);
    free(text);
    json_decref(root);
    free(views);
    free(class_id);
    free_columns(cols, ncols);
    free(plans);
    return st;
}
