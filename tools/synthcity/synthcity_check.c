/* synthcity_check DIR — checks that a synthcity output is consistent with itself,
 * reading it back with the project's own readers (OGR for the GeoPackages,
 * ct_las_* for the LAS file):
 *   - truth.csv matches footprints.gpkg row by row (id, height = roof_z - ground_z,
 *     area of every valid footprint);
 *   - every class 6 (building) point lies in a footprint, within 5 cm of its roof_z
 *     (footprints of kind invalid_* are broken on purpose: their points are only
 *     required to lie inside the footprint's bounds);
 *   - no ground or vegetation point lies inside a valid footprint;
 *   - ground points (class 2) within 3 m of a footprint lie within 2 % slope
 *     (+ 4 cm noise) of the truth ground_z at the centroid;
 *   - every valid footprint has roof points.
 * Points within 2 mm of a wall are exempt (coordinates are stored to the millimetre).
 * Holds the footprints and a bucket grid in memory: meant for test-sized cities.
 * Exit 0 when consistent, 1 otherwise (the first problems are printed). */
#include <gdal.h>
#include <math.h>
#include <ogr_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "citytiler/context.h"
#include "citytiler/las.h"

#define CELL 10.0
#define EDGE 0.002

typedef struct pt { double x, y; } pt;
typedef struct bld {
    char id[32], kind[48];
    int invalid;
    double height, ground_z, roof_z, area, cx, cy;
    double minx, miny, maxx, maxy;
    size_t r0, nr;
    long roof_n;
} bld;

typedef struct city {
    bld *b; size_t nb, capb;
    pt *p; size_t np, capp;
    size_t *rs, *rc; size_t nr, capr; /* ring start / count */
    double minx, miny, maxx, maxy;
    int gx, gy;
    size_t *cstart, *items;
} city;

static int problems = 0;
#define PROBLEM(...) do { if (problems++ < 20) { fprintf(stderr, "synthcity_check: " __VA_ARGS__); fputc('\n', stderr); } } while (0)

static void *grow(void *p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return p;
    size_t n = *cap ? *cap * 2 : 256;
    while (n < need) n *= 2;
    void *q = realloc(p, n * elem);
    if (!q) {
        fprintf(stderr, "synthcity_check: out of memory\n");
        exit(1);
    }
    *cap = n;
    return q;
}

static int load_footprints(const char *dir, city *c) {
    char path[4096];
    snprintf(path, sizeof path, "%s/footprints.gpkg", dir);
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!ds) {
        fprintf(stderr, "synthcity_check: cannot open %s\n", path);
        return -1;
    }
    OGRLayerH l = GDALDatasetGetLayerByName(ds, "buildings");
    if (!l) {
        fprintf(stderr, "synthcity_check: %s has no layer 'buildings'\n", path);
        GDALClose(ds);
        return -1;
    }
    OGRFeatureDefnH d = OGR_L_GetLayerDefn(l);
    int fid = OGR_FD_GetFieldIndex(d, "id"), fh = OGR_FD_GetFieldIndex(d, "height"),
        fk = OGR_FD_GetFieldIndex(d, "kind"), fs = OGR_FD_GetFieldIndex(d, "storeys");
    if (fid < 0 || fh < 0 || fk < 0 || fs < 0) {
        fprintf(stderr, "synthcity_check: %s: fields id, height, kind, storeys expected\n", path);
        GDALClose(ds);
        return -1;
    }
    c->minx = c->miny = INFINITY;
    c->maxx = c->maxy = -INFINITY;
    OGRFeatureH f;
    OGR_L_ResetReading(l);
    while ((f = OGR_L_GetNextFeature(l)) != NULL) {
        c->b = grow(c->b, &c->capb, c->nb + 1, sizeof *c->b);
        bld *b = &c->b[c->nb++];
        memset(b, 0, sizeof *b);
        snprintf(b->id, sizeof b->id, "%s", OGR_F_GetFieldAsString(f, fid));
        snprintf(b->kind, sizeof b->kind, "%s", OGR_F_GetFieldAsString(f, fk));
        b->invalid = strncmp(b->kind, "invalid_", 8) == 0;
        b->height = OGR_F_GetFieldAsDouble(f, fh);
        OGRGeometryH g = OGR_F_GetGeometryRef(f);
        if (!g || wkbFlatten(OGR_G_GetGeometryType(g)) != wkbPolygon) {
            PROBLEM("%s: geometry is not a polygon", b->id);
            OGR_F_Destroy(f);
            continue;
        }
        b->area = OGR_G_Area(g); /* replaced by the truth below; kept for the comparison */
        b->r0 = c->nr;
        b->minx = b->miny = INFINITY;
        b->maxx = b->maxy = -INFINITY;
        for (int r = 0; r < OGR_G_GetGeometryCount(g); r++) {
            OGRGeometryH ring = OGR_G_GetGeometryRef(g, r);
            int n = OGR_G_GetPointCount(ring) - 1; /* drop the closing vertex */
            c->rs = grow(c->rs, &c->capr, c->nr + 1, sizeof *c->rs);
            c->p = grow(c->p, &c->capp, c->np + (size_t)n, sizeof *c->p);
            c->rs[c->nr] = c->np;
            for (int i = 0; i < n; i++) {
                double x = OGR_G_GetX(ring, i), y = OGR_G_GetY(ring, i);
                c->p[c->np++] = (pt){x, y};
                if (x < b->minx) b->minx = x;
                if (x > b->maxx) b->maxx = x;
                if (y < b->miny) b->miny = y;
                if (y > b->maxy) b->maxy = y;
            }
            c->nr++;
        }
        b->nr = c->nr - b->r0;
        if (b->minx < c->minx) c->minx = b->minx;
        if (b->miny < c->miny) c->miny = b->miny;
        if (b->maxx > c->maxx) c->maxx = b->maxx;
        if (b->maxy > c->maxy) c->maxy = b->maxy;
        OGR_F_Destroy(f);
    }
    GDALClose(ds);
    /* ring ends: start of the next ring */
    c->rc = malloc((c->nr + 1) * sizeof *c->rc);
    if (!c->rc) exit(1);
    for (size_t r = 0; r < c->nr; r++) c->rc[r] = (r + 1 < c->nr ? c->rs[r + 1] : c->np) - c->rs[r];
    return 0;
}

static int load_truth(const char *dir, city *c) {
    char path[4096], line[512];
    snprintf(path, sizeof path, "%s/truth.csv", dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "synthcity_check: cannot open %s\n", path);
        return -1;
    }
    if (!fgets(line, sizeof line, f) || strcmp(line, "id,ground_z,roof_z,area,centroid_x,centroid_y\n") != 0)
        PROBLEM("truth.csv: unexpected header");
    size_t k = 0;
    while (fgets(line, sizeof line, f)) {
        char id[32];
        double g, r, a, cx, cy;
        if (sscanf(line, "%31[^,],%lf,%lf,%lf,%lf,%lf", id, &g, &r, &a, &cx, &cy) != 6) {
            PROBLEM("truth.csv line %zu: cannot parse", k + 2);
            continue;
        }
        if (k >= c->nb) {
            PROBLEM("truth.csv has more rows than footprints.gpkg has features");
            break;
        }
        bld *b = &c->b[k++];
        if (strcmp(id, b->id) != 0) PROBLEM("truth.csv row %zu: id %s, footprint %s", k, id, b->id);
        if (fabs((r - g) - b->height) > 0.0015)
            PROBLEM("%s: height %.3f but roof_z - ground_z = %.3f", b->id, b->height, r - g);
        if (!b->invalid && fabs(a - b->area) > 0.002) PROBLEM("%s: area %.3f, footprint %.3f", b->id, a, b->area);
        b->ground_z = g, b->roof_z = r, b->area = a, b->cx = cx, b->cy = cy;
    }
    fclose(f);
    if (k != c->nb) PROBLEM("truth.csv has %zu rows, footprints.gpkg %zu features", k, c->nb);
    return 0;
}

static void build_grid(city *c) {
    c->minx -= 5, c->miny -= 5, c->maxx += 5, c->maxy += 5;
    c->gx = (int)ceil((c->maxx - c->minx) / CELL);
    c->gy = (int)ceil((c->maxy - c->miny) / CELL);
    size_t n = (size_t)c->gx * (size_t)c->gy;
    c->cstart = calloc(n + 1, sizeof *c->cstart);
    if (!c->cstart) exit(1);
    for (int pass = 0; pass < 2; pass++) {
        size_t *cur = NULL;
        if (pass == 1) {
            for (size_t k = 0; k < n; k++) c->cstart[k + 1] += c->cstart[k];
            c->items = malloc((c->cstart[n] + 1) * sizeof *c->items);
            cur = malloc(n * sizeof *cur);
            if (!c->items || !cur) exit(1);
            memcpy(cur, c->cstart, n * sizeof *cur);
        }
        for (size_t k = 0; k < c->nb; k++) {
            const bld *b = &c->b[k];
            int x0 = (int)((b->minx - 3.5 - c->minx) / CELL), x1 = (int)((b->maxx + 3.5 - c->minx) / CELL);
            int y0 = (int)((b->miny - 3.5 - c->miny) / CELL), y1 = (int)((b->maxy + 3.5 - c->miny) / CELL);
            if (x0 < 0) x0 = 0;
            if (y0 < 0) y0 = 0;
            if (x1 >= c->gx) x1 = c->gx - 1;
            if (y1 >= c->gy) y1 = c->gy - 1;
            for (int j = y0; j <= y1; j++)
                for (int i = x0; i <= x1; i++) {
                    size_t cell = (size_t)j * c->gx + i;
                    if (pass == 0) c->cstart[cell + 1]++;
                    else c->items[cur[cell]++] = k;
                }
        }
        free(cur);
    }
}

static int inside(const city *c, const bld *b, double x, double y) {
    int in = 0;
    for (size_t r = b->r0; r < b->r0 + b->nr; r++) {
        const pt *p = c->p + c->rs[r];
        size_t n = c->rc[r];
        for (size_t i = 0, j = n - 1; i < n; j = i++)
            if ((p[i].y > y) != (p[j].y > y) &&
                x < p[j].x + (y - p[j].y) * (p[i].x - p[j].x) / (p[i].y - p[j].y))
                in = !in;
    }
    return in;
}

/* Distance from (x, y) to the building's boundary. */
static double edge_dist(const city *c, const bld *b, double x, double y) {
    double best = INFINITY;
    for (size_t r = b->r0; r < b->r0 + b->nr; r++) {
        const pt *p = c->p + c->rs[r];
        size_t n = c->rc[r];
        for (size_t i = 0; i < n; i++) {
            pt a = p[i], e = p[(i + 1) % n];
            double dx = e.x - a.x, dy = e.y - a.y, l2 = dx * dx + dy * dy;
            double t = l2 > 0 ? ((x - a.x) * dx + (y - a.y) * dy) / l2 : 0;
            t = t < 0 ? 0 : t > 1 ? 1 : t;
            double qx = a.x + t * dx - x, qy = a.y + t * dy - y, d = sqrt(qx * qx + qy * qy);
            if (d < best) best = d;
        }
    }
    return best;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: synthcity_check DIR\n");
        return 2;
    }
    GDALAllRegister();
    city c;
    memset(&c, 0, sizeof c);
    if (load_footprints(argv[1], &c) != 0 || load_truth(argv[1], &c) != 0) return 1;
    build_grid(&c);

    ct_context *ctx = ct_context_create();
    char path[4096];
    snprintf(path, sizeof path, "%s/points.las", argv[1]);
    ct_las_reader *r = NULL;
    if (!ctx || ct_las_open(ctx, path, &r) != CT_OK) {
        fprintf(stderr, "synthcity_check: %s\n", ctx ? ct_error_message(ctx) : "out of memory");
        return 1;
    }
    const ct_las_header *h = ct_las_get_header(r);
    if (h->version_major != 1 || h->version_minor != 4 || h->point_format != 6 || h->legacy_point_count != 0 ||
        !(h->global_encoding & 16) || !h->crs_wkt)
        PROBLEM("LAS header: version %d.%d, format %d, legacy count %u, global encoding %u, CRS %s",
                h->version_major, h->version_minor, h->point_format, h->legacy_point_count, h->global_encoding,
                h->crs_wkt ? "WKT" : "none");
    ct_las_points pts;
    const size_t chunk = 1u << 20;
    if (ct_las_points_alloc(ctx, chunk, CT_LAS_XYZ | CT_LAS_CLASS, &pts) != CT_OK) return 1;
    uint64_t n = h->point_count, cls[256] = {0}, ground_checked = 0, edge_exempt = 0, roof_in_invalid = 0;
    double roof_dev = 0, ground_excess = -INFINITY;
    for (uint64_t first = 0; first < n; first += chunk) {
        size_t cnt = n - first < chunk ? (size_t)(n - first) : chunk;
        if (ct_las_read_points(ctx, r, first, cnt, &pts) != CT_OK) {
            fprintf(stderr, "synthcity_check: %s\n", ct_error_message(ctx));
            return 1;
        }
        for (size_t k = 0; k < cnt; k++) {
            double x = pts.x[k], y = pts.y[k], z = pts.z[k];
            int cl = pts.cls[k];
            cls[cl]++;
            int i = (int)((x - c.minx) / CELL), j = (int)((y - c.miny) / CELL);
            long hit = -1, near_invalid = 0, near_edge = 0;
            if (i >= 0 && j >= 0 && i < c.gx && j < c.gy) {
                size_t cell = (size_t)j * c.gx + i;
                for (size_t it = c.cstart[cell]; it < c.cstart[cell + 1]; it++) {
                    bld *b = &c.b[c.items[it]];
                    if (x < b->minx - 3 || x > b->maxx + 3 || y < b->miny - 3 || y > b->maxy + 3) continue;
                    int inb = x >= b->minx && x <= b->maxx && y >= b->miny && y <= b->maxy;
                    if (b->invalid) {
                        near_invalid |= inb;
                        continue;
                    }
                    double ed = edge_dist(&c, b, x, y);
                    if (ed < EDGE) near_edge = 1;
                    if (inb && inside(&c, b, x, y)) {
                        hit = (long)c.items[it];
                    } else if (cl == 2 && !near_edge) {
                        /* Ground near a footprint: within the 2 % slope bound of the truth. */
                        double dx = x - b->cx, dy = y - b->cy;
                        double ex = fabs(z - b->ground_z) - (0.02 * sqrt(dx * dx + dy * dy) + 0.04);
                        if (ex > ground_excess) ground_excess = ex;
                        if (ex > 0) PROBLEM("ground point %.3f %.3f z %.3f: off %s's ground_z %.3f by more than 2 %%",
                                            x, y, z, b->id, b->ground_z);
                        ground_checked++;
                    }
                }
            }
            if (near_edge) {
                edge_exempt++;
                if (hit >= 0 && cl == 6) c.b[hit].roof_n++;
                continue;
            }
            if (cl == 6) {
                if (hit >= 0) {
                    bld *b = &c.b[hit];
                    double d = fabs(z - b->roof_z);
                    if (d > roof_dev) roof_dev = d;
                    if (d > 0.0505) PROBLEM("roof point %.3f %.3f z %.3f: %s roof_z is %.3f", x, y, z, b->id, b->roof_z);
                    b->roof_n++;
                } else if (near_invalid) {
                    roof_in_invalid++;
                } else {
                    PROBLEM("building point %.3f %.3f z %.3f outside every footprint", x, y, z);
                }
            } else if (hit >= 0) {
                PROBLEM("class %d point %.3f %.3f inside footprint %s", cl, x, y, c.b[hit].id);
            }
        }
    }
    /* Footprints per kind, in order of first appearance. */
    char kinds[16][48];
    size_t nkinds = 0, kcount[16] = {0};
    for (size_t k = 0; k < c.nb; k++) {
        size_t q = 0;
        while (q < nkinds && strcmp(kinds[q], c.b[k].kind) != 0) q++;
        if (q == nkinds && nkinds < 16) snprintf(kinds[nkinds++], sizeof kinds[0], "%s", c.b[k].kind);
        if (q < nkinds) kcount[q]++;
    }
    printf("synthcity_check: kinds:");
    for (size_t q = 0; q < nkinds; q++) printf(" %s %zu", kinds[q], kcount[q]);
    printf("\n");
    size_t nvalid = 0, ninvalid = 0;
    double min_density = INFINITY;
    for (size_t k = 0; k < c.nb; k++) {
        const bld *b = &c.b[k];
        if (b->invalid) {
            ninvalid++;
            continue;
        }
        nvalid++;
        if (b->roof_n == 0) PROBLEM("%s (%s, %.1f m2) has no roof points", b->id, b->kind, b->area);
        double d = (double)b->roof_n / b->area;
        if (d < min_density) min_density = d;
    }
    printf("synthcity_check: %zu footprints (%zu invalid_*), %llu points (class 1: %llu, 2: %llu, 6: %llu, "
           "other: %llu); roof max |dz| %.3f m; min roof density %.2f pts/m2; %llu ground points near footprints "
           "within 2 %% slope (worst margin %.3f m); %llu on walls, %llu in invalid footprints; %d problems\n",
           c.nb, ninvalid, (unsigned long long)n, (unsigned long long)cls[1], (unsigned long long)cls[2],
           (unsigned long long)cls[6], (unsigned long long)(n - cls[1] - cls[2] - cls[6]), roof_dev, min_density,
           (unsigned long long)ground_checked, ground_excess, (unsigned long long)edge_exempt,
           (unsigned long long)roof_in_invalid, problems);
    if (n - cls[1] - cls[2] - cls[6] != 0) PROBLEM("points with classes other than 1, 2, 6");
    ct_las_points_free(&pts);
    ct_las_close(r);
    ct_context_destroy(ctx);
    free(c.b), free(c.p), free(c.rs), free(c.rc), free(c.cstart), free(c.items);
    return problems ? 1 : 0;
}
