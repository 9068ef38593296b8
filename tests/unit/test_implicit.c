/* Implicit tiling: Morton order, the lon/lat quadtree (every building in exactly one
 * leaf, inside its leaf's implicit region), and the .subtree binary layout (header
 * "subt" / version 1, JSON padded to 8 bytes, buffer views aligned to 8, availability
 * bitstreams LSB-first in tile-index order with the right availableCount, child
 * subtrees, tile metadata rows in tile-index order) read back from disk; the vertex budget and
 * the cell level (max_level's floor) of the implicit tree. */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ct_test.h"
#include "io/outdir.h"
#include "tiles/implicit.h"

static char out_root[4096];

/* ---------------------------------------------------------------- reading subtrees back */

typedef struct subtree_file {
    uint8_t *data;
    size_t len;
    json_t *json;
    const uint8_t *bin;
    uint64_t bin_len;
} subtree_file;

static uint64_t get_u64(const uint8_t *p) {
    uint64_t v = 0;
    for (int k = 7; k >= 0; k--) v = (v << 8) | p[k];
    return v;
}

static double get_f64(const uint8_t *p) {
    uint64_t v = get_u64(p);
    double d;
    memcpy(&d, &v, sizeof d);
    return d;
}

/* Reads and checks the layout of one subtree file; 0 when missing or malformed. */
static int read_subtree(const char *dir, int level, uint32_t x, uint32_t y, subtree_file *s) {
    memset(s, 0, sizeof *s);
    char path[4200];
    snprintf(path, sizeof path, "%s/subtrees/%d_%u_%u.subtree", dir, level, x, y);
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    s->data = malloc(n > 0 ? (size_t)n : 1);
    s->len = s->data && n > 0 && fread(s->data, 1, (size_t)n, f) == (size_t)n ? (size_t)n : 0;
    fclose(f);
    CT_CHECK_MSG(s->len >= 24, "%s: %zu bytes", path, s->len);
    if (s->len < 24) return 0;
    uint32_t version = (uint32_t)s->data[4] | (uint32_t)s->data[5] << 8 | (uint32_t)s->data[6] << 16 | (uint32_t)s->data[7] << 24;
    uint64_t jlen = get_u64(s->data + 8);
    s->bin_len = get_u64(s->data + 16);
    CT_CHECK_MSG(memcmp(s->data, "subt", 4) == 0, "%s: magic", path);
    CT_CHECK_MSG(version == 1, "%s: version %u", path, version);
    CT_CHECK_MSG(jlen % 8 == 0, "%s: jsonByteLength %llu not padded to 8", path, (unsigned long long)jlen);
    CT_CHECK_MSG(s->bin_len % 8 == 0, "%s: binaryByteLength %llu", path, (unsigned long long)s->bin_len);
    CT_CHECK_MSG(24 + jlen + s->bin_len == s->len, "%s: lengths %llu + %llu vs %zu", path, (unsigned long long)jlen,
                 (unsigned long long)s->bin_len, s->len);
    if (24 + jlen + s->bin_len != s->len) return 0;
    /* JSON text, then only spaces up to the padded length */
    json_error_t err;
    size_t tlen = (size_t)jlen;
    while (tlen > 0 && s->data[24 + tlen - 1] == ' ') tlen--;
    CT_CHECK_MSG(jlen - tlen < 8, "%s: %llu padding bytes", path, (unsigned long long)(jlen - tlen));
    s->json = json_loadb((const char *)s->data + 24, tlen, 0, &err);
    CT_CHECK_MSG(s->json != NULL, "%s: JSON: %s", path, err.text);
    s->bin = s->data + 24 + jlen;
    return s->json != NULL;
}

static void free_subtree(subtree_file *s) {
    json_decref(s->json);
    free(s->data);
}

/* Bytes of buffer view v (checked: internal buffer, 8-aligned, inside the chunk). */
static const uint8_t *view_bytes(const subtree_file *s, int v, size_t *len) {
    json_t *bv = json_array_get(json_object_get(s->json, "bufferViews"), (size_t)v);
    size_t off = (size_t)json_integer_value(json_object_get(bv, "byteOffset"));
    *len = (size_t)json_integer_value(json_object_get(bv, "byteLength"));
    CT_CHECK_MSG(bv && json_integer_value(json_object_get(bv, "buffer")) == 0, "view %d: buffer 0", v);
    CT_CHECK_MSG(off % 8 == 0, "view %d: byteOffset %zu not aligned to 8", v, off);
    CT_CHECK_MSG(off + *len <= s->bin_len, "view %d: [%zu, %zu) outside %llu bytes", v, off, off + *len,
                 (unsigned long long)s->bin_len);
    if (!bv || off + *len > s->bin_len) return NULL;
    return s->bin + off;
}

static int bit_at(const uint8_t *p, uint64_t i) { return (p[i >> 3] >> (i & 7)) & 1; }

/* The bit-value of an availability object at i (constant or bitstream); checks availableCount. */
static int avail_bit(const subtree_file *s, const char *name, int index_in_array, uint64_t nbits, uint64_t i) {
    json_t *a = json_object_get(s->json, name);
    if (index_in_array >= 0) a = json_array_get(a, (size_t)index_in_array);
    if (!a) return -1;
    json_t *c = json_object_get(a, "constant");
    if (c) return (int)json_integer_value(c);
    size_t len;
    const uint8_t *p = view_bytes(s, (int)json_integer_value(json_object_get(a, "bitstream")), &len);
    if (!p || len < (nbits + 7) / 8) return -1;
    return bit_at(p, i);
}

static int64_t avail_count(const subtree_file *s, const char *name, int index_in_array, uint64_t nbits) {
    json_t *a = json_object_get(s->json, name);
    if (index_in_array >= 0) a = json_array_get(a, (size_t)index_in_array);
    json_t *c = json_object_get(a, "constant");
    if (c) return json_integer_value(c) ? (int64_t)nbits : 0;
    size_t len;
    const uint8_t *p = view_bytes(s, (int)json_integer_value(json_object_get(a, "bitstream")), &len);
    if (!p || len < (nbits + 7) / 8) return -1;
    int64_t ones = 0;
    for (uint64_t i = 0; i < nbits; i++) ones += bit_at(p, i);
    CT_CHECK_MSG(json_integer_value(json_object_get(a, "availableCount")) == ones, "%s: availableCount %lld vs %lld set bits",
                 name, (long long)json_integer_value(json_object_get(a, "availableCount")), (long long)ones);
    /* bits past the end are zero */
    for (uint64_t i = nbits; i < 8 * (uint64_t)len; i++) CT_CHECK_MSG(!bit_at(p, i), "%s: stray bit %llu", name, (unsigned long long)i);
    return ones;
}

/* ---------------------------------------------------------------- tests */

static void test_morton(void) {
    CT_CHECK(ct_implicit_morton(0, 0) == 0);
    CT_CHECK(ct_implicit_morton(1, 0) == 1);
    CT_CHECK(ct_implicit_morton(0, 1) == 2);
    CT_CHECK(ct_implicit_morton(1, 1) == 3);
    CT_CHECK(ct_implicit_morton(2, 0) == 4);
    CT_CHECK(ct_implicit_morton(3, 5) == 39); /* x 011, y 101 -> 100111 */
    CT_CHECK(ct_implicit_morton(0xFFFF, 0) == 0x55555555u);
}

static void test_grid(void) {
    const double d = M_PI / 180;
    double ext[4] = {4.35 * d, 52.00 * d, 4.37 * d, 52.01 * d};
    ct_implicit_grid g;
    ct_implicit_grid_for(ext, &g);
    CT_CHECK(g.region[0] < ext[0] && g.region[1] < ext[1] && g.region[2] > ext[2] && g.region[3] > ext[3]);
    double w = (g.region[2] - g.region[0]) * g.kx, h = (g.region[3] - g.region[1]) * g.ky;
    CT_CHECK_NEAR(w, h, 1e-6 * w);       /* square in metres */
    CT_CHECK(w > 1300 && w < 1500);       /* ~1.37 km wide data, padded 1 % a side */
}

/* Fake tile outputs for a tree over points: content on leaves (and every other parent),
 * a region around the tile's points that sticks out of its implicit region. */
static void fake_outputs(const ct_quadtree *q, const double *ll, ct_tile_output *out, double *err) {
    for (size_t t = 0; t < q->ntiles; t++) {
        const ct_qtile *tile = &q->tiles[t];
        int leaf = ct_qtile_is_leaf(tile);
        out[t].has_content = leaf || (t % 2 == 0);
        err[t] = leaf && t != 0 ? 0.0 : 100.0 / (double)(1u << tile->level);
        double *r = out[t].region;
        r[0] = r[1] = INFINITY;
        r[2] = r[3] = -INFINITY;
        for (size_t k = 0; k < tile->count; k++) {
            const double *p = ll + 2 * q->order[tile->first + k];
            if (p[0] - 1e-6 < r[0]) r[0] = p[0] - 1e-6;
            if (p[1] - 1e-6 < r[1]) r[1] = p[1] - 1e-6;
            if (p[0] + 1e-6 > r[2]) r[2] = p[0] + 1e-6;
            if (p[1] + 1e-6 > r[3]) r[3] = p[1] + 1e-6;
        }
        r[4] = -(double)tile->level;
        r[5] = 10.0 + (double)tile->level;
    }
}

/* Tiny tree by hand: two points, in the SW and NE quadrants. */
static void test_small_layout(ct_context *ctx) {
    const double d = M_PI / 180;
    double ext[4] = {4.0 * d, 52.0 * d, 4.01 * d, 52.01 * d};
    ct_implicit_grid g;
    ct_implicit_grid_for(ext, &g);
    double cx = 0.5 * (g.region[0] + g.region[2]), cy = 0.5 * (g.region[1] + g.region[3]);
    double ll[4] = {cx - 0.001 * d, cy - 0.001 * d, cx + 0.001 * d, cy + 0.001 * d};
    for (int levels = 1; levels <= 2; levels++) {
        ct_quadtree q;
        ct_status st = ct_implicit_quadtree_lonlat(ctx, &g, ll, 2, 1, 1, &q);
        CT_CHECK(st == CT_OK && q.ntiles == 3);
        if (st != CT_OK || q.ntiles != 3) return;
        ct_tile_output out[3];
        double err[3];
        memset(out, 0, sizeof out);
        fake_outputs(&q, ll, out, err);
        out[0].has_content = 0;
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/small%d", out_root, levels);
        mkdir(dir, 0777);
        ct_implicit_plan plan = {&q, out, err, 1, &g, levels};
        CT_CHECK(ct_implicit_write(ctx, dir, &plan) == CT_OK);
        subtree_file s;
        if (!read_subtree(dir, 0, 0, 0, &s)) {
            ct_quadtree_free(&q);
            return;
        }
        size_t len;
        json_t *ta = json_object_get(s.json, "tileAvailability");
        const uint8_t *tb = view_bytes(&s, (int)json_integer_value(json_object_get(ta, "bitstream")), &len);
        if (levels == 2) {
            /* bit 0 root, bit 1 + morton(0,0) = 1 (SW), bit 1 + morton(1,1) = 4 (NE) */
            CT_CHECK_MSG(tb && tb[0] == 0x13, "tile availability 0x%02x, expected 0x13", tb ? tb[0] : 0);
            CT_CHECK(len == 1);
            json_t *ca = json_array_get(json_object_get(s.json, "contentAvailability"), 0);
            const uint8_t *cb = view_bytes(&s, (int)json_integer_value(json_object_get(ca, "bitstream")), &len);
            CT_CHECK_MSG(cb && cb[0] == 0x12, "content availability 0x%02x, expected 0x12", cb ? cb[0] : 0);
            CT_CHECK(json_integer_value(json_object_get(json_object_get(s.json, "childSubtreeAvailability"), "constant")) == 0);
            CT_CHECK(json_integer_value(json_object_get(ta, "availableCount")) == 3);
        } else {
            /* one level per subtree: the root alone; child subtrees SW (0) and NE (3) */
            CT_CHECK_MSG(tb && tb[0] == 0x01, "tile availability 0x%02x", tb ? tb[0] : 0);
            json_t *cs = json_object_get(s.json, "childSubtreeAvailability");
            const uint8_t *cb = view_bytes(&s, (int)json_integer_value(json_object_get(cs, "bitstream")), &len);
            CT_CHECK_MSG(cb && cb[0] == 0x09, "child subtree availability 0x%02x, expected 0x09", cb ? cb[0] : 0);
            CT_CHECK(json_integer_value(json_object_get(cs, "availableCount")) == 2);
            CT_CHECK(json_integer_value(json_object_get(json_array_get(json_object_get(s.json, "contentAvailability"), 0),
                                                        "constant")) == 0);
            subtree_file c;
            CT_CHECK(read_subtree(dir, 1, 0, 0, &c));
            free_subtree(&c);
            CT_CHECK(read_subtree(dir, 1, 1, 1, &c));
            free_subtree(&c);
            char path[4300];
            snprintf(path, sizeof path, "%s/subtrees/1_1_0.subtree", dir);
            CT_CHECK(fopen(path, "rb") == NULL);
        }
        free_subtree(&s);
        ct_quadtree_free(&q);
    }
}

/* deepest level of a leaf below tile t (its tight top is 10 + that, see fake_outputs) */
static int deepest_of(const ct_quadtree *q, size_t t) {
    int best = q->tiles[t].level;
    for (int k = 0; k < 4; k++)
        if (q->tiles[t].child[k] >= 0) {
            int d = deepest_of(q, (size_t)q->tiles[t].child[k]);
            if (d > best) best = d;
        }
    return best;
}

static uint64_t lcg(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 11;
}

/* A clustered random city: every point in exactly one leaf, inside the leaf's implicit
 * region; every tile's bit, content bit, metadata row, and child subtree bit where the
 * spec puts them. */
static void test_random_city(ct_context *ctx) {
    const double d = M_PI / 180;
    const size_t n = 5000;
    double *ll = malloc(2 * n * sizeof *ll);
    if (!ll) return;
    uint64_t seed = 42;
    double ext[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (size_t i = 0; i < n; i++) {
        /* a few dense clusters plus a sparse background */
        double u = (double)(lcg(&seed) % 1000000) / 1e6, v = (double)(lcg(&seed) % 1000000) / 1e6;
        int cluster = (int)(lcg(&seed) % 5);
        double s = cluster < 3 ? 0.05 : 1.0, ox = cluster < 3 ? 0.2 * cluster + 0.1 : 0, oy = cluster < 3 ? 0.3 : 0;
        ll[2 * i] = (4.3 + 0.05 * (ox + s * u)) * d;
        ll[2 * i + 1] = (52.0 + 0.03 * (oy + s * v)) * d;
        if (ll[2 * i] < ext[0]) ext[0] = ll[2 * i];
        if (ll[2 * i + 1] < ext[1]) ext[1] = ll[2 * i + 1];
        if (ll[2 * i] > ext[2]) ext[2] = ll[2 * i];
        if (ll[2 * i + 1] > ext[3]) ext[3] = ll[2 * i + 1];
    }
    ct_implicit_grid g;
    ct_implicit_grid_for(ext, &g);
    ct_quadtree q;
    const size_t per = 40;
    const int max_level = 9, S = 3;
    ct_status st = ct_implicit_quadtree_lonlat(ctx, &g, ll, n, per, max_level, &q);
    CT_CHECK(st == CT_OK);
    if (st != CT_OK) {
        free(ll);
        return;
    }
    /* every building exactly once in the leaves, inside its leaf's implicit region */
    unsigned *seen = calloc(n, sizeof *seen);
    int deepest = 0;
    for (size_t t = 0; seen && t < q.ntiles; t++) {
        const ct_qtile *tile = &q.tiles[t];
        if (tile->level > deepest) deepest = tile->level;
        if (!ct_qtile_is_leaf(tile)) continue;
        CT_CHECK_MSG(tile->count <= per || tile->level == max_level, "leaf %d/%u/%u holds %zu", tile->level, tile->x,
                     tile->y, tile->count);
        double div = (double)(1u << tile->level);
        double w = g.region[0] + (g.region[2] - g.region[0]) * tile->x / div;
        double e = g.region[0] + (g.region[2] - g.region[0]) * (tile->x + 1) / div;
        double s = g.region[1] + (g.region[3] - g.region[1]) * tile->y / div;
        double nn = g.region[1] + (g.region[3] - g.region[1]) * (tile->y + 1) / div;
        for (size_t k = 0; k < tile->count; k++) {
            uint32_t b = q.order[tile->first + k];
            seen[b]++;
            const double *p = ll + 2 * b;
            CT_CHECK_MSG(p[0] >= w - 1e-12 && p[0] <= e + 1e-12 && p[1] >= s - 1e-12 && p[1] <= nn + 1e-12,
                         "point %u outside the implicit region of leaf %d/%u/%u", b, tile->level, tile->x, tile->y);
        }
    }
    size_t once = 0;
    for (size_t i = 0; seen && i < n; i++) once += seen[i] == 1;
    CT_CHECK_MSG(once == n, "%zu of %zu buildings in exactly one leaf", once, n);
    free(seen);
    CT_CHECK_MSG(deepest >= 4, "tree depth %d", deepest);

    ct_tile_output *out = calloc(q.ntiles, sizeof *out);
    double *err = malloc(q.ntiles * sizeof *err);
    double *tight = calloc(6 * q.ntiles, sizeof *tight);
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/city", out_root);
    mkdir(dir, 0777);
    if (out && err) {
        fake_outputs(&q, ll, out, err);
        ct_implicit_plan plan = {&q, out, err, 1, &g, S};
        CT_CHECK(ct_implicit_write(ctx, dir, &plan) == CT_OK);
    }
    /* Check every tile against its subtree; count tiles per subtree against availableCount. */
    const uint64_t tile_bits = (((uint64_t)1 << (2 * S)) - 1) / 3, child_bits = (uint64_t)1 << (2 * S);
    size_t found = 0, total_available = 0, nsub = 0;
    for (size_t t = 0; out && err && tight && t < q.ntiles; t++) {
        const ct_qtile *tile = &q.tiles[t];
        int l = tile->level % S, l0 = tile->level - l;
        uint32_t sx = tile->x >> l, sy = tile->y >> l, m = (1u << l) - 1;
        uint64_t bit = ((((uint64_t)1 << (2 * l)) - 1) / 3) + ct_implicit_morton(tile->x & m, tile->y & m);
        subtree_file s;
        if (!read_subtree(dir, l0, sx, sy, &s)) {
            CT_CHECK_MSG(0, "no subtree %d/%u/%u for tile %d/%u/%u", l0, sx, sy, tile->level, tile->x, tile->y);
            continue;
        }
        if (l == 0) { /* the subtree's root: count its tiles once */
            nsub++;
            total_available += (size_t)avail_count(&s, "tileAvailability", -1, tile_bits);
            avail_count(&s, "contentAvailability", 0, tile_bits);
            avail_count(&s, "childSubtreeAvailability", -1, child_bits);
            json_t *table = json_array_get(json_object_get(s.json, "propertyTables"), 0);
            CT_CHECK(json_integer_value(json_object_get(s.json, "tileMetadata")) == 0);
            CT_CHECK(strcmp(json_string_value(json_object_get(table, "class")), "tile") == 0);
            CT_CHECK(json_integer_value(json_object_get(table, "count")) ==
                     json_integer_value(json_object_get(json_object_get(s.json, "tileAvailability"), "availableCount")));
        }
        int tb = avail_bit(&s, "tileAvailability", -1, tile_bits, bit);
        int cb = avail_bit(&s, "contentAvailability", 0, tile_bits, bit);
        CT_CHECK_MSG(tb == 1, "tile %d/%u/%u: availability bit %llu not set", tile->level, tile->x, tile->y,
                     (unsigned long long)bit);
        CT_CHECK_MSG(cb == out[t].has_content, "tile %d/%u/%u: content bit %d", tile->level, tile->x, tile->y, cb);
        found += tb == 1;
        /* metadata row = available tiles before this bit */
        size_t len;
        json_t *ta = json_object_get(s.json, "tileAvailability");
        const uint8_t *tbits = view_bytes(&s, (int)json_integer_value(json_object_get(ta, "bitstream")), &len);
        json_t *props = json_object_get(json_array_get(json_object_get(s.json, "propertyTables"), 0), "properties");
        size_t rlen, elen;
        const uint8_t *rv = view_bytes(&s, (int)json_integer_value(json_object_get(json_object_get(props, "boundingRegion"), "values")), &rlen);
        const uint8_t *ev = view_bytes(&s, (int)json_integer_value(json_object_get(json_object_get(props, "geometricError"), "values")), &elen);
        if (tbits && rv && ev) {
            size_t row = 0;
            for (uint64_t i = 0; i < bit; i++) row += (size_t)bit_at(tbits, i);
            CT_CHECK(rlen >= 48 * (row + 1) && elen >= 8 * (row + 1));
            if (rlen >= 48 * (row + 1) && elen >= 8 * (row + 1)) {
                CT_CHECK_MSG(get_f64(ev + 8 * row) == err[t], "tile %d/%u/%u: error %g vs %g", tile->level, tile->x,
                             tile->y, get_f64(ev + 8 * row), err[t]);
                double r[6];
                for (int c = 0; c < 6; c++) r[c] = get_f64(rv + 48 * row + 8 * (size_t)c);
                if (out[t].has_content) /* tight region holds the content */
                    CT_CHECK(r[0] <= out[t].region[0] && r[1] <= out[t].region[1] && r[2] >= out[t].region[2] &&
                             r[3] >= out[t].region[3] && r[4] <= out[t].region[4] && r[5] >= out[t].region[5]);
                memcpy(tight + 6 * t, r, sizeof r);
                CT_CHECK_NEAR(r[5], 10.0 + deepest_of(&q, t), 1e-12);
            }
        }
        /* a subtree root below level 0 is announced by its parent subtree */
        if (l == 0 && tile->level > 0) {
            subtree_file ps;
            uint32_t cm = (1u << S) - 1;
            if (read_subtree(dir, l0 - S, tile->x >> S, tile->y >> S, &ps)) {
                CT_CHECK(avail_bit(&ps, "childSubtreeAvailability", -1, child_bits, ct_implicit_morton(tile->x & cm, tile->y & cm)) == 1);
                free_subtree(&ps);
            }
        }
        free_subtree(&s);
    }
    /* every child's tight region inside its parent's */
    for (size_t t = 1; tight && t < q.ntiles; t++) {
        const double *c = tight + 6 * t, *pr = tight + 6 * (size_t)q.tiles[t].parent;
        CT_CHECK_MSG(c[0] >= pr[0] && c[1] >= pr[1] && c[2] <= pr[2] && c[3] <= pr[3] && c[4] >= pr[4] && c[5] <= pr[5],
                     "tile %zu region not inside its parent's", t);
    }
    free(tight);
    CT_CHECK_MSG(found == q.ntiles && total_available == q.ntiles, "%zu tiles, %zu found, %zu available in %zu subtrees",
                 q.ntiles, found, total_available, nsub);
    /* tileset.json names the scheme and the deepest level */
    char path[4300];
    snprintf(path, sizeof path, "%s/tileset.json", dir);
    json_error_t jerr;
    json_t *ts = json_load_file(path, 0, &jerr);
    json_t *it = json_object_get(json_object_get(ts, "root"), "implicitTiling");
    CT_CHECK(it && json_integer_value(json_object_get(it, "availableLevels")) == deepest + 1);
    CT_CHECK(json_integer_value(json_object_get(it, "subtreeLevels")) == S);
    CT_CHECK(strcmp(json_string_value(json_object_get(it, "subdivisionScheme")), "QUADTREE") == 0);
    json_decref(ts);
    free(out);
    free(err);
    free(ll);
    ct_quadtree_free(&q);
}

/* The budgets of explicit tiling hold in the implicit tree (they were ignored: a vertex
 * budget gave the same tree as none): a tile whose points' weights (mesh vertices) add up
 * to more than max_weight splits unless it holds one point, only where the weight is (a
 * sparse tree); and the implicit cell level is the first level whose tiles are no larger
 * than a processing cell. */
static void test_budget(ct_context *ctx) {
    const double d = M_PI / 180;
    double ext[4] = {4.35 * d, 52.00 * d, 4.37 * d, 52.01 * d};
    ct_implicit_grid g;
    ct_implicit_grid_for(ext, &g);
    double side = (g.region[2] - g.region[0]) * g.kx; /* 1300-1500 m (test_grid) */
    CT_CHECK_MSG(ct_implicit_cell_level(&g, 250) == 3, "cell level %d for 250 m cells on a %.0f m grid",
                 ct_implicit_cell_level(&g, 250), side);
    CT_CHECK(ct_implicit_cell_level(&g, side * 1.001) == 0);
    CT_CHECK(ct_implicit_cell_level(&g, side * 0.501) == 1);
    CT_CHECK(ct_implicit_cell_level(&g, side * 0.499) == 2);
    /* 40 light points in the south-west quarter, 8 heavy ones spread over the rest */
    enum { N = 48 };
    double ll[2 * N];
    uint64_t wt[N];
    double w = g.region[2] - g.region[0], h = g.region[3] - g.region[1];
    for (int i = 0; i < N; i++) {
        int heavy = i >= 40;
        double fx = heavy ? 0.55 + 0.05 * (i - 40) : 0.05 + 0.01 * (i % 8), fy = heavy ? 0.3 + 0.08 * (i - 40) : 0.1 + 0.04 * (i / 8);
        ll[2 * i] = g.region[0] + fx * w;
        ll[2 * i + 1] = g.region[1] + fy * h;
        wt[i] = heavy ? 500 : 10;
    }
    ct_quadtree q;
    CT_CHECK(ct_implicit_quadtree_lonlat(ctx, &g, ll, N, 1000, 12, &q) == CT_OK);
    CT_CHECK_MSG(q.ntiles == 1, "no vertex budget: %zu tiles", q.ntiles);
    ct_quadtree_free(&q);
    ct_status st = ct_implicit_quadtree_lonlat_weighted(ctx, &g, ll, wt, N, 1000, 100, 12, &q);
    CT_CHECK(st == CT_OK);
    if (st != CT_OK) return;
    size_t leaves = 0, once = 0, sparse = 0;
    unsigned seen[N] = {0};
    for (size_t t = 0; t < q.ntiles; t++) {
        const ct_qtile *tile = &q.tiles[t];
        int nchild = 0;
        for (int k = 0; k < 4; k++) nchild += tile->child[k] >= 0;
        sparse += nchild > 0 && nchild < 4;
        if (nchild) continue;
        leaves++;
        uint64_t sum = 0;
        for (size_t k = 0; k < tile->count; k++) {
            sum += wt[q.order[tile->first + k]];
            seen[q.order[tile->first + k]]++;
        }
        CT_CHECK_MSG(sum <= 100 || tile->count == 1, "leaf %d/%u/%u: %zu points weighing %llu", tile->level, tile->x,
                     tile->y, tile->count, (unsigned long long)sum);
    }
    for (int i = 0; i < N; i++) once += seen[i] == 1;
    CT_CHECK_MSG(once == N, "%zu of %d points in exactly one leaf", once, N);
    CT_CHECK_MSG(leaves >= 8 + 4 && sparse > 0, "%zu leaves (8 heavy points alone, 400 light weight in 4 or more), "
                 "%zu tiles with some children absent", leaves, sparse);
    ct_quadtree_free(&q);
}

int main(void) {
    const char *bin = ct_test_env("CT_BINARY_DIR", ".");
    snprintf(out_root, sizeof out_root, "%s/test_implicit_out", bin);
    mkdir(out_root, 0777);
    ct_context *ctx = ct_context_create();
    if (!ctx) return 1;
    test_morton();
    test_grid();
    test_small_layout(ctx);
    test_random_city(ctx);
    test_budget(ctx);
    ct_context_destroy(ctx);
    return ct_test_finish("test_implicit");
}
