/* Internal: a check made before a library (GDAL, Assimp) opens an input path. */
#ifndef CT_IO_INPUT_FILE_H
#define CT_IO_INPUT_FILE_H

#include "citytiler/context.h"

/* CT_OK when `path` may be handed to an opener: a regular file, a directory, or a path
 * that does not exist (a connection string such as "PG:...", or a missing file the
 * opener reports itself). A FIFO, socket or device is refused with CT_ERR_INPUT and a
 * message naming it: opening a FIFO blocks until a writer appears, so the run would
 * hang instead of failing. `what` names the role of the file in the message (may be NULL). */
ct_status ct_input_file_check(ct_context *ctx, const char *path, const char *what);

#endif
