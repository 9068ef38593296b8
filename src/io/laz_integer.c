/* The integer decompressor (laz_integer.h). Arithmetic is done on uint32 and converted
 * back, so that wrapping sums (which LASzip's encoder relies on) are defined in C. */
#include "io/laz_integer.h"

#include <stdlib.h>

/* Symbols of the model for magnitude class k (1..corr_bits). */
static uint32_t corrector_symbols(const ct_laz_ic *ic, uint32_t k) {
    return k <= ic->bits_high ? 1u << k : 1u << ic->bits_high;
}

int ct_laz_ic_create(ct_laz_ic *ic, uint32_t bits, uint32_t contexts, uint32_t bits_high, uint32_t range) {
    ic->k = 0;
    ic->contexts = contexts ? contexts : 1;
    ic->bits_high = bits_high;
    if (range) { /* the corrector's bits from the range; a power of two needs one fewer */
        ic->corr_bits = 0;
        for (uint32_t r = range; r; r >>= 1) ic->corr_bits++;
        if (range == 1u << (ic->corr_bits - 1)) ic->corr_bits--;
        ic->corr_range = range;
        ic->corr_min = -(int32_t)(range / 2);
    } else if (bits && bits < 32) {
        ic->corr_bits = bits;
        ic->corr_range = 1u << bits;
        ic->corr_min = -(int32_t)(ic->corr_range / 2);
    } else {
        ic->corr_bits = 32;
        ic->corr_range = 0;
        ic->corr_min = INT32_MIN;
    }
    size_t nmodels = ic->contexts + ic->corr_bits;
    size_t words = nmodels * sizeof(ct_laz_sym_model) / sizeof(uint32_t);
    size_t need = words + (size_t)ic->contexts * ct_laz_sym_storage(ic->corr_bits + 1);
    for (uint32_t k = 1; k <= ic->corr_bits; k++) need += ct_laz_sym_storage(corrector_symbols(ic, k));
    uint32_t *block = malloc(need * sizeof *block);
    if (!block) {
        ic->block = NULL;
        return -1;
    }
    ic->block = block;
    ic->m_bits = (ct_laz_sym_model *)(void *)block;
    ic->m_corrector = ic->m_bits + ic->contexts;
    uint32_t *storage = block + words;
    for (uint32_t c = 0; c < ic->contexts; c++) {
        ct_laz_sym_layout(&ic->m_bits[c], ic->corr_bits + 1, storage);
        storage += ct_laz_sym_storage(ic->corr_bits + 1);
    }
    for (uint32_t k = 1; k <= ic->corr_bits; k++) {
        uint32_t n = corrector_symbols(ic, k);
        ct_laz_sym_layout(&ic->m_corrector[k - 1], n, storage);
        storage += ct_laz_sym_storage(n);
    }
    ct_laz_ic_init(ic);
    return 0;
}

void ct_laz_ic_free(ct_laz_ic *ic) {
    free(ic->block);
    ic->block = NULL;
}

/* The models of one size start alike: the first of them is initialised, the others copy it
 * (a 32-bit compressor has 25 correctors of 256 symbols; POINT10's dy 22 contexts). */
void ct_laz_ic_init(ct_laz_ic *ic) {
    ic->k = 0;
    ct_laz_sym_init(&ic->m_bits[0], NULL);
    for (uint32_t c = 1; c < ic->contexts; c++) ct_laz_sym_copy(&ic->m_bits[c], &ic->m_bits[0]);
    ct_laz_bit_init(&ic->m_corrector0);
    for (uint32_t k = 1; k <= ic->corr_bits; k++) {
        if (k > ic->bits_high + 1)
            ct_laz_sym_copy(&ic->m_corrector[k - 1], &ic->m_corrector[k - 2]);
        else
            ct_laz_sym_init(&ic->m_corrector[k - 1], NULL);
    }
}

