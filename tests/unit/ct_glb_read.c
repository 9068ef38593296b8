#include "ct_glb_read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ct_test.h"

#define GLB_MAGIC 0x46546C67u /* "glTF" */
#define GLB_JSON 0x4E4F534Au  /* "JSON" */
#define GLB_BIN 0x004E4942u   /* "BIN\0" */

uint32_t ct_glb_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

json_int_t ct_glb_int(json_t *o, const char *k) { return json_integer_value(json_object_get(o, k)); }

int ct_glb_load(const char *path, ct_glb_file *g) {
    memset(g, 0, sizeof *g);
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    g->data = n > 0 ? malloc((size_t)n) : NULL;
    if (!g->data || fread(g->data, 1, (size_t)n, f) != (size_t)n) { fclose(f); ct_glb_release(g); return -1; }
    fclose(f);
    g->len = (size_t)n;
    if (g->len < 20 || memcmp(g->data, "glTF", 4) != 0 || ct_glb_u32(g->data + 8) != g->len) {
        ct_glb_release(g);
        return -1;
    }
    uint32_t jl = ct_glb_u32(g->data + 12);
    if (20 + (size_t)jl > g->len || ct_glb_u32(g->data + 16) != GLB_JSON) { ct_glb_release(g); return -1; }
    g->json = json_loadb((const char *)g->data + 20, jl, 0, NULL);
    size_t off = 20 + jl;
    if (off + 8 <= g->len && ct_glb_u32(g->data + off + 4) == GLB_BIN) {
        g->bin_len = ct_glb_u32(g->data + off);
        g->bin = g->data + off + 8;
        if (off + 8 + g->bin_len > g->len) { ct_glb_release(g); return -1; }
    }
    return g->json ? 0 : -1;
}

/* ct_glb_parse without the check: NULL on success, else what is wrong. */
static const char *split(const uint8_t *b, size_t len, ct_glb_file *g) {
    if (len < 28) return "shorter than a header and two chunk headers";
    if (ct_glb_u32(b) != GLB_MAGIC) return "no glTF magic";
    if (ct_glb_u32(b + 4) != 2) return "not version 2";
    if (ct_glb_u32(b + 8) != len) return "header length is not the length";
    const size_t jl = ct_glb_u32(b + 12);
    if (ct_glb_u32(b + 16) != GLB_JSON) return "first chunk is not JSON";
    if (jl % 4 != 0) return "JSON chunk length is not a multiple of 4";
    if (20 + jl + 8 > len) return "JSON chunk runs past the end";
    size_t tl = jl; /* padding: spaces after the JSON text */
    while (tl > 0 && b[20 + tl - 1] == ' ') tl--;
    if (jl - tl >= 4) return "JSON chunk padded with 4 or more spaces";
    const uint8_t *bc = b + 20 + jl;
    const size_t bl = ct_glb_u32(bc);
    if (ct_glb_u32(bc + 4) != GLB_BIN) return "second chunk is not BIN";
    if (bl % 4 != 0) return "BIN chunk length is not a multiple of 4";
    if (20 + jl + 8 + bl != len) return "BIN chunk does not end the file";
    g->json = json_loadb((const char *)b + 20, jl, 0, NULL);
    if (!g->json) return "JSON chunk does not parse";
    g->len = len;
    g->bin = bc + 8;
    g->bin_len = bl;
    return NULL;
}

int ct_glb_parse(const uint8_t *b, size_t len, ct_glb_file *g) {
    memset(g, 0, sizeof *g);
    const char *why = split(b, len, g);
    CT_CHECK_MSG(why == NULL, "GLB container: %s", why);
    return why == NULL;
}

void ct_glb_release(ct_glb_file *g) {
    json_decref(g->json);
    free(g->data);
    memset(g, 0, sizeof *g);
}

const uint8_t *ct_glb_view(const ct_glb_file *g, size_t i, size_t *len) {
    *len = 0;
    json_t *bv = json_array_get(json_object_get(g->json, "bufferViews"), i);
    if (!bv || !g->bin) return NULL;
    size_t off = (size_t)ct_glb_int(bv, "byteOffset");
    size_t l = (size_t)ct_glb_int(bv, "byteLength");
    if (off + l > g->bin_len) return NULL;
    *len = l;
    return g->bin + off;
}

const uint8_t *ct_glb_accessor(const ct_glb_file *g, size_t acc, json_t **view_out) {
    json_t *a = json_array_get(json_object_get(g->json, "accessors"), acc);
    json_t *v = json_array_get(json_object_get(g->json, "bufferViews"), (size_t)ct_glb_int(a, "bufferView"));
    if (view_out) *view_out = v;
    return g->bin + ct_glb_int(v, "byteOffset") + ct_glb_int(a, "byteOffset");
}

static json_t *metadata(const ct_glb_file *g) {
    return json_object_get(json_object_get(g->json, "extensions"), "EXT_structural_metadata");
}

json_t *ct_glb_table(const ct_glb_file *g, size_t t) {
    return json_array_get(json_object_get(metadata(g), "propertyTables"), t);
}

json_t *ct_glb_class_property(const ct_glb_file *g, const char *class_id, const char *name) {
    json_t *cls = json_object_get(json_object_get(json_object_get(metadata(g), "schema"), "classes"), class_id);
    return json_object_get(json_object_get(cls, "properties"), name);
}

const uint8_t *ct_glb_table_values(const ct_glb_file *g, size_t t, const char *name, size_t *len) {
    json_t *prop = json_object_get(json_object_get(ct_glb_table(g, t), "properties"), name);
    return prop ? ct_glb_view(g, (size_t)ct_glb_int(prop, "values"), len) : NULL;
}

char **ct_glb_table_strings(const ct_glb_file *g, size_t t, const char *name, size_t *n) {
    json_t *table = ct_glb_table(g, t);
    json_t *prop = json_object_get(json_object_get(table, "properties"), name);
    if (!prop) return NULL;
    size_t count = (size_t)ct_glb_int(table, "count");
    size_t vl = 0, ol = 0;
    const uint8_t *vals = ct_glb_view(g, (size_t)ct_glb_int(prop, "values"), &vl);
    const uint8_t *offs = ct_glb_view(g, (size_t)ct_glb_int(prop, "stringOffsets"), &ol);
    if (!vals || !offs || ol != 4 * (count + 1) || ct_glb_u32(offs + 4 * count) != vl) return NULL;
    char **out = calloc(count ? count : 1, sizeof *out);
    if (!out) return NULL;
    for (size_t i = 0; i < count; i++) {
        uint32_t a = ct_glb_u32(offs + 4 * i), b = ct_glb_u32(offs + 4 * i + 4);
        if (b < a || b > vl) { ct_glb_free_strings(out, i); return NULL; }
        out[i] = malloc(b - a + 1);
        if (!out[i]) { ct_glb_free_strings(out, i); return NULL; }
        memcpy(out[i], vals + a, b - a);
        out[i][b - a] = '\0';
    }
    *n = count;
    return out;
}

char **ct_glb_strings(const ct_glb_file *g, const char *name, size_t *n) {
    return ct_glb_table_strings(g, 0, name, n);
}

void ct_glb_free_strings(char **s, size_t n) {
    for (size_t i = 0; s && i < n; i++) free(s[i]);
    free(s);
}

void ct_glb_save(const char *dir, const char *name, const uint8_t *b, size_t len, char *path, size_t cap) {
    snprintf(path, cap, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    CT_CHECK_MSG(f != NULL, "cannot write %s", path);
    if (!f) return;
    CT_CHECK(fwrite(b, 1, len, f) == len);
    fclose(f);
}

void ct_glb_validate(const char *path, int required) {
    const char *src = ct_test_env("CT_SOURCE_DIR", NULL);
    const int allow = !required || strcmp(ct_test_env("CT_ALLOW_NO_NODE", "0"), "1") == 0;
    char script[1200], mods[1200], cmd[3000];
    struct stat sb;
    if (!src) {
        if (allow) printf("validator not run: CT_SOURCE_DIR unset\n");
        else CT_CHECK_MSG(0, "CT_SOURCE_DIR unset: cannot run the validator (set CT_ALLOW_NO_NODE=1 to skip)");
        return;
    }
    snprintf(script, sizeof script, "%s/tools/validate/validate-glb.mjs", src);
    snprintf(mods, sizeof mods, "%s/tools/validate/node_modules/gltf-validator", src);
    int have_node = system("node --version >/dev/null 2>&1") == 0;
    if (stat(script, &sb) != 0 || stat(mods, &sb) != 0 || !have_node) {
        if (allow) {
            printf("validator not run (needs node, %s and %s): %s\n", script, mods, path);
            return;
        }
        CT_CHECK_MSG(0,
                     "validator not available (node %s; %s; %s): install node and run `npm ci --prefix "
                     "%s/tools/validate`, or set CT_ALLOW_NO_NODE=1",
                     have_node ? "found" : "missing", script, mods, src);
        return;
    }
    snprintf(cmd, sizeof cmd, "node '%s' '%s'", script, path);
    int rc = system(cmd);
    CT_CHECK_MSG(rc == 0, "validate-glb.mjs found errors in %s (status %d)", path, rc);
}

void ct_glb_save_validate(const char *dir, const char *name, const uint8_t *b, size_t len, int required) {
    char path[1200];
    ct_glb_save(dir, name, b, len, path, sizeof path);
    ct_glb_validate(path, required);
}
