/* The item decoders of LASzip's layered chunks (point formats 6-10, items v3/v4), shared by
 * laz_layered.c (the chunk: its layers, its loop over points) and one file per item.
 *
 * A chunk holds its first point raw, then the points after it field by field: each item
 * splits its fields into layers, each layer its own arithmetic stream. A layer of 0 bytes
 * is a field that keeps the first point's value through the chunk. Every item keeps 4
 * contexts, one per scanner channel; POINT14 says which one each point uses and the other
 * items follow it. A context starts (its models reset, its "last" values copied) the first
 * time a chunk uses it.
 *
 * All state lives in one allocation per chunk (ct_laz_layered_state in laz_layered.c):
 * the models' tables come from an arena sized beforehand for the worst case, taken when a
 * model is first used, so decoding never allocates. Private to src/io. */
#ifndef CT_IO_LAZ_LAYERED_H
#define CT_IO_LAZ_LAYERED_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "io/laz_internal.h" /* item types, little-endian helpers, the decoders */

/* Models of these sizes start from a copy of a fresh one kept in the arena (an init
 * computes the whole distribution: some 5,000 instructions for 256 symbols, a copy is a
 * memcpy); the sizes the items make most of. */
enum { CT_LAZ_FRESH_SIZES = 4 }; /* 16, 64, 128 and 256 symbols (laz_layered.c) */

/* uint32 storage handed out in order from one block. */
typedef struct ct_laz_arena {
    uint32_t *next, *end;
    int exhausted; /* a take failed: a sizing bug, reported as an error, never a crash */
    int nomem;     /* an integer decompressor could not be allocated */
    ct_laz_sym_model fresh[CT_LAZ_FRESH_SIZES]; /* (symbols 0: not made) */
} ct_laz_arena;

uint32_t *ct_laz_arena_take(ct_laz_arena *a, size_t n);
/* The arena words the fresh models take. */
size_t ct_laz_fresh_storage(void);
/* Makes the fresh models (once per chunk, before any model is bound). */
void ct_laz_arena_fresh(ct_laz_arena *a);
/* m (laid out on its storage) initialised: a copy of the fresh model of its size if there
 * is one. */
void ct_laz_model_reset(ct_laz_sym_model *m, const ct_laz_arena *a);

/* A symbol model made on first use (symbols == 0 until then). */
static inline ct_laz_sym_model *ct_laz_lazy_model(ct_laz_sym_model *m, uint32_t symbols, ct_laz_arena *a) {
    if (m->symbols == 0) {
        uint32_t *s = ct_laz_arena_take(a, ct_laz_sym_storage(symbols));
        if (!s) return NULL;
        ct_laz_sym_layout(m, symbols, s);
        ct_laz_model_reset(m, a);
    }
    return m;
}
/* The scanner channel of the next point of a BYTE14, RGB14 or WAVEPACKET14 item:
 * *current becomes `channel` (whose context is `used` or not yet in this chunk) and *from
 * the context the point predicts from and updates. Returns 1 when that context is new:
 * the caller starts it from context *from's last values, then predicts from `channel`.
 * LASzip's v3 quirk: on a switch to a context already used, the point still predicts from
 * the previous context; v4 takes the new one's. */
static inline int ct_laz_channel_switch(uint32_t *current, uint32_t channel, int used, int v4, uint32_t *from) {
    *from = *current;
    if (channel == *current) return 0;
    *current = channel;
    if (used && v4) *from = channel;
    return !used;
}
/* Binds a model now (or resets it when already bound): 0, or -1 when the arena is out. */
int ct_laz_model_start(ct_laz_sym_model *m, uint32_t symbols, ct_laz_arena *a);
/* The same for an integer decompressor of `bits` bits and `contexts` contexts. Those
 * allocate their own models (laz_integer.h), once per context and chunk: freed by
 * ct_laz_ic_free, a zeroed one is not made yet. */
int ct_laz_ic_start(ct_laz_ic *ic, uint32_t bits, uint32_t contexts, ct_laz_arena *a);

/* One layer: its stream, and whether it has bytes at all. */
typedef struct ct_laz_layer {
    ct_laz_dec dec;
    int changed;
} ct_laz_layer;

/* ---- POINT14 (laz_point14.c): the 30 bytes of formats 6-10 ---- */

enum { CT_LAZ_P14_LAYERS = 9 };

/* The record's fields unpacked, as the decoder predicts from them. */
typedef struct ct_laz_p14_fields {
    int32_t x, y, z;
    uint16_t intensity;
    uint8_t ret, nret;      /* 4 bits each */
    uint8_t class_flags;    /* 4 bits */
    uint8_t channel;        /* 2 bits */
    uint8_t scan_dir, edge; /* 1 bit each */
    uint8_t cls, user;
    int16_t scan_angle;
    uint16_t psid;
    uint64_t gps; /* the double's bits */
    uint8_t gps_changed; /* the point's GPS time differed from the one before */
} ct_laz_p14_fields;

typedef struct ct_laz_p14_ctx {
    int used;
    ct_laz_p14_fields last;
    uint16_t last_intensity[8];
    ct_laz_median5 last_dx[12], last_dy[12];
    int32_t last_z[8];
    ct_laz_sym_model m_changed[8], m_channel, m_nret[16], m_rnum[16], m_rnum_same;
    ct_laz_ic ic_dx, ic_dy, ic_z;
    ct_laz_sym_model m_class[64], m_flags[64], m_user[64];
    ct_laz_ic ic_intensity, ic_scan_angle, ic_psid;
    /* GPS time: 4 sequences, `last` the current one */
    uint32_t gps_last, gps_next;
    uint64_t last_gps[4];
    int32_t last_gps_diff[4];
    int32_t multi_extreme[4];
    ct_laz_sym_model m_gps_multi, m_gps_0diff;
    ct_laz_ic ic_gps;
} ct_laz_p14_ctx;

typedef struct ct_laz_p14 {
    ct_laz_layer layer[CT_LAZ_P14_LAYERS];
    ct_laz_p14_ctx ctx[4];
    uint32_t current;
    ct_laz_arena *arena;
    int corrupt; /* an impossible value (e.g. an endless GPS sequence switch) */
} ct_laz_p14;

size_t ct_laz_p14_storage(void);
void ct_laz_p14_free(ct_laz_p14 *p);
/* Starts the chunk from its raw first record (30 bytes); returns its scanner channel, or
 * -1 when the arena is out. */
int ct_laz_p14_start(ct_laz_p14 *p, const uint8_t *first);
/* Decodes the next point into `out` (30 bytes); returns its scanner channel. */
uint32_t ct_laz_p14_read(ct_laz_p14 *p, uint8_t *out);

/* ---- RGB14 and RGBNIR14 (laz_rgb14.c) ---- */

typedef struct ct_laz_rgb14_ctx {
    int used;
    uint16_t last[4];
    ct_laz_sym_model m_rgb_used, m_rgb[6];
    ct_laz_sym_model m_nir_used, m_nir[2];
} ct_laz_rgb14_ctx;

typedef struct ct_laz_rgb14 {
    ct_laz_layer layer[2]; /* RGB, NIR */
    int nir;               /* RGBNIR14 (8 bytes) rather than RGB14 (6) */
    int v4;                /* v4 reads a used context's own last colour after a switch */
    ct_laz_rgb14_ctx ctx[4];
    uint32_t current;
    ct_laz_arena *arena;
} ct_laz_rgb14;

size_t ct_laz_rgb14_storage(int nir);
int ct_laz_rgb14_start(ct_laz_rgb14 *c, const uint8_t *first, uint32_t channel);
int ct_laz_rgb14_read(ct_laz_rgb14 *c, uint8_t *out, uint32_t channel);

/* ---- BYTE14 (laz_byte14.c): extra bytes, one layer each ---- */

typedef struct ct_laz_byte14_ctx {
    int used;
    uint8_t *last;             /* n bytes */
    ct_laz_sym_model *m_bytes; /* n models */
} ct_laz_byte14_ctx;

typedef struct ct_laz_byte14 {
    uint32_t n;
    ct_laz_layer *layer; /* n layers */
    int v4;
    ct_laz_byte14_ctx ctx[4];
    uint32_t current;
    ct_laz_arena *arena;
} ct_laz_byte14;

/* Bytes of the arrays ct_laz_byte14_bind lays out for n extra bytes, and arena uint32s. */
size_t ct_laz_byte14_bytes(uint32_t n);
size_t ct_laz_byte14_storage(uint32_t n);
/* Points the decoder's arrays into `mem` (ct_laz_byte14_bytes(n) bytes, aligned). */
void ct_laz_byte14_bind(ct_laz_byte14 *b, uint32_t n, void *mem);
int ct_laz_byte14_start(ct_laz_byte14 *b, const uint8_t *first, uint32_t channel);
int ct_laz_byte14_read(ct_laz_byte14 *b, uint8_t *out, uint32_t channel);

/* ---- WAVEPACKET14 (laz_wavepacket14.c): 29 bytes ---- */

typedef struct ct_laz_wave14_ctx {
    int used;
    uint8_t last[29];
    int32_t last_diff_32;
    uint32_t sym_last_offset_diff;
    ct_laz_sym_model m_index, m_offset_diff[4];
    ct_laz_ic ic_offset_diff, ic_packet_size, ic_return_point, ic_xyz;
} ct_laz_wave14_ctx;

typedef struct ct_laz_wave14 {
    ct_laz_layer layer[1];
    int v4;
    uint8_t first[29]; /* what every point has when the layer is empty */
    ct_laz_wave14_ctx ctx[4];
    uint32_t current;
    ct_laz_arena *arena;
} ct_laz_wave14;

size_t ct_laz_wave14_storage(void);
void ct_laz_wave14_free(ct_laz_wave14 *w);
int ct_laz_wave14_start(ct_laz_wave14 *w, const uint8_t *first, uint32_t channel);
int ct_laz_wave14_read(ct_laz_wave14 *w, uint8_t *out, uint32_t channel);

#endif
