/* Private to src/io/laz_*.c: item type numbers, little-endian helpers, and the pointwise
 * item decoders that laz_pointwise.c drives. */
#ifndef CT_IO_LAZ_INTERNAL_H
#define CT_IO_LAZ_INTERNAL_H

#include <stdint.h>
#include <string.h>
#include "io/laz.h"
#include "io/laz_arith.h"
#include "io/laz_integer.h"

/* Item types as the 'laszip encoded' VLR numbers them. */
enum {
    CT_LAZ_ITEM_BYTE = 0,
    CT_LAZ_ITEM_POINT10 = 6,
    CT_LAZ_ITEM_GPSTIME11 = 7,
    CT_LAZ_ITEM_RGB12 = 8,
    CT_LAZ_ITEM_WAVEPACKET13 = 9,
    CT_LAZ_ITEM_POINT14 = 10,
    CT_LAZ_ITEM_RGB14 = 11,
    CT_LAZ_ITEM_RGBNIR14 = 12,
    CT_LAZ_ITEM_WAVEPACKET14 = 13,
    CT_LAZ_ITEM_BYTE14 = 14
};

static inline uint16_t ct_laz_le16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t ct_laz_le32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t ct_laz_le64(const uint8_t *p) {
    return (uint64_t)ct_laz_le32(p) | ((uint64_t)ct_laz_le32(p + 4) << 32);
}
static inline void ct_laz_put16(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void ct_laz_put32(uint8_t *p, uint32_t v) {
    for (int k = 0; k < 4; k++) p[k] = (uint8_t)(v >> (8 * k));
}
static inline void ct_laz_put64(uint8_t *p, uint64_t v) {
    ct_laz_put32(p, (uint32_t)v);
    ct_laz_put32(p + 4, (uint32_t)(v >> 32));
}

/* The median of the last 5 values (POINT10's and POINT14's x/y predictions): kept sorted,
 * the next value replacing the highest or the lowest in turn (`high`: the highest next).
 * The value lands in one of 3 places of the half it replaces: unrolled comparisons. */
typedef struct ct_laz_median5 {
    int32_t v[5];
    int high;
} ct_laz_median5;

static inline void ct_laz_median5_init(ct_laz_median5 *m) {
    memset(m->v, 0, sizeof m->v);
    m->high = 1;
}

/* Out of line: inlined into POINT10's read it cost more than the call (1186 instructions
 * a point against 1173 on ahn3). */
void ct_laz_median5_add(ct_laz_median5 *m, int32_t x);

/* The name of an item type for messages ("POINT10", ..., "item type 99"): buf holds it
 * when the type is unknown. */
const char *ct_laz_item_name(uint16_t type, char buf[24]);

/* Pointwise v2 items. Each decoder is created once per chunk (models allocated, -1 when
 * out of memory), started from the chunk's raw first item, then reads one item a point
 * from the shared arithmetic decoder into `item`. Models that LASzip creates on first use
 * (POINT10's per-byte-value models) are allocated on first use in the chunk as well. */
typedef struct ct_laz_point10 ct_laz_point10;
ct_laz_point10 *ct_laz_point10_create(void);
void ct_laz_point10_free(ct_laz_point10 *s);
void ct_laz_point10_start(ct_laz_point10 *s, const uint8_t *item);
/* -1 when a model could not be allocated. */
int ct_laz_point10_read(ct_laz_point10 *s, ct_laz_dec *d, uint8_t *item);

typedef struct ct_laz_gpstime11 ct_laz_gpstime11;
ct_laz_gpstime11 *ct_laz_gpstime11_create(void);
void ct_laz_gpstime11_free(ct_laz_gpstime11 *s);
void ct_laz_gpstime11_start(ct_laz_gpstime11 *s, const uint8_t *item);
/* -1 on a corrupt stream (sequence switches without end). */
int ct_laz_gpstime11_read(ct_laz_gpstime11 *s, ct_laz_dec *d, uint8_t *item);

typedef struct ct_laz_rgb12 ct_laz_rgb12;
ct_laz_rgb12 *ct_laz_rgb12_create(void);
void ct_laz_rgb12_free(ct_laz_rgb12 *s);
void ct_laz_rgb12_start(ct_laz_rgb12 *s, const uint8_t *item);
void ct_laz_rgb12_read(ct_laz_rgb12 *s, ct_laz_dec *d, uint8_t *item);

typedef struct ct_laz_bytes ct_laz_bytes;
ct_laz_bytes *ct_laz_bytes_create(uint32_t n);
void ct_laz_bytes_free(ct_laz_bytes *s);
void ct_laz_bytes_start(ct_laz_bytes *s, const uint8_t *item);
void ct_laz_bytes_read(ct_laz_bytes *s, ct_laz_dec *d, uint8_t *item);

#endif
