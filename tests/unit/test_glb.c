/* GLB encoder: encode, parse back, check the container, the glTF JSON, the BIN
 * layout and the EXT_mesh_features / EXT_structural_metadata wiring; run the
 * project's validator (Khronos glTF validator + metadata checks) when installed. */
#include "ct_glb_read.h"
#include "ct_test.h"

#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "citytiler/context.h"
#include "citytiler/glb.h"

/* Checks views (bounds, alignment) and accessors; returns accessor `name` of primitive 0. */
static json_t *check_common(const ct_glb_file *p, const float *pos, size_t nverts, size_t nindices) {
    json_t *j = p->json;
    json_t *asset = json_object_get(j, "asset");
    CT_CHECK(strcmp(json_string_value(json_object_get(asset, "version")), "2.0") == 0);
    CT_CHECK(strncmp(json_string_value(json_object_get(asset, "generator")), "citytiler ", 10) == 0);
    CT_CHECK(ct_glb_int(j, "scene") == 0);
    json_t *scene = json_array_get(json_object_get(j, "scenes"), 0);
    CT_CHECK(json_integer_value(json_array_get(json_object_get(scene, "nodes"), 0)) == 0);
    json_t *node = json_array_get(json_object_get(j, "nodes"), 0);
    CT_CHECK(ct_glb_int(node, "mesh") == 0);
    static const double m[16] = {1, 0, 0, 0, 0, 0, -1, 0, 0, 1, 0, 0, 0, 0, 0, 1};
    json_t *mat = json_object_get(node, "matrix");
    CT_CHECK(json_array_size(mat) == 16);
    for (size_t k = 0; k < 16; k++) CT_CHECK(json_number_value(json_array_get(mat, k)) == m[k]);

    json_t *buffers = json_object_get(j, "buffers");
    CT_CHECK(json_array_size(buffers) == 1);
    CT_CHECK((size_t)ct_glb_int(json_array_get(buffers, 0), "byteLength") == p->bin_len);
    json_t *views = json_object_get(j, "bufferViews");
    size_t i;
    json_t *v;
    json_array_foreach(views, i, v) {
        size_t off = (size_t)ct_glb_int(v, "byteOffset"), len = (size_t)ct_glb_int(v, "byteLength");
        CT_CHECK(off + len <= p->bin_len);
        int geometry = json_object_get(v, "target") != NULL;
        CT_CHECK_MSG(off % (geometry ? 4 : 8) == 0, "view %zu at %zu", i, off);
    }
    json_t *prim = json_array_get(json_object_get(json_array_get(json_object_get(j, "meshes"), 0),
                                                  "primitives"), 0);
    json_t *attrs = json_object_get(prim, "attributes");
    json_t *accs = json_object_get(j, "accessors");
    json_t *apos = json_array_get(accs, (size_t)ct_glb_int(attrs, "POSITION"));
    CT_CHECK((size_t)ct_glb_int(apos, "count") == nverts);
    CT_CHECK(ct_glb_int(apos, "componentType") == 5126);
    float mn[3] = {INFINITY, INFINITY, INFINITY}, mx[3] = {-INFINITY, -INFINITY, -INFINITY};
    for (size_t k = 0; k < nverts; k++)
        for (int c = 0; c < 3; c++) {
            mn[c] = fminf(mn[c], pos[3 * k + c]);
            mx[c] = fmaxf(mx[c], pos[3 * k + c]);
        }
    for (int c = 0; c < 3; c++) {
        CT_CHECK(json_real_value(json_array_get(json_object_get(apos, "min"), c)) == (double)mn[c]);
        CT_CHECK(json_real_value(json_array_get(json_object_get(apos, "max"), c)) == (double)mx[c]);
    }
    /* positions are stored as given */
    json_t *pv = json_array_get(views, (size_t)ct_glb_int(apos, "bufferView"));
    CT_CHECK(memcmp(p->bin + ct_glb_int(pv, "byteOffset"), pos, nverts * 12) == 0);
    json_t *aidx = json_array_get(accs, (size_t)ct_glb_int(prim, "indices"));
    CT_CHECK((size_t)ct_glb_int(aidx, "count") == nindices);
    CT_CHECK(ct_glb_int(aidx, "componentType") == (nverts <= 65535 ? 5123 : 5125));
    CT_CHECK(ct_glb_int(json_array_get(views, (size_t)ct_glb_int(aidx, "bufferView")), "target") == 34963);
    json_t *pbr = json_object_get(json_array_get(json_object_get(j, "materials"), 0), "pbrMetallicRoughness");
    CT_CHECK(json_number_value(json_object_get(pbr, "metallicFactor")) == 0);
    CT_CHECK(json_number_value(json_object_get(pbr, "roughnessFactor")) == 1);
    return prim;
}

static char out_dir[1024];

/* ---------------------------------------------------------------- meshes */

/* Appends a flat-shaded box (24 vertices, 36 indices, outward CCW) with feature id f. */
static void add_box(float *pos, float *nrm, uint32_t *fid, uint32_t *idx, size_t *nv, size_t *ni,
                    const float lo[3], const float hi[3], uint32_t f) {
    for (int axis = 0; axis < 3; axis++)
        for (int side = 0; side < 2; side++) {
            int u = (axis + 1) % 3, w = (axis + 2) % 3; /* u x w = axis */
            float n[3] = {0, 0, 0};
            n[axis] = side ? 1.0f : -1.0f;
            /* corners in (u, w): CCW around +axis is (0,0),(1,0),(1,1),(0,1) */
            static const int cu[4] = {0, 1, 1, 0}, cw[4] = {0, 0, 1, 1};
            size_t base = *nv;
            for (int k = 0; k < 4; k++) {
                int kk = side ? k : 3 - k; /* reverse for the -axis face */
                float *p = pos + 3 * *nv;
                p[axis] = side ? hi[axis] : lo[axis];
                p[u] = cu[kk] ? hi[u] : lo[u];
                p[w] = cw[kk] ? hi[w] : lo[w];
                memcpy(nrm + 3 * *nv, n, sizeof n);
                fid[*nv] = f;
                (*nv)++;
            }
            static const uint32_t tri[6] = {0, 1, 2, 0, 2, 3};
            for (int k = 0; k < 6; k++) idx[(*ni)++] = (uint32_t)base + tri[k];
        }
}

/* ---------------------------------------------------------------- tests */

static void test_triangle(ct_context *ctx) {
    static const float pos[9] = {0, 0, 0, 10, 0, 0, 0, 5, 2.5f};
    static const uint32_t idx[3] = {0, 1, 2};
    ct_glb_mesh_input m = {0};
    m.nverts = 3;
    m.pos = pos;
    m.nindices = 3;
    m.idx = idx;
    uint8_t *b = NULL;
    size_t len = 0;
    CT_CHECK(ct_glb_encode(ctx, &m, NULL, &b, &len) == CT_OK);
    if (!b) return;
    ct_glb_file p;
    if (ct_glb_parse(b, len, &p)) {
        json_t *prim = check_common(&p, pos, 3, 3);
        CT_CHECK(json_object_get(p.json, "extensionsUsed") == NULL);
        CT_CHECK(json_object_get(json_object_get(prim, "attributes"), "NORMAL") == NULL);
        CT_CHECK(json_object_get(prim, "extensions") == NULL);
        json_t *bcf = json_object_get(json_object_get(json_array_get(json_object_get(p.json, "materials"), 0),
                                                      "pbrMetallicRoughness"), "baseColorFactor");
        CT_CHECK_NEAR(json_real_value(json_array_get(bcf, 0)), 0.8, 1e-6);
        CT_CHECK(json_real_value(json_array_get(bcf, 3)) == 1.0);
        size_t il;
        const uint8_t *iv = ct_glb_view(&p, ct_glb_int(json_array_get(json_object_get(p.json, "accessors"), 1),
                                                    "bufferView"), &il);
        CT_CHECK(il == 6);
        uint16_t i2;
        memcpy(&i2, iv + 4, 2);
        CT_CHECK(i2 == 2);
        ct_glb_release(&p);
    }
    ct_glb_save_validate(out_dir, "triangle.glb", b, len, 0);
    printf("triangle: %zu bytes\n", len);
    free(b);
}

/* Two buildings, columns: string (with null), real (with null and NaN), int (with null),
 * bool (with null), a name with a space, a name clashing with "id", a name with a digit first. */
static void test_two_buildings(ct_context *ctx) {
    float pos[48 * 3], nrm[48 * 3];
    uint32_t fid[48], idx[72];
    size_t nv = 0, ni = 0;
    const float lo0[3] = {-20, -10, 0}, hi0[3] = {-5, 10, 12.5f};
    const float lo1[3] = {3, -4, 0}, hi1[3] = {18, 6, 30.25f};
    add_box(pos, nrm, fid, idx, &nv, &ni, lo0, hi0, 0);
    add_box(pos, nrm, fid, idx, &nv, &ni, lo1, hi1, 1);

    enum { NCOL = 7 };
    ct_attr_def defs[NCOL] = {{"name", CT_ATTR_STRING},  {"height m", CT_ATTR_REAL},
                              {"storeys", CT_ATTR_INT},  {"listed", CT_ATTR_BOOL},
                              {"id", CT_ATTR_STRING},    {"3d-model", CT_ATTR_REAL},
                              {"big", CT_ATTR_INT}};
    ct_value r0[NCOL], r1[NCOL];
    memset(r0, 0, sizeof r0);
    memset(r1, 0, sizeof r1);
    r0[0].v.s = "Stadhuis \xC3\xA9";  r1[0].is_null = 1;
    r0[1].v.r = 12.5;                 r1[1].is_null = 1;
    r0[2].is_null = 1;                r1[2].v.i = 7;
    r0[3].v.i = 1;                    r1[3].is_null = 1;
    r0[4].v.s = "src-1";              r1[4].v.s = "";
    r0[5].v.r = NAN;                  r1[5].v.r = -DBL_MAX;  /* NaN is null; sentinel collides */
    r0[6].v.i = INT64_C(5000000000);  r1[6].is_null = 1;
    const ct_value *rows[2] = {r0, r1};
    const char *ids[2] = {"NL.IMBAG.Pand.0503100000000001", "NL.IMBAG.Pand.0503100000000002"};
    ct_glb_features F = {0};
    F.class_name = "building";
    F.nfeatures = 2;
    F.ids = ids;
    F.defs = defs;
    F.ndefs = NCOL;
    F.rows = rows;

    ct_glb_mesh_input m = {.nverts = nv, .pos = pos, .nrm = nrm, .feature_id = fid, .nindices = ni, .idx = idx};
    m.base_color[0] = 0.9f; m.base_color[1] = 0.5f; m.base_color[2] = 0.2f; m.base_color[3] = 1.0f;

    uint8_t *b = NULL, *b2 = NULL;
    size_t len = 0, len2 = 0;
    CT_CHECK(ct_glb_encode(ctx, &m, &F, &b, &len) == CT_OK);
    CT_CHECK(ct_glb_encode(ctx, &m, &F, &b2, &len2) == CT_OK);
    CT_CHECK(b && b2 && len == len2 && memcmp(b, b2, len) == 0); /* deterministic */
    free(b2);
    if (!b) return;

    ct_glb_file p;
    if (ct_glb_parse(b, len, &p)) {
        json_t *j = p.json;
        json_t *prim = check_common(&p, pos, nv, ni);
        json_t *accs = json_object_get(j, "accessors");
        json_t *used = json_object_get(j, "extensionsUsed");
        CT_CHECK(json_array_size(used) == 2);
        CT_CHECK(json_object_get(j, "extensionsRequired") == NULL);
        json_t *attrs = json_object_get(prim, "attributes");
        CT_CHECK(json_object_get(attrs, "NORMAL") != NULL);
        json_t *afid = json_array_get(accs, (size_t)ct_glb_int(attrs, "_FEATURE_ID_0"));
        CT_CHECK(ct_glb_int(afid, "componentType") == 5123);
        json_t *fidview = json_array_get(json_object_get(j, "bufferViews"), (size_t)ct_glb_int(afid, "bufferView"));
        CT_CHECK(ct_glb_int(fidview, "byteStride") == 4);
        CT_CHECK(ct_glb_int(fidview, "byteLength") == (json_int_t)(4 * nv));
        /* feature ids stored as given */
        size_t fl;
        const uint8_t *fv = ct_glb_view(&p, ct_glb_int(afid, "bufferView"), &fl);
        for (size_t i = 0; i < nv; i++) {
            uint16_t x;
            memcpy(&x, fv + 4 * i, 2);
            CT_CHECK(x == fid[i] && fv[4 * i + 2] == 0 && fv[4 * i + 3] == 0);
        }

        json_t *fids = json_object_get(json_object_get(json_object_get(prim, "extensions"), "EXT_mesh_features"),
                                       "featureIds");
        json_t *fid0 = json_array_get(fids, 0);
        json_t *md = json_object_get(json_object_get(j, "extensions"), "EXT_structural_metadata");
        json_t *table = json_array_get(json_object_get(md, "propertyTables"), 0);
        CT_CHECK(ct_glb_int(fid0, "featureCount") == 2);
        CT_CHECK(ct_glb_int(fid0, "featureCount") == ct_glb_int(table, "count"));
        CT_CHECK(ct_glb_int(fid0, "attribute") == 0);
        CT_CHECK(ct_glb_int(fid0, "propertyTable") == 0);
        json_t *schema = json_object_get(md, "schema");
        CT_CHECK(strcmp(json_string_value(json_object_get(schema, "id")), "citytiler") == 0);
        CT_CHECK(strcmp(json_string_value(json_object_get(table, "class")), "building") == 0);
        json_t *cprops = json_object_get(json_object_get(json_object_get(schema, "classes"), "building"),
                                         "properties");
        json_t *tprops = json_object_get(table, "properties");
        CT_CHECK(json_object_size(cprops) == NCOL + 1);
        CT_CHECK(json_object_size(tprops) == NCOL + 1);

        /* every property id is an identifier, and has a table entry */
        const char *key;
        json_t *val;
        json_object_foreach(cprops, key, val) {
            int ok = (key[0] == '_' || (key[0] >= 'a' && key[0] <= 'z') || (key[0] >= 'A' && key[0] <= 'Z'));
            for (const char *c = key; *c; c++)
                ok = ok && (*c == '_' || (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                            (*c >= '0' && *c <= '9'));
            CT_CHECK_MSG(ok, "property id %s", key);
            CT_CHECK(json_object_get(tprops, key) != NULL);
        }
        /* sanitised names keep the original */
        json_t *hm = json_object_get(cprops, "height_m");
        CT_CHECK(hm && strcmp(json_string_value(json_object_get(hm, "name")), "height m") == 0);
        CT_CHECK(hm && strcmp(json_string_value(json_object_get(hm, "componentType")), "FLOAT64") == 0);
        CT_CHECK(hm && json_real_value(json_object_get(hm, "noData")) == -DBL_MAX);
        json_t *id2 = json_object_get(cprops, "id_2");
        CT_CHECK(id2 && strcmp(json_string_value(json_object_get(id2, "name")), "id") == 0);
        json_t *d3 = json_object_get(cprops, "_3d_model");
        CT_CHECK(d3 && strcmp(json_string_value(json_object_get(d3, "name")), "3d-model") == 0);
        /* -DBL_MAX is data in "3d-model": the sentinel moves to +DBL_MAX */
        CT_CHECK(d3 && json_real_value(json_object_get(d3, "noData")) == DBL_MAX);
        json_t *st = json_object_get(cprops, "storeys");
        CT_CHECK(st && strcmp(json_string_value(json_object_get(st, "componentType")), "INT32") == 0);
        CT_CHECK(st && ct_glb_int(st, "noData") == INT32_MIN);
        CT_CHECK(st && json_object_get(st, "name") == NULL);
        json_t *big = json_object_get(cprops, "big");
        CT_CHECK(big && strcmp(json_string_value(json_object_get(big, "componentType")), "INT64") == 0);
        CT_CHECK(big && ct_glb_int(big, "noData") == INT64_MIN);
        json_t *li = json_object_get(cprops, "listed");
        CT_CHECK(li && strcmp(json_string_value(json_object_get(li, "type")), "BOOLEAN") == 0);
        CT_CHECK(li && json_object_get(li, "noData") == NULL);
        json_t *idp = json_object_get(cprops, "id");
        CT_CHECK(idp && json_object_get(idp, "noData") == NULL); /* no null ids */
        json_t *nm = json_object_get(cprops, "name");
        CT_CHECK(nm && strcmp(json_string_value(json_object_get(nm, "noData")), "") == 0);

        /* strings: offsets consistent and values decoded back */
        struct { const char *pid; const char *want[2]; } sc[3] = {
            {"id", {ids[0], ids[1]}}, {"name", {"Stadhuis \xC3\xA9", ""}}, {"id_2", {"src-1", ""}}};
        for (int s = 0; s < 3; s++) {
            json_t *tp = json_object_get(tprops, sc[s].pid);
            CT_CHECK(tp && strcmp(json_string_value(json_object_get(tp, "stringOffsetType")), "UINT32") == 0);
            if (!tp) continue;
            size_t vl, ol;
            const uint8_t *vb = ct_glb_view(&p, ct_glb_int(tp, "values"), &vl);
            const uint8_t *ob = ct_glb_view(&p, ct_glb_int(tp, "stringOffsets"), &ol);
            CT_CHECK(ol == 4 * 3);
            CT_CHECK(ct_glb_u32(ob) == 0);
            CT_CHECK(ct_glb_u32(ob + 8) == vl);
            for (int f = 0; f < 2; f++) {
                uint32_t a = ct_glb_u32(ob + 4 * f), e = ct_glb_u32(ob + 4 * f + 4);
                CT_CHECK(a <= e && e <= vl);
                CT_CHECK(e - a == strlen(sc[s].want[f]) && memcmp(vb + a, sc[s].want[f], e - a) == 0);
            }
        }
        /* numbers and booleans */
        size_t l;
        const uint8_t *x = ct_glb_view(&p, ct_glb_int(json_object_get(tprops, "height_m"), "values"), &l);
        double d[2];
        CT_CHECK(l == 16);
        memcpy(d, x, 16);
        CT_CHECK(d[0] == 12.5 && d[1] == -DBL_MAX);
        x = ct_glb_view(&p, ct_glb_int(json_object_get(tprops, "_3d_model"), "values"), &l);
        memcpy(d, x, 16);
        CT_CHECK(d[0] == DBL_MAX && d[1] == -DBL_MAX); /* NaN never written */
        x = ct_glb_view(&p, ct_glb_int(json_object_get(tprops, "storeys"), "values"), &l);
        int32_t i32[2];
        CT_CHECK(l == 8);
        memcpy(i32, x, 8);
        CT_CHECK(i32[0] == INT32_MIN && i32[1] == 7);
        x = ct_glb_view(&p, ct_glb_int(json_object_get(tprops, "big"), "values"), &l);
        int64_t i64[2];
        CT_CHECK(l == 16);
        memcpy(i64, x, 16);
        CT_CHECK(i64[0] == INT64_C(5000000000) && i64[1] == INT64_MIN);
        x = ct_glb_view(&p, ct_glb_int(json_object_get(tprops, "listed"), "values"), &l);
        CT_CHECK(l == 1 && x[0] == 0x01);
        ct_glb_release(&p);
    }
    ct_glb_save_validate(out_dir, "two_buildings.glb", b, len, 0);
    printf("two buildings: %zu bytes\n", len);
    free(b);
}

static void test_errors(ct_context *ctx) {
    static const float pos[9] = {0, 0, 0, 1, 0, 0, 0, 1, 0};
    static const uint32_t idx[3] = {0, 1, 2}, bad_idx[3] = {0, 1, 3};
    static const uint32_t fid[3] = {0, 0, 1};
    uint8_t *b = (uint8_t *)1;
    size_t len = 1;
    ct_glb_mesh_input m = {0};
    m.pos = pos;
    m.idx = idx;
    m.nindices = 3;
    CT_CHECK(ct_glb_encode(ctx, &m, NULL, &b, &len) == CT_ERR_USAGE); /* nverts 0 */
    CT_CHECK(b == NULL && len == 0);
    ct_error_clear(ctx);
    m.nverts = 3;
    m.nindices = 0;
    CT_CHECK(ct_glb_encode(ctx, &m, NULL, &b, &len) == CT_ERR_USAGE);
    ct_error_clear(ctx);
    m.nindices = 2;
    CT_CHECK(ct_glb_encode(ctx, &m, NULL, &b, &len) == CT_ERR_USAGE);
    ct_error_clear(ctx);
    m.nindices = 3;
    m.idx = bad_idx;
    CT_CHECK(ct_glb_encode(ctx, &m, NULL, &b, &len) == CT_ERR_USAGE);
    CT_CHECK(b == NULL);
    ct_error_clear(ctx);
    m.idx = idx;
    const char *ids[1] = {"a"};
    ct_glb_features F = {0};
    F.nfeatures = 1;
    F.ids = ids;
    CT_CHECK(ct_glb_encode(ctx, &m, &F, &b, &len) == CT_ERR_USAGE); /* no feature_id */
    ct_error_clear(ctx);
    m.feature_id = fid;
    CT_CHECK(ct_glb_encode(ctx, &m, &F, &b, &len) == CT_ERR_USAGE); /* id 1 >= 1 feature */
    CT_CHECK(strstr(ct_error_message(ctx), "feature id") != NULL);
    ct_error_clear(ctx);
    float nanpos[9];
    memcpy(nanpos, pos, sizeof nanpos);
    nanpos[4] = NAN;
    m.pos = nanpos;
    CT_CHECK(ct_glb_encode(ctx, &m, NULL, &b, &len) == CT_ERR_USAGE);
    ct_error_clear(ctx);
}

/* Many boxes: UNSIGNED_INT indices past 65535 vertices, the bytes/feature overhead
 * of the property table, and a validator run on a bigger file. */
static void test_city(ct_context *ctx) {
    const size_t nb = 3000; /* 72000 vertices */
    float *pos = malloc(nb * 24 * 12), *nrm = malloc(nb * 24 * 12);
    uint32_t *fid = malloc(nb * 24 * 4), *idx = malloc(nb * 36 * 4);
    char (*idbuf)[32] = malloc(nb * 32);
    const char **ids = malloc(nb * sizeof *ids);
    ct_value *vals = calloc(nb * 4, sizeof *vals);
    const ct_value **rows = malloc(nb * sizeof *rows);
    CT_CHECK(pos && nrm && fid && idx && idbuf && ids && vals && rows);
    if (!(pos && nrm && fid && idx && idbuf && ids && vals && rows)) goto out;
    size_t nv = 0, ni = 0;
    for (size_t i = 0; i < nb; i++) {
        float lo[3] = {(float)(i % 60) * 20.0f - 600.0f, (float)(i / 60) * 20.0f - 500.0f, 0};
        float hi[3] = {lo[0] + 12.0f, lo[1] + 9.5f, 6.0f + (float)(i % 17)};
        add_box(pos, nrm, fid, idx, &nv, &ni, lo, hi, (uint32_t)i);
        snprintf(idbuf[i], 32, "NL.IMBAG.Pand.%016zu", i);
        ids[i] = idbuf[i];
        ct_value *r = vals + 4 * i;
        r[0].v.s = (i % 5) ? "residential" : NULL;
        r[0].is_null = !(i % 5);
        r[1].v.r = hi[2];
        r[2].v.i = 1900 + (int64_t)(i % 120);
        r[3].v.i = i & 1;
        rows[i] = r;
    }
    ct_attr_def defs[4] = {{"use", CT_ATTR_STRING}, {"height", CT_ATTR_REAL},
                           {"year", CT_ATTR_INT}, {"listed", CT_ATTR_BOOL}};
    ct_glb_features F = {"building", nb, ids, defs, 4, rows};
    ct_glb_mesh_input m = {.nverts = nv, .pos = pos, .nrm = nrm, .feature_id = fid, .nindices = ni, .idx = idx};
    uint8_t *b = NULL, *bg = NULL;
    size_t len = 0, len_geom = 0;
    CT_CHECK(ct_glb_encode(ctx, &m, &F, &b, &len) == CT_OK);
    ct_glb_mesh_input mg = m;
    mg.feature_id = NULL;
    CT_CHECK(ct_glb_encode(ctx, &mg, NULL, &bg, &len_geom) == CT_OK);
    ct_glb_file p;
    if (b && ct_glb_parse(b, len, &p)) {
        check_common(&p, pos, nv, ni);
        ct_glb_release(&p);
    }
    if (b && bg) {
        /* per feature: 24 vertices x 4 bytes of feature id, the table row, and the JSON */
        double per_feature = (double)(len - len_geom) / (double)nb;
        printf("city: %zu buildings, %zu vertices: %zu bytes with features, %zu without: "
               "%.1f bytes/feature (%.1f of them feature ids, %.1f table+JSON)\n",
               nb, nv, len, len_geom, per_feature, 24.0 * 4, per_feature - 24.0 * 4);
        ct_glb_save_validate(out_dir, "city.glb", b, len, 0);
    }
    free(b);
    free(bg);
out:
    free(pos); free(nrm); free(fid); free(idx); free(idbuf); free(ids); free(vals); free(rows);
}

/* More than 65536 features: FLOAT feature ids; sentinel collisions; UTF-8 names;
 * normals that are not unit length. */
static void test_many_features(ct_context *ctx) {
    const size_t nf = 70000;
    static const float pos[12] = {0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 1, 0};
    static const float nrm[12] = {0, 0, 2, 0, 0, 1, 0, 0, 0, 0, 0, 1.00001f}; /* long, ok, zero, ok */
    static const uint32_t fid[4] = {0, 69999, 12345, 65536};
    static const uint32_t idx[6] = {0, 1, 2, 2, 1, 3};
    ct_value *vals = calloc(nf * 2, sizeof *vals);
    const ct_value **rows = malloc(nf * sizeof *rows);
    CT_CHECK(vals && rows);
    if (!vals || !rows) { free(vals); free(rows); return; }
    for (size_t f = 0; f < nf; f++) {
        ct_value *r = vals + 2 * f;
        r[0].v.i = (f == 0) ? INT32_MIN : (int64_t)f; /* INT32_MIN is data: sentinel INT32_MAX */
        r[0].is_null = (f == 1);
        r[1].v.r = 0.5 * (double)f;
        rows[f] = r;
    }
    ct_attr_def defs[2] = {{"h\xC3\xB6he (m)", CT_ATTR_INT}, {"x", CT_ATTR_REAL}};
    ct_glb_features F = {"b\xC3\xA2timent", nf, NULL, defs, 2, rows};
    ct_glb_mesh_input m = {0};
    m.nverts = 4;
    m.pos = pos;
    m.nrm = nrm;
    m.feature_id = fid;
    m.nindices = 6;
    m.idx = idx;
    m.base_color[0] = 1.0f; m.base_color[3] = 0.5f;
    uint8_t *b = NULL;
    size_t len = 0;
    CT_CHECK(ct_glb_encode(ctx, &m, &F, &b, &len) == CT_OK);
    ct_glb_file p;
    if (b && ct_glb_parse(b, len, &p)) {
        json_t *j = p.json;
        json_t *prim = check_common(&p, pos, 4, 6);
        json_t *accs = json_object_get(j, "accessors");
        json_t *attrs = json_object_get(prim, "attributes");
        json_t *afid = json_array_get(accs, (size_t)ct_glb_int(attrs, "_FEATURE_ID_0"));
        CT_CHECK(ct_glb_int(afid, "componentType") == 5126);
        size_t l;
        const uint8_t *x = ct_glb_view(&p, ct_glb_int(afid, "bufferView"), &l);
        for (int i = 0; i < 4; i++) {
            float f;
            memcpy(&f, x + 4 * i, 4);
            CT_CHECK(f == (float)fid[i]);
        }
        x = ct_glb_view(&p, ct_glb_int(json_array_get(accs, (size_t)ct_glb_int(attrs, "NORMAL")), "bufferView"), &l);
        float n[12];
        memcpy(n, x, sizeof n);
        CT_CHECK(n[2] == 1.0f && n[5] == 1.0f && n[8] == 1.0f && n[0] == 0.0f);
        CT_CHECK(n[11] == 1.00001f); /* within tolerance: kept as given */
        json_t *md = json_object_get(json_object_get(j, "extensions"), "EXT_structural_metadata");
        json_t *cls = json_object_get(json_object_get(json_object_get(md, "schema"), "classes"), "b_timent");
        CT_CHECK(cls != NULL);
        json_t *h = json_object_get(json_object_get(cls, "properties"), "h_he__m_");
        CT_CHECK(h && strcmp(json_string_value(json_object_get(h, "name")), "h\xC3\xB6he (m)") == 0);
        CT_CHECK(h && strcmp(json_string_value(json_object_get(h, "componentType")), "INT32") == 0);
        CT_CHECK(h && ct_glb_int(h, "noData") == INT32_MAX);
        json_t *xp = json_object_get(json_object_get(cls, "properties"), "x");
        CT_CHECK(xp && json_object_get(xp, "noData") == NULL && json_object_get(xp, "name") == NULL);
        json_t *table = json_array_get(json_object_get(md, "propertyTables"), 0);
        CT_CHECK(ct_glb_int(table, "count") == (json_int_t)nf);
        x = ct_glb_view(&p, ct_glb_int(json_object_get(json_object_get(table, "properties"), "h_he__m_"), "values"), &l);
        int32_t v[3];
        CT_CHECK(l == 4 * nf);
        memcpy(v, x, sizeof v);
        CT_CHECK(v[0] == INT32_MIN && v[1] == INT32_MAX && v[2] == 2);
        json_t *mat = json_array_get(json_object_get(j, "materials"), 0);
        CT_CHECK(strcmp(json_string_value(json_object_get(mat, "alphaMode")), "BLEND") == 0);
        ct_glb_release(&p);
        ct_glb_save_validate(out_dir, "many_features.glb", b, len, 0);
    }
    free(b);
    free(vals);
    free(rows);
}

int main(void) {
    const char *bin = ct_test_env("CT_BINARY_DIR", ".");
    snprintf(out_dir, sizeof out_dir, "%s/test_glb_out", bin);
    mkdir(out_dir, 0777);
    ct_context *ctx = ct_context_create();
    if (!ctx) return 1;
    test_triangle(ctx);
    test_two_buildings(ctx);
    test_errors(ctx);
    test_city(ctx);
    test_many_features(ctx);
    ct_context_destroy(ctx);
    return ct_test_finish("test_glb");
}
