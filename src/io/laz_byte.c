/* BYTE version 2: the extra bytes of a record, each the previous point's byte plus a
 * symbol from that byte's own model (mod 256). */
#include <stdlib.h>
#include <string.h>

#include "io/laz_internal.h"

struct ct_laz_bytes {
    uint32_t n;
    uint8_t *last;
    ct_laz_sym_model *models;
};

ct_laz_bytes *ct_laz_bytes_create(uint32_t n) {
    ct_laz_bytes *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->last = malloc(n ? n : 1);
    s->models = calloc(n ? n : 1, sizeof *s->models);
    int bad = !s->last || !s->models;
    if (!bad) {
        s->n = n; /* (set first: free walks the models made so far) */
        for (uint32_t i = 0; i < n; i++) bad |= ct_laz_sym_create(&s->models[i], 256);
    }
    if (bad) {
        ct_laz_bytes_free(s);
        return NULL;
    }
    return s;
}

void ct_laz_bytes_free(ct_laz_bytes *s) {
    if (!s) return;
    for (uint32_t i = 0; s->models && i < s->n; i++) ct_laz_sym_free(&s->models[i]);
    free(s->models);
    free(s->last);
    free(s);
}

void ct_laz_bytes_start(ct_laz_bytes *s, const uint8_t *item) {
    if (s->n) ct_laz_sym_init(&s->models[0], NULL);
    for (uint32_t i = 1; i < s->n; i++) ct_laz_sym_copy(&s->models[i], &s->models[0]);
    memcpy(s->last, item, s->n);
}

void ct_laz_bytes_read(ct_laz_bytes *s, ct_laz_dec *d, uint8_t *item) {
    for (uint32_t i = 0; i < s->n; i++) {
        s->last[i] = (uint8_t)(s->last[i] + ct_laz_decode_symbol(d, &s->models[i]));
        item[i] = s->last[i];
    }
}
