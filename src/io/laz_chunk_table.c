/* The chunk table of a chunked LAZ file: where each chunk's compressed bytes are and how
 * many points each holds.
 *
 * The 8 bytes at the start of the point data give the table's offset (-1: the writer could
 * not seek back, and the offset is the last 8 bytes before points_end instead); chunk 0
 * starts right after them. The table is a version (0) and a chunk count, then per chunk
 * its point count (variable chunk size only) and byte count, each coded with a 32-bit
 * integer compressor predicted from the previous chunk's. */
#include <inttypes.h>
#include <stdlib.h>

#include "io/laz_internal.h"

/* Bytes the coded table can take at most: 2 values of at most ~7 bytes each a chunk (a
 * class symbol, a corrector symbol, raw bits) plus the decoder's start. */
static uint64_t table_bytes_bound(uint64_t count) { return 16 * count + 64; }

static ct_status whole_file_chunk(ct_context *ctx, const char *path, uint64_t points_start, uint64_t points_end,
                                  uint64_t point_count, ct_laz_chunk **chunks, size_t *nchunks) {
    if (point_count == 0) return CT_OK;
    if (point_count > UINT32_MAX)
        return ct_error(ctx, CT_ERR_UNSUPPORTED, "%s: LAZ: %" PRIu64 " points in one unchunked stream (at most %"
                        PRIu32 ")", path, point_count, UINT32_MAX);
    ct_laz_chunk *c = malloc(sizeof *c);
    if (!c) return ct_error_nomem(ctx, "LAZ chunk table");
    c->first_point = 0;
    c->points = (uint32_t)point_count;
    c->offset = points_start;
    c->bytes = points_end - points_start;
    *chunks = c;
    *nchunks = 1;
    return CT_OK;
}

/* Decodes count entries from the coded table into (points, bytes) pairs. */
static ct_status decode_entries(ct_context *ctx, const char *path, const ct_laz_info *info, const uint8_t *buf,
                                size_t len, uint32_t count, ct_laz_chunk *out) {
    ct_laz_ic ic;
    if (ct_laz_ic_create(&ic, 32, 2, 8, 0) != 0) return ct_error_nomem(ctx, "LAZ chunk table");
    ct_laz_dec d;
    ct_laz_dec_init(&d, buf, len);
    int variable = info->chunk_size == UINT32_MAX;
    uint32_t prev_points = 0, prev_bytes = 0;
    for (uint32_t i = 0; i < count; i++) {
        if (variable) prev_points = (uint32_t)ct_laz_ic_decompress(&ic, &d, (int32_t)prev_points, 0);
        prev_bytes = (uint32_t)ct_laz_ic_decompress(&ic, &d, (int32_t)prev_bytes, 1);
        out[i].points = variable ? prev_points : info->chunk_size;
        out[i].bytes = prev_bytes;
    }
    ct_laz_ic_free(&ic);
    if (d.overrun)
        return ct_error(ctx, CT_ERR_INPUT, "%s: LAZ: the chunk table is cut short (%u chunks in %zu bytes)", path,
                        (unsigned)count, len);
    return CT_OK;
}

/* Offsets and first points from the counts, every chunk checked to lie in
 * [chunks_start, chunks_end) and the counts to add up to point_count. */
static ct_status place_chunks(ct_context *ctx, const char *path, const ct_laz_info *info, ct_laz_chunk *c,
                              uint32_t count, uint64_t chunks_start, uint64_t chunks_end, uint64_t point_count) {
    uint64_t off = chunks_start, first = 0;
    for (uint32_t i = 0; i < count; i++) {
        if (info->chunk_size != UINT32_MAX && i + 1 == count) /* the last fixed-size chunk holds the rest */
            c[i].points = (uint32_t)(point_count - first);
        if (c[i].points == 0 || c[i].points > point_count - first)
            return ct_error(ctx, CT_ERR_INPUT, "%s: LAZ: chunk %u of %u holds %u points where %" PRIu64
                            " remain of the header's %" PRIu64, path, (unsigned)i, (unsigned)count,
                            (unsigned)c[i].points, point_count - first, point_count);
        if (c[i].bytes < info->record_length || c[i].bytes > chunks_end - off)
            return ct_error(ctx, CT_ERR_INPUT, "%s: LAZ: chunk %u of %u (%" PRIu64 " bytes at %" PRIu64
                            ") does not fit between the point data's start %" PRIu64 " and the chunk table at %"
                            PRIu64, path, (unsigned)i, (unsigned)count, c[i].bytes, off, chunks_start - 8,
                            chunks_end);
        c[i].offset = off;
        c[i].first_point = first;
        off += c[i].bytes;
        first += c[i].points;
    }
    if (first != point_count)
        return ct_error(ctx, CT_ERR_INPUT, "%s: LAZ: the chunk table's %u chunks hold %" PRIu64
                        " points, the header says %" PRIu64, path, (unsigned)count, first, point_count);
    return CT_OK;
}

ct_status ct_laz_read_chunk_table(ct_context *ctx, const char *path, const ct_laz_info *info, ct_laz_read_fn read,
                                  void *user, uint64_t points_start, uint64_t points_end, uint64_t point_count,
                                  ct_laz_chunk **chunks, size_t *nchunks) {
    *chunks = NULL;
    *nchunks = 0;
    if (points_end < points_start)
        return ct_error(ctx, CT_ERR_INPUT, "%s: LAZ: the point data ends (%" PRIu64 ") before it starts (%" PRIu64
                        ")", path, points_end, points_start);
    if (info->compressor == CT_LAZ_POINTWISE)
        return whole_file_chunk(ctx, path, points_start, points_end, point_count, chunks, nchunks);

    uint8_t b[8];
    if (points_end - points_start < 8 || read(user, points_start, 8, b) != 0)
        return ct_error(ctx, CT_ERR_INPUT, "%s: LAZ: the file ends before the chunk table's offset at %" PRIu64,
                        path, points_start);
    uint64_t chunks_start = points_start + 8;
    int64_t table = (int64_t)ct_laz_le64(b);
    uint64_t table_end = points_end;
    if (table == -1) { /* written at the end by a writer that could not seek back */
        if (points_end - chunks_start < 8 || read(user, points_end - 8, 8, b) != 0)
            return ct_error(ctx, CT_ERR_INPUT, "%s: LAZ: the chunk table's offset is not at the end of the file",
                            path);
        table = (int64_t)ct_laz_le64(b);
        table_end = points_end - 8;
    }
    if (table == (int64_t)points_start)
        return ct_error(ctx, CT_ERR_INPUT, "%s: LAZ: the chunk table's offset is the point data's own start: no "
                        "chunk table (a writer interrupted before writing it, or a damaged offset)", path);
    if (table > 0 && (uint64_t)table >= table_end && table_end == points_end)
        return ct_error(ctx, CT_ERR_INPUT, "%s: LAZ: truncated? the chunk table should be at byte %" PRId64
                        " but the compressed points end at byte %" PRIu64 " (the file's end, or its EVLRs' start)",
                        path, table, points_end);
    if (table < (int64_t)chunks_start || (uint64_t)table > table_end || table_end - (uint64_t)table < 8)
        return ct_error(ctx, CT_ERR_INPUT, "%s: LAZ: the chunk table's offset %" PRId64 " is outside the point data (%"
                        PRIu64 "..%" PRIu64 ")", path, table, chunks_start, table_end);
    uint64_t table_off = (uint64_t)table;
    if (read(user, table_off, 8, b) != 0)
        return ct_error(ctx, CT_ERR_INPUT, "%s: LAZ: cannot read the chunk table at %" PRIu64, path, table_off);
    uint32_t version = ct_laz_le32(b), count = ct_laz_le32(b + 4);
    if (version != 0)
        return ct_error(ctx, CT_ERR_UNSUPPORTED, "%s: LAZ: chunk table version %u (only 0 is known)", path,
                        (unsigned)version);
    if (point_count == 0 && count == 0) return CT_OK;
    /* every chunk holds at least one point and its first point raw */
    uint64_t room = (table_off - chunks_start) / (info->record_length ? info->record_length : 1);
    uint64_t want = 0;
    if (info->chunk_size != UINT32_MAX) want = (point_count + info->chunk_size - 1) / info->chunk_size;
    if (count == 0 || count > point_count || count > room || (want && count != want))
        return ct_error(ctx, CT_ERR_INPUT, "%s: LAZ: the chunk table lists %u chunks for %" PRIu64
                        " points (chunk size %u) in %" PRIu64 " bytes", path, (unsigned)count, point_count,
                        (unsigned)info->chunk_size, table_off - chunks_start);

    size_t len = (size_t)(table_end - table_off - 8);
    if (len > table_bytes_bound(count)) len = (size_t)table_bytes_bound(count);
    uint8_t *coded = malloc(len ? len : 1);
    ct_laz_chunk *c = calloc(count, sizeof *c);
    ct_status st = CT_OK;
    if (!coded || !c)
        st = ct_error_nomem(ctx, "LAZ chunk table");
    else if (len && read(user, table_off + 8, len, coded) != 0)
        st = ct_error(ctx, CT_ERR_INPUT, "%s: LAZ: cannot read the chunk table's %zu bytes at %" PRIu64, path, len,
                      table_off + 8);
    if (st == CT_OK) st = decode_entries(ctx, path, info, coded, len, count, c);
    if (st == CT_OK) st = place_chunks(ctx, path, info, c, count, chunks_start, table_off, point_count);
    free(coded);
    if (st != CT_OK) {
        free(c);
        return st;
    }
    *chunks = c;
    *nchunks = count;
    return CT_OK;
}
