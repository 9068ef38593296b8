/* LASzip's IntegerCompressor, decompressing side: an integer is a prediction plus a
 * corrector, coded as its magnitude class k (a symbol model per context) and its position
 * in that class (a bit model for k = 0, symbol models for the high bits_high bits, raw bits
 * below them). Private to src/io. */
#ifndef CT_IO_LAZ_INTEGER_H
#define CT_IO_LAZ_INTEGER_H

#include <stdint.h>
#include "io/laz_arith.h"

typedef struct ct_laz_ic {
    uint32_t k; /* the magnitude class of the last corrector (LASzip's getK) */
    uint32_t contexts, bits_high, corr_bits, corr_range;
    int32_t corr_min;
    ct_laz_sym_model *m_bits;      /* [contexts] */
    ct_laz_sym_model *m_corrector; /* [corr_bits]: class k uses m_corrector[k - 1] */
    ct_laz_bit_model m_corrector0; /* class 0: the corrector is 0 or 1 */
    void *block;                   /* one allocation for every model */
} ct_laz_ic;

/* Sets up a compressor of `bits`-bit values (LASzip's defaults: bits 16, contexts 1,
 * bits_high 8, range 0) with its models initialised. 0 on success, -1 when out of memory
 * (nothing to free then). */
int ct_laz_ic_create(ct_laz_ic *ic, uint32_t bits, uint32_t contexts, uint32_t bits_high, uint32_t range);
void ct_laz_ic_free(ct_laz_ic *ic);
/* Every model back to its initial state (LASzip's initDecompressor). */
void ct_laz_ic_init(ct_laz_ic *ic);
static inline uint32_t ct_laz_ic_k(const ct_laz_ic *ic) { return ic->k; }

/* The corrector: its class k from m_bits, then its position in the class. */
static inline uint32_t ct_laz_ic_corrector(ct_laz_ic *restrict ic, ct_laz_dec *restrict d, ct_laz_sym_model *m_bits) {
    uint32_t k = ic->k = ct_laz_decode_symbol(d, m_bits);
    if (k == 0) return ct_laz_decode_bit(d, &ic->m_corrector0);
    if (k >= 32) return (uint32_t)ic->corr_min;
    uint32_t c = ct_laz_decode_symbol(d, &ic->m_corrector[k - 1]);
    if (k > ic->bits_high) { /* the high bits were modelled, the low k1 are raw */
        uint32_t k1 = k - ic->bits_high;
        c = (c << k1) | ct_laz_read_bits(d, k1);
    }
    /* [0, 2^(k-1)) holds -(2^k - 1)..-2^(k-1), [2^(k-1), 2^k) holds 2^(k-1) + 1..2^k */
    if (c >= 1u << (k - 1))
        c += 1;
    else
        c -= (1u << k) - 1;
    return c;
}

/* The value predicted by `pred`, in context `context` (< contexts). Inline: the call
 * cost a fifth of its instructions. */
static inline int32_t ct_laz_ic_decompress(ct_laz_ic *restrict ic, ct_laz_dec *restrict d, int32_t pred,
                                           uint32_t context) {
    uint32_t real = (uint32_t)pred + ct_laz_ic_corrector(ic, d, &ic->m_bits[context]);
    if (ic->corr_range) { /* fold back into [0, corr_range) */
        if ((int32_t)real < 0)
            real += ic->corr_range;
        else if (real >= ic->corr_range)
            real -= ic->corr_range;
    }
    return (int32_t)real;
}

#endif
