/* Edge flips toward well-shaped triangles (see tri_flip.h). */
#include "geom/tri_flip.h"
#include "citytiler/triangulate.h"
#include "core/reserve.h"

#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

void ct_tri_flip_free(ct_tri_flip *f) {
    free(f->twin);
    free(f->table);
    free(f->stack);
    memset(f, 0, sizeof *f);
}

static inline uint32_t next_he(uint32_t h) { return h % 3 == 2 ? h - 2 : h + 1; }
static inline uint32_t prev_he(uint32_t h) { return h % 3 == 0 ? h + 2 : h - 1; }

static inline size_t slot_of(uint32_t from, uint32_t to, size_t mask) {
    return (size_t)((from * 0x9E3779B1u) ^ (to * 0x85EBCA77u) ^ (from >> 16)) & mask;
}

/* Each half-edge's opposite (same points, other direction), NONE on the boundary.
 * Returns 0 when out of memory, -1 when a directed edge repeats (not a triangulation:
 * nothing is flipped), 1 otherwise. */
static int find_twins(ct_tri_flip *f, const uint32_t *tris, size_t nh) {
    size_t size = 16;
    while (size < 2 * nh) size *= 2;
    if (!ct_reserve((void **)&f->twin, &f->twin_cap, nh, sizeof *f->twin) ||
        !ct_reserve((void **)&f->table, &f->table_cap, size, sizeof *f->table))
        return 0;
    const size_t mask = size - 1;
    memset(f->table, 0xff, size * sizeof *f->table);
    for (uint32_t h = 0; h < nh; h++) {
        uint32_t a = tris[h], b = tris[next_he(h)];
        size_t s = slot_of(a, b, mask);
        for (; f->table[s] != NONE; s = (s + 1) & mask) {
            uint32_t o = f->table[s];
            if (tris[o] == a && tris[next_he(o)] == b) return -1;
        }
        f->table[s] = h;
    }
    for (uint32_t h = 0; h < nh; h++) {
        uint32_t a = tris[h], b = tris[next_he(h)];
        f->twin[h] = NONE;
        for (size_t s = slot_of(b, a, mask); f->table[s] != NONE; s = (s + 1) & mask) {
            uint32_t o = f->table[s];
            if (tris[o] == b && tris[next_he(o)] == a) {
                f->twin[h] = o;
                break;
            }
        }
    }
    return 1;
}

/* Twice the area over the longest edge squared: 0 for a sliver, sqrt(3)/2 at best. */
static double shape(const double *a, const double *b, const double *c) {
    double abx = b[0] - a[0], aby = b[1] - a[1], bcx = c[0] - b[0], bcy = c[1] - b[1], cax = a[0] - c[0],
           cay = a[1] - c[1];
    double l = abx * abx + aby * aby, m = bcx * bcx + bcy * bcy, n = cax * cax + cay * cay;
    double longest = l > m ? (l > n ? l : n) : (m > n ? m : n);
    double area2 = abx * (-cay) - aby * (-cax);
    return longest > 0 ? area2 / longest : 0.0;
}

static int push(ct_tri_flip *f, size_t *n, uint32_t h) {
    if (f->twin[h] == NONE) return 1;
    if (!ct_reserve((void **)&f->stack, &f->stack_cap, *n + 1, sizeof *f->stack)) return 0;
    f->stack[(*n)++] = h;
    return 1;
}

/* 1 when some triangle is thinner than SLIVER: the flips run only then (most footprints
 * have none, and building the edge table cost the writer 4% on a 100k-building city). */
#define SLIVER 1e-3

static int has_sliver(const ct_polygon *p, const uint32_t *tris, size_t nt) {
    for (size_t k = 0; k < nt; k++)
        if (shape(p->xy + 2 * (size_t)tris[3 * k], p->xy + 2 * (size_t)tris[3 * k + 1], p->xy + 2 * (size_t)tris[3 * k + 2]) <
            SLIVER)
            return 1;
    return 0;
}

long ct_tri_flip_improve(ct_tri_flip *f, const ct_polygon *p, uint32_t *tris, size_t nt) {
    if (nt < 2 || !has_sliver(p, tris, nt)) return 0;
    if (nt > (UINT32_MAX - 2) / 3) return 0; /* (half-edge ids are 32-bit) */
    const uint32_t nh = (uint32_t)(3 * nt);
    int tw = find_twins(f, tris, nh);
    if (tw <= 0) return tw == 0 ? -1 : 0;
    size_t n = 0;
    for (uint32_t h = nh; h-- > 0;)
        if (f->twin[h] != NONE && h < f->twin[h] && !push(f, &n, h)) return -1;
    /* Every flip raises the smaller shape of its pair by a factor (1 + 1e-9) at least and
     * touches no other triangle, so the sorted shapes rise and the loop ends. It may take
     * many rounds: a 200 m strip with 500 vertices a side took over 8 flips a triangle.
     * The cap only bounds the time on a pathological ring (1e6 flips: about 0.1 s). */
    long flips = 0;
    const long max_flips = 64 * (long)nt + 1000000;
    while (n > 0 && flips < max_flips) {
        uint32_t h = f->stack[--n], g = f->twin[h];
        if (g == NONE) continue;
        uint32_t h1 = next_he(h), h2 = prev_he(h), g1 = next_he(g), g2 = prev_he(g);
        uint32_t a = tris[h], b = tris[h1], c = tris[h2], d = tris[g2];
        const double *pa = p->xy + 2 * (size_t)a, *pb = p->xy + 2 * (size_t)b, *pc = p->xy + 2 * (size_t)c,
                     *pd = p->xy + 2 * (size_t)d;
        /* The quadrilateral a, d, b, c (counter-clockwise) must be strictly convex at a and b. */
        if (c == d || !(ct_orient2d(pa[0], pa[1], pd[0], pd[1], pc[0], pc[1]) > 0) ||
            !(ct_orient2d(pd[0], pd[1], pb[0], pb[1], pc[0], pc[1]) > 0))
            continue;
        double s_old1 = shape(pa, pb, pc), s_old2 = shape(pb, pa, pd);
        double s_new1 = shape(pa, pd, pc), s_new2 = shape(pb, pc, pd);
        double old_min = s_old1 < s_old2 ? s_old1 : s_old2, new_min = s_new1 < s_new2 ? s_new1 : s_new2;
        if (!(new_min > old_min * (1.0 + 1e-9))) continue;
        /* a->b / b->a become (a, d, c) and (b, c, d), their diagonal d->c / c->d. */
        uint32_t t_bc = f->twin[h1], t_ad = f->twin[g1];
        tris[h] = a;
        tris[h1] = d;
        tris[h2] = c;
        tris[g] = b;
        tris[g1] = c;
        tris[g2] = d;
        f->twin[h] = t_ad;
        if (t_ad != NONE) f->twin[t_ad] = h;
        f->twin[g] = t_bc;
        if (t_bc != NONE) f->twin[t_bc] = g;
        f->twin[h1] = g1;
        f->twin[g1] = h1;
        flips++;
        if (!push(f, &n, h) || !push(f, &n, h2) || !push(f, &n, g) || !push(f, &n, g2)) return -1;
    }
    return flips;
}
