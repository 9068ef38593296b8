/* ct_point_store_add_chunks: the points of many chunks binned into cells in parallel,
 * in two passes (count per cell and chunk, then write each point to its place), with the
 * same result for any thread count; beyond the memory budget each chunk's records go to
 * its thread's temporary file as they are made (point_store_spill.c). */
#include "geom/point_store_internal.h"

#include <errno.h>
#include <omp.h>
#include <stdlib.h>
#include <unistd.h>

/* Records written by pass 1 of add_chunks (see there): at most this many bytes. */
#define EARLY_BYTES ((uint64_t)128 << 20)

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
            size_t h = ps_hash_cell(m->v[i].cx, m->v[i].cy) & (ns - 1);
            while (sl[h]) h = (h + 1) & (ns - 1);
            sl[h] = (int32_t)i + 1;
        }
        free(m->slots);
        m->slots = sl;
        m->nslots = ns;
    }
    size_t h = ps_hash_cell(cx, cy) & (m->nslots - 1);
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

/* One add_chunks call: its inputs, and what its two passes share. */
typedef struct add_job {
    ct_context *ctx;
    ct_point_store *s;
    const ct_point_chunk_ops *ops;
    void *user;
    size_t nchunks, max_chunk;
    int threads;
    int fast;                  /* ops has the fast path (locate and fill) */
    int to_files;              /* records go to the spill files as pass 1 makes them */
    int keep_ids;              /* fast chunks keep their points' cells for pass 2 (in idbuf) */
    int spill;                 /* the points stay on disk (known after pass 1) */
    chunk_cell **lists;        /* per chunk: its cells, counts, then places */
    size_t *lens;
    chunk_buf *bufs;           /* per thread */
    uint8_t **ids;             /* per fast chunk: its points' cells when kept (in idbuf) */
    uint8_t *idbuf;
    size_t *npts;              /* per fast chunk: its points */
    unsigned char *fast_chunk; /* per chunk: it took the fast path */
    int *chunk_file;           /* to_files: the spill file of each chunk's records */
    uint64_t *chunk_off;       /* and their offset there */
    size_t early_chunks;       /* chunks whose records pass 1 wrote into early_block */
    ct_point_rec *early_block;
    ct_status st;              /* the first error (set through job_fail) */
} add_job;

/* Keeps the first error of the threads. */
static void job_fail(add_job *j, ct_status cst) {
#pragma omp critical(ct_points_status)
    if (j->st == CT_OK) j->st = cst;
}

/* The same for a read or write (what) of the spill files that failed with errno err:
 * only the first error's message is made. */
static void job_io_fail(add_job *j, const char *what, int err) {
#pragma omp critical(ct_points_status)
    if (j->st == CT_OK) j->st = ps_spill_error(j->ctx, j->s, what, err, j->nchunks, j->max_chunk);
}

static void job_free(add_job *j) {
    if (j->lists)
        for (size_t c = 0; c < j->nchunks; c++) free(j->lists[c]);
    free(j->lists);
    free(j->lens);
    free(j->ids);
    free(j->idbuf);
    free(j->npts);
    free(j->fast_chunk);
    free(j->early_block);
    free(j->chunk_file);
    free(j->chunk_off);
    if (j->bufs)
        for (int t = 0; t < j->threads; t++) chunk_buf_free(&j->bufs[t]);
    free(j->bufs);
}

/* The job's arrays and choices. CT_OK, or out of memory (with its message). */
static ct_status job_init(add_job *j) {
    ct_point_store *s = j->s;
    const size_t nchunks = j->nchunks, max_chunk = j->max_chunk, nc1 = nchunks ? nchunks : 1;
    const int threads = j->threads;
    j->fast = j->ops->locate && j->ops->fill;
    /* Beyond the memory budget (and with nothing in memory yet) the points go to disk,
     * and then each chunk's records, grouped by cell, are appended to its thread's spill
     * file as soon as they are made (fast chunks in pass 1): the LAS is read once. A
     * cell's points are then the runs of them in those files, in chunk order. Whether
     * they really go to disk is known after pass 1 (crop and classes drop points); if
     * not, pass 2 reads the records back into place from the files. */
    j->to_files = ct_point_store_streams_to_disk(s, nchunks, max_chunk);
    if (j->to_files) {
        j->chunk_file = malloc(nc1 * sizeof *j->chunk_file);
        j->chunk_off = calloc(nc1, sizeof *j->chunk_off);
        if (s->nspill < threads) {
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
        ps_warn_spill_room(j->ctx, s, nchunks, max_chunk);
        if (!j->chunk_file || !j->chunk_off || s->nspill < threads) return ct_error_nomem(j->ctx, "point chunks");
    }
    j->lists = calloc(nc1, sizeof *j->lists);
    j->lens = calloc(nc1, sizeof *j->lens);
    j->bufs = calloc((size_t)threads, sizeof *j->bufs);
    j->ids = calloc(nc1, sizeof *j->ids);
    j->npts = calloc(nc1, sizeof *j->npts);
    j->fast_chunk = calloc(nc1, 1);
    if (!j->lists || !j->lens || !j->bufs || !j->ids || !j->npts || !j->fast_chunk)
        return ct_error_nomem(j->ctx, "point chunks");
    /* Kept for pass 2 in one block (huge pages: a page fault per 64 KiB chunk was
     * measurable) when the points will be in memory anyway (a byte per 16-byte point);
     * beyond the memory budget pass 2 locates again, so memory stays bounded. */
    j->keep_ids = j->fast && (s->memory_limit == 0 ||
                              (uint64_t)nchunks * max_chunk <= s->memory_limit / sizeof(ct_point_rec));
    if (j->keep_ids && nchunks && max_chunk) {
        j->idbuf = max_chunk <= SIZE_MAX / nchunks ? ps_alloc_huge(nchunks * max_chunk) : NULL;
        if (!j->idbuf) return ct_error_nomem(j->ctx, "point chunks");
    }
    /* Pass 1 also writes the records of the first chunks (grouped by cell) right after
     * locating them, while the source still holds the chunk's bytes: pass 2 then only
     * copies them into place instead of reading the file again. The extra memory is
     * bounded (EARLY_BYTES, and a quarter of memory_limit): fresh memory costs page faults
     * too, and beyond some 100 MB they cost more than the second read saves (measured:
     * 47.5M points read once took 0.89 s instead of 0.57-0.82 s, with 730 MiB more). */
    if (j->keep_ids && max_chunk && !j->to_files) {
        uint64_t budget = EARLY_BYTES;
        if (s->memory_limit > 0 && s->memory_limit / 4 < budget) budget = s->memory_limit / 4;
        j->early_chunks = (size_t)(budget / ((uint64_t)max_chunk * sizeof(ct_point_rec)));
        if (j->early_chunks > nchunks) j->early_chunks = nchunks;
    }
    /* One huge-page block for them (fresh 4 KiB pages fault one by one, costly on a VM);
     * chunk c < early_chunks that took the fast path has its records at c * max_chunk. */
    j->early_block = j->early_chunks ? ps_alloc_points(j->early_chunks * j->max_chunk) : NULL;
    if (!j->early_block) j->early_chunks = 0; /* then pass 2 fills as usual */
    return CT_OK;
}

enum { CHUNK_NOMEM = 0, CHUNK_DONE = 1, CHUNK_GENERIC = 2 };

/* Pass 1 of a chunk on the fast path: its cells and counts (and, to files or among the
 * early chunks, its records). CHUNK_GENERIC when the source cannot do this chunk fast. */
static int pass1_fast(add_job *j, chunk_buf *b, size_t c, uint64_t ecounts[256], uint64_t *ignored) {
    int64_t cxy[2 * CT_CHUNK_MAX_CELLS];
    uint32_t cnt[CT_CHUNK_MAX_CELLS];
    ct_point_rec *edst[CT_CHUNK_MAX_CELLS];
    uint8_t *id = j->keep_ids ? j->idbuf + c * j->max_chunk : b->ids;
    size_t n = 0, nc = 0;
    uint64_t ign = 0;
    ct_status cst = j->ops->locate(j->ctx, j->user, c, id, &n, cxy, cnt, &nc, &ign);
    if (cst != CT_OK) {
        job_fail(j, cst);
        return CHUNK_DONE;
    }
    if (nc == CT_CHUNK_GENERIC) return CHUNK_GENERIC;
    j->lists[c] = malloc((nc ? nc : 1) * sizeof **j->lists);
    if (!j->lists[c]) return CHUNK_NOMEM;
    for (size_t k = 0; k < nc; k++) {
        chunk_cell *e = &j->lists[c][k];
        memset(e, 0, sizeof *e);
        e->cx = cxy[2 * k];
        e->cy = cxy[2 * k + 1];
        e->count = cnt[k];
    }
    j->lens[c] = nc;
    j->ids[c] = j->keep_ids ? id : NULL;
    j->fast_chunk[c] = 1;
    j->npts[c] = n;
    if (j->to_files) { /* to this thread's spill file, grouped by cell */
        int t = omp_get_thread_num();
        size_t kept = 0;
        for (size_t k = 0; k < nc; kept += cnt[k], k++) edst[k] = b->recs + kept;
        cst = j->ops->fill(j->ctx, j->user, c, id, n, cxy, nc, edst, ecounts);
        j->chunk_file[c] = t;
        if (cst != CT_OK) {
            job_fail(j, cst);
            return CHUNK_DONE;
        }
        if (!ps_spill_append(j->s, t, b->recs, kept, &j->chunk_off[c])) {
            job_io_fail(j, "write", errno);
            return CHUNK_DONE;
        }
    } else if (c < j->early_chunks) {
        ct_point_rec *recs = j->early_block + c * j->max_chunk;
        for (size_t k = 0, at = 0; k < nc; at += cnt[k], k++) edst[k] = recs + at;
        cst = j->ops->fill(j->ctx, j->user, c, id, n, cxy, nc, edst, ecounts);
        if (cst != CT_OK) {
            job_fail(j, cst);
            return CHUNK_DONE;
        }
    }
    *ignored += ign;
    return CHUNK_DONE;
}

/* Pass 1 of a chunk through the generic source: its points decoded, counted per cell. */
static int pass1_generic(add_job *j, chunk_buf *b, size_t c) {
    size_t n = 0;
    ct_status cst = j->ops->points(j->ctx, j->user, c, b->x, b->y, b->z, b->cls, &n);
    if (cst != CT_OK) {
        job_fail(j, cst);
        return CHUNK_DONE;
    }
    const double cs = j->s->cell_size;
    chunk_map_reset(&b->map);
    chunk_cell *last = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!ps_point_ok(b->x[i], b->y[i], b->z[i])) continue;
        int64_t cx = (int64_t)floor(b->x[i] / cs), cy = (int64_t)floor(b->y[i] / cs);
        if (!last || last->cx != cx || last->cy != cy) {
            last = chunk_map_get(&b->map, cx, cy);
            if (!last) return CHUNK_NOMEM;
        }
        last->count++;
    }
    j->lists[c] = malloc((b->map.n ? b->map.n : 1) * sizeof **j->lists);
    if (!j->lists[c]) return CHUNK_NOMEM;
    if (b->map.n) memcpy(j->lists[c], b->map.v, b->map.n * sizeof **j->lists); /* none kept: v may be NULL */
    j->lens[c] = b->map.n;
    return CHUNK_DONE;
}

/* Pass 1: count the points of each chunk per cell (in parallel). Records written by the
 * fast path add their classes to early_counts. */
static void pass1(add_job *j, uint64_t early_counts[256], uint64_t *ignored_out) {
    int nomem = 0;
    uint64_t ignored = 0;
    size_t chunks_done = 0;
#pragma omp parallel num_threads(j->threads) reduction(| : nomem) reduction(+ : ignored)
    {
        chunk_buf *b = &j->bufs[omp_get_thread_num()];
        uint64_t ecounts[256];
        memset(ecounts, 0, sizeof ecounts);
        if (!chunk_buf_init(b, j->max_chunk)) nomem = 1;
#pragma omp for schedule(dynamic, 1)
        for (long c = 0; c < (long)j->nchunks; c++) {
            if (nomem || j->st != CT_OK) continue;
            int r = j->fast ? pass1_fast(j, b, (size_t)c, ecounts, &ignored) : CHUNK_GENERIC;
            if (r == CHUNK_GENERIC) r = pass1_generic(j, b, (size_t)c);
            if (r == CHUNK_NOMEM) nomem = 1;
            size_t now;
#pragma omp atomic capture
            now = ++chunks_done;
            /* (the whole read when the points go to disk: it had no progress of its own) */
            if (omp_get_thread_num() == 0) ct_progress(j->ctx, "reading LiDAR chunks", now, j->nchunks);
        }
#pragma omp critical(ct_points_counts)
        for (int k = 0; k < 256; k++) early_counts[k] += ecounts[k];
    }
    if (nomem && j->st == CT_OK) j->st = ct_error_nomem(j->ctx, "point chunks");
    *ignored_out += ignored;
}

/* Between the passes, in chunk order (so that cells are created and space handed out
 * deterministically): each chunk's place in its cells; whether the points stay on disk;
 * in memory, room for them. */
static void place_chunks(add_job *j) {
    ct_point_store *s = j->s;
    for (size_t c = 0; j->st == CT_OK && c < j->nchunks; c++)
        for (size_t k = 0; k < j->lens[c]; k++) {
            chunk_cell *e = &j->lists[c][k];
            e->cell = ps_find_cell(s, e->cx, e->cy, 1);
            if (e->cell < 0) {
                j->st = ct_error_nomem(j->ctx, "point cells");
                break;
            }
            cell *ce = &s->cells[e->cell];
            e->pos = ce->n + ce->cap_pending;
            ce->cap_pending += e->count;
        }
    /* Too many points for the memory budget (and nothing in memory yet): to disk. */
    uint64_t incoming = 0;
    for (size_t i = 0; i < s->ncells; i++) incoming += s->cells[i].cap_pending;
    j->spill = j->st == CT_OK && j->to_files && incoming * sizeof(ct_point_rec) > s->memory_limit;
    /* In memory: one block for the points of every cell that grows (huge pages are
     * zeroed whole when first touched: a block per cell would zero up to 2 MiB more per
     * cell, which costs much on virtual machines). */
    if (j->st == CT_OK && !j->spill) j->st = ps_reserve_in_arena(j->ctx, s);
}

/* Pass 2 of a fast chunk: its records into their cells (the cells known from pass 1,
 * located again when pass 1 did not keep them). */
static void pass2_fast(add_job *j, chunk_buf *b, size_t c, uint64_t local[256]) {
    ct_point_rec *dst[CT_CHUNK_MAX_CELLS];
    int64_t cxy[2 * CT_CHUNK_MAX_CELLS];
    const uint8_t *id = j->ids[c];
    if (!id) { /* not kept: locate again (the same answer as in pass 1) */
        size_t nc = 0, np = 0;
        uint32_t cnt[CT_CHUNK_MAX_CELLS];
        uint64_t ign = 0;
        ct_status cst = j->ops->locate(j->ctx, j->user, c, b->ids, &np, cxy, cnt, &nc, &ign);
        if (cst == CT_OK && (nc != j->lens[c] || np != j->npts[c]))
            cst = ct_error(j->ctx, CT_ERR_INTERNAL, "point chunk %zu located differently twice", c);
        if (cst != CT_OK) {
            job_fail(j, cst);
            return;
        }
        id = b->ids;
    }
    for (size_t k = 0; k < j->lens[c]; k++) { /* in memory: on disk they went in pass 1 */
        const chunk_cell *e = &j->lists[c][k];
        dst[k] = j->s->cells[e->cell].pts + e->pos;
        cxy[2 * k] = e->cx;
        cxy[2 * k + 1] = e->cy;
    }
    ct_status cst = j->ops->fill(j->ctx, j->user, c, id, j->npts[c], cxy, j->lens[c], dst, local);
    if (cst != CT_OK) job_fail(j, cst);
}

/* Pass 2 of a generic chunk: decoded again, each point written to its cell (on disk,
 * grouped by cell and appended to the thread's spill file). 0 when out of memory. */
static int pass2_generic(add_job *j, chunk_buf *b, size_t c, uint64_t local[256], uint64_t *ignored) {
    ct_point_store *s = j->s;
    size_t n = 0;
    ct_status cst = j->ops->points(j->ctx, j->user, c, b->x, b->y, b->z, b->cls, &n);
    if (cst != CT_OK) {
        job_fail(j, cst);
        return 1;
    }
    chunk_map_reset(&b->map);
    for (size_t k = 0; k < j->lens[c]; k++) {
        chunk_cell *e = chunk_map_get(&b->map, j->lists[c][k].cx, j->lists[c][k].cy);
        if (!e) return 0;
        *e = j->lists[c][k];
    }
    /* On disk the chunk's points are grouped by cell in b->recs first. */
    size_t run = 0;
    if (j->spill)
        for (size_t k = 0; k < b->map.n; k++) {
            b->map.v[k].count = run; /* reused: start of the cell's run in recs */
            run += j->lists[c][k].count;
        }
    const double cs = s->cell_size;
    chunk_cell *last = NULL;
    cell *ce = NULL;
    for (size_t i = 0; i < n; i++) {
        double x = b->x[i], y = b->y[i];
        if (!ps_point_ok(x, y, b->z[i])) {
            ++*ignored;
            continue;
        }
        int64_t cx = (int64_t)floor(x / cs), cy = (int64_t)floor(y / cs);
        if (!last || last->cx != cx || last->cy != cy) {
            last = chunk_map_get(&b->map, cx, cy);
            if (!last) return 0;
            ce = &s->cells[last->cell];
        }
        ct_point_rec *r = j->spill ? &b->recs[last->count++] : &ce->pts[last->pos++];
        r->x = (float)(x - (double)cx * cs);
        r->y = (float)(y - (double)cy * cs);
        r->z = (float)b->z[i];
        r->cls = b->cls[i];
        r->reserved[0] = r->reserved[1] = r->reserved[2] = 0;
        local[b->cls[i]]++;
    }
    if (j->spill) { /* grouped by cell in recs: to this thread's spill file */
        j->chunk_file[c] = omp_get_thread_num();
        if (!ps_spill_append(s, j->chunk_file[c], b->recs, run, &j->chunk_off[c])) job_io_fail(j, "write", errno);
    }
    return 1;
}

/* Pass 2 of a chunk: its points to their places. 0 when out of memory. */
static int pass2_chunk(add_job *j, chunk_buf *b, size_t c, uint64_t local[256], uint64_t *ignored) {
    if (j->fast_chunk[c] && j->to_files) {
        /* Written to a spill file in pass 1: it stays there (on disk), or it is read
         * back into place (not that many points after all). */
        uint64_t off = j->chunk_off[c];
        for (size_t k = 0; !j->spill && k < j->lens[c]; k++) {
            const chunk_cell *e = &j->lists[c][k];
            int err = ps_spill_read(j->s, j->chunk_file[c], off, j->s->cells[e->cell].pts + e->pos, e->count);
            if (err) job_io_fail(j, "read", err);
            off += e->count;
        }
    } else if (j->fast_chunk[c] && c < j->early_chunks) {
        /* Written in pass 1: copied into place. */
        const ct_point_rec *src = j->early_block + c * j->max_chunk;
        for (size_t k = 0; k < j->lens[c]; k++) {
            const chunk_cell *e = &j->lists[c][k];
            if (e->count) memcpy(j->s->cells[e->cell].pts + e->pos, src, e->count * sizeof *src);
            src += e->count;
        }
    } else if (j->fast_chunk[c]) {
        pass2_fast(j, b, c, local);
    } else {
        return pass2_generic(j, b, c, local, ignored);
    }
    return 1;
}

/* Pass 2: decode again and write every point to its place (in parallel). */
static void pass2(add_job *j, uint64_t counts[256], uint64_t *ignored_out) {
    int nomem = 0;
    uint64_t ignored = 0;
    size_t chunks_done = 0;
#pragma omp parallel num_threads(j->threads) reduction(| : nomem) reduction(+ : ignored)
    {
        chunk_buf *b = &j->bufs[omp_get_thread_num()];
        uint64_t local[256];
        memset(local, 0, sizeof local);
#pragma omp for schedule(dynamic, 1)
        for (long c = 0; c < (long)j->nchunks; c++) {
            if (j->st != CT_OK || nomem) continue;
            if (!pass2_chunk(j, b, (size_t)c, local, &ignored)) nomem = 1;
            size_t now;
#pragma omp atomic capture
            now = ++chunks_done;
            /* Progress from the thread that runs the stage only (the callback's contract). */
            if (omp_get_thread_num() == 0) ct_progress(j->ctx, "binning LiDAR chunks", now, j->nchunks);
        }
#pragma omp critical(ct_points_counts)
        for (int k = 0; k < 256; k++) counts[k] += local[k];
    }
    if (nomem && j->st == CT_OK) j->st = ct_error_nomem(j->ctx, "point chunks");
    *ignored_out += ignored;
}

/* After pass 2: the cells' counts, the runs of a store on disk (or the files closed when
 * the points stayed in memory), the store's totals. */
static void finish_job(add_job *j, const uint64_t counts[256], uint64_t ignored) {
    ct_point_store *s = j->s;
    for (size_t i = 0; i < s->ncells; i++) {
        cell *ce = &s->cells[i];
        if (j->st == CT_OK) ce->n += ce->cap_pending;
        if (ce->cap_pending) ce->indexed = 0;
        ce->cap_pending = 0;
        if (j->spill) ce->resident = 0;
    }
    if (j->st == CT_OK && j->spill)
        j->st = build_runs(j->ctx, s, j->nchunks, j->lists, j->lens, j->chunk_file, j->chunk_off);
    if (j->st == CT_OK && j->spill) s->on_disk = 1;
    if (j->to_files && !s->on_disk) /* read back into memory (or failed): the files go */
        for (int t = 0; t < s->nspill; t++) {
            if (s->spill_fds[t] >= 0) close(s->spill_fds[t]);
            s->spill_fds[t] = -1;
            s->spill_len[t] = 0;
        }
    if (j->st == CT_OK) {
        for (int k = 0; k < 256; k++) {
            s->class_counts[k] += counts[k];
            s->count += counts[k];
        }
        s->ignored += ignored;
    }
}

ct_status ct_point_store_add_chunks_ops(ct_context *ctx, ct_point_store *s, size_t nchunks, size_t max_chunk,
                                        const ct_point_chunk_ops *ops, void *user, int threads) {
    if (s->on_disk)
        return ct_error(ctx, CT_ERR_UNSUPPORTED, "points: more points after the first ones went to disk (memory_limit): "
                                                 "read every LAS file in one readers.lidar stage");
    add_job j;
    memset(&j, 0, sizeof j);
    j.ctx = ctx;
    j.s = s;
    j.ops = ops;
    j.user = user;
    j.nchunks = nchunks;
    j.max_chunk = max_chunk;
    j.threads = threads < 1 ? 1 : threads;
    j.st = job_init(&j);
    uint64_t counts[256], early_counts[256], ignored = 0;
    memset(counts, 0, sizeof counts);
    memset(early_counts, 0, sizeof early_counts);
    const double t_start = omp_get_wtime();
    if (j.st == CT_OK) pass1(&j, early_counts, &ignored);
    place_chunks(&j);
    const double t_pass2 = omp_get_wtime();
    if (j.st == CT_OK) pass2(&j, counts, &ignored);
    for (int k = 0; k < 256; k++) counts[k] += early_counts[k];
    finish_job(&j, counts, ignored);
    ct_log(ctx, CT_LOG_DEBUG, "points: binning pass 1 %.1f ms, pass 2 %.1f ms (%zu chunks, %zu read once)",
           (t_pass2 - t_start) * 1e3, (omp_get_wtime() - t_pass2) * 1e3, nchunks,
           j.to_files ? nchunks : j.early_chunks);
    ct_status st = j.st;
    job_free(&j);
    return st;
}
