/* tileset.json (3D Tiles 1.1): regions from the real geometry, geometric errors that
 * fall with depth (leaves 0), and per-content ENU transforms composed down the tree
 * (a tile's transform is relative to its parent's in 3D Tiles). */
#include "tiles/tileset_json.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "citytiler/version.h"
#include "tiles/region_json.h"

void ct_tile_name(const ct_qtile *t, char *buf, size_t n) {
    snprintf(buf, n, "%d_%u_%u", t->level, t->x, t->y);
}

void ct_tile_content_path(const char *dir, const ct_qtile *t, char *buf, size_t n) {
    char name[64];
    ct_tile_name(t, name, sizeof name);
    snprintf(buf, n, "%s%stiles/%s.glb", dir ? dir : "", dir ? "/" : "", name);
}

void ct_rigid_inverse_times(const double a[16], const double b[16], double out[16]) {
    /* inverse(a) = [R^T, -R^T t] */
    double inv[16] = {0};
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++) inv[4 * c + r] = a[4 * r + c];
    for (int r = 0; r < 3; r++)
        inv[12 + r] = -(inv[r] * a[12] + inv[4 + r] * a[13] + inv[8 + r] * a[14]);
    inv[15] = 1.0;
    for (int c = 0; c < 4; c++)
        for (int r = 0; r < 4; r++) {
            double s = 0;
            for (int k = 0; k < 4; k++) s += inv[4 * k + r] * b[4 * c + k];
            out[4 * c + r] = s;
        }
}

/* Builds the JSON of tile ti; fills region (the union over its subtree). `frame` is the
 * world transform its nearest ancestor with a transform set (NULL: none). */
static json_t *tile_json(const ct_tileset_plan *p, int32_t ti, const double *frame, double region[6]) {
    const ct_qtile *t = &p->q->tiles[ti];
    const ct_tile_output *o = &p->tiles[ti];
    json_t *j = json_object();
    if (!j) return NULL;
    int first = 1, ok = 1;
    if (o->has_content) ct_region_union(region, o->region, &first);
    const double *child_frame = o->has_content ? o->transform : frame;
    json_t *children = NULL;
    if (!ct_qtile_is_leaf(t)) {
        children = json_array();
        ok = children != NULL;
        for (int k = 0; k < 4 && ok; k++) {
            if (t->child[k] < 0) continue;
            double cr[6];
            json_t *c = tile_json(p, t->child[k], child_frame, cr);
            ok = c && json_array_append_new(children, c) == 0;
            if (ok) ct_region_union(region, cr, &first);
        }
    }
    ok = ok && json_object_set_new(j, "boundingVolume", ct_region_volume(region)) == 0;
    ok = ok && json_object_set_new(j, "geometricError", json_real(p->errors[ti])) == 0;
    if (ti == 0) ok = ok && json_object_set_new(j, "refine", json_string(p->replace ? "REPLACE" : "ADD")) == 0;
    if (o->has_content) {
        char uri[96];
        ct_tile_content_path(NULL, t, uri, sizeof uri);
        json_t *content = json_object();
        ok = ok && content && json_object_set_new(content, "uri", json_string(uri)) == 0;
        ok = ok && json_object_set_new(j, "content", content) == 0;
        double rel[16];
        if (frame) ct_rigid_inverse_times(frame, o->transform, rel);
        else memcpy(rel, o->transform, sizeof rel);
        ok = ok && json_object_set_new(j, "transform", ct_json_reals(rel, 16)) == 0;
    }
    if (children) ok = ok && json_object_set_new(j, "children", children) == 0;
    if (!ok) {
        json_decref(j);
        return NULL;
    }
    return j;
}

ct_status ct_tileset_write_root(ct_context *ctx, const char *path, json_t *root, json_t *schema, double error) {
    json_t *ts = json_object(), *asset = json_object();
    char gen[64];
    snprintf(gen, sizeof gen, "citytiler %s", ct_version());
    /* ts takes references of its own, so root, schema and asset are released below on every path. */
    int ok = root && ts && asset;
    ok = ok && json_object_set_new(asset, "version", json_string("1.1")) == 0;
    ok = ok && json_object_set_new(asset, "generator", json_string(gen)) == 0;
    ok = ok && json_object_set(ts, "asset", asset) == 0;
    ok = ok && json_object_set_new(ts, "geometricError", json_real(error)) == 0;
    ok = ok && (!schema || json_object_set(ts, "schema", schema) == 0);
    ok = ok && json_object_set(ts, "root", root) == 0;
    ct_status st = CT_OK;
    if (!ok) st = ct_error_nomem(ctx, "tileset.json");
    if (st == CT_OK && json_dump_file(ts, path, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17)) != 0)
        st = ct_error(ctx, CT_ERR_IO, "%s: cannot write", path);
    json_decref(root);
    json_decref(schema);
    json_decref(asset);
    json_decref(ts);
    return st;
}

ct_status ct_tileset_write(ct_context *ctx, const char *dir, const ct_tileset_plan *plan) {
    double region[6];
    json_t *root = tile_json(plan, 0, NULL, region);
    double error = 2.0 * plan->errors[0];
    if (root && plan->extra_root) {
        /* Buildings and assets side by side under a root of their own. */
        json_t *wrap = json_object(), *children = json_array();
        int first = 0;
        ct_region_union(region, plan->extra_region, &first);
        double e = plan->errors[0] > plan->extra_error ? plan->errors[0] : plan->extra_error;
        int ok = wrap && children;
        ok = ok && json_object_set_new(wrap, "boundingVolume", ct_region_volume(region)) == 0;
        ok = ok && json_object_set_new(wrap, "geometricError", json_real(2.0 * e)) == 0;
        ok = ok && json_object_set_new(wrap, "refine", json_string("ADD")) == 0;
        /* (the _new calls take their value even when they fail: nothing left to free then) */
        if (ok) {
            ok = json_array_append_new(children, root) == 0;
            root = NULL;
        }
        ok = ok && json_array_append(children, plan->extra_root) == 0;
        if (ok) {
            ok = json_object_set_new(wrap, "children", children) == 0;
            children = NULL;
        }
        if (!ok) {
            json_decref(root);
            json_decref(children);
            json_decref(wrap);
            return ct_error_nomem(ctx, "tileset.json");
        }
        root = wrap;
        error = 4.0 * e;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/tileset.json", dir);
    return ct_tileset_write_root(ctx, path, root, NULL, error);
}
