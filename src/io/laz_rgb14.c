/* RGB14 and RGBNIR14 v3/v4: colour (6 bytes) in one layer, near infrared (2 more bytes)
 * in a second. See laz_layered.h. */
#include "io/laz_layered.h"

static inline uint32_t clamp8(int32_t v) { return v < 0 ? 0u : v > 255 ? 255u : (uint32_t)v; }

size_t ct_laz_rgb14_storage(int nir) {
    size_t s = ct_laz_sym_storage(128) + 6 * ct_laz_sym_storage(256);
    if (nir) s += ct_laz_sym_storage(4) + 2 * ct_laz_sym_storage(256);
    return 4 * s;
}

static int start_context(ct_laz_rgb14 *c, uint32_t ch, const uint16_t *from) {
    ct_laz_rgb14_ctx *x = &c->ctx[ch];
    int bad = ct_laz_model_start(&x->m_rgb_used, 128, c->arena);
    for (int k = 0; k < 6; k++) bad |= ct_laz_model_start(&x->m_rgb[k], 256, c->arena);
    if (c->nir) {
        bad |= ct_laz_model_start(&x->m_nir_used, 4, c->arena);
        bad |= ct_laz_model_start(&x->m_nir[0], 256, c->arena);
        bad |= ct_laz_model_start(&x->m_nir[1], 256, c->arena);
    }
    memcpy(x->last, from, sizeof x->last);
    x->used = 1;
    return bad;
}

int ct_laz_rgb14_start(ct_laz_rgb14 *c, const uint8_t *first, uint32_t channel) {
    uint16_t v[4] = {0, 0, 0, 0};
    for (int k = 0; k < (c->nir ? 4 : 3); k++) v[k] = ct_laz_le16(first + 2 * k);
    c->current = channel;
    return start_context(c, channel, v);
}

/* One byte of a colour: the last byte plus the decoded correction, mod 256. */
static inline uint32_t byte_of(ct_laz_dec *d, ct_laz_sym_model *m, uint32_t pred) {
    return (ct_laz_decode_symbol(d, m) + pred) & 0xFF;
}

/* Red predicts green and blue: each byte of those is coded against the last value moved
 * by red's change (blue by the mean of red's and green's). */
static void decode_rgb(ct_laz_dec *d, ct_laz_rgb14_ctx *x, const uint16_t *last, uint16_t *v) {
    uint32_t sym = ct_laz_decode_symbol(d, &x->m_rgb_used);
    uint32_t lo, hi;
    lo = sym & 1 ? byte_of(d, &x->m_rgb[0], last[0] & 0xFF) : last[0] & 0xFFu;
    hi = sym & 2 ? byte_of(d, &x->m_rgb[1], last[0] >> 8) : last[0] >> 8;
    v[0] = (uint16_t)(lo | hi << 8);
    if (!(sym & (1u << 6))) { /* grey: all three the same */
        v[1] = v[2] = v[0];
        return;
    }
    int32_t diff = (int32_t)(v[0] & 0xFF) - (int32_t)(last[0] & 0xFF);
    uint32_t g = sym & 4 ? byte_of(d, &x->m_rgb[2], clamp8(diff + (int32_t)(last[1] & 0xFF))) : last[1] & 0xFFu;
    uint32_t b = last[2] & 0xFFu;
    if (sym & 16) {
        int32_t mean = (diff + ((int32_t)g - (int32_t)(last[1] & 0xFF))) / 2;
        b = byte_of(d, &x->m_rgb[4], clamp8(mean + (int32_t)(last[2] & 0xFF)));
    }
    diff = (int32_t)(v[0] >> 8) - (int32_t)(last[0] >> 8);
    uint32_t gh = sym & 8 ? byte_of(d, &x->m_rgb[3], clamp8(diff + (int32_t)(last[1] >> 8))) : last[1] >> 8u;
    uint32_t bh = last[2] >> 8u;
    if (sym & 32) {
        int32_t mean = (diff + ((int32_t)gh - (int32_t)(last[1] >> 8))) / 2;
        bh = byte_of(d, &x->m_rgb[5], clamp8(mean + (int32_t)(last[2] >> 8)));
    }
    v[1] = (uint16_t)(g | gh << 8);
    v[2] = (uint16_t)(b | bh << 8);
}

static uint16_t decode_nir(ct_laz_dec *d, ct_laz_rgb14_ctx *x, uint16_t last) {
    uint32_t sym = ct_laz_decode_symbol(d, &x->m_nir_used);
    uint32_t lo = sym & 1 ? byte_of(d, &x->m_nir[0], last & 0xFFu) : last & 0xFFu;
    uint32_t hi = sym & 2 ? byte_of(d, &x->m_nir[1], last >> 8u) : last >> 8u;
    return (uint16_t)(lo | hi << 8);
}

int ct_laz_rgb14_read(ct_laz_rgb14 *c, uint8_t *out, uint32_t channel) {
    uint32_t from;
    if (ct_laz_channel_switch(&c->current, channel, c->ctx[channel].used, c->v4, &from)) {
        if (start_context(c, channel, c->ctx[from].last) != 0) return -1;
        from = channel;
    }
    ct_laz_rgb14_ctx *x = &c->ctx[c->current];
    uint16_t *last = c->ctx[from].last;
    if (c->layer[0].changed) {
        uint16_t v[3];
        decode_rgb(&c->layer[0].dec, x, last, v);
        memcpy(last, v, sizeof v);
    }
    if (c->nir && c->layer[1].changed) last[3] = decode_nir(&c->layer[1].dec, x, last[3]);
    for (int k = 0; k < (c->nir ? 4 : 3); k++) ct_laz_put16(out + 2 * k, last[k]);
    return 0;
}
