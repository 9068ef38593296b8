/* GDAL's default handler writes its messages straight to stderr: with --log-format json
 * they were the only lines of a batch log that did not parse. */
#include "io/gdal_log.h"

void ct_gdal_log_message(ct_context *ctx, const char *path, CPLErr level, CPLErrorNum num, const char *msg) {
    if (level == CE_Debug || level == CE_None) return;
    if (!ctx) {
        CPLDefaultErrorHandler(level, num, msg);
        return;
    }
    /* A GDAL failure is citytiler's error only when the caller makes it one (with a
     * message naming the file): here it is a warning, as GDAL's warnings are. */
    ct_log(ctx, CT_LOG_WARN, "%s%sGDAL %s %d: %s", path ? path : "", path ? ": " : "",
           level == CE_Warning ? "warning" : "error", (int)num, msg ? msg : "");
}

static void CPL_STDCALL to_log(CPLErr level, CPLErrorNum num, const char *msg) {
    ct_gdal_log_message(CPLGetErrorHandlerUserData(), NULL, level, num, msg);
}

void ct_gdal_log_install(ct_context *ctx) { CPLSetErrorHandlerEx(to_log, ctx); }

void ct_gdal_log_restore(void) { CPLSetErrorHandlerEx(CPLDefaultErrorHandler, NULL); }
