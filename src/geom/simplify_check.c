/* The per-footprint checks of a group simplified together: see simplify_check.h. */
#include "simplify_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "citytiler/clean.h"

static void refuse(unsigned char *failed, ct_simplify_refusal *refusal, size_t i, long *count, const char *why) {
    if (!failed[i]) (*count)++;
    failed[i] = 1;
    refusal[i].why = why;
    refusal[i].other = (size_t)-1;
}

/* Area of a ∩ b; -1 when GEOS fails. */
static double overlap(GEOSContextHandle_t h, const GEOSGeometry *a, const GEOSGeometry *b) {
    GEOSGeometry *x = GEOSIntersection_r(h, a, b);
    double area = -1;
    if (x && !GEOSArea_r(h, x, &area)) area = -1;
    if (x) GEOSGeom_destroy_r(h, x);
    return area;
}

typedef struct by_x {
    double x;
    size_t i;
} by_x;

static int cmp_by_x(const void *a, const void *b) {
    const by_x *p = a, *q = b;
    if (p->x != q->x) return p->x < q->x ? -1 : 1;
    return (p->i > q->i) - (p->i < q->i);
}

/* Pairs of outputs whose boxes overlap with some area (a shared wall alone gives none). */
static long check_overlaps(GEOSContextHandle_t h, const ct_footprint *const *in, GEOSGeometry **gout, const double *bb,
                           size_t n, const unsigned char *frozen, unsigned char *failed, ct_simplify_refusal *refusal) {
    by_x *order = malloc((n ? n : 1) * sizeof *order);
    if (!order) return -1;
    for (size_t i = 0; i < n; i++) {
        order[i].x = bb[4 * i];
        order[i].i = i;
    }
    qsort(order, n, sizeof *order, cmp_by_x);
    long count = 0;
    for (size_t a = 0; a < n && count >= 0; a++) {
        size_t i = order[a].i;
        const double *bi = bb + 4 * i;
        for (size_t b = a + 1; b < n && order[b].x < bi[2]; b++) {
            size_t j = order[b].i;
            const double *bj = bb + 4 * j;
            if ((frozen[i] && frozen[j]) || !(bj[1] < bi[3] && bi[1] < bj[3])) continue;
            double o1 = overlap(h, gout[i], gout[j]);
            if (o1 >= 0 && o1 <= CT_SIMPLIFY_SLACK) continue;
            double o0 = 0;
            if (o1 > 0) {
                GEOSGeometry *g0 = ct_geos_from_footprint(h, in[i]), *g1 = ct_geos_from_footprint(h, in[j]);
                if (g0 && g1) o0 = overlap(h, g0, g1);
                if (g0) GEOSGeom_destroy_r(h, g0);
                if (g1) GEOSGeom_destroy_r(h, g1);
                if (!g0 || !g1) {
                    count = -1;
                    break;
                }
                if (o0 >= 0 && o1 <= o0 + CT_SIMPLIFY_SLACK) continue;
            }
            size_t ends[2] = {i, j};
            for (int e = 0; e < 2; e++) {
                size_t k = ends[e], other = ends[1 - e];
                if (frozen[k]) continue;
                refuse(failed, refusal, k, &count, "would overlap a neighbour");
                refusal[k].other = other;
                if (o1 < 0)
                    snprintf(refusal[k].detail, sizeof refusal[k].detail, "GEOS could not intersect the two");
                else
                    snprintf(refusal[k].detail, sizeof refusal[k].detail, "%.3f m2 in common, %.3f m2 before", o1, o0);
            }
        }
    }
    free(order);
    return count;
}

long ct_simplify_check(GEOSContextHandle_t h, double tolerance, const ct_footprint *const *in, const ct_footprint *out,
                       size_t n, const unsigned char *frozen, unsigned char *failed, ct_simplify_refusal *refusal) {
    GEOSGeometry **gout = calloc(n ? n : 1, sizeof *gout);
    double *bb = malloc(4 * (n ? n : 1) * sizeof *bb);
    long count = gout && bb ? 0 : -1;
    for (size_t i = 0; i < n && count >= 0; i++) {
        gout[i] = ct_geos_from_footprint(h, &out[i]);
        if (!gout[i]) count = -1;
        else if (!ct_footprint_bbox(&out[i], bb + 4 * i)) bb[4 * i] = bb[4 * i + 1] = bb[4 * i + 2] = bb[4 * i + 3] = 0;
    }
    for (size_t i = 0; i < n && count >= 0; i++) {
        if (frozen[i]) continue;
        GEOSGeometry *g0 = ct_geos_from_footprint(h, in[i]);
        if (!g0) {
            count = -1;
            break;
        }
        double d = -1;
        if (!GEOSHausdorffDistance_r(h, g0, gout[i], &d)) d = -1;
        GEOSGeom_destroy_r(h, g0);
        double a0 = ct_footprint_area(in[i]), a1 = ct_footprint_area(&out[i]), bound = ct_footprint_perimeter(in[i]) * tolerance;
        if (d < 0) {
            refuse(failed, refusal, i, &count, "its displacement could not be measured");
            snprintf(refusal[i].detail, sizeof refusal[i].detail, "GEOS Hausdorff distance failed");
        } else if (d > tolerance + CT_SIMPLIFY_SLACK) {
            refuse(failed, refusal, i, &count, "boundary would move more than tolerance");
            snprintf(refusal[i].detail, sizeof refusal[i].detail, "a point would move %.3f m, tolerance %.3f m", d,
                     tolerance);
        } else if (fabs(a1 - a0) > bound + CT_SIMPLIFY_SLACK) {
            refuse(failed, refusal, i, &count, "area would change more than perimeter x tolerance");
            snprintf(refusal[i].detail, sizeof refusal[i].detail, "%.3f -> %.3f m2, at most %.3f m2 of change", a0, a1,
                     bound);
        }
    }
    if (count >= 0) {
        long c = check_overlaps(h, in, gout, bb, n, frozen, failed, refusal);
        count = c < 0 ? -1 : count + c;
    }
    for (size_t i = 0; gout && i < n; i++)
        if (gout[i]) GEOSGeom_destroy_r(h, gout[i]);
    free(gout);
    free(bb);
    return count;
}
