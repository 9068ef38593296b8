/* citytiler (internal) — work split between processes by weight. */
#ifndef CITYTILER_BALANCE_H
#define CITYTILER_BALANCE_H

#include <stddef.h>
#include <stdint.h>

/* Items 0..n-1 of weight[i] split among `parts` processes: heaviest first (ties: the
 * lower index), each to the process with the least weight so far (ties: the lower one),
 * so that processes get about equal work; part[i] receives the process of item i.
 * Deterministic: every process that calls it with the same weights gets the same split.
 * Returns 0 when out of memory (part unchanged). */
int ct_balance_by_weight(const uint64_t *weight, size_t n, int parts, int *part);

/* Items 0..n-1 split among `parts` processes in runs of consecutive items (process 0 the
 * first run, ...), of about equal weight: item i goes to the process whose equal share of
 * the total weight holds the middle of the item's weight, so that no process carries
 * more than its share plus one item. For items in spatial order (processing cells row by
 * row), each process then reads only its own band of cells. Deterministic; items of
 * weight 0 count as 1 when every weight is 0. Returns 0 when parts < 1. */
int ct_balance_in_runs(const uint64_t *weight, size_t n, int parts, int *part);

#endif
