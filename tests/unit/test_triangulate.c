/* The ear-clipping triangulator: exact orientation, boundary (insertions at touching
 * points, ranks), triangulations verified with the edge-chain check (nothing outside,
 * no overlap) on random star polygons with holes, determinism, and the verifier
 * rejecting wrong triangulations, and triangles without slivers where the polygon
 * allows (edge flips after the clipping). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "citytiler/triangulate.h"
#include "ct_test.h"

static ct_polygon make_polygon(uint32_t nrings, const uint32_t *sizes, const double *xy) {
    ct_polygon p;
    p.nrings = nrings;
    p.ring_start = malloc((nrings + 1) * sizeof *p.ring_start);
    uint32_t total = 0;
    for (uint32_t r = 0; r < nrings; r++) {
        p.ring_start[r] = total;
        total += sizes[r];
    }
    p.ring_start[nrings] = total;
    p.xy = malloc(2 * (total ? total : 1) * sizeof *p.xy);
    memcpy(p.xy, xy, 2 * total * sizeof *p.xy);
    return p;
}

/* Triangulates p; checks the result with the full verification; returns the count. */
static size_t tri_ok(const char *name, ct_triangulator *t, const ct_polygon *p, uint32_t **copy) {
    ct_boundary b;
    const uint32_t *tris = NULL;
    size_t nt = 0;
    ct_tri_status st = ct_boundary_build(t, p, &b);
    CT_CHECK_MSG(st == CT_TRI_OK, "%s: boundary: %s", name, ct_triangulator_reason(t));
    if (st != CT_TRI_OK) return 0;
    st = ct_triangulate_earclip(t, p, &b, &tris, &nt);
    CT_CHECK_MSG(st == CT_TRI_OK, "%s: %s", name, ct_triangulator_reason(t));
    if (st != CT_TRI_OK) return 0;
    CT_CHECK_MSG(ct_triangulation_verify(t, p, &b, tris, nt, 1) == 1, "%s: %s", name, ct_triangulator_reason(t));
    /* n - 2 + 2 h triangles for n boundary points and h holes (bridged or spliced). */
    uint32_t nb = b.ring_start[b.nrings];
    CT_CHECK_MSG(nt >= (size_t)nb - 2 && nt <= (size_t)nb - 2 + 2 * (b.nrings - 1), "%s: %zu triangles for %u points, %u rings",
                 name, nt, nb, b.nrings);
    if (copy) {
        *copy = malloc(3 * nt * sizeof **copy);
        memcpy(*copy, tris, 3 * nt * sizeof **copy);
    }
    return nt;
}

static uint64_t rng_state = 42;
static double rnd(void) {
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

static void orientation(void) {
    CT_CHECK(ct_orient2d(0, 0, 1, 0, 0, 1) > 0);
    CT_CHECK(ct_orient2d(0, 0, 0, 1, 1, 0) < 0);
    /* Points exactly on a line with awkward coordinates, then one ulp off it. */
    size_t wrong = 0;
    for (int i = 0; i < 1000; i++) {
        double x0 = 85000 + rnd() * 100, x1 = 85000 + rnd() * 100, x2 = 85000 + rnd() * 100;
        if (ct_orient2d(x0, x0, x1, x1, x2, x2) != 0) wrong++;
        double up = nextafter(x2, INFINITY);
        double o = ct_orient2d(x0, x0, x1, x1, x2, up);
        if (x1 > x0 && !(o > 0)) wrong++;
        if (x1 < x0 && !(o < 0)) wrong++;
    }
    CT_CHECK_MSG(wrong == 0, "%zu wrong orientation signs", wrong);
    /* A classic: (0.5 + k eps) points near the diagonal. */
    double e = ldexp(1.0, -52);
    CT_CHECK(ct_orient2d(0.5, 0.5, 12, 12, 24, 24) == 0);
    CT_CHECK(ct_orient2d(0.5 + e, 0.5, 12, 12, 24, 24) < 0);
    CT_CHECK(ct_orient2d(0.5, 0.5 + e, 12, 12, 24, 24) > 0);
}

static void boundary(void) {
    ct_triangulator *t = ct_triangulator_create();
    /* A hole touching the shell inside an edge: the point is inserted into the edge. */
    double c7[] = {0, 0, 10, 0, 10, 10, 0, 10, 0, 5, 4, 7, 4, 3};
    ct_polygon p = make_polygon(2, (uint32_t[]){4, 3}, c7);
    ct_boundary b;
    CT_CHECK(ct_boundary_build(t, &p, &b) == CT_TRI_OK);
    CT_CHECK(b.nrings == 2 && b.ring_start[1] == 5 && b.ring_start[2] == 8);
    CT_CHECK(b.touching == 1);
    uint32_t ranked = 0;
    for (uint32_t k = 0; k < b.ring_start[2]; k++) ranked += b.rank[k];
    CT_CHECK(ranked == 1);
    /* the shell's edge (0,10) -> (0,0) now passes through the hole's point 4 */
    int found = 0;
    for (uint32_t k = 0; k < 5; k++) found |= b.idx[k] == 4;
    CT_CHECK(found);
    tri_ok("case 7", t, &p, NULL);
    ct_polygon_free(&p);
    /* Winding normalised; repeated points and the repeated closing point dropped. */
    double cw[] = {0, 0, 0, 0, 0, 10, 10, 10, 10, 0, 0, 0};
    p = make_polygon(1, (uint32_t[]){6}, cw);
    CT_CHECK(ct_boundary_build(t, &p, &b) == CT_TRI_OK);
    CT_CHECK(b.ring_start[1] == 4 && b.touching == 0);
    CT_CHECK(tri_ok("clockwise with repeats", t, &p, NULL) == 2);
    ct_polygon_free(&p);
    /* No area; a hole sharing a segment with the shell. */
    double line[] = {0, 0, 10, 0, 20, 0};
    p = make_polygon(1, (uint32_t[]){3}, line);
    CT_CHECK(ct_boundary_build(t, &p, &b) == CT_TRI_FAILED);
    ct_polygon_free(&p);
    double share[] = {0, 0, 10, 0, 10, 10, 0, 10, 0, 2, 0, 5, 3, 5, 3, 2};
    p = make_polygon(2, (uint32_t[]){4, 4}, share);
    CT_CHECK(ct_boundary_build(t, &p, &b) == CT_TRI_FAILED);
    ct_polygon_free(&p);
    ct_triangulator_destroy(t);
}

static void verifier(void) {
    ct_triangulator *t = ct_triangulator_create();
    double l[] = {0, 0, 20, 0, 20, 5, 5, 5, 5, 15, 0, 15};
    ct_polygon p = make_polygon(1, (uint32_t[]){6}, l);
    ct_boundary b;
    CT_CHECK(ct_boundary_build(t, &p, &b) == CT_TRI_OK);
    uint32_t good[] = {0, 1, 2, 0, 2, 3, 0, 3, 4, 0, 4, 5};
    CT_CHECK(ct_triangulation_verify(t, &p, &b, good, 4, 1) == 1);
    uint32_t missing[] = {0, 1, 2, 0, 2, 3, 0, 3, 4};
    CT_CHECK(ct_triangulation_verify(t, &p, &b, missing, 3, 1) == 0);
    uint32_t twice[] = {0, 1, 2, 0, 2, 3, 0, 3, 4, 0, 4, 5, 0, 1, 2};
    CT_CHECK(ct_triangulation_verify(t, &p, &b, twice, 5, 1) == 0);
    uint32_t cw[] = {0, 2, 1, 0, 2, 3, 0, 3, 4, 0, 4, 5};
    CT_CHECK(ct_triangulation_verify(t, &p, &b, cw, 4, 1) == 0);
    /* Same area, wrong cover: (0,1,2) replaced by a triangle over the notch is caught
     * by the chain even when the area happened to match. */
    uint32_t fan1[] = {1, 2, 3, 1, 3, 4, 1, 4, 5, 1, 5, 0};
    CT_CHECK(ct_triangulation_verify(t, &p, &b, fan1, 4, 1) == 0);
    ct_polygon_free(&p);
    ct_triangulator_destroy(t);
}

/* Random star-shaped shells (n points) with k non-overlapping circular holes near the
 * centre, some holes touching the shell or each other at a point. */
static void random_polygons(void) {
    ct_triangulator *t = ct_triangulator_create();
    size_t bad_det = 0;
    for (int it = 0; it < 300; it++) {
        uint32_t n = 12 + (uint32_t)(rnd() * (it % 10 == 0 ? 3000 : 60));
        uint32_t holes = it % 3 == 0 ? 0 : 1 + (uint32_t)(rnd() * 4);
        uint32_t hn = 3 + (uint32_t)(rnd() * 12);
        uint32_t total = n + holes * hn;
        double *xy = malloc(2 * (size_t)total * sizeof *xy);
        uint32_t *sizes = malloc((holes + 1) * sizeof *sizes);
        double cx = 85000 + rnd() * 1000, cy = 447000 + rnd() * 1000;
        for (uint32_t i = 0; i < n; i++) {
            double a = 2 * 3.14159265358979323846 * i / n;
            double r = 30 + rnd() * 20;
            if (it % 4 == 1 && i % 5 == 0) r = 45; /* some collinear-ish spikes */
            xy[2 * i] = cx + r * cos(a);
            xy[2 * i + 1] = cy + r * sin(a);
        }
        sizes[0] = n;
        for (uint32_t h = 0; h < holes; h++) {
            /* holes on a ring of radius 16, radius 6: disjoint for up to 4 holes */
            double a = 2 * 3.14159265358979323846 * h / 4, hx = cx + 16 * cos(a), hy = cy + 16 * sin(a);
            for (uint32_t i = 0; i < hn; i++) {
                double b = 2 * 3.14159265358979323846 * i / hn;
                xy[2 * (n + h * hn + i)] = hx + 6 * cos(b);
                xy[2 * (n + h * hn + i) + 1] = hy + 6 * sin(b);
            }
            sizes[h + 1] = hn;
        }
        ct_polygon p = make_polygon(holes + 1, sizes, xy);
        char name[64];
        snprintf(name, sizeof name, "random %d (%u points, %u holes)", it, n, holes);
        uint32_t *first = NULL, *second = NULL;
        size_t nt = tri_ok(name, t, &p, &first);
        size_t nt2 = tri_ok(name, t, &p, &second);
        if (nt != nt2 || (nt && memcmp(first, second, 3 * nt * sizeof *first) != 0)) bad_det++;
        free(first);
        free(second);
        ct_polygon_free(&p);
        free(xy);
        free(sizes);
    }
    CT_CHECK_MSG(bad_det == 0, "%zu non-deterministic triangulations", bad_det);
    ct_triangulator_destroy(t);
}

/* Unit squares as holes touching each other at corners: a 2x2 checkerboard, and
 * diagonal chains of g squares, the first touching the shell at its corner (valid: the
 * interior stays connected). */
static void checkerboard(void) {
    ct_triangulator *t = ct_triangulator_create();
    for (uint32_t g = 2; g <= 64; g *= 2) {
        int diagonal = g > 2;
        uint32_t holes = 0;
        double *xy = malloc(2 * (4 + 4 * g * g) * sizeof *xy);
        uint32_t *sizes = malloc((1 + g * g) * sizeof *sizes);
        double s[] = {-1, -1, g + 1.0, -1, g + 1.0, g + 1.0, -1, g + 1.0};
        if (diagonal) { /* the shell's corner at (0, 0) holds the first square's corner */
            s[0] = s[1] = 0;
            s[3] = s[6] = -1;
        }
        memcpy(xy, s, sizeof s);
        sizes[0] = 4;
        uint32_t k = 4;
        for (uint32_t i = 0; i < g; i++)
            for (uint32_t j = 0; j < g; j++) {
                if (diagonal ? i != j : (i + j) % 2 != 0) continue;
                double q[] = {i, j, i, j + 1.0, i + 1.0, j + 1.0, i + 1.0, j};
                memcpy(xy + 2 * k, q, sizeof q);
                k += 4;
                sizes[++holes] = 4;
            }
        ct_polygon p = make_polygon(holes + 1, sizes, xy);
        char name[64];
        snprintf(name, sizeof name, "%s %u", diagonal ? "diagonal chain" : "checkerboard", g);
        ct_boundary b;
        const uint32_t *tris;
        size_t nt;
        ct_tri_status st = ct_boundary_build(t, &p, &b);
        CT_CHECK_MSG(st == CT_TRI_OK, "%s: %s", name, ct_triangulator_reason(t));
        if (st == CT_TRI_OK) st = ct_triangulate_earclip(t, &p, &b, &tris, &nt);
        CT_CHECK_MSG(st == CT_TRI_OK, "%s: %s", name, ct_triangulator_reason(t));
        if (st == CT_TRI_OK) CT_CHECK_MSG(ct_triangulation_verify(t, &p, &b, tris, nt, 1) == 1, "%s", name);
        ct_polygon_free(&p);
        free(xy);
        free(sizes);
    }
    ct_triangulator_destroy(t);
}

/* Smallest twice-area over longest edge squared of the triangles (0: a sliver). */
static double worst_shape(const ct_polygon *p, const uint32_t *tris, size_t nt) {
    double worst = INFINITY;
    for (size_t k = 0; k < nt; k++) {
        const double *a = p->xy + 2 * tris[3 * k], *b = p->xy + 2 * tris[3 * k + 1], *c = p->xy + 2 * tris[3 * k + 2];
        double l[3] = {hypot(b[0] - a[0], b[1] - a[1]), hypot(c[0] - b[0], c[1] - b[1]), hypot(a[0] - c[0], a[1] - c[1])};
        double longest = fmax(l[0], fmax(l[1], l[2]));
        double area2 = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
        worst = fmin(worst, area2 / (longest * longest));
    }
    return worst;
}

/* A terrace row as cadastres draw it: long sides whose vertices stand micrometres off
 * the line (outwards, so each is a convex corner an ear could be cut at), and a
 * courtyard. Ear clipping alone cut triangles 3 um high; every one here can be avoided. */
static void well_shaped(void) {
    ct_triangulator *t = ct_triangulator_create();
    const double e = 3e-6;
    const double xy[] = {0, 0, 10, -e, 20, -e, 30, -e, 40, 0, 40 + e, 5, 40, 10, 30, 10 + e, 20, 10 + e, 10, 10 + e,
                         0, 10, -e, 5,
                         /* the courtyard, clockwise, its sides too micrometres off */
                         18, 3, 18 - e, 5, 18, 7, 20, 7 + e, 22, 7, 22 + e, 5, 22, 3, 20, 3 - e};
    for (int holes = 0; holes <= 1; holes++) {
        const uint32_t sizes[] = {12, 8};
        ct_polygon p = make_polygon(1 + (uint32_t)holes, sizes, xy);
        uint32_t *tris = NULL;
        size_t nt = tri_ok(holes ? "terrace with courtyard" : "terrace", t, &p, &tris);
        CT_CHECK(nt > 0);
        double worst = nt ? worst_shape(&p, tris, nt) : 0;
        CT_CHECK_MSG(worst > 0.05, "%s: a triangle of shape %.3g (twice its area over its longest side squared)",
                     holes ? "terrace with courtyard" : "terrace", worst);
        free(tris);
        ct_polygon_free(&p);
    }
    { /* the courtyard touching the row's side at one of its off-line vertices (a pinch point) */
        const double pinched[] = {0, 0, 10, -e, 20, -e, 30, -e, 40, 0, 40 + e, 5, 40, 10, 30, 10 + e, 20, 10 + e, 10, 10 + e,
                                  0, 10, -e, 5, 20, -e, 18, 3, 20, 6 + e, 22, 3};
        const uint32_t sizes[] = {12, 4};
        ct_polygon p = make_polygon(2, sizes, pinched);
        uint32_t *tris = NULL;
        size_t nt = tri_ok("terrace with a courtyard touching it", t, &p, &tris);
        CT_CHECK(nt > 0);
        double worst = nt ? worst_shape(&p, tris, nt) : 0;
        CT_CHECK_MSG(worst > 0.05, "terrace with a courtyard touching it: a triangle of shape %.3g", worst);
        free(tris);
        ct_polygon_free(&p);
    }
    { /* a 200 m row with 500 vertices a side, 2 um off either way: many rounds of flips
       * (a cap of 8 flips a triangle left 636 slivers here) */
        enum { SIDE = 500 };
        double *row = malloc(2 * (2 * SIDE + 2) * sizeof *row);
        uint32_t n = 0;
        for (int i = 0; i <= SIDE; i++, n++) {
            row[2 * n] = 200.0 * i / SIDE;
            row[2 * n + 1] = i == 0 || i == SIDE ? 0 : (i % 2 ? 2e-6 : -2e-6);
        }
        for (int i = SIDE; i >= 0; i--, n++) {
            row[2 * n] = 200.0 * i / SIDE + 0.2; /* (the top's vertices between the bottom's) */
            row[2 * n + 1] = 10 + (i == 0 || i == SIDE ? 0 : (i % 2 ? -2e-6 : 2e-6));
        }
        row[2 * (n - 1)] = 0; /* (square ends) */
        row[2 * (SIDE + 1)] = 200;
        const uint32_t sizes[] = {n};
        ct_polygon p = make_polygon(1, sizes, row);
        uint32_t *tris = NULL;
        size_t nt = tri_ok("long row", t, &p, &tris);
        double worst = nt ? worst_shape(&p, tris, nt) : 0;
        CT_CHECK_MSG(worst > 0.01, "long row: a triangle of shape %.3g (0.02 can be had)", worst);
        free(tris);
        free(row);
        ct_polygon_free(&p);
    }
    /* Random rows: 2-9 vertices a side, each up to 5 um off it either way (reflex or
     * convex), with a perturbed courtyard in half of them. */
    size_t bad = 0;
    for (int it = 0; it < 400; it++) {
        uint32_t k = 2 + (uint32_t)(rnd() * 8);
        double w = 10.0 * k, h = 8 + 8 * rnd();
        double xy[2 * (4 * 9 + 8)];
        uint32_t n = 0;
        for (int side = 0; side < 4; side++)
            for (uint32_t i = 0; i < k; i++) {
                double f = (double)i / k, off = (rnd() - 0.5) * 1e-5;
                double x = side == 0 ? f * w : side == 1 ? w + off : side == 2 ? w - f * w : off;
                double y = side == 0 ? off : side == 1 ? f * h : side == 2 ? h + off : h - f * h;
                if (i == 0) { /* (corners exact) */
                    x = side == 0 || side == 3 ? 0 : w;
                    y = side == 0 || side == 1 ? 0 : h;
                }
                xy[2 * n] = x;
                xy[2 * n + 1] = y;
                n++;
            }
        int hole = it % 2;
        const double cx = w / 2, cy = h / 2, e = (rnd() - 0.5) * 1e-5;
        const double ring[] = {cx - 2, cy - 2, cx - 2 + e, cy, cx - 2, cy + 2, cx, cy + 2 - e,
                               cx + 2, cy + 2, cx + 2 - e, cy, cx + 2, cy - 2, cx, cy - 2 + e};
        if (hole) memcpy(xy + 2 * n, ring, sizeof ring);
        const uint32_t sizes[] = {n, 8};
        ct_polygon p = make_polygon(1 + (uint32_t)hole, sizes, xy);
        char name[64];
        snprintf(name, sizeof name, "random row %d (%u a side%s)", it, k, hole ? ", courtyard" : "");
        uint32_t *tris = NULL;
        size_t nt = tri_ok(name, t, &p, &tris);
        if (nt && worst_shape(&p, tris, nt) < 0.01) bad++;
        free(tris);
        ct_polygon_free(&p);
    }
    CT_CHECK_MSG(bad == 0, "%zu of 400 random rows kept a sliver", bad);
    ct_triangulator_destroy(t);
}

int main(void) {
    orientation();
    boundary();
    verifier();
    random_polygons();
    checkerboard();
    well_shaped();
    return ct_test_finish("test_triangulate");
}
