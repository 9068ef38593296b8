/* Internal: reading building footprints from any OGR vector source. */
#ifndef CT_IO_OGR_FOOTPRINTS_H
#define CT_IO_OGR_FOOTPRINTS_H

#include "citytiler/dataset.h"

typedef struct ct_ogr_read_options {
    const char *path;          /* file or connection string */
    const char *layer;         /* NULL: the first layer */
    const char *id_field;      /* NULL: the feature id */
    const char *const *fields; /* attributes to keep; NULL with all_fields=0: none */
    size_t nfields;
    int all_fields;
    const char *srs;           /* overrides the source CRS; NULL: from the data */
    const char *where;         /* OGR SQL attribute filter, or NULL */
    const double *bbox;        /* xmin, ymin, xmax, ymax in the source CRS, or NULL */
    size_t max_vertices;       /* 0, or footprints with more vertices are skipped */
} ct_ogr_read_options;

/* Appends the polygons of the source to `ds` in the dataset's working CRS (set from
 * the source when ds has none: a projected metre CRS is kept, a geographic or
 * non-metre one is replaced by the UTM zone of the data). Features that are not
 * usable polygons are counted in ds->skipped with a reason and logged with their
 * record number. */
ct_status ct_ogr_read_footprints(ct_context *ctx, const ct_ogr_read_options *o, ct_dataset *ds);

#endif
