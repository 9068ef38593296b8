/* citytiler — reading LAS 1.0–1.4 point clouds (ASPRS LAS 1.4 R15).
 *
 * A ct_las_reader is opened once (header, VLRs, EVLRs and CRS parsed and checked
 * against the file size) and then read in ranges of points into caller-owned
 * structure-of-arrays buffers. After ct_las_open returns, a reader is immutable:
 * ct_las_read_points may be called from several threads at once on the same
 * reader (it uses pread on a shared descriptor and a per-call buffer).
 *
 * LAZ (LASzip-compressed LAS) is read too: its records are decoded into the LAS records
 * they were made from as they are read (formats 0-5 with LASzip's pointwise items,
 * 6-10 with its layered ones). LAS 1.5 and later, and any major version other than 1,
 * are refused. */
#ifndef CITYTILER_LAS_H
#define CITYTILER_LAS_H

#include <stddef.h>
#include <stdint.h>
#include "citytiler/context.h"

typedef struct ct_las_reader ct_las_reader;

/* One variable-length record (VLR) or extended VLR (EVLR). */
typedef struct ct_las_vlr {
    char user_id[17];      /* NUL-terminated copy of the 16-byte field */
    uint16_t record_id;
    uint64_t length;       /* payload bytes (16-bit for VLRs, 64-bit for EVLRs) */
    char description[33];  /* NUL-terminated copy of the 32-byte field */
    uint64_t data_offset;  /* file offset of the payload (after the record header) */
    int extended;          /* 1 for an EVLR */
} ct_las_vlr;

/* One extra-bytes field described by an Extra Bytes VLR (LASF_Spec/4). */
typedef struct ct_las_extra_dim {
    char name[33];
    uint8_t data_type;     /* LAS 1.4 table 24: 0 = undocumented bytes, 1..10 = u8..f64 */
    uint32_t size;         /* bytes in the record */
    uint32_t offset;       /* byte offset in the point record */
    int has_scale, has_offset;
    double scale, offset_value;
} ct_las_extra_dim;

/* The public header block plus everything derived from it at open time.
 * Owned by the reader; valid until ct_las_close. */
typedef struct ct_las_header {
    uint8_t version_major, version_minor;
    uint8_t point_format;          /* 0..10 (compression bits cleared) */
    int compressed;                /* LAZ: the point format byte's compression bits were set */
    uint64_t laz_chunks;           /* LAZ: the chunks of compressed records (0 for LAS) */
    uint32_t laz_chunk_size;       /* LAZ: points per chunk (UINT32_MAX: variable) */
    uint16_t record_length;        /* bytes per point record, as stored */
    uint16_t standard_length;      /* the format's own size (20, 28, ... 67) */
    uint16_t extra_bytes;          /* record_length - standard_length */
    uint16_t header_size;
    uint16_t file_source_id;
    uint16_t global_encoding;
    uint8_t project_guid[16];
    uint32_t offset_to_points;
    uint64_t point_count;          /* 64-bit count when the legacy one is 0 or version >= 1.4 */
    uint32_t legacy_point_count;   /* as stored */
    uint64_t points_by_return[15]; /* 5 used before LAS 1.4 */
    char system_id[33];
    char generating_software[33];
    uint16_t creation_day, creation_year;
    double scale[3], offset[3];
    double min[3], max[3];         /* as stored in the header (not recomputed) */
    uint64_t waveform_offset;      /* LAS 1.3+: start of waveform data packet record */
    uint64_t evlr_offset;          /* LAS 1.4 */
    uint32_t evlr_count;           /* as stored */
    ct_las_vlr *vlrs;              /* the VLRs that were readable */
    size_t nvlrs;
    ct_las_vlr *evlrs;
    size_t nevlrs;
    ct_las_extra_dim *extra_dims;  /* from Extra Bytes VLRs that fit the record */
    size_t nextra_dims;
    /* CRS: WKT (any flavour GDAL/PROJ parse) or NULL when the file has none
     * usable. EPSG codes are 0 when unknown. crs_source is "wkt", "geotiff"
     * or "none". */
    char *crs_wkt;
    int epsg_horizontal, epsg_vertical;
    const char *crs_source;
    /* Metres per unit of z as the GeoTIFF VerticalUnitsGeoKey gives it (0 when absent):
     * the unit of z of a file whose CRS has no vertical part. */
    double z_units_key;
    uint64_t file_size;
} ct_las_header;

/* Options for ct_las_open_ex; zero-initialised gives the defaults. */
typedef struct ct_las_open_options {
    /* When set, a file shorter than its header claims opens with point_count
     * lowered to the complete records present (and a warning); by default it is
     * an error naming expected and actual size. */
    int allow_truncated;
    /* When set, the CRS is not derived (crs_wkt NULL, crs_source "none"):
     * faster and GDAL-free, for tools that only need the points. */
    int skip_crs;
} ct_las_open_options;

/* Opens `path` (default options). Checks the signature, version (1.0–1.4),
 * point format (0–10), record length, scale, point offset and that the file
 * holds all points it claims; parses VLRs/EVLRs and the CRS. Tolerates what
 * common readers tolerate (broken VLR counts, pad bytes, undescribed extra
 * bytes), logging a warning through ctx.
 * Returns CT_OK and a reader the caller owns (ct_las_close), or an error with
 * a message naming the file and the problem (CT_ERR_UNSUPPORTED for LAZ and
 * newer versions, CT_ERR_INPUT for malformed files, CT_ERR_IO, CT_ERR_NOMEM). */
ct_status ct_las_open(ct_context *ctx, const char *path, ct_las_reader **out);
ct_status ct_las_open_ex(ct_context *ctx, const char *path, const ct_las_open_options *opts,
                         ct_las_reader **out);

/* Parses a whole file image held in memory (header, VLRs, EVLRs, CRS unless
 * opts->skip_crs) with the same checks as ct_las_open; `name` is used in
 * messages. The returned reader can be queried and closed but reads no points
 * (ct_las_read_points returns CT_ERR_USAGE). Meant for fuzzing and tests.
 * `data` is not retained. */
ct_status ct_las_parse_header_bytes(ct_context *ctx, const char *name, const void *data,
                                    size_t size, const ct_las_open_options *opts,
                                    ct_las_reader **out);

/* The parsed header; never NULL for an open reader. Owned by the reader. */
const ct_las_header *ct_las_get_header(const ct_las_reader *r);
/* The path given to ct_las_open. Owned by the reader. */
const char *ct_las_path(const ct_las_reader *r);

/* Closes the reader and frees everything it owns. NULL is a no-op. */
void ct_las_close(ct_las_reader *r);
/* Closes r's file and keeps its header and path (a file passed over unread: its
 * descriptor is not held while the others are read). Reading points from r after it
 * fails with a message. */
void ct_las_release_file(ct_las_reader *r);

/* Returns 1 when `path` looks like LAZ: a .laz extension, compression bits
 * (7 or 6) set in the point format byte, or a "laszip encoded" VLR.
 * Returns 0 otherwise (including when the file cannot be read). */
int ct_las_is_laz(const char *path);

/* ---- points ---------------------------------------------------------- */

/* Field bits for ct_las_points_alloc. */
enum {
    CT_LAS_XYZ = 1u << 0,
    CT_LAS_INTENSITY = 1u << 1,
    CT_LAS_RETURNS = 1u << 2,         /* return_number + number_of_returns */
    CT_LAS_CLASS = 1u << 3,
    CT_LAS_CLASS_FLAGS = 1u << 4,
    CT_LAS_SCAN_ANGLE = 1u << 5,
    CT_LAS_USER_DATA = 1u << 6,
    CT_LAS_POINT_SOURCE = 1u << 7,
    CT_LAS_GPS_TIME = 1u << 8,
    CT_LAS_RGB = 1u << 9,
    CT_LAS_NIR = 1u << 10,
    CT_LAS_ALL = (1u << 11) - 1
};

/* Points in structure-of-arrays form. Every array may be NULL: the decoder
 * fills only the non-NULL ones, so a caller that needs x, y, z and class pays
 * for nothing else. Fields a format lacks are filled with 0 (gps_time 0.0,
 * colours 0). Arrays may be the caller's own buffers (then the caller frees
 * them) or come from ct_las_points_alloc (then ct_las_points_free). */
typedef struct ct_las_points {
    size_t capacity;            /* entries each non-NULL array holds */
    size_t count;               /* points filled by the last read */
    double *x, *y, *z;          /* scaled and offset (X * scale + offset) */
    uint16_t *intensity;
    uint8_t *return_number;     /* 3 bits in formats 0-5, 4 bits in 6-10 */
    uint8_t *number_of_returns;
    uint8_t *cls;               /* 0-31 in formats 0-5 (5 bits), 0-255 in 6-10 */
    uint8_t *class_flags;       /* bit 0 synthetic, 1 key-point, 2 withheld, 3 overlap (6-10 only) */
    float *scan_angle;          /* degrees (formats 0-5: the rank; 6-10: 0.006° units) */
    uint8_t *user_data;
    uint16_t *point_source_id;
    double *gps_time;
    uint16_t *red, *green, *blue;
    uint16_t *nir;
} ct_las_points;

/* Allocates the arrays named by `fields` (CT_LAS_* bits) for `capacity`
 * points, zeroing the rest of *out. On failure nothing is left allocated.
 * Free with ct_las_points_free. */
ct_status ct_las_points_alloc(ct_context *ctx, size_t capacity, unsigned fields,
                              ct_las_points *out);
/* Frees the arrays (of ct_las_points_alloc) and zeroes *p. NULL is a no-op. */
void ct_las_points_free(ct_las_points *p);

/* Decodes points [first, first + count) into out's non-NULL arrays, starting
 * at index 0, and sets out->count = count.
 * Preconditions: count <= out->capacity; first + count <= point_count
 * (else CT_ERR_USAGE). Thread-safe for concurrent calls on one reader with
 * distinct `out`. Reads the file in chunks (never the whole file). */
ct_status ct_las_read_points(ct_context *ctx, const ct_las_reader *r, uint64_t first,
                             size_t count, ct_las_points *out);

/* Copies the raw point records [first, first + count) (record_length bytes
 * each, extra bytes included) into `buf`, which must hold
 * count * record_length bytes. Same preconditions and thread-safety as
 * ct_las_read_points. */
ct_status ct_las_read_raw(ct_context *ctx, const ct_las_reader *r, uint64_t first,
                          size_t count, void *buf);

/* The box of r's header bounds (xmin, ymin, xmax, ymax; the file's CRS), grown by their
 * rounding (a few units of the scale). 0 when they are not finite or min > max. */
int ct_las_header_box(const ct_las_reader *r, double box[4]);
/* 1 when r's header bounds can be trusted to hold its points, so that a crop may pass the
 * file over by them unread: 64 of its records, spread over the file (the first and the
 * last among them; in a LAZ, the first records of 64 chunks spread over the file, or with
 * fewer chunks records spread over the first 1024 of every chunk, as a chunk decodes from
 * its start), lie within ct_las_header_box. 0 for a header left stale after its
 * points changed, or a damaged one. Reads those records only; thread-safe. */
int ct_las_points_within_header(const ct_las_reader *r);
/* 1 when one of the same 64 records lies beyond r's header z bounds by more than their
 * extent and 10 units: the z scale or offset is damaged (a z scale 10 times too large
 * made every roof 10 times too tall, without a word), or the bounds were not updated
 * when the heights changed. *index and xyz (as ct_las_read_points gives them) name the
 * first such record. Bounds not finite, or both zero (never filled in), are not checked;
 * bounds written in record units (Z instead of z, a writer's bug) are taken as such.
 * (x and y are not: a tile whose stale x/y bounds lie elsewhere still has its points
 * where the footprints are; readers.lidar refuses a file only when none was kept.)
 * Reads those records only; thread-safe. */
int ct_las_z_beyond_header(const ct_las_reader *r, uint64_t *index, double xyz[3]);
/* 1 when the same 64 records lie within a millionth of r's header box of each other (the
 * box wider than 10 m): the x/y scale is damaged (a scale of 1e-9 put half a million
 * points within a millimetre, and every building got a fallback height with a warning
 * about classification). spread gets their extent in x and y. Reads those records only;
 * thread-safe. */
int ct_las_points_collapsed(const ct_las_reader *r, double spread[2]);

/* The end of the block of records that holds record `first` (< point_count) and is
 * decoded as one: the LAZ chunk's end, or point_count for LAS. A caller reading a LAZ in
 * pieces cuts them there, so that no chunk is decoded twice. */
uint64_t ct_las_block_end(const ct_las_reader *r, uint64_t first);

/* Tells the kernel that records [first, first + count) will not be read again, so it
 * may drop them from the page cache (a hint; nothing happens where unsupported). */
void ct_las_drop_cached(const ct_las_reader *r, uint64_t first, size_t count);

/* ---- binning raw records (readers.lidar's fast path) ------------------- */

struct ct_point_rec;

/* What readers.lidar keeps and where: a point (x, y, z, class) is kept when
 * !drop_class[class] and crop[0] <= x <= crop[2] and crop[1] <= y <= crop[3]
 * (x = X * scale + offset as ct_las_read_points gives it); its cell is
 * (floor(x / cell_size), floor(y / cell_size)). */
typedef struct ct_las_bin_params {
    double cell_size;
    double crop[4];
    const uint8_t *drop_class; /* 256 flags */
    int drop_withheld;         /* 1: points flagged withheld are not kept */
} ct_las_bin_params;

/* The withheld bit in class_flags (ct_las_points), in every point format. */
#define CT_LAS_WITHHELD 0x04u

/* 1 when ct_las_bin_locate / ct_las_bin_fill can read r's points (positive x and y
 * scales, z finite for every stored value); else the caller decodes the points with
 * ct_las_read_points. */
int ct_las_bin_supported(const ct_las_reader *r);

/* Pass 1 of ct_point_store_add_chunks_ops on points [first, first + count) of r,
 * from the raw records (no intermediate arrays): see ct_point_chunk_ops.locate.
 * ids holds count entries; cxy 2 * CT_CHUNK_MAX_CELLS, counts CT_CHUNK_MAX_CELLS.
 * Points kept but with unusable coordinates (|x| or |y| >= 1e15 or not finite)
 * are counted in *ignored. *ncells = CT_CHUNK_GENERIC when the points touch more
 * than CT_CHUNK_MAX_CELLS cells. raw: the count records already read (as
 * ct_las_read_raw gives them), or NULL to read them from the file. */
ct_status ct_las_bin_locate(ct_context *ctx, const ct_las_reader *r, uint64_t first, size_t count,
                            const ct_las_bin_params *p, uint8_t *ids, int64_t *cxy, uint32_t *counts,
                            size_t *ncells, uint64_t *ignored, const uint8_t *raw);
/* Pass 2: writes the records of the points with ids[i] != CT_CELL_SKIP to dst[ids[i]]
 * (advancing), with x, y relative to their cell's corner, in input order; adds their
 * classes to class_counts. cxy as ct_las_bin_locate returned it; raw as there. */
ct_status ct_las_bin_fill(ct_context *ctx, const ct_las_reader *r, uint64_t first, size_t count,
                          const ct_las_bin_params *p, const uint8_t *ids, const int64_t *cxy, size_t ncells,
                          struct ct_point_rec *const *dst, uint64_t class_counts[256], const uint8_t *raw);

/* ---- several files as one source ------------------------------------- */

typedef struct ct_las_source ct_las_source;

/* Opens every input: each entry of `inputs` is a file, a directory (its
 * *.las files, sorted by name, not recursive) or a glob pattern. All files
 * must share one CRS (compared with OGR), else CT_ERR_INPUT naming both
 * files; a file without CRS among files with one is accepted with a warning.
 * An input matching no file is an error. Caller owns *out (ct_las_source_close).
 * file_ids, nfile_ids: the (device, inode) pairs of the files read before, by earlier
 * sources (the dataset's lidar_files; *file_ids may be NULL when *nfile_ids is 0). A file
 * reached twice is read once, with a warning; a file read before is refused
 * (CT_ERR_USAGE naming it: its points would count twice). On success the pairs of this
 * source's files are appended (*file_ids grows; the caller frees it); on failure
 * *nfile_ids is as it was. */
ct_status ct_las_source_open(ct_context *ctx, const char *const *inputs, size_t ninputs, uint64_t **file_ids,
                             size_t *nfile_ids, ct_las_source **out);
size_t ct_las_source_count(const ct_las_source *s);
/* Reader i (0 <= i < count); owned by the source. */
const ct_las_reader *ct_las_source_reader(const ct_las_source *s, size_t i);
/* ct_las_release_file of reader i. */
void ct_las_source_release_file(ct_las_source *s, size_t i);
uint64_t ct_las_source_point_count(const ct_las_source *s);
/* Union of the header bounds: min[3], max[3]. */
void ct_las_source_bounds(const ct_las_source *s, double min[3], double max[3]);
/* The shared CRS (WKT) or NULL; owned by the source. */
const char *ct_las_source_crs_wkt(const ct_las_source *s);
/* Heights in metres from here on: multiplies the z scale, offset and bounds of every
 * file's header (and the source's bounds) by metres_per_unit (> 0), so that every z read
 * from the source's readers after is in metres. For a CRS whose heights are in feet. */
void ct_las_source_set_z_unit(ct_las_source *s, double metres_per_unit);
/* The unit of z the files' GeoTIFF keys name, in *key (metres a unit; 0 when no file has
 * the key); *path (when not NULL) gets the first file with it. Files whose keys differ:
 * CT_ERR_INPUT naming two of them. Files without the key among files with one are taken
 * in that unit, with a warning. */
ct_status ct_las_source_z_units_key(ct_context *ctx, const ct_las_source *s, double *key, const char **path);
void ct_las_source_close(ct_las_source *s);

/* ---- info ------------------------------------------------------------ */

struct json_t;
/* Describes `path` as a JSON object (version, point format, record length,
 * point count, points by return, bounds, scale/offset, CRS WKT and EPSG,
 * VLRs/EVLRs, extra-bytes fields, and with_classes != 0: a count of points
 * per classification read from the whole file). Caller owns *out (json_decref). */
ct_status ct_las_info_json(ct_context *ctx, const char *path, int with_classes,
                           struct json_t **out);

#endif
