/* Test support: reading back what the GLB writer wrote (JSON chunk, buffer views,
 * the property table's string ids, feature ids). */
#ifndef CT_GLB_READ_H
#define CT_GLB_READ_H
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ct_glb_file {
    uint8_t *data;
    size_t len;
    json_t *json;
    const uint8_t *bin;
    size_t bin_len;
} ct_glb_file;

/* Loads and splits a GLB; returns 0 on success. */
int ct_glb_load(const char *path, ct_glb_file *g);
void ct_glb_release(ct_glb_file *g);
/* Bytes of bufferView i, or NULL. */
const uint8_t *ct_glb_view(const ct_glb_file *g, size_t i, size_t *len);
/* Values of STRING property `name` of property table 0: a malloc'd array of malloc'd
 * strings, *n set to the count; NULL when absent. */
char **ct_glb_strings(const ct_glb_file *g, const char *name, size_t *n);
void ct_glb_free_strings(char **s, size_t n);
#endif
