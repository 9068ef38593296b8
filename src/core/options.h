/* Internal: checking a stage's JSON options against its option table. */
#ifndef CT_CORE_OPTIONS_H
#define CT_CORE_OPTIONS_H

#include <jansson.h>
#include "citytiler/stage.h"

/* Where options came from, for messages: "FILE: stage N (TYPE)". */
typedef struct ct_option_origin {
    const char *file;
    size_t stage_index;
    const char *base_dir;  /* relative CT_OPT_PATH values resolve against it */
} ct_option_origin;

/* Validates `opts` (an object, modified in place): unknown keys and wrong types are
 * CT_ERR_USAGE errors naming file, stage index and key; missing keys get their
 * defaults; missing required keys are errors; relative paths are resolved. */
ct_status ct_options_check(ct_context *ctx, const ct_stage_vtable *vt, json_t *opts,
                           const ct_option_origin *origin);

/* Joins base_dir and path unless path is absolute or a connection string such as
 * "PG:dbname=x" or "/vsizip/..." (an empty path stays empty). Returns a malloc'd string or NULL when out of memory. */
char *ct_resolve_path(const char *base_dir, const char *path);

/* 1 when v is a value of option type t (JSON null is checked apart: it means the default). */
int ct_option_value_ok(ct_option_type t, const json_t *v);
/* vt's option names, ", "-separated, into buf (cut when it does not fit). */
void ct_option_names(const ct_stage_vtable *vt, char *buf, size_t n);

/* Human name of an option type ("number", "string list", ...). */
const char *ct_option_type_name(ct_option_type t);
/* The same with its article, for "must be ..." ("a number", "an integer", ...). */
const char *ct_option_type_phrase(ct_option_type t);

#endif
