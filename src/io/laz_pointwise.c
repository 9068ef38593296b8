/* Decoding one chunk of a LAZ file: pointwise chunks here, layered ones in
 * ct_laz_decode_layered.
 *
 * A pointwise chunk stores its first record raw; every item decoder starts from it, and one
 * arithmetic stream (right after it, to the chunk's end) codes the rest of the records
 * item after item. Each chunk starts afresh, so chunks decode independently. */
#include <stdlib.h>
#include <string.h>

#include "io/laz_internal.h"

typedef struct item_dec {
    uint16_t type;
    size_t offset; /* in the record */
    void *state;
} item_dec;

static void free_items(item_dec *it, unsigned n) {
    for (unsigned i = 0; i < n; i++) {
        switch (it[i].type) {
        case CT_LAZ_ITEM_POINT10: ct_laz_point10_free(it[i].state); break;
        case CT_LAZ_ITEM_GPSTIME11: ct_laz_gpstime11_free(it[i].state); break;
        case CT_LAZ_ITEM_RGB12: ct_laz_rgb12_free(it[i].state); break;
        case CT_LAZ_ITEM_BYTE: ct_laz_bytes_free(it[i].state); break;
        default: break;
        }
    }
}

/* The item decoders for info's items, each started from its part of `first`. */
static ct_status make_items(ct_context *ctx, const char *path, const ct_laz_info *info, const uint8_t *first,
                            item_dec *it) {
    size_t off = 0;
    for (unsigned i = 0; i < info->nitems; i++) {
        const ct_laz_item *item = &info->items[i];
        char b[24];
        void *state = NULL;
        uint16_t want = 0;
        switch (item->type) {
        case CT_LAZ_ITEM_POINT10: want = 20; break;
        case CT_LAZ_ITEM_GPSTIME11: want = 8; break;
        case CT_LAZ_ITEM_RGB12: want = 6; break;
        case CT_LAZ_ITEM_BYTE: want = item->size; break;
        default: break;
        }
        if (!want || item->size != want || item->version != 2 || off + item->size > info->record_length) {
            free_items(it, i);
            return ct_error(ctx, CT_ERR_UNSUPPORTED, "%s: LAZ: %s item version %u of %u bytes is not decoded in "
                            "pointwise chunks", path, ct_laz_item_name(item->type, b), (unsigned)item->version,
                            (unsigned)item->size);
        }
        switch (item->type) {
        case CT_LAZ_ITEM_POINT10:
            if ((state = ct_laz_point10_create())) ct_laz_point10_start(state, first + off);
            break;
        case CT_LAZ_ITEM_GPSTIME11:
            if ((state = ct_laz_gpstime11_create())) ct_laz_gpstime11_start(state, first + off);
            break;
        case CT_LAZ_ITEM_RGB12:
            if ((state = ct_laz_rgb12_create())) ct_laz_rgb12_start(state, first + off);
            break;
        default:
            if ((state = ct_laz_bytes_create(item->size))) ct_laz_bytes_start(state, first + off);
            break;
        }
        if (!state) {
            free_items(it, i);
            return ct_error_nomem(ctx, "LAZ decoder models");
        }
        it[i] = (item_dec){item->type, off, state};
        off += item->size;
    }
    return CT_OK;
}

/* Item i of one record; -1 when a model could not be allocated, -2 on a corrupt value. */
static int decode_item(const item_dec *it, ct_laz_dec *d, uint8_t *rec) {
    uint8_t *dst = rec + it->offset;
    switch (it->type) {
    case CT_LAZ_ITEM_POINT10: return ct_laz_point10_read(it->state, d, dst) != 0 ? -1 : 0;
    case CT_LAZ_ITEM_GPSTIME11: return ct_laz_gpstime11_read(it->state, d, dst) != 0 ? -2 : 0;
    case CT_LAZ_ITEM_RGB12: ct_laz_rgb12_read(it->state, d, dst); return 0;
    default: ct_laz_bytes_read(it->state, d, dst); return 0;
    }
}

/* Records 1..npoints-1; -1 when a model could not be allocated, -2 on a corrupt value.
 * Formats 1 and 3 begin POINT10 then GPSTIME11 at offset 20, decoded without the item
 * switch (it cost some 40 instructions a point); the other items follow through it. */
static int decode_points(item_dec *it, unsigned nitems, ct_laz_dec *d, uint8_t *records, size_t rl,
                         uint32_t npoints) {
    unsigned fixed = 0;
    if (nitems >= 2 && it[0].type == CT_LAZ_ITEM_POINT10 && it[0].offset == 0 && it[1].type == CT_LAZ_ITEM_GPSTIME11 &&
        it[1].offset == 20)
        fixed = 2;
    ct_laz_point10 *p10 = fixed ? it[0].state : NULL;
    ct_laz_gpstime11 *gps = fixed ? it[1].state : NULL;
    for (uint32_t p = 1; p < npoints; p++) {
        uint8_t *rec = records + (size_t)p * rl;
        if (fixed) {
            if (ct_laz_point10_read(p10, d, rec) != 0) return -1;
            if (ct_laz_gpstime11_read(gps, d, rec + 20) != 0) return -2;
        }
        for (unsigned i = fixed; i < nitems; i++) {
            int rc = decode_item(&it[i], d, rec);
            if (rc != 0) return rc;
        }
        if (d->overrun) return -2; /* (cut short: no use decoding zeros) */
    }
    return 0;
}

static ct_status decode_pointwise(ct_context *ctx, const char *path, const ct_laz_info *info, size_t index,
                                  const uint8_t *bytes, size_t len, uint32_t chunk_points, uint32_t npoints,
                                  uint8_t *records) {
    size_t rl = info->record_length;
    if (npoints == 0) return CT_OK;
    if (info->nitems == 0 || info->nitems > CT_LAZ_MAX_ITEMS || rl == 0)
        return ct_error(ctx, CT_ERR_INPUT, "%s: LAZ: no items to decode chunk %zu with", path, index);
    if (len < rl)
        return ct_error(ctx, CT_ERR_INPUT, "%s: LAZ: chunk %zu has %zu bytes, fewer than its first record's %zu",
                        path, index, len, rl);
    memcpy(records, bytes, rl);
    if (npoints == 1) return CT_OK;
    item_dec it[CT_LAZ_MAX_ITEMS];
    ct_status st = make_items(ctx, path, info, bytes, it);
    if (st != CT_OK) return st;
    ct_laz_dec d;
    ct_laz_dec_init(&d, bytes + rl, len - rl);
    int rc = decode_points(it, info->nitems, &d, records, rl, npoints);
    free_items(it, info->nitems);
    if (rc == -1) return ct_error_nomem(ctx, "LAZ decoder models");
    if (rc != 0 || d.overrun)
        return ct_error(ctx, CT_ERR_INPUT, "%s: LAZ: chunk %zu (%u points in %zu bytes) is corrupt or cut short", path,
                        index, (unsigned)npoints, len);
    if (npoints == chunk_points && (size_t)(d.end - d.p) > CT_LAZ_TAIL_SLACK)
        return ct_error(ctx, CT_ERR_INPUT, "%s: LAZ: chunk %zu is corrupt: its %u points were decoded from %zu of "
                        "its %zu bytes", path, index, (unsigned)npoints, len - (size_t)(d.end - d.p), len);
    return CT_OK;
}

ct_status ct_laz_decode_chunk_head(ct_context *ctx, const char *path, const ct_laz_info *info, size_t index,
                                   const uint8_t *bytes, size_t len, uint32_t chunk_points, uint32_t npoints,
                                   uint8_t *records) {
    if (npoints > chunk_points)
        return ct_error(ctx, CT_ERR_USAGE, "%s: LAZ: %u records asked of chunk %zu, which holds %u", path,
                        (unsigned)npoints, index, (unsigned)chunk_points);
    if (info->compressor == CT_LAZ_LAYERED_CHUNKED)
        return ct_laz_decode_layered(ctx, path, info, index, bytes, len, chunk_points, npoints, records);
    return decode_pointwise(ctx, path, info, index, bytes, len, chunk_points, npoints, records);
}

ct_status ct_laz_decode_chunk(ct_context *ctx, const char *path, const ct_laz_info *info, size_t index,
                              const uint8_t *bytes, size_t len, uint32_t npoints, uint8_t *records) {
    return ct_laz_decode_chunk_head(ctx, path, info, index, bytes, len, npoints, npoints, records);
}
