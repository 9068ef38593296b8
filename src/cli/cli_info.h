/* `citytiler info FILE [--classes]`. */
#ifndef CT_CLI_INFO_H
#define CT_CLI_INFO_H
#include "citytiler/context.h"
int ct_cli_info(ct_context *ctx, int argc, char **argv);
#endif
