/* Internal: each `--partition K/N` run's own summary (its stages, memory and times), left
 * in the output's work directory as WORK/.resume/summary-K-of-N.json, so that the merge's
 * run-summary.json describes the whole run (`partitions`): the largest partition is what
 * a cluster job must fit, and a slow one is found there, not in N logs. */
#ifndef CT_CORE_PARTITION_SUMMARIES_H
#define CT_CORE_PARTITION_SUMMARIES_H

#include <jansson.h>
#include "citytiler/context.h"

/* Writes partition k of n's summary (without its `pipeline`: the merge's has it) into
 * dir's .resume folder (aside, then renamed: a partition killed meanwhile leaves no torn
 * file; a partition run again replaces its own). */
ct_status ct_partition_summary_save(ct_context *ctx, const char *dir, int k, int n, const json_t *summary);

/* The summaries of partitions 0 .. n-1 found in dir, in partition order (a new array;
 * NULL when out of memory); *missing counts the partitions without one (an older
 * binary's, or a file that does not parse). */
json_t *ct_partition_summaries_load(const char *dir, int n, int *missing);

#endif
