/* The LAZ arithmetic decoder and integer decompressor against a small encoder written here
 * from the same model (FastAC's range coder as LASzip uses it): random bits, symbols of
 * alphabets 2..2048 (with and without decoder tables), raw values of 1..32 bits and
 * integers of 8..32 bits and odd ranges must come back as coded, with no overrun; a stream
 * cut short sets the overrun flag and never reads past its buffer (ASan). */
#include <stdlib.h>
#include <string.h>

#include "ct_test.h"
#include "ct_test_laz_enc.h"
#include "io/laz_arith.h"
#include "io/laz_integer.h"

static uint32_t rnd(uint64_t *s, uint32_t n) { return (uint32_t)(ct_test_unif(s) * n); }

/* A value the coder should see often (small) or rarely (anything). */
static uint32_t skewed(uint64_t *s, uint32_t n) { return rnd(s, 4) ? rnd(s, n < 8 ? n : 8) : rnd(s, n); }

static void round_trip(uint64_t seed) {
    static const uint32_t alphabets[] = {2, 3, 16, 17, 64, 128, 256, 516, 1000, 2048};
    enum { NA = sizeof alphabets / sizeof alphabets[0], N = 20000 };
    static const uint32_t ic_bits[] = {8, 16, 32, 32};
    static const uint32_t ic_range[] = {0, 0, 0, 1000};
    ct_laz_sym_model em[NA], dm[NA];
    ct_laz_bit_model eb, db;
    ct_laz_ic eic[4], dic[4];
    for (int i = 0; i < NA; i++)
        CT_CHECK(ct_laz_sym_create(&em[i], alphabets[i]) == 0 && ct_laz_sym_create(&dm[i], alphabets[i]) == 0);
    for (int i = 0; i < 4; i++)
        CT_CHECK(ct_laz_ic_create(&eic[i], ic_bits[i], 3, 8, ic_range[i]) == 0 &&
                 ct_laz_ic_create(&dic[i], ic_bits[i], 3, 8, ic_range[i]) == 0);
    ct_laz_bit_init(&eb);
    ct_laz_bit_init(&db);

    uint32_t *kind = malloc(N * sizeof *kind), *arg = malloc(N * sizeof *arg), *val = malloc(N * sizeof *val);
    int32_t *pred = malloc(N * sizeof *pred);
    ct_test_enc e = CT_TEST_ENC_INIT;
    uint64_t s = seed;
    for (int i = 0; i < N; i++) {
        kind[i] = rnd(&s, 4);
        switch (kind[i]) {
        case 0: val[i] = rnd(&s, 8) == 0; ct_test_enc_bit(&e, &eb, val[i]); break;
        case 1:
            arg[i] = rnd(&s, NA);
            val[i] = skewed(&s, alphabets[arg[i]]);
            ct_test_enc_symbol(&e, &em[arg[i]], val[i]);
            break;
        case 2:
            arg[i] = 1 + rnd(&s, 32);
            val[i] = (uint32_t)(ct_test_unif(&s) * 4294967296.0) >> (32 - arg[i]);
            ct_test_enc_bits(&e, arg[i], val[i]);
            break;
        default: {
            arg[i] = rnd(&s, 4);
            ct_laz_ic *ic = &eic[arg[i]];
            uint32_t span = ic->corr_range ? ic->corr_range : 0;
            pred[i] = (int32_t)(span ? rnd(&s, span) : (uint32_t)(ct_test_unif(&s) * 4294967296.0));
            uint32_t delta = rnd(&s, 3) ? rnd(&s, 64) : (uint32_t)(ct_test_unif(&s) * 4294967296.0);
            if (rnd(&s, 50) == 0) delta = 0x80000000u; /* the class-32 corrector */
            uint32_t real = (uint32_t)pred[i] + (rnd(&s, 2) ? delta : 0u - delta);
            if (span) real %= span;
            else if (ic_bits[arg[i]] < 32) real &= (1u << ic_bits[arg[i]]) - 1;
            val[i] = real;
            ct_test_enc_int(&e, ic, pred[i], (int32_t)real, i % 3);
            break;
        }
        }
    }
    ct_test_enc_done(&e);

    ct_laz_dec d;
    ct_laz_dec_init(&d, e.out, e.n);
    int bad = -1;
    for (int i = 0; i < N && bad < 0; i++) {
        uint32_t got;
        switch (kind[i]) {
        case 0: got = ct_laz_decode_bit(&d, &db); break;
        case 1: got = ct_laz_decode_symbol(&d, &dm[arg[i]]); break;
        case 2: got = ct_laz_read_bits(&d, arg[i]); break;
        default: {
            ct_laz_ic *ic = &dic[arg[i]];
            got = (uint32_t)ct_laz_ic_decompress(ic, &d, pred[i], i % 3);
            if (ic_bits[arg[i]] < 32 && !ic->corr_range) got &= (1u << ic_bits[arg[i]]) - 1;
            break;
        }
        }
        if (got != val[i]) bad = i;
    }
    CT_CHECK_MSG(bad < 0, "seed %llu: value %d (kind %u) decodes as something else", (unsigned long long)seed, bad,
                 bad >= 0 ? kind[bad] : 0);
    CT_CHECK_MSG(!d.overrun, "seed %llu: the decoder ran past %zu bytes", (unsigned long long)seed, e.n);

    /* the same stream cut short: the flag is set, nothing read past the buffer */
    size_t cut = e.n / 3;
    uint8_t *part = malloc(cut);
    memcpy(part, e.out, cut);
    for (int i = 0; i < NA; i++) ct_laz_sym_init(&dm[i], NULL);
    for (int i = 0; i < 4; i++) ct_laz_ic_init(&dic[i]);
    ct_laz_bit_init(&db);
    ct_laz_dec_init(&d, part, cut);
    for (int i = 0; i < N; i++) {
        switch (kind[i]) {
        case 0: ct_laz_decode_bit(&d, &db); break;
        case 1: ct_laz_decode_symbol(&d, &dm[arg[i]]); break;
        case 2: ct_laz_read_bits(&d, arg[i]); break;
        default: ct_laz_ic_decompress(&dic[arg[i]], &d, pred[i], i % 3); break;
        }
    }
    CT_CHECK(d.overrun);
    free(part);

    free(e.out);
    free(kind);
    free(arg);
    free(val);
    free(pred);
    for (int i = 0; i < NA; i++) {
        ct_laz_sym_free(&em[i]);
        ct_laz_sym_free(&dm[i]);
    }
    for (int i = 0; i < 4; i++) {
        ct_laz_ic_free(&eic[i]);
        ct_laz_ic_free(&dic[i]);
    }
}

/* Garbage streams, all 0xFF bytes included (a value equal to the length), never read
 * past the buffer nor leave a model's table. */
static void garbage(void) {
    uint8_t buf[64];
    ct_laz_sym_model m;
    CT_CHECK(ct_laz_sym_create(&m, 2048) == 0);
    for (int fill = 0; fill < 3; fill++) {
        uint64_t s = 7 + (uint64_t)fill;
        for (size_t i = 0; i < sizeof buf; i++) buf[i] = fill == 0 ? 0xFF : fill == 1 ? 0 : (uint8_t)rnd(&s, 256);
        ct_laz_dec d;
        ct_laz_dec_init(&d, buf, sizeof buf);
        for (int i = 0; i < 2000; i++) CT_CHECK(ct_laz_decode_symbol(&d, &m) < 2048);
        CT_CHECK(d.overrun);
    }
    ct_laz_dec d;
    ct_laz_dec_init(&d, buf, 0);
    CT_CHECK(d.overrun && d.value == 0);
    ct_laz_sym_free(&m);
    /* counts and distribution, plus a decoder table (its entries + 2) above 4 symbols */
    CT_CHECK(ct_laz_sym_storage(1) == 0 && ct_laz_sym_storage(2049) == 0 && ct_laz_sym_storage(4) == 8);
    CT_CHECK(ct_laz_sym_storage(16) == 32 + 8 + 2 && ct_laz_sym_storage(256) == 512 + 128 + 2);
}

int main(void) {
    for (uint64_t seed = 1; seed <= 6; seed++) round_trip(seed * 0x9E3779B97F4A7C15ull);
    garbage();
    return ct_test_finish("test_laz_arith");
}
