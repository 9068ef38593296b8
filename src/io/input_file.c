#include "io/input_file.h"

#include <sys/stat.h>

static const char *kind(mode_t m) {
    if (S_ISFIFO(m)) return "a FIFO (named pipe)";
    if (S_ISSOCK(m)) return "a socket";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    return "not a regular file";
}

ct_status ct_input_file_check(ct_context *ctx, const char *path, const char *what) {
    struct stat st;
    if (!path || stat(path, &st) != 0) return CT_OK;
    if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) return CT_OK;
    return ct_error(ctx, CT_ERR_INPUT, "%s: %s%sis %s, not a file that can be read", path, what ? what : "",
                    what ? " " : "", kind(st.st_mode));
}
