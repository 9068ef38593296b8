/* The 'laszip encoded' VLR: compressor, coder, LASzip version, chunk size and the items of a
 * record, checked against the header's point format and record length. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "io/laz_internal.h"

#define VLR_FIXED 34 /* bytes before the item list */

const char *ct_laz_item_name(uint16_t type, char buf[24]) {
    static const char *const names[] = {"BYTE",     "SHORT",     "INT",   "LONG",         "FLOAT",
                                        "DOUBLE",   "POINT10",   "GPSTIME11", "RGB12", "WAVEPACKET13",
                                        "POINT14",  "RGB14",     "RGBNIR14",  "WAVEPACKET14", "BYTE14"};
    if (type < sizeof names / sizeof names[0]) return names[type];
    snprintf(buf, 24, "item type %u", (unsigned)type);
    return buf;
}

/* The items each point format must have (before the optional extra-bytes item), 0-ended. */
static const uint16_t format_items[11][4] = {
    {CT_LAZ_ITEM_POINT10},
    {CT_LAZ_ITEM_POINT10, CT_LAZ_ITEM_GPSTIME11},
    {CT_LAZ_ITEM_POINT10, CT_LAZ_ITEM_RGB12},
    {CT_LAZ_ITEM_POINT10, CT_LAZ_ITEM_GPSTIME11, CT_LAZ_ITEM_RGB12},
    {CT_LAZ_ITEM_POINT10, CT_LAZ_ITEM_GPSTIME11, CT_LAZ_ITEM_WAVEPACKET13},
    {CT_LAZ_ITEM_POINT10, CT_LAZ_ITEM_GPSTIME11, CT_LAZ_ITEM_RGB12, CT_LAZ_ITEM_WAVEPACKET13},
    {CT_LAZ_ITEM_POINT14},
    {CT_LAZ_ITEM_POINT14, CT_LAZ_ITEM_RGB14},
    {CT_LAZ_ITEM_POINT14, CT_LAZ_ITEM_RGBNIR14},
    {CT_LAZ_ITEM_POINT14, CT_LAZ_ITEM_WAVEPACKET14},
    {CT_LAZ_ITEM_POINT14, CT_LAZ_ITEM_RGBNIR14, CT_LAZ_ITEM_WAVEPACKET14},
};

/* Bytes of a fixed-size item type, 0 for the extra-bytes items (any size). */
static uint16_t item_size(uint16_t type) {
    switch (type) {
    case CT_LAZ_ITEM_POINT10: return 20;
    case CT_LAZ_ITEM_GPSTIME11: return 8;
    case CT_LAZ_ITEM_RGB12: return 6;
    case CT_LAZ_ITEM_WAVEPACKET13: return 29;
    case CT_LAZ_ITEM_POINT14: return 30;
    case CT_LAZ_ITEM_RGB14: return 6;
    case CT_LAZ_ITEM_RGBNIR14: return 8;
    case CT_LAZ_ITEM_WAVEPACKET14: return 29;
    default: return 0;
    }
}

/* Whether this reader decodes the item at this version: v2 of the pointwise items, v3 of
 * the layered ones (laz_layered.c). */
static int item_decoded(uint16_t type, uint16_t version) {
    switch (type) {
    case CT_LAZ_ITEM_POINT10:
    case CT_LAZ_ITEM_GPSTIME11:
    case CT_LAZ_ITEM_RGB12:
    case CT_LAZ_ITEM_BYTE: return version == 2;
    case CT_LAZ_ITEM_POINT14:
    case CT_LAZ_ITEM_RGB14:
    case CT_LAZ_ITEM_RGBNIR14:
    case CT_LAZ_ITEM_WAVEPACKET14:
    case CT_LAZ_ITEM_BYTE14: return version == 3;
    default: return 0;
    }
}

/* The items against the point format: its items in order, each of its size, then at most
 * one extra-bytes item of the matching family. */
static ct_status check_items(ct_context *ctx, const char *path, const ct_laz_info *info) {
    const uint16_t *want = format_items[info->point_format];
    uint16_t extra = info->point_format <= 5 ? CT_LAZ_ITEM_BYTE : CT_LAZ_ITEM_BYTE14;
    char b1[24], b2[24];
    unsigned i = 0;
    for (; i < 4 && want[i]; i++) {
        if (i >= info->nitems)
            return ct_error(ctx, CT_ERR_INPUT, "%s: LAZ: point format %u needs a %s item, the VLR lists %u items",
                            path, (unsigned)info->point_format, ct_laz_item_name(want[i], b1),
                            (unsigned)info->nitems);
        const ct_laz_item *it = &info->items[i];
        if (it->type != want[i])
            return ct_error(ctx, CT_ERR_INPUT, "%s: LAZ: item %u is %s where point format %u has %s", path, i,
                            ct_laz_item_name(it->type, b1), (unsigned)info->point_format,
                            ct_laz_item_name(want[i], b2));
        if (it->size != item_size(it->type))
            return ct_error(ctx, CT_ERR_INPUT, "%s: LAZ: item %u (%s) has %u bytes, not %u", path, i,
                            ct_laz_item_name(it->type, b1), (unsigned)it->size, (unsigned)item_size(it->type));
    }
    if (i < info->nitems) {
        const ct_laz_item *it = &info->items[i];
        if (it->type != extra || it->size == 0)
            return ct_error(ctx, CT_ERR_INPUT, "%s: LAZ: item %u is %s (%u bytes) where point format %u allows only "
                            "its extra bytes (%s)", path, i, ct_laz_item_name(it->type, b1), (unsigned)it->size,
                            (unsigned)info->point_format, ct_laz_item_name(extra, b2));
        i++;
    }
    if (i < info->nitems)
        return ct_error(ctx, CT_ERR_INPUT, "%s: LAZ: %u items for point format %u, at most %u expected", path,
                        (unsigned)info->nitems, (unsigned)info->point_format, i);
    return CT_OK;
}

ct_status ct_laz_parse_vlr(ct_context *ctx, const char *path, const uint8_t *payload, size_t len,
                           uint8_t point_format, uint16_t record_length, ct_laz_info *out) {
    memset(out, 0, sizeof *out);
    if (len < VLR_FIXED)
        return ct_error(ctx, CT_ERR_INPUT, "%s: LAZ: the 'laszip encoded' VLR has %zu bytes, at least %d expected",
                        path, len, VLR_FIXED);
    out->compressor = ct_laz_le16(payload);
    uint16_t coder = ct_laz_le16(payload + 2);
    out->version_major = payload[4];
    out->version_minor = payload[5];
    out->version_revision = ct_laz_le16(payload + 6);
    out->options = ct_laz_le32(payload + 8);
    out->chunk_size = ct_laz_le32(payload + 12);
    /* (the number and offset of 'special' EVLRs at 16 and 24 are unused: always -1) */
    out->nitems = ct_laz_le16(payload + 32);
    out->point_format = (uint8_t)(point_format & 0x3F); /* bits 6 and 7 flag compression */
    out->record_length = record_length;
    if (out->chunk_size == 0) out->chunk_size = UINT32_MAX; /* LASzip reads 0 as variable */

    /* Compressor 1 (one stream for the whole file, LASzip before 2.0) would be decoded
     * from the file's start for every piece read: not read, rather than read in
     * quadratic time. */
    if (out->compressor == CT_LAZ_POINTWISE)
        return ct_error(ctx, CT_ERR_UNSUPPORTED, "%s: LAZ: compressor 1 (not chunked, as LASzip before 2.0 wrote) is "
                        "not read: recompress the file with a current laszip (chunked)", path);
    if (out->compressor < CT_LAZ_POINTWISE || out->compressor > CT_LAZ_LAYERED_CHUNKED)
        return ct_error(ctx, CT_ERR_UNSUPPORTED, "%s: LAZ: compressor %u is not one this reader decodes (2 or 3)", path,
                        (unsigned)out->compressor);
    if (coder != 0)
        return ct_error(ctx, CT_ERR_UNSUPPORTED, "%s: LAZ: coder %u is not decoded (only 0, arithmetic)", path,
                        (unsigned)coder);
    if (out->point_format > 10)
        return ct_error(ctx, CT_ERR_UNSUPPORTED, "%s: LAZ: point format %u is not decoded (0-10)", path,
                        (unsigned)out->point_format);
    if (out->nitems == 0 || out->nitems > CT_LAZ_MAX_ITEMS)
        return ct_error(ctx, CT_ERR_INPUT, "%s: LAZ: the VLR lists %u items (1-%d expected)", path,
                        (unsigned)out->nitems, CT_LAZ_MAX_ITEMS);
    if (len < VLR_FIXED + 6 * (size_t)out->nitems)
        return ct_error(ctx, CT_ERR_INPUT, "%s: LAZ: the VLR lists %u items but has room for %zu", path,
                        (unsigned)out->nitems, (len - VLR_FIXED) / 6);
    unsigned sum = 0;
    for (unsigned i = 0; i < out->nitems; i++) {
        const uint8_t *p = payload + VLR_FIXED + 6 * i;
        out->items[i].type = ct_laz_le16(p);
        out->items[i].size = ct_laz_le16(p + 2);
        out->items[i].version = ct_laz_le16(p + 4);
        sum += out->items[i].size;
    }
    if (sum != record_length)
        return ct_error(ctx, CT_ERR_INPUT, "%s: LAZ: the VLR's items have %u bytes, the header's records %u", path,
                        sum, (unsigned)record_length);
    ct_status st = check_items(ctx, path, out);
    if (st != CT_OK) return st;

    int layered = out->point_format >= 6;
    if (layered != (out->compressor == CT_LAZ_LAYERED_CHUNKED))
        return ct_error(ctx, CT_ERR_UNSUPPORTED, "%s: LAZ: compressor %u with point format %u is not decoded "
                        "(formats 0-5 are pointwise, 6-10 layered)", path, (unsigned)out->compressor,
                        (unsigned)out->point_format);
    for (unsigned i = 0; i < out->nitems; i++) {
        const ct_laz_item *it = &out->items[i];
        char b[24];
        if (it->type == CT_LAZ_ITEM_WAVEPACKET13)
            return ct_error(ctx, CT_ERR_UNSUPPORTED, "%s: LAZ: point format %u has waveform packets (%s), which are "
                            "not decoded", path, (unsigned)out->point_format, ct_laz_item_name(it->type, b));
        if (!item_decoded(it->type, it->version))
            return ct_error(ctx, CT_ERR_UNSUPPORTED, "%s: LAZ: %s item version %u is not decoded (only version %d; "
                            "LASzip %u.%u.%u wrote the file)", path, ct_laz_item_name(it->type, b),
                            (unsigned)it->version, layered ? 3 : 2, (unsigned)out->version_major,
                            (unsigned)out->version_minor, (unsigned)out->version_revision);
    }
    return CT_OK;
}
