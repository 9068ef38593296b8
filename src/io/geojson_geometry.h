/* Internal: why GDAL gave a GeoJSON feature no geometry. GDAL reads a GeoJSON file whole
 * at its first feature and drops a geometry it cannot parse (a position with one number,
 * a string for a coordinate, an unknown type): the feature comes without one, like a
 * feature whose geometry is null, and GDAL's messages come before the first feature
 * without naming any. This finds the feature's geometry in the file again and says what
 * is wrong with it. */
#ifndef CT_IO_GEOJSON_GEOMETRY_H
#define CT_IO_GEOJSON_GEOMETRY_H

#include <gdal.h>
#include <jansson.h>
#include <stddef.h>

#include "citytiler/context.h"
#include "io/ogr_next_feature.h"

/* 1 when the dataset was opened by GDAL's GeoJSON driver. */
int ct_geojson_is(GDALDatasetH d);

/* What is wrong with a GeoJSON geometry object, as "type 'Polygonn' is not a geometry
 * type" or "coordinates[0][1]: a position needs 2 or 3 numbers, not 1", into why.
 * Returns 0 when the feature has no geometry: geometry NULL or JSON null, or a
 * well-formed empty one ("coordinates": []); else 1 (why is then "" when no fault is
 * found: GDAL refused it for a reason not checked here). */
int ct_geojson_geometry_problem(const json_t *geometry, char *why, size_t size);

/* A GeoJSON source's reading: GDAL's message at its first feature, and the file opened
 * again keeping each feature's JSON (GDAL's NATIVE_DATA), opened on first use: only runs
 * with features without geometry pay for it. Inactive for other drivers. */
typedef struct ct_geojson_diag {
    int active;               /* the source is GeoJSON */
    const char *path, *layer; /* the source and layer as the reader opened them */
    int tried;                /* the second opening was tried */
    GDALDatasetH ds;          /* NULL when it failed */
    char file_note[256];      /* GDAL's first message while it read the file, or "" */
} ct_geojson_diag;

void ct_geojson_diag_init(ct_geojson_diag *d, GDALDatasetH source, const char *path, const char *layer);

/* GDAL's error for a feature just read (err, from ct_ogr_next_feature): for GeoJSON it came
 * while GDAL read the whole file and names no feature, so the first one is logged once for
 * the file (`items` are what the lines below it name, e.g. "features") and err cleared. */
void ct_geojson_diag_take_error(ct_context *ctx, ct_geojson_diag *d, ct_ogr_read_error *err, const char *items);

/* For feature fid that GDAL gave without geometry: 1 and what is wrong with it in why
 * when the file holds a geometry for it (when no fault is found: GDAL's message at
 * reading the file, or "GDAL could not read it"); 0 when it holds none, it cannot tell,
 * or the source is not GeoJSON. */
int ct_geojson_diag_feature(ct_geojson_diag *d, long long fid, char *why, size_t size);
void ct_geojson_diag_close(ct_geojson_diag *d);

#endif
