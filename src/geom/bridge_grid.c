/* The joined ring's edges and points over a grid, for hole bridges (see bridge_grid.h). */
#include "geom/bridge_grid.h"
#include "citytiler/triangulate.h"
#include "core/reserve.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void ct_bridge_grid_free(ct_bridge_grid *g) {
    free(g->ehead);
    free(g->phead);
    free(g->edges);
    free(g->pts);
    free(g->ent);
    memset(g, 0, sizeof *g);
}

int ct_bridge_grid_init(ct_bridge_grid *g, const double box[4], size_t n) {
    double w = box[2] - box[0], h = box[3] - box[1];
    double target = n < 16 ? 16.0 : (double)n; /* about one point a cell */
    double cell = sqrt(w * h / target);
    /* a long thin box: no more than `target` cells along its length either */
    if (!(cell >= fmax(w, h) / target)) cell = fmax(w, h) / target;
    if (!(cell > 0) || !isfinite(cell)) cell = 1.0;
    g->x0 = box[0];
    g->y0 = box[1];
    g->g = cell;
    g->inv_g = 1.0 / cell;
    /* Rounding of the positions computed along an edge stays far below this. */
    g->margin = 1e-9 * (fabs(box[0]) + fabs(box[1]) + w + h) + 1e-9 * cell;
    g->nx = (uint32_t)(w * g->inv_g) + 1;
    g->ny = (uint32_t)(h * g->inv_g) + 1;
    size_t cells = (size_t)g->nx * g->ny;
    if (!ct_reserve((void **)&g->ehead, &g->ehead_cap, cells, sizeof *g->ehead) ||
        !ct_reserve((void **)&g->phead, &g->phead_cap, cells, sizeof *g->phead))
        return 0;
    memset(g->ehead, 0xff, cells * sizeof *g->ehead);
    memset(g->phead, 0xff, cells * sizeof *g->phead);
    g->nedges = g->npts = g->nent = 0;
    return 1;
}

/* Cell index along one axis of coordinate v (clamped into the grid). */
static uint32_t cell_of(double v, double origin, double inv_g, uint32_t n) {
    double f = (v - origin) * inv_g;
    if (!(f >= 1)) return 0;
    return f >= (double)n ? n - 1 : (uint32_t)f;
}

static int push(ct_bridge_grid *g, uint32_t *head, uint32_t item) {
    if (g->nent >= UINT32_MAX || !ct_reserve((void **)&g->ent, &g->ent_cap, g->nent + 1, sizeof *g->ent)) return 0;
    g->ent[g->nent].item = item;
    g->ent[g->nent].next = *head;
    *head = (uint32_t)g->nent++;
    return 1;
}

int ct_bridge_grid_add_point(ct_bridge_grid *g, double x, double y, uint32_t id) {
    if (g->npts >= UINT32_MAX || !ct_reserve((void **)&g->pts, &g->pts_cap, g->npts + 1, sizeof *g->pts)) return 0;
    g->pts[g->npts] = (ct_bgrid_point){x, y, id};
    uint32_t c = cell_of(x, g->x0, g->inv_g, g->nx), r = cell_of(y, g->y0, g->inv_g, g->ny);
    return push(g, &g->phead[(size_t)r * g->nx + c], (uint32_t)g->npts++);
}

/* Lists the edge in every cell it may cross: row by row, its x-range over the row's
 * y-range (grown by the margin), not its whole box (a long diagonal would fill it). */
int ct_bridge_grid_add_edge(ct_bridge_grid *g, double ax, double ay, double bx, double by, uint32_t a, uint32_t b) {
    if (g->nedges >= UINT32_MAX || !ct_reserve((void **)&g->edges, &g->edges_cap, g->nedges + 1, sizeof *g->edges))
        return 0;
    uint32_t e = (uint32_t)g->nedges++;
    g->edges[e] = (ct_bgrid_edge){ax, ay, bx, by, a, b};
    double m = g->margin, ylo = fmin(ay, by), yhi = fmax(ay, by), xlo = fmin(ax, bx), xhi = fmax(ax, bx);
    uint32_t r0 = cell_of(ylo - m, g->y0, g->inv_g, g->ny), r1 = cell_of(yhi + m, g->y0, g->inv_g, g->ny);
    for (uint32_t r = r0; r <= r1; r++) {
        double lo = xlo, hi = xhi;
        if (ay != by) {
            double ya = fmax(g->y0 + (double)r * g->g - m, ylo), yb = fmin(g->y0 + (double)(r + 1) * g->g + m, yhi);
            double slope = (bx - ax) / (by - ay);
            double xa = ax + (ya - ay) * slope, xb = ax + (yb - ay) * slope;
            lo = fmax(fmin(xa, xb), xlo);
            hi = fmin(fmax(xa, xb), xhi);
        }
        uint32_t c0 = cell_of(lo - m, g->x0, g->inv_g, g->nx), c1 = cell_of(hi + m, g->x0, g->inv_g, g->nx);
        for (uint32_t c = c0; c <= c1; c++)
            if (!push(g, &g->ehead[(size_t)r * g->nx + c], e)) return 0;
    }
    return 1;
}

uint32_t ct_bridge_grid_ray(const ct_bridge_grid *g, double mx, double my, double *hx, size_t *tests) {
    uint32_t r = cell_of(my, g->y0, g->inv_g, g->ny), hit = CT_BGRID_NONE;
    size_t n = 0;
    double best = INFINITY;
    for (uint32_t c = cell_of(mx, g->x0, g->inv_g, g->nx); c < g->nx; c++) {
        for (uint32_t k = g->ehead[(size_t)r * g->nx + c]; k != CT_BGRID_NONE; k = g->ent[k].next, n++) {
            const ct_bgrid_edge *e = &g->edges[g->ent[k].item];
            /* the scan's test (bridge_hole in triangulate.c) */
            if (!(e->ay <= my && e->by >= my && e->ay < e->by) || !(ct_orient2d(e->ax, e->ay, e->bx, e->by, mx, my) > 0))
                continue;
            double x = e->ay == my ? e->ax : e->by == my ? e->bx : e->ax + (my - e->ay) * (e->bx - e->ax) / (e->by - e->ay);
            if (x < best) {
                best = x;
                hit = e->ay == my ? e->a : e->by == my ? e->b : (e->ax > e->bx ? e->a : e->b);
            }
        }
        /* Any edge crossing further right is listed in a later cell only. */
        if (hit != CT_BGRID_NONE && cell_of(best, g->x0, g->inv_g, g->nx) <= c) break;
    }
    *tests += n;
    *hx = best;
    return hit;
}

uint32_t ct_bridge_grid_visible(const ct_bridge_grid *g, double mx, double my, double hx, double px, double py,
                                uint32_t hit, size_t *tests) {
    uint32_t c0 = cell_of(mx, g->x0, g->inv_g, g->nx), c1 = cell_of(fmax(hx, px), g->x0, g->inv_g, g->nx);
    uint32_t r0 = cell_of(fmin(my, py), g->y0, g->inv_g, g->ny), r1 = cell_of(fmax(my, py), g->y0, g->inv_g, g->ny);
    double best_tan = INFINITY, best_d = INFINITY;
    uint32_t best = hit;
    size_t n = 0;
    for (uint32_t r = r0; r <= r1; r++)
        for (uint32_t c = c0; c <= c1; c++)
            for (uint32_t k = g->phead[(size_t)r * g->nx + c]; k != CT_BGRID_NONE; k = g->ent[k].next, n++) {
                const ct_bgrid_point *q = &g->pts[g->ent[k].item];
                if (!(q->x > mx) || (q->x == px && q->y == py)) continue;
                /* inside the triangle (m, (hx, my), p) including its boundary */
                double s1 = ct_orient2d(mx, my, hx, my, q->x, q->y), s2 = ct_orient2d(hx, my, px, py, q->x, q->y),
                       s3 = ct_orient2d(px, py, mx, my, q->x, q->y);
                if ((s1 < 0 || s2 < 0 || s3 < 0) && (s1 > 0 || s2 > 0 || s3 > 0)) continue;
                double tn = fabs(q->y - my) / (q->x - mx), d = (q->x - mx) * (q->x - mx) + (q->y - my) * (q->y - my);
                if (tn < best_tan || (tn == best_tan && d < best_d)) {
                    best_tan = tn;
                    best_d = d;
                    best = q->id;
                }
            }
    *tests += n;
    return best;
}
