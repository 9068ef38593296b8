/* Internal: OGR field values as citytiler attribute values (shared by the OGR readers). */
#ifndef CT_IO_OGR_VALUES_H
#define CT_IO_OGR_VALUES_H

#include <ogr_api.h>
#include "citytiler/dataset.h"

/* The attribute type of an OGR field: integers (booleans by subtype), reals, else strings. */
ct_attr_type ct_ogr_attr_type(OGRFieldDefnH fd);

/* Sets *v from field `field` of f as `type`; unset, null and non-finite numbers stay null
 * (tiles never carry NaN), and so does "" when empty_is_null (an empty CSV cell). */
ct_status ct_ogr_read_value(ct_context *ctx, OGRFeatureH f, int field, ct_attr_type type, int empty_is_null,
                            ct_value *v);

#endif
