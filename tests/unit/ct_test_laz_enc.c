#include "ct_test_laz_enc.h"

#include <stdlib.h>

static void put_byte(ct_test_enc *e, uint8_t b) {
    if (e->n == e->cap) {
        e->cap = e->cap ? 2 * e->cap : 1024;
        e->out = realloc(e->out, e->cap);
        if (!e->out) abort();
    }
    e->out[e->n++] = b;
}

static void carry(ct_test_enc *e) {
    size_t i = e->n;
    while (i > 0 && e->out[i - 1] == 0xFF) e->out[--i] = 0;
    if (i > 0) e->out[i - 1]++;
}

static void renorm(ct_test_enc *e) {
    do {
        put_byte(e, (uint8_t)(e->base >> 24));
        e->base <<= 8;
    } while ((e->length <<= 8) < CT_LAZ_AC_MIN_LENGTH);
}

static void add_base(ct_test_enc *e, uint32_t x) {
    uint32_t before = e->base;
    e->base += x;
    if (before > e->base) carry(e);
}

void ct_test_enc_bit(ct_test_enc *e, ct_laz_bit_model *m, uint32_t bit) {
    uint32_t x = m->bit0_prob * (e->length >> CT_LAZ_BM_LENGTH_SHIFT);
    if (!bit) {
        e->length = x;
        m->bit0_count++;
    } else {
        add_base(e, x);
        e->length -= x;
    }
    if (e->length < CT_LAZ_AC_MIN_LENGTH) renorm(e);
    if (--m->until_update == 0) ct_laz_bit_update(m);
}

void ct_test_enc_symbol(ct_test_enc *e, ct_laz_sym_model *m, uint32_t sym) {
    uint32_t x;
    if (sym == m->last_symbol) {
        x = m->distribution[sym] * (e->length >> CT_LAZ_DM_LENGTH_SHIFT);
        add_base(e, x);
        e->length -= x;
    } else {
        e->length >>= CT_LAZ_DM_LENGTH_SHIFT;
        x = m->distribution[sym] * e->length;
        add_base(e, x);
        e->length = m->distribution[sym + 1] * e->length - x;
    }
    if (e->length < CT_LAZ_AC_MIN_LENGTH) renorm(e);
    m->symbol_count[sym]++;
    if (--m->until_update == 0) ct_laz_sym_update(m);
}

void ct_test_enc_bits(ct_test_enc *e, uint32_t bits, uint32_t v) {
    if (bits > 19) {
        ct_test_enc_bits(e, 16, v & 0xFFFF);
        v >>= 16;
        bits -= 16;
    }
    e->length >>= bits;
    add_base(e, v * e->length);
    if (e->length < CT_LAZ_AC_MIN_LENGTH) renorm(e);
}

void ct_test_enc_done(ct_test_enc *e) {
    if (e->length > 2 * CT_LAZ_AC_MIN_LENGTH) {
        add_base(e, CT_LAZ_AC_MIN_LENGTH);
        e->length = CT_LAZ_AC_MIN_LENGTH >> 1;
    } else {
        add_base(e, CT_LAZ_AC_MIN_LENGTH >> 1);
        e->length = CT_LAZ_AC_MIN_LENGTH >> 9;
    }
    renorm(e);
    for (int i = 0; i < 3; i++) put_byte(e, 0); /* the decoder reads ahead */
}

void ct_test_enc_int(ct_test_enc *e, ct_laz_ic *ic, int32_t pred, int32_t real, uint32_t ctx) {
    uint32_t c = (uint32_t)real - (uint32_t)pred;
    if (ic->corr_range) {
        int32_t lo = ic->corr_min, hi = (int32_t)(ic->corr_min + (int64_t)ic->corr_range - 1);
        if ((int32_t)c < lo)
            c += ic->corr_range;
        else if ((int32_t)c > hi)
            c -= ic->corr_range;
    }
    int32_t sc = (int32_t)c;
    uint32_t mag = sc <= 0 ? 0u - c : c - 1, k = 0;
    while (mag) {
        mag >>= 1;
        k++;
    }
    ct_test_enc_symbol(e, &ic->m_bits[ctx], k);
    if (k == 0) {
        ct_test_enc_bit(e, &ic->m_corrector0, c);
    } else if (k < 32) {
        c = sc < 0 ? c + ((1u << k) - 1) : c - 1;
        if (k <= ic->bits_high) {
            ct_test_enc_symbol(e, &ic->m_corrector[k - 1], c);
        } else {
            uint32_t k1 = k - ic->bits_high;
            ct_test_enc_symbol(e, &ic->m_corrector[k - 1], c >> k1);
            ct_test_enc_bits(e, k1, c & ((1u << k1) - 1));
        }
    }
}

