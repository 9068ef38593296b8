/* Reading one band of a DTM / DSM raster with GDAL: opening and checking it, and
 * windowed reads of the valid cells around a box of the working CRS.
 *
 * Reprojection: when the raster's CRS differs from the working CRS we transform
 * coordinates, not pixels. The query box goes into the raster CRS (OCTTransformBounds,
 * densified edges) to find the window; the centres of the window's cells come back
 * into the working CRS, where the footprint tests happen. The cells keep their own
 * values: a warped VRT would resample the grid (nearest neighbour duplicates or drops
 * cells, bilinear smooths roof edges and lowers maxima) and change which cells are
 * "inside", and it warps every window. When the CRSs are the same (the usual case) no
 * transformation is done at all. */
/* struct stat64 behind GDAL's VSIStatBufL. */
#define _LARGEFILE64_SOURCE 1
#include "citytiler/crs.h"
#include "citytiler/raster.h"
#include "io/input_file.h"
#include "io/ogr_source.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <limits.h>
#include <math.h>
#include <ogr_srs_api.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Each reader keeps the last CACHE_CHUNKS chunks of CHUNK x CHUNK cells it read, as
 * floats with NaN for invalid cells (2 MiB per reader). Footprints then read from the
 * reader's memory: GDAL's RasterIO goes through its global block cache lock, which made
 * two threads slower than one; with the chunks, threads share nothing. */
#define CHUNK 256
#define CACHE_CHUNKS 8

struct ct_raster {
    char *path;
    int band;
    int width, height;
    double gt[6], inv[6];
    int has_nodata;
    double nodata;
    int use_mask;       /* a per-dataset mask / alpha band says which cells are valid */
    char *raster_wkt;   /* horizontal CRS of the raster */
    char *work_wkt;     /* working CRS; NULL when the same as the raster's */
    char *vertical_wkt; /* the raster's compound CRS, or NULL */
    double cell_size;   /* in working units */
    double extent[4];   /* working CRS */
    double z_scale, z_offset; /* a cell's height in metres: stored value * z_scale + z_offset */
};

struct ct_raster_reader {
    const ct_raster *r;
    GDALDatasetH ds;
    GDALRasterBandH band, mask;
    OGRCoordinateTransformationH to_raster, to_work; /* NULL when same CRS */
    double *buf;         /* one chunk as read (CHUNK * CHUNK) */
    unsigned char *mbuf; /* its mask */
    struct chunk {
        int cx, cy;      /* chunk column and row; -1: empty slot */
        int w, h;        /* cells (smaller at the right and bottom edges) */
        uint64_t used;   /* for least-recently-used eviction */
        float *v;        /* w * h values, NaN: not valid */
    } cache[CACHE_CHUNKS];
    uint64_t clock;
    double *tx, *ty; /* cell centres being transformed */
    int *col, *succ; /* their column in the strip, and OCTTransformEx's success flags */
    size_t t_cap;
};

static OGRSpatialReferenceH srs_from(const char *text) {
    OGRSpatialReferenceH s = OSRNewSpatialReference(NULL);
    if (!s) return NULL;
    if (OSRSetFromUserInput(s, text) != OGRERR_NONE) {
        OSRRelease(s);
        return NULL;
    }
    OSRSetAxisMappingStrategy(s, OAMS_TRADITIONAL_GIS_ORDER);
    return s;
}

static const char *gdal_msg(const char *fallback) {
    const char *m = CPLGetLastErrorMsg();
    return m && m[0] ? m : fallback;
}

void ct_raster_close(ct_raster *r) {
    if (!r) return;
    free(r->path);
    free(r->raster_wkt);
    free(r->work_wkt);
    free(r->vertical_wkt);
    free(r);
}

void ct_raster_set_destroy(ct_raster_set *s) {
    if (!s) return;
    ct_raster_close(s->dtm);
    ct_raster_close(s->dsm);
    free(s);
}

const char *ct_raster_path(const ct_raster *r) { return r->path; }
void ct_raster_size(const ct_raster *r, int *width, int *height) {
    *width = r->width;
    *height = r->height;
}
double ct_raster_cell_size(const ct_raster *r) { return r->cell_size; }
int ct_raster_same_crs(const ct_raster *r) { return r->work_wkt == NULL; }
const char *ct_raster_vertical_wkt(const ct_raster *r) { return r->vertical_wkt; }
void ct_raster_extent(const ct_raster *r, double out[4]) { memcpy(out, r->extent, sizeof r->extent); }

static void pixel_to_geo(const double gt[6], double px, double py, double *x, double *y) {
    *x = gt[0] + px * gt[1] + py * gt[2];
    *y = gt[3] + px * gt[4] + py * gt[5];
}

/* The heights of the pipeline are metres (readers.lidar converts z in feet; the writer
 * takes any vertical CRS's heights as metres): a DTM or DSM in feet, by its vertical CRS
 * or else by its band's unit, is converted as it is read, as are the band's scale and
 * offset (a DEM stored as integer centimetres with scale 0.01 was read as centimetres). */
static ct_status heights_in_metres(ct_context *ctx, ct_raster *r, GDALRasterBandH band) {
    double f = 0;
    const char *from = NULL;
    ct_height_unit u;
    /* (no context: a CRS PROJ cannot read is no error, its heights are taken as metres as
     * before; clearing the context's error afterwards would also wipe one made earlier) */
    if (r->vertical_wkt && ct_crs_height_unit(NULL, r->vertical_wkt, &u) == CT_OK && !u.assumed) {
        f = u.metres_per_unit;
        from = u.name;
    }
    const char *band_unit = GDALGetRasterUnitType(band);
    if (!(f > 0) && (f = ct_linear_unit_metres(band_unit)) > 0) from = band_unit;
    if (!(f > 0) || f == 1.0) return CT_OK;
    r->z_scale *= f;
    r->z_offset *= f;
    ct_log(ctx, CT_LOG_INFO, "%s: heights in %s converted to metres (x %.10g)", r->path, from, f);
    return CT_OK;
}

/* The raster at path, opened read-only (NULL with an error set). */
static ct_status open_dataset(ct_context *ctx, const char *path, GDALDatasetH *out) {
    *out = NULL;
    VSIStatBufL sb;
    if (VSIStatL(path, &sb) != 0) return ct_error(ctx, CT_ERR_INPUT, "%s: no such file", path);
    ct_status chk = ct_input_file_check(ctx, path, "raster");
    if (chk != CT_OK) return chk;
    /* GeoTIFF reports only the horizontal CRS unless asked: we want the vertical one too. */
    const char *old = CPLGetThreadLocalConfigOption("GTIFF_REPORT_COMPD_CS", NULL);
    char *saved = old ? CPLStrdup(old) : NULL;
    CPLSetThreadLocalConfigOption("GTIFF_REPORT_COMPD_CS", "YES");
    *out = GDALOpenEx(path, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
    CPLSetThreadLocalConfigOption("GTIFF_REPORT_COMPD_CS", saved);
    CPLFree(saved);
    if (!*out)
        return ct_error(ctx, CT_ERR_INPUT, "%s: not a raster GDAL can read (%s)", path,
                        gdal_msg("no GDAL raster driver recognises it"));
    return CT_OK;
}

/* The size, the geotransform, and the band's nodata, scale, offset and mask. */
static ct_status read_band(ct_context *ctx, const char *path, GDALDatasetH ds, ct_raster *r, GDALRasterBandH *band) {
    int nb = GDALGetRasterCount(ds);
    r->width = GDALGetRasterXSize(ds);
    r->height = GDALGetRasterYSize(ds);
    if (nb < 1 || r->width < 1 || r->height < 1) return ct_error(ctx, CT_ERR_INPUT, "%s: not a raster (no band)", path);
    if (r->band > nb)
        return ct_error(ctx, CT_ERR_USAGE, "%s: band %d does not exist (the raster has %d)", path, r->band, nb);
    if (GDALGetGeoTransform(ds, r->gt) != CE_None || !GDALInvGeoTransform(r->gt, r->inv))
        return ct_error(ctx, CT_ERR_INPUT, "%s: the raster is not georeferenced (no geotransform)", path);
    *band = GDALGetRasterBand(ds, r->band);
    r->nodata = GDALGetRasterNoDataValue(*band, &r->has_nodata);
    r->z_scale = GDALGetRasterScale(*band, NULL);
    r->z_offset = GDALGetRasterOffset(*band, NULL);
    if (!(isfinite(r->z_scale) && r->z_scale != 0 && isfinite(r->z_offset)))
        return ct_error(ctx, CT_ERR_INPUT, "%s: band %d has an unusable scale %g / offset %g", path, r->band,
                        r->z_scale, r->z_offset);
    int mflags = GDALGetMaskFlags(*band);
    r->use_mask = !(mflags & (GMF_ALL_VALID | GMF_NODATA));
    return CT_OK;
}

/* The raster's CRS (the srs option, else the file's): its horizontal part (*horiz, and
 * r->raster_wkt), its vertical one (r->vertical_wkt), the heights' unit, and the working
 * CRS (*work; r->work_wkt when it differs). */
static ct_status raster_crs(ct_context *ctx, const ct_raster_open_options *o, GDALDatasetH ds, GDALRasterBandH band,
                            ct_raster *r, OGRSpatialReferenceH *srs, OGRSpatialReferenceH *horiz,
                            OGRSpatialReferenceH *work) {
    const char *path = o->path;
    if (o->srs) {
        *srs = srs_from(o->srs);
        if (!*srs) return ct_error(ctx, CT_ERR_USAGE, "%s: srs '%.80s' is not a CRS GDAL/PROJ understands", path, o->srs);
    } else {
        OGRSpatialReferenceH s = GDALGetSpatialRef(ds);
        if (!s)
            return ct_error(ctx, CT_ERR_INPUT,
                            "%s: the raster has no CRS; give readers.raster an \"srs\" option (e.g. \"EPSG:28992\")", path);
        *srs = OSRClone(s);
        if (!*srs) return ct_error_nomem(ctx, "raster CRS");
        OSRSetAxisMappingStrategy(*srs, OAMS_TRADITIONAL_GIS_ORDER);
    }
    *horiz = OSRClone(*srs);
    if (!*horiz) return ct_error_nomem(ctx, "raster CRS");
    if (OSRIsCompound(*srs)) {
        r->vertical_wkt = ct_ogr_wkt2(*srs);
        OSRStripVertical(*horiz);
    }
    ct_status st = heights_in_metres(ctx, r, band);
    if (st != CT_OK) return st;
    OSRSetAxisMappingStrategy(*horiz, OAMS_TRADITIONAL_GIS_ORDER);
    r->raster_wkt = ct_ogr_wkt2(*horiz);
    if (!r->raster_wkt)
        return ct_error(ctx, CT_ERR_INPUT, "%s: cannot express the raster CRS as WKT (%s)", path, gdal_msg("?"));
    if (o->working_crs) {
        *work = srs_from(o->working_crs);
        if (!*work) return ct_error(ctx, CT_ERR_INTERNAL, "%s: cannot read the working CRS", path);
        if (!OSRIsSame(*horiz, *work)) {
            r->work_wkt = ct_ogr_wkt2(*work);
            if (!r->work_wkt) return ct_error_nomem(ctx, "working CRS");
        }
    }
    return CT_OK;
}

/* The raster's extent and cell size in the working CRS. */
static ct_status raster_extent(ct_context *ctx, const char *path, OGRSpatialReferenceH horiz,
                               OGRSpatialReferenceH work, ct_raster *r) {
    double xs[4], ys[4];
    pixel_to_geo(r->gt, 0, 0, &xs[0], &ys[0]);
    pixel_to_geo(r->gt, r->width, 0, &xs[1], &ys[1]);
    pixel_to_geo(r->gt, 0, r->height, &xs[2], &ys[2]);
    pixel_to_geo(r->gt, r->width, r->height, &xs[3], &ys[3]);
    double ext[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (int k = 0; k < 4; k++) {
        ext[0] = fmin(ext[0], xs[k]), ext[1] = fmin(ext[1], ys[k]);
        ext[2] = fmax(ext[2], xs[k]), ext[3] = fmax(ext[3], ys[k]);
    }
    r->cell_size = sqrt(fabs(r->gt[1] * r->gt[5] - r->gt[2] * r->gt[4]));
    if (r->work_wkt) {
        OGRCoordinateTransformationH xf = OCTNewCoordinateTransformation(horiz, work);
        if (!xf)
            return ct_error(ctx, CT_ERR_INPUT, "%s: no transformation from the raster CRS to the working CRS (%s)", path,
                            gdal_msg("?"));
        double e[4];
        int ok = OCTTransformBounds(xf, ext[0], ext[1], ext[2], ext[3], &e[0], &e[1], &e[2], &e[3], 21);
        /* Cell size: the centre cell's diagonal neighbours, transformed. */
        double cx[2], cy[2];
        pixel_to_geo(r->gt, r->width / 2, r->height / 2, &cx[0], &cy[0]);
        pixel_to_geo(r->gt, r->width / 2 + 1, r->height / 2 + 1, &cx[1], &cy[1]);
        int ok2 = OCTTransform(xf, 2, cx, cy, NULL);
        OCTDestroyCoordinateTransformation(xf);
        if (!ok)
            return ct_error(ctx, CT_ERR_INPUT, "%s: cannot transform the raster's extent into the working CRS (%s)",
                            path, gdal_msg("?"));
        memcpy(ext, e, sizeof e);
        if (ok2) r->cell_size = hypot(cx[1] - cx[0], cy[1] - cy[0]) / sqrt(2.0);
    }
    memcpy(r->extent, ext, sizeof ext);
    return CT_OK;
}

/* Everything that needs the GDAL dataset; runs with a quiet error handler. */
static ct_status open_checked(ct_context *ctx, const ct_raster_open_options *o, ct_raster *r) {
    GDALDatasetH ds = NULL;
    ct_status st = open_dataset(ctx, o->path, &ds);
    if (st != CT_OK) return st;
    OGRSpatialReferenceH srs = NULL, work = NULL, horiz = NULL;
    GDALRasterBandH band = NULL;
    st = read_band(ctx, o->path, ds, r, &band);
    if (st == CT_OK) st = raster_crs(ctx, o, ds, band, r, &srs, &horiz, &work);
    if (st == CT_OK) st = raster_extent(ctx, o->path, horiz, work, r);
    if (srs) OSRRelease(srs);
    if (horiz) OSRRelease(horiz);
    if (work) OSRRelease(work);
    GDALClose(ds);
    return st;
}

ct_status ct_raster_open(ct_context *ctx, const ct_raster_open_options *o, ct_raster **out) {
    *out = NULL;
    if (!o || !o->path || !o->path[0]) return ct_error(ctx, CT_ERR_USAGE, "raster: no path given");
    if (o->band < 0) return ct_error(ctx, CT_ERR_USAGE, "%s: band %d: bands count from 1", o->path, o->band);
    ct_raster *r = calloc(1, sizeof *r);
    if (!r || !(r->path = strdup(o->path))) {
        free(r);
        return ct_error_nomem(ctx, "raster");
    }
    r->band = o->band ? o->band : 1;
    GDALAllRegister();
    CPLPushErrorHandler(CPLQuietErrorHandler);
    CPLErrorReset();
    ct_status st = open_checked(ctx, o, r);
    CPLPopErrorHandler();
    if (st != CT_OK) {
        ct_raster_close(r);
        return st;
    }
    *out = r;
    return CT_OK;
}

void ct_raster_reader_destroy(ct_raster_reader *rd) {
    if (!rd) return;
    if (rd->ds) GDALClose(rd->ds);
    if (rd->to_raster) OCTDestroyCoordinateTransformation(rd->to_raster);
    if (rd->to_work) OCTDestroyCoordinateTransformation(rd->to_work);
    free(rd->buf);
    free(rd->mbuf);
    for (int k = 0; k < CACHE_CHUNKS; k++) free(rd->cache[k].v);
    free(rd->tx);
    free(rd->ty);
    free(rd->col);
    free(rd->succ);
    free(rd);
}

static ct_status reader_setup(ct_context *ctx, const ct_raster *r, ct_raster_reader *rd) {
    /* A handle of our own (not GDALOpenShared): GDAL dataset handles are not thread-safe. */
    rd->ds = GDALOpenEx(r->path, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!rd->ds) return ct_error(ctx, CT_ERR_IO, "%s: cannot open again (%s)", r->path, gdal_msg("?"));
    if (GDALGetRasterCount(rd->ds) < r->band || GDALGetRasterXSize(rd->ds) != r->width ||
        GDALGetRasterYSize(rd->ds) != r->height)
        return ct_error(ctx, CT_ERR_IO, "%s: the raster changed since it was opened", r->path);
    rd->band = GDALGetRasterBand(rd->ds, r->band);
    if (r->use_mask) rd->mask = GDALGetMaskBand(rd->band);
    rd->buf = malloc((size_t)CHUNK * CHUNK * sizeof *rd->buf);
    rd->mbuf = malloc((size_t)CHUNK * CHUNK);
    if (!rd->buf || !rd->mbuf) return ct_error_nomem(ctx, "raster reader");
    for (int k = 0; k < CACHE_CHUNKS; k++) rd->cache[k].cx = rd->cache[k].cy = -1;
    if (r->work_wkt) {
        OGRSpatialReferenceH a = srs_from(r->raster_wkt), b = srs_from(r->work_wkt);
        if (a && b) {
            rd->to_raster = OCTNewCoordinateTransformation(b, a);
            rd->to_work = OCTNewCoordinateTransformation(a, b);
        }
        if (a) OSRRelease(a);
        if (b) OSRRelease(b);
        if (!rd->to_raster || !rd->to_work)
            return ct_error(ctx, CT_ERR_INTERNAL, "%s: cannot create the transformation to the working CRS (%s)", r->path,
                            gdal_msg("?"));
    }
    return CT_OK;
}

ct_status ct_raster_reader_create(ct_context *ctx, const ct_raster *r, ct_raster_reader **out) {
    *out = NULL;
    ct_raster_reader *rd = calloc(1, sizeof *rd);
    if (!rd) return ct_error_nomem(ctx, "raster reader");
    rd->r = r;
    GDALAllRegister();
    CPLPushErrorHandler(CPLQuietErrorHandler);
    CPLErrorReset();
    ct_status st = reader_setup(ctx, r, rd);
    CPLPopErrorHandler();
    if (st != CT_OK) {
        ct_raster_reader_destroy(rd);
        return st;
    }
    *out = rd;
    return CT_OK;
}

void ct_raster_cells_free(ct_raster_cells *c) {
    free(c->x);
    free(c->y);
    free(c->z);
    memset(c, 0, sizeof *c);
}

static int cells_reserve(ct_raster_cells *c, size_t need) {
    if (need <= c->cap) return 1;
    size_t cap = c->cap ? c->cap : 1024;
    while (cap < need) cap *= 2;
    double *x = realloc(c->x, cap * sizeof *x);
    if (x) c->x = x;
    double *y = realloc(c->y, cap * sizeof *y);
    if (y) c->y = y;
    float *z = realloc(c->z, cap * sizeof *z);
    if (z) c->z = z;
    if (!x || !y || !z) return 0;
    c->cap = cap;
    return 1;
}

/* The window of cells (col0, row0, ncols, nrows) whose centres may lie in bbox
 * (working CRS). Returns 0 when it is empty (bbox outside the raster). */
static int window_of(ct_raster_reader *rd, const double bbox[4], int win[4]) {
    const ct_raster *r = rd->r;
    double b[4] = {bbox[0], bbox[1], bbox[2], bbox[3]};
    if (!(b[0] <= b[2] && b[1] <= b[3])) return 0;
    if (rd->to_raster) {
        double e[4];
        if (!OCTTransformBounds(rd->to_raster, b[0], b[1], b[2], b[3], &e[0], &e[1], &e[2], &e[3], 21)) return 0;
        memcpy(b, e, sizeof e);
    }
    double pmin[2] = {INFINITY, INFINITY}, pmax[2] = {-INFINITY, -INFINITY};
    const double cx[4] = {b[0], b[2], b[0], b[2]}, cy[4] = {b[1], b[1], b[3], b[3]};
    for (int k = 0; k < 4; k++) {
        double px, py;
        pixel_to_geo(r->inv, cx[k], cy[k], &px, &py);
        pmin[0] = fmin(pmin[0], px), pmin[1] = fmin(pmin[1], py);
        pmax[0] = fmax(pmax[0], px), pmax[1] = fmax(pmax[1], py);
    }
    /* A cell c has its centre at c + 0.5: the cells from floor(min - 0.5) to floor(max - 0.5)
     * can have their centre inside; one cell of margin either side costs little. */
    double c0 = floor(pmin[0] - 0.5) - 1, c1 = floor(pmax[0] - 0.5) + 1;
    double r0 = floor(pmin[1] - 0.5) - 1, r1 = floor(pmax[1] - 0.5) + 1;
    if (!(c1 >= 0 && r1 >= 0 && c0 < r->width && r0 < r->height)) return 0; /* also NaN */
    c0 = fmax(c0, 0), r0 = fmax(r0, 0);
    c1 = fmin(c1, r->width - 1), r1 = fmin(r1, r->height - 1);
    win[0] = (int)c0, win[1] = (int)r0, win[2] = (int)(c1 - c0) + 1, win[3] = (int)(r1 - r0) + 1;
    return 1;
}

static int coords_reserve(ct_raster_reader *rd, size_t n) {
    if (n <= rd->t_cap) return 1;
    double *x = realloc(rd->tx, n * sizeof *x);
    if (x) rd->tx = x;
    double *y = realloc(rd->ty, n * sizeof *y);
    if (y) rd->ty = y;
    int *col = realloc(rd->col, n * sizeof *col);
    if (col) rd->col = col;
    int *succ = realloc(rd->succ, n * sizeof *succ);
    if (succ) rd->succ = succ;
    if (!x || !y || !col || !succ) return 0;
    rd->t_cap = n;
    return 1;
}

/* Not nodata, not NaN, not absurd (an untagged -3.4e38 nodata). */
static int valid_value(const ct_raster *r, double v) {
    return !isnan(v) && !(r->has_nodata && v == r->nodata) && fabs(v) <= 1e30;
}

/* Cells [x0, x0 + w) x [y0, y0 + h) read into bw x bh values (fewer than w x h: GDAL
 * takes the nearest cell) and, with a mask band, its flags. 0 after an error (set): a
 * damaged or cut-short file is bad input (exit 2, as when it cannot be opened). */
static int read_window(ct_context *ctx, ct_raster_reader *rd, int x0, int y0, int w, int h, double *v,
                       unsigned char *m, int bw, int bh) {
    CPLPushErrorHandler(CPLQuietErrorHandler);
    CPLErrorReset();
    int ok = GDALRasterIO(rd->band, GF_Read, x0, y0, w, h, v, bw, bh, GDT_Float64, 0, 0) == CE_None &&
             (!rd->mask || GDALRasterIO(rd->mask, GF_Read, x0, y0, w, h, m, bw, bh, GDT_Byte, 0, 0) == CE_None);
    if (!ok)
        ct_error(ctx, CT_ERR_INPUT, "%s: cannot read cells %d..%d x %d..%d (%s): is the file damaged or cut short?",
                 rd->r->path, x0, x0 + w - 1, y0, y0 + h - 1, gdal_msg("read error"));
    CPLPopErrorHandler();
    return ok;
}

/* A cell's height in metres as read (v, and its mask flag m when there is a mask band);
 * NaN when it is not valid. */
static float cell_value(const ct_raster_reader *rd, double v, unsigned char m) {
    const ct_raster *r = rd->r;
    return valid_value(r, v) && (!rd->mask || m) ? (float)(v * r->z_scale + r->z_offset) : NAN;
}

/* The chunk (cx, cy), read if it is not in the cache; NULL after an error (set). */
static const struct chunk *get_chunk(ct_context *ctx, ct_raster_reader *rd, int cx, int cy) {
    const ct_raster *r = rd->r;
    struct chunk *victim = &rd->cache[0];
    for (int k = 0; k < CACHE_CHUNKS; k++) {
        struct chunk *c = &rd->cache[k];
        if (c->cx == cx && c->cy == cy) {
            c->used = ++rd->clock;
            return c;
        }
        if (c->used < victim->used) victim = c;
    }
    int x0 = cx * CHUNK, y0 = cy * CHUNK;
    int w = r->width - x0 < CHUNK ? r->width - x0 : CHUNK, h = r->height - y0 < CHUNK ? r->height - y0 : CHUNK;
    victim->cx = victim->cy = -1;
    if (!victim->v && !(victim->v = malloc((size_t)CHUNK * CHUNK * sizeof *victim->v))) {
        ct_error_nomem(ctx, "raster chunk");
        return NULL;
    }
    if (!read_window(ctx, rd, x0, y0, w, h, rd->buf, rd->mbuf, w, h)) return NULL;
    size_t n = (size_t)w * (size_t)h;
    for (size_t i = 0; i < n; i++) victim->v[i] = cell_value(rd, rd->buf[i], rd->mask ? rd->mbuf[i] : 1);
    victim->cx = cx, victim->cy = cy, victim->w = w, victim->h = h;
    victim->used = ++rd->clock;
    return victim;
}

/* Adds the valid cells of one row of values v[0..n-1] whose centres (pixel coordinates
 * px0 + k * step, py) lie in bbox (working CRS) to c. Returns 0 when out of memory. */
static int emit_row(ct_raster_reader *rd, const double bbox[4], ct_raster_cells *c, const float *v, int n, double px0,
                    double step, double py) {
    const ct_raster *r = rd->r;
    if (!cells_reserve(c, c->n + (size_t)n)) return 0;
    if (!rd->to_work) {
        for (int k = 0; k < n; k++) {
            if (isnan(v[k])) continue;
            double x, y;
            pixel_to_geo(r->gt, px0 + k * step, py, &x, &y);
            if (x < bbox[0] || x > bbox[2] || y < bbox[1] || y > bbox[3]) continue;
            c->x[c->n] = x, c->y[c->n] = y, c->z[c->n] = v[k];
            c->n++;
        }
        return 1;
    }
    size_t nt = 0;
    for (int k = 0; k < n; k++) {
        if (isnan(v[k])) continue;
        pixel_to_geo(r->gt, px0 + k * step, py, &rd->tx[nt], &rd->ty[nt]);
        rd->col[nt++] = k;
    }
    if (nt) OCTTransformEx(rd->to_work, (int)nt, rd->tx, rd->ty, NULL, rd->succ);
    for (size_t t = 0; t < nt; t++) {
        double x = rd->tx[t], y = rd->ty[t];
        if (!rd->succ[t] || x < bbox[0] || x > bbox[2] || y < bbox[1] || y > bbox[3]) continue;
        c->x[c->n] = x, c->y[c->n] = y, c->z[c->n] = v[rd->col[t]];
        c->n++;
    }
    return 1;
}

/* A window of more than MAX_WINDOW_CELLS cells (a raster of sub-millimetre cells, or a
 * drone DSM of centimetres under a large footprint) read whole took unbounded time and
 * memory (10 GB within 30 s): it is read at a coarser step instead, GDAL picking the
 * nearest cell (deterministic), about MAX_WINDOW_CELLS of them; percentiles over a regular
 * sample of the cells. */
#define MAX_WINDOW_CELLS (1024.0 * 1024.0)

static ct_status scan_decimated(ct_context *ctx, ct_raster_reader *rd, const double bbox[4], const int win[4],
                                ct_raster_cells *c, int *found) {
    const double k = sqrt((double)win[2] * (double)win[3] / MAX_WINDOW_CELLS);
    const int bw = (int)fmax(1.0, ceil(win[2] / k)), bh = (int)fmax(1.0, ceil(win[3] / k));
    const size_t n = (size_t)bw * (size_t)bh;
    double *v = malloc(n * sizeof *v);
    unsigned char *m = rd->mask ? malloc(n) : NULL;
    float *row = malloc((size_t)bw * sizeof *row);
    ct_status st = CT_OK;
    if (!v || !row || (rd->mask && !m) || (c && rd->to_work && !coords_reserve(rd, (size_t)bw)))
        st = ct_error_nomem(ctx, "raster window");
    if (st == CT_OK && !read_window(ctx, rd, win[0], win[1], win[2], win[3], v, m, bw, bh))
        st = ct_error_code(ctx) != CT_OK ? ct_error_code(ctx) : CT_ERR_INPUT;
    const double sx = (double)win[2] / bw, sy = (double)win[3] / bh;
    for (int j = 0; st == CT_OK && j < bh; j++) {
        for (int i = 0; i < bw; i++) {
            size_t at = (size_t)j * (size_t)bw + (size_t)i;
            row[i] = cell_value(rd, v[at], m ? m[at] : 1);
            if (found && !isnan(row[i])) {
                *found = 1;
                break;
            }
        }
        if (found) {
            if (*found) break;
            continue;
        }
        if (!emit_row(rd, bbox, c, row, bw, win[0] + 0.5 * sx, sx, win[1] + (j + 0.5) * sy))
            st = ct_error_nomem(ctx, "raster cells");
    }
    free(v);
    free(m);
    free(row);
    return st;
}

/* Goes over the window of bbox chunk by chunk; collects cells (c != NULL) or stops at
 * the first valid one (found != NULL). */
static ct_status scan(ct_context *ctx, ct_raster_reader *rd, const double bbox[4], ct_raster_cells *c, int *found) {
    int win[4];
    if (c) c->n = 0;
    if (found) *found = 0;
    if (!window_of(rd, bbox, win)) return CT_OK;
    if ((double)win[2] * (double)win[3] > MAX_WINDOW_CELLS) return scan_decimated(ctx, rd, bbox, win, c, found);
    int wc1 = win[0] + win[2], wr1 = win[1] + win[3]; /* exclusive */
    if (c && rd->to_work && !coords_reserve(rd, CHUNK)) return ct_error_nomem(ctx, "raster window");
    for (int cy = win[1] / CHUNK; cy <= (wr1 - 1) / CHUNK; cy++)
        for (int cx = win[0] / CHUNK; cx <= (wc1 - 1) / CHUNK; cx++) {
            const struct chunk *ch = get_chunk(ctx, rd, cx, cy);
            if (!ch) return ct_error_code(ctx) != CT_OK ? ct_error_code(ctx) : CT_ERR_IO;
            int c0 = win[0] > cx * CHUNK ? win[0] - cx * CHUNK : 0, c1 = wc1 - cx * CHUNK < ch->w ? wc1 - cx * CHUNK : ch->w;
            int r0 = win[1] > cy * CHUNK ? win[1] - cy * CHUNK : 0, r1 = wr1 - cy * CHUNK < ch->h ? wr1 - cy * CHUNK : ch->h;
            for (int i = r0; i < r1; i++) {
                const float *v = ch->v + (size_t)i * (size_t)ch->w;
                if (found) {
                    for (int k = c0; k < c1; k++)
                        if (!isnan(v[k])) {
                            *found = 1;
                            return CT_OK;
                        }
                    continue;
                }
                double py = (double)(cy * CHUNK + i) + 0.5, px0 = (double)(cx * CHUNK + c0) + 0.5;
                if (!emit_row(rd, bbox, c, v + c0, c1 - c0, px0, 1.0, py)) return ct_error_nomem(ctx, "raster cells");
            }
        }
    return CT_OK;
}

ct_status ct_raster_read_cells(ct_context *ctx, ct_raster_reader *rd, const double bbox[4], ct_raster_cells *c) {
    return scan(ctx, rd, bbox, c, NULL);
}

ct_status ct_raster_any_valid(ct_context *ctx, ct_raster_reader *rd, const double bbox[4], int *found) {
    return scan(ctx, rd, bbox, NULL, found);
}

/* Opens one raster of the set and checks that it has a valid cell in o->check_bbox. */
static ct_status open_one(ct_context *ctx, const ct_raster_set_options *o, const char *path, const char *what,
                          ct_raster **out) {
    ct_raster_open_options ro = {path, o->srs, o->band, o->working_crs};
    ct_status st = ct_raster_open(ctx, &ro, out);
    if (st != CT_OK || !o->check_bbox) return st;
    ct_raster_reader *rd = NULL;
    int found = 0;
    st = ct_raster_reader_create(ctx, *out, &rd);
    if (st == CT_OK) st = ct_raster_any_valid(ctx, rd, o->check_bbox, &found);
    ct_raster_reader_destroy(rd);
    if (st == CT_OK && !found) {
        const double *b = o->check_bbox, *e = (*out)->extent;
        st = ct_error(ctx, CT_ERR_INPUT,
                      "%s: the %s has no valid cell in the footprints' extent (%.1f %.1f %.1f %.1f): nodata everywhere "
                      "there, or a raster of another area (its extent in the working CRS: %.1f %.1f %.1f %.1f)",
                      path, what, b[0], b[1], b[2], b[3], e[0], e[1], e[2], e[3]);
    }
    if (st != CT_OK) {
        ct_raster_close(*out);
        *out = NULL;
    }
    return st;
}

ct_status ct_raster_set_open(ct_context *ctx, const ct_raster_set_options *o, ct_raster_set **out) {
    *out = NULL;
    if (!o->dtm && !o->dsm) return ct_error(ctx, CT_ERR_USAGE, "raster: give a DTM, a DSM or both");
    ct_raster_set *s = calloc(1, sizeof *s);
    if (!s) return ct_error_nomem(ctx, "raster set");
    ct_status st = CT_OK;
    if (o->dtm) st = open_one(ctx, o, o->dtm, "DTM", &s->dtm);
    if (st == CT_OK && o->dsm) st = open_one(ctx, o, o->dsm, "DSM", &s->dsm);
    if (st != CT_OK) {
        ct_raster_set_destroy(s);
        return st;
    }
    *out = s;
    return CT_OK;
}
