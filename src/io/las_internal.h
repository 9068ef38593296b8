/* Private to src/io/las_*.c: the reader object and shared helpers. */
#ifndef CT_IO_LAS_INTERNAL_H
#define CT_IO_LAS_INTERNAL_H

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include "citytiler/las.h"
#include "io/laz.h"

struct ct_las_reader {
    char *path;
    int fd;                 /* -1 for a reader parsed from memory */
    ct_las_header hdr;
    /* LAZ: the compression (NULL for LAS) and its chunks, in file order (las_laz.c) */
    ct_laz_info *laz;
    ct_laz_chunk *chunks;
    size_t nchunks;
    atomic_int laz_bounds_warned; /* a chunk's points beyond the header's bounds were told of */
};

/* Little-endian loads from a byte pointer (any alignment). */
static inline uint16_t ct_le16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t ct_le32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t ct_le64(const uint8_t *p) {
    return (uint64_t)ct_le32(p) | ((uint64_t)ct_le32(p + 4) << 32);
}
static inline double ct_led(const uint8_t *p) {
    uint64_t u = ct_le64(p);
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* CT_ERR_USAGE unless points [first, first + count) can be read from r. */
ct_status ct_las_check_range(ct_context *ctx, const ct_las_reader *r, uint64_t first, size_t count);

/* Standard record length of point format f (0..10), 0 when unknown. */
uint16_t ct_las_standard_length(unsigned f);

/* Derives hdr->crs_wkt / epsg_* / crs_source from the (E)VLR payloads.
 * `payload(i)` style access: the caller passes a function reading `len` bytes
 * at file offset `off` into `buf` (returns 0 on success). Never fails on a bad
 * CRS (logs a warning, leaves crs_wkt NULL); fails only on out-of-memory. */
typedef int (*ct_las_read_fn)(void *user, uint64_t off, size_t len, void *buf);
ct_status ct_las_parse_crs(ct_context *ctx, const char *path, ct_las_header *hdr,
                           ct_las_read_fn read, void *user);

/* LAZ (las_laz.c). ct_las_laz_open: r's header says its points are compressed: parses its
 * 'laszip encoded' VLR and reads its chunk table through rd/user (r->laz, r->chunks).
 * ct_las_laz_read_raw: ct_las_read_raw of a LAZ reader (the chunks holding the records
 * decoded, each as far as needed). */
ct_status ct_las_laz_open(ct_context *ctx, ct_las_reader *r, ct_las_read_fn rd, void *user);
ct_status ct_las_laz_read_raw(ct_context *ctx, const ct_las_reader *r, uint64_t first, size_t count, uint8_t *buf);
/* The index of the chunk of a LAZ reader that holds point p (< point_count). */
size_t ct_las_laz_chunk_of(const ct_las_reader *r, uint64_t p);
/* Records a caller reading [first, first + count) in blocks should take at once: all of
 * them for LAZ (a block decodes its chunks from their start), else `per`. */
static inline size_t ct_las_block_records(const ct_las_reader *r, size_t count, size_t per) {
    return r->laz ? count : per;
}

#endif
