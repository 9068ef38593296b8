/* filters.extrude in a pipeline without filters.clean: footprints whose vertices or rings
 * lie closer than 32-bit floats can tell apart (a 0.1 um notch, a vertex repeated 0.1 um
 * away, a hole 0.1 um from its shell, as a QA mesh checker found) get the float-safety
 * rules (merge, snap-round at 1 mm), counted; their meshes, stored as float32 the way
 * the writer stores them (relative to a tile centre a few hundred metres away), have no
 * triangle that turns over or collapses. A plain footprint keeps its vertices, and an
 * invalid one is still skipped, not repaired. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "citytiler/building_mesh.h"
#include "ct_test.h"
#include "ct_test_pipeline.h"

#define X0 86100.0
#define Y0 446000.0

/* Features of the test file (EPSG:28992), as GeoJSON text, coordinates relative to X0, Y0. */
static const char *const features[] = {
    "\"plain\", \"geometry\": {\"type\": \"Polygon\", \"coordinates\": [[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]]}",
    /* a notch 0.1 um deep in the east side */
    "\"notch\", \"geometry\": {\"type\": \"Polygon\", \"coordinates\": [[[20, 0], [30, 0], [30, 5], "
    "[29.9999999, 5.0000001], [30, 5.0000002], [30, 10], [20, 10], [20, 0]]]}",
    /* a corner repeated 0.1 um away */
    "\"near_dup\", \"geometry\": {\"type\": \"Polygon\", \"coordinates\": [[[40, 0], [50, 0], [50.0000001, 0.0000001], "
    "[50, 10], [40, 10], [40, 0]]]}",
    /* a hole whose west side runs 0.1 um inside the shell's */
    "\"hole_near_shell\", \"geometry\": {\"type\": \"Polygon\", \"coordinates\": [[[60, 0], [80, 0], [80, 20], [60, 20], "
    "[60, 0]], [[60.0000001, 5], [60.0000001, 15], [70, 15], [70, 5], [60.0000001, 5]]]}",
    /* invalid: a bow-tie */
    "\"bowtie\", \"geometry\": {\"type\": \"Polygon\", \"coordinates\": [[[90, 0], [100, 10], [100, 0], [90, 10], "
    "[90, 0]]]}",
};
#define NFEATURES (sizeof features / sizeof features[0])

static int write_input(const char *path) {
    FILE *f = fopen(path, "w");
    if (!f) return 0;
    fprintf(f, "{\"type\": \"FeatureCollection\", \"crs\": {\"type\": \"name\", \"properties\": {\"name\": "
               "\"urn:ogc:def:crs:EPSG::28992\"}}, \"features\": [\n");
    for (size_t i = 0; i < NFEATURES; i++) {
        /* shift the relative coordinates by X0, Y0 textually: each number pair [a, b] */
        const char *s = features[i];
        fprintf(f, "%s{\"type\": \"Feature\", \"properties\": {\"name\": ", i ? ",\n" : "");
        const char *g = strstr(s, "\"geometry\"");
        fprintf(f, "%.*s}, ", (int)(g - s - 2), s);
        const char *c = strstr(g, "[[");
        fprintf(f, "%.*s", (int)(c - g), g);
        for (const char *p = c; *p;) {
            if (*p == '[' && p[1] != '[') {
                char *end;
                double a = strtod(p + 1, &end);
                double b = strtod(end + 1, &end);
                fprintf(f, "[%.7f, %.7f]", X0 + a, Y0 + b);
                p = end + 1; /* past ']' */
            } else {
                fputc(*p++, f);
            }
        }
        fputc('}', f);
    }
    fprintf(f, "\n]}\n");
    return fclose(f) == 0;
}

/* Triangles of b's mesh that turn over or collapse once its positions are float32
 * offsets from (cx, cy, 0), as the writer stores them. */
static size_t bad_float_triangles(const ct_mesh *m, double cx, double cy) {
    size_t bad = 0;
    for (size_t t = 0; t < m->nindices / 3; t++) {
        double d[3][3];
        float f[3][3];
        for (int k = 0; k < 3; k++) {
            const double *p = m->pos + 3 * m->idx[3 * t + k];
            d[k][0] = p[0];
            d[k][1] = p[1];
            d[k][2] = p[2];
            f[k][0] = (float)(p[0] - cx);
            f[k][1] = (float)(p[1] - cy);
            f[k][2] = (float)p[2];
        }
        double n[3], g[3];
        double u[3], v[3], uf[3], vf[3];
        for (int a = 0; a < 3; a++) {
            u[a] = d[1][a] - d[0][a];
            v[a] = d[2][a] - d[0][a];
            uf[a] = (double)f[1][a] - (double)f[0][a];
            vf[a] = (double)f[2][a] - (double)f[0][a];
        }
        n[0] = u[1] * v[2] - u[2] * v[1];
        n[1] = u[2] * v[0] - u[0] * v[2];
        n[2] = u[0] * v[1] - u[1] * v[0];
        g[0] = uf[1] * vf[2] - uf[2] * vf[1];
        g[1] = uf[2] * vf[0] - uf[0] * vf[2];
        g[2] = uf[0] * vf[1] - uf[1] * vf[0];
        double dot = n[0] * g[0] + n[1] * g[1] + n[2] * g[2];
        double ln = sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]), lg = sqrt(g[0] * g[0] + g[1] * g[1] + g[2] * g[2]);
        /* turned over, collapsed, or leaning more than 45 degrees from its true plane */
        if (!(lg > 0) || !(dot > 0.7 * ln * lg)) bad++;
    }
    return bad;
}

static uint64_t changed_for(const ct_dataset *ds, const char *prefix) {
    for (size_t r = 0; r < ds->nchanged; r++)
        if (strncmp(ds->changed[r].reason, prefix, strlen(prefix)) == 0) return ds->changed[r].count;
    return 0;
}

int main(void) {
    const char *bin = ct_test_env("CT_BINARY_DIR", ".");
    char dir[4096], input[4200], pipeline[4200], json[9000];
    snprintf(dir, sizeof dir, "%s/test-out", bin);
    mkdir(dir, 0777);
    snprintf(input, sizeof input, "%s/extrude-stage.geojson", dir);
    snprintf(pipeline, sizeof pipeline, "%s/extrude-stage.json", dir);
    CT_CHECK(write_input(input));
    snprintf(json, sizeof json,
             "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"%s\", \"id_field\": \"name\"},"
             " {\"type\": \"filters.extrude\", \"height\": 10, \"keep_meshes_up_to\": 100}]}",
             input);
    for (int threads = 1; threads <= 2; threads++) {
        ct_context *ctx = NULL;
        ct_pipeline *p = NULL;
        ct_dataset *ds = ct_test_run_pipeline(pipeline, json, threads, &ctx, &p);
        if (ds) {
            CT_CHECK_MSG(ds->nbuildings == NFEATURES - 1, "%zu buildings", ds->nbuildings);
            CT_CHECK(ct_dataset_skipped_for(ds, "invalid footprint (not repaired)") == 1);
            CT_CHECK_MSG(changed_for(ds, "extrude: vertices within 1 mm merged") == 2, "merged %llu",
                         (unsigned long long)changed_for(ds, "extrude: vertices within 1 mm merged"));
            CT_CHECK_MSG(changed_for(ds, "extrude: nearly touching rings made to touch") == 1, "snapped %llu",
                         (unsigned long long)changed_for(ds, "extrude: nearly touching rings made to touch"));
            for (size_t i = 0; i < ds->nbuildings; i++) {
                const ct_building *b = &ds->buildings[i];
                const ct_mesh *m = &b->mesh;
                CT_CHECK_MSG(m->nindices > 0, "%s: no mesh", b->id);
                ct_mesh_check c;
                CT_CHECK(ct_mesh_check_topology(m, &c) == 0);
                CT_CHECK_MSG(c.boundary_edges == 0 && c.nonmanifold_edges == 0 && c.misoriented_edges == 0 &&
                                 c.degenerate_triangles == 0,
                             "%s: open %zu, non-manifold %zu, misoriented %zu, degenerate %zu", b->id, c.boundary_edges,
                             c.nonmanifold_edges, c.misoriented_edges, c.degenerate_triangles);
                /* tile centres 300 m and 700 m away */
                size_t bad = bad_float_triangles(m, X0 - 300, Y0 + 50) + bad_float_triangles(m, X0 + 700, Y0 - 200);
                CT_CHECK_MSG(bad == 0, "%s: %zu triangles turn over or collapse in float32", b->id, bad);
                double area = ct_footprint_area(&b->footprint);
                double expect = strcmp(b->id, "hole_near_shell") == 0 ? 300 : 100;
                CT_CHECK_MSG(fabs(area - expect) < 0.02, "%s: area %.6f, expected %.0f", b->id, area, expect);
                if (strcmp(b->id, "plain") == 0) { /* untouched */
                    CT_CHECK(b->footprint.nparts == 1 && b->footprint.parts[0].nrings == 1 &&
                             b->footprint.parts[0].ring_start[1] == 4);
                }
            }
        }
        ct_test_pipeline_free(ctx, p, ds);
    }
    return ct_test_finish("test_extrude_stage");
}
