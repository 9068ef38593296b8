/* ct_outline_rows (filters.heights reads a sparse footprint's box band by band): every
 * point inside the footprint or within the buffer of an edge lies in its band's x-range,
 * on random diagonal strips, zig-zags, stars with holes and several parts, with points
 * placed on vertices, on edges, at the buffer's distance and on band borders; and the
 * ranges of a long diagonal strip cover a small part of its box (they narrow). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ct_test.h"
#include "ct_test_heights.h"
#include "geom/outline_rows.h"

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static double unif(void) { return ct_test_unif(&rng); }

enum { MAXV = 256 };

/* Shapes: 0 a rotated strip, 1 a zig-zag band, 2 a star with a hole, 3 two strips. */
static void make_shape(int kind, double ox, double oy, ct_footprint *fp, ct_polygon *parts, uint32_t starts[2][3],
                       double xy[2][2 * MAXV]) {
    double len = 50 + 900 * unif(), wid = 0.2 + 3 * unif(), ang = 2 * M_PI * unif();
    double c = cos(ang), s = sin(ang);
    fp->parts = parts;
    fp->nparts = kind == 3 ? 2 : 1;
    for (uint32_t p = 0; p < fp->nparts; p++) {
        double *v = xy[p];
        uint32_t n = 0, nr = 1;
        double sx = ox + (p ? 5 * wid * -s : 0), sy = oy + (p ? 5 * wid * c : 0);
        if (kind == 0 || kind == 3) {
            const double u[4][2] = {{0, 0}, {len, 0}, {len, wid}, {0, wid}};
            for (int k = 0; k < 4; k++, n++) {
                v[2 * n] = sx + u[k][0] * c - u[k][1] * s;
                v[2 * n + 1] = sy + u[k][0] * s + u[k][1] * c;
            }
        } else if (kind == 1) { /* along a zig-zag centre line, out on one side and back */
            int seg = 2 + (int)(unif() * 6);
            for (int side = 0; side < 2; side++)
                for (int k = 0; k <= seg; k++, n++) {
                    int i = side ? seg - k : k;
                    double t = len * i / seg, off = (i % 2 ? 30 : 0) + (side ? wid : 0);
                    v[2 * n] = sx + t * c - off * s;
                    v[2 * n + 1] = sy + t * s + off * c;
                }
        } else {
            int m = 5 + (int)(unif() * 40);
            for (int k = 0; k < m; k++, n++) {
                double a = 2 * M_PI * k / m, r = (0.3 + 0.7 * unif()) * len / 4;
                v[2 * n] = sx + r * cos(a);
                v[2 * n + 1] = sy + r * sin(a);
            }
            starts[p][1] = n;
            for (int k = 0; k < 4; k++, n++) { /* a small hole at the centre */
                double a = -2 * M_PI * k / 4;
                v[2 * n] = sx + 0.05 * len * cos(a);
                v[2 * n + 1] = sy + 0.05 * len * sin(a);
            }
            nr = 2;
        }
        starts[p][0] = 0;
        starts[p][nr] = n;
        parts[p].nrings = nr;
        parts[p].ring_start = starts[p];
        parts[p].xy = v;
    }
}

int main(void) {
    const double ox = 85000.0, oy = 447000.0; /* RD-like coordinates: rounding as in real data */
    size_t tested = 0, wanted = 0, sparse = 0;
    ct_outline_rows rows;
    memset(&rows, 0, sizeof rows);
    for (int tc = 0; tc < 200; tc++) {
        ct_footprint fp;
        ct_polygon parts[2];
        uint32_t starts[2][3];
        double xy[2][2 * MAXV];
        make_shape(tc % 4, ox, oy, &fp, parts, starts, xy);
        double buffer = tc % 5 == 0 ? 0.0 : 4 * unif();
        double bb[4];
        CT_CHECK(ct_footprint_bbox(&fp, bb));
        double q[4] = {bb[0] - buffer, bb[1] - buffer, bb[2] + buffer, bb[3] + buffer};
        double h = tc % 3 == 0 ? 2.0 : 0.3 + 5 * unif();
        CT_CHECK(ct_outline_rows_build(&rows, &fp, buffer, q[1], q[3], h));
        sparse += (size_t)ct_outline_rows_worthwhile(&fp, q, buffer);
        for (int i = 0; i < 20000; i++) {
            const ct_polygon *pg = &parts[i % fp.nparts];
            uint32_t nv = pg->ring_start[pg->nrings], a = (uint32_t)(unif() * nv) % nv, b = (a + 1) % nv;
            double u = unif(), x, y;
            if (u < 0.3) { /* on an edge, or pushed out by up to the buffer across it */
                double t = unif(), ex = pg->xy[2 * b] - pg->xy[2 * a], ey = pg->xy[2 * b + 1] - pg->xy[2 * a + 1];
                double len = hypot(ex, ey), off = len > 0 ? buffer * (u < 0.1 ? 1.0 : unif()) / len : 0;
                x = pg->xy[2 * a] + t * ex + (u < 0.2 ? ey : -ey) * off;
                y = pg->xy[2 * a + 1] + t * ey + (u < 0.2 ? -ex : ex) * off;
            } else if (u < 0.4) { /* a vertex, then a band border through it */
                x = pg->xy[2 * a];
                y = u < 0.35 ? pg->xy[2 * a + 1] : q[1] + h * round((pg->xy[2 * a + 1] - q[1]) / h);
            } else {
                x = q[0] + (q[2] - q[0]) * unif();
                y = q[1] + (q[3] - q[1]) * unif();
            }
            if (x < q[0] || x > q[2] || y < q[1] || y > q[3] || !(ct_test_ref_inside(&fp, x, y) || ct_test_ref_near(&fp, x, y, buffer))) continue;
            wanted++;
            double lo = NAN, hi = NAN;
            int got = ct_outline_rows_xrange(&rows, y, y, &lo, &hi);
            CT_CHECK_MSG(got && lo <= x && x <= hi, "case %d: (%.17g, %.17g) outside its band's range [%.17g, %.17g]",
                         tc, x, y, lo, hi);
            if (!(got && lo <= x && x <= hi)) break;
        }
        tested++;
        /* A long thin strip narrows: its bands cover a small part of its box. */
        if (tc % 4 == 0) {
            double covered = 0, lo, hi;
            for (int k = 0; k < rows.n; k++)
                if (ct_outline_rows_xrange(&rows, q[1] + (k + 0.5) * h, q[1] + (k + 0.5) * h, &lo, &hi))
                    covered += (hi - lo) * h;
            double box = (q[2] - q[0]) * (q[3] - q[1]);
            double diag = fabs(sin(2 * atan2(bb[3] - bb[1], bb[2] - bb[0]))); /* 1 at 45 degrees, 0 along an axis */
            if (diag > 0.5 && box > 20000) CT_CHECK_MSG(covered < 0.25 * box, "case %d: bands cover %.0f of %.0f m²", tc, covered, box);
        }
    }
    /* A range outside the bands holds nothing; an empty footprint has empty bands. */
    double lo, hi;
    CT_CHECK(!ct_outline_rows_xrange(&rows, rows.y0 - 10 * rows.h, rows.y0 - 5 * rows.h, &lo, &hi));
    ct_footprint none = {0, NULL};
    CT_CHECK(ct_outline_rows_build(&rows, &none, 3.0, 0, 100, 1));
    CT_CHECK(!ct_outline_rows_xrange(&rows, 0, 100, &lo, &hi));
    CT_CHECK(!ct_outline_rows_build(&rows, &none, 3.0, 0, 1e9, 1e-3)); /* too many bands */
    ct_outline_rows_free(&rows);
    printf("%zu footprints (%zu sparse), %zu wanted points in their ranges\n", tested, sparse, wanted);
    CT_CHECK(wanted > 100000 && sparse > 50);
    return ct_test_finish("test_outline_rows");
}
