/* synthcity — a deterministic synthetic city for tests and benchmarks.
 *
 *   synthcity --buildings N --out DIR [--seed S] [--density PTS_PER_M2]
 *             [--srs CRS] [--origin X Y]
 *
 * writes DIR/footprints.gpkg, DIR/points.las, DIR/assets.gpkg and DIR/truth.csv
 * (see README.md). Same arguments, same bytes. */
#include <cpl_conv.h>
#include <cpl_error.h>
#include <errno.h>
#include <gdal.h>
#include <limits.h>
#include <math.h>
#include <ogr_srs_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sc_city.h"
#include "sc_las.h"
#include "sc_points.h"
#include "sc_vector.h"

#define MAX_BUILDINGS 100000000ull
#define DEFAULT_SRS "EPSG:28992"
#define DEFAULT_VERTICAL 5709 /* NAP height */

typedef struct options {
    uint64_t buildings;
    uint64_t seed;
    const char *out;
    double density;
    const char *srs;
    int has_origin;
    double ox, oy;
} options;

static void usage(FILE *f) {
    fputs("usage: synthcity --buildings N --out DIR [--seed S] [--density PTS_PER_M2]\n"
          "                 [--srs CRS] [--origin X Y]\n"
          "\n"
          "Writes a deterministic synthetic city into DIR: footprints.gpkg (layer buildings),\n"
          "points.las (LAS 1.4, point format 6), assets.gpkg (layer assets) and truth.csv.\n"
          "\n"
          "  --buildings N     number of footprints (1.." "100000000)\n"
          "  --out DIR         output directory (created if missing; the four files are replaced)\n"
          "  --seed S          64-bit seed (default 1): same seed, same bytes\n"
          "  --density D       LiDAR pulses per square metre (default 10, at most 1000)\n"
          "  --srs CRS         projected CRS in metres (default EPSG:28992); the LAS CRS is that\n"
          "                    plus EPSG:5709 (NAP height) unless CRS is already compound\n"
          "                    (e.g. EPSG:27700+5701)\n"
          "  --origin X Y      south-west corner of the city in CRS units (default 85000 445000,\n"
          "                    near Delft, with EPSG:28992; required with any other CRS)\n",
          f);
}

static int parse_u64(const char *s, uint64_t *out) {
    if (!s || !*s || *s == '-') return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end) return -1;
    *out = (uint64_t)v;
    return 0;
}

static int parse_double(const char *s, double *out) {
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || v != v) return -1;
    *out = v;
    return 0;
}

/* Returns 0 to run, 1 to exit 0 (help), 2 on bad usage (message printed). */
static int parse_args(int argc, char **argv, options *o) {
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->density = 10.0;
    o->srs = DEFAULT_SRS;
    int have_buildings = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 1;
        } else if (strcmp(a, "--buildings") == 0) {
            if (parse_u64(v, &o->buildings) != 0 || o->buildings < 1 || o->buildings > MAX_BUILDINGS) {
                fprintf(stderr, "synthcity: --buildings needs an integer from 1 to %llu\n", MAX_BUILDINGS);
                return 2;
            }
            have_buildings = 1;
            i++;
        } else if (strcmp(a, "--seed") == 0) {
            if (parse_u64(v, &o->seed) != 0) {
                fprintf(stderr, "synthcity: --seed needs an unsigned 64-bit integer\n");
                return 2;
            }
            i++;
        } else if (strcmp(a, "--out") == 0) {
            if (!v || !*v) {
                fprintf(stderr, "synthcity: --out needs a directory\n");
                return 2;
            }
            o->out = v;
            i++;
        } else if (strcmp(a, "--density") == 0) {
            if (parse_double(v, &o->density) != 0 || !(o->density > 0.0) || o->density > 1000.0) {
                fprintf(stderr, "synthcity: --density needs a number of points per m2 in (0, 1000]\n");
                return 2;
            }
            i++;
        } else if (strcmp(a, "--srs") == 0) {
            if (!v || !*v) {
                fprintf(stderr, "synthcity: --srs needs a CRS (e.g. EPSG:28992)\n");
                return 2;
            }
            o->srs = v;
            i++;
        } else if (strcmp(a, "--origin") == 0) {
            const char *v2 = i + 2 < argc ? argv[i + 2] : NULL;
            if (parse_double(v, &o->ox) != 0 || parse_double(v2, &o->oy) != 0 || o->ox < -1e7 || o->ox > 1e7 ||
                o->oy < -1e7 || o->oy > 1e8) {
                fprintf(stderr, "synthcity: --origin needs two coordinates X Y\n");
                return 2;
            }
            o->has_origin = 1;
            i += 2;
        } else {
            fprintf(stderr, "synthcity: unknown argument '%s' (see --help)\n", a);
            return 2;
        }
    }
    if (!have_buildings || !o->out) {
        fprintf(stderr, "synthcity: --buildings and --out are required (see --help)\n");
        return 2;
    }
    return 0;
}

/* mkdir -p. Returns 0 or -1 (errno). */
static int make_dirs(const char *path) {
    size_t n = strlen(path);
    char *p = malloc(n + 1);
    if (!p) return -1;
    memcpy(p, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] == '/' || p[i] == '\0') {
            char c = p[i];
            p[i] = '\0';
            if (mkdir(p, 0777) != 0 && errno != EEXIST) {
                free(p);
                return -1;
            }
            p[i] = c;
        }
    }
    free(p);
    struct stat st;
    if (stat(path, &st) != 0) return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The CRS of the footprints (horizontal) and of the LAS file (compound, as WKT1).
 * Returns 0 or 2 (message printed). */
static int make_crs(const options *o, OGRSpatialReferenceH *horiz, char **las_wkt) {
    *horiz = NULL;
    *las_wkt = NULL;
    OGRSpatialReferenceH in = OSRNewSpatialReference(NULL), las = NULL;
    if (!in) return 2;
    if (OSRSetFromUserInput(in, o->srs) != OGRERR_NONE) {
        fprintf(stderr, "synthcity: --srs %s: not a CRS GDAL/PROJ understands\n", o->srs);
        OSRDestroySpatialReference(in);
        return 2;
    }
    OGRSpatialReferenceH h = OSRClone(in);
    if (OSRIsCompound(in)) {
        OSRStripVertical(h);
        las = OSRClone(in);
    } else {
        las = OSRNewSpatialReference(NULL);
        char buf[256];
        snprintf(buf, sizeof buf, "%s+%d", o->srs, DEFAULT_VERTICAL);
        if (strncmp(o->srs, "EPSG:", 5) != 0 || OSRSetFromUserInput(las, buf) != OGRERR_NONE) {
            OGRSpatialReferenceH v = OSRNewSpatialReference(NULL);
            char name[512];
            snprintf(name, sizeof name, "%s + NAP height", OSRGetName(h) ? OSRGetName(h) : "unnamed");
            if (!v || OSRImportFromEPSG(v, DEFAULT_VERTICAL) != OGRERR_NONE ||
                OSRSetCompoundCS(las, name, h, v) != OGRERR_NONE) {
                fprintf(stderr, "synthcity: --srs %s: cannot make a compound CRS with EPSG:%d\n", o->srs,
                        DEFAULT_VERTICAL);
                if (v) OSRDestroySpatialReference(v);
                OSRDestroySpatialReference(las);
                OSRDestroySpatialReference(h);
                OSRDestroySpatialReference(in);
                return 2;
            }
            OSRDestroySpatialReference(v);
        }
    }
    OSRDestroySpatialReference(in);
    double unit = OSRGetLinearUnits(h, NULL);
    if (!OSRIsProjected(h) || unit < 0.999999 || unit > 1.000001) {
        fprintf(stderr, "synthcity: --srs %s: needs a projected CRS in metres\n", o->srs);
        OSRDestroySpatialReference(las);
        OSRDestroySpatialReference(h);
        return 2;
    }
    OSRSetAxisMappingStrategy(h, OAMS_TRADITIONAL_GIS_ORDER);
    const char *wopts[] = {"FORMAT=WKT1", NULL};
    char *wkt = NULL;
    if (OSRExportToWktEx(las, &wkt, wopts) != OGRERR_NONE || !wkt) {
        fprintf(stderr, "synthcity: --srs %s: cannot export the LAS CRS as WKT1: %s\n", o->srs,
                CPLGetLastErrorMsg());
        CPLFree(wkt);
        OSRDestroySpatialReference(las);
        OSRDestroySpatialReference(h);
        return 2;
    }
    OSRDestroySpatialReference(las);
    *horiz = h;
    *las_wkt = wkt;
    return 0;
}

static uint64_t file_size(const char *dir, const char *name) {
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    struct stat st;
    return stat(p, &st) == 0 ? (uint64_t)st.st_size : 0;
}

int main(int argc, char **argv) {
    options o;
    int rc = parse_args(argc, argv, &o);
    if (rc == 1) return 0;
    if (rc != 0) return 2;
    double t0 = now();

    GDALAllRegister();
    /* Deterministic GeoPackages: a fixed gpkg_contents.last_change. */
    CPLSetConfigOption("OGR_CURRENT_DATE", "2025-01-01T00:00:00.000Z");

    OGRSpatialReferenceH horiz;
    char *wkt;
    if (make_crs(&o, &horiz, &wkt) != 0) return 2;
    if (!o.has_origin) {
        const char *auth = OSRGetAuthorityName(horiz, NULL), *code = OSRGetAuthorityCode(horiz, NULL);
        if (!auth || !code || strcmp(auth, "EPSG") != 0 || strcmp(code, "28992") != 0) {
            fprintf(stderr, "synthcity: --origin X Y is required with --srs %s\n", o.srs);
            OSRDestroySpatialReference(horiz);
            CPLFree(wkt);
            return 2;
        }
        o.ox = 85000.0;
        o.oy = 445000.0;
    }
    if (make_dirs(o.out) != 0) {
        fprintf(stderr, "synthcity: %s: cannot create the directory: %s\n", o.out, strerror(errno));
        OSRDestroySpatialReference(horiz);
        CPLFree(wkt);
        return 1;
    }

    int status = 1;
    sc_city city;
    sc_block blk;
    sc_index ix;
    memset(&blk, 0, sizeof blk);
    memset(&ix, 0, sizeof ix);
    sc_vector vec;
    sc_las_writer las;
    int vec_open = 0, las_open = 0;
    char las_path[4096];
    snprintf(las_path, sizeof las_path, "%s/points.las", o.out);
    int tty = isatty(STDERR_FILENO);

    if (sc_city_init(&city, o.seed, o.buildings) != 0) {
        fprintf(stderr, "synthcity: out of memory\n");
        goto done;
    }

    /* Pass 1: footprints, truth and assets; fixes the plan (where the N-th building is). */
    if (sc_vector_open(&vec, o.out, horiz, o.ox, o.oy) != 0) {
        fprintf(stderr, "synthcity: %s\n", vec.err);
        goto done;
    }
    vec_open = 1;
    for (uint64_t idx = 0, total = 0;; idx++) {
        int row = (int)(idx / (uint64_t)city.ncols), col = (int)(idx % (uint64_t)city.ncols);
        if (sc_city_row(&city, row) != 0 || sc_block_generate(&city, col, row, SIZE_MAX, 0, &blk) != 0) {
            fprintf(stderr, "synthcity: out of memory generating block %d,%d\n", col, row);
            goto done;
        }
        int last = total + blk.nb >= o.buildings;
        if (last) {
            blk.nb = (size_t)(o.buildings - total);
            city.last_block = idx;
            city.last_keep = blk.nb;
            city.planned = 1;
        }
        if (sc_vector_add_block(&vec, &city, &blk) != 0) {
            fprintf(stderr, "synthcity: %s\n", vec.err);
            goto done;
        }
        total += blk.nb;
        if (last) break;
    }
    uint64_t ninvalid = vec.ninvalid, nassets = vec.nassets;
    vec_open = 0;
    if (sc_vector_close(&vec) != 0) {
        fprintf(stderr, "synthcity: %s\n", vec.err);
        goto done;
    }
    double t1 = now();
    if (tty) fprintf(stderr, "synthcity: vectors written (%.1f s), simulating LiDAR...\n", t1 - t0);

    /* Pass 2: the points, cell by cell (row-major), streamed to the LAS file. */
    const double offset[3] = {o.ox, o.oy, 0.0};
    if (sc_las_open(&las, las_path, wkt, offset) != 0) {
        fprintf(stderr, "synthcity: %s\n", las.err);
        goto done;
    }
    las_open = 1;
    sc_points_state ps;
    memset(&ps, 0, sizeof ps);
    ps.spacing = 1.0 / sqrt(o.density);
    int nrows = (int)(city.last_block / (uint64_t)city.ncols) + 1;
    for (int row = 0; row < nrows; row++) {
        for (int col = 0; col < city.ncols; col++) {
            uint64_t idx = (uint64_t)row * (uint64_t)city.ncols + (uint64_t)col;
            size_t keep = idx < city.last_block ? SIZE_MAX : idx == city.last_block ? city.last_keep : 0;
            int nomem = 0;
            if (sc_block_generate(&city, col, row, keep, idx > city.last_block, &blk) != 0 ||
                sc_points_cell(&city, &blk, &ix, &ps, &las, &nomem) != 0) {
                if (nomem || !las.err[0]) fprintf(stderr, "synthcity: out of memory in block %d,%d\n", col, row);
                else fprintf(stderr, "synthcity: %s\n", las.err);
                goto done;
            }
        }
        if (tty) fprintf(stderr, "\rsynthcity: LiDAR row %d/%d, %llu points", row + 1, nrows,
                         (unsigned long long)las.count);
    }
    if (tty) fputc('\n', stderr);
    uint64_t npoints = las.count, las_bytes = sc_las_size(&las);
    las_open = 0;
    if (sc_las_close(&las) != 0) {
        fprintf(stderr, "synthcity: %s\n", las.err);
        goto done;
    }
    uint64_t total_bytes = las_bytes + file_size(o.out, "footprints.gpkg") + file_size(o.out, "assets.gpkg") +
                           file_size(o.out, "truth.csv");
    printf("synthcity: %llu buildings (%llu invalid), %llu assets, %llu points (%.1f pts/m2 over %.2f km2), "
           "%llu bytes LAS, %llu bytes total, %.2f s -> %s\n",
           (unsigned long long)o.buildings, (unsigned long long)ninvalid, (unsigned long long)nassets,
           (unsigned long long)npoints, o.density,
           city.xe[city.ncols] * city.ye[nrows] / 1e6, (unsigned long long)las_bytes,
           (unsigned long long)total_bytes, now() - t0, o.out);
    status = 0;
done:
    if (vec_open) sc_vector_abort(&vec);
    if (las_open) sc_las_abort(&las);
    if (status != 0) {
        /* No half set of outputs: remove whatever this run wrote. */
        static const char *const names[] = {"footprints.gpkg", "assets.gpkg", "truth.csv", "points.las"};
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            char p[4096];
            snprintf(p, sizeof p, "%s/%s", o.out, names[i]);
            unlink(p);
        }
    }
    sc_index_free(&ix);
    sc_block_free(&blk);
    sc_city_free(&city);
    OSRDestroySpatialReference(horiz);
    CPLFree(wkt);
    return status;
}
