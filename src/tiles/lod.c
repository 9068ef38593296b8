/* Building meshes are flat-shaded (each face owns its vertices), which would lock every
 * edge for a simplifier. So positions are welded first, simplified as one closed surface,
 * and the result is flat-shaded again with face normals. Coordinates are taken relative
 * to the first vertex so float precision is kept with projected coordinates.
 *
 * meshoptimizer's error is a quadric estimate, not a distance bound: measured on round
 * towers, the true (sampled Hausdorff) deviation reached 1.4x the target. So the result is
 * measured (original vertices to the simplified surface, simplified triangle samples to
 * the original) and the target is halved until the measure stays under 0.8x the bound
 * and the result is still the building's shape (shape_kept); otherwise the prism of its
 * convex hull stands in when that is within the bound, else the full mesh. */
#include "tiles/lod.h"
#include "tiles/tri_grid.h"

#include <math.h>
#include <meshoptimizer.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Distance from p to the surface (idx, ni) by a scan of its triangles, or any value no
 * more than `enough` once it is known to be no more than that (for small surfaces, where
 * building a grid costs more than it saves). */
static double scan_distance(const float *p, const float *pos, const unsigned int *idx, size_t ni, double enough,
                            size_t *tests) {
    double best = INFINITY, enough2 = enough * enough;
    size_t t = 0;
    for (; t + 2 < ni && best > enough2; t += 3) {
        double d = ct_dist2_tri(p, pos + 3 * idx[t], pos + 3 * idx[t + 1], pos + 3 * idx[t + 2]);
        if (d < best) best = d;
    }
    *tests += t / 3;
    return sqrt(best);
}

/* Surfaces of up to this many indices are scanned, larger ones go through a grid. */
#define SCAN_MAX_INDICES (3 * 96)

/* A surface to measure distances to: scanned, or through its grid. */
typedef struct surface {
    const float *pos;
    const unsigned int *idx;
    size_t ni;
    int gridded;
    ct_tri_grid grid;
} surface;

static int surface_init(surface *s, const float *pos, const unsigned int *idx, size_t ni, ct_lod_work *work) {
    s->pos = pos;
    s->idx = idx;
    s->ni = ni;
    s->gridded = ni > SCAN_MAX_INDICES;
    if (!s->gridded) return 0;
    if (ct_tri_grid_build(&s->grid, pos, idx, ni) != 0) return -1;
    work->grids++;
    work->grid_entries += ct_tri_grid_entries(&s->grid);
    return 0;
}

static void surface_free(surface *s) {
    if (s->gridded) ct_tri_grid_free(&s->grid);
}

static double surface_distance(const surface *s, const float *p, double enough, ct_lod_work *work) {
    return s->gridded ? ct_tri_grid_distance(&s->grid, p, enough, &work->distance_tests)
                      : scan_distance(p, s->pos, s->idx, s->ni, enough, &work->distance_tests);
}

/* Two-sided deviation between the welded full surface sa and the simplified one (b, nb):
 * vertices and triangle samples of each against the other (large surfaces through grids
 * of their triangles: a scan of every triangle for every point took minutes for a
 * footprint with thousands of courtyards; the full surface's grid is built once for all
 * the tries). The distance to a surface may stop at any value no more than the largest
 * so far, which cannot change the maximum. -1 when out of memory. */
static double deviation(const float *pos, const surface *sa, const unsigned int *b, size_t nb, size_t nverts,
                        ct_lod_work *work) {
    surface sb;
    if (surface_init(&sb, pos, b, nb, work) != 0) return -1;
    double worst = 0;
    for (size_t v = 0; v < nverts; v++) {
        double d = surface_distance(&sb, pos + 3 * v, worst, work);
        if (d > worst) worst = d;
    }
    for (size_t t = 0; t + 2 < nb; t += 3) {
        const float *p0 = pos + 3 * b[t], *p1 = pos + 3 * b[t + 1], *p2 = pos + 3 * b[t + 2];
        static const float w[4][3] = {{1 / 3.f, 1 / 3.f, 1 / 3.f}, {0.5f, 0.5f, 0}, {0, 0.5f, 0.5f}, {0.5f, 0, 0.5f}};
        for (int k = 0; k < 4; k++) {
            float q[3];
            for (int c = 0; c < 3; c++) q[c] = w[k][0] * p0[c] + w[k][1] * p1[c] + w[k][2] * p2[c];
            double d = surface_distance(sa, q, worst, work);
            if (d > worst) worst = d;
        }
    }
    surface_free(&sb);
    return worst;
}

/* What a simplified building must keep of its full mesh (welded, indices a or b). */
typedef struct shape {
    double volume;  /* signed: positive for a closed surface wound outwards */
    double up_area; /* area of the upward-facing, nearly level triangles projected on the ground:
                     * the roof (flat in a footprint's extrusion; one sloping to the ground is
                     * a wedge, not the building) */
    double slanted_area; /* the same of the triangles neither level nor vertical: walls
                          * leaning (a roof and floor simplified apart twist the walls) */
} shape;

static shape shape_of(const float *pos, const unsigned int *idx, size_t ni) {
    shape s = {0, 0, 0};
    for (size_t t = 0; t + 2 < ni; t += 3) {
        const float *a = pos + 3 * idx[t], *b = pos + 3 * idx[t + 1], *c = pos + 3 * idx[t + 2];
        double bc[3] = {(double)b[1] * c[2] - (double)b[2] * c[1], (double)b[2] * c[0] - (double)b[0] * c[2],
                        (double)b[0] * c[1] - (double)b[1] * c[0]};
        s.volume += (a[0] * bc[0] + a[1] * bc[1] + a[2] * bc[2]) / 6.0;
        double u[3] = {(double)b[0] - a[0], (double)b[1] - a[1], (double)b[2] - a[2]};
        double w[3] = {(double)c[0] - a[0], (double)c[1] - a[1], (double)c[2] - a[2]};
        double n[3] = {u[1] * w[2] - u[2] * w[1], u[2] * w[0] - u[0] * w[2], u[0] * w[1] - u[1] * w[0]};
        double len = sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
        if (n[2] > 0.9 * len) s.up_area += n[2] / 2.0; /* (within 26 degrees of level) */
        else if (fabs(n[2]) <= 0.9 * len) s.slanted_area += fabs(n[2]) / 2.0;
    }
    return s;
}

static int cmp_u64(const void *x, const void *y) {
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return (a > b) - (a < b);
}

/* The directed edges of (idx, ni): 1 when none repeats (two triangles on one side of an
 * edge: folded or doubled) and, with `closed`, each has its reverse (no hole); 0 when not;
 * -1 when out of memory. */
static int edges_sound(const unsigned int *idx, size_t ni, int closed) {
    uint64_t *e = malloc((ni ? ni : 1) * sizeof *e);
    if (!e) return -1;
    for (size_t t = 0; t + 2 < ni; t += 3)
        for (int k = 0; k < 3; k++) e[t + (size_t)k] = (uint64_t)idx[t + (size_t)k] << 32 | idx[t + (size_t)(k + 1) % 3];
    qsort(e, ni, sizeof *e, cmp_u64);
    int ok = 1;
    for (size_t i = 1; ok && i < ni; i++) ok = e[i] != e[i - 1];
    for (size_t i = 0; ok && closed && i < ni; i++) {
        uint64_t rev = e[i] << 32 | e[i] >> 32;
        ok = bsearch(&rev, e, ni, sizeof *e, cmp_u64) != NULL;
    }
    free(e);
    return ok;
}

/* 1 when the simplified surface (b, nb) is still the building whose full surface has
 * shape sa: as closed as it was, nothing folded or doubled, at least half its volume (not
 * turned inside out, not a sheet), half its roof, and walls that lean over at most a
 * quarter of it. Measured on parent tiles, meshoptimizer's collapses within the error
 * bound left 83 of 176 buildings without a roof, 17 as zero-volume sheets and one inside
 * out (a narrow building is within the bound as a wall). */
static int shape_kept(const float *pos, shape sa, const unsigned int *b, size_t nb, int closed) {
    shape sb = shape_of(pos, b, nb);
    if (!(sb.up_area >= 0.5 * sa.up_area) || !(sb.slanted_area <= sa.slanted_area + 0.25 * sa.up_area)) return 0;
    if (closed && !(sb.volume >= 0.5 * sa.volume && sb.volume <= 2.0 * sa.volume)) return 0;
    return edges_sound(b, nb, closed) == 1;
}

static int cmp_xy(const void *a, const void *b) {
    const float *p = a, *q = b;
    if (p[0] != q[0]) return p[0] < q[0] ? -1 : 1;
    return (p[1] > q[1]) - (p[1] < q[1]);
}

static double cross2(const float *o, const float *a, const float *b) {
    return ((double)a[0] - o[0]) * ((double)b[1] - o[1]) - ((double)a[1] - o[1]) * ((double)b[0] - o[0]);
}

/* The prism of the convex hull of the n vertices' ground positions, from their lowest to
 * their highest z: its corners go to all[3 * n ...] (room for 2n more), its triangles
 * (outward) to tri (room for 12n indices). Returns the index count, 0 when the hull is
 * flat. A building that simplification folds (a narrow one) keeps this shape: closed,
 * level roof, upright walls; its concavities filled, which the deviation measures. */
static size_t hull_prism(float *all, size_t n, unsigned int *tri) {
    float *xy = malloc(n * 2 * sizeof *xy), *h = malloc((2 * n + 1) * 2 * sizeof *h);
    size_t k = 0;
    if (!xy || !h) {
        free(xy);
        free(h);
        return 0;
    }
    float zlo = all[2], zhi = all[2];
    for (size_t v = 0; v < n; v++) {
        xy[2 * v] = all[3 * v];
        xy[2 * v + 1] = all[3 * v + 1];
        if (all[3 * v + 2] < zlo) zlo = all[3 * v + 2];
        if (all[3 * v + 2] > zhi) zhi = all[3 * v + 2];
    }
    qsort(xy, n, 2 * sizeof *xy, cmp_xy);
    for (size_t i = 0; i < n; i++) { /* Andrew's monotone chain: lower hull, then upper */
        while (k >= 2 && cross2(h + 2 * (k - 2), h + 2 * (k - 1), xy + 2 * i) <= 0) k--;
        memcpy(h + 2 * k++, xy + 2 * i, 2 * sizeof *h);
    }
    for (size_t i = n - 1, lower = k + 1; i-- > 0;) {
        while (k >= lower && cross2(h + 2 * (k - 2), h + 2 * (k - 1), xy + 2 * i) <= 0) k--;
        memcpy(h + 2 * k++, xy + 2 * i, 2 * sizeof *h);
    }
    size_t m = k > 0 ? k - 1 : 0, ni = 0; /* (the last corner repeats the first) */
    if (m >= 3 && zhi > zlo) {
        for (size_t i = 0; i < m; i++) {
            float *top = all + 3 * (n + i), *bottom = all + 3 * (n + m + i);
            top[0] = bottom[0] = h[2 * i];
            top[1] = bottom[1] = h[2 * i + 1];
            top[2] = zhi;
            bottom[2] = zlo;
        }
        unsigned int t0 = (unsigned int)n, b0 = (unsigned int)(n + m);
        for (unsigned int i = 1; i + 1 < m; i++) { /* roof up (counter-clockwise), floor down */
            unsigned int r[6] = {t0, t0 + i, t0 + i + 1, b0, b0 + i + 1, b0 + i};
            memcpy(tri + ni, r, sizeof r);
            ni += 6;
        }
        for (unsigned int i = 0; i < m; i++) { /* walls: outward, to the right of each hull edge */
            unsigned int j = (i + 1) % (unsigned int)m;
            unsigned int w[6] = {b0 + i, b0 + j, t0 + j, b0 + i, t0 + j, t0 + i};
            memcpy(tri + ni, w, sizeof w);
            ni += 6;
        }
    }
    free(xy);
    free(h);
    return ni;
}

/* Meshes of more than this many indices try their hull's prism before simplifying. */
#define HULL_FIRST_INDICES (3 * 65536)

/* What try_hull needs of ct_lod_simplify_mesh_work. */
typedef struct hull_try {
    float *welded; /* nu positions, room for the prism's corners after them */
    const unsigned int *idx;
    size_t ni, nu;
    double abs_error;
    surface *full; /* the full mesh's surface, built when *have_full is 0 */
    int *have_full;
    ct_lod_work *work;
    unsigned int **hull; /* allocated here */
} hull_try;

/* The prism of the mesh's convex hull when it is smaller and within the bound: *ns,
 * *chosen and *achieved set, 1; 0 when not (or no memory for it: the caller keeps what
 * it has); -1 when out of memory measuring it. */
static int try_hull(hull_try *h, size_t *ns, const unsigned int **chosen, double *achieved) {
    if (!*h->hull && !(*h->hull = malloc(12 * h->nu * sizeof **h->hull))) return 0;
    size_t nh = hull_prism(h->welded, h->nu, *h->hull);
    if (!nh || nh >= h->ni) return 0;
    if (!*h->have_full) {
        if (surface_init(h->full, h->welded, h->idx, h->ni, h->work) != 0) return -1;
        *h->have_full = 1;
    }
    double hdev = deviation(h->welded, h->full, *h->hull, nh, h->nu, h->work);
    if (hdev < 0) return -1; /* (out of memory) */
    if (!(hdev <= 0.8 * h->abs_error)) return 0;
    *ns = nh;
    *chosen = *h->hull;
    *achieved = hdev;
    return 1;
}

int ct_lod_simplify_mesh(const ct_mesh *in, double abs_error, ct_mesh *out, double *achieved) {
    ct_lod_work work = {0, 0, 0, 0};
    return ct_lod_simplify_mesh_work(in, abs_error, out, achieved, &work);
}

int ct_lod_simplify_mesh_work(const ct_mesh *in, double abs_error, ct_mesh *out, double *achieved, ct_lod_work *work) {
    memset(out, 0, sizeof *out);
    *achieved = 0;
    size_t nv = in->nverts, ni = in->nindices;
    if (nv == 0 || ni == 0) return 0;
    double ox = in->pos[0], oy = in->pos[1], oz = in->pos[2];
    float *pos = malloc(nv * 3 * sizeof *pos);
    unsigned int *remap = malloc(nv * sizeof *remap);
    unsigned int *idx = malloc(ni * sizeof *idx);
    unsigned int *simp = malloc(ni * sizeof *simp), *hull = NULL;
    float *welded = NULL;
    surface full_surface; /* (built at the first deviation measured) */
    int rc = -1, have_full = 0;
    if (!pos || !remap || !idx || !simp) goto done;
    for (size_t v = 0; v < nv; v++) {
        pos[3 * v] = (float)(in->pos[3 * v] - ox);
        pos[3 * v + 1] = (float)(in->pos[3 * v + 1] - oy);
        pos[3 * v + 2] = (float)(in->pos[3 * v + 2] - oz);
    }
    size_t nu = meshopt_generateVertexRemap(remap, in->idx, ni, pos, nv, 3 * sizeof(float));
    welded = malloc((nu ? nu : 1) * 3 * 3 * sizeof *welded); /* (room for a hull prism's corners after them) */
    if (!welded) goto done;
    meshopt_remapVertexBuffer(welded, pos, nv, 3 * sizeof(float), remap);
    meshopt_remapIndexBuffer(idx, in->idx, ni, remap);
    float scale = meshopt_simplifyScale(welded, nu, 3 * sizeof(float));
    /* A closed shell (every building with its floor) is kept closed; an open one (no
     * floor) keeps its border, which the ground hides. */
    const shape full = shape_of(welded, idx, ni); /* (what every try is held to) */
    int closed = edges_sound(idx, ni, 1) == 1 && full.volume > 0;
    size_t ns = ni;
    double target = abs_error;
    memcpy(simp, idx, ni * sizeof *simp);
    *achieved = 0;
    const unsigned int *chosen = simp;
    hull_try h = {welded, idx, ni, nu, abs_error, &full_surface, &have_full, work, &hull};
    int picked = 0, hull_tried = 0;
    if (ni > HULL_FIRST_INDICES && closed) {
        /* A huge building (a block of thousands of courtyards) tries its hull's prism
         * first: each try below is a meshoptimizer pass and a deviation over the whole
         * mesh, and such a block's tries all strayed or folded (11 passes over 5.8
         * million indices: 38 s at 96,000 holes) before the hull was taken. */
        if ((picked = try_hull(&h, &ns, &chosen, achieved)) < 0) goto done;
        hull_tried = 1;
    }
    for (int attempt = 0; !picked && attempt < 5 && scale > 0; attempt++, target *= 0.5) {
        float err = 0.f;
        size_t n = meshopt_simplify(simp, idx, ni, welded, nu, 3 * sizeof(float), 0, (float)(target / scale),
                                    closed ? 0 : meshopt_SimplifyLockBorder, &err);
        work->tries++;
        if (n < ni && !have_full) {
            if (surface_init(&full_surface, welded, idx, ni, work) != 0) goto done;
            have_full = 1;
        }
        double dev = n < ni ? deviation(welded, &full_surface, simp, n, nu, work) : 0.0;
        if (dev < 0) goto done; /* (out of memory) */
        if (dev <= 0.8 * abs_error && (n == ni || shape_kept(welded, full, simp, n, closed))) {
            ns = n;
            *achieved = dev;
            break;
        }
        memcpy(simp, idx, ni * sizeof *simp); /* not good enough: keep the full mesh unless a retry does better */
        ns = ni;
    }
    /* Every try folded the building (a narrow one) or strayed: its hull's prism when that
     * is within the bound and smaller, else the full mesh (full meshes made parent tiles
     * 40% larger). */
    if (!picked && ns == ni && closed && !hull_tried && try_hull(&h, &ns, &chosen, achieved) < 0) goto done;
    /* Flat-shade the result: three vertices and a face normal per triangle. */
    size_t nt = ns / 3, kept = 0;
    out->pos = malloc((nt ? nt : 1) * 9 * sizeof *out->pos);
    out->nrm = malloc((nt ? nt : 1) * 9 * sizeof *out->nrm);
    out->idx = malloc((nt ? nt : 1) * 3 * sizeof *out->idx);
    if (!out->pos || !out->nrm || !out->idx) {
        ct_mesh_free(out);
        goto done;
    }
    for (size_t t = 0; t < nt; t++) {
        const float *a = welded + 3 * chosen[3 * t], *b = welded + 3 * chosen[3 * t + 1], *c = welded + 3 * chosen[3 * t + 2];
        double u[3] = {b[0] - a[0], b[1] - a[1], b[2] - a[2]}, w[3] = {c[0] - a[0], c[1] - a[1], c[2] - a[2]};
        double n[3] = {u[1] * w[2] - u[2] * w[1], u[2] * w[0] - u[0] * w[2], u[0] * w[1] - u[1] * w[0]};
        double len = sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
        if (!(len > 1e-12)) continue; /* a collapsed triangle adds nothing */
        const float *corner[3] = {a, b, c};
        for (int k = 0; k < 3; k++) {
            size_t v = 3 * kept + (size_t)k;
            out->pos[3 * v] = ox + corner[k][0];
            out->pos[3 * v + 1] = oy + corner[k][1];
            out->pos[3 * v + 2] = oz + corner[k][2];
            for (int d = 0; d < 3; d++) out->nrm[3 * v + d] = (float)(n[d] / len);
            out->idx[v] = (uint32_t)v;
        }
        kept++;
    }
    out->nverts = 3 * kept;
    out->nindices = 3 * kept;
    rc = 0;
done:
    if (have_full) surface_free(&full_surface);
    free(pos);
    free(remap);
    free(idx);
    free(simp);
    free(hull);
    free(welded);
    return rc;
}
