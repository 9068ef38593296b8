#include "ct_glb_read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

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
    if (g->len < 20 || memcmp(g->data, "glTF", 4) != 0 || rd32(g->data + 8) != g->len) { ct_glb_release(g); return -1; }
    uint32_t jl = rd32(g->data + 12);
    if (20 + (size_t)jl > g->len || rd32(g->data + 16) != 0x4E4F534Au) { ct_glb_release(g); return -1; }
    g->json = json_loadb((const char *)g->data + 20, jl, 0, NULL);
    size_t off = 20 + jl;
    if (off + 8 <= g->len && rd32(g->data + off + 4) == 0x004E4942u) {
        g->bin_len = rd32(g->data + off);
        g->bin = g->data + off + 8;
        if (off + 8 + g->bin_len > g->len) { ct_glb_release(g); return -1; }
    }
    return g->json ? 0 : -1;
}

void ct_glb_release(ct_glb_file *g) {
    json_decref(g->json);
    free(g->data);
    memset(g, 0, sizeof *g);
}

const uint8_t *ct_glb_view(const ct_glb_file *g, size_t i, size_t *len) {
    json_t *bv = json_array_get(json_object_get(g->json, "bufferViews"), i);
    if (!bv || !g->bin) return NULL;
    size_t off = (size_t)json_integer_value(json_object_get(bv, "byteOffset"));
    size_t l = (size_t)json_integer_value(json_object_get(bv, "byteLength"));
    if (off + l > g->bin_len) return NULL;
    *len = l;
    return g->bin + off;
}

char **ct_glb_strings(const ct_glb_file *g, const char *name, size_t *n) {
    json_t *ext = json_object_get(json_object_get(g->json, "extensions"), "EXT_structural_metadata");
    json_t *table = json_array_get(json_object_get(ext, "propertyTables"), 0);
    json_t *prop = json_object_get(json_object_get(table, "properties"), name);
    if (!prop) return NULL;
    size_t count = (size_t)json_integer_value(json_object_get(table, "count"));
    size_t vl = 0, ol = 0;
    const uint8_t *vals = ct_glb_view(g, (size_t)json_integer_value(json_object_get(prop, "values")), &vl);
    const uint8_t *offs = ct_glb_view(g, (size_t)json_integer_value(json_object_get(prop, "stringOffsets")), &ol);
    if (!vals || !offs || ol < 4 * (count + 1)) return NULL;
    char **out = calloc(count ? count : 1, sizeof *out);
    if (!out) return NULL;
    for (size_t i = 0; i < count; i++) {
        uint32_t a = rd32(offs + 4 * i), b = rd32(offs + 4 * i + 4);
        if (b < a || b > vl) { ct_glb_free_strings(out, i); return NULL; }
        out[i] = malloc(b - a + 1);
        if (!out[i]) { ct_glb_free_strings(out, i); return NULL; }
        memcpy(out[i], vals + a, b - a);
        out[i][b - a] = '\0';
    }
    *n = count;
    return out;
}

void ct_glb_free_strings(char **s, size_t n) {
    for (size_t i = 0; s && i < n; i++) free(s[i]);
    free(s);
}
