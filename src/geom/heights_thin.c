/* Thinning a building's samples to a bound (heights_thin.h). */
#include "geom/heights_thin.h"

#include <stdlib.h>
#include <string.h>

/* Multiplying by an odd constant and folding the high half down mixes every input bit
 * into the low bits tested by ct_thin_keeps (2^64 / the golden ratio). */
static uint64_t mix(uint64_t h) {
    h *= UINT64_C(0x9E3779B97F4A7C15);
    return h ^ (h >> 31);
}

uint32_t ct_point_hash(double x, double y, float z) {
    uint64_t ux, uy;
    uint32_t uz;
    memcpy(&ux, &x, sizeof ux);
    memcpy(&uy, &y, sizeof uy);
    memcpy(&uz, &z, sizeof uz);
    uint64_t h = mix(ux);
    h = mix(h ^ uy);
    h = mix(h ^ uz);
    h = mix(h ^ (h >> 29));
    return (uint32_t)(h >> 32);
}

/* Keeps only the samples of points whose hash has its lowest `bits` bits zero. */
static void keep_at(ct_thin_set *s, uint32_t bits) {
    s->bits = bits;
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (!ct_thin_keeps(s, s->h[i])) continue;
        s->z[k] = s->z[i];
        s->h[k] = s->h[i];
        k++;
    }
    s->n = k;
}

/* One bit more at a time until at most max remain (all bits used: points of one hash
 * cannot be told apart, and stay). */
static void raise_bits(ct_thin_set *s, size_t max) {
    while (s->n > max && s->bits < 32) keep_at(s, s->bits + 1);
}

/* Room for one more kept sample in both arrays (doubling, from 256). */
static int grow(ct_thin_set *s) {
    if (s->n < s->cap) return 1;
    size_t cap = s->cap ? 2 * s->cap : 256;
    if (cap > SIZE_MAX / sizeof(float)) return 0;
    float *z = realloc(s->z, cap * sizeof *z);
    if (!z) return 0;
    s->z = z;
    uint32_t *h = realloc(s->h, cap * sizeof *h);
    if (!h) return 0;
    s->h = h;
    s->cap = cap;
    return 1;
}

int ct_thin_push(ct_thin_set *s, float z, uint32_t h, size_t max) {
    if (!grow(s)) return 0;
    s->z[s->n] = z;
    s->h[s->n] = h;
    s->n++;
    if (s->n > max) raise_bits(s, max);
    return 1;
}

int ct_thin_merge(ct_thin_set *dst, const ct_thin_set *src, size_t max) {
    /* src's samples are those of its points at src->bits: at dst's bits or more, the
     * same points as if they had been offered one by one. */
    if (src->bits > dst->bits) keep_at(dst, src->bits);
    uint64_t total = dst->total + src->total;
    for (size_t i = 0; i < src->n; i++)
        if (!ct_thin_add(dst, src->z[i], src->h[i], max)) return 0;
    dst->total = total;
    return 1;
}

void ct_thin_clear(ct_thin_set *s) {
    s->n = 0;
    s->bits = 0;
    s->total = 0;
}

void ct_thin_free(ct_thin_set *s) {
    free(s->z);
    free(s->h);
    memset(s, 0, sizeof *s);
}
