/* A LASzip-style arithmetic encoder for tests (the decoder's models, the encoding side),
 * to make streams the LAZ decoder must read back. */
#ifndef CT_TEST_LAZ_ENC_H
#define CT_TEST_LAZ_ENC_H
#include <stddef.h>
#include <stdint.h>

#include "io/laz_arith.h"
#include "io/laz_integer.h"

typedef struct ct_test_enc {
    uint8_t *out; /* malloc'd, n bytes */
    size_t n, cap;
    uint32_t base, length;
} ct_test_enc;

/* An empty stream: ct_test_enc e = CT_TEST_ENC_INIT; */
#define CT_TEST_ENC_INIT {NULL, 0, 0, 0, CT_LAZ_AC_MAX_LENGTH}
void ct_test_enc_bit(ct_test_enc *e, ct_laz_bit_model *m, uint32_t bit);
void ct_test_enc_symbol(ct_test_enc *e, ct_laz_sym_model *m, uint32_t sym);
void ct_test_enc_bits(ct_test_enc *e, uint32_t bits, uint32_t v);
/* The integer compressor's encoding side, on the decoder's models. */
void ct_test_enc_int(ct_test_enc *e, ct_laz_ic *ic, int32_t pred, int32_t real, uint32_t ctx);
/* Flushes the last bytes (and the few the decoder reads ahead). */
void ct_test_enc_done(ct_test_enc *e);
#endif
