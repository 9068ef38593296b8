/* citytiler (internal) — GDAL's own warnings and errors through citytiler's log. */
#ifndef CT_IO_GDAL_LOG_H
#define CT_IO_GDAL_LOG_H

#include <cpl_error.h>

#include "citytiler/context.h"

/* From now on, what GDAL/OGR would print on stderr ("Warning 1: Non closed ring
 * detected", "ERROR 1: ...") goes to ctx's log as a warning naming GDAL: one format for
 * every line, JSON lines included. Stages that silence GDAL around a call still do. For
 * a program that owns ctx for its whole run (the CLI): GDAL's handler is process-wide. */
void ct_gdal_log_install(ct_context *ctx);
/* GDAL's own handler again (before ctx is destroyed). */
void ct_gdal_log_restore(void);
/* One GDAL message into ctx's log, about source `path` (NULL: not known); ctx NULL:
 * GDAL's default handler prints it. */
void ct_gdal_log_message(ct_context *ctx, const char *path, CPLErr level, CPLErrorNum num, const char *msg);

#endif
