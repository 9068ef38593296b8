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

/* As ct_utf8_repaired, but such a byte is read as Latin-1 (0xE9 becomes U+00E9 'é'): the
 * usual case of text that is not UTF-8 (a CSV saved as Latin-1 or Windows-1252) comes
 * out right, and different texts stay different (ids). */
char *ct_utf8_latin1_fallback(const char *s, size_t *converted);

#endif
