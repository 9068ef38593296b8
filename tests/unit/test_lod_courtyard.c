/* The parent-tile simplification (src/tiles/lod.c) of a courtyard block: a rectangle with
 * h unit square holes on a 2 m grid, extruded 12 m. Its work is counted, not timed: 4x
 * the holes must cost about 4x the grid entries and distances measured, and the full
 * mesh's grid is built once for all the tries (each try built it again: with the hull,
 * six grids of the full mesh a parent tile). A block of more than 65,536 triangles tries
 * its hull's prism first: no meshoptimizer pass over it when that is within the bound
 * (its five tries all failed before the hull was taken). The result stays within its
 * bound. */
#include <stdio.h>
#include <stdlib.h>

#include "citytiler/extrude.h"
#include "ct_test.h"
#include "tiles/lod.h"

static ct_polygon block(int h) {
    int side = 1;
    while (side * side < h) side++;
    const double w = 2.0 * side + 2.0;
    ct_polygon p;
    p.nrings = (uint32_t)h + 1;
    p.ring_start = malloc(((size_t)h + 2) * sizeof *p.ring_start);
    p.xy = malloc(((size_t)h + 1) * 8 * sizeof *p.xy);
    if (!p.ring_start || !p.xy) exit(1);
    const double shell[8] = {0, 0, w, 0, w, w, 0, w};
    for (int k = 0; k < 8; k++) p.xy[k] = 85000.0 + shell[k];
    p.ring_start[0] = 0;
    for (int r = 0; r <= h; r++) p.ring_start[r + 1] = 4 * ((uint32_t)r + 1);
    for (int r = 0; r < h; r++) {
        double x = 85002.0 + 2.0 * (r % side), y = 85002.0 + 2.0 * (r / side);
        const double sq[8] = {x, y, x, y + 1, x + 1, y + 1, x + 1, y}; /* clockwise */
        for (int k = 0; k < 8; k++) p.xy[8 * ((size_t)r + 1) + (size_t)k] = sq[k];
    }
    return p;
}

/* The work of simplifying the extruded block of h holes to bound metres. */
static ct_lod_work simplify(ct_extruder *ex, int h, double bound) {
    ct_polygon p = block(h);
    ct_footprint fp = {1, &p};
    ct_mesh full, simp;
    ct_lod_work w = {0, 0, 0, 0};
    double achieved = -1;
    CT_CHECK_MSG(ct_extrude_footprint(ex, &fp, 0.0, 12.0, 1, &full) == CT_EXTRUDE_OK, "%d holes: %s", h,
                 ct_extruder_reason(ex));
    CT_CHECK(ct_lod_simplify_mesh_work(&full, bound, &simp, &achieved, &w) == 0);
    CT_CHECK_MSG(simp.nindices > 0 && simp.nindices < full.nindices / 10, "%d holes: %zu of %zu indices kept", h,
                 simp.nindices, full.nindices);
    CT_CHECK_MSG(achieved >= 0 && achieved <= 0.8 * bound, "%d holes: deviation %.3f m for a bound of %.3f m", h,
                 achieved, bound);
    /* one grid of the full mesh, one of each simplified try at most (five tries) */
    CT_CHECK_MSG(w.grids <= 6 && w.tries <= 5, "%d holes: %zu triangle grids built, %zu tries", h, w.grids, w.tries);
    if (full.nindices > 3 * 65536) {
        CT_CHECK_MSG(w.tries == 0 && w.grids == 1 && simp.nindices == 36, "%d holes: %zu tries, %zu grids, %zu indices",
                     h, w.tries, w.grids, simp.nindices);
        CT_CHECK_MSG(w.distance_tests < full.nindices, "%d holes: %zu distances measured", h, w.distance_tests);
    }
    ct_mesh_free(&full);
    ct_mesh_free(&simp);
    ct_polygon_free(&p);
    return w;
}

int main(void) {
    ct_extruder *ex = ct_extruder_create();
    if (!ex) return 1;
    const double bounds[2] = {15.625, 31.25};
    for (int b = 0; b < 2; b++) {
        ct_lod_work small = simplify(ex, 400, bounds[b]), large = simplify(ex, 1600, bounds[b]);
        CT_CHECK_MSG(large.grid_entries < 6 * small.grid_entries, "bound %.3f: %zu grid entries for 400 holes, %zu for 1600",
                     bounds[b], small.grid_entries, large.grid_entries);
        CT_CHECK_MSG(large.distance_tests < 6 * small.distance_tests,
                     "bound %.3f: %zu distances for 400 holes, %zu for 1600", bounds[b], small.distance_tests,
                     large.distance_tests);
        printf("bound %.3f m: entries %zu -> %zu, distances %zu -> %zu, grids %zu, %zu (400 -> 1600 holes)\n", bounds[b],
               small.grid_entries, large.grid_entries, small.distance_tests, large.distance_tests, small.grids,
               large.grids);
    }
    for (int b = 0; b < 2; b++) { /* (80,012 triangles) */
        ct_lod_work w = simplify(ex, 4000, bounds[b]);
        printf("bound %.3f m, 4000 holes: %zu tries, %zu grids, %zu entries, %zu distances\n", bounds[b], w.tries, w.grids,
               w.grid_entries, w.distance_tests);
    }
    ct_extruder_destroy(ex);
    return ct_test_finish("test_lod_courtyard");
}
