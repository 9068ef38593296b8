/* LAZ (LASzip-compressed LAS): decoding a file's compressed point records back into the
 * uncompressed LAS records they were made from, byte for byte, so that everything after
 * the reader (las_points.c, las_bin.c) reads them as it reads LAS.
 *
 * Written from the LASzip format as its reference implementation and the LAS twins in
 * ../shared/data show it (no LASzip in Debian 12). Private to src/io. */
#ifndef CT_IO_LAZ_H
#define CT_IO_LAZ_H

#include <stddef.h>
#include <stdint.h>
#include "citytiler/context.h"

/* The compressors of the 'laszip encoded' VLR. */
enum {
    CT_LAZ_POINTWISE = 1,         /* one arithmetic stream for the whole file, no chunk table */
    CT_LAZ_POINTWISE_CHUNKED = 2, /* formats 0-5: items v1/v2, chunks with a table */
    CT_LAZ_LAYERED_CHUNKED = 3    /* formats 6-10: items v3/v4, chunks of layers */
};

/* One item of a compressed record (its type as LASzip numbers them, its bytes, its
 * compressor version). */
typedef struct ct_laz_item {
    uint16_t type, size, version;
} ct_laz_item;

#define CT_LAZ_MAX_ITEMS 16

/* The 'laszip encoded' VLR (user id "laszip encoded", record id 22204), checked against
 * the header's point format and record length. */
typedef struct ct_laz_info {
    uint16_t compressor;          /* CT_LAZ_* */
    uint32_t chunk_size;          /* points per chunk; UINT32_MAX: variable (the table gives each) */
    uint16_t nitems;
    ct_laz_item items[CT_LAZ_MAX_ITEMS];
    uint8_t point_format;         /* 0..10 */
    uint16_t record_length;       /* the uncompressed record: the items' sizes summed */
    uint8_t version_major, version_minor; /* of the LASzip that wrote the file (informative) */
    uint16_t version_revision;
    uint32_t options;
} ct_laz_info;

/* One chunk of compressed records: its first point, how many, and its bytes in the file. */
typedef struct ct_laz_chunk {
    uint64_t first_point;
    uint32_t points;
    uint64_t offset, bytes;
} ct_laz_chunk;

/* Parses the VLR's payload (len bytes). Errors (CT_ERR_INPUT, or CT_ERR_UNSUPPORTED for a
 * compressor or item version this reader does not decode) name `path` and the problem. */
ct_status ct_laz_parse_vlr(ct_context *ctx, const char *path, const uint8_t *payload, size_t len,
                           uint8_t point_format, uint16_t record_length, ct_laz_info *out);

/* Reads the chunk table. read(user, off, len, buf) reads len bytes at file offset off
 * (0 on success). points_start: the header's offset to point data (where the 8-byte
 * offset of the table is); points_end: where the compressed points must end at the latest
 * (the EVLRs' start, or the file size). For CT_LAZ_POINTWISE the file is one chunk.
 * *chunks (malloc'd, caller frees) gets *nchunks entries in file order covering
 * point_count points exactly; a table that does not (truncated file, a table pointer
 * beyond the file, chunks that overlap or pass points_end) is CT_ERR_INPUT naming path. */
typedef int (*ct_laz_read_fn)(void *user, uint64_t off, size_t len, void *buf);
ct_status ct_laz_read_chunk_table(ct_context *ctx, const char *path, const ct_laz_info *info, ct_laz_read_fn read,
                                  void *user, uint64_t points_start, uint64_t points_end, uint64_t point_count,
                                  ct_laz_chunk **chunks, size_t *nchunks);

/* Bytes a whole chunk's decoding may leave unread: LASzip's encoder ends a stream with 2
 * or 3 bytes of flush that its decoder has read ahead (none were left in any valid chunk
 * of ../shared/data). More left means the bytes were not what the points were coded
 * into: LAZ has no checksum, so this is what catches most damage inside a chunk. */
#define CT_LAZ_TAIL_SLACK 4u

/* Decodes chunk number `index` (its `len` bytes in `bytes`, npoints points) into npoints
 * records of info->record_length bytes at `records`. Any corruption (the decoder running
 * past the chunk's bytes, an impossible value, more than CT_LAZ_TAIL_SLACK bytes left
 * unread) is CT_ERR_INPUT naming path and the chunk; never a crash or a read beyond
 * `bytes`. Thread-safe (no shared state). */
ct_status ct_laz_decode_chunk(ct_context *ctx, const char *path, const ct_laz_info *info, size_t index,
                              const uint8_t *bytes, size_t len, uint32_t npoints, uint8_t *records);

/* ct_laz_decode_chunk of the first npoints records only (npoints <= chunk_points, the
 * chunk's points as its table gives them): a chunk decodes from its start, so a reader
 * that wants records near it need not decode the rest (and its first record, stored
 * whole, costs nothing). */
ct_status ct_laz_decode_chunk_head(ct_context *ctx, const char *path, const ct_laz_info *info, size_t index,
                                   const uint8_t *bytes, size_t len, uint32_t chunk_points, uint32_t npoints,
                                   uint8_t *records);

/* The layered (CT_LAZ_LAYERED_CHUNKED) half of ct_laz_decode_chunk_head, same contract
 * (src/io/laz_layered.c). */
ct_status ct_laz_decode_layered(ct_context *ctx, const char *path, const ct_laz_info *info, size_t index,
                                const uint8_t *bytes, size_t len, uint32_t chunk_points, uint32_t npoints,
                                uint8_t *records);

#endif
