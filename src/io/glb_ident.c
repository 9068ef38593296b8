#include "io/glb_ident.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ct_glb_utf8_valid(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p, n;
        uint32_t cp;
        if (c < 0x80) { p++; continue; }
        if (c >= 0xC2 && c <= 0xDF) { n = 1; cp = c & 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { n = 2; cp = c & 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { n = 3; cp = c & 0x07; }
        else return 0;
        for (unsigned i = 1; i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            return 0;
        p += n + 1;
    }
    return 1;
}

char *ct_glb_ident(const char *name) {
    if (!name) name = "";
    size_t n = strlen(name);
    char *out = malloc(n + 2);
    if (!out) return NULL;
    size_t k = 0;
    if (name[0] >= '0' && name[0] <= '9') out[k++] = '_';
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        int ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_';
        if (ok) out[k++] = (char)*p;
        else if ((*p & 0xC0) != 0x80) out[k++] = '_'; /* continuation bytes are dropped */
    }
    if (k == 0) out[k++] = '_';
    out[k] = '\0';
    return out;
}

static int is_taken(const char *const *taken, size_t n, const char *id) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(taken[i], id) == 0) return 1;
    return 0;
}

char *ct_glb_unique_ident(const char *name, const char *const *taken, size_t n) {
    char *base = ct_glb_ident(name);
    if (!base || !is_taken(taken, n, base)) return base;
    size_t len = strlen(base) + 24;
    char *cand = malloc(len);
    if (!cand) {
        free(base);
        return NULL;
    }
    for (size_t k = 2;; k++) {
        snprintf(cand, len, "%s_%zu", base, k);
        if (!is_taken(taken, n, cand)) break;
    }
    free(base);
    return cand;
}
