/* synthcity — GeoPackage (through OGR) and truth.csv writers (see sc_vector.h). */
#include "sc_vector.h"

#include <cpl_error.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { COMMIT_EVERY = 100000 };

static void set_err(sc_vector *v, const char *fmt, ...) {
    if (v->err[0]) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->err, sizeof v->err, fmt, ap);
    va_end(ap);
}

static char *join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* Removes a file and the SQLite side files an interrupted run may have left. */
static void remove_gpkg(const char *path) {
    char side[4096];
    unlink(path);
    snprintf(side, sizeof side, "%s-journal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

static int add_field(sc_vector *v, OGRLayerH l, const char *name, OGRFieldType type, int *index) {
    OGRFieldDefnH fd = OGR_Fld_Create(name, type);
    if (!fd) {
        set_err(v, "out of memory creating field %s", name);
        return -1;
    }
    OGRErr e = OGR_L_CreateField(l, fd, TRUE);
    OGR_Fld_Destroy(fd);
    if (e != OGRERR_NONE) {
        set_err(v, "cannot create field %s: %s", name, CPLGetLastErrorMsg());
        return -1;
    }
    *index = OGR_FD_GetFieldIndex(OGR_L_GetLayerDefn(l), name);
    return 0;
}

static int create_gpkg(sc_vector *v, const char *path, const char *layer, OGRwkbGeometryType gt,
                       OGRSpatialReferenceH srs, GDALDatasetH *ds, OGRLayerH *l) {
    GDALDriverH drv = GDALGetDriverByName("GPKG");
    if (!drv) {
        set_err(v, "GDAL has no GPKG driver");
        return -1;
    }
    remove_gpkg(path);
    *ds = GDALCreate(drv, path, 0, 0, 0, GDT_Unknown, NULL);
    if (!*ds) {
        set_err(v, "%s: cannot create GeoPackage: %s", path, CPLGetLastErrorMsg());
        return -1;
    }
    char *opts[] = {"GEOMETRY_NAME=geom", "FID=fid", "SPATIAL_INDEX=YES", NULL};
    *l = GDALDatasetCreateLayer(*ds, layer, srs, gt, opts);
    if (!*l) {
        set_err(v, "%s: cannot create layer %s: %s", path, layer, CPLGetLastErrorMsg());
        return -1;
    }
    return 0;
}

int sc_vector_open(sc_vector *v, const char *dir, OGRSpatialReferenceH srs, double ox, double oy) {
    memset(v, 0, sizeof *v);
    v->dir = dir;
    v->ox = ox;
    v->oy = oy;
    v->path_f = join(dir, "footprints.gpkg");
    v->path_a = join(dir, "assets.gpkg");
    v->path_t = join(dir, "truth.csv");
    if (!v->path_f || !v->path_a || !v->path_t) {
        set_err(v, "out of memory");
        sc_vector_abort(v);
        return -1;
    }
    if (create_gpkg(v, v->path_f, "buildings", wkbPolygon, srs, &v->fds, &v->fl) != 0 ||
        add_field(v, v->fl, "id", OFTString, &v->f_id) != 0 ||
        add_field(v, v->fl, "height", OFTReal, &v->f_height) != 0 ||
        add_field(v, v->fl, "kind", OFTString, &v->f_kind) != 0 ||
        add_field(v, v->fl, "storeys", OFTInteger, &v->f_storeys) != 0 ||
        create_gpkg(v, v->path_a, "assets", wkbPoint, srs, &v->ads, &v->al) != 0 ||
        add_field(v, v->al, "id", OFTString, &v->a_id) != 0 ||
        add_field(v, v->al, "category", OFTString, &v->a_category) != 0 ||
        add_field(v, v->al, "status", OFTString, &v->a_status) != 0) {
        sc_vector_abort(v);
        return -1;
    }
    if (GDALDatasetStartTransaction(v->fds, FALSE) != OGRERR_NONE ||
        GDALDatasetStartTransaction(v->ads, FALSE) != OGRERR_NONE) {
        set_err(v, "cannot start a GeoPackage transaction: %s", CPLGetLastErrorMsg());
        sc_vector_abort(v);
        return -1;
    }
    v->truth = fopen(v->path_t, "w");
    if (!v->truth) {
        set_err(v, "%s: cannot create: %s", v->path_t, strerror(errno));
        sc_vector_abort(v);
        return -1;
    }
    fputs("id,ground_z,roof_z,area,centroid_x,centroid_y\n", v->truth);
    return 0;
}

/* Prints without "-0.000". */
static double tidy(double x) { return fabs(x) < 0.0005 ? 0.0 : x; }

/* The stored exterior ring of an invalid footprint. `out` holds n + 2 points. */
static size_t broken_ring(int invalid, uint64_t h, const sc_pt *p, size_t n, sc_pt *out) {
    size_t k = (size_t)((h >> 8) % n), m = 0;
    switch (invalid) {
    case SC_BOWTIE: /* swap the last two vertices of a quadrilateral: the edges cross */
        out[0] = p[0], out[1] = p[1], out[2] = p[3], out[3] = p[2];
        return 4;
    case SC_SPIKE: { /* out from vertex k and straight back to it */
        const sc_pt a = p[k], b = p[(k + 1) % n];
        double dx = b.x - a.x, dy = b.y - a.y, len = sqrt(dx * dx + dy * dy);
        double s = (3.0 + (double)((h >> 20) % 6)) / (len > 0 ? len : 1.0);
        for (size_t i = 0; i < n; i++) {
            out[m++] = p[i];
            if (i == k) {
                /* counter-clockwise ring: the outward normal of edge (dx, dy) is (dy, -dx) */
                out[m++] = (sc_pt){a.x + dy * s, a.y - dx * s};
                out[m++] = a;
            }
        }
        return m;
    }
    default: /* SC_DUPVERT: vertex k three times in a row */
        for (size_t i = 0; i < n; i++) {
            out[m++] = p[i];
            if (i == k) out[m++] = p[i], out[m++] = p[i];
        }
        return m;
    }
}

static OGRGeometryH ring_geom(const sc_vector *v, const sc_pt *p, size_t n) {
    OGRGeometryH r = OGR_G_CreateGeometry(wkbLinearRing);
    if (!r) return NULL;
    OGR_G_SetPointCount(r, (int)n + 1);
    for (size_t i = 0; i <= n; i++) {
        const sc_pt *q = &p[i % n];
        OGR_G_SetPoint_2D(r, (int)i, v->ox + q->x, v->oy + q->y);
    }
    return r;
}

static int write_building(sc_vector *v, const sc_city *c, const sc_block *b, const sc_building *bd) {
    uint64_t g = v->nbuildings; /* 0-based global index */
    uint64_t h = sc_hash4(c->seed, SC_S_INVALID, g / 200, 0);
    int invalid = SC_VALID;
    if (g % 200 == h % 200) {
        const sc_ring *ext = &b->rings[bd->ring0];
        int choice = (int)((g / 200 + c->seed % 3) % 3); /* round robin: every kind in 3 runs of 200 */
        invalid = choice == 0 ? (ext->count == 4 ? SC_BOWTIE : SC_SPIKE) : choice == 1 ? SC_SPIKE : SC_DUPVERT;
        v->ninvalid++;
    }
    char id[32];
    snprintf(id, sizeof id, "b%07llu", (unsigned long long)(g + 1));

    OGRGeometryH poly = OGR_G_CreateGeometry(wkbPolygon);
    if (!poly) goto nomem;
    for (size_t r = 0; r < bd->nrings; r++) {
        const sc_ring *ring = &b->rings[bd->ring0 + r];
        const sc_pt *p = b->pts + ring->first;
        size_t n = ring->count;
        OGRGeometryH rg;
        if (r == 0 && invalid != SC_VALID) {
            sc_pt *tmp = malloc((n + 2) * sizeof *tmp);
            if (!tmp) {
                OGR_G_DestroyGeometry(poly);
                goto nomem;
            }
            size_t m = broken_ring(invalid, h, p, n, tmp);
            rg = ring_geom(v, tmp, m);
            free(tmp);
        } else {
            rg = ring_geom(v, p, n);
        }
        if (!rg || OGR_G_AddGeometryDirectly(poly, rg) != OGRERR_NONE) {
            if (rg) OGR_G_DestroyGeometry(rg);
            OGR_G_DestroyGeometry(poly);
            goto nomem;
        }
    }
    OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(v->fl));
    if (!f) {
        OGR_G_DestroyGeometry(poly);
        goto nomem;
    }
    OGR_F_SetFieldString(f, v->f_id, id);
    OGR_F_SetFieldDouble(f, v->f_height, bd->height);
    OGR_F_SetFieldString(f, v->f_kind, sc_kind_name(bd->kind, invalid));
    OGR_F_SetFieldInteger(f, v->f_storeys, bd->storeys);
    OGR_F_SetGeometryDirectly(f, poly);
    OGRErr e = OGR_L_CreateFeature(v->fl, f);
    OGR_F_Destroy(f);
    if (e != OGRERR_NONE) {
        set_err(v, "%s: cannot write building %s: %s", v->path_f, id, CPLGetLastErrorMsg());
        return -1;
    }
    if (fprintf(v->truth, "%s,%.3f,%.3f,%.3f,%.3f,%.3f\n", id, tidy(bd->ground_z), tidy(bd->roof_z), bd->area,
                v->ox + bd->cx, v->oy + bd->cy) < 0) {
        set_err(v, "%s: write failed: %s", v->path_t, strerror(errno));
        return -1;
    }
    v->nbuildings++;
    return 0;
nomem:
    set_err(v, "out of memory writing building %s", id);
    return -1;
}

static int write_asset(sc_vector *v, const sc_asset *a) {
    char id[32];
    snprintf(id, sizeof id, "a%07llu", (unsigned long long)(v->nassets + 1));
    OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(v->al));
    OGRGeometryH pt = OGR_G_CreateGeometry(wkbPoint);
    if (!f || !pt) {
        if (f) OGR_F_Destroy(f);
        if (pt) OGR_G_DestroyGeometry(pt);
        set_err(v, "out of memory writing asset %s", id);
        return -1;
    }
    OGR_G_SetPoint_2D(pt, 0, v->ox + a->x, v->oy + a->y);
    OGR_F_SetFieldString(f, v->a_id, id);
    OGR_F_SetFieldString(f, v->a_category, sc_category_name(a->category));
    OGR_F_SetFieldString(f, v->a_status, sc_status_name(a->status));
    OGR_F_SetGeometryDirectly(f, pt);
    OGRErr e = OGR_L_CreateFeature(v->al, f);
    OGR_F_Destroy(f);
    if (e != OGRERR_NONE) {
        set_err(v, "%s: cannot write asset %s: %s", v->path_a, id, CPLGetLastErrorMsg());
        return -1;
    }
    v->nassets++;
    return 0;
}

static int commit(sc_vector *v, int restart) {
    if (GDALDatasetCommitTransaction(v->fds) != OGRERR_NONE ||
        GDALDatasetCommitTransaction(v->ads) != OGRERR_NONE) {
        set_err(v, "cannot commit the GeoPackages in %s: %s", v->dir, CPLGetLastErrorMsg());
        return -1;
    }
    if (restart && (GDALDatasetStartTransaction(v->fds, FALSE) != OGRERR_NONE ||
                    GDALDatasetStartTransaction(v->ads, FALSE) != OGRERR_NONE)) {
        set_err(v, "cannot start a GeoPackage transaction: %s", CPLGetLastErrorMsg());
        return -1;
    }
    v->pending = 0;
    return 0;
}

int sc_vector_add_block(sc_vector *v, const sc_city *c, const sc_block *b) {
    for (size_t i = 0; i < b->nb; i++)
        if (write_building(v, c, b, &b->b[i]) != 0) return -1;
    for (size_t i = 0; i < b->nassets; i++)
        if (write_asset(v, &b->assets[i]) != 0) return -1;
    v->pending += b->nb + b->nassets;
    if (v->pending >= COMMIT_EVERY && commit(v, 1) != 0) return -1;
    return 0;
}

static void release(sc_vector *v) {
    free(v->path_f);
    free(v->path_a);
    free(v->path_t);
    v->path_f = v->path_a = v->path_t = NULL;
}

int sc_vector_close(sc_vector *v) {
    int rc = commit(v, 0);
    if (fclose(v->truth) != 0 && rc == 0) {
        set_err(v, "%s: close failed: %s", v->path_t, strerror(errno));
        rc = -1;
    }
    v->truth = NULL;
    CPLErrorReset();
    GDALClose(v->fds);
    GDALClose(v->ads);
    v->fds = v->ads = NULL;
    if (rc == 0 && CPLGetLastErrorType() >= CE_Failure) {
        set_err(v, "closing the GeoPackages in %s: %s", v->dir, CPLGetLastErrorMsg());
        rc = -1;
    }
    if (rc != 0) {
        sc_vector_abort(v);
        return -1;
    }
    release(v);
    return 0;
}

void sc_vector_abort(sc_vector *v) {
    if (v->truth) fclose(v->truth);
    v->truth = NULL;
    if (v->fds) GDALClose(v->fds);
    if (v->ads) GDALClose(v->ads);
    v->fds = v->ads = NULL;
    if (v->path_f) remove_gpkg(v->path_f);
    if (v->path_a) remove_gpkg(v->path_a);
    if (v->path_t) unlink(v->path_t);
    release(v);
}
