/* Several LAS files (files, directories, globs) read as one source. */
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cpl_error.h>
#include <ogr_srs_api.h>

#include "core/hash.h"
#include "io/las_internal.h"

struct ct_las_source {
    ct_las_reader **readers;
    uint64_t *prints;           /* per reader: its size and content print (copy_print) */
    size_t n, cap;
    uint64_t points;
    double min[3], max[3];
    const char *crs_wkt;        /* points into the reader that defined it */
    const char *crs_path;
    const ct_las_header *crs_header;
};

/* The files read so far, as (device, inode) pairs: first `before` of earlier sources
 * (readers.lidar stages), then one per reader of this source, in its order. */
typedef struct file_list {
    uint64_t **ids;
    size_t *n;
    size_t before;
} file_list;

/* A LAS file copied under another name ("tile (1).las" beside "tile.las", a copy kept
 * from an earlier tiling) holds the same points: read twice, they counted twice in every
 * percentile and density with nothing said. Files are compared whole (same_content) only
 * when they have the same size and the same bytes in their first 16 KiB (header, VLRs,
 * first records) and in 4 KiB at a third, at two thirds and at the end: out[0] the size,
 * out[1] a hash of those bytes. Returns 0 when the file cannot be read (then it is not
 * compared). */
static int copy_print(const ct_las_reader *r, uint64_t size, uint64_t out[2]) {
    unsigned char buf[16384];
    uint64_t h = CT_FNV1A_BASIS;
    const uint64_t at[4] = {0, size / 3, 2 * (size / 3), size > 4096 ? size - 4096 : 0};
    for (int k = 0; k < 4; k++) {
        size_t want = k == 0 ? sizeof buf : 4096;
        if (at[k] + want > size) want = (size_t)(size - at[k]);
        ssize_t got = r->fd >= 0 ? pread(r->fd, buf, want, (off_t)at[k]) : -1;
        if (got != (ssize_t)want) return 0;
        h = ct_fnv1a(h, buf, want);
    }
    out[0] = size;
    out[1] = h;
    return 1;
}

/* 1 when files a and b (of `size` bytes each) hold the same bytes, compared whole: run
 * only for files whose copy prints agree. */
static int same_content(int a, int b, uint64_t size) {
    enum { CHUNK = 1 << 20 };
    unsigned char *p = malloc(2 * (size_t)CHUNK);
    if (!p) return 0;
    int same = a >= 0 && b >= 0;
    for (uint64_t at = 0; same && at < size; at += CHUNK) {
        size_t want = size - at < CHUNK ? (size_t)(size - at) : (size_t)CHUNK;
        same = pread(a, p, want, (off_t)at) == (ssize_t)want && pread(b, p + CHUNK, want, (off_t)at) == (ssize_t)want &&
               memcmp(p, p + CHUNK, want) == 0;
    }
    free(p);
    return same;
}

/* The same file reached twice (listed twice, or by a path and a glob, a directory or a
 * link) would count its points twice in every percentile and density: within this
 * source it is read once, with a warning; a file an earlier source read is refused.
 * Found by device and inode before opening (a second open would parse its header and
 * VLRs for nothing). */
static ct_status add_reader(ct_context *ctx, ct_las_source *s, file_list *files, const char *path) {
    struct stat fs;
    if (stat(path, &fs) != 0) return ct_error(ctx, CT_ERR_INPUT, "%s: cannot open: %s", path, strerror(errno));
    const uint64_t dev = (uint64_t)fs.st_dev, ino = (uint64_t)fs.st_ino;
    for (size_t k = 0; k < *files->n; k++) {
        if ((*files->ids)[2 * k] != dev || (*files->ids)[2 * k + 1] != ino) continue;
        if (k < files->before)
            return ct_error(ctx, CT_ERR_USAGE,
                            "%s: an earlier readers.lidar stage read this file: its points would count twice; "
                            "list every LAS file in one readers.lidar stage",
                            path);
        ct_log(ctx, CT_LOG_WARN, "LAS source: %s is the same file as %s (reached twice: listed twice, or through a "
               "link, a glob or a directory): read once", path,
               s->readers[k - files->before]->path);
        return CT_OK;
    }
    if (s->n == s->cap) {
        size_t nc = s->cap ? 2 * s->cap : 8;
        ct_las_reader **nr = realloc(s->readers, nc * sizeof *nr);
        if (!nr) return ct_error_nomem(ctx, "LAS source list");
        s->readers = nr;
        uint64_t *np = realloc(s->prints, 2 * nc * sizeof *np);
        if (!np) return ct_error_nomem(ctx, "LAS source list");
        s->prints = np;
        s->cap = nc;
    }
    uint64_t *ni = realloc(*files->ids, 2 * (*files->n + 1) * sizeof *ni);
    if (!ni) return ct_error_nomem(ctx, "LAS file list");
    *files->ids = ni;
    ct_las_reader *r = NULL;
    ct_status st = ct_las_open(ctx, path, &r);
    if (st != CT_OK) return st;
    uint64_t print[2] = {UINT64_MAX, 0};
    if (copy_print(r, (uint64_t)fs.st_size, print))
        for (size_t k = 0; k < s->n; k++) {
            if (s->prints[2 * k] != print[0] || s->prints[2 * k + 1] != print[1] ||
                !same_content(r->fd, s->readers[k]->fd, print[0]))
                continue;
            ct_log(ctx, CT_LOG_WARN, "LAS source: %s holds the same points as %s (the same size, header and sampled "
                   "records: a copy): read once", path, s->readers[k]->path);
            ct_las_close(r);
            return CT_OK;
        }
    s->prints[2 * s->n] = print[0];
    s->prints[2 * s->n + 1] = print[1];
    ni[2 * *files->n] = dev;
    ni[2 * *files->n + 1] = ino;
    (*files->n)++;
    s->readers[s->n++] = r;
    return CT_OK;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int has_extension(const char *name, const char *ext) {
    size_t n = strlen(name), m = strlen(ext);
    return n >= m && strcasecmp(name + n - m, ext) == 0;
}

static int is_point_file(const char *name) { return has_extension(name, ".las") || has_extension(name, ".laz"); }

/* 1 when names[i] is a .laz and names[i - 1] (sorted) the .las of the same name: its
 * decompressed twin, which would give every point twice. */
static int laz_beside_its_las(char *const *names, size_t i) {
    if (i == 0 || !has_extension(names[i], ".laz") || !has_extension(names[i - 1], ".las")) return 0;
    size_t n = strlen(names[i]);
    return strlen(names[i - 1]) == n && strncmp(names[i], names[i - 1], n - 4) == 0;
}

static ct_status add_directory(ct_context *ctx, ct_las_source *s, file_list *files, const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return ct_error(ctx, CT_ERR_INPUT, "%s: cannot read directory: %s", dir, strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0, nhidden = 0;
    ct_status st = CT_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        /* Hidden files are not tiles: "._tile.las" is the AppleDouble companion a Mac
         * leaves beside "tile.las" on a shared disk (a glob passes over them too). */
        if (e->d_name[0] == '.') {
            nhidden += (size_t)is_point_file(e->d_name);
            continue;
        }
        if (!is_point_file(e->d_name)) continue;
        if (n == cap) {
            size_t nc = cap ? 2 * cap : 16;
            char **nn = realloc(names, nc * sizeof *nn);
            if (!nn) {
                st = ct_error_nomem(ctx, "LAS directory listing");
                break;
            }
            names = nn;
            cap = nc;
        }
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        names[n] = malloc(len);
        if (!names[n]) {
            st = ct_error_nomem(ctx, "LAS directory listing");
            break;
        }
        snprintf(names[n], len, "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    if (st == CT_OK && n == 0) st = ct_error(ctx, CT_ERR_INPUT, "%s: directory holds no .las or .laz file", dir);
    if (st == CT_OK && nhidden > 0)
        ct_log(ctx, CT_LOG_INFO, "%s: %zu hidden file(s) named .las or .laz passed over (such as the '._' companions a "
               "Mac leaves beside files)", dir, nhidden);
    if (st == CT_OK) {
        /* sorted as bytes: "a.las" comes right before "a.laz" */
        qsort(names, n, sizeof *names, cmp_str);
        for (size_t i = 0; i < n && st == CT_OK; i++) {
            if (laz_beside_its_las(names, i))
                ct_log(ctx, CT_LOG_WARN, "%s: passed over: %s beside it has the same name (its decompressed twin; "
                       "reading both would count every point twice)", names[i], names[i - 1]);
            else
                st = add_reader(ctx, s, files, names[i]);
        }
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    return st;
}

static ct_status add_input(ct_context *ctx, ct_las_source *s, file_list *files, const char *in) {
    struct stat st;
    if (stat(in, &st) == 0) {
        if (S_ISDIR(st.st_mode)) return add_directory(ctx, s, files, in);
        return add_reader(ctx, s, files, in);
    }
    if (strpbrk(in, "*?[") == NULL)
        return ct_error(ctx, CT_ERR_INPUT, "%s: no such file or directory", in);
    glob_t g;
    int rc = glob(in, 0, NULL, &g);
    if (rc == GLOB_NOMATCH) return ct_error(ctx, CT_ERR_INPUT, "%s: pattern matches no file", in);
    if (rc != 0) {
        globfree(&g);
        return rc == GLOB_NOSPACE ? ct_error_nomem(ctx, "glob results")
                                  : ct_error(ctx, CT_ERR_IO, "%s: cannot expand pattern", in);
    }
    ct_status r = CT_OK;
    for (size_t i = 0; i < g.gl_pathc && r == CT_OK; i++) r = add_reader(ctx, s, files, g.gl_pathv[i]);
    globfree(&g);
    return r;
}

/* "EPSG:h+v", "EPSG:h", "EPSG:?+v" or "a CRS without EPSG code" of a header, for messages. */
static void crs_label(const ct_las_header *h, char *out, size_t size) {
    if (h->epsg_horizontal && h->epsg_vertical) snprintf(out, size, "EPSG:%d+%d", h->epsg_horizontal, h->epsg_vertical);
    else if (h->epsg_horizontal) snprintf(out, size, "EPSG:%d", h->epsg_horizontal);
    else if (h->epsg_vertical) snprintf(out, size, "EPSG:?+%d", h->epsg_vertical);
    else snprintf(out, size, "a CRS without EPSG code");
}

/* 1 when WKT strings a and b parse and relation(a, b) holds (quietly: a WKT GDAL cannot
 * read compares as different). */
static int wkt_relation(const char *a, const char *b, int (*relation)(OGRSpatialReferenceH, OGRSpatialReferenceH)) {
    OGRSpatialReferenceH sa = OSRNewSpatialReference(NULL), sb = OSRNewSpatialReference(NULL);
    int yes = 0;
    if (sa && sb) {
        char *pa = (char *)a, *pb = (char *)b;
        CPLPushErrorHandler(CPLQuietErrorHandler);
        if (OSRImportFromWkt(sa, &pa) == OGRERR_NONE && OSRImportFromWkt(sb, &pb) == OGRERR_NONE) yes = relation(sa, sb);
        CPLPopErrorHandler();
    }
    if (sa) OSRDestroySpatialReference(sa);
    if (sb) OSRDestroySpatialReference(sb);
    return yes;
}

static int srs_same(OGRSpatialReferenceH a, OGRSpatialReferenceH b) {
    const char *opts[] = {"IGNORE_DATA_AXIS_TO_SRS_AXIS_MAPPING=YES", "CRITERION=EQUIVALENT_EXCEPT_AXIS_ORDER_GEOGCRS",
                          NULL};
    return OSRIsSameEx(a, b, opts);
}

/* compound (modified) is a compound CRS whose horizontal part is the 2D CRS horizontal. */
static int srs_adds_heights(OGRSpatialReferenceH compound, OGRSpatialReferenceH horizontal) {
    return OSRIsCompound(compound) && !OSRIsCompound(horizontal) && OSRGetAxesCount(horizontal) == 2 &&
           OSRStripVertical(compound) == OGRERR_NONE && srs_same(compound, horizontal);
}

/* 1 when both WKT strings denote the same CRS. */
static int same_crs(const char *a, const char *b) { return strcmp(a, b) == 0 || wkt_relation(a, b, srs_same); }

/* 1 when `compound` is a compound CRS whose horizontal part is the CRS `horizontal` (a 2D
 * CRS): files of one survey where some carry the vertical datum and some not. */
static int adds_heights_to(const char *compound, const char *horizontal) {
    return wkt_relation(compound, horizontal, srs_adds_heights);
}

ct_status ct_las_source_open(ct_context *ctx, const char *const *inputs, size_t ninputs, uint64_t **file_ids,
                             size_t *nfile_ids, ct_las_source **out) {
    *out = NULL;
    if (ninputs == 0) return ct_error(ctx, CT_ERR_USAGE, "LAS source: no input given");
    ct_las_source *s = calloc(1, sizeof *s);
    if (!s) return ct_error_nomem(ctx, "LAS source");
    ct_status st = CT_OK;
    file_list files = {file_ids, nfile_ids, *nfile_ids};
    for (size_t i = 0; i < ninputs && st == CT_OK; i++) st = add_input(ctx, s, &files, inputs[i]);
    const char *nocrs_path = NULL, *noheights_path = NULL;
    size_t nocrs = 0; /* files without a CRS (the first named: nocrs_path) */
    for (size_t i = 0; i < s->n && st == CT_OK; i++) {
        const ct_las_header *h = &s->readers[i]->hdr;
        if (h->crs_wkt) {
            if (!s->crs_wkt) {
                s->crs_wkt = h->crs_wkt;
                s->crs_path = s->readers[i]->path;
                s->crs_header = h;
            } else if (same_crs(s->crs_wkt, h->crs_wkt)) {
                /* (the same CRS) */
            } else if (adds_heights_to(s->crs_wkt, h->crs_wkt)) {
                if (!noheights_path) noheights_path = s->readers[i]->path;
            } else if (adds_heights_to(h->crs_wkt, s->crs_wkt)) {
                /* the files so far gave the horizontal CRS only: this one gives the heights' too */
                if (!noheights_path) noheights_path = s->crs_path;
                s->crs_wkt = h->crs_wkt;
                s->crs_path = s->readers[i]->path;
                s->crs_header = h;
            } else {
                /* With the vertical part: files that differ only there said "EPSG:2263 vs EPSG:2263". */
                char a[48], b[48];
                crs_label(s->crs_header, a, sizeof a);
                crs_label(h, b, sizeof b);
                st = ct_error(ctx, CT_ERR_INPUT,
                              "LAS source: %s and %s have different CRSs (%s vs %s%s); "
                              "reproject them to one CRS first, or set readers.lidar's srs when one of them is wrong",
                              s->crs_path, s->readers[i]->path, a, b,
                              strcmp(a, b) == 0 ? ": they differ in more than the EPSG codes, see citytiler info" : "");
            }
        } else if (nocrs++ == 0) {
            nocrs_path = s->readers[i]->path;
        }
        if (st != CT_OK) break;
        s->points += h->point_count;
        for (int k = 0; k < 3; k++) {
            if (i == 0 || h->min[k] < s->min[k]) s->min[k] = h->min[k];
            if (i == 0 || h->max[k] > s->max[k]) s->max[k] = h->max[k];
        }
    }
    if (st == CT_OK && nocrs == 1 && s->crs_wkt)
        ct_log(ctx, CT_LOG_WARN, "LAS source: %s has no CRS: assuming the CRS of %s", nocrs_path,
               s->crs_path);
    else if (st == CT_OK && nocrs > 1 && s->crs_wkt)
        ct_log(ctx, CT_LOG_WARN, "LAS source: %zu files have no CRS (first: %s): assuming the CRS of %s for them",
               nocrs, nocrs_path, s->crs_path);
    if (st == CT_OK && noheights_path)
        ct_log(ctx, CT_LOG_WARN, "LAS source: %s gives only the horizontal part of the CRS of %s: assuming its "
               "heights are in the same vertical CRS (set readers.lidar's srs if they are not)", noheights_path,
               s->crs_path);
    if (st != CT_OK) {
        *nfile_ids = files.before; /* this source's files were not read */
        ct_las_source_close(s);
        return st;
    }
    *out = s;
    return CT_OK;
}

size_t ct_las_source_count(const ct_las_source *s) { return s->n; }
const ct_las_reader *ct_las_source_reader(const ct_las_source *s, size_t i) {
    return i < s->n ? s->readers[i] : NULL;
}
void ct_las_source_release_file(ct_las_source *s, size_t i) {
    if (i < s->n) ct_las_release_file(s->readers[i]);
}
uint64_t ct_las_source_point_count(const ct_las_source *s) { return s->points; }
void ct_las_source_bounds(const ct_las_source *s, double min[3], double max[3]) {
    for (int k = 0; k < 3; k++) {
        min[k] = s->min[k];
        max[k] = s->max[k];
    }
}
const char *ct_las_source_crs_wkt(const ct_las_source *s) { return s->crs_wkt; }

void ct_las_source_set_z_unit(ct_las_source *s, double metres_per_unit) {
    for (size_t i = 0; i < s->n; i++) {
        ct_las_header *h = &s->readers[i]->hdr;
        h->scale[2] *= metres_per_unit;
        h->offset[2] *= metres_per_unit;
        h->min[2] *= metres_per_unit;
        h->max[2] *= metres_per_unit;
    }
    s->min[2] *= metres_per_unit;
    s->max[2] *= metres_per_unit;
}

ct_status ct_las_source_z_units_key(ct_context *ctx, const ct_las_source *s, double *key, const char **path) {
    const ct_las_reader *with = NULL, *without = NULL;
    for (size_t i = 0; i < s->n; i++) {
        const ct_las_reader *r = s->readers[i];
        double k = r->hdr.z_units_key;
        if (!(k > 0)) {
            if (!without) without = r;
        } else if (!with) {
            with = r;
        } else if (fabs(k - with->hdr.z_units_key) > 1e-9 * k) {
            *key = 0;
            return ct_error(ctx, CT_ERR_INPUT,
                            "LAS source: %s and %s give z in different units (GeoTIFF VerticalUnitsGeoKey: %.10g m "
                            "vs %.10g m a unit); convert them to one unit or read them in separate readers.lidar stages",
                            with->path, r->path, with->hdr.z_units_key, k);
        }
    }
    *key = with ? with->hdr.z_units_key : 0;
    if (path) *path = with ? with->path : NULL;
    if (with && without && *key != 1.0)
        ct_log(ctx, CT_LOG_WARN, "LAS source: %s has no VerticalUnitsGeoKey: its z is taken in the unit of %s's "
               "(%.10g m)", without->path, with->path, *key);
    return CT_OK;
}

void ct_las_source_close(ct_las_source *s) {
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) ct_las_close(s->readers[i]);
    free(s->readers);
    free(s->prints);
    free(s);
}
