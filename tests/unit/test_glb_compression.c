/* GLB compression (EXT_meshopt_compression + KHR_mesh_quantization): encode a synthetic
 * city tile with and without compression, decode the compressed streams with meshoptimizer,
 * and check that the decoded mesh is the input mesh: the same triangles (as vertex triples,
 * through the vertex reordering), positions within 1 cm, normals within 2 degrees, feature
 * ids per vertex. Also: the glTF wiring (extensions, fallback buffer, quantisation node,
 * integer POSITION bounds), deterministic bytes, the geometry size ratio (>= 3x), the
 * FLOAT + EXPONENTIAL fallback for tiles too large for a 16-bit grid, the validator, and the
 * encoding speed. */
#include "ct_glb_read.h"
#include "ct_test.h"

#include <jansson.h>
#include <math.h>
#include <meshoptimizer.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "citytiler/context.h"
#include "citytiler/glb.h"

static char out_dir[1024];

/* ---------------------------------------------------------------- synthetic tile */

typedef struct tile {
    size_t nv, ni, nf;
    float *pos, *nrm;
    uint32_t *fid, *idx;
    char **ids;
    ct_attr_def defs[2];
    ct_value *vals;
    const ct_value **rows;
} tile;

static uint32_t lcg_state;
static double rnd(void) { /* deterministic, [0, 1) */
    lcg_state = lcg_state * 1664525u + 1013904223u;
    return (double)(lcg_state >> 8) / 16777216.0;
}

static void put_vertex(tile *t, double x, double y, double z, double nx, double ny, double nz, uint32_t f) {
    float *p = t->pos + 3 * t->nv, *n = t->nrm + 3 * t->nv;
    p[0] = (float)x;
    p[1] = (float)y;
    p[2] = (float)z;
    n[0] = (float)nx;
    n[1] = (float)ny;
    n[2] = (float)nz;
    t->fid[t->nv++] = f;
}

static void put_tri(tile *t, size_t a, size_t b, size_t c) {
    t->idx[t->ni++] = (uint32_t)a;
    t->idx[t->ni++] = (uint32_t)b;
    t->idx[t->ni++] = (uint32_t)c;
}

/* A prism over a CCW footprint (as filters.extrude makes it): 4 vertices per wall quad with
 * the wall's normal, a shared-vertex roof (normal up) and floor (normal down), fan
 * triangulated from corner 0 (the footprints here are star-shaped from corner 0). */
static void extrude(tile *t, const double (*xy)[2], int n, double z0, double z1, uint32_t f) {
    for (int i = 0; i < n; i++) {
        const double *a = xy[i], *b = xy[(i + 1) % n];
        double dx = b[0] - a[0], dy = b[1] - a[1], l = sqrt(dx * dx + dy * dy);
        size_t v = t->nv;
        put_vertex(t, a[0], a[1], z0, dy / l, -dx / l, 0, f);
        put_vertex(t, b[0], b[1], z0, dy / l, -dx / l, 0, f);
        put_vertex(t, b[0], b[1], z1, dy / l, -dx / l, 0, f);
        put_vertex(t, a[0], a[1], z1, dy / l, -dx / l, 0, f);
        put_tri(t, v, v + 1, v + 2);
        put_tri(t, v, v + 2, v + 3);
    }
    size_t roof = t->nv;
    for (int i = 0; i < n; i++) put_vertex(t, xy[i][0], xy[i][1], z1, 0, 0, 1, f);
    size_t floor_ = t->nv;
    for (int i = 0; i < n; i++) put_vertex(t, xy[i][0], xy[i][1], z0, 0, 0, -1, f);
    for (int i = 1; i + 1 < n; i++) {
        put_tri(t, roof, roof + (size_t)i, roof + (size_t)i + 1);
        put_tri(t, floor_, floor_ + (size_t)i + 1, floor_ + (size_t)i);
    }
}

/* nb buildings (boxes and L-shapes, rotated) spread over a square of side `extent` metres
 * around the origin, ground heights varying by a few metres. */
static void make_tile(tile *t, size_t nb, double extent, uint32_t seed) {
    memset(t, 0, sizeof *t);
    lcg_state = seed;
    t->pos = malloc(nb * 36 * 3 * sizeof(float));
    t->nrm = malloc(nb * 36 * 3 * sizeof(float));
    t->fid = malloc(nb * 36 * sizeof(uint32_t));
    t->idx = malloc(nb * 20 * 3 * sizeof(uint32_t));
    t->ids = malloc(nb * sizeof(char *));
    t->vals = malloc(nb * 2 * sizeof(ct_value));
    t->rows = malloc(nb * sizeof(ct_value *));
    if (!t->pos || !t->nrm || !t->fid || !t->idx || !t->ids || !t->vals || !t->rows) abort();
    t->nf = nb;
    t->defs[0].name = "height";
    t->defs[0].type = CT_ATTR_REAL;
    t->defs[1].name = "storeys";
    t->defs[1].type = CT_ATTR_INT;
    for (size_t b = 0; b < nb; b++) {
        double cx = (rnd() - 0.5) * (extent - 40), cy = (rnd() - 0.5) * (extent - 40);
        double w = 6 + rnd() * 14, d = 6 + rnd() * 14, ang = rnd() * 2 * M_PI;
        double z0 = -2 + rnd() * 4, h = 3 + rnd() * 37;
        double local[6][2];
        int n;
        if (b % 3 == 2) { /* L-shape */
            double w2 = w * (0.3 + 0.4 * rnd()), d1 = d * (0.3 + 0.4 * rnd());
            double L[6][2] = {{0, 0}, {w, 0}, {w, d1}, {w2, d1}, {w2, d}, {0, d}};
            memcpy(local, L, sizeof L);
            n = 6;
        } else {
            double R[4][2] = {{0, 0}, {w, 0}, {w, d}, {0, d}};
            memcpy(local, R, sizeof R);
            n = 4;
        }
        double xy[6][2], c = cos(ang), s = sin(ang);
        for (int i = 0; i < n; i++) {
            double x = local[i][0] - w / 2, y = local[i][1] - d / 2;
            xy[i][0] = cx + c * x - s * y;
            xy[i][1] = cy + s * x + c * y;
        }
        extrude(t, (const double(*)[2])xy, n, z0, z0 + h, (uint32_t)b);
        char id[32];
        snprintf(id, sizeof id, "bldg_%05zu", b);
        t->ids[b] = strdup(id);
        t->vals[2 * b].is_null = 0;
        t->vals[2 * b].v.r = h;
        t->vals[2 * b + 1].is_null = 0;
        t->vals[2 * b + 1].v.i = (int64_t)(h / 3);
        t->rows[b] = &t->vals[2 * b];
    }
}

static void free_tile(tile *t) {
    for (size_t b = 0; b < t->nf; b++) free(t->ids[b]);
    free(t->pos);
    free(t->nrm);
    free(t->fid);
    free(t->idx);
    free(t->ids);
    free(t->vals);
    free(t->rows);
}

static ct_glb_mesh_input tile_mesh(const tile *t) {
    ct_glb_mesh_input m = {0};
    m.nverts = t->nv;
    m.pos = t->pos;
    m.nrm = t->nrm;
    m.feature_id = t->fid;
    m.nindices = t->ni;
    m.idx = t->idx;
    return m;
}

static ct_glb_features tile_features(const tile *t) {
    ct_glb_features f = {0};
    f.class_name = "building";
    f.nfeatures = t->nf;
    f.ids = (const char *const *)t->ids;
    f.defs = t->defs;
    f.ndefs = 2;
    f.rows = t->rows;
    return f;
}

/* ---------------------------------------------------------------- GLB reading */

static json_t *at(json_t *o, const char *k, size_t i) { return json_array_get(json_object_get(o, k), i); }

static int has_string(json_t *arr, const char *s) {
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) if (json_string_value(v) && strcmp(json_string_value(v), s) == 0) return 1;
    return 0;
}

/* Decodes the bufferView behind accessor `acc` into a malloc'd buffer of count * stride
 * bytes (the decoded view); checks the EXT_meshopt_compression wiring on the way. */
static uint8_t *decode_view(const ct_glb_file *g, json_int_t acc_index, unsigned *stride_out, size_t *count_out,
                            const char **filter_out) {
    json_t *acc = json_array_get(json_object_get(g->json, "accessors"), (size_t)acc_index);
    json_t *view = at(g->json, "bufferViews", (size_t)ct_glb_int(acc, "bufferView"));
    json_t *mo = json_object_get(json_object_get(view, "extensions"), "EXT_meshopt_compression");
    CT_CHECK(mo != NULL);
    if (!mo) return NULL;
    CT_CHECK(ct_glb_int(view, "buffer") == 1);
    CT_CHECK(ct_glb_int(mo, "buffer") == 0);
    size_t count = (size_t)ct_glb_int(mo, "count"), off = (size_t)ct_glb_int(mo, "byteOffset");
    size_t len = (size_t)ct_glb_int(mo, "byteLength");
    unsigned stride = (unsigned)ct_glb_int(mo, "byteStride");
    const char *mode = json_string_value(json_object_get(mo, "mode"));
    const char *filter = json_string_value(json_object_get(mo, "filter"));
    CT_CHECK((size_t)ct_glb_int(view, "byteLength") == count * stride);
    CT_CHECK(count == (size_t)ct_glb_int(acc, "count"));
    CT_CHECK(off % 4 == 0 && off + len <= g->bin_len);
    CT_CHECK(ct_glb_int(view, "byteOffset") % 4 == 0);
    int attributes = strcmp(mode, "ATTRIBUTES") == 0;
    if (attributes) {
        CT_CHECK(ct_glb_int(view, "byteStride") == stride && stride % 4 == 0);
    } else {
        CT_CHECK(strcmp(mode, "TRIANGLES") == 0);
        CT_CHECK(json_object_get(view, "byteStride") == NULL);
        CT_CHECK(filter == NULL);
        CT_CHECK(count % 3 == 0);
    }
    uint8_t *out = malloc(count * stride + 1);
    if (!out) abort();
    int rc = attributes ? meshopt_decodeVertexBuffer(out, count, stride, g->bin + off, len)
                        : meshopt_decodeIndexBuffer(out, count, stride, g->bin + off, len);
    CT_CHECK_MSG(rc == 0, "meshopt decode of %s view: %d", mode, rc);
    if (filter && strcmp(filter, "EXPONENTIAL") == 0) meshopt_decodeFilterExp(out, count, stride);
    *stride_out = stride;
    *count_out = count;
    if (filter_out) *filter_out = filter;
    return out;
}

/* ---------------------------------------------------------------- decode check */

typedef struct dec_mesh {
    size_t nv, ni;
    double *pos;    /* metres, local frame */
    float *nrm;     /* unit */
    uint32_t *fid;
    uint32_t *idx;
} dec_mesh;

static void free_dec(dec_mesh *d) {
    free(d->pos);
    free(d->nrm);
    free(d->fid);
    free(d->idx);
}

/* Decodes a compressed GLB back to a mesh (positions through node 1's transform). */
static int decode_glb(const ct_glb_file *g, dec_mesh *d, int *quantized) {
    memset(d, 0, sizeof *d);
    json_t *j = g->json;
    json_t *prim = at(at(j, "meshes", 0), "primitives", 0);
    json_t *attrs = json_object_get(prim, "attributes");
    json_t *apos = at(j, "accessors", (size_t)ct_glb_int(attrs, "POSITION"));
    unsigned stride;
    size_t count;
    const char *filter;
    uint8_t *raw = decode_view(g, ct_glb_int(attrs, "POSITION"), &stride, &count, &filter);
    if (!raw) return 0;
    d->nv = count;
    d->pos = malloc(count * 3 * sizeof(double));
    *quantized = ct_glb_int(apos, "componentType") == 5123;
    json_t *node0 = at(j, "nodes", 0);
    if (*quantized) {
        CT_CHECK(stride == 8 && filter == NULL);
        CT_CHECK(json_object_get(apos, "normalized") == NULL);
        CT_CHECK(json_integer_value(at(node0, "children", 0)) == 1);
        CT_CHECK(json_object_get(node0, "mesh") == NULL);
        json_t *node1 = at(j, "nodes", 1);
        CT_CHECK(ct_glb_int(node1, "mesh") == 0);
        double t[3], s[3];
        for (int k = 0; k < 3; k++) {
            t[k] = json_number_value(at(node1, "translation", (size_t)k));
            s[k] = json_number_value(at(node1, "scale", (size_t)k));
        }
        CT_CHECK(s[0] > 0 && s[0] == s[1] && s[1] == s[2]); /* uniform: normals stay valid */
        long mn[3] = {65536, 65536, 65536}, mx[3] = {-1, -1, -1};
        for (size_t i = 0; i < count; i++) {
            uint16_t q[4];
            memcpy(q, raw + 8 * i, 8);
            CT_CHECK(q[3] == 0);
            for (int k = 0; k < 3; k++) {
                d->pos[3 * i + k] = t[k] + s[k] * q[k];
                if (q[k] < mn[k]) mn[k] = q[k];
                if (q[k] > mx[k]) mx[k] = q[k];
            }
        }
        for (int k = 0; k < 3; k++) { /* bounds are the integer values (validator rule) */
            json_t *jmn = at(apos, "min", (size_t)k), *jmx = at(apos, "max", (size_t)k);
            CT_CHECK(json_is_integer(jmn) && json_integer_value(jmn) == mn[k]);
            CT_CHECK(json_is_integer(jmx) && json_integer_value(jmx) == mx[k]);
        }
    } else {
        CT_CHECK(ct_glb_int(apos, "componentType") == 5126);
        CT_CHECK(stride == 12 && filter && strcmp(filter, "EXPONENTIAL") == 0);
        CT_CHECK(ct_glb_int(node0, "mesh") == 0);
        float mn[3] = {INFINITY, INFINITY, INFINITY}, mx[3] = {-INFINITY, -INFINITY, -INFINITY};
        for (size_t i = 0; i < count; i++) {
            float p[3];
            memcpy(p, raw + 12 * i, 12);
            for (int k = 0; k < 3; k++) {
                d->pos[3 * i + k] = p[k];
                mn[k] = fminf(mn[k], p[k]);
                mx[k] = fmaxf(mx[k], p[k]);
            }
        }
        for (int k = 0; k < 3; k++) {
            CT_CHECK(json_number_value(at(apos, "min", (size_t)k)) == (double)mn[k]);
            CT_CHECK(json_number_value(at(apos, "max", (size_t)k)) == (double)mx[k]);
        }
    }
    free(raw);
    /* root keeps the y-up -> z-up matrix */
    static const double m[16] = {1, 0, 0, 0, 0, 0, -1, 0, 0, 1, 0, 0, 0, 0, 0, 1};
    for (size_t k = 0; k < 16; k++) CT_CHECK(json_number_value(at(node0, "matrix", k)) == m[k]);

    if (json_object_get(attrs, "NORMAL")) {
        json_t *an = at(j, "accessors", (size_t)ct_glb_int(attrs, "NORMAL"));
        CT_CHECK(ct_glb_int(an, "componentType") == 5120 && json_is_true(json_object_get(an, "normalized")));
        raw = decode_view(g, ct_glb_int(attrs, "NORMAL"), &stride, &count, &filter);
        CT_CHECK(stride == 4 && count == d->nv);
        d->nrm = malloc(d->nv * 3 * sizeof(float));
        for (size_t i = 0; raw && i < d->nv; i++) {
            const int8_t *q = (const int8_t *)raw + 4 * i;
            float n[3], l = 0;
            for (int k = 0; k < 3; k++) {
                n[k] = fmaxf(q[k] / 127.0f, -1.0f);
                l += n[k] * n[k];
            }
            l = sqrtf(l);
            for (int k = 0; k < 3; k++) d->nrm[3 * i + k] = n[k] / l;
        }
        free(raw);
    }
    if (json_object_get(attrs, "_FEATURE_ID_0")) {
        json_t *af = at(j, "accessors", (size_t)ct_glb_int(attrs, "_FEATURE_ID_0"));
        raw = decode_view(g, ct_glb_int(attrs, "_FEATURE_ID_0"), &stride, &count, &filter);
        CT_CHECK(stride == 4 && count == d->nv);
        d->fid = malloc(d->nv * sizeof(uint32_t));
        for (size_t i = 0; raw && i < d->nv; i++) {
            if (ct_glb_int(af, "componentType") == 5123) {
                uint16_t v[2];
                memcpy(v, raw + 4 * i, 4);
                CT_CHECK(v[1] == 0);
                d->fid[i] = v[0];
            } else {
                float f;
                memcpy(&f, raw + 4 * i, 4);
                d->fid[i] = (uint32_t)f;
            }
        }
        free(raw);
    }
    json_t *aidx = at(j, "accessors", (size_t)ct_glb_int(prim, "indices"));
    raw = decode_view(g, ct_glb_int(prim, "indices"), &stride, &count, &filter);
    CT_CHECK(stride == (d->nv <= 65535 ? 2u : 4u));
    CT_CHECK(ct_glb_int(aidx, "componentType") == (stride == 2 ? 5123 : 5125));
    d->ni = count;
    d->idx = malloc(count * sizeof(uint32_t));
    for (size_t i = 0; raw && i < count; i++) {
        if (stride == 2) {
            uint16_t v;
            memcpy(&v, raw + 2 * i, 2);
            d->idx[i] = v;
        } else {
            memcpy(&d->idx[i], raw + 4 * i, 4);
        }
        CT_CHECK(d->idx[i] < d->nv);
    }
    free(raw);
    return 1;
}

typedef struct tri { uint32_t v[3]; } tri;

static int tri_cmp(const void *a, const void *b) { return memcmp(a, b, sizeof(tri)); }

/* Rotates (keeping the winding) so that the smallest index comes first. */
static tri canon(uint32_t a, uint32_t b, uint32_t c) {
    tri t;
    if (a <= b && a <= c) { t.v[0] = a; t.v[1] = b; t.v[2] = c; }
    else if (b <= a && b <= c) { t.v[0] = b; t.v[1] = c; t.v[2] = a; }
    else { t.v[0] = c; t.v[1] = a; t.v[2] = b; }
    return t;
}

typedef struct xkey { float x; uint32_t v; } xkey;
static int xkey_cmp(const void *a, const void *b) {
    const xkey *p = a, *q = b;
    if (p->x != q->x) return p->x < q->x ? -1 : 1;
    return p->v < q->v ? -1 : p->v > q->v;
}

/* Matches every decoded vertex with its input vertex (same feature id, normal within 2
 * degrees, position within tol; unique in these tiles), then compares the triangle sets. */
static void compare_mesh(const tile *t, const dec_mesh *d, double tol, double *max_err, double *max_deg) {
    *max_err = 0;
    *max_deg = 0;
    xkey *keys = malloc(t->nv * sizeof *keys);
    uint32_t *match = malloc(d->nv * sizeof *match);
    uint8_t *used = calloc(t->nv, 1);
    if (!keys || !match || !used) abort();
    for (size_t i = 0; i < t->nv; i++) {
        keys[i].x = t->pos[3 * i];
        keys[i].v = (uint32_t)i;
    }
    qsort(keys, t->nv, sizeof *keys, xkey_cmp);
    const double cos2 = cos(2.0 * M_PI / 180.0);
    size_t unmatched = 0, ambiguous = 0, badfid = 0;
    for (size_t i = 0; i < d->nv; i++) {
        const double *p = d->pos + 3 * i;
        size_t lo = 0, hi = t->nv; /* first key with x >= p.x - tol */
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (keys[mid].x < p[0] - tol) lo = mid + 1; else hi = mid;
        }
        size_t found = 0;
        uint32_t best = 0;
        double best_e = 0, best_c = 0;
        for (size_t k = lo; k < t->nv && keys[k].x <= p[0] + tol; k++) {
            uint32_t v = keys[k].v;
            const float *q = t->pos + 3 * v, *n = t->nrm + 3 * v, *m = d->nrm + 3 * i;
            double e = sqrt((p[0] - q[0]) * (p[0] - q[0]) + (p[1] - q[1]) * (p[1] - q[1]) +
                            (p[2] - q[2]) * (p[2] - q[2]));
            double c = (double)n[0] * m[0] + (double)n[1] * m[1] + (double)n[2] * m[2];
            if (e > tol || c < cos2 || t->fid[v] != d->fid[i]) continue;
            found++;
            best = v;
            best_e = e;
            best_c = c;
        }
        if (found == 0) { unmatched++; continue; }
        if (found > 1) ambiguous++;
        match[i] = best;
        if (used[best]) ambiguous++;
        used[best] = 1;
        if (t->fid[best] != d->fid[i]) badfid++;
        *max_err = fmax(*max_err, best_e);
        *max_deg = fmax(*max_deg, acos(fmin(best_c, 1.0)) * 180.0 / M_PI);
    }
    CT_CHECK_MSG(unmatched == 0, "%zu decoded vertices match no input vertex", unmatched);
    CT_CHECK_MSG(ambiguous == 0, "%zu decoded vertices match several input vertices", ambiguous);
    CT_CHECK(badfid == 0);
    CT_CHECK(d->nv == t->nv); /* every input vertex is used by a triangle here */
    CT_CHECK(d->ni == t->ni);
    if (unmatched == 0 && d->ni == t->ni) {
        tri *a = malloc(t->ni / 3 * sizeof *a), *b = malloc(t->ni / 3 * sizeof *b);
        if (!a || !b) abort();
        for (size_t i = 0; i < t->ni / 3; i++) {
            a[i] = canon(t->idx[3 * i], t->idx[3 * i + 1], t->idx[3 * i + 2]);
            b[i] = canon(match[d->idx[3 * i]], match[d->idx[3 * i + 1]], match[d->idx[3 * i + 2]]);
        }
        qsort(a, t->ni / 3, sizeof *a, tri_cmp);
        qsort(b, t->ni / 3, sizeof *b, tri_cmp);
        CT_CHECK_MSG(memcmp(a, b, t->ni / 3 * sizeof *a) == 0, "decoded triangle set differs");
        free(a);
        free(b);
    }
    free(keys);
    free(match);
    free(used);
}

/* ---------------------------------------------------------------- validator */

/* Runs tools/validate/validate-glb.mjs (or $CT_VALIDATE_GLB) with --json. Required: 0 errors
 * from the Khronos validator and 0 from our own checks, except that a validate-glb.mjs
 * that cannot decode EXT_meshopt_compression yet (it then cannot read _FEATURE_ID_0 from
 * the data-less fallback buffer: MESH_FEATURES_ACCESSOR_READ "buffer 1 has no uri") only
 * gets a note; this test decodes and checks the feature ids itself. */
static void run_validator(const char *path) {
    const char *src = ct_test_env("CT_SOURCE_DIR", NULL);
    char def[1024], script[1024], mods[1024], cmd[4096], outp[1300];
    struct stat sb;
    if (!src) { printf("validator not run: CT_SOURCE_DIR unset\n"); return; }
    snprintf(def, sizeof def, "%s/tools/validate/validate-glb.mjs", src);
    snprintf(script, sizeof script, "%s", ct_test_env("CT_VALIDATE_GLB", def));
    snprintf(mods, sizeof mods, "%s/tools/validate/node_modules/gltf-validator", src);
    if (stat(script, &sb) != 0 || stat(mods, &sb) != 0 || system("node --version >/dev/null 2>&1") != 0) {
        printf("validator not run (needs node, %s and %s): %s\n", script, mods, path);
        return;
    }
    snprintf(outp, sizeof outp, "%s.validate.json", path);
    snprintf(cmd, sizeof cmd, "node '%s' --json '%s' > '%s'", script, path, outp);
    int rc = system(cmd);
    json_t *rep = json_load_file(outp, 0, NULL);
    CT_CHECK_MSG(rep != NULL, "validate-glb.mjs gave no JSON for %s (status %d)", path, rc);
    if (!rep) return;
    size_t i, khronos = 0, ours = 0, unsupported = 0;
    json_t *m;
    json_array_foreach(json_object_get(json_array_get(json_object_get(rep, "results"), 0), "messages"), i, m) {
        const char *sev = json_string_value(json_object_get(m, "severity"));
        const char *source = json_string_value(json_object_get(m, "source"));
        const char *code = json_string_value(json_object_get(m, "code"));
        const char *msg = json_string_value(json_object_get(m, "message"));
        if (!sev || strcmp(sev, "error") != 0) continue;
        if (source && strcmp(source, "khronos") == 0) {
            khronos++;
            fprintf(stderr, "  khronos error %s: %s\n", code ? code : "?", msg ? msg : "");
        } else if (code && msg && strcmp(code, "MESH_FEATURES_ACCESSOR_READ") == 0 &&
                   strstr(msg, "buffer 1 has no uri")) {
            unsupported++;
        } else {
            ours++;
            fprintf(stderr, "  citytiler error %s: %s\n", code ? code : "?", msg ? msg : "");
        }
    }
    printf("validator on %s: %zu Khronos errors, %zu metadata-check errors%s\n", path, khronos, ours,
           unsupported ? " (NOTE: this validate-glb.mjs cannot decode EXT_meshopt_compression, so it "
                         "could not read the feature ids)" : "");
    CT_CHECK_MSG(khronos == 0 && ours == 0, "validator errors on %s", path);
    json_decref(rep);
}

/* ---------------------------------------------------------------- tests */

typedef struct result {
    size_t raw_len, comp_len;
    ct_glb_stats raw, comp;
} result;

/* Encodes `t` both ways, checks everything; the compressed file is written as `name`. */
static void check_tile(ct_context *ctx, const tile *t, const char *name, int expect_quantized, result *r) {
    ct_glb_mesh_input m = tile_mesh(t);
    ct_glb_features f = tile_features(t);
    ct_glb_options none = {0}, mo = {0};
    mo.compression = CT_GLB_COMPRESSION_MESHOPT;
    uint8_t *b0 = NULL, *b1 = NULL, *b2 = NULL, *b3 = NULL;
    size_t l0 = 0, l1 = 0, l2 = 0, l3 = 0;
    CT_CHECK(ct_glb_encode_ex(ctx, &m, &f, &none, &b0, &l0, &r->raw) == CT_OK);
    CT_CHECK(ct_glb_encode(ctx, &m, &f, &b3, &l3) == CT_OK); /* zero options = the old encoder */
    CT_CHECK(l0 == l3 && b0 && b3 && memcmp(b0, b3, l0) == 0);
    CT_CHECK(ct_glb_encode_ex(ctx, &m, &f, &mo, &b1, &l1, &r->comp) == CT_OK);
    CT_CHECK(ct_glb_encode_ex(ctx, &m, &f, &mo, &b2, &l2, NULL) == CT_OK);
    CT_CHECK_MSG(l1 == l2 && b1 && b2 && memcmp(b1, b2, l1) == 0, "compressed output not deterministic");
    r->raw_len = l0;
    r->comp_len = l1;
    CT_CHECK(r->raw.total_bytes == l0 && r->comp.total_bytes == l1);
    CT_CHECK(r->comp.positions_quantized == expect_quantized);
    CT_CHECK(r->comp.max_position_error <= 0.01);
    CT_CHECK(r->comp.geometry_raw == r->raw.geometry_raw && r->raw.geometry_raw == r->raw.geometry_bytes);
    ct_glb_file g;
    if (b1 && ct_glb_parse(b1, l1, &g)) {
        json_t *j = g.json;
        json_t *used = json_object_get(j, "extensionsUsed"), *req = json_object_get(j, "extensionsRequired");
        CT_CHECK(has_string(used, "EXT_meshopt_compression") && has_string(req, "EXT_meshopt_compression"));
        CT_CHECK(has_string(used, "KHR_mesh_quantization") && has_string(req, "KHR_mesh_quantization"));
        CT_CHECK(has_string(used, "EXT_mesh_features") && has_string(used, "EXT_structural_metadata"));
        CT_CHECK(json_array_size(json_object_get(j, "buffers")) == 2);
        json_t *fb = at(j, "buffers", 1);
        CT_CHECK(json_object_get(fb, "uri") == NULL);
        CT_CHECK(json_is_true(json_object_get(json_object_get(json_object_get(fb, "extensions"),
                                                              "EXT_meshopt_compression"), "fallback")));
        CT_CHECK((size_t)ct_glb_int(at(j, "buffers", 0), "byteLength") == g.bin_len);
        /* every fallback view fits the fallback buffer; metadata views stay plain in buffer 0 */
        size_t i, nmo = 0, comp_bytes = 0;
        json_t *v;
        json_array_foreach(json_object_get(j, "bufferViews"), i, v) {
            json_t *e = json_object_get(json_object_get(v, "extensions"), "EXT_meshopt_compression");
            size_t off = (size_t)ct_glb_int(v, "byteOffset"), len = (size_t)ct_glb_int(v, "byteLength");
            if (e) {
                nmo++;
                comp_bytes += (size_t)ct_glb_int(e, "byteLength");
                CT_CHECK(off + len <= (size_t)ct_glb_int(fb, "byteLength"));
            } else {
                CT_CHECK(ct_glb_int(v, "buffer") == 0 && json_object_get(v, "target") == NULL);
                CT_CHECK(off % 8 == 0 && off + len <= g.bin_len);
            }
        }
        CT_CHECK(nmo == 4);
        CT_CHECK(comp_bytes == r->comp.geometry_bytes + r->comp.feature_id_bytes);
        /* the property table is the same as without compression */
        json_t *j0 = NULL;
        ct_glb_file g0;
        if (ct_glb_parse(b0, l0, &g0)) {
            j0 = g0.json;
            json_t *md0 = json_object_get(json_object_get(j0, "extensions"), "EXT_structural_metadata");
            json_t *md1 = json_object_get(json_object_get(j, "extensions"), "EXT_structural_metadata");
            char *s0 = json_dumps(json_object_get(md0, "schema"), JSON_COMPACT | JSON_SORT_KEYS);
            char *s1 = json_dumps(json_object_get(md1, "schema"), JSON_COMPACT | JSON_SORT_KEYS);
            CT_CHECK(s0 && s1 && strcmp(s0, s1) == 0);
            free(s0);
            free(s1);
            ct_glb_release(&g0);
        }
        json_t *prim = at(at(j, "meshes", 0), "primitives", 0);
        json_t *fids = at(json_object_get(json_object_get(prim, "extensions"), "EXT_mesh_features"), "featureIds", 0);
        CT_CHECK((size_t)ct_glb_int(fids, "featureCount") == t->nf && ct_glb_int(fids, "propertyTable") == 0);

        dec_mesh d;
        int quantized = -1;
        if (decode_glb(&g, &d, &quantized)) {
            CT_CHECK(quantized == expect_quantized);
            double err, deg;
            compare_mesh(t, &d, 0.01, &err, &deg);
            printf("%s: decoded %zu vertices, %zu triangles: max position error %.4f m (encoder says %.4f), "
                   "max normal error %.2f deg\n", name, d.nv, d.ni / 3, err, r->comp.max_position_error, deg);
            CT_CHECK(err <= 0.01 && deg <= 2.0);
            CT_CHECK(fabs(err - r->comp.max_position_error) < 1e-6);
            free_dec(&d);
        }
        ct_glb_release(&g);
    }
    char path[1200];
    ct_glb_save(out_dir, name, b1, l1, path, sizeof path);
    run_validator(path);
    char rawname[256];
    snprintf(rawname, sizeof rawname, "raw_%s", name);
    ct_glb_save(out_dir, rawname, b0, l0, path, sizeof path);
    free(b0);
    free(b1);
    free(b2);
    free(b3);
}

static void report(const char *what, const result *r) {
    printf("%s: geometry (positions+normals+indices) %zu -> %zu bytes = %.2fx; feature ids %zu -> %zu; "
           "whole GLB %zu -> %zu bytes = %.2fx\n",
           what, r->comp.geometry_raw, r->comp.geometry_bytes,
           (double)r->comp.geometry_raw / (double)r->comp.geometry_bytes, r->comp.feature_id_raw,
           r->comp.feature_id_bytes, r->raw_len, r->comp_len, (double)r->raw_len / (double)r->comp_len);
}

/* ~200 buildings on a 500 m tile: the realistic case; >= 3x on the geometry. */
static void test_city_tile(ct_context *ctx) {
    tile t;
    make_tile(&t, 200, 500.0, 12345u);
    result r;
    check_tile(ctx, &t, "city200.glb", 1, &r);
    report("city tile (200 buildings, 500 m)", &r);
    double ratio = (double)r.comp.geometry_raw / (double)r.comp.geometry_bytes;
    CT_CHECK_MSG(ratio >= 3.0, "geometry ratio %.2f < 3", ratio);

    /* encode speed (this build's flags; see the report for a release build) */
    ct_glb_mesh_input m = tile_mesh(&t);
    ct_glb_features f = tile_features(&t);
    ct_glb_options mo = {0};
    mo.compression = CT_GLB_COMPRESSION_MESHOPT;
    const char *reps_env = ct_test_env("CT_GLB_BENCH_REPS", "20");
    int reps = atoi(reps_env) > 0 ? atoi(reps_env) : 20;
    for (int pass = 0; pass < 2; pass++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        size_t bytes_out = 0;
        for (int i = 0; i < reps; i++) {
            uint8_t *b = NULL;
            size_t l = 0;
            CT_CHECK(ct_glb_encode_ex(ctx, &m, &f, pass ? &mo : NULL, &b, &l, NULL) == CT_OK);
            bytes_out += l;
            free(b);
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        double in_mb = (double)r.comp.geometry_raw * reps / 1e6;
        printf("speed %s: %.1f tiles/s, %.1f MB/s of raw geometry in, %.1f MB/s written (%d x %zu vertices)\n",
               pass ? "meshopt" : "none", reps / s, in_mb / s, (double)bytes_out / 1e6 / s, reps, t.nv);
    }
    free_tile(&t);
}

/* 2 km tile, 3000 buildings: a 16-bit grid cannot hold 1 cm, so FLOAT + EXPONENTIAL; more
 * than 65535 vertices, so UNSIGNED_INT indices. */
static void test_large_tile(ct_context *ctx) {
    tile t;
    make_tile(&t, 3000, 2000.0, 777u);
    CT_CHECK(t.nv > 65535);
    result r;
    check_tile(ctx, &t, "city3000_2km.glb", 0, &r);
    report("large tile (3000 buildings, 2 km)", &r);
    /* a looser bound puts the same tile on the 16-bit grid */
    ct_glb_mesh_input m = tile_mesh(&t);
    ct_glb_features f = tile_features(&t);
    ct_glb_options mo = {0};
    mo.compression = CT_GLB_COMPRESSION_MESHOPT;
    mo.max_position_error = 0.03;
    uint8_t *b = NULL;
    size_t l = 0;
    ct_glb_stats s;
    CT_CHECK(ct_glb_encode_ex(ctx, &m, &f, &mo, &b, &l, &s) == CT_OK);
    CT_CHECK(s.positions_quantized == 1 && s.max_position_error <= 0.03);
    printf("large tile at 3 cm: quantized, max error %.4f m, geometry %.2fx, GLB %zu bytes\n",
           s.max_position_error, (double)s.geometry_raw / (double)s.geometry_bytes, l);
    free(b);
    free_tile(&t);
}

/* No normals, no features; a mesh with an unused vertex; bad options. */
static void test_small_cases(ct_context *ctx) {
    static const float pos[12] = {0, 0, 0, 10, 0, 0, 0, 5, 2.5f, 99, 99, 99};
    static const uint32_t idx[3] = {0, 1, 2};
    ct_glb_mesh_input m = {0};
    m.nverts = 4; /* vertex 3 unused: dropped */
    m.pos = pos;
    m.nindices = 3;
    m.idx = idx;
    ct_glb_options mo = {0};
    mo.compression = CT_GLB_COMPRESSION_MESHOPT;
    uint8_t *b = NULL;
    size_t l = 0;
    ct_glb_stats s;
    CT_CHECK(ct_glb_encode_ex(ctx, &m, NULL, &mo, &b, &l, &s) == CT_OK);
    CT_CHECK(s.nverts == 3 && s.positions_quantized);
    ct_glb_file g;
    if (b && ct_glb_parse(b, l, &g)) {
        json_t *used = json_object_get(g.json, "extensionsUsed");
        CT_CHECK(json_array_size(used) == 2 && !has_string(used, "EXT_mesh_features"));
        dec_mesh d;
        int q;
        if (decode_glb(&g, &d, &q)) {
            CT_CHECK(d.nv == 3 && d.ni == 3);
            /* one triangle, winding kept: find where input vertex 0 went, then compare in order */
            uint32_t first = 0;
            for (uint32_t k = 0; k < 3; k++)
                if (fabs(d.pos[3 * d.idx[k]]) < 0.01 && fabs(d.pos[3 * d.idx[k] + 1]) < 0.01) first = k;
            for (uint32_t k = 0; k < 3; k++)
                for (int c = 0; c < 3; c++)
                    CT_CHECK_NEAR(d.pos[3 * d.idx[(first + k) % 3] + c], pos[3 * k + c], 0.01);
            free_dec(&d);
        }
        ct_glb_release(&g);
    }
    char path[1200];
    ct_glb_save(out_dir, "triangle_meshopt.glb", b, l, path, sizeof path);
    run_validator(path);
    free(b);
    b = NULL;

    /* a flat mesh (zero extent on z) and a single-point-extent mesh */
    static const float same[9] = {5, 5, 5, 5, 5, 5, 5, 5, 5};
    m.nverts = 3;
    m.pos = same;
    CT_CHECK(ct_glb_encode_ex(ctx, &m, NULL, &mo, &b, &l, &s) == CT_OK);
    CT_CHECK(s.max_position_error == 0);
    free(b);
    b = NULL;

    mo.compression = (ct_glb_compression)7;
    CT_CHECK(ct_glb_encode_ex(ctx, &m, NULL, &mo, &b, &l, NULL) == CT_ERR_USAGE && b == NULL && l == 0);
    mo.compression = CT_GLB_COMPRESSION_MESHOPT;
    static const uint32_t bad[3] = {0, 1, 3};
    m.idx = bad;
    CT_CHECK(ct_glb_encode_ex(ctx, &m, NULL, &mo, &b, &l, NULL) == CT_ERR_USAGE && b == NULL);
}

int main(void) {
    const char *bin = ct_test_env("CT_BINARY_DIR", ".");
    snprintf(out_dir, sizeof out_dir, "%s/test_glb_compression_out", bin);
    mkdir(out_dir, 0777);
    ct_context *ctx = ct_context_create();
    if (!ctx) return 1;
    test_small_cases(ctx);
    test_city_tile(ctx);
    test_large_tile(ctx);
    ct_context_destroy(ctx);
    return ct_test_finish("test_glb_compression");
}
