/* citytiler (internal) — the point store's layout, shared by its parts:
 *   point_store.c         cells (hash table, memory), ct_point_store_add, counts
 *   point_store_chunks.c  ct_point_store_add_chunks: parallel binning in two passes
 *   point_store_spill.c   the temporary files of a store on disk
 *   point_store_index.c   each cell's fine index, and the queries over it
 *   point_store_load.c    loading cells of a store on disk (and evicting them) */
#ifndef CITYTILER_POINT_STORE_INTERNAL_H
#define CITYTILER_POINT_STORE_INTERNAL_H

#include "citytiler/points.h"

#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Per-thread scratch of ps_index_cell. */
typedef struct index_scratch {
    ct_point_rec *tmp;
    uint32_t *bin;   /* each point's fine bin, from the counting pass */
    size_t cap;
    uint32_t *fill;
} index_scratch;

/* On disk: a run of a cell's points in one of the spill files (records off .. off + n). */
typedef struct spill_run {
    uint64_t off, n;
    int file;
} spill_run;

enum { SPARES = 8 };

typedef struct cell {
    int64_t cx, cy;
    size_t n, cap;
    ct_point_rec *pts;
    uint32_t *bin_start; /* ps_nbins(s) + 1 entries once indexed, else NULL */
    size_t cap_pending;  /* points being added by ct_point_store_add_chunks */
    size_t run_first;    /* on disk: the cell's points are runs[run_first .. + nruns] */
    size_t nruns;
    int resident;        /* on disk: loaded into pts */
    uint64_t last_used;  /* on disk: the load call that last wanted it (for eviction) */
    int in_arena;        /* pts is part of one of the store's arenas (not freed alone) */
    int bins_in_arena;   /* bin_start likewise */
    int indexed;
} cell;

struct ct_point_store {
    double cell_size, fine_size;
    int nb;               /* bins per cell row */
    double inv_fine;      /* 1 / fine_size (an estimate only: see bin_fast) */
    float *bin_lo;        /* nb + 1 entries: bin_lo[k] = smallest float v with bin_of(v) == k (1 <= k < nb);
                           * bin_lo[0] = -inf and bin_lo[nb] = +inf (bin_fast's sentinels) */
    float *bin_hi;        /* nb entries: bin_hi[k] = largest float v with bin_of(v) == k (k < nb - 1) */
    cell *cells;
    size_t ncells, cap;
    int64_t *slots;       /* open-addressing table: cell index + 1, 0 = empty */
    size_t nslots;
    uint64_t count, ignored;
    uint64_t class_counts[256];
    uint64_t memory_limit; /* bytes, 0 = none */
    char *spill_dir;
    int on_disk;           /* the points live in the spill files (memory_limit) */
    int *spill_fds;        /* one unlinked temporary file per thread that wrote points */
    uint64_t *spill_len;   /* records in each */
    int nspill;
    spill_run *runs;       /* on disk: where each cell's points are, cell by cell */
    int released;          /* ct_point_store_release_disk was called: no more loads */
    int closing;           /* `closer` is closing the released files */
    pthread_t closer;
    void **arenas;         /* blocks holding the points of many cells (add_chunks) */
    size_t narenas;
    uint64_t loads;        /* on disk: ct_point_store_load calls so far */
    uint64_t cells_read;   /* on disk: cells read from the files so far (a cell may come back) */
    uint64_t resident_bytes; /* on disk: points and bin tables of the loaded cells */
    /* On disk: memory of evicted cells and of the index kept for the next loads (fresh
     * memory costs a page fault per 4 KiB; on a virtual machine loading a cell into new
     * memory took 4.5 ms, most of it faults). */
    index_scratch *load_scratch; /* one per loading thread */
    int nload_scratch;
    size_t *load_todo;           /* cells being loaded (load_cap entries) */
    size_t load_cap;
    uint32_t **load_bins;        /* and their bin tables */
    ct_point_rec *spare_pts[SPARES];
    size_t spare_cap[SPARES];
    uint32_t *spare_bins[SPARES];
};

/* Bins of a cell's index: CT_POINT_GROUPS grids of nb x nb, group-major. */
static inline size_t ps_nbins(const ct_point_store *s) {
    return (size_t)CT_POINT_GROUPS * (size_t)s->nb * (size_t)s->nb;
}

static inline uint64_t ps_hash_cell(int64_t cx, int64_t cy) {
    uint64_t h = (uint64_t)cx * 0x9E3779B97F4A7C15ull ^ ((uint64_t)cy + 0x632BE59BD9B4E019ull) * 0xC2B2AE3D27D4EB4Full;
    return h ^ (h >> 29);
}

/* Coordinates a point may have (others make it ignored). */
static inline int ps_point_ok(double x, double y, double z) {
    /* |z| too: z is kept as a float (1e308 would become inf) */
    return isfinite(x) && isfinite(y) && isfinite(z) && fabs(x) < 1e15 && fabs(y) < 1e15 && fabs(z) < 1e15;
}

/* --- point_store.c: cells and memory --- */

/* Index of cell (cx, cy), created when absent (with create); -1 when absent or out of memory. */
long ps_find_cell(ct_point_store *s, int64_t cx, int64_t cy, int create);
/* Arrays of 2 MiB and more are 2 MiB-aligned and marked for transparent huge pages. */
void *ps_alloc_huge(size_t bytes);
ct_point_rec *ps_alloc_points(size_t cap);
/* A loaded cell's points: from 512 KiB on, whole 2 MiB huge pages; *cap becomes the
 * capacity actually allocated. */
ct_point_rec *ps_alloc_cell_points(size_t *cap);
/* Gives every cell with points pending room for them (exactly), in one new arena. */
ct_status ps_reserve_in_arena(ct_context *ctx, ct_point_store *s);

/* --- point_store_spill.c: the temporary files --- */

/* On disk a record is x, y, z and the class: 13 bytes, not the 16 of ct_point_rec (its
 * padding). At 1M buildings the points' files are 8.3 GB, more than the kernel keeps
 * dirty, so binning waits for the disk: a fifth less to write. */
enum { SPILL_REC = CT_POINT_SPILL_BYTES };
_Static_assert(offsetof(ct_point_rec, cls) == 12 && sizeof(ct_point_rec) == 16 && SPILL_REC == 13,
               "x, y, z are the record's first 12 bytes");

/* Writes the record packed at p into *d (which must not overlap p): straight into d's
 * bytes, since a record built in a local and copied as a whole went through memory
 * (several small stores read back by one 16-byte load, which cannot be forwarded: the
 * sort into a loaded cell spent half its time on that load). */
static inline void ps_spill_rec_to(ct_point_rec *d, const unsigned char *p) {
    const unsigned char tail[4] = {p[12], 0, 0, 0}; /* the class and the padding */
    memcpy(d, p, 12);
    memcpy((unsigned char *)d + 12, tail, 4);
}

/* The error of a failed read or write (what) of the temporary point files, err its errno. */
ct_status ps_spill_error(ct_context *ctx, const ct_point_store *s, const char *what, int err, size_t nchunks,
                         size_t max_chunk);
/* Before the points go to disk: a warning when the temporary folder has less room than
 * they may need. */
void ps_warn_spill_room(ct_context *ctx, const ct_point_store *s, size_t nchunks, size_t max_chunk);
/* Appends n records to thread t's spill file (opened on first use); *at becomes their
 * offset in it, in records. The records are packed in place (`from` is scratch after).
 * Returns 0 with errno set on failure. */
int ps_spill_append(ct_point_store *s, int t, ct_point_rec *from, size_t n, uint64_t *at);
/* Reads cnt packed records at offset off (in records) of spill file `file` into `to`.
 * Returns 0, or the error: errno's, EIO when the file ends early (never a stale errno). */
int ps_spill_read_packed(const ct_point_store *s, int file, uint64_t off, unsigned char *to, size_t cnt);
/* The same, unpacked into `to`. */
int ps_spill_read(const ct_point_store *s, int file, uint64_t off, ct_point_rec *to, size_t cnt);

/* --- point_store_index.c: the fine index --- */

void ps_index_scratch_free(index_scratch *x);
/* Grows the scratch to at least `need` points (`hint` at once when larger). 0: no memory. */
int ps_scratch_reserve(index_scratch *x, size_t need, size_t hint);
/* Sorts cell c's points into its fine index (see point_store_index.c). 0: no memory. */
int ps_index_cell(const ct_point_store *s, cell *c, index_scratch *x, size_t hint, uint32_t *start_in_arena,
                  const unsigned char *packed);

/* --- point_store_load.c: loaded cells --- */

/* Frees a loaded cell's memory (kept as spare when a slot is free). */
void ps_evict(ct_point_store *s, cell *c);
/* The loading threads' index scratch and the spare cell memory. */
void ps_free_load_memory(ct_point_store *s);

#endif
