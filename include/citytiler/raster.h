/* citytiler — DTM / DSM rasters (any GDAL raster, typically GeoTIFF) as a height
 * source: windowed reads of one band, and per-footprint ground and roof heights
 * from the cells, with the same percentiles as the LiDAR path (heights.h).
 *
 * Threads: a ct_raster is opened once and is read-only afterwards (share it). Reading
 * needs a ct_raster_reader, which holds its own GDAL dataset handle and its own
 * coordinate transformation: create one per thread (ct_raster_scratch does that). */
#ifndef CITYTILER_RASTER_H
#define CITYTILER_RASTER_H

#include <stddef.h>
#include <stdint.h>
#include "citytiler/context.h"
#include "citytiler/geometry.h"
#include "citytiler/heights.h"

typedef struct ct_raster ct_raster;
typedef struct ct_raster_reader ct_raster_reader;

typedef struct ct_raster_open_options {
    const char *path;        /* file (or any GDAL raster name, e.g. /vsizip/...) */
    const char *srs;         /* CRS of a raster that has none, or overriding the stored one; NULL: from the file */
    int band;                /* 1-based band number; 0 means 1 */
    const char *working_crs; /* the dataset's working CRS (WKT or anything OSRSetFromUserInput accepts);
                              * NULL: the raster's own CRS is the working CRS */
} ct_raster_open_options;

/* Opens a raster band and checks it: the file exists, is a raster GDAL can read, has
 * the band, a geotransform and a CRS (its own or o->srs), and a transformation to the
 * working CRS exists. Reads no cells. Errors (CT_ERR_INPUT, or CT_ERR_USAGE for a bad
 * srs/band) name the file and the problem. Caller owns *out: ct_raster_close. */
ct_status ct_raster_open(ct_context *ctx, const ct_raster_open_options *o, ct_raster **out);
void ct_raster_close(ct_raster *r);

const char *ct_raster_path(const ct_raster *r);
/* Size in cells. */
void ct_raster_size(const ct_raster *r, int *width, int *height);
/* Approximate side of a cell in working-CRS units (metres). */
double ct_raster_cell_size(const ct_raster *r);
/* 1 when the raster's horizontal CRS is the working CRS (no transformation). */
int ct_raster_same_crs(const ct_raster *r);
/* The raster's CRS as WKT when it has a vertical part (compound CRS), else NULL. Owned by r. */
const char *ct_raster_vertical_wkt(const ct_raster *r);
/* Extent of the raster in the working CRS (xmin, ymin, xmax, ymax). */
void ct_raster_extent(const ct_raster *r, double out[4]);

/* A per-thread reading handle (own GDAL dataset handle, own transformation).
 * `r` must outlive it. Caller owns *out: ct_raster_reader_destroy. */
ct_status ct_raster_reader_create(ct_context *ctx, const ct_raster *r, ct_raster_reader **out);
void ct_raster_reader_destroy(ct_raster_reader *rd);

/* Valid cells: centre (working CRS) and value. Zero-initialise; free with ct_raster_cells_free. */
typedef struct ct_raster_cells {
    double *x, *y;
    float *z;
    size_t n, cap;
} ct_raster_cells;
void ct_raster_cells_free(ct_raster_cells *c);

/* Replaces c's content with the valid cells (not nodata, not NaN, not masked, |z| <=
 * 1e30) whose centre lies inside bbox (working CRS: xmin, ymin, xmax, ymax), in a fixed
 * order for a given bbox (chunk by chunk, row-major inside each). Reads only the
 * 256 x 256-cell chunks covering bbox, keeping the reader's last 8 (2 MiB) for the next
 * calls. A bbox outside the raster gives no cells. Errors: CT_ERR_IO (read failure, message names the
 * file and the window), CT_ERR_NOMEM. */
ct_status ct_raster_read_cells(ct_context *ctx, ct_raster_reader *rd, const double bbox[4], ct_raster_cells *c);

/* Sets *found to 1 when at least one valid cell lies in the window covering bbox
 * (working CRS); stops at the first one. Memory bounded by the reader's chunk cache,
 * whatever bbox. */
ct_status ct_raster_any_valid(ct_context *ctx, ct_raster_reader *rd, const double bbox[4], int *found);

/* The height rasters of a dataset: a DTM (ground), a DSM (surface: roofs), or both. */
typedef struct ct_raster_set {
    ct_raster *dtm; /* NULL: none */
    ct_raster *dsm; /* NULL: none */
} ct_raster_set;
/* Closes both rasters and frees the set (NULL is fine). */
void ct_raster_set_destroy(ct_raster_set *s);

typedef struct ct_raster_set_options {
    const char *dtm, *dsm;      /* paths; NULL: none (at least one must be given) */
    const char *srs;            /* as in ct_raster_open_options, for both */
    int band;                   /* as in ct_raster_open_options, for both */
    const char *working_crs;    /* as in ct_raster_open_options */
    const double *check_bbox;   /* working CRS; non-NULL: each raster must hold a valid cell in this
                                 * box (the footprints' extent), else an error naming the file:
                                 * nodata everywhere there, or a raster of another area */
} ct_raster_set_options;
/* Opens the DTM and/or DSM and checks them (ct_raster_open, then check_bbox).
 * Caller owns *out: ct_raster_set_destroy. */
ct_status ct_raster_set_open(ct_context *ctx, const ct_raster_set_options *o, ct_raster_set **out);

/* Per-thread state for ct_raster_heights_compute: one reader per raster and buffers.
 * Zero-initialise, then ct_raster_scratch_init; free with ct_raster_scratch_free
 * (also after a failed init). */
typedef struct ct_raster_scratch {
    ct_raster_reader *dtm, *dsm;
    ct_raster_cells cells;
    float *roof, *ground;
    size_t roof_cap, ground_cap;
    struct ct_edge_grid *grid; /* the footprint's edges bucketed for the cell tests */
} ct_raster_scratch;
ct_status ct_raster_scratch_init(ct_context *ctx, const ct_raster_set *set, ct_raster_scratch *s);
void ct_raster_scratch_free(ct_raster_scratch *s);

/* Heights of one footprint from the rasters, in the same terms as ct_heights_compute
 * (same parameters, same result; "points" are cells):
 *  - roof: DSM cells whose centre is inside the footprint; roof_z at
 *    prm->roof_percentile, roof_p50, roof_p70, roof_max; roof_points = that cell count;
 *    density = cells per m² of footprint (about 1/cell area when the DSM is complete);
 *  - ground: DTM cells whose centre is inside the footprint or within prm->buffer of its
 *    boundary (doubling up to prm->max_buffer while fewer than prm->min_ground_points),
 *    at prm->ground_percentile.
 * prm->roof_class / ground_class are ignored. Without a DSM (DTM) the roof (ground)
 * values are NaN with count 0, as are those of a footprint outside the raster.
 * Thread-safe for distinct scratch. Deterministic (independent of threads and order).
 * Errors: CT_ERR_IO (message set, thread-safe), CT_ERR_NOMEM (message set). */
ct_status ct_raster_heights_compute(ct_context *ctx, const ct_footprint *fp, const ct_heights_params *prm,
                                    ct_raster_scratch *s, ct_heights_result *out);

#endif
