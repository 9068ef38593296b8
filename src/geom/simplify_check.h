/* citytiler (internal) — the per-footprint checks of a group simplified together
 * (src/geom/simplify.c): what pipelines/README.md promises of filters.simplify, tested
 * on the result rather than trusted from the steps (snapping to neighbours can move a
 * wall by up to snap_tolerance, and snapping two facing walls to each other can make
 * them cross). */
#ifndef CITYTILER_SIMPLIFY_CHECK_H
#define CITYTILER_SIMPLIFY_CHECK_H

#include <geos_c.h>
#include <stddef.h>
#include "citytiler/geometry.h"

/* Why one footprint of a group was refused. */
typedef struct ct_simplify_refusal {
    const char *why;  /* a fixed text, the same for every footprint refused so */
    char detail[160]; /* the figures: how far, how much */
    size_t other;     /* the neighbour it would overlap (group index), or (size_t)-1 */
} ct_simplify_refusal;

/* Rounding slack of the checks: 1 µm of distance, 1e-6 m² of area. */
#define CT_SIMPLIFY_SLACK 1e-6

/* Checks every footprint out[i] with frozen[i] == 0 (frozen ones are their input):
 *   - each boundary point moved at most `tolerance`: every vertex of in[i] lies within
 *     tolerance of out[i]'s boundary and every vertex of out[i] within tolerance of
 *     in[i]'s (GEOS discrete Hausdorff distance);
 *   - its area changed by at most in[i]'s perimeter x tolerance;
 *   - it overlaps no other output by more than the two inputs overlapped (both of an
 *     overlapping pair are refused, unless one is frozen).
 * Sets failed[i] = 1 and fills refusal[i] for each refused footprint (other entries are
 * left alone). Returns the number refused, or -1 when out of memory. */
long ct_simplify_check(GEOSContextHandle_t h, double tolerance, const ct_footprint *const *in, const ct_footprint *out,
                       size_t n, const unsigned char *frozen, unsigned char *failed, ct_simplify_refusal *refusal);

#endif
