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

/* 1 when the dataset was opened by GDAL's GeoJSON driver. */
int ct_geojson_is(GDALDatasetH d);

/* What is wrong with a GeoJSON geometry object, as "type 'Polygonn' is not a geometry
 * type" or "coordinates[0][1]: a position needs 2 or 3 numbers, not 1", into why.
 * Returns 0 when the feature has no geometry: geometry NULL or JSON null, or a
 * well-formed empty one ("coordinates": []); else 1 (why is then "" when no fault is
 * found: GDAL refused it for a reason not checked here). */
int ct_geojson_geometry_problem(const json_t *geometry, char *why, size_t size);

/* The file opened again, keeping each feature's JSON (GDAL's NATIVE_DATA), opened on
 * first use: only runs with features without geometry pay for it. */
typedef struct ct_geojson_diag {
    const char *path, *layer; /* the source and layer as the reader opened them */
    int tried;                /* the second opening was tried */
    GDALDatasetH ds;          /* NULL when it failed */
} ct_geojson_diag;

/* For feature fid that GDAL gave without geometry: 1 and the fault in why when the file
 * holds a geometry for it (why "" when no fault is found), 0 when it holds none or it
 * cannot tell. */
int ct_geojson_diag_feature(ct_geojson_diag *d, long long fid, char *why, size_t size);
void ct_geojson_diag_close(ct_geojson_diag *d);

#endif
