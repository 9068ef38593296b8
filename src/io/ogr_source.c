/* Opening an OGR vector source and choosing its CRSs, as every OGR reader does it. */
#include "io/ogr_source.h"
#include "io/ogr_next_feature.h"

#include <cpl_conv.h>
#include <cpl_string.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The names of d's layers, ", "-separated, in buf (cut at a name that does not fit). */
static void layer_names(GDALDatasetH d, char *buf, size_t size) {
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < GDALDatasetGetLayerCount(d); i++) {
        int w = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", OGR_L_GetName(GDALDatasetGetLayer(d, i)));
        if (w < 0 || (size_t)w >= size - used) {
            buf[used] = '\0';
            break;
        }
        used += (size_t)w;
    }
}

/* GDALOpenEx, GDAL's errors kept instead of printed: its last one says what failed
 * ("Failed to read GeoJSON data"), an earlier one often where ("At line 1, character
 * 94: Unterminated object"). *why gets both, or "" when GDAL said nothing. */
static GDALDatasetH open_vector(ct_context *ctx, const char *path, char *why, size_t size) {
    ct_ogr_read_error first;
    ct_ogr_errors_begin(ctx, path, &first);
    CPLErrorReset();
    GDALDatasetH d = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    const char *last = CPLGetLastErrorType() >= CE_Failure ? CPLGetLastErrorMsg() : "";
    if (first.msg[0] && strcmp(first.msg, last) != 0 && last[0]) snprintf(why, size, "%s: %s", last, first.msg);
    else snprintf(why, size, "%s", first.msg[0] ? first.msg : last);
    ct_ogr_errors_end();
    return d;
}

/* 1 when d is a Shapefile whose layer l has no .dbf among the dataset's files: GDAL opens
 * it as features without attributes, without a word. */
static int shapefile_without_dbf(GDALDatasetH d, OGRLayerH l) {
    GDALDriverH drv = GDALGetDatasetDriver(d);
    if (!drv || strcmp(GDALGetDriverShortName(drv), "ESRI Shapefile") != 0) return 0;
    char **files = GDALGetFileList(d);
    const char *name = OGR_L_GetName(l);
    size_t nl = strlen(name);
    int found = 0;
    for (char **f = files; f && *f && !found; f++) {
        const char *base = strrchr(*f, '/');
        base = base ? base + 1 : *f;
        found = strncasecmp(base, name, nl) == 0 && strcasecmp(base + nl, ".dbf") == 0;
    }
    CSLDestroy(files);
    return !found;
}

ct_status ct_ogr_source_open(ct_context *ctx, const char *path, const char *layer, GDALDatasetH *gd,
                             OGRLayerH *layer_out) {
    *gd = NULL;
    *layer_out = NULL;
    GDALAllRegister();
    char why[600];
    GDALDatasetH d = open_vector(ctx, path, why, sizeof why);
    if (!d)
        return ct_error(ctx, CT_ERR_INPUT, "%s: cannot open as a vector source (%s)", path,
                        why[0] ? why : "missing file or unknown format");
    int nl = GDALDatasetGetLayerCount(d);
    OGRLayerH l = NULL;
    char names[512];
    if (layer) {
        l = GDALDatasetGetLayerByName(d, layer);
        if (!l) {
            layer_names(d, names, sizeof names);
            GDALClose(d);
            return ct_error(ctx, CT_ERR_INPUT, "%s: layer '%s' not found (layers: %s)", path, layer, names);
        }
    } else if (nl > 0) {
        l = GDALDatasetGetLayer(d, 0);
        /* Which one is read matters when there are several (buildings and parcels). */
        if (nl > 1) {
            layer_names(d, names, sizeof names);
            ct_log(ctx, CT_LOG_WARN, "%s: the source holds %d layers (%s): reading the first, '%s'; set \"layer\" to read "
                   "another", path, nl, names, OGR_L_GetName(l));
        }
    }
    if (!l) {
        GDALClose(d);
        return ct_error(ctx, CT_ERR_INPUT, "%s: the source has no layer", path);
    }
    if (shapefile_without_dbf(d, l))
        ct_log(ctx, CT_LOG_WARN, "%s: layer '%s' has no .dbf file: its features have no attributes (copy the .dbf "
               "beside the .shp)", path, OGR_L_GetName(l));
    *gd = d;
    *layer_out = l;
    return CT_OK;
}

OGRSpatialReferenceH ct_ogr_epsg(int code) {
    OGRSpatialReferenceH s = OSRNewSpatialReference(NULL);
    if (s && OSRImportFromEPSG(s, code) != OGRERR_NONE) {
        OSRRelease(s);
        return NULL;
    }
    if (s) OSRSetAxisMappingStrategy(s, OAMS_TRADITIONAL_GIS_ORDER);
    return s;
}

ct_status ct_ogr_source_crs(ct_context *ctx, const char *path, const char *srs, OGRLayerH layer,
                            OGRSpatialReferenceH *out) {
    *out = NULL;
    OGRSpatialReferenceH src = NULL;
    if (srs) {
        src = OSRNewSpatialReference(NULL);
        if (!src) return ct_error_nomem(ctx, "SRS");
        if (OSRSetFromUserInput(src, srs) != OGRERR_NONE) {
            OSRRelease(src);
            return ct_error(ctx, CT_ERR_USAGE, "%s: srs '%s' is not a CRS that GDAL/PROJ understands", path, srs);
        }
    } else {
        OGRSpatialReferenceH ls = layer ? OGR_L_GetSpatialRef(layer) : NULL;
        if (!ls) return CT_OK;
        src = OSRClone(ls);
        if (!src) return ct_error_nomem(ctx, "SRS");
    }
    if (OSRIsLocal(src)) {
        /* A site grid (LOCAL_CS, ENGCRS) has no link to the Earth: PROJ then failed to
         * find a transformation, printed two raw errors naming a UTM zone picked at lon 0,
         * and the reader said only "cannot transform". */
        const char *name = OSRGetName(src);
        ct_status st = ct_error(ctx, srs ? CT_ERR_USAGE : CT_ERR_INPUT,
                                "%s: the %s '%s' is a local engineering CRS, with no link to the Earth: the features "
                                "cannot be placed on the globe; set %s\"srs\" to the CRS the coordinates are really in "
                                "(e.g. \"EPSG:28992\"), or georeference the source first", path,
                                srs ? "srs" : "source's CRS", name ? name : "unnamed", srs ? "" : "the stage's ");
        OSRRelease(src);
        return st;
    }
    OSRSetAxisMappingStrategy(src, OAMS_TRADITIONAL_GIS_ORDER);
    *out = src;
    return CT_OK;
}

/* 1 for a (normal or ellipsoidal) Mercator: its metres are metres on the ground only at
 * its standard parallel. In Delft a Web Mercator (EPSG:3857) metre is 0.62 m, so
 * cell_size, buffers, tolerances and areas, all in working CRS units, were 1.6 times too
 * large there (2.9 at 70 degrees). Transverse and oblique Mercators keep scale near 1. */
static int is_mercator(OGRSpatialReferenceH src) {
    const char *p = OSRGetAttrValue(src, "PROJECTION", 0);
    return p && strstr(p, "Mercator") && !strstr(p, "Transverse") && !strstr(p, "Oblique");
}

/* 1 when src can be the working CRS: projected, in metres that are about ground metres. */
static int projected_in_metres(OGRSpatialReferenceH src) {
    return OSRIsProjected(src) && fabs(OSRGetLinearUnits(src, NULL) - 1.0) < 1e-12 && !is_mercator(src);
}

int ct_ogr_working_crs_needs_lonlat(const ct_dataset *ds, OGRSpatialReferenceH src) {
    return !ds->crs_wkt && !projected_in_metres(src);
}

/* ds->crs_wkt, src itself or the UTM zone around (lon, lat); NULL when GDAL fails. */
static OGRSpatialReferenceH pick_working(const ct_dataset *ds, OGRSpatialReferenceH src, double lon, double lat,
                                         int strip_vertical) {
    if (ds->crs_wkt) return OSRNewSpatialReference(ds->crs_wkt);
    if (projected_in_metres(src)) {
        OGRSpatialReferenceH work = OSRClone(src);
        if (strip_vertical && work && OSRIsCompound(work)) OSRStripVertical(work);
        return work;
    }
    int zone = (int)floor((lon + 180.0) / 6.0) + 1;
    if (zone < 1) zone = 1;
    if (zone > 60) zone = 60;
    return ct_ogr_epsg((lat >= 0 ? 32600 : 32700) + zone);
}

ct_status ct_ogr_working_crs(ct_context *ctx, const char *path, OGRSpatialReferenceH src, double lon, double lat,
                             int strip_vertical, ct_dataset *ds, OGRSpatialReferenceH *out) {
    *out = NULL;
    OGRSpatialReferenceH work = pick_working(ds, src, lon, lat, strip_vertical);
    if (!work) return ct_error(ctx, CT_ERR_INTERNAL, "%s: cannot set up the working CRS", path);
    OSRSetAxisMappingStrategy(work, OAMS_TRADITIONAL_GIS_ORDER);
    if (!ds->crs_wkt) {
        ct_status st = CT_OK;
        ds->crs_wkt = ct_ogr_wkt2(work);
        if (!ds->crs_wkt) st = ct_error(ctx, CT_ERR_INTERNAL, "%s: cannot export the working CRS", path);
        if (st != CT_OK) {
            OSRRelease(work);
            return st;
        }
    }
    *out = work;
    return CT_OK;
}

char *ct_ogr_wkt2(OGRSpatialReferenceH srs) {
    char *wkt = NULL;
    const char *opts[] = {"FORMAT=WKT2_2019", NULL};
    if (!srs || OSRExportToWktEx(srs, &wkt, opts) != OGRERR_NONE || !wkt) {
        CPLFree(wkt);
        return NULL;
    }
    char *copy = strdup(wkt);
    CPLFree(wkt);
    return copy;
}

double ct_lon_middle(double lon0, double lon1) {
    if (!(lon1 - lon0 > 180.0)) return 0.5 * (lon0 + lon1);
    double mid = 0.5 * (lon0 + 360.0 + lon1); /* the middle of lon1 .. lon0 + 360, eastwards */
    return mid > 180.0 ? mid - 360.0 : mid;
}
