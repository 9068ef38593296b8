/* EXT_structural_metadata property tables shared by the GLB writers: see io/glb_internal.h.
 *
 * A column's type is chosen from its values: STRING (UINT32 offsets), FLOAT64, INT32 when
 * every value fits (else INT64), BOOLEAN (bit-packed). Nulls take a noData sentinel that no
 * value of the column uses: "" for strings, -DBL_MAX / DBL_MAX / the next free double for
 * reals, INT32_MIN / INT32_MAX / the next free integer for integers (INT64 when INT32 has
 * none free). Booleans have no noData (a null is false). */
#include "io/glb_internal.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- rows */

static const ct_value *cell(const ct_glb_metadata *md, size_t t, size_t i, long a) {
    return &md->tables[t].rows[i][a];
}

static const char *cell_string(const ct_glb_metadata *md, size_t t, size_t i, long src) {
    if (src < 0) return md->tables[t].ids ? md->tables[t].ids[i] : NULL;
    const ct_value *v = cell(md, t, i, src);
    return v->is_null ? NULL : v->v.s;
}

static int real_null(const ct_value *v) { return v->is_null || isnan(v->v.r); }

/* Is `x` a non-null value of column a? */
static int real_present(const ct_glb_metadata *md, long a, double x) {
    for (size_t t = 0; t < md->ntables; t++)
        for (size_t i = 0; i < md->tables[t].count; i++) {
            const ct_value *v = cell(md, t, i, a);
            if (!real_null(v) && v->v.r == x) return 1;
        }
    return 0;
}

static int int_present(const ct_glb_metadata *md, long a, int64_t x) {
    for (size_t t = 0; t < md->ntables; t++)
        for (size_t i = 0; i < md->tables[t].count; i++) {
            const ct_value *v = cell(md, t, i, a);
            if (!v->is_null && v->v.i == x) return 1;
        }
    return 0;
}

/* A value of [lo, hi] not present in column a (whose values lie in [mn, mx]):
 * lo, then hi, then lo+1, lo+2, ... Returns 0 when none was found. The scans only
 * run when a candidate lies inside [mn, mx]. */
static int int_sentinel(const ct_glb_metadata *md, long a, int64_t lo, int64_t hi, int64_t mn, int64_t mx,
                        int64_t *out) {
    if (lo < mn) { *out = lo; return 1; }
    if (hi > mx) { *out = hi; return 1; }
    /* [mn, mx] covers [lo, hi]: at most nrows values are taken */
    for (int64_t c = lo; c < hi; c++) {
        if (!int_present(md, a, c)) { *out = c; return 1; }
        if ((uint64_t)(c - lo) > md->nrows) break;
    }
    return 0;
}

static double real_sentinel(const ct_glb_metadata *md, long a, double mn, double mx) {
    if (-DBL_MAX < mn || !real_present(md, a, -DBL_MAX)) return -DBL_MAX;
    if (DBL_MAX > mx || !real_present(md, a, DBL_MAX)) return DBL_MAX;
    double c = nextafter(-DBL_MAX, 0.0);
    while (real_present(md, a, c)) c = nextafter(c, 0.0); /* ends: nrows values at most */
    return c;
}

/* ---------------------------------------------------------------- planning */

/* Column statistics and type choice (first pass over the rows of every table). */
static ct_status plan_column(ct_context *ctx, const ct_glb_metadata *md, ct_glb_column *c, ct_attr_type type,
                             const ct_glb_column_plan *fixed) {
    if (fixed && c->src >= 0 && type != CT_ATTR_STRING) { /* the tileset's type and noData */
        c->kind = (ct_glb_kind)fixed->kind;
        c->has_null = fixed->has_null;
        c->nodata_r = fixed->nodata_r;
        c->nodata_i = fixed->nodata_i;
        return CT_OK;
    }
    if (c->src < 0 || type == CT_ATTR_STRING) {
        c->kind = CT_GLB_STRING;
        for (size_t t = 0; t < md->ntables; t++) {
            size_t total = 0;
            for (size_t i = 0; i < md->tables[t].count; i++) {
                const char *s = cell_string(md, t, i, c->src);
                if (!s) { c->has_null = 1; continue; }
                size_t len = strlen(s);
                if (total + len < total) return ct_error(ctx, CT_ERR_UNSUPPORTED, "glb: strings too long");
                total += len;
            }
            if (total > UINT32_MAX)
                return ct_error(ctx, CT_ERR_UNSUPPORTED,
                                "glb: property \"%s\": %zu bytes of strings exceed UINT32 offsets", c->pid,
                                total);
            c->str_bytes[t] = total;
        }
        if (fixed && c->src >= 0) c->has_null = fixed->has_null;
        return CT_OK;
    }
    const long a = c->src;
    switch (type) {
    case CT_ATTR_REAL: {
        c->kind = CT_GLB_F64;
        double mn = INFINITY, mx = -INFINITY;
        for (size_t t = 0; t < md->ntables; t++)
            for (size_t i = 0; i < md->tables[t].count; i++) {
                const ct_value *v = cell(md, t, i, a);
                if (real_null(v)) { c->has_null = 1; continue; }
                if (v->v.r < mn) mn = v->v.r;
                if (v->v.r > mx) mx = v->v.r;
            }
        if (c->has_null) c->nodata_r = real_sentinel(md, a, mn, mx);
        return CT_OK;
    }
    case CT_ATTR_INT: {
        int64_t mn = INT64_MAX, mx = INT64_MIN;
        for (size_t t = 0; t < md->ntables; t++)
            for (size_t i = 0; i < md->tables[t].count; i++) {
                const ct_value *v = cell(md, t, i, a);
                if (v->is_null) { c->has_null = 1; continue; }
                if (v->v.i < mn) mn = v->v.i;
                if (v->v.i > mx) mx = v->v.i;
            }
        int fits32 = mn >= INT32_MIN && mx <= INT32_MAX; /* also true when all null */
        c->kind = fits32 ? CT_GLB_I32 : CT_GLB_I64;
        if (c->has_null) {
            if (fits32 && !int_sentinel(md, a, INT32_MIN, INT32_MAX, mn, mx, &c->nodata_i)) c->kind = CT_GLB_I64;
            if (c->kind == CT_GLB_I64 && !int_sentinel(md, a, INT64_MIN, INT64_MAX, mn, mx, &c->nodata_i))
                return ct_error(ctx, CT_ERR_INTERNAL, "glb: no noData value free in \"%s\"", c->pid);
        }
        return CT_OK;
    }
    case CT_ATTR_BOOL:
        c->kind = CT_GLB_BOOL;
        for (size_t t = 0; t < md->ntables; t++)
            for (size_t i = 0; i < md->tables[t].count; i++)
                if (cell(md, t, i, a)->is_null) c->has_null = 1;
        return CT_OK;
    default:
        return ct_error(ctx, CT_ERR_USAGE, "glb: column %ld has an unknown type %d", a, (int)type);
    }
}

/* Sanitises and de-duplicates (against cols[0..n)) a property id; NULL when out of memory. */
static char *unique_ident(const ct_glb_column *cols, size_t n, const char *name) {
    const char **taken = malloc((n ? n : 1) * sizeof *taken);
    if (!taken) return NULL;
    for (size_t i = 0; i < n; i++) taken[i] = cols[i].pid;
    char *id = ct_glb_unique_ident(name, taken, n);
    free(taken);
    return id;
}

ct_status ct_glb_metadata_plan(ct_context *ctx, ct_glb_metadata *md, const char *class_name,
                               const char *default_class, int with_ids, const ct_attr_def *defs,
                               size_t ndefs, const ct_glb_table_rows *tables, size_t ntables,
                               const ct_glb_column_plan *fixed) {
    md->tables = tables;
    if (fixed) md->string_default = 1;
    md->ntables = ntables;
    md->nrows = 0;
    for (size_t t = 0; t < ntables; t++) md->nrows += tables[t].count;
    const size_t maxcols = ndefs + 1, nt = ntables ? ntables : 1;
    md->cols = calloc(maxcols, sizeof *md->cols);
    md->str_bytes_all = calloc(maxcols * nt, sizeof *md->str_bytes_all);
    md->bv_all = calloc(2 * maxcols * nt, sizeof *md->bv_all);
    md->class_id = ct_glb_ident(class_name ? class_name : default_class);
    if (!md->cols || !md->str_bytes_all || !md->bv_all || !md->class_id)
        return ct_error_nomem(ctx, "glb property table plan");
    for (long a = with_ids ? -1 : 0; a < (long)ndefs; a++) {
        ct_glb_column *c = &md->cols[md->ncols];
        const char *nm = a < 0 ? "id" : defs[a].name ? defs[a].name : "";
        c->src = a;
        c->str_bytes = md->str_bytes_all + md->ncols * nt;
        c->bv_values = md->bv_all + 2 * md->ncols * nt;
        c->bv_offsets = c->bv_values + nt;
        if (!(c->pid = unique_ident(md->cols, md->ncols, nm))) return ct_error_nomem(ctx, "glb");
        md->ncols++;
        if (a >= 0 && strcmp(c->pid, nm) != 0 && nm[0] && ct_glb_utf8_valid(nm)) c->name = nm;
        ct_status st = plan_column(ctx, md, c, a < 0 ? CT_ATTR_STRING : defs[a].type, fixed && a >= 0 ? &fixed[a] : NULL);
        if (st != CT_OK) return st;
    }
    return CT_OK;
}

ct_status ct_glb_plan_columns(ct_context *ctx, const ct_attr_def *defs, size_t ndefs, const ct_value *const *rows,
                              size_t nrows, ct_glb_column_plan *plans) {
    ct_glb_metadata md;
    memset(&md, 0, sizeof md);
    const ct_glb_table_rows all = {nrows, NULL, rows};
    ct_status st = ct_glb_metadata_plan(ctx, &md, NULL, "feature", 0, defs, ndefs, &all, 1, NULL);
    for (size_t a = 0; st == CT_OK && a < ndefs; a++) {
        const ct_glb_column *c = &md.cols[a];
        plans[a] = (ct_glb_column_plan){(int)c->kind, c->has_null, c->nodata_r, c->nodata_i};
    }
    ct_glb_metadata_free(&md);
    return st;
}

void ct_glb_metadata_free(ct_glb_metadata *md) {
    for (size_t i = 0; md->cols && i < md->ncols; i++) free(md->cols[i].pid);
    free(md->cols);
    free(md->str_bytes_all);
    free(md->bv_all);
    free(md->class_id);
    memset(md, 0, sizeof *md);
}

/* ---------------------------------------------------------------- layout */

void ct_glb_metadata_layout(ct_glb_metadata *md, ct_glb_layout *L) {
    for (size_t t = 0; t < md->ntables; t++) {
        const size_t n = md->tables[t].count;
        for (size_t i = 0; i < md->ncols; i++) {
            ct_glb_column *c = &md->cols[i];
            switch (c->kind) {
            case CT_GLB_STRING:
                if (c->str_bytes[t] == 0) { /* all "" or null: a bufferView may not be empty, */
                    c->bv_values[t] = c->bv_offsets[t] = -1; /* so the table omits the property */
                    break;
                }
                c->bv_values[t] = ct_glb_layout_add(L, 8, c->str_bytes[t], 0, 0);
                c->bv_offsets[t] = ct_glb_layout_add(L, 8, ct_glb_mul(L, n + 1, 4), 0, 0);
                break;
            case CT_GLB_F64:
            case CT_GLB_I64: c->bv_values[t] = ct_glb_layout_add(L, 8, ct_glb_mul(L, n, 8), 0, 0); break;
            case CT_GLB_I32: c->bv_values[t] = ct_glb_layout_add(L, 8, ct_glb_mul(L, n, 4), 0, 0); break;
            case CT_GLB_BOOL: c->bv_values[t] = ct_glb_layout_add(L, 8, (n + 7) / 8, 0, 0); break;
            }
        }
    }
}

/* ---------------------------------------------------------------- JSON */

/* Is column c left out of some table? */
static int omitted_somewhere(const ct_glb_metadata *md, const ct_glb_column *c) {
    for (size_t t = 0; t < md->ntables; t++)
        if (c->bv_values[t] < 0) return 1;
    return 0;
}

json_t *ct_glb_metadata_json(int *fail, const ct_glb_metadata *md) {
    json_t *ext = json_object(), *schema = json_object(), *classes = json_object(), *klass = json_object();
    json_t *cprops = json_object(), *tables = json_array();
    ct_glb_jset(fail, schema, "id", json_string("citytiler"));
    for (size_t i = 0; i < md->ncols; i++) {
        const ct_glb_column *c = &md->cols[i];
        json_t *p = json_object();
        if (c->name) ct_glb_jset(fail, p, "name", json_string(c->name));
        switch (c->kind) {
        case CT_GLB_STRING:
            ct_glb_jset(fail, p, "type", json_string("STRING"));
            if (c->has_null) ct_glb_jset(fail, p, "noData", json_string(""));
            if (md->string_default || omitted_somewhere(md, c)) ct_glb_jset(fail, p, "default", json_string(""));
            break;
        case CT_GLB_F64:
            ct_glb_jset(fail, p, "type", json_string("SCALAR"));
            ct_glb_jset(fail, p, "componentType", json_string("FLOAT64"));
            if (c->has_null) ct_glb_jset(fail, p, "noData", json_real(c->nodata_r));
            break;
        case CT_GLB_I32:
        case CT_GLB_I64:
            ct_glb_jset(fail, p, "type", json_string("SCALAR"));
            ct_glb_jset(fail, p, "componentType", json_string(c->kind == CT_GLB_I32 ? "INT32" : "INT64"));
            if (c->has_null) ct_glb_jset(fail, p, "noData", ct_glb_jint(c->nodata_i));
            break;
        case CT_GLB_BOOL:
            ct_glb_jset(fail, p, "type", json_string("BOOLEAN"));
            break;
        }
        ct_glb_jset(fail, cprops, c->pid, p);
    }
    /* an empty "properties" is invalid (minProperties 1): omit it */
    if (md->ncols) ct_glb_jset(fail, klass, "properties", cprops); else json_decref(cprops);
    ct_glb_jset(fail, classes, md->class_id, klass);
    ct_glb_jset(fail, schema, "classes", classes);
    ct_glb_jset(fail, ext, "schema", schema);
    for (size_t t = 0; t < md->ntables; t++) {
        json_t *table = json_object(), *tprops = json_object();
        ct_glb_jset(fail, table, "class", json_string(md->class_id));
        ct_glb_jset(fail, table, "count", ct_glb_jint((long long)md->tables[t].count));
        size_t nprops = 0;
        for (size_t i = 0; i < md->ncols; i++) {
            const ct_glb_column *c = &md->cols[i];
            if (c->bv_values[t] < 0) continue;
            nprops++;
            json_t *p = json_object();
            ct_glb_jset(fail, p, "values", ct_glb_jint(c->bv_values[t]));
            if (c->kind == CT_GLB_STRING) {
                ct_glb_jset(fail, p, "stringOffsets", ct_glb_jint(c->bv_offsets[t]));
                ct_glb_jset(fail, p, "stringOffsetType", json_string("UINT32"));
            }
            ct_glb_jset(fail, tprops, c->pid, p);
        }
        if (nprops) ct_glb_jset(fail, table, "properties", tprops); else json_decref(tprops);
        ct_glb_japp(fail, tables, table);
    }
    ct_glb_jset(fail, ext, "propertyTables", tables);
    return ext;
}

/* ---------------------------------------------------------------- filling */

void ct_glb_metadata_fill(const ct_glb_metadata *md, size_t t, uint8_t *bin, const ct_glb_view *views) {
    const size_t n = md->tables[t].count;
    for (size_t k = 0; k < md->ncols; k++) {
        const ct_glb_column *c = &md->cols[k];
        if (c->bv_values[t] < 0) continue; /* left out: no strings */
        uint8_t *vals = bin + views[c->bv_values[t]].offset;
        switch (c->kind) {
        case CT_GLB_STRING: {
            uint8_t *offs = bin + views[c->bv_offsets[t]].offset;
            uint32_t at = 0;
            for (size_t i = 0; i < n; i++) {
                memcpy(offs + 4 * i, &at, 4);
                const char *s = cell_string(md, t, i, c->src);
                if (!s) continue; /* null: "", the noData value */
                size_t len = strlen(s);
                memcpy(vals + at, s, len);
                at += (uint32_t)len;
            }
            memcpy(offs + 4 * n, &at, 4);
            break;
        }
        case CT_GLB_F64:
            for (size_t i = 0; i < n; i++) {
                const ct_value *v = cell(md, t, i, c->src);
                double x = real_null(v) ? c->nodata_r : v->v.r;
                memcpy(vals + 8 * i, &x, 8);
            }
            break;
        case CT_GLB_I32:
            for (size_t i = 0; i < n; i++) {
                const ct_value *v = cell(md, t, i, c->src);
                int32_t x = (int32_t)(v->is_null ? c->nodata_i : v->v.i);
                memcpy(vals + 4 * i, &x, 4);
            }
            break;
        case CT_GLB_I64:
            for (size_t i = 0; i < n; i++) {
                const ct_value *v = cell(md, t, i, c->src);
                int64_t x = v->is_null ? c->nodata_i : v->v.i;
                memcpy(vals + 8 * i, &x, 8);
            }
            break;
        case CT_GLB_BOOL:
            memset(vals, 0, (n + 7) / 8);
            for (size_t i = 0; i < n; i++) {
                const ct_value *v = cell(md, t, i, c->src);
                if (!v->is_null && v->v.i) vals[i >> 3] |= (uint8_t)(1u << (i & 7));
            }
            break;
        }
    }
}
