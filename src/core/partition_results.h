/* Internal: what `citytiler run --partition K/N` measured from the LiDAR, left in the
 * output's work directory for `citytiler merge`, which takes it instead of reading and
 * measuring all the LiDAR again (it did: as long as a whole run, on one machine, after
 * every partition had done the same).
 *
 * WORK/.resume/results-KEY-K-of-N.bin holds partition K's share of a stage's per-item
 * results (records [total*K/N, total*(K+1)/N)), under a header saying which run made it
 * (run_hash: the pipeline's options and the LiDAR files read, see
 * ct_partition_results_run_hash) and from which items (data_hash: the buildings or assets
 * measured), and ends with a checksum. Every partition measures every item, so each
 * share is right; the merge takes all N. The files go with WORK/.resume when the merge
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

/* Under --partition K/N with a work directory (ct_context_work_dir): writes this
 * partition's share of recs (total records of rec_size bytes). Nothing to do otherwise. */
ct_status ct_partition_results_save(ct_context *ctx, const char *key, uint64_t run_hash, uint64_t data_hash,
                                    const void *recs, size_t rec_size, size_t total);

/* In a merge: 1 when every partition the work directory records (.resume/partitions)
 * left its share of key's results from a run with run_hash and records of rec_size (0:
 * any). */
int ct_partition_results_ready(const ct_context *ctx, const char *key, uint64_t run_hash, size_t rec_size);

/* In a merge: every partition's share of key's results into recs (total records of
 * rec_size). An error names the file and the problem: missing, damaged, or made from
 * other items (data_hash; `what` names them: "buildings") than this merge has. */
ct_status ct_partition_results_load(ct_context *ctx, const char *key, uint64_t run_hash, uint64_t data_hash, void *recs,
                                    size_t rec_size, size_t total, const char *what);

#endif
