/* citytiler — ground and roof heights of one footprint from binned LiDAR points. */
#ifndef CITYTILER_HEIGHTS_H
#define CITYTILER_HEIGHTS_H

#include <stdint.h>
#include "citytiler/geometry.h"
#include "citytiler/points.h"

typedef struct ct_heights_params {
    double roof_percentile;    /* 0..100, e.g. 90 */
    double ground_percentile;  /* 0..100, e.g. 10 */
    double buffer;             /* ground points within this distance of the footprint (m) */
    double max_buffer;         /* when too few ground points, the buffer doubles up to this */
    uint32_t min_roof_points;
    uint32_t min_ground_points;
    /* A building's roof or ground samples beyond this many are thinned, deterministically
     * (the same points whatever their order; see ct_heights_samples): memory stays bounded
     * under a footprint of square kilometres. 0: no bound. */
    uint32_t max_samples;
    uint8_t roof_class[256];   /* nonzero: the class counts as building/roof */
    uint8_t ground_class[256]; /* nonzero: the class counts as ground */
} ct_heights_params;

typedef struct ct_heights_result {
    double ground_z;           /* NaN when fewer than min_ground_points */
    double roof_z;             /* at roof_percentile; NaN when fewer than min_roof_points */
    double roof_p50, roof_p70, roof_max;
    uint32_t roof_points, ground_points;
    double density;            /* roof points per m² of footprint */
    double ground_buffer_used; /* the buffer that gave the ground points */
    /* Thinned (more than max_samples): the percentiles are those of the points whose hash
     * has its lowest roof_thin (ground_thin) bits zero, about 1 in 2^k; 0: of every point.
     * roof_points, ground_points and density count every point all the same. */
    uint32_t roof_thin, ground_thin;
} ct_heights_result;

/* Reusable per-thread buffers. Zero-initialise; free with ct_heights_scratch_free. */
typedef struct ct_heights_scratch {
    ct_span_list spans;
    float *roof, *ground;
    size_t roof_cap, ground_cap;
    struct ct_edge_grid *grid; /* the footprint's edges bucketed for the point tests */
    struct ct_outline_rows *rows; /* a large sparse box's search area, row by row */
    struct ct_heights_thin *thin; /* a building with more than max_samples candidates: its samples thinned */
} ct_heights_scratch;
void ct_heights_scratch_free(ct_heights_scratch *s);

/* Sorts v ascending. */
void ct_sort_floats(float *v, size_t n);
/* Value at percentile p (0..100) of the sorted v[0..n-1], with linear interpolation
 * between closest ranks (numpy's default). n must be > 0. */
double ct_percentile_sorted(const float *v, size_t n, double p);
/* The median of v[0..n-1] (sorted in place): the mean of the middle two for an even n;
 * NaN when n is 0. The ground a building or asset without one borrows from the others. */
double ct_median_doubles(double *v, size_t n);
/* The same value without sorting: v is reordered (a selection, O(n)). n must be > 0. */
double ct_percentile_select(float *v, size_t n, double p);
/* Several percentiles p[0..k-1] (k <= CT_MAX_PERCENTILES) into out[], each as
 * ct_percentile_select gives it, in one pass of selections over shrinking ranges. */
#define CT_MAX_PERCENTILES 16
void ct_percentiles_select(float *v, size_t n, const double *p, size_t k, double *out);

/* Makes *v hold at least n floats (growing by doubling). Returns 0 when out of memory. */
int ct_floats_reserve(float **v, size_t *cap, size_t n);
/* Fills out's roof_z (at roof_percentile), roof_p50, roof_p70 and roof_max from the n > 0
 * samples in v (reordered). */
void ct_heights_roof_stats(float *v, size_t n, double roof_percentile, ct_heights_result *out);
/* No heights yet: NaN heights, no points, the first ground buffer. */
void ct_heights_result_init(ct_heights_result *out, const ct_heights_params *prm);

/* Computes the heights of one footprint. Thread-safe for distinct scratch.
 * Returns CT_ERR_NOMEM when a buffer cannot grow (no message is set). */
ct_status ct_heights_compute(const ct_point_store *store, const ct_footprint *fp, const ct_heights_params *prm,
                             ct_heights_scratch *scratch, ct_heights_result *out);

/* The parts of ct_heights_compute, for ct_heights_sweep (src/geom/heights_sweep.c),
 * which gathers the same samples cell by cell: */
/* n samples per m² of fp; NaN (unknown) when fp's area is not positive or no more than a
 * millionth of its box's (a self-intersecting footprint whose lobes cancel). */
double ct_heights_density(const ct_footprint *fp, size_t n);
/* A building's samples of one kind: v[0..n-1] (reordered by the percentiles), kept of the
 * `total` found; thinned (n <= max_samples < total): those of the points whose hash
 * (geom/heights_thin.h) has its lowest `thin` bits zero; else n == total, thin == 0. */
typedef struct ct_heights_samples {
    float *v;
    size_t n, total;
    uint32_t thin;
} ct_heights_samples;
/* roof_points (total), density and (with min_roof_points) the roof percentiles. */
void ct_heights_set_roof(ct_heights_result *out, const ct_footprint *fp, ct_heights_samples roof,
                         const ct_heights_params *prm);
/* ground_points (total), ground_buffer_used = buffer and (with min_ground_points) ground_z. */
void ct_heights_set_ground(ct_heights_result *out, ct_heights_samples ground, double buffer,
                           const ct_heights_params *prm);
/* 1 when nground samples within prm->buffer are too few and the search would widen. */
int ct_heights_needs_widening(const ct_heights_params *prm, size_t nground);
/* The widened search's buffer after `buffer`: doubled (from 0: 1 m), at most max_buffer
 * (buffer 5, max_buffer 24: 10, 20, 24); 0 once buffer reached max_buffer. */
double ct_heights_next_buffer(const ct_heights_params *prm, double buffer);
/* The widened search of ct_heights_compute for a result whose ground_points were counted
 * within prm->buffer (its roof is kept): sets the ground as ct_heights_compute does. */
ct_status ct_heights_widen_ground(const ct_point_store *store, const ct_footprint *fp, const ct_heights_params *prm,
                                  ct_heights_scratch *scratch, ct_heights_result *out);

#endif
