/* The sample pipeline end to end, through the library:
 *  - every input footprint appears exactly once in the tiles (id matches), minus skips;
 *  - every extruded mesh is closed, 2-manifold, outward, volume = area x height;
 *  - the root region matches the footprints' extent within 1 m (tiles sit where the city is). */
#include <gdal.h>
#include <jansson.h>
#include <math.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "citytiler/building_mesh.h"
#include "citytiler/pipeline.h"
#include "ct_glb_read.h"
#include "ct_test.h"

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

typedef struct id_list { char **v; size_t n, cap; } id_list;
static void push(id_list *l, const char *s) {
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 256;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = strdup(s);
}
static void free_list(id_list *l) {
    for (size_t i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
}

/* Input ids and the footprints' lon/lat extent, read with OGR independently of citytiler. */
static void read_input(const char *gpkg, id_list *ids, double ll[4]) {
    GDALAllRegister();
    GDALDatasetH ds = GDALOpenEx(gpkg, GDAL_OF_VECTOR, NULL, NULL, NULL);
    CT_CHECK(ds != NULL);
    if (!ds) return;
    OGRLayerH layer = GDALDatasetGetLayerByName(ds, "bgt_pand");
    OGRSpatialReferenceH wgs = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(wgs, 4326);
    OSRSetAxisMappingStrategy(wgs, OAMS_TRADITIONAL_GIS_ORDER);
    OGRCoordinateTransformationH t = OCTNewCoordinateTransformation(OGR_L_GetSpatialRef(layer), wgs);
    ll[0] = ll[1] = 1e9;
    ll[2] = ll[3] = -1e9;
    OGRFeatureH f;
    while ((f = OGR_L_GetNextFeature(layer)) != NULL) {
        push(ids, OGR_F_GetFieldAsString(f, OGR_F_GetFieldIndex(f, "gml_id")));
        OGRGeometryH g = OGR_F_GetGeometryRef(f);
        OGR_G_Transform(g, t);
        OGREnvelope e;
        OGR_G_GetEnvelope(g, &e);
        if (e.MinX < ll[0]) ll[0] = e.MinX;
        if (e.MinY < ll[1]) ll[1] = e.MinY;
        if (e.MaxX > ll[2]) ll[2] = e.MaxX;
        if (e.MaxY > ll[3]) ll[3] = e.MaxY;
        OGR_F_Destroy(f);
    }
    OCTDestroyCoordinateTransformation(t);
    OSRRelease(wgs);
    GDALClose(ds);
}

/* Collects the "id" strings of the content GLBs under tile: leaves (full detail) into
 * `out`, parents (coarser HLOD copies of some buildings) into `coarse`. */
static void collect_ids(const char *dir, json_t *tile, id_list *out, id_list *coarse, size_t *nglb) {
    json_t *content = json_object_get(tile, "content");
    id_list *dest = json_array_size(json_object_get(tile, "children")) ? coarse : out;
    if (content) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, json_string_value(json_object_get(content, "uri")));
        ct_glb_file g;
        int rc = ct_glb_load(path, &g);
        CT_CHECK_MSG(rc == 0, "cannot read %s", path);
        if (rc == 0) {
            size_t n = 0;
            char **s = ct_glb_strings(&g, "id", &n);
            CT_CHECK_MSG(s != NULL, "%s: no id property", path);
            for (size_t i = 0; i < n; i++) push(dest, s[i]);
            ct_glb_free_strings(s, n);
            ct_glb_release(&g);
            (*nglb)++;
        }
    }
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(tile, "children"), i, c) collect_ids(dir, c, out, coarse, nglb);
}

int main(void) {
    const char *src = ct_test_env("CT_SOURCE_DIR", ".");
    const char *bin = ct_test_env("CT_BINARY_DIR", ".");
    char pipeline[4096], outdir[4096], set[4200], gpkg[4096];
    snprintf(pipeline, sizeof pipeline, "%s/pipelines/sample.json", src);
    snprintf(outdir, sizeof outdir, "%s/test-out/sample-e2e", bin);
    snprintf(set, sizeof set, "writers.3dtiles.path=%s", outdir);
    snprintf(gpkg, sizeof gpkg, "%s/data-samples/delft/bgt_pand.gpkg", src);

    ct_context *ctx = ct_context_create();
    ct_context_set_threads(ctx, 2);
    const char *sets[] = {set};
    ct_pipeline *p = NULL;
    ct_status st = ct_pipeline_load(ctx, pipeline, sets, 1, &p);
    CT_CHECK_MSG(st == CT_OK, "%s", ct_error_message(ctx));
    ct_dataset *ds = NULL;
    if (st == CT_OK) st = ct_pipeline_run(ctx, p, &ds);
    CT_CHECK_MSG(st == CT_OK, "%s", ct_error_message(ctx));
    if (!ds) return ct_test_finish("test_sample_e2e");

    /* Meshes (as a stage after filters.extrude gets them: kept, or extruded again when
     * filters.extrude did not keep them): closed, 2-manifold, volume = footprint area x height. */
    size_t bad = 0;
    ct_extruder *ex = ct_extruder_create();
    CT_CHECK(ex != NULL);
    for (size_t i = 0; ex && i < ds->nbuildings; i++) {
        const ct_building *b = &ds->buildings[i];
        ct_mesh tmp;
        const ct_mesh *m = ct_building_mesh(ex, ds, b, &tmp);
        CT_CHECK_MSG(m != NULL, "building %s: no mesh", b->id);
        if (!m) continue;
        ct_mesh_check c;
        CT_CHECK(ct_mesh_check_topology(m, &c) == 0);
        ct_mesh_free(&tmp);
        double expect = ct_footprint_area(&b->footprint) * (b->top_z - b->base_z);
        if (c.boundary_edges || c.nonmanifold_edges || c.misoriented_edges || c.degenerate_triangles ||
            !(c.signed_volume > 0) || fabs(c.signed_volume - expect) > 1e-6 * expect) {
            bad++;
            fprintf(stderr, "building %s: boundary %zu nonmanifold %zu misoriented %zu volume %.6f expected %.6f\n",
                    b->id, c.boundary_edges, c.nonmanifold_edges, c.misoriented_edges, c.signed_volume, expect);
        }
    }
    CT_CHECK_MSG(bad == 0, "%zu of %zu meshes are not closed 2-manifold solids of the right volume", bad, ds->nbuildings);
    ct_extruder_destroy(ex);

    /* Every input id exactly once in the output, minus reported skips. */
    id_list in = {0}, outids = {0}, coarse = {0};
    double ll[4] = {0, 0, 0, 0};
    read_input(gpkg, &in, ll);
    CT_CHECK(in.n == 160);
    CT_CHECK(ds->input_features == in.n);
    char tileset[4200];
    snprintf(tileset, sizeof tileset, "%s/tileset.json", outdir);
    json_t *ts = json_load_file(tileset, 0, NULL);
    CT_CHECK(ts != NULL);
    size_t nglb = 0;
    if (ts) collect_ids(outdir, json_object_get(ts, "root"), &outids, &coarse, &nglb);
    CT_CHECK(nglb > 1);
    CT_CHECK_MSG(outids.n + ct_dataset_skipped_total(ds) == in.n, "%zu written + %llu skipped != %zu read", outids.n,
                 (unsigned long long)ct_dataset_skipped_total(ds), in.n);
    qsort(in.v, in.n, sizeof *in.v, cmp_str);
    qsort(outids.v, outids.n, sizeof *outids.v, cmp_str);
    for (size_t i = 1; i < outids.n; i++) CT_CHECK_MSG(strcmp(outids.v[i - 1], outids.v[i]) != 0, "id %s twice", outids.v[i]);
    for (size_t i = 0; i < outids.n; i++)
        CT_CHECK_MSG(bsearch(&outids.v[i], in.v, in.n, sizeof *in.v, cmp_str) != NULL, "id %s not in input", outids.v[i]);
    /* Parent tiles (HLOD) only repeat input buildings. */
    for (size_t i = 0; i < coarse.n; i++)
        CT_CHECK_MSG(bsearch(&coarse.v[i], in.v, in.n, sizeof *in.v, cmp_str) != NULL, "coarse id %s not in input", coarse.v[i]);

    /* Placement: the root region's edges, in metres, within 1 m of the footprints' extent. */
    json_t *region = json_object_get(json_object_get(json_object_get(ts, "root"), "boundingVolume"), "region");
    CT_CHECK(json_array_size(region) == 6);
    if (json_array_size(region) == 6) {
        double r[6];
        for (int k = 0; k < 6; k++) r[k] = json_number_value(json_array_get(region, k));
        double lat = 0.5 * (ll[1] + ll[3]) * M_PI / 180.0;
        double m_per_rad_lat = 6371000.0, m_per_rad_lon = 6371000.0 * cos(lat);
        double d[4] = {(r[0] - ll[0] * M_PI / 180) * m_per_rad_lon, (r[1] - ll[1] * M_PI / 180) * m_per_rad_lat,
                       (r[2] - ll[2] * M_PI / 180) * m_per_rad_lon, (r[3] - ll[3] * M_PI / 180) * m_per_rad_lat};
        for (int k = 0; k < 4; k++) CT_CHECK_MSG(fabs(d[k]) < 1.0, "region edge %d off by %.3f m", k, d[k]);
        /* Heights: tight around the lowest ground and the highest roof, raised from NAP
         * to the WGS84 ellipsoid by the geoid (about 43.5 m in Delft; test_placement
         * checks the exact value against PROJ). */
        double zmin = INFINITY, zmax = -INFINITY;
        for (size_t i = 0; i < ds->nbuildings; i++) {
            if (ds->buildings[i].base_z < zmin) zmin = ds->buildings[i].base_z;
            if (ds->buildings[i].top_z > zmax) zmax = ds->buildings[i].top_z;
        }
        CT_CHECK_MSG(r[4] - zmin > 42.5 && r[4] - zmin < 44.5, "ground %.3f m NAP at %.3f m ellipsoidal", zmin, r[4]);
        CT_CHECK_NEAR(r[5] - r[4], zmax - zmin, 0.05);
    }
    json_decref(ts);
    free_list(&in);
    free_list(&outids);
    free_list(&coarse);
    ct_dataset_destroy(ds);
    ct_pipeline_destroy(p);
    ct_context_destroy(ctx);
    return ct_test_finish("test_sample_e2e");
}
