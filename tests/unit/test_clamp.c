/* Ground clamping of city assets (ground.h, filters.clamp).
 * 1. A synthetic sloped ground z = 0.02 x - 0.01 y + 5 (class-2 points on a jittered
 *    1 m grid crossing a cell boundary, with a 10 m building of class-6 points and no
 *    ground under it): the interpolated ground is within 2 cm of the plane at random
 *    positions, at the edge and in the corners of the data, and in the building's
 *    ground gap; both methods are measured (the plane is the default). Through the
 *    stage: an explicit z is kept, a height above ground adds, on_roof uses the
 *    building's top_z, an asset beyond the data is flagged outside_lidar, results are
 *    the same with 1 and 2 threads.
 * 2. The Amsterdam sample (BAG footprints, two AHN tiles, 51 street lights, trees and
 *    signs): every asset inside a LiDAR tile is within 0.5 m of an independent ground
 *    estimate (median of the class-2 points within 2 m, queried here directly); every
 *    asset outside both tiles is flagged outside_lidar, or lies within coverage_radius
 *    of the data and is then checked like the others. The lon/lat CSV copy lands within
 *    1 m of the EPSG:28992 GeoJSON points. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "citytiler/assets.h"
#include "citytiler/ground.h"
#include "citytiler/pipeline.h"
#include "citytiler/stage.h"
#include "core/options.h"
#include "ct_test.h"
#include "ct_test_building.h"

static double plane_z(double x, double y) { return 0.02 * x - 0.01 * y + 5.0; }

/* Deterministic uniform [0, 1). */
static double rnd(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(*s >> 11) / 9007199254740992.0;
}

/* Data: x in [230, 290] (crosses the 250 m cell edge), y in [-20, 30] (crosses 0). */
#define X0 230.0
#define X1 290.0
#define Y0 (-20.0)
#define Y1 30.0
/* The building: [260, 270] x [0, 10]. */
static int in_building(double x, double y) { return x >= 260 && x <= 270 && y >= 0 && y <= 10; }

static ct_point_store *synthetic_store(ct_context *ctx) {
    ct_point_store *s = ct_point_store_create(250.0, 2.0);
    if (!s) return NULL;
    uint64_t seed = 42;
    size_t cap = 8000, n = 0;
    double *x = malloc(cap * sizeof *x), *y = malloc(cap * sizeof *y), *z = malloc(cap * sizeof *z);
    uint8_t *c = malloc(cap);
    for (double gy = Y0; gy <= Y1 && x && y && z && c; gy += 1.0)
        for (double gx = X0; gx <= X1 && n < cap; gx += 1.0) {
            double px = gx + (rnd(&seed) - 0.5) * 0.6, py = gy + (rnd(&seed) - 0.5) * 0.6;
            if (px < X0) px = X0;
            if (px > X1) px = X1;
            if (py < Y0) py = Y0;
            if (py > Y1) py = Y1;
            x[n] = px;
            y[n] = py;
            if (in_building(px, py)) {
                z[n] = plane_z(px, py) + 12.0; /* roof: must be ignored */
                c[n] = 6;
            } else {
                z[n] = plane_z(px, py);
                c[n] = 2;
            }
            n++;
        }
    ct_status st = x && y && z && c ? ct_point_store_add(ctx, s, x, y, z, c, n) : CT_ERR_NOMEM;
    if (st == CT_OK) st = ct_point_store_index(ctx, s, 1);
    free(x);
    free(y);
    free(z);
    free(c);
    if (st != CT_OK) {
        ct_point_store_destroy(s);
        return NULL;
    }
    return s;
}

/* Max and mean error of one method over the positions. */
static void measure(const ct_point_store *store, ct_ground_method m, const double *px, const double *py, size_t n,
                    double *max_err, double *mean_err, double *max_edge_err) {
    ct_ground_params p;
    ct_ground_params_default(&p);
    p.method = m;
    ct_ground_scratch sc;
    memset(&sc, 0, sizeof sc);
    *max_err = *mean_err = *max_edge_err = 0;
    for (size_t i = 0; i < n; i++) {
        ct_ground_result r;
        ct_status st = ct_ground_at(store, px[i], py[i], &p, &sc, &r);
        CT_CHECK(st == CT_OK);
        double e = fabs(r.z - plane_z(px[i], py[i]));
        if (!(e <= *max_err)) *max_err = e; /* NaN counts as the worst */
        *mean_err += e / (double)n;
        int edge = px[i] < X0 + 1.5 || px[i] > X1 - 1.5 || py[i] < Y0 + 1.5 || py[i] > Y1 - 1.5;
        if (edge && !(e <= *max_edge_err)) *max_edge_err = e;
    }
    ct_ground_scratch_free(&sc);
}

static json_t *stage_options(ct_context *ctx, const char *type, const char *text) {
    json_t *o = json_loads(text, 0, NULL);
    ct_option_origin origin = {"test", 0, NULL};
    if (!o || ct_options_check(ctx, ct_stage_find(type), o, &origin) != CT_OK) {
        fprintf(stderr, "options: %s\n", ct_error_message(ctx));
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Runs filters.clamp (options JSON) on ds. */
static ct_status run_clamp(ct_context *ctx, ct_dataset *ds, const char *opts_text) {
    const ct_stage_vtable *vt = ct_stage_find("filters.clamp");
    CT_CHECK(vt != NULL);
    if (!vt) return CT_ERR_INTERNAL;
    json_t *o = stage_options(ctx, "filters.clamp", opts_text);
    if (!o) return CT_ERR_USAGE;
    void *state = NULL;
    ct_status st = vt->create(ctx, o, &state);
    if (st == CT_OK) st = vt->run(ctx, state, ds);
    if (state) vt->destroy(state);
    json_decref(o);
    return st;
}

static const ct_value *attr(const ct_asset_set *s, const ct_asset *a, const char *name) {
    for (size_t k = 0; k < s->nattrs; k++)
        if (strcmp(s->attrs[k].name, name) == 0) return &a->attrs[k];
    return NULL;
}

static const char *attr_str(const ct_asset_set *s, const ct_asset *a, const char *name) {
    const ct_value *v = attr(s, a, name);
    return v && !v->is_null ? v->v.s : "(null)";
}

static int cmp_double_asc(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void synthetic(void) {
    ct_context *ctx = ct_context_create();
    ct_point_store *store = synthetic_store(ctx);
    CT_CHECK(store != NULL);
    if (!store) {
        ct_context_destroy(ctx);
        return;
    }
    /* positions: random inside, along the four edges, the corners, the building gap */
    enum { N = 2000 };
    double px[N], py[N];
    uint64_t seed = 7;
    size_t n = 0;
    for (; n < 1400; n++) {
        px[n] = X0 + rnd(&seed) * (X1 - X0);
        py[n] = Y0 + rnd(&seed) * (Y1 - Y0);
    }
    for (; n < 1900; n++) { /* within 0.5 m of an edge */
        double t = rnd(&seed), d = rnd(&seed) * 0.5;
        switch (n % 4) {
        case 0: px[n] = X0 + d; py[n] = Y0 + t * (Y1 - Y0); break;
        case 1: px[n] = X1 - d; py[n] = Y0 + t * (Y1 - Y0); break;
        case 2: py[n] = Y0 + d; px[n] = X0 + t * (X1 - X0); break;
        default: py[n] = Y1 - d; px[n] = X0 + t * (X1 - X0); break;
        }
    }
    const double corners[4][2] = {{X0, Y0}, {X1, Y0}, {X0, Y1}, {X1, Y1}};
    for (int k = 0; k < 4; k++, n++) {
        px[n] = corners[k][0];
        py[n] = corners[k][1];
    }
    for (; n < N; n++) { /* inside the building: ground from around the gap */
        px[n] = 260 + rnd(&seed) * 10;
        py[n] = 0 + rnd(&seed) * 10;
    }
    double pmax, pmean, pedge, imax, imean, iedge;
    measure(store, CT_GROUND_PLANE, px, py, N, &pmax, &pmean, &pedge);
    measure(store, CT_GROUND_IDW, px, py, N, &imax, &imean, &iedge);
    printf("synthetic slope, %d positions (500 within 0.5 m of the edge, 4 corners, 96 in a 10 m ground gap):\n"
           "  plane (k=12): max error %.2e m, mean %.2e m, max at the edge %.2e m\n"
           "  idw   (k=12): max error %.4f m, mean %.5f m, max at the edge %.4f m\n",
           N, pmax, pmean, pedge, imax, imean, iedge);
    CT_CHECK_MSG(pmax <= 0.02, "plane: max error %.4f m", pmax);

    /* Through the stage. */
    ct_dataset *ds = ct_dataset_create();
    ds->points = store;
    ds->assets = ct_asset_set_create();
    static const double bxy[8] = {260, 0, 270, 0, 270, 10, 260, 10};
    ct_building *b = ct_test_add_building(ctx, ds, "b1", bxy, 4);
    CT_CHECK(b != NULL);
    if (!b) return;
    b->top_z = 22.5;
    b->base_z = 5.0;
    struct { const char *id; double x, y, z, hag; uint32_t flags; } in[] = {
        {"ground", 250.3, 5.2, NAN, NAN, 0},
        {"explicit", 250.3, 5.2, 1.25, NAN, CT_ASSET_Z_GIVEN},
        {"hag", 250.3, 5.2, NAN, 3.0, 0},
        {"roof", 265.0, 5.0, NAN, 1.0, CT_ASSET_ON_ROOF},
        {"roof_miss", 240.0, 5.0, NAN, NAN, CT_ASSET_ON_ROOF},
        {"beyond", X1 + 5.0, 5.0, NAN, NAN, 0},
        {"far", X1 + 50.0, 5.0, NAN, NAN, 0},
        {"edge", X1, Y1, NAN, NAN, 0},
        {"indoors", 263.0, 3.0, NAN, NAN, 0}, /* inside b1, not on_roof */
    };
    size_t nin = sizeof in / sizeof in[0];
    for (size_t i = 0; i < nin; i++) {
        ct_asset *a = NULL;
        CT_CHECK(ct_asset_set_append(ctx, ds->assets, &a) == CT_OK);
        a->id = strdup(in[i].id);
        a->source_record = i + 1;
        a->x = in[i].x;
        a->y = in[i].y;
        a->z = in[i].z;
        a->height_above_ground = in[i].hag;
        a->flags = in[i].flags;
    }
    ct_status st = run_clamp(ctx, ds, "{}");
    CT_CHECK_MSG(st == CT_OK, "%s", ct_error_message(ctx));
    const ct_asset_set *set = ds->assets;
    CT_CHECK(set->n == nin);
    double g0 = plane_z(250.3, 5.2);
    for (size_t i = 0; st == CT_OK && i < set->n; i++) {
        const ct_asset *a = &set->items[i];
        printf("  asset %-9s z %.3f z_source %-8s clamp_flag '%s'\n", a->id, a->z, attr_str(set, a, "z_source"),
               attr_str(set, a, "clamp_flag"));
    }
    if (st == CT_OK && set->n == nin) {
        const ct_asset *a = set->items;
        CT_CHECK_NEAR(a[0].z, g0, 0.02);
        CT_CHECK(strcmp(attr_str(set, &a[0], "z_source"), "lidar") == 0);
        CT_CHECK(strcmp(attr_str(set, &a[0], "clamp_flag"), "") == 0);
        CT_CHECK(a[1].z == 1.25); /* an explicit z wins */
        CT_CHECK(strcmp(attr_str(set, &a[1], "z_source"), "explicit") == 0);
        CT_CHECK_NEAR(a[2].z, g0 + 3.0, 0.02); /* height above ground adds */
        CT_CHECK_NEAR(a[3].z, 22.5 + 1.0, 1e-9); /* on the roof, plus its height */
        CT_CHECK(strcmp(attr_str(set, &a[3], "z_source"), "roof") == 0);
        CT_CHECK_NEAR(a[4].z, plane_z(240, 5), 0.02); /* on_roof outside any footprint: ground, flagged */
        CT_CHECK(strcmp(attr_str(set, &a[4], "clamp_flag"), "not_on_a_building") == 0);
        CT_CHECK(strcmp(attr_str(set, &a[5], "clamp_flag"), "outside_lidar") == 0);
        CT_CHECK(strcmp(attr_str(set, &a[6], "clamp_flag"), "outside_lidar") == 0);
        CT_CHECK(strcmp(attr_str(set, &a[6], "z_source"), "fallback") == 0);
        CT_CHECK(isfinite(a[6].z));
        CT_CHECK(strcmp(attr_str(set, &a[7], "clamp_flag"), "") == 0); /* the corner of the data is inside */
        CT_CHECK_NEAR(a[7].z, plane_z(X1, Y1), 0.02);
        /* inside a footprint, not on_roof: the ground around the building, flagged */
        CT_CHECK_NEAR(a[8].z, plane_z(263, 3), 0.02);
        CT_CHECK(strcmp(attr_str(set, &a[8], "z_source"), "lidar") == 0);
        CT_CHECK(strcmp(attr_str(set, &a[8], "clamp_flag"), "inside_building") == 0);
        /* the fallback: the median of the others' ground, the middle two's mean for an even count */
        double gz[16];
        size_t ng = 0;
        for (size_t i = 0; i < set->n && ng < 16; i++) {
            const ct_value *v = attr(set, &a[i], "ground_z");
            if (v && !v->is_null) gz[ng++] = v->v.r;
        }
        qsort(gz, ng, sizeof *gz, cmp_double_asc);
        CT_CHECK_MSG(ng >= 2 && ng % 2 == 0, "%zu grounds: the case needs an even count", ng);
        if (ng >= 2 && ng % 2 == 0) CT_CHECK_NEAR(a[6].z, 0.5 * (gz[ng / 2 - 1] + gz[ng / 2]), 1e-9);
    }
    /* Same numbers with 2 threads; no_ground "skip" drops the two outside the data. */
    double z1[16];
    for (size_t i = 0; i < set->n && i < 16; i++) z1[i] = set->items[i].z;
    ct_context_set_threads(ctx, 2);
    for (size_t i = 0; i < set->n; i++)
        if (!(set->items[i].flags & CT_ASSET_Z_GIVEN)) set->items[i].z = NAN;
    st = run_clamp(ctx, ds, "{\"no_ground\": \"skip\"}");
    CT_CHECK_MSG(st == CT_OK, "%s", ct_error_message(ctx));
    CT_CHECK(set->n == nin - 2);
    for (size_t i = 0, j = 0; st == CT_OK && i < nin && j < set->n; i++) {
        if (i == 5 || i == 6) continue;
        CT_CHECK_MSG(set->items[j].z == z1[i], "asset %s: %.9f vs %.9f", set->items[j].id, set->items[j].z, z1[i]);
        j++;
    }
    uint64_t sk = 0;
    for (size_t r = 0; r < set->nskipped; r++) sk += set->skipped[r].count;
    CT_CHECK(sk == 2);
    ct_dataset_destroy(ds);
    ct_context_destroy(ctx);
}

/* ---- Amsterdam ---- */

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Median of the class-2 points within r of (x, y); NaN when none. */
static double median_ground(const ct_point_store *s, double x, double y, double r, size_t *count) {
    ct_span_list l = {0};
    double bb[4] = {x - r, y - r, x + r, y + r};
    float *v = NULL;
    size_t n = 0, cap = 0;
    if (ct_point_store_query(s, bb, &l) == CT_OK)
        for (size_t k = 0; k < l.n; k++)
            for (size_t i = 0; i < l.v[k].n; i++) {
                const ct_point_rec *p = &l.v[k].p[i];
                double dx = l.v[k].ox + p->x - x, dy = l.v[k].oy + p->y - y;
                if (p->cls != 2 || dx * dx + dy * dy > r * r) continue;
                if (n == cap) {
                    cap = cap ? 2 * cap : 256;
                    float *nv = realloc(v, cap * sizeof *v);
                    if (!nv) break;
                    v = nv;
                }
                v[n++] = p->z;
            }
    ct_span_list_free(&l);
    *count = n;
    double m = NAN;
    if (n) {
        qsort(v, n, sizeof *v, cmp_float);
        m = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    }
    free(v);
    return m;
}

static ct_dataset *run_pipeline(ct_context *ctx, const char *name, const char *json) {
    const char *bin = ct_test_env("CT_BINARY_DIR", ".");
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s/test-out", bin);
    mkdir(dir, 0777);
    snprintf(path, sizeof path, "%s/clamp-%s.json", dir, name);
    FILE *f = fopen(path, "w");
    CT_CHECK(f != NULL);
    if (!f) return NULL;
    fputs(json, f);
    fclose(f);
    ct_pipeline *p = NULL;
    ct_dataset *ds = NULL;
    ct_status st = ct_pipeline_load(ctx, path, NULL, 0, &p);
    if (st == CT_OK) st = ct_pipeline_run(ctx, p, &ds);
    CT_CHECK_MSG(st == CT_OK, "%s: %s", name, ct_error_message(ctx));
    ct_pipeline_destroy(p);
    if (st != CT_OK) {
        ct_dataset_destroy(ds);
        return NULL;
    }
    return ds;
}

static void amsterdam(void) {
    const char *src = ct_test_env("CT_SOURCE_DIR", ".");
    char dir[1024], json[16384];
    snprintf(dir, sizeof dir, "%s/data-samples/amsterdam", src);
    snprintf(json, sizeof json,
             "{\"pipeline\": ["
             "{\"type\": \"readers.footprints\", \"path\": \"%s/bag_buildings_epsg28992.geojson\"},"
             "{\"type\": \"readers.lidar\", \"path\": [\"%s/ahn_2386_9702_epsg28992.las\", \"%s/ahn_2397_9705_epsg28992.las\"]},"
             "{\"type\": \"readers.assets\", \"path\": \"%s/poles_trees_signs_epsg28992.geojson\", \"id_field\": \"fid\", "
             "\"category_field\": \"type_en\"},"
             "{\"type\": \"filters.heights\"},"
             "{\"type\": \"filters.clamp\"}]}",
             dir, dir, dir, dir);
    ct_context *ctx = ct_context_create();
    ct_context_set_threads(ctx, 2);
    ct_dataset *ds = run_pipeline(ctx, "amsterdam", json);
    if (!ds) {
        ct_context_destroy(ctx);
        return;
    }
    const ct_asset_set *set = ds->assets;
    CT_CHECK(set && set->n == 51);
    /* LAS header boxes (MANIFEST-footprints.md) */
    const double tiles[2][4] = {{119299.000, 485099.002, 119350.999, 485151.000},
                                {119849.000, 485249.001, 119901.000, 485301.000}};
    size_t inside = 0, outside = 0, outside_flagged = 0;
    double worst = 0;
    for (size_t i = 0; set && i < set->n; i++) {
        const ct_asset *a = &set->items[i];
        double dout = INFINITY;
        for (int t = 0; t < 2; t++) {
            double dx = fmax(fmax(tiles[t][0] - a->x, 0), a->x - tiles[t][2]);
            double dy = fmax(fmax(tiles[t][1] - a->y, 0), a->y - tiles[t][3]);
            double d = sqrt(dx * dx + dy * dy);
            if (d < dout) dout = d;
        }
        size_t cnt = 0;
        double est = median_ground(ds->points, a->x, a->y, 2.0, &cnt);
        const char *flag = attr_str(set, a, "clamp_flag");
        printf("  %-3s %-13s %s %5.2f m outside: z %.3f  median-2m %.3f (%zu pts)  diff %+.3f  %s %s\n", a->id, a->category,
               dout > 0 ? "OUT" : "in ", dout, a->z, est, cnt, a->z - est, attr_str(set, a, "z_source"), flag);
        CT_CHECK(isfinite(a->z));
        if (dout == 0) {
            inside++;
            CT_CHECK_MSG(strcmp(flag, "") == 0, "asset %s inside a tile flagged %s", a->id, flag);
            CT_CHECK_MSG(cnt > 0 && fabs(a->z - est) <= 0.5, "asset %s: z %.3f vs local ground %.3f (%zu points)", a->id,
                         a->z, est, cnt);
            if (fabs(a->z - est) > worst) worst = fabs(a->z - est);
        } else {
            outside++;
            if (strcmp(flag, "outside_lidar") == 0) {
                outside_flagged++;
            } else {
                /* within coverage_radius (1 m) of the data: must then be right */
                CT_CHECK_MSG(dout < 1.0, "asset %s %.2f m outside the tiles but not flagged", a->id, dout);
                CT_CHECK_MSG(cnt > 0 && fabs(a->z - est) <= 0.5, "asset %s (edge): z %.3f vs %.3f", a->id, a->z, est);
            }
        }
    }
    printf("amsterdam: %zu assets inside the tiles, worst |z - median ground within 2 m| %.3f m; %zu outside, %zu of them "
           "flagged outside_lidar\n", inside, worst, outside, outside_flagged);
    CT_CHECK(inside == 40 && outside == 11);

    /* Points on disk (a tiny memory_limit): assets clamped cell by cell, same numbers. */
    char *mark = strstr(json, "_epsg28992.las\"]}");
    CT_CHECK(mark != NULL);
    if (mark && set) {
        char disk_json[16384];
        size_t head = (size_t)(mark - json) + strlen("_epsg28992.las\"]");
        snprintf(disk_json, sizeof disk_json, "%.*s, \"memory_limit\": 0.01%s", (int)head, json, json + head);
        ct_dataset *dd = run_pipeline(ctx, "amsterdam-disk", disk_json);
        CT_CHECK(dd && dd->points && ct_point_store_on_disk(dd->points));
        CT_CHECK(dd && dd->assets && dd->assets->n == set->n);
        for (size_t i = 0; dd && dd->assets && dd->assets->n == set->n && i < set->n; i++)
            CT_CHECK_MSG(dd->assets->items[i].z == set->items[i].z, "asset %s: on disk %.9f, in memory %.9f",
                         set->items[i].id, dd->assets->items[i].z, set->items[i].z);
        ct_dataset_destroy(dd);
    }
    ct_dataset_destroy(ds);

    /* The lon/lat CSV copy (default srs EPSG:4326) lands within 1 m of the GeoJSON (both
     * read after the footprints, so EPSG:28992 is the working CRS). */
    ct_dataset *two[2] = {NULL, NULL};
    const char *files[2] = {"poles_trees_signs_epsg28992.geojson", "poles_trees_signs_epsg4326.csv"};
    for (int k = 0; k < 2; k++) {
        snprintf(json, sizeof json,
                 "{\"pipeline\": ["
                 "{\"type\": \"readers.footprints\", \"path\": \"%s/bag_buildings_epsg28992.geojson\"},"
                 "{\"type\": \"readers.assets\", \"path\": \"%s/%s\", \"id_field\": \"fid\"}]}",
                 dir, dir, files[k]);
        two[k] = run_pipeline(ctx, k ? "lonlat" : "rd", json);
    }
    if (two[0] && two[1]) {
        const ct_asset_set *g = two[0]->assets, *c = two[1]->assets;
        CT_CHECK(g && c && g->n == 51 && c->n == 51);
        double dmax = 0;
        for (size_t i = 0; g && c && g->n == 51 && c->n == 51 && i < 51; i++) {
            CT_CHECK(strcmp(g->items[i].id, c->items[i].id) == 0);
            double d = hypot(g->items[i].x - c->items[i].x, g->items[i].y - c->items[i].y);
            if (d > dmax) dmax = d;
            CT_CHECK(c->items[i].source_record == i + 2); /* CSV rows: the header is row 1 */
        }
        /* CSV text columns get types from their values: ahn_tile stays text, fid is an integer */
        int fid_int = 0;
        for (size_t k = 0; c && k < c->nattrs; k++)
            if (strcmp(c->attrs[k].name, "fid") == 0) fid_int = c->attrs[k].type == CT_ATTR_INT;
        CT_CHECK(fid_int);
        printf("lon/lat CSV vs EPSG:28992 GeoJSON: largest distance %.3f m\n", dmax);
        CT_CHECK_MSG(dmax <= 1.0, "%.3f m", dmax);
    }
    ct_dataset_destroy(two[0]);
    ct_dataset_destroy(two[1]);
    ct_context_destroy(ctx);
}

int main(void) {
    synthetic();
    amsterdam();
    return ct_test_finish("test_clamp");
}
