/* citytiler — planar footprint geometry, in the working (projected, metre) CRS. */
#ifndef CITYTILER_GEOMETRY_H
#define CITYTILER_GEOMETRY_H

#include <stddef.h>
#include <stdint.h>

/* A polygon with holes. Ring r holds the points ring_start[r] .. ring_start[r+1]-1
 * of xy (x0,y0,x1,y1,...). Rings are open (the closing point is not repeated).
 * Ring 0 is the shell, the rest are holes. */
typedef struct ct_polygon {
    uint32_t nrings;
    uint32_t *ring_start; /* nrings + 1 entries */
    double *xy;           /* 2 * ring_start[nrings] values */
} ct_polygon;

/* A building footprint: one or more polygons (parts). */
typedef struct ct_footprint {
    uint32_t nparts;
    ct_polygon *parts;
} ct_footprint;

/* Number of points in ring r. */
static inline uint32_t ct_ring_size(const ct_polygon *p, uint32_t r) {
    return p->ring_start[r + 1] - p->ring_start[r];
}

void ct_polygon_free(ct_polygon *p);
void ct_footprint_free(ct_footprint *f);

/* Signed area of ring r (positive when counter-clockwise). */
double ct_ring_signed_area(const ct_polygon *p, uint32_t r);
/* Area of the polygon: shell minus holes (absolute values). */
double ct_polygon_area(const ct_polygon *p);
double ct_footprint_area(const ct_footprint *f);
/* Length of all rings of all parts (shells and holes). */
double ct_footprint_perimeter(const ct_footprint *f);
/* Bounding box of all parts: out[4] = xmin, ymin, xmax, ymax. Returns 0 if empty. */
int ct_footprint_bbox(const ct_footprint *f, double out[4]);
/* Area-weighted centroid of the footprint (falls back to the bbox centre). */
void ct_footprint_centroid(const ct_footprint *f, double out[2]);

/* 1 when (x, y) is inside the polygon (even-odd over all rings), else 0. */
int ct_polygon_contains(const ct_polygon *p, double x, double y);
/* Squared distance from (x, y) to the nearest ring edge of the polygon. */
double ct_polygon_boundary_dist2(const ct_polygon *p, double x, double y);
/* Squared distance from (x, y) to the segment from (ax, ay) to (bx, by). */
double ct_segment_dist2(double x, double y, double ax, double ay, double bx, double by);
/* 1 when some ring edge is within squared distance d2 of (x, y) (stops at the first). */
int ct_polygon_boundary_within(const ct_polygon *p, double x, double y, double d2);
/* The same over every part of a footprint. */
int ct_footprint_contains(const ct_footprint *f, double x, double y);
int ct_footprint_boundary_within(const ct_footprint *f, double x, double y, double d2);

#endif
