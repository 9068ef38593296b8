/* readers.raster: a DTM and/or DSM raster (GeoTIFF or any GDAL raster) as the height
 * source of filters.heights, instead of (or besides) LiDAR points. Opens and checks the
 * rasters (CRS, georeferencing, valid cells under the footprints); the cells are read
 * later, per building, by filters.heights (ct_raster_heights_compute). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "citytiler/raster.h"
#include "citytiler/stage.h"

typedef struct raster_state {
    json_t *opts;
    const char *dtm, *dsm, *srs;
    int band;
} raster_state;

static const ct_option_def options[] = {
    {"dtm", CT_OPT_PATH, NULL, 0, "terrain model raster (ground heights); at least one of dtm and dsm"},
    {"dsm", CT_OPT_PATH, NULL, 0, "surface model raster (roof heights); at least one of dtm and dsm"},
    {"srs", CT_OPT_STRING, NULL, 0, "CRS of rasters that carry none (e.g. \"EPSG:28992+5709\"); overrides a stored one"},
    {"band", CT_OPT_INTEGER, "1", 0, "band holding the heights (from 1)"},
    {NULL, 0, NULL, 0, NULL},
};

static ct_status create(ct_context *ctx, const ct_json *opts, void **state) {
    raster_state *s = calloc(1, sizeof *s);
    if (!s) return ct_error_nomem(ctx, "readers.raster");
    s->opts = json_incref((json_t *)opts);
    s->dtm = ct_opt_string(opts, "dtm");
    s->dsm = ct_opt_string(opts, "dsm");
    s->srs = ct_opt_string(opts, "srs");
    long long band = ct_opt_integer(opts, "band");
    ct_status st = CT_OK;
    if (!s->dtm && !s->dsm) st = ct_error(ctx, CT_ERR_USAGE, "readers.raster: give \"dtm\", \"dsm\" or both");
    else if (band < 1 || band > 65535) st = ct_error(ctx, CT_ERR_USAGE, "readers.raster: band must be from 1 to 65535");
    if (st != CT_OK) {
        json_decref(s->opts);
        free(s);
        return st;
    }
    s->band = (int)band;
    *state = s;
    return CT_OK;
}

static void log_raster(ct_context *ctx, const char *what, const ct_raster *r) {
    if (!r) return;
    int w, h;
    ct_raster_size(r, &w, &h);
    ct_log(ctx, CT_LOG_INFO, "readers.raster: %s %s: %d x %d cells of %.3g m%s", what, ct_raster_path(r), w, h,
           ct_raster_cell_size(r), ct_raster_same_crs(r) ? "" : ", reprojected to the working CRS");
}

static ct_status run(ct_context *ctx, void *state, ct_dataset *ds) {
    raster_state *s = state;
    if (!ds->crs_wkt)
        return ct_error(ctx, CT_ERR_USAGE, "readers.raster: no working CRS yet: put readers.footprints before it");
    double bbox[4];
    int have_bbox = ct_dataset_bbox(ds, bbox);
    ct_raster_set_options o = {s->dtm, s->dsm, s->srs, s->band, ds->crs_wkt, have_bbox ? bbox : NULL};
    ct_raster_set *set = NULL;
    ct_status st = ct_raster_set_open(ctx, &o, &set);
    if (st != CT_OK) return st;
    log_raster(ctx, "DTM", set->dtm);
    log_raster(ctx, "DSM", set->dsm);
#if defined(CT_DATASET_HAS_RASTERS)
    /* A second readers.raster may add the model the first one lacked. */
    if (ds->rasters && ((set->dtm && ds->rasters->dtm) || (set->dsm && ds->rasters->dsm))) {
        ct_raster_set_destroy(set);
        return ct_error(ctx, CT_ERR_USAGE, "readers.raster: the dataset already has a %s from an earlier readers.raster",
                        set->dtm && ds->rasters->dtm ? "DTM" : "DSM");
    }
    if (!ds->vertical_wkt) {
        const char *v = set->dsm && ct_raster_vertical_wkt(set->dsm) ? ct_raster_vertical_wkt(set->dsm)
                        : set->dtm                                   ? ct_raster_vertical_wkt(set->dtm)
                                                                     : NULL;
        if (v && !(ds->vertical_wkt = strdup(v))) {
            ct_raster_set_destroy(set);
            return ct_error_nomem(ctx, "vertical CRS");
        }
    }
    if (ds->rasters) {
        if (set->dtm) ds->rasters->dtm = set->dtm, set->dtm = NULL;
        if (set->dsm) ds->rasters->dsm = set->dsm, set->dsm = NULL;
        ct_raster_set_destroy(set);
    } else {
        ds->rasters = set;
    }
    ct_status nst = s->dtm ? ct_dataset_note_source(ctx, ds, "readers.raster", s->dtm, NULL, 0) : CT_OK;
    if (nst == CT_OK && s->dsm) nst = ct_dataset_note_source(ctx, ds, "readers.raster", s->dsm, NULL, 0);
    return nst;
#else
    ct_raster_set_destroy(set);
    return ct_error(ctx, CT_ERR_UNSUPPORTED, "readers.raster: not wired into the dataset yet (ct_dataset.rasters)");
#endif
}

static void destroy(void *state) {
    raster_state *s = state;
    json_decref(s->opts);
    free(s);
}

const ct_stage_vtable ct_stage_readers_raster = {
    "readers.raster", "DTM and/or DSM rasters (GeoTIFF, any GDAL raster) as the height source of filters.heights",
    options, create, run, destroy,
};
