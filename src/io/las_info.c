/* `citytiler info FILE`: a LAS file described as JSON. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/utf8.h"
#include "io/las_internal.h"

#define CLASS_CHUNK 65536u

/* json_object_set_new that turns any failure into a sticky flag. */
static void put(json_t *o, const char *k, json_t *v, int *bad) {
    if (!v || json_object_set_new(o, k, v) != 0) *bad = 1;
}
static void push(json_t *a, json_t *v, int *bad) {
    if (!v || json_array_append_new(a, v) != 0) *bad = 1;
}
/* A number of the header; null when it is NaN or infinite (JSON has no such numbers, and
 * jansson refuses them: a header with NaN bounds made the whole description fail). */
static json_t *number(double v) { return isfinite(v) ? json_real(v) : json_null(); }
static json_t *vec3(const double v[3]) { return json_pack("[o,o,o]", number(v[0]), number(v[1]), number(v[2])); }
/* Text of the file as UTF-8, any other byte read as Latin-1 (as `info` does for vector
 * sources): jansson refuses text that is not UTF-8. */
static json_t *text(const char *s) {
    char *c = ct_utf8_latin1_fallback(s ? s : "", NULL);
    json_t *j = c ? json_string(c) : NULL;
    free(c);
    return j;
}

static json_t *vlr_list(const ct_las_vlr *v, size_t n, int *bad) {
    json_t *a = json_array();
    if (!a) {
        *bad = 1;
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();
        if (!o) {
            *bad = 1;
            break;
        }
        put(o, "user_id", text(v[i].user_id), bad);
        put(o, "record_id", json_integer(v[i].record_id), bad);
        put(o, "length", json_integer((json_int_t)v[i].length), bad);
        put(o, "description", text(v[i].description), bad);
        put(o, "offset", json_integer((json_int_t)v[i].data_offset), bad);
        push(a, o, bad);
    }
    return a;
}

static ct_status count_classes(ct_context *ctx, const ct_las_reader *r, uint64_t counts[256]) {
    const ct_las_header *h = &r->hdr;
    ct_las_points p;
    size_t cap = h->point_count < CLASS_CHUNK ? (size_t)h->point_count : CLASS_CHUNK;
    ct_status st = ct_las_points_alloc(ctx, cap, CT_LAS_CLASS, &p);
    if (st != CT_OK) return st;
    for (uint64_t first = 0; first < h->point_count && st == CT_OK;) {
        size_t n = h->point_count - first < cap ? (size_t)(h->point_count - first) : cap;
        st = ct_las_read_points(ctx, r, first, n, &p);
        for (size_t i = 0; st == CT_OK && i < n; i++) counts[p.cls[i]]++;
        first += n;
        ct_progress(ctx, "counting classes", first, h->point_count);
    }
    ct_las_points_free(&p);
    return st;
}

ct_status ct_las_info_json(ct_context *ctx, const char *path, int with_classes, json_t **out) {
    *out = NULL;
    ct_las_reader *r = NULL;
    ct_status st = ct_las_open(ctx, path, &r);
    if (st != CT_OK) return st;
    const ct_las_header *h = &r->hdr;
    int bad = 0;
    json_t *o = json_object();
    if (!o) {
        ct_las_close(r);
        return ct_error_nomem(ctx, "info JSON");
    }
    char ver[16];
    snprintf(ver, sizeof ver, "%u.%u", h->version_major, h->version_minor);
    put(o, "file", text(path), &bad);
    put(o, "file_size", json_integer((json_int_t)h->file_size), &bad);
    put(o, "version", json_string(ver), &bad);
    put(o, "point_format", json_integer(h->point_format), &bad);
    put(o, "record_length", json_integer(h->record_length), &bad);
    put(o, "extra_bytes", json_integer(h->extra_bytes), &bad);
    if (r->laz) { /* LAZ: how the records are compressed */
        json_t *z = json_object();
        const char *names[] = {"", "pointwise", "pointwise chunked", "layered chunked"};
        put(z, "compressor", json_string(r->laz->compressor <= 3 ? names[r->laz->compressor] : "?"), &bad);
        put(z, "chunks", json_integer((json_int_t)r->nchunks), &bad);
        put(z, "chunk_size", r->laz->chunk_size == UINT32_MAX ? json_string("variable")
                                                             : json_integer((json_int_t)r->laz->chunk_size), &bad);
        put(o, "laz", z, &bad);
    }
    put(o, "point_count", json_integer((json_int_t)h->point_count), &bad);
    json_t *byret = json_array();
    int nret = h->version_minor >= 4 ? 15 : 5;
    for (int i = 0; byret && i < nret; i++)
        push(byret, json_integer((json_int_t)h->points_by_return[i]), &bad);
    put(o, "points_by_return", byret, &bad);
    put(o, "header_size", json_integer(h->header_size), &bad);
    put(o, "offset_to_points", json_integer(h->offset_to_points), &bad);
    put(o, "global_encoding", json_integer(h->global_encoding), &bad);
    put(o, "file_source_id", json_integer(h->file_source_id), &bad);
    put(o, "system_id", text(h->system_id), &bad);
    put(o, "generating_software", text(h->generating_software), &bad);
    put(o, "creation", json_pack("{s:i,s:i}", "day", h->creation_day, "year", h->creation_year), &bad);
    put(o, "scale", vec3(h->scale), &bad);
    put(o, "offset", vec3(h->offset), &bad);
    put(o, "bounds", json_pack("{s:o,s:o}", "min", vec3(h->min), "max", vec3(h->max)), &bad);
    json_t *crs = json_object();
    if (crs) {
        put(crs, "source", json_string(h->crs_source ? h->crs_source : "none"), &bad);
        put(crs, "wkt", h->crs_wkt ? text(h->crs_wkt) : json_null(), &bad);
        put(crs, "epsg_horizontal", h->epsg_horizontal ? json_integer(h->epsg_horizontal) : json_null(), &bad);
        put(crs, "epsg_vertical", h->epsg_vertical ? json_integer(h->epsg_vertical) : json_null(), &bad);
    }
    put(o, "crs", crs, &bad);
    put(o, "vlrs", vlr_list(h->vlrs, h->nvlrs, &bad), &bad);
    put(o, "evlrs", vlr_list(h->evlrs, h->nevlrs, &bad), &bad);
    json_t *eb = json_array();
    for (size_t i = 0; eb && i < h->nextra_dims; i++) {
        const ct_las_extra_dim *e = &h->extra_dims[i];
        json_t *d = json_pack("{s:o,s:i,s:i,s:i}", "name", text(e->name), "data_type", e->data_type,
                              "size", (json_int_t)e->size, "offset", (json_int_t)e->offset);
        if (d && e->has_scale) put(d, "scale", number(e->scale), &bad);
        if (d && e->has_offset) put(d, "offset_value", number(e->offset_value), &bad);
        push(eb, d, &bad);
    }
    put(o, "extra_dimensions", eb, &bad);
    if (!bad && with_classes) {
        uint64_t counts[256];
        memset(counts, 0, sizeof counts);
        st = count_classes(ctx, r, counts);
        if (st == CT_OK) {
            json_t *c = json_object();
            for (int k = 0; c && k < 256; k++) {
                if (!counts[k]) continue;
                char key[8];
                snprintf(key, sizeof key, "%d", k);
                put(c, key, json_integer((json_int_t)counts[k]), &bad);
            }
            put(o, "classes", c, &bad);
        }
    }
    ct_las_close(r);
    if (st != CT_OK) {
        json_decref(o);
        return st;
    }
    if (bad) {
        json_decref(o);
        return ct_error_nomem(ctx, "info JSON");
    }
    *out = o;
    return CT_OK;
}
