#include "citytiler/dataset.h"
#include "core/claimed_columns.h"
#include "core/rank_band.h"
#include "citytiler/assets.h"
#include "citytiler/points.h"
#include "core/hash.h"
#include "citytiler/raster.h"
#include "core/utf8.h"
#include <jansson.h>
#include <sys/stat.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

ct_dataset *ct_dataset_create(void) {
    ct_dataset *ds = calloc(1, sizeof(ct_dataset));
    if (ds) ds->cell_size = CT_DEFAULT_CELL_SIZE;
    return ds;
}

void ct_value_clear(ct_value *v, ct_attr_type type) {
    if (type == CT_ATTR_STRING && !v->is_null) free(v->v.s);
    memset(v, 0, sizeof *v);
    v->is_null = 1;
}

void ct_building_free(const ct_dataset *ds, ct_building *b) {
    free(b->id);
    ct_footprint_free(&b->footprint);
    if (b->attrs)
        for (size_t a = 0; a < ds->nattrs; a++) ct_value_clear(&b->attrs[a], ds->attrs[a].type);
    free(b->attrs);
    ct_mesh_free(&b->mesh);
}

void ct_dataset_destroy(ct_dataset *ds) {
    if (!ds) return;
    for (size_t i = 0; i < ds->nbuildings; i++) ct_building_free(ds, &ds->buildings[i]);
    free(ds->buildings);
    for (size_t a = 0; a < ds->nattrs; a++) free(ds->attrs[a].name);
    free(ds->attrs);
    for (size_t r = 0; r < ds->nskipped; r++) free(ds->skipped[r].reason);
    free(ds->skipped);
    for (size_t r = 0; r < ds->nchanged; r++) free(ds->changed[r].reason);
    free(ds->changed);
    ct_point_store_destroy(ds->points);
    ct_rank_band_free(ds->band);
    ct_asset_set_destroy(ds->assets);
    ct_raster_set_destroy(ds->rasters);
    ct_mesh_arena_free(&ds->mesh_arena); /* after the buildings: their meshes borrow from it */
    free(ds->crs_wkt);
    free(ds->vertical_wkt);
    free(ds->footprints_vertical_wkt);
    json_decref(ds->sources);
    free(ds->lidar_files);
    free(ds);
}

int ct_dataset_find_attr(const ct_dataset *ds, const char *name) {
    for (size_t a = 0; a < ds->nattrs; a++)
        if (strcmp(ds->attrs[a].name, name) == 0) return (int)a;
    return -1;
}

ct_status ct_dataset_add_attrs(ct_context *ctx, ct_dataset *ds, const char *const *names,
                               const ct_attr_type *types, size_t n, int *out) {
    size_t add = 0; /* new columns, in the order given */
    for (size_t k = 0; k < n; k++) {
        int found = ct_dataset_find_attr(ds, names[k]);
        ct_attr_type t = found >= 0 ? ds->attrs[found].type : types[k];
        for (size_t j = 0; found < 0 && j < k; j++) /* new in this call already */
            if (out[j] >= (int)ds->nattrs && strcmp(names[j], names[k]) == 0) {
                found = out[j];
                t = types[j];
            }
        if (found >= 0) {
            if (t != types[k]) return ct_error(ctx, CT_ERR_USAGE, "attribute '%s' already exists with another type", names[k]);
            out[k] = found;
        } else {
            out[k] = (int)(ds->nattrs + add++);
        }
    }
    if (add == 0) return CT_OK;
    /* The new columns' definitions, made before anything changes. */
    ct_attr_def *fresh = calloc(add, sizeof *fresh);
    int failed = !fresh;
    for (size_t k = 0; !failed && k < n; k++) {
        if (out[k] < (int)ds->nattrs) continue;
        ct_attr_def *d = &fresh[out[k] - (int)ds->nattrs];
        if (!d->name) {
            d->name = strdup(names[k]);
            d->type = types[k];
            failed = !d->name;
        }
    }
    ct_attr_def *defs = failed ? NULL : realloc(ds->attrs, (ds->nattrs + add) * sizeof *defs);
    if (defs) ds->attrs = defs;
    /* Every building's values grow once for all the new columns (a column at a time
     * reallocated every building's array per column), and first, so that a failure
     * leaves the dataset consistent. */
    for (size_t i = 0; defs && i < ds->nbuildings; i++) {
        ct_value *vals = realloc(ds->buildings[i].attrs, (ds->nattrs + add) * sizeof *vals);
        if (!vals) {
            defs = NULL;
            break;
        }
        memset(&vals[ds->nattrs], 0, add * sizeof *vals);
        for (size_t j = 0; j < add; j++) vals[ds->nattrs + j].is_null = 1;
        ds->buildings[i].attrs = vals;
    }
    if (!defs) {
        for (size_t j = 0; fresh && j < add; j++) free(fresh[j].name);
        free(fresh);
        return ct_error_nomem(ctx, "attribute columns");
    }
    memcpy(defs + ds->nattrs, fresh, add * sizeof *fresh);
    free(fresh);
    ds->nattrs += add;
    return CT_OK;
}

ct_status ct_dataset_claim_attrs(ct_context *ctx, ct_dataset *ds, const char *stage, const char *const *names,
                                 const ct_attr_type *types, size_t n, int *out) {
    ct_claimed_columns taken = {0};
    for (size_t k = 0; k < n; k++) {
        int col = ct_dataset_find_attr(ds, names[k]);
        if (col < 0) continue;
        /* Every value of the column goes (a building the stage gives no value kept the
         * input's: a footprint's roof_z beside measured ones), and it takes the stage's type. */
        for (size_t i = 0; i < ds->nbuildings; i++) ct_value_clear(&ds->buildings[i].attrs[col], ds->attrs[col].type);
        ds->attrs[col].type = types[k];
        ct_claimed_columns_add(&taken, names[k]);
    }
    ct_claimed_columns_log(ctx, &taken, stage, "buildings'");
    return ct_dataset_add_attrs(ctx, ds, names, types, n, out);
}

ct_status ct_dataset_add_attr(ct_context *ctx, ct_dataset *ds, const char *name,
                              ct_attr_type type, int *out) {
    return ct_dataset_add_attrs(ctx, ds, &name, &type, 1, out);
}

ct_status ct_dataset_append(ct_context *ctx, ct_dataset *ds, ct_building **out) {
    if (ds->nbuildings == ds->cap_buildings) {
        size_t cap = ds->cap_buildings ? ds->cap_buildings * 2 : 256;
        ct_building *nb = realloc(ds->buildings, cap * sizeof *nb);
        if (!nb) return ct_error_nomem(ctx, "buildings");
        ds->buildings = nb;
        ds->cap_buildings = cap;
    }
    ct_building *b = &ds->buildings[ds->nbuildings];
    memset(b, 0, sizeof *b);
    b->attrs = calloc(ds->nattrs ? ds->nattrs : 1, sizeof *b->attrs);
    if (!b->attrs) return ct_error_nomem(ctx, "building attributes");
    for (size_t a = 0; a < ds->nattrs; a++) b->attrs[a].is_null = 1;
    b->base_z = NAN;
    b->top_z = NAN;
    b->fallback_height = NAN;
    ds->nbuildings++;
    *out = b;
    return CT_OK;
}

void ct_dataset_remove(ct_dataset *ds, size_t i) {
    if (i >= ds->nbuildings) return;
    ct_building_free(ds, &ds->buildings[i]);
    memmove(&ds->buildings[i], &ds->buildings[i + 1], (ds->nbuildings - i - 1) * sizeof(ct_building));
    ds->nbuildings--;
}

void ct_dataset_compact(ct_dataset *ds, const unsigned char *keep) {
    size_t kept = 0;
    for (size_t i = 0; i < ds->nbuildings; i++) {
        if (!keep[i]) {
            ct_building_free(ds, &ds->buildings[i]);
            continue;
        }
        if (kept != i) ds->buildings[kept] = ds->buildings[i];
        kept++;
    }
    ds->nbuildings = kept;
}

/* The count of `reason` in list[0..n-1]; NULL when it has none yet. */
static ct_reason_count *find_reason(ct_reason_count *list, size_t n, const char *reason) {
    for (size_t r = 0; r < n; r++)
        if (strcmp(list[r].reason, reason) == 0) return &list[r];
    return NULL;
}

static ct_status count_reason(ct_context *ctx, ct_reason_count **list, size_t *n, const char *reason) {
    ct_reason_count *found = find_reason(*list, *n, reason);
    if (found) {
        found->count++;
        return CT_OK;
    }
    ct_reason_count *nr = realloc(*list, (*n + 1) * sizeof *nr);
    if (!nr) return ct_error_nomem(ctx, "reason counts");
    *list = nr;
    char *copy = strdup(reason);
    if (!copy) return ct_error_nomem(ctx, "reason");
    nr[*n].reason = copy;
    nr[*n].count = 1;
    (*n)++;
    return CT_OK;
}

ct_status ct_dataset_count_skip(ct_context *ctx, ct_dataset *ds, const char *reason) {
    return count_reason(ctx, &ds->skipped, &ds->nskipped, reason);
}

ct_status ct_dataset_count_change(ct_context *ctx, ct_dataset *ds, const char *reason) {
    return count_reason(ctx, &ds->changed, &ds->nchanged, reason);
}

uint64_t ct_dataset_skipped_for(const ct_dataset *ds, const char *reason) {
    const ct_reason_count *found = find_reason(ds->skipped, ds->nskipped, reason);
    return found ? found->count : 0;
}

uint64_t ct_dataset_skipped_total(const ct_dataset *ds) {
    uint64_t n = 0;
    for (size_t r = 0; r < ds->nskipped; r++) n += ds->skipped[r].count;
    return n;
}

ct_status ct_value_set_string(ct_context *ctx, ct_value *v, const char *s) {
    char *copy = strdup(s ? s : "");
    if (!copy) return ct_error_nomem(ctx, "attribute string");
    if (!v->is_null) free(v->v.s);
    v->is_null = 0;
    v->v.s = copy;
    return CT_OK;
}

int ct_dataset_bbox(const ct_dataset *ds, double out[4]) {
    int any = 0;
    for (size_t i = 0; i < ds->nbuildings; i++) {
        double bb[4];
        if (!ct_footprint_bbox(&ds->buildings[i].footprint, bb)) continue;
        if (!any) {
            memcpy(out, bb, sizeof bb);
            any = 1;
        } else {
            if (bb[0] < out[0]) out[0] = bb[0];
            if (bb[1] < out[1]) out[1] = bb[1];
            if (bb[2] > out[2]) out[2] = bb[2];
            if (bb[3] > out[3]) out[3] = bb[3];
        }
    }
    return any;
}

size_t ct_dataset_duplicate_ids(const ct_dataset *ds, size_t *first, size_t *second) {
    size_t cap = 16;
    while (cap < 2 * ds->nbuildings + 2) cap *= 2;
    size_t *tab = malloc(cap * sizeof *tab); /* building index + 1, 0 = empty */
    if (!tab) return SIZE_MAX;
    memset(tab, 0, cap * sizeof *tab);
    size_t dups = 0;
    for (size_t i = 0; i < ds->nbuildings; i++) {
        const char *id = ds->buildings[i].id ? ds->buildings[i].id : "";
        size_t h = (size_t)ct_fnv1a_str(id) & (cap - 1);
        while (tab[h] && strcmp(ds->buildings[tab[h] - 1].id ? ds->buildings[tab[h] - 1].id : "", id) != 0)
            h = (h + 1) & (cap - 1);
        if (!tab[h]) {
            tab[h] = i + 1;
        } else if (dups++ == 0) {
            *first = tab[h] - 1;
            *second = i;
        }
    }
    free(tab);
    return dups;
}

ct_status ct_dataset_note_source(ct_context *ctx, ct_dataset *ds, const char *stage, const char *path,
                                 const char *count_name, uint64_t count) {
    if (!ds->sources && !(ds->sources = json_array())) return ct_error_nomem(ctx, "sources");
    json_t *o = json_object();
    /* (a path that is not UTF-8 cannot go into JSON: its bad bytes become U+FFFD) */
    char *repaired = ct_utf8_valid(path) ? NULL : ct_utf8_repaired(path, NULL);
    int ok = o && json_object_set_new(o, "stage", json_string(stage)) == 0 &&
             json_object_set_new(o, "path", json_string(repaired ? repaired : path)) == 0 &&
             (!count_name || json_object_set_new(o, count_name, json_integer((json_int_t)count)) == 0);
    free(repaired);
    struct stat st;
    if (ok && stat(path, &st) == 0 && S_ISREG(st.st_mode))
        ok = json_object_set_new(o, "bytes", json_integer((json_int_t)st.st_size)) == 0;
    if (!ok || json_array_append_new(ds->sources, o) != 0) {
        if (!ok) json_decref(o);
        return ct_error_nomem(ctx, "sources");
    }
    return CT_OK;
}

ct_status ct_dataset_note_source_detail(ct_context *ctx, ct_dataset *ds, const char *key, const char *text) {
    size_t n = ds->sources ? json_array_size(ds->sources) : 0;
    if (n == 0) return CT_OK;
    if (json_object_set_new(json_array_get(ds->sources, n - 1), key, json_string(text)) != 0)
        return ct_error_nomem(ctx, "sources");
    return CT_OK;
}
