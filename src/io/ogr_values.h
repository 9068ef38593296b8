/* Internal: OGR field values as citytiler attribute values (shared by the OGR readers). */
#ifndef CT_IO_OGR_VALUES_H
#define CT_IO_OGR_VALUES_H

#include <ogr_api.h>
#include "citytiler/dataset.h"

/* The attribute type of an OGR field: integers (booleans by subtype), reals, else strings. */
ct_attr_type ct_ogr_attr_type(OGRFieldDefnH fd);

/* Sets *v from field `field` of f as `type`; unset and null values stay null, and so does
 * "" when empty_is_null (an empty CSV cell). A real that is NaN or infinite stays null
 * too (tiles never carry them) and sets *not_finite (when not NULL) to 1, so that the
 * reader counts it. Text that is not UTF-8 (the tiles' metadata must be) has its other
 * bytes read as Latin-1 and sets *not_utf8 to 1. Dates and times become ISO 8601 text,
 * lists JSON arrays. */
ct_status ct_ogr_read_value(ct_context *ctx, OGRFeatureH f, int field, ct_attr_type type, int empty_is_null,
                            ct_value *v, int *not_utf8, int *not_finite);

/* A copy of s (malloc'd, NULL when out of memory) that is valid UTF-8: other bytes are
 * read as Latin-1, and then *not_utf8 is set to 1. */
char *ct_ogr_utf8_copy(const char *s, int *not_utf8);

/* A source field that passes through as an attribute. */
typedef struct ct_ogr_field_map {
    int src;           /* OGR field index */
    int dst;           /* attribute index in the dataset or asset set; -1 until added */
    ct_attr_type type;
    int infer;         /* a CSV text column whose values decide its type (readers.assets) */
} ct_ogr_field_map;

/* Which fields pass through: every field but those in skip when `all`, and the fields
 * named in names. */
typedef struct ct_ogr_field_pick {
    int all;
    const int *skip;          /* field indexes `all` leaves out (coordinate columns); -1s are ignored */
    size_t nskip;
    const char *const *names;
    size_t nnames;
    int ignore_case;          /* names compared ignoring case */
} ct_ogr_field_pick;

/* The fields of defn that `pick` chooses, in field order, with their attribute type
 * (ct_ogr_attr_type), dst -1 and infer 0. Names that are not fields are not checked
 * here: they match nothing. *maps (one slot per field of defn) is the caller's to free,
 * also on error. Error: CT_ERR_NOMEM naming `what`. */
ct_status ct_ogr_pick_fields(ct_context *ctx, OGRFeatureDefnH defn, const ct_ogr_field_pick *pick, const char *what,
                             ct_ogr_field_map **maps, size_t *nmaps);

#endif
