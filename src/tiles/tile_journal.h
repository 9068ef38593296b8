/* Internal: the record of finished tiles that lets an interrupted run resume
 * (`citytiler run --resume`): DIR/.resume/L_X_Y.json per finished tile. */
#ifndef CT_TILES_TILE_JOURNAL_H
#define CT_TILES_TILE_JOURNAL_H

#include <stdint.h>
#include "tiles/quadtree.h"
#include "tiles/tile_content.h"

/* Checks (resume) or records (not resume) the fingerprint of the run's inputs and
 * options in DIR/.resume/fingerprint. Resuming a different run is a usage error. */
ct_status ct_journal_begin(ct_context *ctx, const char *dir, uint64_t fingerprint, int resume);
/* 1 when tile t was finished by an earlier run: *out filled from its record (no GLB
 * bytes). 0 otherwise. */
int ct_journal_load(const char *dir, const ct_qtile *t, ct_tile_output *out);
/* Records a finished tile (after its GLB is in place). */
ct_status ct_journal_save(ct_context *ctx, const char *dir, const ct_qtile *t, const ct_tile_output *out);
/* Removes DIR/.resume (before the directory becomes the output). */
void ct_journal_end(const char *dir);

#endif
