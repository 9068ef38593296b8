/* Extrusion of hand-made footprints: every mesh closed, 2-manifold, outward-facing,
 * with volume = area x height, and normals pointing away from the solid. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "citytiler/extrude.h"
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

    ct_polygon_free(&p_sq); ct_polygon_free(&p_l); ct_polygon_free(&p_h2); ct_polygon_free(&p_bow);
    ct_polygon_free(&parts[0]); ct_polygon_free(&parts[1]);
    return ct_test_finish("test_extrude");
}
