/* ct_heights_sweep (filters.heights with the points on disk: each cell read once and its
 * points handed to the buildings around them) gives what ct_heights_compute gives on the
 * same points in memory, to the bit: over buildings crossing cell borders and spanning
 * several cells, a footprint without edges, buildings far from every point, buildings
 * with too few ground points nearby (the widened search), classes that are both ground
 * and roof, 1 or 2 threads, and a store in memory (its cells copied). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "citytiler/context.h"
#include "citytiler/heights.h"
#include "citytiler/points.h"
#include "ct_test.h"
#include "ct_test_heights.h"
#include "ct_test_points.h"
#include "geom/heights_sweep.h"
#include "geom/outline_rows.h"

static const double CELL = 40.0;
static const double OX = 85000.0, OY = 447000.0; /* RD-like coordinates: rounding as in real data */
enum { NB = 60 };

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static double unif(void) { return ct_test_unif(&rng); }

/* A strip of width w from (ax, ay) to (bx, by). */
static void make_quad(ct_test_bldg *b, double ax, double ay, double bx, double by, double w) {
    double dx = bx - ax, dy = by - ay, l = hypot(dx, dy), nx = -dy / l * w, ny = dx / l * w;
    const double v[8] = {ax, ay, bx, by, bx + nx, by + ny, ax + nx, ay + ny};
    ct_test_make_rect(b, 0, 0, 0, 0);
    memcpy(b->xy, v, sizeof v);
}

/* Compares two results bit for bit; returns 1 when equal. */
static int same(const ct_heights_result *a, const ct_heights_result *b) {
    return memcmp(&a->ground_z, &b->ground_z, sizeof a->ground_z) == 0 &&
           memcmp(&a->roof_z, &b->roof_z, sizeof a->roof_z) == 0 &&
           memcmp(&a->roof_p50, &b->roof_p50, sizeof a->roof_p50) == 0 &&
           memcmp(&a->roof_p70, &b->roof_p70, sizeof a->roof_p70) == 0 &&
           memcmp(&a->roof_max, &b->roof_max, sizeof a->roof_max) == 0 && a->roof_points == b->roof_points &&
           a->ground_points == b->ground_points && memcmp(&a->density, &b->density, sizeof a->density) == 0 &&
           a->ground_buffer_used == b->ground_buffer_used;
}

int main(void) {
    /* Buildings: a grid of rectangles of 3-30 m (many across the 40 m cells' borders),
     * one 150 m long (five cells), one of zero area, one far from every point, one with its
 * ground farther than the buffer. */
    const size_t nb = NB + 6;
    ct_test_bldg *bl = calloc(nb, sizeof *bl);
    const ct_footprint **fps = calloc(nb, sizeof *fps);
    CT_CHECK(bl && fps);
    if (!bl || !fps) return 1;
    for (size_t i = 0; i < NB; i++) {
        double x0 = OX + 5 + (double)(i % 10) * 22 + unif() * 6, y0 = OY + 5 + (double)(i / 10) * 24 + unif() * 6;
        ct_test_make_rect(&bl[i], x0, y0, 3 + 15 * unif(), 3 + 15 * unif());
    }
    ct_test_make_rect(&bl[NB], OX + 10, OY + 150, 150, 6);
    ct_test_make_rect(&bl[NB + 1], OX + 100, OY + 100, 0, 0); /* four equal vertices: zero area */
    ct_test_make_rect(&bl[NB + 2], OX + 5000, OY + 5000, 10, 10); /* no point within 24 m */
    ct_test_make_rect(&bl[NB + 3], OX + 262, OY + 60, 8, 8);      /* ground only 10-20 m away: widened */
    /* two long diagonal strips across cells: their boxes are read band by band */
    make_quad(&bl[NB + 4], OX + 2, OY + 2, OX + 160, OY + 165, 1.2);
    make_quad(&bl[NB + 5], OX + 285, OY + 10, OX + 120, OY + 160, 0.6);
    for (size_t i = 0; i < nb; i++) fps[i] = &bl[i].fp;

    /* Points over 250 x 170 m at 4 per m²: classes 2 (ground), 6 (building), 1, 9; a
     * band x in [255, 280] with no ground near building NB + 3 (its ground lies farther). */
    ct_test_points in = {.chunk = 997};
    for (size_t i = 0; i < 250 * 170 * 4; i++) {
        double x = OX + 290 * unif(), y = OY + 170 * unif(), u = unif();
        uint8_t cls = (uint8_t)(u < 0.45 ? 2 : (u < 0.85 ? 6 : (u < 0.95 ? 1 : 9)));
        if (cls == 2 && x > OX + 250 && x < OX + 280 && y > OY + 50 && y < OY + 78) cls = 1;
        if (!ct_test_points_add(&in, x, y, round((u < 0.45 ? 1 + unif() : 5 + 20 * unif()) * 1000) / 1000, cls)) return 1;
    }
    /* points on the rectangles' corners and edges */
    for (size_t i = 0; i < NB; i++) {
        const double *v = bl[i].xy;
        if (!ct_test_points_add(&in, v[0], v[1], 9, 6) || !ct_test_points_add(&in, 0.5 * (v[2] + v[4]), 0.5 * (v[3] + v[5]), 2, 2)) return 1;
    }

    ct_context *ctx = ct_context_create();
    ct_point_store *mem = ct_point_store_create(CELL, 2.0), *disk = ct_point_store_create(CELL, 2.0);
    CT_CHECK(ctx && mem && disk);
    if (!ctx || !mem || !disk) return 1;
    size_t nchunks = ct_test_points_chunks(&in);
    CT_CHECK(ct_point_store_add_chunks(ctx, mem, nchunks, in.chunk, ct_test_points_chunk, &in, 2) == CT_OK);
    CT_CHECK(ct_point_store_index(ctx, mem, 2) == CT_OK);
    ct_point_store_set_memory_limit(disk, 64 * 1024, NULL);
    CT_CHECK(ct_point_store_add_chunks(ctx, disk, nchunks, in.chunk, ct_test_points_chunk, &in, 2) == CT_OK);
    CT_CHECK(ct_point_store_on_disk(disk) && !ct_point_store_on_disk(mem));

    ct_heights_result *ref = calloc(nb, sizeof *ref), *got = calloc(nb, sizeof *got);
    unsigned char *widen = calloc(nb, 1);
    CT_CHECK(ref && got && widen);
    if (!ref || !got || !widen) return 1;
    size_t mismatches = 0, widened_total = 0, spanning_checked = 0;
    for (int config = 0; config < 3; config++) {
        ct_heights_params prm;
        ct_test_heights_defaults(&prm);
        if (config == 2) prm.buffer = 0; /* only points inside, widened from 1 m */
        if (config == 1) { /* water as ground; every other class as roof (classes 1 and 9 share a group) */
            prm.ground_class[9] = 1;
            for (int c = 0; c < 256; c++) prm.roof_class[c] = !prm.ground_class[c];
        }
        ct_heights_scratch scratch;
        memset(&scratch, 0, sizeof scratch);
        for (size_t i = 0; i < nb; i++) CT_CHECK(ct_heights_compute(mem, fps[i], &prm, &scratch, &ref[i]) == CT_OK);
        for (int run = 0; run < 3; run++) { /* on disk with 1 and 2 threads; in memory (the cells copied) */
            const int threads = run == 0 ? 1 : 2;
            ct_point_store *store = run == 2 ? mem : disk;
            size_t nwiden = 0;
            memset(got, 0xA5, nb * sizeof *got);
            CT_CHECK(ct_heights_sweep(ctx, store, fps, nb, &prm, threads, NULL, got, widen, &nwiden) == CT_OK);
            /* the widened searches, as filters.heights runs them: cells loaded, then queries */
            const double all[4] = {OX - 100, OY - 100, OX + 6000, OY + 6000};
            CT_CHECK(ct_point_store_load(ctx, store, all) == CT_OK);
            size_t counted = 0;
            for (size_t i = 0; i < nb; i++)
                if (widen[i]) {
                    counted++;
                    CT_CHECK(ct_heights_widen_ground(store, fps[i], &prm, &scratch, &got[i]) == CT_OK);
                }
            CT_CHECK(ct_point_store_unload(ctx, store) == CT_OK);
            CT_CHECK_MSG(counted == nwiden, "config %d: %zu flagged, %zu counted", config, counted, nwiden);
            widened_total += nwiden;
            for (size_t i = 0; i < nb; i++)
                if (!same(&ref[i], &got[i])) {
                    mismatches++;
                    CT_CHECK_MSG(0, "config %d, run %d, building %zu: roof %.17g/%.17g (%u/%u points), ground "
                                 "%.17g/%.17g (%u/%u points, buffer %g/%g)", config, run, i, got[i].roof_z,
                                 ref[i].roof_z, got[i].roof_points, ref[i].roof_points, got[i].ground_z, ref[i].ground_z,
                                 got[i].ground_points, ref[i].ground_points, got[i].ground_buffer_used,
                                 ref[i].ground_buffer_used);
                }
            spanning_checked += ref[NB].roof_points > 0;
        }
        /* the cases are what they claim */
        CT_CHECK(ref[NB].roof_points > 100 && !isnan(ref[NB].roof_z));           /* five cells */
        CT_CHECK(ref[NB + 1].roof_points == 0 && isnan(ref[NB + 1].roof_z));     /* zero area: no roof */
        CT_CHECK(ref[NB + 2].ground_points == 0 && ref[NB + 2].ground_buffer_used == 24.0);
        if (config == 0) CT_CHECK(ref[NB + 3].ground_buffer_used > 3.0 && !isnan(ref[NB + 3].ground_z));
        for (size_t i = NB + 4; i < NB + 6; i++) { /* the strips: sparse, and with samples to compare */
            double q[4];
            CT_CHECK(ct_footprint_bbox(fps[i], q));
            q[0] -= prm.buffer, q[1] -= prm.buffer, q[2] += prm.buffer, q[3] += prm.buffer;
            CT_CHECK(ct_outline_rows_worthwhile(fps[i], q, prm.buffer));
            CT_CHECK(ref[i].roof_points > 50 && (config == 2 || ref[i].ground_points > 50));
        }
        ct_heights_scratch_free(&scratch);
    }
    CT_CHECK_MSG(mismatches == 0, "%zu results differ", mismatches);
    CT_CHECK(widened_total > 0 && spanning_checked == 9);

    /* A cell whose points cannot be read: the error names the temporary file, no crash. */
    ct_point_store_release_disk(disk);
    ct_heights_params prm;
    ct_test_heights_defaults(&prm);
    size_t nwiden = 0;
    CT_CHECK(ct_heights_sweep(ctx, disk, fps, nb, &prm, 2, NULL, got, widen, &nwiden) == CT_ERR_IO);
    CT_CHECK(strstr(ct_error_message(ctx), "temporary point file") != NULL);

    ct_point_store_destroy(mem);
    ct_point_store_destroy(disk);
    ct_context_destroy(ctx);
    free(ref);
    free(got);
    free(widen);
    free(bl);
    free(fps);
    ct_test_points_free(&in);
    return ct_test_finish("test_heights_sweep");
}
