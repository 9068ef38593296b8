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
/* The value predicted by `pred`, in context `context` (< contexts). */
int32_t ct_laz_ic_decompress(ct_laz_ic *ic, ct_laz_dec *d, int32_t pred, uint32_t context);
static inline uint32_t ct_laz_ic_k(const ct_laz_ic *ic) { return ic->k; }

#endif
