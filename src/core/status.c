#include "citytiler/status.h"
#include "citytiler/version.h"

const char *ct_status_name(ct_status status) {
    switch (status) {
    case CT_OK: return "ok";
    case CT_ERR_USAGE: return "usage";
    case CT_ERR_INPUT: return "input";
    case CT_ERR_UNSUPPORTED: return "unsupported";
    case CT_ERR_IO: return "io";
    case CT_ERR_NOMEM: return "out of memory";
    case CT_ERR_INTERNAL: return "internal";
    }
    return "unknown";
}

int ct_status_exit_code(ct_status status) {
    switch (status) {
    case CT_OK: return 0;
    case CT_ERR_USAGE:
    case CT_ERR_INPUT:
    case CT_ERR_UNSUPPORTED: return 2;
    default: return 1;
    }
}

const char *ct_version(void) { return CT_VERSION_STRING; }
