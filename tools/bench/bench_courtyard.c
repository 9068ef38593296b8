/* tools/bench/courtyard: the writer's work on one courtyard block with many holes
 * (a rectangle with N unit squares on a 2 m grid): extrusion (ear clipping with hole
 * bridging) and the parent tiles' simplification (src/tiles/lod.c), timed separately.
 *
 *   bench_courtyard [N ...]        (default: 6000 24000 96000)
 *   BENCH_ROWS=R bench_courtyard N  (the holes in R rows: a long block)
 *
 * It prints the time of each step and the LOD's work (triangle grids built, their cell
 * entries, point-to-triangle distances measured) at two parent tiles' bounds.
 *
 * A footprint with thousands of inner rings (a block of courtyards, a digitising
 * accident) must cost about its size, never minutes: this shows how each step grows. */
#include <stdio.h>
#include <stdlib.h>

#include "citytiler/extrude.h"
#include "tiles/lod.h"
#include "util.h"

static int make_block(int n, ct_polygon *p) {
    int side = 1;
    while (side * side < n) side++;
    const char *rows_env = getenv("BENCH_ROWS");
    int rows = rows_env ? atoi(rows_env) : side;
    int cols = (n + rows - 1) / rows;
    const double pitch = 2.0, hole = 1.0, w = cols * pitch + pitch, hgt = rows * pitch + pitch;
    p->nrings = (uint32_t)n + 1;
    p->ring_start = malloc(((size_t)n + 2) * sizeof *p->ring_start);
    p->xy = malloc(((size_t)n + 1) * 8 * sizeof *p->xy);
    if (!p->ring_start || !p->xy) return -1;
    double shell[8] = {0, 0, w, 0, w, hgt, 0, hgt};
    for (int k = 0; k < 8; k++) p->xy[k] = shell[k];
    p->ring_start[0] = 0;
    p->ring_start[1] = 4;
    for (int h = 0; h < n; h++) {
        double x = pitch + (h % cols) * pitch, y = pitch + (double)(h / cols) * pitch;
        double sq[8] = {x, y, x, y + hole, x + hole, y + hole, x + hole, y}; /* clockwise */
        for (int k = 0; k < 8; k++) p->xy[8 * ((size_t)h + 1) + (size_t)k] = 85000.0 * (k % 2 == 0) + sq[k];
        p->ring_start[h + 2] = p->ring_start[h + 1] + 4;
    }
    for (int k = 0; k < 8; k += 2) p->xy[k] += 85000.0;
    return 0;
}

int main(int argc, char **argv) {
    int defaults[] = {6000, 24000, 96000};
    int nsizes = argc > 1 ? argc - 1 : 3;
    ct_extruder *ex = ct_extruder_create();
    if (!ex) return 1;
    for (int s = 0; s < nsizes; s++) {
        int n = argc > 1 ? atoi(argv[s + 1]) : defaults[s];
        ct_polygon poly = {0};
        if (n < 0 || make_block(n, &poly) != 0) return 1;
        ct_footprint fp = {1, &poly};
        ct_mesh full = {0};
        double t0 = bench_now();
        if (ct_extrude_footprint(ex, &fp, 0.0, 12.0, 1, &full) != CT_EXTRUDE_OK) {
            fprintf(stderr, "%d holes: extrusion failed: %s\n", n, ct_extruder_reason(ex));
            return 1;
        }
        double t1 = bench_now();
        printf("%6d holes: extrude %7.3f s (%zu triangles)", n, t1 - t0, full.nindices / 3);
        const double bounds[] = {15.625, 31.25};
        for (int b = 0; b < 2; b++) {
            ct_mesh simp = {0};
            double achieved, ta = bench_now();
            ct_lod_work w = {0, 0, 0, 0};
            if (ct_lod_simplify_mesh_work(&full, bounds[b], &simp, &achieved, &w) != 0) return 1;
            printf(", lod %.2f m %7.3f s (%zu tris, %.3f m; %zu grids, %.1fM entries, %.1fM distances)", bounds[b],
                   bench_now() - ta, simp.nindices / 3, achieved, w.grids, w.grid_entries / 1e6, w.distance_tests / 1e6);
            ct_mesh_free(&simp);
        }
        printf("\n");
        fflush(stdout);
        ct_mesh_free(&full);
        ct_polygon_free(&poly);
    }
    ct_extruder_destroy(ex);
    return 0;
}
