/* LASzip's arithmetic decoder (a 32-bit range coder after Said's FastAC) with its adaptive
 * bit and multi-symbol models, bit-exact with the LASzip encoder.
 *
 * The decoder reads from a (pointer, length) buffer and never past it: beyond the end it
 * takes zero bytes and sets `overrun`, which callers check to report a corrupt stream.
 * Decoding calls are static inline (the hot path of LAZ reading); model updates are not.
 * Private to src/io. */
#ifndef CT_IO_LAZ_ARITH_H
#define CT_IO_LAZ_ARITH_H

#include <stddef.h>
#include <stdint.h>

#define CT_LAZ_AC_MIN_LENGTH 0x01000000u /* renormalise below this */
#define CT_LAZ_AC_MAX_LENGTH 0xFFFFFFFFu
#define CT_LAZ_BM_LENGTH_SHIFT 13 /* bit models: length bits dropped before the product */
#define CT_LAZ_BM_MAX_COUNT (1u << CT_LAZ_BM_LENGTH_SHIFT)
#define CT_LAZ_DM_LENGTH_SHIFT 15 /* symbol models */
#define CT_LAZ_DM_MAX_COUNT (1u << CT_LAZ_DM_LENGTH_SHIFT)
#define CT_LAZ_MAX_SYMBOLS 2048u

typedef struct ct_laz_dec {
    const uint8_t *p, *end;
    uint32_t value, length;
    int overrun; /* the stream needed bytes beyond its buffer */
} ct_laz_dec;

typedef struct ct_laz_bit_model {
    uint32_t update_cycle, until_update;
    uint32_t bit0_prob, bit0_count, bit_count;
} ct_laz_bit_model;

/* A model of `symbols` symbols. Its counts, cumulative distribution and (for more than 4
 * symbols) decoder table live in `storage`, ct_laz_sym_storage(symbols) uint32s that the
 * model does not own unless made by ct_laz_sym_create. */
typedef struct ct_laz_sym_model {
    uint32_t *distribution, *symbol_count, *decoder_table;
    uint32_t total_count, update_cycle, until_update;
    uint32_t symbols, last_symbol, table_size, table_shift;
    uint32_t *owned;
} ct_laz_sym_model;

/* Starts decoding `len` bytes at `buf` (reads the first 4). */
void ct_laz_dec_init(ct_laz_dec *d, const uint8_t *buf, size_t len);

void ct_laz_bit_init(ct_laz_bit_model *m);
void ct_laz_bit_update(ct_laz_bit_model *m);

/* uint32s of storage a model of `symbols` (2..2048) needs; 0 for an invalid count. */
size_t ct_laz_sym_storage(uint32_t symbols);
/* Lays the model out on `storage` and initialises it (ct_laz_sym_init(m, NULL)). */
void ct_laz_sym_bind(ct_laz_sym_model *m, uint32_t symbols, uint32_t *storage);
/* Lays the model out on `storage` only: its state is undefined until ct_laz_sym_init or
 * ct_laz_sym_copy. */
void ct_laz_sym_layout(ct_laz_sym_model *m, uint32_t symbols, uint32_t *storage);
/* dst (laid out for as many symbols as src) in src's state: as cheap as a memcpy, where
 * ct_laz_sym_init of a 256-symbol model costs some 5,000 instructions. */
void ct_laz_sym_copy(ct_laz_sym_model *restrict dst, const ct_laz_sym_model *restrict src);
/* ct_laz_sym_create of a model in fresh's state (fresh: as many symbols, initialised). */
int ct_laz_sym_create_copy(ct_laz_sym_model *m, const ct_laz_sym_model *fresh);
/* Allocates the storage itself (freed by ct_laz_sym_free). 0 on success, -1 when out of
 * memory or symbols is out of range. */
int ct_laz_sym_create(ct_laz_sym_model *m, uint32_t symbols);
void ct_laz_sym_free(ct_laz_sym_model *m);
/* Back to the initial state: every count 1, or counts[k] when counts is given. */
void ct_laz_sym_init(ct_laz_sym_model *m, const uint32_t *counts);
void ct_laz_sym_update(ct_laz_sym_model *m);

#define CT_LAZ_LIKELY(x) __builtin_expect(!!(x), 1)
#define CT_LAZ_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* The decoding calls below work on local copies of the decoder's value and length and
 * store them back once (the models' counts are uint32s too, so the compiler may not keep
 * d->value and d->length in registers across a count update; measured neutral in
 * instructions with GCC 12, kept as the plain form). */

static inline uint32_t ct_laz_dec_next_byte(ct_laz_dec *d) {
    if (CT_LAZ_LIKELY(d->p < d->end)) return *d->p++;
    d->overrun = 1;
    return 0;
}

/* Shifts bytes into *value until *length is at least CT_LAZ_AC_MIN_LENGTH (never 0 here:
 * every model gives each symbol a non-empty share). */
static inline void ct_laz_dec_renorm(ct_laz_dec *restrict d, uint32_t *value, uint32_t *length) {
    uint32_t v = *value, l = *length;
    do {
        v = (v << 8) | ct_laz_dec_next_byte(d);
    } while ((l <<= 8) < CT_LAZ_AC_MIN_LENGTH);
    *value = v;
    *length = l;
}

static inline uint32_t ct_laz_decode_bit(ct_laz_dec *restrict d, ct_laz_bit_model *restrict m) {
    uint32_t value = d->value, length = d->length;
    uint32_t x = m->bit0_prob * (length >> CT_LAZ_BM_LENGTH_SHIFT);
    uint32_t sym = value >= x;
    if (sym) {
        value -= x;
        length -= x;
    } else {
        length = x;
        m->bit0_count++;
    }
    if (length < CT_LAZ_AC_MIN_LENGTH) ct_laz_dec_renorm(d, &value, &length);
    d->value = value;
    d->length = length;
    if (CT_LAZ_UNLIKELY(--m->until_update == 0)) ct_laz_bit_update(m);
    return sym;
}

/* The symbol whose share [distribution[s], distribution[s + 1]) of the model's 2^15 holds
 * dv = value / (length >> 15): the decoder table narrows the search to a few symbols. */
static inline uint32_t ct_laz_sym_find(const ct_laz_sym_model *m, uint32_t dv) {
    const uint32_t *dist = m->distribution, *table = m->decoder_table;
    uint32_t t = dv >> m->table_shift;
    /* only a corrupt stream (value not below length) gets past the table */
    if (CT_LAZ_UNLIKELY(t > m->table_size)) t = m->table_size;
    uint32_t sym = table[t], n = table[t + 1] + 1;
    while (n > sym + 1) {
        uint32_t k = (sym + n) >> 1;
        if (dist[k] > dv)
            n = k;
        else
            sym = k;
    }
    return sym;
}

static inline uint32_t ct_laz_decode_symbol(ct_laz_dec *restrict d, ct_laz_sym_model *restrict m) {
    uint32_t value = d->value, length = d->length;
    uint32_t len = length >> CT_LAZ_DM_LENGTH_SHIFT;
    const uint32_t *dist = m->distribution;
    uint32_t sym, x, y = length;
    if (m->decoder_table) {
        sym = ct_laz_sym_find(m, value / len);
        x = dist[sym] * len;
        if (sym != m->last_symbol) y = dist[sym + 1] * len;
    } else { /* bisection on the products, without a division */
        uint32_t n = m->symbols, k = n >> 1;
        x = sym = 0;
        do {
            uint32_t z = len * dist[k];
            if (z > value) {
                n = k;
                y = z;
            } else {
                sym = k;
                x = z;
            }
        } while ((k = (sym + n) >> 1) != sym);
    }
    value -= x;
    length = y - x;
    if (length < CT_LAZ_AC_MIN_LENGTH) ct_laz_dec_renorm(d, &value, &length);
    d->value = value;
    d->length = length;
    m->symbol_count[sym]++;
    if (CT_LAZ_UNLIKELY(--m->until_update == 0)) ct_laz_sym_update(m);
    return sym;
}

/* `bits` (1..32) raw bits. */
static inline uint32_t ct_laz_read_bits(ct_laz_dec *restrict d, uint32_t bits) {
    uint32_t value = d->value, length = d->length;
    uint32_t low = 0, shift = 0;
    if (bits > 19) { /* the low 16 first, as the encoder wrote them */
        length >>= 16;
        low = value / length;
        value -= length * low;
        if (length < CT_LAZ_AC_MIN_LENGTH) ct_laz_dec_renorm(d, &value, &length);
        low &= 0xFFFFu;
        bits -= 16;
        shift = 16;
    }
    length >>= bits;
    uint32_t sym = value / length;
    value -= length * sym;
    if (length < CT_LAZ_AC_MIN_LENGTH) ct_laz_dec_renorm(d, &value, &length);
    d->value = value;
    d->length = length;
    return (sym << shift) | low;
}

static inline uint8_t ct_laz_read_byte(ct_laz_dec *d) { return (uint8_t)ct_laz_read_bits(d, 8); }
static inline uint16_t ct_laz_read_short(ct_laz_dec *d) { return (uint16_t)ct_laz_read_bits(d, 16); }
static inline uint32_t ct_laz_read_int(ct_laz_dec *d) {
    uint32_t lo = ct_laz_read_short(d);
    return ((uint32_t)ct_laz_read_short(d) << 16) | lo;
}
static inline uint64_t ct_laz_read_int64(ct_laz_dec *d) {
    uint64_t lo = ct_laz_read_int(d);
    return ((uint64_t)ct_laz_read_int(d) << 32) | lo;
}

#endif
