/* citytiler — topology-preserving footprint simplification (GEOS), optionally keeping
 * the walls that neighbouring footprints share exactly shared. */
#ifndef CITYTILER_SIMPLIFY_H
#define CITYTILER_SIMPLIFY_H

#include <stddef.h>
#include "citytiler/geometry.h"

/* Per-thread workspace (GEOS handle, hash tables, scratch). Not thread-safe: one per
 * thread. NULL when out of memory. */
typedef struct ct_simplifier ct_simplifier;
ct_simplifier *ct_simplifier_create(void);
void ct_simplifier_destroy(ct_simplifier *s);

typedef enum ct_simplify_result {
    CT_SIMPLIFY_OK = 0,     /* outputs hold simplified (maybe unchanged) footprints */
    CT_SIMPLIFY_KEPT,       /* simplification failed a check: outputs are copies of the
                             * inputs; ct_simplifier_reason() says why */
    CT_SIMPLIFY_NOMEM
} ct_simplify_result;

/* Simplifies one footprint on its own with GEOSTopologyPreserveSimplify (Douglas-Peucker
 * that never makes a ring cross itself or another ring). Every output vertex is an
 * input vertex; each boundary point moves by at most `tolerance` (m), so the area
 * changes by at most perimeter x tolerance. *out is new (ct_footprint_free); on
 * CT_SIMPLIFY_KEPT it is a copy of `in`. */
ct_simplify_result ct_simplify_footprint(ct_simplifier *s, double tolerance, const ct_footprint *in,
                                         ct_footprint *out);

/* Simplifies n footprints together so that walls they share stay shared: the
 * footprints are snapped to their neighbours (snap_tolerance, m: inserts the
 * neighbour's vertices that lie on a wall, e.g. T-junctions), their boundaries are cut
 * into chains between the vertices where three or more faces meet (these stay fixed),
 * every chain is simplified once for all footprints using it (one
 * GEOSTopologyPreserveSimplify over all chains, so no chain crosses another), and each
 * ring is rebuilt from its chains. out[0..n-1] are new footprints.
 *
 * Each result is then checked against its input and its neighbours' results: a point
 * of its boundary moved more than `tolerance` (snapping counts: a vertex inserted from
 * a neighbour farther than tolerance from the wall moves it that far), its area changed
 * by more than perimeter x tolerance, or it overlaps another result more than the two
 * inputs overlapped. Such a footprint is kept as its input (kept[i] = 1, when kept is
 * not NULL; ct_simplifier_refusal() says why) and the group is simplified again with
 * it fixed (not snapped, its walls not simplified), so its neighbours still share its
 * walls; the result is CT_SIMPLIFY_OK. When any rebuilt footprint is invalid or a ring
 * collapses or flips (or footprints are still refused after 8 passes), all outputs are
 * copies of the inputs and the result is CT_SIMPLIFY_KEPT. */
ct_simplify_result ct_simplify_group(ct_simplifier *s, double tolerance, double snap_tolerance,
                                     const ct_footprint *const *in, size_t n, ct_footprint *out,
                                     unsigned char *kept);

/* After ct_simplify_group returned CT_SIMPLIFY_OK with kept[i] = 1: why footprint i
 * was kept (a fixed text, the same for every footprint kept for that reason). *detail
 * (when detail is not NULL) receives the figures; *neighbour the index in the group of
 * the footprint it would have overlapped, or (size_t)-1. Owned by s, valid until the
 * next call on s. */
const char *ct_simplifier_refusal(const ct_simplifier *s, size_t i, const char **detail, size_t *neighbour);

/* Text for the last CT_SIMPLIFY_KEPT. Owned by s. */
const char *ct_simplifier_reason(const ct_simplifier *s);

/* Groups boxes (xmin, ymin, xmax, ymax; 4 per item) that touch or overlap after growing
 * by eps, transitively. members[] receives the item indices grouped, ascending within a
 * group; group g is members[start[g] .. start[g+1]-1]; groups are ordered by their
 * first member. members has n entries, start n + 1. Returns the number of groups, or
 * (size_t)-1 when out of memory. */
size_t ct_bbox_groups(const double *bbox, size_t n, double eps, size_t *members, size_t *start);

/* Deep copy of a footprint. Returns 0, or -1 when out of memory (*out then empty). */
int ct_footprint_copy(const ct_footprint *in, ct_footprint *out);

#endif
