#include "io/ogr_values.h"

#include <math.h>

ct_attr_type ct_ogr_attr_type(OGRFieldDefnH fd) {
    switch (OGR_Fld_GetType(fd)) {
    case OFTInteger: return OGR_Fld_GetSubType(fd) == OFSTBoolean ? CT_ATTR_BOOL : CT_ATTR_INT;
    case OFTInteger64: return CT_ATTR_INT;
    case OFTReal: return CT_ATTR_REAL;
    default: return CT_ATTR_STRING;
    }
}

ct_status ct_ogr_read_value(ct_context *ctx, OGRFeatureH f, int field, ct_attr_type type, int empty_is_null,
                            ct_value *v) {
    if (!OGR_F_IsFieldSetAndNotNull(f, field)) return CT_OK;
    switch (type) {
    case CT_ATTR_INT:
    case CT_ATTR_BOOL:
        v->is_null = 0;
        v->v.i = OGR_F_GetFieldAsInteger64(f, field);
        return CT_OK;
    case CT_ATTR_REAL: {
        double d = OGR_F_GetFieldAsDouble(f, field);
        if (!isfinite(d)) return CT_OK;
        v->is_null = 0;
        v->v.r = d;
        return CT_OK;
    }
    case CT_ATTR_STRING: {
        const char *s = OGR_F_GetFieldAsString(f, field);
        if (empty_is_null && !*s) return CT_OK;
        return ct_value_set_string(ctx, v, s);
    }
    }
    return CT_OK;
}
