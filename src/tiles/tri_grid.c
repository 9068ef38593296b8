/* A uniform grid over the ground boxes of a surface's triangles (see tri_grid.h). A
 * point's nearest triangle is searched ring by ring of cells around it: a cell r rings
 * away lies at least (r - 1) cell sides away on the ground, so the search ends once that
 * is farther than the nearest triangle found (distance in 3D is never less than on the
 * ground). A triangle goes into the cells of its ground box, or when that box spans more
 * than MAX_CELLS cells, into the cells its projection meets. */
#include "tiles/tri_grid.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CELLS 64
#define ENTRIES_PER_TRI 16
#define MIN_SIDE 1024 /* cells a side a grid may have however few its triangles */

double ct_dist2_tri(const float *p, const float *a, const float *b, const float *c) {
    double ab[3], ac[3], ap[3], q[3];
    for (int k = 0; k < 3; k++) { ab[k] = b[k] - a[k]; ac[k] = c[k] - a[k]; ap[k] = p[k] - a[k]; }
    double d1 = ab[0] * ap[0] + ab[1] * ap[1] + ab[2] * ap[2], d2 = ac[0] * ap[0] + ac[1] * ap[1] + ac[2] * ap[2];
    double aa = ab[0] * ab[0] + ab[1] * ab[1] + ab[2] * ab[2], cc = ac[0] * ac[0] + ac[1] * ac[1] + ac[2] * ac[2];
    double bc = ab[0] * ac[0] + ab[1] * ac[1] + ab[2] * ac[2], det = aa * cc - bc * bc;
    double u = 0, v = 0;
    if (det > 1e-18) {
        u = (cc * d1 - bc * d2) / det;
        v = (aa * d2 - bc * d1) / det;
    }
    if (!(det > 1e-18) || u < 0 || v < 0 || u + v > 1) {
        /* Outside the triangle: nearest point on one of the edges. */
        double best = INFINITY;
        const float *e0[3] = {a, b, c}, *e1[3] = {b, c, a};
        for (int e = 0; e < 3; e++) {
            double d[3], w[3];
            for (int k = 0; k < 3; k++) { d[k] = e1[e][k] - e0[e][k]; w[k] = p[k] - e0[e][k]; }
            double len = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
            double t = len > 0 ? (w[0] * d[0] + w[1] * d[1] + w[2] * d[2]) / len : 0;
            t = t < 0 ? 0 : (t > 1 ? 1 : t);
            double r = 0;
            for (int k = 0; k < 3; k++) r += (w[k] - t * d[k]) * (w[k] - t * d[k]);
            if (r < best) best = r;
        }
        return best;
    }
    for (int k = 0; k < 3; k++) q[k] = a[k] + u * ab[k] + v * ac[k];
    return (p[0] - q[0]) * (p[0] - q[0]) + (p[1] - q[1]) * (p[1] - q[1]) + (p[2] - q[2]) * (p[2] - q[2]);
}

static int clampi(double v, int n) { return v < 0 ? 0 : (v >= n - 1 ? n - 1 : (int)v); }

/* Triangle t's cells [*i0, *i1] x [*j0, *j1] (of its ground box). */
static void tri_cells(const ct_tri_grid *g, size_t t, int *i0, int *i1, int *j0, int *j1) {
    double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
    for (int k = 0; k < 3; k++) {
        const float *v = g->pos + 3 * g->idx[3 * t + (size_t)k];
        for (int d = 0; d < 2; d++) {
            if (v[d] < lo[d]) lo[d] = v[d];
            if (v[d] > hi[d]) hi[d] = v[d];
        }
    }
    *i0 = clampi(floor((lo[0] - g->x0) / g->cs), g->nx);
    *i1 = clampi(floor((hi[0] - g->x0) / g->cs), g->nx);
    *j0 = clampi(floor((lo[1] - g->y0) / g->cs), g->ny);
    *j1 = clampi(floor((hi[1] - g->y0) / g->cs), g->ny);
}

/* The columns [*i0, *i1] of row j that triangle t's ground projection meets (a
 * triangle's part within the row's band is convex, its x extremes on the triangle's
 * edges clipped to the band); 0 when none. A cell's width of slack either side. */
static int tri_row(const ct_tri_grid *g, size_t t, int j, int *i0, int *i1) {
    double ylo = g->y0 + j * g->cs, yhi = ylo + g->cs, xlo = INFINITY, xhi = -INFINITY;
    for (int k = 0; k < 3; k++) {
        const float *a = g->pos + 3 * g->idx[3 * t + (size_t)k], *b = g->pos + 3 * g->idx[3 * t + (size_t)(k + 1) % 3];
        double ay = a[1], by = b[1], ax = a[0], bx = b[0];
        if ((ay < ylo && by < ylo) || (ay > yhi && by > yhi)) continue;
        double t0 = 0, t1 = 1; /* the edge's part within the band */
        if (by != ay) {
            double u = (ylo - ay) / (by - ay), v = (yhi - ay) / (by - ay);
            double lo = u < v ? u : v, hi = u < v ? v : u;
            if (lo > t0) t0 = lo;
            if (hi < t1) t1 = hi;
            if (t0 > t1) continue;
        }
        double x0 = ax + t0 * (bx - ax), x1 = ax + t1 * (bx - ax);
        if (x0 > x1) { double x = x0; x0 = x1; x1 = x; }
        if (x0 < xlo) xlo = x0;
        if (x1 > xhi) xhi = x1;
    }
    if (!(xlo <= xhi)) return 0;
    *i0 = clampi(floor((xlo - g->x0) / g->cs) - 1, g->nx);
    *i1 = clampi(floor((xhi - g->x0) / g->cs) + 1, g->nx);
    return 1;
}

/* Calls put(g, c, t, arg) for every cell c triangle t goes in: those of its ground box
 * when few, else those its projection meets, row by row (a long diagonal roof sliver
 * spans thousands of cells of its box). Returns the number of cells. */
static size_t for_tri_cells(ct_tri_grid *g, size_t t, void (*put)(ct_tri_grid *, size_t, uint32_t, void *),
                            void *arg) {
    int i0, i1, j0, j1;
    tri_cells(g, t, &i0, &i1, &j0, &j1);
    size_t n = 0;
    int by_rows = (size_t)(i1 - i0 + 1) * (size_t)(j1 - j0 + 1) > MAX_CELLS;
    for (int j = j0; j <= j1; j++) {
        int a = i0, b = i1;
        if (by_rows && !tri_row(g, t, j, &a, &b)) continue;
        for (int i = a; i <= b; i++, n++) put(g, (size_t)j * (size_t)g->nx + (size_t)i, (uint32_t)t, arg);
    }
    return n;
}

static void count_cell(ct_tri_grid *g, size_t c, uint32_t t, void *arg) {
    (void)t;
    (void)arg;
    g->start[c + 1]++;
}

static void fill_cell(ct_tri_grid *g, size_t c, uint32_t t, void *arg) {
    (void)arg;
    g->tris[g->start[c]++] = t;
}

int ct_tri_grid_build(ct_tri_grid *g, const float *pos, const unsigned int *idx, size_t ni) {
    memset(g, 0, sizeof *g);
    g->pos = pos;
    g->idx = idx;
    g->ntri = ni / 3;
    double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
    for (size_t i = 0; i < 3 * g->ntri; i++)
        for (int d = 0; d < 2; d++) {
            double v = pos[3 * (size_t)idx[i] + (size_t)d];
            if (v < lo[d]) lo[d] = v;
            if (v > hi[d]) hi[d] = v;
        }
    if (g->ntri == 0) {
        lo[0] = lo[1] = hi[0] = hi[1] = 0;
    }
    double w = hi[0] - lo[0], h = hi[1] - lo[1], side = w > h ? w : h;
    /* About one triangle a cell, square cells, whatever the box's shape: a cap on the
     * cells a side made a long block's grid one row of cells holding n / 1024 triangles
     * each, which made the search quadratic (4 rows of 6,000 courtyards: minutes). At most
     * ntri (and MIN_SIDE) cells a side, so at most about 3 ntri cells in all. */
    size_t ntri = g->ntri ? g->ntri : 1, most = ntri > MIN_SIDE ? ntri : MIN_SIDE;
    if (most > INT_MAX / 2) most = INT_MAX / 2;
    double cs = sqrt((w > 0 ? w : side) * (h > 0 ? h : side) / (double)ntri);
    if (!(cs >= side / (double)most)) cs = side / (double)most;
    if (!(cs > 0)) cs = 1;
    g->x0 = lo[0];
    g->y0 = lo[1];
    /* At most ENTRIES_PER_TRI cell entries a triangle on average, else cells twice as
     * large: the fans of long slivers a block of courtyards in a few rows triangulates
     * into (each as long as the block) made the entries, and the time to build them,
     * quadratic (4 rows of 8,000 courtyards: 51 million entries). A count that goes past
     * the budget stops there, so each try costs at most the budget. */
    size_t budget = ENTRIES_PER_TRI * ntri + 4096, ncells = 0, entries = 0;
    for (;;) {
        g->cs = cs;
        double fx = floor(w / cs) + 1, fy = floor(h / cs) + 1;
        g->nx = fx < (double)most + 1 ? (int)fx : (int)most + 1;
        g->ny = fy < (double)most + 1 ? (int)fy : (int)most + 1;
        ncells = (size_t)g->nx * (size_t)g->ny;
        g->start = calloc(ncells + 1, sizeof *g->start);
        if (!g->start) {
            ct_tri_grid_free(g);
            return -1;
        }
        entries = 0;
        for (size_t t = 0; t < g->ntri && entries <= budget; t++) entries += for_tri_cells(g, t, count_cell, NULL);
        if (entries <= budget || (g->nx == 1 && g->ny == 1)) break;
        free(g->start);
        g->start = NULL;
        cs *= 2;
    }
    for (size_t c = 0; c < ncells; c++) g->start[c + 1] += g->start[c];
    if (entries > UINT32_MAX || !(g->tris = malloc((entries ? entries : 1) * sizeof *g->tris))) {
        ct_tri_grid_free(g);
        return -1;
    }
    /* fill: start[c] moves to the end of cell c, then back */
    for (size_t t = 0; t < g->ntri; t++) (void)for_tri_cells(g, t, fill_cell, NULL);
    for (size_t c = ncells; c > 0; c--) g->start[c] = g->start[c - 1];
    g->start[0] = 0;
    return 0;
}

void ct_tri_grid_free(ct_tri_grid *g) {
    free(g->start);
    free(g->tris);
    memset(g, 0, sizeof *g);
}

static double tri_d2(const ct_tri_grid *g, uint32_t t, const float *p) {
    const unsigned int *v = g->idx + 3 * (size_t)t;
    return ct_dist2_tri(p, g->pos + 3 * v[0], g->pos + 3 * v[1], g->pos + 3 * v[2]);
}

/* The triangles of cell (i, j) against p: best lowered, until it is no more than
 * enough2 (then any value that low will do: a cell crossed by thousands of slivers, as
 * fans from a long block's corners are, is not read through for each point). */
static size_t visit(const ct_tri_grid *g, int i, int j, const float *p, double enough2, double *best) {
    size_t c = (size_t)j * (size_t)g->nx + (size_t)i, n = 0;
    for (uint32_t k = g->start[c]; k < g->start[c + 1] && *best > enough2; k++, n++) {
        double d = tri_d2(g, g->tris[k], p);
        if (d < *best) *best = d;
    }
    return n;
}

size_t ct_tri_grid_entries(const ct_tri_grid *g) { return g->start ? g->start[(size_t)g->nx * (size_t)g->ny] : 0; }

double ct_tri_grid_distance(const ct_tri_grid *g, const float *p, double enough, size_t *tests) {
    double best = INFINITY, enough2 = enough * enough;
    size_t n = 0;
    /* p's cell, or the nearest cell to p outside the grid (p is then at least as far from
     * every cell as that cell's corner point: the bound below holds) */
    int ci = clampi(floor((p[0] - g->x0) / g->cs), g->nx), cj = clampi(floor((p[1] - g->y0) / g->cs), g->ny);
    int rmax = g->nx > g->ny ? g->nx : g->ny;
    for (int r = 0; r <= rmax && best > enough2; r++) {
        double bound = r > 0 ? (r - 1) * g->cs : 0;
        if (bound * bound > best) break;
        /* ring r within the grid: its rows j0..j1, its full rows only where the ring's
         * top or bottom is inside, its side columns only where they are (a long grid's
         * far rings are mostly outside it: looping over their rows made the search
         * quadratic) */
        int i0 = ci - r, i1 = ci + r, j0 = cj - r, j1 = cj + r;
        int a = i0 < 0 ? 0 : i0, b = i1 >= g->nx ? g->nx - 1 : i1;
        int lo = j0 < 0 ? 0 : j0, hi = j1 >= g->ny ? g->ny - 1 : j1;
        if (j0 == lo)
            for (int i = a; i <= b; i++) n += visit(g, i, j0, p, enough2, &best);
        if (j1 == hi && j1 != j0)
            for (int i = a; i <= b; i++) n += visit(g, i, j1, p, enough2, &best);
        for (int j = lo > j0 ? lo : j0 + 1; j <= (hi < j1 ? hi : j1 - 1); j++) {
            if (i0 >= 0) n += visit(g, i0, j, p, enough2, &best);
            if (i1 < g->nx && i1 != i0) n += visit(g, i1, j, p, enough2, &best);
        }
        if (i0 <= 0 && j0 <= 0 && i1 >= g->nx - 1 && j1 >= g->ny - 1) break; /* the whole grid seen */
    }
    if (tests) *tests += n;
    return sqrt(best);
}
