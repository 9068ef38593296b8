/* tileset.json (3D Tiles 1.1): regions from the real geometry, geometric errors that
 * fall with depth (leaves 0), ADD refinement (inner tiles carry no content yet). */
#include "tiles/tileset_json.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "citytiler/version.h"

void ct_tile_name(const ct_qtile *t, char *buf, size_t n) {
    snprintf(buf, n, "%d_%u_%u", t->level, t->x, t->y);
}

/* Error of a tile shown without its children: half its diagonal (the content the
 * children add is at most that far away). Leaves are exact: 0. */
static double tile_error(const ct_qtile *t, int is_root) {
    if (ct_qtile_is_leaf(t) && !is_root) return 0.0;
    double side = t->bounds[2] - t->bounds[0];
    return side * M_SQRT2 * 0.5;
}

static void union_region(double *acc, const double *r, int *first) {
    if (*first) {
        memcpy(acc, r, 6 * sizeof(double));
        *first = 0;
        return;
    }
    for (int k = 0; k < 2; k++) if (r[k] < acc[k]) acc[k] = r[k];
    for (int k = 2; k < 4; k++) if (r[k] > acc[k]) acc[k] = r[k];
    if (r[4] < acc[4]) acc[4] = r[4];
    if (r[5] > acc[5]) acc[5] = r[5];
}

static json_t *number_array(const double *v, size_t n) {
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, json_real(v[i])) != 0) { json_decref(a); return NULL; }
    return a;
}

/* Builds the JSON of tile ti; fills region (the union of its subtree). NULL on OOM. */
static json_t *tile_json(const ct_quadtree *q, const ct_tile_output *leaf_out, int32_t ti, double region[6]) {
    const ct_qtile *t = &q->tiles[ti];
    json_t *j = json_object();
    if (!j) return NULL;
    json_t *children = NULL;
    int first = 1, ok = 1;
    if (ct_qtile_is_leaf(t)) {
        memcpy(region, leaf_out[ti].region, sizeof(double) * 6);
    } else {
        children = json_array();
        ok = children != NULL;
        for (int k = 0; k < 4 && ok; k++) {
            if (t->child[k] < 0) continue;
            double cr[6];
            json_t *c = tile_json(q, leaf_out, t->child[k], cr);
            ok = c && json_array_append_new(children, c) == 0;
            if (ok) union_region(region, cr, &first);
        }
    }
    json_t *bv = json_object();
    ok = ok && bv && json_object_set_new(bv, "region", number_array(region, 6)) == 0;
    ok = ok && json_object_set_new(j, "boundingVolume", bv) == 0;
    ok = ok && json_object_set_new(j, "geometricError", json_real(tile_error(t, ti == 0))) == 0;
    if (ti == 0) ok = ok && json_object_set_new(j, "refine", json_string("ADD")) == 0;
    if (ct_qtile_is_leaf(t)) {
        char name[64], uri[96];
        ct_tile_name(t, name, sizeof name);
        snprintf(uri, sizeof uri, "tiles/%s.glb", name);
        json_t *content = json_object();
        ok = ok && content && json_object_set_new(content, "uri", json_string(uri)) == 0;
        ok = ok && json_object_set_new(j, "content", content) == 0;
        ok = ok && json_object_set_new(j, "transform", number_array(leaf_out[ti].transform, 16)) == 0;
    } else {
        ok = ok && json_object_set_new(j, "children", children) == 0;
    }
    if (!ok) {
        json_decref(j);
        return NULL;
    }
    return j;
}

ct_status ct_tileset_write(ct_context *ctx, const char *dir, const ct_quadtree *q, const ct_tile_output *leaf_out) {
    double region[6];
    json_t *root = tile_json(q, leaf_out, 0, region);
    json_t *ts = json_object();
    json_t *asset = json_object();
    int ok = root && ts && asset;
    ok = ok && json_object_set_new(asset, "version", json_string("1.1")) == 0;
    char gen[64];
    snprintf(gen, sizeof gen, "citytiler %s", ct_version());
    ok = ok && json_object_set_new(asset, "generator", json_string(gen)) == 0;
    ok = ok && json_object_set_new(ts, "asset", asset) == 0;
    asset = NULL;
    ok = ok && json_object_set_new(ts, "geometricError", json_real(2.0 * tile_error(&q->tiles[0], 1))) == 0;
    ok = ok && json_object_set_new(ts, "root", root) == 0;
    root = NULL;
    ct_status st = CT_OK;
    if (!ok) st = ct_error_nomem(ctx, "tileset.json");
    char path[4096];
    snprintf(path, sizeof path, "%s/tileset.json", dir);
    if (st == CT_OK && json_dump_file(ts, path, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17)) != 0)
        st = ct_error(ctx, CT_ERR_IO, "%s: cannot write", path);
    json_decref(root);
    json_decref(asset);
    json_decref(ts);
    return st;
}
