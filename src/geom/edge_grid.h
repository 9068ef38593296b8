/* citytiler (internal) — a footprint's edges bucketed over a small grid of the box
 * searched around it, so that each LiDAR point is tested against the few edges near
 * it instead of all of them (the hot loop of filters.heights).
 *
 * The answers are exactly those of testing every edge: buckets are conservative (an
 * edge is listed wherever it could matter, with a margin for rounding), and a cell no
 * edge touches takes the inside/outside answer of its centre, which every point of
 * the cell shares because no edge separates them. */
#ifndef CITYTILER_EDGE_GRID_H
#define CITYTILER_EDGE_GRID_H

#include <stddef.h>
#include <stdint.h>
#include "citytiler/geometry.h"

/* One edge a -> a + e, with what the point tests need precomputed. */
typedef struct ct_grid_edge {
    double ax, ay, ex, ey;
    double inv_len2; /* 1 / |e|², 0 for a degenerate edge */
    double slope;    /* ex / ey for the crossing test (unused when ey == 0) */
    double xmin, xmax, ymin, ymax;
    double nx0, ny0, nx1, ny1; /* the box grown by the grid's buffer (near test) */
} ct_grid_edge;

/* An edge's box grown by the buffer (x0, x1, y0, y1): no point outside it is near. */
typedef struct ct_grid_box {
    double x0, x1, y0, y1;
} ct_grid_box;

enum { CT_CELL_IN = 1, CT_CELL_OUT = 2, CT_CELL_EDGE = 3 };

typedef struct ct_edge_grid {
    ct_grid_edge *edges;
    size_t nedges, edges_cap;
    double x0, y0, g, inv_g; /* grid origin and cell side */
    int nx, ny;
    double buffer, b2;
    double bb[4];            /* the footprint's bbox */
    /* rows: edges whose y-range meets the row (for the crossing test) */
    uint32_t *row_start, *row_edge;
    size_t row_start_cap, row_edge_cap;
    /* bands: edges whose y-range grown by `buffer` meets the row (for the distance test) */
    uint32_t *band_start, *band_edge;
    size_t band_start_cap, band_edge_cap;
    ct_grid_box *band_box;   /* band_box[k]: the near box of edge band_edge[k], in line */
    size_t band_box_cap;
    uint8_t *state;          /* per cell: CT_CELL_IN, _OUT or _EDGE */
    size_t state_cap;
    double *cross;           /* scratch: crossings of one row */
    size_t cross_cap;
} ct_edge_grid;

void ct_edge_grid_free(ct_edge_grid *g);

/* Prepares the grid for footprint fp over box q (which must contain fp's bbox bb grown
 * by buffer). Returns 0 when out of memory (or over 2^32 bucket entries); a footprint
 * without edges gives nedges == 0 and no cells. */
int ct_edge_grid_build(ct_edge_grid *g, const ct_footprint *fp, const double bb[4], const double q[4], double buffer);

/* Even-odd crossing test over the edges of the point's row. */
static inline int ct_edge_grid_inside_row(const ct_edge_grid *g, int row, double x, double y) {
    int in = 0;
    for (uint32_t k = g->row_start[row]; k < g->row_start[row + 1]; k++) {
        const ct_grid_edge *e = &g->edges[g->row_edge[k]];
        /* the edge crosses the line at y: one end above y, the other at or below */
        if (e->ymin <= y && y < e->ymax && x < e->ax + (y - e->ay) * e->slope) in = !in;
    }
    return in;
}

/* The cell of a point inside box q: no clamping needed, as nx and ny are computed from
 * q by the same expressions (x0 <= x <= q[2] gives 0 <= col <= nx - 1, exactly). */
static inline int ct_edge_grid_col(const ct_edge_grid *g, double x) { return (int)((x - g->x0) * g->inv_g); }
static inline int ct_edge_grid_row(const ct_edge_grid *g, double y) { return (int)((y - g->y0) * g->inv_g); }

/* 1 when (x, y) (inside box q) is inside the footprint. */
static inline int ct_edge_grid_inside(const ct_edge_grid *g, int col, int row, double x, double y) {
    uint8_t st = g->state[(size_t)row * (size_t)g->nx + (size_t)col];
    if (st != CT_CELL_EDGE) return st == CT_CELL_IN;
    if (x < g->bb[0] || x > g->bb[2] || y < g->bb[1] || y > g->bb[3]) return 0;
    return ct_edge_grid_inside_row(g, row, x, y);
}

static inline int ct_grid_edge_near(const ct_grid_edge *e, double x, double y, double b2) {
    /* one branch for the box test (| not ||: the four comparisons are cheap) */
    if ((x < e->nx0) | (x > e->nx1) | (y < e->ny0) | (y > e->ny1)) return 0;
    double px = x - e->ax, py = y - e->ay;
    double t = (px * e->ex + py * e->ey) * e->inv_len2;
    t = t < 0 ? 0 : t;
    t = t > 1 ? 1 : t;
    double dx = px - t * e->ex, dy = py - t * e->ey;
    return dx * dx + dy * dy <= b2;
}

/* 1 when some edge lies within `buffer` of (x, y). *hint is the edge that answered
 * last (consecutive points are neighbours, so it usually answers again); it is tried
 * first and updated. */
static inline int ct_edge_grid_near(const ct_edge_grid *g, int row, double x, double y, uint32_t *hint) {
    if (*hint < g->nedges && ct_grid_edge_near(&g->edges[*hint], x, y, g->b2)) return 1;
    for (uint32_t k = g->band_start[row]; k < g->band_start[row + 1]; k++) {
        /* the box test on the band's own copy (contiguous), the edge only when it passes */
        const ct_grid_box *b = &g->band_box[k];
        if ((x < b->x0) | (x > b->x1) | (y < b->y0) | (y > b->y1)) continue;
        uint32_t e = g->band_edge[k];
        if (ct_grid_edge_near(&g->edges[e], x, y, g->b2)) {
            *hint = e;
            return 1;
        }
    }
    return 0;
}

#endif
