/* Internal: reading city assets (points with attributes) from any OGR source. */
#ifndef CT_IO_OGR_ASSETS_H
#define CT_IO_OGR_ASSETS_H

#include "citytiler/assets.h"
#include "citytiler/dataset.h"

typedef struct ct_ogr_assets_options {
    const char *path;           /* file or connection string */
    const char *layer;          /* NULL: the first layer */
    const char *id_field;       /* NULL: a field named "id" when there is one, else the feature id */
    const char *id_prefix;      /* put before every id (sources whose ids would clash), or NULL */
    const char *category_field; /* NULL: "category" when the source has it */
    const char *category;       /* constant category for every asset (instead of a field), or NULL */
    const char *x_field, *y_field; /* coordinate columns; NULL: geometry, else autodetected */
    const char *geometry_field; /* column holding WKT (CSV); NULL: autodetected */
    const char *z_field;        /* explicit base z (wins over clamping), or NULL */
    const char *height_field;   /* height above ground, or NULL */
    const char *heading_field;  /* degrees clockwise from north, or NULL */
    const char *scale_field;    /* uniform symbol scale, or NULL */
    const char *const *fields;  /* attributes to keep; NULL with all_fields=0: none */
    size_t nfields;
    int all_fields;             /* every column except the coordinate columns */
    const char *srs;            /* CRS of the source (overrides); NULL: from the data, or EPSG:4326 for lon/lat columns */
    int on_roof;                /* flag every asset CT_ASSET_ON_ROOF */
    double area_margin;         /* degrees allowed outside the CRS's area of use */
} ct_ogr_assets_options;

/* Appends the points of the source to ds->assets (created when NULL), in the dataset's
 * working CRS (chosen like readers.footprints when ds has none: a projected metre CRS
 * is kept, otherwise the UTM zone of the data). Rows with missing or non-numeric
 * coordinates, coordinates outside the CRS's area of use, non-point geometry, missing
 * or duplicate ids (the first is kept) or non-numeric z/height/heading/scale values are
 * logged as "PATH: row N: skipped: REASON" (CSV: N is the line in the file, the header
 * being row 1) or "PATH: feature FID: skipped: REASON", in source order, and counted in
 * ds->assets->skipped; the rest load. Errors (CT_ERR_INPUT / CT_ERR_USAGE) name the
 * file and the field. */
ct_status ct_ogr_read_assets(ct_context *ctx, const ct_ogr_assets_options *o, ct_dataset *ds);

#endif
