/* The writer's transformation to WGS84 made on a thread of its own while earlier stages
 * run. PROJ searches its database for the operations (proj_create_crs_to_crs), serially:
 * 0.15-0.25 s for a compound CRS such as EPSG:28992+5709, a fifth of a 10k-building run
 * with two threads. The inputs it needs (the working CRS, the heights' CRS, a point of the
 * data) are known once the readers ran, so the search can overlap the heights stage. The
 * result is the same transformation ct_geo_transform_create_ex makes from those inputs,
 * whenever it is made. */
#ifndef CT_TILES_GEO_PREFETCH_H
#define CT_TILES_GEO_PREFETCH_H

#include "citytiler/crs.h"

typedef struct ct_geo_prefetch ct_geo_prefetch;

/* Starts making the transformation from src_crs with options o (copied) on a new thread.
 * NULL when it cannot start (out of memory, no thread): the caller makes it itself later. */
ct_geo_prefetch *ct_geo_prefetch_start(const char *src_crs, const ct_geo_options *o);

/* Waits for the thread and returns its transformation (the caller owns it) when it was
 * made from the same src_crs and options; NULL when it failed or the inputs differ (the
 * caller then makes it itself, which also gives the error message). Frees f. */
ct_geo_transform *ct_geo_prefetch_take(ct_geo_prefetch *f, const char *src_crs, const ct_geo_options *o);

/* Waits for the thread and frees everything (f may be NULL). */
void ct_geo_prefetch_free(ct_geo_prefetch *f);

#endif
