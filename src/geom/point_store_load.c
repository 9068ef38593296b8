/* Loading the cells of a store on disk for queries (read from the temporary files, then
 * indexed), keeping them while they fit memory_limit and evicting those behind a
 * row-by-row sweep; their memory is reused from cell to cell. */
#include "geom/point_store_internal.h"

#include <errno.h>
#include <omp.h>
#include <stdlib.h>

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
    return (uint64_t)c->cap * sizeof(ct_point_rec) + ((uint64_t)ps_nbins(s) + 1) * sizeof(uint32_t);
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

void ps_evict(ct_point_store *s, cell *c) {
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
 * ps_evict() then finds nothing of v's to keep as spare. */
static void take_memory(ct_point_store *s, cell *v, cell *c, uint32_t **bins) {
    c->pts = v->pts;
    c->cap = v->cap;
    *bins = v->bins_in_arena ? NULL : v->bin_start;
    v->pts = NULL;
    if (*bins) v->bin_start = NULL;
    ps_evict(s, v);
}

/* The loading threads' index scratch and the spare cell memory. */
void ps_free_load_memory(ct_point_store *s) {
    for (int t = 0; t < s->nload_scratch; t++) ps_index_scratch_free(&s->load_scratch[t]);
    for (int k = 0; k < SPARES; k++) {
        free(s->spare_pts[k]);
        free(s->spare_bins[k]);
        s->spare_pts[k] = NULL;
        s->spare_bins[k] = NULL;
    }
}

/* Room for one entry per cell in the load lists, and index scratch for each thread. */
static ct_status reserve_load_memory(ct_context *ctx, ct_point_store *s, int threads) {
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
    return CT_OK;
}

/* Which cells to load for bbox, and their memory (spares first), in cell order:
 * s->load_todo[0 .. *ntodo - 1] with their bin tables in s->load_bins. Cells not wanted
 * are evicted unless keep_others. */
static ct_status pick_cells(ct_context *ctx, ct_point_store *s, const double bbox[4], int keep_others, uint64_t tick,
                            size_t *ntodo_out) {
    ct_status st = CT_OK;
    size_t ntodo = 0;
    for (size_t i = 0; i < s->ncells && st == CT_OK; i++) {
        cell *c = &s->cells[i];
        if (!cell_hits(s, c, bbox)) {
            if (c->resident && !keep_others) ps_evict(s, c);
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
            c->pts = ps_alloc_cell_points(&c->cap);
        }
        if (!c->pts) { st = ct_error_nomem(ctx, "a cell's points"); break; }
        for (int k = 0; k < SPARES && !bins; k++)
            if (s->spare_bins[k]) {
                bins = s->spare_bins[k];
                s->spare_bins[k] = NULL;
            }
        if (!bins) bins = malloc((ps_nbins(s) + 1) * sizeof *bins);
        if (!bins) { st = ct_error_nomem(ctx, "point index"); break; }
        c->resident = 1;
        s->resident_bytes += cell_bytes(s, c);
        s->load_bins[ntodo] = bins;
        s->load_todo[ntodo++] = i;
    }
    *ntodo_out = ntodo;
    return st;
}

/* Reads and indexes the ntodo picked cells in parallel (a box usually brings a row or a
 * column of cells); a failure leaves no half-loaded cell behind. st: the status so far
 * (an earlier error is kept, and its message). */
static ct_status read_cells(ct_context *ctx, ct_point_store *s, size_t ntodo, int threads, ct_status st) {
    int failed = 0, io_errno = 0;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1) reduction(| : failed) if (ntodo > 1)
    for (size_t k = 0; k < ntodo; k++) {
        cell *c = &s->cells[s->load_todo[k]];
        index_scratch *x = &s->load_scratch[omp_get_thread_num()];
        /* Read there, then sorted into c->pts; a quarter more at once, so that the next
         * slightly larger cell does not need fresh memory again. */
        if (!ps_scratch_reserve(x, c->n ? c->n : 1, c->n + c->n / 4)) {
            failed |= 2;
            continue;
        }
        size_t at = 0;
        int err = 0;
        for (size_t r = 0; r < c->nruns && !err; r++) {
            const spill_run *run = &s->runs[c->run_first + r];
            err = run->n > c->n - at ? EIO
                                     : ps_spill_read_packed(s, run->file, run->off,
                                                            (unsigned char *)x->tmp + SPILL_REC * at, (size_t)run->n);
            at += (size_t)run->n;
        }
        if (!err && at != c->n) err = EIO; /* (the runs hold fewer points than the cell) */
        if (err) {
#pragma omp critical(ct_points_load)
            io_errno = err;
            failed |= 1;
            continue;
        }
        if (!ps_index_cell(s, c, x, 0, s->load_bins[k], (const unsigned char *)x->tmp)) failed |= 2;
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
    if (failed)
        for (size_t k = 0; k < ntodo; k++) {
            cell *c = &s->cells[s->load_todo[k]];
            if (c->resident && !c->indexed) ps_evict(s, c);
        }
    return st;
}

/* Over budget: evicts cells not wanted now (the load `tick`), first in row-major order.
 * Callers sweep boxes row by row (ct_group_by_cell's order), so those are the cells
 * behind the sweep; least-recently-used would evict the previous row's cells still ahead
 * of it and reload every cell three times once the budget holds less than 3 rows. */
static void evict_over_budget(ct_point_store *s, uint64_t tick) {
    while (s->memory_limit > 0 && s->resident_bytes > s->memory_limit) {
        cell *victim = NULL;
        for (size_t i = 0; i < s->ncells; i++) {
            cell *c = &s->cells[i];
            if (c->resident && c->last_used != tick &&
                (!victim || c->cy < victim->cy || (c->cy == victim->cy && c->cx < victim->cx)))
                victim = c;
        }
        if (!victim) break; /* everything resident is wanted now */
        ps_evict(s, victim);
    }
}

/* Cells loaded for earlier boxes stay while they fit the memory budget (a neighbouring
 * box usually needs most of them again: without this each cell was read and indexed
 * about three times over a city); beyond it those not wanted now go, first in row-major order. */
static ct_status load_cells(ct_context *ctx, ct_point_store *s, const double bbox[4], int keep_others) {
    if (!s->on_disk) return CT_OK;
    if (s->released) return ct_error(ctx, CT_ERR_USAGE, "points: a stage wants LiDAR points after they were released");
    uint64_t tick = ++s->loads;
    int threads = ct_context_threads(ctx) < 1 ? 1 : ct_context_threads(ctx);
    ct_status st = reserve_load_memory(ctx, s, threads);
    if (st != CT_OK) return st;
    size_t ntodo = 0;
    st = pick_cells(ctx, s, bbox, keep_others, tick, &ntodo);
    s->cells_read += ntodo;
    st = read_cells(ctx, s, ntodo, threads, st);
    if (!keep_others) { /* unloaded: nothing more to load soon */
        ps_free_load_memory(s);
        ct_log(ctx, CT_LOG_DEBUG, "points: %llu cell reads from the temporary files so far, for %zu cells",
               (unsigned long long)s->cells_read, s->ncells);
    }
    if (st == CT_OK && keep_others) evict_over_budget(s, tick);
    return st;
}

ct_status ct_point_store_load(ct_context *ctx, ct_point_store *s, const double bbox[4]) {
    return load_cells(ctx, s, bbox, 1);
}

ct_status ct_point_store_unload(ct_context *ctx, ct_point_store *s) {
    const double none[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY}; /* no cell is wanted */
    return load_cells(ctx, s, none, 0);
}
