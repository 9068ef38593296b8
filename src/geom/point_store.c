/* Points binned into cells by a hash of the cell coordinates, in one pass; then per
 * cell a stable counting sort by class group and fine bin gives a CSR index (group,
 * bin -> point range), so a query for a box touches only the bins it overlaps, and
 * only in the groups of the classes it wants. */
#include "citytiler/points.h"

#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* Per-thread scratch of index_cell. */
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

/* Records written by pass 1 of add_chunks (see there): at most this many bytes. */
#define EARLY_BYTES ((uint64_t)128 << 20)

enum { SPARES = 8 };

typedef struct cell {
    int64_t cx, cy;
    size_t n, cap;
    ct_point_rec *pts;
    uint32_t *bin_start; /* nbins(s) + 1 entries once indexed, else NULL */
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
static size_t nbins(const ct_point_store *s) { return (size_t)CT_POINT_GROUPS * (size_t)s->nb * (size_t)s->nb; }

/* The smallest positive float v with (double)v / fs >= k, i.e. with bin_of(v) >= k
 * (positive floats order like their bit patterns). */
static float first_float_at_least(double fs, int k) {
    uint32_t lo = 0, hi = 0x7F800000u; /* +inf: (double)inf / fs >= k */
    while (lo < hi) {
        uint32_t m = lo + (hi - lo) / 2;
        float v;
        memcpy(&v, &m, sizeof v);
        if ((double)v / fs >= (double)k) hi = m;
        else lo = m + 1;
    }
    float v;
    memcpy(&v, &lo, sizeof v);
    return v;
}

static int sizes_ok(double cell_size, double fine_size) {
    return cell_size > 0 && fine_size > 0 && fine_size <= cell_size && cell_size / fine_size <= CT_POINT_STORE_MAX_BINS;
}

ct_status ct_point_store_check_sizes(ct_context *ctx, double cell_size, double fine_size) {
    if (sizes_ok(cell_size, fine_size)) return CT_OK;
    return ct_error(ctx, CT_ERR_USAGE,
                    "readers.lidar: index_size %g m does not fit cell_size %g m: a processing cell holds 1 to %d index "
                    "squares a side, so with this index_size cell_size must be from %g to %g m (or change index_size)",
                    fine_size, cell_size, CT_POINT_STORE_MAX_BINS, fine_size, fine_size * CT_POINT_STORE_MAX_BINS);
}

ct_point_store *ct_point_store_create(double cell_size, double fine_size) {
    if (!sizes_ok(cell_size, fine_size)) return NULL;
    ct_point_store *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->cell_size = cell_size;
    s->fine_size = fine_size;
    s->nb = (int)ceil(cell_size / fine_size);
    s->inv_fine = 1.0 / fine_size;
    s->bin_lo = malloc(((size_t)s->nb + 1) * sizeof *s->bin_lo);
    s->bin_hi = malloc((size_t)s->nb * sizeof *s->bin_hi);
    if (!s->bin_lo || !s->bin_hi) {
        free(s->bin_lo);
        free(s->bin_hi);
        free(s);
        return NULL;
    }
    s->bin_lo[0] = -INFINITY;
    for (int k = 1; k < s->nb; k++) s->bin_lo[k] = first_float_at_least(fine_size, k);
    s->bin_lo[s->nb] = INFINITY;
    for (int k = 0; k + 1 < s->nb; k++) s->bin_hi[k] = nextafterf(s->bin_lo[k + 1], -INFINITY);
    s->bin_hi[s->nb - 1] = INFINITY;
    return s;
}

static void index_scratch_free(index_scratch *x);

void ct_point_store_destroy(ct_point_store *s) {
    if (!s) return;
    if (s->closing) pthread_join(s->closer, NULL);
    for (size_t i = 0; i < s->ncells; i++) {
        cell *c = &s->cells[i];
        if (!c->in_arena) free(c->pts);
        if (!c->bins_in_arena) free(c->bin_start);
    }
    for (size_t i = 0; i < s->narenas; i++) free(s->arenas[i]);
    free(s->arenas);
    free(s->cells);
    free(s->slots);
    free(s->bin_lo);
    free(s->bin_hi);
    for (int k = 0; k < SPARES; k++) {
        free(s->spare_pts[k]);
        free(s->spare_bins[k]);
    }
    for (int t = 0; t < s->nload_scratch; t++) index_scratch_free(&s->load_scratch[t]);
    free(s->load_scratch);
    free(s->load_todo);
    free(s->load_bins);
    for (int t = 0; t < s->nspill; t++)
        if (s->spill_fds[t] >= 0) close(s->spill_fds[t]);
    free(s->spill_fds);
    free(s->spill_len);
    free(s->runs);
    free(s->spill_dir);
    free(s);
}

void ct_point_store_set_memory_limit(ct_point_store *s, uint64_t bytes, const char *dir) {
    s->memory_limit = bytes;
    free(s->spill_dir);
    s->spill_dir = dir ? strdup(dir) : NULL;
}

int ct_point_store_on_disk(const ct_point_store *s) { return s->on_disk; }

int ct_point_store_streams_to_disk(const ct_point_store *s, size_t nchunks, size_t max_chunk) {
    return !s->on_disk && s->count == 0 && s->memory_limit > 0 &&
           (double)nchunks * (double)max_chunk * (double)sizeof(ct_point_rec) > (double)s->memory_limit;
}
double ct_point_store_cell_size(const ct_point_store *s) { return s->cell_size; }

size_t ct_point_store_cells(const ct_point_store *s, int64_t *cx_cy, size_t max) {
    for (size_t i = 0; i < s->ncells && i < max; i++) {
        cx_cy[2 * i] = s->cells[i].cx;
        cx_cy[2 * i + 1] = s->cells[i].cy;
    }
    return s->ncells;
}

/* The folder of the temporary point files: temp_dir, else $TMPDIR, else /tmp. */
static const char *spill_folder(const ct_point_store *s) {
    const char *dir = s->spill_dir ? s->spill_dir : getenv("TMPDIR");
    return dir && *dir ? dir : "/tmp";
}

/* The error of a failed read or write (what) of the temporary point files, err its errno.
 * A full disk also says how much the points may need there and what to do (a server's
 * small /tmp: the run stopped with "No space left on device" only). */
static ct_status spill_error(ct_context *ctx, const ct_point_store *s, const char *what, int err, size_t nchunks,
                             size_t max_chunk) {
    if (err == ENOSPC || err == EDQUOT)
        return ct_error(ctx, CT_ERR_IO, "cannot %s the temporary point file in %s: %s (the points may need up to %.0f MB "
                        "there: give readers.lidar a temp_dir on a larger disk, or more memory_limit)", what,
                        spill_folder(s), strerror(err), (double)nchunks * (double)max_chunk * CT_POINT_SPILL_BYTES / 1e6);
    return ct_error(ctx, CT_ERR_IO, "cannot %s the temporary point file in %s: %s", what, spill_folder(s),
                    strerror(err ? err : EIO));
}

/* Before the points go to disk: a warning when the temporary folder has less room than
 * they may need (an upper bound: crop and classes drop points as they are read), so a
 * batch log says why before the run stops with a full disk, not only after. */
static void warn_spill_room(ct_context *ctx, const ct_point_store *s, size_t nchunks, size_t max_chunk) {
    struct statvfs v;
    const char *dir = spill_folder(s);
    if (statvfs(dir, &v) != 0) return; /* (a missing folder fails with its own message) */
    double room = (double)v.f_bavail * (double)v.f_frsize;
    double need = (double)nchunks * (double)max_chunk * CT_POINT_SPILL_BYTES;
    if (room < need)
        ct_log(ctx, CT_LOG_WARN, "points: the temporary folder %s has %.0f MB free and the points may need up to %.0f MB "
               "there (less when crop or classes drop some): the run may stop with a full disk; give readers.lidar a "
               "temp_dir on a larger disk, or more memory_limit", dir, room / 1e6, need / 1e6);
}

/* Opens an unlinked temporary file for the points (gone when closed or on a crash). */
static int open_spill(ct_point_store *s) {
    const char *dir = spill_folder(s);
    char path[4096];
    snprintf(path, sizeof path, "%s/citytiler-points-XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0) return -1;
    unlink(path);
    return fd;
}

static uint64_t hash_cell(int64_t cx, int64_t cy) {
    uint64_t h = (uint64_t)cx * 0x9E3779B97F4A7C15ull ^ ((uint64_t)cy + 0x632BE59BD9B4E019ull) * 0xC2B2AE3D27D4EB4Full;
    return h ^ (h >> 29);
}

static int grow_table(ct_point_store *s) {
    size_t n = s->nslots ? s->nslots * 2 : 1024;
    int64_t *t = calloc(n, sizeof *t);
    if (!t) return 0;
    for (size_t i = 0; i < s->ncells; i++) {
        size_t h = hash_cell(s->cells[i].cx, s->cells[i].cy) & (n - 1);
        while (t[h]) h = (h + 1) & (n - 1);
        t[h] = (int64_t)i + 1;
    }
    free(s->slots);
    s->slots = t;
    s->nslots = n;
    return 1;
}

/* Index of cell (cx, cy), created when absent; -1 when out of memory. */
static long find_cell(ct_point_store *s, int64_t cx, int64_t cy, int create) {
    if (s->nslots) {
        size_t h = hash_cell(cx, cy) & (s->nslots - 1);
        while (s->slots[h]) {
            cell *c = &s->cells[s->slots[h] - 1];
            if (c->cx == cx && c->cy == cy) return (long)(s->slots[h] - 1);
            h = (h + 1) & (s->nslots - 1);
        }
    }
    if (!create) return -1;
    if ((s->ncells + 1) * 2 > s->nslots && !grow_table(s)) return -1;
    if (s->ncells == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        cell *nc = realloc(s->cells, cap * sizeof *nc);
        if (!nc) return -1;
        s->cells = nc;
        s->cap = cap;
    }
    cell *c = &s->cells[s->ncells];
    memset(c, 0, sizeof *c);
    c->cx = cx;
    c->cy = cy;
    size_t h = hash_cell(cx, cy) & (s->nslots - 1);
    while (s->slots[h]) h = (h + 1) & (s->nslots - 1);
    s->slots[h] = (int64_t)s->ncells + 1;
    return (long)s->ncells++;
}

/* Arrays of 2 MiB and more are 2 MiB-aligned and marked for transparent huge pages:
 * first-touch page faults dominated binning before (measured: 25% of the time in the
 * kernel on 4 KiB pages; on a virtual machine a 4 KiB fault costs far more still). */
static void *alloc_huge(size_t bytes) {
    const size_t huge = (size_t)2 << 20;
    if (bytes < huge) return malloc(bytes ? bytes : 1);
    void *p = NULL;
    bytes = (bytes + huge - 1) / huge * huge;
    if (posix_memalign(&p, huge, bytes) != 0) return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, bytes, MADV_HUGEPAGE);
#endif
    return p;
}

/* A loaded cell's points: from 512 KiB on, whole 2 MiB huge pages (one page fault
 * instead of 128 and more: loading a cell of 1 MB into 4 KiB pages took 4.5 ms on this
 * virtual machine, mostly faults). *cap becomes the capacity actually allocated. */
static ct_point_rec *alloc_cell_points(size_t *cap) {
    const size_t huge = (size_t)2 << 20;
    if (*cap > SIZE_MAX / sizeof(ct_point_rec) - huge) return NULL;
    size_t bytes = *cap * sizeof(ct_point_rec);
    if (bytes < (huge >> 2)) return malloc(bytes ? bytes : sizeof(ct_point_rec));
    bytes = (bytes + huge - 1) / huge * huge;
    void *p = NULL;
    if (posix_memalign(&p, huge, bytes) != 0) return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, bytes, MADV_HUGEPAGE);
#endif
    *cap = bytes / sizeof(ct_point_rec);
    return p;
}

static ct_point_rec *alloc_points(size_t cap) {
    if (cap > SIZE_MAX / sizeof(ct_point_rec)) return NULL;
    return alloc_huge(cap ? cap * sizeof(ct_point_rec) : sizeof(ct_point_rec));
}

/* Grows the arrays to hold `need` points: exactly when exact, else doubling. */
static int cell_reserve_ex(cell *c, size_t need, int exact) {
    if (need <= c->cap) return 1;
    size_t cap = c->cap ? c->cap : 1024;
    while (cap < need) cap *= 2;
    if (exact) cap = need;
    ct_point_rec *p = alloc_points(cap);
    if (!p) return 0;
    if (c->n) memcpy(p, c->pts, c->n * sizeof *p);
    if (!c->in_arena) free(c->pts);
    c->pts = p;
    c->cap = cap;
    c->in_arena = 0;
    return 1;
}

/* Gives every cell with points pending room for them (exactly), in one new arena. */
static ct_status reserve_in_arena(ct_context *ctx, ct_point_store *s) {
    size_t total = 0;
    for (size_t i = 0; i < s->ncells; i++)
        if (s->cells[i].cap_pending) total += s->cells[i].n + s->cells[i].cap_pending;
    if (!total) return CT_OK;
    void **na = realloc(s->arenas, (s->narenas + 1) * sizeof *na);
    if (!na) return ct_error_nomem(ctx, "points of a cell");
    s->arenas = na;
    ct_point_rec *arena = alloc_points(total);
    if (!arena) return ct_error_nomem(ctx, "points of a cell");
    s->arenas[s->narenas++] = arena;
    size_t off = 0;
    for (size_t i = 0; i < s->ncells; i++) {
        cell *c = &s->cells[i];
        if (!c->cap_pending) continue;
        ct_point_rec *p = arena + off;
        if (c->n) memcpy(p, c->pts, c->n * sizeof *p);
        if (!c->in_arena) free(c->pts);
        c->pts = p;
        c->cap = c->n + c->cap_pending;
        c->in_arena = 1;
        off += c->cap;
    }
    return CT_OK;
}

static int cell_reserve(cell *c, size_t need) { return cell_reserve_ex(c, need, 0); }

/* Coordinates a point may have (others make it ignored). */
static int point_ok(double x, double y, double z) {
    /* |z| too: z is kept as a float (1e308 would become inf) */
    return isfinite(x) && isfinite(y) && isfinite(z) && fabs(x) < 1e15 && fabs(y) < 1e15 && fabs(z) < 1e15;
}

ct_status ct_point_store_add(ct_context *ctx, ct_point_store *s, const double *x, const double *y, const double *z,
                             const uint8_t *cls, size_t n) {
    long last = -1;
    int64_t lcx = 0, lcy = 0;
    const double cs = s->cell_size;
    for (size_t i = 0; i < n; i++) {
        double px = x[i], py = y[i], pz = z[i];
        if (!point_ok(px, py, pz)) {
            s->ignored++;
            continue;
        }
        int64_t cx = (int64_t)floor(px / cs), cy = (int64_t)floor(py / cs);
        /* Consecutive points mostly share a cell: skip the hash lookup then. */
        if (last < 0 || cx != lcx || cy != lcy) {
            last = find_cell(s, cx, cy, 1);
            if (last < 0) return ct_error_nomem(ctx, "point cells");
            lcx = cx;
            lcy = cy;
        }
        cell *c = &s->cells[last];
        if (c->n == c->cap && !cell_reserve(c, c->n + 1)) return ct_error_nomem(ctx, "points of a cell");
        ct_point_rec *r = &c->pts[c->n++];
        r->x = (float)(px - (double)cx * cs);
        r->y = (float)(py - (double)cy * cs);
        r->z = (float)pz;
        r->cls = cls ? cls[i] : 0;
        r->reserved[0] = r->reserved[1] = r->reserved[2] = 0;
        c->indexed = 0;
        s->class_counts[cls ? cls[i] : 0]++;
        s->count++;
    }
    return CT_OK;
}

/* The cells one chunk touches, in first-appearance order, with counts and (after the
 * sequential step) the global cell index and write position. */
typedef struct chunk_cell {
    int64_t cx, cy;
    size_t count;
    long cell;
    size_t pos;
} chunk_cell;

typedef struct chunk_map {
    chunk_cell *v;
    size_t n, cap;
    int32_t *slots; /* index + 1 into v, 0 empty */
    size_t nslots;
} chunk_map;

static void chunk_map_reset(chunk_map *m) {
    m->n = 0;
    if (m->slots) memset(m->slots, 0, m->nslots * sizeof *m->slots);
}

/* Entry for (cx, cy), created when absent; NULL when out of memory. */
static chunk_cell *chunk_map_get(chunk_map *m, int64_t cx, int64_t cy) {
    if ((m->n + 1) * 2 > m->nslots) {
        size_t ns = m->nslots ? m->nslots * 2 : 64;
        int32_t *sl = calloc(ns, sizeof *sl);
        if (!sl) return NULL;
        for (size_t i = 0; i < m->n; i++) {
            size_t h = hash_cell(m->v[i].cx, m->v[i].cy) & (ns - 1);
            while (sl[h]) h = (h + 1) & (ns - 1);
            sl[h] = (int32_t)i + 1;
        }
        free(m->slots);
        m->slots = sl;
        m->nslots = ns;
    }
    size_t h = hash_cell(cx, cy) & (m->nslots - 1);
    while (m->slots[h]) {
        chunk_cell *c = &m->v[m->slots[h] - 1];
        if (c->cx == cx && c->cy == cy) return c;
        h = (h + 1) & (m->nslots - 1);
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        chunk_cell *nv = realloc(m->v, cap * sizeof *nv);
        if (!nv) return NULL;
        m->v = nv;
        m->cap = cap;
    }
    chunk_cell *c = &m->v[m->n];
    memset(c, 0, sizeof *c);
    c->cx = cx;
    c->cy = cy;
    m->slots[h] = (int32_t)++m->n;
    return c;
}

typedef struct chunk_buf {
    double *x, *y, *z;
    uint8_t *cls;
    ct_point_rec *recs; /* on disk: the chunk's points grouped by cell */
    uint8_t *ids;       /* fast path, when ids are not kept between the passes */
    chunk_map map;
} chunk_buf;

static int chunk_buf_init(chunk_buf *b, size_t n) {
    memset(b, 0, sizeof *b);
    b->x = malloc(n * sizeof *b->x);
    b->y = malloc(n * sizeof *b->y);
    b->z = malloc(n * sizeof *b->z);
    b->cls = malloc(n);
    b->recs = malloc(n * sizeof *b->recs);
    b->ids = malloc(n ? n : 1);
    return b->x && b->y && b->z && b->cls && b->recs && b->ids;
}

static void chunk_buf_free(chunk_buf *b) {
    free(b->x); free(b->y); free(b->z); free(b->cls); free(b->recs); free(b->ids);
    free(b->map.v); free(b->map.slots);
}

/* On disk a record is x, y, z and the class: 13 bytes, not the 16 of ct_point_rec (its
 * padding). At 1M buildings the points' files are 8.3 GB, more than the kernel keeps
 * dirty, so binning waits for the disk: a fifth less to write. */
enum { SPILL_REC = CT_POINT_SPILL_BYTES };
_Static_assert(offsetof(ct_point_rec, cls) == 12 && sizeof(ct_point_rec) == 16 && SPILL_REC == 13,
               "x, y, z are the record's first 12 bytes");

/* Packs n records in place, to SPILL_REC bytes each from the start of `recs` (record i
 * goes to bytes 13i..13i+12, never beyond the records not packed yet, which begin at 16i + 16). */
static void spill_pack(ct_point_rec *recs, size_t n) {
    unsigned char *out = (unsigned char *)recs;
    for (size_t i = 0; i < n; i++) {
        ct_point_rec r = recs[i];
        memcpy(out + SPILL_REC * i, &r, 12); /* x, y, z: the first 12 bytes of the struct */
        out[SPILL_REC * i + 12] = r.cls;
    }
}

/* The record packed at p. */
static inline ct_point_rec spill_rec(const unsigned char *p) {
    ct_point_rec r;
    memcpy(&r, p, 12);
    r.cls = p[12];
    r.reserved[0] = r.reserved[1] = r.reserved[2] = 0;
    return r;
}

/* Writes the record packed at p into *d (which must not overlap p): straight into d's
 * bytes, since a record built in a local and copied as a whole went through memory
 * (several small stores read back by one 16-byte load, which cannot be forwarded: the
 * sort into a loaded cell spent half its time on that load). */
static inline void spill_rec_to(ct_point_rec *d, const unsigned char *p) {
    const unsigned char tail[4] = {p[12], 0, 0, 0}; /* the class and the padding */
    memcpy(d, p, 12);
    memcpy((unsigned char *)d + 12, tail, 4);
}

/* The inverse, in place: the n packed records sit in the last 13n of the 16n bytes at
 * `recs`; unpacking forwards never overwrites a packed record not read yet (record i
 * ends at 16i + 16 <= 3n + 13(i + 1), where record i + 1 begins). */
static void spill_unpack(ct_point_rec *recs, size_t n) {
    const unsigned char *in = (const unsigned char *)recs + 3 * n;
    for (size_t i = 0; i < n; i++) recs[i] = spill_rec(in + SPILL_REC * i);
}

/* Appends n records to thread t's spill file (opened on first use); *at becomes their
 * offset in it, in records. The records are packed in place (`from` is scratch after).
 * Each thread writes its own file: one shared file made the threads queue on its lock
 * (a fifth of the samples at 1M buildings). */
static int spill_append(ct_point_store *s, int t, ct_point_rec *from, size_t n, uint64_t *at) {
    if (s->spill_fds[t] < 0 && (s->spill_fds[t] = open_spill(s)) < 0) return 0;
    *at = s->spill_len[t];
    spill_pack(from, n);
    const char *p = (const char *)from;
    size_t left = n * SPILL_REC;
    while (left > 0) {
        ssize_t w = write(s->spill_fds[t], p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            if (w == 0) errno = ENOSPC; /* (write(2) makes no progress: the disk is full) */
            return 0;
        }
        p += w;
        left -= (size_t)w;
    }
    s->spill_len[t] += n;
    return 1;
}

/* Reads cnt packed records at offset off (in records) of spill file `file` into `to`.
 * Returns 0, or the error: errno's, EIO when the file ends early (never a stale errno). */
static int spill_read_packed(const ct_point_store *s, int file, uint64_t off, unsigned char *to, size_t cnt) {
    size_t left = cnt * SPILL_REC;
    off_t at = (off_t)(off * SPILL_REC);
    while (left > 0) {
        ssize_t r = pread(s->spill_fds[file], to, left, at);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return errno ? errno : EIO;
        if (r == 0) return EIO;
        to += r;
        at += r;
        left -= (size_t)r;
    }
    return 0;
}

/* The same, unpacked into `to` (packed first at its end: see spill_unpack). */
static int spill_read(const ct_point_store *s, int file, uint64_t off, ct_point_rec *to, size_t cnt) {
    int err = spill_read_packed(s, file, off, (unsigned char *)to + 3 * cnt, cnt);
    if (!err) spill_unpack(to, cnt);
    return err;
}

/* After the points went to disk: each cell's runs, in chunk order (so its points come
 * back in the order they would have in memory). chunk_file/chunk_off: where each chunk's
 * records (grouped by cell, in lists[c] order) were appended. */
static ct_status build_runs(ct_context *ctx, ct_point_store *s, size_t nchunks, chunk_cell *const *lists,
                            const size_t *lens, const int *chunk_file, const uint64_t *chunk_off) {
    size_t total = 0;
    for (size_t i = 0; i < s->ncells; i++) s->cells[i].nruns = 0;
    for (size_t c = 0; c < nchunks; c++)
        for (size_t k = 0; k < lens[c]; k++)
            if (lists[c][k].count) {
                s->cells[lists[c][k].cell].nruns++;
                total++;
            }
    free(s->runs);
    s->runs = malloc((total ? total : 1) * sizeof *s->runs);
    if (!s->runs) return ct_error_nomem(ctx, "point runs");
    size_t at = 0;
    for (size_t i = 0; i < s->ncells; i++) {
        s->cells[i].run_first = at;
        at += s->cells[i].nruns;
        s->cells[i].nruns = 0;
    }
    for (size_t c = 0; c < nchunks; c++) {
        uint64_t off = chunk_off[c];
        for (size_t k = 0; k < lens[c]; k++) {
            const chunk_cell *e = &lists[c][k];
            if (!e->count) continue;
            cell *ce = &s->cells[e->cell];
            s->runs[ce->run_first + ce->nruns++] = (spill_run){off, e->count, chunk_file[c]};
            off += e->count;
        }
    }
    ct_log(ctx, CT_LOG_DEBUG, "points: %zu cells on disk in %zu runs", s->ncells, total);
    return CT_OK;
}

ct_status ct_point_store_add_chunks(ct_context *ctx, ct_point_store *s, size_t nchunks, size_t max_chunk,
                                    ct_point_chunk_fn fn, void *user, int threads) {
    ct_point_chunk_ops ops;
    memset(&ops, 0, sizeof ops);
    ops.points = fn;
    return ct_point_store_add_chunks_ops(ctx, s, nchunks, max_chunk, &ops, user, threads);
}

ct_status ct_point_store_add_chunks_ops(ct_context *ctx, ct_point_store *s, size_t nchunks, size_t max_chunk,
                                        const ct_point_chunk_ops *ops, void *user, int threads) {
    if (threads < 1) threads = 1;
    if (s->on_disk)
        return ct_error(ctx, CT_ERR_UNSUPPORTED, "points: more points after the first ones went to disk (memory_limit): "
                                                 "read every LAS file in one readers.lidar stage");
    const int fast = ops->locate && ops->fill;
    /* Beyond the memory budget (and with nothing in memory yet) the points go to disk,
     * and then each chunk's records, grouped by cell, are appended to its thread's spill
     * file as soon as they are made (fast chunks in pass 1): the LAS is read once. A
     * cell's points are then the runs of them in those files, in chunk order. Whether
     * they really go to disk is known after pass 1 (crop and classes drop points); if
     * not, pass 2 reads the records back into place from the files. */
    const int to_files = ct_point_store_streams_to_disk(s, nchunks, max_chunk);
    int *chunk_file = to_files ? malloc((nchunks ? nchunks : 1) * sizeof *chunk_file) : NULL;
    uint64_t *chunk_off = to_files ? calloc(nchunks ? nchunks : 1, sizeof *chunk_off) : NULL;
    if (to_files && s->nspill < threads) {
        int *fds = realloc(s->spill_fds, (size_t)threads * sizeof *fds);
        if (fds) s->spill_fds = fds;
        uint64_t *len = fds ? realloc(s->spill_len, (size_t)threads * sizeof *len) : NULL;
        if (len) s->spill_len = len;
        for (int t = s->nspill; fds && len && t < threads; t++) {
            fds[t] = -1;
            len[t] = 0;
        }
        if (fds && len) s->nspill = threads;
    }
    if (to_files) warn_spill_room(ctx, s, nchunks, max_chunk);
    if (to_files && (!chunk_file || !chunk_off || s->nspill < threads)) {
        free(chunk_file);
        free(chunk_off);
        return ct_error_nomem(ctx, "point chunks");
    }
    chunk_cell **lists = calloc(nchunks ? nchunks : 1, sizeof *lists);
    size_t *lens = calloc(nchunks ? nchunks : 1, sizeof *lens);
    chunk_buf *bufs = calloc((size_t)threads, sizeof *bufs);
    /* Fast-path chunks: the cell (index into lists[c]) of each point, from pass 1. */
    uint8_t **ids = calloc(nchunks ? nchunks : 1, sizeof *ids);
    size_t *npts = calloc(nchunks ? nchunks : 1, sizeof *npts);
    unsigned char *fast_chunk = calloc(nchunks ? nchunks : 1, 1);
    /* Kept for pass 2 in one block (huge pages: a page fault per 64 KiB chunk was
     * measurable) when the points will be in memory anyway (a byte per 16-byte point);
     * beyond the memory budget pass 2 locates again, so memory stays bounded. */
    const int keep_ids = fast && (s->memory_limit == 0 || (uint64_t)nchunks * max_chunk <= s->memory_limit / sizeof(ct_point_rec));
    /* Pass 1 also writes the records of the first chunks (grouped by cell) right after
     * locating them, while the source still holds the chunk's bytes: pass 2 then only
     * copies them into place instead of reading the file again. The extra memory is
     * bounded (EARLY_BYTES, and a quarter of memory_limit): fresh memory costs page faults
     * too, and beyond some 100 MB they cost more than the second read saves (measured:
     * 47.5M points read once took 0.89 s instead of 0.57-0.82 s, with 730 MiB more). */
    size_t early_chunks = 0;
    if (keep_ids && max_chunk && !to_files) {
        uint64_t budget = EARLY_BYTES;
        if (s->memory_limit > 0 && s->memory_limit / 4 < budget) budget = s->memory_limit / 4;
        early_chunks = (size_t)(budget / ((uint64_t)max_chunk * sizeof(ct_point_rec)));
        if (early_chunks > nchunks) early_chunks = nchunks;
    }
    /* One huge-page block for them (fresh 4 KiB pages fault one by one, costly on a VM);
     * chunk c < early_chunks that took the fast path has its records at c * max_chunk. */
    ct_point_rec *early_block = early_chunks ? alloc_points(early_chunks * max_chunk) : NULL;
    if (!early_block) early_chunks = 0; /* then pass 2 fills as usual */
    uint64_t early_counts[256];
    memset(early_counts, 0, sizeof early_counts);
    uint8_t *idbuf = NULL;
    if (keep_ids && nchunks && max_chunk) {
        idbuf = max_chunk <= SIZE_MAX / nchunks ? alloc_huge(nchunks * max_chunk) : NULL;
        if (!idbuf) { free(lists); lists = NULL; }
    }
    if (!lists || !lens || !bufs || !ids || !npts || !fast_chunk) {
        free(lists); free(lens); free(bufs); free(ids); free(npts); free(idbuf); free(fast_chunk); free(early_block);
        free(chunk_file); free(chunk_off);
        return ct_error_nomem(ctx, "point chunks");
    }
    const double cs = s->cell_size;
    ct_status st = CT_OK;
    int nomem = 0;
    uint64_t ignored = 0;
    const double t_start = omp_get_wtime();
    /* Pass 1: count the points of each chunk per cell. */
#pragma omp parallel num_threads(threads) reduction(| : nomem) reduction(+ : ignored)
    {
        chunk_buf *b = &bufs[omp_get_thread_num()];
        int64_t cxy[2 * CT_CHUNK_MAX_CELLS];
        uint32_t cnt[CT_CHUNK_MAX_CELLS];
        ct_point_rec *edst[CT_CHUNK_MAX_CELLS];
        uint64_t ecounts[256];
        memset(ecounts, 0, sizeof ecounts);
        if (!chunk_buf_init(b, max_chunk)) nomem = 1;
#pragma omp for schedule(dynamic, 1)
        for (long c = 0; c < (long)nchunks; c++) {
            size_t n = 0;
            if (nomem || st != CT_OK) continue;
            if (fast) {
                uint8_t *id = keep_ids ? idbuf + (size_t)c * max_chunk : b->ids;
                size_t nc = 0;
                uint64_t ign = 0;
                ct_status cst = ops->locate(ctx, user, (size_t)c, id, &n, cxy, cnt, &nc, &ign);
                if (cst != CT_OK) {
#pragma omp critical(ct_points_status)
                    if (st == CT_OK) st = cst;
                    continue;
                }
                if (nc != CT_CHUNK_GENERIC) {
                    lists[c] = malloc((nc ? nc : 1) * sizeof **lists);
                    if (!lists[c]) { nomem = 1; continue; }
                    for (size_t k = 0; k < nc; k++) {
                        chunk_cell *e = &lists[c][k];
                        memset(e, 0, sizeof *e);
                        e->cx = cxy[2 * k];
                        e->cy = cxy[2 * k + 1];
                        e->count = cnt[k];
                    }
                    lens[c] = nc;
                    ids[c] = keep_ids ? id : NULL;
                    fast_chunk[c] = 1;
                    npts[c] = n;
                    if (to_files) { /* to this thread's spill file, grouped by cell */
                        int t = omp_get_thread_num();
                        size_t kept = 0;
                        for (size_t k = 0; k < nc; kept += cnt[k], k++) edst[k] = b->recs + kept;
                        cst = ops->fill(ctx, user, (size_t)c, id, n, cxy, nc, edst, ecounts);
                        if (cst == CT_OK && !spill_append(s, t, b->recs, kept, &chunk_off[c]))
                            cst = spill_error(ctx, s, "write", errno, nchunks, max_chunk);
                        chunk_file[c] = t;
                        if (cst != CT_OK) {
#pragma omp critical(ct_points_status)
                            if (st == CT_OK) st = cst;
                            continue;
                        }
                    } else if ((size_t)c < early_chunks) {
                        ct_point_rec *recs = early_block + (size_t)c * max_chunk;
                        for (size_t k = 0, at = 0; k < nc; at += cnt[k], k++) edst[k] = recs + at;
                        cst = ops->fill(ctx, user, (size_t)c, id, n, cxy, nc, edst, ecounts);
                        if (cst != CT_OK) {
#pragma omp critical(ct_points_status)
                            if (st == CT_OK) st = cst;
                            continue;
                        }
                    }
                    ignored += ign;
                    continue;
                }
            }
            ct_status cst = ops->points(ctx, user, (size_t)c, b->x, b->y, b->z, b->cls, &n);
            if (cst != CT_OK) {
#pragma omp critical(ct_points_status)
                if (st == CT_OK) st = cst;
                continue;
            }
            chunk_map_reset(&b->map);
            chunk_cell *last = NULL;
            for (size_t i = 0; i < n; i++) {
                if (!point_ok(b->x[i], b->y[i], b->z[i])) continue;
                int64_t cx = (int64_t)floor(b->x[i] / cs), cy = (int64_t)floor(b->y[i] / cs);
                if (!last || last->cx != cx || last->cy != cy) {
                    last = chunk_map_get(&b->map, cx, cy);
                    if (!last) { nomem = 1; break; }
                }
                last->count++;
            }
            lists[c] = malloc((b->map.n ? b->map.n : 1) * sizeof **lists);
            if (!lists[c]) { nomem = 1; continue; }
            if (b->map.n) memcpy(lists[c], b->map.v, b->map.n * sizeof **lists); /* none kept: v may be NULL */
            lens[c] = b->map.n;
        }
#pragma omp critical(ct_points_counts)
        for (int k = 0; k < 256; k++) early_counts[k] += ecounts[k];
    }
    if (nomem && st == CT_OK) st = ct_error_nomem(ctx, "point chunks");
    /* In chunk order: cells are created and space handed out deterministically. */
    for (size_t c = 0; st == CT_OK && c < nchunks; c++)
        for (size_t k = 0; k < lens[c]; k++) {
            chunk_cell *e = &lists[c][k];
            e->cell = find_cell(s, e->cx, e->cy, 1);
            if (e->cell < 0) { st = ct_error_nomem(ctx, "point cells"); break; }
            cell *ce = &s->cells[e->cell];
            e->pos = ce->n + ce->cap_pending;
            ce->cap_pending += e->count;
        }
    /* Too many points for the memory budget (and nothing in memory yet): to disk. */
    uint64_t incoming = 0;
    for (size_t i = 0; i < s->ncells; i++) incoming += s->cells[i].cap_pending;
    const int spill = st == CT_OK && to_files && incoming * sizeof(ct_point_rec) > s->memory_limit;
    /* In memory: one block for the points of every cell that grows (huge pages are
     * zeroed whole when first touched: a block per cell would zero up to 2 MiB more per
     * cell, which costs much on virtual machines). */
    if (st == CT_OK && !spill) st = reserve_in_arena(ctx, s);
    const double t_pass2 = omp_get_wtime();
    /* Pass 2: decode again and write every point to its place. */
    uint64_t counts[256];
    memset(counts, 0, sizeof counts);
    size_t chunks_done = 0;
    if (st == CT_OK) {
#pragma omp parallel num_threads(threads) reduction(| : nomem) reduction(+ : ignored)
        {
            chunk_buf *b = &bufs[omp_get_thread_num()];
            uint64_t local[256];
            memset(local, 0, sizeof local);
            ct_point_rec *dst[CT_CHUNK_MAX_CELLS];
            int64_t cxy[2 * CT_CHUNK_MAX_CELLS];
#pragma omp for schedule(dynamic, 1)
            for (long c = 0; c < (long)nchunks; c++) {
                size_t n = 0;
                if (st != CT_OK) continue;
                const char *io_failed = NULL; /* "write" or "read" */
                int io_err = 0;
                if (fast_chunk[c] && to_files) {
                    /* Written to a spill file in pass 1: it stays there (on disk), or it
                     * is read back into place (not that many points after all). */
                    uint64_t off = chunk_off[c];
                    for (size_t k = 0; !spill && k < lens[c]; k++) {
                        const chunk_cell *e = &lists[c][k];
                        int err = spill_read(s, chunk_file[c], off, s->cells[e->cell].pts + e->pos, e->count);
                        if (err) { io_failed = "read"; io_err = err; }
                        off += e->count;
                    }
                } else if (fast_chunk[c] && (size_t)c < early_chunks) {
                    /* Written in pass 1: copied into place. */
                    const ct_point_rec *src = early_block + (size_t)c * max_chunk;
                    for (size_t k = 0; k < lens[c]; k++) {
                        const chunk_cell *e = &lists[c][k];
                        if (e->count) memcpy(s->cells[e->cell].pts + e->pos, src, e->count * sizeof *src);
                        src += e->count;
                    }
                } else if (fast_chunk[c]) {
                    /* Fast path: the cells are known, the source writes the records. */
                    const uint8_t *id = ids[c];
                    if (!id) { /* not kept: locate again (the same answer as in pass 1) */
                        size_t nc = 0, np = 0;
                        uint32_t cnt[CT_CHUNK_MAX_CELLS];
                        uint64_t ign = 0;
                        ct_status cst = ops->locate(ctx, user, (size_t)c, b->ids, &np, cxy, cnt, &nc, &ign);
                        if (cst == CT_OK && (nc != lens[c] || np != npts[c]))
                            cst = ct_error(ctx, CT_ERR_INTERNAL, "point chunk %ld located differently twice", c);
                        if (cst != CT_OK) {
#pragma omp critical(ct_points_status)
                            if (st == CT_OK) st = cst;
                            continue;
                        }
                        id = b->ids;
                    }
                    for (size_t k = 0; k < lens[c]; k++) { /* in memory: on disk they went in pass 1 */
                        const chunk_cell *e = &lists[c][k];
                        dst[k] = s->cells[e->cell].pts + e->pos;
                        cxy[2 * k] = e->cx;
                        cxy[2 * k + 1] = e->cy;
                    }
                    ct_status cst = ops->fill(ctx, user, (size_t)c, id, npts[c], cxy, lens[c], dst, local);
                    if (cst != CT_OK) {
#pragma omp critical(ct_points_status)
                        if (st == CT_OK) st = cst;
                        continue;
                    }
                } else {
                    ct_status cst = ops->points(ctx, user, (size_t)c, b->x, b->y, b->z, b->cls, &n);
                    if (cst != CT_OK) {
#pragma omp critical(ct_points_status)
                        if (st == CT_OK) st = cst;
                        continue;
                    }
                    chunk_map_reset(&b->map);
                    for (size_t k = 0; k < lens[c]; k++) {
                        chunk_cell *e = chunk_map_get(&b->map, lists[c][k].cx, lists[c][k].cy);
                        if (!e) { nomem = 1; break; }
                        *e = lists[c][k];
                    }
                    chunk_cell *last = NULL;
                    cell *ce = NULL;
                    /* On disk the chunk's points are grouped by cell in b->recs first. */
                    size_t run = 0;
                    if (spill)
                        for (size_t k = 0; k < b->map.n; k++) {
                            b->map.v[k].count = run; /* reused: start of the cell's run in recs */
                            run += lists[c][k].count;
                        }
                    for (size_t i = 0; i < n && !nomem; i++) {
                        double x = b->x[i], y = b->y[i];
                        if (!point_ok(x, y, b->z[i])) { ignored++; continue; }
                        int64_t cx = (int64_t)floor(x / cs), cy = (int64_t)floor(y / cs);
                        if (!last || last->cx != cx || last->cy != cy) {
                            last = chunk_map_get(&b->map, cx, cy);
                            if (!last) { nomem = 1; break; }
                            ce = &s->cells[last->cell];
                        }
                        ct_point_rec *r = spill ? &b->recs[last->count++] : &ce->pts[last->pos++];
                        r->x = (float)(x - (double)cx * cs);
                        r->y = (float)(y - (double)cy * cs);
                        r->z = (float)b->z[i];
                        r->cls = b->cls[i];
                        r->reserved[0] = r->reserved[1] = r->reserved[2] = 0;
                        local[b->cls[i]]++;
                    }
                    if (spill && !nomem) { /* grouped by cell in recs: to this thread's spill file */
                        chunk_file[c] = omp_get_thread_num();
                        if (!spill_append(s, chunk_file[c], b->recs, run, &chunk_off[c])) {
                            io_failed = "write";
                            io_err = errno;
                        }
                    }
                }
                if (io_failed) {
#pragma omp critical(ct_points_status)
                    if (st == CT_OK)
                        st = spill_error(ctx, s, io_failed, io_err, nchunks, max_chunk);
                }
                size_t now;
#pragma omp atomic capture
                now = ++chunks_done;
                /* Progress from the thread that runs the stage only (the callback's contract). */
                if (omp_get_thread_num() == 0) ct_progress(ctx, "binning LiDAR chunks", now, nchunks);
            }
#pragma omp critical(ct_points_counts)
            for (int k = 0; k < 256; k++) counts[k] += local[k];
        }
    }
    if (nomem && st == CT_OK) st = ct_error_nomem(ctx, "point chunks");
    for (size_t i = 0; i < s->ncells; i++) {
        cell *ce = &s->cells[i];
        if (st == CT_OK) ce->n += ce->cap_pending;
        if (ce->cap_pending) ce->indexed = 0;
        ce->cap_pending = 0;
        if (spill) ce->resident = 0;
    }
    if (st == CT_OK && spill) st = build_runs(ctx, s, nchunks, lists, lens, chunk_file, chunk_off);
    if (st == CT_OK && spill) s->on_disk = 1;
    if (to_files && !s->on_disk) /* read back into memory (or failed): the files go */
        for (int t = 0; t < s->nspill; t++) {
            if (s->spill_fds[t] >= 0) close(s->spill_fds[t]);
            s->spill_fds[t] = -1;
            s->spill_len[t] = 0;
        }
    for (int k = 0; k < 256; k++) counts[k] += early_counts[k];
    if (st == CT_OK) {
        for (int k = 0; k < 256; k++) {
            s->class_counts[k] += counts[k];
            s->count += counts[k];
        }
        s->ignored += ignored;
    }
    ct_log(ctx, CT_LOG_DEBUG, "points: binning pass 1 %.1f ms, pass 2 %.1f ms (%zu chunks, %zu read once)",
           (t_pass2 - t_start) * 1e3, (omp_get_wtime() - t_pass2) * 1e3, nchunks, to_files ? nchunks : early_chunks);
    for (size_t c = 0; c < nchunks; c++) free(lists[c]);
    free(lists);
    free(lens);
    free(ids);
    free(idbuf);
    free(npts);
    free(fast_chunk);
    free(early_block);
    free(chunk_file);
    free(chunk_off);
    for (int t = 0; t < threads; t++) chunk_buf_free(&bufs[t]);
    free(bufs);
    return st;
}

static int bin_of(const ct_point_store *s, float v) {
    int b = (int)((double)v / s->fine_size);
    if (b < 0) b = 0;
    if (b >= s->nb) b = s->nb - 1;
    return b;
}

/* bin_of without a division or branches: an estimate by multiplication, corrected
 * against the exact lower bounds of the bins (s->bin_lo[k]: the smallest float in bin
 * k), so the result is bin_of's to the last bit. The estimate is off by at most one:
 * v * (1 / fs) and v / fs differ by a few ulps, far below 1 for nb <= 4096. */
static inline int bin_fast(const ct_point_store *s, float v) {
    double q = (double)v * s->inv_fine, top = (double)(s->nb - 1);
    q = q > 0.0 ? q : 0.0; /* maxsd / minsd (fmax and fmin may be calls) */
    q = q < top ? q : top;
    int b = (int)q;
    b += v >= s->bin_lo[b + 1];
    b -= v < s->bin_lo[b];
    return b;
}

static void index_scratch_free(index_scratch *x) {
    free(x->tmp);
    free(x->bin);
    free(x->fill);
    memset(x, 0, sizeof *x);
}

/* Grows the scratch to at least `need` points (`hint` at once when larger). 0: no memory. */
static int scratch_reserve(index_scratch *x, size_t need, size_t hint) {
    if (need <= x->cap) return 1;
    size_t cap = hint > need ? hint : need;
    free(x->tmp);
    free(x->bin);
    x->tmp = alloc_points(cap);
    x->bin = cap <= SIZE_MAX / sizeof *x->bin ? alloc_huge(cap * sizeof *x->bin) : NULL;
    x->cap = x->tmp && x->bin ? cap : 0;
    return x->cap != 0;
}

/* Stable counting sort of one cell's points by fine bin, through the thread's scratch
 * array (so the cell keeps its already-touched memory); the scratch grows to at least
 * `hint` points at once. With `packed` (the cell's points as on disk, read into x->tmp
 * by a load), they are unpacked as they are sorted straight into the cell (no unpacking
 * pass, no copy back). Returns 0 when out of memory. */
static int index_cell(const ct_point_store *s, cell *c, index_scratch *x, size_t hint, uint32_t *start_in_arena,
                      const unsigned char *packed) {
    const size_t nbins_all = nbins(s), per_group = (size_t)s->nb * (size_t)s->nb;
    if (!x->fill && !(x->fill = malloc(nbins_all * sizeof *x->fill))) return 0;
    if (!packed && !scratch_reserve(x, c->n, hint)) return 0;
    uint32_t *start = start_in_arena;
    if (start) memset(start, 0, (nbins_all + 1) * sizeof *start);
    else if (!(start = calloc(nbins_all + 1, sizeof *start))) return 0;
    const int nb = s->nb;
    const ct_point_rec *pts = c->pts;
    uint32_t *bin = x->bin; /* found once: finding a bin exactly costs more than storing it */
    for (size_t i = 0; i < c->n; i++) {
        float px, py;
        uint8_t cls;
        if (packed) {
            memcpy(&px, packed + SPILL_REC * i, 4);
            memcpy(&py, packed + SPILL_REC * i + 4, 4);
            cls = packed[SPILL_REC * i + 12];
        } else {
            px = pts[i].x;
            py = pts[i].y;
            cls = pts[i].cls;
        }
        uint32_t b = (uint32_t)((size_t)ct_point_group(cls) * per_group + (size_t)(bin_fast(s, py) * nb + bin_fast(s, px)));
        bin[i] = b;
        start[b + 1]++;
    }
    for (size_t b = 0; b < nbins_all; b++) start[b + 1] += start[b];
    uint32_t *fill = x->fill;
    memcpy(fill, start, nbins_all * sizeof *fill);
    if (packed) {
        for (size_t i = 0; i < c->n; i++) spill_rec_to(&c->pts[fill[bin[i]]++], packed + SPILL_REC * i);
    } else {
        for (size_t i = 0; i < c->n; i++) x->tmp[fill[bin[i]]++] = pts[i];
        memcpy(c->pts, x->tmp, c->n * sizeof *x->tmp);
    }
    if (!c->bins_in_arena) free(c->bin_start);
    c->bin_start = start;
    c->bins_in_arena = start_in_arena != NULL;
    c->indexed = 1;
    return 1;
}

ct_status ct_point_store_index(ct_context *ctx, ct_point_store *s, int threads) {
    int failed = 0;
    const double t_start = omp_get_wtime();
    long n = (long)s->ncells;
    size_t hint = 0; /* the largest cell to index: one scratch allocation per thread */
    size_t todo = 0;
    for (long i = 0; i < n; i++)
        if (!s->cells[i].indexed && (!s->on_disk || s->cells[i].resident)) {
            todo++;
            if (s->cells[i].n > hint) hint = s->cells[i].n;
        }
    /* In memory, the bin tables of all these cells in one arena (as the points). */
    const size_t nbins1 = nbins(s) + 1;
    uint32_t *bins = NULL;
    size_t *slot = NULL;
    if (!s->on_disk && todo > 0) {
        void **na = realloc(s->arenas, (s->narenas + 1) * sizeof *na);
        if (!na) return ct_error_nomem(ctx, "point index");
        s->arenas = na;
        bins = todo <= SIZE_MAX / sizeof *bins / nbins1 ? alloc_huge(todo * nbins1 * sizeof *bins) : NULL;
        slot = malloc(s->ncells * sizeof *slot);
        if (!bins || !slot) {
            free(bins);
            free(slot);
            return ct_error_nomem(ctx, "point index");
        }
        s->arenas[s->narenas++] = bins;
        size_t k = 0;
        for (long i = 0; i < n; i++)
            if (!s->cells[i].indexed) slot[i] = k++;
    }
#pragma omp parallel num_threads(threads < 1 ? 1 : threads) reduction(| : failed)
    {
        index_scratch x;
        memset(&x, 0, sizeof x);
#pragma omp for schedule(dynamic, 1)
        for (long i = 0; i < n; i++)
            if (!s->cells[i].indexed && (!s->on_disk || s->cells[i].resident) &&
                !index_cell(s, &s->cells[i], &x, hint, bins ? bins + slot[i] * nbins1 : NULL, NULL))
                failed = 1;
        index_scratch_free(&x);
    }
    free(slot);
    ct_log(ctx, CT_LOG_DEBUG, "points: index of %zu cells %.1f ms", todo, (omp_get_wtime() - t_start) * 1e3);
    if (failed) return ct_error_nomem(ctx, "point index");
    if (s->cell_size / s->fine_size > 65535 || s->count > UINT32_MAX * (uint64_t)(s->ncells ? s->ncells : 1))
        return ct_error(ctx, CT_ERR_UNSUPPORTED, "point store: too many points per cell");
    return CT_OK;
}

uint64_t ct_point_store_count(const ct_point_store *s) { return s->count; }
uint64_t ct_point_store_ignored(const ct_point_store *s) { return s->ignored; }
size_t ct_point_store_cell_count(const ct_point_store *s) { return s->ncells; }
const uint64_t *ct_point_store_class_counts(const ct_point_store *s) { return s->class_counts; }

uint64_t ct_point_store_bytes(const ct_point_store *s) {
    uint64_t b = sizeof *s + s->cap * sizeof(cell) + s->nslots * sizeof(int64_t);
    for (size_t i = 0; i < s->ncells; i++) {
        b += s->cells[i].cap * sizeof(ct_point_rec);
        if (s->cells[i].bin_start) b += ((uint64_t)nbins(s) + 1) * sizeof(uint32_t);
        b += s->cells[i].nruns * sizeof(spill_run); /* on disk: where its points are */
    }
    return b;
}

/* Bounds of ox + (double)v over the floats v of bins a..b (one axis). Rounding is
 * monotone, so the bins' extreme floats give exact bounds; bin 0 also holds negative
 * values and the last bin everything above, so those ends are open. */
static void bin_bounds(const ct_point_store *s, double o, int a, int b, double *lo, double *hi) {
    *lo = a == 0 ? -INFINITY : o + (double)s->bin_lo[a];
    *hi = b == s->nb - 1 ? INFINITY : o + (double)s->bin_hi[b];
}

static int push_span(const ct_point_store *s, ct_span_list *l, const cell *c, size_t from, size_t to, double ox,
                     double oy, int bx0, int bx1, int by) {
    if (to <= from) return 1;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        ct_point_span *v = realloc(l->v, cap * sizeof *v);
        if (!v) return 0;
        l->v = v;
        l->cap = cap;
    }
    ct_point_span *sp = &l->v[l->n++];
    sp->p = c->pts + from;
    sp->n = to - from;
    sp->ox = ox;
    sp->oy = oy;
    bin_bounds(s, ox, bx0, bx1, &sp->xlo, &sp->xhi);
    bin_bounds(s, oy, by, by, &sp->ylo, &sp->yhi);
    return 1;
}

/* The spans of cell c's group-g bins (its grid: `grid`) in bbox: one per bin row, or,
 * with `split`, up to three: the bins left of split's x-range, those meeting it, those
 * right of it. Returns 0 when the list cannot grow. */
static int cell_spans(const ct_point_store *s, const cell *c, const uint32_t *grid, const double bbox[4],
                      const double *split, ct_span_list *list) {
    double ox = (double)c->cx * s->cell_size, oy = (double)c->cy * s->cell_size;
    int bx0 = bin_of(s, (float)(bbox[0] - ox)), bx1 = bin_of(s, (float)(bbox[2] - ox));
    int by0 = bin_of(s, (float)(bbox[1] - oy)), by1 = bin_of(s, (float)(bbox[3] - oy));
    /* the runs of bins: [cut[0], cut[1] - 1], [cut[1], cut[2] - 1], [cut[2], cut[3] - 1] */
    int cut[4] = {bx0, bx0, bx0, bx1 + 1};
    if (split) {
        int a = bin_of(s, (float)(split[0] - ox)), b = bin_of(s, (float)(split[2] - ox)) + 1;
        cut[1] = a < bx0 ? bx0 : (a > bx1 + 1 ? bx1 + 1 : a);
        cut[2] = b < cut[1] ? cut[1] : (b > bx1 + 1 ? bx1 + 1 : b);
    }
    for (int by = by0; by <= by1; by++) {
        const uint32_t *row = grid + (size_t)by * (size_t)s->nb;
        for (int k = 0; k < 3; k++)
            if (cut[k + 1] > cut[k] &&
                !push_span(s, list, c, row[cut[k]], row[cut[k + 1]], ox, oy, cut[k], cut[k + 1] - 1, by))
                return 0;
    }
    return 1;
}

/* Spans of the points of group g's bins in box[g] (groups without a box skipped), as
 * cell_spans gives them, cell by cell. */
static ct_status query(const ct_point_store *s, const double *const box[CT_POINT_GROUPS], ct_span_list *list,
                       const double *split) {
    list->n = 0;
    const double cs = s->cell_size;
    const size_t per_group = (size_t)s->nb * (size_t)s->nb;
    for (int g = 0; g < CT_POINT_GROUPS; g++) {
        const double *bbox = box[g];
        if (!bbox) continue;
        int64_t cx0 = (int64_t)floor(bbox[0] / cs), cx1 = (int64_t)floor(bbox[2] / cs);
        int64_t cy0 = (int64_t)floor(bbox[1] / cs), cy1 = (int64_t)floor(bbox[3] / cs);
        for (int64_t cy = cy0; cy <= cy1; cy++)
            for (int64_t cx = cx0; cx <= cx1; cx++) {
                long ci = find_cell((ct_point_store *)s, cx, cy, 0);
                if (ci < 0) continue;
                const cell *c = &s->cells[ci];
                if (s->on_disk && !c->resident) return CT_ERR_USAGE;
                if (c->bin_start && !cell_spans(s, c, c->bin_start + (size_t)g * per_group, bbox, split, list))
                    return CT_ERR_NOMEM;
            }
    }
    return CT_OK;
}

ct_status ct_point_store_query(const ct_point_store *s, const double bbox[4], ct_span_list *list) {
    const double *box[CT_POINT_GROUPS];
    for (int g = 0; g < CT_POINT_GROUPS; g++) box[g] = bbox;
    return query(s, box, list, NULL);
}

unsigned ct_point_groups_of(const uint8_t classes[256]) {
    /* Called per building: the table is OR-ed a word at a time, classes 2 and 6 (the
     * two with groups of their own in ct_point_group) apart. unit.test_point_index
     * compares this with ct_point_group class by class. */
    uint8_t first[8];
    memcpy(first, classes, sizeof first);
    first[2] = first[6] = 0;
    uint64_t any, w;
    memcpy(&any, first, sizeof any);
    for (int k = 8; k < 256; k += 8) {
        memcpy(&w, classes + k, sizeof w);
        any |= w;
    }
    return (classes[2] ? 1u << ct_point_group(2) : 0u) | (classes[6] ? 1u << ct_point_group(6) : 0u) |
           (any ? 1u << ct_point_group(0) : 0u);
}

ct_status ct_point_store_query_groups(const ct_point_store *s, const double wide[4], unsigned wide_groups,
                                      const double narrow[4], unsigned narrow_groups, const double split[4],
                                      ct_span_list *list) {
    const double *box[CT_POINT_GROUPS];
    for (int g = 0; g < CT_POINT_GROUPS; g++)
        box[g] = (wide_groups >> g) & 1 ? wide : ((narrow_groups >> g) & 1 ? narrow : NULL);
    return query(s, box, list, split);
}

void ct_span_list_free(ct_span_list *l) {
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* Whether a query of bbox reads cell c: the same cells as query() takes (a box whose
 * edge lies on a cell's far edge does not need that cell: its points there belong to
 * the next one). */
static int cell_hits(const ct_point_store *s, const cell *c, const double bbox[4]) {
    const double cs = s->cell_size, cx = (double)c->cx, cy = (double)c->cy;
    return cx >= floor(bbox[0] / cs) && cx <= floor(bbox[2] / cs) && cy >= floor(bbox[1] / cs) &&
           cy <= floor(bbox[3] / cs);
}

/* Bytes a loaded cell holds (its points' allocation and bin table). */
static uint64_t cell_bytes(const ct_point_store *s, const cell *c) {
    return (uint64_t)c->cap * sizeof(ct_point_rec) + ((uint64_t)nbins(s) + 1) * sizeof(uint32_t);
}

/* Keeps p (a cell's own points or bin table) for a later load when a slot is free. */
static void keep_spare(void **slots, size_t *caps, void *p, size_t cap) {
    for (int k = 0; p && k < SPARES; k++)
        if (!slots[k]) {
            slots[k] = p;
            if (caps) caps[k] = cap;
            return;
        }
    free(p);
}

static void evict(ct_point_store *s, cell *c) {
    s->resident_bytes -= cell_bytes(s, c);
    if (!c->in_arena) keep_spare((void **)s->spare_pts, s->spare_cap, c->pts, c->cap);
    c->in_arena = 0;
    if (!c->bins_in_arena) keep_spare((void **)s->spare_bins, NULL, c->bin_start, 0);
    c->bins_in_arena = 0;
    c->pts = NULL;
    c->bin_start = NULL;
    c->cap = 0;
    c->resident = 0;
    c->indexed = 0;
}

/* A loaded cell behind a row-by-row sweep (in a row below cy0, the lowest of the box
 * being loaded; not wanted now): the first in row-major order whose memory holds `need`
 * points, else the first of any size; NULL when there is none. */
static cell *behind_sweep(ct_point_store *s, uint64_t tick, int64_t cy0, size_t need) {
    cell *best = NULL;
    for (size_t i = 0; i < s->ncells; i++) {
        cell *c = &s->cells[i];
        if (!c->resident || c->last_used == tick || c->in_arena || c->cy >= cy0) continue;
        int fits = c->cap >= need, best_fits = best && best->cap >= need;
        if (!best || fits > best_fits ||
            (fits == best_fits && (c->cy < best->cy || (c->cy == best->cy && c->cx < best->cx))))
            best = c;
    }
    return best;
}

/* Evicts v and gives its memory (points, and its bin table when it has its own) to c:
 * evict() then finds nothing of v's to keep as spare. */
static void take_memory(ct_point_store *s, cell *v, cell *c, uint32_t **bins) {
    c->pts = v->pts;
    c->cap = v->cap;
    *bins = v->bins_in_arena ? NULL : v->bin_start;
    v->pts = NULL;
    if (*bins) v->bin_start = NULL;
    evict(s, v);
}

/* The loading threads' index scratch and the spare cell memory. */
static void free_load_memory(ct_point_store *s) {
    for (int t = 0; t < s->nload_scratch; t++) index_scratch_free(&s->load_scratch[t]);
    for (int k = 0; k < SPARES; k++) {
        free(s->spare_pts[k]);
        free(s->spare_bins[k]);
        s->spare_pts[k] = NULL;
        s->spare_bins[k] = NULL;
    }
}

/* Cells loaded for earlier boxes stay while they fit the memory budget (a neighbouring
 * box usually needs most of them again: without this each cell was read and indexed
 * about three times over a city); beyond it those not wanted now go, first in row-major order. */
static ct_status load_cells(ct_context *ctx, ct_point_store *s, const double bbox[4], int keep_others) {
    if (!s->on_disk) return CT_OK;
    if (s->released) return ct_error(ctx, CT_ERR_USAGE, "points: a stage wants LiDAR points after they were released");
    ct_status st = CT_OK;
    uint64_t tick = ++s->loads;
    int threads = ct_context_threads(ctx) < 1 ? 1 : ct_context_threads(ctx);
    if (s->load_cap < s->ncells) {
        size_t *todo = realloc(s->load_todo, s->ncells * sizeof *todo);
        if (todo) s->load_todo = todo;
        uint32_t **bins = realloc(s->load_bins, s->ncells * sizeof *bins);
        if (bins) s->load_bins = bins;
        if (!todo || !bins) return ct_error_nomem(ctx, "cell loading");
        for (size_t k = s->load_cap; k < s->ncells; k++) s->load_bins[k] = NULL;
        s->load_cap = s->ncells;
    }
    if (s->nload_scratch < threads) {
        index_scratch *x = realloc(s->load_scratch, (size_t)threads * sizeof *x);
        if (!x) return ct_error_nomem(ctx, "cell loading");
        memset(x + s->nload_scratch, 0, (size_t)(threads - s->nload_scratch) * sizeof *x);
        s->load_scratch = x;
        s->nload_scratch = threads;
    }
    /* Which cells to load, and their memory (spares first), in cell order. */
    size_t ntodo = 0;
    for (size_t i = 0; i < s->ncells && st == CT_OK; i++) {
        cell *c = &s->cells[i];
        if (!cell_hits(s, c, bbox)) {
            if (c->resident && !keep_others) evict(s, c);
            continue;
        }
        c->last_used = tick;
        if (c->resident) continue;
        if (!c->in_arena) free(c->pts); /* none, normally: a cell on disk holds no points */
        c->in_arena = 0;
        size_t need = c->n ? c->n : 1;
        c->pts = NULL;
        for (int k = 0; k < SPARES && !c->pts; k++)
            if (s->spare_pts[k] && s->spare_cap[k] >= need) {
                c->pts = s->spare_pts[k];
                c->cap = s->spare_cap[k];
                s->spare_pts[k] = NULL;
            }
        uint32_t *bins = NULL;
        /* Else the memory of a cell the sweep has passed: fresh memory costs page faults
         * (on this virtual machine more than reading the cell), and the loaded cells then
         * stay about two rows however large memory_limit is. */
        cell *v = c->pts ? NULL : behind_sweep(s, tick, (int64_t)floor(bbox[1] / s->cell_size), need);
        if (v) take_memory(s, v, c, &bins);
        if (c->pts && c->cap < need) { /* too small: freed, so that the fresh memory below reuses its pages */
            free(c->pts);
            c->pts = NULL;
        }
        if (!c->pts) {
            c->cap = need;
            c->pts = alloc_cell_points(&c->cap);
        }
        if (!c->pts) { st = ct_error_nomem(ctx, "a cell's points"); break; }
        for (int k = 0; k < SPARES && !bins; k++)
            if (s->spare_bins[k]) {
                bins = s->spare_bins[k];
                s->spare_bins[k] = NULL;
            }
        if (!bins) bins = malloc((nbins(s) + 1) * sizeof *bins);
        if (!bins) { st = ct_error_nomem(ctx, "point index"); break; }
        c->resident = 1;
        s->resident_bytes += cell_bytes(s, c);
        s->load_bins[ntodo] = bins;
        s->load_todo[ntodo++] = i;
    }
    s->cells_read += ntodo;
    /* Read and index them in parallel (a box usually brings a row or a column of cells). */
    int failed = 0, io_errno = 0;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1) reduction(| : failed) if (ntodo > 1)
    for (size_t k = 0; k < ntodo; k++) {
        cell *c = &s->cells[s->load_todo[k]];
        index_scratch *x = &s->load_scratch[omp_get_thread_num()];
        /* Read there, then sorted into c->pts; a quarter more at once, so that the next
         * slightly larger cell does not need fresh memory again. */
        if (!scratch_reserve(x, c->n ? c->n : 1, c->n + c->n / 4)) {
            failed |= 2;
            continue;
        }
        size_t at = 0;
        int err = 0;
        for (size_t r = 0; r < c->nruns && !err; r++) {
            const spill_run *run = &s->runs[c->run_first + r];
            err = run->n > c->n - at ? EIO
                                     : spill_read_packed(s, run->file, run->off, (unsigned char *)x->tmp + SPILL_REC * at,
                                                         (size_t)run->n);
            at += (size_t)run->n;
        }
        if (!err && at != c->n) err = EIO; /* (the runs hold fewer points than the cell) */
        if (err) {
#pragma omp critical(ct_points_load)
            io_errno = err;
            failed |= 1;
            continue;
        }
        if (!index_cell(s, c, x, 0, s->load_bins[k], (const unsigned char *)x->tmp)) failed |= 2;
        else s->load_bins[k] = NULL; /* the cell's own now */
        c->bins_in_arena = 0;
    }
    for (size_t k = 0; k < ntodo; k++) { /* tables not taken by a cell (after a failure) */
        free(s->load_bins[k]);
        s->load_bins[k] = NULL;
    }
    if (failed && st == CT_OK)
        st = failed & 1 ? ct_error(ctx, CT_ERR_IO, "cannot read the temporary point file: %s", strerror(io_errno))
                        : ct_error_nomem(ctx, "point index");
    if (failed) /* leave no half-loaded cell behind */
        for (size_t k = 0; k < ntodo; k++) {
            cell *c = &s->cells[s->load_todo[k]];
            if (c->resident && !c->indexed) evict(s, c);
        }
    if (!keep_others) { /* unloaded: nothing more to load soon */
        free_load_memory(s);
        ct_log(ctx, CT_LOG_DEBUG, "points: %llu cell reads from the temporary files so far, for %zu cells",
               (unsigned long long)s->cells_read, s->ncells);
    }
    /* Over budget: evict cells not wanted now, first in row-major order first. Callers
     * sweep boxes row by row (ct_group_by_cell's order), so those are the cells behind
     * the sweep; least-recently-used would evict the previous row's cells still ahead
     * of it and reload every cell three times once the budget holds less than 3 rows. */
    while (st == CT_OK && keep_others && s->memory_limit > 0 && s->resident_bytes > s->memory_limit) {
        cell *victim = NULL;
        for (size_t i = 0; i < s->ncells; i++) {
            cell *c = &s->cells[i];
            if (c->resident && c->last_used != tick &&
                (!victim || c->cy < victim->cy || (c->cy == victim->cy && c->cx < victim->cx)))
                victim = c;
        }
        if (!victim) break; /* everything resident is wanted now */
        evict(s, victim);
    }
    return st;
}

int ct_point_store_read_cell(const ct_point_store *s, int64_t cx, int64_t cy, unsigned char **buf, size_t *cap,
                             size_t *n) {
    *n = 0;
    if (s->released) return EBADF;
    long ci = find_cell((ct_point_store *)s, cx, cy, 0);
    if (ci < 0) return 0;
    const cell *c = &s->cells[ci];
    if (c->n > *cap) {
        unsigned char *p = c->n <= SIZE_MAX / SPILL_REC ? alloc_huge(c->n * SPILL_REC) : NULL;
        if (!p) return ENOMEM;
        free(*buf);
        *buf = p;
        *cap = c->n;
    }
    if (!s->on_disk) {
        for (size_t i = 0; i < c->n; i++) {
            memcpy(*buf + SPILL_REC * i, &c->pts[i], 12);
            (*buf)[SPILL_REC * i + 12] = c->pts[i].cls;
        }
        *n = c->n;
        return 0;
    }
    size_t at = 0;
    for (size_t r = 0; r < c->nruns; r++) {
        const spill_run *run = &s->runs[c->run_first + r];
        if (run->n > c->n - at) return EIO;
        int err = spill_read_packed(s, run->file, run->off, *buf + SPILL_REC * at, (size_t)run->n);
        if (err) return err;
        at += (size_t)run->n;
    }
    if (at != c->n) return EIO;
    *n = at;
    return 0;
}

ct_status ct_point_store_load(ct_context *ctx, ct_point_store *s, const double bbox[4]) {
    return load_cells(ctx, s, bbox, 1);
}

typedef struct closing_files {
    int n;
    int fds[];
} closing_files;

static void *close_files(void *arg) {
    closing_files *c = arg;
    for (int t = 0; t < c->n; t++)
        if (c->fds[t] >= 0) close(c->fds[t]);
    free(c);
    return NULL;
}

void ct_point_store_release_disk(ct_point_store *s) {
    if (!s || !s->on_disk || s->released) return;
    for (size_t i = 0; i < s->ncells; i++)
        if (s->cells[i].resident) evict(s, &s->cells[i]);
    free_load_memory(s);
    free(s->runs);
    s->runs = NULL;
    for (size_t i = 0; i < s->ncells; i++) s->cells[i].nruns = 0;
    s->released = 1;
    closing_files *c = malloc(sizeof *c + (size_t)(s->nspill > 0 ? s->nspill : 1) * sizeof(int));
    for (int t = 0; t < s->nspill; t++) {
        if (c) c->fds[t] = s->spill_fds[t];
        else if (s->spill_fds[t] >= 0) close(s->spill_fds[t]); /* no memory: close them here */
        s->spill_fds[t] = -1;
    }
    if (!c) return;
    c->n = s->nspill;
    if (pthread_create(&s->closer, NULL, close_files, c) == 0) s->closing = 1;
    else close_files(c);
}

ct_status ct_point_store_unload(ct_context *ctx, ct_point_store *s) {
    const double none[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY}; /* no cell is wanted */
    return load_cells(ctx, s, none, 0);
}
