/* A tile's positions: every vertex of a built tile, taken through the tile's ENU frame
 * back to ECEF, lies within 0.1 mm of a vertex of its own building transformed on its own
 * (working CRS -> geodetic -> ECEF), and every vertex of every building is in the tile.
 * The writer transforms each distinct position once and copies the result to its
 * repeats (flat-shaded walls repeat every corner, and neighbours share walls here); a
 * wrong copy moves vertices to another corner or another building. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "citytiler/extrude.h"
#include "ct_glb_read.h"
#include "ct_test.h"
#include "tiles/tile_content.h"

enum { NB = 6 };

/* An n-gon of radius r around (cx, cy), extruded from z0 to z1. */
static void ngon(int n, double r, double cx, double cy, double z0, double z1, ct_mesh *out) {
    ct_polygon p;
    p.nrings = 1;
    p.ring_start = malloc(2 * sizeof *p.ring_start);
    p.xy = malloc(2 * (size_t)n * sizeof *p.xy);
    CT_CHECK(p.ring_start && p.xy);
    p.ring_start[0] = 0;
    p.ring_start[1] = (uint32_t)n;
    for (int i = 0; i < n; i++) {
        double a = 2 * M_PI * i / n + 0.1;
        p.xy[2 * i] = cx + r * cos(a);
        p.xy[2 * i + 1] = cy + r * sin(a);
    }
    ct_footprint fp = {1, &p};
    ct_extruder *ex = ct_extruder_create();
    CT_CHECK(ex && ct_extrude_footprint(ex, &fp, z0, z1, 1, out) == CT_EXTRUDE_OK);
    ct_extruder_destroy(ex);
    ct_polygon_free(&p);
}

/* The ECEF position of working-CRS point (x, y, z), transformed alone. */
static void expected_ecef(ct_context *ctx, ct_geo_transform *geo, const double *p, double e[3]) {
    double x = p[0], y = p[1], z = p[2];
    CT_CHECK(ct_geo_to_geodetic(ctx, geo, &x, &y, &z, 1, 1) == CT_OK);
    ct_geodetic_to_ecef(x, y, z, e);
}

static double dist3(const double *a, const double *b) {
    return sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) + (a[2] - b[2]) * (a[2] - b[2]));
}

int main(void) {
    ct_context *ctx = ct_context_create();
    ct_dataset *ds = ct_dataset_create();
    ct_geo_transform *geo = NULL;
    CT_CHECK(ctx && ds);
    CT_CHECK_MSG(ct_geo_transform_create(ctx, "EPSG:28992", &geo) == CT_OK, "%s", ct_error_message(ctx));
    /* Towers of 3 to 8 sides; two pairs of identical neighbours share every position. */
    const double at[NB][2] = {{85000, 447500}, {85000, 447500}, {85040, 447510}, {85040, 447510}, {85100, 447480}, {84950, 447560}};
    for (int k = 0; k < NB; k++) {
        ct_building *b = NULL;
        CT_CHECK(ct_dataset_append(ctx, ds, &b) == CT_OK);
        char id[16];
        snprintf(id, sizeof id, "b%d", k);
        b->id = strdup(id);
        CT_CHECK(b->id != NULL);
        /* the last a 300 m tower: in RD New a 3D Helmert turns the position 1.5 mm in
         * 100 m of height, which the writer carries from the floor to the roof */
        ngon(3 + k, 6 + k, at[k][0], at[k][1], -1.5 + 0.25 * k, k == NB - 1 ? 300 : 12 + 3 * k, &b->mesh);
    }
    uint32_t idx[NB];
    for (int k = 0; k < NB; k++) idx[k] = (uint32_t)(NB - 1 - k); /* feature k is building idx[k] */
    ct_glb_options opts;
    memset(&opts, 0, sizeof opts);
    ct_tile_output out;
    CT_CHECK_MSG(ct_tile_build(ctx, geo, ds, idx, NB, NULL, "building", &opts, &out) == CT_OK, "%s", ct_error_message(ctx));

    ct_glb_file g;
    CT_CHECK(ct_glb_parse(out.glb, out.glb_len, &g));
    json_t *attrs = json_object_get(json_array_get(json_object_get(json_array_get(json_object_get(g.json, "meshes"), 0), "primitives"), 0), "attributes");
    size_t pacc = (size_t)json_integer_value(json_object_get(attrs, "POSITION"));
    size_t facc = (size_t)json_integer_value(json_object_get(attrs, "_FEATURE_ID_0"));
    size_t nv = (size_t)ct_glb_int(json_array_get(json_object_get(g.json, "accessors"), pacc), "count");
    json_t *fview = NULL;
    const uint8_t *pos = ct_glb_accessor(&g, pacc, NULL), *fid = ct_glb_accessor(&g, facc, &fview);
    CT_CHECK(pos && fid && nv > 0);
    /* _FEATURE_ID_0: FLOAT, UNSIGNED_BYTE or UNSIGNED_SHORT (5126, 5121, 5123) */
    json_int_t ftype = ct_glb_int(json_array_get(json_object_get(g.json, "accessors"), facc), "componentType");
    CT_CHECK_MSG(ftype == 5126 || ftype == 5121 || ftype == 5123, "feature id component type %lld", (long long)ftype);
    size_t fstride = (size_t)ct_glb_int(fview, "byteStride");
    if (!fstride) fstride = ftype == 5126 ? 4 : ftype == 5123 ? 2 : 1;
    size_t want = 0;
    for (int k = 0; k < NB; k++) want += ds->buildings[idx[k]].mesh.nverts;
    CT_CHECK_MSG(nv == want, "%zu vertices in the tile, %zu in the meshes", nv, want);

    /* Every tile vertex near a vertex of its own building, and the other way round. */
    double worst = 0;
    unsigned char *seen = calloc(want, 1);
    CT_CHECK(seen != NULL);
    for (size_t v = 0; v < nv; v++) {
        float l[3], f;
        memcpy(l, pos + 12 * v, sizeof l);
        if (ftype == 5126) {
            memcpy(&f, fid + fstride * v, sizeof f);
        } else if (ftype == 5121) {
            f = fid[fstride * v];
        } else {
            uint16_t u;
            memcpy(&u, fid + fstride * v, sizeof u);
            f = u;
        }
        CT_CHECK(f >= 0 && f < NB && f == floorf(f));
        const double *m = out.transform;
        double e[3];
        for (int r = 0; r < 3; r++) e[r] = m[r] * l[0] + m[4 + r] * l[1] + m[8 + r] * l[2] + m[12 + r];
        const ct_mesh *mesh = &ds->buildings[idx[(int)f]].mesh;
        double best = INFINITY;
        size_t first = 0;
        for (int k = 0; k < (int)f; k++) first += ds->buildings[idx[k]].mesh.nverts;
        for (size_t j = 0; j < mesh->nverts; j++) {
            double x[3];
            expected_ecef(ctx, geo, mesh->pos + 3 * j, x);
            double d = dist3(e, x);
            if (d < best) best = d;
            if (d < 0.0001) seen[first + j] = 1;
        }
        if (best > worst) worst = best;
    }
    printf("%zu vertices of %d buildings: largest distance to their own building's vertices %.4f mm\n", nv, NB, worst * 1e3);
    CT_CHECK_MSG(worst < 0.0001, "a vertex lies %.6f m from every vertex of its building", worst);
    size_t missing = 0;
    for (size_t j = 0; j < want; j++) missing += !seen[j];
    CT_CHECK_MSG(missing == 0, "%zu mesh vertices have no tile vertex near them", missing);

    free(seen);
    ct_glb_release(&g);
    free(out.glb);
    ct_geo_transform_destroy(geo);
    ct_dataset_destroy(ds);
    ct_context_destroy(ctx);
    return ct_test_finish("test_tile_content");
}
