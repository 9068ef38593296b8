/* synthcity — LiDAR simulation for one cell: a jittered grid of pulses at the
 * requested density; each pulse hits a roof (class 6), a tree crown (class 1,
 * sometimes with a last return on the ground) or the ground (class 2, a few
 * class 1 low-vegetation returns). */
#ifndef SYNTHCITY_POINTS_H
#define SYNTHCITY_POINTS_H

#include <stdint.h>

#include "sc_city.h"
#include "sc_las.h"

/* A bucket grid over one cell listing the buildings and trees whose bounds
 * overlap each bucket. Arrays are reused from cell to cell. */
typedef struct sc_index {
    double x0, y0;
    int nx, ny;
    uint32_t *start; size_t cap_start;   /* nx * ny + 1 offsets into items */
    uint32_t *cursor; size_t cap_cursor;
    uint32_t *items; size_t cap_items;   /* building i, or tree (nb + t) */
} sc_index;

typedef struct sc_points_state {
    double spacing;       /* grid spacing (m) = 1 / sqrt(density) */
    uint64_t pulses;      /* pulses emitted so far (the GPS clock) */
    uint64_t by_class[7]; /* points per class 0..6 */
} sc_points_state;

/* Simulates every pulse whose position falls in the block's cell and appends the
 * points to w. Returns 0, or -1 on a write error (w->err) or out of memory
 * (*nomem set). */
int sc_points_cell(const sc_city *c, const sc_block *b, sc_index *ix, sc_points_state *st, sc_las_writer *w,
                   int *nomem);

void sc_index_free(sc_index *ix);

#endif
