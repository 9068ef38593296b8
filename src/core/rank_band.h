/* citytiler (internal) — under MPI, each process's band of the city: the rows of
 * processing cells whose buildings and assets it measures, and the strip of LiDAR it
 * keeps for them.
 *
 * The rows of the cells (row r: y in [r * cell_size, (r + 1) * cell_size)) split into one
 * run per process, of about equal buildings. A building belongs to the band of the row of
 * its footprint box's lowest y, an asset to the band of its own row. A process keeps the
 * points of its rows widened by `reach` on both sides, and up to the top of its
 * buildings' boxes plus reach: every search of the stages that declared their reach
 * (ct_context_declare_point_reach) then finds the very points one process finds. */
#ifndef CITYTILER_RANK_BAND_H
#define CITYTILER_RANK_BAND_H

#include "citytiler/dataset.h"

#include <stdint.h>

typedef struct ct_rank_band {
    int k, n;            /* this process, of n */
    double cell_size;    /* the rows' height */
    double reach;        /* how far around an item its points are kept (m) */
    int64_t *first_row;  /* n + 1 entries: process r's rows are [first_row[r], first_row[r + 1]) (none when
                          * equal); first_row[0] = INT64_MIN, first_row[n] = INT64_MAX */
    double keep[2];      /* y range of the points this process keeps (keep[0] > keep[1]: none) */
    uint64_t kept_all;   /* points kept over all processes, each counted once (readers.lidar) */
} ct_rank_band;

/* The bands of the dataset's buildings for process k of n (0 <= k < n). NULL when out of
 * memory. */
ct_rank_band *ct_rank_band_plan(const ct_dataset *ds, double cell_size, int k, int n, double reach);
void ct_rank_band_free(ct_rank_band *b);

/* The process whose band holds row floor(y / cell_size) (y not finite: process 0). */
int ct_rank_band_owner(const ct_rank_band *b, double y);
/* The process that measures building i (the band of its box's lowest y). */
int ct_rank_band_building_owner(const ct_rank_band *b, const ct_building *bld);
/* 1 when this process kept every point with y in [y0, y1]. */
int ct_rank_band_covers(const ct_rank_band *b, double y0, double y1);

#endif
