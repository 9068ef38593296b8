/* Ground height at a point from the ground samples around it: gather (LiDAR ground
 * classes within a growing radius), keep the k nearest, fit a least-squares plane (or
 * weight by inverse distance) and evaluate it at the point. */
#include "citytiler/ground.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void ct_ground_params_default(ct_ground_params *p) {
    memset(p, 0, sizeof *p);
    p->method = CT_GROUND_PLANE;
    p->radius = 1.0;
    p->max_radius = 8.0;
    p->k = 12;
    p->min_points = 3;
    p->ground_class[2] = 1;
}

void ct_ground_scratch_free(ct_ground_scratch *s) {
    ct_span_list_free(&s->spans);
    free(s->s);
    memset(s, 0, sizeof *s);
}

static int cmp_sample(const void *a, const void *b) {
    const ct_ground_sample *p = a, *q = b;
    if (p->d2 != q->d2) return p->d2 < q->d2 ? -1 : 1;
    if (p->dx != q->dx) return p->dx < q->dx ? -1 : 1;
    if (p->dy != q->dy) return p->dy < q->dy ? -1 : 1;
    return (p->z > q->z) - (p->z < q->z);
}

static double idw(const ct_ground_sample *s, size_t m) {
    double sw = 0, swz = 0;
    if (s[0].d2 < 1e-8) { /* on a sample: the mean of the coincident ones */
        size_t c = 0;
        for (size_t i = 0; i < m && s[i].d2 < 1e-8; i++, c++) swz += s[i].z;
        return swz / (double)c;
    }
    for (size_t i = 0; i < m; i++) {
        double w = 1.0 / s[i].d2;
        sw += w;
        swz += w * s[i].z;
    }
    return swz / sw;
}

/* A fitted plane: z = mz + gb (x - mx) + gc (y - my). */
typedef struct plane_fit {
    double mx, my, mz, gb, gc, rms;
} plane_fit;

static double plane_eval(const plane_fit *f, double x, double y) { return f->mz + f->gb * (x - f->mx) + f->gc * (y - f->my); }

/* Least-squares plane through the samples with use[i] set. Returns 0 when fewer than 3
 * or too close to collinear (spread across the thinnest direction below 0.2 m). */
static int plane(const ct_ground_sample *s, size_t m, const unsigned char *use, plane_fit *f) {
    double n = 0, mx = 0, my = 0, mz = 0;
    for (size_t i = 0; i < m; i++)
        if (use[i]) {
            n++;
            mx += s[i].dx;
            my += s[i].dy;
            mz += s[i].z;
        }
    if (n < 3) return 0;
    mx /= n;
    my /= n;
    mz /= n;
    double sxx = 0, sxy = 0, syy = 0, sxz = 0, syz = 0;
    for (size_t i = 0; i < m; i++)
        if (use[i]) {
            double x = s[i].dx - mx, y = s[i].dy - my, z = s[i].z - mz;
            sxx += x * x;
            sxy += x * y;
            syy += y * y;
            sxz += x * z;
            syz += y * z;
        }
    double a = sxx / n, b = sxy / n, c = syy / n;
    double lmin = 0.5 * (a + c) - sqrt(0.25 * (a - c) * (a - c) + b * b);
    if (!(lmin >= 0.2 * 0.2)) return 0;
    double det = sxx * syy - sxy * sxy;
    f->mx = mx;
    f->my = my;
    f->mz = mz;
    f->gb = (sxz * syy - syz * sxy) / det;
    f->gc = (syz * sxx - sxz * sxy) / det;
    double ss = 0;
    for (size_t i = 0; i < m; i++)
        if (use[i]) {
            double r = s[i].z - plane_eval(f, s[i].dx, s[i].dy);
            ss += r * r;
        }
    f->rms = sqrt(ss / n);
    return 1;
}

void ct_ground_interpolate(const ct_ground_params *p, ct_ground_sample *s, size_t n, ct_ground_result *out) {
    out->z = NAN;
    out->points = 0;
    out->nearest = NAN;
    out->rms = NAN;
    out->used_plane = 0;
    if (n == 0) return;
    unsigned char use[256];
    size_t m = n < p->k ? n : p->k;
    if (m > sizeof use) m = sizeof use;
    /* The m nearest, in order, by insertion into a small sorted array (no qsort: its
     * allocations serialise threads, and m is small). */
    ct_ground_sample best[256];
    size_t nb = 0;
    for (size_t i = 0; i < n; i++) {
        if (nb == m && cmp_sample(&s[i], &best[m - 1]) >= 0) continue;
        size_t j = nb < m ? nb++ : m - 1;
        while (j > 0 && cmp_sample(&s[i], &best[j - 1]) < 0) {
            best[j] = best[j - 1];
            j--;
        }
        best[j] = s[i];
    }
    memcpy(s, best, m * sizeof *s);
    out->nearest = sqrt(s[0].d2);
    out->points = (uint32_t)m;
    if (n < p->min_points) return;
    plane_fit f;
    if (p->method == CT_GROUND_PLANE && m >= 3) {
        memset(use, 1, m);
        if (plane(s, m, use, &f)) {
            /* One robust pass: samples far off the plane (a kerb, a misclassified point)
             * are dropped and the plane refitted. */
            double cut = 3.0 * f.rms > 0.3 ? 3.0 * f.rms : 0.3;
            size_t kept = 0;
            for (size_t i = 0; i < m; i++) {
                use[i] = fabs(s[i].z - plane_eval(&f, s[i].dx, s[i].dy)) <= cut;
                kept += use[i];
            }
            plane_fit g;
            if (kept < m && plane(s, m, use, &g)) f = g;
            double z = plane_eval(&f, 0, 0), lo = INFINITY, hi = -INFINITY;
            for (size_t i = 0; i < m; i++) {
                if (s[i].z < lo) lo = s[i].z;
                if (s[i].z > hi) hi = s[i].z;
            }
            if (z < lo - 1.0) z = lo - 1.0; /* never run away when extrapolating */
            if (z > hi + 1.0) z = hi + 1.0;
            out->z = z;
            out->rms = f.rms;
            out->used_plane = 1;
            return;
        }
    }
    out->z = idw(s, m);
}

ct_status ct_ground_at(const ct_point_store *store, double x, double y, const ct_ground_params *p,
                       ct_ground_scratch *scratch, ct_ground_result *out) {
    double r = p->radius > 0 ? p->radius : p->max_radius;
    for (;;) {
        double bb[4] = {x - r, y - r, x + r, y + r};
        /* only the class groups that hold ground classes */
        ct_status st = ct_point_store_query_groups(store, bb, ct_point_groups_of(p->ground_class), NULL, 0, NULL, NULL,
                                                   &scratch->spans);
        if (st != CT_OK) return st;
        double r2 = r * r;
        scratch->n = 0;
        for (size_t k = 0; k < scratch->spans.n; k++) {
            const ct_point_span *sp = &scratch->spans.v[k];
            double ox = sp->ox - x, oy = sp->oy - y;
            for (size_t i = 0; i < sp->n; i++) {
                const ct_point_rec *q = &sp->p[i];
                if (!p->ground_class[q->cls]) continue;
                double dx = ox + (double)q->x, dy = oy + (double)q->y, d2 = dx * dx + dy * dy;
                if (d2 > r2) continue;
                if (scratch->n == scratch->cap) {
                    size_t nc = scratch->cap ? scratch->cap * 2 : 256;
                    ct_ground_sample *v = realloc(scratch->s, nc * sizeof *v);
                    if (!v) return CT_ERR_NOMEM;
                    scratch->s = v;
                    scratch->cap = nc;
                }
                ct_ground_sample *g = &scratch->s[scratch->n++];
                g->dx = dx;
                g->dy = dy;
                g->z = (double)q->z;
                g->d2 = d2;
            }
        }
        if (scratch->n >= p->k || r >= p->max_radius) break;
        r = 2 * r < p->max_radius ? 2 * r : p->max_radius;
    }
    ct_ground_interpolate(p, scratch->s, scratch->n, out);
    out->radius = r;
    return CT_OK;
}

ct_status ct_points_cover(const ct_point_store *store, double x, double y, double radius, ct_ground_scratch *scratch,
                          int *covered) {
    *covered = 0;
    double bb[4] = {x - radius, y - radius, x + radius, y + radius}, r2 = radius * radius;
    ct_status st = ct_point_store_query(store, bb, &scratch->spans);
    if (st != CT_OK) return st;
    for (size_t k = 0; k < scratch->spans.n && !*covered; k++) {
        const ct_point_span *sp = &scratch->spans.v[k];
        double ox = sp->ox - x, oy = sp->oy - y;
        for (size_t i = 0; i < sp->n; i++) {
            double dx = ox + (double)sp->p[i].x, dy = oy + (double)sp->p[i].y;
            if (dx * dx + dy * dy <= r2) {
                *covered = 1;
                break;
            }
        }
    }
    return CT_OK;
}
