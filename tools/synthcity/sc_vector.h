/* synthcity — the vector outputs: footprints.gpkg (layer `buildings`),
 * assets.gpkg (layer `assets`) through GDAL/OGR, and truth.csv. */
#ifndef SYNTHCITY_VECTOR_H
#define SYNTHCITY_VECTOR_H

#include <stdint.h>
#include <stdio.h>

#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include "sc_city.h"

typedef struct sc_vector {
    const char *dir;
    double ox, oy;                    /* origin added to city-relative coordinates */
    GDALDatasetH fds, ads;
    OGRLayerH fl, al;
    int f_id, f_height, f_kind, f_storeys, a_id, a_category, a_status;
    FILE *truth;
    uint64_t nbuildings, nassets, ninvalid;
    uint64_t pending;                 /* features since the last commit */
    char *path_f, *path_a, *path_t;   /* owned */
    char err[1024];
} sc_vector;

/* Creates the three files in `dir` (replacing earlier ones). `srs` is the
 * horizontal CRS of the layers (cloned). Returns 0 or -1 (v->err). */
int sc_vector_open(sc_vector *v, const char *dir, OGRSpatialReferenceH srs, double ox, double oy);

/* Writes the block's buildings (global index continuing from v->nbuildings),
 * their truth rows and the block's assets. Invalid footprints are picked here
 * from the global building index (one in each run of 200 buildings).
 * Returns 0 or -1 (v->err). */
int sc_vector_add_block(sc_vector *v, const sc_city *c, const sc_block *b);

/* Commits and closes. Returns 0 or -1 (v->err). */
int sc_vector_close(sc_vector *v);

/* Closes without committing and removes the files. */
void sc_vector_abort(sc_vector *v);

#endif
