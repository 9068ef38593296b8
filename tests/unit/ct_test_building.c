#include "ct_test_building.h"

#include <stdlib.h>
#include <string.h>

ct_building *ct_test_add_building(ct_context *ctx, ct_dataset *ds, const char *id, const double *xy, uint32_t n) {
    ct_building *b = NULL;
    if (ct_dataset_append(ctx, ds, &b) != CT_OK) return NULL;
    ct_polygon *part = calloc(1, sizeof *part);
    if (!part) return NULL;
    part->nrings = 1;
    part->ring_start = malloc(2 * sizeof *part->ring_start);
    part->xy = malloc(2 * n * sizeof *part->xy);
    b->id = strdup(id);
    b->footprint.nparts = 1;
    b->footprint.parts = part; /* (the dataset frees it, whole or not) */
    if (!part->ring_start || !part->xy || !b->id) return NULL;
    part->ring_start[0] = 0;
    part->ring_start[1] = n;
    memcpy(part->xy, xy, 2 * n * sizeof *part->xy);
    return b;
}
