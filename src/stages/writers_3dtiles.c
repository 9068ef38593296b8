/* writers.3dtiles: buildings → quadtree of GLB tiles + tileset.json (3D Tiles 1.1).
 * Everything goes to a temporary directory that replaces `path` only when complete. */
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <unistd.h>
#include <math.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "citytiler/assets.h"
#include "citytiler/building_mesh.h"
#include "citytiler/crs.h"
#include "citytiler/stage.h"
#include "citytiler/summary.h"
#include "io/outdir.h"
#include "tiles/lod.h"
#include "tiles/quadtree.h"
#include "tiles/tile_journal.h"
#include "core/balance.h"
#include "core/partition_summaries.h"
#include "core/hash.h"
#include "core/path_identity.h"
#include "tiles/tile_content.h"
#include "tiles/tileset_json.h"
#include "tiles/implicit.h"
#include "tiles/asset_tiles.h"

typedef struct tiles_state {
    json_t *opts;
    const char *path;
    char *canonical_path; /* the directory path names (path points here) */
    size_t max_per_tile;
    uint64_t max_vertices_per_tile;
    int max_level;
    const char *vertical_crs, *geoid;
    int lod;
    ct_glb_options glb;
    double lod_error_ratio;
    size_t lod_max_buildings;
    int implicit, subtree_levels; /* tiling "implicit": implicitTiling + .subtree files */
    ct_symbol_table symbols;      /* category -> symbol for the assets */
    size_t max_assets_per_tile;
    int assets_separate;          /* assets in DIR/assets/tileset.json instead of beside the buildings */
} tiles_state;

static const ct_option_def options[] = {
    {"path", CT_OPT_PATH, NULL, 1, "output directory (tileset.json + tiles/)"},
    {"max_buildings_per_tile", CT_OPT_INTEGER, "200", 0, "a tile holding more buildings splits into four"},
    {"max_level", CT_OPT_INTEGER, "16", 0, "deepest quadtree level"},
    {"max_vertices_per_tile", CT_OPT_INTEGER, "0", 0, "a tile whose meshes hold more vertices splits too (0: no vertex budget)"},
    {"lod", CT_OPT_BOOL, "true", 0, "parent tiles carry simplified meshes of their largest buildings (HLOD, REPLACE refinement); false: empty parents, ADD"},
    {"lod_error_ratio", CT_OPT_NUMBER, "0.0625", 0, "geometric error of a parent tile as a fraction of its side; sets its simplification bound and the size below which buildings are left out"},
    {"lod_max_buildings", CT_OPT_INTEGER, "2000", 0, "at most this many (the largest) buildings in a parent tile"},
    {"compression", CT_OPT_STRING, "\"none\"", 0, "\"meshopt\": EXT_meshopt_compression + KHR_mesh_quantization (about 4x smaller geometry); \"none\""},
    {"position_tolerance", CT_OPT_NUMBER, "0.01", 0, "with compression: largest position error (m), in (0, 0.01]"},
    {"vertical_crs", CT_OPT_STRING, NULL, 0, "CRS of the heights (e.g. \"EPSG:5709\"); default: the LiDAR's; none: heights are ellipsoidal"},
    {"geoid", CT_OPT_STRING, "\"egm96_15.gtx\"", 0, "geoid grid used when PROJ has only a ballpark vertical transformation (\"none\": never)"},
    {"tiling", CT_OPT_STRING, "\"explicit\"", 0, "\"explicit\": every tile in tileset.json; \"implicit\": a QUADTREE implicitTiling over the lon/lat region with .subtree files (tile metadata gives tight volumes and errors)"},
    {"subtree_levels", CT_OPT_INTEGER, "5", 0, "tiling implicit: levels per .subtree file (1 to 10)"},
    {"symbols", CT_OPT_OBJECT, NULL, 0, "assets: {\"category\": {\"model\": FILE | \"builtin\": \"pole\"|\"box\"|\"sphere\", \"scale\", \"up_axis\", \"heading\", \"height\", \"color\", \"origin\": \"base_center\"|\"model\"}, \"*\": {...}} (default: street lights as poles, the rest as boxes)"},
    {"max_assets_per_tile", CT_OPT_INTEGER, "5000", 0, "assets: a tile holding more instances splits"},
    {"assets_tileset", CT_OPT_STRING, "\"same\"", 0, "assets: \"same\" tileset as the buildings, or \"separate\" (DIR/assets/tileset.json)"},
    {NULL, 0, NULL, 0, NULL},
};

/* The files the writer makes under its path must fit the system's limits: a path of 4060
 * characters failed with "File name too long" after the whole run. The longest is about
 * OUTPUT.partial/assets/L_X_Y_K.glb for a tile of max_level (X, Y < 2^L), within the 32
 * characters allowed beside the name; checked when the pipeline loads. */
static ct_status check_path_length(ct_context *ctx, const char *path, int max_level) {
    char deepest[64];
    unsigned long long last = (1ull << max_level) - 1;
    int name = snprintf(deepest, sizeof deepest, "%d_%llu_%llu", max_level, last, last);
    const size_t suffix = 32 + (size_t)name, name_suffix = 16; /* ".partial/assets/" "_K.glb"; ".partial", ".old" */
    size_t longest = 0;
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, "/");
        if (n > longest) longest = n;
        p += n + (p[n] == '/');
    }
    if (strlen(path) + suffix >= PATH_MAX || longest + name_suffix > NAME_MAX)
        return ct_error(ctx, CT_ERR_USAGE, "writers.3dtiles: output path too long for the files written under it "
                        "(%zu characters, a name of %zu; with max_level %d at most %zu and %zu here): %s", strlen(path),
                        longest, max_level, (size_t)PATH_MAX - 1 - suffix, (size_t)NAME_MAX - name_suffix, path);
    return CT_OK;
}

static void destroy(void *state); /* (a create that fails frees what it made with it) */

static ct_status create(ct_context *ctx, const ct_json *opts, void **state) {
    long long per = ct_opt_integer(opts, "max_buildings_per_tile");
    long long lvl = ct_opt_integer(opts, "max_level");
    if (per < 1 || per > 1000000)
        return ct_error(ctx, CT_ERR_USAGE, "writers.3dtiles: max_buildings_per_tile must be between 1 and 1000000");
    if (lvl < 0 || lvl > 24)
        return ct_error(ctx, CT_ERR_USAGE, "writers.3dtiles: max_level must be between 0 and 24");
    if (ct_opt_integer(opts, "max_vertices_per_tile") < 0)
        return ct_error(ctx, CT_ERR_USAGE, "writers.3dtiles: max_vertices_per_tile must be >= 0 (0: no vertex budget), got %lld",
                        ct_opt_integer(opts, "max_vertices_per_tile"));
    tiles_state *s = calloc(1, sizeof *s);
    if (!s) return ct_error_nomem(ctx, "writers.3dtiles");
    s->opts = json_incref((json_t *)opts);
    s->path = ct_opt_string(opts, "path");
    /* The directory the path names, absolute, without "." or ".." or a trailing slash: the
     * work directory of "out/" was "out/.partial", inside the output, which then could not
     * be renamed into place (exit 1 after the whole run, the tileset left hidden in it). An
     * output path that is a link: the tileset goes where it points (the link itself would
     * be replaced by a directory, leaving the earlier tileset at the target). */
    struct stat ls;
    if (lstat(s->path, &ls) == 0 && S_ISLNK(ls.st_mode) && stat(s->path, &ls) != 0) {
        ct_status lst = ct_error(ctx, CT_ERR_USAGE, "writers.3dtiles: output path '%s' is a symbolic link to nothing (%s)",
                                 s->path, strerror(errno));
        destroy(s);
        return lst;
    }
    s->canonical_path = ct_path_canonical(s->path);
    if (!s->canonical_path) {
        destroy(s);
        return ct_error_nomem(ctx, "writers.3dtiles path");
    }
    s->path = s->canonical_path;
    ct_status pst = check_path_length(ctx, s->path, (int)lvl);
    if (pst != CT_OK) {
        destroy(s);
        return pst;
    }
    /* Partitions leave their measurements there for the merge (core/partition_results.h). */
    int part_k = 0, part_n = 1;
    ct_context_partition(ctx, &part_k, &part_n);
    if ((part_n > 1 && !ct_context_has_allgather(ctx)) || ct_context_merge(ctx)) {
        char work[4200];
        ct_outdir_work_path(s->path, work, sizeof work);
        if (!ct_context_set_work_dir(ctx, work)) {
            destroy(s);
            return ct_error_nomem(ctx, "writers.3dtiles path");
        }
    }
    s->max_per_tile = (size_t)per;
    s->max_level = (int)lvl;
    long long mv = ct_opt_integer(opts, "max_vertices_per_tile");
    s->max_vertices_per_tile = mv > 0 ? (uint64_t)mv : 0;
    s->vertical_crs = ct_opt_string(opts, "vertical_crs");
    if (s->vertical_crs && !ct_crs_has_vertical(s->vertical_crs)) { /* (found when the pipeline loads, not after the LiDAR) */
        ct_status bad = ct_error(ctx, CT_ERR_USAGE, "writers.3dtiles: vertical_crs \"%s\" is not a vertical CRS PROJ "
                                 "knows (e.g. \"EPSG:5709\" for NAP heights, \"EPSG:3855\" for EGM2008); leave it out "
                                 "to take the LiDAR's", s->vertical_crs);
        destroy(s);
        return bad;
    }
    s->lod = ct_opt_bool(opts, "lod");
    s->lod_error_ratio = ct_opt_number(opts, "lod_error_ratio");
    long long lmax = ct_opt_integer(opts, "lod_max_buildings");
    s->lod_max_buildings = lmax > 0 ? (size_t)lmax : 1;
    const char *comp = ct_opt_string(opts, "compression");
    s->glb.max_position_error = ct_opt_number(opts, "position_tolerance");
    if (strcmp(comp, "meshopt") == 0) s->glb.compression = CT_GLB_COMPRESSION_MESHOPT;
    if ((strcmp(comp, "meshopt") != 0 && strcmp(comp, "none") != 0) ||
        !(s->glb.max_position_error > 0 && s->glb.max_position_error <= 0.01)) {
        destroy(s);
        return ct_error(ctx, CT_ERR_USAGE, "writers.3dtiles: compression must be \"none\" or \"meshopt\" and "
                                           "position_tolerance in (0, 0.01] m (got \"%s\", %g)", comp, ct_opt_number(opts, "position_tolerance"));
    }
    if (!(s->lod_error_ratio > 0 && s->lod_error_ratio <= 1) || lmax < 1) {
        destroy(s);
        return ct_error(ctx, CT_ERR_USAGE, "writers.3dtiles: %s",
                        lmax < 1 ? "lod_max_buildings must be at least 1" : "lod_error_ratio must be in (0, 1]");
    }
    s->geoid = ct_opt_string(opts, "geoid");
    /* Checked now, not after the other stages ran: the grid is loaded only when PROJ's own
     * vertical transformation turns out to be a ballpark one, at the writer. */
    if (strcmp(s->geoid, "none") != 0 && !ct_geoid_grid_available(s->geoid)) {
        if (json_object_get((const json_t *)opts, "geoid")) {
            ct_status gst = ct_error(ctx, CT_ERR_USAGE,
                                     "writers.3dtiles: PROJ cannot find the geoid grid '%s' (a file in PROJ's data folder, "
                                     "e.g. from Debian's proj-data; \"none\" turns it off)", s->geoid);
            destroy(s);
            return gst;
        }
        ct_log(ctx, CT_LOG_WARN, "writers.3dtiles: PROJ cannot find the default geoid grid '%s' (install proj-data): "
                                 "a run whose heights need it will fail at the writer", s->geoid);
    }
    const char *tiling = ct_opt_string(opts, "tiling");
    long long sl = ct_opt_integer(opts, "subtree_levels");
    s->implicit = strcmp(tiling, "implicit") == 0;
    s->subtree_levels = (int)sl;
    if ((!s->implicit && strcmp(tiling, "explicit") != 0) || sl < 1 || sl > CT_IMPLICIT_MAX_SUBTREE_LEVELS) {
        destroy(s);
        return ct_error(ctx, CT_ERR_USAGE, "writers.3dtiles: tiling must be \"explicit\" or \"implicit\" and "
                                           "subtree_levels between 1 and %d (got \"%s\", %lld)",
                        CT_IMPLICIT_MAX_SUBTREE_LEVELS, tiling, sl);
    }
    const char *where = ct_opt_string(opts, "assets_tileset");
    long long mapt = ct_opt_integer(opts, "max_assets_per_tile");
    s->assets_separate = strcmp(where, "separate") == 0;
    s->max_assets_per_tile = mapt > 0 ? (size_t)mapt : 1;
    ct_status st = CT_OK;
    if (strcmp(where, "same") != 0 && !s->assets_separate)
        st = ct_error(ctx, CT_ERR_USAGE, "writers.3dtiles: assets_tileset must be \"same\" or \"separate\" (got \"%s\")",
                      where);
    else if (mapt < 1 || mapt > 10000000)
        st = ct_error(ctx, CT_ERR_USAGE, "writers.3dtiles: max_assets_per_tile must be from 1 to 10000000 (got %lld)",
                      mapt);
    /* Models are loaded now, so a broken one stops the run before anything is written. */
    if (st == CT_OK) st = ct_symbol_table_load(ctx, ct_opt_get(opts, "symbols"), &s->symbols);
    if (st != CT_OK) {
        destroy(s);
        return st;
    }
    *state = s;
    return CT_OK;
}

/* Assets without a height (no z of their own, and no filters.clamp placed them: a row whose
 * z_field cell is empty) cannot be placed: when none has one, filters.clamp is missing (an
 * error); else each is skipped and counted, with one warning naming the first. (One such
 * row failed the whole run.) */
static ct_status drop_assets_without_height(ct_context *ctx, ct_dataset *ds) {
    ct_asset_set *set = ds->assets;
    size_t n = set ? set->n : 0, missing = 0, first = 0;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(set->items[i].z) && missing++ == 0) first = i;
    if (missing == 0) return CT_OK;
    const ct_asset *a = &set->items[first];
    if (missing == n)
        return ct_error(ctx, CT_ERR_USAGE, "writers.3dtiles: no asset has a height (first: asset %s, %s %llu): put "
                        "filters.clamp before the writer, or give them a z (readers.assets z_field)", a->id,
                        ct_asset_record_word(a), (unsigned long long)a->source_record);
    ct_log(ctx, CT_LOG_WARN, "writers.3dtiles: %zu assets have no height (no z of their own, and no filters.clamp "
           "placed them; first: asset %s, %s %llu): skipped", missing, a->id, ct_asset_record_word(a),
           (unsigned long long)a->source_record);
    unsigned char *keep = malloc(n);
    if (!keep) return ct_error_nomem(ctx, "writers.3dtiles");
    ct_status st = CT_OK;
    for (size_t i = 0; i < n && st == CT_OK; i++) {
        keep[i] = isfinite(set->items[i].z) != 0;
        if (!keep[i]) st = ct_asset_set_count_skip(ctx, set, "writer: no height (no z, not placed by filters.clamp)");
    }
    if (st == CT_OK) ct_asset_set_compact(set, keep);
    free(keep);
    return st;
}

/* 1 when a readers.footprints stage ran before the writer. */
static int footprints_read(const ct_dataset *ds) {
    size_t i;
    json_t *src;
    json_array_foreach(ds->sources, i, src) {
        const char *stage = json_string_value(json_object_get(src, "stage"));
        if (stage && strcmp(stage, "readers.footprints") == 0) return 1;
    }
    return 0;
}

/* The tileset holds the assets alone: no readers.footprints stage ran before the writer
 * (the pipeline allows that only with a readers.assets stage before it), e.g. a council's
 * street lights and sensors without a building model; or the footprints gave no building
 * while assets were kept (a district of a batch with sensors and no buildings: that
 * case is warned here, once per run, as it is decided). */
static int decide_assets_only(ct_context *ctx, const ct_dataset *ds) {
    if (ds->nbuildings > 0) return 0;
    if (!footprints_read(ds)) return 1;
    if (!ds->assets || ds->assets->n == 0) return 0; /* (check_input says what is missing) */
    if (ds->input_features == 0)
        ct_log(ctx, CT_LOG_WARN, "writers.3dtiles: no footprint was read (see the warnings above): the tileset holds "
               "the %zu assets alone", ds->assets->n);
    else
        ct_log(ctx, CT_LOG_WARN, "writers.3dtiles: %llu footprints read, all skipped (see the warnings above): the "
               "tileset holds the %zu assets alone", (unsigned long long)ds->input_features, ds->assets->n);
    return 1;
}

static ct_status check_input(ct_context *ctx, const ct_dataset *ds, int only_assets) {
    if (!ds->crs_wkt) return ct_error(ctx, CT_ERR_USAGE, "writers.3dtiles: no reader ran before it (no CRS, no buildings)");
    if (only_assets) {
        if (!ds->assets || ds->assets->input_rows == 0)
            return ct_error(ctx, CT_ERR_INPUT, "writers.3dtiles: nothing to write: no footprint stage, and no asset was "
                                               "read (see the warnings above)");
        /* (footprints that gave no building reach here only with assets kept) */
        if (ds->assets->n == 0)
            return ct_error(ctx, CT_ERR_INPUT, "writers.3dtiles: nothing to write: %llu asset rows read, all skipped",
                            (unsigned long long)ds->assets->input_rows);
        return CT_OK;
    }
    if (ds->input_features == 0)
        return ct_error(ctx, CT_ERR_INPUT, "writers.3dtiles: nothing to write: no footprint was read (see the warnings above)");
    if (ds->nbuildings == 0)
        return ct_error(ctx, CT_ERR_INPUT, "writers.3dtiles: nothing to write: %llu features read, all skipped",
                        (unsigned long long)ds->input_features);
    for (size_t i = 0; i < ds->nbuildings; i++)
        if (ds->buildings[i].mesh.nindices == 0)
            return ct_error(ctx, CT_ERR_USAGE, "writers.3dtiles: building %s has no mesh: put filters.extrude before the writer",
                            ds->buildings[i].id);
    return CT_OK;
}

/* Decides how heights become ellipsoidal (once, logged) and makes the transform that
 * every thread clones (*proto; PROJ's search for the operation runs once). */
static ct_status plan_heights(ct_context *ctx, const tiles_state *s, const ct_dataset *ds, const double probe[2],
                              ct_geo_transform **proto, char *op, size_t op_size, double *accuracy) {
    *proto = NULL;
    ct_geo_options o;
    memset(&o, 0, sizeof o);
    o.vertical_crs = s->vertical_crs ? s->vertical_crs : ds->vertical_wkt;
    if (!o.vertical_crs && !ds->heights_ellipsoidal && ds->footprints_vertical_wkt) {
        o.vertical_crs = ds->footprints_vertical_wkt;
        ct_log(ctx, CT_LOG_INFO, "writers.3dtiles: heights taken as in the footprints' vertical CRS (their CRS is "
                                 "compound; %s): set vertical_crs if they are not", ds->points ?
                                 "the LiDAR's CRS has no vertical part" : "no LiDAR");
    }
    o.geoid_grid = s->geoid;
    o.geoid_mode = strcmp(s->geoid, "none") == 0 ? CT_GEOID_NEVER : CT_GEOID_AUTO;
    o.probe[0] = probe[0];
    o.probe[1] = probe[1];
    if (!o.vertical_crs && ds->heights_ellipsoidal) {
        ct_log(ctx, CT_LOG_INFO, "writers.3dtiles: the LiDAR's CRS is 3D: its heights are ellipsoidal, written as they are");
        o.geoid_mode = CT_GEOID_NEVER;
    } else if (!o.vertical_crs) {
        ct_log(ctx, CT_LOG_WARN, "writers.3dtiles: no vertical CRS known for the heights: they are written as WGS84 "
                                 "ellipsoidal heights, so the model may float or sink by tens of metres; set the LiDAR's "
                                 "srs (e.g. EPSG:28992+5709) or vertical_crs");
        o.geoid_mode = CT_GEOID_NEVER;
    }
    ct_status st = ct_geo_transform_create_ex(ctx, ds->crs_wkt, &o, proto);
    char vname[256] = "";
    if (st == CT_OK && ct_geo_transform_uses_geoid(*proto) && o.geoid_mode == CT_GEOID_AUTO) {
        if (!ct_crs_vertical_name(o.vertical_crs, vname, sizeof vname) || !vname[0])
            snprintf(vname, sizeof vname, "this vertical CRS");
        ct_log(ctx, CT_LOG_WARN, "writers.3dtiles: PROJ has no grid for %s here (only a ballpark "
                                 "transformation that leaves heights unchanged): adding the geoid %s instead "
                                 "(about 1 m accurate); install the national geoid grid (e.g. with projsync; "
                                 "`projinfo -s <the heights' CRS> -t EPSG:4979 --spatial-test intersects "
                                 "--grid-check known_available` lists the grids it needs) for centimetre heights",
               vname, s->geoid);
    }
    *op = '\0';
    *accuracy = -1;
    if (st == CT_OK && ct_geo_transform_operation(*proto, probe, op, op_size, accuracy)) {
        if (*accuracy == 0)
            ct_log(ctx, CT_LOG_INFO, "writers.3dtiles: PROJ places the model in WGS 84 by '%s' (exact: no change of "
                   "datum)", op);
        else if (*accuracy > 0)
            ct_log(ctx, CT_LOG_INFO, "writers.3dtiles: PROJ places the model in WGS 84 by '%s', accurate to %g m "
                   "(PROJ's database; a more accurate one may need a grid not installed: see projinfo)", op, *accuracy);
        else
            ct_log(ctx, CT_LOG_WARN, "writers.3dtiles: PROJ places the model in WGS 84 by '%s', of unknown accuracy (a "
                   "ballpark one has no datum shift: the model may lie metres to hundreds of metres off other data; "
                   "install the grids PROJ needs, e.g. with projsync, or check the working CRS)", op);
    }
    return st;
}

/* Geometric error of every tile: leaves 0 (full detail); a parent with coarser content
 * lod_error_ratio x its side, one without content half its diagonal. Halving with each
 * level, so errors fall strictly with depth; the root is never 0. */
static void tile_errors(const tiles_state *s, const ct_quadtree *q, double *err) {
    for (size_t t = 0; t < q->ntiles; t++) {
        const ct_qtile *tile = &q->tiles[t];
        double side = tile->bounds[2] - tile->bounds[0];
        if (ct_qtile_is_leaf(tile) && t != 0) err[t] = 0.0;
        else err[t] = s->lod ? side * s->lod_error_ratio : side * M_SQRT2 * 0.5;
    }
}

typedef struct size_key { double size; uint32_t b; } size_key;

static int cmp_size_desc(const void *pa, const void *pb) {
    const size_key *a = pa, *b = pb;
    if (a->size != b->size) return a->size > b->size ? -1 : 1;
    return (a->b > b->b) - (a->b < b->b);
}

static int cmp_u32(const void *pa, const void *pb) {
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    return (a > b) - (a < b);
}

/* The buildings a parent tile shows: those of its subtree whose size (bbox diagonal with
 * the height) is at least its error, the largest lod_max_buildings of them, by index.
 * Returns the count written to out (capacity tile->count). */
static size_t parent_selection(const tiles_state *s, const ct_quadtree *q, const ct_qtile *tile, double err,
                               const double *sizes, size_key *scratch, uint32_t *out) {
    size_t n = 0;
    for (size_t k = 0; k < tile->count; k++) {
        uint32_t b = q->order[tile->first + k];
        if (sizes[b] >= err) scratch[n++] = (size_key){sizes[b], b};
    }
    if (n > s->lod_max_buildings) {
        qsort(scratch, n, sizeof *scratch, cmp_size_desc);
        n = s->lod_max_buildings;
    }
    for (size_t k = 0; k < n; k++) out[k] = scratch[k].b;
    qsort(out, n, sizeof *out, cmp_u32);
    return n;
}

/* The processing cell a tile belongs to (its ancestor at the cell level, or itself above
 * it): partitions split the work by cell, so a partition's tiles are close together. */
static size_t tile_owner(const ct_quadtree *q, size_t t) {
    size_t a = t;
    while (q->tiles[a].level > q->cell_level && q->tiles[a].parent >= 0) a = (size_t)q->tiles[a].parent;
    return a;
}

/* The partition (of n) of every tile: processing cells (the tiles at the cell level) go
 * by their buildings to the partitions (ct_balance_by_weight), so that partitions get
 * about equal work (cells round robin gave the 1k synthetic city's three partitions 420,
 * 333 and 247 buildings); a tile below the cell level goes with its cell, one above it
 * round robin by index. It depends on the tree only, so every process finds the same.
 * NULL when out of memory. */
static int *tile_partitions(const ct_quadtree *q, int n) {
    const size_t nt = q->ntiles ? q->ntiles : 1;
    int *part = malloc(nt * sizeof *part), *cell_part = malloc(nt * sizeof *cell_part);
    uint64_t *weight = calloc(nt, sizeof *weight);
    size_t *cell_tile = malloc(nt * sizeof *cell_tile);
    size_t nc = 0;
    int ok = part && cell_part && weight && cell_tile && n >= 1;
    for (size_t t = 0; ok && t < q->ntiles; t++)
        if (q->tiles[t].level == q->cell_level) {
            cell_tile[nc] = t;
            weight[nc++] = q->tiles[t].count;
        }
    ok = ok && ct_balance_by_weight(weight, nc, n, cell_part);
    for (size_t c = 0; ok && c < nc; c++) part[cell_tile[c]] = cell_part[c];
    for (size_t t = 0; ok && t < q->ntiles; t++) {
        size_t owner = tile_owner(q, t);
        if (q->tiles[owner].level != q->cell_level) part[t] = (int)(owner % (size_t)n);
        else if (owner != t) part[t] = part[owner];
    }
    free(cell_part);
    free(weight);
    free(cell_tile);
    if (!ok) {
        free(part);
        return NULL;
    }
    return part;
}

static ct_status mesh_error(ct_context *ctx, const ct_building *b) {
    return ct_error(ctx, CT_ERR_INTERNAL, "writers.3dtiles: building %s (feature %llu): its mesh cannot be rebuilt "
                                          "(out of memory, or its footprint changed after filters.extrude)",
                    b->id, (unsigned long long)b->source_record);
}

/* Builds one tile's content (full meshes for leaves, simplified for parents) and writes it. */
static ct_status build_tile(ct_context *ctx, const tiles_state *s, const ct_dataset *ds, const ct_quadtree *q,
                            const int *part_of, size_t t, const double *err, const double *sizes, ct_geo_transform *geo,
                            ct_extruder *ex, const char *dir, ct_journal *jr, ct_tile_output *out) {
    const ct_qtile *tile = &q->tiles[t];
    memset(out, 0, sizeof *out);
    int part_k, part_n;
    ct_context_partition(ctx, &part_k, &part_n);
    int mine = !part_of || part_of[t] == part_k;
    if (ct_context_merge(ctx) || !mine) {
        /* Another process's tile (or merging): it must be in the records. */
        if (ct_journal_load(jr, tile, out)) return CT_OK;
        if (ct_context_merge(ctx)) {
            char name[64];
            ct_tile_name(tile, name, sizeof name);
            int n = ct_journal_partitions(jr); /* (the partitions recorded how many they were) */
            int *parts = n >= 1 ? tile_partitions(q, n) : NULL;
            if (!parts)
                return ct_error(ctx, CT_ERR_INPUT, "%s: tile %s was not written by any partition: run `citytiler run "
                                "--partition K/N` for every K first", dir, name);
            int k = parts[t];
            free(parts);
            return ct_error(ctx, CT_ERR_INPUT, "%s: tile %s was not written by any partition: run partition %d/%d again "
                            "(`citytiler run --partition %d/%d`, without --measure-only)", dir, name, k, n, k, n);
        }
        out->foreign = 1;
        return CT_OK;
    }
    if (ct_context_resume(ctx) && ct_journal_load(jr, tile, out)) {
        out->resumed = 1;
        return CT_OK;
    }
    const uint32_t *idx = q->order + tile->first;
    size_t n = tile->count;
    uint32_t *sel = NULL;
    size_key *scratch = NULL;
    ct_mesh *meshes = NULL;
    ct_status st = CT_OK;
    int leaf = ct_qtile_is_leaf(tile);
    if (!leaf && !s->lod) return CT_OK;
    if (!leaf) {
        sel = malloc((n ? n : 1) * sizeof *sel);
        scratch = malloc((n ? n : 1) * sizeof *scratch);
        if (!sel || !scratch) st = ct_error_nomem(ctx, "parent tile");
        if (st == CT_OK) n = parent_selection(s, q, tile, err[t], sizes, scratch, sel);
        idx = sel;
        if (st == CT_OK && n > 0) {
            meshes = calloc(n, sizeof *meshes);
            if (!meshes) st = ct_error_nomem(ctx, "parent meshes");
            for (size_t k = 0; st == CT_OK && k < n; k++) {
                double achieved;
                ct_mesh tmp;
                const ct_mesh *full = ct_building_mesh(ex, ds, &ds->buildings[idx[k]], &tmp);
                if (!full) st = mesh_error(ctx, &ds->buildings[idx[k]]);
                else if (ct_lod_simplify_mesh(full, 0.5 * err[t], &meshes[k], &achieved) != 0)
                    st = ct_error_nomem(ctx, "simplified mesh");
                ct_mesh_free(&tmp);
            }
            /* A building simplified away entirely is left out of this level. */
            size_t kept = 0;
            for (size_t k = 0; st == CT_OK && k < n; k++) {
                if (meshes[k].nindices == 0) {
                    ct_mesh_free(&meshes[k]);
                    continue;
                }
                sel[kept] = sel[k];
                if (kept != k) {
                    meshes[kept] = meshes[k];
                    memset(&meshes[k], 0, sizeof meshes[k]);
                }
                kept++;
            }
            if (st == CT_OK) n = kept;
        }
    }
    if (st == CT_OK && leaf && n > 0 && ct_building_mesh_deferred(&ds->buildings[idx[0]])) {
        /* Meshes rebuilt on demand (filters.extrude's keep_meshes_up_to): this tile's only. */
        meshes = calloc(n, sizeof *meshes);
        if (!meshes) st = ct_error_nomem(ctx, "tile meshes");
        for (size_t k = 0; st == CT_OK && k < n; k++)
            if (!ct_building_mesh(ex, ds, &ds->buildings[idx[k]], &meshes[k])) st = mesh_error(ctx, &ds->buildings[idx[k]]);
    }
    if (st == CT_OK && n > 0) st = ct_tile_build_ex(ctx, geo, ds, idx, n, meshes, "building", &s->glb,
                                                  s->implicit ? CT_TILE_EMBED_TRANSFORM : 0, out);
    if (st == CT_OK && out->has_content) {
        /* Written in place: the tile's record, written after it, is what says the GLB is
         * whole (a killed run's unrecorded tiles are written again by --resume). Writing
         * beside and renaming took a second operation under the directory's lock a tile:
         * 100k city, 2 threads, tiles 0.93-1.33 s against 1.04-1.54 s. */
        char path[4096];
        ct_tile_content_path(dir, tile, path, sizeof path);
        st = ct_write_file(ctx, path, out->glb, out->glb_len);
    }
    if (st == CT_OK) st = ct_journal_save(ctx, jr, tile, out);
    free(out->glb);
    out->glb = NULL;
    for (size_t k = 0; meshes && k < n; k++) ct_mesh_free(&meshes[k]);
    free(meshes);
    free(sel);
    free(scratch);
    return st;
}

/* Builds and writes every tile in parallel; fills out[]. */
static ct_status write_tiles(ct_context *ctx, const tiles_state *s, const ct_dataset *ds, const ct_quadtree *q,
                             const int *part_of, const double *err, const double *sizes, const char *dir,
                             const ct_geo_transform *proto, ct_journal *jr, ct_tile_output *out) {
    ct_status st = CT_OK;
    size_t done = 0;
    long nt = (long)q->ntiles;
    /* Tests kill the run after this many tiles (CITYTILER_TEST_KILL_AFTER_TILES). */
    const char *kill_env = getenv("CITYTILER_TEST_KILL_AFTER_TILES");
    size_t kill_after = kill_env ? (size_t)strtoull(kill_env, NULL, 10) : 0;
    /* (CITYTILER_TEST_KILL_SIGNAL=TERM: by SIGTERM, as a batch queue's time limit does;
     * HUP: by SIGHUP, as a closed terminal does; USR1: as Slurm's --signal warns) */
    const char *sig_env = getenv("CITYTILER_TEST_KILL_SIGNAL");
    const int kill_signal = !sig_env                     ? SIGKILL
                            : strcmp(sig_env, "TERM") == 0 ? SIGTERM
                            : strcmp(sig_env, "HUP") == 0  ? SIGHUP
                            : strcmp(sig_env, "USR1") == 0 ? SIGUSR1
                                                           : SIGKILL;
#pragma omp parallel num_threads(ct_context_threads(ctx))
    {
        ct_geo_transform *geo = NULL;
        ct_status tst;
#pragma omp critical(ct_geo_clone)
        tst = ct_geo_transform_clone(ctx, proto, &geo);
        ct_extruder *ex = ct_extruder_create(); /* for meshes rebuilt on demand */
        if (tst == CT_OK && !ex) tst = ct_error_nomem(ctx, "extruder");
#pragma omp for schedule(dynamic, 1)
        for (long t = 0; t < nt; t++) {
            if (tst != CT_OK) continue;
            tst = build_tile(ctx, s, ds, q, part_of, (size_t)t, err, sizes, geo, ex, dir, jr, &out[t]);
            size_t now_done;
#pragma omp atomic capture
            now_done = ++done;
            /* test hook: a run killed midway (sent to the process, as a batch queue does) */
            if (kill_after && now_done == kill_after) kill(getpid(), kill_signal);
            if (ct_context_threads(ctx) == 1 || (now_done & 15) == 0)
                ct_progress(ctx, "writing tiles", now_done, (uint64_t)nt);
        }
        ct_geo_transform_destroy(geo);
        ct_extruder_destroy(ex);
#pragma omp critical(ct_writer_status)
        if (tst != CT_OK && st == CT_OK) st = tst;
    }
    if (st == CT_OK) ct_progress(ctx, "writing tiles", (uint64_t)nt, (uint64_t)nt);
    return st;
}

/* The hash of what a building's tiles hold: its id, heights, footprint and attribute
 * values (an attribute edited between a killed run and its --resume, or between two
 * partitions, left tiles of old and new values side by side). */
static uint64_t building_hash(const ct_dataset *ds, const ct_building *b) {
    uint64_t h = ct_fnv1a(CT_FNV1A_BASIS, b->id, strlen(b->id) + 1);
    h = ct_fnv1a(h, &b->base_z, sizeof b->base_z);
    h = ct_fnv1a(h, &b->top_z, sizeof b->top_z);
    h = ct_fnv1a(h, &b->fallback_height, sizeof b->fallback_height);
    h = ct_fnv1a(h, &b->mesh.nverts, sizeof b->mesh.nverts);
    for (uint32_t i = 0; i < b->footprint.nparts; i++) {
        const ct_polygon *p = &b->footprint.parts[i];
        h = ct_fnv1a(h, &p->nrings, sizeof p->nrings);
        if (p->nrings) {
            h = ct_fnv1a(h, p->ring_start, ((size_t)p->nrings + 1) * sizeof *p->ring_start);
            h = ct_fnv1a(h, p->xy, 2 * (size_t)p->ring_start[p->nrings] * sizeof *p->xy);
        }
    }
    for (size_t a = 0; b->attrs && a < ds->nattrs; a++) {
        const ct_value *v = &b->attrs[a];
        unsigned char null = (unsigned char)(v->is_null != 0);
        h = ct_fnv1a(h, &null, 1);
        if (v->is_null) continue;
        if (ds->attrs[a].type == CT_ATTR_STRING) h = v->v.s ? ct_fnv1a(h, v->v.s, strlen(v->v.s) + 1) : h;
        else if (ds->attrs[a].type == CT_ATTR_REAL) h = ct_fnv1a(h, &v->v.r, sizeof v->v.r);
        else h = ct_fnv1a(h, &v->v.i, sizeof v->v.i);
    }
    return h;
}

/* What must match for --resume (or between partitions) to reuse tiles: the writer's
 * options, the tree, the attribute columns and every building (building_hash; hashed in
 * parallel, joined in order). */
static uint64_t run_fingerprint(const tiles_state *s, const ct_dataset *ds, const ct_quadtree *q, int threads) {
    uint64_t h = CT_FNV1A_BASIS;
    /* Not the path as written: the work directory found is the same one ("out/", "./out"
     * and a run from another folder were other runs to the partitions). */
    json_t *copy = json_copy(s->opts);
    if (copy) json_object_del(copy, "path");
    char *opts = copy ? json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (opts) h = ct_fnv1a(h, opts, strlen(opts));
    else h = 0; /* (out of memory: a fingerprint no run matches, so nothing is resumed by mistake) */
    free(opts);
    json_decref(copy);
    h = ct_fnv1a(h, &q->ntiles, sizeof q->ntiles);
    for (size_t a = 0; a < ds->nattrs; a++) {
        h = ct_fnv1a(h, ds->attrs[a].name, strlen(ds->attrs[a].name) + 1);
        h = ct_fnv1a(h, &ds->attrs[a].type, sizeof ds->attrs[a].type);
    }
    uint64_t *each = malloc((ds->nbuildings ? ds->nbuildings : 1) * sizeof *each);
    if (!each) return 0; /* (as above) */
    const long n = (long)ds->nbuildings;
#pragma omp parallel for num_threads(threads < 1 ? 1 : threads) schedule(static)
    for (long i = 0; i < n; i++) each[i] = building_hash(ds, &ds->buildings[i]);
    h = ct_fnv1a(h, each, ds->nbuildings * sizeof *each);
    free(each);
    return h;
}

/* Size of each building for the coarse levels: footprint diagonal with the height. */
static double *building_sizes(const ct_dataset *ds) {
    double *sz = malloc((ds->nbuildings ? ds->nbuildings : 1) * sizeof *sz);
    for (size_t i = 0; sz && i < ds->nbuildings; i++) {
        const ct_building *b = &ds->buildings[i];
        double bb[4] = {0, 0, 0, 0};
        ct_footprint_bbox(&b->footprint, bb);
        double dx = bb[2] - bb[0], dy = bb[3] - bb[1], h = b->top_z - b->base_z;
        sz[i] = sqrt(dx * dx + dy * dy + (isfinite(h) ? h * h : 0.0));
    }
    return sz;
}

/* The assets' tiles; their tree goes beside the buildings (plan->extra_root) or, when
 * separate (or with implicit tiling, whose root cannot have explicit children), to
 * DIR/assets/tileset.json. Without buildings (only_assets) it is the tileset's root
 * (plan->extra_root), whatever assets_tileset and tiling say: they place the buildings. */
static ct_status write_assets(ct_context *ctx, const tiles_state *s, const ct_dataset *ds, const ct_geo_transform *geo,
                              const char *dir, int only_assets, ct_tileset_plan *plan, size_t *tiles_out) {
    json_t *root = NULL;
    size_t ntiles = 0;
    ct_status st = ct_asset_tiles_write(ctx, ds, &s->symbols, geo, s->max_assets_per_tile, dir, &root,
                                        plan->extra_region, &ntiles);
    *tiles_out = ntiles;
    if (st != CT_OK) return st;
    double err = json_number_value(json_object_get(root, "geometricError"));
    if ((s->assets_separate || s->implicit) && !only_assets) {
        char path[4096];
        snprintf(path, sizeof path, "%s/assets/tileset.json", dir);
        /* Content uris are relative to that tileset.json: drop the "assets/" prefix. */
        st = ct_asset_tiles_rebase(ctx, root);
        if (st == CT_OK) st = ct_tileset_write_root(ctx, path, root, NULL, err > 0 ? 2.0 * err : 1.0);
        else json_decref(root);
        if (st == CT_OK)
            ct_log(ctx, CT_LOG_INFO, "writers.3dtiles: %zu assets in %zu tiles: %s/assets/tileset.json", ds->assets->n,
                   ntiles, s->path);
        return st;
    }
    plan->extra_root = root;
    plan->extra_error = err;
    if (only_assets)
        ct_log(ctx, CT_LOG_INFO, "writers.3dtiles: no buildings: %zu assets in %zu tiles written to %s (the tileset "
               "holds the assets alone%s)", ds->assets->n, ntiles, s->path,
               s->assets_separate || s->implicit ? "; assets_tileset and tiling place buildings, and apply to none here"
                                                 : "");
    else
        ct_log(ctx, CT_LOG_INFO, "writers.3dtiles: %zu assets in %zu tiles beside the buildings", ds->assets->n, ntiles);
    return CT_OK;
}

/* One run of the writer: what its steps share. */
typedef struct write_run {
    ct_context *ctx;
    tiles_state *s;
    ct_dataset *ds;
    double bbox[4];        /* of the buildings' centroids */
    ct_quadtree q;
    ct_implicit_grid grid; /* "tiling": "implicit" */
    ct_tile_output *out;   /* per tile */
    double *err;           /* per tile: its geometric error */
    double *sizes;         /* per building */
    int part_k, part_n;    /* this process's partition (0, 1: a lone run) */
    int merge, mpi;        /* `citytiler merge`; ranks of mpirun */
    int only_assets;       /* no footprints: the tileset is the assets' (the quadtree has no tile) */
    size_t asset_tiles;    /* the assets' tiles written */
    int keep;              /* OUTPUT.partial is kept from before or shared */
    char *tmp;             /* OUTPUT.partial */
    ct_journal *jr;
    ct_geo_transform *geo;
    char placement[512];   /* the operation PROJ places the model in WGS 84 by ("" when unknown) */
    double placement_accuracy; /* its accuracy (m; negative: unknown) */
    int placement_geoid;   /* the heights got the geoid grid's undulations (s->geoid) */
    int *part_of;          /* per tile: its partition (NULL: every tile is this process's) */
    json_t *processes;     /* under mpirun, on rank 0: every rank's memory and time, for the summary */
    json_t *partitions;    /* the merge: the partitions' own summaries, for its summary */
} write_run;

static void write_run_free(write_run *w) {
    json_decref(w->processes);
    json_decref(w->partitions);
    ct_geo_transform_destroy(w->geo);
    ct_journal_close(w->jr);
    free(w->tmp);
    free(w->out);
    free(w->part_of);
    free(w->err);
    free(w->sizes);
}

/* Without buildings: no tile; bbox is the assets' (the probe of the heights' transformation). */
static void plan_no_tiles(write_run *w) {
    const ct_asset_set *a = w->ds->assets;
    double *bbox = w->bbox;
    bbox[0] = bbox[1] = INFINITY;
    bbox[2] = bbox[3] = -INFINITY;
    for (size_t i = 0; i < a->n; i++) {
        bbox[0] = fmin(bbox[0], a->items[i].x);
        bbox[1] = fmin(bbox[1], a->items[i].y);
        bbox[2] = fmax(bbox[2], a->items[i].x);
        bbox[3] = fmax(bbox[3], a->items[i].y);
    }
}

/* The tiles: a quadtree over the buildings' centroids (or the implicit grid's). */
static ct_status plan_tiles(write_run *w) {
    ct_context *ctx = w->ctx;
    const tiles_state *s = w->s;
    const ct_dataset *ds = w->ds;
    ct_status st = CT_OK;
    if (w->only_assets) {
        plan_no_tiles(w);
        return CT_OK;
    }
    double *centroids = malloc(2 * ds->nbuildings * sizeof *centroids);
    if (!centroids) return ct_error_nomem(ctx, "centroids");
    for (size_t i = 0; i < ds->nbuildings; i++) ct_footprint_centroid(&ds->buildings[i].footprint, centroids + 2 * i);
    double *bbox = w->bbox;
    bbox[0] = bbox[1] = INFINITY;
    bbox[2] = bbox[3] = -INFINITY;
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
    /* (the quadtree splits down to the processing cells whatever max_level says: it was
     * raised without a word) */
    if (!s->implicit && s->max_level < cell_level)
        ct_log(ctx, CT_LOG_WARN, "writers.3dtiles: max_level %d would stop above the processing cells, which are tiles of level "
               "%d here (cell_size %g m): tiles go down to level %d; a larger cell_size gives fewer levels",
               s->max_level, cell_level, ds->cell_size, cell_level);
    uint64_t *weights = NULL; /* (the vertex budget, in either tiling) */
    if (s->max_vertices_per_tile) {
        weights = malloc((ds->nbuildings ? ds->nbuildings : 1) * sizeof *weights);
        if (!weights) st = ct_error_nomem(ctx, "tile budget");
        for (size_t i = 0; weights && i < ds->nbuildings; i++) weights[i] = ds->buildings[i].mesh.nverts;
    }
    if (st == CT_OK && s->implicit) {
        /* Implicit tiles follow the lon/lat grid, not the cells: max_level's floor is the
         * level from which they are no larger than a cell (raised, as explicit's) */
        ct_implicit_budget b = {s->max_per_tile, weights, s->max_vertices_per_tile, s->max_level};
        st = ct_implicit_quadtree(ctx, ds, centroids, &b, &w->grid, &w->q, &cell_level);
        if (st == CT_OK && s->max_level < cell_level)
            ct_log(ctx, CT_LOG_WARN, "writers.3dtiles: max_level %d would stop at implicit tiles larger than a processing "
                   "cell (cell_size %g m), which they are no longer from level %d here: max_level is raised to %d (tiles "
                   "split down to it by max_buildings_per_tile and max_vertices_per_tile); a larger cell_size gives fewer "
                   "levels", s->max_level, ds->cell_size, cell_level, cell_level);
    } else if (st == CT_OK) {
        st = ct_quadtree_build_weighted(ctx, centroids, weights, ds->nbuildings, root, cell_level, s->max_per_tile,
                                        s->max_vertices_per_tile, s->max_level, &w->q);
    }
    free(weights);
    free(centroids);
    return st;
}

/* OUTPUT.partial and its journal, ready for tiles. Processes of one run share it: the
 * first (or a lone one) prepares it, partitions and the merge keep what is there; the
 * fingerprint makes sure they all worked on the same inputs and options. */
static ct_status begin_output(write_run *w) {
    ct_context *ctx = w->ctx;
    const tiles_state *s = w->s;
    ct_status st = CT_OK;
    if (s->implicit && !w->only_assets && (w->part_n > 1 || w->merge))
        st = ct_error(ctx, CT_ERR_USAGE, "writers.3dtiles: \"tiling\": \"implicit\" is written by one process only for "
                      "now; %s needs \"tiling\": \"explicit\"", w->merge ? "citytiler merge" : ct_context_has_allgather(ctx) ? "mpirun" : "--partition");
    uint64_t fingerprint = run_fingerprint(s, w->ds, &w->q, ct_context_threads(ctx));
    if (st == CT_OK && w->merge) st = ct_outdir_check_merge(ctx, s->path); /* (leaves no work directory behind) */
    if (w->mpi && w->part_k != 0 && st == CT_OK) st = ct_context_barrier(ctx); /* wait for rank 0 to prepare */
    if (st == CT_OK) st = ct_outdir_begin(ctx, s->path, "tileset.json", w->keep, &w->tmp);
    ct_journal_mode jmode = !w->keep ? CT_JOURNAL_NEW
                            : w->merge || w->part_n > 1 ? CT_JOURNAL_SHARED
                                                        : CT_JOURNAL_RESUME;
    if (st == CT_OK) st = ct_journal_begin(ctx, w->tmp, fingerprint, jmode, w->part_k, w->part_n, &w->jr);
    if (w->mpi && w->part_k == 0 && st == CT_OK) st = ct_context_barrier(ctx);
    if (st == CT_OK && w->q.ntiles > 0) {
        char tiles_dir[4096];
        snprintf(tiles_dir, sizeof tiles_dir, "%s/tiles", w->tmp);
        st = ct_mkdirs(ctx, tiles_dir);
    }
    return st;
}

/* Under mpirun, once every rank's tiles are on disk: rank 0 takes the other ranks'
 * tiles from their records. */
static ct_status gather_ranks(write_run *w, ct_status st) {
    ct_status bst = ct_context_barrier(w->ctx);
    if (st == CT_OK) st = bst;
    if (st == CT_OK && w->part_k == 0) {
        st = ct_journal_reload(w->ctx, w->jr);
        for (size_t t = 0; st == CT_OK && t < w->q.ntiles; t++) {
            if (!w->out[t].foreign) continue;
            if (!ct_journal_load(w->jr, &w->q.tiles[t], &w->out[t])) {
                char name[64];
                ct_tile_name(&w->q.tiles[t], name, sizeof name);
                st = ct_error(w->ctx, CT_ERR_IO, "%s: tile %s of another rank is missing", w->tmp, name);
            }
        }
    }
    return st;
}

/* Under mpirun: every rank's peak memory and CPU time so far, for rank 0's run summary
 * (its own say nothing of the others': the largest rank is the one a cluster job must
 * fit). Only after success: a rank that failed ends the run (main's MPI_Abort), where
 * taking part here paired its exchange with another rank's barrier and the run hung. */
static ct_status gather_process_stats(write_run *w, ct_status st) {
    if (st != CT_OK) return st;
    double mine[3] = {(double)ct_peak_rss_bytes(), ct_process_cpu_seconds(), ct_context_elapsed(w->ctx)};
    void *all = NULL;
    size_t sizes[256] = {0};
    ct_status xs = w->part_n <= 256 ? ct_context_allgather(w->ctx, mine, sizeof mine, &all, sizes) : CT_OK;
    if (xs == CT_OK && all && w->part_k == 0) {
        json_t *arr = json_array();
        size_t off = 0;
        for (int r = 0; arr && r < w->part_n; r++) {
            double v[3] = {0, 0, 0};
            if (sizes[r] == sizeof v) memcpy(v, (const char *)all + off, sizeof v);
            off += sizes[r];
            json_t *o = json_object();
            if (!o || json_array_append_new(arr, o) != 0) {
                json_decref(arr);
                arr = NULL;
                break;
            }
            json_object_set_new(o, "rank", json_integer(r));
            json_object_set_new(o, "peak_rss_bytes", json_integer((json_int_t)v[0]));
            json_object_set_new(o, "cpu_seconds", json_real(v[1]));
            json_object_set_new(o, "seconds", json_real(v[2]));
        }
        w->processes = arr; /* (out of memory: the summary goes without it) */
    }
    free(all);
    return xs;
}

/* The tiles' counts and bytes. */
typedef struct tile_totals {
    size_t tiles, with_content, geo_raw, geo_bytes, total;
} tile_totals;

/* Over every tile, or (part >= 0) over those of partition `part`. */
static tile_totals sum_tiles(const write_run *w, int part) {
    tile_totals s = {0, 0, 0, 0, 0};
    for (size_t t = 0; t < w->q.ntiles; t++) {
        if (part >= 0 && w->part_of[t] != part) continue;
        s.tiles++;
        s.with_content += w->out[t].has_content;
        s.geo_raw += w->out[t].stats.geometry_raw;
        s.geo_bytes += w->out[t].stats.geometry_bytes;
        s.total += w->out[t].stats.total_bytes;
    }
    return s;
}

/* outputs.tiles of a run summary: sum_tiles(w, part) and the writer's settings. */
static json_t *tiles_json(const write_run *w, int part) {
    const tile_totals sum = sum_tiles(w, part);
    json_t *o = json_object();
    if (!o) return NULL;
    json_object_set_new(o, "path", json_string(w->s->path));
    json_object_set_new(o, "tiles", json_integer((json_int_t)sum.tiles));
    json_object_set_new(o, "tiles_with_content", json_integer((json_int_t)sum.with_content));
    json_object_set_new(o, "glb_bytes", json_integer((json_int_t)sum.total));
    json_object_set_new(o, "geometry_bytes", json_integer((json_int_t)sum.geo_bytes));
    json_object_set_new(o, "geometry_bytes_uncompressed", json_integer((json_int_t)sum.geo_raw));
    json_object_set_new(o, "compression", json_string(w->s->glb.compression == CT_GLB_COMPRESSION_MESHOPT ? "meshopt" : "none"));
    json_object_set_new(o, "lod", json_boolean(w->s->lod));
    if (w->placement[0]) { /* (where the model stands against other data: see plan_heights) */
        json_object_set_new(o, "placement_operation", json_string(w->placement));
        json_object_set_new(o, "placement_accuracy_m",
                            w->placement_accuracy >= 0 ? json_real(w->placement_accuracy) : json_null());
        json_object_set_new(o, "geoid", w->placement_geoid ? json_string(w->s->geoid) : json_null());
    }
    if (w->ds->assets && part < 0) { /* (their counts in and skipped are under inputs) */
        json_object_set_new(o, "assets_written", json_integer((json_int_t)w->ds->assets_written));
        json_object_set_new(o, "asset_tiles", json_integer((json_int_t)w->asset_tiles));
    }
    return o;
}

/* The run summary of this process (the writer's stage timed from t_start, cpu_start). */
static ct_status make_summary(const write_run *w, json_t *tiles, double t_start, double cpu_start, json_t **out) {
    *out = NULL;
    if (!tiles) return ct_error_nomem(w->ctx, "summary");
    ct_status st = ct_run_summary(w->ctx, w->ds, "writers.3dtiles", ct_context_elapsed(w->ctx) - t_start,
                                  ct_process_cpu_seconds() - cpu_start, tiles, out);
    json_decref(tiles);
    return st;
}

/* run-summary.json next to tileset.json: the run's inputs, outputs, skips and timings;
 * under mpirun every rank's memory and times, after partitions each one's summary. */
static ct_status write_summary(write_run *w, double t_start, double cpu_start) {
    json_t *summary = NULL;
    ct_status st = make_summary(w, tiles_json(w, -1), t_start, cpu_start, &summary);
    if (st != CT_OK) return st;
    if (w->processes) json_object_set(summary, "processes", w->processes);
    if (w->partitions) json_object_set(summary, "partitions", w->partitions);
    char path[4096];
    snprintf(path, sizeof path, "%s/run-summary.json", w->tmp);
    if (json_dump_file(summary, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
        st = ct_error(w->ctx, CT_ERR_IO, "%s: cannot write", path);
    json_decref(summary);
    return st;
}

/* The merge: the partitions' own summaries (ct_partition_summary_save), for its
 * run-summary.json; read before the work directory's records go. */
static void take_partition_summaries(write_run *w) {
    int n = ct_journal_partitions(w->jr), missing = 0;
    if (n < 1) return;
    w->partitions = ct_partition_summaries_load(w->tmp, n, &missing);
    if (missing > 0)
        ct_log(w->ctx, CT_LOG_INFO, "writers.3dtiles: merge: %d of the %d partitions left no summary of their own "
               "(run by an older citytiler): run-summary.json's partitions lists the other %d", missing, n, n - missing);
}

/* A partition that does not write tileset.json: its share of the buildings, its own
 * summary for the merge's, and what to do next. */
static ct_status finish_partition(write_run *w, double t_start, double cpu_start) {
    const ct_quadtree *q = &w->q;
    size_t mine = 0; /* the tiles of this process's partition */
    for (size_t t = 0; t < q->ntiles; t++) mine += w->part_of[t] == w->part_k;
    w->ds->writers_done++;
    /* This partition's share: the buildings of its leaf tiles (it said all of them). */
    w->ds->buildings_written = 0;
    for (size_t t = 0; t < q->ntiles; t++)
        if (w->part_of[t] == w->part_k && ct_qtile_is_leaf(&q->tiles[t])) w->ds->buildings_written += q->tiles[t].count;
    ct_status st = CT_OK;
    if (!w->mpi) { /* (ranks give rank 0 their memory and times: gather_process_stats) */
        json_t *summary = NULL;
        json_t *tiles = tiles_json(w, w->part_k);
        if (tiles) json_object_set_new(tiles, "buildings_written", json_integer((json_int_t)w->ds->buildings_written));
        st = make_summary(w, tiles, t_start, cpu_start, &summary);
        if (st == CT_OK) {
            json_object_set_new(summary, "cpu_seconds", json_real(ct_process_cpu_seconds()));
            st = ct_partition_summary_save(w->ctx, w->tmp, w->part_k, w->part_n, summary);
        }
        json_decref(summary);
    }
    if (st == CT_OK)
        ct_log(w->ctx, CT_LOG_INFO, "writers.3dtiles: partition %d/%d: %zu of %zu tiles written to %s%s", w->part_k,
               w->part_n, mine, q->ntiles, w->tmp,
               w->mpi ? "" : "; run `citytiler merge` with the same pipeline when every partition is done");
    return st;
}

/* The process that finishes the run: the assets' tiles, tileset.json, run-summary.json,
 * then OUTPUT.partial renamed to OUTPUT (or, failing, removed by a lone run). */
static ct_status finish_tileset(write_run *w, ct_status st, double t_start, double cpu_start) {
    ct_context *ctx = w->ctx;
    const tiles_state *s = w->s;
    ct_tileset_plan plan = {&w->q, w->out, w->err, s->lod, NULL, {0, 0, 0, 0, 0, 0}, 0};
    if (st == CT_OK && w->ds->assets && w->ds->assets->n > 0)
        st = write_assets(ctx, s, w->ds, w->geo, w->tmp, w->only_assets, &plan, &w->asset_tiles);
    if (st == CT_OK && w->ds->assets) w->ds->assets_written = w->ds->assets->n;
    ct_geo_transform_destroy(w->geo);
    w->geo = NULL;
    ct_implicit_plan iplan = {&w->q, w->out, w->err, s->lod, &w->grid, s->subtree_levels};
    if (st == CT_OK && w->only_assets) {
        char path[4096];
        snprintf(path, sizeof path, "%s/tileset.json", w->tmp);
        double error = plan.extra_error > 0 ? 2.0 * plan.extra_error : 1.0;
        st = ct_tileset_write_root(ctx, path, plan.extra_root, NULL, error);
        plan.extra_root = NULL; /* (taken over, also on error) */
    } else if (st == CT_OK)
        st = s->implicit ? ct_implicit_write(ctx, w->tmp, &iplan) : ct_tileset_write(ctx, w->tmp, &plan);
    json_decref(plan.extra_root);
    size_t resumed = 0;
    for (size_t t = 0; w->out && t < w->q.ntiles; t++) resumed += (size_t)w->out[t].resumed;
    if (st == CT_OK && ct_context_resume(ctx))
        ct_log(ctx, CT_LOG_INFO, "writers.3dtiles: resumed: %zu of %zu tiles kept from the interrupted run", resumed,
               w->q.ntiles);
    if (st == CT_OK && w->merge) take_partition_summaries(w);
    if (st == CT_OK) ct_journal_end(w->jr);
    ct_journal_close(w->jr);
    w->jr = NULL;
    if (st == CT_OK) st = write_summary(w, t_start, cpu_start);
    if (st == CT_OK) st = ct_outdir_commit(ctx, s->path, w->tmp);
    else if (!w->keep && w->part_n == 1) ct_outdir_abort(w->tmp); /* a lone run cleans up; shared work stays for a retry */
    return st;
}

/* What was written: tiles, bytes, the compression's ratio. */
static void log_written(const write_run *w) {
    const tile_totals sum = sum_tiles(w, -1);
    ct_log(w->ctx, CT_LOG_INFO, "writers.3dtiles: %zu buildings in %zu tiles (%zu with content) written to %s",
           w->ds->nbuildings, w->q.ntiles, sum.with_content, w->s->path);
    ct_log(w->ctx, CT_LOG_INFO, "writers.3dtiles: %zu bytes of GLB; geometry %zu bytes (%zu uncompressed, ratio %.2f)",
           sum.total, sum.geo_bytes, sum.geo_raw, sum.geo_bytes ? (double)sum.geo_raw / (double)sum.geo_bytes : 0.0);
    /* With lod, a parent holds the buildings larger than its geometric error: with a large
     * lod_error_ratio none is, and every parent stayed empty without a word. */
    size_t parents = 0, parents_with = 0;
    for (size_t t = 0; t < w->q.ntiles; t++) {
        const int32_t *c = w->q.tiles[t].child;
        if (c[0] < 0 && c[1] < 0 && c[2] < 0 && c[3] < 0) continue;
        parents++;
        parents_with += w->out[t].has_content;
    }
    if (w->s->lod && parents > 0 && parents_with == 0)
        ct_log(w->ctx, CT_LOG_WARN, "writers.3dtiles: lod: none of the %zu parent tiles holds a building (each leaves "
               "out the buildings smaller than its geometric error, lod_error_ratio %g of its side): a viewer shows "
               "nothing until it loads the leaves; a smaller lod_error_ratio keeps the large buildings in the parents",
               parents, w->s->lod_error_ratio);
}

/* The type and noData of every attribute over all buildings (ct_glb_plan_columns): the
 * tiles then declare each alike, where each chose from its own buildings (an attribute
 * was INT32 in one tile and INT64 in another, under one schema id, QA 3). *out: NULL
 * without attributes. The same in every partition and rank (each holds all buildings). */
static ct_status plan_columns(ct_context *ctx, const ct_dataset *ds, ct_glb_column_plan **out) {
    *out = NULL;
    if (ds->nattrs == 0) return CT_OK;
    const ct_value **rows = malloc((ds->nbuildings ? ds->nbuildings : 1) * sizeof *rows);
    ct_glb_column_plan *plans = calloc(ds->nattrs, sizeof *plans);
    ct_status st = rows && plans ? CT_OK : ct_error_nomem(ctx, "attribute plans");
    for (size_t i = 0; st == CT_OK && i < ds->nbuildings; i++) rows[i] = ds->buildings[i].attrs;
    if (st == CT_OK) st = ct_glb_plan_columns(ctx, ds->attrs, ds->nattrs, rows, ds->nbuildings, plans);
    free(rows);
    if (st == CT_OK) *out = plans;
    else free(plans);
    return st;
}

static ct_status run(ct_context *ctx, void *state, ct_dataset *ds) {
    tiles_state *s = state;
    double t_start = ct_context_elapsed(ctx), cpu_start = ct_process_cpu_seconds();
    ct_status st = drop_assets_without_height(ctx, ds);
    if (st != CT_OK) return st;
    const int only_assets = decide_assets_only(ctx, ds);
    st = check_input(ctx, ds, only_assets);
    if (st != CT_OK) return st;
    write_run w;
    memset(&w, 0, sizeof w);
    w.ctx = ctx;
    w.s = s;
    w.ds = ds;
    w.only_assets = only_assets;
    double t_phase[6];
    t_phase[0] = ct_context_elapsed(ctx);
    if ((st = plan_tiles(&w)) != CT_OK) return st;
    t_phase[1] = ct_context_elapsed(ctx);
    const ct_quadtree *q = &w.q;
    w.out = calloc(q->ntiles ? q->ntiles : 1, sizeof *w.out);
    w.err = malloc((q->ntiles ? q->ntiles : 1) * sizeof *w.err);
    w.sizes = building_sizes(ds);
    if (!w.out || !w.err || !w.sizes) st = ct_error_nomem(ctx, "tile results");
    else tile_errors(s, q, w.err);
    ct_context_partition(ctx, &w.part_k, &w.part_n);
    w.merge = ct_context_merge(ctx);
    w.mpi = ct_context_has_barrier(ctx) && w.part_n > 1;
    w.keep = ct_context_resume(ctx) || w.merge || (w.part_n > 1 && !(w.mpi && w.part_k == 0));
    if (st == CT_OK) st = begin_output(&w);
    t_phase[2] = ct_context_elapsed(ctx);
    double probe[2] = {0.5 * (w.bbox[0] + w.bbox[2]), 0.5 * (w.bbox[1] + w.bbox[3])};
    if (st == CT_OK) st = plan_heights(ctx, s, ds, probe, &w.geo, w.placement, sizeof w.placement, &w.placement_accuracy);
    if (st == CT_OK) w.placement_geoid = ct_geo_transform_uses_geoid(w.geo);
    t_phase[3] = ct_context_elapsed(ctx);
    if (st == CT_OK && w.part_n > 1 && !w.merge && !(w.part_of = tile_partitions(q, w.part_n)))
        st = ct_error_nomem(ctx, "partitions");
    ct_glb_column_plan *plans = NULL;
    if (st == CT_OK) st = plan_columns(ctx, ds, &plans);
    s->glb.column_plans = plans; /* (every tile's schema alike) */
    if (st == CT_OK) st = write_tiles(ctx, s, ds, q, w.part_of, w.err, w.sizes, w.tmp, w.geo, w.jr, w.out);
    s->glb.column_plans = NULL;
    free(plans);
    t_phase[4] = ct_context_elapsed(ctx);
    if (w.mpi) st = gather_ranks(&w, st);
    if (w.mpi) st = gather_process_stats(&w, st);
    int finisher = w.part_n == 1 || w.merge || (w.mpi && w.part_k == 0);
    if (st == CT_OK && !finisher) st = finish_partition(&w, t_start, cpu_start);
    else st = finish_tileset(&w, st, t_start, cpu_start);
    t_phase[5] = ct_context_elapsed(ctx);
    ct_log(ctx, CT_LOG_DEBUG, "writers.3dtiles: tiles planned in %.1f ms, output directory ready in %.1f ms, heights' "
           "transformation made in %.1f ms, tiles written in %.1f ms, tileset finished in %.1f ms",
           1e3 * (t_phase[1] - t_phase[0]), 1e3 * (t_phase[2] - t_phase[1]), 1e3 * (t_phase[3] - t_phase[2]),
           1e3 * (t_phase[4] - t_phase[3]), 1e3 * (t_phase[5] - t_phase[4]));
    if (st == CT_OK && finisher) {
        ds->writers_done++;
        ds->buildings_written = ds->nbuildings;
        if (!w.only_assets) log_written(&w);
    }
    write_run_free(&w);
    ct_quadtree_free(&w.q);
    return st;
}

static void destroy(void *state) {
    tiles_state *s = state;
    free(s->canonical_path);
    ct_symbol_table_free(&s->symbols);
    json_decref(s->opts);
    free(s);
}

const ct_stage_vtable ct_stage_writers_3dtiles = {
    "writers.3dtiles", "write an OGC 3D Tiles 1.1 tileset (tileset.json + GLB tiles)", options, create, run, destroy,
};
