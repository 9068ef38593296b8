/* citytiler (internal) — filters.heights with the points on disk, cell by cell. */
#ifndef CITYTILER_HEIGHTS_SWEEP_H
#define CITYTILER_HEIGHTS_SWEEP_H

#include "citytiler/context.h"
#include "citytiler/heights.h"

/* Heights of the footprints fps[0..n-1] from a store on disk, each cell's points read
 * once from the temporary files (no cell is loaded or indexed) and handed to the
 * buildings whose search boxes they fall in. results[i] is what ct_heights_compute gives,
 * except for the buildings with too few ground points within prm->buffer: widen[i] = 1,
 * and their ground is left for ct_heights_widen_ground. *nwiden counts them. Parallel
 * over cells with `threads`; `progress` (NULL: none) names the progress step. */
ct_status ct_heights_sweep(ct_context *ctx, const ct_point_store *store, const ct_footprint *const *fps, size_t n,
                           const ct_heights_params *prm, int threads, const char *progress, ct_heights_result *results,
                           unsigned char *widen, size_t *nwiden);

#endif
