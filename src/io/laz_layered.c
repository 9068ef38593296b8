/* ct_laz_decode_layered: one chunk of a layered LAZ file (point formats 6-10) back into
 * its LAS records. The chunk is the first record raw, the point count (u32), every
 * item's layer sizes (u32 each, in item order), then the layers' bytes in the same order.
 * The item decoders are laz_point14.c, laz_rgb14.c, laz_byte14.c, laz_wavepacket14.c. */
#include <stdlib.h>

#include "io/laz.h"
#include "io/laz_layered.h"

uint32_t *ct_laz_arena_take(ct_laz_arena *a, size_t n) {
    if (n == 0 || n > (size_t)(a->end - a->next)) {
        a->exhausted = 1;
        return NULL;
    }
    uint32_t *p = a->next;
    a->next += n;
    return p;
}

static const uint32_t fresh_symbols[CT_LAZ_FRESH_SIZES] = {16, 64, 128, 256};

size_t ct_laz_fresh_storage(void) {
    size_t n = 0;
    for (int i = 0; i < CT_LAZ_FRESH_SIZES; i++) n += ct_laz_sym_storage(fresh_symbols[i]);
    return n;
}

void ct_laz_arena_fresh(ct_laz_arena *a) {
    for (int i = 0; i < CT_LAZ_FRESH_SIZES; i++) {
        uint32_t *s = ct_laz_arena_take(a, ct_laz_sym_storage(fresh_symbols[i]));
        if (s) ct_laz_sym_bind(&a->fresh[i], fresh_symbols[i], s);
    }
}

void ct_laz_model_reset(ct_laz_sym_model *m, const ct_laz_arena *a) {
    for (int i = 0; i < CT_LAZ_FRESH_SIZES; i++) {
        if (a->fresh[i].symbols == m->symbols) {
            ct_laz_sym_copy(m, &a->fresh[i]);
            return;
        }
    }
    ct_laz_sym_init(m, NULL);
}

int ct_laz_model_start(ct_laz_sym_model *m, uint32_t symbols, ct_laz_arena *a) {
    if (m->symbols != 0) {
        ct_laz_model_reset(m, a);
        return 0;
    }
    return ct_laz_lazy_model(m, symbols, a) ? 0 : -1;
}

int ct_laz_ic_start(ct_laz_ic *ic, uint32_t bits, uint32_t contexts, ct_laz_arena *a) {
    if (ic->block) {
        ct_laz_ic_init(ic);
        return 0;
    }
    if (ct_laz_ic_create(ic, bits, contexts, 8, 0) == 0) return 0;
    a->nomem = 1;
    return -1;
}

typedef struct state {
    ct_laz_p14 p14;
    ct_laz_rgb14 rgb;
    ct_laz_wave14 wave;
    ct_laz_byte14 bytes;
    ct_laz_arena arena;
    int has_rgb, has_wave, has_bytes;
    uint16_t off_rgb, off_wave, off_bytes; /* the items' offsets in the record */
} state;

/* The items this decoder knows, checked against the record: POINT14 first, then at most
 * one of each other item. */
static ct_status check_items(ct_context *ctx, const char *path, size_t index, const ct_laz_info *info, state *s,
                             uint32_t *nbytes) {
    const ct_laz_item *it = info->items;
    if (info->nitems < 1 || it[0].type != CT_LAZ_ITEM_POINT14 || it[0].size != 30)
        return ct_error(ctx, CT_ERR_UNSUPPORTED, "%s: chunk %zu: layered LAZ without a POINT14 item first", path,
                        index);
    uint32_t off = 0;
    for (uint16_t i = 0; i < info->nitems; i++) {
        const ct_laz_item *t = &it[i];
        int dup = 0;
        if (t->version != 3 && t->version != 4)
            return ct_error(ctx, CT_ERR_UNSUPPORTED, "%s: chunk %zu: LAZ item %u version %u (layered: 3 or 4)", path,
                            index, t->type, t->version);
        switch (t->type) {
        case CT_LAZ_ITEM_POINT14: dup = i != 0; break;
        case CT_LAZ_ITEM_RGB14:
        case CT_LAZ_ITEM_RGBNIR14:
            dup = s->has_rgb || t->size != (t->type == CT_LAZ_ITEM_RGB14 ? 6 : 8);
            s->has_rgb = 1;
            s->rgb.nir = t->type == CT_LAZ_ITEM_RGBNIR14;
            s->rgb.v4 = t->version == 4;
            s->off_rgb = (uint16_t)off;
            break;
        case CT_LAZ_ITEM_WAVEPACKET14:
            dup = s->has_wave || t->size != 29;
            s->has_wave = 1;
            s->off_wave = (uint16_t)off;
            s->wave.v4 = t->version == 4;
            break;
        case CT_LAZ_ITEM_BYTE14:
            dup = s->has_bytes || t->size == 0;
            s->has_bytes = 1;
            s->off_bytes = (uint16_t)off;
            s->bytes.v4 = t->version == 4;
            *nbytes = t->size;
            break;
        default:
            return ct_error(ctx, CT_ERR_UNSUPPORTED, "%s: chunk %zu: LAZ item type %u in a layered chunk", path,
                            index, t->type);
        }
        if (dup)
            return ct_error(ctx, CT_ERR_UNSUPPORTED, "%s: chunk %zu: LAZ items of an unexpected size or repeated",
                            path, index);
        off += t->size;
    }
    if (off != info->record_length)
        return ct_error(ctx, CT_ERR_INPUT, "%s: chunk %zu: LAZ items make %u-byte records, the header says %u",
                        path, index, off, info->record_length);
    return CT_OK;
}

/* Item i's layers in s and their number (BYTE14: one per byte, as info gives it). */
static ct_laz_layer *item_layers(const ct_laz_info *info, uint16_t i, state *s, size_t *count) {
    switch (info->items[i].type) {
    case CT_LAZ_ITEM_POINT14: *count = CT_LAZ_P14_LAYERS; return s->p14.layer;
    case CT_LAZ_ITEM_RGB14: *count = 1; return s->rgb.layer;
    case CT_LAZ_ITEM_RGBNIR14: *count = 2; return s->rgb.layer;
    case CT_LAZ_ITEM_WAVEPACKET14: *count = 1; return s->wave.layer;
    default: *count = info->items[i].size; return s->bytes.layer;
    }
}

/* Points every layer at its bytes: `sizes` (4 bytes per layer) then the layers. */
static ct_status bind_layers(ct_context *ctx, const char *path, size_t index, const ct_laz_info *info, state *s,
                             const uint8_t *p, size_t avail) {
    size_t nlayers = 0;
    for (uint16_t i = 0; i < info->nitems; i++) {
        size_t count;
        item_layers(info, i, s, &count);
        nlayers += count;
    }
    if (avail / 4 < nlayers)
        return ct_error(ctx, CT_ERR_INPUT, "%s: chunk %zu: cut short in its layer sizes (%zu bytes for %zu layers)",
                        path, index, avail, nlayers);
    const uint8_t *sizes = p, *data = p + 4 * nlayers;
    size_t left = avail - 4 * nlayers, at = 0;
    for (uint16_t i = 0; i < info->nitems; i++) {
        size_t count;
        ct_laz_layer *layers = item_layers(info, i, s, &count);
        for (size_t k = 0; k < count; k++, at++) {
            uint32_t len = ct_laz_le32(sizes + 4 * at);
            if (len > left)
                return ct_error(ctx, CT_ERR_INPUT,
                                "%s: chunk %zu: layer %zu says %u bytes, the chunk has %zu left", path, index, at,
                                len, left);
            layers[k].changed = len != 0;
            if (len) ct_laz_dec_init(&layers[k].dec, data, len);
            data += len;
            left -= len;
        }
    }
    return CT_OK;
}

/* The first layer (numbered over all items) that its decoder ran past, or when `whole`
 * (every point decoded) left more than CT_LAZ_TAIL_SLACK bytes of; -1 when none. */
static long overrun_layer(const ct_laz_info *info, const state *s, int whole) {
    long at = 0;
    for (uint16_t i = 0; i < info->nitems; i++) {
        size_t count;
        const ct_laz_layer *layers = item_layers(info, i, (state *)s, &count);
        for (size_t k = 0; k < count; k++, at++)
            if (layers[k].changed &&
                (layers[k].dec.overrun || (whole && (size_t)(layers[k].dec.end - layers[k].dec.p) > CT_LAZ_TAIL_SLACK)))
                return at;
    }
    return -1;
}

static ct_status decode(ct_context *ctx, const char *path, const ct_laz_info *info, size_t index, state *s,
                        const uint8_t *bytes, size_t len, uint32_t chunk_points, uint32_t npoints, uint8_t *records) {
    const size_t rl = info->record_length;
    const uint8_t *first = bytes;
    memcpy(records, first, rl);
    if (chunk_points == 1 && len == rl) return CT_OK; /* nothing after the raw point */
    if (len - rl < 4)
        return ct_error(ctx, CT_ERR_INPUT, "%s: chunk %zu: cut short before its point count", path, index);
    uint32_t count = ct_laz_le32(bytes + rl);
    if (count != chunk_points)
        return ct_error(ctx, CT_ERR_INPUT, "%s: chunk %zu: holds %u points, the chunk table says %u", path, index,
                        count, chunk_points);
    ct_status st = bind_layers(ctx, path, index, info, s, bytes + rl + 4, len - rl - 4);
    if (st != CT_OK) return st;

    int ch = ct_laz_p14_start(&s->p14, first);
    int bad = ch < 0;
    if (!bad && s->has_rgb) bad |= ct_laz_rgb14_start(&s->rgb, first + s->off_rgb, (uint32_t)ch);
    if (!bad && s->has_wave) bad |= ct_laz_wave14_start(&s->wave, first + s->off_wave, (uint32_t)ch);
    if (!bad && s->has_bytes) bad |= ct_laz_byte14_start(&s->bytes, first + s->off_bytes, (uint32_t)ch);

    uint8_t *out = records + rl;
    for (uint32_t i = 1; i < npoints && !bad; i++, out += rl) {
        uint32_t c = ct_laz_p14_read(&s->p14, out);
        if (s->has_rgb) bad |= ct_laz_rgb14_read(&s->rgb, out + s->off_rgb, c);
        if (s->has_wave) bad |= ct_laz_wave14_read(&s->wave, out + s->off_wave, c);
        if (s->has_bytes) bad |= ct_laz_byte14_read(&s->bytes, out + s->off_bytes, c);
    }
    if (s->arena.nomem) return ct_error_nomem(ctx, "LAZ integer decompressor");
    if (bad || s->arena.exhausted)
        return ct_error(ctx, CT_ERR_INTERNAL, "%s: chunk %zu: LAZ decoder models beyond their storage", path, index);
    if (s->p14.corrupt)
        return ct_error(ctx, CT_ERR_INPUT, "%s: chunk %zu: corrupt GPS time stream", path, index);
    long at = overrun_layer(info, s, npoints == chunk_points);
    if (at >= 0)
        return ct_error(ctx, CT_ERR_INPUT, "%s: chunk %zu: layer %ld does not end where its points do (corrupt LAZ "
                        "data)", path, index, at);
    return CT_OK;
}

ct_status ct_laz_decode_layered(ct_context *ctx, const char *path, const ct_laz_info *info, size_t index,
                                const uint8_t *bytes, size_t len, uint32_t chunk_points, uint32_t npoints,
                                uint8_t *records) {
    if (npoints == 0) return CT_OK;
    if (len < info->record_length)
        return ct_error(ctx, CT_ERR_INPUT, "%s: chunk %zu: %zu bytes, less than its first point", path, index, len);
    if (npoints == 1) { /* the first record is stored whole */
        memcpy(records, bytes, info->record_length);
        return CT_OK;
    }

    state probe;
    memset(&probe, 0, sizeof probe);
    uint32_t nbytes = 0;
    ct_status st = check_items(ctx, path, index, info, &probe, &nbytes);
    if (st != CT_OK) return st;

    /* one block: the state, BYTE14's arrays, then the models' arena */
    size_t head = (sizeof(state) + 15) & ~(size_t)15;
    size_t extra = nbytes ? (ct_laz_byte14_bytes(nbytes) + 15) & ~(size_t)15 : 0;
    size_t words = ct_laz_fresh_storage() + ct_laz_p14_storage();
    if (probe.has_rgb) words += ct_laz_rgb14_storage(probe.rgb.nir);
    if (probe.has_wave) words += ct_laz_wave14_storage();
    if (nbytes) words += ct_laz_byte14_storage(nbytes);
    /* the arena needs no zeroing: a model lays out and fills its storage when bound */
    uint8_t *block = malloc(head + extra + words * sizeof(uint32_t));
    if (!block) return ct_error_nomem(ctx, "LAZ chunk decoder");
    memset(block, 0, head + extra);
    state *s = (state *)(void *)block;
    *s = probe;
    if (nbytes) ct_laz_byte14_bind(&s->bytes, nbytes, block + head);
    s->arena.next = (uint32_t *)(void *)(block + head + extra);
    s->arena.end = s->arena.next + words;
    s->p14.arena = s->rgb.arena = s->wave.arena = s->bytes.arena = &s->arena;
    ct_laz_arena_fresh(&s->arena);

    st = decode(ctx, path, info, index, s, bytes, len, chunk_points, npoints, records);
    ct_laz_p14_free(&s->p14);
    ct_laz_wave14_free(&s->wave);
    free(block);
    return st;
}
