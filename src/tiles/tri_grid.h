/* Distance from points to a triangle surface through a grid over the triangles' ground
 * boxes, for measuring how far a simplified building strays from its full mesh
 * (src/tiles/lod.c). Scanning every triangle for every point made that quadratic: a
 * footprint with 2,000 courtyards took 11 s in the writer, 6,000 over five minutes. */
#ifndef CT_TILES_TRI_GRID_H
#define CT_TILES_TRI_GRID_H

#include <stddef.h>
#include <stdint.h>

typedef struct ct_tri_grid {
    const float *pos;        /* xyz per vertex */
    const unsigned int *idx; /* 3 per triangle */
    size_t ntri;
    double x0, y0, cs;       /* the grid's corner and cell side */
    int nx, ny;
    uint32_t *start;         /* cell c's triangles: tris[start[c] .. start[c + 1]] */
    uint32_t *tris;
} ct_tri_grid;

/* The grid of the surface (pos, idx, ni indices); 0, or -1 when out of memory. The
 * surface's arrays must outlive the grid. */
int ct_tri_grid_build(ct_tri_grid *g, const float *pos, const unsigned int *idx, size_t ni);
void ct_tri_grid_free(ct_tri_grid *g);

/* Distance from p to the surface, or a value no more than `enough` once it is known to be
 * no more than that; the same value a scan of every triangle in order gives. When tests
 * is not NULL, the number of triangles measured is added to *tests (tests assert the
 * work, not the time). */
double ct_tri_grid_distance(const ct_tri_grid *g, const float *p, double enough, size_t *tests);

/* Cell entries of the grid (a triangle counts once per cell it is listed in). */
size_t ct_tri_grid_entries(const ct_tri_grid *g);

/* Squared distance from p to triangle abc. */
double ct_dist2_tri(const float *p, const float *a, const float *b, const float *c);

#endif
