/* filters.extrude: every footprint becomes a closed prism between its ground and roof
 * heights (from filters.heights when it ran, else an attribute, else constants).
 *
 * Triangulation is ear clipping with GEOS as the fallback (see src/geom/extrude.c);
 * each roof is verified, and a footprint that cannot be triangulated is skipped with
 * the reason. Validity: when filters.clean ran (the "clean_flags" column exists) its
 * footprints are valid, so they are not checked again; otherwise each footprint is
 * checked with GEOS first and an invalid one is skipped ("invalid footprint (not
 * repaired)") rather than extruded into a self-overlapping solid.
 *
 * Without filters.clean, a valid footprint still gets the two rules of filters.clean that
 * keep its mesh sound once stored as 32-bit floats: vertices within a millimetre of the
 * previous one are merged, and rings within a millimetre of each other are snap-rounded
 * to touch (a 0.1 um notch or a hole a hair from its shell made triangles nanometres
 * wide, which turn over in float32). Nothing else of filters.clean is applied; each
 * change is counted in the run summary. */
#include <geos_c.h> /* before clean.h: enables its GEOS conversion declarations */
#include <jansson.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "citytiler/building_mesh.h"
#include "citytiler/clean.h"
#include "citytiler/extrude.h"
#include "citytiler/stage.h"

typedef struct extrude_state {
    const char *height_attribute; /* owned by opts */
    double height, base_z;
    int floor;
    long long keep_meshes_up_to;
    json_t *opts;
} extrude_state;

static const ct_option_def options[] = {
    {"height_attribute", CT_OPT_STRING, NULL, 0, "numeric attribute holding the building height above ground (metres)"},
    {"height", CT_OPT_NUMBER, "10", 0, "height used when neither LiDAR nor the attribute gives one (metres)"},
    {"base_z", CT_OPT_NUMBER, "0", 0, "ground height used when no ground height is known (metres)"},
    {"floor", CT_OPT_BOOL, "true", 0, "close the prism with a floor"},
    /* 0: extruding a tile's meshes again in the writer (about 1 us a building, warm
     * memory) costs less than writing every mesh of the city to fresh memory here, on the
     * virtual machine we measure on (100k city, 2 threads: 2.38-2.73 s and 286-289 MiB
     * against 2.63-3.12 s and 375-383 MiB keeping them). */
    {"keep_meshes_up_to", CT_OPT_INTEGER, "0", 0, "keep the meshes in memory for the writer when there are at most this many buildings (about 1 KB a building); beyond it they are checked here and extruded again by the writer, tile by tile (the same bytes)"},
    {NULL, 0, NULL, 0, NULL},
};

/* The tallest building height taken (m), from the option or from a footprint: a height
 * attribute in millimetres, or a sentinel such as 999999999, made a building reach past
 * the Moon, and its float32 positions then left its tile's region. */
#define MAX_HEIGHT_M 10000.0

/* h when it is a building height in metres, else NaN; *absurd = h when h is a number
 * beyond MAX_HEIGHT_M. */
static double usable_height(double h, double *absurd) {
    if (isfinite(h) && h > MAX_HEIGHT_M) {
        *absurd = h;
        return NAN;
    }
    return isfinite(h) && h > 0 ? h : NAN;
}

static ct_status create(ct_context *ctx, const ct_json *opts, void **state) {
    extrude_state *s = calloc(1, sizeof *s);
    if (!s) return ct_error_nomem(ctx, "filters.extrude");
    s->opts = json_incref((json_t *)opts);
    s->height_attribute = ct_opt_string(opts, "height_attribute");
    s->height = ct_opt_number(opts, "height");
    s->base_z = ct_opt_number(opts, "base_z");
    s->floor = ct_opt_bool(opts, "floor");
    s->keep_meshes_up_to = ct_opt_integer(opts, "keep_meshes_up_to");
    ct_status st = CT_OK;
    /* Bounds far beyond any building keep absurd values (1e308) from reaching PROJ and
     * the float32 positions as infinities. */
    if (!(s->height > 0 && s->height <= MAX_HEIGHT_M))
        st = ct_error(ctx, CT_ERR_USAGE, "filters.extrude: option 'height' must be a positive number of metres, "
                                         "at most 10000 (got %g)", s->height);
    else if (s->keep_meshes_up_to < 0)
        st = ct_error(ctx, CT_ERR_USAGE, "filters.extrude: option 'keep_meshes_up_to' must be >= 0");
    else if (!(fabs(s->base_z) <= 100000))
        st = ct_error(ctx, CT_ERR_USAGE, "filters.extrude: option 'base_z' must be from -100000 to 100000 m (got %g)",
                      s->base_z);
    if (st != CT_OK) {
        json_decref(s->opts);
        free(s);
        return st;
    }
    *state = s;
    return CT_OK;
}

/* The height above ground from the attribute column, or NaN when absent/unusable (then
 * *absurd is set when it was a number beyond MAX_HEIGHT_M). */
static double attr_height(const ct_dataset *ds, const ct_building *b, int col, double *absurd) {
    if (col < 0 || b->attrs[col].is_null) return NAN;
    const ct_value *v = &b->attrs[col];
    double h = NAN;
    if (ds->attrs[col].type == CT_ATTR_REAL) h = v->v.r;
    else if (ds->attrs[col].type == CT_ATTR_INT) h = (double)v->v.i;
    else if (ds->attrs[col].type == CT_ATTR_STRING) {
        char *end = NULL;
        h = strtod(v->v.s, &end);
        if (end == v->v.s) h = NAN;
    }
    return usable_height(h, absurd);
}

/* One warning for the n buildings whose height was beyond MAX_HEIGHT_M, naming the first
 * (b), its height and where it came from. */
static void log_absurd_heights(ct_context *ctx, const extrude_state *s, const ct_dataset *ds, size_t n,
                               const ct_building *b, int col) {
    double h = b->fallback_height;
    if (isnan(h)) (void)attr_height(ds, b, col, &h);
    ct_log(ctx, CT_LOG_WARN, "filters.extrude: %zu buildings have a height above %.0f m (first: building %s, feature %llu: "
           "%g m %s%s%s): they got the default %.1f m instead (is the attribute in metres?)", n, MAX_HEIGHT_M, b->id,
           (unsigned long long)b->source_record, h, isnan(b->fallback_height) ? "in attribute '" : "from filters.heights",
           isnan(b->fallback_height) ? s->height_attribute : "", isnan(b->fallback_height) ? "'" : "", s->height);
}

/* The rules of filters.clean that keep a valid footprint's float32 mesh sound, and only
 * those (see the top of the file): its default duplicate tolerance, no collinear, spike
 * or area rule, no repair. */
static void float_safety_options(ct_clean_options *o) {
    ct_clean_options_default(o);
    o->make_valid = 0;
    o->collinear_tolerance = -1; /* (below 0: never collinear) */
    o->spike_angle = 0;
    o->min_area = 0;
}

/* What float_safety_options changed in a footprint, and the run-summary reasons. */
#define FLOAT_SAFETY_BITS (CT_CLEAN_REPEATED | CT_CLEAN_SNAPPED | CT_CLEAN_DEGENERATE)
#define REASON_MERGED "extrude: vertices within 1 mm merged (no filters.clean)"
#define REASON_SNAPPED "extrude: nearly touching rings made to touch (no filters.clean)"

/* Building b without filters.clean: 0 when it may be extruded (its footprint replaced by
 * the float-safe one when a rule applied: *changes gets the CT_CLEAN_* bits), else
 * CT_EXTRUDE_INVALID (logged) or CT_EXTRUDE_NOMEM. */
static int check_uncleaned(ct_context *ctx, ct_cleaner *cl, const ct_clean_options *o, ct_building *b,
                           unsigned *changes) {
    ct_footprint safe;
    unsigned flags = 0;
    *changes = 0;
    ct_clean_result r = ct_clean_footprint(cl, o, &b->footprint, &safe, &flags);
    if (r == CT_CLEAN_NOMEM) return CT_EXTRUDE_NOMEM;
    if (r == CT_CLEAN_KEPT) {
        if (flags & FLOAT_SAFETY_BITS) {
            ct_footprint_free(&b->footprint);
            b->footprint = safe;
            *changes = flags & FLOAT_SAFETY_BITS;
            ct_log(ctx, CT_LOG_DEBUG, "filters.extrude: building %s (feature %llu): %s%s%s", b->id,
                   (unsigned long long)b->source_record, flags & CT_CLEAN_REPEATED ? "vertices within 1 mm merged" : "",
                   (flags & CT_CLEAN_REPEATED) && (flags & CT_CLEAN_SNAPPED) ? ", " : "",
                   flags & CT_CLEAN_SNAPPED ? "nearly touching rings made to touch" : "");
        } else {
            ct_footprint_free(&safe); /* (rings may only have been turned round) */
        }
        return 0;
    }
    /* Skipped: the footprint is invalid, or merging its vertices made it so (then it is
     * extruded as it came: nothing valid is lost). */
    GEOSContextHandle_t geos = ct_cleaner_geos(cl);
    GEOSGeometry *g = ct_geos_from_footprint(geos, &b->footprint);
    if (!g) return CT_EXTRUDE_NOMEM;
    char v = GEOSisValid_r(geos, g);
    if (v == 0) {
        char *why = GEOSisValidReason_r(geos, g);
        ct_log(ctx, CT_LOG_WARN, "filters.extrude: building %s (feature %llu): skipped: invalid polygon: %s", b->id,
               (unsigned long long)b->source_record, why ? why : "unknown reason");
        if (why) GEOSFree_r(geos, why);
    }
    GEOSGeom_destroy_r(geos, g);
    return v == 0 ? CT_EXTRUDE_INVALID : 0; /* (a GEOS exception: extruded, as before the rules) */
}

static ct_status run(ct_context *ctx, void *state, ct_dataset *ds) {
    extrude_state *s = state;
    int col = -1;
    if (s->height_attribute) {
        col = ct_dataset_find_attr(ds, s->height_attribute);
        if (col < 0)
            return ct_error(ctx, CT_ERR_USAGE, "filters.extrude: height_attribute '%s' is not an attribute of the footprints",
                            s->height_attribute);
    }
    size_t n = ds->nbuildings;
    unsigned char *result = calloc(n ? n : 1, 1);
    if (!result) return ct_error_nomem(ctx, "extrusion results");
    size_t fallback = 0, absurd_count = 0, first_absurd = SIZE_MAX; /* heights beyond MAX_HEIGHT_M */
    size_t merged = 0, snapped = 0; /* footprints float_safety_options changed (no filters.clean) */
    int nomem = 0;
    int cleaned = ct_dataset_find_attr(ds, "clean_flags") >= 0;
    int defer = (long long)n > s->keep_meshes_up_to; /* the writer extrudes again per tile */
    ds->mesh_floor = s->floor;
    if (defer)
        ct_log(ctx, CT_LOG_INFO, "filters.extrude: %zu buildings (keep_meshes_up_to %lld): meshes are checked here and "
               "extruded again by the writer for each tile", n, s->keep_meshes_up_to);
    ct_clean_options safety;
    float_safety_options(&safety);
#pragma omp parallel num_threads(ct_context_threads(ctx)) reduction(+ : fallback, absurd_count, merged, snapped) \
    reduction(| : nomem) reduction(min : first_absurd)
    {
        ct_extruder *ex = ct_extruder_create();
        ct_cleaner *cl = cleaned ? NULL : ct_cleaner_create();
        if (!ex || (!cleaned && !cl)) nomem = 1;
        /* Meshes go into a per-thread arena the dataset keeps (huge pages: few page faults). */
        ct_mesh_arena arena;
        memset(&arena, 0, sizeof arena);
        if (ex && !defer) ct_extruder_set_arena(ex, &arena);
#pragma omp for schedule(dynamic, 64)
        for (size_t i = 0; i < n; i++) {
            if (!ex || (!cleaned && !cl)) continue;
            ct_building *b = &ds->buildings[i];
            if (!cleaned) {
                unsigned changes = 0;
                int v = check_uncleaned(ctx, cl, &safety, b, &changes);
                if (v == CT_EXTRUDE_NOMEM) nomem = 1;
                else if (v) result[i] = (unsigned char)v;
                if (v) continue;
                merged += (changes & CT_CLEAN_REPEATED) != 0;
                snapped += (changes & CT_CLEAN_SNAPPED) != 0;
            }
            double base = isnan(b->base_z) ? s->base_z : b->base_z;
            double top = b->top_z;
            if (isnan(top)) {
                double absurd = NAN;
                double h = isnan(b->fallback_height) ? attr_height(ds, b, col, &absurd)
                                                     : usable_height(b->fallback_height, &absurd);
                if (!isnan(absurd)) {
                    absurd_count++;
                    if (i < first_absurd) first_absurd = i;
                }
                if (isnan(h)) {
                    h = s->height;
                    fallback++;
                }
                top = base + h;
            }
            b->base_z = base;
            b->top_z = top;
            ct_mesh_free(&b->mesh);
            ct_extrude_result r = ct_extrude_footprint(ex, &b->footprint, base, top, s->floor, &b->mesh);
            result[i] = (unsigned char)r;
            if (r == CT_EXTRUDE_OK && defer) ct_building_mesh_defer(b);
            if (r == CT_EXTRUDE_NOMEM) nomem = 1;
            else if (r != CT_EXTRUDE_OK)
                ct_log(ctx, CT_LOG_WARN, "filters.extrude: building %s (feature %llu): skipped: %s", b->id,
                       (unsigned long long)b->source_record, ct_extruder_reason(ex));
        }
        ct_extruder_destroy(ex);
        ct_cleaner_destroy(cl);
#pragma omp critical(ct_extrude_arena)
        if (ct_mesh_arena_adopt(&ds->mesh_arena, &arena) != 0) {
            nomem = 1;
            ct_mesh_arena_free(&arena); /* unreachable meshes then: the run stops with an error */
        }
    }
    if (absurd_count) log_absurd_heights(ctx, s, ds, absurd_count, &ds->buildings[first_absurd], col);
    ct_status st = CT_OK;
    if (nomem) st = ct_error_nomem(ctx, "extrusion");
    for (size_t k = 0; k < merged && st == CT_OK; k++) st = ct_dataset_count_change(ctx, ds, REASON_MERGED);
    for (size_t k = 0; k < snapped && st == CT_OK; k++) st = ct_dataset_count_change(ctx, ds, REASON_SNAPPED);
    /* Count what could not be extruded by reason, then drop it keeping order. */
    unsigned char *keep = result;
    for (size_t i = 0; i < n && st == CT_OK; i++) {
        if (result[i] != CT_EXTRUDE_OK)
            st = ct_dataset_count_skip(ctx, ds, result[i] == CT_EXTRUDE_INVALID ? "invalid footprint (not repaired)"
                                                                                 : "triangulation failed");
        keep[i] = result[i] == CT_EXTRUDE_OK;
    }
    if (st == CT_OK) ct_dataset_compact(ds, keep);
    free(result);
    if (fallback)
        ct_log(ctx, CT_LOG_INFO, "filters.extrude: %zu buildings had no usable height and got its height option, %.1f m",
               fallback, s->height);
    return st;
}

static void destroy(void *state) {
    extrude_state *s = state;
    json_decref(s->opts);
    free(s);
}

const ct_stage_vtable ct_stage_filters_extrude = {
    "filters.extrude", "extrude footprints into closed prisms (walls, roof, floor)", options, create, run, destroy,
};
