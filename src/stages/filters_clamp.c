/* filters.clamp: base height of every city asset. In order of precedence: an explicit z
 * (readers.assets z_field); the roof of the building the asset falls in (on_roof, from
 * filters.heights' top_z); the ground interpolated from the LiDAR ground points around
 * it (ground.h); plus the asset's height above ground when it has one. Assets with no
 * ground points near them are flagged (or skipped), never given a silent guess.
 *
 * Ground source: the binned LiDAR (dataset->points). A DTM raster would plug in at
 * ground_of(): gather its cells around the asset into ct_ground_sample and call
 * ct_ground_interpolate, keeping the rest of this stage unchanged. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "citytiler/assets.h"
#include "citytiler/ground.h"
#include "citytiler/heights.h"
#include "citytiler/stage.h"
#include "core/indexed_exchange.h"
#include "core/partition_results.h"
#include "core/rank_band.h"

typedef struct clamp_state {
    json_t *opts;
    ct_ground_params prm;
    double coverage_radius;
    int skip_no_ground;
    double reach; /* how far around an asset its searches read points: max_radius or
                   * coverage_radius, and a metre */
    char key[96]; /* its results' key for the merge (partition_results.h) */
} clamp_state;

static const ct_option_def options[] = {
    {"ground_classes", CT_OPT_INTEGER_LIST, "[2]", 0, "classes taken as ground (add 9, water, if wanted)"},
    {"method", CT_OPT_STRING, "\"plane\"", 0, "\"plane\" (least-squares plane of the k nearest ground points) or \"idw\" (inverse distance)"},
    {"k", CT_OPT_INTEGER, "12", 0, "nearest ground points used"},
    {"radius", CT_OPT_NUMBER, "1", 0, "first search radius (m); it doubles until k ground points are found"},
    {"max_radius", CT_OPT_NUMBER, "8", 0, "largest search radius (m); fewer than min_points within it: no ground"},
    {"min_points", CT_OPT_INTEGER, "3", 0, "ground points needed within max_radius"},
    {"coverage_radius", CT_OPT_NUMBER, "1", 0, "no LiDAR point of any class this close (m): the asset is outside the LiDAR coverage (clamp_flag outside_lidar); 0: no check"},
    {"no_ground", CT_OPT_STRING, "\"flag\"", 0, "assets outside the LiDAR or without ground points: \"flag\" (kept, see clamp_flag) or \"skip\""},
    {NULL, 0, NULL, 0, NULL},
};

static ct_status create(ct_context *ctx, const ct_json *opts, void **state) {
    ct_ground_params p;
    ct_ground_params_default(&p);
    p.ground_class[2] = 0;
    const json_t *list = ct_opt_get(opts, "ground_classes");
    for (size_t i = 0; list && i < json_array_size(list); i++) {
        json_int_t c = json_integer_value(json_array_get(list, i));
        if (c < 0 || c > 255) return ct_error(ctx, CT_ERR_USAGE, "filters.clamp: ground_classes: %lld is not a class (0-255)", (long long)c);
        p.ground_class[c] = 1;
    }
    const char *method = ct_opt_string(opts, "method");
    if (strcmp(method, "plane") == 0) p.method = CT_GROUND_PLANE;
    else if (strcmp(method, "idw") == 0) p.method = CT_GROUND_IDW;
    else return ct_error(ctx, CT_ERR_USAGE, "filters.clamp: method '%s': expected \"plane\" or \"idw\"", method);
    long long k = ct_opt_integer(opts, "k"), mp = ct_opt_integer(opts, "min_points");
    p.radius = ct_opt_number(opts, "radius");
    p.max_radius = ct_opt_number(opts, "max_radius");
    if (k < 3 || k > 256) return ct_error(ctx, CT_ERR_USAGE, "filters.clamp: k must be from 3 to 256");
    if (mp < 1 || mp > k) return ct_error(ctx, CT_ERR_USAGE, "filters.clamp: min_points must be from 1 to k");
    if (!(p.radius > 0) || !(p.max_radius >= p.radius) || p.max_radius > 1000)
        return ct_error(ctx, CT_ERR_USAGE, "filters.clamp: need 0 < radius <= max_radius <= 1000");
    double cov = ct_opt_number(opts, "coverage_radius");
    if (!(cov >= 0 && cov <= 1000)) return ct_error(ctx, CT_ERR_USAGE, "filters.clamp: coverage_radius must be 0 to 1000 m");
    p.k = (uint32_t)k;
    p.min_points = (uint32_t)mp;
    const char *ng = ct_opt_string(opts, "no_ground");
    if (strcmp(ng, "flag") != 0 && strcmp(ng, "skip") != 0)
        return ct_error(ctx, CT_ERR_USAGE, "filters.clamp: no_ground '%s': expected \"flag\" or \"skip\"", ng);
    clamp_state *s = calloc(1, sizeof *s);
    if (!s) return ct_error_nomem(ctx, "filters.clamp");
    s->opts = json_incref((json_t *)opts);
    s->prm = p;
    s->coverage_radius = cov;
    s->skip_no_ground = strcmp(ng, "skip") == 0;
    s->reach = (p.max_radius > cov ? p.max_radius : cov) + 1.0;
    ct_context_declare_point_reach(ctx, s->reach); /* (also ground_by_cell's margin, and the bands' guard) */
    if (!ct_partition_results_declare(ctx, "filters.clamp", s->key, sizeof s->key)) {
        json_decref(s->opts);
        free(s);
        return ct_error_nomem(ctx, "filters.clamp");
    }
    *state = s;
    return CT_OK;
}

/* ---- buildings under on_roof assets: a uniform grid of building boxes ---- */

typedef struct bgrid {
    double x0, y0, cs;
    long nx, ny;
    size_t *start; /* nx*ny + 1 */
    size_t *items; /* building indexes, ascending within a cell */
} bgrid;

static void bgrid_free(bgrid *g) {
    free(g->start);
    free(g->items);
    memset(g, 0, sizeof *g);
}

static void cell_range(const bgrid *g, const double b[4], long r[4]) {
    r[0] = (long)floor((b[0] - g->x0) / g->cs);
    r[1] = (long)floor((b[1] - g->y0) / g->cs);
    r[2] = (long)floor((b[2] - g->x0) / g->cs);
    r[3] = (long)floor((b[3] - g->y0) / g->cs);
    if (r[0] < 0) r[0] = 0;
    if (r[1] < 0) r[1] = 0;
    if (r[2] >= g->nx) r[2] = g->nx - 1;
    if (r[3] >= g->ny) r[3] = g->ny - 1;
}

static ct_status bgrid_build(ct_context *ctx, const ct_dataset *ds, bgrid *g) {
    memset(g, 0, sizeof *g);
    double bb[4];
    if (!ct_dataset_bbox(ds, bb)) return CT_OK;
    double w = bb[2] - bb[0], h = bb[3] - bb[1];
    double cs = sqrt((w * h) / (double)(ds->nbuildings ? ds->nbuildings : 1));
    if (!(cs >= 5.0)) cs = 5.0;
    while ((w / cs + 1) * (h / cs + 1) > 4.0 * (double)ds->nbuildings + 64) cs *= 1.5;
    g->x0 = bb[0];
    g->y0 = bb[1];
    g->cs = cs;
    g->nx = (long)(w / cs) + 1;
    g->ny = (long)(h / cs) + 1;
    size_t ncell = (size_t)g->nx * (size_t)g->ny;
    g->start = calloc(ncell + 1, sizeof *g->start);
    if (!g->start) return ct_error_nomem(ctx, "building grid");
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < ds->nbuildings; i++) {
            double fb[4];
            long r[4];
            if (!ct_footprint_bbox(&ds->buildings[i].footprint, fb)) continue;
            cell_range(g, fb, r);
            for (long cy = r[1]; cy <= r[3]; cy++)
                for (long cx = r[0]; cx <= r[2]; cx++) {
                    size_t c = (size_t)cy * (size_t)g->nx + (size_t)cx;
                    if (pass == 0) g->start[c + 1]++;
                    else g->items[g->start[c]++] = i;
                }
        }
        if (pass == 0) {
            for (size_t c = 0; c < ncell; c++) g->start[c + 1] += g->start[c];
            g->items = malloc((g->start[ncell] ? g->start[ncell] : 1) * sizeof *g->items);
            if (!g->items) {
                bgrid_free(g);
                return ct_error_nomem(ctx, "building grid");
            }
        }
    }
    /* the fill pass advanced each start to the next cell's: shift back */
    memmove(g->start + 1, g->start, ncell * sizeof *g->start);
    g->start[0] = 0;
    return CT_OK;
}

/* First building (dataset order) whose footprint contains (x, y), or -1. */
static long building_at(const bgrid *g, const ct_dataset *ds, double x, double y) {
    if (!g->start) return -1;
    long cx = (long)floor((x - g->x0) / g->cs), cy = (long)floor((y - g->y0) / g->cs);
    if (cx < 0 || cy < 0 || cx >= g->nx || cy >= g->ny) return -1;
    size_t c = (size_t)cy * (size_t)g->nx + (size_t)cx;
    for (size_t k = g->start[c]; k < g->start[c + 1]; k++) {
        if (ct_footprint_contains(&ds->buildings[g->items[k]].footprint, x, y)) return (long)g->items[k];
    }
    return -1;
}

/* ---- ground per asset ---- */

typedef struct ground_out {
    double z;
    double radius; /* the search radius that gave the points */
    uint32_t points;
    int covered;
} ground_out;

/* The ground of one asset (the extension point for other ground sources). */
static ct_status ground_of(const ct_dataset *ds, const ct_asset *a, const clamp_state *s, ct_ground_scratch *sc,
                           ground_out *out) {
    ct_ground_result r;
    ct_status st = ct_ground_at(ds->points, a->x, a->y, &s->prm, sc, &r);
    out->z = st == CT_OK ? r.z : NAN;
    out->points = st == CT_OK ? r.points : 0;
    out->radius = st == CT_OK ? r.radius : NAN;
    out->covered = 1;
    if (st == CT_OK && s->coverage_radius > 0) st = ct_points_cover(ds->points, a->x, a->y, s->coverage_radius, sc, &out->covered);
    return st;
}

/* Ground of assets idx[0..n-1] (all when idx is NULL), in parallel; each result depends
 * only on its asset, so any thread count gives the same numbers. */
static ct_status ground_range(ct_context *ctx, const ct_dataset *ds, const clamp_state *p, const unsigned char *need,
                              const size_t *idx, size_t n, ground_out *out) {
    int failed = 0;
#pragma omp parallel num_threads(ct_context_threads(ctx)) reduction(| : failed)
    {
        ct_ground_scratch sc;
        memset(&sc, 0, sizeof sc);
#pragma omp for schedule(dynamic, 64)
        for (long k = 0; k < (long)n; k++) {
            size_t i = idx ? idx[k] : (size_t)k;
            if (failed || !need[i]) continue;
            ct_status st = ground_of(ds, &ds->assets->items[i], p, &sc, &out[i]);
            if (st != CT_OK) failed |= st == CT_ERR_USAGE ? 2 : 1;
        }
        ct_ground_scratch_free(&sc);
    }
    if (failed & 2) return ct_error(ctx, CT_ERR_INTERNAL, "filters.clamp: a query reached a cell that was not loaded");
    if (failed) return ct_error_nomem(ctx, "ground interpolation");
    return CT_OK;
}

/* Points on disk: assets one processing cell at a time, with only the cells within
 * max_radius of them loaded. Assets are grouped by the column of their position and the
 * row of the lowest point they may look at (position - radius): a row of groups then
 * needs its own row of cells and the one above, so two rows stay loaded, not three. */
static ct_status ground_by_cell(ct_context *ctx, ct_dataset *ds, const clamp_state *s, const unsigned char *need,
                                ground_out *out) {
    const ct_asset_set *set = ds->assets;
    double cs = ct_point_store_cell_size(ds->points);
    size_t n = set->n, *order = NULL, ngroups = 0;
    ct_cell_group *groups = NULL;
    double *xy = malloc((n ? n : 1) * 2 * sizeof *xy);
    if (!xy) return ct_error_nomem(ctx, "clamp cells");
    const double m = s->reach;
    for (size_t i = 0; i < n; i++) {
        xy[2 * i] = set->items[i].x;
        xy[2 * i + 1] = set->items[i].y - m;
    }
    ct_status st = ct_group_by_cell(ctx, xy, need, n, cs, &order, &groups, &ngroups);
    free(xy);
    for (size_t g = 0; g < ngroups && st == CT_OK; g++) {
        const ct_cell_group *c = &groups[g];
        /* every asset of the group: x in the cell's column, y - m in its row */
        double q[4] = {(double)c->cx * cs - m, (double)c->cy * cs, (double)(c->cx + 1) * cs + m,
                       (double)(c->cy + 1) * cs + 2 * m};
        st = ct_point_store_load(ctx, ds->points, q);
        if (st == CT_OK) st = ground_range(ctx, ds, s, need, order + c->first, c->count, out);
        ct_progress(ctx, "clamping assets by cell", c->first + c->count, n);
    }
    if (st == CT_OK) st = ct_point_store_unload(ctx, ds->points);
    ct_log(ctx, CT_LOG_INFO, "filters.clamp: points on disk: %zu assets in %zu cells, one cell at a time", n, ngroups);
    free(order);
    free(groups);
    return st;
}

/* The ground of the assets with want[i] into out: one cell at a time from the points on
 * disk, else by ranges from those in memory. */
static ct_status measure_ground(ct_context *ctx, ct_dataset *ds, const clamp_state *s, const unsigned char *want,
                                ground_out *out) {
    return ct_point_store_on_disk(ds->points) ? ground_by_cell(ctx, ds, s, want, out)
                                              : ground_range(ctx, ds, s, want, NULL, ds->assets->n, out);
}

/* Several processes (MPI) with bands (ds->band: each kept only the LiDAR of its band of
 * the city): each measures the ground of the assets of its band (by their row), then all
 * exchange, so that every process holds every asset's ground, the same as one process
 * measures (rank_band.h). */
static ct_status ground_banded(ct_context *ctx, ct_dataset *ds, const clamp_state *s, const unsigned char *need,
                               ground_out *out) {
    const ct_asset_set *set = ds->assets;
    const size_t n = set->n;
    const double m = s->reach;
    unsigned char *mine = calloc(n ? n : 1, 1), *got = malloc(n ? n : 1);
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    ground_out *res = malloc((n ? n : 1) * sizeof *res);
    size_t nm = 0;
    ct_status st = mine && got && idx && res ? CT_OK : ct_error_nomem(ctx, "filters.clamp");
    for (size_t i = 0; st == CT_OK && i < n; i++) {
        const ct_asset *a = &set->items[i];
        if (!need[i] || ct_rank_band_owner(ds->band, a->y) != ds->band->k) continue;
        mine[i] = 1;
        idx[nm++] = i;
        if (!ct_rank_band_covers(ds->band, a->y - m, a->y + m))
            st = ct_error(ctx, CT_ERR_INTERNAL, "filters.clamp: asset %s (%s %llu) lies beyond the LiDAR this process "
                          "kept (y %.1f to %.1f)", a->id, ct_asset_record_word(a),
                          (unsigned long long)a->source_record, ds->band->keep[0], ds->band->keep[1]);
    }
    if (st == CT_OK) st = measure_ground(ctx, ds, s, mine, out);
    for (size_t j = 0; st == CT_OK && j < nm; j++) res[j] = out[idx[j]];
    /* (every process takes part, even after an error of its own) */
    st = ct_exchange_by_index(ctx, st, idx, res, nm, sizeof *res, n, out, got, "filters.clamp");
    for (size_t i = 0; st == CT_OK && i < n; i++)
        if (got[i] != need[i])
            st = need[i] ? ct_error(ctx, CT_ERR_IO, "filters.clamp: no process measured the ground of asset %s (one "
                                    "failed?)", set->items[i].id)
                         : ct_error(ctx, CT_ERR_IO, "filters.clamp: a process sent the ground of asset %s, which "
                                    "needs none", set->items[i].id);
    free(mine);
    free(got);
    free(idx);
    free(res);
    if (st == CT_OK)
        ct_log(ctx, CT_LOG_INFO, "filters.clamp: the assets of this process's band of the city (%zu) measured here "
               "(process %d of %d), results exchanged", nm, ds->band->k, ds->band->n);
    return st;
}

/* ---- the stage ---- */

static ct_status set_string(ct_context *ctx, ct_value *v, const char *s) {
    ct_value_clear(v, CT_ATTR_STRING);
    return ct_value_set_string(ctx, v, s);
}

/* Frees the assets with keep[i] == 0 and closes the gaps, keeping order. */
enum { SRC_EXPLICIT, SRC_ROOF, SRC_LIDAR, SRC_FALLBACK, SRC_N };
static const char *const src_names[SRC_N] = {"explicit", "roof", "lidar", "fallback"};

/* The on_roof assets still needing a z: the building each stands in (bld[i], -1: none),
 * and those on a building with a roof height need no ground. */
/* The building whose footprint holds each asset without an explicit z (bld[i], -1: none):
 * an on_roof asset there needs no ground; another is flagged inside_building. */
static ct_status find_buildings(ct_context *ctx, const ct_dataset *ds, unsigned char *need, long *bld, bgrid *grid) {
    const ct_asset_set *set = ds->assets;
    ct_status st = bgrid_build(ctx, ds, grid);
    if (st != CT_OK) return st;
    for (size_t i = 0; i < set->n; i++)
        if (need[i]) {
            bld[i] = building_at(grid, ds, set->items[i].x, set->items[i].y);
            if ((set->items[i].flags & CT_ASSET_ON_ROOF) && bld[i] >= 0 && isfinite(ds->buildings[bld[i]].top_z))
                need[i] = 0; /* on a roof: no ground needed */
        }
    return CT_OK;
}

/* Fallback ground: the median of the assets that have one, else of the buildings' (0
 * without either). */
static ct_status fallback_ground(ct_context *ctx, const ct_dataset *ds, const ground_out *g, double *fallback,
                                int *found) {
    const size_t n = ds->assets->n;
    double *tmp = malloc((n + ds->nbuildings + 1) * sizeof *tmp);
    if (!tmp) return ct_error_nomem(ctx, "filters.clamp");
    size_t nt = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(g[i].z)) tmp[nt++] = g[i].z;
    if (nt == 0)
        for (size_t i = 0; i < ds->nbuildings; i++)
            if (isfinite(ds->buildings[i].base_z)) tmp[nt++] = ds->buildings[i].base_z;
    *fallback = nt ? ct_median_doubles(tmp, nt) : 0.0;
    *found = nt > 0;
    free(tmp);
    return CT_OK;
}

/* How the assets were placed. */
typedef struct clamp_tally {
    uint64_t counts[SRC_N]; /* by source of z */
    uint64_t not_on_building, skipped, flagged;
    uint64_t inside;      /* inside a footprint, not on_roof: on the ground around the building */
    size_t first_inside;  /* the first of them */
    uint64_t listed;      /* per-asset warnings logged */
    uint64_t unlisted;    /* per-asset warnings beyond WARN_ASSETS, not logged (counted) */
} clamp_tally;

/* Per-asset warnings (flagged, skipped, on_roof but placed on the ground) logged at most
 * this many times; the rest are counted in one line: 100,000 assets beyond the LiDAR made
 * 100,000 lines. Each asset's clamp_flag (and the skip counts) still say it all. */
enum { WARN_ASSETS = 20 };

/* 1 when the next per-asset warning is to be logged (else counted as unlisted). */
static int warn_asset(clamp_tally *tally) {
    if (tally->listed < WARN_ASSETS) {
        tally->listed++;
        return 1;
    }
    tally->unlisted++;
    return 0;
}

/* An asset without LiDAR points near it that lies outside the area readers.lidar kept
 * (its crop box) but within the LAS files' bounds (when known): the points were there but
 * not read (assets read after the LiDAR, and beyond the footprints' extent plus
 * crop_margin). */
#define BEYOND_CROP "outside the area readers.lidar kept (the extent of the footprints and of the assets read " \
                    "before it, plus crop_margin): read the assets before the LiDAR, or set crop to false"
static int beyond_crop(const ct_dataset *ds, const ct_asset *a) {
    const double *c = ds->lidar_crop, *b = ds->lidar_bounds;
    int in_files = ds->lidar_bounds_kind != 1 || (a->x >= b[0] && a->x <= b[2] && a->y >= b[1] && a->y <= b[3]);
    return ds->lidar_crop_kind == 1 && in_files && (a->x < c[0] || a->x > c[2] || a->y < c[1] || a->y > c[3]);
}

/* Asset i's z and its columns (cols: ground_z, z_source, clamp_flag); keep[i] = 0 when
 * it is skipped. */
static ct_status place_asset(ct_context *ctx, const clamp_state *s, ct_dataset *ds, size_t i, const long *bld,
                             const ground_out *g, double fallback, const int cols[3], unsigned char *keep,
                             clamp_tally *tally) {
    ct_asset_set *set = ds->assets;
    ct_asset *a = &set->items[i];
    double hag = isfinite(a->height_above_ground) ? a->height_above_ground : 0.0;
    int src;
    const char *flag = "";
    if (a->flags & CT_ASSET_Z_GIVEN) {
        src = SRC_EXPLICIT;
    } else if ((a->flags & CT_ASSET_ON_ROOF) && bld[i] >= 0 && isfinite(ds->buildings[bld[i]].top_z)) {
        src = SRC_ROOF;
        a->z = ds->buildings[bld[i]].top_z + hag;
    } else {
        if (a->flags & CT_ASSET_ON_ROOF) {
            flag = bld[i] >= 0 ? "roof_height_unknown" : "not_on_a_building";
            tally->not_on_building++;
            if (warn_asset(tally))
                ct_log(ctx, CT_LOG_WARN, "filters.clamp: asset %s (%s %llu): on_roof but %s: placed on the ground",
                       a->id, ct_asset_record_word(a), (unsigned long long)a->source_record,
                       bld[i] >= 0 ? "its building has no roof height" : "it is in no footprint");
        }
        const char *why = !g[i].covered ? (beyond_crop(ds, a) ? BEYOND_CROP : "outside the LiDAR coverage")
                          : !isfinite(g[i].z) ? "no ground points"
                                              : NULL;
        if (why && s->skip_no_ground) {
            if (warn_asset(tally))
                ct_log(ctx, CT_LOG_WARN, "filters.clamp: asset %s (%s %llu): skipped: %s", a->id,
                       ct_asset_record_word(a), (unsigned long long)a->source_record, why);
            keep[i] = 0;
            tally->skipped++;
            char skip_reason[96];
            snprintf(skip_reason, sizeof skip_reason, "clamp: no ground points within %g m", s->prm.max_radius);
            return ct_asset_set_count_skip(ctx, set, !g[i].covered ? (beyond_crop(ds, a) ? "clamp: " BEYOND_CROP
                                                                                      : "clamp: outside the LiDAR coverage")
                                                                   : skip_reason);
        }
        if (isfinite(g[i].z)) {
            src = SRC_LIDAR;
            a->z = g[i].z + hag;
        } else {
            src = SRC_FALLBACK;
            a->z = fallback + hag;
        }
        if (why) {
            flag = g[i].covered ? "no_ground_points" : "outside_lidar";
            tally->flagged++;
            /* (covered: LiDAR points near it, too few of them ground; g[i].points counts the
             * samples used, at most k) */
            char detail[128], placed[128];
            if (g[i].covered)
                snprintf(detail, sizeof detail, "%u ground points within %g m, %u needed", g[i].points,
                         s->prm.max_radius, (unsigned)s->prm.min_points);
            else
                snprintf(detail, sizeof detail, "no point within %g m", s->coverage_radius);
            if (src == SRC_LIDAR)
                snprintf(placed, sizeof placed, "ground extrapolated from its %u nearest ground points (within %g m)",
                         g[i].points, g[i].radius);
            else
                snprintf(placed, sizeof placed, "placed on the median ground");
            if (warn_asset(tally))
                ct_log(ctx, CT_LOG_WARN, "filters.clamp: asset %s (%s %llu): %s (%s): %s, flagged %s", a->id,
                       ct_asset_record_word(a), (unsigned long long)a->source_record, why, detail, placed, flag);
        } else if (bld[i] >= 0 && !(a->flags & CT_ASSET_ON_ROOF)) {
            /* its ground comes from the points around the building (the LiDAR has none under it) */
            flag = "inside_building";
            if (tally->inside++ == 0) tally->first_inside = i;
        }
    }
    tally->counts[src]++;
    ct_value *v = a->attrs;
    ct_value_clear(&v[cols[0]], CT_ATTR_REAL);
    if (isfinite(g[i].z)) {
        v[cols[0]].is_null = 0;
        v[cols[0]].v.r = g[i].z;
    }
    ct_status st = set_string(ctx, &v[cols[1]], src_names[src]);
    if (st == CT_OK) st = set_string(ctx, &v[cols[2]], flag);
    return st;
}

/* Assets need the ground (no z given, none from a roof) and there are no LiDAR points:
 * an error naming the first, or with no_ground "skip" each is skipped (keep[i] = 0,
 * need[i] = 0), counted, with one warning. (A row whose z_field cell is empty has no z:
 * one such row among thousands failed the run, with no way to skip it.) */
static ct_status no_lidar_for(ct_context *ctx, const clamp_state *s, ct_asset_set *set, unsigned char *need,
                              size_t nneed, unsigned char *keep, int no_points) {
    size_t first = 0;
    while (!need[first]) first++;
    const ct_asset *a = &set->items[first];
    /* (no_points 0: points, but no ground near any asset nor under any building, so no
     * median ground either: they were put at z 0 "on the median ground") */
    const char *why = no_points ? "there are no LiDAR points"
                                : "the LiDAR has no ground point near any of them nor under any building (no median "
                                  "ground to put them on: LiDAR of another area, or a wrong srs?)";
    if (!s->skip_no_ground)
        return ct_error(ctx, no_points ? CT_ERR_USAGE : CT_ERR_INPUT,
                        "filters.clamp: %zu assets need the ground (no z of their own; first: asset "
                        "%s, %s %llu) but %s: put readers.lidar%s before it, give them a z "
                        "(readers.assets z_field), or skip them (no_ground \"skip\")", nneed, a->id,
                        ct_asset_record_word(a), (unsigned long long)a->source_record, why,
                        no_points ? "" : " of their area");
    ct_log(ctx, CT_LOG_WARN, "filters.clamp: %zu assets need the ground (no z of their own; first: asset %s, %s %llu) "
           "and %s: skipped (no_ground \"skip\")", nneed, a->id, ct_asset_record_word(a),
           (unsigned long long)a->source_record, why);
    for (size_t i = 0; i < set->n; i++) {
        if (!need[i]) continue;
        need[i] = keep[i] = 0;
        ct_status st = ct_asset_set_count_skip(ctx, set, no_points ? "clamp: no z and no LiDAR points for its ground"
                                                                   : "clamp: no z and no LiDAR ground in the area");
        if (st != CT_OK) return st;
    }
    return CT_OK;
}

/* Under --partition: every asset's ground as measured, saved for the merge (before the
 * assets are placed: the merge checks it measured the same). */
static ct_status save_for_merge(ct_context *ctx, const clamp_state *s, const ct_dataset *ds, const ground_out *g) {
    if (!ds->points) return CT_OK; /* (nothing measured from points) */
    const size_t count = ds->assets ? ds->assets->n : 0;
    return ct_partition_results_save(ctx, s->key, ds->lidar_run_hash, ct_partition_results_assets_hash(ds->assets), NULL,
                                     g, count, sizeof *g, count);
}

/* --measure-only: the ground of the assets of this partition's band of the city (those
 * that need one: the others' as they are), left for the partitions run after and the
 * merge. */
static ct_status ground_measure_only(ct_context *ctx, ct_dataset *ds, const clamp_state *s, const unsigned char *need,
                                     ground_out *g) {
    const ct_asset_set *set = ds->assets;
    const size_t n = set->n;
    unsigned char *mine = calloc(n ? n : 1, 1);
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    ground_out *res = malloc((n ? n : 1) * sizeof *res);
    size_t m = 0, measured = 0;
    ct_status st = mine && idx && res ? CT_OK : ct_error_nomem(ctx, "filters.clamp");
    for (size_t i = 0; st == CT_OK && i < n; i++) {
        if (ct_rank_band_owner(ds->band, set->items[i].y) != ds->band->k) continue;
        idx[m++] = i;
        mine[i] = need[i];
        measured += need[i];
    }
    if (st == CT_OK && measured) st = measure_ground(ctx, ds, s, mine, g);
    for (size_t j = 0; st == CT_OK && j < m; j++) res[j] = g[idx[j]];
    if (st == CT_OK)
        st = ct_partition_results_save(ctx, s->key, ds->lidar_run_hash, ct_partition_results_assets_hash(set), idx,
                                       res, m, sizeof *res, n);
    if (st == CT_OK)
        ct_log(ctx, CT_LOG_INFO, "filters.clamp: partition %d/%d measured the ground of the %zu assets of its band of "
               "the city that need one (of %zu)", ds->band->k, ds->band->n, measured, n);
    free(mine);
    free(idx);
    free(res);
    return st;
}

static ct_status run(ct_context *ctx, void *state, ct_dataset *ds) {
    clamp_state *s = state;
    ct_asset_set *set = ds->assets;
    /* A merge whose partitions left every asset's ground (readers.lidar read no point). */
    const int from_partitions = ds->points_from_partitions && !ds->points;
    if (!set || set->n == 0) {
        ct_log(ctx, CT_LOG_INFO, "filters.clamp: no assets to place");
        return save_for_merge(ctx, s, ds, NULL);
    }
    size_t n = set->n;
    /* Its columns replace input attributes of the same names (an asset table exported by
     * an earlier run: "ground_z" as text stopped the run). */
    static const char *const names[3] = {"ground_z", "z_source", "clamp_flag"};
    static const ct_attr_type types[3] = {CT_ATTR_REAL, CT_ATTR_STRING, CT_ATTR_STRING};
    int cols[3];
    ct_status st = ct_asset_set_claim_attrs(ctx, set, "filters.clamp", names, types, 3, cols);
    if (st != CT_OK) return st;

    unsigned char *need = calloc(n, 1), *keep = malloc(n);
    long *bld = malloc(n * sizeof *bld);
    ground_out *g = malloc(n * sizeof *g);
    bgrid grid;
    memset(&grid, 0, sizeof grid);
    if (!need || !keep || !bld || !g) {
        st = ct_error_nomem(ctx, "filters.clamp");
        goto done;
    }
    memset(keep, 1, n);
    size_t nany = 0;
    for (size_t i = 0; i < n; i++) {
        g[i].z = NAN;
        g[i].points = 0;
        g[i].radius = NAN;
        g[i].covered = 1;
        bld[i] = -1;
        need[i] = !(set->items[i].flags & CT_ASSET_Z_GIVEN);
        nany += need[i];
    }
    if (nany && ds->nbuildings && (st = find_buildings(ctx, ds, need, bld, &grid)) != CT_OK) goto done;
    size_t nneed = 0;
    for (size_t i = 0; i < n; i++) nneed += need[i];
    if (nneed && !ds->points && !from_partitions) {
        st = no_lidar_for(ctx, s, set, need, nneed, keep, 1);
        if (st != CT_OK) goto done;
        nneed = 0;
    }
    /* (with bands every process takes part in the exchange, with assets to place or not) */
    if (from_partitions) {
        st = ct_partition_results_load(ctx, s->key, ds->lidar_run_hash, ct_partition_results_assets_hash(set), g,
                                       sizeof *g, n, "assets");
        if (st == CT_OK)
            ct_log(ctx, CT_LOG_INFO, "filters.clamp: %s: the ground of %zu assets taken from the partitions' "
                   "results", ct_context_merge(ctx) ? "merge" : "partition", nneed);
    } else if (ds->band && ct_context_measure_only(ctx) && ds->points) {
        st = ground_measure_only(ctx, ds, s, need, g);
        goto done; /* (the run stops after the measuring stages) */
    } else if (ds->band && ct_context_has_allgather(ctx) && ds->points) {
        st = ground_banded(ctx, ds, s, need, g);
    } else if (nneed) {
        st = measure_ground(ctx, ds, s, need, g);
    }
    if (st == CT_OK && !from_partitions) st = save_for_merge(ctx, s, ds, g);
    double fallback = 0.0;
    int found = 0;
    if (st == CT_OK) st = fallback_ground(ctx, ds, g, &fallback, &found);
    if (st == CT_OK && !found) { /* no ground anywhere: those that need it have none to stand on */
        size_t nleft = 0;
        for (size_t i = 0; i < n; i++) nleft += need[i] && keep[i];
        if (nleft) st = no_lidar_for(ctx, s, set, need, nleft, keep, 0);
    }
    clamp_tally tally;
    memset(&tally, 0, sizeof tally);
    for (size_t i = 0; i < n && st == CT_OK; i++) {
        if (!keep[i]) { /* (skipped already: no_lidar_for) */
            tally.skipped++;
            continue;
        }
        st = place_asset(ctx, s, ds, i, bld, g, fallback, cols, keep, &tally);
    }
    if (st == CT_OK && tally.inside) {
        const ct_asset *a = &set->items[tally.first_inside];
        ct_log(ctx, CT_LOG_WARN, "filters.clamp: %llu assets lie inside building footprints (first: asset %s, %s %llu): "
               "placed on the ground interpolated from the points around their building, flagged inside_building; "
               "set on_roof to place them on the roofs", (unsigned long long)tally.inside, a->id,
               ct_asset_record_word(a), (unsigned long long)a->source_record);
    }
    if (st == CT_OK && tally.unlisted)
        ct_log(ctx, CT_LOG_WARN, "filters.clamp: %llu more assets flagged, skipped or placed on the ground likewise "
               "(not listed: the first %d are; each one's clamp_flag says why)", (unsigned long long)tally.unlisted,
               (int)WARN_ASSETS);
    if (st == CT_OK && tally.skipped) ct_asset_set_compact(set, keep);
    if (st == CT_OK)
        ct_log(ctx, CT_LOG_INFO, "filters.clamp: %zu assets: %llu on the LiDAR ground, %llu explicit z, %llu on roofs, "
               "%llu on the median ground; %llu flagged (outside the LiDAR or no ground points), %llu skipped, "
               "%llu on_roof but not on a building", n, (unsigned long long)tally.counts[SRC_LIDAR],
               (unsigned long long)tally.counts[SRC_EXPLICIT], (unsigned long long)tally.counts[SRC_ROOF],
               (unsigned long long)tally.counts[SRC_FALLBACK], (unsigned long long)tally.flagged,
               (unsigned long long)tally.skipped, (unsigned long long)tally.not_on_building);
done:
    bgrid_free(&grid);
    free(need);
    free(keep);
    free(bld);
    free(g);
    return st;
}

static void destroy(void *state) {
    clamp_state *s = state;
    json_decref(s->opts);
    free(s);
}

const ct_stage_vtable ct_stage_filters_clamp = {
    "filters.clamp", "base height of city assets: explicit z, roof (on_roof) or the LiDAR ground, interpolated", options,
    create, run, destroy,
};
