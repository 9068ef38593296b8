/* LAZ test helpers: a file in memory with the header fields the LAZ decoder needs, its
 * 'laszip encoded' VLR parsed and its chunk table read (through the decoder in src/io). */
#ifndef CT_TEST_LAZ_H
#define CT_TEST_LAZ_H
#include <stddef.h>
#include <stdint.h>

#include "io/laz.h"

typedef struct ct_test_lasfile {
    uint8_t *bytes; /* the whole file (malloc'd) */
    size_t size;
    uint8_t point_format; /* bits 6-7 (compression) kept */
    uint16_t header_size, record_length;
    uint32_t offset_to_points, nvlrs;
    uint64_t point_count, points_end; /* points_end: the first EVLR or the file's end */
} ct_test_lasfile;

/* Reads path and its header; 0 on success (prints why not). */
int ct_test_lasfile_load(const char *path, ct_test_lasfile *f);
/* Parses a header from bytes already in f->bytes/f->size; 0 on success. */
int ct_test_lasfile_parse(ct_test_lasfile *f);
void ct_test_lasfile_free(ct_test_lasfile *f);
/* The 'laszip encoded' VLR's payload (NULL when absent). */
const uint8_t *ct_test_laszip_vlr(const ct_test_lasfile *f, size_t *len);
/* A ct_laz_read_fn over a ct_test_lasfile in memory. */
int ct_test_lasfile_read(void *user, uint64_t off, size_t len, void *buf);
/* "$CT_SHARED_DATA/rel" into buf. */
const char *ct_test_data_path(char *buf, size_t n, const char *rel);
#endif
