/* filters.heights: ground and roof heights of every building from the LiDAR points
 * binned by readers.lidar, with a flagged fallback when the points are too few. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "citytiler/heights.h"
#include "citytiler/raster.h"
#include "citytiler/stage.h"
#include "core/balance.h"
#include "core/indexed_exchange.h"
#include "core/partition_results.h"
#include "core/rank_band.h"
#include "geom/heights_sweep.h"

typedef struct heights_state {
    json_t *opts;
    ct_heights_params prm;
    const char *height_attribute, *storeys_attribute;
    double storey_height, default_height, max_height;
    double max_fallback_share; /* NaN: fail only when every building fell back */
    const char *source; /* "auto", "lidar" or "raster" */
    int auto_roof_classes; /* building_classes not given: class 6, or all non-ground when there is none */
    char key[96];          /* its results' key for the merge (partition_results.h); "" with rasters */
    /* While run runs: per building, whether (and how) its samples were thinned, each
     * entry written by the thread applying that building's result (warn_thinned). */
    struct thinned_note *notes;
} heights_state;

/* A building's samples thinned (max_samples; ct_heights_result's roof_thin, ground_thin). */
typedef struct thinned_note {
    uint32_t roof_thin, ground_thin;
    uint32_t roof_points, ground_points;
} thinned_note;

static const ct_option_def options[] = {
    {"source", CT_OPT_STRING, "\"auto\"", 0, "\"lidar\" (readers.lidar), \"raster\" (readers.raster: DSM roofs, DTM ground) or \"auto\" (LiDAR when there are points, else rasters)"},
    {"roof_percentile", CT_OPT_NUMBER, "90", 0, "percentile of the points inside the footprint taken as roof height"},
    {"ground_percentile", CT_OPT_NUMBER, "10", 0, "percentile of the ground points around the footprint taken as ground"},
    {"buffer", CT_OPT_NUMBER, "3", 0, "ground points within this distance of the footprint count (m)"},
    {"max_buffer", CT_OPT_NUMBER, "24", 0, "with too few ground points the buffer doubles up to this (m)"},
    {"ground_classes", CT_OPT_INTEGER_LIST, "[2]", 0, "classes taken as ground (add 9, water, if wanted)"},
    {"building_classes", CT_OPT_INTEGER_LIST, NULL, 0, "classes taken as roof (default: 6, or every non-ground class when no point has class 6)"},
    {"min_roof_points", CT_OPT_INTEGER, "5", 0, "fewer roof points than this: fallback height"},
    {"min_ground_points", CT_OPT_INTEGER, "3", 0, "fewer ground points than this: fallback ground"},
    {"height_attribute", CT_OPT_STRING, NULL, 0, "fallback: attribute with the height above ground (m)"},
    {"storeys_attribute", CT_OPT_STRING, NULL, 0, "fallback: attribute with the number of storeys"},
    {"storey_height", CT_OPT_NUMBER, "3", 0, "metres per storey for storeys_attribute"},
    {"default_height", CT_OPT_NUMBER, "10", 0, "fallback height when nothing else gives one (m)"},
    {"max_samples", CT_OPT_NUMBER, "4000000", 0, "a building's roof (or ground) points beyond this many are thinned to a deterministic sample of at most this many (1 in 2, 4, ...), so that a footprint of square kilometres keeps memory bounded; flagged points_thinned"},
    {"max_fallback_share", CT_OPT_NUMBER, NULL, 0, "the run fails when more than this share (0 to 1) of the buildings got a fallback roof height (default: only when the LiDAR measured no roof and no ground at any footprint: LiDAR of another area, an empty one, a wrong srs; 1: never)"},
    {"max_height", CT_OPT_NUMBER, "1000", 0, "a roof measured more than this above its ground (m) counts as no measurement (noise points, a wrong class, damaged LiDAR): fallback height, flagged roof_too_high"},
    {NULL, 0, NULL, 0, NULL},
};

static ct_status class_list(ct_context *ctx, const ct_json *opts, const char *name, uint8_t *flags) {
    const json_t *list = ct_opt_get(opts, name);
    for (size_t i = 0; list && i < json_array_size(list); i++) {
        json_int_t c = json_integer_value(json_array_get(list, i));
        if (c < 0 || c > 255) return ct_error(ctx, CT_ERR_USAGE, "filters.heights: %s: %lld is not a class (0-255)", name, (long long)c);
        flags[c] = 1;
    }
    return CT_OK;
}

static ct_status create(ct_context *ctx, const ct_json *opts, void **state) {
    heights_state *s = calloc(1, sizeof *s);
    if (!s) return ct_error_nomem(ctx, "filters.heights");
    s->opts = json_incref((json_t *)opts);
    ct_heights_params *p = &s->prm;
    p->roof_percentile = ct_opt_number(opts, "roof_percentile");
    p->ground_percentile = ct_opt_number(opts, "ground_percentile");
    p->buffer = ct_opt_number(opts, "buffer");
    p->max_buffer = ct_opt_number(opts, "max_buffer");
    long long mr = ct_opt_integer(opts, "min_roof_points"), mg = ct_opt_integer(opts, "min_ground_points");
    s->height_attribute = ct_opt_string(opts, "height_attribute");
    s->storeys_attribute = ct_opt_string(opts, "storeys_attribute");
    s->storey_height = ct_opt_number(opts, "storey_height");
    s->default_height = ct_opt_number(opts, "default_height");
    s->max_height = ct_opt_number(opts, "max_height");
    s->max_fallback_share = ct_opt_get(opts, "max_fallback_share") ? ct_opt_number(opts, "max_fallback_share") : NAN;
    double max_samples = ct_opt_number(opts, "max_samples");
    s->source = ct_opt_string(opts, "source");
    s->auto_roof_classes = ct_opt_get(opts, "building_classes") == NULL;
    ct_status st = class_list(ctx, opts, "ground_classes", p->ground_class);
    if (st == CT_OK && !s->auto_roof_classes) st = class_list(ctx, opts, "building_classes", p->roof_class);
    if (st == CT_OK && strcmp(s->source, "auto") != 0 && strcmp(s->source, "lidar") != 0 && strcmp(s->source, "raster") != 0)
        st = ct_error(ctx, CT_ERR_USAGE, "filters.heights: source must be \"auto\", \"lidar\" or \"raster\", not \"%s\"", s->source);
    if (st == CT_OK && (!(p->roof_percentile >= 0 && p->roof_percentile <= 100) ||
                        !(p->ground_percentile >= 0 && p->ground_percentile <= 100)))
        st = ct_error(ctx, CT_ERR_USAGE, "filters.heights: percentiles must be between 0 and 100");
    if (st == CT_OK && (!(p->buffer >= 0) || !(p->max_buffer >= p->buffer) || p->max_buffer > 1000))
        st = ct_error(ctx, CT_ERR_USAGE, "filters.heights: need 0 <= buffer <= max_buffer <= 1000");
    if (st == CT_OK && (mr < 1 || mg < 1 || mr > 1000000 || mg > 1000000))
        st = ct_error(ctx, CT_ERR_USAGE, "filters.heights: min_roof_points and min_ground_points must be from 1 to 1000000");
    if (st == CT_OK && (!(s->default_height > 0 && s->default_height <= 10000) ||
                        !(s->storey_height > 0 && s->storey_height <= 1000)))
        st = ct_error(ctx, CT_ERR_USAGE, "filters.heights: default_height must be in (0, 10000] m and storey_height "
                                         "in (0, 1000] m (got %g, %g)", s->default_height, s->storey_height);
    /* A thinned building keeps about half of max_samples at least: below twice the points
     * a measurement needs, one of millions of points could end with too few. */
    double least_samples = fmax(1000.0, 2.0 * fmax(mr, mg));
    if (st == CT_OK &&
        (!(max_samples >= least_samples && max_samples <= 4294967295.0) || max_samples != floor(max_samples)))
        st = ct_error(ctx, CT_ERR_USAGE, "filters.heights: max_samples must be a whole number from %.0f to 4294967295 "
                      "(at least 1000 and twice min_roof_points and min_ground_points) (got %g)", least_samples,
                      max_samples);
    if (st == CT_OK && !(s->max_height > 0.5 && s->max_height <= 100000))
        st = ct_error(ctx, CT_ERR_USAGE, "filters.heights: max_height must be in (0.5, 100000] m (got %g)", s->max_height);
    if (st == CT_OK && !isnan(s->max_fallback_share) && !(s->max_fallback_share >= 0 && s->max_fallback_share <= 1))
        st = ct_error(ctx, CT_ERR_USAGE, "filters.heights: max_fallback_share must be from 0 to 1 (got %g)",
                      s->max_fallback_share);
    if (st != CT_OK) {
        json_decref(s->opts);
        free(s);
        return st;
    }
    p->min_roof_points = (uint32_t)mr;
    p->min_ground_points = (uint32_t)mg;
    p->max_samples = (uint32_t)max_samples;
    /* (its searches reach max_buffer around a footprint's box: query_margin below) */
    ct_context_declare_point_reach(ctx, strcmp(s->source, "raster") == 0 ? 0.0 : p->max_buffer + 1.0);
    if (strcmp(s->source, "raster") != 0 && !ct_partition_results_declare(ctx, "filters.heights", s->key, sizeof s->key)) {
        json_decref(s->opts);
        free(s);
        return ct_error_nomem(ctx, "filters.heights");
    }
    *state = s;
    return CT_OK;
}

/* A positive number from attribute column col of b, or NaN. */
static double attr_number(const ct_dataset *ds, const ct_building *b, int col) {
    if (col < 0 || b->attrs[col].is_null) return NAN;
    double v = NAN;
    switch (ds->attrs[col].type) {
    case CT_ATTR_REAL: v = b->attrs[col].v.r; break;
    case CT_ATTR_INT: v = (double)b->attrs[col].v.i; break;
    case CT_ATTR_STRING: {
        char *end = NULL;
        v = strtod(b->attrs[col].v.s, &end);
        if (end == b->attrs[col].v.s) v = NAN;
        break;
    }
    default: break;
    }
    return isfinite(v) && v > 0 ? v : NAN;
}

/* The height of b without a roof measurement: its height attribute, else its storeys
 * times storey_height, else default_height; *source says which. */
static double fallback_height(const heights_state *s, const ct_dataset *ds, const ct_building *b, int hcol, int scol,
                              const char **source) {
    double h = attr_number(ds, b, hcol);
    double storeys = attr_number(ds, b, scol);
    *source = "attribute";
    if (isnan(h) && !isnan(storeys)) h = storeys * s->storey_height;
    if (isnan(h)) {
        h = s->default_height;
        *source = "default";
    }
    return h;
}

/* Columns written by this stage, in this order. */
enum { A_GROUND, A_ROOF, A_P50, A_P70, A_MAX, A_COUNT, A_DENSITY, A_SOURCE, A_FLAG, A_N };
static const char *const col_names[A_N] = {"ground_z", "roof_z", "roof_p50", "roof_p70", "roof_max",
                                            "point_count", "point_density", "height_source", "flag"};
static const ct_attr_type col_types[A_N] = {CT_ATTR_REAL, CT_ATTR_REAL, CT_ATTR_REAL, CT_ATTR_REAL, CT_ATTR_REAL,
                                            CT_ATTR_INT, CT_ATTR_REAL, CT_ATTR_STRING, CT_ATTR_STRING};

static void set_real(ct_value *v, double x) {
    if (isfinite(x)) {
        v->is_null = 0;
        v->v.r = x;
    }
}

/* A height attribute: to the millimetre, as LiDAR measures at best. The heights come from
 * single-precision samples, and a viewer showed ground_z 2.6419999599456787 for 2.642;
 * the meshes keep the values unrounded. */
static void set_height(ct_value *v, double x) {
    set_real(v, round(x * 1000.0) / 1000.0);
}

/* Attribute col of b set to a copy of text; 0 when out of memory. */
static int set_string(ct_building *b, int col, const char *text) {
    char *copy = strdup(text);
    if (!copy) return 0;
    ct_value_clear(&b->attrs[col], CT_ATTR_STRING);
    b->attrs[col].is_null = 0;
    b->attrs[col].v.s = copy;
    return 1;
}

/* Decides heights and flags of one building from the LiDAR result; returns 0 when out of memory. */
static int apply(const heights_state *s, const ct_dataset *ds, ct_building *b, const ct_heights_result *r,
                 const int *cols, int hcol, int scol, uint64_t *fallbacks, const char *measured) {
    const char *source = measured, *flag = "";
    double ground = r->ground_z, roof = r->roof_z;
    if (isnan(ground)) flag = "no_ground_points";
    if (isnan(roof)) flag = "too_few_roof_points";
    else if (!isnan(ground) && !(roof > ground + 0.5)) {
        flag = "roof_not_above_ground";
        roof = NAN;
    }
    if (r->roof_thin || r->ground_thin) { /* (measured all the same: the flag of last resort) */
        if (!*flag) flag = "points_thinned";
        if (s->notes)
            s->notes[b - ds->buildings] = (thinned_note){r->roof_thin, r->ground_thin, r->roof_points, r->ground_points};
    }
    if (isnan(roof)) {
        fallbacks[0]++;
        b->base_z = ground;
        b->top_z = NAN;
        b->fallback_height = fallback_height(s, ds, b, hcol, scol, &source); /* resolved against the ground after the parallel loop */
    } else {
        b->base_z = ground;
        b->top_z = roof;
    }
    if (isnan(ground)) fallbacks[1]++;
    ct_value *a = b->attrs;
    set_height(&a[cols[A_GROUND]], ground);
    set_height(&a[cols[A_ROOF]], r->roof_z);
    set_height(&a[cols[A_P50]], r->roof_p50);
    set_height(&a[cols[A_P70]], r->roof_p70);
    set_height(&a[cols[A_MAX]], r->roof_max);
    a[cols[A_COUNT]].is_null = 0;
    a[cols[A_COUNT]].v.i = r->roof_points;
    set_real(&a[cols[A_DENSITY]], r->density);
    return set_string(b, cols[A_SOURCE], source) && set_string(b, cols[A_FLAG], flag);
}

/* Heights of buildings idx[0..n-1] (all buildings when idx is NULL), in parallel.
 * widen_of (indexed by building): only the widened ground search of those results. */
static ct_status heights_range(ct_context *ctx, const heights_state *s, ct_dataset *ds, const ct_heights_params *prm,
                               const size_t *idx, size_t n, const int *cols, int hcol, int scol, uint64_t counts[2],
                               int use_raster, ct_heights_result *results, ct_heights_result *widen_of) {
    int failed = 0;
    uint64_t no_roof = 0, no_ground = 0;
#pragma omp parallel num_threads(ct_context_threads(ctx)) reduction(| : failed) reduction(+ : no_roof, no_ground)
    {
        ct_heights_scratch scratch;
        memset(&scratch, 0, sizeof scratch);
        ct_raster_scratch rscratch; /* this thread's own GDAL handles */
        memset(&rscratch, 0, sizeof rscratch);
        if (use_raster && ct_raster_scratch_init(ctx, ds->rasters, &rscratch) != CT_OK) failed |= 4;
#pragma omp for schedule(dynamic, 32)
        for (long k = 0; k < (long)n; k++) {
            if (failed) continue;
            ct_building *b = &ds->buildings[idx ? idx[k] : (size_t)k];
            if (widen_of) {
                ct_status wst = ct_heights_widen_ground(ds->points, &b->footprint, prm, &scratch,
                                                        &widen_of[idx ? idx[k] : (size_t)k]);
                if (wst != CT_OK) failed |= wst == CT_ERR_USAGE ? 2 : 1;
                continue;
            }
            ct_heights_result r;
            uint64_t fb[2] = {0, 0};
            ct_status cst = use_raster ? ct_raster_heights_compute(ctx, &b->footprint, prm, &rscratch, &r)
                                       : ct_heights_compute(ds->points, &b->footprint, prm, &scratch, &r);
            if (cst == CT_OK && results) { /* measured only: applied after the exchange */
                results[k] = r;
                continue;
            }
            if (cst != CT_OK || !apply(s, ds, b, &r, cols, hcol, scol, fb, use_raster ? "raster" : "lidar")) {
                failed |= use_raster && cst != CT_OK ? 4 : cst == CT_ERR_USAGE ? 2 : 1;
                continue;
            }
            no_roof += fb[0];
            no_ground += fb[1];
        }
        ct_heights_scratch_free(&scratch);
        ct_raster_scratch_free(&rscratch);
    }
    counts[0] += no_roof;
    counts[1] += no_ground;
    if (failed & 4) return ct_error_code(ctx); /* a raster error: its message names the file */
    if (failed & 2) return ct_error(ctx, CT_ERR_INTERNAL, "filters.heights: a query reached a cell that was not loaded");
    if (failed) return ct_error_nomem(ctx, "heights");
    return CT_OK;
}


/* How far around a footprint its points may be wanted: the widest ground buffer, and a metre. */
static double query_margin(const ct_heights_params *prm) { return prm->max_buffer + 1.0; }

/* Buildings grouped by processing cell: the column of the centre of each footprint's
 * box, and the row of the lowest point its query box (the footprint's box widened by
 * `margin`) reaches. A row of groups then needs its own row of cells and the one above
 * only (unless a box is taller than a cell), so a sweep keeps two rows of cells loaded:
 * grouped by their centres, the buildings of a row needed the rows on both sides, and
 * three rows stayed (10k city: 290 against 188 MB of loaded cells). The box, not the
 * centroid: the centroid of an invalid footprint (a bow-tie whose areas cancel) can lie
 * kilometres away, and its cell's group would then load every cell in between (seen:
 * 1.2 GB on a 1M-building city). */
static ct_status group_buildings(ct_context *ctx, const ct_dataset *ds, double margin, const unsigned char *use,
                                 size_t **order, ct_cell_group **groups, size_t *ngroups) {
    size_t n = ds->nbuildings;
    double *xy = malloc((n ? n : 1) * 2 * sizeof *xy);
    if (!xy) return ct_error_nomem(ctx, "heights cells");
    for (size_t i = 0; i < n; i++) {
        double fb[4];
        if (ct_footprint_bbox(&ds->buildings[i].footprint, fb)) {
            xy[2 * i] = 0.5 * (fb[0] + fb[2]);
            xy[2 * i + 1] = fb[1] - margin;
        } else {
            xy[2 * i] = xy[2 * i + 1] = 0;
        }
    }
    ct_status st = ct_group_by_cell(ctx, xy, use, n, ct_point_store_cell_size(ds->points), order, groups, ngroups);
    free(xy);
    return st;
}

/* Heights of the buildings of groups g with owner[g] == part_k (every group when owner
 * is NULL), a group (processing cell) at a time, or with the points on disk and one process a few neighbouring groups
 * of a row at a time; only the cells their footprints and ground buffers touch are
 * loaded, so memory stays bounded whatever the size of the LiDAR.
 * results: NULL to apply each result at once, else they are stored there in the order
 * of the groups taken (and not applied). widen_of: the widened ground search only, of
 * these results (indexed by building; see heights_range). */
static ct_status heights_by_cell(ct_context *ctx, const heights_state *s, ct_dataset *ds, const ct_heights_params *prm,
                                 const int *cols, int hcol, int scol, uint64_t counts[2], const size_t *order,
                                 const ct_cell_group *groups, size_t ngroups, const int *owner, int part_k,
                                 ct_heights_result *results, ct_heights_result *widen_of) {
    ct_status st = CT_OK;
    size_t stored = 0;
    const int on_disk = ct_point_store_on_disk(ds->points);
    /* On disk, one process: up to 4 x threads neighbouring cells of a row at once, so that
     * their points load in parallel (one new cell per step loaded on one thread while the
     * other waited: a fifth of the time went to waiting), and cells of unequal sizes
     * balance: the 10k city's heights took 0.55-0.86 s with 4 per thread against
     * 0.82-0.97 s with 1 (6 alternating pairs, 2 threads), the same memory. */
    const size_t batch_max =
        on_disk && !owner ? 4 * (size_t)(ct_context_threads(ctx) > 1 ? ct_context_threads(ctx) : 1) : 1;
    for (size_t g = 0; g < ngroups && st == CT_OK; g++) {
        if (owner && owner[g] != part_k) continue;
        const size_t *idx = order + groups[g].first;
        size_t count = groups[g].count, g_last = g;
        while (g_last + 1 < ngroups && g_last + 1 - g < batch_max && groups[g_last + 1].cy == groups[g].cy &&
               groups[g_last + 1].first == groups[g_last].first + groups[g_last].count) {
            g_last++;
            count += groups[g_last].count;
        }
        if (on_disk) {
            double bb[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY};
            for (size_t k = 0; k < count; k++) {
                double fb[4];
                if (!ct_footprint_bbox(&ds->buildings[idx[k]].footprint, fb)) continue;
                bb[0] = fmin(bb[0], fb[0]);
                bb[1] = fmin(bb[1], fb[1]);
                bb[2] = fmax(bb[2], fb[2]);
                bb[3] = fmax(bb[3], fb[3]);
            }
            double m = query_margin(prm);
            double q[4] = {bb[0] - m, bb[1] - m, bb[2] + m, bb[3] + m};
            if (isfinite(bb[0])) st = ct_point_store_load(ctx, ds->points, q);
        }
        if (st == CT_OK)
            st = heights_range(ctx, s, ds, prm, idx, count, cols, hcol, scol, counts, 0, results ? results + stored : NULL,
                               widen_of);
        stored += count;
        if (widen_of)
            ct_progress(ctx, "heights: wider ground search", groups[g_last].first + groups[g_last].count,
                        groups[ngroups - 1].first + groups[ngroups - 1].count);
        else
            ct_progress(ctx, "heights by cell", groups[g_last].first + groups[g_last].count, ds->nbuildings);
        g = g_last;
    }
    if (st == CT_OK) st = ct_point_store_unload(ctx, ds->points);
    return st;
}

/* Points on disk: buildings idx[0..m-1] (every building when idx is NULL, m = n) swept
 * (ct_heights_sweep: each cell they reach read once, none loaded or indexed), then the
 * widened ground search of those with too few ground points nearby, whose cells are
 * loaded as heights_by_cell loads them. Their results go to res, indexed by building
 * (n entries), not applied. The heights are those of ct_heights_compute. */
static ct_status sweep_buildings(ct_context *ctx, const heights_state *s, ct_dataset *ds, const ct_heights_params *prm,
                                 const int *cols, int hcol, int scol, uint64_t counts[2], const size_t *idx, size_t m,
                                 ct_heights_result *res) {
    const size_t n = ds->nbuildings;
    const ct_footprint **fps = malloc((m ? m : 1) * sizeof *fps);
    unsigned char *widen = calloc(n ? n : 1, 1); /* by building */
    /* A share's results and flags come in its order, then go to their buildings. */
    ct_heights_result *share_res = idx ? malloc((m ? m : 1) * sizeof *share_res) : res;
    unsigned char *share_widen = idx ? malloc(m ? m : 1) : widen;
    ct_status st = fps && widen && share_res && share_widen ? CT_OK : ct_error_nomem(ctx, "heights");
    for (size_t j = 0; st == CT_OK && j < m; j++) fps[j] = &ds->buildings[idx ? idx[j] : j].footprint;
    size_t nwiden = 0;
    if (st == CT_OK)
        st = ct_heights_sweep(ctx, ds->points, fps, m, prm, ct_context_threads(ctx), "heights by cell", share_res,
                              share_widen, &nwiden);
    for (size_t j = 0; st == CT_OK && idx && j < m; j++) {
        res[idx[j]] = share_res[j];
        widen[idx[j]] = share_widen[j];
    }
    if (st == CT_OK && nwiden > 0) {
        size_t *order = NULL, ngroups = 0;
        ct_cell_group *groups = NULL;
        st = group_buildings(ctx, ds, query_margin(prm), widen, &order, &groups, &ngroups);
        if (st == CT_OK)
            st = heights_by_cell(ctx, s, ds, prm, cols, hcol, scol, counts, order, groups, ngroups, NULL, 0, NULL, res);
        free(order);
        free(groups);
        if (st == CT_OK && idx)
            ct_log(ctx, CT_LOG_INFO, "filters.heights: %zu of this process's %zu buildings with fewer than %u ground "
                   "points within %g m: searched up to %g m around them", nwiden, m, (unsigned)prm->min_ground_points,
                   prm->buffer, prm->max_buffer);
        else if (st == CT_OK)
            ct_log(ctx, CT_LOG_INFO, "filters.heights: %zu buildings with fewer than %u ground points within %g m: "
                   "searched up to %g m around them", nwiden, (unsigned)prm->min_ground_points, prm->buffer,
                   prm->max_buffer);
    }
    free(fps);
    free(widen);
    if (idx) {
        free(share_res);
        free(share_widen);
    }
    return st;
}

/* One process's share of the buildings (MPI), the points on disk: its buildings (those of
 * groups g with owner[g] == part_k, in group order) swept as one process sweeps all of
 * them; their results into res, in that order. */
static ct_status heights_share_swept(ct_context *ctx, const heights_state *s, ct_dataset *ds,
                                     const ct_heights_params *prm, const int *cols, int hcol, int scol,
                                     uint64_t counts[2], const size_t *order, const ct_cell_group *groups,
                                     size_t ngroups, const int *owner, int part_k, size_t mine,
                                     ct_heights_result *res) {
    const size_t n = ds->nbuildings;
    size_t *idx = calloc(mine ? mine : 1, sizeof *idx); /* (calloc: GCC cannot see the loop fills m entries) */
    ct_heights_result *by_building = malloc((n ? n : 1) * sizeof *by_building);
    ct_status st = idx && by_building ? CT_OK : ct_error_nomem(ctx, "heights");
    size_t m = 0;
    for (size_t g = 0; st == CT_OK && g < ngroups; g++)
        for (size_t k = 0; owner[g] == part_k && k < groups[g].count; k++) idx[m++] = order[groups[g].first + k];
    if (st == CT_OK) st = sweep_buildings(ctx, s, ds, prm, cols, hcol, scol, counts, idx, m, by_building);
    for (size_t j = 0; st == CT_OK && j < m; j++) res[j] = by_building[idx[j]];
    free(idx);
    free(by_building);
    return st;
}

/* Several processes (MPI): each measures the buildings of its share of the processing cells,
 * then all exchange their results, so that every process holds every building's
 * heights (a process's parent tiles show buildings measured by others). The heights are
 * those one process would measure: the same points, the same computation. */
static ct_status heights_shared(ct_context *ctx, const heights_state *s, ct_dataset *ds, const ct_heights_params *prm,
                                const int *cols, int hcol, int scol, uint64_t counts[2], const size_t *order,
                                const ct_cell_group *groups, size_t ngroups, int part_k, int part_n) {
    /* The groups (cells, row by row) split in runs of about equal buildings (every
     * process computes the same split): each process then reads its own band of cells
     * and the edge of the next, where a split by weight alone scattered every process's
     * cells over the whole city and each read nearly all of them. */
    int *owner = malloc((ngroups ? ngroups : 1) * sizeof *owner);
    uint64_t *weight = malloc((ngroups ? ngroups : 1) * sizeof *weight);
    for (size_t g = 0; weight && g < ngroups; g++) weight[g] = groups[g].count;
    int split = owner && weight && ct_balance_in_runs(weight, ngroups, part_n, owner);
    free(weight);
    size_t mine = 0;
    for (size_t g = 0; split && g < ngroups; g++) mine += owner[g] == part_k ? groups[g].count : 0;
    ct_heights_result *res = malloc((mine ? mine : 1) * sizeof *res);
    size_t *sizes = calloc((size_t)part_n, sizeof *sizes);
    if (!split || !res || !sizes) {
        free(owner);
        free(res);
        free(sizes);
        return ct_error_nomem(ctx, "heights results");
    }
    ct_status st =
        ct_point_store_on_disk(ds->points)
            ? heights_share_swept(ctx, s, ds, prm, cols, hcol, scol, counts, order, groups, ngroups, owner, part_k,
                                  mine, res)
            : heights_by_cell(ctx, s, ds, prm, cols, hcol, scol, counts, order, groups, ngroups, owner, part_k, res,
                              NULL);
    void *all = NULL;
    /* Every process takes part in the exchange, even after an error of its own. */
    ct_status xs = ct_context_allgather(ctx, res, st == CT_OK ? mine * sizeof *res : 0, &all, sizes);
    free(res);
    if (st == CT_OK) st = xs;
    const ct_heights_result *from[256] = {0};
    size_t left[256] = {0};
    if (st == CT_OK && part_n > 256) st = ct_error(ctx, CT_ERR_UNSUPPORTED, "filters.heights: more than 256 processes");
    size_t off = 0;
    for (int r = 0; st == CT_OK && r < part_n; r++) {
        size_t expect = 0;
        for (size_t g = 0; g < ngroups; g++) expect += owner[g] == r ? groups[g].count : 0;
        if (sizes[r] != expect * sizeof(ct_heights_result))
            st = ct_error(ctx, CT_ERR_IO, "filters.heights: process %d sent %zu bytes of results, not %zu (it failed?)", r,
                          sizes[r], expect * sizeof(ct_heights_result));
        from[r] = (const ct_heights_result *)((const char *)all + off);
        left[r] = expect;
        off += sizes[r];
    }
    /* Applied in the same order by every process: the same attributes everywhere. */
    for (size_t g = 0; st == CT_OK && g < ngroups; g++) {
        int r = owner[g];
        for (size_t k = 0; st == CT_OK && k < groups[g].count; k++) {
            ct_building *b = &ds->buildings[order[groups[g].first + k]];
            uint64_t fb[2] = {0, 0};
            if (left[r] == 0 || !apply(s, ds, b, from[r], cols, hcol, scol, fb, "lidar")) {
                st = ct_error_nomem(ctx, "heights");
                break;
            }
            from[r]++;
            left[r]--;
            counts[0] += fb[0];
            counts[1] += fb[1];
        }
    }
    free(all);
    free(sizes);
    free(owner);
    return st;
}

/* Every building's LiDAR result (res, indexed by building) applied, in parallel. */
static ct_status apply_all(ct_context *ctx, const heights_state *s, ct_dataset *ds, const ct_heights_result *res,
                           const int *cols, int hcol, int scol, uint64_t counts[2]) {
    const size_t n = ds->nbuildings;
    int failed = 0;
    uint64_t no_roof = 0, no_ground = 0;
#pragma omp parallel for num_threads(ct_context_threads(ctx)) schedule(static) reduction(| : failed) \
    reduction(+ : no_roof, no_ground)
    for (long i = 0; i < (long)n; i++) {
        uint64_t fb[2] = {0, 0};
        if (!apply(s, ds, &ds->buildings[i], &res[i], cols, hcol, scol, fb, "lidar")) failed = 1;
        no_roof += fb[0];
        no_ground += fb[1];
    }
    counts[0] += no_roof;
    counts[1] += no_ground;
    return failed ? ct_error_nomem(ctx, "heights") : CT_OK;
}

/* This process's buildings under MPI bands (mine[i]), measured: their indices into
 * idx[0..m-1] (ascending) and their results into res[0..m-1]. Each must reach only points
 * this process kept: checked (a building added after readers.lidar planned the bands may
 * not). */
static ct_status measure_mine(ct_context *ctx, const heights_state *s, ct_dataset *ds, const ct_heights_params *prm,
                              const int *cols, int hcol, int scol, uint64_t counts[2], const unsigned char *mine,
                              size_t m, size_t *idx, ct_heights_result *res) {
    const size_t n = ds->nbuildings;
    const double qm = query_margin(prm);
    ct_heights_result *by_building = malloc((n ? n : 1) * sizeof *by_building);
    ct_status st = by_building ? CT_OK : ct_error_nomem(ctx, "heights");
    size_t j = 0;
    for (size_t i = 0; st == CT_OK && i < n; i++) {
        if (!mine[i]) continue;
        idx[j++] = i;
        double bb[4];
        const ct_building *b = &ds->buildings[i];
        if (ct_footprint_bbox(&b->footprint, bb) && !ct_rank_band_covers(ds->band, bb[1] - qm, bb[3] + qm))
            st = ct_error(ctx, CT_ERR_USAGE, "filters.heights: building %s (feature %llu) lies beyond the LiDAR this "
                          "process kept (y %.1f to %.1f, its band of the city): put every readers.footprints before "
                          "readers.lidar", b->id, (unsigned long long)b->source_record, ds->band->keep[0],
                          ds->band->keep[1]);
    }
    if (st == CT_OK && ct_point_store_on_disk(ds->points)) {
        st = sweep_buildings(ctx, s, ds, prm, cols, hcol, scol, counts, idx, m, by_building);
    } else if (st == CT_OK) {
        size_t *order = NULL, ngroups = 0;
        ct_cell_group *groups = NULL;
        st = group_buildings(ctx, ds, qm, mine, &order, &groups, &ngroups);
        if (st == CT_OK) /* (the results come in the groups' order) */
            st = heights_by_cell(ctx, s, ds, prm, cols, hcol, scol, counts, order, groups, ngroups, NULL, 0, res, NULL);
        size_t t = 0;
        for (size_t g = 0; st == CT_OK && g < ngroups; g++)
            for (size_t k = 0; k < groups[g].count; k++) by_building[order[groups[g].first + k]] = res[t++];
        free(order);
        free(groups);
    }
    for (j = 0; st == CT_OK && j < m; j++) res[j] = by_building[idx[j]];
    free(by_building);
    return st;
}

/* The buildings of this process's band of the city (ds->band) measured: their indices
 * (ascending) into *idx and their results into *res (m of each, malloc'd; the caller
 * frees them, also after an error). */
static ct_status measure_band(ct_context *ctx, const heights_state *s, ct_dataset *ds, const ct_heights_params *prm,
                              const int *cols, int hcol, int scol, uint64_t counts[2], size_t **idx,
                              ct_heights_result **res, size_t *m) {
    const size_t n = ds->nbuildings;
    unsigned char *mine = calloc(n ? n : 1, 1);
    *m = 0;
    for (size_t i = 0; mine && i < n; i++)
        *m += mine[i] = (unsigned char)(ct_rank_band_building_owner(ds->band, &ds->buildings[i]) == ds->band->k);
    *idx = malloc((*m ? *m : 1) * sizeof **idx);
    *res = malloc((*m ? *m : 1) * sizeof **res);
    ct_status st = mine && *idx && *res ? measure_mine(ctx, s, ds, prm, cols, hcol, scol, counts, mine, *m, *idx, *res)
                                        : ct_error_nomem(ctx, "heights");
    free(mine);
    if (st != CT_OK) *m = 0; /* (nothing of it is sent) */
    return st;
}

/* Several processes (MPI) with bands (ds->band: each kept only the LiDAR of its band of
 * the city): each measures the buildings of its band, then all exchange the results, and
 * every process applies every building's. The heights are those one process measures:
 * each building's search finds the same points (rank_band.h). */
static ct_status heights_banded(ct_context *ctx, const heights_state *s, ct_dataset *ds, const ct_heights_params *prm,
                                const int *cols, int hcol, int scol, uint64_t counts[2]) {
    const size_t n = ds->nbuildings;
    size_t m = 0, *idx = NULL;
    ct_heights_result *res_mine = NULL, *res = malloc((n ? n : 1) * sizeof *res);
    unsigned char *got = malloc(n ? n : 1);
    ct_status st = measure_band(ctx, s, ds, prm, cols, hcol, scol, counts, &idx, &res_mine, &m);
    if (st == CT_OK && (!res || !got)) st = ct_error_nomem(ctx, "heights");
    /* (every process takes part, even after an error of its own) */
    st = ct_exchange_by_index(ctx, st, idx, res_mine, m, sizeof *res_mine, n, res, got, "filters.heights");
    free(idx);
    free(res_mine);
    for (size_t i = 0; st == CT_OK && i < n; i++)
        if (!got[i])
            st = ct_error(ctx, CT_ERR_IO, "filters.heights: no process measured building %s (one failed?)",
                          ds->buildings[i].id);
    free(got);
    if (st == CT_OK) st = apply_all(ctx, s, ds, res, cols, hcol, scol, counts);
    free(res);
    return st;
}

/* Under MPI bands each process holds the points of its band only: whether any process
 * has points of class 6, so that all take the same roof classes. */
static ct_status class6_anywhere(ct_context *ctx, const ct_dataset *ds, int *any) {
    unsigned char mine = ct_point_store_class_counts(ds->points)[6] > 0;
    void *all = NULL;
    size_t sizes[256] = {0};
    ct_status st = ct_context_allgather(ctx, &mine, 1, &all, sizes);
    *any = 0;
    for (int r = 0; st == CT_OK && r < ds->band->n; r++) *any |= sizes[r] == 1 && ((unsigned char *)all)[r];
    free(all);
    return st;
}

/* What partitions leave of a building (core/partition_results.h): its result, and under
 * --measure-only with automatic roof classes in a band without class 6 points, also its
 * result with every non-ground point as roof, for the run that takes them to choose as
 * one process does: class 6 alone is roof when any point of the city has it. */
enum { SHARED_DECIDED = 1, SHARED_CLASS6_SEEN = 2 };
typedef struct shared_heights {
    ct_heights_result chosen;    /* final (SHARED_DECIDED), measured with class 6 points seen
                                  * (SHARED_CLASS6_SEEN), or with class 6 alone as roof (0) */
    ct_heights_result nonground; /* flags 0: with every non-ground point as roof */
    uint32_t flags, unused;
} shared_heights;

/* One process: every building measured (points on disk: swept, sweep_buildings), the
 * results applied, and, under --partition, this partition's share saved for the merge. */
static ct_status heights_all(ct_context *ctx, const heights_state *s, ct_dataset *ds, const ct_heights_params *prm,
                             const int *cols, int hcol, int scol, uint64_t counts[2], int save) {
    const size_t n = ds->nbuildings;
    ct_heights_result *res = malloc((n ? n : 1) * sizeof *res);
    if (!res) return ct_error_nomem(ctx, "heights");
    ct_status st = ct_point_store_on_disk(ds->points)
                       ? sweep_buildings(ctx, s, ds, prm, cols, hcol, scol, counts, NULL, n, res)
                       : heights_range(ctx, s, ds, prm, NULL, n, cols, hcol, scol, counts, 0, res, NULL);
    if (st == CT_OK) st = apply_all(ctx, s, ds, res, cols, hcol, scol, counts);
    size_t first = 0, m = 0;
    ct_partition_results_share(ctx, n, &first, &m);
    size_t *idx = save ? malloc((m ? m : 1) * sizeof *idx) : NULL;
    shared_heights *out = save ? calloc(m ? m : 1, sizeof *out) : NULL;
    if (st == CT_OK && save && (!idx || !out)) st = ct_error_nomem(ctx, "heights");
    for (size_t j = 0; st == CT_OK && save && j < m; j++) {
        idx[j] = first + j;
        out[j].chosen = res[first + j];
        out[j].flags = SHARED_DECIDED;
    }
    if (st == CT_OK && save)
        st = ct_partition_results_save(ctx, s->key, ds->lidar_run_hash, ct_partition_results_buildings_hash(ds), idx,
                                       out, m, sizeof *out, n);
    free(idx);
    free(out);
    free(res);
    return st;
}

/* A merge or partition whose partitions left their heights (readers.lidar read no
 * point): taken, chosen as one process would measure them, and applied. */
static ct_status heights_from_partitions(ct_context *ctx, const heights_state *s, ct_dataset *ds, const int *cols,
                                         int hcol, int scol, uint64_t counts[2]) {
    const size_t n = ds->nbuildings;
    shared_heights *in = malloc((n ? n : 1) * sizeof *in);
    ct_heights_result *res = malloc((n ? n : 1) * sizeof *res);
    ct_status st = in && res ? ct_partition_results_load(ctx, s->key, ds->lidar_run_hash,
                                                         ct_partition_results_buildings_hash(ds), in, sizeof *in, n,
                                                         "buildings")
                             : ct_error_nomem(ctx, "heights");
    int class6 = 0, nonground = 0;
    for (size_t i = 0; st == CT_OK && i < n; i++) class6 |= (in[i].flags & SHARED_CLASS6_SEEN) != 0;
    for (size_t i = 0; st == CT_OK && i < n; i++) {
        int take_nonground = !(in[i].flags & (SHARED_DECIDED | SHARED_CLASS6_SEEN)) && !class6;
        res[i] = take_nonground ? in[i].nonground : in[i].chosen;
        nonground |= take_nonground;
    }
    if (st == CT_OK && nonground)
        ct_log(ctx, CT_LOG_INFO, "filters.heights: no point has class 6 (building): every non-ground point counts as roof");
    if (st == CT_OK) st = apply_all(ctx, s, ds, res, cols, hcol, scol, counts);
    free(in);
    free(res);
    if (st == CT_OK)
        ct_log(ctx, CT_LOG_INFO, "filters.heights: %s: the heights of %zu buildings taken from the partitions' "
               "results", ct_context_merge(ctx) ? "merge" : "partition", n);
    return st;
}

/* --measure-only: the buildings of this partition's band of the city measured, and left
 * for the partitions run after and the merge (nothing applied: the run stops). With
 * automatic roof classes and no class 6 point in the band (variants), measured twice:
 * with every non-ground point as roof (prm), and with class 6 alone (what one process
 * measures when another band has class 6 points). */
static ct_status heights_measure_only(ct_context *ctx, const heights_state *s, ct_dataset *ds,
                                      const ct_heights_params *prm, const int *cols, int hcol, int scol,
                                      uint64_t counts[2], int variants) {
    const size_t n = ds->nbuildings;
    size_t m = 0, m6 = 0, *idx = NULL, *idx6 = NULL;
    ct_heights_result *res = NULL, *res6 = NULL;
    shared_heights *out = NULL;
    ct_status st = measure_band(ctx, s, ds, prm, cols, hcol, scol, counts, &idx, &res, &m);
    if (st == CT_OK && variants) {
        ct_heights_params prm6 = *prm;
        for (int c = 0; c < 256; c++) prm6.roof_class[c] = c == 6;
        st = measure_band(ctx, s, ds, &prm6, cols, hcol, scol, counts, &idx6, &res6, &m6);
    }
    if (st == CT_OK && !(out = calloc(m ? m : 1, sizeof *out))) st = ct_error_nomem(ctx, "heights");
    for (size_t j = 0; st == CT_OK && j < m; j++) {
        if (variants) {
            out[j].chosen = res6[j]; /* (the same buildings in the same order: measure_band) */
            out[j].nonground = res[j];
        } else {
            out[j].chosen = res[j];
            out[j].flags = s->auto_roof_classes ? SHARED_CLASS6_SEEN : SHARED_DECIDED;
        }
    }
    if (st == CT_OK)
        st = ct_partition_results_save(ctx, s->key, ds->lidar_run_hash, ct_partition_results_buildings_hash(ds), idx,
                                       out, m, sizeof *out, n);
    if (st == CT_OK)
        ct_log(ctx, CT_LOG_INFO, "filters.heights: partition %d/%d measured the %zu buildings of its band of the city "
               "(of %zu)%s", ds->band->k, ds->band->n, m, n,
               variants ? "; no point of its band has class 6, so both ways (class 6 alone as roof, or every "
                          "non-ground point): the run that takes them chooses as one process would"
                        : "");
    free(idx);
    free(idx6);
    free(res);
    free(res6);
    free(out);
    return st;
}

/* Roofs measured more than max_height above the ground they stand on (after
 * resolve_missing_ground): noise points taken as roof, a wrong class, a damaged file. A
 * LAS with stray points at 2,147 km gave buildings that tall without a word. They get
 * their fallback height instead, flagged roof_too_high (roof_z keeps what was measured),
 * and one warning names how many and the first. *n counts them. */
static ct_status refuse_too_high(ct_context *ctx, const heights_state *s, ct_dataset *ds, const int *cols, int hcol,
                                 int scol, const char *measured, uint64_t *n) {
    *n = 0;
    size_t first = SIZE_MAX;
    double first_height = 0;
    for (size_t i = 0; i < ds->nbuildings; i++) {
        ct_building *b = &ds->buildings[i];
        const ct_value *src = &b->attrs[cols[A_SOURCE]];
        if (!(b->top_z - b->base_z > s->max_height) || src->is_null || strcmp(src->v.s, measured) != 0) continue;
        if (first == SIZE_MAX) {
            first = i;
            first_height = b->top_z - b->base_z;
        }
        const char *source = measured;
        b->top_z = b->base_z + fallback_height(s, ds, b, hcol, scol, &source);
        if (!set_string(b, cols[A_SOURCE], source) || !set_string(b, cols[A_FLAG], "roof_too_high"))
            return ct_error_nomem(ctx, "filters.heights");
        ++*n;
    }
    if (*n)
        ct_log(ctx, CT_LOG_WARN, "filters.heights: %llu buildings measured more than max_height (%g m) above their "
               "ground got a fallback height instead (first: building %s, feature %llu, %.1f m; flag roof_too_high): "
               "noise points taken as roof (readers.lidar drop_classes, building_classes), or damaged LiDAR?",
               (unsigned long long)*n, s->max_height, ds->buildings[first].id,
               (unsigned long long)ds->buildings[first].source_record, first_height);
    return CT_OK;
}

/* " Its points are of classes 1 (N points), ...; none of ground_classes." (the first four
 * classes, by count), for LiDAR none of whose points has a ground class; "" without LiDAR. */
static void describe_classes(const ct_dataset *ds, char *out, size_t cap) {
    out[0] = 0;
    const uint64_t *counts = ds->points ? ct_point_store_class_counts(ds->points) : NULL;
    if (!counts) return;
    int listed[4], nl = 0;
    size_t len = (size_t)snprintf(out, cap, " Its points are of class");
    for (; nl < 4; nl++) { /* the largest classes not listed yet */
        int best = -1;
        for (int c = 0; c < 256; c++) {
            int seen = 0;
            for (int k = 0; k < nl; k++) seen |= listed[k] == c;
            if (!seen && counts[c] && (best < 0 || counts[c] > counts[best])) best = c;
        }
        if (best < 0) break;
        listed[nl] = best;
        if (len < cap)
            len += (size_t)snprintf(out + len, cap - len, "%s %d (%llu points)", nl ? "," : "", best,
                                    (unsigned long long)counts[best]);
    }
    if (nl == 0) out[0] = 0;
    else if (len < cap) snprintf(out + len, cap - len, "; none is of ground_classes.");
}

/* Buildings without ground points stand on the median ground of those with some
 * (their ground_z attribute stays null and their flag says why); fallback heights
 * are then measured from that ground. */
static ct_status resolve_missing_ground(ct_context *ctx, ct_dataset *ds) {
    double *g = malloc((ds->nbuildings ? ds->nbuildings : 1) * sizeof *g);
    if (!g) return ct_error_nomem(ctx, "median ground");
    size_t n = 0;
    for (size_t i = 0; i < ds->nbuildings; i++)
        if (!isnan(ds->buildings[i].base_z)) g[n++] = ds->buildings[i].base_z;
    double median = ct_median_doubles(g, n);
    free(g);
    for (size_t i = 0; i < ds->nbuildings; i++) {
        ct_building *b = &ds->buildings[i];
        if (isnan(b->base_z)) b->base_z = median;
        if (isnan(b->top_z) && !isnan(b->base_z) && !isnan(b->fallback_height)) b->top_z = b->base_z + b->fallback_height;
        /* A LiDAR roof below the borrowed ground: measure the fallback height from it instead. */
        if (!isnan(b->top_z) && !isnan(b->base_z) && !(b->top_z > b->base_z)) b->base_z = b->top_z - 3.0;
    }
    return CT_OK;
}

/* The first building without a measured roof (height_source not the measurement, not for
 * being too high: refuse_too_high named those) or, with ground, without a measured ground
 * (ground_z null); NULL when none. */
static const ct_building *first_unmeasured(const ct_dataset *ds, const int *cols, int ground, const char *measured) {
    for (size_t i = 0; i < ds->nbuildings; i++) {
        const ct_value *a = ds->buildings[i].attrs;
        if (ground ? a[cols[A_GROUND]].is_null
                   : (a[cols[A_SOURCE]].is_null || strcmp(a[cols[A_SOURCE]].v.s, measured) != 0) &&
                         (a[cols[A_FLAG]].is_null || strcmp(a[cols[A_FLAG]].v.s, "roof_too_high") != 0))
            return &ds->buildings[i];
    }
    return NULL;
}

/* Some buildings (not all: that has its own warning) fell back: a model with default-height
 * boxes among measured ones looks right at a glance, so the log says how many and which
 * first (LiDAR covering part of the footprints gave an info line only). */
static void warn_some_unmeasured(ct_context *ctx, const ct_dataset *ds, const int *cols, uint64_t no_roof,
                                 uint64_t no_ground, const char *measured) {
    const ct_building *b;
    const char *source = strcmp(measured, "lidar") == 0 ? "LiDAR" : "raster";
    if (no_roof > 0 && no_roof < ds->nbuildings && (b = first_unmeasured(ds, cols, 0, measured)))
        ct_log(ctx, CT_LOG_WARN, "filters.heights: %llu of %zu buildings have no %s roof height and got a fallback "
               "height (first: building %s, feature %llu; the \"flag\" attribute says why): does the %s cover every "
               "footprint?", (unsigned long long)no_roof, ds->nbuildings, source, b->id,
               (unsigned long long)b->source_record, source);
    if (no_ground > 0 && no_ground < ds->nbuildings && (b = first_unmeasured(ds, cols, 1, measured)))
        ct_log(ctx, CT_LOG_WARN, "filters.heights: %llu of %zu buildings have no ground points and stand on the "
               "median ground of the others (first: building %s, feature %llu)", (unsigned long long)no_ground,
               ds->nbuildings, b->id, (unsigned long long)b->source_record);
}

/* Class 6 decides the roof classes (building_classes not given): a file with a handful of
 * class-6 points among unclassified ones made every building a fallback box, and the log
 * said only that no building had enough roof points. Warned when class 6 is under 1% of
 * the points that are not ground (this process's points). */
static void warn_few_class6(ct_context *ctx, const ct_dataset *ds, const ct_heights_params *prm) {
    const uint64_t *c = ct_point_store_class_counts(ds->points);
    uint64_t nonground = 0;
    for (int k = 0; k < 256; k++) nonground += prm->ground_class[k] ? 0 : c[k];
    if (c[6] * 100 < nonground)
        ct_log(ctx, CT_LOG_WARN, "filters.heights: roofs are measured from class 6 (building) alone, and only %llu of "
               "the %llu points that are not ground have it: if the LiDAR's buildings are not classified, set "
               "building_classes (e.g. [1] for unclassified points)",
               (unsigned long long)c[6], (unsigned long long)nonground);
    else
        ct_log(ctx, CT_LOG_INFO, "filters.heights: roof class 6 (building): %llu points", (unsigned long long)c[6]);
}

/* v with a comma between thousands ("31,000,000") into out (cap >= 32). */
static void thousands(uint64_t v, char *out, size_t cap) {
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
    size_t k = 0;
    for (int i = 0; i < n && k + 1 < cap; i++) {
        if (i > 0 && (n - i) % 3 == 0 && k + 2 < cap) out[k++] = ',';
        out[k++] = digits[i];
    }
    out[k] = 0;
}

/* "from 1 in 8 of its 31,000,000 roof points" or "from all its 2,000 roof points". */
static void describe_thinning(uint32_t bits, uint32_t points, const char *kind, char *out, size_t cap) {
    char count[32];
    thousands(points, count, sizeof count);
    if (bits == 0) snprintf(out, cap, "from all its %s %s points", count, kind);
    else snprintf(out, cap, "from 1 in %llu of its %s %s points", 1ull << (bits > 63 ? 63 : bits), count, kind);
}

/* Buildings with more than max_samples roof or ground points were measured on a sample
 * of them: one warning says how many and describes the first (a footprint of square
 * kilometres is often a boundary or a site among the buildings). */
static void warn_thinned(ct_context *ctx, const heights_state *s, const ct_dataset *ds) {
    size_t count = 0, first = 0;
    for (size_t i = 0; s->notes && i < ds->nbuildings; i++)
        if (s->notes[i].roof_thin || s->notes[i].ground_thin) {
            if (count++ == 0) first = i;
        }
    if (count == 0) return;
    const thinned_note *t = &s->notes[first];
    char roof[96], ground[96];
    describe_thinning(t->roof_thin, t->roof_points, "roof", roof, sizeof roof);
    describe_thinning(t->ground_thin, t->ground_points, "ground", ground, sizeof ground);
    ct_log(ctx, CT_LOG_WARN, "filters.heights: %zu buildings had more than max_samples (%u) roof or ground points "
           "and were measured on a sample of them, the same points whatever the order or the memory (first: building "
           "%s, feature %llu: roof heights %s, ground %s; flag points_thinned): a footprint that large may be a "
           "boundary or a site, not a building", count, (unsigned)s->prm.max_samples, ds->buildings[first].id,
           (unsigned long long)ds->buildings[first].source_record, roof, ground);
}

/* A model whose buildings got fallback heights only is not what a batch run should
 * publish with exit 0: LiDAR of another area, an empty one or a wrong srs measured
 * nothing at any footprint (no roof, no ground), and every building became a box of the
 * default height, with warnings only. That (LiDAR only: a DTM alone is a way to get the
 * ground, not a failure) is an input error by default; max_fallback_share sets a share
 * of buildings with a fallback roof height beyond which the run fails (1: never). Under
 * --partition, of the partition's buildings. */
static ct_status check_fallback_share(ct_context *ctx, const heights_state *s, const ct_dataset *ds, uint64_t fallback,
                                      uint64_t no_ground, int use_raster) {
    const size_t n = ds->nbuildings;
    if (n == 0) return CT_OK;
    const double share = (double)fallback / (double)n;
    const int by_default = isnan(s->max_fallback_share);
    if (by_default ? use_raster || fallback < n || no_ground < n : !(share > s->max_fallback_share)) return CT_OK;
    char limit[96];
    if (by_default) snprintf(limit, sizeof limit, "the LiDAR measured no roof and no ground at any footprint");
    else snprintf(limit, sizeof limit, "more than max_fallback_share %g", s->max_fallback_share);
    return ct_error(ctx, CT_ERR_INPUT, "filters.heights: %llu of %zu buildings (%.1f%%) got a fallback roof height (%s): "
                    "%s Set max_fallback_share to 1 to write them anyway", (unsigned long long)fallback, n,
                    100.0 * share, limit,
                    use_raster ? "does the DSM cover the footprints, in their CRS?"
                               : "is the LiDAR of this area, its srs right, its classes as expected?");
}

static ct_status measure_and_apply(ct_context *ctx, heights_state *s, ct_dataset *ds) {
    const int partitions_measured = ds->points_from_partitions && !ds->points && s->key[0];
    const int have_points = ds->points || partitions_measured;
    int use_raster = strcmp(s->source, "raster") == 0 || (strcmp(s->source, "auto") == 0 && !have_points && ds->rasters);
    if (use_raster && !ds->rasters)
        return ct_error(ctx, CT_ERR_USAGE, "filters.heights: source \"raster\" but no rasters: put readers.raster before it");
    if (!use_raster && !have_points)
        return ct_error(ctx, CT_ERR_USAGE, "filters.heights: no LiDAR points: put readers.lidar (or readers.raster) before it");
    ct_heights_params prm = s->prm;
    int variants = 0; /* --measure-only without class 6 in the band: both roof classes measured */
    if (!use_raster && ds->points && s->auto_roof_classes) {
        int class6 = ct_point_store_class_counts(ds->points)[6] > 0;
        if (ds->band && ct_context_has_allgather(ctx)) {
            ct_status cst = class6_anywhere(ctx, ds, &class6);
            if (cst != CT_OK) return cst;
        } else if (ds->band && !class6 && ct_context_measure_only(ctx)) { /* (the other bands' points are not here) */
            variants = 1;
        }
        if (class6) {
            prm.roof_class[6] = 1;
            warn_few_class6(ctx, ds, &prm);
        } else {
            for (int c = 0; c < 256; c++) prm.roof_class[c] = !prm.ground_class[c];
            if (!variants)
                ct_log(ctx, CT_LOG_INFO, "filters.heights: no point has class 6 (building): every non-ground point "
                       "counts as roof");
        }
    }
    int cols[A_N];
    ct_status ast = ct_dataset_claim_attrs(ctx, ds, "filters.heights", col_names, col_types, A_N, cols);
    if (ast != CT_OK) return ast;
    int hcol = s->height_attribute ? ct_dataset_find_attr(ds, s->height_attribute) : -1;
    int scol = s->storeys_attribute ? ct_dataset_find_attr(ds, s->storeys_attribute) : -1;
    if (s->height_attribute && hcol < 0)
        return ct_error(ctx, CT_ERR_USAGE, "filters.heights: height_attribute '%s' is not an attribute", s->height_attribute);
    if (s->storeys_attribute && scol < 0)
        return ct_error(ctx, CT_ERR_USAGE, "filters.heights: storeys_attribute '%s' is not an attribute", s->storeys_attribute);

    uint64_t counts[2] = {0, 0};
    int part_k = 0, part_n = 1;
    ct_context_partition(ctx, &part_k, &part_n);
    int shared = !use_raster && part_n > 1 && ct_context_has_allgather(ctx);
    /* (a partition saves what it measured for the merge) */
    int save = !use_raster && ct_partition_results_saving(ctx) && ds->lidar_run_hash != 0 && s->key[0];
    ct_status st = CT_OK;
    if (!use_raster && partitions_measured) {
        st = heights_from_partitions(ctx, s, ds, cols, hcol, scol, counts);
    } else if (!use_raster && ds->band && ct_context_measure_only(ctx)) {
        return heights_measure_only(ctx, s, ds, &prm, cols, hcol, scol, counts, variants);
    } else if (!use_raster && !shared && (save || ct_point_store_on_disk(ds->points))) {
        st = heights_all(ctx, s, ds, &prm, cols, hcol, scol, counts, save);
        if (st == CT_OK && ct_point_store_on_disk(ds->points))
            ct_log(ctx, CT_LOG_INFO, "filters.heights: points on disk: %zu buildings in %zu cells, each cell read once",
                   ds->nbuildings, ct_point_store_cell_count(ds->points));
        if (st == CT_OK && save)
            ct_log(ctx, CT_LOG_INFO, "filters.heights: partition: the heights of the %zu buildings left for the merge "
                   "(this partition's share)", ds->nbuildings);
    } else if (shared && ds->band) {
        st = heights_banded(ctx, s, ds, &prm, cols, hcol, scol, counts);
        if (st == CT_OK)
            ct_log(ctx, CT_LOG_INFO, "filters.heights: %zu buildings, those of this process's band of the city "
                   "measured here (process %d of %d), results exchanged", ds->nbuildings, part_k, part_n);
    } else if (shared) {
        size_t *order = NULL, ngroups = 0;
        ct_cell_group *groups = NULL;
        st = group_buildings(ctx, ds, query_margin(&prm), NULL, &order, &groups, &ngroups);
        if (st == CT_OK) {
            st = heights_shared(ctx, s, ds, &prm, cols, hcol, scol, counts, order, groups, ngroups, part_k, part_n);
            ct_log(ctx, CT_LOG_INFO, "filters.heights: %zu buildings in %zu cells, a share of them (a run of cells of "
                   "about equal buildings) measured here (process %d of %d), results exchanged", ds->nbuildings, ngroups,
                   part_k, part_n);
        }
        free(order);
        free(groups);
    } else {
        st = heights_range(ctx, s, ds, &prm, NULL, ds->nbuildings, cols, hcol, scol, counts, use_raster, NULL, NULL);
    }
    if (st != CT_OK) return st;
    uint64_t no_roof = counts[0], no_ground = counts[1], too_high = 0;
    st = resolve_missing_ground(ctx, ds);
    if (st == CT_OK) st = refuse_too_high(ctx, s, ds, cols, hcol, scol, use_raster ? "raster" : "lidar", &too_high);
    if (st != CT_OK) return st;
    /* (the causes differ for rasters: asking whether the LiDAR is unclassified misled) */
    if (ds->nbuildings > 0 && no_ground == ds->nbuildings && !use_raster) {
        double lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < ds->nbuildings; i++) {
            double z = ds->buildings[i].top_z;
            if (!isnan(z) && z < lo) lo = z;
            if (!isnan(z) && z > hi) hi = z;
        }
        char roofs[160] = "";
        if (lo <= hi) /* (the roofs are heights above sea level: extruded from base_z they are that tall) */
            snprintf(roofs, sizeof roofs, " (left at its default, 0, the roofs measured at %.1f to %.1f m make "
                     "buildings that tall)", lo, hi);
        uint64_t ground_points = 0; /* (points of ground_classes kept: then the search found none, not the LiDAR) */
        const uint64_t *counts = ds->points ? ct_point_store_class_counts(ds->points) : NULL;
        for (int c = 0; counts && c < 256; c++) ground_points += prm.ground_class[c] ? counts[c] : 0;
        if (ground_points > 0)
            ct_log(ctx, CT_LOG_WARN, "filters.heights: no building has ground points: every building stands on "
                   "filters.extrude's base_z%s; the LiDAR has %llu points of ground_classes, none within max_buffer "
                   "(%g m; buffer %g m) of a footprint: a larger max_buffer reaches them", roofs,
                   (unsigned long long)ground_points, prm.max_buffer, prm.buffer);
        else {
            char classes[200] = "";
            describe_classes(ds, classes, sizeof classes);
            ct_log(ctx, CT_LOG_WARN, "filters.heights: no building has ground points (ground_classes): every building "
                   "stands on filters.extrude's base_z%s; is the LiDAR unclassified?%s Classify its ground first (e.g. "
                   "PDAL's filters.smrf or LAStools' lasground), or set ground_classes to the class that holds it",
                   roofs, classes);
        }
    }
    else if (ds->nbuildings > 0 && no_ground == ds->nbuildings)
        ct_log(ctx, CT_LOG_WARN, "filters.heights: no building has ground heights: every building stands on "
               "filters.extrude's base_z; %s", ds->rasters->dtm ? "the DTM has no valid cell in or around any footprint"
                                                                : "give readers.raster a dtm (the DSM gives only roofs)");
    if (ds->nbuildings > 0 && no_roof == ds->nbuildings && !use_raster)
        ct_log(ctx, CT_LOG_WARN, "filters.heights: no building has enough roof points: every building got a fallback height");
    else if (ds->nbuildings > 0 && no_roof == ds->nbuildings)
        ct_log(ctx, CT_LOG_WARN, "filters.heights: no building has a roof height from the rasters: every building got a "
               "fallback height; %s", ds->rasters->dsm ? "are the DSM's cells too coarse (a cell counts when its centre "
                                                         "lies in the footprint), or is it a terrain model (roofs not "
                                                         "above the ground)?"
                                                       : "give readers.raster a dsm (the DTM gives only the ground)");
    warn_some_unmeasured(ctx, ds, cols, no_roof, no_ground, use_raster ? "raster" : "lidar");
    char high[96] = "";
    if (too_high)
        snprintf(high, sizeof high, ", %llu measured above max_height (fallback height)", (unsigned long long)too_high);
    ct_log(ctx, CT_LOG_INFO, "filters.heights: %zu buildings: %llu without enough roof points (fallback height), "
           "%llu without ground points (fallback ground)%s", ds->nbuildings, (unsigned long long)no_roof,
           (unsigned long long)no_ground, high);
    return check_fallback_share(ctx, s, ds, no_roof + too_high, no_ground, use_raster);
}

static ct_status run(ct_context *ctx, void *state, ct_dataset *ds) {
    heights_state *s = state;
    s->notes = calloc(ds->nbuildings ? ds->nbuildings : 1, sizeof *s->notes);
    if (!s->notes) return ct_error_nomem(ctx, "filters.heights");
    ct_status st = measure_and_apply(ctx, s, ds);
    if (st == CT_OK) warn_thinned(ctx, s, ds);
    free(s->notes);
    s->notes = NULL;
    return st;
}

static void destroy(void *state) {
    heights_state *s = state;
    json_decref(s->opts);
    free(s);
}

const ct_stage_vtable ct_stage_filters_heights = {
    "filters.heights", "ground and roof heights per building from the LiDAR points (percentiles)", options, create, run,
    destroy,
};
