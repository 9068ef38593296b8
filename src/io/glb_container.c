/* GLB container, BIN layout and glTF JSON building blocks shared by the GLB writers:
 * see io/glb_internal.h. */
#include "io/glb_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "citytiler/version.h"

#define GLB_MAGIC 0x46546C67u /* "glTF" */
#define GLB_JSON 0x4E4F534Au  /* "JSON" */
#define GLB_BIN 0x004E4942u   /* "BIN\0" */

/* ---------------------------------------------------------------- layout */

int ct_glb_layout_add(ct_glb_layout *L, size_t align, size_t len, unsigned stride, int target) {
    size_t off = (L->end + align - 1) / align * align;
    if (off < L->end || off + len < off) L->overflow = 1;
    ct_glb_view *v = &L->views[L->nviews];
    v->offset = off;
    v->length = len;
    v->stride = stride;
    v->target = target;
    L->end = off + len;
    return (int)L->nviews++;
}

size_t ct_glb_mul(ct_glb_layout *L, size_t a, size_t b) {
    if (b != 0 && a > SIZE_MAX / b) {
        L->overflow = 1;
        return 0;
    }
    return a * b;
}

/* ---------------------------------------------------------------- JSON */

json_t *ct_glb_json_root(int *fail) {
    char generator[64];
    snprintf(generator, sizeof generator, "citytiler %s", ct_version());
    json_t *root = json_object(), *asset = json_object();
    ct_glb_jset(fail, asset, "version", json_string("2.0"));
    ct_glb_jset(fail, asset, "generator", json_string(generator));
    ct_glb_jset(fail, root, "asset", asset);
    return root;
}

void ct_glb_json_scene(int *fail, json_t *root) {
    json_t *scenes = json_array(), *scene = json_object(), *snodes = json_array();
    ct_glb_jset(fail, root, "scene", ct_glb_jint(0));
    ct_glb_japp(fail, snodes, ct_glb_jint(0));
    ct_glb_jset(fail, scene, "nodes", snodes);
    ct_glb_japp(fail, scenes, scene);
    ct_glb_jset(fail, root, "scenes", scenes);
}

json_t *ct_glb_json_yup_to_zup(int *fail) {
    static const int yup_to_zup[16] = {1, 0, 0, 0, 0, 0, -1, 0, 0, 1, 0, 0, 0, 0, 0, 1};
    json_t *m = json_array();
    for (int k = 0; k < 16; k++) ct_glb_japp(fail, m, ct_glb_jint(yup_to_zup[k]));
    return m;
}

json_t *ct_glb_json_vec3(int *fail, const float v[3]) {
    json_t *a = json_array();
    for (int i = 0; i < 3; i++) ct_glb_japp(fail, a, json_real((double)v[i]));
    return a;
}

json_t *ct_glb_json_accessor(int *fail, int view, int ctype, size_t count, const char *type) {
    json_t *o = json_object();
    ct_glb_jset(fail, o, "bufferView", ct_glb_jint(view));
    ct_glb_jset(fail, o, "componentType", ct_glb_jint(ctype));
    ct_glb_jset(fail, o, "count", ct_glb_jint((long long)count));
    ct_glb_jset(fail, o, "type", json_string(type));
    return o;
}

static json_t *json_view(int *fail, const ct_glb_view *v) {
    json_t *o = json_object();
    if (v->mode) {
        json_t *ext = json_object(), *mo = json_object();
        ct_glb_jset(fail, o, "buffer", ct_glb_jint(1));
        ct_glb_jset(fail, o, "byteOffset", ct_glb_jint((long long)v->fb_offset));
        ct_glb_jset(fail, o, "byteLength", ct_glb_jint((long long)(v->count * v->mo_stride)));
        if (v->target == GL_ARRAY_BUFFER) ct_glb_jset(fail, o, "byteStride", ct_glb_jint(v->mo_stride));
        ct_glb_jset(fail, o, "target", ct_glb_jint(v->target));
        ct_glb_jset(fail, mo, "buffer", ct_glb_jint(0));
        ct_glb_jset(fail, mo, "byteOffset", ct_glb_jint((long long)v->offset));
        ct_glb_jset(fail, mo, "byteLength", ct_glb_jint((long long)v->length));
        ct_glb_jset(fail, mo, "byteStride", ct_glb_jint(v->mo_stride));
        ct_glb_jset(fail, mo, "count", ct_glb_jint((long long)v->count));
        ct_glb_jset(fail, mo, "mode", json_string(v->mode));
        if (v->filter) ct_glb_jset(fail, mo, "filter", json_string(v->filter));
        ct_glb_jset(fail, ext, "EXT_meshopt_compression", mo);
        ct_glb_jset(fail, o, "extensions", ext);
        return o;
    }
    ct_glb_jset(fail, o, "buffer", ct_glb_jint(0));
    ct_glb_jset(fail, o, "byteOffset", ct_glb_jint((long long)v->offset));
    ct_glb_jset(fail, o, "byteLength", ct_glb_jint((long long)v->length));
    if (v->stride) ct_glb_jset(fail, o, "byteStride", ct_glb_jint(v->stride));
    if (v->target) ct_glb_jset(fail, o, "target", ct_glb_jint(v->target));
    return o;
}

void ct_glb_json_buffers(int *fail, json_t *root, json_t *accessors, const ct_glb_layout *L, size_t bin_len,
                         int fallback) {
    ct_glb_jset(fail, root, "accessors", accessors);
    json_t *views = json_array();
    for (size_t i = 0; i < L->nviews; i++) ct_glb_japp(fail, views, json_view(fail, &L->views[i]));
    ct_glb_jset(fail, root, "bufferViews", views);
    json_t *buffers = json_array(), *buffer = json_object();
    ct_glb_jset(fail, buffer, "byteLength", ct_glb_jint((long long)bin_len));
    ct_glb_japp(fail, buffers, buffer);
    if (fallback) {
        json_t *fb = json_object(), *fbext = json_object(), *fbmo = json_object();
        ct_glb_jset(fail, fb, "byteLength", ct_glb_jint((long long)ct_glb_pad4(L->fb_end)));
        ct_glb_jset(fail, fbmo, "fallback", json_true());
        ct_glb_jset(fail, fbext, "EXT_meshopt_compression", fbmo);
        ct_glb_jset(fail, fb, "extensions", fbext);
        ct_glb_japp(fail, buffers, fb);
    }
    ct_glb_jset(fail, root, "buffers", buffers);
}

json_t *ct_glb_json_material(int *fail, const float base_color[4]) {
    float col[4];
    const float *bc = base_color;
    if (bc[0] == 0 && bc[1] == 0 && bc[2] == 0 && bc[3] == 0) {
        col[0] = col[1] = col[2] = 0.8f;
        col[3] = 1.0f;
    } else {
        for (int k = 0; k < 4; k++) col[k] = fminf(fmaxf(bc[k], 0.0f), 1.0f); /* NaN -> 0 */
    }
    json_t *mat = json_object(), *pbr = json_object(), *bcf = json_array();
    for (int k = 0; k < 4; k++) ct_glb_japp(fail, bcf, json_real((double)col[k]));
    ct_glb_jset(fail, pbr, "baseColorFactor", bcf);
    ct_glb_jset(fail, pbr, "metallicFactor", ct_glb_jint(0));
    ct_glb_jset(fail, pbr, "roughnessFactor", ct_glb_jint(1));
    ct_glb_jset(fail, mat, "pbrMetallicRoughness", pbr);
    if (col[3] < 1.0f) ct_glb_jset(fail, mat, "alphaMode", json_string("BLEND"));
    return mat;
}

/* ---------------------------------------------------------------- container */

static void put_u32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

ct_status ct_glb_container(ct_context *ctx, const json_t *root, int fail, const ct_glb_layout *L,
                           size_t bin_len, uint8_t **glb, size_t *glb_len, uint8_t **bin) {
    *glb = NULL;
    *glb_len = 0;
    *bin = NULL;
    char *text = fail ? NULL : json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!text) return ct_error_nomem(ctx, "glb JSON");
    const size_t json_len = strlen(text);
    const size_t json_pad = ct_glb_pad4(json_len);
    const size_t total = 12 + 8 + json_pad + 8 + bin_len;
    if (total > UINT32_MAX || total < bin_len) {
        free(text);
        return ct_error(ctx, CT_ERR_UNSUPPORTED, "glb: %zu bytes exceed the GLB limit of 4 GiB", total);
    }
    uint8_t *buf = malloc(total);
    if (!buf) {
        free(text);
        return ct_error_nomem(ctx, "glb output");
    }
    put_u32(buf, GLB_MAGIC);
    put_u32(buf + 4, 2);
    put_u32(buf + 8, (uint32_t)total);
    put_u32(buf + 12, (uint32_t)json_pad);
    put_u32(buf + 16, GLB_JSON);
    memcpy(buf + 20, text, json_len);
    memset(buf + 20 + json_len, ' ', json_pad - json_len);
    free(text);
    uint8_t *chunk = buf + 20 + json_pad;
    put_u32(chunk, (uint32_t)bin_len);
    put_u32(chunk + 4, GLB_BIN);
    uint8_t *data = chunk + 8;

    /* zero the gaps between views and the tail (views are in increasing offset order) */
    for (size_t i = 0, at = 0; i <= L->nviews; i++) {
        size_t next = i < L->nviews ? L->views[i].offset : bin_len;
        memset(data + at, 0, next - at);
        if (i < L->nviews) at = L->views[i].offset + L->views[i].length;
    }
    *glb = buf;
    *glb_len = total;
    *bin = data;
    return CT_OK;
}

/* ---------------------------------------------------------------- BIN helpers */

void ct_glb_unit_normal(const float *n, float out[3], size_t *fixed) {
    out[0] = n[0];
    out[1] = n[1];
    out[2] = n[2];
    float l2 = out[0] * out[0] + out[1] * out[1] + out[2] * out[2];
    if (fabsf(l2 - 1.0f) <= 1e-4f) return;
    float l = sqrtf(l2);
    if (isfinite(l) && l > 1e-30f) {
        for (int k = 0; k < 3; k++) out[k] /= l;
    } else {
        out[0] = out[1] = 0.0f;
        out[2] = 1.0f;
        (*fixed)++;
    }
}

void ct_glb_put_indices(uint8_t *dst, const uint32_t *idx, size_t n, int ushort) {
    if (!ushort) {
        memcpy(dst, idx, n * 4);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint16_t x = (uint16_t)idx[i];
        memcpy(dst + 2 * i, &x, 2);
    }
}
