/* readers.lidar: LAS files (a file, several, a directory or a glob) read in parallel
 * chunks, brought into the working CRS, cropped to the footprints, and binned once into
 * the processing cells (dataset->points). */
#include <jansson.h>
#include <math.h>
#include <cpl_conv.h>
#include <ogr_srs_api.h>
#include <stdlib.h>
#include <string.h>

#include "citytiler/las.h"
#include "citytiler/points.h"
#include "citytiler/stage.h"

typedef struct lidar_state {
    json_t *opts;
    const char *srs;
    double fine_size, crop_margin;
    int crop;
    uint8_t drop_class[256];
} lidar_state;

static const ct_option_def options[] = {
    {"path", CT_OPT_PATHS, NULL, 1, "LAS file, directory of .las files, glob, or a list of them"},
    {"srs", CT_OPT_STRING, NULL, 0, "CRS of files that carry none (e.g. \"EPSG:28992+5709\"); overrides a stored one"},
    {"drop_classes", CT_OPT_INTEGER_LIST, "[7, 18]", 0, "classes never kept (noise)"},
    {"crop", CT_OPT_BOOL, "true", 0, "keep only points near the footprints read before this stage"},
    {"crop_margin", CT_OPT_NUMBER, "50", 0, "margin around the footprints' extent kept when cropping (m)"},
    {"index_size", CT_OPT_NUMBER, "2", 0, "side of the fine grid bins that index the points of a cell (m)"},
    {NULL, 0, NULL, 0, NULL},
};

static ct_status create(ct_context *ctx, const ct_json *opts, void **state) {
    lidar_state *s = calloc(1, sizeof *s);
    if (!s) return ct_error_nomem(ctx, "readers.lidar");
    s->opts = json_incref((json_t *)opts);
    s->srs = ct_opt_string(opts, "srs");
    s->crop = ct_opt_bool(opts, "crop");
    s->crop_margin = ct_opt_number(opts, "crop_margin");
    s->fine_size = ct_opt_number(opts, "index_size");
    const json_t *drop = ct_opt_get(opts, "drop_classes");
    ct_status st = CT_OK;
    for (size_t i = 0; drop && i < json_array_size(drop); i++) {
        json_int_t c = json_integer_value(json_array_get(drop, i));
        if (c < 0 || c > 255) st = ct_error(ctx, CT_ERR_USAGE, "readers.lidar: drop_classes: %lld is not a class (0-255)", (long long)c);
        else s->drop_class[c] = 1;
    }
    if (st == CT_OK && (!(s->fine_size >= 0.1) || s->fine_size > 100))
        st = ct_error(ctx, CT_ERR_USAGE, "readers.lidar: index_size must be between 0.1 and 100 m");
    if (st == CT_OK && !(s->crop_margin >= 0))
        st = ct_error(ctx, CT_ERR_USAGE, "readers.lidar: crop_margin must be >= 0");
    if (st != CT_OK) {
        json_decref(s->opts);
        free(s);
        return st;
    }
    *state = s;
    return CT_OK;
}

/* The LiDAR CRS as an SRS (from srs option or the files); NULL + error when none. */
static ct_status lidar_srs(ct_context *ctx, const lidar_state *s, const ct_las_source *src, const char *first_path,
                           OGRSpatialReferenceH *out) {
    const char *text = s->srs ? s->srs : ct_las_source_crs_wkt(src);
    if (!text)
        return ct_error(ctx, CT_ERR_INPUT,
                        "%s: the LAS file has no CRS; give readers.lidar an \"srs\" option (e.g. \"EPSG:28992+5709\")",
                        first_path);
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    if (!srs) return ct_error_nomem(ctx, "SRS");
    if (OSRSetFromUserInput(srs, text) != OGRERR_NONE) {
        OSRRelease(srs);
        return ct_error(ctx, s->srs ? CT_ERR_USAGE : CT_ERR_INPUT, "%s: CRS '%.80s' is not understood by GDAL/PROJ",
                        s->srs ? "readers.lidar: srs" : first_path, text);
    }
    OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
    *out = srs;
    return CT_OK;
}

static char *export_wkt(OGRSpatialReferenceH srs) {
    char *wkt = NULL;
    const char *opts[] = {"FORMAT=WKT2_2019", NULL};
    if (OSRExportToWktEx(srs, &wkt, opts) != OGRERR_NONE || !wkt) return NULL;
    char *copy = strdup(wkt);
    CPLFree(wkt);
    return copy;
}

/* Sets up the horizontal transformation LiDAR -> working CRS (NULL when the same),
 * records the working CRS when no footprints came first, and the vertical CRS. */
static ct_status setup_crs(ct_context *ctx, ct_dataset *ds, OGRSpatialReferenceH lidar, OGRSpatialReferenceH *horiz_out,
                           OGRSpatialReferenceH *work_out, int *same) {
    OGRSpatialReferenceH horiz = OSRClone(lidar);
    if (!horiz) return ct_error_nomem(ctx, "SRS");
    if (OSRIsCompound(horiz)) {
        OGRSpatialReferenceH vert = OSRClone(lidar);
        /* Keep the vertical part for the ellipsoidal conversion of step 4. */
        if (vert && !ds->vertical_wkt) {
            char *wkt = export_wkt(vert);
            ds->vertical_wkt = wkt;
        }
        if (vert) OSRRelease(vert);
        OSRStripVertical(horiz);
    }
    OSRSetAxisMappingStrategy(horiz, OAMS_TRADITIONAL_GIS_ORDER);
    if (!ds->crs_wkt) {
        if (!OSRIsProjected(horiz) || fabs(OSRGetLinearUnits(horiz, NULL) - 1.0) > 1e-12) {
            OSRRelease(horiz);
            return ct_error(ctx, CT_ERR_INPUT, "readers.lidar: the LiDAR CRS is not projected in metres; read the footprints first "
                                               "so that their CRS is the working CRS");
        }
        ds->crs_wkt = export_wkt(horiz);
        if (!ds->crs_wkt) {
            OSRRelease(horiz);
            return ct_error_nomem(ctx, "CRS");
        }
    }
    OGRSpatialReferenceH work = OSRNewSpatialReference(ds->crs_wkt);
    if (!work) {
        OSRRelease(horiz);
        return ct_error(ctx, CT_ERR_INTERNAL, "readers.lidar: cannot read the working CRS");
    }
    OSRSetAxisMappingStrategy(work, OAMS_TRADITIONAL_GIS_ORDER);
    *same = OSRIsSame(horiz, work);
    *horiz_out = horiz;
    *work_out = work;
    return CT_OK;
}

typedef struct chunk {
    ct_las_points pts;
    size_t count, kept;
} chunk;

enum { CHUNK_POINTS = 1 << 20 };

static ct_status run(ct_context *ctx, void *state, ct_dataset *ds) {
    lidar_state *s = state;
    const json_t *pj = ct_opt_get(s->opts, "path");
    size_t ninputs = json_is_array(pj) ? json_array_size(pj) : 1;
    const char **inputs = calloc(ninputs, sizeof *inputs);
    if (!inputs) return ct_error_nomem(ctx, "inputs");
    for (size_t i = 0; i < ninputs; i++)
        inputs[i] = json_is_array(pj) ? json_string_value(json_array_get(pj, i)) : json_string_value(pj);
    ct_las_source *src = NULL;
    ct_status st = ct_las_source_open(ctx, inputs, ninputs, &src);
    free(inputs);
    if (st != CT_OK) return st;

    OGRSpatialReferenceH lsrs = NULL, horiz = NULL, work = NULL;
    int same = 1;
    st = lidar_srs(ctx, s, src, ct_las_path(ct_las_source_reader(src, 0)), &lsrs);
    if (st == CT_OK) st = setup_crs(ctx, ds, lsrs, &horiz, &work, &same);

    double crop[4] = {-INFINITY, -INFINITY, INFINITY, INFINITY};
    if (st == CT_OK && s->crop && ds->nbuildings && ct_dataset_bbox(ds, crop)) {
        crop[0] -= s->crop_margin; crop[1] -= s->crop_margin;
        crop[2] += s->crop_margin; crop[3] += s->crop_margin;
    }
    if (st == CT_OK && !ds->points) {
        ds->points = ct_point_store_create(ds->cell_size, s->fine_size);
        if (!ds->points) st = ct_error_nomem(ctx, "point store");
    }

    int threads = ct_context_threads(ctx);
    chunk *chunks = st == CT_OK ? calloc((size_t)threads, sizeof *chunks) : NULL;
    if (st == CT_OK && !chunks) st = ct_error_nomem(ctx, "chunks");
    for (int t = 0; st == CT_OK && t < threads; t++)
        st = ct_las_points_alloc(ctx, CHUNK_POINTS, CT_LAS_XYZ | CT_LAS_CLASS, &chunks[t].pts);

    uint64_t total = st == CT_OK ? ct_las_source_point_count(src) : 0, done = 0, kept = 0;
    for (size_t f = 0; st == CT_OK && f < ct_las_source_count(src); f++) {
        const ct_las_reader *r = ct_las_source_reader(src, f);
        uint64_t n = ct_las_get_header(r)->point_count;
        uint64_t nchunks = (n + CHUNK_POINTS - 1) / CHUNK_POINTS;
        for (uint64_t c0 = 0; st == CT_OK && c0 < nchunks; c0 += (uint64_t)threads) {
            int batch = (int)((nchunks - c0) < (uint64_t)threads ? (nchunks - c0) : (uint64_t)threads);
            ct_status bst = CT_OK;
            /* Decode, reproject and filter a batch of chunks in parallel... */
#pragma omp parallel for num_threads(threads) schedule(static, 1)
            for (int t = 0; t < batch; t++) {
                chunk *ch = &chunks[t];
                uint64_t first = (c0 + (uint64_t)t) * CHUNK_POINTS;
                size_t cnt = (size_t)((n - first) < CHUNK_POINTS ? (n - first) : CHUNK_POINTS);
                ch->kept = 0;
                ch->count = cnt;
                ct_status cst = ct_las_read_points(ctx, r, first, cnt, &ch->pts);
                if (cst == CT_OK && !same) {
                    OGRCoordinateTransformationH xf = OCTNewCoordinateTransformation(horiz, work);
                    if (!xf || !OCTTransform(xf, (int)cnt, ch->pts.x, ch->pts.y, NULL))
                        cst = ct_error(ctx, CT_ERR_INPUT, "%s: cannot transform points into the working CRS", ct_las_path(r));
                    if (xf) OCTDestroyCoordinateTransformation(xf);
                }
                if (cst == CT_OK) {
                    size_t k = 0;
                    for (size_t i = 0; i < cnt; i++) {
                        double x = ch->pts.x[i], y = ch->pts.y[i];
                        if (s->drop_class[ch->pts.cls[i]] || x < crop[0] || x > crop[2] || y < crop[1] || y > crop[3]) continue;
                        ch->pts.x[k] = x; ch->pts.y[k] = y; ch->pts.z[k] = ch->pts.z[i]; ch->pts.cls[k] = ch->pts.cls[i];
                        k++;
                    }
                    ch->kept = k;
                }
                if (cst != CT_OK) {
#pragma omp critical(ct_lidar_status)
                    if (bst == CT_OK) bst = cst;
                }
            }
            st = bst;
            /* ...then bin them in chunk order, so the store is the same for any thread count. */
            for (int t = 0; st == CT_OK && t < batch; t++) {
                st = ct_point_store_add(ctx, ds->points, chunks[t].pts.x, chunks[t].pts.y, chunks[t].pts.z,
                                        chunks[t].pts.cls, chunks[t].kept);
                kept += chunks[t].kept;
                done += chunks[t].count;
            }
            ct_progress(ctx, "reading LiDAR", done, total);
        }
    }
    for (int t = 0; chunks && t < threads; t++) ct_las_points_free(&chunks[t].pts);
    free(chunks);
    if (st == CT_OK) st = ct_point_store_index(ctx, ds->points, threads);
    if (st == CT_OK)
        ct_log(ctx, CT_LOG_INFO, "readers.lidar: %llu points read from %zu file(s), %llu kept in %zu cells (%.1f MiB)%s",
               (unsigned long long)total, ct_las_source_count(src), (unsigned long long)kept,
               ct_point_store_cell_count(ds->points), (double)ct_point_store_bytes(ds->points) / 1048576.0,
               same ? "" : ", reprojected to the working CRS");
    if (lsrs) OSRRelease(lsrs);
    if (horiz) OSRRelease(horiz);
    if (work) OSRRelease(work);
    ct_las_source_close(src);
    return st;
}

static void destroy(void *state) {
    lidar_state *s = state;
    json_decref(s->opts);
    free(s);
}

const ct_stage_vtable ct_stage_readers_lidar = {
    "readers.lidar", "read LAS 1.0-1.4 point clouds and bin them into the processing cells", options, create, run, destroy,
};
