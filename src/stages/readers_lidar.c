/* readers.lidar: LAS files (a file, several, a directory or a glob) read in parallel
 * chunks, brought into the working CRS, cropped to the footprints, and binned once into
 * the processing cells (dataset->points). Files wholly outside the crop by their headers
 * are passed over unread. */
#include <jansson.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>
#include <omp.h>
#include <cpl_conv.h>
#include <cpl_error.h>
#include <stdio.h>
#include <ogr_srs_api.h>
#include <stdlib.h>
#include <string.h>

#include "citytiler/assets.h"
#include "citytiler/crs.h"
#include "citytiler/las.h"
#include "citytiler/points.h"
#include "citytiler/stage.h"
#include "core/partition_results.h"
#include "core/rank_band.h"
#include "io/ogr_source.h"

typedef struct lidar_state {
    json_t *opts;
    const char *srs;
    double fine_size, crop_margin, memory_limit_mb;
    const char *temp_dir;
    int crop, keep_withheld, check_z_bounds;
    uint8_t drop_class[256];
} lidar_state;

static const ct_option_def options[] = {
    {"path", CT_OPT_PATHS, NULL, 1, "LAS file, directory of .las files, glob, or a list of them"},
    {"srs", CT_OPT_STRING, NULL, 0, "CRS of files that carry none (e.g. \"EPSG:28992+5709\"); overrides a stored one"},
    {"drop_classes", CT_OPT_INTEGER_LIST, "[7, 18]", 0, "classes never kept (noise)"},
    {"classes", CT_OPT_INTEGER_LIST, NULL, 0, "keep only these classes (e.g. [2, 6]: less memory and less to write to disk when the rest is vegetation); default: all but drop_classes"},
    {"keep_withheld", CT_OPT_BOOL, "false", 0, "keep points flagged withheld (the LAS flag for points not to be used, e.g. noise or duplicates)"},
    {"check_z_bounds", CT_OPT_BOOL, "true", 0, "refuse a file whose points' heights lie far outside its header's z bounds (a damaged z scale or offset: roofs 10 times too tall, a city 100 km up); false: read it as it is"},
    {"crop", CT_OPT_BOOL, "true", 0, "keep only points near the footprints and assets read before this stage"},
    {"crop_margin", CT_OPT_NUMBER, "50", 0, "margin around the extent of those footprints and assets kept when cropping (m)"},
    {"index_size", CT_OPT_NUMBER, "2", 0, "side of the fine grid bins that index the points of a cell (m)"},
    /* 512 MiB: on the 2-core virtual machine we measure on, streaming the 10k city's 741 MiB
     * of points through the disk took 25-30% less CPU and wall time than holding them in
     * fresh memory (first-touch page faults cost more there than the page cache). */
    {"memory_limit", CT_OPT_NUMBER, "512", 0, "MiB of points kept in memory; beyond it points go to temporary files (one per thread) as they are read, cells are processed one at a time and loaded cells are kept up to this size (0: no limit)"},
    {"temp_dir", CT_OPT_STRING, NULL, 0, "folder for those temporary files (default: $TMPDIR or /tmp)"},
    {NULL, 0, NULL, 0, NULL},
};

/* flags[c] = 1 for every class c in the option's list (none when absent). */
static ct_status class_flags(ct_context *ctx, const json_t *list, const char *name, uint8_t flags[256]) {
    memset(flags, 0, 256);
    for (size_t i = 0; list && i < json_array_size(list); i++) {
        json_int_t c = json_integer_value(json_array_get(list, i));
        if (c < 0 || c > 255)
            return ct_error(ctx, CT_ERR_USAGE, "readers.lidar: %s: %lld is not a class (0-255)", name, (long long)c);
        flags[c] = 1;
    }
    return CT_OK;
}

/* 1 when path is a directory this process can create files in. */
static int writable_dir(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode) && access(path, W_OK | X_OK) == 0;
}

static ct_status create(ct_context *ctx, const ct_json *opts, void **state) {
    lidar_state *s = calloc(1, sizeof *s);
    if (!s) return ct_error_nomem(ctx, "readers.lidar");
    s->opts = json_incref((json_t *)opts);
    s->srs = ct_opt_string(opts, "srs");
    s->crop = ct_opt_bool(opts, "crop");
    s->keep_withheld = ct_opt_bool(opts, "keep_withheld");
    s->check_z_bounds = ct_opt_bool(opts, "check_z_bounds");
    s->crop_margin = ct_opt_number(opts, "crop_margin");
    s->fine_size = ct_opt_number(opts, "index_size");
    s->memory_limit_mb = ct_opt_number(opts, "memory_limit");
    s->temp_dir = ct_opt_string(opts, "temp_dir");
    /* Points kept: the listed classes (all by default), minus drop_classes. */
    uint8_t listed[256], dropped[256];
    const json_t *keep = ct_opt_get(opts, "classes");
    ct_status st = class_flags(ctx, keep, "classes", listed);
    if (st == CT_OK) st = class_flags(ctx, ct_opt_get(opts, "drop_classes"), "drop_classes", dropped);
    for (int c = 0; c < 256; c++) s->drop_class[c] = (uint8_t)((keep && !listed[c]) || dropped[c]);
    /* A class both listed in classes and dropped (drop_classes' default [7, 18] beside
     * classes [2, 6, 7]) was dropped without a word. */
    for (int c = 0; st == CT_OK && keep && c < 256; c++)
        if (listed[c] && dropped[c]) {
            ct_log(ctx, CT_LOG_WARN, "readers.lidar: class %d is listed in classes, but drop_classes (by default "
                   "[7, 18]) drops it too, and wins: set drop_classes without it to keep its points", c);
            break;
        }
    if (st == CT_OK && (!(s->fine_size >= 0.1) || s->fine_size > 100))
        st = ct_error(ctx, CT_ERR_USAGE, "readers.lidar: index_size must be between 0.1 and 100 m");
    if (st == CT_OK && !(s->memory_limit_mb >= 0 && s->memory_limit_mb <= 1e9))
        st = ct_error(ctx, CT_ERR_USAGE, "readers.lidar: memory_limit must be from 0 to 1000000000 MiB (got %g)",
                      s->memory_limit_mb);
    if (st == CT_OK && !(s->crop_margin >= 0))
        st = ct_error(ctx, CT_ERR_USAGE, "readers.lidar: crop_margin must be >= 0");
    if (st == CT_OK && s->temp_dir && !writable_dir(s->temp_dir))
        st = ct_error(ctx, CT_ERR_USAGE, "readers.lidar: temp_dir '%s' is not a directory this process can write to",
                      s->temp_dir);
    /* $TMPDIR likewise, where points beyond memory_limit go by default (it failed with exit
     * 1 at the first point written there, after the reading) */
    const char *tmpdir = getenv("TMPDIR");
    if (st == CT_OK && !s->temp_dir && s->memory_limit_mb > 0 && tmpdir && *tmpdir && !writable_dir(tmpdir))
        st = ct_error(ctx, CT_ERR_USAGE, "readers.lidar: TMPDIR '%s' (where points beyond memory_limit go) is not a "
                      "directory this process can write to: set TMPDIR to one, or give readers.lidar a temp_dir", tmpdir);
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
    const char *who = s->srs ? "readers.lidar: srs" : first_path;
    ct_status err = s->srs ? CT_ERR_USAGE : CT_ERR_INPUT;
    CPLPushErrorHandler(CPLQuietErrorHandler); /* (GDAL printed "ERROR 1: PROJ: ... crs not found" besides ours) */
    CPLErrorReset();
    int ok = OSRSetFromUserInput(srs, text) == OGRERR_NONE;
    char why[200];
    snprintf(why, sizeof why, "%s", CPLGetLastErrorMsg());
    CPLPopErrorHandler();
    if (!ok) {
        OSRRelease(srs);
        return ct_error(ctx, err, "%s: CRS '%.80s' is not understood by GDAL/PROJ%s%s", who, text, why[0] ? ": " : "",
                        why);
    }
    /* A vertical CRS alone (EPSG:5709) or a geocentric one cannot place the points: it
     * failed later as "cannot transform points ... (utm: Invalid latitude)". */
    if (!OSRIsProjected(srs) && !OSRIsGeographic(srs)) {
        const char *kind = OSRIsVertical(srs) ? "a vertical CRS only" : OSRIsGeocentric(srs) ? "geocentric" : "not a map CRS";
        OSRRelease(srs);
        return ct_error(ctx, err,
                        "%s: CRS '%.80s' has no horizontal part (%s): give the horizontal CRS of the points, with "
                        "the vertical one after a '+' (e.g. \"EPSG:28992+5709\")",
                        who, text, kind);
    }
    OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
    *out = srs;
    return CT_OK;
}

/* When no point was kept: a file whose first points all lie far outside its own header's
 * bounds (farther than the box's size, and 1 km) has damaged scale or offset fields. An
 * x scale of 1e300 put every point at infinity, and the run went on with a warning that
 * the LiDAR is of another area and fallback heights for every building. CT_ERR_INPUT
 * naming the file, its first point and both. */
static ct_status check_points_match_header(ct_context *ctx, const ct_las_source *src) {
    enum { SAMPLE = 64 };
    ct_las_points p;
    ct_status st = ct_las_points_alloc(ctx, SAMPLE, CT_LAS_XYZ, &p);
    for (size_t f = 0; st == CT_OK && f < ct_las_source_count(src); f++) {
        const ct_las_reader *r = ct_las_source_reader(src, f);
        const ct_las_header *h = ct_las_get_header(r);
        int bounded = 1;
        for (int k = 0; k < 3; k++) bounded &= isfinite(h->min[k]) && isfinite(h->max[k]) && h->min[k] <= h->max[k];
        uint64_t n = h->point_count < SAMPLE ? h->point_count : SAMPLE;
        if (!bounded || n == 0) continue;
        /* (without the context: reading them was judged when the points were binned, and
         * a failure here must not leave or wipe an error there) */
        if (ct_las_read_points(NULL, r, 0, n, &p) != CT_OK) continue;
        size_t outside = 0;
        for (size_t i = 0; i < p.count; i++) {
            const double v[3] = {p.x[i], p.y[i], p.z[i]};
            int out = 0;
            for (int k = 0; k < 3; k++) {
                double room = fmax(1000.0, h->max[k] - h->min[k]);
                out |= !(v[k] >= h->min[k] - room && v[k] <= h->max[k] + room);
            }
            outside += (size_t)out;
        }
        if (p.count > 0 && outside == p.count)
            st = ct_error(ctx, CT_ERR_INPUT,
                          "%s: its points lie far outside its own header's bounds (point 0 at x %g, y %g, z %g; header "
                          "x %.2f..%.2f, y %.2f..%.2f, z %.2f..%.2f): the header's scale or offset fields are damaged "
                          "(scale %g %g %g, offset %g %g %g)",
                          ct_las_path(r), p.x[0], p.y[0], p.z[0], h->min[0], h->max[0], h->min[1], h->max[1], h->min[2],
                          h->max[2], h->scale[0], h->scale[1], h->scale[2], h->offset[0], h->offset[1], h->offset[2]);
    }
    ct_las_points_free(&p);
    return st;
}

/* Before reading: a file some of whose points lie far above or below its own header's
 * z bounds (ct_las_z_beyond_header) has a damaged z scale or offset. A z scale 10 times
 * too large, or a z offset of 1e5, went into the model without a word (every roof 10
 * times too tall; the city 100 km up): x and y still put the points on the footprints.
 * CT_ERR_INPUT naming the file, the point, both and the way out (the first such file in
 * order); with check_z false, only the other check: a file whose sampled points all lie
 * within a millionth of its header's box (ct_las_points_collapsed) has a damaged x/y
 * scale. Files passed over unread are not checked. The files are sampled in parallel: 64
 * reads each per check, about 0.2 ms a file, 0.2 s for 1000 tiles one after the other. */
typedef struct z_sample {
    int beyond, collapsed;
    uint64_t at;
    double v[3], spread[2];
} z_sample;

static ct_status check_samples_match_header(ct_context *ctx, const ct_las_source *src, const unsigned char *skip,
                                        int check_z) {
    size_t n = ct_las_source_count(src);
    z_sample *zs = calloc(n ? n : 1, sizeof *zs);
    if (!zs) return ct_error_nomem(ctx, "z bounds check");
#pragma omp parallel for num_threads(ct_context_threads(ctx)) schedule(dynamic, 1)
    for (long f = 0; f < (long)n; f++) {
        if (skip[f]) continue;
        const ct_las_reader *r = ct_las_source_reader(src, (size_t)f);
        zs[f].collapsed = ct_las_points_collapsed(r, zs[f].spread);
        if (check_z) zs[f].beyond = ct_las_z_beyond_header(r, &zs[f].at, zs[f].v);
    }
    ct_status st = CT_OK;
    for (size_t f = 0; f < n && st == CT_OK; f++) {
        const ct_las_reader *r = ct_las_source_reader(src, f);
        const ct_las_header *h = ct_las_get_header(r);
        if (zs[f].collapsed) {
            st = ct_error(ctx, CT_ERR_INPUT,
                          "%s: 64 of its points, spread over the file, lie within %g x %g m of each other while its "
                          "header's bounds span %.2f x %.2f m: the header's x/y scale is damaged (scale %g %g, offset "
                          "%g %g), or its bounds do not describe its points (rewriting the file, e.g. with pdal "
                          "translate, sets them)",
                          ct_las_path(r), zs[f].spread[0], zs[f].spread[1], h->max[0] - h->min[0], h->max[1] - h->min[1],
                          h->scale[0], h->scale[1], h->offset[0], h->offset[1]);
            break;
        }
        if (!zs[f].beyond) continue;
        st = ct_error(ctx, CT_ERR_INPUT,
                      "%s: point %llu (x %.2f, y %.2f) lies at z %g, far outside its own header's z bounds "
                      "%.2f..%.2f: the header's z scale or offset is damaged (scale %g, offset %g), or its bounds "
                      "were not updated when the heights changed (rewriting the file, e.g. with pdal translate, "
                      "sets them; readers.lidar check_z_bounds false reads it as it is)",
                      ct_las_path(r), (unsigned long long)zs[f].at, zs[f].v[0], zs[f].v[1], zs[f].v[2], h->min[2],
                      h->max[2], h->scale[2], h->offset[2]);
    }
    free(zs);
    return st;
}

/* Heights in metres: z of a CRS in feet is converted as the points are read (heights,
 * roof_z/ground_z, fallbacks and the writer all work in metres). A CRS without a
 * vertical part says nothing of z: it is taken in the unit the files' GeoTIFF
 * VerticalUnitsGeoKey names, else in the unit of x and y, with a warning. */
static ct_status heights_to_metres(ct_context *ctx, OGRSpatialReferenceH lidar, ct_las_source *src, const char *what) {
    char *wkt = ct_ogr_wkt2(lidar);
    if (!wkt) return ct_error_nomem(ctx, "CRS");
    ct_height_unit u;
    ct_status st = ct_crs_height_unit(ctx, wkt, &u);
    free(wkt);
    if (st != CT_OK) return st;
    const char *key_path = NULL;
    double key = 0;
    if (u.assumed && (st = ct_las_source_z_units_key(ctx, src, &key, &key_path)) != CT_OK) return st;
    if (key > 0) {
        if (key != 1.0) {
            ct_las_source_set_z_unit(src, key);
            ct_log(ctx, CT_LOG_INFO, "%s: the LiDAR CRS has no vertical CRS: z taken in the unit of the GeoTIFF "
                   "VerticalUnitsGeoKey (%.10g m) and converted to metres", key_path, key);
        }
        return CT_OK;
    }
    if (u.metres_per_unit == 1.0) return CT_OK;
    ct_las_source_set_z_unit(src, u.metres_per_unit);
    if (u.assumed) {
        const char *code = OSRGetAuthorityCode(lidar, NULL);
        ct_log(ctx, CT_LOG_WARN,
               "%s: the LiDAR CRS has no vertical CRS and its x and y are in %s: z is taken to be in %s too "
               "and converted to metres (if z is in metres, give readers.lidar an \"srs\" with a vertical CRS in "
               "metres, e.g. \"EPSG:%s+5703\" for NAVD88 heights)",
               what, u.name, u.name, code ? code : "XXXX");
    } else {
        ct_log(ctx, CT_LOG_INFO, "%s: heights in %s (the LiDAR's vertical CRS) converted to metres (x %.10g)", what,
               u.name, u.metres_per_unit);
    }
    return CT_OK;
}

/* Sets up the horizontal transformation LiDAR -> working CRS (NULL when the same),
 * records the working CRS when no footprints came first, and the vertical CRS. */
static ct_status setup_crs(ct_context *ctx, ct_dataset *ds, OGRSpatialReferenceH lidar, OGRSpatialReferenceH *horiz_out,
                           OGRSpatialReferenceH *work_out, int *same) {
    OGRSpatialReferenceH horiz = OSRClone(lidar);
    if (!horiz) return ct_error_nomem(ctx, "SRS");
    /* (a 3D CRS, not compound: its z is an ellipsoidal height, as the tiles want) */
    if (!OSRIsCompound(horiz) && OSRGetAxesCount(horiz) == 3) ds->heights_ellipsoidal = 1;
    if (OSRIsCompound(horiz)) {
        OGRSpatialReferenceH vert = OSRClone(lidar);
        /* Keep the vertical part for the ellipsoidal conversion of step 4. */
        if (vert && !ds->vertical_wkt) {
            char *wkt = ct_ogr_wkt2(vert);
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
        ds->crs_wkt = ct_ogr_wkt2(horiz);
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

/* Chunks of the source: which file, which points. Small enough to stay in cache. */
enum { CHUNK_POINTS = 1 << 16 };

typedef struct chunk_ref {
    const ct_las_reader *r;
    uint64_t first;
    size_t count;
} chunk_ref;

typedef struct read_job {
    const lidar_state *s;
    chunk_ref *chunks;
    OGRSpatialReferenceH horiz, work; /* NULL transform when same */
    int same;
    /* Not same: one transformation per thread, made before the threads start (an
     * OGRSpatialReference is not thread-safe: sharing horiz and work between threads
     * leaked memory under a failing transformation, and a transformation per chunk
     * repeated PROJ's search each time). */
    OGRCoordinateTransformationH *xf;
    int nxf;
    double crop[4];        /* the points kept: the footprints' crop box, and this process's band (MPI) */
    double global_crop[4]; /* the footprints' crop box alone */
    ct_las_bin_params bin; /* the fast path on raw records (same CRS) */
    /* Per thread: the records of the chunk it located last, so that filling right after
     * (ct_point_store_add_chunks_ops does when memory allows) reads the file once. */
    uint8_t **raw;
    size_t *raw_cap;
    long *raw_chunk;
    int nthreads;
    uint8_t **flags; /* per thread: the classification flags of a chunk (to drop withheld points) */
    int nflags;
    int drop_cache; /* read once, too big to stay cached beside the points: drop as read */
    unsigned char *skip; /* per file, passed over unread by its header: 1 outside the footprints' crop box,
                          * 2 outside this process's band only */
    size_t nskipped_band; /* of nskipped, those of skip 2 */
    size_t nskipped;
    uint64_t to_read;    /* the points of the files read */
} read_job;

/* The threads' transformations horiz -> work (see read_job), made serially. */
static ct_status make_transforms(ct_context *ctx, read_job *job, int threads, const char *path) {
    int n = threads > 0 ? threads : 1;
    job->xf = calloc((size_t)n, sizeof *job->xf);
    if (!job->xf) return ct_error_nomem(ctx, "transformations");
    job->xf[0] = OCTNewCoordinateTransformation(job->horiz, job->work);
    if (!job->xf[0]) return ct_error(ctx, CT_ERR_INPUT, "%s: cannot transform from the LiDAR's CRS to the working CRS", path);
    job->nxf = 1;
    for (; job->nxf < n; job->nxf++)
        if (!(job->xf[job->nxf] = OCTClone(job->xf[0]))) return ct_error_nomem(ctx, "transformations");
    return CT_OK;
}

/* The threads' buffers of classification flags (read_chunk drops withheld points). */
static ct_status make_flag_buffers(ct_context *ctx, read_job *job, int threads) {
    int n = threads > 0 ? threads : 1;
    job->flags = calloc((size_t)n, sizeof *job->flags);
    if (!job->flags) return ct_error_nomem(ctx, "LAS flag buffers");
    for (; job->nflags < n; job->nflags++)
        if (!(job->flags[job->nflags] = malloc(CHUNK_POINTS))) return ct_error_nomem(ctx, "LAS flag buffers");
    return CT_OK;
}

/* Decodes one chunk, brings it into the working CRS and keeps the wanted points. */
static ct_status read_chunk(ct_context *ctx, void *user, size_t c, double *x, double *y, double *z, uint8_t *cls,
                            size_t *n) {
    const read_job *job = user;
    const chunk_ref *ch = &job->chunks[c];
    ct_las_points pts;
    memset(&pts, 0, sizeof pts);
    pts.capacity = CHUNK_POINTS;
    pts.x = x; pts.y = y; pts.z = z; pts.cls = cls;
    if (!job->s->keep_withheld) {
        int t = omp_get_thread_num();
        if (t >= job->nflags)
            return ct_error(ctx, CT_ERR_INTERNAL, "readers.lidar: no flag buffer for thread %d", t);
        pts.class_flags = job->flags[t];
    }
    ct_status st = ct_las_read_points(ctx, ch->r, ch->first, ch->count, &pts);
    if (st != CT_OK) return st;
    if (!job->same) {
        int t = omp_get_thread_num();
        if (t >= job->nxf) return ct_error(ctx, CT_ERR_INTERNAL, "readers.lidar: no transformation for thread %d", t);
        CPLPushErrorHandler(CPLQuietErrorHandler); /* (else GDAL prints a line per failed point) */
        CPLErrorReset();
        int ok = OCTTransform(job->xf[t], (int)ch->count, x, y, NULL);
        char why[160];
        snprintf(why, sizeof why, "%s", CPLGetLastErrorMsg());
        CPLPopErrorHandler();
        if (!ok)
            return ct_error(ctx, CT_ERR_INPUT,
                            "%s: cannot transform points %llu..%llu into the working CRS (%s): is the LAS's CRS right? "
                            "readers.lidar's srs sets it",
                            ct_las_path(ch->r), (unsigned long long)ch->first,
                            (unsigned long long)(ch->first + ch->count - 1), why[0] ? why : "PROJ failed");
    }
    const uint8_t *drop = job->s->drop_class;
    const double *q = job->crop;
    const uint8_t *flags = pts.class_flags;
    size_t k = 0;
    for (size_t i = 0; i < ch->count; i++) {
        double px = x[i], py = y[i];
        if (drop[cls[i]] || (flags && (flags[i] & CT_LAS_WITHHELD)) || px < q[0] || px > q[2] || py < q[1] || py > q[3]) continue;
        x[k] = px; y[k] = py; z[k] = z[i]; cls[k] = cls[i];
        k++;
    }
    *n = k;
    return CT_OK;
}

/* The fast path (no reprojection): cells found and records written from the raw LAS
 * records; the same points, values and order as read_chunk + the generic binning. */
static ct_status locate_chunk(ct_context *ctx, void *user, size_t c, uint8_t *ids, size_t *n, int64_t *cxy,
                              uint32_t *counts, size_t *ncells, uint64_t *ignored) {
    const read_job *job = user;
    const chunk_ref *ch = &job->chunks[c];
    *n = ch->count;
    int t = omp_get_thread_num();
    const uint8_t *raw = NULL;
    size_t bytes = ch->count * ct_las_get_header(ch->r)->record_length;
    if (t < job->nthreads) {
        job->raw_chunk[t] = -1;
        if (bytes > job->raw_cap[t]) {
            free(job->raw[t]);
            job->raw[t] = malloc(bytes);
            job->raw_cap[t] = job->raw[t] ? bytes : 0;
        }
        if (job->raw[t]) {
            ct_status st = ct_las_read_raw(ctx, ch->r, ch->first, ch->count, job->raw[t]);
            if (st != CT_OK) return st;
            if (job->drop_cache) ct_las_drop_cached(ch->r, ch->first, ch->count);
            raw = job->raw[t];
            job->raw_chunk[t] = (long)c;
        }
    }
    return ct_las_bin_locate(ctx, ch->r, ch->first, ch->count, &job->bin, ids, cxy, counts, ncells, ignored, raw);
}

static ct_status fill_chunk(ct_context *ctx, void *user, size_t c, const uint8_t *ids, size_t n, const int64_t *cxy,
                            size_t ncells, ct_point_rec *const *dst, uint64_t class_counts[256]) {
    const read_job *job = user;
    const chunk_ref *ch = &job->chunks[c];
    int t = omp_get_thread_num();
    const uint8_t *raw = t < job->nthreads && job->raw_chunk[t] == (long)c ? job->raw[t] : NULL;
    return ct_las_bin_fill(ctx, ch->r, ch->first, n, &job->bin, ids, cxy, ncells, dst, class_counts, raw);
}

/* When the points go to disk they are written as the LAS is read, which is then not
 * read again. If the LAS and the points' files cannot both stay in the page cache, the
 * LAS's pages are dropped as they are read, so that the points stay cached for the
 * stages that load them back (at 1M buildings, 15.6 GB of LAS pushed the 8.3 GB of
 * points out, and filters.heights read them all from the disk). */
static int drop_las_cache(const ct_point_store *points, const ct_las_source *src, const unsigned char *skip,
                          size_t nchunks) {
    if (!ct_point_store_streams_to_disk(points, nchunks, CHUNK_POINTS)) return 0;
    double spill = (double)nchunks * CHUNK_POINTS * (double)CT_POINT_SPILL_BYTES;
    double las = 0;
    for (size_t f = 0; f < ct_las_source_count(src); f++) {
        if (skip[f]) continue; /* (passed over: never read) */
        const ct_las_header *h = ct_las_get_header(ct_las_source_reader(src, f));
        las += (double)h->point_count * (double)h->record_length;
    }
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    return pages > 0 && page > 0 && las + spill > 0.5 * (double)pages * (double)page;
}

/* What a stage's LiDAR without a usable point means for what was read before it (with
 * several readers.lidar stages, the others' points still count). */
static const char *no_ground_consequence(const ct_dataset *ds) {
    if (ds->points && ct_point_store_count(ds->points) > 0)
        return "this stage adds no point (those of the readers.lidar stages before it are kept)";
    if (ds->nbuildings && ds->assets && ds->assets->n)
        return "unless a later readers.lidar stage brings points, every building gets a fallback height, and "
               "filters.clamp flags every asset without a z outside_lidar";
    if (ds->nbuildings) return "unless a later readers.lidar stage brings points, every building gets a fallback height";
    return "unless a later readers.lidar stage brings points, filters.clamp has no ground for the assets without a z";
}

/* The LAS files of the stage's path (one, or an array), opened as one source. */
static ct_status open_inputs(ct_context *ctx, const lidar_state *s, ct_dataset *ds, ct_las_source **src) {
    const json_t *pj = ct_opt_get(s->opts, "path");
    size_t ninputs = json_is_array(pj) ? json_array_size(pj) : 1;
    const char **inputs = calloc(ninputs, sizeof *inputs);
    if (!inputs) return ct_error_nomem(ctx, "inputs");
    for (size_t i = 0; i < ninputs; i++)
        inputs[i] = json_is_array(pj) ? json_string_value(json_array_get(pj, i)) : json_string_value(pj);
    /* (a file an earlier readers.lidar stage read is refused) */
    ct_status st = ct_las_source_open(ctx, inputs, ninputs, &ds->lidar_files, &ds->nlidar_files, src);
    free(inputs);
    return st;
}

/* Under MPI (or a partition's --measure-only), this process's band of the city (planned
 * by the first readers.lidar that has footprints to plan it by): the points it keeps.
 * None when a stage after may read points anywhere (ct_context_point_reach), or without
 * the exchange between processes (or the partitions' results files). */
static ct_status plan_band(ct_context *ctx, ct_dataset *ds) {
    int k = 0, n = 1;
    ct_context_partition(ctx, &k, &n);
    double reach = ct_context_point_reach(ctx);
    const int exchange = ct_context_has_allgather(ctx) || ct_context_measure_only(ctx);
    if (ds->band || n < 2 || n > 256 || !exchange || !isfinite(reach) || ds->nbuildings == 0) return CT_OK;
    ds->band = ct_rank_band_plan(ds, ds->cell_size, k, n, reach);
    return ds->band ? CT_OK : ct_error_nomem(ctx, "process bands");
}

/* Box b joined to the dataset's box *into of kind *kind (0: none yet, 1: into, 2: not
 * bounded, which stays so): b when `bounded`, else no bound at all. */
static void note_box(double into[4], int *kind, const double b[4], int bounded) {
    if (!bounded || *kind == 2) {
        *kind = 2;
    } else if (*kind == 0) {
        memcpy(into, b, 4 * sizeof *into);
        *kind = 1;
    } else {
        into[0] = fmin(into[0], b[0]);
        into[1] = fmin(into[1], b[1]);
        into[2] = fmax(into[2], b[2]);
        into[3] = fmax(into[3], b[3]);
    }
}

/* The box of the footprints and of the assets read before this stage (assets beyond the
 * footprints, such as street lights along a road out of town, lost their ground to the
 * crop); 0 when there are none. */
static int inputs_bbox(const ct_dataset *ds, double bb[4]) {
    int any = ds->nbuildings && ct_dataset_bbox(ds, bb);
    for (size_t i = 0; ds->assets && i < ds->assets->n; i++) {
        const ct_asset *a = &ds->assets->items[i];
        if (!isfinite(a->x) || !isfinite(a->y)) continue;
        if (!any) {
            bb[0] = bb[2] = a->x;
            bb[1] = bb[3] = a->y;
            any = 1;
        }
        bb[0] = fmin(bb[0], a->x);
        bb[1] = fmin(bb[1], a->y);
        bb[2] = fmax(bb[2], a->x);
        bb[3] = fmax(bb[3], a->y);
    }
    return any;
}

/* The crop box (the box of the footprints and assets read before, grown by crop_margin;
 * infinite without crop or either; under MPI cut to this process's band), noted in the
 * dataset for filters.clamp, and the dataset's point store with its memory limit. */
static ct_status prepare_store(ct_context *ctx, const lidar_state *s, ct_dataset *ds, read_job *job) {
    ct_status st = plan_band(ctx, ds);
    job->crop[0] = job->crop[1] = -INFINITY;
    job->crop[2] = job->crop[3] = INFINITY;
    if (s->crop && inputs_bbox(ds, job->crop)) {
        job->crop[0] -= s->crop_margin; job->crop[1] -= s->crop_margin;
        job->crop[2] += s->crop_margin; job->crop[3] += s->crop_margin;
    }
    memcpy(job->global_crop, job->crop, sizeof job->crop);
    note_box(ds->lidar_crop, &ds->lidar_crop_kind, job->crop, isfinite(job->crop[0]));
    if (ds->band) {
        job->crop[1] = fmax(job->crop[1], ds->band->keep[0]);
        job->crop[3] = fmin(job->crop[3], ds->band->keep[1]);
    }
    if (!ds->points) st = ct_point_store_check_sizes(ctx, ds->cell_size, s->fine_size);
    if (st == CT_OK && !ds->points) {
        ds->points = ct_point_store_create(ds->cell_size, s->fine_size);
        if (!ds->points) st = ct_error_nomem(ctx, "point store");
        else {
            double mib = s->memory_limit_mb, run = ct_context_memory_limit(ctx);
            if (run > 0 && (mib == 0 || run < mib)) mib = run; /* --memory-limit caps the option */
            uint64_t bytes = (uint64_t)(mib * 1048576.0);
            if (mib > 0 && bytes == 0) bytes = 1; /* (below a byte it became 0: no limit at all) */
            ct_point_store_set_memory_limit(ds->points, bytes, s->temp_dir);
        }
    }
    return st;
}

/* The files' header bounds noted in the dataset (in the working CRS only when the files
 * are in it), for filters.clamp to tell an asset beyond the LiDAR from one beyond the crop. */
static void note_lidar_bounds(ct_dataset *ds, const ct_las_source *src, int same) {
    double lo[3], hi[3];
    ct_las_source_bounds(src, lo, hi);
    const double b[4] = {lo[0], lo[1], hi[0], hi[1]};
    note_box(ds->lidar_bounds, &ds->lidar_bounds_kind, b, same);
}

/* 1 when box b does not meet box c. */
static int apart(const double b[4], const double c[4]) { return b[2] < c[0] || b[0] > c[2] || b[3] < c[1] || b[1] > c[3]; }

/* 1 when file r's points all lie outside the crop box by its header (2 when they lie
 * within the footprints' crop box but outside this process's band): its bounds (taken
 * into the working CRS, their box grown by 1% a side for the curvature the densified
 * edges miss) do not meet the crop box, and a sample of its points lies within them. A
 * header box that cannot be transformed (a wrong srs) is read, and the reading says why. */
static int outside_crop(const read_job *job, OGRCoordinateTransformationH to_work, const ct_las_reader *r) {
    double b[4];
    if (!ct_las_header_box(r, b)) return 0;
    if (to_work) {
        double e[4];
        if (!OCTTransformBounds(to_work, b[0], b[1], b[2], b[3], &e[0], &e[1], &e[2], &e[3], 21)) return 0;
        for (int k = 0; k < 4; k++)
            if (!isfinite(e[k])) return 0;
        if (!(e[0] <= e[2]) || !(e[1] <= e[3])) return 0;
        double gx = 0.01 * (e[2] - e[0]), gy = 0.01 * (e[3] - e[1]);
        b[0] = e[0] - gx;
        b[1] = e[1] - gy;
        b[2] = e[2] + gx;
        b[3] = e[3] + gy;
    }
    if (!apart(b, job->crop) || !ct_las_points_within_header(r)) return 0;
    return apart(b, job->global_crop) ? 1 : 2;
}

/* The files whose points all lie outside the crop box by their headers (a directory of
 * tiles around the footprints' area): passed over unread. */
static ct_status plan_skips(ct_context *ctx, ct_las_source *src, read_job *job) {
    const size_t nf = ct_las_source_count(src);
    job->skip = calloc(nf ? nf : 1, 1);
    if (!job->skip) return ct_error_nomem(ctx, "file list");
    int cropped = isfinite(job->crop[0]) && isfinite(job->crop[1]) && isfinite(job->crop[2]) && isfinite(job->crop[3]);
    OGRCoordinateTransformationH to_work = NULL;
    if (cropped && !job->same && !(to_work = OCTNewCoordinateTransformation(job->horiz, job->work)))
        cropped = 0; /* (bin_points says why) */
    for (size_t f = 0; f < nf; f++) {
        const ct_las_reader *r = ct_las_source_reader(src, f);
        job->skip[f] = (unsigned char)(cropped ? outside_crop(job, to_work, r) : 0);
        if (job->skip[f]) {
            job->nskipped++;
            job->nskipped_band += job->skip[f] == 2;
            ct_log(ctx, CT_LOG_DEBUG, "readers.lidar: %s: passed over (its header's bounds lie outside %s)",
                   ct_las_path(r), job->skip[f] == 2 ? "this process's band of the city" : "the crop box");
        } else {
            job->to_read += ct_las_get_header(r)->point_count;
        }
    }
    if (to_work) OCTDestroyCoordinateTransformation(to_work);
    /* (their descriptors are not held while the others are read: under mpirun a rank
     * passes over most tiles of a large directory) */
    for (size_t f = 0; f < nf; f++)
        if (job->skip[f]) ct_las_source_release_file(src, f);
    return CT_OK;
}

/* The chunks of file f's n points: CHUNK_POINTS each, cut also where a block of records
 * decoded as one ends (a LAZ chunk), so that none is decoded twice. Counts them when
 * out is NULL, else fills out[]. */
static size_t file_chunks(const ct_las_reader *r, uint64_t n, chunk_ref *out) {
    size_t c = 0;
    for (uint64_t first = 0; first < n; c++) {
        uint64_t end = ct_las_block_end(r, first);
        if (end > n || end <= first) end = n;
        if (end - first > CHUNK_POINTS) end = first + CHUNK_POINTS;
        if (out) out[c] = (chunk_ref){.r = r, .first = first, .count = (size_t)(end - first)};
        first = end;
    }
    return c;
}

/* The chunk table over the files read, in file order (*nchunks of CHUNK_POINTS points or
 * fewer). */
static ct_status plan_chunks(ct_context *ctx, const ct_las_source *src, read_job *job, size_t *nchunks) {
    size_t n_all = 0;
    for (size_t f = 0; f < ct_las_source_count(src); f++) {
        const ct_las_reader *r = ct_las_source_reader(src, f);
        n_all += file_chunks(r, job->skip[f] ? 0 : ct_las_get_header(r)->point_count, NULL);
    }
    job->chunks = calloc(n_all ? n_all : 1, sizeof *job->chunks);
    if (!job->chunks) return ct_error_nomem(ctx, "chunk table");
    size_t c = 0;
    for (size_t f = 0; f < ct_las_source_count(src); f++) {
        const ct_las_reader *r = ct_las_source_reader(src, f);
        c += file_chunks(r, job->skip[f] ? 0 : ct_las_get_header(r)->point_count, job->chunks + c);
    }
    *nchunks = n_all;
    return CT_OK;
}

/* Every chunk's points into the store: straight from the LAS records (the fast path)
 * when no reprojection is needed, else decoded and transformed per chunk. */
static ct_status bin_points(ct_context *ctx, const lidar_state *s, ct_dataset *ds, const ct_las_source *src,
                            read_job *job, size_t nchunks) {
    ct_status st = CT_OK;
    int threads = ct_context_threads(ctx);
    ct_progress(ctx, "reading LiDAR", 0, job->to_read);
    ct_point_chunk_ops ops;
    memset(&ops, 0, sizeof ops);
    ops.points = read_chunk;
    job->nthreads = threads < 1 ? 1 : threads;
    job->raw = calloc((size_t)job->nthreads, sizeof *job->raw);
    job->raw_cap = calloc((size_t)job->nthreads, sizeof *job->raw_cap);
    job->raw_chunk = calloc((size_t)job->nthreads, sizeof *job->raw_chunk);
    if (!job->raw || !job->raw_cap || !job->raw_chunk) job->nthreads = 0; /* then every fill reads the file */
    for (int t = 0; t < job->nthreads; t++) job->raw_chunk[t] = -1;
    if (!job->same) st = make_transforms(ctx, job, threads, ct_las_path(ct_las_source_reader(src, 0)));
    if (st == CT_OK && !s->keep_withheld) st = make_flag_buffers(ctx, job, threads);
    if (job->same) {
        ops.locate = locate_chunk;
        ops.fill = fill_chunk;
        job->drop_cache = drop_las_cache(ds->points, src, job->skip, nchunks);
        if (job->drop_cache)
            ct_log(ctx, CT_LOG_INFO, "readers.lidar: the LAS and the points going to disk exceed half the RAM: "
                                     "the LAS is dropped from the page cache as it is read (read once), so that "
                                     "the points stay cached for the stages after");
        job->bin.cell_size = ct_point_store_cell_size(ds->points);
        memcpy(job->bin.crop, job->crop, sizeof job->crop);
        job->bin.drop_class = s->drop_class;
        job->bin.drop_withheld = !s->keep_withheld;
    }
    if (st == CT_OK) st = ct_point_store_add_chunks_ops(ctx, ds->points, nchunks, CHUNK_POINTS, &ops, job, threads);
    if (st == CT_OK) st = ct_point_store_index(ctx, ds->points, threads);
    return st;
}

/* The points of this process's own rows (its band without the reach), which the
 * processes keep once between them. */
static uint64_t own_rows_count(const ct_dataset *ds) {
    const ct_rank_band *b = ds->band;
    return ds->points ? ct_point_store_count_rows(ds->points, b->first_row[b->k], b->first_row[b->k + 1]) : 0;
}

/* Under MPI with bands: the points kept by all processes together (this stage's in
 * *kept), and whether every process read its LiDAR (else all stop here, where a process
 * that failed alone left the others waiting at the next exchange). Every process takes
 * part, even after an error of its own (st). own_before: own_rows_count before the stage. */
static ct_status exchange_counts(ct_context *ctx, ct_dataset *ds, uint64_t own_before, ct_status st, uint64_t *kept) {
    /* (the status: the others stop with a failed process's, so every process exits with
     * its code whichever ends the run first) */
    uint64_t mine[3] = {(uint64_t)st, own_before, st == CT_OK ? own_rows_count(ds) : 0}, before = 0, after = 0;
    void *all = NULL;
    size_t counts[256] = {0};
    int n = ds->band->n, failed = -1;
    ct_status failed_with = CT_ERR_IO;
    ct_status xs = n <= 256 ? ct_context_allgather(ctx, mine, sizeof mine, &all, counts)
                            : ct_error(ctx, CT_ERR_UNSUPPORTED, "readers.lidar: more than 256 processes");
    for (int r = 0; xs == CT_OK && r < n; r++) {
        uint64_t v[3] = {CT_ERR_IO, 0, 0};
        if (counts[r] == sizeof v) memcpy(v, (const char *)all + (size_t)r * sizeof v, sizeof v);
        if (v[0] != CT_OK && failed < 0) {
            failed = r;
            if (v[0] <= 255) failed_with = (ct_status)v[0];
        }
        before += v[1];
        after += v[2];
    }
    free(all);
    if (st != CT_OK) return st;
    if (xs != CT_OK) return xs;
    if (failed >= 0)
        return ct_error(ctx, failed_with, "readers.lidar: process %d of %d failed to read the LiDAR (its error says why)",
                        failed, n);
    ds->band->kept_all = after;
    *kept = after - before;
    return CT_OK;
}

/* What was read and kept, the sources noted in the dataset, and a warning when no point
 * was kept (every building would silently get a fallback height). kept: this stage's
 * points (of every process under MPI); ignored_before: the store's count before this stage. */
static ct_status report_points(ct_context *ctx, const lidar_state *s, ct_dataset *ds, const ct_las_source *src,
                               const read_job *job, uint64_t kept, uint64_t kept_here, uint64_t ignored_before) {
    ct_status st = CT_OK;
    ct_progress(ctx, "reading LiDAR", job->to_read, job->to_read);
    uint64_t outside = 0; /* the points of the files outside the footprints' crop box */
    for (size_t f = 0; f < ct_las_source_count(src); f++)
        if (job->skip[f] == 1) outside += ct_las_get_header(ct_las_source_reader(src, f))->point_count;
    if (job->nskipped > job->nskipped_band)
        ct_log(ctx, CT_LOG_INFO,
               "readers.lidar: %zu of the %zu files (%llu points) passed over unread: their header's bounds lie "
               "outside the footprints' extent plus crop_margin (--verbose names them)",
               job->nskipped - job->nskipped_band, ct_las_source_count(src), (unsigned long long)outside);
    /* (the points not kept, and why they may not be: the log said only "N read, M kept") */
    uint64_t unusable = ct_point_store_ignored(ds->points) - ignored_before;
    char why[200] = "";
    if (job->to_read > kept_here + unusable) {
        char crop[80] = "";
        if (s->crop) snprintf(crop, sizeof crop, ", or beyond crop_margin (%g m) of the footprints", s->crop_margin);
        snprintf(why, sizeof why, "; the other %llu: of drop_classes or not of classes%s%s",
                 (unsigned long long)(job->to_read - kept_here - unusable), s->keep_withheld ? "" : ", withheld",
                 crop);
    }
    ct_log(ctx, CT_LOG_INFO, "readers.lidar: %llu points read from %zu file(s), %llu kept in %zu cells (%.1f MiB)%s%s",
           (unsigned long long)job->to_read, ct_las_source_count(src) - job->nskipped,
           (unsigned long long)kept_here, ct_point_store_cell_count(ds->points),
           (double)ct_point_store_bytes(ds->points) / 1048576.0,
           ct_point_store_on_disk(ds->points) ? " in memory; the rest on disk (memory_limit)"
                                              : (job->same ? "" : ", reprojected to the working CRS"),
           why);
    if (ds->band) {
        /* (MPI: "process K of N", and what all kept; --measure-only: "partition K/N", alone) */
        const int part = ct_context_measure_only(ctx);
        const char *who = part ? "partition" : "process", *of = part ? "/" : " of ";
        char all[80] = "";
        if (!part) snprintf(all, sizeof all, ": %llu points kept by all processes", (unsigned long long)kept);
        if (!(job->crop[1] <= job->crop[3]))
            ct_log(ctx, CT_LOG_INFO, "readers.lidar: %s %d%s%d keeps no points (its band of the city holds no "
                   "footprint: more %s than rows of cells with buildings; %zu files passed over)%s", who, ds->band->k,
                   of, ds->band->n, part ? "partitions" : "processes", job->nskipped_band, all);
        else
            ct_log(ctx, CT_LOG_INFO, "readers.lidar: %s %d%s%d keeps the points of its band of the city (y %.1f to "
                   "%.1f; %zu files passed over for lying outside it)%s", who, ds->band->k, of, ds->band->n,
                   job->crop[1], job->crop[3], job->nskipped_band, all);
    }
    for (size_t f = 0; st == CT_OK && f < ct_las_source_count(src); f++) {
        const ct_las_reader *r = ct_las_source_reader(src, f);
        st = ct_dataset_note_source(ctx, ds, "readers.lidar", ct_las_path(r), "points", ct_las_get_header(r)->point_count);
        if (st == CT_OK && job->skip[f] == 1)
            st = ct_dataset_note_source_detail(ctx, ds, "passed_over",
                                               "its header's bounds lie outside the footprints' extent plus crop_margin");
    }
    /* Cells are loaded whole: one denser than the memory limit holds it above the limit
     * (QA: 48M points at one spot peaked at 1.2 GB under --memory-limit 100, unsaid). */
    int64_t mcx, mcy;
    uint64_t most = ct_point_store_max_cell(ds->points, &mcx, &mcy), limit = ct_point_store_memory_limit(ds->points);
    if (limit > 0 && most * sizeof(ct_point_rec) > limit)
        ct_log(ctx, CT_LOG_WARN, "readers.lidar: processing cell (%lld, %lld) holds %llu points (%.3g MiB), more than "
               "the memory limit (%.3g MiB): cells are read whole, so the run takes at least that much; a smaller "
               "cell_size (pipeline option) lowers it", (long long)mcx, (long long)mcy, (unsigned long long)most,
               (double)(most * sizeof(ct_point_rec)) / 1048576.0, (double)limit / 1048576.0);
    /* The index takes (cell_size / index_size)² bins a cell, points or not (QA: index_size
     * 0.1 m gave 7.4 GB of tables for 2.4 GB of points, unsaid). In memory every cell has
     * one; on disk, the cells loaded at a time (four at least, for a building's search). */
    uint64_t per_cell = ct_point_store_index_bytes(ds->points), ncells = ct_point_store_cell_count(ds->points);
    uint64_t tables = per_cell * (ct_point_store_on_disk(ds->points) ? (ncells < 4 ? ncells : 4) : ncells);
    if (limit > 0 && tables > limit)
        ct_log(ctx, CT_LOG_WARN, "readers.lidar: index_size %g m gives each processing cell an index of %.3g MiB "
               "(%llu cells), so the run takes at least %.3g MiB, more than the memory limit (%.3g MiB); a larger "
               "index_size lowers it (the default is 2 m)", s->fine_size, (double)per_cell / 1048576.0,
               (unsigned long long)ncells, (double)tables / 1048576.0, (double)limit / 1048576.0);
    uint64_t read = ct_las_source_point_count(src);
    if (unusable > 0)
        ct_log(ctx, CT_LOG_WARN,
               "readers.lidar: %llu of the %llu points ignored: unusable coordinates (not finite, or beyond "
               "1e15 m: check the LAS header's scale and offset)",
               (unsigned long long)unusable, (unsigned long long)read);
    if (kept == 0 && read > 0) st = check_points_match_header(ctx, src);
    if (st != CT_OK) {
        /* (said above: a damaged header, not LiDAR of another area) */
    } else if (kept == 0 && read > 0 && unusable < read && ds->band && ct_context_measure_only(ctx)) {
        /* (a partition alone knows only its own band: said above when the band is empty) */
        if (job->crop[1] <= job->crop[3])
            ct_log(ctx, CT_LOG_INFO, "readers.lidar: partition %d/%d: none of the points in its band of the city "
                   "(y %.1f to %.1f) has a class kept", ds->band->k, ds->band->n, job->crop[1], job->crop[3]);
    } else if (kept == 0 && read > 0 && unusable < read) {
        double lo[3], hi[3];
        const double *c = job->global_crop; /* (the footprints' box, not a process's band) */
        ct_las_source_bounds(src, lo, hi);
        if (isfinite(c[0]))
            ct_log(ctx, CT_LOG_WARN,
                   "readers.lidar: none of the %llu points lies within crop_margin (%g m) of the %s "
                   "(x %.2f..%.2f, y %.2f..%.2f in the working CRS; LAS header bounds x %.2f..%.2f, y %.2f..%.2f "
                   "in the LAS files' own CRS, before reprojection) "
                   "with a class kept: wrong srs, LiDAR of another area, or classes/drop_classes leaving none? %s",
                   (unsigned long long)read, s->crop_margin, ds->nbuildings ? "footprints" : "assets",
                   c[0] + s->crop_margin, c[2] - s->crop_margin, c[1] + s->crop_margin, c[3] - s->crop_margin, lo[0],
                   hi[0], lo[1], hi[1], no_ground_consequence(ds));
        else
            ct_log(ctx, CT_LOG_WARN,
                   "readers.lidar: none of the %llu points was kept (all of dropped classes, or unusable coordinates)",
                   (unsigned long long)read);
    } else if (read == 0) {
        ct_log(ctx, CT_LOG_WARN, "readers.lidar: the LAS file(s) hold no points: %s", no_ground_consequence(ds));
    }
    return st;
}

static void read_job_free(read_job *job) {
    for (int t = 0; t < job->nxf; t++) OCTDestroyCoordinateTransformation(job->xf[t]);
    free(job->xf);
    for (int t = 0; job->raw && t < job->nthreads; t++) free(job->raw[t]);
    free(job->raw);
    free(job->raw_cap);
    free(job->raw_chunk);
    for (int t = 0; t < job->nflags; t++) free(job->flags[t]);
    free(job->flags);
    free(job->chunks);
    free(job->skip);
    if (job->horiz) OSRRelease(job->horiz);
    if (job->work) OSRRelease(job->work);
}

/* The run's hash for the partitions' results (partition_results.h), with these files:
 * only for a merge or a partition, which take (and a partition leaves) them; other runs
 * would stat every LAS file and print the pipeline for nothing. */
static ct_status note_run_hash(ct_context *ctx, ct_dataset *ds, const ct_las_source *src) {
    if (!ct_partition_results_taken(ctx)) return CT_OK;
    size_t n = ct_las_source_count(src);
    const char **paths = malloc((n ? n : 1) * sizeof *paths);
    if (!paths) return ct_error_nomem(ctx, "readers.lidar");
    for (size_t f = 0; f < n; f++) paths[f] = ct_las_path(ct_las_source_reader(src, f));
    int first = ds->nlidar_files == n; /* (no readers.lidar before this one) */
    uint64_t h = first || ds->lidar_run_hash ? ct_partition_results_run_hash(ctx, ds->lidar_run_hash, paths, n) : 0;
    ds->lidar_run_hash = h;
    free(paths);
    return CT_OK;
}

/* In a merge or a partition: 1 when every stage that reads points took part in the
 * partitions' results and every partition left them for this run (then no point need be
 * read). */
static int partitions_left_results(const ct_context *ctx, const ct_dataset *ds) {
    size_t n = 0;
    const char *const *keys = ct_context_partition_results(ctx, &n);
    if (!ct_partition_results_taken(ctx) || ct_context_measure_only(ctx) || n == 0 || ds->lidar_run_hash == 0) return 0;
    for (size_t i = 0; i < n; i++)
        if (!keys[i] || !ct_partition_results_ready(ctx, keys[i], ds->lidar_run_hash, 0)) return 0;
    return 1;
}

/* A merge or partition whose partitions left every result measured from the points: the
 * files noted (the run summary lists them), none read. */
static ct_status skip_points(ct_context *ctx, ct_dataset *ds, const ct_las_source *src) {
    ds->points_from_partitions = 1;
    ct_status st = CT_OK;
    for (size_t f = 0; st == CT_OK && f < ct_las_source_count(src); f++) {
        const ct_las_reader *r = ct_las_source_reader(src, f);
        st = ct_dataset_note_source(ctx, ds, "readers.lidar", ct_las_path(r), "points", ct_las_get_header(r)->point_count);
        if (st == CT_OK)
            st = ct_dataset_note_source_detail(ctx, ds, "not_read", "the partitions' measurements were taken");
    }
    ct_log(ctx, CT_LOG_INFO, "readers.lidar: %s: the %zu LAS file(s) are not read: every partition left what the "
           "stages after this one measured from the points", ct_context_merge(ctx) ? "merge" : "partition",
           ct_las_source_count(src));
    return st;
}

/* The vertical CRS of the LiDAR's heights, for messages: the compound CRS's vertical part
 * (its VERT_CS name), "ellipsoidal heights" for a 3D CRS, or NULL when it has none. */
static const char *vertical_name(OGRSpatialReferenceH srs, int ellipsoidal) {
    if (srs && OSRIsCompound(srs)) {
        const char *v = OSRGetAttrValue(srs, "VERT_CS", 0);
        return v ? v : "its vertical CRS";
    }
    return ellipsoidal ? "ellipsoidal heights" : NULL;
}

/* Several readers.lidar stages whose points are pooled: their heights must be in one
 * vertical CRS, or a building's points mix two datums (NAP and ellipsoidal heights differ
 * by 43 m at Delft), and the tiles are written in the first stage's. `earlier` is the
 * vertical CRS recorded before this stage (its WKT; NULL: none), earlier_kept the points
 * the stages before kept, kept this stage's (all processes). Different vertical CRSs
 * with points on both sides are an error; a stage without one beside a stage with one,
 * or one whose CRS decides though it kept no point, a warning. */
static ct_status check_vertical_mix(ct_context *ctx, OGRSpatialReferenceH lsrs, const char *earlier,
                                    int earlier_ellipsoidal, uint64_t earlier_kept, uint64_t kept) {
    const int ellipsoidal = lsrs && !OSRIsCompound(lsrs) && OSRGetAxesCount(lsrs) == 3;
    if (kept == 0 || (!earlier && !earlier_ellipsoidal && earlier_kept == 0)) return CT_OK;
    OGRSpatialReferenceH before = earlier ? OSRNewSpatialReference(earlier) : NULL;
    const char *mine = vertical_name(lsrs, ellipsoidal), *theirs = vertical_name(before, earlier_ellipsoidal);
    int same;
    if (!mine || !theirs) same = !mine && !theirs;
    else if (ellipsoidal || !before || !OSRIsCompound(before)) same = ellipsoidal == earlier_ellipsoidal;
    else same = OSRIsSameVertCS(lsrs, before);
    ct_status st = CT_OK;
    if (same) {
        /* (one datum) */
    } else if (earlier_kept == 0) {
        ct_log(ctx, CT_LOG_WARN, "readers.lidar: this stage's LiDAR heights are in %s, but the tiles take %s from an "
               "earlier readers.lidar stage that kept no point: give that stage the same vertical CRS (srs), or "
               "remove it", mine ? mine : "no vertical CRS", theirs ? theirs : "no vertical CRS");
    } else if (mine && theirs) {
        st = ct_error(ctx, CT_ERR_INPUT, "readers.lidar: this stage's LiDAR heights are in %s, an earlier "
                      "readers.lidar stage's in %s: a building's points would mix two vertical datums; give both "
                      "stages the same vertical CRS (srs), or convert one set of files", mine, theirs);
    } else {
        const char *taken = mine ? mine : theirs;
        ct_log(ctx, CT_LOG_WARN, "readers.lidar: %s LiDAR has no vertical CRS: its heights are taken to be in %s, as "
               "%s (give it an srs with its vertical CRS if they are not)", mine ? "an earlier readers.lidar stage's"
               : "this stage's", taken, mine ? "this stage's" : "an earlier readers.lidar stage's");
    }
    if (before) OSRRelease(before);
    return st;
}

static ct_status run(ct_context *ctx, void *state, ct_dataset *ds) {
    lidar_state *s = state;
    ct_las_source *src = NULL;
    ct_status st = open_inputs(ctx, s, ds, &src);
    if (st != CT_OK) return st;
    st = note_run_hash(ctx, ds, src);
    read_job job;
    memset(&job, 0, sizeof job);
    job.s = s;
    job.same = 1;
    OGRSpatialReferenceH lsrs = NULL;
    const char *first_path = ct_las_path(ct_las_source_reader(src, 0));
    if (st == CT_OK) st = lidar_srs(ctx, s, src, first_path, &lsrs);
    if (st == CT_OK) st = heights_to_metres(ctx, lsrs, src, s->srs ? "readers.lidar" : first_path);
    /* (what the readers.lidar stages before this one recorded, for check_vertical_mix) */
    char *earlier_vertical = st == CT_OK && ds->vertical_wkt ? strdup(ds->vertical_wkt) : NULL;
    const int earlier_ellipsoidal = ds->heights_ellipsoidal;
    const uint64_t earlier_kept = ds->lidar_points_kept;
    if (st == CT_OK && ds->vertical_wkt && !earlier_vertical) st = ct_error_nomem(ctx, "readers.lidar");
    if (st == CT_OK) st = setup_crs(ctx, ds, lsrs, &job.horiz, &job.work, &job.same);
    if (st == CT_OK && !ds->points && partitions_left_results(ctx, ds)) {
        st = skip_points(ctx, ds, src);
        free(earlier_vertical);
        if (lsrs) OSRRelease(lsrs);
        read_job_free(&job);
        ct_las_source_close(src);
        return st;
    }
    if (st == CT_OK) st = prepare_store(ctx, s, ds, &job);
    if (st == CT_OK) note_lidar_bounds(ds, src, job.same);
    size_t nchunks = 0;
    if (st == CT_OK) st = plan_skips(ctx, src, &job);
    if (st == CT_OK) st = check_samples_match_header(ctx, src, job.skip, s->check_z_bounds);
    if (st == CT_OK) st = plan_chunks(ctx, src, &job, &nchunks);
    uint64_t before = st == CT_OK ? ct_point_store_count(ds->points) : 0;
    uint64_t ignored_before = st == CT_OK ? ct_point_store_ignored(ds->points) : 0;
    uint64_t own_before = st == CT_OK && ds->band ? own_rows_count(ds) : 0;
    if (st == CT_OK) st = bin_points(ctx, s, ds, src, &job, nchunks);
    uint64_t kept_here = st == CT_OK ? ct_point_store_count(ds->points) - before : 0, kept = kept_here;
    if (ds->band && ct_context_has_allgather(ctx)) st = exchange_counts(ctx, ds, own_before, st, &kept);
    else if (ds->band && st == CT_OK) ds->band->kept_all = ct_point_store_count(ds->points); /* (--measure-only) */
    if (st == CT_OK) st = report_points(ctx, s, ds, src, &job, kept, kept_here, ignored_before);
    if (st == CT_OK) st = check_vertical_mix(ctx, lsrs, earlier_vertical, earlier_ellipsoidal, earlier_kept, kept);
    if (st == CT_OK) ds->lidar_points_kept += kept;
    free(earlier_vertical);
    read_job_free(&job);
    if (lsrs) OSRRelease(lsrs);
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
