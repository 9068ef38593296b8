/* citytiler — LiDAR points binned once into the processing cells, with a fine grid
 * index per cell for fast "points in this box" queries. */
#ifndef CITYTILER_POINTS_H
#define CITYTILER_POINTS_H

#include <stddef.h>
#include <stdint.h>
#include "citytiler/context.h"

typedef struct ct_point_store ct_point_store;
struct ct_point_rec; /* below */

/* A processing cell holds 1 to CT_POINT_STORE_MAX_BINS index bins a side. */
#define CT_POINT_STORE_MAX_BINS 4096

/* CT_OK when a store of cells of side cell_size indexed in bins of side fine_size can be
 * made (fine_size <= cell_size <= CT_POINT_STORE_MAX_BINS * fine_size); else a usage
 * error naming both sizes and the cell sizes that fit. */
ct_status ct_point_store_check_sizes(ct_context *ctx, double cell_size, double fine_size);

/* Creates an empty store of cells of side cell_size (aligned to multiples of it),
 * indexed in bins of side fine_size (cell_size must be a multiple-ish of it: the
 * last bin of a row may be narrower). NULL when out of memory or bad sizes (see
 * ct_point_store_check_sizes). */
ct_point_store *ct_point_store_create(double cell_size, double fine_size);
void ct_point_store_destroy(ct_point_store *s);

/* Adds n points (working CRS) to their cells, in input order. Not thread-safe.
 * Points with non-finite coordinates are ignored and counted. */
ct_status ct_point_store_add(ct_context *ctx, ct_point_store *s, const double *x, const double *y, const double *z,
                             const uint8_t *cls, size_t n);

/* Fills chunk `chunk` (0 <= chunk < nchunks) into x, y, z, cls (each with room for
 * max_chunk points), compacted to the points to keep, and sets *n. Called twice per
 * chunk, possibly from several threads at once; must give the same points both times. */
typedef ct_status (*ct_point_chunk_fn)(ct_context *ctx, void *user, size_t chunk, double *x, double *y, double *z,
                                       uint8_t *cls, size_t *n);

/* Adds the points of nchunks chunks in parallel and in chunk order (the result is the
 * same for any thread count): a first pass counts the points per cell and chunk, the
 * second decodes again and writes each point straight to its final place. */
ct_status ct_point_store_add_chunks(ct_context *ctx, ct_point_store *s, size_t nchunks, size_t max_chunk,
                                    ct_point_chunk_fn fn, void *user, int threads);

/* A fast path for sources that can place their points in cells themselves (e.g. from
 * raw LAS records, without decoding into doubles twice). Per chunk:
 *   locate (pass 1) sets ids[i], for each of the chunk's *n points, to the index of
 *   its cell in cxy (cx, cy pairs, first-appearance order, at most CT_CHUNK_MAX_CELLS)
 *   or to CT_CELL_SKIP when the point is not kept; counts[k] = points of cell k;
 *   *ncells = cells; *ignored = points not kept because their coordinates are unusable
 *   (what ct_point_store_add ignores). The cell of (x, y) must be exactly
 *   (floor(x / cell_size), floor(y / cell_size)). It sets *ncells = CT_CHUNK_GENERIC
 *   when it cannot do this chunk (too many cells, a file it cannot read fast): the
 *   chunk then goes through `points` (the generic ct_point_chunk_fn) in both passes.
 *   fill (pass 2) gets ids, n and cxy, ncells back as locate gave them and writes the
 *   kept points as records, in input order, the points of cell k to dst[k][0], dst[k][1], ... (x, y relative to the cell corner exactly as
 *   ct_point_store_add computes them: (float)(x - (double)cx * cell_size)), and adds
 *   their classes to class_counts.
 * Both are called from several threads at once and must give the same answer for a
 * chunk each time. Between the passes the store keeps ids: one byte per point. */
enum { CT_CELL_SKIP = 255, CT_CHUNK_MAX_CELLS = 255 };
#define CT_CHUNK_GENERIC ((size_t)-1)
typedef struct ct_point_chunk_ops {
    ct_point_chunk_fn points;
    ct_status (*locate)(ct_context *ctx, void *user, size_t chunk, uint8_t *ids, size_t *n, int64_t *cxy,
                        uint32_t *counts, size_t *ncells, uint64_t *ignored);
    ct_status (*fill)(ct_context *ctx, void *user, size_t chunk, const uint8_t *ids, size_t n, const int64_t *cxy,
                      size_t ncells, struct ct_point_rec *const *dst, uint64_t class_counts[256]);
} ct_point_chunk_ops;

/* ct_point_store_add_chunks with the fast path (ops->locate and ops->fill may be NULL:
 * then it is ct_point_store_add_chunks with ops->points). Same result, same bytes. */
ct_status ct_point_store_add_chunks_ops(ct_context *ctx, ct_point_store *s, size_t nchunks, size_t max_chunk,
                                        const ct_point_chunk_ops *ops, void *user, int threads);

/* Memory budget for the points (bytes). When the points of an add_chunks call (into an
 * empty store) would exceed it, they go to an unlinked temporary file in `dir` (NULL:
 * $TMPDIR or /tmp), each cell contiguous, and cells are loaded on demand
 * (ct_point_store_load), so memory stays bounded by the cells in use. 0 = no limit. */
void ct_point_store_set_memory_limit(ct_point_store *s, uint64_t bytes, const char *dir);
/* 1 when the points live on disk (cells must be loaded before queries). */
int ct_point_store_on_disk(const ct_point_store *s);
/* 1 when ct_point_store_add_chunks_ops(s, nchunks, max_chunk, ...) writes the points to
 * temporary files as it makes them (more than the memory limit may come, and nothing is
 * in memory yet): the fast path's chunks are then read once, in its first pass. */
int ct_point_store_streams_to_disk(const ct_point_store *s, size_t nchunks, size_t max_chunk);
/* Makes every cell that intersects bbox resident and indexed. Cells loaded before stay
 * while the loaded cells fit the memory limit; beyond it those not wanted now are freed,
 * first in row-major (cy, cx) order: sweep boxes row by row (as ct_group_by_cell orders
 * them) and each cell is read once. Not thread-safe: call between parallel regions. */
ct_status ct_point_store_load(ct_context *ctx, ct_point_store *s, const double bbox[4]);
/* The points of cell (cx, cy) as records of CT_POINT_SPILL_BYTES (x, y, z as in
 * ct_point_rec, then the class) into *buf (grown to hold them: the caller frees it with
 * free(); *cap its capacity in points), *n of them (0 for a cell without points), always
 * in the same order. A store on disk reads them from its temporary files (in the order
 * they were read) without loading the cell, so threads may read cells at once (between
 * loads and unloads, which are not thread-safe). Returns 0, or an errno value (ENOMEM,
 * EIO when the files end early). */
int ct_point_store_read_cell(const ct_point_store *s, int64_t cx, int64_t cy, unsigned char **buf, size_t *cap,
                             size_t *n);
/* Frees every loaded cell of a store on disk (no-op in memory). Not thread-safe. */
ct_status ct_point_store_unload(ct_context *ctx, ct_point_store *s);
/* For a store on disk, when no later stage will query it: frees the loaded cells and
 * closes the temporary files in a background thread (the kernel takes seconds to drop
 * gigabytes of their cached pages, which then overlap the next stages instead of adding
 * to the run's end). Counts stay; loading cells fails afterwards. No-op in memory. */
void ct_point_store_release_disk(ct_point_store *s);
/* Cells with points, as (cx, cy) pairs in creation order; the grid cell of (x, y) is
 * (floor(x / cell_size), floor(y / cell_size)). */
size_t ct_point_store_cells(const ct_point_store *s, int64_t *cx_cy, size_t max);
double ct_point_store_cell_size(const ct_point_store *s);
/* The points of cell (cx, cy) (0 for a cell without points), in memory or on disk. */
uint64_t ct_point_store_cell_points(const ct_point_store *s, int64_t cx, int64_t cy);

/* Items grouped by processing cell (cells of side cell_size, row-major order, items in
 * index order inside a cell): order[] holds the indices of the items with use[i] != 0
 * (all when use is NULL), groups[g] the cell (cx, cy) and its range of order[].
 * xy holds x0, y0, x1, y1, ... Caller frees *order and *groups. */
typedef struct ct_cell_group {
    int64_t cx, cy;
    size_t first, count;
} ct_cell_group;
ct_status ct_group_by_cell(ct_context *ctx, const double *xy, const unsigned char *use, size_t n, double cell_size,
                           size_t **order, ct_cell_group **groups, size_t *ngroups);

/* Builds the fine index of every cell (parallel over cells with `threads`).
 * Must be called after the last add and before any query; adding afterwards
 * needs another call. */
ct_status ct_point_store_index(ct_context *ctx, ct_point_store *s, int threads);

uint64_t ct_point_store_count(const ct_point_store *s);
/* The points of the cells of rows [row0, row1) (row: floor(y / cell_size)). */
uint64_t ct_point_store_count_rows(const ct_point_store *s, int64_t row0, int64_t row1);
uint64_t ct_point_store_ignored(const ct_point_store *s);
size_t ct_point_store_cell_count(const ct_point_store *s);
/* The points of the fullest cell (its cell in *cx, *cy); 0 when the store is empty. */
uint64_t ct_point_store_max_cell(const ct_point_store *s, int64_t *cx, int64_t *cy);
/* The memory limit set (bytes; 0: none). */
uint64_t ct_point_store_memory_limit(const ct_point_store *s);
/* Bytes of one cell's index (its bin table: (cell_size / fine_size)² bins a class group). */
uint64_t ct_point_store_index_bytes(const ct_point_store *s);
/* Points per class (256 entries). */
const uint64_t *ct_point_store_class_counts(const ct_point_store *s);
/* Bytes held by the store (points and indexes). */
uint64_t ct_point_store_bytes(const ct_point_store *s);

/* One stored point: x, y as float offsets from its cell's corner, z absolute.
 * 16 bytes, so that binning and sorting move one cache-friendly record per point. */
typedef struct ct_point_rec {
    float x, y, z;
    uint8_t cls;
    uint8_t reserved[3];
} ct_point_rec;

/* Bytes a point takes in the temporary files of a store on disk (x, y, z, class). */
#define CT_POINT_SPILL_BYTES 13

/* A run of consecutive points of one cell, offsets from (ox, oy). Every point p of the
 * span has xlo <= ox + (double)p->x <= xhi and ylo <= oy + (double)p->y <= yhi (as
 * doubles, exactly; -inf/+inf where a bin is open-ended: the first and last of a row). */
typedef struct ct_point_span {
    const ct_point_rec *p;
    size_t n;
    double ox, oy;
    double xlo, ylo, xhi, yhi;
} ct_point_span;

typedef struct ct_span_list {
    ct_point_span *v;
    size_t n, cap;
} ct_span_list;

/* Replaces list's content with spans covering every point inside bbox (xmin, ymin,
 * xmax, ymax); spans may also hold points a little outside (up to one fine bin):
 * callers test each point. Thread-safe after ct_point_store_index. Returns
 * CT_ERR_NOMEM (without a message: ctx-free for hot loops) when the list cannot grow,
 * and CT_ERR_USAGE when a cell it needs is on disk and not loaded (never a silent
 * partial answer). */
ct_status ct_point_store_query(const ct_point_store *s, const double bbox[4], ct_span_list *list);
/* Each cell's index keeps its points in class groups, so that a query for some classes
 * skips the others' points: ground (class 2), building (6), and every other class,
 * the ASPRS classes filters.heights and filters.clamp use by default. Any choice of
 * classes stays correct (a query covers whole groups; callers test each point's
 * class), it only reads more points when the classes share a group with others. */
enum { CT_POINT_GROUPS = 3 };
/* Without branches: classes come mixed, and the index groups every point. */
static inline int ct_point_group(uint8_t cls) { return 2 - 2 * (cls == 2) - (cls == 6); }
/* Bit g set when a class of the table (classes[c] != 0) is in group g. */
unsigned ct_point_groups_of(const uint8_t classes[256]);
/* Narrows a query row by row: xrange sets [*lo, *hi] to an x-range holding every point
 * the caller wants with y in [ya, yb], or returns 0 when there is none. */
typedef struct ct_row_filter {
    int (*xrange)(const void *arg, double ya, double yb, double *lo, double *hi);
    const void *arg;
} ct_row_filter;
/* Like ct_point_store_query, over the groups of wide_groups in box `wide` and the other
 * groups of narrow_groups in box `narrow` (a group in neither is skipped), each bin row
 * cut where split's x-range (xmin, ymin, xmax, ymax) begins and ends (split may be
 * NULL), so that callers can tell from a span's bounds that all its points lie beyond
 * split. With `rows` (may be NULL), each bin row keeps only the bins that meet the
 * x-range rows give for its points' y-range. Every point is in at most one span. */
ct_status ct_point_store_query_groups(const ct_point_store *s, const double wide[4], unsigned wide_groups,
                                      const double narrow[4], unsigned narrow_groups, const double split[4],
                                      const ct_row_filter *rows, ct_span_list *list);
void ct_span_list_free(ct_span_list *l);

#endif
