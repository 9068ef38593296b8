#include "io/ogr_values.h"
#include "core/utf8.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
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

/* A date, time or date-time field as ISO 8601 (2024-02-29, 13:45:30.123,
 * 2024-02-29T13:45:30.123+01:00): OGR's own text is its display form (2024/02/29
 * 13:45:30.123+01), which no consumer of the tiles parses. Milliseconds are OGR's
 * precision; written only when not 0. Returns 0 when the field has no such value. */
static int iso_8601(OGRFeatureH f, int field, OGRFieldType t, char *out, size_t n) {
    int y, mo, d, h, mi, tz;
    float sec;
    if (!OGR_F_GetFieldAsDateTimeEx(f, field, &y, &mo, &d, &h, &mi, &sec, &tz)) return 0;
    long ms = lround((double)sec * 1000.0);
    if (ms < 0) ms = 0;
    if (ms > 59999) ms = 59999; /* (rounding never carries into the minute) */
    char date[32] = "", time[32] = "", zone[16] = "";
    snprintf(date, sizeof date, "%04d-%02d-%02d", y, mo, d);
    if (ms % 1000) snprintf(time, sizeof time, "%02d:%02d:%02ld.%03ld", h, mi, ms / 1000, ms % 1000);
    else snprintf(time, sizeof time, "%02d:%02d:%02ld", h, mi, ms / 1000);
    if (tz == 100) snprintf(zone, sizeof zone, "Z");
    else if (tz > 1) { /* 100 + quarter hours east of UTC */
        int q = tz - 100, a = q < 0 ? -q : q;
        snprintf(zone, sizeof zone, "%c%02d:%02d", q < 0 ? '-' : '+', a / 4, (a % 4) * 15);
    }
    if (t == OFTDate) snprintf(out, n, "%s", date);
    else if (t == OFTTime) snprintf(out, n, "%s%s", time, zone);
    else snprintf(out, n, "%sT%s%s", date, time, zone);
    return 1;
}

/* A list field as JSON text (["a,b", "c"], [1, 2]): OGR's own text, (2:a,b,c), gives
 * different lists the same string. Strings not UTF-8 are read as Latin-1 and set
 * *not_utf8, as a plain text field's. NULL when out of memory. */
static char *json_list(OGRFeatureH f, int field, OGRFieldType t, int *not_utf8) {
    json_t *a = json_array();
    int n = 0, bad = !a;
    if (!bad && t == OFTStringList) {
        char **s = OGR_F_GetFieldAsStringList(f, field);
        for (int i = 0; s && s[i] && !bad; i++) {
            char *text = ct_ogr_utf8_copy(s[i], not_utf8);
            bad = !text || json_array_append_new(a, json_string(text)) != 0;
            free(text);
        }
    } else if (!bad && t == OFTIntegerList) {
        const int *v = OGR_F_GetFieldAsIntegerList(f, field, &n);
        for (int i = 0; i < n && !bad; i++) bad = json_array_append_new(a, json_integer(v[i])) != 0;
    } else if (!bad && t == OFTInteger64List) {
        const GIntBig *v = OGR_F_GetFieldAsInteger64List(f, field, &n);
        for (int i = 0; i < n && !bad; i++) bad = json_array_append_new(a, json_integer((json_int_t)v[i])) != 0;
    } else if (!bad) {
        const double *v = OGR_F_GetFieldAsDoubleList(f, field, &n);
        for (int i = 0; i < n && !bad; i++) bad = json_array_append_new(a, isfinite(v[i]) ? json_real(v[i]) : json_null()) != 0;
    }
    char *text = bad ? NULL : json_dumps(a, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(a);
    return text;
}

ct_status ct_ogr_read_value(ct_context *ctx, OGRFeatureH f, int field, ct_attr_type type, int empty_is_null,
                            ct_value *v, int *not_utf8, int *not_finite) {
    if (!OGR_F_IsFieldSetAndNotNull(f, field)) return CT_OK;
    switch (type) {
    case CT_ATTR_INT:
    case CT_ATTR_BOOL:
        v->is_null = 0;
        v->v.i = OGR_F_GetFieldAsInteger64(f, field);
        return CT_OK;
    case CT_ATTR_REAL: {
        double d = OGR_F_GetFieldAsDouble(f, field);
        if (!isfinite(d)) {
            if (not_finite) *not_finite = 1;
            return CT_OK;
        }
        v->is_null = 0;
        v->v.r = d;
        return CT_OK;
    }
    case CT_ATTR_STRING: {
        OGRFieldType t = OGR_Fld_GetType(OGR_F_GetFieldDefnRef(f, field));
        char iso[96];
        if ((t == OFTDate || t == OFTTime || t == OFTDateTime) && iso_8601(f, field, t, iso, sizeof iso))
            return ct_value_set_string(ctx, v, iso);
        if (t == OFTStringList || t == OFTIntegerList || t == OFTInteger64List || t == OFTRealList) {
            char *text = json_list(f, field, t, not_utf8);
            ct_status st = text ? ct_value_set_string(ctx, v, text) : ct_error_nomem(ctx, "attribute list");
            free(text);
            return st;
        }
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
