/* 3D Tiles 1.1 implicit tiling: the lon/lat quadtree, tileset.json with implicitTiling,
 * and the binary .subtree files (availability bitstreams + tile metadata). */
#include "tiles/implicit.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "citytiler/crs.h"
#include "io/outdir.h"
#include "tiles/region_json.h"
#include "tiles/tileset_json.h"

#define WGS84_A 6378137.0
#define EDGE_SAMPLES 16

/* ------------------------------------------------------------------ the grid and the tree */

void ct_implicit_grid_for(const double extent[4], ct_implicit_grid *g) {
    double cx = 0.5 * (extent[0] + extent[2]), cy = 0.5 * (extent[1] + extent[3]);
    g->kx = WGS84_A * cos(cy);
    g->ky = WGS84_A;
    if (!(g->kx > 1.0)) g->kx = 1.0; /* at a pole: any scale keeps the grid valid */
    double w = (extent[2] - extent[0]) * g->kx, h = (extent[3] - extent[1]) * g->ky;
    double side = w > h ? w : h;
    double pad = 0.01 * side > 6.0 ? 0.01 * side : 6.0;
    double half = 0.5 * side + pad;
    g->region[0] = cx - half / g->kx;
    g->region[2] = cx + half / g->kx;
    g->region[1] = cy - half / g->ky;
    g->region[3] = cy + half / g->ky;
    if (g->region[1] < -M_PI_2) g->region[1] = -M_PI_2;
    if (g->region[3] > M_PI_2) g->region[3] = M_PI_2;
    if (g->region[2] - g->region[0] >= 2 * M_PI) { /* (data around the globe) */
        g->region[0] = -M_PI;
        g->region[2] = M_PI;
    }
}

/* A grid longitude (it may run past pi, see ct_implicit_quadtree) as a region's: in
 * [-pi, pi], so a grid across the antimeridian is written with west > east. */
static double region_lon(double lon) {
    if (lon > M_PI) return lon - 2 * M_PI;
    if (lon < -M_PI) return lon + 2 * M_PI;
    return lon;
}

/* 1 when the longitude interval [w, e] (a region's: west > east across the
 * antimeridian) lies within the grid's [gw, ge] (gw <= ge, possibly past pi). */
static int lon_within_grid(double w, double e, double gw, double ge) {
    const double tol = 1e-12;
    if (ge - gw >= 2 * M_PI - tol) return 1; /* the whole circle */
    double width = e >= w ? e - w : e - w + 2 * M_PI;
    if (w < gw - tol) w += 2 * M_PI;
    return w >= gw - tol && w + width <= ge + tol;
}

/* The grid's side in its metres (square but near a pole, where the latitudes are cut). */
static double grid_side(const ct_implicit_grid *g) {
    double w = (g->region[2] - g->region[0]) * g->kx, h = (g->region[3] - g->region[1]) * g->ky;
    return w > h ? w : h;
}

int ct_implicit_cell_level(const ct_implicit_grid *g, double cell_size) {
    int level = 0;
    for (double side = grid_side(g); side > cell_size && level < 30; side *= 0.5) level++;
    return level;
}

ct_status ct_implicit_quadtree_lonlat(ct_context *ctx, const ct_implicit_grid *g, const double *lonlat,
                                      size_t n, size_t max_per_leaf, int max_level, ct_quadtree *q) {
    return ct_implicit_quadtree_lonlat_weighted(ctx, g, lonlat, NULL, n, max_per_leaf, 0, max_level, q);
}

ct_status ct_implicit_quadtree_lonlat_weighted(ct_context *ctx, const ct_implicit_grid *g, const double *lonlat,
                                               const uint64_t *weights, size_t n, size_t max_per_leaf,
                                               uint64_t max_weight, int max_level, ct_quadtree *q) {
    memset(q, 0, sizeof *q);
    if (n == 0) return ct_error(ctx, CT_ERR_INPUT, "implicit tiling: no buildings to tile");
    double root[4] = {0, 0, (g->region[2] - g->region[0]) * g->kx, (g->region[3] - g->region[1]) * g->ky};
    double *m = malloc(2 * n * sizeof *m);
    if (!m) return ct_error_nomem(ctx, "implicit tiling");
    for (size_t i = 0; i < n; i++) {
        m[2 * i] = (lonlat[2 * i] - g->region[0]) * g->kx;
        m[2 * i + 1] = (lonlat[2 * i + 1] - g->region[1]) * g->ky;
        if (!(m[2 * i] >= 0 && m[2 * i] < root[2] && m[2 * i + 1] >= 0 && m[2 * i + 1] < root[3])) {
            free(m);
            return ct_error(ctx, CT_ERR_INTERNAL, "implicit tiling: point %zu (%.9f, %.9f rad) outside the root region",
                            i, lonlat[2 * i], lonlat[2 * i + 1]);
        }
    }
    /* (cell level 0: implicit tiles follow the grid, not the processing cells) */
    ct_status st = ct_quadtree_build_weighted(ctx, m, weights, n, root, 0, max_per_leaf, max_weight, max_level, q);
    free(m);
    return st;
}

/* Implicit subdivision is uniform in longitude from the root's west edge, across the
 * antimeridian too (a root region with west > east). For data across it, longitudes
 * west of it count one turn on (past pi), so the grid and the tree see one continuous
 * range instead of the whole globe. outline: nout points, ll: n points (lon, lat, h). */
static void unwrap_across_antimeridian(double *outline, size_t nout, double *ll, size_t n) {
    double w, e, cw, ce;
    ct_lon_range(outline, nout, 3, &w, &e);
    ct_lon_range(ll, n, 3, &cw, &ce);
    ct_lon_union(&w, &e, cw, ce);
    if (!(w > e)) return;
    for (size_t k = 0; k < nout; k++)
        if (outline[3 * k] < 0) outline[3 * k] += 2 * M_PI;
    for (size_t i = 0; i < n; i++)
        if (ll[3 * i] < 0) ll[3 * i] += 2 * M_PI;
}

ct_status ct_implicit_quadtree(ct_context *ctx, const ct_dataset *ds, const double *centroids,
                               const ct_implicit_budget *b, ct_implicit_grid *grid, ct_quadtree *q, int *cell_level) {
    memset(q, 0, sizeof *q);
    *cell_level = 0;
    size_t n = ds->nbuildings;
    if (n == 0) return ct_error(ctx, CT_ERR_INPUT, "implicit tiling: no buildings to tile");
    /* The meshes' box in the working CRS (a prism's x, y are its footprint's: the same box
     * whether or not the meshes are in memory); its outline (sampled) in lon/lat bounds the data. */
    double bb[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (size_t i = 0; i < n; i++) {
        double fb[4];
        if (!ct_footprint_bbox(&ds->buildings[i].footprint, fb)) continue;
        if (fb[0] < bb[0]) bb[0] = fb[0];
        if (fb[1] < bb[1]) bb[1] = fb[1];
        if (fb[2] > bb[2]) bb[2] = fb[2];
        if (fb[3] > bb[3]) bb[3] = fb[3];
    }
    if (!(bb[0] <= bb[2] && bb[1] <= bb[3])) return ct_error(ctx, CT_ERR_INPUT, "implicit tiling: no geometry");
    ct_geo_transform *t = NULL;
    ct_status st = ct_geo_transform_create(ctx, ds->crs_wkt, &t);
    if (st != CT_OK) return st;
    double outline[3 * 4 * EDGE_SAMPLES];
    for (int e = 0; e < 4; e++)
        for (int k = 0; k < EDGE_SAMPLES; k++) {
            double f = (double)k / EDGE_SAMPLES, *p = outline + 3 * (e * EDGE_SAMPLES + k);
            double xs[4] = {bb[0] + f * (bb[2] - bb[0]), bb[2], bb[2] - f * (bb[2] - bb[0]), bb[0]};
            double ys[4] = {bb[1], bb[1] + f * (bb[3] - bb[1]), bb[3], bb[3] - f * (bb[3] - bb[1])};
            p[0] = xs[e];
            p[1] = ys[e];
            p[2] = 0;
        }
    double *ll = malloc(3 * n * sizeof *ll), *lonlat = malloc(2 * n * sizeof *lonlat);
    if (!ll || !lonlat) st = ct_error_nomem(ctx, "implicit tiling");
    if (st == CT_OK) st = ct_geo_to_geodetic(ctx, t, outline, outline + 1, outline + 2, 3, 4 * EDGE_SAMPLES);
    for (size_t i = 0; st == CT_OK && i < n; i++) {
        ll[3 * i] = centroids[2 * i];
        ll[3 * i + 1] = centroids[2 * i + 1];
        ll[3 * i + 2] = 0;
    }
    if (st == CT_OK) st = ct_geo_to_geodetic(ctx, t, ll, ll + 1, ll + 2, 3, n);
    if (st == CT_OK) unwrap_across_antimeridian(outline, 4 * EDGE_SAMPLES, ll, n);
    if (st == CT_OK) {
        double ext[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY};
        for (int k = 0; k < 4 * EDGE_SAMPLES; k++) {
            const double *p = outline + 3 * k;
            if (p[0] < ext[0]) ext[0] = p[0];
            if (p[1] < ext[1]) ext[1] = p[1];
            if (p[0] > ext[2]) ext[2] = p[0];
            if (p[1] > ext[3]) ext[3] = p[1];
        }
        /* The centroids too: around a pole the box's outline need not hold them. */
        for (size_t i = 0; i < n; i++) {
            lonlat[2 * i] = ll[3 * i];
            lonlat[2 * i + 1] = ll[3 * i + 1];
            if (ll[3 * i] < ext[0]) ext[0] = ll[3 * i];
            if (ll[3 * i + 1] < ext[1]) ext[1] = ll[3 * i + 1];
            if (ll[3 * i] > ext[2]) ext[2] = ll[3 * i];
            if (ll[3 * i + 1] > ext[3]) ext[3] = ll[3 * i + 1];
        }
        ct_implicit_grid_for(ext, grid);
        if (grid->region[0] == -M_PI && grid->region[2] == M_PI) /* around the globe: no turn counted on */
            for (size_t i = 0; i < n; i++)
                if (lonlat[2 * i] > M_PI) lonlat[2 * i] -= 2 * M_PI;
        *cell_level = ct_implicit_cell_level(grid, ds->cell_size);
        int max_level = b->max_level > *cell_level ? b->max_level : *cell_level;
        st = ct_implicit_quadtree_lonlat_weighted(ctx, grid, lonlat, b->weights, n, b->max_per_leaf, b->max_weight,
                                                  max_level, q);
    }
    free(ll);
    free(lonlat);
    ct_geo_transform_destroy(t);
    return st;
}

/* ------------------------------------------------------------------ availability indexing */

static uint64_t spread_bits(uint32_t v) {
    uint64_t x = v;
    x = (x | (x << 16)) & 0x0000FFFF0000FFFFull;
    x = (x | (x << 8)) & 0x00FF00FF00FF00FFull;
    x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0Full;
    x = (x | (x << 2)) & 0x3333333333333333ull;
    x = (x | (x << 1)) & 0x5555555555555555ull;
    return x;
}

uint64_t ct_implicit_morton(uint32_t x, uint32_t y) { return spread_bits(x) | (spread_bits(y) << 1); }

/* (4^l - 1) / 3: bits of all levels above l in a subtree */
static uint64_t level_offset(int l) { return (((uint64_t)1 << (2 * l)) - 1) / 3; }

/* One bit to set in one subtree: kind 0 a tile of the subtree, kind 1 a child subtree's root. */
typedef struct avail_entry {
    int l0;          /* level of the subtree's root */
    uint32_t sx, sy; /* the subtree root's coordinates */
    int kind;
    uint64_t bit;    /* index in the tile (kind 0) or child subtree (kind 1) bitstream */
    uint32_t tile;   /* index in q->tiles */
} avail_entry;

static int cmp_entry(const void *pa, const void *pb) {
    const avail_entry *a = pa, *b = pb;
    if (a->l0 != b->l0) return a->l0 < b->l0 ? -1 : 1;
    if (a->sx != b->sx) return a->sx < b->sx ? -1 : 1;
    if (a->sy != b->sy) return a->sy < b->sy ? -1 : 1;
    if (a->kind != b->kind) return a->kind < b->kind ? -1 : 1;
    return (a->bit > b->bit) - (a->bit < b->bit);
}

/* ------------------------------------------------------------------ one subtree file */

typedef struct bytes {
    uint8_t *p;
    size_t len, cap;
} bytes;

static int bytes_reserve(bytes *b, size_t extra) {
    if (b->len + extra <= b->cap) return 1;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra) cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p) return 0;
    b->p = p;
    b->cap = cap;
    return 1;
}

/* Appends n zero bytes aligned to 8 (zero padding before and after); returns the offset. */
static int bytes_view(bytes *b, size_t n, size_t *offset) {
    size_t padded = (n + 7) & ~(size_t)7;
    if (!bytes_reserve(b, padded)) return 0;
    *offset = b->len;
    memset(b->p + b->len, 0, padded);
    b->len += padded;
    return 1;
}

static void put_u64(uint8_t *p, uint64_t v) {
    for (int k = 0; k < 8; k++) p[k] = (uint8_t)(v >> (8 * k));
}

static void put_f64(uint8_t *p, double d) {
    uint64_t v;
    memcpy(&v, &d, sizeof v);
    put_u64(p, v);
}

static void set_bit(uint8_t *p, uint64_t i) { p[i >> 3] |= (uint8_t)(1u << (i & 7)); }

/* json_object_set_new / json_array_append_new steal v, also on failure */
static int jset(json_t *o, const char *k, json_t *v) { return v && json_object_set_new(o, k, v) == 0; }
static int japp(json_t *a, json_t *v) { return v && json_array_append_new(a, v) == 0; }

/* Moves *v into o[k] (when ok; else frees it); *v becomes NULL either way. */
static int put(int ok, json_t *o, const char *k, json_t **v) {
    json_t *x = *v;
    *v = NULL;
    if (!ok || !o) {
        json_decref(x);
        return 0;
    }
    return jset(o, k, x);
}

static int push(int ok, json_t *a, json_t **v) {
    json_t *x = *v;
    *v = NULL;
    if (!ok || !a) {
        json_decref(x);
        return 0;
    }
    return japp(a, x);
}

static json_t *buffer_view(size_t offset, size_t len) {
    json_t *v = json_object();
    if (v && jset(v, "buffer", json_integer(0)) && jset(v, "byteOffset", json_integer((json_int_t)offset)) &&
        jset(v, "byteLength", json_integer((json_int_t)len)))
        return v;
    json_decref(v);
    return NULL;
}

/* {"bitstream": view, "availableCount": count}, or {"constant": 0} when count is 0 */
static json_t *availability(int view, size_t count) {
    json_t *a = json_object();
    int ok = a != NULL;
    if (count == 0) ok = ok && jset(a, "constant", json_integer(0));
    else ok = ok && jset(a, "bitstream", json_integer(view)) && jset(a, "availableCount", json_integer((json_int_t)count));
    if (!ok) {
        json_decref(a);
        return NULL;
    }
    return a;
}

/* Encodes the subtree whose entries are e[0..n) (sorted; kind 0 first, by bit) into *out. */
static ct_status encode_subtree(ct_context *ctx, const ct_implicit_plan *p, const double *tight, int any_content,
                                const avail_entry *e, size_t n, uint8_t **out, size_t *out_len) {
    const int S = p->subtree_levels;
    const uint64_t tile_bits = level_offset(S), child_bits = (uint64_t)1 << (2 * S);
    size_t ntiles = 0, ncontent = 0, nchild = 0;
    for (size_t k = 0; k < n; k++) {
        if (e[k].kind == 0) {
            ntiles++;
            ncontent += p->tiles[e[k].tile].has_content != 0;
        } else {
            nchild++;
        }
    }
    bytes bin = {NULL, 0, 0};
    size_t off_tile = 0, off_content = 0, off_child = 0, off_region = 0, off_error = 0;
    size_t len_tile = (size_t)((tile_bits + 7) / 8), len_child = (size_t)((child_bits + 7) / 8);
    int ok = bytes_view(&bin, len_tile, &off_tile);
    if (ok && ncontent) ok = bytes_view(&bin, len_tile, &off_content);
    if (ok && nchild) ok = bytes_view(&bin, len_child, &off_child);
    if (ok) ok = bytes_view(&bin, ntiles * 6 * sizeof(double), &off_region);
    if (ok) ok = bytes_view(&bin, ntiles * sizeof(double), &off_error);
    if (!ok) {
        free(bin.p);
        return ct_error_nomem(ctx, "subtree");
    }
    size_t row = 0;
    for (size_t k = 0; k < n; k++) {
        uint32_t t = e[k].tile;
        if (e[k].kind == 1) {
            set_bit(bin.p + off_child, e[k].bit);
            continue;
        }
        set_bit(bin.p + off_tile, e[k].bit);
        if (p->tiles[t].has_content) set_bit(bin.p + off_content, e[k].bit);
        for (int c = 0; c < 6; c++) put_f64(bin.p + off_region + 8 * (6 * row + (size_t)c), tight[6 * t + c]);
        put_f64(bin.p + off_error + 8 * row, p->errors[t]);
        row++;
    }

    /* JSON: buffer views in the order they were laid out */
    json_t *j = json_object(), *buffers = json_array(), *buf = json_object(), *views = json_array();
    json_t *tables = json_array(), *table = json_object(), *props = json_object();
    json_t *preg = json_object(), *perr = json_object(), *ca = any_content ? json_array() : NULL;
    ok = j && buffers && buf && views && tables && table && props && preg && perr && (ca || !any_content);
    int nview = 0, v_tile, v_content = -1, v_child = -1, v_region, v_error;
    ok = ok && japp(views, buffer_view(off_tile, len_tile));
    v_tile = nview++;
    if (ncontent) {
        ok = ok && japp(views, buffer_view(off_content, len_tile));
        v_content = nview++;
    }
    if (nchild) {
        ok = ok && japp(views, buffer_view(off_child, len_child));
        v_child = nview++;
    }
    ok = ok && japp(views, buffer_view(off_region, ntiles * 6 * sizeof(double)));
    v_region = nview++;
    ok = ok && japp(views, buffer_view(off_error, ntiles * sizeof(double)));
    v_error = nview++;
    ok = ok && jset(buf, "byteLength", json_integer((json_int_t)bin.len));
    ok = push(ok, buffers, &buf);
    ok = put(ok, j, "buffers", &buffers);
    ok = put(ok, j, "bufferViews", &views);
    ok = ok && jset(preg, "values", json_integer(v_region));
    ok = put(ok, props, "boundingRegion", &preg);
    ok = ok && jset(perr, "values", json_integer(v_error));
    ok = put(ok, props, "geometricError", &perr);
    ok = ok && jset(table, "class", json_string("tile")) && jset(table, "count", json_integer((json_int_t)ntiles));
    ok = put(ok, table, "properties", &props);
    ok = push(ok, tables, &table);
    ok = put(ok, j, "propertyTables", &tables);
    ok = ok && jset(j, "tileAvailability", availability(v_tile, ntiles));
    if (any_content) {
        ok = ok && japp(ca, availability(v_content, ncontent));
        ok = put(ok, j, "contentAvailability", &ca);
    }
    ok = ok && jset(j, "childSubtreeAvailability", availability(v_child, nchild));
    ok = ok && jset(j, "tileMetadata", json_integer(0));
    char *text = ok ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    if (!text) {
        free(bin.p);
        return ct_error_nomem(ctx, "subtree JSON");
    }
    size_t tlen = strlen(text), jlen = (tlen + 7) & ~(size_t)7;
    size_t total = 24 + jlen + bin.len;
    uint8_t *f = malloc(total);
    if (!f) {
        free(text);
        free(bin.p);
        return ct_error_nomem(ctx, "subtree");
    }
    memcpy(f, "subt", 4);
    f[4] = 1;
    f[5] = f[6] = f[7] = 0;
    put_u64(f + 8, jlen);
    put_u64(f + 16, bin.len);
    memcpy(f + 24, text, tlen);
    memset(f + 24 + tlen, ' ', jlen - tlen);
    if (bin.len) memcpy(f + 24 + jlen, bin.p, bin.len);
    free(text);
    free(bin.p);
    *out = f;
    *out_len = total;
    return CT_OK;
}

/* ------------------------------------------------------------------ tileset.json */

static json_t *tile_class(void) {
    json_t *cls = json_object(), *props = json_object(), *reg = json_object(), *err = json_object();
    int ok = cls && props && reg && err;
    ok = ok && jset(reg, "description", json_string("the tile's tight bounding region (content and descendants)"));
    ok = ok && jset(reg, "type", json_string("SCALAR")) && jset(reg, "componentType", json_string("FLOAT64"));
    ok = ok && jset(reg, "array", json_true()) && jset(reg, "count", json_integer(6));
    ok = ok && jset(reg, "semantic", json_string("TILE_BOUNDING_REGION"));
    ok = put(ok, props, "boundingRegion", &reg);
    ok = ok && jset(err, "description", json_string("the tile's geometric error (leaves 0)"));
    ok = ok && jset(err, "type", json_string("SCALAR")) && jset(err, "componentType", json_string("FLOAT64"));
    ok = ok && jset(err, "semantic", json_string("TILE_GEOMETRIC_ERROR"));
    ok = put(ok, props, "geometricError", &err);
    ok = ok && jset(cls, "description", json_string("an implicit tile's tight volume and error"));
    ok = put(ok, cls, "properties", &props);
    if (!ok) {
        json_decref(cls);
        return NULL;
    }
    return cls;
}

static ct_status write_tileset(ct_context *ctx, const char *dir, const ct_implicit_plan *p, const double *tight,
                               int available_levels, int any_content) {
    const ct_implicit_grid *g = p->grid;
    double region[6] = {region_lon(g->region[0]), g->region[1], region_lon(g->region[2]), g->region[3], tight[4], tight[5]};
    json_t *schema = json_object(), *classes = json_object();
    json_t *root = json_object(), *it = json_object(), *subtrees = json_object();
    json_t *content = any_content ? json_object() : NULL;
    int ok = schema && classes && root && it && subtrees && (content || !any_content);
    ok = ok && jset(classes, "tile", tile_class());
    ok = ok && jset(schema, "id", json_string("citytiler_tiles"));
    ok = put(ok, schema, "classes", &classes);
    ok = ok && jset(root, "boundingVolume", ct_region_volume(region));
    ok = ok && jset(root, "geometricError", json_real(p->errors[0]));
    ok = ok && jset(root, "refine", json_string(p->replace ? "REPLACE" : "ADD"));
    if (any_content) {
        ok = ok && jset(content, "uri", json_string("tiles/{level}_{x}_{y}.glb"));
        ok = put(ok, root, "content", &content);
    }
    ok = ok && jset(it, "subdivisionScheme", json_string("QUADTREE"));
    ok = ok && jset(it, "subtreeLevels", json_integer(p->subtree_levels));
    ok = ok && jset(it, "availableLevels", json_integer(available_levels));
    ok = ok && jset(subtrees, "uri", json_string("subtrees/{level}_{x}_{y}.subtree"));
    ok = put(ok, it, "subtrees", &subtrees);
    ok = put(ok, root, "implicitTiling", &it);
    if (!ok) { /* put() has released what it did not place */
        json_decref(root);
        json_decref(schema);
        return ct_error_nomem(ctx, "tileset.json");
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/tileset.json", dir);
    return ct_tileset_write_root(ctx, path, root, schema, 2.0 * p->errors[0]);
}

/* ------------------------------------------------------------------ the whole tileset */

/* Tight regions: each tile's content united with its children's (children come after
 * their parent in q->tiles). */
static ct_status tight_regions(ct_context *ctx, const ct_implicit_plan *p, double *tight) {
    const ct_quadtree *q = p->q;
    for (size_t i = q->ntiles; i-- > 0;) {
        const ct_qtile *t = &q->tiles[i];
        int first = 1;
        if (p->tiles[i].has_content) ct_region_union(tight + 6 * i, p->tiles[i].region, &first);
        for (int k = 0; k < 4; k++)
            if (t->child[k] >= 0) ct_region_union(tight + 6 * i, tight + 6 * (size_t)t->child[k], &first);
        if (first)
            return ct_error(ctx, CT_ERR_INTERNAL, "implicit tiling: tile %d/%u/%u has no content and no children",
                            t->level, t->x, t->y);
    }
    const double *r = tight, *g = p->grid->region;
    if (!(lon_within_grid(r[0], r[2], g[0], g[2]) && r[1] >= g[1] && r[3] <= g[3]))
        return ct_error(ctx, CT_ERR_INTERNAL, "implicit tiling: content [%.9f, %.9f, %.9f, %.9f] outside the root region "
                                              "[%.9f, %.9f, %.9f, %.9f]", r[0], r[1], r[2], r[3], g[0], g[1], g[2], g[3]);
    return CT_OK;
}

ct_status ct_implicit_write(ct_context *ctx, const char *dir, const ct_implicit_plan *p) {
    const ct_quadtree *q = p->q;
    const int S = p->subtree_levels;
    if (S < 1 || S > CT_IMPLICIT_MAX_SUBTREE_LEVELS)
        return ct_error(ctx, CT_ERR_USAGE, "implicit tiling: subtree_levels must be between 1 and %d",
                        CT_IMPLICIT_MAX_SUBTREE_LEVELS);
    if (q->ntiles == 0 || q->ntiles > UINT32_MAX) return ct_error(ctx, CT_ERR_INTERNAL, "implicit tiling: bad tree");
    double *tight = malloc(6 * q->ntiles * sizeof *tight);
    avail_entry *e = malloc(2 * q->ntiles * sizeof *e);
    if (!tight || !e) {
        free(tight);
        free(e);
        return ct_error_nomem(ctx, "implicit tiling");
    }
    ct_status st = tight_regions(ctx, p, tight);
    int levels = 0, any_content = 0;
    size_t ne = 0;
    for (size_t i = 0; st == CT_OK && i < q->ntiles; i++) {
        const ct_qtile *t = &q->tiles[i];
        if (t->level + 1 > levels) levels = t->level + 1;
        any_content |= p->tiles[i].has_content != 0;
        int l = t->level % S, l0 = t->level - l;
        uint32_t mask = (1u << l) - 1u;
        e[ne++] = (avail_entry){l0, t->x >> l, t->y >> l, 0, level_offset(l) + ct_implicit_morton(t->x & mask, t->y & mask),
                                (uint32_t)i};
        if (l == 0 && t->level > 0) {
            uint32_t cm = (1u << S) - 1u;
            e[ne++] = (avail_entry){l0 - S, t->x >> S, t->y >> S, 1, ct_implicit_morton(t->x & cm, t->y & cm), (uint32_t)i};
        }
    }
    if (st == CT_OK) qsort(e, ne, sizeof *e, cmp_entry);
    char path[4096];
    snprintf(path, sizeof path, "%s/subtrees", dir);
    if (st == CT_OK) st = ct_mkdirs(ctx, path);
    for (size_t a = 0; st == CT_OK && a < ne;) {
        size_t b = a + 1;
        while (b < ne && e[b].l0 == e[a].l0 && e[b].sx == e[a].sx && e[b].sy == e[a].sy) b++;
        if (e[a].kind != 0 || e[a].bit != 0) {
            st = ct_error(ctx, CT_ERR_INTERNAL, "implicit tiling: subtree %d/%u/%u has no root tile", e[a].l0, e[a].sx,
                          e[a].sy);
            break;
        }
        uint8_t *bytes_out = NULL;
        size_t len = 0;
        st = encode_subtree(ctx, p, tight, any_content, e + a, b - a, &bytes_out, &len);
        if (st == CT_OK) {
            snprintf(path, sizeof path, "%s/subtrees/%d_%u_%u.subtree", dir, e[a].l0, e[a].sx, e[a].sy);
            st = ct_write_file(ctx, path, bytes_out, len);
        }
        free(bytes_out);
        a = b;
    }
    if (st == CT_OK) st = write_tileset(ctx, dir, p, tight, levels, any_content);
    free(tight);
    free(e);
    return st;
}
