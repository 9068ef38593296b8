/* filters.clean: repair footprints (GEOS make-valid, repeated/collinear vertices,
 * spikes, orientation, small parts), optionally split multipolygons into buildings.
 * Every change is counted per reason and flagged in the "clean_flags" attribute;
 * every skip is counted and logged with the building's id and record. */
#include <jansson.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "citytiler/clean.h"
#include "citytiler/stage.h"

typedef struct clean_state {
    ct_clean_options o;
    int split_parts;
} clean_state;

static const ct_option_def options[] = {
    {"make_valid", CT_OPT_BOOL, "true", 0, "repair invalid footprints with GEOS make-valid (false: skip them)"},
    {"duplicate_tolerance", CT_OPT_NUMBER, "0.001", 0, "a vertex closer than this to the previous one is removed, and rings this close to each other are snap-rounded to a grid of this size (metres)"},
    {"collinear_tolerance", CT_OPT_NUMBER, "0.001", 0,
     "a vertex closer than this to the segment joining its neighbours is removed (metres)"},
    {"spike_angle", CT_OPT_NUMBER, "1", 0, "a vertex whose interior angle is smaller is a spike and removed (degrees)"},
    {"min_area", CT_OPT_NUMBER, "1", 0, "parts smaller than this are dropped; a building with none left is skipped (m²)"},
    {"split_parts", CT_OPT_BOOL, "false", 0,
     "make each part of a multipolygon its own building (largest keeps the id, others get id#2, id#3, ...)"},
    {NULL, 0, NULL, 0, NULL},
};

static ct_status create(ct_context *ctx, const ct_json *opts, void **state) {
    clean_state *s = calloc(1, sizeof *s);
    if (!s) return ct_error_nomem(ctx, "filters.clean");
    ct_clean_options_default(&s->o);
    s->o.make_valid = ct_opt_bool(opts, "make_valid");
    s->o.duplicate_tolerance = ct_opt_number(opts, "duplicate_tolerance");
    s->o.collinear_tolerance = ct_opt_number(opts, "collinear_tolerance");
    s->o.spike_angle = ct_opt_number(opts, "spike_angle");
    s->o.min_area = ct_opt_number(opts, "min_area");
    s->split_parts = ct_opt_bool(opts, "split_parts");
    const char *bad = NULL;
    if (!(s->o.duplicate_tolerance >= 0) || !isfinite(s->o.duplicate_tolerance)) bad = "duplicate_tolerance' must be >= 0";
    else if (!(s->o.collinear_tolerance >= 0) || !isfinite(s->o.collinear_tolerance)) bad = "collinear_tolerance' must be >= 0";
    else if (!(s->o.spike_angle >= 0 && s->o.spike_angle < 90)) bad = "spike_angle' must be in [0, 90) degrees";
    else if (!(s->o.min_area >= 0) || !isfinite(s->o.min_area)) bad = "min_area' must be >= 0";
    if (bad) {
        free(s);
        return ct_error(ctx, CT_ERR_USAGE, "filters.clean: option '%s", bad);
    }
    *state = s;
    return CT_OK;
}

/* The result for one building, filled in the parallel region, applied in index order. */
typedef struct item {
    ct_footprint fp;
    unsigned flags;
    unsigned char result;  /* ct_clean_result */
    const char *reason;    /* static, when skipped */
    char kind[64];         /* GEOS invalidity kind, when made valid or skipped as invalid */
    char *detail;          /* the same with the location (malloc'd), or NULL */
} item;

static ct_status count_reason(ct_context *ctx, ct_dataset *ds, int skipped, const char *what, const char *kind) {
    char reason[192];
    if (kind && kind[0]) snprintf(reason, sizeof reason, "clean: %s (%s)", what, kind);
    else snprintf(reason, sizeof reason, "clean: %s", what);
    return skipped ? ct_dataset_count_skip(ctx, ds, reason) : ct_dataset_count_change(ctx, ds, reason);
}

/* Copies building b's id, record, heights and attributes into nb (zeroed). */
static ct_status copy_building(ct_context *ctx, const ct_dataset *ds, const ct_building *b, ct_building *nb,
                               uint32_t part) {
    memset(nb, 0, sizeof *nb);
    nb->source_record = b->source_record;
    nb->base_z = b->base_z;
    nb->top_z = b->top_z;
    nb->fallback_height = b->fallback_height;
    size_t len = strlen(b->id) + 16;
    nb->id = malloc(len);
    nb->attrs = calloc(ds->nattrs ? ds->nattrs : 1, sizeof *nb->attrs);
    if (!nb->id || !nb->attrs) return ct_error_nomem(ctx, "split building");
    snprintf(nb->id, len, "%s#%u", b->id, part);
    for (size_t a = 0; a < ds->nattrs; a++) {
        nb->attrs[a] = b->attrs[a];
        if (ds->attrs[a].type == CT_ATTR_STRING && !b->attrs[a].is_null) {
            nb->attrs[a].is_null = 1;
            ct_status st = ct_value_set_string(ctx, &nb->attrs[a], b->attrs[a].v.s);
            if (st != CT_OK) return st;
        }
    }
    return CT_OK;
}

static int cmp_part_area(const void *a, const void *b) {
    const ct_polygon *p = a, *q = b;
    double x = ct_polygon_area(p), y = ct_polygon_area(q);
    return (x < y) - (x > y); /* largest first */
}

/* Turns every multi-part building into one building per part, placed right after it.
 * Everything is allocated first, so a failure leaves the dataset as it was. */
static ct_status split_parts(ct_context *ctx, ct_dataset *ds, int col) {
    size_t total = 0, nsplit = 0;
    for (size_t i = 0; i < ds->nbuildings; i++) {
        total += ds->buildings[i].footprint.nparts;
        nsplit += ds->buildings[i].footprint.nparts > 1;
    }
    if (nsplit == 0) return CT_OK;
    ct_building *nb = calloc(total, sizeof *nb);
    char **newflags = calloc(ds->nbuildings, sizeof *newflags);
    ct_status st = nb && newflags ? CT_OK : ct_error_nomem(ctx, "split buildings");
    /* Phase 1: allocate the new buildings (slots after their original) and flags. */
    size_t k = 0;
    for (size_t i = 0; i < ds->nbuildings && st == CT_OK; i++) {
        ct_building *b = &ds->buildings[i];
        uint32_t np = b->footprint.nparts;
        k++;
        if (np < 2) continue;
        const char *old = b->attrs[col].is_null ? "" : b->attrs[col].v.s;
        newflags[i] = malloc(strlen(old) + 16);
        if (!newflags[i]) st = ct_error_nomem(ctx, "clean flags");
        else sprintf(newflags[i], "%s%ssplit_parts", old, old[0] ? "," : "");
        for (uint32_t p = 1; p < np && st == CT_OK; p++, k++) {
            st = copy_building(ctx, ds, b, &nb[k], p + 1);
            if (st == CT_OK) st = ct_value_set_string(ctx, &nb[k].attrs[col], newflags[i]);
            if (st == CT_OK) {
                nb[k].footprint.parts = calloc(1, sizeof(ct_polygon));
                if (!nb[k].footprint.parts) st = ct_error_nomem(ctx, "split building");
            }
        }
    }
    if (st != CT_OK) {
        if (nb)
            for (size_t j = 0; j < total; j++) ct_building_free(ds, &nb[j]); /* only new ones were filled */
        if (newflags)
            for (size_t i = 0; i < ds->nbuildings; i++) free(newflags[i]);
        free(nb);
        free(newflags);
        return st;
    }
    /* Phase 2: move, no allocation. */
    k = 0;
    for (size_t i = 0; i < ds->nbuildings; i++) {
        ct_building *b = &ds->buildings[i];
        uint32_t np = b->footprint.nparts;
        if (np > 1) {
            qsort(b->footprint.parts, np, sizeof *b->footprint.parts, cmp_part_area);
            ct_mesh_free(&b->mesh);
            ct_value_clear(&b->attrs[col], CT_ATTR_STRING);
            b->attrs[col].is_null = 0;
            b->attrs[col].v.s = newflags[i];
        }
        nb[k] = *b;
        nb[k].footprint.nparts = 1;
        k++;
        for (uint32_t p = 1; p < np; p++, k++) {
            nb[k].footprint.parts[0] = b->footprint.parts[p];
            nb[k].footprint.nparts = 1;
        }
    }
    free(newflags);
    free(ds->buildings);
    ds->buildings = nb;
    ds->nbuildings = ds->cap_buildings = total;
    for (size_t i = 0; i < nsplit && st == CT_OK; i++)
        st = count_reason(ctx, ds, 0, "multipolygon split into parts", NULL);
    return st;
}

static ct_status run(ct_context *ctx, void *state, ct_dataset *ds) {
    clean_state *s = state;
    int col = -1;
    static const char *const name = "clean_flags";
    static const ct_attr_type type = CT_ATTR_STRING;
    ct_status st = ct_dataset_claim_attrs(ctx, ds, "filters.clean", &name, &type, 1, &col);
    if (st != CT_OK) return st;
    size_t n = ds->nbuildings;
    item *items = calloc(n ? n : 1, sizeof *items);
    if (!items) return ct_error_nomem(ctx, "clean results");
    int nomem = 0;
#pragma omp parallel num_threads(ct_context_threads(ctx)) reduction(| : nomem)
    {
        ct_cleaner *cl = ct_cleaner_create();
        if (!cl) nomem = 1;
#pragma omp for schedule(dynamic, 64)
        for (size_t i = 0; i < n; i++) {
            if (!cl) continue;
            item *it = &items[i];
            ct_clean_result r = ct_clean_footprint(cl, &s->o, &ds->buildings[i].footprint, &it->fp, &it->flags);
            it->result = (unsigned char)r;
            if (r == CT_CLEAN_NOMEM) {
                nomem = 1;
                continue;
            }
            if (r == CT_CLEAN_SKIPPED) it->reason = ct_cleaner_reason(cl);
            snprintf(it->kind, sizeof it->kind, "%s", ct_cleaner_invalid_kind(cl));
            if (it->kind[0]) {
                it->detail = strdup(ct_cleaner_invalid_detail(cl));
                if (!it->detail) nomem = 1;
            }
        }
        ct_cleaner_destroy(cl);
    }
    if (nomem) st = ct_error_nomem(ctx, "cleaning footprints");
    unsigned char *keep = calloc(n ? n : 1, 1);
    if (!keep && st == CT_OK) st = ct_error_nomem(ctx, "clean results");
    char flags[256];
    for (size_t i = 0; i < n && st == CT_OK; i++) {
        item *it = &items[i];
        ct_building *b = &ds->buildings[i];
        if (it->result == CT_CLEAN_SKIPPED) {
            int invalid = strcmp(it->reason, "invalid geometry") == 0 || strcmp(it->reason, "could not be repaired") == 0;
            ct_log(ctx, CT_LOG_WARN, "filters.clean: building %s (feature %llu): skipped: %s%s%s%s", b->id,
                   (unsigned long long)b->source_record, it->reason, it->detail ? " (" : "",
                   it->detail ? it->detail : "", it->detail ? ")" : "");
            st = count_reason(ctx, ds, 1, it->reason, invalid ? it->kind : NULL);
            continue;
        }
        keep[i] = 1;
        flags[0] = '\0';
        size_t used = 0;
        for (unsigned bit = 0; bit < CT_CLEAN_NFLAGS && st == CT_OK; bit++) {
            if (!(it->flags & (1u << bit))) continue;
            int w = snprintf(flags + used, sizeof flags - used, "%s%s", used ? "," : "", ct_clean_flag_token(bit));
            if (w > 0 && (size_t)w < sizeof flags - used) used += (size_t)w;
            if (bit == 0) {
                /* "clean: made valid" + the GEOS kind */
                st = count_reason(ctx, ds, 0, "made valid", it->kind);
                ct_log(ctx, CT_LOG_INFO, "filters.clean: building %s (feature %llu): repaired: %s", b->id,
                       (unsigned long long)b->source_record, it->detail ? it->detail : "invalid");
            } else {
                st = ct_dataset_count_change(ctx, ds, ct_clean_flag_reason(bit));
                ct_log(ctx, CT_LOG_DEBUG, "filters.clean: building %s (feature %llu): %s", b->id,
                       (unsigned long long)b->source_record, ct_clean_flag_reason(bit) + 7);
            }
        }
        if (st == CT_OK) st = ct_value_set_string(ctx, &b->attrs[col], flags);
        if (it->flags) {
            ct_footprint_free(&b->footprint);
            b->footprint = it->fp;
            memset(&it->fp, 0, sizeof it->fp);
            ct_mesh_free(&b->mesh); /* a mesh of the old footprint would be stale */
        }
    }
    for (size_t i = 0; i < n; i++) {
        ct_footprint_free(&items[i].fp);
        free(items[i].detail);
    }
    free(items);
    if (st == CT_OK) ct_dataset_compact(ds, keep);
    free(keep);
    if (st == CT_OK && s->split_parts) st = split_parts(ctx, ds, col);
    return st;
}

static void destroy(void *state) { free(state); }

const ct_stage_vtable ct_stage_filters_clean = {
    "filters.clean", "repair footprints: make valid, remove repeated/collinear vertices and spikes, fix orientation, drop small parts",
    options, create, run, destroy,
};
