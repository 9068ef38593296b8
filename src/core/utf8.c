/* UTF-8 validation and repair (RFC 3629). */
#include "core/utf8.h"

#include <stdlib.h>
#include <string.h>

/* The length of the valid UTF-8 sequence at p (1 to 4), or 0 when p starts none. */
static size_t sequence_length(const unsigned char *p) {
    if (p[0] < 0x80) return 1;
    size_t n;
    unsigned lo = 0x80, hi = 0xBF; /* the range of the second byte */
    if (p[0] >= 0xC2 && p[0] <= 0xDF) n = 2;
    else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        n = 3;
        if (p[0] == 0xE0) lo = 0xA0; /* overlong */
        if (p[0] == 0xED) hi = 0x9F; /* surrogates */
    } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        n = 4;
        if (p[0] == 0xF0) lo = 0x90; /* overlong */
        if (p[0] == 0xF4) hi = 0x8F; /* above U+10FFFF */
    } else {
        return 0;
    }
    if (p[1] < lo || p[1] > hi) return 0; /* (also stops at the terminating NUL) */
    for (size_t k = 2; k < n; k++)
        if (p[k] < 0x80 || p[k] > 0xBF) return 0;
    return n;
}

int ct_utf8_valid(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = sequence_length(p);
        if (!n) return 0;
        p += n;
    }
    return 1;
}

/* A copy of s with each byte that starts no valid sequence replaced: by U+FFFD, or by
 * the code point of the same value (Latin-1). */
static char *repaired(const char *s, int as_latin1, size_t *replaced) {
    size_t bad = 0, len = 0;
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; p[i];) {
        size_t n = sequence_length(p + i);
        bad += n == 0;
        len += n ? n : as_latin1 ? 2 : 3;
        i += n ? n : 1;
    }
    char *out = malloc(len + 1), *o = out;
    if (!out) return NULL;
    for (size_t i = 0; p[i];) {
        size_t n = sequence_length(p + i);
        if (n) {
            memcpy(o, p + i, n);
            o += n;
            i += n;
        } else if (as_latin1) { /* (a byte >= 0x80: two bytes in UTF-8) */
            *o++ = (char)(0xC0 | (p[i] >> 6));
            *o++ = (char)(0x80 | (p[i] & 0x3F));
            i++;
        } else {
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    *o = '\0';
    if (replaced) *replaced = bad;
    return out;
}

char *ct_utf8_repaired(const char *s, size_t *replaced) { return repaired(s, 0, replaced); }

char *ct_utf8_latin1_fallback(const char *s, size_t *converted) { return repaired(s, 1, converted); }
