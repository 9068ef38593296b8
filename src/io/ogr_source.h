/* Internal: what the OGR readers (footprints, assets) share: opening a vector source,
 * picking its layer, the source CRS and the dataset's working CRS. */
#ifndef CT_IO_OGR_SOURCE_H
#define CT_IO_OGR_SOURCE_H

#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include "citytiler/dataset.h"

/* Opens `path` (file or connection string) read-only as a vector source and picks the
 * layer named `layer`, or the first layer when layer is NULL. On success the caller
 * closes *gd (GDALClose), which owns *layer_out. Errors (CT_ERR_INPUT: cannot open,
 * layer not found (the message lists the layers), no layer) leave nothing open. */
ct_status ct_ogr_source_open(ct_context *ctx, const char *path, const char *layer, GDALDatasetH *gd,
                             OGRLayerH *layer_out);

/* A new SRS for EPSG:code, axes in GIS order (x east / longitude), or NULL when GDAL
 * cannot make it. The caller releases it (OSRRelease). */
OGRSpatialReferenceH ct_ogr_epsg(int code);

/* The source CRS, axes in GIS order: `srs` (user input such as "EPSG:28992" or WKT)
 * when not NULL, else a copy of the CRS of `layer` (which may be NULL). *out is NULL
 * when there is neither (the caller decides what then); else the caller releases it.
 * Errors: CT_ERR_USAGE for an srs GDAL/PROJ does not understand; a local engineering
 * CRS (no link to the Earth): CT_ERR_USAGE when it is `srs`, else CT_ERR_INPUT; CT_ERR_NOMEM. */
ct_status ct_ogr_source_crs(ct_context *ctx, const char *path, const char *srs, OGRLayerH layer,
                            OGRSpatialReferenceH *out);

/* The working CRS, axes in GIS order: ds->crs_wkt when set; else `src` when it is
 * projected in metres (its vertical part dropped when strip_vertical), else the UTM
 * zone around (lon, lat) in degrees; a new working CRS is stored in ds->crs_wkt
 * (WKT2_2019). The caller releases *out. Errors (CT_ERR_INTERNAL, CT_ERR_NOMEM) name
 * `path`; *out is then NULL. */
ct_status ct_ogr_working_crs(ct_context *ctx, const char *path, OGRSpatialReferenceH src, double lon, double lat,
                             int strip_vertical, ct_dataset *ds, OGRSpatialReferenceH *out);
/* The middle longitude (degrees) of data from lon0 to lon1 (lon0 <= lon1): data more than
 * 180 degrees wide is taken to cross the antimeridian (a town on Fiji's lon 180 spans
 * -180..180, whose plain middle, 0, chose UTM zone 31 on the other side of the Earth). */
double ct_lon_middle(double lon0, double lon1);
/* 1 when ct_ogr_working_crs(src, ...) would use lon, lat (a UTM zone is to be chosen):
 * callers skip finding the data's centre otherwise (a transformation to WGS 84, and for
 * some formats a scan of every feature for the extent). */
int ct_ogr_working_crs_needs_lonlat(const ct_dataset *ds, OGRSpatialReferenceH src);

/* srs as WKT2_2019 text (malloc'd, the caller frees it), or NULL when GDAL cannot export
 * it or out of memory. */
char *ct_ogr_wkt2(OGRSpatialReferenceH srs);

#endif
