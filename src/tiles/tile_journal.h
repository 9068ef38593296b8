/* Internal: the record of finished tiles that lets an interrupted run resume
 * (`citytiler run --resume`): DIR/.resume/L_X_Y.json per finished tile. */
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

/* Checks (RESUME, SHARED) or records (NEW, or no earlier record) the fingerprint of the
 * run's inputs and options in DIR/.resume/fingerprint. Another run's fingerprint there is
 * a usage error saying what to do in that mode. */
ct_status ct_journal_begin(ct_context *ctx, const char *dir, uint64_t fingerprint, ct_journal_mode mode);
/* 1 when tile t was finished by an earlier run: *out filled from its record (no GLB
 * bytes). 0 otherwise. */
int ct_journal_load(const char *dir, const ct_qtile *t, ct_tile_output *out);
/* Records a finished tile (after its GLB is in place). */
ct_status ct_journal_save(ct_context *ctx, const char *dir, const ct_qtile *t, const ct_tile_output *out);
/* Removes DIR/.resume (before the directory becomes the output). */
void ct_journal_end(const char *dir);

#endif
