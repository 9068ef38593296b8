#include "io/ogr_values.h"
#include "core/utf8.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

ct_attr_type ct_ogr_attr_type(OGRFieldDefnH fd) {
    switch (OGR_Fld_GetType(fd)) {
    case OFTInteger: return OGR_Fld_GetSubType(fd) == OFSTBoolean ? CT_ATTR_BOOL : CT_ATTR_INT;
    case OFTInteger64: return CT_ATTR_INT;
    case OFTReal: return CT_ATTR_REAL;
    default: return CT_ATTR_STRING;
    }
}

char *ct_ogr_utf8_copy(const char *s, int *not_utf8) {
    if (ct_utf8_valid(s)) return strdup(s);
    *not_utf8 = 1;
    return ct_utf8_latin1_fallback(s, NULL);
}

ct_status ct_ogr_read_value(ct_context *ctx, OGRFeatureH f, int field, ct_attr_type type, int empty_is_null,
                            ct_value *v, int *not_utf8) {
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
        if (ct_utf8_valid(s)) return ct_value_set_string(ctx, v, s);
        char *text = ct_ogr_utf8_copy(s, not_utf8);
        ct_status st = text ? ct_value_set_string(ctx, v, text) : ct_error_nomem(ctx, "attribute text");
        free(text);
        return st;
    }
    }
    return CT_OK;
}

static int picked(const ct_ogr_field_pick *p, int i, const char *name) {
    int skipped = 0;
    for (size_t k = 0; k < p->nskip; k++) skipped |= p->skip[k] == i;
    if (p->all && !skipped) return 1;
    for (size_t k = 0; k < p->nnames; k++)
        if ((p->ignore_case ? strcasecmp(p->names[k], name) : strcmp(p->names[k], name)) == 0) return 1;
    return 0;
}

ct_status ct_ogr_pick_fields(ct_context *ctx, OGRFeatureDefnH defn, const ct_ogr_field_pick *pick, const char *what,
                             ct_ogr_field_map **maps, size_t *nmaps) {
    int nf = OGR_FD_GetFieldCount(defn);
    *nmaps = 0;
    *maps = calloc(nf > 0 ? (size_t)nf : 1, sizeof **maps);
    if (!*maps) return ct_error_nomem(ctx, what);
    for (int i = 0; i < nf; i++) {
        OGRFieldDefnH fd = OGR_FD_GetFieldDefn(defn, i);
        if (!picked(pick, i, OGR_Fld_GetNameRef(fd))) continue;
        ct_ogr_field_map *m = &(*maps)[(*nmaps)++];
        m->src = i;
        m->dst = -1;
        m->type = ct_ogr_attr_type(fd);
        m->infer = 0;
    }
    return CT_OK;
}
