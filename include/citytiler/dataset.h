/* citytiler — the data a pipeline passes from stage to stage. */
#ifndef CITYTILER_DATASET_H
#define CITYTILER_DATASET_H

#include <stddef.h>
#include <stdint.h>
#include "citytiler/context.h"
#include "citytiler/geometry.h"
#include "citytiler/mesh.h"

typedef enum ct_attr_type { CT_ATTR_INT = 0, CT_ATTR_REAL, CT_ATTR_STRING, CT_ATTR_BOOL } ct_attr_type;

/* One attribute column, shared by all buildings. */
typedef struct ct_attr_def {
    char *name;
    ct_attr_type type;
} ct_attr_def;

/* One attribute value. Strings are owned by the building (UTF-8). */
typedef struct ct_value {
    int is_null;
    union {
        int64_t i;   /* CT_ATTR_INT, CT_ATTR_BOOL (0/1) */
        double r;    /* CT_ATTR_REAL, never NaN when not null */
        char *s;     /* CT_ATTR_STRING */
    } v;
} ct_value;

typedef struct ct_building {
    char *id;              /* from the source's id field, or its feature id */
    uint64_t source_record;/* feature id in the source, for messages */
    ct_footprint footprint;
    ct_value *attrs;       /* one per dataset attribute column */
    double base_z;         /* ground height (NaN until known) */
    double top_z;          /* roof height (NaN until known) */
    double fallback_height;/* height above ground to use when top_z is unknown (NaN: none) */
    ct_mesh mesh;          /* empty until filters.extrude */
} ct_building;

/* A counted reason why input was skipped or changed ("invalid geometry", ...). */
typedef struct ct_reason_count {
    char *reason;
    uint64_t count;
} ct_reason_count;

typedef struct ct_dataset {
    char *crs_wkt;          /* working CRS (projected, metres); NULL until a reader sets it */
    char *vertical_wkt;     /* CRS of the heights (vertical, or a compound whose vertical part
                             * counts); NULL when unknown */
    char *footprints_vertical_wkt; /* the footprints' compound CRS (e.g. EPSG:7415, RD New + NAP):
                                    * its vertical part is the heights' CRS when neither
                                    * vertical_crs nor the LiDAR gives one; NULL when not compound */
    int heights_ellipsoidal; /* the LiDAR's CRS is 3D (its third axis an ellipsoidal height):
                              * heights need no vertical CRS */
    ct_attr_def *attrs;
    size_t nattrs;
    ct_building *buildings;
    size_t nbuildings, cap_buildings;
    double cell_size;           /* processing cells: squares of this side (m), aligned to
                                 * multiples of it in the working CRS; leaf tiles nest in them */
    uint64_t input_features;    /* features read from sources (before skips) */
    ct_reason_count *skipped;   /* features dropped, by reason */
    size_t nskipped;
    ct_reason_count *changed;   /* features repaired or altered (kept), by reason */
    size_t nchanged;
    struct ct_point_store *points; /* LiDAR binned into cells (readers.lidar), or NULL */
    struct ct_asset_set *assets;   /* city assets and sensors (readers.assets), or NULL */
    struct ct_raster_set *rasters; /* DTM and/or DSM (readers.raster), or NULL */
    ct_mesh_arena mesh_arena;      /* memory of the buildings' meshes made by filters.extrude */
    int mesh_floor;                /* filters.extrude's floor option, for meshes rebuilt on demand */
    int writers_done;              /* writer stages that finished (the run's summary says "written" only then) */
    size_t buildings_written;      /* buildings the last of them wrote */
    size_t assets_written;         /* assets the last of them wrote (0 in a partition: the merge writes them) */
    uint64_t *lidar_files;         /* (device, inode) pairs of the LAS files read so far (readers.lidar) */
    size_t nlidar_files;
    struct json_t *sources;        /* what the readers read, for the run summary: an array of {"stage",
                                    * "path", a count, "bytes"}; NULL until a reader noted one */
    double lidar_crop[4];          /* the area readers.lidar kept points in (its crop box; the union
                                    * over its stages), when lidar_crop_kind is 1 */
    int lidar_crop_kind;           /* 0: no readers.lidar ran, 1: lidar_crop, 2: unbounded (crop off) */
    double lidar_bounds[4];        /* the LAS files' header bounds in the working CRS (union), when
                                    * lidar_bounds_kind is 1 (2: not known, the files were reprojected) */
    int lidar_bounds_kind;
    struct ct_rank_band *band;     /* under MPI, this process's band of the city (readers.lidar
                                    * keeps only its points), or NULL */
    uint64_t lidar_run_hash;       /* the run and the LAS files read so far, for the results partitions
                                    * leave to the merge (readers.lidar; 0 when unknown) */
    int points_from_partitions;    /* merge: readers.lidar read no point, as every stage after it that
                                    * reads points takes the partitions' results */
    uint64_t lidar_points_kept;    /* points the readers.lidar stages so far kept (all processes) */
} ct_dataset;

#define CT_DEFAULT_CELL_SIZE 250.0
#define CT_DATASET_HAS_RASTERS 1

/* Creates an empty dataset (cell_size CT_DEFAULT_CELL_SIZE); NULL when out of memory. */
ct_dataset *ct_dataset_create(void);
void ct_dataset_destroy(ct_dataset *ds);

/* Index of attribute `name`, or -1. */
int ct_dataset_find_attr(const ct_dataset *ds, const char *name);
/* Adds a column (null for existing buildings) or returns the existing one when
 * name and type match. Returns the index in *out. */
ct_status ct_dataset_add_attr(ct_context *ctx, ct_dataset *ds, const char *name,
                              ct_attr_type type, int *out);
/* ct_dataset_add_attr for n columns at once (every building's values grow once), their
 * indices in out[0..n-1]; a name given twice gets one column. */
ct_status ct_dataset_add_attrs(ct_context *ctx, ct_dataset *ds, const char *const *names,
                               const ct_attr_type *types, size_t n, int *out);

/* For a stage's own output columns: ct_dataset_add_attrs, after any column of those
 * names that is already there (an input attribute named roof_z, say) lost all its values
 * and took the stage's type, with one warning naming `stage` and those columns: a name
 * clash failed the run ("already exists with another type"), or left the input's values
 * beside the stage's where it set none. */
ct_status ct_dataset_claim_attrs(ct_context *ctx, ct_dataset *ds, const char *stage, const char *const *names,
                                 const ct_attr_type *types, size_t n, int *out);
/* Appends a zeroed building (attrs allocated, all null; base/top NaN) and returns it
 * in *out. The pointer is valid until the next append. */
ct_status ct_dataset_append(ct_context *ctx, ct_dataset *ds, ct_building **out);
/* Frees what building b owns (id, footprint, attributes of ds's columns, mesh). */
void ct_building_free(const ct_dataset *ds, ct_building *b);
/* Removes building i (frees it) keeping order. */
void ct_dataset_remove(ct_dataset *ds, size_t i);
/* Frees every building i with keep[i] == 0 and closes the gaps, keeping order. */
void ct_dataset_compact(ct_dataset *ds, const unsigned char *keep);
/* How many buildings carry an id an earlier building already has; *first and *second
 * (when some do) are the indexes of the first such pair. Returns SIZE_MAX when out of
 * memory. */
size_t ct_dataset_duplicate_ids(const ct_dataset *ds, size_t *first, size_t *second);

/* Notes a source a reader read, for the run summary: {"stage": stage, "path": path,
 * count_name: count (none when count_name is NULL), "bytes": its size (files only)}
 * appended to ds->sources. */
ct_status ct_dataset_note_source(ct_context *ctx, ct_dataset *ds, const char *stage, const char *path,
                                 const char *count_name, uint64_t count);
/* Adds key: text to the source noted last (nothing when none was). */
ct_status ct_dataset_note_source_detail(ct_context *ctx, ct_dataset *ds, const char *key, const char *text);
/* Counts one skipped feature under `reason` (copied). */
ct_status ct_dataset_count_skip(ct_context *ctx, ct_dataset *ds, const char *reason);
uint64_t ct_dataset_skipped_total(const ct_dataset *ds);
/* The features skipped so far under `reason`. */
uint64_t ct_dataset_skipped_for(const ct_dataset *ds, const char *reason);
/* Counts one change made to a kept feature under `reason` (copied), e.g. "repaired: self-intersection". */
ct_status ct_dataset_count_change(ct_context *ctx, ct_dataset *ds, const char *reason);

/* Sets a value (string copied). Returns CT_ERR_NOMEM on allocation failure. */
ct_status ct_value_set_string(ct_context *ctx, ct_value *v, const char *s);
void ct_value_clear(ct_value *v, ct_attr_type type);

/* Bounding box of all footprints; returns 0 when there are none. */
int ct_dataset_bbox(const ct_dataset *ds, double out[4]);

#endif
