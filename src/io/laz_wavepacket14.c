/* WAVEPACKET14 v3/v4: the 29 bytes of formats 9 and 10 that point into the waveform data
 * (descriptor index, offset, size, return point location, x/y/z(t)), in one layer. See
 * laz_layered.h. */
#include "io/laz_layered.h"

size_t ct_laz_wave14_storage(void) { return 4 * (ct_laz_sym_storage(256) + 4 * ct_laz_sym_storage(4)); }

void ct_laz_wave14_free(ct_laz_wave14 *w) {
    for (int c = 0; c < 4; c++) {
        ct_laz_wave14_ctx *x = &w->ctx[c];
        ct_laz_ic_free(&x->ic_offset_diff);
        ct_laz_ic_free(&x->ic_packet_size);
        ct_laz_ic_free(&x->ic_return_point);
        ct_laz_ic_free(&x->ic_xyz);
    }
}

static int start_context(ct_laz_wave14 *w, uint32_t ch, const uint8_t *from) {
    ct_laz_wave14_ctx *x = &w->ctx[ch];
    ct_laz_arena *a = w->arena;
    int bad = ct_laz_model_start(&x->m_index, 256, a);
    for (int k = 0; k < 4; k++) bad |= ct_laz_model_start(&x->m_offset_diff[k], 4, a);
    bad |= ct_laz_ic_start(&x->ic_offset_diff, 32, 1, a);
    bad |= ct_laz_ic_start(&x->ic_packet_size, 32, 1, a);
    bad |= ct_laz_ic_start(&x->ic_return_point, 32, 1, a);
    bad |= ct_laz_ic_start(&x->ic_xyz, 32, 3, a);
    x->last_diff_32 = 0;
    x->sym_last_offset_diff = 0;
    memmove(x->last, from, sizeof x->last);
    x->used = 1;
    return bad;
}

int ct_laz_wave14_start(ct_laz_wave14 *w, const uint8_t *first, uint32_t channel) {
    memcpy(w->first, first, sizeof w->first);
    w->current = channel;
    return start_context(w, channel, first);
}

int ct_laz_wave14_read(ct_laz_wave14 *w, uint8_t *out, uint32_t channel) {
    uint32_t from;
    if (ct_laz_channel_switch(&w->current, channel, w->ctx[channel].used, w->v4, &from)) {
        if (start_context(w, channel, w->ctx[from].last) != 0) return -1;
        from = channel;
    }
    if (!w->layer[0].changed) { /* LASzip leaves the record as it was: the first point's */
        memcpy(out, w->first, sizeof w->first);
        return 0;
    }
    ct_laz_wave14_ctx *x = &w->ctx[w->current];
    uint8_t *last = w->ctx[from].last;
    ct_laz_dec *d = &w->layer[0].dec;

    out[0] = (uint8_t)ct_laz_decode_symbol(d, &x->m_index);
    uint64_t last_offset = ct_laz_le64(last + 1);
    uint32_t last_size = ct_laz_le32(last + 9);
    uint64_t offset;
    x->sym_last_offset_diff = ct_laz_decode_symbol(d, &x->m_offset_diff[x->sym_last_offset_diff]);
    switch (x->sym_last_offset_diff) {
    case 0: offset = last_offset; break;
    case 1: offset = last_offset + last_size; break; /* the packet right after the last */
    case 2:
        x->last_diff_32 = ct_laz_ic_decompress(&x->ic_offset_diff, d, x->last_diff_32, 0);
        offset = last_offset + (uint64_t)(int64_t)x->last_diff_32;
        break;
    default: offset = ct_laz_read_int64(d);
    }
    ct_laz_put64(out + 1, offset);
    ct_laz_put32(out + 9, (uint32_t)ct_laz_ic_decompress(&x->ic_packet_size, d, (int32_t)last_size, 0));
    ct_laz_put32(out + 13,
                 (uint32_t)ct_laz_ic_decompress(&x->ic_return_point, d, (int32_t)ct_laz_le32(last + 13), 0));
    for (int k = 0; k < 3; k++)
        ct_laz_put32(out + 17 + 4 * k, (uint32_t)ct_laz_ic_decompress(&x->ic_xyz, d,
                                                                      (int32_t)ct_laz_le32(last + 17 + 4 * k),
                                                                      (uint32_t)k));
    memcpy(last, out, 29);
    return 0;
}
