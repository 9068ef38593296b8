/* citytiler (internal) — a building's samples of one kind (roof or ground) bounded by a
 * deterministic thinning: beyond `max` samples only the points whose hash has its lowest
 * `bits` bits zero are kept, `bits` growing by one each time the kept ones fill `max`
 * again. Which points are kept depends on the points alone, not on their order: the
 * result is the set of samples at the smallest `bits` that keeps at most `max` of them,
 * so the in-memory queries and the sweep over the cells on disk keep the same samples,
 * and two sets thinned apart and merged give the set thinned whole. */
#ifndef CITYTILER_HEIGHTS_THIN_H
#define CITYTILER_HEIGHTS_THIN_H

#include <stddef.h>
#include <stdint.h>

/* The 32-bit hash of a point from the bits of its coordinates, exactly as the heights
 * tests take them (x, y in double, z in float). */
uint32_t ct_point_hash(double x, double y, float z);

/* Zero-initialise; free with ct_thin_free. */
typedef struct ct_thin_set {
    float *z;       /* the kept samples */
    uint32_t *h;    /* their points' hashes */
    size_t n, cap;  /* kept; room in z and h */
    uint32_t bits;  /* kept: the points whose hash has its lowest `bits` bits zero (0: all) */
    uint64_t total; /* samples offered, kept or not */
} ct_thin_set;

/* 1 when a point of hash h belongs to the kept set at s->bits. */
static inline int ct_thin_keeps(const ct_thin_set *s, uint32_t h) {
    uint32_t mask = s->bits >= 32 ? UINT32_MAX : (UINT32_C(1) << s->bits) - 1u;
    return (h & mask) == 0;
}

/* Keeps the sample z of a point of hash h that ct_thin_keeps (ct_thin_add's slow part). */
int ct_thin_push(ct_thin_set *s, float z, uint32_t h, size_t max);
/* Offers the sample z of a point of hash h (max >= 1). Returns 0 when out of memory.
 * Inline: once thinned, most samples are turned away here, millions of them. */
static inline int ct_thin_add(ct_thin_set *s, float z, uint32_t h, size_t max) {
    s->total++;
    return !ct_thin_keeps(s, h) || ct_thin_push(s, z, h, max);
}
/* Offers every sample src kept (its total counted as offered). Returns 0 when out of memory. */
int ct_thin_merge(ct_thin_set *dst, const ct_thin_set *src, size_t max);
/* Empty again (buffers kept). */
void ct_thin_clear(ct_thin_set *s);
void ct_thin_free(ct_thin_set *s);

#endif
