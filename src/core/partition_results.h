/* Internal: what `citytiler run --partition K/N` measured from the LiDAR, left in the
 * output's work directory, so that the merge (and partitions run after every partition
 * measured, see --measure-only) take it instead of reading and measuring all the LiDAR
 * again (the merge did: as long as a whole run, on one machine, after every partition).
 *
 * WORK/.resume/results-KEY-K-of-N.bin holds the results partition K measured, each with
 * its item's index: its share of the items (a run of about total/N of them) when every
 * partition measures every item, or the items of its band of the city with
 * --measure-only. A header says which run made it (run_hash: the pipeline's options and
 * the LiDAR files read, see ct_partition_results_run_hash) and from which items
 * (data_hash: the buildings or assets measured); a checksum ends it. Whoever takes them
 * takes all N, each item exactly once. The files go with WORK/.resume when the merge
 * ends (ct_journal_end). */
#ifndef CT_CORE_PARTITION_RESULTS_H
#define CT_CORE_PARTITION_RESULTS_H

#include <stddef.h>
#include <stdint.h>
#include "citytiler/assets.h"
#include "citytiler/context.h"
#include "citytiler/dataset.h"

/* The hash of the run as far as the results depend on it: the pipeline's stages and
 * options (as run; not the writers' path, which partitions may spell otherwise) and, for
 * each of the npaths LAS files, its device, inode, size and modification time. Continues
 * h (0: start). */
uint64_t ct_partition_results_run_hash(const ct_context *ctx, uint64_t h, const char *const *paths, size_t npaths);

/* For a stage's create: its key (its type and how many stages of that type declared one
 * before it: a pipeline may measure twice) into key (size bytes), declared in the context
 * (ct_context_declare_partition_results). Returns 0 when out of memory. */
int ct_partition_results_declare(ct_context *ctx, const char *type, char *key, size_t size);

/* What a stage measured from, for data_hash: every building's id and footprint; every
 * asset's id, flags and position. */
uint64_t ct_partition_results_buildings_hash(const ct_dataset *ds);
uint64_t ct_partition_results_assets_hash(const struct ct_asset_set *set);

/* 1 when this run takes the partitions' results where they are all there: a merge, or
 * a --partition run (not under MPI), with a work directory. */
int ct_partition_results_taken(const ct_context *ctx);

/* 1 when this run leaves its results: a --partition run (not a merge, not under MPI)
 * with a work directory. */
int ct_partition_results_saving(const ct_context *ctx);

/* This partition's share of total items when every partition measures every item:
 * items [*first, *first + *count). */
void ct_partition_results_share(const ct_context *ctx, size_t total, size_t *first, size_t *count);

/* Under --partition K/N with a work directory (ct_context_work_dir): writes what this
 * partition measured, m results of rec_size bytes at recs, result j being item idx[j]'s
 * (of total); with idx NULL, recs holds every item's and this partition's share of them
 * is written. Nothing to do otherwise. */
ct_status ct_partition_results_save(ct_context *ctx, const char *key, uint64_t run_hash, uint64_t data_hash,
                                    const size_t *idx, const void *recs, size_t m, size_t rec_size, size_t total);

/* 1 when every partition (this run's N, or in a merge the N the journal recorded in
 * .resume/partitions) left key's results from a run with run_hash and records of
 * rec_size (0: any), as many as there are items. */
int ct_partition_results_ready(const ct_context *ctx, const char *key, uint64_t run_hash, size_t rec_size);

/* Every partition's results of key into recs (total records of rec_size), by index. An
 * error names the file and the problem: missing, damaged, made from other items
 * (data_hash; `what` names them: "buildings") than this run has, an item given twice or
 * by none. */
ct_status ct_partition_results_load(ct_context *ctx, const char *key, uint64_t run_hash, uint64_t data_hash, void *recs,
                                    size_t rec_size, size_t total, const char *what);

#endif
