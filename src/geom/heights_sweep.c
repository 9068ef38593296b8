/* filters.heights with the points on disk: each cell's points are read once from the
 * temporary files and handed to the buildings whose search boxes they fall in.
 *
 * Loading cells for per-building queries (ct_point_store_load, then ct_heights_compute)
 * sorts every loaded cell into its fine index, and a sweep keeps two rows of cells in
 * memory, as a building's box reaches into the next row. Here a cell's points go into a
 * thread's buffer and are dispatched over a coarse grid of the cell whose bins list the
 * buildings whose boxes meet them; a building spanning several cells keeps the samples of
 * each until its last cell is read. The samples are exactly those of ct_heights_compute
 * (the same cells, the same tests on the same coordinates), and they are joined in cell
 * order, so the heights are the same to the bit. A building whose cells hold more points
 * than max_samples may need its samples thinned (geom/heights_thin.h): its samples carry
 * their points' hashes and gather in one thinned set (bounded, whatever its size), which
 * keeps the points ct_heights_compute keeps. */
#include "geom/heights_sweep.h"
#include "core/reserve.h"
#include "geom/edge_grid.h"
#include "geom/heights_thin.h"
#include "geom/outline_rows.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* A building's search: the box q of its ground points (its footprint's box bb widened by
 * the buffer; NaN when it has no box), whose cells (as a query takes them) it reads. */
typedef struct search {
    double bb[4];  /* the footprint's box (computed once: a building is met in each of its cells) */
    double q[4];
    size_t cells; /* cells with points among them */
    size_t left;  /* of them not read yet (under the critical section) */
    uint64_t reach; /* the points of those cells: at most this many samples of a kind */
    int thin;       /* reach > max_samples: its samples go to a thinned set (thin_acc) */
} search;

/* The cells [x0, x1] x [y0, y1] a query of box b reads, as ct_point_store_query takes them. */
typedef struct cell_range {
    int64_t x0, y0, x1, y1;
} cell_range;

static cell_range cells_of(const double b[4], double cs) {
    cell_range r = {(int64_t)floor(b[0] / cs), (int64_t)floor(b[1] / cs), (int64_t)floor(b[2] / cs),
                    (int64_t)floor(b[3] / cs)};
    return r;
}

/* The samples one cell gave a building that spans several cells. */
typedef struct fragment {
    struct fragment *next;
    size_t cell; /* the cell's position in row-major order */
    size_t nroof, nground;
    float v[];   /* nroof roof samples, then nground ground samples */
} fragment;

/* A thinned building's samples from the `cells` of its cells read so far. */
typedef struct thin_acc {
    ct_thin_set roof, ground;
    size_t cells;
} thin_acc;

static void thin_acc_free(thin_acc *a) {
    if (!a) return;
    ct_thin_free(&a->roof);
    ct_thin_free(&a->ground);
    free(a);
}

/* A sample: the building (its position in the cell's list) and the point's z. */
typedef struct sample {
    uint32_t who;
    float z;
} sample;

/* One thread's buffers, reused from cell to cell. */
typedef struct worker {
    unsigned char *recs; /* the cell's points (ct_point_store_read_cell) */
    size_t recs_cap;
    double *q;           /* per building of the cell: its box q (a copy, in line) */
    size_t q_cap;
    ct_edge_grid *grids; /* one per building of the cell */
    size_t grids_cap;
    uint32_t *hint;      /* per building: the edge that answered last (ct_edge_grid_near) */
    size_t hint_cap;
    unsigned char *thin; /* per building: search.thin */
    size_t thin_cap;
    int any_thin;        /* some building of the cell has thin */
    uint32_t *bin_start, *bin_who; /* the cell's coarse grid: the buildings of each bin */
    size_t bin_start_cap, bin_who_cap;
    sample *roof, *ground;
    size_t roof_cap, ground_cap;
    uint32_t *roof_h, *ground_h; /* for a building with thin: its sample's point's hash, at the sample's place */
    size_t roof_h_cap, ground_h_cap;
    uint32_t *first;     /* per building: where its samples begin in vals */
    size_t first_cap;
    float *vals;         /* the cell's samples grouped by building: roof, then ground */
    size_t vals_cap;
    uint32_t *hvals;     /* their hashes, when any_thin */
    size_t hvals_cap;
    float *joined;       /* a spanning building's samples, its fragments joined */
    size_t joined_cap;
    ct_outline_rows rows; /* a sparse building's search area over the cell's bin rows */
} worker;

static void worker_free(worker *w) {
    free(w->recs);
    free(w->q);
    for (size_t i = 0; i < w->grids_cap; i++) ct_edge_grid_free(&w->grids[i]);
    free(w->grids);
    free(w->hint);
    free(w->bin_start);
    free(w->bin_who);
    free(w->roof);
    free(w->ground);
    free(w->roof_h);
    free(w->ground_h);
    free(w->first);
    free(w->vals);
    free(w->hvals);
    free(w->thin);
    free(w->joined);
    ct_outline_rows_free(&w->rows);
    memset(w, 0, sizeof *w);
}

/* Everything the threads share. */
typedef struct sweep {
    const ct_point_store *store;
    const ct_footprint *const *fps;
    const ct_heights_params *prm;
    double cs;
    int64_t *cxy;             /* the cells with points, row-major (cy, then cx) */
    size_t ncells;
    size_t *cell_first;       /* cell c's buildings: who[cell_first[c] .. cell_first[c + 1]] */
    size_t *who;              /* building indices, ascending within a cell */
    unsigned char *roof_cell; /* per entry: the cell is one of the building's roof cells */
    search *srch;
    fragment **pending;
    thin_acc **acc;           /* per thinned building: its samples gathered so far */
    uint64_t *cell_points;    /* per cell (cxy's order): its points */
    unsigned char want[256];  /* bit 0: roof class, 1: ground class, 2: the class's group is
                               * queried in the ground box (so roof points too come from q's cells) */
    ct_heights_result *results;
    unsigned char *widen;
    size_t done;              /* buildings whose cells were all read (progress) */
} sweep;

/* The heights of building b from its samples (as ct_heights_compute sets them, the
 * widened ground search left to the caller). */
static void finish_samples(sweep *w, size_t b, ct_heights_samples roof, ct_heights_samples ground) {
    ct_heights_result r;
    ct_heights_result_init(&r, w->prm);
    ct_heights_set_roof(&r, w->fps[b], roof, w->prm);
    if (ct_heights_needs_widening(w->prm, ground.total)) {
        r.ground_points = (uint32_t)ground.total;
        w->widen[b] = 1;
    } else {
        ct_heights_set_ground(&r, ground, w->prm->buffer, w->prm);
    }
    w->results[b] = r;
}

/* finish_samples of every sample found (none thinned). */
static void finish(sweep *w, size_t b, float *roof, size_t nroof, float *ground, size_t nground) {
    finish_samples(w, b, (ct_heights_samples){roof, nroof, nroof, 0}, (ct_heights_samples){ground, nground, nground, 0});
}

static int cmp_cell(const void *a, const void *b) {
    const int64_t *p = a, *q = b;
    if (p[1] != q[1]) return p[1] < q[1] ? -1 : 1;
    return (p[0] > q[0]) - (p[0] < q[0]);
}

/* The first cell at or after (cx, cy) in row-major order. */
static size_t cell_at_or_after(const sweep *w, int64_t cx, int64_t cy) {
    size_t lo = 0, hi = w->ncells;
    while (lo < hi) {
        size_t m = lo + (hi - lo) / 2;
        const int64_t *c = &w->cxy[2 * m];
        if (c[1] < cy || (c[1] == cy && c[0] < cx)) lo = m + 1;
        else hi = m;
    }
    return lo;
}

/* Calls visit(w, b, c, arg) for every cell c with points among building b's ground cells,
 * row by row (rows outside the cells' own range skipped: a box may be kilometres wide). */
static void for_cells(const sweep *w, size_t b, void (*visit)(sweep *, size_t, size_t, void *), void *arg) {
    const cell_range g = cells_of(w->srch[b].q, w->cs);
    if (w->ncells == 0) return;
    int64_t y0 = g.y0 > w->cxy[1] ? g.y0 : w->cxy[1];
    int64_t y1 = g.y1 < w->cxy[2 * w->ncells - 1] ? g.y1 : w->cxy[2 * w->ncells - 1];
    for (int64_t cy = y0; cy <= y1; cy++) {
        for (size_t c = cell_at_or_after(w, g.x0, cy); c < w->ncells && w->cxy[2 * c + 1] == cy; c++) {
            if (w->cxy[2 * c] > g.x1) break;
            visit((sweep *)w, b, c, arg);
        }
        if (cy == INT64_MAX) break;
    }
}

static void count_pair(sweep *w, size_t b, size_t c, void *arg) {
    (void)arg;
    w->cell_first[c + 1]++;
    w->srch[b].cells++;
    w->srch[b].reach += w->cell_points[c];
}

/* arg: where each cell's next entry goes, and the building's roof cells (those of bb). */
typedef struct put_arg {
    size_t *fill;
    cell_range roof;
} put_arg;

static void put_pair(sweep *w, size_t b, size_t c, void *arg) {
    put_arg *a = arg;
    size_t k = a->fill[c]++;
    int64_t cx = w->cxy[2 * c], cy = w->cxy[2 * c + 1];
    w->who[k] = b;
    w->roof_cell[k] = (unsigned char)(cx >= a->roof.x0 && cx <= a->roof.x1 && cy >= a->roof.y0 && cy <= a->roof.y1);
}

/* The searches of every building and, per cell, the buildings that read it. */
static int plan(sweep *w, size_t n) {
    for (size_t b = 0; b < n; b++) {
        search *s = &w->srch[b];
        memset(s, 0, sizeof *s);
        ct_heights_result_init(&w->results[b], w->prm);
        double *bb = s->bb;
        if (!ct_footprint_bbox(w->fps[b], bb)) { /* (ct_heights_compute's answer: nothing) */
            s->q[0] = NAN;
            continue;
        }
        const double buf = w->prm->buffer;
        s->q[0] = bb[0] - buf;
        s->q[1] = bb[1] - buf;
        s->q[2] = bb[2] + buf;
        s->q[3] = bb[3] + buf;
        for_cells(w, b, count_pair, NULL);
        s->left = s->cells;
        s->thin = w->prm->max_samples > 0 && s->reach > w->prm->max_samples;
    }
    for (size_t c = 0; c < w->ncells; c++) w->cell_first[c + 1] += w->cell_first[c];
    size_t pairs = w->cell_first[w->ncells];
    size_t *fill = malloc((w->ncells ? w->ncells : 1) * sizeof *fill);
    w->who = malloc((pairs ? pairs : 1) * sizeof *w->who);
    w->roof_cell = malloc(pairs ? pairs : 1);
    if (!fill || !w->who || !w->roof_cell) {
        free(fill);
        return 0;
    }
    memcpy(fill, w->cell_first, w->ncells * sizeof *fill);
    for (size_t b = 0; b < n; b++) {
        if (isnan(w->srch[b].q[0])) continue;
        put_arg a = {fill, cells_of(w->srch[b].bb, w->cs)};
        for_cells(w, b, put_pair, &a);
    }
    free(fill);
    return 1;
}

/* Bins of the coarse grid per cell side: about 2 m (the store's default fine index). */
static int coarse_bins(double cs) {
    double k = ceil(cs / 2.0);
    return k < 1 ? 1 : (k > 256 ? 256 : (int)k);
}

/* The bins of the cell's coarse grid that box [lo, hi] (relative to the cell's corner)
 * may reach: a point's bin is (int)(x * inv) of its offset x, which lies within [lo, hi]
 * up to rounding (the 1e-4 of a bin covers it many times over). */
static void bin_range(double lo, double hi, double inv, int nb, int *a, int *b) {
    double fa = floor(lo * inv - 1e-4), fb = floor(hi * inv + 1e-4);
    *a = fa < 0 ? 0 : (fa > nb - 1 ? nb - 1 : (int)fa);
    *b = fb < 0 ? 0 : (fb > nb - 1 ? nb - 1 : (int)fb);
}

/* The bins [*a, *b] of bin row r that building j's search reaches: its box q's, narrowed
 * by wk->rows when `narrow` (built for j over the cell's bin rows). Returns 0 when none. */
static int row_bins(const worker *wk, int narrow, const double *q, int r, double ox, double inv, int nb, int *a,
                    int *b) {
    bin_range(q[0] - ox, q[2] - ox, inv, nb, a, b);
    if (!narrow) return 1;
    if (!(wk->rows.lo[r] <= wk->rows.hi[r])) return 0;
    int ra, rb;
    bin_range(wk->rows.lo[r] - ox, wk->rows.hi[r] - ox, inv, nb, &ra, &rb);
    if (ra > *a) *a = ra;
    if (rb < *b) *b = rb;
    return *a <= *b;
}

/* Whether building j's bins are narrowed by its outline's rows (a long diagonal
 * footprint's box is mostly far from it); if so, builds them over the cell's bin rows
 * (band r: bin row r, from oy). Returns -1 when out of memory. */
static int narrow_rows(const sweep *w, worker *wk, size_t b, double oy, double inv, int nb) {
    const search *s = &w->srch[b];
    if (!ct_outline_rows_worthwhile(w->fps[b], s->q, w->prm->buffer)) return 0;
    double h = 1.0 / inv;
    return ct_outline_rows_build(&wk->rows, w->fps[b], w->prm->buffer, oy, oy + ((double)nb - 0.5) * h, h) ? 1 : -1;
}

/* Building grid j of the cell's k buildings (who) and the cell's coarse grid of nb x nb
 * bins (inv: bins per metre; ox, oy: the cell's corner): the buildings whose search areas
 * may reach each bin, bin_who[bin_start[i] .. bin_start[i + 1]], in building order.
 * Returns 0, or an errno value. */
static int build_coarse_grid(const sweep *w, worker *wk, const size_t *who, size_t k, double ox, double oy, int nb,
                             double inv) {
    const size_t nbins = (size_t)nb * (size_t)nb;
    if (!ct_reserve((void **)&wk->bin_start, &wk->bin_start_cap, nbins + 1, sizeof *wk->bin_start)) return ENOMEM;
    memset(wk->bin_start, 0, (nbins + 1) * sizeof *wk->bin_start);
    /* The buildings' grids, and the coarse grid in two passes (count, then fill). */
    size_t entries = 0;
    for (size_t j = 0; j < k; j++) {
        const search *s = &w->srch[who[j]];
        if (!ct_edge_grid_build(&wk->grids[j], w->fps[who[j]], s->bb, s->q, w->prm->buffer)) return ENOMEM;
        wk->hint[j] = UINT32_MAX;
        wk->thin[j] = (unsigned char)s->thin;
        wk->any_thin |= s->thin;
        memcpy(wk->q + 4 * j, s->q, sizeof s->q);
        int narrow = narrow_rows(w, wk, who[j], oy, inv, nb), a0, a1, b0, b1;
        if (narrow < 0) return ENOMEM;
        bin_range(s->q[1] - oy, s->q[3] - oy, inv, nb, &b0, &b1);
        for (int r = b0; r <= b1; r++) {
            if (!row_bins(wk, narrow, s->q, r, ox, inv, nb, &a0, &a1)) continue;
            for (int q = a0; q <= a1; q++) wk->bin_start[(size_t)r * (size_t)nb + (size_t)q + 1]++;
            entries += (size_t)(a1 - a0 + 1);
        }
    }
    if (entries > UINT32_MAX) return ENOMEM;
    for (size_t i = 0; i < nbins; i++) wk->bin_start[i + 1] += wk->bin_start[i];
    if (!ct_reserve((void **)&wk->bin_who, &wk->bin_who_cap, entries ? entries : 1, sizeof *wk->bin_who)) return ENOMEM;
    for (size_t j = 0; j < k; j++) { /* bin_start[i] moves to the end of bin i, then back */
        const search *s = &w->srch[who[j]];
        int narrow = narrow_rows(w, wk, who[j], oy, inv, nb), a0, a1, b0, b1;
        if (narrow < 0) return ENOMEM;
        bin_range(s->q[1] - oy, s->q[3] - oy, inv, nb, &b0, &b1);
        for (int r = b0; r <= b1; r++) {
            if (!row_bins(wk, narrow, s->q, r, ox, inv, nb, &a0, &a1)) continue;
            for (int q = a0; q <= a1; q++) wk->bin_who[wk->bin_start[(size_t)r * (size_t)nb + (size_t)q]++] = (uint32_t)j;
        }
    }
    for (size_t i = nbins; i > 0; i--) wk->bin_start[i] = wk->bin_start[i - 1];
    wk->bin_start[0] = 0;
    return 0;
}

/* The cell's nr roof and ng ground samples grouped by building, in point order (a
 * stable counting sort): roof at wk->first[j], ground at nr + wk->first[k + 1 + j].
 * Returns 0 when out of memory. */
static int group_samples(worker *wk, size_t k, size_t nr, size_t ng) {
    if (!ct_reserve((void **)&wk->vals, &wk->vals_cap, nr + ng ? nr + ng : 1, sizeof *wk->vals)) return 0;
    if (wk->any_thin && !ct_reserve((void **)&wk->hvals, &wk->hvals_cap, nr + ng ? nr + ng : 1, sizeof *wk->hvals))
        return 0;
    uint32_t *rf = wk->first, *gf = wk->first + k + 1;
    memset(wk->first, 0, (2 * k + 2) * sizeof *wk->first);
    for (size_t i = 0; i < nr; i++) rf[wk->roof[i].who + 1]++;
    for (size_t i = 0; i < ng; i++) gf[wk->ground[i].who + 1]++;
    for (size_t j = 0; j < k; j++) {
        rf[j + 1] += rf[j];
        gf[j + 1] += gf[j];
    }
    const int hashes = wk->any_thin; /* (the hashes go where the values go) */
    for (size_t i = 0; i < nr; i++) {
        uint32_t who = wk->roof[i].who;
        size_t at = rf[who]++;
        wk->vals[at] = wk->roof[i].z;
        if (hashes && wk->thin[who]) wk->hvals[at] = wk->roof_h[i];
    }
    for (size_t i = 0; i < ng; i++) {
        uint32_t who = wk->ground[i].who;
        size_t at = nr + gf[who]++;
        wk->vals[at] = wk->ground[i].z;
        if (hashes && wk->thin[who]) wk->hvals[at] = wk->ground_h[i];
    }
    for (size_t j = k; j > 0; j--) { /* back to the starts */
        rf[j] = rf[j - 1];
        gf[j] = gf[j - 1];
    }
    rf[0] = gf[0] = 0;
    return 1;
}

/* Room for sample n in *v (*cap of them) and, when hashes, for its hash in *h (*hcap):
 * the hashes' array keeps at least the samples' room. Returns 0 when out of memory. */
static int samples_reserve(sample **v, size_t *cap, uint32_t **h, size_t *hcap, size_t n, int hashes) {
    if (n >= *cap && !ct_reserve((void **)v, cap, n + 1, sizeof **v)) return 0;
    return !hashes || *hcap >= *cap || ct_reserve((void **)h, hcap, *cap, sizeof **h);
}

/* Hands the points of cell c to its k buildings: their samples, grouped by building in
 * wk->vals (roof at wk->first[j], ground at nroof + wk->first[k + 1 + j]). Returns 0, or
 * an errno value. */
static int dispatch(const sweep *w, worker *wk, size_t c, size_t *nroof_out, size_t *nground_out) {
    const size_t *who = w->who + w->cell_first[c];
    const unsigned char *roof_cell = w->roof_cell + w->cell_first[c];
    const size_t k = w->cell_first[c + 1] - w->cell_first[c];
    const int64_t cx = w->cxy[2 * c], cy = w->cxy[2 * c + 1];
    size_t np = 0;
    int err = ct_point_store_read_cell(w->store, cx, cy, &wk->recs, &wk->recs_cap, &np);
    if (err) return err;
    if (k > wk->grids_cap) {
        ct_edge_grid *g = realloc(wk->grids, k * sizeof *g);
        if (!g) return ENOMEM;
        memset(g + wk->grids_cap, 0, (k - wk->grids_cap) * sizeof *g);
        wk->grids = g;
        wk->grids_cap = k;
    }
    if (!ct_reserve((void **)&wk->hint, &wk->hint_cap, k, sizeof *wk->hint) ||
        !ct_reserve((void **)&wk->q, &wk->q_cap, 4 * k, sizeof *wk->q) ||
        !ct_reserve((void **)&wk->first, &wk->first_cap, 2 * k + 2, sizeof *wk->first) ||
        !ct_reserve((void **)&wk->thin, &wk->thin_cap, k, sizeof *wk->thin))
        return ENOMEM;
    wk->any_thin = 0;
    const double cs = w->cs, ox = (double)cx * cs, oy = (double)cy * cs;
    const int nb = coarse_bins(cs);
    const double inv = (double)nb / cs;
    if ((err = build_coarse_grid(w, wk, who, k, ox, oy, nb, inv)) != 0) return err;
    const int hashes = wk->any_thin;
    if (!samples_reserve(&wk->roof, &wk->roof_cap, &wk->roof_h, &wk->roof_h_cap, 0, hashes) ||
        !samples_reserve(&wk->ground, &wk->ground_cap, &wk->ground_h, &wk->ground_h_cap, 0, hashes))
        return ENOMEM;

    size_t nr = 0, ng = 0;
    const double *qs = wk->q;
    const float inv_f = (float)inv, top = (float)(nb - 1);
    for (size_t i = 0; i < np; i++) {
        const unsigned char *rec = wk->recs + (size_t)CT_POINT_SPILL_BYTES * i;
        unsigned wt = w->want[rec[12]];
        if (!wt) continue;
        float px, py, pz;
        memcpy(&px, rec, 4);
        memcpy(&py, rec + 4, 4);
        /* in single precision: off by at most 1e-5 of a bin, inside bin_range's margin */
        float fx = px * inv_f, fy = py * inv_f;
        int bx = fx > 0 ? (fx < top ? (int)fx : nb - 1) : 0;
        int by = fy > 0 ? (fy < top ? (int)fy : nb - 1) : 0;
        size_t bin = (size_t)by * (size_t)nb + (size_t)bx;
        uint32_t e0 = wk->bin_start[bin], e1 = wk->bin_start[bin + 1];
        if (e0 == e1) continue;
        /* (the coordinates exactly as ct_heights_compute's queries make them) */
        double x = ox + (double)px, y = oy + (double)py;
        memcpy(&pz, rec + 8, 4);
        for (uint32_t e = e0; e < e1; e++) {
            uint32_t j = wk->bin_who[e];
            const double *q = qs + 4 * j;
            if ((x < q[0]) | (x > q[2]) | (y < q[1]) | (y > q[3])) continue;
            const ct_edge_grid *g = &wk->grids[j];
            if (g->nedges == 0) continue;
            int col = ct_edge_grid_col(g, x), row = ct_edge_grid_row(g, y);
            int inside = ct_edge_grid_inside(g, col, row, x, y);
            if ((wt & 1) && inside && (roof_cell[j] || (wt & 4))) {
                if (nr == wk->roof_cap &&
                    !samples_reserve(&wk->roof, &wk->roof_cap, &wk->roof_h, &wk->roof_h_cap, nr, hashes))
                    return ENOMEM;
                if (wk->thin[j]) wk->roof_h[nr] = ct_point_hash(x, y, pz);
                wk->roof[nr++] = (sample){j, pz};
            }
            if ((wt & 2) && (inside || ct_edge_grid_near(g, row, x, y, &wk->hint[j]))) {
                if (ng == wk->ground_cap &&
                    !samples_reserve(&wk->ground, &wk->ground_cap, &wk->ground_h, &wk->ground_h_cap, ng, hashes))
                    return ENOMEM;
                if (wk->thin[j]) wk->ground_h[ng] = ct_point_hash(x, y, pz);
                wk->ground[ng++] = (sample){j, pz};
            }
        }
    }
    if (!group_samples(wk, k, nr, ng)) return ENOMEM;
    *nroof_out = nr;
    *nground_out = ng;
    return 0;
}

static int cmp_fragment(const void *a, const void *b) {
    const fragment *p = *(fragment *const *)a, *q = *(fragment *const *)b;
    return (p->cell > q->cell) - (p->cell < q->cell);
}

/* Building b's last cell was read: its fragments joined in cell order, then its heights. */
static int join(sweep *w, worker *wk, size_t b, fragment *list) {
    size_t nf = 0, nroof = 0, nground = 0;
    for (fragment *f = list; f; f = f->next) {
        nf++;
        nroof += f->nroof;
        nground += f->nground;
    }
    fragment **v = malloc((nf ? nf : 1) * sizeof *v);
    if (!v || !ct_reserve((void **)&wk->joined, &wk->joined_cap, nroof + nground ? nroof + nground : 1,
                          sizeof *wk->joined)) {
        free(v);
        return 0;
    }
    nf = 0;
    for (fragment *f = list; f; f = f->next) v[nf++] = f;
    qsort(v, nf, sizeof *v, cmp_fragment);
    size_t r = 0, g = nroof;
    for (size_t i = 0; i < nf; i++) {
        memcpy(wk->joined + r, v[i]->v, v[i]->nroof * sizeof *wk->joined);
        memcpy(wk->joined + g, v[i]->v + v[i]->nroof, v[i]->nground * sizeof *wk->joined);
        r += v[i]->nroof;
        g += v[i]->nground;
        free(v[i]);
    }
    free(v);
    finish(w, b, wk->joined, nroof, wk->joined + nroof, nground);
    return 1;
}

/* Offers n samples z (hashes h) to set t. Returns 0 when out of memory. */
static int offer(ct_thin_set *t, const float *z, const uint32_t *h, size_t n, size_t max) {
    for (size_t i = 0; i < n; i++)
        if (!ct_thin_add(t, z[i], h[i], max)) return 0;
    return 1;
}

/* Takes building b's stored set out (NULL when none is stored). */
static thin_acc *take_stored(sweep *w, size_t b) {
    thin_acc *a;
#pragma omp critical(ct_heights_sweep)
    {
        a = w->acc[b];
        w->acc[b] = NULL;
    }
    return a;
}

/* Stores building b's set a, unless another was stored meanwhile (returned, to be merged
 * first) or a holds every cell of b (*complete = 1: a stays the caller's). */
static thin_acc *store_set(sweep *w, size_t b, thin_acc *a, int *complete) {
    thin_acc *other = NULL;
    *complete = 0;
#pragma omp critical(ct_heights_sweep)
    {
        if (w->acc[b]) {
            other = w->acc[b];
            w->acc[b] = NULL;
        } else if (a->cells == w->srch[b].cells) {
            *complete = 1;
        } else {
            w->acc[b] = a;
        }
    }
    return other;
}

/* Cell c's samples of building b (position j in the cell's list), which may be thinned,
 * added to the set of its cells read before, taken out meanwhile (so a building keeps
 * one large set, and another only while two threads read its cells at once, merged as
 * they meet); the set holding all its cells gives its heights (*done = 1). Returns 0, or
 * an errno value. */
static int give_thinned(sweep *w, worker *wk, size_t c, size_t j, size_t nr, int *done) {
    const size_t k = w->cell_first[c + 1] - w->cell_first[c], b = w->who[w->cell_first[c] + j];
    const uint32_t *rf = wk->first, *gf = wk->first + k + 1;
    const size_t max = w->prm->max_samples;
    *done = 0;
    thin_acc *a = take_stored(w, b);
    if (!a && !(a = calloc(1, sizeof *a))) return ENOMEM;
    a->cells++;
    int ok = offer(&a->roof, wk->vals + rf[j], wk->hvals + rf[j], rf[j + 1] - rf[j], max) &&
             offer(&a->ground, wk->vals + nr + gf[j], wk->hvals + nr + gf[j], gf[j + 1] - gf[j], max);
    int complete = 0;
    for (thin_acc *other; ok && (other = store_set(w, b, a, &complete)) != NULL;) {
        if (other->roof.n + other->ground.n > a->roof.n + a->ground.n) { /* the smaller into the larger */
            thin_acc *t = a;
            a = other;
            other = t;
        }
        a->cells += other->cells;
        ok = ct_thin_merge(&a->roof, &other->roof, max) && ct_thin_merge(&a->ground, &other->ground, max);
        thin_acc_free(other);
    }
    if (!ok) {
        thin_acc_free(a);
        return ENOMEM;
    }
    if (!complete) return 0; /* stored */
    finish_samples(w, b, (ct_heights_samples){a->roof.z, a->roof.n, (size_t)a->roof.total, a->roof.bits},
                   (ct_heights_samples){a->ground.z, a->ground.n, (size_t)a->ground.total, a->ground.bits});
    thin_acc_free(a);
    *done = 1;
    return 0;
}

/* Cell c: its samples to its buildings; those whose last cell it is get their heights.
 * Returns 0, or an errno value. */
static int do_cell(sweep *w, worker *wk, size_t c, ct_context *ctx, const char *progress, size_t n) {
    const size_t k = w->cell_first[c + 1] - w->cell_first[c];
    if (k == 0) return 0;
    size_t nr = 0, ng = 0;
    int err = dispatch(w, wk, c, &nr, &ng);
    if (err) return err;
    const size_t *who = w->who + w->cell_first[c];
    const uint32_t *rf = wk->first, *gf = wk->first + k + 1;
    size_t finished = 0;
    for (size_t j = 0; j < k; j++) {
        size_t b = who[j];
        float *roof = wk->vals + rf[j], *ground = wk->vals + nr + gf[j];
        size_t nroof = rf[j + 1] - rf[j], nground = gf[j + 1] - gf[j];
        if (w->srch[b].thin) {
            int done = 0;
            if ((err = give_thinned(w, wk, c, j, nr, &done)) != 0) return err;
            finished += (size_t)done;
            continue;
        }
        if (w->srch[b].cells == 1) {
            finish(w, b, roof, nroof, ground, nground);
            finished++;
            continue;
        }
        fragment *f = NULL;
        if (nroof + nground > 0) {
            f = malloc(sizeof *f + (nroof + nground) * sizeof(float));
            if (!f) return ENOMEM;
            f->cell = c;
            f->nroof = nroof;
            f->nground = nground;
            memcpy(f->v, roof, nroof * sizeof(float));
            memcpy(f->v + nroof, ground, nground * sizeof(float));
        }
        fragment *last = NULL;
        int complete = 0;
#pragma omp critical(ct_heights_sweep)
        {
            if (f) {
                f->next = w->pending[b];
                w->pending[b] = f;
            }
            if (--w->srch[b].left == 0) {
                complete = 1;
                last = w->pending[b];
                w->pending[b] = NULL;
            }
        }
        if (complete) {
            if (!join(w, wk, b, last)) return ENOMEM;
            finished++;
        }
    }
    if (progress && finished) {
#pragma omp critical(ct_heights_sweep_progress)
        {
            w->done += finished;
            ct_progress(ctx, progress, w->done, n);
        }
    }
    return 0;
}

ct_status ct_heights_sweep(ct_context *ctx, const ct_point_store *store, const ct_footprint *const *fps, size_t n,
                           const ct_heights_params *prm, int threads, const char *progress, ct_heights_result *results,
                           unsigned char *widen, size_t *nwiden) {
    sweep w;
    memset(&w, 0, sizeof w);
    w.store = store;
    w.fps = fps;
    w.prm = prm;
    w.cs = ct_point_store_cell_size(store);
    w.results = results;
    w.widen = widen;
    memset(widen, 0, n);
    const unsigned ground_groups = ct_point_groups_of(prm->ground_class);
    for (int c = 0; c < 256; c++)
        w.want[c] = (unsigned char)((prm->roof_class[c] ? 1 : 0) | (prm->ground_class[c] ? 2 : 0) |
                                    ((ground_groups >> ct_point_group((uint8_t)c)) & 1 ? 4 : 0));
    w.ncells = ct_point_store_cell_count(store);
    w.cxy = malloc((w.ncells ? w.ncells : 1) * 2 * sizeof *w.cxy);
    w.cell_first = calloc(w.ncells + 1, sizeof *w.cell_first);
    w.srch = malloc((n ? n : 1) * sizeof *w.srch);
    w.pending = calloc(n ? n : 1, sizeof *w.pending);
    w.acc = calloc(n ? n : 1, sizeof *w.acc);
    w.cell_points = malloc((w.ncells ? w.ncells : 1) * sizeof *w.cell_points);
    ct_status st = CT_OK;
    if (!w.cxy || !w.cell_first || !w.srch || !w.pending || !w.acc || !w.cell_points)
        st = ct_error_nomem(ctx, "heights by cell");
    const double t_start = omp_get_wtime();
    if (st == CT_OK) {
        ct_point_store_cells(store, w.cxy, w.ncells);
        qsort(w.cxy, w.ncells, 2 * sizeof *w.cxy, cmp_cell);
        for (size_t c = 0; c < w.ncells; c++)
            w.cell_points[c] = ct_point_store_cell_points(store, w.cxy[2 * c], w.cxy[2 * c + 1]);
        if (!plan(&w, n)) st = ct_error_nomem(ctx, "heights by cell");
    }
    if (st == CT_OK) /* buildings no cell with points reaches: no samples */
        for (size_t b = 0; b < n; b++)
            if (w.srch[b].cells == 0 && !isnan(w.srch[b].q[0])) finish(&w, b, NULL, 0, NULL, 0);
    const double t_planned = omp_get_wtime();
    int failed = 0; /* the first errno value of a thread (shared) */
    if (st == CT_OK) {
#pragma omp parallel num_threads(threads < 1 ? 1 : threads)
        {
            worker wk;
            memset(&wk, 0, sizeof wk);
#pragma omp for schedule(dynamic, 1)
            for (size_t c = 0; c < w.ncells; c++) {
                int stop;
#pragma omp atomic read
                stop = failed;
                if (stop) continue;
                int err = do_cell(&w, &wk, c, ctx, progress, n);
                if (err) {
#pragma omp critical(ct_heights_sweep)
                    if (!failed) failed = err;
                }
            }
            worker_free(&wk);
        }
    }
    if (st == CT_OK && failed)
        st = failed == ENOMEM ? ct_error_nomem(ctx, "heights by cell")
                              : ct_error(ctx, CT_ERR_IO, "cannot read the temporary point file: %s", strerror(failed));
    *nwiden = 0;
    for (size_t b = 0; st == CT_OK && b < n; b++) *nwiden += widen[b];
    ct_log(ctx, CT_LOG_DEBUG, "heights: %zu cells read once: planned in %.1f ms, read and measured in %.1f ms",
           w.ncells, (t_planned - t_start) * 1e3, (omp_get_wtime() - t_planned) * 1e3);

    for (size_t b = 0; b < n; b++) { /* (fragments and sets left after a failure) */
        for (fragment *f = w.pending ? w.pending[b] : NULL, *next; f; f = next) {
            next = f->next;
            free(f);
        }
        if (w.acc) thin_acc_free(w.acc[b]);
    }
    free(w.cxy);
    free(w.cell_first);
    free(w.who);
    free(w.roof_cell);
    free(w.srch);
    free(w.pending);
    free(w.acc);
    free(w.cell_points);
    return st;
}
