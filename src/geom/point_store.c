/* The point store's cells: a hash table of them by cell coordinates, their memory (huge
 * pages, arenas), and points added one call at a time (ct_point_store_add). Binning in
 * parallel is point_store_chunks.c; the index, point_store_index.c; a store on disk,
 * point_store_spill.c and point_store_load.c. */
#include "geom/point_store_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

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
    for (int t = 0; t < s->nload_scratch; t++) ps_index_scratch_free(&s->load_scratch[t]);
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

uint64_t ct_point_store_max_cell(const ct_point_store *s, int64_t *cx, int64_t *cy) {
    uint64_t most = 0;
    *cx = *cy = 0;
    for (size_t i = 0; i < s->ncells; i++)
        if (s->cells[i].n > most) {
            most = s->cells[i].n;
            *cx = s->cells[i].cx;
            *cy = s->cells[i].cy;
        }
    return most;
}

uint64_t ct_point_store_memory_limit(const ct_point_store *s) { return s->memory_limit; }

uint64_t ct_point_store_index_bytes(const ct_point_store *s) { return ((uint64_t)ps_nbins(s) + 1) * sizeof(uint32_t); }

uint64_t ct_point_store_cell_points(const ct_point_store *s, int64_t cx, int64_t cy) {
    long ci = ps_find_cell((ct_point_store *)s, cx, cy, 0); /* (a lookup: nothing is created) */
    return ci < 0 ? 0 : s->cells[ci].n;
}

size_t ct_point_store_cells(const ct_point_store *s, int64_t *cx_cy, size_t max) {
    for (size_t i = 0; i < s->ncells && i < max; i++) {
        cx_cy[2 * i] = s->cells[i].cx;
        cx_cy[2 * i + 1] = s->cells[i].cy;
    }
    return s->ncells;
}


static int grow_table(ct_point_store *s) {
    size_t n = s->nslots ? s->nslots * 2 : 1024;
    int64_t *t = calloc(n, sizeof *t);
    if (!t) return 0;
    for (size_t i = 0; i < s->ncells; i++) {
        size_t h = ps_hash_cell(s->cells[i].cx, s->cells[i].cy) & (n - 1);
        while (t[h]) h = (h + 1) & (n - 1);
        t[h] = (int64_t)i + 1;
    }
    free(s->slots);
    s->slots = t;
    s->nslots = n;
    return 1;
}

/* Index of cell (cx, cy), created when absent; -1 when out of memory. */
long ps_find_cell(ct_point_store *s, int64_t cx, int64_t cy, int create) {
    if (s->nslots) {
        size_t h = ps_hash_cell(cx, cy) & (s->nslots - 1);
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
    size_t h = ps_hash_cell(cx, cy) & (s->nslots - 1);
    while (s->slots[h]) h = (h + 1) & (s->nslots - 1);
    s->slots[h] = (int64_t)s->ncells + 1;
    return (long)s->ncells++;
}

/* Arrays of 2 MiB and more are 2 MiB-aligned and marked for transparent huge pages:
 * first-touch page faults dominated binning before (measured: 25% of the time in the
 * kernel on 4 KiB pages; on a virtual machine a 4 KiB fault costs far more still). */
void *ps_alloc_huge(size_t bytes) {
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
ct_point_rec *ps_alloc_cell_points(size_t *cap) {
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

ct_point_rec *ps_alloc_points(size_t cap) {
    if (cap > SIZE_MAX / sizeof(ct_point_rec)) return NULL;
    return ps_alloc_huge(cap ? cap * sizeof(ct_point_rec) : sizeof(ct_point_rec));
}

/* Grows the arrays to hold `need` points: exactly when exact, else doubling. */
static int cell_reserve_ex(cell *c, size_t need, int exact) {
    if (need <= c->cap) return 1;
    size_t cap = c->cap ? c->cap : 1024;
    while (cap < need) cap *= 2;
    if (exact) cap = need;
    ct_point_rec *p = ps_alloc_points(cap);
    if (!p) return 0;
    if (c->n) memcpy(p, c->pts, c->n * sizeof *p);
    if (!c->in_arena) free(c->pts);
    c->pts = p;
    c->cap = cap;
    c->in_arena = 0;
    return 1;
}

/* Gives every cell with points pending room for them (exactly), in one new arena. */
ct_status ps_reserve_in_arena(ct_context *ctx, ct_point_store *s) {
    size_t total = 0;
    for (size_t i = 0; i < s->ncells; i++)
        if (s->cells[i].cap_pending) total += s->cells[i].n + s->cells[i].cap_pending;
    if (!total) return CT_OK;
    void **na = realloc(s->arenas, (s->narenas + 1) * sizeof *na);
    if (!na) return ct_error_nomem(ctx, "points of a cell");
    s->arenas = na;
    ct_point_rec *arena = ps_alloc_points(total);
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


ct_status ct_point_store_add(ct_context *ctx, ct_point_store *s, const double *x, const double *y, const double *z,
                             const uint8_t *cls, size_t n) {
    long last = -1;
    int64_t lcx = 0, lcy = 0;
    const double cs = s->cell_size;
    for (size_t i = 0; i < n; i++) {
        double px = x[i], py = y[i], pz = z[i];
        if (!ps_point_ok(px, py, pz)) {
            s->ignored++;
            continue;
        }
        int64_t cx = (int64_t)floor(px / cs), cy = (int64_t)floor(py / cs);
        /* Consecutive points mostly share a cell: skip the hash lookup then. */
        if (last < 0 || cx != lcx || cy != lcy) {
            last = ps_find_cell(s, cx, cy, 1);
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

uint64_t ct_point_store_count(const ct_point_store *s) { return s->count; }
uint64_t ct_point_store_ignored(const ct_point_store *s) { return s->ignored; }

uint64_t ct_point_store_count_rows(const ct_point_store *s, int64_t row0, int64_t row1) {
    uint64_t n = 0;
    for (size_t i = 0; i < s->ncells; i++)
        if (s->cells[i].cy >= row0 && s->cells[i].cy < row1) n += s->cells[i].n;
    return n;
}
size_t ct_point_store_cell_count(const ct_point_store *s) { return s->ncells; }
const uint64_t *ct_point_store_class_counts(const ct_point_store *s) { return s->class_counts; }

uint64_t ct_point_store_bytes(const ct_point_store *s) {
    uint64_t b = sizeof *s + s->cap * sizeof(cell) + s->nslots * sizeof(int64_t);
    for (size_t i = 0; i < s->ncells; i++) {
        b += s->cells[i].cap * sizeof(ct_point_rec);
        if (s->cells[i].bin_start) b += ((uint64_t)ps_nbins(s) + 1) * sizeof(uint32_t);
        b += s->cells[i].nruns * sizeof(spill_run); /* on disk: where its points are */
    }
    return b;
}
