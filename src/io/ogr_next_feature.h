/* Internal: reading a feature with GDAL's error for it, so that a feature whose geometry
 * GDAL could not decode is told apart from one that has none. */
#ifndef CT_IO_OGR_NEXT_FEATURE_H
#define CT_IO_OGR_NEXT_FEATURE_H

#include <ogr_api.h>

#include "citytiler/context.h"

/* GDAL's first error (CE_Failure or worse) while one feature was read; "" when none. */
typedef struct ct_ogr_read_error {
    char msg[256];
    ct_context *ctx;  /* where GDAL's warnings go meanwhile (NULL: nowhere) */
    const char *path; /* the source they are about (named in them; NULL: none) */
} ct_ogr_read_error;

/* From ct_ogr_errors_begin to ct_ogr_errors_end (this thread's GDAL calls in between):
 * GDAL's first error is kept in *err (cleared at begin) instead of being printed; warnings
 * go to ctx's log (ct_gdal_log_message; ctx NULL: dropped, for a second reading). */
void ct_ogr_errors_begin(ct_context *ctx, const char *path, ct_ogr_read_error *err);
void ct_ogr_errors_end(void);

/* As OGR_L_GetNextFeature(layer), keeping GDAL's first error of the call in *err instead
 * of letting GDAL print it (warnings go to ctx's log, as ct_ogr_errors_begin says). GDAL returns a
 * feature whose geometry blob it cannot decode (a corrupt GeoPackage blob, a damaged
 * shapefile record) without a geometry, as if it had none: only this error tells. GDAL's
 * error handlers and error state are per thread, so threads may call this at once on
 * layers of their own. The caller destroys the feature (OGR_F_Destroy). */
OGRFeatureH ct_ogr_next_feature(ct_context *ctx, const char *path, OGRLayerH layer, ct_ogr_read_error *err);

/* OGR ends a layer the same way at its end and on an error (a damaged file): the error
 * for a reading that stopped on err, "PATH: reading stopped WHERE (GDAL's message): the
 * source is damaged; its remaining ITEMS would be missing" (where: "after record 12"). */
ct_status ct_ogr_reading_stopped(ct_context *ctx, const char *path, const char *where, const char *items,
                                 const ct_ogr_read_error *err);

#endif
