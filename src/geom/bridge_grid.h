/* citytiler (internal) — the ring joined so far while ear clipping bridges holes, bucketed
 * over a uniform grid, so that finding a hole's bridge looks at the edges and points near
 * it instead of the whole ring (which made thousands of holes cost holes x vertices).
 *
 * Edges and points are added as their rings join; buckets are conservative (an edge is
 * listed in every cell it may cross, with a margin for rounding). The searches apply the
 * tests of the scan in triangulate.c to the listed items, so they find the same bridge;
 * only among items at one position (copies made by earlier bridges) may they name another
 * of them, which the caller resolves by position. */
#ifndef CITYTILER_BRIDGE_GRID_H
#define CITYTILER_BRIDGE_GRID_H

#include <stddef.h>
#include <stdint.h>

#define CT_BGRID_NONE UINT32_MAX

typedef struct ct_bgrid_edge { double ax, ay, bx, by; uint32_t a, b; } ct_bgrid_edge;
typedef struct ct_bgrid_point { double x, y; uint32_t id; } ct_bgrid_point;
typedef struct ct_bgrid_entry { uint32_t item, next; } ct_bgrid_entry; /* a cell's list */

typedef struct ct_bridge_grid {
    double x0, y0, g, inv_g, margin;
    uint32_t nx, ny;
    uint32_t *ehead, *phead; /* per cell: first entry of its edge / point list */
    size_t ehead_cap, phead_cap;
    ct_bgrid_edge *edges;
    size_t nedges, edges_cap;
    ct_bgrid_point *pts;
    size_t npts, pts_cap;
    ct_bgrid_entry *ent;
    size_t nent, ent_cap;
} ct_bridge_grid;

/* Zero-initialise; free with ct_bridge_grid_free (buffers are reused by the next init). */
void ct_bridge_grid_free(ct_bridge_grid *g);

/* Empties g and sizes it for about n points within box (xmin, ymin, xmax, ymax): every
 * point and edge added later must lie in the box. Returns 0 when out of memory. */
int ct_bridge_grid_init(ct_bridge_grid *g, const double box[4], size_t n);

/* Adds the directed edge a -> b (ids a, b at the given positions). 0: out of memory. */
int ct_bridge_grid_add_edge(ct_bridge_grid *g, double ax, double ay, double bx, double by, uint32_t a, uint32_t b);

/* Adds point id at (x, y). 0: out of memory. */
int ct_bridge_grid_add_point(ct_bridge_grid *g, double x, double y, uint32_t id);

/* The ray from (mx, my) towards +x: of the upward edges (ay < by) having the point
 * strictly on their left and crossing y = my, the one crossing at the least x (*hx);
 * returns its end at y = my, else its end of larger x; CT_BGRID_NONE when none.
 * *tests counts the edges looked at. */
uint32_t ct_bridge_grid_ray(const ct_bridge_grid *g, double mx, double my, double *hx, size_t *tests);

/* Of the points with x > mx inside the triangle (m, (hx, my), p), boundary included,
 * other than at p: the one at the least angle to the ray, then the nearest; `hit` when
 * there is none. *tests counts the points looked at. */
uint32_t ct_bridge_grid_visible(const ct_bridge_grid *g, double mx, double my, double hx, double px, double py,
                                uint32_t hit, size_t *tests);

#endif
