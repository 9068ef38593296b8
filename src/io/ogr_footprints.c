/* Footprints from OGR: open, pick a layer, filter, choose the working CRS, convert
 * each (multi)polygon into ct_footprint parts, copy the chosen attributes. */
#include "io/ogr_footprints.h"
#include "io/geojson_geometry.h"
#include "io/ogr_next_feature.h"
#include "io/ogr_source.h"
#include "io/ogr_values.h"
#include "io/input_file.h"

#include <cpl_conv.h>
#include <cpl_string.h>
#include <gdal.h>
#include <math.h>
#include <omp.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* Footprints far outside the source CRS's area of use (a coordinate of 1e12 m, x and y
 * swapped, the wrong CRS) would otherwise be transformed into nonsense and stretch the
 * tileset's root over the globe. Degrees allowed beyond the area (as readers.assets). */
#define AREA_MARGIN_DEG 1.0

/* The skip of a feature without geometry (GeoJSON: unless GDAL dropped one, see
 * geojson_reason). */
static const char *const EMPTY_GEOMETRY = "empty geometry";

typedef struct area_check {
    int geographic;
    int known;                              /* the CRS has an area of use */
    double w, s, e, n;                      /* area of use (degrees) */
    int have_box;                           /* projected: box[] holds the area in source units */
    double box[4];                          /* xmin, ymin, xmax, ymax */
} area_check;

/* The box, in the projected CRS src, of the area of use plus the margin (the whole
 * world when the area is unknown): a grid of lon/lat points transformed once, their
 * extent grown by a tenth each side (edges bend between the samples). The check only
 * has to catch absurd coordinates, and one transformation per footprint cost 0.15 s
 * per 100,000 footprints. */
enum { AREA_SAMPLES = 33 };

/* The geographic CRS the lon/lat grid is given in: src's own when it counts degrees from
 * Greenwich, so the transformation is a mere conversion (0.2 ms, where from WGS 84 PROJ
 * searched its database for the datum shift: 15-40 ms before the footprints were read);
 * the datums differ by a few hundred metres at most, far inside the 1-degree margin.
 * Else WGS 84. */
static OGRSpatialReferenceH area_geographic(OGRSpatialReferenceH src) {
    OGRSpatialReferenceH g = OSRCloneGeogCS(src);
    const double degree = 0.0174532925199433;
    if (g && OSRGetPrimeMeridian(g, NULL) == 0.0 && fabs(OSRGetAngularUnits(g, NULL) - degree) < 1e-12) {
        OSRSetAxisMappingStrategy(g, OAMS_TRADITIONAL_GIS_ORDER);
        return g;
    }
    if (g) OSRRelease(g);
    return ct_ogr_epsg(4326);
}

static void area_box(OGRSpatialReferenceH src, area_check *a) {
    OGRSpatialReferenceH geog = area_geographic(src);
    if (!geog) return;
    CPLPushErrorHandler(CPLQuietErrorHandler);
    OGRCoordinateTransformationH t = OCTNewCoordinateTransformation(geog, src);
    CPLPopErrorHandler();
    OSRRelease(geog);
    if (!t) return;
    const double m = AREA_MARGIN_DEG;
    double w = -180, e = 180, s = -85, n = 85;
    if (a->known && a->w <= a->e) { /* (an area across the antimeridian: the world) */
        w = fmax(-180, a->w - m);
        e = fmin(180, a->e + m);
        s = fmax(-90, a->s - m);
        n = fmin(90, a->n + m);
    }
    double x[AREA_SAMPLES * AREA_SAMPLES], y[AREA_SAMPLES * AREA_SAMPLES];
    int ok[AREA_SAMPLES * AREA_SAMPLES];
    for (int i = 0; i < AREA_SAMPLES; i++)
        for (int j = 0; j < AREA_SAMPLES; j++) {
            x[i * AREA_SAMPLES + j] = w + (e - w) * j / (AREA_SAMPLES - 1);
            y[i * AREA_SAMPLES + j] = s + (n - s) * i / (AREA_SAMPLES - 1);
        }
    CPLPushErrorHandler(CPLQuietErrorHandler);
    OCTTransformEx(t, AREA_SAMPLES * AREA_SAMPLES, x, y, NULL, ok);
    CPLPopErrorHandler();
    OCTDestroyCoordinateTransformation(t);
    double b[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (int k = 0; k < AREA_SAMPLES * AREA_SAMPLES; k++) {
        if (!ok[k] || !isfinite(x[k]) || !isfinite(y[k])) continue;
        b[0] = fmin(b[0], x[k]);
        b[1] = fmin(b[1], y[k]);
        b[2] = fmax(b[2], x[k]);
        b[3] = fmax(b[3], y[k]);
    }
    if (!(b[0] <= b[2] && b[1] <= b[3])) return; /* nothing transformed: no way to tell */
    double gx = 0.1 * (b[2] - b[0]), gy = 0.1 * (b[3] - b[1]);
    a->box[0] = b[0] - gx;
    a->box[1] = b[1] - gy;
    a->box[2] = b[2] + gx;
    a->box[3] = b[3] + gy;
    a->have_box = 1;
}

/* Sets up the check for source CRS `src` (when PROJ knows no area: the lon/lat ranges
 * of the world). */
static void area_check_init(OGRSpatialReferenceH src, area_check *a) {
    memset(a, 0, sizeof *a);
    const char *name = NULL;
    a->known = OSRGetAreaOfUse(src, &a->w, &a->s, &a->e, &a->n, &name) && a->w >= -1000;
    a->geographic = OSRIsGeographic(src);
    if (!a->geographic) area_box(src, a);
}

/* 1 when the box of g (source CRS) lies in the area of use plus the margin. A box with
 * a non-finite corner passes: the per-coordinate check names that problem. */
static int area_check_inside(const area_check *a, OGRGeometryH g) {
    if (!g || OGR_G_IsEmpty(g)) return 1;
    OGREnvelope env;
    OGR_G_GetEnvelope(g, &env);
    double x[2] = {env.MinX, env.MaxX}, y[2] = {env.MinY, env.MaxY};
    for (int i = 0; i < 2; i++)
        if (!isfinite(x[i]) || !isfinite(y[i])) return 1;
    if (!a->geographic) {
        if (!a->have_box) return 1; /* no way to tell */
        return x[0] >= a->box[0] && x[1] <= a->box[2] && y[0] >= a->box[1] && y[1] <= a->box[3];
    }
    const double m = AREA_MARGIN_DEG;
    for (int i = 0; i < 2; i++) {
        /* (a footprint across the antimeridian given with longitudes past 180, as 180.0001,
         * not cut there as RFC 7946 asks: PROJ wraps them; it was skipped as outside) */
        if (fabs(x[i]) > 180 + m || fabs(y[i]) > 90 + 1e-9) return 0;
        if (!a->known) continue;
        int lon_ok = a->w <= a->e ? (x[i] >= a->w - m && x[i] <= a->e + m) : (x[i] >= a->w - m || x[i] <= a->e + m);
        if (!lon_ok || y[i] < a->s - m || y[i] > a->n + m) return 0;
    }
    return 1;
}


/* Copies one OGR ring into xy (open ring, consecutive duplicates removed).
 * Returns the number of points written, or -1 on a non-finite coordinate. */
static long copy_ring(OGRGeometryH ring, double *xy) {
    int n = OGR_G_GetPointCount(ring);
    long m = 0;
    for (int i = 0; i < n; i++) {
        double x = OGR_G_GetX(ring, i), y = OGR_G_GetY(ring, i);
        if (!isfinite(x) || !isfinite(y)) return -1;
        if (m > 0 && xy[2 * (m - 1)] == x && xy[2 * (m - 1) + 1] == y) continue;
        xy[2 * m] = x;
        xy[2 * m + 1] = y;
        m++;
    }
    while (m > 1 && xy[0] == xy[2 * (m - 1)] && xy[1] == xy[2 * (m - 1) + 1]) m--; /* drop closing point */
    return m;
}

/* Converts an OGR polygon to a ct_polygon. Returns NULL and sets *why when unusable. */
static ct_status polygon_from_ogr(ct_context *ctx, OGRGeometryH poly, ct_polygon *out, const char **why) {
    int nr = OGR_G_GetGeometryCount(poly);
    *why = NULL;
    memset(out, 0, sizeof *out);
    if (nr < 1) { *why = EMPTY_GEOMETRY; return CT_OK; }
    size_t total = 0;
    for (int r = 0; r < nr; r++) total += (size_t)OGR_G_GetPointCount(OGR_G_GetGeometryRef(poly, r));
    out->ring_start = malloc(((size_t)nr + 1) * sizeof *out->ring_start);
    out->xy = malloc((total ? total : 1) * 2 * sizeof *out->xy);
    if (!out->ring_start || !out->xy) {
        ct_polygon_free(out);
        return ct_error_nomem(ctx, "footprint rings");
    }
    uint32_t used = 0, rings = 0;
    for (int r = 0; r < nr; r++) {
        long m = copy_ring(OGR_G_GetGeometryRef(poly, r), out->xy + 2 * (size_t)used);
        if (m < 0) { *why = "non-finite coordinate"; break; }
        if (m < 3) {
            if (r == 0) { *why = "degenerate outer ring (fewer than 3 distinct points)"; break; }
            continue; /* a degenerate hole holds no area: drop it */
        }
        out->ring_start[rings++] = used;
        used += (uint32_t)m;
    }
    if (*why) {
        ct_polygon_free(out);
        return CT_OK;
    }
    out->ring_start[rings] = used;
    out->nrings = rings;
    return CT_OK;
}

/* Vertices of every ring of every part of a (multi)polygon (a ring's closing point not counted). */
static size_t vertex_count(OGRGeometryH mp) {
    size_t n = 0;
    for (int i = 0; i < OGR_G_GetGeometryCount(mp); i++) {
        OGRGeometryH poly = OGR_G_GetGeometryRef(mp, i);
        for (int r = 0; r < OGR_G_GetGeometryCount(poly); r++) {
            int m = OGR_G_GetPointCount(OGR_G_GetGeometryRef(poly, r));
            n += m > 1 ? (size_t)m - 1 : (size_t)(m > 0); /* the closing point repeats the first */
        }
    }
    return n;
}

/* max_vertices: 0, or skip footprints with more (the polygon algorithms cost grows
 * faster than the vertices on pathological shapes: a valid 1M-vertex zigzag star took
 * 211 s to extrude). */
static const char *const NOT_A_POLYGON = "not a polygon";

static int polygonal(OGRwkbGeometryType flat) {
    return flat == wkbPolygon || flat == wkbMultiPolygon || flat == wkbCurvePolygon || flat == wkbMultiSurface;
}

/* The polygons of collection gc added to mp, those of collections within it too (a
 * GeometryCollection holding a GeometryCollection of polygons lost them all, skipped as
 * "not a polygon"); *dropped counts the members that are neither. Returns 0 when out of
 * memory. (GDAL's readers limit the nesting; depth guards the recursion anyway.) */
static int add_collection_polygons(OGRGeometryH mp, OGRGeometryH gc, int *dropped, int depth) {
    for (int i = 0; i < OGR_G_GetGeometryCount(gc); i++) {
        OGRGeometryH m = OGR_G_GetGeometryRef(gc, i);
        OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(m));
        if (t == wkbGeometryCollection && depth < 64) {
            if (!add_collection_polygons(mp, m, dropped, depth + 1)) return 0;
            continue;
        }
        if (!polygonal(t)) {
            *dropped += !OGR_G_IsEmpty(m);
            continue;
        }
        OGRGeometryH part = OGR_G_ForceToMultiPolygon(OGR_G_Clone(m));
        if (!part) return 0;
        for (int j = 0; j < OGR_G_GetGeometryCount(part); j++) OGR_G_AddGeometry(mp, OGR_G_GetGeometryRef(part, j));
        OGR_G_DestroyGeometry(part);
    }
    return 1;
}

/* The polygons of a geometry collection as one multipolygon (NULL: out of memory);
 * *dropped counts its other parts that are not empty. */
static OGRGeometryH collection_polygons(OGRGeometryH gc, int *dropped) {
    OGRGeometryH mp = OGR_G_CreateGeometry(wkbMultiPolygon);
    if (mp && !add_collection_polygons(mp, gc, dropped, 0)) {
        OGR_G_DestroyGeometry(mp);
        mp = NULL;
    }
    return mp;
}

/* *dropped: parts of a geometry collection that are not polygons, left out. */
static ct_status footprint_from_ogr(ct_context *ctx, OGRGeometryH g, size_t max_vertices, ct_footprint *fp,
                                    const char **why, int *dropped) {
    *why = NULL;
    memset(fp, 0, sizeof *fp);
    if (!g || OGR_G_IsEmpty(g)) { *why = EMPTY_GEOMETRY; return CT_OK; }
    OGRwkbGeometryType flat = wkbFlatten(OGR_G_GetGeometryType(g));
    if (flat != wkbGeometryCollection && !polygonal(flat)) {
        *why = NOT_A_POLYGON;
        return CT_OK;
    }
    OGRGeometryH mp = flat == wkbGeometryCollection ? collection_polygons(g, dropped)
                                                    : OGR_G_ForceToMultiPolygon(OGR_G_Clone(g));
    if (!mp) return ct_error_nomem(ctx, "geometry");
    if (OGR_G_IsEmpty(mp)) {
        OGR_G_DestroyGeometry(mp);
        *why = NOT_A_POLYGON;
        return CT_OK;
    }
    if (max_vertices && vertex_count(mp) > max_vertices) {
        OGR_G_DestroyGeometry(mp);
        *why = "more vertices than max_vertices (readers.footprints): simplify it first";
        return CT_OK;
    }
    int np = OGR_G_GetGeometryCount(mp);
    fp->parts = calloc(np > 0 ? (size_t)np : 1, sizeof *fp->parts);
    if (!fp->parts) {
        OGR_G_DestroyGeometry(mp);
        return ct_error_nomem(ctx, "footprint parts");
    }
    ct_status st = CT_OK;
    for (int i = 0; i < np && st == CT_OK; i++) {
        const char *part_why = NULL;
        ct_polygon p;
        st = polygon_from_ogr(ctx, OGR_G_GetGeometryRef(mp, i), &p, &part_why);
        if (st != CT_OK) break;
        if (part_why) {
            /* A bad part of a multipolygon is dropped; a footprint with no good part is skipped. */
            if (np == 1 || strcmp(part_why, "non-finite coordinate") == 0) *why = part_why;
            if (*why) break;
            continue;
        }
        fp->parts[fp->nparts++] = p;
    }
    OGR_G_DestroyGeometry(mp);
    if (st == CT_OK && !*why && fp->nparts == 0) *why = "no usable polygon part";
    if (st != CT_OK || *why) ct_footprint_free(fp);
    return st;
}


/* Resolves which source fields become attributes, adding dataset columns. */
static ct_status map_fields(ct_context *ctx, const ct_ogr_read_options *o, OGRFeatureDefnH defn,
                            ct_dataset *ds, ct_ogr_field_map **maps, size_t *nmaps, int *id_index) {
    *id_index = -1;
    if (o->id_field) {
        *id_index = OGR_FD_GetFieldIndex(defn, o->id_field);
        if (*id_index < 0)
            return ct_error(ctx, CT_ERR_INPUT, "%s: id_field '%s' is not a field of layer '%s'", o->path,
                            o->id_field, OGR_FD_GetName(defn));
    }
    /* An id_field named "id" holds what the tiles' building "id" property does: "all"
     * leaves it out, where it became a second column "id_2" of the same values. */
    int skip = -1;
    if (*id_index >= 0 && strcmp(OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, *id_index)), "id") == 0)
        skip = *id_index;
    /* Names match ignoring case, as the check below (OGR_FD_GetFieldIndex) and
     * readers.assets do: an exact-only keep test silently dropped "BGT_STATUS" when the
     * field is "bgt_status". The attribute keeps the source's spelling. */
    ct_ogr_field_pick pick = {o->all_fields, &skip, 1, o->fields, o->nfields, 1};
    ct_status st = ct_ogr_pick_fields(ctx, defn, &pick, "field map", maps, nmaps);
    if (st != CT_OK) return st;
    for (size_t k = 0; k < o->nfields; k++)
        if (OGR_FD_GetFieldIndex(defn, o->fields[k]) < 0)
            return ct_error(ctx, CT_ERR_INPUT, "%s: attribute '%s' is not a field of layer '%s'", o->path,
                            o->fields[k], OGR_FD_GetName(defn));
    for (size_t k = 0; k < *nmaps && st == CT_OK; k++) {
        ct_ogr_field_map *m = &(*maps)[k];
        st = ct_dataset_add_attr(ctx, ds, OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, m->src)), m->type, &m->dst);
    }
    return st;
}

/* Sets ds->crs_wkt if needed and returns the transformation source -> working CRS
 * (NULL when they are the same). */
static ct_status choose_crs(ct_context *ctx, const ct_ogr_read_options *o, OGRLayerH layer, ct_dataset *ds,
                            OGRCoordinateTransformationH *ct_out, area_check *area) {
    *ct_out = NULL;
    OGRSpatialReferenceH src = NULL;
    ct_status st = ct_ogr_source_crs(ctx, o->path, o->srs, layer, &src);
    if (st != CT_OK) return st;
    if (!src)
        return ct_error(ctx, CT_ERR_INPUT, "%s: layer '%s' has no CRS; give the stage an \"srs\" option (e.g. \"EPSG:28992\")",
                        o->path, OGR_L_GetName(layer));
    double lon = 0, lat = 0; /* the extent's centre picks the UTM zone when one is needed */
    OGREnvelope env = {0, 0, 0, 0};
    if (ct_ogr_working_crs_needs_lonlat(ds, src) && OGR_L_GetExtent(layer, &env, TRUE) == OGRERR_NONE) {
        /* The extent's west and east edges at its middle latitude, in lon/lat: across the
         * antimeridian the middle is found on the circle (ct_lon_middle). */
        double cx[2] = {env.MinX, env.MaxX}, my = 0.5 * (env.MinY + env.MaxY), cy[2] = {my, my};
        OGRSpatialReferenceH wgs = ct_ogr_epsg(4326);
        OGRCoordinateTransformationH t = wgs ? OCTNewCoordinateTransformation(src, wgs) : NULL;
        if (t && OCTTransform(t, 2, cx, cy, NULL)) {
            lon = ct_lon_middle(fmin(cx[0], cx[1]), fmax(cx[0], cx[1]));
            lat = 0.5 * (cy[0] + cy[1]);
        }
        if (t) OCTDestroyCoordinateTransformation(t);
        if (wgs) OSRRelease(wgs);
    }
    area_check_init(src, area);
    /* A compound CRS (EPSG:7415, as the 3D BAG ships) gives its horizontal part as the
     * working CRS, and its vertical part to the heights, unless the LiDAR or vertical_crs
     * says otherwise (kept whole, the working CRS made PROJ fail at the writer, after
     * every stage had run: no compound can hold a compound). */
    OGRSpatialReferenceH work = NULL, src_2d = OSRClone(src);
    if (!src_2d) st = ct_error_nomem(ctx, "SRS");
    if (st == CT_OK && OSRIsCompound(src)) {
        OSRStripVertical(src_2d);
        if (!ds->footprints_vertical_wkt && !(ds->footprints_vertical_wkt = ct_ogr_wkt2(src)))
            st = ct_error(ctx, CT_ERR_INTERNAL, "%s: cannot export the source CRS", o->path);
    }
    if (st == CT_OK) st = ct_ogr_working_crs(ctx, o->path, src, lon, lat, 1, ds, &work);
    if (st == CT_OK && !OSRIsSame(src_2d, work)) {
        *ct_out = OCTNewCoordinateTransformation(src, work);
        if (!*ct_out) st = ct_error(ctx, CT_ERR_INPUT, "%s: cannot transform from the source CRS to the working CRS", o->path);
        else ct_log(ctx, CT_LOG_INFO, "%s: reprojecting footprints to the working CRS %s", o->path, OSRGetName(work));
    }
    OSRRelease(src);
    if (src_2d) OSRRelease(src_2d);
    if (work) OSRRelease(work);
    return st;
}

/* One feature converted, before it joins the dataset (the parallel reader makes these
 * in any order and adds them in the source's). */
typedef struct fp_result {
    GIntBig fid;
    const char *why; /* skipped: why (a static string, the key of its count) */
    char *gdal_error; /* GDAL's error while reading the feature, or NULL */
    ct_footprint fp;
    char *id;
    int id_missing;  /* id_field null or empty here: the feature id stands in */
    int not_utf8;    /* its id or a text attribute was not UTF-8: read as Latin-1 */
    int not_finite;  /* a real attribute was NaN or infinite: no data */
    int dropped;     /* parts of a geometry collection that are not polygons, left out */
    char type[32];   /* skipped as not a polygon: its geometry type */
    ct_value *vals;  /* one per field map */
} fp_result;

static void fp_result_free(fp_result *r, const ct_ogr_field_map *maps, size_t nmaps) {
    ct_footprint_free(&r->fp);
    free(r->id);
    free(r->gdal_error);
    for (size_t k = 0; r->vals && k < nmaps; k++)
        if (maps[k].type == CT_ATTR_STRING && !r->vals[k].is_null) free(r->vals[k].v.s);
    free(r->vals);
    memset(r, 0, sizeof *r);
}

/* What every feature's conversion needs, read-only. */
typedef struct fp_setup {
    const area_check *area;
    const ct_ogr_field_map *maps;
    size_t nmaps;
    int id_index;
    size_t max_vertices;
} fp_setup;

/* The skip reason of a feature without geometry because GDAL could not decode it (the
 * log line adds GDAL's message). */
static const char *const UNREADABLE_GEOMETRY = "unreadable geometry (corrupt blob)";
/* A GeoJSON feature whose geometry GDAL dropped (gdal_error: what is wrong with it). */
static const char *const UNREADABLE_GEOJSON = "unreadable geometry (GeoJSON)";

static const char *const OUTSIDE_AREA = "outside the CRS's area of use";

/* Converts feature f (its geometry is transformed in place by xform, which may be NULL);
 * read_error: GDAL's error while reading it. */
static ct_status convert_feature(ct_context *ctx, const fp_setup *su, OGRCoordinateTransformationH xform, OGRFeatureH f,
                                 const ct_ogr_read_error *read_error, fp_result *r) {
    memset(r, 0, sizeof *r);
    r->fid = OGR_F_GetFID(f);
    if (read_error->msg[0] && !(r->gdal_error = strdup(read_error->msg))) return ct_error_nomem(ctx, "GDAL message");
    OGRGeometryH g = OGR_F_GetGeometryRef(f);
    if (!g && r->gdal_error) r->why = UNREADABLE_GEOMETRY; /* not "empty geometry": it has one GDAL cannot read */
    if (!r->why && !area_check_inside(su->area, g)) r->why = OUTSIDE_AREA;
    if (!r->why && g && xform && OGR_G_Transform(g, xform) != OGRERR_NONE) r->why = "cannot reproject";
    ct_status st = r->why ? CT_OK : footprint_from_ogr(ctx, g, su->max_vertices, &r->fp, &r->why, &r->dropped);
    if (r->why == NOT_A_POLYGON) snprintf(r->type, sizeof r->type, "%s", OGR_G_GetGeometryName(g));
    if (st != CT_OK || r->why) return st;
    char fidbuf[32];
    const char *id = su->id_index >= 0 && OGR_F_IsFieldSetAndNotNull(f, su->id_index)
                         ? OGR_F_GetFieldAsString(f, su->id_index) : NULL;
    r->id_missing = su->id_index >= 0 && (!id || !id[0]);
    if (!id || !id[0]) { /* the feature id (an empty id would name nothing in a viewer) */
        snprintf(fidbuf, sizeof fidbuf, "%lld", (long long)r->fid);
        id = fidbuf;
    }
    r->id = ct_ogr_utf8_copy(id, &r->not_utf8);
    r->vals = calloc(su->nmaps ? su->nmaps : 1, sizeof *r->vals);
    if (!r->id || !r->vals) st = ct_error_nomem(ctx, "building id");
    for (size_t k = 0; st == CT_OK && k < su->nmaps; k++) {
        r->vals[k].is_null = 1;
        st = ct_ogr_read_value(ctx, f, su->maps[k].src, su->maps[k].type, 0, &r->vals[k], &r->not_utf8,
                                   &r->not_finite);
    }
    return st;
}

/* Per source: the kept features whose text was not UTF-8 (one warning names the first),
 * and the features warned about one by one (the first WARN_FEATURES; the others go to
 * --verbose and are counted in one line: a city's file with thousands of bad features
 * gave thousands of lines). */
typedef struct utf8_note {
    uint64_t count, first_record;
    long long first_fid;
    uint64_t warned, unlisted;
} utf8_note;

enum { WARN_FEATURES = 20 };

/* The level of a feature's warning lines. */
static ct_log_level feature_warning_level(utf8_note *note) {
    if (note->warned < WARN_FEATURES) {
        note->warned++;
        return CT_LOG_WARN;
    }
    note->unlisted++;
    return CT_LOG_DEBUG;
}

static const char *const NOT_UTF8 = "text not UTF-8: read as Latin-1";
/* (the tiles' metadata has no NaN or infinity: a number's noData stands for it) */
static const char *const NOT_FINITE = "attribute NaN or infinite: written as no data";

/* Adds a converted feature to ds (it is the record-th read), or counts and logs its skip;
 * r's memory passes to ds either way. */
static ct_status keep_result(ct_context *ctx, const ct_ogr_read_options *o, const fp_setup *su, ct_dataset *ds,
                             fp_result *r, uint64_t record, utf8_note *note) {
    ds->input_features++;
    const ct_log_level level = r->why || r->gdal_error ? feature_warning_level(note) : CT_LOG_DEBUG;
    if (r->why == UNREADABLE_GEOMETRY || r->why == UNREADABLE_GEOJSON) {
        ct_log(ctx, level, "%s: feature %lld (record %llu): skipped: unreadable geometry (%s%s)", o->path,
               (long long)r->fid, (unsigned long long)record, r->why == UNREADABLE_GEOMETRY ? "corrupt blob: " : "",
               r->gdal_error);
    } else if (r->gdal_error) { /* GDAL's complaint about a feature kept or skipped for another reason */
        ct_log(ctx, level, "%s: feature %lld (record %llu): GDAL: %s", o->path, (long long)r->fid,
               (unsigned long long)record, r->gdal_error);
    }
    if (r->why) {
        const char *why = r->why;
        if (why != UNREADABLE_GEOMETRY && why != UNREADABLE_GEOJSON)
            ct_log(ctx, level, "%s: feature %lld (record %llu): skipped: %s%s%s%s", o->path, (long long)r->fid,
                   (unsigned long long)record, why, r->type[0] ? " (" : "", r->type, r->type[0] ? ")" : "");
        fp_result_free(r, su->maps, su->nmaps);
        return ct_dataset_count_skip(ctx, ds, why);
    }
    ct_building *b = NULL;
    ct_status st = ct_dataset_append(ctx, ds, &b);
    if (st != CT_OK) {
        fp_result_free(r, su->maps, su->nmaps);
        return st;
    }
    b->footprint = r->fp;
    b->source_record = (uint64_t)r->fid;
    b->id = r->id;
    for (size_t k = 0; k < su->nmaps; k++) b->attrs[su->maps[k].dst] = r->vals[k];
    free(r->vals);
    free(r->gdal_error);
    int id_missing = r->id_missing, not_utf8 = r->not_utf8, dropped = r->dropped, not_finite = r->not_finite;
    memset(r, 0, sizeof *r);
    if (not_finite) {
        ct_log(ctx, CT_LOG_DEBUG, "%s: feature %lld (record %llu): %s", o->path, (long long)b->source_record,
               (unsigned long long)record, NOT_FINITE);
        st = ct_dataset_count_change(ctx, ds, NOT_FINITE);
        if (st != CT_OK) return st;
    }
    if (dropped) {
        ct_log(ctx, CT_LOG_DEBUG, "%s: feature %lld (record %llu): %d part(s) of its geometry collection that are not "
               "polygons left out", o->path, (long long)b->source_record, (unsigned long long)record, dropped);
        st = ct_dataset_count_change(ctx, ds, "geometry collection: parts that are not polygons dropped");
        if (st != CT_OK) return st;
    }
    if (not_utf8) {
        if (note->count++ == 0) {
            note->first_fid = (long long)b->source_record;
            note->first_record = record;
        }
        ct_log(ctx, CT_LOG_DEBUG, "%s: feature %lld (record %llu): %s", o->path, (long long)b->source_record,
               (unsigned long long)record, NOT_UTF8);
        st = ct_dataset_count_change(ctx, ds, NOT_UTF8);
        if (st != CT_OK) return st;
    }
    if (id_missing) {
        ct_log(ctx, CT_LOG_DEBUG, "%s: feature %lld (record %llu): id_field '%s' is null or empty: id '%s' (the feature id)",
               o->path, (long long)b->source_record, (unsigned long long)record, o->id_field, b->id);
        return ct_dataset_count_change(ctx, ds, "id_field null or empty: the feature id used");
    }
    return CT_OK;
}

/* GeoPackages from this many features on are read in FID ranges in parallel (each
 * thread with its own handle); the ranges do not depend on the thread count, and their
 * results join the dataset in order, so the output is the same for any thread count. */
enum { PARALLEL_MIN_FEATURES = 4096, FID_RANGES = 32 };

/* The smallest and largest FID of a GeoPackage layer; 0 when it is not one (or they
 * cannot be found): then the layer is read in one pass. */
static int gpkg_fid_span(GDALDatasetH gd, OGRLayerH layer, GIntBig *lo, GIntBig *hi) {
    GDALDriverH drv = GDALGetDatasetDriver(gd);
    const char *fidcol = OGR_L_GetFIDColumn(layer);
    if (!drv || strcmp(GDALGetDriverShortName(drv), "GPKG") != 0 || !fidcol || !*fidcol) return 0;
    if (strchr(fidcol, '"') || strchr(OGR_L_GetName(layer), '"')) return 0; /* not worth quoting */
    /* Two subqueries: SQLite answers a lone MIN or MAX of the key from its index, but
     * scans the whole table for MIN and MAX in one SELECT (150-230 ms at 1M buildings,
     * against 0.1 ms). */
    char sql[1024];
    snprintf(sql, sizeof sql, "SELECT (SELECT MIN(\"%s\") FROM \"%s\"), (SELECT MAX(\"%s\") FROM \"%s\")", fidcol,
             OGR_L_GetName(layer), fidcol, OGR_L_GetName(layer));
    OGRLayerH res = GDALDatasetExecuteSQL(gd, sql, NULL, NULL);
    if (!res) return 0;
    OGRFeatureH f = OGR_L_GetNextFeature(res);
    int ok = f && OGR_F_GetFieldCount(f) == 2 && OGR_F_IsFieldSetAndNotNull(f, 0) && OGR_F_IsFieldSetAndNotNull(f, 1);
    if (ok) {
        *lo = OGR_F_GetFieldAsInteger64(f, 0);
        *hi = OGR_F_GetFieldAsInteger64(f, 1);
        ok = *hi >= *lo;
    }
    if (f) OGR_F_Destroy(f);
    GDALDatasetReleaseResultSet(gd, res);
    return ok;
}

typedef struct fp_range {
    fp_result *v;
    size_t n, cap;
} fp_range;

/* Reads FID ranges [lo + k * width, ...) into ranges[k] in parallel, then adds them to ds
 * in order. */
static ct_status read_parallel(ct_context *ctx, const ct_ogr_read_options *o, const fp_setup *su, OGRLayerH layer,
                               OGRCoordinateTransformationH xform, GIntBig lo, GIntBig hi, ct_dataset *ds,
                               uint64_t total, uint64_t *record, utf8_note *note) {
    fp_range *ranges = calloc(FID_RANGES, sizeof *ranges);
    if (!ranges) return ct_error_nomem(ctx, "footprint ranges");
    const GIntBig width = (hi - lo) / FID_RANGES + 1;
    const char *layer_name = OGR_L_GetName(layer), *fidcol = OGR_L_GetFIDColumn(layer);
    ct_status st = CT_OK;
    uint64_t done = 0;
#pragma omp parallel num_threads(ct_context_threads(ctx) < 1 ? 1 : ct_context_threads(ctx))
    {
        ct_status tst = CT_OK;
        GDALDatasetH tgd = GDALOpenEx(o->path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
        OGRLayerH tl = tgd ? GDALDatasetGetLayerByName(tgd, layer_name) : NULL;
        OGRCoordinateTransformationH txf = xform ? OCTClone(xform) : NULL;
        if (!tl || (xform && !txf))
            tst = ct_error(ctx, CT_ERR_INPUT, "%s: cannot open it again to read in parallel (%s)", o->path,
                           CPLGetLastErrorMsg());
        if (tst == CT_OK && o->bbox) OGR_L_SetSpatialFilterRect(tl, o->bbox[0], o->bbox[1], o->bbox[2], o->bbox[3]);
#pragma omp for schedule(dynamic, 1)
        for (int k = 0; k < FID_RANGES; k++) {
            if (tst != CT_OK) continue;
            GIntBig a = lo + (GIntBig)k * width, b = a + width - 1;
            char *filter = CPLStrdup(CPLSPrintf("%s%s%s\"%s\" >= " CPL_FRMT_GIB " AND \"%s\" <= " CPL_FRMT_GIB,
                                                o->where ? "(" : "", o->where ? o->where : "", o->where ? ") AND " : "",
                                                fidcol, a, fidcol, b));
            if (OGR_L_SetAttributeFilter(tl, filter) != OGRERR_NONE)
                tst = ct_error(ctx, CT_ERR_USAGE, "%s: invalid where filter '%s': %s", o->path, o->where ? o->where : "",
                               CPLGetLastErrorMsg());
            CPLFree(filter);
            OGR_L_ResetReading(tl);
            OGRFeatureH f;
            ct_ogr_read_error read_error;
            fp_range *rg = &ranges[k];
            while (tst == CT_OK && (f = ct_ogr_next_feature(ctx, o->path, tl, &read_error)) != NULL) {
                if (rg->n == rg->cap) {
                    size_t cap = rg->cap ? 2 * rg->cap : 256;
                    fp_result *nv = realloc(rg->v, cap * sizeof *nv);
                    if (!nv) tst = ct_error_nomem(ctx, "footprints");
                    else {
                        rg->v = nv;
                        rg->cap = cap;
                    }
                }
                if (tst == CT_OK) {
                    tst = convert_feature(ctx, su, txf, f, &read_error, &rg->v[rg->n]);
                    rg->n++; /* freed below even when half made */
                }
                OGR_F_Destroy(f);
            }
            if (tst == CT_OK && read_error.msg[0]) { /* (the reading ended on an error, not at the end) */
                char where[96];
                snprintf(where, sizeof where, "in feature ids " CPL_FRMT_GIB ".." CPL_FRMT_GIB, a, b);
                tst = ct_ogr_reading_stopped(ctx, o->path, where, "features", &read_error);
            }
#pragma omp atomic
            done += rg->n;
            if (omp_get_thread_num() == 0) ct_progress(ctx, "reading footprints", done, total);
        }
        if (txf) OCTDestroyCoordinateTransformation(txf);
        if (tgd) GDALClose(tgd);
#pragma omp critical(ct_footprints_status)
        if (tst != CT_OK && st == CT_OK) st = tst;
    }
    for (int k = 0; k < FID_RANGES; k++) {
        for (size_t i = 0; i < ranges[k].n; i++) {
            if (st == CT_OK) st = keep_result(ctx, o, su, ds, &ranges[k].v[i], ++*record, note);
            else fp_result_free(&ranges[k].v[i], su->maps, su->nmaps);
        }
        free(ranges[k].v);
    }
    free(ranges);
    return st;
}

/* Sets the where filter and reads one feature through it: SQL-backed sources (GeoPackage,
 * PostGIS) only reject bad SQL when reading, and reading then just ends, which looked
 * like a source with no such features (the buildings went missing with exit 0). */
static ct_status set_where(ct_context *ctx, const ct_ogr_read_options *o, OGRLayerH layer) {
    ct_ogr_read_error e;
    ct_ogr_errors_begin(ctx, o->path, &e);
    CPLErrorReset();
    int bad = OGR_L_SetAttributeFilter(layer, o->where) != OGRERR_NONE;
    if (!bad) {
        OGR_L_ResetReading(layer);
        OGRFeatureH f = OGR_L_GetNextFeature(layer);
        bad = !f && CPLGetLastErrorType() >= CE_Failure;
        if (f) OGR_F_Destroy(f);
        OGR_L_ResetReading(layer);
    }
    ct_ogr_errors_end();
    if (!bad) return CT_OK;
    /* GDAL's message may quote the whole query after ": SELECT": the filter says enough. */
    char *query = strstr(e.msg, ": SELECT");
    if (query) *query = '\0';
    return ct_error(ctx, CT_ERR_USAGE,
                    "%s: readers.footprints: invalid where filter '%s' (%.200s): check its SQL and that the layer "
                    "has the columns it names",
                    o->path, o->where, e.msg[0] ? e.msg : "rejected by the source");
}

/* A GeoJSON feature GDAL gave without geometry (r: EMPTY_GEOMETRY): when the file holds
 * one for it, the skip becomes "unreadable geometry" saying what is wrong with it. */
static ct_status geojson_reason(ct_context *ctx, ct_geojson_diag *d, fp_result *r) {
    char why[256];
    if (r->why != EMPTY_GEOMETRY || !ct_geojson_diag_feature(d, (long long)r->fid, why, sizeof why)) return CT_OK;
    free(r->gdal_error);
    r->gdal_error = strdup(why);
    r->why = UNREADABLE_GEOJSON;
    return r->gdal_error ? CT_OK : ct_error_nomem(ctx, "GDAL message");
}

ct_status ct_ogr_read_footprints(ct_context *ctx, const ct_ogr_read_options *o, ct_dataset *ds) {
    GDALDatasetH gd = NULL;
    OGRLayerH layer = NULL;
    ct_status st = ct_input_file_check(ctx, o->path, "footprint source");
    if (st != CT_OK) return st;
    st = ct_ogr_source_open(ctx, o->path, o->layer, &gd, &layer);
    if (st != CT_OK) return st;
    OGRCoordinateTransformationH xform = NULL;
    ct_ogr_field_map *maps = NULL;
    size_t nmaps = 0;
    int id_index = -1;
    area_check area;
    memset(&area, 0, sizeof area);
    st = choose_crs(ctx, o, layer, ds, &xform, &area);
    if (st == CT_OK && o->where) st = set_where(ctx, o, layer);
    if (st == CT_OK && o->bbox) OGR_L_SetSpatialFilterRect(layer, o->bbox[0], o->bbox[1], o->bbox[2], o->bbox[3]);
    if (st == CT_OK) st = map_fields(ctx, o, OGR_L_GetLayerDefn(layer), ds, &maps, &nmaps, &id_index);

    GIntBig total = st == CT_OK ? OGR_L_GetFeatureCount(layer, FALSE) : 0;
    size_t before = ds->nbuildings; /* an earlier readers.footprints stage may have added some */
    const uint64_t outside_before = ct_dataset_skipped_for(ds, OUTSIDE_AREA);
    uint64_t record = 0;
    utf8_note note = {0, 0, 0, 0, 0};
    fp_setup su = {&area, maps, nmaps, id_index, o->max_vertices};
    GIntBig fid_lo = 0, fid_hi = -1;
    if (st == CT_OK && total >= PARALLEL_MIN_FEATURES && gpkg_fid_span(gd, layer, &fid_lo, &fid_hi)) {
        ct_log(ctx, CT_LOG_INFO, "%s: reading FIDs %lld..%lld in %d ranges in parallel", o->path, (long long)fid_lo,
               (long long)fid_hi, FID_RANGES);
        st = read_parallel(ctx, o, &su, layer, xform, fid_lo, fid_hi, ds, (uint64_t)total, &record, &note);
    } else if (st == CT_OK) {
        OGR_L_ResetReading(layer);
        OGRFeatureH f;
        ct_ogr_read_error read_error;
        ct_geojson_diag diag;
        ct_geojson_diag_init(&diag, gd, o->path, o->layer);
        while (st == CT_OK && (f = ct_ogr_next_feature(ctx, o->path, layer, &read_error)) != NULL) {
            ct_geojson_diag_take_error(ctx, &diag, &read_error, "features"); /* (not the first feature's) */
            fp_result r;
            st = convert_feature(ctx, &su, xform, f, &read_error, &r);
            if (st == CT_OK && !OGR_F_GetGeometryRef(f)) st = geojson_reason(ctx, &diag, &r);
            if (st == CT_OK) st = keep_result(ctx, o, &su, ds, &r, ++record, &note);
            else fp_result_free(&r, maps, nmaps);
            OGR_F_Destroy(f);
            if ((record & 1023) == 0) ct_progress(ctx, "reading footprints", record, total > 0 ? (uint64_t)total : 0);
        }
        ct_geojson_diag_close(&diag);
        /* OGR ends the reading the same way at the end and on an error (a damaged
         * GeoPackage page): the rest of the buildings went missing with exit 0. */
        if (st == CT_OK && read_error.msg[0]) {
            char where[64];
            snprintf(where, sizeof where, "after record %llu", (unsigned long long)record);
            st = ct_ogr_reading_stopped(ctx, o->path, where, "features", &read_error);
        }
    }
    ct_progress(ctx, "reading footprints", record, record);
    if (st == CT_OK && record == 0) /* worth more than the info line below */
        ct_log(ctx, CT_LOG_WARN, "%s: %s '%s' %s: no building from this source", o->path,
               o->where || o->bbox ? "no feature of layer" : "layer", OGR_L_GetName(layer),
               o->where || o->bbox ? "passes the where/bbox filter" : "holds no features");
    /* Every feature outside its CRS's area of use: the CRS is wrong, most often a GeoJSON
     * whose "crs" GDAL could not read (an unknown code), taken as WGS 84 without a word. */
    if (st == CT_OK && record > 0 && ds->nbuildings == before && ct_dataset_skipped_for(ds, OUTSIDE_AREA) - outside_before == record) {
        OGRSpatialReferenceH srs = OGR_L_GetSpatialRef(layer);
        const char *name = o->srs ? o->srs : srs && OSRGetName(srs) ? OSRGetName(srs) : "unknown";
        ct_log(ctx, CT_LOG_WARN, "%s: every feature lies outside the area of use of its CRS (%s): is that the CRS its "
               "coordinates are in? (GDAL takes a GeoJSON without a \"crs\", or with one it cannot read, as WGS 84 "
               "longitude/latitude); readers.footprints \"srs\" sets it", o->path, name);
    }
    free(maps);
    if (xform) OCTDestroyCoordinateTransformation(xform);
    GDALClose(gd);
    /* A damaged file can also end early without any error from the driver (SQLite read
     * a GeoPackage with a garbled b-tree page as 1866 of its 4101 features). */
    if (st == CT_OK && !o->where && !o->bbox && total >= 0 && (uint64_t)total != record)
        ct_log(ctx, CT_LOG_WARN, "%s: the source says it holds %lld features but %llu were read: is it damaged? "
               "(the missing ones are not in the tiles)", o->path, (long long)total, (unsigned long long)record);
    if (st == CT_OK && note.unlisted)
        ct_log(ctx, CT_LOG_WARN, "%s: %llu more features skipped or warned about likewise (not listed: the first %d "
               "are; --verbose lists each; the closing summary counts the skips by reason)", o->path,
               (unsigned long long)note.unlisted, (int)WARN_FEATURES);
    if (st == CT_OK && note.count)
        ct_log(ctx, CT_LOG_WARN, "%s: %llu buildings have an id or text attribute that is not UTF-8 (first: feature %lld, "
               "record %llu): its bytes that are not were read as Latin-1 (tile metadata must be UTF-8); convert the "
               "source to UTF-8 if it is in another encoding", o->path, (unsigned long long)note.count, note.first_fid,
               (unsigned long long)note.first_record);
    if (st == CT_OK)
        ct_log(ctx, CT_LOG_INFO, "%s: %llu features read, %zu buildings kept", o->path,
               (unsigned long long)record, ds->nbuildings - before);
    return st;
}
