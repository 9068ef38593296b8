/* Instanced GLB encoder: encode two symbols x a few instances with attributes, parse back
 * and check the container, the node chain, the EXT_mesh_gpu_instancing accessors, the
 * EXT_instance_features -> property table wiring, the metadata columns, alignment and zero
 * padding, determinism, the frame maths (an instance meant at ENU (10, 20, 0) ends there),
 * and the Khronos validator (required unless CT_ALLOW_NO_NODE=1). */
#include "ct_glb_read.h"
#include "ct_test.h"

#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "citytiler/context.h"
#include "citytiler/glb_instanced.h"
#include "citytiler/symbol.h"

static char g_out[1024];

/* ---------------------------------------------------------------- frame maths */

/* Column-major 4x4 times point. */
static void mat_apply(const double m[16], const double p[3], double o[3]) {
    for (int r = 0; r < 3; r++) o[r] = m[r] * p[0] + m[4 + r] * p[1] + m[8 + r] * p[2] + m[12 + r];
}

/* Where a symbol vertex v of instance i ends in ENU: root matrix (from the JSON) x instance
 * T*R*S (from the BIN), then 3D Tiles' y-up -> z-up (x, y, z) -> (x, -z, y). */
static void instance_to_enu(const double root[16], const float t[3], const float q[4], const float s[3],
                            const double v[3], double enu[3]) {
    double p[3] = {v[0] * s[0], v[1] * s[1], v[2] * s[2]};
    /* rotate by the unit quaternion q = (x, y, z, w): p' = p + 2w(u x p) + 2u x (u x p) */
    double u[3] = {q[0], q[1], q[2]}, w = q[3];
    double c1[3] = {u[1] * p[2] - u[2] * p[1], u[2] * p[0] - u[0] * p[2], u[0] * p[1] - u[1] * p[0]};
    double c2[3] = {u[1] * c1[2] - u[2] * c1[1], u[2] * c1[0] - u[0] * c1[2], u[0] * c1[1] - u[1] * c1[0]};
    double r[3];
    for (int k = 0; k < 3; k++) r[k] = p[k] + 2 * w * c1[k] + 2 * c2[k] + t[k];
    double g[3];
    mat_apply(root, r, g);
    enu[0] = g[0];
    enu[1] = -g[2];
    enu[2] = g[1];
}

/* ---------------------------------------------------------------- the main case */

enum { NA = 3, NB = 2, NDEFS = 5 };

static void test_two_symbols(ct_context *ctx) {
    ct_symbol pole, box;
    CT_CHECK(ct_symbol_builtin(ctx, "pole", &pole) == CT_OK);
    CT_CHECK(ct_symbol_builtin(ctx, "box", &box) == CT_OK);

    ct_attr_def defs[NDEFS] = {{"status", CT_ATTR_STRING},
                               {"power_w", CT_ATTR_REAL},
                               {"installed", CT_ATTR_INT},
                               {"smart", CT_ATTR_BOOL},
                               {"naam straat", CT_ATTR_STRING}};
    ct_value ra[NA][NDEFS], rb[NB][NDEFS];
    memset(ra, 0, sizeof ra);
    memset(rb, 0, sizeof rb);
    ra[0][0].v.s = "ok"; ra[1][0].v.s = "broken"; ra[2][0].is_null = 1;
    ra[0][1].v.r = 40.5; ra[1][1].is_null = 1; ra[2][1].v.r = 60;
    ra[0][2].v.i = 2019; ra[1][2].v.i = 2021; ra[2][2].is_null = 1;
    ra[0][3].v.i = 1; ra[1][3].v.i = 0; ra[2][3].is_null = 1;
    ra[0][4].v.s = "Oude Delft"; ra[1][4].v.s = "Markt"; ra[2][4].v.s = "";
    rb[0][0].v.s = "ok"; rb[1][0].v.s = "ok";
    rb[0][1].v.r = -DBL_MAX; rb[1][1].v.r = 1.5; /* the sentinel collides: another is used */
    rb[0][2].v.i = 2000; rb[1][2].v.i = 2001;
    rb[0][3].v.i = 1; rb[1][3].v.i = 1;
    rb[0][4].is_null = 1; rb[1][4].v.s = "Kolk";
    const ct_value *rows_a[NA] = {ra[0], ra[1], ra[2]}, *rows_b[NB] = {rb[0], rb[1]};

    const float ta[3 * NA] = {10, 20, 0, -35.25f, 12.5f, 1.75f, 100, -200, -3};
    const double ha[NA] = {90, 0, -45};
    const float sa[3 * NA] = {2, 2, 2, 1, 1, 1, 1, 1, 1.5f};
    const char *ids_a[NA] = {"L-1", "L-2", NULL};
    const float tb[3 * NB] = {0, 0, 0, 5, 5, 0.5f};
    const double hb[NB] = {370, 180};

    ct_glb_instances sets[2] = {{0}};
    sets[0].symbol = &pole;
    sets[0].ninstances = NA;
    sets[0].translation = ta;
    sets[0].heading = ha;
    sets[0].scale = sa;
    sets[0].ids = ids_a;
    sets[0].rows = rows_a;
    sets[0].name = "street_light";
    sets[1].symbol = &box;
    sets[1].ninstances = NB;
    sets[1].translation = tb;
    sets[1].heading = hb;
    sets[1].rows = rows_b; /* no ids, no scales */
    sets[1].name = "sensor";
    ct_glb_instanced_input in = {sets, 2, NULL, defs, NDEFS};

    uint8_t *glb = NULL, *glb2 = NULL;
    size_t len = 0, len2 = 0;
    CT_CHECK_MSG(ct_glb_encode_instanced(ctx, &in, &glb, &len) == CT_OK, "%s", ct_error_message(ctx));
    CT_CHECK(ct_glb_encode_instanced(ctx, &in, &glb2, &len2) == CT_OK);
    CT_CHECK(glb && glb2 && len == len2 && memcmp(glb, glb2, len) == 0); /* deterministic */
    free(glb2);
    if (!glb) goto out;
    printf("two symbols, %d instances: %zu bytes\n", NA + NB, len);

    ct_glb_file p;
    if (!ct_glb_parse(glb, len, &p)) goto out;
    json_t *j = p.json;

    /* extensions */
    json_t *used = json_object_get(j, "extensionsUsed"), *req = json_object_get(j, "extensionsRequired");
    CT_CHECK(json_array_size(used) == 3);
    const char *want[3] = {"EXT_mesh_gpu_instancing", "EXT_instance_features", "EXT_structural_metadata"};
    for (size_t i = 0; i < 3; i++) CT_CHECK(strcmp(json_string_value(json_array_get(used, i)), want[i]) == 0);
    CT_CHECK(json_array_size(req) == 1 &&
             strcmp(json_string_value(json_array_get(req, 0)), "EXT_mesh_gpu_instancing") == 0);

    /* node chain */
    json_t *nodes = json_object_get(j, "nodes");
    CT_CHECK(json_array_size(nodes) == 3);
    json_t *rootn = json_array_get(nodes, 0);
    double root[16];
    static const double yup[16] = {1, 0, 0, 0, 0, 0, -1, 0, 0, 1, 0, 0, 0, 0, 0, 1};
    json_t *mat = json_object_get(rootn, "matrix");
    CT_CHECK(json_array_size(mat) == 16);
    for (size_t k = 0; k < 16; k++) {
        root[k] = json_number_value(json_array_get(mat, k));
        CT_CHECK(root[k] == yup[k]);
    }
    CT_CHECK(json_object_get(rootn, "mesh") == NULL);
    json_t *children = json_object_get(rootn, "children");
    CT_CHECK(json_array_size(children) == 2 && json_integer_value(json_array_get(children, 0)) == 1 &&
             json_integer_value(json_array_get(children, 1)) == 2);
    json_t *scn = json_array_get(json_object_get(j, "scenes"), 0);
    CT_CHECK(json_array_size(json_object_get(scn, "nodes")) == 1);

    /* buffer views: in bounds, increasing, no overlap, aligned; zero padding between */
    json_t *bvs = json_object_get(j, "bufferViews");
    size_t prev_end = 0;
    size_t covered = 0;
    unsigned char *used_bytes = calloc(p.bin_len ? p.bin_len : 1, 1);
    CT_CHECK(used_bytes != NULL);
    for (size_t i = 0; i < json_array_size(bvs); i++) {
        json_t *v = json_array_get(bvs, i);
        size_t off = (size_t)ct_glb_int(v, "byteOffset"), l = (size_t)ct_glb_int(v, "byteLength");
        CT_CHECK(ct_glb_int(v, "buffer") == 0);
        CT_CHECK(off >= prev_end && off + l <= p.bin_len && off % 4 == 0);
        prev_end = off + l;
        covered += l;
        if (used_bytes && off + l <= p.bin_len) memset(used_bytes + off, 1, l);
    }
    size_t nonzero_pad = 0;
    for (size_t i = 0; used_bytes && i < p.bin_len; i++)
        if (!used_bytes[i] && p.bin[i] != 0) nonzero_pad++;
    CT_CHECK_MSG(nonzero_pad == 0, "%zu padding bytes are not zero", nonzero_pad);
    free(used_bytes);
    CT_CHECK(p.bin_len - covered < 8 * json_array_size(bvs));
    CT_CHECK((size_t)ct_glb_int(json_array_get(json_object_get(j, "buffers"), 0), "byteLength") == p.bin_len);

    json_t *accs = json_object_get(j, "accessors");
    json_t *md = json_object_get(json_object_get(j, "extensions"), "EXT_structural_metadata");
    json_t *tables = json_object_get(md, "propertyTables");
    CT_CHECK(json_array_size(tables) == 2);
    CT_CHECK(json_object_get(json_object_get(json_object_get(md, "schema"), "classes"), "asset") != NULL);

    const size_t counts[2] = {NA, NB};
    const float *trans[2] = {ta, tb};
    const double *heads[2] = {ha, hb};
    const float *scales[2] = {sa, NULL};
    const ct_symbol *syms[2] = {&pole, &box};
    for (size_t s = 0; s < 2; s++) {
        json_t *node = json_array_get(nodes, s + 1);
        CT_CHECK(ct_glb_int(node, "mesh") == (json_int_t)s);
        CT_CHECK(json_object_get(node, "matrix") == NULL && json_object_get(node, "translation") == NULL);
        json_t *ext = json_object_get(node, "extensions");
        json_t *attrs = json_object_get(json_object_get(ext, "EXT_mesh_gpu_instancing"), "attributes");
        CT_CHECK(json_object_size(attrs) == 4);
        static const char *names[4] = {"TRANSLATION", "ROTATION", "SCALE", "_FEATURE_ID_0"};
        static const char *types[4] = {"VEC3", "VEC4", "VEC3", "SCALAR"};
        const uint8_t *data[4];
        for (int a = 0; a < 4; a++) {
            json_t *ai = json_object_get(attrs, names[a]);
            CT_CHECK_MSG(json_is_integer(ai), "node %zu: no %s", s + 1, names[a]);
            json_t *acc = json_array_get(accs, (size_t)json_integer_value(ai));
            CT_CHECK((size_t)ct_glb_int(acc, "count") == counts[s]);
            CT_CHECK(strcmp(json_string_value(json_object_get(acc, "type")), types[a]) == 0);
            CT_CHECK(json_object_get(acc, "normalized") == NULL);
            json_int_t ct = ct_glb_int(acc, "componentType");
            CT_CHECK(a < 3 ? ct == 5126 : ct == 5123);
            json_t *view;
            data[a] = ct_glb_accessor(&p, (size_t)json_integer_value(ai), &view);
            CT_CHECK_MSG(json_object_get(view, "target") == NULL, "instance attribute %s view has a target", names[a]);
            CT_CHECK(json_object_get(view, "byteStride") == NULL);
            size_t elem = a == 0 || a == 2 ? 12 : a == 1 ? 16 : 2;
            CT_CHECK((size_t)ct_glb_int(view, "byteLength") == elem * counts[s]);
            if (a == 0) { /* TRANSLATION min/max */
                for (int k = 0; k < 3; k++) {
                    float mn = trans[s][k], mx = trans[s][k];
                    for (size_t i = 1; i < counts[s]; i++) {
                        mn = fminf(mn, trans[s][3 * i + k]);
                        mx = fmaxf(mx, trans[s][3 * i + k]);
                    }
                    CT_CHECK((float)json_number_value(json_array_get(json_object_get(acc, "min"), k)) == mn);
                    CT_CHECK((float)json_number_value(json_array_get(json_object_get(acc, "max"), k)) == mx);
                }
            }
        }
        json_t *feats = json_object_get(json_object_get(ext, "EXT_instance_features"), "featureIds");
        CT_CHECK(json_array_size(feats) == 1);
        json_t *f0 = json_array_get(feats, 0);
        CT_CHECK((size_t)ct_glb_int(f0, "featureCount") == counts[s]);
        CT_CHECK(ct_glb_int(f0, "propertyTable") == (json_int_t)s);
        CT_CHECK(ct_glb_int(f0, "attribute") == 0);
        json_t *table = json_array_get(tables, s);
        CT_CHECK((size_t)ct_glb_int(table, "count") == counts[s]);
        CT_CHECK(strcmp(json_string_value(json_object_get(table, "class")), "asset") == 0);

        for (size_t i = 0; i < counts[s]; i++) {
            float t[3], q[4], sc[3];
            uint16_t fid;
            memcpy(t, data[0] + 12 * i, 12);
            memcpy(q, data[1] + 16 * i, 16);
            memcpy(sc, data[2] + 12 * i, 12);
            memcpy(&fid, data[3] + 2 * i, 2);
            CT_CHECK(memcmp(t, trans[s] + 3 * i, 12) == 0); /* translations exactly as given */
            double ql = sqrt((double)q[0] * q[0] + (double)q[1] * q[1] + (double)q[2] * q[2] + (double)q[3] * q[3]);
            CT_CHECK_NEAR(ql, 1.0, 1e-6);
            CT_CHECK(q[0] == 0.0f && q[1] == 0.0f); /* about up (+z of the child frame) only */
            float qe[4];
            ct_glb_heading_quat(heads[s][i], qe);
            CT_CHECK(memcmp(q, qe, 16) == 0);
            for (int k = 0; k < 3; k++) CT_CHECK(sc[k] == (scales[s] ? scales[s][3 * i + k] : 1.0f));
            CT_CHECK(fid == i);
            /* frame maths: vertices of instance i end at t + Rz(-heading) * (scale * v) in ENU */
            const double h = -heads[s][i] * M_PI / 180.0;
            for (size_t vi = 0; vi < syms[s]->nverts; vi += 7) {
                const float *pv = syms[s]->pos + 3 * vi;
                double v[3] = {pv[0], pv[1], pv[2]}, enu[3];
                instance_to_enu(root, t, q, sc, v, enu);
                double x = v[0] * sc[0], y = v[1] * sc[1];
                double expect[3] = {t[0] + cos(h) * x - sin(h) * y, t[1] + sin(h) * x + cos(h) * y, t[2] + v[2] * sc[2]};
                for (int k = 0; k < 3; k++) CT_CHECK_NEAR(enu[k], expect[k], 1e-4);
            }
        }
    }

    /* the instance meant at ENU (10, 20, 0), heading 90, scale 2: the base centre stands at
     * (10, 20, 0), the top of the pole 12 m above it, and a point 1 m east of the axis in
     * the model ends 2 m south of it (a clockwise quarter turn, then scale 2) */
    {
        const uint8_t *tq = ct_glb_accessor(
            &p, (size_t)json_integer_value(json_object_get(
                    json_object_get(json_object_get(json_object_get(json_array_get(nodes, 1), "extensions"),
                                                    "EXT_mesh_gpu_instancing"),
                                    "attributes"),
                    "ROTATION")),
            NULL);
        float q[4];
        memcpy(q, tq, 16);
        const float t[3] = {10, 20, 0}, sc[3] = {2, 2, 2};
        double base[3] = {0, 0, 0}, east[3] = {1, 0, 0}, top[3] = {0, 0, 6}, enu[3];
        instance_to_enu(root, t, q, sc, base, enu);
        CT_CHECK_NEAR(enu[0], 10, 1e-9); CT_CHECK_NEAR(enu[1], 20, 1e-9); CT_CHECK_NEAR(enu[2], 0, 1e-9);
        instance_to_enu(root, t, q, sc, east, enu);
        CT_CHECK_NEAR(enu[0], 10, 1e-6); CT_CHECK_NEAR(enu[1], 18, 1e-6); CT_CHECK_NEAR(enu[2], 0, 1e-6);
        instance_to_enu(root, t, q, sc, top, enu);
        CT_CHECK_NEAR(enu[0], 10, 1e-6); CT_CHECK_NEAR(enu[1], 20, 1e-6); CT_CHECK_NEAR(enu[2], 12, 1e-6);
    }

    /* meshes: POSITION bounds, materials */
    json_t *meshes = json_object_get(j, "meshes");
    CT_CHECK(json_array_size(meshes) == 2);
    CT_CHECK(json_array_size(json_object_get(j, "materials")) == 2);
    for (size_t s = 0; s < 2; s++) {
        json_t *prim = json_array_get(json_object_get(json_array_get(meshes, s), "primitives"), 0);
        json_t *pa = json_object_get(prim, "attributes");
        json_t *acc = json_array_get(accs, (size_t)ct_glb_int(pa, "POSITION"));
        CT_CHECK((size_t)ct_glb_int(acc, "count") == syms[s]->nverts);
        for (int k = 0; k < 3; k++) {
            CT_CHECK((float)json_number_value(json_array_get(json_object_get(acc, "min"), k)) == syms[s]->bbox_min[k]);
            CT_CHECK((float)json_number_value(json_array_get(json_object_get(acc, "max"), k)) == syms[s]->bbox_max[k]);
        }
        json_t *ia = json_array_get(accs, (size_t)ct_glb_int(prim, "indices"));
        CT_CHECK((size_t)ct_glb_int(ia, "count") == syms[s]->nindices);
        CT_CHECK(ct_glb_int(prim, "material") == (json_int_t)s);
        json_t *view = json_array_get(bvs, (size_t)ct_glb_int(ia, "bufferView"));
        CT_CHECK(ct_glb_int(view, "target") == 34963);
    }

    /* metadata: types, noData, values of both tables */
    CT_CHECK(strcmp(json_string_value(json_object_get(ct_glb_class_property(&p, "asset", "id"), "type")), "STRING") == 0);
    CT_CHECK(strcmp(json_string_value(json_object_get(ct_glb_class_property(&p, "asset", "installed"), "componentType")), "INT32") == 0);
    CT_CHECK(json_integer_value(json_object_get(ct_glb_class_property(&p, "asset", "installed"), "noData")) == INT32_MIN);
    json_t *pw = ct_glb_class_property(&p, "asset", "power_w");
    CT_CHECK(strcmp(json_string_value(json_object_get(pw, "componentType")), "FLOAT64") == 0);
    CT_CHECK(json_real_value(json_object_get(pw, "noData")) == DBL_MAX); /* -DBL_MAX is a value in table 1 */
    CT_CHECK(strcmp(json_string_value(json_object_get(ct_glb_class_property(&p, "asset", "smart"), "type")), "BOOLEAN") == 0);
    json_t *street = ct_glb_class_property(&p, "asset", "naam_straat");
    CT_CHECK(street && strcmp(json_string_value(json_object_get(street, "name")), "naam straat") == 0);
    CT_CHECK(json_object_get(ct_glb_class_property(&p, "asset", "status"), "noData") != NULL);

    size_t n;
    char **ids0 = ct_glb_table_strings(&p, 0, "id", &n);
    CT_CHECK(ids0 && n == NA && strcmp(ids0[0], "L-1") == 0 && strcmp(ids0[1], "L-2") == 0 && ids0[2][0] == '\0');
    ct_glb_free_strings(ids0, n);
    /* set 1 has no ids: all null, so table 1 omits "id" (an empty bufferView is invalid) */
    CT_CHECK(json_object_get(json_object_get(json_array_get(tables, 1), "properties"), "id") == NULL);
    CT_CHECK(json_object_get(json_object_get(json_array_get(tables, 1), "properties"), "status") != NULL);
    char **st0 = ct_glb_table_strings(&p, 0, "status", &n);
    CT_CHECK(st0 && n == NA && strcmp(st0[1], "broken") == 0);
    ct_glb_free_strings(st0, n);
    char **na1 = ct_glb_table_strings(&p, 1, "naam_straat", &n);
    CT_CHECK(na1 && n == NB && strcmp(na1[1], "Kolk") == 0);
    ct_glb_free_strings(na1, n);
    size_t vl;
    const uint8_t *v = ct_glb_table_values(&p, 0, "power_w", &vl);
    if (v && vl == 8 * NA) {
        double d[NA];
        memcpy(d, v, sizeof d);
        CT_CHECK(d[0] == 40.5 && d[1] == DBL_MAX && d[2] == 60);
    } else CT_CHECK(0);
    v = ct_glb_table_values(&p, 1, "power_w", &vl);
    if (v && vl == 8 * NB) {
        double d[NB];
        memcpy(d, v, sizeof d);
        CT_CHECK(d[0] == -DBL_MAX && d[1] == 1.5);
    } else CT_CHECK(0);
    v = ct_glb_table_values(&p, 0, "installed", &vl);
    if (v && vl == 4 * NA) {
        int32_t d[NA];
        memcpy(d, v, sizeof d);
        CT_CHECK(d[0] == 2019 && d[1] == 2021 && d[2] == INT32_MIN);
    } else CT_CHECK(0);
    v = ct_glb_table_values(&p, 0, "smart", &vl);
    CT_CHECK(v && vl == 1 && v[0] == 0x01); /* true, false, null -> false */
    v = ct_glb_table_values(&p, 1, "smart", &vl);
    CT_CHECK(v && vl == 1 && v[0] == 0x03);
    /* every metadata view is 8-byte aligned */
    for (size_t t = 0; t < 2; t++) {
        json_t *props = json_object_get(json_array_get(tables, t), "properties");
        const char *key;
        json_t *pv;
        json_object_foreach(props, key, pv) {
            json_t *vv = json_array_get(bvs, (size_t)ct_glb_int(pv, "values"));
            CT_CHECK_MSG(ct_glb_int(vv, "byteOffset") % 8 == 0, "table %zu %s values not 8-aligned", t, key);
            json_t *so = json_object_get(pv, "stringOffsets");
            if (so) CT_CHECK(ct_glb_int(json_array_get(bvs, (size_t)json_integer_value(so)), "byteOffset") % 8 == 0);
        }
    }

    /* bounds: box at (0,0,0) heading 370 and at (5,5,0.5) heading 180; poles */
    double bmin[3], bmax[3];
    CT_CHECK(ct_glb_instanced_bounds(&in, bmin, bmax) == 0);
    CT_CHECK_NEAR(bmax[2], 12.0, 1e-4); /* the pole scaled 2 at z 0: 12 m */
    CT_CHECK(bmin[2] <= -3.0 + 1e-6 && bmin[0] <= -35.25 - 0.2 && bmax[0] >= 100.0);

    ct_glb_save_validate(g_out, "instanced_two_symbols.glb", glb, len, 1);
    ct_glb_release(&p);
out:
    free(glb);
    ct_symbol_free(&pole);
    ct_symbol_free(&box);
}

/* Many instances: FLOAT feature IDs above 65536; bytes per instance. */
static void test_many(ct_context *ctx, size_t n, int validate) {
    ct_symbol box;
    CT_CHECK(ct_symbol_builtin(ctx, "box", &box) == CT_OK);
    float *t = malloc(n * 12);
    double *h = malloc(n * sizeof *h);
    char **ids = malloc(n * sizeof *ids);
    ct_value *vals = calloc(n * 2, sizeof *vals);
    const ct_value **rows = malloc(n * sizeof *rows);
    CT_CHECK(t && h && ids && vals && rows);
    if (!t || !h || !ids || !vals || !rows) goto out;
    for (size_t i = 0; i < n; i++) {
        t[3 * i] = (float)(i % 1000) * 0.5f;
        t[3 * i + 1] = (float)(i / 1000) * 0.5f;
        t[3 * i + 2] = (float)(i % 7);
        h[i] = (double)(i % 360);
        ids[i] = malloc(24);
        if (ids[i]) snprintf(ids[i], 24, "A%zu", i);
        vals[2 * i].v.r = (double)i * 0.25;
        vals[2 * i + 1].v.i = (int64_t)(i % 3 == 0);
        rows[i] = vals + 2 * i;
    }
    ct_attr_def defs[2] = {{"level", CT_ATTR_REAL}, {"active", CT_ATTR_BOOL}};
    ct_glb_instances set = {0};
    set.symbol = &box;
    set.ninstances = n;
    set.translation = t;
    set.heading = h;
    set.ids = (const char *const *)ids;
    set.rows = rows;
    ct_glb_instanced_input in = {&set, 1, "sensor", defs, 2};
    uint8_t *glb = NULL;
    size_t len = 0;
    CT_CHECK_MSG(ct_glb_encode_instanced(ctx, &in, &glb, &len) == CT_OK, "%s", ct_error_message(ctx));
    if (glb) {
        /* the empty-instance overhead: the same with one instance */
        uint8_t *one = NULL;
        size_t len1 = 0;
        set.ninstances = 1;
        CT_CHECK(ct_glb_encode_instanced(ctx, &in, &one, &len1) == CT_OK);
        set.ninstances = n;
        printf("%zu instances (id ~%zu chars, FLOAT64, BOOLEAN): %zu bytes, %.1f bytes/instance "
               "(fixed part %zu bytes)\n",
               n, strlen(ids[n - 1]), len, (double)(len - len1) / (double)(n - 1), len1);
        free(one);
        ct_glb_file p;
        if (ct_glb_parse(glb, len, &p)) {
            json_t *node = json_array_get(json_object_get(p.json, "nodes"), 1);
            json_t *attrs = json_object_get(
                json_object_get(json_object_get(node, "extensions"), "EXT_mesh_gpu_instancing"), "attributes");
            json_int_t fa = json_integer_value(json_object_get(attrs, "_FEATURE_ID_0"));
            json_t *acc = json_array_get(json_object_get(p.json, "accessors"), (size_t)fa);
            const int want_float = n > 65536;
            CT_CHECK(ct_glb_int(acc, "componentType") == (want_float ? 5126 : 5123));
            const uint8_t *d = ct_glb_accessor(&p, (size_t)fa, NULL);
            size_t bad = 0;
            for (size_t i = 0; i < n; i++) {
                if (want_float) {
                    float f;
                    memcpy(&f, d + 4 * i, 4);
                    if (f != (float)i) bad++;
                } else {
                    uint16_t u;
                    memcpy(&u, d + 2 * i, 2);
                    if (u != i) bad++;
                }
            }
            CT_CHECK(bad == 0);
            json_t *cls = json_object_get(json_object_get(json_object_get(json_object_get(
                                                              json_object_get(p.json, "extensions"),
                                                              "EXT_structural_metadata"),
                                                          "schema"),
                                          "classes"),
                                          "sensor");
            CT_CHECK(cls != NULL);
            ct_glb_release(&p);
        }
        if (validate) {
            char name[64];
            snprintf(name, sizeof name, "instanced_%zu.glb", n);
            ct_glb_save_validate(g_out, name, glb, len, 1);
        }
    }
    free(glb);
out:
    if (ids)
        for (size_t i = 0; i < n && t && h && vals && rows; i++) free(ids[i]);
    free(t);
    free(h);
    free(ids);
    free(vals);
    free(rows);
    ct_symbol_free(&box);
}

static void test_errors(ct_context *ctx) {
    ct_symbol box;
    CT_CHECK(ct_symbol_builtin(ctx, "box", &box) == CT_OK);
    float t[6] = {0, 0, 0, 1, 1, 1};
    float sc[6] = {1, 1, 1, 1, 0, 1};
    double h[2] = {0, NAN};
    ct_glb_instances set = {0};
    set.symbol = &box;
    set.ninstances = 2;
    set.translation = t;
    ct_glb_instanced_input in = {&set, 1, NULL, NULL, 0};
    uint8_t *out = (uint8_t *)1;
    size_t len = 7;
    /* baseline works */
    CT_CHECK(ct_glb_encode_instanced(ctx, &in, &out, &len) == CT_OK);
    free(out);
#define EXPECT_USAGE(label)                                                                        \
    do {                                                                                           \
        out = (uint8_t *)1;                                                                        \
        len = 7;                                                                                   \
        ct_error_clear(ctx);                                                                       \
        ct_status st_ = ct_glb_encode_instanced(ctx, &in, &out, &len);                             \
        CT_CHECK_MSG(st_ == CT_ERR_USAGE && out == NULL && len == 0, "%s: status %d", label, (int)st_); \
        printf("expected error (%s): %s\n", label, ct_error_message(ctx));                        \
    } while (0)
    set.scale = sc;
    EXPECT_USAGE("zero scale");
    set.scale = NULL;
    set.heading = h;
    EXPECT_USAGE("NaN heading");
    set.heading = NULL;
    t[4] = INFINITY;
    EXPECT_USAGE("infinite translation");
    t[4] = 1;
    set.ninstances = 0;
    EXPECT_USAGE("no instances");
    set.ninstances = 2;
    ct_attr_def defs[1] = {{"x", CT_ATTR_INT}};
    in.defs = defs;
    in.ndefs = 1;
    EXPECT_USAGE("columns without rows");
    in.ndefs = 0;
    in.nsets = 0;
    EXPECT_USAGE("no sets");
    in.nsets = 1;
    set.translation = NULL;
    EXPECT_USAGE("no translations");
    set.translation = t;
    ct_symbol empty = {0};
    set.symbol = &empty;
    EXPECT_USAGE("empty symbol");
    set.symbol = &box;
    box.idx[5] = (uint32_t)box.nverts;
    EXPECT_USAGE("index out of range");
#undef EXPECT_USAGE
    ct_error_clear(ctx);
    ct_symbol_free(&box);

    /* heading quaternions */
    float q[4];
    ct_glb_heading_quat(0, q);
    CT_CHECK(q[0] == 0 && q[1] == 0 && q[2] == 0 && q[3] == 1 && !signbit(q[2]));
    ct_glb_heading_quat(90, q);
    CT_CHECK_NEAR(q[2], -sqrt(0.5), 1e-7);
    CT_CHECK_NEAR(q[3], sqrt(0.5), 1e-7);
    ct_glb_heading_quat(450, q);
    CT_CHECK_NEAR(q[2], -sqrt(0.5), 1e-7);
    CT_CHECK_NEAR(q[3], sqrt(0.5), 1e-7);
}

int main(void) {
    snprintf(g_out, sizeof g_out, "%s", ct_test_env("CT_BINARY_DIR", "."));
    ct_context *ctx = ct_context_create();
    if (!ctx) return 1;
    test_two_symbols(ctx);
    test_many(ctx, 1000, 1);
    test_many(ctx, 70000, 1);
    test_errors(ctx);
    ct_context_destroy(ctx);
    return ct_test_finish("test_glb_instanced");
}
