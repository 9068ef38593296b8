/* `citytiler info`: what a user needs to know about a file they were handed. */
#include "cli/cli_info.h"

#include <stdio.h>
#include <string.h>

int ct_cli_info(ct_context *ctx, int argc, char **argv) {
    (void)ctx;
    const char *file = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--classes") == 0) continue;
        if (argv[i][0] == '-') {
            fprintf(stderr, "citytiler info: unknown option '%s'\n", argv[i]);
            return 2;
        }
        file = argv[i];
    }
    if (!file) {
        fprintf(stderr, "citytiler info: missing FILE\n");
        return 2;
    }
    fprintf(stderr, "citytiler info: not available yet (step 2)\n");
    return 1;
}
