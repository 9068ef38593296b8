/* Built-in symbols and the symbol transforms shared with the Assimp loader:
 * see include/citytiler/symbol.h.
 *
 * The pole and the sphere are surfaces of revolution about z: a profile (r, z) from a point
 * on the axis at the bottom, outwards and up, back to the axis at the top, turned through
 * `nseg` sectors. Ring vertices of neighbouring bands are computed from the same (r, z,
 * cos, sin) values, so they are bit-identical and the mesh welds into a closed 2-manifold. */
#include "citytiler/symbol.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

void ct_symbol_free(ct_symbol *sym) {
    if (!sym) return;
    free(sym->pos);
    free(sym->nrm);
    free(sym->idx);
    memset(sym, 0, sizeof *sym);
}

int ct_symbol_up_axis_parse(const char *s, ct_symbol_up *out) {
    if (!s || !out) return -1;
    if (strcmp(s, "y") == 0 || strcmp(s, "Y") == 0) { *out = CT_SYMBOL_UP_Y; return 0; }
    if (strcmp(s, "z") == 0 || strcmp(s, "Z") == 0) { *out = CT_SYMBOL_UP_Z; return 0; }
    return -1;
}

/* Bounding box of the positions (nverts > 0). */
static void bbox(const ct_symbol *s, double mn[3], double mx[3]) {
    for (int k = 0; k < 3; k++) mn[k] = mx[k] = s->pos[k];
    for (size_t i = 0; i < s->nverts; i++)
        for (int k = 0; k < 3; k++) {
            double v = s->pos[3 * i + k];
            if (v < mn[k]) mn[k] = v;
            if (v > mx[k]) mx[k] = v;
        }
}

ct_status ct_symbol_options_check(ct_context *ctx, const char *where, const ct_symbol_options *o) {
    if (!where) where = "symbol";
    if (!o) return CT_OK;
    if (o->up_axis != CT_SYMBOL_UP_Y && o->up_axis != CT_SYMBOL_UP_Z)
        return ct_error(ctx, CT_ERR_USAGE, "%s: unknown up_axis %d", where, (int)o->up_axis);
    if (!(o->scale == 0 || (isfinite(o->scale) && o->scale > 0)))
        return ct_error(ctx, CT_ERR_USAGE, "%s: scale must be a positive number (got %g)", where, o->scale);
    if (!isfinite(o->heading))
        return ct_error(ctx, CT_ERR_USAGE, "%s: heading must be finite (got %g)", where, o->heading);
    if (!(o->normalize_height == 0 || (isfinite(o->normalize_height) && o->normalize_height > 0)))
        return ct_error(ctx, CT_ERR_USAGE, "%s: normalize_height must be a positive number (got %g)", where,
                        o->normalize_height);
    for (int k = 0; k < 4; k++)
        if (!(o->color[k] >= 0.0f && o->color[k] <= 1.0f))
            return ct_error(ctx, CT_ERR_USAGE, "%s: color components must be in [0, 1]", where);
    return CT_OK;
}

ct_status ct_symbol_transform(ct_context *ctx, ct_symbol *sym, const ct_symbol_options *o) {
    static const ct_symbol_options defaults = {0};
    if (!o) o = &defaults;
    if (!sym || sym->nverts == 0 || !sym->pos || !sym->nrm)
        return ct_error(ctx, CT_ERR_USAGE, "symbol: empty symbol");
    ct_symbol_options chk = *o;
    chk.up_axis = CT_SYMBOL_UP_Y; /* ignored here */
    ct_status st = ct_symbol_options_check(ctx, "symbol", &chk);
    if (st != CT_OK) return st;

    double mn[3], mx[3];
    bbox(sym, mn, mx);
    double s = o->scale > 0 ? o->scale : 1.0;
    if (o->normalize_height > 0) {
        double h = mx[2] - mn[2];
        if (!(h > 0))
            return ct_error(ctx, CT_ERR_INPUT, "symbol: the model has zero height: cannot normalize_height");
        s = o->normalize_height / h;
    }
    /* clockwise seen from above = a rotation by -heading about +z */
    const double th = -o->heading * (M_PI / 180.0);
    const double c = o->heading == 0 ? 1.0 : cos(th), sn = o->heading == 0 ? 0.0 : sin(th);
    for (size_t i = 0; i < sym->nverts; i++) {
        float *p = sym->pos + 3 * i, *n = sym->nrm + 3 * i;
        double x = p[0] * s, y = p[1] * s;
        p[0] = (float)(c * x - sn * y);
        p[1] = (float)(sn * x + c * y);
        p[2] = (float)(p[2] * s);
        double nx = n[0], ny = n[1];
        n[0] = (float)(c * nx - sn * ny);
        n[1] = (float)(sn * nx + c * ny);
    }
    /* origin to the base centre */
    bbox(sym, mn, mx);
    const double ox = o->model_origin ? 0.0 : 0.5 * (mn[0] + mx[0]), oy = o->model_origin ? 0.0 : 0.5 * (mn[1] + mx[1]);
    const double oz = mn[2];
    for (size_t i = 0; i < sym->nverts; i++) {
        float *p = sym->pos + 3 * i;
        p[0] = (float)(p[0] - ox);
        p[1] = (float)(p[1] - oy);
        p[2] = (float)(p[2] - oz);
    }
    bbox(sym, mn, mx);
    for (int k = 0; k < 3; k++) {
        sym->bbox_min[k] = (float)mn[k];
        sym->bbox_max[k] = (float)mx[k];
    }
    if (o->color[0] != 0 || o->color[1] != 0 || o->color[2] != 0 || o->color[3] != 0)
        memcpy(sym->base_color, o->color, sizeof sym->base_color);
    return CT_OK;
}

/* ---------------------------------------------------------------- builders */

typedef struct builder {
    ct_symbol *s;
    size_t vcap, icap;
} builder;

static int b_init(builder *b, ct_symbol *s, size_t nv, size_t ni) {
    memset(s, 0, sizeof *s);
    b->s = s;
    b->vcap = nv;
    b->icap = ni;
    s->pos = malloc(nv * 3 * sizeof *s->pos);
    s->nrm = malloc(nv * 3 * sizeof *s->nrm);
    s->idx = malloc(ni * sizeof *s->idx);
    if (!s->pos || !s->nrm || !s->idx) {
        ct_symbol_free(s);
        return -1;
    }
    return 0;
}

/* Appends a vertex (capacity was sized exactly beforehand); returns its index. */
static uint32_t b_vert(builder *b, double x, double y, double z, double nx, double ny, double nz) {
    ct_symbol *s = b->s;
    size_t i = s->nverts++;
    double l = sqrt(nx * nx + ny * ny + nz * nz);
    if (l > 0) { nx /= l; ny /= l; nz /= l; }
    float *p = s->pos + 3 * i, *n = s->nrm + 3 * i;
    p[0] = (float)x; p[1] = (float)y; p[2] = (float)z;
    n[0] = (float)nx; n[1] = (float)ny; n[2] = (float)nz;
    return (uint32_t)i;
}

static void b_tri(builder *b, uint32_t a, uint32_t c, uint32_t d) {
    ct_symbol *s = b->s;
    s->idx[s->nindices++] = a;
    s->idx[s->nindices++] = c;
    s->idx[s->nindices++] = d;
}

/* Surface of revolution of the profile (r[k], z[k]), k < np, with r[0] == r[np-1] == 0
 * and r > 0 in between, turned through nseg sectors. nr/nz: per-profile-point normals in
 * the (r, z) plane for smooth shading (vertices shared between bands), or NULL for crisp
 * bands (each band has its own vertices and the band's normal). */
static int lathe(ct_symbol *out, const double *r, const double *z, const double *nr, const double *nz,
                 size_t np, int nseg) {
    const size_t ns = (size_t)nseg, nb = np - 1;
    /* vertex count: smooth: 2 axis + (np-2) rings; crisp: per band, 1 axis or a ring per end */
    size_t nv = 0;
    if (nr) {
        nv = 2 + (np - 2) * ns;
    } else {
        for (size_t k = 0; k < nb; k++) nv += (r[k] == 0 ? 1 : ns) + (r[k + 1] == 0 ? 1 : ns);
    }
    size_t ni = 0;
    for (size_t k = 0; k < nb; k++) ni += (r[k] == 0 || r[k + 1] == 0 ? 3 : 6) * ns;
    builder b;
    if (b_init(&b, out, nv, ni) != 0) return -1;
    double *cs = malloc((ns + 1) * 2 * sizeof *cs);
    uint32_t *ring0 = malloc((ns + 1) * 2 * sizeof *ring0);
    if (!cs || !ring0) {
        free(cs);
        free(ring0);
        ct_symbol_free(out);
        return -1;
    }
    uint32_t *ring1 = ring0 + ns + 1;
    for (size_t j = 0; j <= ns; j++) {
        double a = 2.0 * M_PI * (double)(j % ns) / (double)ns; /* j == ns repeats j == 0 exactly */
        cs[2 * j] = cos(a);
        cs[2 * j + 1] = sin(a);
    }
    for (size_t k = 0; k < nb; k++) {
        double br = z[k + 1] - z[k], bz = -(r[k + 1] - r[k]); /* outward normal of the band */
        for (int end = 0; end < 2; end++) {
            size_t p = k + (size_t)end;
            uint32_t *ring = end ? ring1 : ring0;
            if (nr && k > 0 && end == 0) {
                memcpy(ring0, ring1, (ns + 1) * sizeof *ring0); /* shared with the previous band */
                continue;
            }
            double pr = nr ? nr[p] : br, pz = nr ? nz[p] : bz;
            if (r[p] == 0) {
                uint32_t v = b_vert(&b, 0, 0, z[p], 0, 0, nr ? pz : bz);
                for (size_t j = 0; j <= ns; j++) ring[j] = v;
            } else {
                for (size_t j = 0; j < ns; j++)
                    ring[j] = b_vert(&b, r[p] * cs[2 * j], r[p] * cs[2 * j + 1], z[p], pr * cs[2 * j],
                                     pr * cs[2 * j + 1], pz);
                ring[ns] = ring[0]; /* the seam closes on the first vertex */
            }
        }
        for (size_t j = 0; j < ns; j++) {
            uint32_t a = ring0[j], bb = ring0[j + 1], c = ring1[j + 1], d = ring1[j];
            if (r[k] == 0) b_tri(&b, a, c, d);            /* bottom fan */
            else if (r[k + 1] == 0) b_tri(&b, a, bb, c);  /* top fan */
            else { b_tri(&b, a, bb, c); b_tri(&b, a, c, d); }
        }
    }
    free(cs);
    free(ring0);
    return 0;
}

static int make_box(ct_symbol *out) {
    builder b;
    if (b_init(&b, out, 24, 36) != 0) return -1;
    /* each face: normal, then 4 corners counter-clockwise seen from outside */
    static const signed char faces[6][5][3] = {
        {{1, 0, 0}, {1, -1, 0}, {1, 1, 0}, {1, 1, 1}, {1, -1, 1}},
        {{-1, 0, 0}, {-1, 1, 0}, {-1, -1, 0}, {-1, -1, 1}, {-1, 1, 1}},
        {{0, 1, 0}, {1, 1, 0}, {-1, 1, 0}, {-1, 1, 1}, {1, 1, 1}},
        {{0, -1, 0}, {-1, -1, 0}, {1, -1, 0}, {1, -1, 1}, {-1, -1, 1}},
        {{0, 0, 1}, {-1, -1, 1}, {1, -1, 1}, {1, 1, 1}, {-1, 1, 1}},
        {{0, 0, -1}, {-1, 1, 0}, {1, 1, 0}, {1, -1, 0}, {-1, -1, 0}},
    };
    for (int f = 0; f < 6; f++) {
        uint32_t v[4];
        for (int c = 0; c < 4; c++)
            v[c] = b_vert(&b, 0.5 * faces[f][c + 1][0], 0.5 * faces[f][c + 1][1], faces[f][c + 1][2],
                          faces[f][0][0], faces[f][0][1], faces[f][0][2]);
        b_tri(&b, v[0], v[1], v[2]);
        b_tri(&b, v[0], v[2], v[3]);
    }
    return 0;
}

static int make_pole(ct_symbol *out) {
    /* base plinth, post, lantern (flaring out, glass, roof), finial */
    static const double r[] = {0, 0.16, 0.16, 0.09, 0.07, 0.07, 0.12, 0.28, 0.28, 0.34, 0.06, 0};
    static const double z[] = {0, 0, 0.30, 0.40, 0.50, 5.20, 5.30, 5.45, 5.80, 5.85, 6.00, 6.00};
    return lathe(out, r, z, NULL, NULL, sizeof r / sizeof r[0], 16);
}

static int make_sphere(ct_symbol *out) {
    enum { RINGS = 12 };
    double r[RINGS + 1], z[RINGS + 1], nr[RINGS + 1], nz[RINGS + 1];
    for (int k = 0; k <= RINGS; k++) {
        double t = M_PI * k / RINGS; /* 0 = south pole */
        double st = k == 0 || k == RINGS ? 0.0 : sin(t), ct = k == 0 ? -1.0 : k == RINGS ? 1.0 : -cos(t);
        r[k] = 0.5 * st;
        z[k] = 0.5 + 0.5 * ct;
        nr[k] = st;
        nz[k] = ct;
    }
    return lathe(out, r, z, nr, nz, RINGS + 1, 24);
}

ct_status ct_symbol_builtin(ct_context *ctx, const char *name, ct_symbol *out) {
    if (!out) return ct_error(ctx, CT_ERR_USAGE, "symbol: out is required");
    memset(out, 0, sizeof *out);
    int rc;
    float col[4];
    if (name && strcmp(name, "pole") == 0) {
        rc = make_pole(out);
        col[0] = 0.22f; col[1] = 0.24f; col[2] = 0.26f;
    } else if (name && strcmp(name, "box") == 0) {
        rc = make_box(out);
        col[0] = 0.95f; col[1] = 0.55f; col[2] = 0.15f;
    } else if (name && strcmp(name, "sphere") == 0) {
        rc = make_sphere(out);
        col[0] = 0.20f; col[1] = 0.55f; col[2] = 0.90f;
    } else {
        return ct_error(ctx, CT_ERR_USAGE, "symbol: unknown built-in symbol \"%s\" (pole, box, sphere)",
                        name ? name : "(null)");
    }
    if (rc != 0) return ct_error_nomem(ctx, "built-in symbol");
    col[3] = 1.0f;
    memcpy(out->base_color, col, sizeof col);
    ct_symbol_options o = {0};
    ct_status st = ct_symbol_transform(ctx, out, &o); /* bbox; the shapes are already centred */
    if (st != CT_OK) ct_symbol_free(out);
    return st;
}
