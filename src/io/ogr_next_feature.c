/* OGR_L_GetNextFeature with the GDAL error it raised for that feature. */
#include "io/ogr_next_feature.h"

#include <cpl_error.h>

#include "io/gdal_log.h"
#include <stdio.h>

static void CPL_STDCALL keep_first_failure(CPLErr level, CPLErrorNum no, const char *msg) {
    ct_ogr_read_error *e = CPLGetErrorHandlerUserData();
    if (level < CE_Failure) {
        if (e && e->ctx) ct_gdal_log_message(e->ctx, e->path, level, no, msg);
        return;
    }
    if (e && !e->msg[0]) snprintf(e->msg, sizeof e->msg, "%s", msg && msg[0] ? msg : "unknown GDAL error");
}

void ct_ogr_errors_begin(ct_context *ctx, const char *path, ct_ogr_read_error *err) {
    err->msg[0] = '\0';
    err->ctx = ctx;
    err->path = path;
    CPLPushErrorHandlerEx(keep_first_failure, err);
}

void ct_ogr_errors_end(void) { CPLPopErrorHandler(); }

OGRFeatureH ct_ogr_next_feature(ct_context *ctx, const char *path, OGRLayerH layer, ct_ogr_read_error *err) {
    ct_ogr_errors_begin(ctx, path, err);
    OGRFeatureH f = OGR_L_GetNextFeature(layer);
    ct_ogr_errors_end();
    return f;
}

ct_status ct_ogr_reading_stopped(ct_context *ctx, const char *path, const char *where, const char *items,
                                 const ct_ogr_read_error *err) {
    return ct_error(ctx, CT_ERR_INPUT, "%s: reading stopped %s (%s): the source is damaged; its remaining %s would be missing",
                    path, where, err->msg, items);
}
