/* Canonical paths of files that may not exist yet. */
#include "core/path_identity.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Applies one component (without '/') to the absolute path in buf (len used): "." and
 * "" change nothing, ".." drops the last component (never the root), others append. */
static int apply_component(char **buf, size_t *len, size_t *cap, const char *comp, size_t n) {
    if (n == 0 || (n == 1 && comp[0] == '.')) return 1;
    if (n == 2 && comp[0] == '.' && comp[1] == '.') {
        while (*len > 1 && (*buf)[*len - 1] != '/') (*len)--;
        if (*len > 1) (*len)--; /* the '/' before it, unless it is the root */
        (*buf)[*len] = '\0';
        return 1;
    }
    size_t need = *len + 1 + n + 1;
    if (need > *cap) {
        char *nb = realloc(*buf, need);
        if (!nb) return 0;
        *buf = nb;
        *cap = need;
    }
    if (*len > 1) (*buf)[(*len)++] = '/'; /* (buf is absolute: "/" needs none) */
    memcpy(*buf + *len, comp, n);
    *len += n;
    (*buf)[*len] = '\0';
    return 1;
}

char *ct_path_canonical(const char *path) {
    char *work = strdup(path);
    if (!work) return NULL;
    size_t n = strlen(work);
    while (n > 1 && work[n - 1] == '/') work[--n] = '\0';
    /* The longest leading part that exists: cut components off the end until realpath
     * resolves what is left (rest: where the unresolved part starts in path). */
    char *base = NULL;
    size_t rest = n;
    for (;;) {
        char saved = work[rest];
        work[rest] = '\0';
        base = rest > 0 ? realpath(work, NULL) : NULL;
        work[rest] = saved;
        if (base || rest == 0) break;
        while (rest > 0 && work[rest - 1] != '/') rest--; /* to the start of the last component */
        while (rest > 1 && work[rest - 1] == '/') rest--; /* and before its slashes ("/" is kept: it resolves) */
    }
    if (!base && work[0] != '/') base = realpath(".", NULL);
    if (!base) {
        free(work);
        return NULL;
    }
    size_t len = strlen(base), cap = len + 1;
    const char *p = work + rest;
    int ok = 1;
    while (ok && *p) {
        while (*p == '/') p++;
        const char *e = strchr(p, '/');
        size_t cn = e ? (size_t)(e - p) : strlen(p);
        ok = apply_component(&base, &len, &cap, p, cn);
        p += cn;
    }
    free(work);
    if (!ok) {
        free(base);
        return NULL;
    }
    return base;
}

int ct_path_same(const char *a, const char *b) {
    char *ca = ct_path_canonical(a), *cb = ct_path_canonical(b);
    int same = ca && cb ? strcmp(ca, cb) == 0 : -1;
    free(ca);
    free(cb);
    struct stat sa, sb;
    if (same == 0 && stat(a, &sa) == 0 && stat(b, &sb) == 0) same = sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    return same;
}

int ct_path_within(const char *path, const char *dir) {
    char *cp = ct_path_canonical(path), *cd = ct_path_canonical(dir);
    int within = -1;
    if (cp && cd) {
        size_t n = strlen(cd);
        within = strncmp(cp, cd, n) == 0 && (cp[n] == '/' || cp[n] == '\0' || (n == 1 && cd[0] == '/'));
    }
    free(cp);
    free(cd);
    return within;
}
