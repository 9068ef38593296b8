/* Assets are points: a quadtree over them (by position, like buildings by centroid), and
 * per leaf one GLB with a node per symbol instanced at the assets' base points
 * (EXT_mesh_gpu_instancing) and their attributes (EXT_instance_features). Each tile's
 * content is in an east-north-up frame at its centre, placed by the tile transform. */
#include "tiles/asset_tiles.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "citytiler/assets.h"
#include "citytiler/glb_instanced.h"
#include "io/outdir.h"
#include "tiles/quadtree.h"
#include "tiles/region_json.h"
#include "tiles/tileset_json.h"

/* Symbol key `key` of o as a number, *out unchanged when absent (null counts as absent);
 * a usage error when it is given and is not a number, or is not above 0 when `positive`
 * ("scale": "2" was taken as 1, "heading": "north" as 0, "scale": 0 as the default 1). */
static ct_status symbol_number(ct_context *ctx, const char *category, const json_t *o, const char *key, int positive,
                               double *out) {
    const json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) return CT_OK;
    double x = json_number_value(v);
    if (!json_is_number(v) || !isfinite(x) || (positive && !(x > 0)))
        return ct_error(ctx, CT_ERR_USAGE, "writers.3dtiles: symbols.%s.%s must be %s", category, key,
                        positive ? "a number above 0" : "a number");
    *out = x;
    return CT_OK;
}

/* "color": [r, g, b] or [r, g, b, a], linear, each in [0, 1]; alpha 1 when not given
 * (three components left alpha 0: every asset of the category was invisible). */
static ct_status symbol_color(ct_context *ctx, const char *category, const json_t *o, float color[4]) {
    const json_t *c = json_object_get(o, "color");
    if (!c || json_is_null(c)) return CT_OK;
    size_t n = json_array_size(c);
    int ok = json_is_array(c) && (n == 3 || n == 4);
    float v[4] = {0, 0, 0, 1};
    for (size_t k = 0; ok && k < n; k++) {
        const json_t *x = json_array_get(c, k);
        ok = json_is_number(x) && json_number_value(x) >= 0 && json_number_value(x) <= 1;
        v[k] = (float)json_number_value(x);
    }
    if (!ok)
        return ct_error(ctx, CT_ERR_USAGE, "writers.3dtiles: symbols.%s.color must be [r, g, b] or [r, g, b, a] with "
                                           "each number from 0 to 1 (linear)", category);
    memcpy(color, v, sizeof v);
    return CT_OK;
}

static ct_status symbol_from_json(ct_context *ctx, const char *category, const json_t *o, ct_symbol *out) {
    ct_symbol_options opt;
    memset(&opt, 0, sizeof opt);
    opt.scale = 1.0;
    ct_status st = symbol_number(ctx, category, o, "scale", 1, &opt.scale);
    if (st == CT_OK) st = symbol_number(ctx, category, o, "heading", 0, &opt.heading);
    if (st == CT_OK) st = symbol_number(ctx, category, o, "height", 1, &opt.normalize_height);
    if (st == CT_OK) st = symbol_color(ctx, category, o, opt.color);
    if (st != CT_OK) return st;
    static const char *const text_keys[] = {"model", "builtin", "origin", "up_axis"};
    for (size_t k = 0; k < sizeof text_keys / sizeof *text_keys; k++) {
        const json_t *v = json_object_get(o, text_keys[k]);
        if (v && !json_is_null(v) && !json_is_string(v)) /* (taken as not given) */
            return ct_error(ctx, CT_ERR_USAGE, "writers.3dtiles: symbols.%s.%s must be a string", category, text_keys[k]);
    }
    /* Both given: one was ignored without a word (the model won; height replaced scale). */
    if (json_string_value(json_object_get(o, "model")) && json_string_value(json_object_get(o, "builtin")))
        return ct_error(ctx, CT_ERR_USAGE, "writers.3dtiles: symbols.%s has both a model and a builtin: give one",
                        category);
    if (opt.normalize_height > 0 && json_is_number(json_object_get(o, "scale")))
        return ct_error(ctx, CT_ERR_USAGE, "writers.3dtiles: symbols.%s has both a scale and a height (which scales "
                                           "the model to that height): give one", category);
    const char *origin = json_string_value(json_object_get(o, "origin"));
    if (origin && strcmp(origin, "model") != 0 && strcmp(origin, "base_center") != 0)
        return ct_error(ctx, CT_ERR_USAGE, "writers.3dtiles: symbols.%s.origin must be \"base_center\" or \"model\"", category);
    opt.model_origin = origin && strcmp(origin, "model") == 0;
    const char *up = json_string_value(json_object_get(o, "up_axis"));
    if (up && ct_symbol_up_axis_parse(up, &opt.up_axis) != 0)
        return ct_error(ctx, CT_ERR_USAGE, "writers.3dtiles: symbols.%s.up_axis must be \"y\" or \"z\"", category);
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)o, key, v) {
        static const char *const known[] = {"model", "builtin", "scale", "up_axis", "heading", "height", "color", "origin", NULL};
        int ok = 0;
        for (size_t k = 0; known[k]; k++) ok |= strcmp(known[k], key) == 0;
        if (!ok)
            return ct_error(ctx, CT_ERR_USAGE, "writers.3dtiles: symbols.%s: unknown key '%s' (model, builtin, scale, "
                                               "up_axis, heading, height, color, origin)", category, key);
    }
    char where[256];
    snprintf(where, sizeof where, "writers.3dtiles: symbols.%s", category);
    st = ct_symbol_options_check(ctx, where, &opt);
    if (st != CT_OK) return st;
    const char *model = json_string_value(json_object_get(o, "model"));
    const char *builtin = json_string_value(json_object_get(o, "builtin"));
    if (model) return ct_symbol_load(ctx, model, &opt, out);
    st = ct_symbol_builtin(ctx, builtin ? builtin : "box", out);
    if (st == CT_OK) st = ct_symbol_transform(ctx, out, &opt);
    return st;
}

ct_status ct_symbol_table_load(ct_context *ctx, const json_t *option, ct_symbol_table *out) {
    memset(out, 0, sizeof *out);
    ct_status st = CT_OK;
    if (!option) {
        /* Defaults: street lights as poles, the rest as boxes. */
        out->categories = calloc(2, sizeof *out->categories);
        out->symbols = calloc(2, sizeof *out->symbols);
        if (!out->categories || !out->symbols) return ct_error_nomem(ctx, "symbols");
        const char *names[2] = {"street_light", "lichtmast"};
        for (size_t i = 0; i < 2 && st == CT_OK; i++) {
            out->categories[i] = strdup(names[i]);
            if (!out->categories[i]) return ct_error_nomem(ctx, "symbols");
            st = ct_symbol_builtin(ctx, "pole", &out->symbols[i]);
            if (st == CT_OK) out->n++;
        }
        return st == CT_OK ? ct_symbol_builtin(ctx, "box", &out->fallback) : st;
    }
    size_t n = json_object_size(option);
    out->categories = calloc(n ? n : 1, sizeof *out->categories);
    out->symbols = calloc(n ? n : 1, sizeof *out->symbols);
    if (!out->categories || !out->symbols) return ct_error_nomem(ctx, "symbols");
    const char *key;
    json_t *v;
    int have_fallback = 0;
    json_object_foreach((json_t *)option, key, v) {
        if (!json_is_object(v))
            return ct_error(ctx, CT_ERR_USAGE, "writers.3dtiles: symbols.%s must be an object", key);
        if (strcmp(key, "*") == 0) {
            st = symbol_from_json(ctx, key, v, &out->fallback);
            have_fallback = st == CT_OK;
        } else {
            st = symbol_from_json(ctx, key, v, &out->symbols[out->n]);
            if (st == CT_OK) {
                out->categories[out->n] = strdup(key);
                if (!out->categories[out->n]) return ct_error_nomem(ctx, "symbols");
                out->n++;
            }
        }
        if (st != CT_OK) return st;
    }
    if (!have_fallback) st = ct_symbol_builtin(ctx, "box", &out->fallback);
    return st;
}

void ct_symbol_table_free(ct_symbol_table *t) {
    for (size_t i = 0; i < t->n; i++) {
        free(t->categories[i]);
        ct_symbol_free(&t->symbols[i]);
    }
    free(t->categories);
    free(t->symbols);
    ct_symbol_free(&t->fallback);
    memset(t, 0, sizeof *t);
}

/* Index of the symbol for a category: 0..n-1, or n for the fallback. */
static size_t symbol_index(const ct_symbol_table *t, const char *category) {
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->categories[i], category) == 0) return i;
    return t->n;
}

static const ct_symbol *symbol_at(const ct_symbol_table *t, size_t i) {
    return i < t->n ? &t->symbols[i] : &t->fallback;
}

/* ECEF -> ENU with the frame m (columns east, north, up, origin). */
static void ecef_to_enu(const double m[16], const double p[3], double out[3]) {
    double d[3] = {p[0] - m[12], p[1] - m[13], p[2] - m[14]};
    for (int k = 0; k < 3; k++) out[k] = m[4 * k] * d[0] + m[4 * k + 1] * d[1] + m[4 * k + 2] * d[2];
}

/* ENU -> ECEF. */
static void enu_to_ecef(const double m[16], const double p[3], double out[3]) {
    for (int k = 0; k < 3; k++) out[k] = m[12 + k] + m[k] * p[0] + m[4 + k] * p[1] + m[8 + k] * p[2];
}

/* ECEF -> geodetic (Bowring's iteration; sub-millimetre for heights near the surface). */
static void ecef_to_geodetic(const double p[3], double *lon, double *lat, double *h) {
    const double a = 6378137.0, f = 1.0 / 298.257223563, e2 = f * (2 - f);
    double r = sqrt(p[0] * p[0] + p[1] * p[1]);
    *lon = atan2(p[1], p[0]);
    double la = atan2(p[2], r * (1 - e2)), n = a;
    for (int i = 0; i < 5; i++) {
        double s = sin(la);
        n = a / sqrt(1 - e2 * s * s);
        la = atan2(p[2] + e2 * n * s, r);
    }
    *lat = la;
    *h = r / cos(la) - n;
}

/* One GLB per symbol: CesiumJS 1.140 reads a single property table per content (the
 * first instanced node's), so several symbols in one GLB would show another symbol's
 * attributes when picked. A tile with several symbols has several contents instead. */
typedef struct asset_glbs {
    uint8_t *glb[64];
    size_t len[64];
    size_t n;
} asset_glbs;

/* Builds one leaf: the instances of assets idx[0..n-1] grouped by symbol. */
static ct_status asset_tile(ct_context *ctx, ct_geo_transform *geo, const ct_dataset *ds, const ct_symbol_table *sym,
                            const uint32_t *idx, size_t n, asset_glbs *glbs, double region[6], double transform[16]) {
    const ct_asset_set *as = ds->assets;
    double *g = malloc(3 * n * sizeof *g);
    size_t nsym = sym->n + 1;
    size_t *count = calloc(nsym, sizeof *count), *start = calloc(nsym + 1, sizeof *start);
    uint32_t *by_sym = malloc(n * sizeof *by_sym);
    float *t = malloc(3 * n * sizeof *t), *sc = malloc(3 * n * sizeof *sc);
    double *hd = malloc(n * sizeof *hd);
    const char **ids = malloc(n * sizeof *ids);
    const ct_value **rows = malloc(n * sizeof *rows);
    ct_glb_instances *sets = calloc(nsym, sizeof *sets);
    ct_status st = CT_OK;
    if (!g || !count || !start || !by_sym || !t || !sc || !hd || !ids || !rows || !sets) st = ct_error_nomem(ctx, "asset tile");
    double cx = 0, cy = 0, cz = INFINITY;
    for (size_t k = 0; st == CT_OK && k < n; k++) {
        const ct_asset *a = &as->items[idx[k]];
        g[3 * k] = a->x;
        g[3 * k + 1] = a->y;
        g[3 * k + 2] = a->z;
        cx += a->x / (double)n;
        cy += a->y / (double)n;
        if (a->z < cz) cz = a->z;
    }
    if (st == CT_OK) st = ct_geo_to_geodetic(ctx, geo, g, g + 1, g + 2, 3, n);
    double origin[3] = {cx, cy, cz};
    if (st == CT_OK) st = ct_geo_to_geodetic(ctx, geo, origin, origin + 1, origin + 2, 1, 1);
    if (st == CT_OK) {
        ct_enu_to_ecef_matrix(origin[0], origin[1], origin[2], transform);
        /* Group by symbol (stable: input order inside a group). */
        for (size_t k = 0; k < n; k++) count[symbol_index(sym, as->items[idx[k]].category)]++;
        for (size_t s = 0; s < nsym; s++) start[s + 1] = start[s] + count[s];
        size_t *fill = calloc(nsym, sizeof *fill);
        if (!fill) st = ct_error_nomem(ctx, "asset tile");
        for (size_t k = 0; st == CT_OK && k < n; k++) {
            size_t s = symbol_index(sym, as->items[idx[k]].category);
            by_sym[start[s] + fill[s]++] = (uint32_t)k;
        }
        free(fill);
    }
    size_t nsets = 0;
    for (size_t s = 0; st == CT_OK && s < nsym; s++) {
        if (!count[s]) continue;
        for (size_t j = start[s]; j < start[s + 1]; j++) {
            size_t k = by_sym[j];
            const ct_asset *a = &as->items[idx[k]];
            double e[3], l[3];
            ct_geodetic_to_ecef(g[3 * k], g[3 * k + 1], g[3 * k + 2], e);
            ecef_to_enu(transform, e, l);
            for (int c = 0; c < 3; c++) {
                t[3 * j + c] = (float)l[c];
                sc[3 * j + c] = (float)a->scale;
            }
            hd[j] = a->heading;
            ids[j] = a->id;
            rows[j] = a->attrs;
        }
        ct_glb_instances *set = &sets[nsets++];
        set->symbol = symbol_at(sym, s);
        set->ninstances = count[s];
        set->translation = t + 3 * start[s];
        set->heading = hd + start[s];
        set->scale = sc + 3 * start[s];
        set->ids = ids + start[s];
        set->rows = rows + start[s];
        set->name = s < sym->n ? sym->categories[s] : "other";
    }
    ct_glb_instanced_input in = {sets, nsets, "asset", as->attrs, as->nattrs};
    if (st == CT_OK && nsets > sizeof glbs->glb / sizeof glbs->glb[0])
        st = ct_error(ctx, CT_ERR_UNSUPPORTED, "writers.3dtiles: more than 64 symbols in one asset tile");
    glbs->n = 0;
    for (size_t k = 0; st == CT_OK && k < nsets; k++) {
        ct_glb_instanced_input one = {&sets[k], 1, "asset", as->attrs, as->nattrs};
        st = ct_glb_encode_instanced(ctx, &one, &glbs->glb[k], &glbs->len[k]);
        if (st == CT_OK) glbs->n++;
    }
    if (st == CT_OK) {
        /* Region: the corners of the instances' ENU box, padded by the ellipsoid's bulge. */
        double mn[3], mx[3], lons[8];
        ct_glb_instanced_bounds(&in, mn, mx);
        region[1] = region[4] = INFINITY;
        region[3] = region[5] = -INFINITY;
        for (int c = 0; c < 8; c++) {
            double l[3] = {c & 1 ? mx[0] : mn[0], c & 2 ? mx[1] : mn[1], c & 4 ? mx[2] : mn[2]}, e[3], lat, h;
            enu_to_ecef(transform, l, e);
            ecef_to_geodetic(e, &lons[c], &lat, &h);
            region[1] = fmin(region[1], lat); region[3] = fmax(region[3], lat);
            region[4] = fmin(region[4], h); region[5] = fmax(region[5], h);
        }
        ct_lon_range(lons, 8, 1, &region[0], &region[2]);
        double d = fmax(mx[0] - mn[0], mx[1] - mn[1]);
        region[4] -= 0.01 + d * d / 6.3e6;
        region[5] += 0.01 + d * d / 6.3e6;
        /* near a pole the corners do not bound the box's lon/lat: it may hold the pole */
        ct_region_hold_faces(region, sqrt((mx[0] - mn[0]) * (mx[0] - mn[0]) + (mx[1] - mn[1]) * (mx[1] - mn[1]) +
                                          (mx[2] - mn[2]) * (mx[2] - mn[2])));
    }
    free(g); free(count); free(start); free(by_sym); free(t); free(sc); free(hd); free(ids); free(rows); free(sets);
    return st;
}

/* acc becomes its union with r (either empty: west infinite). */
static void union_region(double *acc, const double *r) {
    if (isinf(r[0])) return;
    if (isinf(acc[0])) {
        acc[0] = r[0];
        acc[2] = r[2];
    } else {
        ct_lon_union(&acc[0], &acc[2], r[0], r[2]); /* across the antimeridian too */
    }
    acc[1] = fmin(acc[1], r[1]);
    acc[3] = fmax(acc[3], r[3]);
    acc[4] = fmin(acc[4], r[4]); acc[5] = fmax(acc[5], r[5]);
}

static json_t *numbers(const double *v, size_t n) {
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) json_array_append_new(a, json_real(v[i]));
    return a;
}

typedef struct asset_out { double region[6], transform[16]; int has; } asset_out;

/* The JSON of asset tile ti and its subtree (region: their union); NULL when out of memory. */
static json_t *asset_tile_json(const ct_quadtree *q, const asset_out *o, int32_t ti, double region[6]) {
    const ct_qtile *t = &q->tiles[ti];
    json_t *j = json_object(), *bv = json_object();
    json_t *children = ct_qtile_is_leaf(t) ? NULL : json_array();
    int ok = j && bv && (ct_qtile_is_leaf(t) || children);
    for (int k = 0; k < 6; k++) region[k] = (k < 2 || k == 4) ? INFINITY : -INFINITY;
    if (o[ti].has) union_region(region, o[ti].region);
    for (int k = 0; k < 4 && ok && children; k++) {
        if (t->child[k] < 0) continue;
        double cr[6];
        json_t *c = asset_tile_json(q, o, t->child[k], cr);
        ok = c && json_array_append_new(children, c) == 0;
        if (ok) union_region(region, cr);
    }
    ok = ok && json_object_set_new(bv, "region", numbers(region, 6)) == 0;
    ok = ok && json_object_set_new(j, "boundingVolume", bv) == 0;
    bv = NULL;
    double side = t->bounds[2] - t->bounds[0];
    /* (a root is never 0, also when it is the only tile: 3D Tiles wants a positive root error) */
    double error = ct_qtile_is_leaf(t) && ti != 0 ? 0.0 : side * 0.5;
    ok = ok && json_object_set_new(j, "geometricError", json_real(error)) == 0;
    ok = ok && json_object_set_new(j, "refine", json_string("ADD")) == 0;
    if (ok && o[ti].has) {
        char name[64], uri[128];
        ct_tile_name(t, name, sizeof name);
        json_t *contents = json_array();
        ok = contents != NULL;
        for (int k = 0; ok && k < o[ti].has; k++) {
            snprintf(uri, sizeof uri, "assets/%s_%d.glb", name, k);
            json_t *content = json_object();
            ok = content && json_object_set_new(content, "uri", json_string(uri)) == 0 &&
                 json_array_append_new(contents, content) == 0;
        }
        /* One symbol: a single "content"; several: "contents" (3D Tiles 1.1). */
        if (ok && o[ti].has == 1) ok = json_object_set(j, "content", json_array_get(contents, 0)) == 0;
        else if (ok) ok = json_object_set(j, "contents", contents) == 0;
        json_decref(contents);
        ok = ok && json_object_set_new(j, "transform", numbers(o[ti].transform, 16)) == 0;
    }
    if (ok && children) ok = json_object_set(j, "children", children) == 0;
    json_decref(children);
    json_decref(bv);
    if (!ok) {
        json_decref(j);
        return NULL;
    }
    return j;
}

ct_status ct_asset_tiles_write(ct_context *ctx, const ct_dataset *ds, const ct_symbol_table *symbols,
                               const ct_geo_transform *proto, size_t max_per_tile, const char *dir,
                               json_t **root_tile, double region[6], size_t *ntiles) {
    const ct_asset_set *as = ds->assets;
    *root_tile = NULL;
    *ntiles = 0;
    for (size_t i = 0; i < as->n; i++)
        if (!isfinite(as->items[i].z))
            return ct_error(ctx, CT_ERR_USAGE, "writers.3dtiles: asset %s has no height: put filters.clamp before the writer",
                            as->items[i].id);
    double *xy = malloc(2 * as->n * sizeof *xy);
    if (!xy) return ct_error_nomem(ctx, "asset positions");
    double bb[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (size_t i = 0; i < as->n; i++) {
        xy[2 * i] = as->items[i].x;
        xy[2 * i + 1] = as->items[i].y;
        bb[0] = fmin(bb[0], xy[2 * i]); bb[1] = fmin(bb[1], xy[2 * i + 1]);
        bb[2] = fmax(bb[2], xy[2 * i]); bb[3] = fmax(bb[3], xy[2 * i + 1]);
    }
    double root[4];
    int cell_level = 0;
    ct_quadtree_root_for(bb, ds->cell_size, root, &cell_level);
    ct_quadtree q;
    ct_status st = ct_quadtree_build(ctx, xy, as->n, root, cell_level, max_per_tile, 20, &q);
    free(xy);
    if (st != CT_OK) return st;
    asset_out *o = calloc(q.ntiles, sizeof *o);
    char sub[4096];
    snprintf(sub, sizeof sub, "%s/assets", dir);
    if (!o) st = ct_error_nomem(ctx, "asset tiles");
    if (st == CT_OK) st = ct_mkdirs(ctx, sub);
    long nt = (long)q.ntiles;
#pragma omp parallel num_threads(ct_context_threads(ctx))
    {
        ct_geo_transform *geo = NULL;
        ct_status tst = st;
#pragma omp critical(ct_geo_clone)
        if (tst == CT_OK) tst = ct_geo_transform_clone(ctx, proto, &geo);
#pragma omp for schedule(dynamic, 1)
        for (long t = 0; t < nt; t++) {
            if (tst != CT_OK || !ct_qtile_is_leaf(&q.tiles[t])) continue;
            asset_glbs g;
            memset(&g, 0, sizeof g);
            tst = asset_tile(ctx, geo, ds, symbols, q.order + q.tiles[t].first, q.tiles[t].count, &g, o[t].region,
                             o[t].transform);
            for (size_t k = 0; tst == CT_OK && k < g.n; k++) {
                char name[64], path[4300];
                ct_tile_name(&q.tiles[t], name, sizeof name);
                snprintf(path, sizeof path, "%s/%s_%zu.glb", sub, name, k);
                tst = ct_write_file(ctx, path, g.glb[k], g.len[k]);
            }
            if (tst == CT_OK) o[t].has = (int)g.n;
            for (size_t k = 0; k < g.n; k++) free(g.glb[k]);
        }
        ct_geo_transform_destroy(geo);
#pragma omp critical(ct_asset_status)
        if (tst != CT_OK && st == CT_OK) st = tst;
    }
    if (st == CT_OK) {
        *root_tile = asset_tile_json(&q, o, 0, region);
        for (size_t t = 0; t < q.ntiles; t++) *ntiles += (size_t)(o[t].has > 0);
        if (!*root_tile) st = ct_error_nomem(ctx, "asset tileset");
    }
    free(o);
    ct_quadtree_free(&q);
    return st;
}

static ct_status rebase_content(ct_context *ctx, json_t *content) {
    const char *uri = json_string_value(json_object_get(content, "uri"));
    if (uri && strncmp(uri, "assets/", 7) == 0 && json_object_set_new(content, "uri", json_string(uri + 7)) != 0)
        return ct_error_nomem(ctx, "asset uri");
    return CT_OK;
}

ct_status ct_asset_tiles_rebase(ct_context *ctx, json_t *tile) {
    ct_status rs = rebase_content(ctx, json_object_get(tile, "content"));
    size_t ci;
    json_t *cc;
    json_array_foreach(json_object_get(tile, "contents"), ci, cc) if (rs == CT_OK) rs = rebase_content(ctx, cc);
    if (rs != CT_OK) return rs;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(tile, "children"), i, c) {
        ct_status st = ct_asset_tiles_rebase(ctx, c);
        if (st != CT_OK) return st;
    }
    return CT_OK;
}
