/* writers.3dtiles: buildings → quadtree of GLB tiles + tileset.json (3D Tiles 1.1).
 * Everything goes to a temporary directory that replaces `path` only when complete. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "citytiler/crs.h"
#include "citytiler/stage.h"
#include "io/outdir.h"
#include "tiles/quadtree.h"
#include "tiles/tile_content.h"
#include "tiles/tileset_json.h"

typedef struct tiles_state {
    json_t *opts;
    const char *path;
    size_t max_per_tile;
    int max_level;
    const char *vertical_crs, *geoid;
} tiles_state;

static const ct_option_def options[] = {
    {"path", CT_OPT_PATH, NULL, 1, "output directory (tileset.json + tiles/)"},
    {"max_buildings_per_tile", CT_OPT_INTEGER, "200", 0, "a tile holding more buildings splits into four"},
    {"max_level", CT_OPT_INTEGER, "16", 0, "deepest quadtree level"},
    {"vertical_crs", CT_OPT_STRING, NULL, 0, "CRS of the heights (e.g. \"EPSG:5709\"); default: the LiDAR's; none: heights are ellipsoidal"},
    {"geoid", CT_OPT_STRING, "\"egm96_15.gtx\"", 0, "geoid grid used when PROJ has only a ballpark vertical transformation (\"none\": never)"},
    {NULL, 0, NULL, 0, NULL},
};

static ct_status create(ct_context *ctx, const ct_json *opts, void **state) {
    long long per = ct_opt_integer(opts, "max_buildings_per_tile");
    long long lvl = ct_opt_integer(opts, "max_level");
    if (per < 1 || per > 1000000)
        return ct_error(ctx, CT_ERR_USAGE, "writers.3dtiles: max_buildings_per_tile must be between 1 and 1000000");
    if (lvl < 0 || lvl > 24)
        return ct_error(ctx, CT_ERR_USAGE, "writers.3dtiles: max_level must be between 0 and 24");
    tiles_state *s = calloc(1, sizeof *s);
    if (!s) return ct_error_nomem(ctx, "writers.3dtiles");
    s->opts = json_incref((json_t *)opts);
    s->path = ct_opt_string(opts, "path");
    s->max_per_tile = (size_t)per;
    s->max_level = (int)lvl;
    s->vertical_crs = ct_opt_string(opts, "vertical_crs");
    s->geoid = ct_opt_string(opts, "geoid");
    *state = s;
    return CT_OK;
}

static ct_status check_input(ct_context *ctx, const ct_dataset *ds) {
    if (!ds->crs_wkt) return ct_error(ctx, CT_ERR_USAGE, "writers.3dtiles: no reader ran before it (no CRS, no buildings)");
    if (ds->nbuildings == 0)
        return ct_error(ctx, CT_ERR_INPUT, "writers.3dtiles: nothing to write: %llu features read, all skipped",
                        (unsigned long long)ds->input_features);
    for (size_t i = 0; i < ds->nbuildings; i++)
        if (ds->buildings[i].mesh.nindices == 0)
            return ct_error(ctx, CT_ERR_USAGE, "writers.3dtiles: building %s has no mesh: put filters.extrude before the writer",
                            ds->buildings[i].id);
    return CT_OK;
}

/* Decides how heights become ellipsoidal (once, logged), filling *o for the threads. */
static ct_status plan_heights(ct_context *ctx, const tiles_state *s, const ct_dataset *ds, const double probe[2],
                              ct_geo_options *o) {
    memset(o, 0, sizeof *o);
    o->vertical_crs = s->vertical_crs ? s->vertical_crs : ds->vertical_wkt;
    o->geoid_grid = s->geoid;
    o->geoid_mode = strcmp(s->geoid, "none") == 0 ? CT_GEOID_NEVER : CT_GEOID_AUTO;
    o->probe[0] = probe[0];
    o->probe[1] = probe[1];
    if (!o->vertical_crs) {
        ct_log(ctx, CT_LOG_WARN, "writers.3dtiles: no vertical CRS known for the heights: they are written as WGS84 "
                                 "ellipsoidal heights, so buildings may float or sink by tens of metres; set the LiDAR's "
                                 "srs (e.g. EPSG:28992+5709) or vertical_crs");
        o->geoid_mode = CT_GEOID_NEVER;
        return CT_OK;
    }
    ct_geo_transform *t = NULL;
    ct_status st = ct_geo_transform_create_ex(ctx, ds->crs_wkt, o, &t);
    if (st != CT_OK) return st;
    if (ct_geo_transform_uses_geoid(t)) {
        ct_log(ctx, CT_LOG_WARN, "writers.3dtiles: PROJ has no grid for this vertical CRS here (only a ballpark "
                                 "transformation that leaves heights unchanged): adding the geoid %s instead "
                                 "(about 1 m accurate); install the national geoid grid for better", s->geoid);
        o->geoid_mode = CT_GEOID_FORCE;
    } else {
        o->geoid_mode = CT_GEOID_NEVER;
    }
    ct_geo_transform_destroy(t);
    return CT_OK;
}

/* Builds and writes every leaf's GLB in parallel; fills out[] for leaves. */
static ct_status write_leaves(ct_context *ctx, const ct_dataset *ds, const ct_quadtree *q, const char *dir,
                              const ct_geo_options *geo_opts, ct_tile_output *out) {
    ct_status st = CT_OK;
    size_t done = 0;
    long nt = (long)q->ntiles;
#pragma omp parallel num_threads(ct_context_threads(ctx))
    {
        ct_geo_transform *geo = NULL;
        ct_status tst = ct_geo_transform_create_ex(ctx, ds->crs_wkt, geo_opts, &geo);
#pragma omp for schedule(dynamic, 1)
        for (long t = 0; t < nt; t++) {
            const ct_qtile *tile = &q->tiles[t];
            if (tst != CT_OK || !ct_qtile_is_leaf(tile)) continue;
            tst = ct_tile_build(ctx, geo, ds, q->order + tile->first, tile->count, "building", &out[t]);
            if (tst == CT_OK) {
                char name[64], path[4096];
                ct_tile_name(tile, name, sizeof name);
                snprintf(path, sizeof path, "%s/tiles/%s.glb", dir, name);
                tst = ct_write_file(ctx, path, out[t].glb, out[t].glb_len);
            }
            free(out[t].glb);
            out[t].glb = NULL;
#pragma omp atomic
            done++;
            if (ct_context_threads(ctx) == 1 || (done & 15) == 0) ct_progress(ctx, "writing tiles", done, (uint64_t)nt);
        }
        ct_geo_transform_destroy(geo);
#pragma omp critical(ct_writer_status)
        if (tst != CT_OK && st == CT_OK) st = tst;
    }
    return st;
}

static ct_status run(ct_context *ctx, void *state, ct_dataset *ds) {
    tiles_state *s = state;
    ct_status st = check_input(ctx, ds);
    if (st != CT_OK) return st;
    double *centroids = malloc(2 * ds->nbuildings * sizeof *centroids);
    if (!centroids) return ct_error_nomem(ctx, "centroids");
    for (size_t i = 0; i < ds->nbuildings; i++) ct_footprint_centroid(&ds->buildings[i].footprint, centroids + 2 * i);
    double bbox[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (size_t i = 0; i < ds->nbuildings; i++) {
        const double *c = centroids + 2 * i;
        if (c[0] < bbox[0]) bbox[0] = c[0];
        if (c[1] < bbox[1]) bbox[1] = c[1];
        if (c[0] > bbox[2]) bbox[2] = c[0];
        if (c[1] > bbox[3]) bbox[3] = c[1];
    }
    double root[4];
    int cell_level = 0;
    ct_quadtree_root_for(bbox, ds->cell_size, root, &cell_level);
    ct_quadtree q;
    st = ct_quadtree_build(ctx, centroids, ds->nbuildings, root, cell_level, s->max_per_tile, s->max_level, &q);
    free(centroids);
    if (st != CT_OK) return st;

    char *tmp = NULL;
    ct_tile_output *out = calloc(q.ntiles, sizeof *out);
    if (!out) st = ct_error_nomem(ctx, "tile results");
    if (st == CT_OK) st = ct_outdir_begin(ctx, s->path, "tileset.json", &tmp);
    char tiles_dir[4096];
    if (st == CT_OK) {
        snprintf(tiles_dir, sizeof tiles_dir, "%s/tiles", tmp);
        st = ct_mkdirs(ctx, tiles_dir);
    }
    ct_geo_options geo_opts;
    double probe[2] = {0.5 * (bbox[0] + bbox[2]), 0.5 * (bbox[1] + bbox[3])};
    if (st == CT_OK) st = plan_heights(ctx, s, ds, probe, &geo_opts);
    if (st == CT_OK) st = write_leaves(ctx, ds, &q, tmp, &geo_opts, out);
    if (st == CT_OK) st = ct_tileset_write(ctx, tmp, &q, out);
    if (st == CT_OK) st = ct_outdir_commit(ctx, s->path, tmp);
    else ct_outdir_abort(tmp);
    size_t leaves = 0;
    for (size_t t = 0; t < q.ntiles; t++) leaves += ct_qtile_is_leaf(&q.tiles[t]);
    if (st == CT_OK)
        ct_log(ctx, CT_LOG_INFO, "writers.3dtiles: %zu buildings in %zu tiles (%zu with content) written to %s",
               ds->nbuildings, q.ntiles, leaves, s->path);
    free(tmp);
    free(out);
    ct_quadtree_free(&q);
    return st;
}

static void destroy(void *state) {
    tiles_state *s = state;
    json_decref(s->opts);
    free(s);
}

const ct_stage_vtable ct_stage_writers_3dtiles = {
    "writers.3dtiles", "write an OGC 3D Tiles 1.1 tileset (tileset.json + GLB tiles)", options, create, run, destroy,
};
