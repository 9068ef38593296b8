/* The arithmetic decoder's start and its models' initialisation and periodic updates
 * (laz_arith.h). */
#include "io/laz_arith.h"

#include <stdlib.h>
#include <string.h>

void ct_laz_dec_init(ct_laz_dec *d, const uint8_t *buf, size_t len) {
    d->p = buf;
    d->end = buf + len;
    d->overrun = 0;
    d->length = CT_LAZ_AC_MAX_LENGTH;
    d->value = 0;
    for (int k = 0; k < 4; k++) d->value = (d->value << 8) | ct_laz_dec_next_byte(d);
}

void ct_laz_bit_init(ct_laz_bit_model *m) {
    m->bit0_count = 1;
    m->bit_count = 2;
    m->bit0_prob = 1u << (CT_LAZ_BM_LENGTH_SHIFT - 1);
    m->update_cycle = m->until_update = 4;
}

void ct_laz_bit_update(ct_laz_bit_model *m) {
    m->bit_count += m->update_cycle;
    if (m->bit_count > CT_LAZ_BM_MAX_COUNT) {
        m->bit_count = (m->bit_count + 1) >> 1;
        m->bit0_count = (m->bit0_count + 1) >> 1;
        if (m->bit0_count == m->bit_count) m->bit_count++;
    }
    uint32_t scale = 0x80000000u / m->bit_count;
    m->bit0_prob = (m->bit0_count * scale) >> (31 - CT_LAZ_BM_LENGTH_SHIFT);
    m->update_cycle = (5 * m->update_cycle) >> 2;
    if (m->update_cycle > 64) m->update_cycle = 64;
    m->until_update = m->update_cycle;
}

/* Decoder table size for `symbols`: none up to 4 symbols (a bisection of 2 steps), else
 * the smallest power of two of at least 8 entries with symbols <= 2 * entries. The table
 * only bounds the search for the symbol, so its size is free (LASzip's, 16 symbols and
 * 4 per entry, left 2 steps of bisection on average in the correctors); finer tables cost
 * more to rebuild at each model update. */
static uint32_t table_bits(uint32_t symbols) {
    if (symbols <= 4) return 0;
    uint32_t bits = 3;
    while (symbols > (1u << (bits + 1))) bits++;
    return bits;
}

size_t ct_laz_sym_storage(uint32_t symbols) {
    if (symbols < 2 || symbols > CT_LAZ_MAX_SYMBOLS) return 0;
    uint32_t tb = table_bits(symbols);
    return 2 * (size_t)symbols + (tb ? (1u << tb) + 2 : 0);
}

void ct_laz_sym_layout(ct_laz_sym_model *m, uint32_t symbols, uint32_t *storage) {
    uint32_t tb = table_bits(symbols);
    m->symbols = symbols;
    m->last_symbol = symbols - 1;
    m->distribution = storage;
    m->symbol_count = storage + symbols;
    m->owned = NULL;
    if (tb) {
        m->table_size = 1u << tb;
        m->table_shift = CT_LAZ_DM_LENGTH_SHIFT - tb;
        m->decoder_table = storage + 2 * symbols;
    } else {
        m->table_size = m->table_shift = 0;
        m->decoder_table = NULL;
    }
}

void ct_laz_sym_bind(ct_laz_sym_model *m, uint32_t symbols, uint32_t *storage) {
    ct_laz_sym_layout(m, symbols, storage);
    ct_laz_sym_init(m, NULL);
}

void ct_laz_sym_copy(ct_laz_sym_model *restrict dst, const ct_laz_sym_model *restrict src) {
    /* (the storage is one block: distribution, counts, then the decoder table) */
    memcpy(dst->distribution, src->distribution, ct_laz_sym_storage(src->symbols) * sizeof *src->distribution);
    dst->total_count = src->total_count;
    dst->update_cycle = src->update_cycle;
    dst->until_update = src->until_update;
}

int ct_laz_sym_create(ct_laz_sym_model *m, uint32_t symbols) {
    size_t n = ct_laz_sym_storage(symbols);
    uint32_t *storage = n ? malloc(n * sizeof *storage) : NULL;
    if (!storage) return -1;
    ct_laz_sym_bind(m, symbols, storage);
    m->owned = storage;
    return 0;
}

int ct_laz_sym_create_copy(ct_laz_sym_model *m, const ct_laz_sym_model *fresh) {
    uint32_t *storage = malloc(ct_laz_sym_storage(fresh->symbols) * sizeof *storage);
    if (!storage) return -1;
    ct_laz_sym_layout(m, fresh->symbols, storage);
    ct_laz_sym_copy(m, fresh);
    m->owned = storage;
    return 0;
}

void ct_laz_sym_free(ct_laz_sym_model *m) {
    free(m->owned);
    m->owned = NULL;
}

void ct_laz_sym_init(ct_laz_sym_model *m, const uint32_t *counts) {
    m->total_count = 0;
    m->update_cycle = m->symbols;
    for (uint32_t k = 0; k < m->symbols; k++) m->symbol_count[k] = counts ? counts[k] : 1;
    ct_laz_sym_update(m);
    m->until_update = m->update_cycle = (m->symbols + 6) >> 1;
}

/* The counts halved (rounding up, so none becomes 0); returns their new total. */
static uint32_t halve_counts(uint32_t *restrict count, uint32_t symbols) {
    uint32_t total = 0;
    for (uint32_t k = 0; k < symbols; k++) {
        count[k] = (count[k] + 1) >> 1;
        total += count[k];
    }
    return total;
}

/* distribution[k]: the counts before k scaled to 2^15 (scale: 2^31 / their total). With a
 * decoder table, table[w] (w in 0..size) is the symbol holding the start of the w-th of
 * `size` equal parts (minus one where a part starts exactly on a symbol), table[size + 1]
 * the last symbol: the bounds of the decoder's search. (Locals throughout: the arrays
 * are uint32s like the model's fields.) */
static void fill_distribution(const ct_laz_sym_model *m, uint32_t scale) {
    const uint32_t symbols = m->symbols, *restrict count = m->symbol_count;
    uint32_t *restrict dist = m->distribution, sum = 0;
    if (!m->decoder_table) {
        for (uint32_t k = 0; k < symbols; k++) {
            dist[k] = (scale * sum) >> (31 - CT_LAZ_DM_LENGTH_SHIFT);
            sum += count[k];
        }
        return;
    }
    uint32_t *restrict table = m->decoder_table;
    const uint32_t size = m->table_size, shift = m->table_shift;
    uint32_t s = 0;
    for (uint32_t k = 0; k < symbols; k++) {
        uint32_t d = (scale * sum) >> (31 - CT_LAZ_DM_LENGTH_SHIFT);
        dist[k] = d;
        sum += count[k];
        uint32_t w = d >> shift;
        if (w > size) w = size; /* (counts summing past total_count) */
        while (s < w) table[++s] = k - 1;
    }
    table[0] = 0;
    while (s <= size) table[++s] = symbols - 1;
}

void ct_laz_sym_update(ct_laz_sym_model *m) {
    const uint32_t symbols = m->symbols;
    m->total_count += m->update_cycle;
    if (m->total_count > CT_LAZ_DM_MAX_COUNT) m->total_count = halve_counts(m->symbol_count, symbols);
    fill_distribution(m, 0x80000000u / m->total_count);
    m->update_cycle = (5 * m->update_cycle) >> 2;
    uint32_t max_cycle = (symbols + 6) << 3;
    if (m->update_cycle > max_cycle) m->update_cycle = max_cycle;
    m->until_update = m->update_cycle;
}
