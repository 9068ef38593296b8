/* Internal: writing an output directory all at once. Work goes to a sibling
 * temporary directory that replaces the target only when complete, so a failed or
 * killed run never leaves a half-written tileset at the target path. */
#ifndef CT_IO_OUTDIR_H
#define CT_IO_OUTDIR_H

#include <stddef.h>
#include "citytiler/context.h"

/* `final_path` can take an output: it is absent, empty, or an earlier output (holds
 * `marker`) with nothing in it that a writer does not write (a file there would be
 * deleted with it). With `probe`, its work directory is also made and removed again, so
 * that a path that cannot be written (read-only, under a file) is refused before a run
 * starts. Errors are CT_ERR_USAGE, naming the path. */
ct_status ct_outdir_check(ct_context *ctx, const char *final_path, const char *marker, int probe);
/* Two runs writing one output at once deleted each other's work directory (the second's
 * start removed the first's .partial; the first failed with "cannot create"). A run
 * holds a lock on "<final_path>.lock" (flock, not waiting) from before its first stage to
 * its end: exclusive (`partitions` 0), or shared by the `partitions` independent
 * partitions of one run (a run split into another count is refused, as its tiles would
 * fall among these). *fd gets the open lock file. Another run holding it: a usage error
 * naming the path. */
ct_status ct_outdir_lock(ct_context *ctx, const char *final_path, int partitions, int *fd, char **made);
/* Releases it; the lock file is removed when this run held it alone (exclusive), and the
 * folders ct_outdir_lock made for it (*made: the first of them, malloc'd, or NULL) when
 * they are still empty (the run failed before writing). */
void ct_outdir_unlock(const char *final_path, int fd, int partitions, char *made);
/* For `citytiler merge`: the partitions' work directory of final_path is there; else a
 * usage error saying that no partition ran, or that the merge was already done. */
ct_status ct_outdir_check_merge(ct_context *ctx, const char *final_path);
/* 1 when final_path holds a finished output (tileset.json) and no partitions' work
 * directory: merged already, or written whole by a lone run (--partition 0/1). */
int ct_outdir_finished(const char *final_path);
/* Checks that `final_path` is absent, empty, or an earlier output (holds `marker`,
 * e.g. "tileset.json") — anything else is refused rather than overwritten — and
 * prepares the work directory "<final_path>.partial": emptied, or, when `resume` is set,
 * kept as an interrupted run left it. *tmp_out is malloc'd. */
ct_status ct_outdir_begin(ct_context *ctx, const char *final_path, const char *marker, int resume, char **tmp_out);
/* The work directory of final_path: "<final_path>.partial" (into work, n bytes). */
void ct_outdir_work_path(const char *final_path, char *work, size_t n);
/* The number of partitions the processes of a run recorded in WORK/.resume/partitions
 * (for the merge); 0 when none is recorded or the record is unreadable. */
int ct_outdir_partitions(const char *work);
/* Records n there (WORK/.resume must exist). */
ct_status ct_outdir_record_partitions(ct_context *ctx, const char *work, int n);
/* 1 when the work directory of `final_path` exists (runs of other partitions left it);
 * its path goes to work (n bytes). */
int ct_outdir_work_exists(const char *final_path, char *work, size_t n);
/* Removes a directory tree (no error when absent). */
void ct_remove_tree(const char *path);
/* Moves tmp into place (replacing an earlier output). */
ct_status ct_outdir_commit(ct_context *ctx, const char *final_path, const char *tmp_path);
/* Removes the temporary directory and everything in it. */
void ct_outdir_abort(const char *tmp_path);
/* Creates directory `path` and its parents (like mkdir -p). */
ct_status ct_mkdirs(ct_context *ctx, const char *path);
/* Writes `len` bytes to `path` (created or truncated). */
ct_status ct_write_file(ct_context *ctx, const char *path, const void *data, size_t len);

#endif
