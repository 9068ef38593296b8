#include "citytiler/assets.h"
#include "core/claimed_columns.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

ct_asset_set *ct_asset_set_create(void) { return calloc(1, sizeof(ct_asset_set)); }

void ct_asset_set_destroy(ct_asset_set *s) {
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) {
        ct_asset *a = &s->items[i];
        free(a->id);
        free(a->category);
        for (size_t k = 0; a->attrs && k < s->nattrs; k++) ct_value_clear(&a->attrs[k], s->attrs[k].type);
        free(a->attrs);
    }
    free(s->items);
    for (size_t k = 0; k < s->nattrs; k++) free(s->attrs[k].name);
    free(s->attrs);
    for (size_t r = 0; r < s->nskipped; r++) free(s->skipped[r].reason);
    free(s->skipped);
    free(s);
}

ct_status ct_asset_set_add_attr(ct_context *ctx, ct_asset_set *s, const char *name, ct_attr_type type, int *out) {
    for (size_t k = 0; k < s->nattrs; k++)
        if (strcmp(s->attrs[k].name, name) == 0) {
            if (s->attrs[k].type != type)
                return ct_error(ctx, CT_ERR_USAGE, "asset attribute '%s' already exists with another type", name);
            *out = (int)k;
            return CT_OK;
        }
    ct_attr_def *defs = realloc(s->attrs, (s->nattrs + 1) * sizeof *defs);
    if (!defs) return ct_error_nomem(ctx, "asset attributes");
    s->attrs = defs;
    char *copy = strdup(name);
    if (!copy) return ct_error_nomem(ctx, "asset attribute name");
    for (size_t i = 0; i < s->n; i++) {
        ct_value *v = realloc(s->items[i].attrs, (s->nattrs + 1) * sizeof *v);
        if (!v) {
            free(copy);
            return ct_error_nomem(ctx, "asset attribute values");
        }
        memset(&v[s->nattrs], 0, sizeof *v);
        v[s->nattrs].is_null = 1;
        s->items[i].attrs = v;
    }
    defs[s->nattrs].name = copy;
    defs[s->nattrs].type = type;
    *out = (int)s->nattrs++;
    return CT_OK;
}

ct_status ct_asset_set_claim_attrs(ct_context *ctx, ct_asset_set *s, const char *stage, const char *const *names,
                                   const ct_attr_type *types, size_t n, int *out) {
    ct_claimed_columns taken = {0};
    ct_status st = CT_OK;
    for (size_t j = 0; j < n && st == CT_OK; j++) {
        for (size_t k = 0; k < s->nattrs; k++)
            if (strcmp(s->attrs[k].name, names[j]) == 0) {
                for (size_t i = 0; i < s->n; i++) ct_value_clear(&s->items[i].attrs[k], s->attrs[k].type);
                s->attrs[k].type = types[j];
                ct_claimed_columns_add(&taken, names[j]);
            }
        st = ct_asset_set_add_attr(ctx, s, names[j], types[j], &out[j]);
    }
    if (st == CT_OK) ct_claimed_columns_log(ctx, &taken, stage, "assets'");
    return st;
}

ct_status ct_asset_set_append(ct_context *ctx, ct_asset_set *s, ct_asset **out) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        ct_asset *v = realloc(s->items, cap * sizeof *v);
        if (!v) return ct_error_nomem(ctx, "assets");
        s->items = v;
        s->cap = cap;
    }
    ct_asset *a = &s->items[s->n];
    memset(a, 0, sizeof *a);
    a->attrs = calloc(s->nattrs ? s->nattrs : 1, sizeof *a->attrs);
    a->category = strdup("");
    if (!a->attrs || !a->category) {
        free(a->attrs);
        free(a->category);
        return ct_error_nomem(ctx, "asset");
    }
    for (size_t k = 0; k < s->nattrs; k++) a->attrs[k].is_null = 1;
    a->z = NAN;
    a->height_above_ground = NAN;
    a->scale = 1.0;
    s->n++;
    *out = a;
    return CT_OK;
}

ct_status ct_asset_set_count_skip(ct_context *ctx, ct_asset_set *s, const char *reason) {
    for (size_t r = 0; r < s->nskipped; r++)
        if (strcmp(s->skipped[r].reason, reason) == 0) {
            s->skipped[r].count++;
            return CT_OK;
        }
    ct_reason_count *nr = realloc(s->skipped, (s->nskipped + 1) * sizeof *nr);
    if (!nr) return ct_error_nomem(ctx, "asset skip reasons");
    s->skipped = nr;
    char *copy = strdup(reason);
    if (!copy) return ct_error_nomem(ctx, "asset skip reason");
    nr[s->nskipped].reason = copy;
    nr[s->nskipped].count = 1;
    s->nskipped++;
    return CT_OK;
}

void ct_asset_set_compact(ct_asset_set *set, const unsigned char *keep) {
    size_t w = 0;
    for (size_t i = 0; i < set->n; i++) {
        ct_asset *a = &set->items[i];
        if (keep[i]) {
            if (w != i) set->items[w] = *a;
            w++;
            continue;
        }
        free(a->id);
        free(a->category);
        for (size_t k = 0; k < set->nattrs; k++) ct_value_clear(&a->attrs[k], set->attrs[k].type);
        free(a->attrs);
    }
    set->n = w;
}
