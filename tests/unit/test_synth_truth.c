/* Heights against known ground truth: a 1,000-building synthetic city (tools/synthcity,
 * flat roofs at known heights with 5 cm noise, ground sloping up to 2%) through
 * readers.footprints + readers.lidar + filters.heights. Roofs must match the truth within
 * 0.1 m and grounds within 0.5 m (the ground percentile is taken in a 3 m ring around
 * the footprint, the truth at the centroid) for every building the LiDAR covers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ct_test.h"
#include "ct_test_pipeline.h"

typedef struct truth { char id[32]; double ground, roof; } truth;

static int cmp_truth(const void *a, const void *b) { return strcmp(((const truth *)a)->id, ((const truth *)b)->id); }
static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(void) {
    const char *bin = ct_test_env("CT_BINARY_DIR", ".");
    char dir[4096], cmd[9000], path[4200];
    snprintf(dir, sizeof dir, "%s/test-out/synth-truth", bin);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && '%s/tools/synthcity/synthcity' --buildings 1000 --density 4 --seed 5 --out '%s' > /dev/null",
             dir, bin, dir);
    int rc = system(cmd);
    CT_CHECK_MSG(rc == 0, "synthcity failed (%d)", rc);
    if (rc != 0) return ct_test_finish("test_synth_truth");

    snprintf(path, sizeof path, "%s/truth.csv", dir);
    FILE *f = fopen(path, "r");
    CT_CHECK(f != NULL);
    if (!f) return ct_test_finish("test_synth_truth");
    truth *t = calloc(2000, sizeof *t);
    size_t nt = 0;
    char line[512];
    if (!fgets(line, sizeof line, f)) line[0] = '\0'; /* header */
    while (nt < 2000 && fgets(line, sizeof line, f))
        if (sscanf(line, "%31[^,],%lf,%lf", t[nt].id, &t[nt].ground, &t[nt].roof) == 3) nt++;
    fclose(f);
    CT_CHECK(nt == 1000);
    qsort(t, nt, sizeof *t, cmp_truth);

    char json[16384];
    snprintf(json, sizeof json,
             "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"%s/footprints.gpkg\", \"id_field\": \"id\"},"
             "{\"type\": \"readers.lidar\", \"path\": \"%s/points.las\"}, {\"type\": \"filters.heights\"}]}", dir, dir);
    snprintf(path, sizeof path, "%s/pipeline.json", dir);
    ct_context *ctx = NULL;
    ct_pipeline *p = NULL;
    ct_dataset *ds = ct_test_run_pipeline(path, json, 2, &ctx, &p);
    if (ds) {
        int cg = ct_dataset_find_attr(ds, "ground_z"), cr = ct_dataset_find_attr(ds, "roof_z");
        int cf = ct_dataset_find_attr(ds, "flag");
        double *droof = calloc(ds->nbuildings + 1, sizeof *droof), *dground = calloc(ds->nbuildings + 1, sizeof *dground);
        size_t n = 0, flagged = 0, bad_roof = 0, bad_ground = 0;
        for (size_t i = 0; i < ds->nbuildings; i++) {
            const ct_building *b = &ds->buildings[i];
            truth key;
            snprintf(key.id, sizeof key.id, "%s", b->id);
            const truth *tr = bsearch(&key, t, nt, sizeof *t, cmp_truth);
            CT_CHECK_MSG(tr != NULL, "building %s not in the truth", b->id);
            if (!tr) continue;
            if (b->attrs[cf].v.s && b->attrs[cf].v.s[0]) {
                flagged++;
                continue;
            }
            double dr = b->attrs[cr].v.r - tr->roof, dg = b->attrs[cg].v.r - tr->ground;
            droof[n] = fabs(dr);
            dground[n] = fabs(dg);
            n++;
            if (fabs(dr) > 0.1) bad_roof++;
            if (fabs(dg) > 0.5) bad_ground++;
        }
        qsort(droof, n, sizeof *droof, cmp_double);
        qsort(dground, n, sizeof *dground, cmp_double);
        if (n)
            printf("%zu buildings measured, %zu flagged; |roof - truth| median %.3f p95 %.3f max %.3f m; "
                   "|ground - truth| median %.3f p95 %.3f max %.3f m\n",
                   n, flagged, droof[n / 2], droof[n * 95 / 100], droof[n - 1], dground[n / 2], dground[n * 95 / 100],
                   dground[n - 1]);
        CT_CHECK_MSG(n >= 990, "only %zu of 1000 buildings measured", n);
        CT_CHECK_MSG(bad_roof == 0, "%zu roofs off by more than 0.1 m", bad_roof);
        CT_CHECK_MSG(bad_ground == 0, "%zu grounds off by more than 0.5 m", bad_ground);
        free(droof);
        free(dground);
    }
    free(t);
    ct_test_pipeline_free(ctx, p, ds);
    return ct_test_finish("test_synth_truth");
}
