/* BYTE14 v3/v4: a point's extra bytes, each in its own layer, each coded as the change
 * from its last value. See laz_layered.h. */
#include "io/laz_layered.h"

size_t ct_laz_byte14_bytes(uint32_t n) {
    /* per context: n models, n last bytes (rounded up to the models' alignment) */
    size_t last = ((size_t)n + 15) & ~(size_t)15;
    return (size_t)n * sizeof(ct_laz_layer) + 4 * ((size_t)n * sizeof(ct_laz_sym_model) + last);
}

size_t ct_laz_byte14_storage(uint32_t n) { return 4 * (size_t)n * ct_laz_sym_storage(256); }

void ct_laz_byte14_bind(ct_laz_byte14 *b, uint32_t n, void *mem) {
    size_t last = ((size_t)n + 15) & ~(size_t)15;
    uint8_t *p = mem;
    b->n = n;
    b->layer = (ct_laz_layer *)(void *)p;
    p += (size_t)n * sizeof(ct_laz_layer);
    for (int c = 0; c < 4; c++) {
        b->ctx[c].m_bytes = (ct_laz_sym_model *)(void *)p;
        p += (size_t)n * sizeof(ct_laz_sym_model);
        b->ctx[c].last = p;
        p += last;
    }
}

static int start_context(ct_laz_byte14 *b, uint32_t ch, const uint8_t *from) {
    ct_laz_byte14_ctx *x = &b->ctx[ch];
    int bad = 0;
    for (uint32_t i = 0; i < b->n; i++) bad |= ct_laz_model_start(&x->m_bytes[i], 256, b->arena);
    memmove(x->last, from, b->n);
    x->used = 1;
    return bad;
}

int ct_laz_byte14_start(ct_laz_byte14 *b, const uint8_t *first, uint32_t channel) {
    b->current = channel;
    return start_context(b, channel, first);
}

int ct_laz_byte14_read(ct_laz_byte14 *b, uint8_t *out, uint32_t channel) {
    uint32_t from;
    if (ct_laz_channel_switch(&b->current, channel, b->ctx[channel].used, b->v4, &from)) {
        if (start_context(b, channel, b->ctx[from].last) != 0) return -1;
        from = channel;
    }
    ct_laz_sym_model *m = b->ctx[b->current].m_bytes;
    uint8_t *last = b->ctx[from].last;
    for (uint32_t i = 0; i < b->n; i++) {
        if (b->layer[i].changed)
            last[i] = (uint8_t)(last[i] + ct_laz_decode_symbol(&b->layer[i].dec, &m[i]));
        out[i] = last[i];
    }
    return 0;
}
