/* Polygons with many holes (courtyards): the fast paths of the triangulator (bridges
 * through a grid, greedy ears, the candidate list and the z-order jumps) against the
 * straightforward method (every bridge by a scan of the joined ring, the plain ear walk)
 * on random polygons: both succeed, n + 2h - 2 triangles for n vertices and h disjoint
 * holes, every triangle counter-clockwise, the areas summing to the polygon's, and the
 * full verification (edges cancelling along the boundary: nothing outside, no overlap).
 * Rings with few holes keep the straightforward method's triangles exactly (ordinary
 * footprints write the same bytes). The work grows about linearly with the holes: the
 * counts of edges and points looked at, not the time, are compared. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "citytiler/triangulate.h"
#include "ct_test.h"
#include "geom/triangulate_work.h"

/* A polygon being built ring by ring. */
typedef struct poly_builder {
    ct_polygon p;
    size_t cap_pts, cap_rings;
} poly_builder;

static void pb_ring(poly_builder *b) {
    if (b->p.nrings + 2 > b->cap_rings) {
        b->cap_rings = 2 * b->cap_rings + 16;
        b->p.ring_start = realloc(b->p.ring_start, b->cap_rings * sizeof *b->p.ring_start);
        if (!b->p.ring_start) exit(1);
    }
    if (b->p.nrings == 0) b->p.ring_start[0] = 0;
    b->p.nrings++;
    b->p.ring_start[b->p.nrings] = b->p.ring_start[b->p.nrings - 1];
}

static void pb_point(poly_builder *b, double x, double y) {
    uint32_t n = b->p.ring_start[b->p.nrings];
    if (n + 1 > b->cap_pts) {
        b->cap_pts = 2 * b->cap_pts + 64;
        b->p.xy = realloc(b->p.xy, 2 * b->cap_pts * sizeof *b->p.xy);
        if (!b->p.xy) exit(1);
    }
    b->p.xy[2 * n] = x;
    b->p.xy[2 * n + 1] = y;
    b->p.ring_start[b->p.nrings]++;
}

enum { STARS, SQUARES, PAIRS };

/* A jagged rectangular shell around `cols` x `rows` cells of side 10 (with a margin of
 * one cell; points pushed inwards by up to 2 m, jag more a side), and in the first h
 * cells a hole: a random star (STARS), an axis-aligned
 * 2 m square on exact grid positions (SQUARES: collinear runs, equal coordinates), or
 * diamonds touching in pairs at a vertex (PAIRS: spliced holes; h / 2 components). */
static ct_polygon make_holes(uint64_t *seed, int h, int kind, int jag) {
    poly_builder b;
    memset(&b, 0, sizeof b);
    const double C = 10;
    int cols = 1;
    while (cols * cols < h) cols++;
    if (kind == PAIRS) cols += cols % 2;
    int rows = (h + cols - 1) / cols;
    double w = (cols + 2) * C * (kind == PAIRS ? 1.5 : 1), hh = (rows + 2) * C;
    pb_ring(&b); /* shell: the corners, and points along each side pushed inwards */
    const double cx[4] = {0, w, w, 0}, cy[4] = {0, 0, hh, hh};
    for (int s = 0; s < 4; s++) {
        double ax = cx[s], ay = cy[s], bx = cx[(s + 1) % 4], by = cy[(s + 1) % 4];
        pb_point(&b, ax, ay);
        int n = 2 + jag + (int)(ct_test_unif(seed) * 3 * cols);
        for (int k = 1; k < n; k++) {
            /* (clear of the corners, so that neighbouring sides cannot cross) */
            double t = 0.15 + 0.7 * k / n, in = 2 * ct_test_unif(seed);
            double nx = -(by - ay) / (s % 2 ? hh : w), ny = (bx - ax) / (s % 2 ? hh : w); /* inward normal */
            pb_point(&b, ax + t * (bx - ax) + in * nx, ay + t * (by - ay) + in * ny);
        }
    }
    for (int i = 0; i < h; i++) {
        int col = i % cols, row = i / cols;
        double x = C + col * C, y = C + row * C;
        pb_ring(&b);
        if (kind == SQUARES) {
            double sq[4][2] = {{0, 0}, {0, 2}, {2, 2}, {2, 0}};
            for (int k = 0; k < 4; k++) pb_point(&b, x + 3 + sq[k][0], y + 3 + sq[k][1]);
        } else if (kind == PAIRS) {
            /* pairs 1.5 cells apart: the left diamond's right corner is the right one's left */
            double px = C + (col / 2) * 3 * C + (col % 2) * C, py = y + C / 2;
            double left = px, right = px + C, mid = px + C / 2;
            pb_point(&b, left, py);
            pb_point(&b, mid, py - 4);
            pb_point(&b, right, py);
            pb_point(&b, mid, py + 4);
        } else {
            int n = 3 + (int)(ct_test_unif(seed) * 7);
            double ang[16];
            for (int k = 0; k < n; k++) ang[k] = 2 * M_PI * ((k + 0.8 * ct_test_unif(seed)) / n);
            double ox = x + C / 2 + ct_test_unif(seed) - 0.5, oy = y + C / 2 + ct_test_unif(seed) - 0.5;
            int cw = ct_test_unif(seed) < 0.5;
            for (int k = 0; k < n; k++) {
                int j = cw ? n - 1 - k : k;
                double r = C * (0.1 + 0.3 * ct_test_unif(seed));
                pb_point(&b, ox + r * cos(ang[j]), oy + r * sin(ang[j]));
            }
        }
    }
    return b.p;
}

/* Twice the signed area of ring r. */
static double ring_area2(const ct_polygon *p, uint32_t r) {
    double s = 0, ox = p->xy[0], oy = p->xy[1];
    uint32_t a = p->ring_start[r], n = p->ring_start[r + 1] - a;
    for (uint32_t k = 0; k < n; k++) {
        const double *u = p->xy + 2 * (size_t)(a + k), *v = p->xy + 2 * (size_t)(a + (k + 1) % n);
        s += (u[0] - ox) * (v[1] - oy) - (v[0] - ox) * (u[1] - oy);
    }
    return s;
}

/* Triangulates p one way and checks the result; the triangles into *out (malloc'd, 3 *
 * *nt indices), the work into *st. */
static int check_one(const char *name, ct_triangulator *t, const ct_polygon *p, int disjoint, uint32_t **out,
                     size_t *nt_out, ct_tri_stats *st) {
    ct_boundary b;
    const uint32_t *tris = NULL;
    size_t nt = 0;
    memset(st, 0, sizeof *st);
    *out = NULL;
    *nt_out = 0;
    ct_tri_status s = ct_boundary_build(t, p, &b);
    if (s == CT_TRI_OK) s = ct_triangulate_earclip(t, p, &b, &tris, &nt);
    CT_CHECK_MSG(s == CT_TRI_OK, "%s: %s", name, ct_triangulator_reason(t));
    if (s != CT_TRI_OK) return 0;
    ct_triangulator_stats(t, st);
    uint32_t n = b.ring_start[b.nrings], h = b.nrings - 1;
    if (disjoint) CT_CHECK_MSG(nt == (size_t)n + 2 * h - 2, "%s: %zu triangles for %u vertices, %u holes", name, nt, n, h);
    double area2 = fabs(ring_area2(p, 0)), sum = 0;
    for (uint32_t r = 1; r < p->nrings; r++) area2 -= fabs(ring_area2(p, r));
    size_t reversed = 0;
    for (size_t k = 0; k < nt; k++) {
        const double *a = p->xy + 2 * (size_t)tris[3 * k], *c = p->xy + 2 * (size_t)tris[3 * k + 1],
                     *d = p->xy + 2 * (size_t)tris[3 * k + 2];
        if (!(ct_orient2d(a[0], a[1], c[0], c[1], d[0], d[1]) > 0)) reversed++;
        sum += (c[0] - a[0]) * (d[1] - a[1]) - (d[0] - a[0]) * (c[1] - a[1]);
    }
    CT_CHECK_MSG(reversed == 0, "%s: %zu triangles not counter-clockwise", name, reversed);
    CT_CHECK_MSG(fabs(sum - area2) <= 1e-9 * area2, "%s: triangles cover %.9g, polygon %.9g", name, sum / 2, area2 / 2);
    CT_CHECK_MSG(ct_triangulation_verify(t, p, &b, tris, nt, 1) == 1, "%s: %s", name, ct_triangulator_reason(t));
    *out = malloc((nt ? 3 * nt : 1) * sizeof **out);
    if (!*out) exit(1);
    memcpy(*out, tris, 3 * nt * sizeof **out);
    *nt_out = nt;
    return 1;
}

/* p both ways: fast and straightforward. same: the triangles must be equal too. */
static void compare(const char *name, const ct_polygon *p, int disjoint, int same, ct_tri_stats *fast) {
    ct_triangulator *f = ct_triangulator_create(), *s = ct_triangulator_create();
    if (!f || !s) exit(1);
    ct_triangulator_set_straightforward(s, 1);
    uint32_t *tf = NULL, *ts = NULL;
    size_t nf = 0, ns = 0;
    ct_tri_stats st;
    int okf = check_one(name, f, p, disjoint, &tf, &nf, fast);
    int oks = check_one(name, s, p, disjoint, &ts, &ns, &st);
    if (okf && oks && same)
        CT_CHECK_MSG(nf == ns && memcmp(tf, ts, 3 * nf * sizeof *tf) == 0, "%s: not the straightforward triangles", name);
    /* the same triangulator again (its buffers reused): the same triangles */
    uint32_t *again = NULL;
    size_t na = 0;
    if (okf && check_one(name, f, p, disjoint, &again, &na, &st))
        CT_CHECK_MSG(na == nf && memcmp(again, tf, 3 * nf * sizeof *tf) == 0, "%s: another result the second time", name);
    free(again);
    free(tf);
    free(ts);
    ct_triangulator_destroy(f);
    ct_triangulator_destroy(s);
}

int main(void) {
    uint64_t seed = 4242;
    char name[96];
    ct_tri_stats st;
    /* Many holes: the grid and the greedy ears (from 16 bridged components). */
    const int counts[] = {16, 40, 150, 400};
    for (int kind = STARS; kind <= PAIRS; kind++)
        for (int c = 0; c < 4; c++)
            for (int round = 0; round < (c < 2 ? 6 : 2); round++) {
                int h = counts[c] * (kind == PAIRS ? 2 : 1);
                ct_polygon p = make_holes(&seed, h, kind, 0);
                snprintf(name, sizeof name, "kind %d, %d holes, round %d", kind, h, round);
                compare(name, &p, kind != PAIRS, 0, &st);
                ct_polygon_free(&p);
            }
    /* Few holes but a large ring (the candidate list and the z-order jumps): the very
     * triangles of the straightforward method. */
    for (int round = 0; round < 20; round++) {
        int h = 1 + round % 12;
        ct_polygon p = make_holes(&seed, h, round % 3 == 0 ? SQUARES : STARS, 5 * round);
        snprintf(name, sizeof name, "few holes (%d), round %d", h, round);
        compare(name, &p, 1, 1, &st);
        ct_polygon_free(&p);
    }
    /* Scaling: 4x the holes, about 4x the work (a scan of the joined ring per hole or a
     * lap of the ring per ear would be about 16x; a column of points per edge, 8x). */
    for (int kind = STARS; kind <= SQUARES; kind++) {
        ct_tri_stats small, large;
        ct_polygon p = make_holes(&seed, 600, kind, 0), q = make_holes(&seed, 2400, kind, 0);
        compare("scaling, 600 holes", &p, 1, 0, &small);
        compare("scaling, 2400 holes", &q, 1, 0, &large);
        double bs = (double)(small.bridge_edges + small.bridge_points), bl = (double)(large.bridge_edges + large.bridge_points);
        double es = (double)(small.ear_tries + small.ear_points), el = (double)(large.ear_tries + large.ear_points);
        CT_CHECK_MSG(bl < 6 * bs, "kind %d: bridges looked at %.0f items for 600 holes, %.0f for 2400", kind, bs, bl);
        CT_CHECK_MSG(el < 6 * es, "kind %d: ears looked at %.0f items for 600 holes, %.0f for 2400", kind, es, el);
        /* Squares share their columns and rows: points were looked at by x alone, a
         * column a vertical edge (7.8x). (Random stars still cost a band of the block's
         * points an edge, about 8x: left for later.) */
        double ps = (double)small.boundary_points, pl = (double)large.boundary_points;
        if (kind == SQUARES)
            CT_CHECK_MSG(pl < 6 * ps, "squares: insertions looked at %.0f points for 600 holes, %.0f for 2400", ps, pl);
        printf("kind %d: bridges %.0f -> %.0f items, ears %.0f -> %.0f items, insertions %.0f -> %.0f points "
               "(600 -> 2400 holes)\n", kind, bs, bl, es, el, ps, pl);
        ct_polygon_free(&p);
        ct_polygon_free(&q);
    }
    return ct_test_finish("test_tri_holes");
}
