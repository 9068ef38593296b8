/* Internal: the record of finished tiles that lets an interrupted run resume
 * (`citytiler run --resume`), and partitions and MPI ranks share their tiles:
 * DIR/.resume/records-K.jsonl, one line per finished tile, appended by process K. */
#ifndef CT_TILES_TILE_JOURNAL_H
#define CT_TILES_TILE_JOURNAL_H

#include <stdint.h>
#include "tiles/quadtree.h"
#include "tiles/tile_content.h"

/* How a run uses the work directory DIR another run may have begun. */
typedef enum ct_journal_mode {
    CT_JOURNAL_NEW,    /* a run of its own: DIR is new */
    CT_JOURNAL_RESUME, /* --resume: DIR holds an interrupted run's finished tiles */
    CT_JOURNAL_SHARED, /* --partition K/N or merge: DIR holds the other partitions' tiles */
} ct_journal_mode;

typedef struct ct_journal ct_journal;

/* Checks (RESUME, SHARED) or records (NEW, or no earlier record) the fingerprint of the
 * run's inputs and options in DIR/.resume/fingerprint (another run's fingerprint there is
 * a usage error saying what to do in that mode), records how many partitions the run has
 * when more than 1 (DIR/.resume/partitions, for the merge), reads the records already
 * there, and opens DIR/.resume/records-WRITER.jsonl to append this process's own. */
ct_status ct_journal_begin(ct_context *ctx, const char *dir, uint64_t fingerprint, ct_journal_mode mode, int writer,
                           int partitions, ct_journal **out);
/* Reads every process's records again (after the others finished theirs). */
ct_status ct_journal_reload(ct_context *ctx, ct_journal *j);
/* The number of partitions the run's processes recorded when the records were read; 0
 * when none did. */
int ct_journal_partitions(const ct_journal *j);
/* 1 when tile t was finished (by an earlier run, or another process) and its GLB is still
 * there, whole: *out filled from its record (no GLB bytes). 0 otherwise. */
int ct_journal_load(const ct_journal *j, const ct_qtile *t, ct_tile_output *out);
/* Records a finished tile (after its GLB is in place). Safe from several threads. */
ct_status ct_journal_save(ct_context *ctx, ct_journal *j, const ct_qtile *t, const ct_tile_output *out);
/* Removes DIR/.resume (before the directory becomes the output). */
void ct_journal_end(ct_journal *j);
/* Closes the journal, its files left in place. NULL is fine. */
void ct_journal_close(ct_journal *j);

#endif
