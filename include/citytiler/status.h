/* citytiler — status codes returned by every fallible function. */
#ifndef CITYTILER_STATUS_H
#define CITYTILER_STATUS_H

/* Every fallible ct_ function returns a ct_status; the message that explains
 * it (naming file, record, field) is kept in the ct_context (ct_error_message). */
typedef enum ct_status {
    CT_OK = 0,
    CT_ERR_USAGE,        /* bad command line, pipeline file or option            -> exit 2 */
    CT_ERR_INPUT,        /* input data missing, malformed, or unusable (no CRS)  -> exit 2 */
    CT_ERR_UNSUPPORTED,  /* valid input we do not handle yet (e.g. LASzip 1 LAZ) -> exit 2 */
    CT_ERR_IO,           /* reading or writing failed at run time                -> exit 1 */
    CT_ERR_NOMEM,        /* an allocation failed                                 -> exit 1 */
    CT_ERR_INTERNAL      /* a library (PROJ, GEOS, ...) failed unexpectedly      -> exit 1 */
} ct_status;

/* Short stable name of a status ("usage", "input", ...). Never NULL. */
const char *ct_status_name(ct_status status);

/* Process exit code for a status: 0 ok, 2 bad usage or bad input, 1 runtime failure. */
int ct_status_exit_code(ct_status status);

#endif
