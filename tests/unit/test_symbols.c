/* Symbols: every model format through Assimp (OBJ, glTF, GLB, COLLADA, PLY, STL, FBX),
 * the options (up axis, scale, normalize_height, heading, colour), broken files, and the
 * built-in pole / box / sphere as closed outward-facing 2-manifolds. */
#include "ct_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "citytiler/context.h"
#include "citytiler/mesh.h"
#include "citytiler/symbol.h"

static char g_kaykit[1024], g_models[1024], g_bin[1024];

/* Basic invariants of every symbol; returns 1 when they hold. */
static int check_symbol(const char *what, const ct_symbol *s) {
    int ok = 1;
    CT_CHECK_MSG(s->nverts > 0 && s->nindices > 0 && s->nindices % 3 == 0, "%s: %zu verts %zu indices", what,
                 s->nverts, s->nindices);
    if (!(s->nverts > 0 && s->nindices > 0)) return 0;
    float mn[3], mx[3];
    for (int k = 0; k < 3; k++) mn[k] = mx[k] = s->pos[k];
    size_t bad_pos = 0, bad_nrm = 0, bad_idx = 0;
    for (size_t i = 0; i < s->nverts; i++) {
        const float *p = s->pos + 3 * i, *n = s->nrm + 3 * i;
        for (int k = 0; k < 3; k++) {
            if (!isfinite(p[k])) bad_pos++;
            mn[k] = fminf(mn[k], p[k]);
            mx[k] = fmaxf(mx[k], p[k]);
        }
        float l = sqrtf(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
        if (!(fabsf(l - 1.0f) < 1e-3f)) bad_nrm++;
    }
    for (size_t i = 0; i < s->nindices; i++)
        if (s->idx[i] >= s->nverts) bad_idx++;
    CT_CHECK_MSG(bad_pos == 0 && bad_nrm == 0 && bad_idx == 0, "%s: %zu bad positions, %zu bad normals, %zu bad indices",
                 what, bad_pos, bad_nrm, bad_idx);
    CT_CHECK_MSG(fabsf(mn[2]) <= 1e-4f, "%s: min z %g", what, mn[2]);
    CT_CHECK_MSG(fabsf(mn[0] + mx[0]) <= 1e-4f * (1 + mx[0] - mn[0]) &&
                     fabsf(mn[1] + mx[1]) <= 1e-4f * (1 + mx[1] - mn[1]),
                 "%s: x/y not centred: [%g, %g] x [%g, %g]", what, mn[0], mx[0], mn[1], mx[1]);
    for (int k = 0; k < 3; k++) {
        CT_CHECK_MSG(s->bbox_min[k] == mn[k] && s->bbox_max[k] == mx[k], "%s: stored bbox differs on axis %d",
                     what, k);
        if (!(s->bbox_min[k] == mn[k] && s->bbox_max[k] == mx[k])) ok = 0;
    }
    for (int k = 0; k < 4; k++) CT_CHECK(s->base_color[k] >= 0.0f && s->base_color[k] <= 1.0f);
    return ok && bad_pos == 0 && bad_idx == 0;
}

static void extent(const ct_symbol *s, double e[3]) {
    for (int k = 0; k < 3; k++) e[k] = (double)s->bbox_max[k] - (double)s->bbox_min[k];
}

/* Same bounding box within `rel` of the largest extent. */
static void check_same_bbox(const char *what, const ct_symbol *a, const ct_symbol *b, double rel) {
    double ea[3];
    extent(a, ea);
    double big = fmax(ea[0], fmax(ea[1], ea[2]));
    for (int k = 0; k < 3; k++) {
        CT_CHECK_MSG(fabs((double)a->bbox_min[k] - b->bbox_min[k]) <= rel * big &&
                         fabs((double)a->bbox_max[k] - b->bbox_max[k]) <= rel * big,
                     "%s: axis %d: [%g, %g] vs [%g, %g]", what, k, a->bbox_min[k], a->bbox_max[k], b->bbox_min[k],
                     b->bbox_max[k]);
    }
}

/* Mean x/y of the vertices at the bottom (z below 1% of the height). */
static void base_centroid(const ct_symbol *s, double c[2]) {
    double sx = 0, sy = 0;
    size_t n = 0;
    for (size_t i = 0; i < s->nverts; i++)
        if (s->pos[3 * i + 2] < 0.01 * s->bbox_max[2]) {
            sx += s->pos[3 * i];
            sy += s->pos[3 * i + 1];
            n++;
        }
    c[0] = n ? sx / (double)n : NAN;
    c[1] = n ? sy / (double)n : NAN;
}

static int load(ct_context *ctx, const char *path, const ct_symbol_options *o, ct_symbol *s) {
    ct_error_clear(ctx);
    ct_status st = ct_symbol_load(ctx, path, o, s);
    CT_CHECK_MSG(st == CT_OK, "%s: %s", path, ct_error_message(ctx));
    return st == CT_OK;
}

static void test_formats(ct_context *ctx) {
    char ref_path[1200];
    snprintf(ref_path, sizeof ref_path, "%s/glb/streetlight.glb", g_kaykit);
    ct_symbol ref;
    if (!load(ctx, ref_path, NULL, &ref)) return;
    check_symbol("streetlight.glb", &ref);
    double e[3];
    extent(&ref, e);
    /* MANIFEST: y-up (-0.239, 0, -0.035) -> (0.030, 0.960, 0.035): z-up x 0.269, y 0.070, z 0.960 */
    CT_CHECK_NEAR(e[0], 0.269, 0.002);
    CT_CHECK_NEAR(e[1], 0.070, 0.002);
    CT_CHECK_NEAR(e[2], 0.960, 0.002);
    printf("streetlight.glb: %zu vertices, %zu triangles, %.3f x %.3f x %.3f, colour %.2f %.2f %.2f\n", ref.nverts,
           ref.nindices / 3, e[0], e[1], e[2], ref.base_color[0], ref.base_color[1], ref.base_color[2]);

    struct { const char *dir, *file; } fm[] = {
        {g_kaykit, "obj/streetlight.obj"}, {g_kaykit, "gltf/streetlight.gltf"}, {g_models, "streetlight.dae"},
        {g_models, "streetlight.ply"},     {g_models, "streetlight.stl"},       {g_models, "streetlight.fbx"},
    };
    for (size_t i = 0; i < sizeof fm / sizeof fm[0]; i++) {
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", fm[i].dir, fm[i].file);
        ct_symbol s;
        if (!load(ctx, path, NULL, &s)) continue;
        if (check_symbol(path, &s)) check_same_bbox(path, &ref, &s, 0.01);
        printf("%s: %zu vertices, %zu triangles\n", fm[i].file, s.nverts, s.nindices / 3);
        CT_CHECK_MSG(s.nindices == ref.nindices, "%s: %zu triangles, glb %zu", fm[i].file, s.nindices / 3,
                     ref.nindices / 3);
        ct_symbol_free(&s);
    }

    /* the rest of the kaykit GLBs */
    static const char *others[] = {"bench", "box_A", "bush", "firehydrant", "trafficlight_A", "trash_A"};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        char path[1200];
        snprintf(path, sizeof path, "%s/glb/%s.glb", g_kaykit, others[i]);
        ct_symbol s;
        if (!load(ctx, path, NULL, &s)) continue;
        check_symbol(path, &s);
        double h = (double)s.bbox_max[2];
        CT_CHECK_MSG(h > 0.04 && h < 1.0, "%s: height %g", path, h);
        ct_symbol_free(&s);
    }

    /* real scale: the root node's scale 8 is applied */
    char x8[1200];
    snprintf(x8, sizeof x8, "%s/glb/streetlight_x8_realscale.glb", g_kaykit);
    ct_symbol s8;
    if (load(ctx, x8, NULL, &s8)) {
        check_symbol(x8, &s8);
        CT_CHECK_NEAR(s8.bbox_max[2], 7.68, 0.05);
        ct_symbol_free(&s8);
    }

    /* options */
    ct_symbol s;
    ct_symbol_options o = {0};
    o.scale = 8;
    if (load(ctx, ref_path, &o, &s)) {
        check_symbol("scale 8", &s);
        CT_CHECK_NEAR(s.bbox_max[2], 8 * ref.bbox_max[2], 1e-4);
        CT_CHECK_NEAR(s.bbox_max[0] - s.bbox_min[0], 8 * e[0], 1e-4);
        ct_symbol_free(&s);
    }
    memset(&o, 0, sizeof o);
    o.normalize_height = 6.0;
    o.scale = 3; /* ignored */
    if (load(ctx, ref_path, &o, &s)) {
        check_symbol("normalize_height 6", &s);
        CT_CHECK_NEAR(s.bbox_max[2], 6.0, 1e-4);
        CT_CHECK_NEAR(s.bbox_max[0] - s.bbox_min[0], e[0] * 6.0 / e[2], 1e-3);
        ct_symbol_free(&s);
    }
    memset(&o, 0, sizeof o);
    o.up_axis = CT_SYMBOL_UP_Z; /* the y-up model lies on its back: height = the model's z extent */
    if (load(ctx, ref_path, &o, &s)) {
        check_symbol("up z", &s);
        CT_CHECK_NEAR(s.bbox_max[2], 0.070, 0.002);
        CT_CHECK_NEAR(s.bbox_max[1] - s.bbox_min[1], 0.960, 0.002);
        ct_symbol_free(&s);
    }
    memset(&o, 0, sizeof o);
    o.heading = 90; /* the arm (toward model -x = west) turns clockwise to north */
    if (load(ctx, ref_path, &o, &s)) {
        check_symbol("heading 90", &s);
        CT_CHECK_NEAR(s.bbox_max[0] - s.bbox_min[0], e[1], 1e-4);
        CT_CHECK_NEAR(s.bbox_max[1] - s.bbox_min[1], e[0], 1e-4);
        /* the post stands east of the bounding box centre (its arm reaches west, model -x);
         * after a clockwise quarter turn it stands south of it (the arm reaches north) */
        ct_symbol r0;
        if (load(ctx, ref_path, NULL, &r0)) {
            double b0[2], b1[2];
            base_centroid(&r0, b0);
            base_centroid(&s, b1);
            CT_CHECK_MSG(b0[0] > 0.05 && fabs(b0[1]) < 0.01, "post before turning at (%g, %g)", b0[0], b0[1]);
            CT_CHECK_MSG(b1[1] < -0.05 && fabs(b1[0]) < 0.01, "post after heading 90 at (%g, %g)", b1[0], b1[1]);
            CT_CHECK_NEAR(b1[1], -b0[0], 1e-4);
            ct_symbol_free(&r0);
        }
        ct_symbol_free(&s);
    }
    memset(&o, 0, sizeof o);
    o.color[0] = 1.0f; o.color[1] = 0.5f; o.color[2] = 0.25f; o.color[3] = 1.0f;
    if (load(ctx, ref_path, &o, &s)) {
        CT_CHECK(s.base_color[0] == 1.0f && s.base_color[1] == 0.5f && s.base_color[2] == 0.25f);
        ct_symbol_free(&s);
    }
    ct_symbol_free(&ref);
}

/* A triangle turned by ct_symbol_transform: heading is clockwise seen from above. */
static void test_heading_direction(ct_context *ctx) {
    ct_symbol s = {0};
    float pos[9] = {0, 0, 0, 2, 0, 0, 0, 1, 1}, nrm[9] = {0, 0, 1, 0, 0, 1, 0, 0, 1};
    uint32_t idx[3] = {0, 1, 2};
    s.nverts = 3;
    s.nindices = 3;
    s.pos = malloc(sizeof pos);
    s.nrm = malloc(sizeof nrm);
    s.idx = malloc(sizeof idx);
    if (!s.pos || !s.nrm || !s.idx) { ct_symbol_free(&s); CT_CHECK(0); return; }
    memcpy(s.pos, pos, sizeof pos);
    memcpy(s.nrm, nrm, sizeof nrm);
    memcpy(s.idx, idx, sizeof idx);
    ct_symbol_options o = {0};
    o.heading = 90;
    CT_CHECK(ct_symbol_transform(ctx, &s, &o) == CT_OK);
    /* east (2,0) -> south (0,-2): vertex 1 is the southernmost; vertex 2 (north) -> east */
    CT_CHECK_NEAR(s.pos[3 * 1 + 1], s.bbox_min[1], 1e-6);
    CT_CHECK_NEAR(s.pos[3 * 2 + 0], s.bbox_max[0], 1e-6);
    CT_CHECK_NEAR(s.bbox_max[1] - s.bbox_min[1], 2.0, 1e-6);
    CT_CHECK_NEAR(s.bbox_max[0] - s.bbox_min[0], 1.0, 1e-6);
    CT_CHECK_NEAR(s.bbox_min[2], 0.0, 1e-7);
    CT_CHECK_NEAR(s.nrm[2], 1.0, 1e-6);
    ct_symbol_free(&s);
}

static void write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    CT_CHECK_MSG(f != NULL, "cannot write %s", path);
    if (!f) return;
    CT_CHECK(fwrite(data, 1, len, f) == len);
    fclose(f);
}

static void expect_input_error(ct_context *ctx, const char *path, const ct_symbol_options *o) {
    ct_symbol s;
    memset(&s, 0x5a, sizeof s);
    ct_error_clear(ctx);
    ct_status st = ct_symbol_load(ctx, path, o, &s);
    CT_CHECK_MSG(st == CT_ERR_INPUT, "%s: status %d (%s)", path, (int)st, ct_error_message(ctx));
    CT_CHECK_MSG(strstr(ct_error_message(ctx), path) != NULL, "message does not name %s: %s", path,
                 ct_error_message(ctx));
    CT_CHECK(s.pos == NULL && s.nrm == NULL && s.idx == NULL && s.nverts == 0);
    printf("expected error: %s\n", ct_error_message(ctx));
    ct_symbol_free(&s);
}

static void test_broken(ct_context *ctx) {
    char path[1200];
    /* missing */
    snprintf(path, sizeof path, "%s/no_such_model.glb", g_bin);
    remove(path);
    expect_input_error(ctx, path, NULL);
    /* truncated GLB: the header and part of the JSON chunk */
    char src[1200];
    snprintf(src, sizeof src, "%s/glb/streetlight.glb", g_kaykit);
    FILE *f = fopen(src, "rb");
    CT_CHECK(f != NULL);
    if (f) {
        unsigned char buf[4096];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        CT_CHECK(n == sizeof buf);
        snprintf(path, sizeof path, "%s/sym_truncated.glb", g_bin);
        write_file(path, buf, 1500);
        expect_input_error(ctx, path, NULL);
        /* header only, claiming the full length */
        snprintf(path, sizeof path, "%s/sym_header_only.glb", g_bin);
        write_file(path, buf, 12);
        expect_input_error(ctx, path, NULL);
    }
    /* garbage OBJ: text that is not OBJ, then binary noise */
    snprintf(path, sizeof path, "%s/sym_garbage.obj", g_bin);
    {
        unsigned char junk[2048];
        uint32_t x = 12345u;
        const char *txt = "this is not a model\nf 1 2 3\nv nan x y\n";
        size_t tl = strlen(txt);
        memcpy(junk, txt, tl);
        for (size_t i = tl; i < sizeof junk; i++) {
            x = x * 1664525u + 1013904223u;
            junk[i] = (unsigned char)(x >> 24);
        }
        write_file(path, junk, sizeof junk);
        expect_input_error(ctx, path, NULL);
    }
    /* an OBJ with vertices but no faces */
    snprintf(path, sizeof path, "%s/sym_points.obj", g_bin);
    {
        const char *txt = "v 0 0 0\nv 1 0 0\nv 0 1 0\n";
        write_file(path, txt, strlen(txt));
        expect_input_error(ctx, path, NULL);
    }
    /* empty file */
    snprintf(path, sizeof path, "%s/sym_empty.stl", g_bin);
    write_file(path, "", 0);
    expect_input_error(ctx, path, NULL);
    /* a flat model cannot be normalised to a height */
    snprintf(path, sizeof path, "%s/sym_flat.obj", g_bin);
    {
        const char *txt = "v 0 0 0\nv 1 0 0\nv 0 0 1\nf 1 2 3\n";
        write_file(path, txt, strlen(txt));
        ct_symbol_options o = {0};
        o.normalize_height = 5;
        expect_input_error(ctx, path, &o);
        ct_symbol s;
        CT_CHECK(load(ctx, path, NULL, &s)); /* fine without normalize_height */
        ct_symbol_free(&s);
    }
    /* bad options are usage errors naming the file */
    ct_symbol s;
    ct_symbol_options o = {0};
    o.scale = -1;
    ct_error_clear(ctx);
    CT_CHECK(ct_symbol_load(ctx, src, &o, &s) == CT_ERR_USAGE);
    CT_CHECK(strstr(ct_error_message(ctx), src) != NULL);
    o.scale = 0;
    o.heading = NAN;
    ct_error_clear(ctx);
    CT_CHECK(ct_symbol_load(ctx, src, &o, &s) == CT_ERR_USAGE);
    ct_error_clear(ctx);
    CT_CHECK(ct_symbol_load(ctx, NULL, NULL, &s) == CT_ERR_USAGE);
    ct_error_clear(ctx);

    ct_symbol_up up;
    CT_CHECK(ct_symbol_up_axis_parse("y", &up) == 0 && up == CT_SYMBOL_UP_Y);
    CT_CHECK(ct_symbol_up_axis_parse("Z", &up) == 0 && up == CT_SYMBOL_UP_Z);
    CT_CHECK(ct_symbol_up_axis_parse("x", &up) == -1);
    CT_CHECK(ct_symbol_up_axis_parse(NULL, &up) == -1);
}

/* Closed, 2-manifold, outward: welded topology, positive volume, vertex normals agree with faces. */
static double check_closed(const char *what, const ct_symbol *s) {
    ct_mesh m = {0};
    m.nverts = s->nverts;
    m.nindices = s->nindices;
    m.pos = malloc(s->nverts * 3 * sizeof *m.pos);
    m.nrm = s->nrm;
    m.idx = s->idx;
    CT_CHECK(m.pos != NULL);
    if (!m.pos) return 0;
    for (size_t i = 0; i < 3 * s->nverts; i++) m.pos[i] = s->pos[i];
    ct_mesh_check c;
    CT_CHECK(ct_mesh_check_topology(&m, &c) == 0);
    CT_CHECK_MSG(c.boundary_edges == 0 && c.nonmanifold_edges == 0 && c.misoriented_edges == 0 &&
                     c.degenerate_triangles == 0,
                 "%s: boundary %zu nonmanifold %zu misoriented %zu degenerate %zu", what, c.boundary_edges,
                 c.nonmanifold_edges, c.misoriented_edges, c.degenerate_triangles);
    CT_CHECK_MSG(c.signed_volume > 0, "%s: volume %g", what, c.signed_volume);
    /* each vertex normal within 90 degrees of its triangle's normal */
    size_t disagree = 0;
    for (size_t t = 0; t < s->nindices; t += 3) {
        const double *a = m.pos + 3 * s->idx[t], *b = m.pos + 3 * s->idx[t + 1], *cc = m.pos + 3 * s->idx[t + 2];
        double e1[3] = {b[0] - a[0], b[1] - a[1], b[2] - a[2]}, e2[3] = {cc[0] - a[0], cc[1] - a[1], cc[2] - a[2]};
        double n[3] = {e1[1] * e2[2] - e1[2] * e2[1], e1[2] * e2[0] - e1[0] * e2[2], e1[0] * e2[1] - e1[1] * e2[0]};
        for (int j = 0; j < 3; j++) {
            const float *vn = s->nrm + 3 * s->idx[t + j];
            if (n[0] * vn[0] + n[1] * vn[1] + n[2] * vn[2] <= 0) disagree++;
        }
    }
    CT_CHECK_MSG(disagree == 0, "%s: %zu vertex normals face inwards", what, disagree);
    free(m.pos);
    printf("%s: %zu vertices, %zu triangles, volume %.4f m3, %.2f x %.2f x %.2f m\n", what, s->nverts,
           s->nindices / 3, c.signed_volume, s->bbox_max[0] - s->bbox_min[0], s->bbox_max[1] - s->bbox_min[1],
           s->bbox_max[2] - s->bbox_min[2]);
    return c.signed_volume;
}

static void test_builtins(ct_context *ctx) {
    ct_symbol s;
    CT_CHECK(ct_symbol_builtin(ctx, "box", &s) == CT_OK);
    if (check_symbol("box", &s)) {
        double v = check_closed("box", &s);
        CT_CHECK_NEAR(v, 1.0, 1e-9);
        CT_CHECK_NEAR(s.bbox_max[2], 1.0, 0);
        CT_CHECK_NEAR(s.bbox_max[0] - s.bbox_min[0], 1.0, 0);
    }
    ct_symbol_free(&s);

    CT_CHECK(ct_symbol_builtin(ctx, "sphere", &s) == CT_OK);
    if (check_symbol("sphere", &s)) {
        double v = check_closed("sphere", &s);
        CT_CHECK_NEAR(v, 4.0 / 3.0 * M_PI * 0.125, 0.05 * 0.5236);
        CT_CHECK_NEAR(s.bbox_max[2], 1.0, 1e-6);
        CT_CHECK_NEAR(s.bbox_max[0] - s.bbox_min[0], 1.0, 1e-6);
        /* smooth: the normal is the direction from the centre */
        size_t off = 0;
        for (size_t i = 0; i < s.nverts; i++) {
            const float *p = s.pos + 3 * i, *n = s.nrm + 3 * i;
            double d[3] = {p[0], p[1], p[2] - 0.5};
            double l = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
            if (fabs(d[0] / l - n[0]) + fabs(d[1] / l - n[1]) + fabs(d[2] / l - n[2]) > 1e-5) off++;
        }
        CT_CHECK_MSG(off == 0, "sphere: %zu normals not radial", off);
    }
    ct_symbol_free(&s);

    CT_CHECK(ct_symbol_builtin(ctx, "pole", &s) == CT_OK);
    if (check_symbol("pole", &s)) {
        check_closed("pole", &s);
        CT_CHECK_NEAR(s.bbox_max[2], 6.0, 1e-5);
        CT_CHECK(s.bbox_max[0] - s.bbox_min[0] < 1.0);
    }
    /* resize a built-in */
    ct_symbol_options o = {0};
    o.normalize_height = 8;
    CT_CHECK(ct_symbol_transform(ctx, &s, &o) == CT_OK);
    CT_CHECK_NEAR(s.bbox_max[2], 8.0, 1e-5);
    check_symbol("pole x 8/6", &s);
    ct_symbol_free(&s);
    ct_symbol_free(&s); /* twice is fine */
    ct_symbol_free(NULL);

    ct_error_clear(ctx);
    CT_CHECK(ct_symbol_builtin(ctx, "lamp", &s) == CT_ERR_USAGE);
    CT_CHECK(strstr(ct_error_message(ctx), "lamp") != NULL);
    CT_CHECK(s.nverts == 0 && s.pos == NULL);
    ct_error_clear(ctx);
}

/* origin "model": the street light's pole (its lowest vertices) stands on the point,
 * where the default base-centre origin puts the middle of pole and arm there. */
static void test_model_origin(ct_context *ctx) {
    char path[4200];
    snprintf(path, sizeof path, "%s/obj/streetlight.obj", g_kaykit);
    for (int model = 0; model <= 1; model++) {
        ct_symbol_options o;
        memset(&o, 0, sizeof o);
        o.normalize_height = 7.5;
        o.model_origin = model;
        ct_symbol s;
        CT_CHECK(ct_symbol_load(ctx, path, &o, &s) == CT_OK);
        double cx = 0, cy = 0;
        size_t n = 0;
        for (size_t i = 0; i < s.nverts; i++)
            if (s.pos[3 * i + 2] < 0.05f) {
                cx += s.pos[3 * i];
                cy += s.pos[3 * i + 1];
                n++;
            }
        CT_CHECK(n > 0);
        double d = n ? hypot(cx / (double)n, cy / (double)n) : 1e9;
        if (model) CT_CHECK_MSG(d < 0.05, "pole foot %.3f m from the point with origin model", d);
        else CT_CHECK_MSG(d > 0.3, "pole foot %.3f m from the point: the box centre should shift it", d);
        ct_symbol_free(&s);
    }
}

int main(void) {
    const char *shared = ct_test_env("CT_SHARED_DATA", NULL);
    const char *src = ct_test_env("CT_SOURCE_DIR", NULL);
    const char *bin = ct_test_env("CT_BINARY_DIR", ".");
    if (!shared || !src) {
        fprintf(stderr, "CT_SHARED_DATA and CT_SOURCE_DIR must be set (run through ctest)\n");
        return 1;
    }
    snprintf(g_kaykit, sizeof g_kaykit, "%s/models/kaykit", shared);
    snprintf(g_models, sizeof g_models, "%s/tests/data/models", src);
    snprintf(g_bin, sizeof g_bin, "%s", bin);
    ct_context *ctx = ct_context_create();
    if (!ctx) return 1;
    test_formats(ctx);
    test_heading_direction(ctx);
    test_broken(ctx);
    test_builtins(ctx);
    test_model_origin(ctx);
    ct_context_destroy(ctx);
    return ct_test_finish("test_symbols");
}
