/* Internal: property identifiers for EXT_structural_metadata, shared by the GLB writers. */
#ifndef CT_IO_GLB_IDENT_H
#define CT_IO_GLB_IDENT_H

#include <stddef.h>

/* 1 when s is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
int ct_glb_utf8_valid(const char *s);

/* An identifier ^[a-zA-Z_][a-zA-Z0-9_]*$ made from `name`: each other character (a UTF-8
 * sequence at a time) becomes '_', a leading digit gets a '_' prefix, "" becomes "_".
 * malloc'd; NULL when out of memory. */
char *ct_glb_ident(const char *name);

/* ct_glb_ident(name), made different from every taken[0..n) by a "_2", "_3", ... suffix.
 * malloc'd; NULL when out of memory. */
char *ct_glb_unique_ident(const char *name, const char *const *taken, size_t n);

#endif
