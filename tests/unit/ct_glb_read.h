/* Test support: reading back what the GLB writers wrote (the container, JSON chunk, buffer
 * views, accessors, the property tables' values and string ids), saving a GLB next to the
 * test's outputs and running the project's validator on it. */
#ifndef CT_GLB_READ_H
#define CT_GLB_READ_H
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ct_glb_file {
    uint8_t *data;        /* owned by ct_glb_load; NULL after ct_glb_parse (caller's bytes) */
    size_t len;
    json_t *json;
    const uint8_t *bin;
    size_t bin_len;
} ct_glb_file;

/* Little-endian uint32 at p (any alignment). */
uint32_t ct_glb_u32(const uint8_t *p);
/* Integer member k of JSON object o; 0 when absent. */
json_int_t ct_glb_int(json_t *o, const char *k);

/* Loads and splits a GLB; returns 0 on success. */
int ct_glb_load(const char *path, ct_glb_file *g);
/* Splits the GLB in b[0..len) (not copied: b must outlive g) after checking its container
 * strictly (a CT_CHECK naming what is wrong): magic, version 2, total length, a JSON chunk
 * padded with at most 3 spaces to a multiple of 4, then one BIN chunk (a multiple of 4)
 * that ends the file, and JSON that parses. Returns 1 on success, else 0 (g then holds
 * nothing to release). */
int ct_glb_parse(const uint8_t *b, size_t len, ct_glb_file *g);
void ct_glb_release(ct_glb_file *g);

/* Bytes of bufferView i, or NULL (*len 0) when absent or out of the BIN chunk. */
const uint8_t *ct_glb_view(const ct_glb_file *g, size_t i, size_t *len);
/* Bytes of accessor acc (its view's byteOffset plus its own); *view_out = its view when
 * view_out is not NULL. */
const uint8_t *ct_glb_accessor(const ct_glb_file *g, size_t acc, json_t **view_out);

/* EXT_structural_metadata: property table t, class property `name` of class `class_id`. */
json_t *ct_glb_table(const ct_glb_file *g, size_t t);
json_t *ct_glb_class_property(const ct_glb_file *g, const char *class_id, const char *name);
/* The values bufferView of property `name` of property table t, or NULL when absent. */
const uint8_t *ct_glb_table_values(const ct_glb_file *g, size_t t, const char *name, size_t *len);
/* Values of STRING property `name` of property table t: a malloc'd array of malloc'd
 * strings, *n set to the count; NULL when absent or when its string offsets are not
 * count + 1 increasing UINT32s ending at the values' length. */
char **ct_glb_table_strings(const ct_glb_file *g, size_t t, const char *name, size_t *n);
/* ct_glb_table_strings of property table 0. */
char **ct_glb_strings(const ct_glb_file *g, const char *name, size_t *n);
void ct_glb_free_strings(char **s, size_t n);

/* Writes b[0..len) to dir/name (CT_CHECKed), the path in path[0..cap). */
void ct_glb_save(const char *dir, const char *name, const uint8_t *b, size_t len, char *path, size_t cap);
/* Runs tools/validate/validate-glb.mjs on path and CT_CHECKs that it passes. Without node or
 * the validator's modules: a note when !required, else a failure unless CT_ALLOW_NO_NODE=1. */
void ct_glb_validate(const char *path, int required);
/* ct_glb_save, then ct_glb_validate. */
void ct_glb_save_validate(const char *dir, const char *name, const uint8_t *b, size_t len, int required);
#endif
