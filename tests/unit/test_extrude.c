/* Extrusion of hand-made footprints: every mesh closed, 2-manifold, outward-facing,
 * with volume = area x height, and normals pointing away from the solid. Includes the
 * shapes GEOS 3.11 cannot triangulate (a hole touching the shell at a point, at a
 * vertex or inside an edge), collinear runs, repeated points, parts touching at a
 * point, and 1e5-vertex rings; the GEOS fallback is run on the plain shapes too. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "citytiler/clean.h"
#include "citytiler/extrude.h"
#include "citytiler/triangulate.h"
#include "ct_test.h"

/* Builds a polygon from rings given as point counts and a flat xy list. */
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
    p.xy = malloc(2 * total * sizeof *p.xy);
    memcpy(p.xy, xy, 2 * total * sizeof *p.xy);
    return p;
}

/* Checks a mesh and that each face normal agrees with its stored normal. */
static void check_solid(const char *name, const ct_footprint *fp, double base, double top, int with_floor) {
    ct_extruder *ex = ct_extruder_create();
    CT_CHECK(ex != NULL);
    ct_mesh m;
    ct_extrude_result r = ct_extrude_footprint(ex, fp, base, top, with_floor, &m);
    CT_CHECK_MSG(r == CT_EXTRUDE_OK, "%s: %s", name, ct_extruder_reason(ex));
    if (r != CT_EXTRUDE_OK) {
        ct_extruder_destroy(ex);
        return;
    }
    ct_mesh_check c;
    CT_CHECK(ct_mesh_check_topology(&m, &c) == 0);
    if (with_floor) {
        CT_CHECK_MSG(c.boundary_edges == 0, "%s: %zu boundary edges", name, c.boundary_edges);
        double expect = ct_footprint_area(fp) * (top - base);
        CT_CHECK_MSG(fabs(c.signed_volume - expect) <= 1e-9 * expect, "%s: volume %.9f vs %.9f", name,
                     c.signed_volume, expect);
    }
    CT_CHECK_MSG(c.nonmanifold_edges == 0, "%s: %zu non-manifold edges", name, c.nonmanifold_edges);
    CT_CHECK_MSG(c.misoriented_edges == 0, "%s: %zu misoriented edges", name, c.misoriented_edges);
    CT_CHECK_MSG(c.degenerate_triangles == 0, "%s: %zu degenerate triangles", name, c.degenerate_triangles);
    /* Stored normals agree with the winding of each triangle. */
    size_t bad = 0;
    for (size_t t = 0; t < m.nindices / 3; t++) {
        const double *a = m.pos + 3 * m.idx[3 * t], *b = m.pos + 3 * m.idx[3 * t + 1], *d = m.pos + 3 * m.idx[3 * t + 2];
        double u[3] = {b[0] - a[0], b[1] - a[1], b[2] - a[2]}, v[3] = {d[0] - a[0], d[1] - a[1], d[2] - a[2]};
        double n[3] = {u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]};
        const float *s = m.nrm + 3 * m.idx[3 * t];
        if (n[0] * s[0] + n[1] * s[1] + n[2] * s[2] <= 0) bad++;
    }
    CT_CHECK_MSG(bad == 0, "%s: %zu triangles whose normal disagrees with their winding", name, bad);
    ct_mesh_free(&m);
    ct_extruder_destroy(ex);
}

/* Extrudes a one-part footprint given as ring sizes and points, and checks it. */
static void check_shape(const char *name, uint32_t nrings, const uint32_t *sizes, const double *xy) {
    ct_polygon p = make_polygon(nrings, sizes, xy);
    ct_footprint f = {1, &p};
    check_solid(name, &f, 0.5, 9.5, 1);
    char nm[128];
    snprintf(nm, sizeof nm, "%s without floor", name);
    check_solid(nm, &f, 0.5, 9.5, 0);
    ct_polygon_free(&p);
}

/* A circle of n points (radius r) at (cx, cy); wobble > 0 alternates the radius
 * (a gear: every other vertex reflex). */
static double *circle(uint32_t n, double cx, double cy, double r, double wobble) {
    double *xy = malloc(2 * (size_t)n * sizeof *xy);
    for (uint32_t i = 0; i < n; i++) {
        double a = 2 * 3.14159265358979323846 * i / n, rr = r - (i % 2 ? wobble : 0);
        xy[2 * i] = cx + rr * cos(a);
        xy[2 * i + 1] = cy + rr * sin(a);
    }
    return xy;
}

static void touching_and_degenerate(void) {
    /* Corpus case 7: a hole touching the shell inside an edge (at (0, 5)). */
    double c7[] = {0, 0, 10, 0, 10, 10, 0, 10, 0, 5, 4, 7, 4, 3};
    check_shape("hole touching an edge (case 7)", 2, (uint32_t[]){4, 3}, c7);
    /* Corpus case 23 after make-valid: the hole touches a (collinear) shell vertex. */
    double c23[] = {0, 0, 10, 0, 10, 10, 5, 10, 0, 10, 5, 10, 3, 5, 7, 5};
    check_shape("hole touching a shell vertex (case 23)", 2, (uint32_t[]){5, 3}, c23);
    /* ... at a reflex-free apex, and in a convex corner (the corner's wedge is split). */
    double apex[] = {0, 0, 10, 0, 10, 10, 5, 12, 0, 10, 5, 12, 3, 5, 7, 5};
    check_shape("hole touching the apex", 2, (uint32_t[]){5, 3}, apex);
    double corner[] = {0, 0, 10, 0, 10, 10, 0, 10, 0, 0, 1, 3, 3, 1};
    check_shape("hole in a corner", 2, (uint32_t[]){4, 3}, corner);
    /* Two holes touching each other, one of them touching the shell too; and both holes
     * touching the shell at the same point. */
    double two[] = {0, 0, 20, 0, 20, 20, 0, 20, 5, 5, 10, 10, 10, 5, 10, 10, 15, 15, 15, 10, 20, 15, 17, 17, 17, 13};
    check_shape("holes touching each other and the shell", 4, (uint32_t[]){4, 3, 3, 3}, two);
    double same[] = {0, 0, 20, 0, 20, 20, 0, 20, 0, 10, 5, 14, 5, 12, 0, 10, 5, 8, 5, 6};
    check_shape("two holes touching the shell at one point", 3, (uint32_t[]){4, 3, 3}, same);
    /* Collinear runs along edges and through a reflex corner; repeated points (also the
     * closing point); a square with collinear points on every side around a hole. */
    double coll[] = {0, 0, 2, 0, 4, 0, 6, 0, 8, 0, 10, 0, 10, 5, 10, 10, 5, 10, 5, 15, 5, 20, 0, 20, 0, 10, 0, 5};
    check_shape("collinear runs", 1, (uint32_t[]){14}, coll);
    double rep[] = {0, 0, 0, 0, 10, 0, 10, 0, 10, 0, 10, 10, 0, 10, 0, 0};
    check_shape("repeated points", 1, (uint32_t[]){8}, rep);
    double hc[] = {0, 0, 5, 0, 10, 0, 10, 5, 10, 10, 5, 10, 0, 10, 0, 5, 3, 3, 3, 5, 3, 7, 5, 7, 7, 7, 7, 5, 7, 3, 5, 3};
    check_shape("collinear runs around a hole", 2, (uint32_t[]){8, 8}, hc);
    /* A comb: 200 teeth, every tooth two reflex corners. */
    {
        uint32_t teeth = 200, n = 4 * teeth + 2, k = 0;
        double *xy = malloc(2 * (size_t)n * sizeof *xy);
        for (uint32_t t = 0; t < teeth; t++) {
            double x = 2.0 * t;
            xy[2 * k] = x; xy[2 * k + 1] = 0; k++;
            xy[2 * k] = x + 1; xy[2 * k + 1] = 0; k++;
            xy[2 * k] = x + 1; xy[2 * k + 1] = 9; k++;
            xy[2 * k] = x + 2; xy[2 * k + 1] = 9; k++;
        }
        xy[2 * k] = 2.0 * teeth; xy[2 * k + 1] = 10; k++;
        xy[2 * k] = 0; xy[2 * k + 1] = 10; k++;
        check_shape("comb of 200 teeth", 1, &n, xy);
        free(xy);
    }
    /* Parts touching at a point (a repaired bow-tie): one closed mesh for both. */
    double t1[] = {0, 0, 5, 5, 0, 10}, t2[] = {5, 5, 10, 0, 10, 10};
    uint32_t three = 3;
    ct_polygon bt[2] = {make_polygon(1, &three, t1), make_polygon(1, &three, t2)};
    ct_footprint f_bt = {2, bt};
    check_solid("parts touching at a point", &f_bt, 0, 4, 1);
    ct_polygon_free(&bt[0]);
    ct_polygon_free(&bt[1]);
    /* 1e5-vertex rings (not cleaned): a circle, a gear with 5e4 reflex vertices, and a
     * circle with a 1e4-vertex hole, at projected coordinates. */
    {
        uint32_t n = 100000;
        double *xy = circle(n, 85000, 447000, 15, 0);
        check_shape("1e5-vertex circle", 1, &n, xy);
        free(xy);
        xy = circle(n, 85000, 447000, 15, 0.5);
        check_shape("1e5-vertex gear", 1, &n, xy);
        free(xy);
        uint32_t sizes[2] = {n, 10000};
        xy = malloc(2 * (size_t)(n + 10000) * sizeof *xy);
        double *a = circle(n, 85000, 447000, 15, 0), *b = circle(10000, 85003, 447002, 6, 0.01);
        memcpy(xy, a, 2 * (size_t)n * sizeof *xy);
        memcpy(xy + 2 * (size_t)n, b, 2 * 10000 * sizeof *xy);
        check_shape("1e5-vertex circle with a 1e4-vertex hole", 2, sizes, xy);
        free(a); free(b); free(xy);
    }
}

/* Random rings on a coarse grid (collinear runs, repeated points, self-intersections
 * galore) repaired by ct_clean_footprint: every repaired footprint's parts extrude into
 * closed solids (parts are checked alone: two parts may touch where one's vertex lies
 * inside the other's edge, which is a T-junction between the two shells). */
static void random_repaired(int geos) {
    ct_cleaner *cl = ct_cleaner_create();
    ct_extruder *ex = ct_extruder_create();
    ct_triangulator *tr = ct_triangulator_create();
    size_t ear_failed = 0;
    ct_clean_options o;
    ct_clean_options_default(&o);
    uint64_t st = 7;
    size_t kept = 0, holes = 0, touching = 0, failed = 0, open = 0;
    for (int it = 0; it < 3000; it++) {
        uint32_t n = 4 + (uint32_t)(it % 13);
        double xy[2 * 16];
        for (uint32_t i = 0; i < 2 * n; i++) {
            st = st * 6364136223846793005ULL + 1442695040888963407ULL;
            xy[i] = 85000.0 + (double)((st >> 33) % 11);
        }
        ct_polygon p = make_polygon(1, &n, xy);
        ct_footprint in = {1, &p}, out;
        unsigned flags;
        if (ct_clean_footprint(cl, &o, &in, &out, &flags) == CT_CLEAN_KEPT) {
            kept++;
            for (uint32_t q = 0; q < out.nparts; q++) {
                ct_footprint one = {1, &out.parts[q]};
                holes += out.parts[q].nrings > 1;
                ct_boundary bd;
                const uint32_t *tris;
                size_t nt;
                if (ct_boundary_build(tr, &out.parts[q], &bd) != CT_TRI_OK ||
                    ct_triangulate_earclip(tr, &out.parts[q], &bd, &tris, &nt) != CT_TRI_OK ||
                    ct_triangulation_verify(tr, &out.parts[q], &bd, tris, nt, 1) != 1)
                    ear_failed++;
                ct_mesh m;
                if (ct_extrude_footprint(ex, &one, 0, 3, 1, &m) != CT_EXTRUDE_OK) {
                    if (failed++ < 5) fprintf(stderr, "random %d part %u: %s\n", it, q, ct_extruder_reason(ex));
                    continue;
                }
                ct_mesh_check c;
                ct_mesh_check_topology(&m, &c);
                double expect = ct_polygon_area(&out.parts[q]) * 3;
                if (c.boundary_edges || c.nonmanifold_edges || c.misoriented_edges || c.degenerate_triangles ||
                    !(fabs(c.signed_volume - expect) <= 1e-9 * expect)) {
                    if (open++ < 5)
                        fprintf(stderr, "random %d part %u: boundary %zu non-manifold %zu misoriented %zu volume %.9g vs %.9g\n",
                                it, q, c.boundary_edges, c.nonmanifold_edges, c.misoriented_edges, c.signed_volume, expect);
                }
                if (c.welded_vertices < m.nverts) touching += 0;
                ct_mesh_free(&m);
            }
            ct_footprint_free(&out);
        }
        ct_polygon_free(&p);
    }
    fprintf(stderr, "random repaired rings (%s): %zu kept, %zu parts with holes, %zu failed, %zu not closed; ear clipping alone failed on %zu\n",
            geos ? "GEOS triangulation" : "ear clipping, GEOS fallback", kept, holes, failed, open, ear_failed);
    if (!geos) CT_CHECK(failed == 0 && open == 0 && ear_failed == 0);
    else CT_CHECK(open == 0); /* GEOS may refuse (touching holes), never produce a broken mesh */
    CT_CHECK(kept > 1000 && holes > 10);
    (void)touching;
    ct_triangulator_destroy(tr);
    ct_extruder_destroy(ex);
    ct_cleaner_destroy(cl);
}

int main(void) {
    /* Square, clockwise on purpose (winding must not matter), at large coordinates. */
    double sq[] = {85000, 447500, 85000, 447510, 85010, 447510, 85010, 447500};
    uint32_t sq_n[] = {4};
    ct_polygon p_sq = make_polygon(1, sq_n, sq);
    ct_footprint f_sq = {1, &p_sq};
    check_solid("square", &f_sq, 1.5, 11.5, 1);
    check_solid("square without floor", &f_sq, 0, 3, 0);

    /* L-shape (a concave vertex). */
    double l[] = {0, 0, 20, 0, 20, 5, 5, 5, 5, 15, 0, 15};
    uint32_t l_n[] = {6};
    ct_polygon p_l = make_polygon(1, l_n, l);
    ct_footprint f_l = {1, &p_l};
    check_solid("L-shape", &f_l, 0, 7, 1);

    /* A courtyard block with two holes (holes counter-clockwise: winding must not matter). */
    double h2[] = {0, 0, 30, 0, 30, 20, 0, 20,
                   5, 5, 10, 5, 10, 10, 5, 10,
                   18, 6, 25, 6, 25, 14, 18, 14};
    uint32_t h2_n[] = {4, 4, 4};
    ct_polygon p_h2 = make_polygon(3, h2_n, h2);
    ct_footprint f_h2 = {1, &p_h2};
    CT_CHECK_NEAR(ct_footprint_area(&f_h2), 600.0 - 25.0 - 56.0, 1e-9);
    check_solid("two holes", &f_h2, -2, 12, 1);

    /* A multipolygon: two separate parts make two closed shells in one mesh. */
    ct_polygon parts[2] = {make_polygon(1, sq_n, sq), make_polygon(1, l_n, l)};
    ct_footprint f_mp = {2, parts};
    check_solid("multipolygon", &f_mp, 0, 5, 1);

    /* Invalid input is reported, not extruded: a bow-tie and a roof below the ground. */
    double bow[] = {0, 0, 10, 10, 10, 0, 0, 10};
    ct_polygon p_bow = make_polygon(1, sq_n, bow);
    ct_footprint f_bow = {1, &p_bow};
    ct_extruder *ex = ct_extruder_create();
    ct_mesh m;
    CT_CHECK(ct_extrude_footprint(ex, &f_bow, 0, 10, 1, &m) == CT_EXTRUDE_INVALID);
    CT_CHECK(strstr(ct_extruder_reason(ex), "Self-intersection") != NULL);
    CT_CHECK(ct_extrude_footprint(ex, &f_sq, 10, 5, 1, &m) == CT_EXTRUDE_INVALID);
    ct_extruder_destroy(ex);

    /* Invalid polygons ear clipping cannot cover are reported by GEOS's reason: a hole
     * outside its shell; nested holes overlap (winding -1). */
    double out[] = {0, 0, 10, 0, 10, 10, 0, 10, 20, 2, 20, 7, 25, 7, 25, 2};
    ct_polygon p_out = make_polygon(2, (uint32_t[]){4, 4}, out);
    ct_footprint f_out = {1, &p_out};
    ex = ct_extruder_create();
    CT_CHECK(ct_extrude_footprint(ex, &f_out, 0, 10, 1, &m) == CT_EXTRUDE_INVALID);
    CT_CHECK_MSG(strstr(ct_extruder_reason(ex), "Hole lies outside shell") != NULL, "%s", ct_extruder_reason(ex));
    double nest[] = {0, 0, 20, 0, 20, 20, 0, 20, 2, 2, 2, 18, 18, 18, 18, 2, 5, 5, 5, 15, 15, 15, 15, 5};
    ct_polygon p_nest = make_polygon(3, (uint32_t[]){4, 4, 4}, nest);
    ct_footprint f_nest = {1, &p_nest};
    CT_CHECK(ct_extrude_footprint(ex, &f_nest, 0, 10, 1, &m) == CT_EXTRUDE_INVALID);
    /* No area: two points, three on a line. */
    double flat[] = {0, 0, 10, 0, 20, 0};
    ct_polygon p_2 = make_polygon(1, (uint32_t[]){2}, flat), p_3 = make_polygon(1, (uint32_t[]){3}, flat);
    ct_footprint f_2 = {1, &p_2}, f_3 = {1, &p_3};
    CT_CHECK(ct_extrude_footprint(ex, &f_2, 0, 10, 1, &m) == CT_EXTRUDE_INVALID);
    CT_CHECK(ct_extrude_footprint(ex, &f_3, 0, 10, 1, &m) == CT_EXTRUDE_INVALID);
    ct_polygon_free(&p_2);
    ct_polygon_free(&p_3);
    ct_extruder_destroy(ex);
    ct_polygon_free(&p_out);
    ct_polygon_free(&p_nest);

    touching_and_degenerate();
    random_repaired(0);

    /* The GEOS fallback alone (CT_EXTRUDE_TRIANGULATOR=geos, read when an extruder is
     * created) on the plain shapes; it cannot do a hole touching the shell (GEOS 3.11). */
    setenv("CT_EXTRUDE_TRIANGULATOR", "geos", 1);
    check_solid("GEOS: square", &f_sq, 1.5, 11.5, 1);
    check_solid("GEOS: L-shape", &f_l, 0, 7, 1);
    check_solid("GEOS: two holes", &f_h2, -2, 12, 1);
    check_solid("GEOS: multipolygon", &f_mp, 0, 5, 1);
    random_repaired(1);
    {
        double c7[] = {0, 0, 10, 0, 10, 10, 0, 10, 0, 5, 4, 7, 4, 3};
        ct_polygon p7 = make_polygon(2, (uint32_t[]){4, 3}, c7);
        ct_footprint f7 = {1, &p7};
        ex = ct_extruder_create();
        ct_extrude_result r = ct_extrude_footprint(ex, &f7, 0, 10, 1, &m);
        CT_CHECK_MSG(r == CT_EXTRUDE_FAILED, "GEOS on case 7: %d (%s)", (int)r, ct_extruder_reason(ex));
        if (r == CT_EXTRUDE_OK) ct_mesh_free(&m);
        ct_extruder_destroy(ex);
        ct_polygon_free(&p7);
    }
    unsetenv("CT_EXTRUDE_TRIANGULATOR");

    ct_polygon_free(&p_sq); ct_polygon_free(&p_l); ct_polygon_free(&p_h2); ct_polygon_free(&p_bow);
    ct_polygon_free(&parts[0]); ct_polygon_free(&parts[1]);
    return ct_test_finish("test_extrude");
}
