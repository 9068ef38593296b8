/* Internal: UTF-8 checks for text from the outside (file names, attribute values) that
 * goes into JSON and glTF, which must be UTF-8 (jansson refuses anything else). */
#ifndef CT_CORE_UTF8_H
#define CT_CORE_UTF8_H

#include <stddef.h>

/* 1 when the NUL-terminated s is valid UTF-8 (no overlong forms, surrogates or code
 * points above U+10FFFF), else 0. */
int ct_utf8_valid(const char *s);

/* A copy of s in which every byte that does not start a valid UTF-8 sequence is replaced
 * by U+FFFD; *replaced (when not NULL) gets how many were. malloc'd (the caller frees
 * it); NULL when out of memory. */
char *ct_utf8_repaired(const char *s, size_t *replaced);

#endif
