/* Bucketing a footprint's edges over a grid of its search box (see edge_grid.h). */
#include "geom/edge_grid.h"
#include "core/reserve.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Cells are about this many metres, larger when the box is large (at most MAX_SIDE a
 * side): small enough that few points fall in cells an edge crosses, large enough that
 * preparing the grid costs less than the point tests it saves (measured on the Delft
 * benchmark, callgrind). */
#define CELL_METRES 1.0
#define MAX_SIDE 48

void ct_edge_grid_free(ct_edge_grid *g) {
    free(g->edges);
    free(g->row_start);
    free(g->row_edge);
    free(g->band_start);
    free(g->band_edge);
    free(g->band_box);
    free(g->state);
    free(g->cross);
    memset(g, 0, sizeof *g);
}

static int fill_edges(ct_edge_grid *g, const ct_footprint *fp) {
    size_t n = 0;
    for (uint32_t i = 0; i < fp->nparts; i++)
        n += fp->parts[i].nrings ? fp->parts[i].ring_start[fp->parts[i].nrings] : 0;
    if (!ct_reserve((void **)&g->edges, &g->edges_cap, n, sizeof *g->edges)) return 0;
    size_t k = 0;
    for (uint32_t i = 0; i < fp->nparts; i++) {
        const ct_polygon *p = &fp->parts[i];
        for (uint32_t r = 0; r < p->nrings; r++) {
            uint32_t m = ct_ring_size(p, r);
            const double *xy = p->xy + 2 * (size_t)p->ring_start[r];
            for (uint32_t a = m - 1, b = 0; b < m; a = b++) {
                ct_grid_edge *e = &g->edges[k++];
                e->ax = xy[2 * a];
                e->ay = xy[2 * a + 1];
                e->ex = xy[2 * b] - e->ax;
                e->ey = xy[2 * b + 1] - e->ay;
                double l2 = e->ex * e->ex + e->ey * e->ey;
                e->inv_len2 = l2 > 0 ? 1.0 / l2 : 0.0;
                e->slope = e->ey != 0 ? e->ex / e->ey : 0.0;
                double bx = e->ax + e->ex, by = e->ay + e->ey;
                e->xmin = e->ax < bx ? e->ax : bx;
                e->xmax = e->ax < bx ? bx : e->ax;
                e->ymin = e->ay < by ? e->ay : by;
                e->ymax = e->ay < by ? by : e->ay;
            }
        }
    }
    g->nedges = k;
    return 1;
}

/* Index range [*lo, *hi] of the cells along one axis that [a, b] meets, with a margin
 * for rounding (a wider range only costs time; a narrower one would be wrong). */
static void span(double a, double b, double origin, double inv_g, int n, int *lo, int *hi) {
    double margin = 1e-6 + 1e-9 * fabs(origin);
    double fa = (a - margin - origin) * inv_g, fb = (b + margin - origin) * inv_g;
    /* (int) truncates: the floor for the values that are not clamped to 0 */
    *lo = fa < 1 ? 0 : (fa >= n ? n - 1 : (int)fa);
    *hi = fb < 1 ? 0 : (fb >= n ? n - 1 : (int)fb);
}

/* Lists, for each row of the grid, the edges whose y-range grown by `grow` meets it
 * (CSR: start[r]..start[r + 1] in list). A counting sort: count, then fill. */
static int build_rows(const ct_edge_grid *g, double grow, uint32_t **start, size_t *start_cap, uint32_t **list,
                      size_t *list_cap) {
    if (!ct_reserve((void **)start, start_cap, (size_t)g->ny + 1, sizeof **start)) return 0;
    uint32_t *st = *start;
    memset(st, 0, ((size_t)g->ny + 1) * sizeof *st);
    for (size_t k = 0; k < g->nedges; k++) {
        int lo, hi;
        span(g->edges[k].ymin - grow, g->edges[k].ymax + grow, g->y0, g->inv_g, g->ny, &lo, &hi);
        for (int r = lo; r <= hi; r++) st[r + 1]++;
    }
    for (int r = 0; r < g->ny; r++) st[r + 1] += st[r];
    uint32_t total = st[g->ny];
    if (!ct_reserve((void **)list, list_cap, (size_t)total + 1, sizeof **list)) return 0;
    for (size_t e = g->nedges; e-- > 0;) { /* from the back: edges ascending in each row */
        int lo, hi;
        span(g->edges[e].ymin - grow, g->edges[e].ymax + grow, g->y0, g->inv_g, g->ny, &lo, &hi);
        for (int r = lo; r <= hi; r++) (*list)[--st[r + 1]] = (uint32_t)e;
    }
    /* st[r + 1] now holds the start of row r: shift back, the total last. */
    for (int r = 0; r < g->ny; r++) st[r] = st[r + 1];
    st[g->ny] = total;
    return 1;
}

/* Sets every cell's state: EDGE where an edge may cross it, else IN or OUT as its
 * centre, found for a whole row at once from the crossings of the row's centre line
 * (the same crossing test as ct_edge_grid_inside_row). Needs the row lists. */
static int set_states(ct_edge_grid *g) {
    size_t nc = (size_t)g->nx * (size_t)g->ny;
    if (!ct_reserve((void **)&g->state, &g->state_cap, nc, 1)) return 0;
    /* OUT by default: a cell beyond the footprint's box is outside, only those meeting
     * it need the scanline below. */
    memset(g->state, CT_CELL_OUT, nc);
    for (size_t k = 0; k < g->nedges; k++) {
        const ct_grid_edge *e = &g->edges[k];
        int y0, y1;
        span(e->ymin, e->ymax, g->y0, g->inv_g, g->ny, &y0, &y1);
        double margin = 1e-6 + 1e-9 * fabs(g->y0);
        for (int r = y0; r <= y1; r++) {
            /* The cells of this row the edge passes through: its x-range over the row's
             * y-range (grown by the margin), not its whole box (a diagonal wall's box
             * covers most of the building). */
            int x0, x1;
            double ya = g->y0 + (double)r * g->g - margin, yb = g->y0 + (double)(r + 1) * g->g + margin;
            if (ya < e->ymin) ya = e->ymin;
            if (yb > e->ymax) yb = e->ymax;
            if (e->ey == 0 || !(ya <= yb)) {
                span(e->xmin, e->xmax, g->x0, g->inv_g, g->nx, &x0, &x1);
            } else {
                double xa = e->ax + (ya - e->ay) * e->slope, xb = e->ax + (yb - e->ay) * e->slope;
                double lo = xa < xb ? xa : xb, hi = xa < xb ? xb : xa;
                span(lo < e->xmin ? e->xmin : lo, hi > e->xmax ? e->xmax : hi, g->x0, g->inv_g, g->nx, &x0, &x1);
            }
            memset(g->state + (size_t)r * (size_t)g->nx + (size_t)x0, CT_CELL_EDGE, (size_t)(x1 - x0 + 1));
        }
    }
    int c0, c1, r0, r1;
    span(g->bb[0], g->bb[2], g->x0, g->inv_g, g->nx, &c0, &c1);
    span(g->bb[1], g->bb[3], g->y0, g->inv_g, g->ny, &r0, &r1);
    for (int r = r0; r <= r1; r++) {
        double y = g->y0 + ((double)r + 0.5) * g->g;
        size_t n = 0, from = g->row_start[r], to = g->row_start[r + 1];
        if (!ct_reserve((void **)&g->cross, &g->cross_cap, to - from + 1, sizeof *g->cross)) return 0;
        for (size_t k = from; k < to; k++) {
            const ct_grid_edge *e = &g->edges[g->row_edge[k]];
            if (e->ymin <= y && y < e->ymax) g->cross[n++] = e->ax + (y - e->ay) * e->slope;
        }
        for (size_t i = 1; i < n; i++) { /* insertion sort: a row has few crossings */
            double v = g->cross[i];
            size_t j = i;
            for (; j > 0 && g->cross[j - 1] > v; j--) g->cross[j] = g->cross[j - 1];
            g->cross[j] = v;
        }
        uint8_t *st = g->state + (size_t)r * (size_t)g->nx;
        size_t left = 0; /* crossings at or left of the centre: the rest lie right of it */
        for (int c = c0; c <= c1; c++) {
            double x = g->x0 + ((double)c + 0.5) * g->g;
            while (left < n && g->cross[left] <= x) left++;
            if (st[c] != CT_CELL_EDGE) st[c] = (n - left) & 1 ? CT_CELL_IN : CT_CELL_OUT;
        }
    }
    return 1;
}

static int copy_band_boxes(ct_edge_grid *g) {
    size_t n = g->band_start[g->ny];
    if (!ct_reserve((void **)&g->band_box, &g->band_box_cap, n + 1, sizeof *g->band_box)) return 0;
    for (size_t k = 0; k < n; k++) {
        const ct_grid_edge *e = &g->edges[g->band_edge[k]];
        g->band_box[k] = (ct_grid_box){e->nx0, e->nx1, e->ny0, e->ny1};
    }
    return 1;
}

int ct_edge_grid_build(ct_edge_grid *g, const ct_footprint *fp, const double bb[4], const double q[4], double buffer) {
    if (!fill_edges(g, fp)) return 0;
    if (g->nedges == 0) {
        g->nx = g->ny = 0;
        return 1;
    }
    double side = fmax(q[2] - q[0], q[3] - q[1]);
    double cell = fmax(CELL_METRES, side / MAX_SIDE);
    if (!(cell > 0) || !isfinite(cell)) return 0;
    g->g = cell;
    g->inv_g = 1.0 / cell;
    g->x0 = q[0];
    g->y0 = q[1];
    /* The expressions of ct_edge_grid_col/_row at q's far corner: every point of q
     * then falls in a cell without clamping (at most MAX_SIDE + 1 a side, as
     * cell >= side / MAX_SIDE, give or take a rounding). */
    g->nx = (int)((q[2] - g->x0) * g->inv_g) + 1;
    g->ny = (int)((q[3] - g->y0) * g->inv_g) + 1;
    if (g->nx < 1 || g->ny < 1 || g->nx > MAX_SIDE + 2 || g->ny > MAX_SIDE + 2) return 0;
    /* Bucket sizes are 32-bit: an edge may be listed in every row. */
    if ((uint64_t)g->nedges * (uint64_t)g->ny > UINT32_MAX) return 0;
    g->buffer = buffer;
    g->b2 = buffer * buffer;
    for (size_t k = 0; k < g->nedges; k++) {
        ct_grid_edge *e = &g->edges[k];
        e->nx0 = e->xmin - buffer;
        e->nx1 = e->xmax + buffer;
        e->ny0 = e->ymin - buffer;
        e->ny1 = e->ymax + buffer;
    }
    memcpy(g->bb, bb, sizeof g->bb);
    return build_rows(g, 0.0, &g->row_start, &g->row_start_cap, &g->row_edge, &g->row_edge_cap) && set_states(g) &&
           build_rows(g, buffer, &g->band_start, &g->band_start_cap, &g->band_edge, &g->band_edge_cap) &&
           copy_band_boxes(g);
}

