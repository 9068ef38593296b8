/* GPSTIME11 version 2: the 8-byte GPS time, coded as a multiple of the last time
 * difference plus a corrector. Four sequences of times are tracked (for files that
 * interleave flight lines); a symbol may switch sequence or start a new one with the full
 * value. After more than 3 differences coded as extreme multiples in a row, the last one
 * becomes the sequence's difference. */
#include <stdlib.h>

#include "io/laz_internal.h"

#define MULTI 500
#define MULTI_MINUS (-10)
#define MULTI_UNCHANGED (MULTI - MULTI_MINUS + 1)
#define MULTI_CODE_FULL (MULTI - MULTI_MINUS + 2)
#define MULTI_TOTAL (MULTI - MULTI_MINUS + 6)
/* A valid stream switches sequence once before a time; more in a row is corruption. */
#define MAX_SWITCHES 8

struct ct_laz_gpstime11 {
    uint64_t last_time[4];
    int32_t last_diff[4];
    int32_t extreme_count[4];
    uint32_t last, next;
    ct_laz_sym_model multi, zero_diff;
    ct_laz_ic ic;
};

ct_laz_gpstime11 *ct_laz_gpstime11_create(void) {
    ct_laz_gpstime11 *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    if ((ct_laz_sym_create(&s->multi, MULTI_TOTAL) | ct_laz_sym_create(&s->zero_diff, 6) |
         ct_laz_ic_create(&s->ic, 32, 9, 8, 0)) != 0) {
        ct_laz_gpstime11_free(s);
        return NULL;
    }
    return s;
}

void ct_laz_gpstime11_free(ct_laz_gpstime11 *s) {
    if (!s) return;
    ct_laz_sym_free(&s->multi);
    ct_laz_sym_free(&s->zero_diff);
    ct_laz_ic_free(&s->ic);
    free(s);
}

void ct_laz_gpstime11_start(ct_laz_gpstime11 *s, const uint8_t *item) {
    s->last = s->next = 0;
    for (int i = 0; i < 4; i++) {
        s->last_diff[i] = 0;
        s->extreme_count[i] = 0;
        s->last_time[i] = 0;
    }
    ct_laz_sym_init(&s->multi, NULL);
    ct_laz_sym_init(&s->zero_diff, NULL);
    ct_laz_ic_init(&s->ic);
    s->last_time[0] = ct_laz_le64(item);
}

/* A new sequence from the full time: the high 32 bits predicted from the current
 * sequence's, the low 32 raw. */
static void full_time(ct_laz_gpstime11 *s, ct_laz_dec *d) {
    s->next = (s->next + 1) & 3;
    uint32_t high = (uint32_t)ct_laz_ic_decompress(&s->ic, d, (int32_t)(uint32_t)(s->last_time[s->last] >> 32), 8);
    s->last_time[s->next] = ((uint64_t)high << 32) | ct_laz_read_int(d);
    s->last = s->next;
    s->last_diff[s->last] = 0;
    s->extreme_count[s->last] = 0;
}

/* A difference coded as an extreme multiple: after more than 3 in a row it becomes the
 * sequence's difference. */
static void count_extreme(ct_laz_gpstime11 *s, int32_t diff) {
    if (++s->extreme_count[s->last] > 3) {
        s->last_diff[s->last] = diff;
        s->extreme_count[s->last] = 0;
    }
}

static int32_t times(int32_t a, int32_t b) { return (int32_t)((uint32_t)a * (uint32_t)b); }

int ct_laz_gpstime11_read(ct_laz_gpstime11 *s, ct_laz_dec *d, uint8_t *item) {
    for (int switches = 0;; switches++) {
        if (switches > MAX_SWITCHES) return -1;
        uint32_t last = s->last;
        if (s->last_diff[last] == 0) {
            uint32_t multi = ct_laz_decode_symbol(d, &s->zero_diff);
            if (multi == 1) { /* a 32-bit difference */
                s->last_diff[last] = ct_laz_ic_decompress(&s->ic, d, 0, 0);
                s->last_time[last] += (uint64_t)(int64_t)s->last_diff[last];
                s->extreme_count[last] = 0;
            } else if (multi == 2) {
                full_time(s, d);
            } else if (multi > 2) { /* to another sequence, then decode there */
                s->last = (last + multi - 2) & 3;
                continue;
            }
            break;
        }
        uint32_t multi = ct_laz_decode_symbol(d, &s->multi);
        if (multi == 1) {
            int32_t diff = ct_laz_ic_decompress(&s->ic, d, s->last_diff[last], 1);
            s->last_time[last] += (uint64_t)(int64_t)diff;
            s->extreme_count[last] = 0;
        } else if (multi < MULTI_UNCHANGED) {
            int32_t diff;
            if (multi == 0) {
                diff = ct_laz_ic_decompress(&s->ic, d, 0, 7);
                count_extreme(s, diff);
            } else if (multi < MULTI) {
                diff = ct_laz_ic_decompress(&s->ic, d, times((int32_t)multi, s->last_diff[last]), multi < 10 ? 2 : 3);
            } else if (multi == MULTI) {
                diff = ct_laz_ic_decompress(&s->ic, d, times(MULTI, s->last_diff[last]), 4);
                count_extreme(s, diff);
            } else {
                int32_t minus = MULTI - (int32_t)multi; /* -1 .. -10 */
                if (minus > MULTI_MINUS) {
                    diff = ct_laz_ic_decompress(&s->ic, d, times(minus, s->last_diff[last]), 5);
                } else {
                    diff = ct_laz_ic_decompress(&s->ic, d, times(MULTI_MINUS, s->last_diff[last]), 6);
                    count_extreme(s, diff);
                }
            }
            s->last_time[last] += (uint64_t)(int64_t)diff;
        } else if (multi == MULTI_CODE_FULL) {
            full_time(s, d);
        } else if (multi > MULTI_CODE_FULL) {
            s->last = (last + multi - MULTI_CODE_FULL) & 3;
            continue;
        }
        /* (MULTI_UNCHANGED: the same time again) */
        break;
    }
    ct_laz_put64(item, s->last_time[s->last]);
    return 0;
}
