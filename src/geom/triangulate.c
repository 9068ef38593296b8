/* Ear clipping of polygons with holes.
 *
 * 1. Boundary: rings oriented (shell CCW, holes CW), consecutive repeats dropped, and a
 *    point of one ring lying inside an edge of another inserted into that edge. Equal
 *    positions are grouped (a hole touching the shell at a point gives a group of two).
 * 2. Holes join the shell into one weakly simple ring. A hole that touches the ring
 *    already built at a point is spliced in there (no new edge): of the occurrences of
 *    that point, the one whose interior wedge holds the hole. Any other hole is bridged
 *    (holes by decreasing rightmost x; a ray from the hole's rightmost point to +x; the
 *    edge it hits first; the vertex of least angle inside the triangle point-hit-endpoint
 *    is visible) with two coincident bridge edges.
 * 3. Ears: a convex vertex (exact orientation > 0) whose triangle holds no other vertex,
 *    inside or on its boundary, except points at the triangle's own corners (pinch points
 *    and bridge ends). After a clip the search moves two vertices on, so ears stay local
 *    and a long convex ring is halved per turn rather than fanned. Above
 *    CT_TRI_ZORDER_MIN vertices the candidates inside an ear's bounding box are found
 *    through a z-order (Morton) list.
 * 4. Slivers: when a triangle is thinner than 1e-3 of its longest side, edges are
 *    flipped toward better-shaped pairs (tri_flip.c).
 * Each clip replaces the two edges a-b, b-c by a-c, so the triangles' edges cancel in
 *    pairs except the boundary: with every triangle strictly positive, they cover the
 *    polygon exactly once; a flip keeps that (two triangles of a convex quadrilateral
 *    become its other two). The area sum is checked as well. */
#include "citytiler/triangulate.h"
#include "core/reserve.h"
#include "geom/tri_flip.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CT_TRI_ZORDER_MIN 64
#define NONE UINT32_MAX

/* ---- exact orientation ------------------------------------------------------------ */

static inline void two_sum(double a, double b, double *s, double *e) {
    double x = a + b, bv = x - a, av = x - bv;
    *s = x;
    *e = (a - av) + (b - bv);
}

static inline void two_diff(double a, double b, double *d, double *e) {
    double x = a - b, bv = a - x, av = x + bv;
    *d = x;
    *e = (a - av) + (bv - b);
}

/* Adds b to the nonoverlapping expansion e (m components, increasing magnitude). */
static size_t grow(double *e, size_t m, double b) {
    double q = b;
    for (size_t i = 0; i < m; i++) two_sum(q, e[i], &q, &e[i]);
    e[m] = q;
    return m + 1;
}

static double orient_exact(double ax, double ay, double bx, double by, double cx, double cy) {
    double acx, acxe, bcy, bcye, acy, acye, bcx, bcxe;
    two_diff(ax, cx, &acx, &acxe);
    two_diff(by, cy, &bcy, &bcye);
    two_diff(ay, cy, &acy, &acye);
    two_diff(bx, cx, &bcx, &bcxe);
    const double l[2] = {acx, acxe}, r[2] = {bcy, bcye}, l2[2] = {acy, acye}, r2[2] = {bcx, bcxe};
    double e[17];
    size_t m = 0;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            double p = l[i] * r[j], pe = fma(l[i], r[j], -p);
            m = grow(e, m, pe);
            m = grow(e, m, p);
            double q = l2[i] * r2[j], qe = fma(l2[i], r2[j], -q);
            m = grow(e, m, -qe);
            m = grow(e, m, -q);
        }
    for (size_t i = m; i-- > 0;)
        if (e[i] != 0) return e[i];
    return 0;
}

static inline double orient(double ax, double ay, double bx, double by, double cx, double cy) {
    double l = (ax - cx) * (by - cy), r = (ay - cy) * (bx - cx), det = l - r;
    double bound = 3.3306690738754716e-16 * (fabs(l) + fabs(r));
    if (det > bound || -det > bound) return det;
    return orient_exact(ax, ay, bx, by, cx, cy);
}

double ct_orient2d(double ax, double ay, double bx, double by, double cx, double cy) {
    return orient(ax, ay, bx, by, cx, cy);
}

/* ---- workspace -------------------------------------------------------------------- */

typedef struct node {
    double x, y;
    uint32_t idx, gid;
    uint32_t prev, next;
    uint32_t pz, nz, z;
    uint32_t gnext; /* next node of the same position group */
    uint32_t ring;  /* ring of the boundary this node came from (NONE for copies) */
    unsigned char outer;
} node;

typedef struct pent { double x, y; uint32_t e; } pent; /* an entry sorted by position */
typedef struct ins { uint32_t after; double t; uint32_t idx; } ins; /* a point inserted into an edge */
typedef struct ekey { uint32_t a, b; int32_t s; } ekey;

struct ct_triangulator {
    char reason[160];
    /* boundary */
    uint32_t *rs, *bidx, *brank, *bgid;
    size_t rs_cap, b_cap, brank_cap, bgid_cap;
    uint32_t *dstart, *didx; /* deduplicated rings before insertion */
    size_t dstart_cap, d_cap;
    pent *sorted;
    size_t sorted_cap;
    ins *insv;
    size_t ins_cap;
    uint32_t *gsize;
    size_t gsize_cap;
    /* ear clipping */
    node *nodes;
    size_t nodes_cap;
    uint32_t *gfirst;
    size_t gfirst_cap;
    uint32_t *order;
    size_t order_cap;
    uint32_t *tris;
    size_t tris_cap;
    ekey *edges;
    size_t edges_cap;
    uint32_t *pgid;
    size_t pgid_cap;
    ct_tri_flip flip; /* the edge flips after clipping */
};

#define RESERVE(t, field, capfield, need) ct_reserve((void **)&(t)->field, &(t)->capfield, (need), sizeof *(t)->field)

ct_triangulator *ct_triangulator_create(void) { return calloc(1, sizeof(ct_triangulator)); }

void ct_triangulator_destroy(ct_triangulator *t) {
    if (!t) return;
    free(t->rs); free(t->bidx); free(t->brank); free(t->bgid);
    free(t->dstart); free(t->didx); free(t->sorted); free(t->insv); free(t->gsize);
    free(t->nodes); free(t->gfirst); free(t->order); free(t->tris); free(t->edges); free(t->pgid);
    ct_tri_flip_free(&t->flip);
    free(t);
}

const char *ct_triangulator_reason(const ct_triangulator *t) { return t->reason; }

static ct_tri_status fail(ct_triangulator *t, const char *why) {
    snprintf(t->reason, sizeof t->reason, "%s", why);
    return CT_TRI_FAILED;
}

/* ---- boundary --------------------------------------------------------------------- */

static int cmp_pent(const void *a, const void *b) {
    const pent *p = a, *q = b;
    if (p->x != q->x) return p->x < q->x ? -1 : 1;
    if (p->y != q->y) return p->y < q->y ? -1 : 1;
    return (p->e > q->e) - (p->e < q->e);
}

static int cmp_ins(const void *a, const void *b) {
    const ins *p = a, *q = b;
    if (p->after != q->after) return p->after < q->after ? -1 : 1;
    if (p->t != q->t) return p->t < q->t ? -1 : 1;
    return (p->idx > q->idx) - (p->idx < q->idx);
}

static int cmp_ekey(const void *a, const void *b) {
    const ekey *p = a, *q = b;
    if (p->a != q->a) return p->a < q->a ? -1 : 1;
    if (p->b != q->b) return p->b < q->b ? -1 : 1;
    return (p->s > q->s) - (p->s < q->s);
}

#define PX(p, i) ((p)->xy[2 * (size_t)(i)])
#define PY(p, i) ((p)->xy[2 * (size_t)(i) + 1])

/* Area x 2 of a list of point indices, relative to (ox, oy). */
static double ring_area2(const ct_polygon *p, const uint32_t *ix, uint32_t n, double ox, double oy) {
    double s = 0;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t a = ix[k], b = ix[k + 1 < n ? k + 1 : 0];
        s += (PX(p, a) - ox) * (PY(p, b) - oy) - (PX(p, b) - ox) * (PY(p, a) - oy);
    }
    return s;
}

/* The rings without consecutive repeats, the shell counter-clockwise and the holes
 * clockwise, into didx (ring r at dstart[r]); rings without area dropped (the shell
 * without area fails). *nr rings, *used entries. */
static ct_tri_status dedupe_and_orient(ct_triangulator *t, const ct_polygon *p, uint32_t *nr_out, uint32_t *used_out) {
    double ox = PX(p, 0), oy = PY(p, 0);
    uint32_t nr = 0, used = 0;
    for (uint32_t r = 0; r < p->nrings; r++) {
        uint32_t s = p->ring_start[r], n = ct_ring_size(p, r), m = 0;
        uint32_t *out = t->didx + used;
        for (uint32_t k = 0; k < n; k++) {
            uint32_t i = s + k;
            if (m && PX(p, i) == PX(p, out[m - 1]) && PY(p, i) == PY(p, out[m - 1])) continue;
            out[m++] = i;
        }
        while (m > 1 && PX(p, out[m - 1]) == PX(p, out[0]) && PY(p, out[m - 1]) == PY(p, out[0])) m--;
        double a2 = m >= 3 ? ring_area2(p, out, m, ox, oy) : 0;
        if (!(a2 != 0)) {
            if (r == 0) return fail(t, "shell has no area");
            continue; /* a hole without area leaves nothing to cut */
        }
        if ((r == 0) == (a2 < 0))
            for (uint32_t i = 0, j = m - 1; i < j; i++, j--) {
                uint32_t tmp = out[i]; out[i] = out[j]; out[j] = tmp;
            }
        t->dstart[nr++] = used;
        used += m;
    }
    t->dstart[nr] = used;
    *nr_out = nr;
    *used_out = used;
    return CT_TRI_OK;
}

/* Points of one ring inside an edge of another (only possible with holes), as
 * insertions into t->insv sorted by edge and position along it: *nins of them. */
static ct_tri_status find_insertions(ct_triangulator *t, const ct_polygon *p, uint32_t nr, uint32_t used,
                                     size_t *nins_out) {
    size_t nins = 0;
    for (uint32_t e = 0; e < used; e++) {
        t->sorted[e].x = PX(p, t->didx[e]);
        t->sorted[e].y = PY(p, t->didx[e]);
        t->sorted[e].e = e;
    }
    qsort(t->sorted, used, sizeof *t->sorted, cmp_pent);
    for (uint32_t r = 0; r < nr; r++) {
        uint32_t s = t->dstart[r], n = t->dstart[r + 1] - s;
        for (uint32_t k = 0; k < n; k++) {
            uint32_t ia = t->didx[s + k], ib = t->didx[s + (k + 1) % n];
            double ax = PX(p, ia), ay = PY(p, ia), bx = PX(p, ib), by = PY(p, ib);
            double x0 = ax < bx ? ax : bx, x1 = ax < bx ? bx : ax, y0 = ay < by ? ay : by, y1 = ay < by ? by : ay;
            size_t lo = 0, hi = used;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (t->sorted[mid].x < x0) lo = mid + 1;
                else hi = mid;
            }
            double lastx = NAN, lasty = NAN;
            for (size_t q = lo; q < used && t->sorted[q].x <= x1; q++) {
                double wx = t->sorted[q].x, wy = t->sorted[q].y;
                if (wy < y0 || wy > y1) continue;
                if ((wx == ax && wy == ay) || (wx == bx && wy == by)) continue;
                if (wx == lastx && wy == lasty) continue; /* one insertion per position */
                if (orient(ax, ay, bx, by, wx, wy) != 0) continue;
                if (!RESERVE(t, insv, ins_cap, nins + 1)) return CT_TRI_NOMEM;
                t->insv[nins].after = s + k;
                t->insv[nins].t = (wx - ax) * (bx - ax) + (wy - ay) * (by - ay);
                t->insv[nins].idx = t->didx[t->sorted[q].e];
                nins++;
                lastx = wx;
                lasty = wy;
            }
        }
    }
    if (nins > 1) qsort(t->insv, nins, sizeof *t->insv, cmp_ins);
    *nins_out = nins;
    return CT_TRI_OK;
}

/* Position groups and ranks of the nb boundary entries: gid = the group's first entry
 * in position order (or, for small polygons, in entry order), rank = order of entries
 * within the group, gsize = entries in the group. 1 when some position is shared. */
static int group_positions(ct_triangulator *t, const ct_polygon *p, size_t nb) {
    int touching = 0;
    if (nb <= 32) { /* quadratic, but cheaper than sorting for a typical footprint */
        for (size_t e = 0; e < nb; e++) {
            double x = PX(p, t->bidx[e]), y = PY(p, t->bidx[e]);
            uint32_t g = (uint32_t)e, rank = 0;
            for (size_t f = 0; f < e; f++)
                if (PX(p, t->bidx[f]) == x && PY(p, t->bidx[f]) == y) {
                    if (!rank) g = t->bgid[f];
                    rank++;
                }
            t->bgid[e] = g;
            t->brank[e] = rank;
            t->gsize[g] = rank + 1;
            if (rank) touching = 1;
        }
        return touching;
    }
    for (size_t e = 0; e < nb; e++) {
        t->sorted[e].x = PX(p, t->bidx[e]);
        t->sorted[e].y = PY(p, t->bidx[e]);
        t->sorted[e].e = (uint32_t)e;
    }
    qsort(t->sorted, nb, sizeof *t->sorted, cmp_pent);
    uint32_t g = 0, rank = 0;
    for (size_t q = 0; q < nb; q++) {
        if (q > 0 && (t->sorted[q].x != t->sorted[q - 1].x || t->sorted[q].y != t->sorted[q - 1].y)) {
            t->gsize[g] = rank;
            g = (uint32_t)q;
            rank = 0;
        }
        if (rank) touching = 1;
        t->brank[t->sorted[q].e] = rank++;
        t->bgid[t->sorted[q].e] = g;
    }
    if (nb) t->gsize[g] = rank;
    return touching;
}

/* Two rings sharing a segment (both ends shared, and an edge between them in each) is
 * an invalid polygon: its walls would overlap. */
static ct_tri_status check_shared_segments(ct_triangulator *t, uint32_t nr) {
    size_t ne = 0;
    for (uint32_t r = 0; r < nr; r++)
        for (uint32_t e = t->rs[r]; e < t->rs[r + 1]; e++) {
            uint32_t f = e + 1 < t->rs[r + 1] ? e + 1 : t->rs[r];
            uint32_t ga = t->bgid[e], gb = t->bgid[f];
            if (t->gsize[ga] < 2 || t->gsize[gb] < 2) continue;
            if (!RESERVE(t, edges, edges_cap, ne + 1)) return CT_TRI_NOMEM;
            t->edges[ne].a = ga < gb ? ga : gb;
            t->edges[ne].b = ga < gb ? gb : ga;
            t->edges[ne].s = 0;
            ne++;
        }
    if (ne > 1) qsort(t->edges, ne, sizeof *t->edges, cmp_ekey);
    for (size_t q = 1; q < ne; q++)
        if (t->edges[q].a == t->edges[q - 1].a && t->edges[q].b == t->edges[q - 1].b)
            return fail(t, "two rings share a segment");
    return CT_TRI_OK;
}

ct_tri_status ct_boundary_build(ct_triangulator *t, const ct_polygon *p, ct_boundary *b) {
    memset(b, 0, sizeof *b);
    t->reason[0] = '\0';
    if (p->nrings == 0 || p->ring_start[p->nrings] < 3) return fail(t, "shell has no area");
    uint32_t total = p->ring_start[p->nrings];
    if (!RESERVE(t, dstart, dstart_cap, (size_t)p->nrings + 1) || !RESERVE(t, didx, d_cap, (size_t)total + 1))
        return CT_TRI_NOMEM;
    uint32_t nr = 0, used = 0;
    ct_tri_status ts = dedupe_and_orient(t, p, &nr, &used);
    if (ts != CT_TRI_OK) return ts;
    size_t nins = 0;
    if (!RESERVE(t, sorted, sorted_cap, used)) return CT_TRI_NOMEM;
    if (nr > 1 && (ts = find_insertions(t, p, nr, used, &nins)) != CT_TRI_OK) return ts;

    /* Final boundary with the insertions. */
    size_t nb = used + nins;
    if (!RESERVE(t, rs, rs_cap, (size_t)nr + 1) || !RESERVE(t, bidx, b_cap, nb) || !RESERVE(t, brank, brank_cap, nb) ||
        !RESERVE(t, bgid, bgid_cap, nb))
        return CT_TRI_NOMEM;
    size_t k = 0, ii = 0;
    for (uint32_t r = 0; r < nr; r++) {
        t->rs[r] = (uint32_t)k;
        for (uint32_t e = t->dstart[r]; e < t->dstart[r + 1]; e++) {
            t->bidx[k++] = t->didx[e];
            while (ii < nins && t->insv[ii].after == e) t->bidx[k++] = t->insv[ii++].idx;
        }
    }
    t->rs[nr] = (uint32_t)k;

    if (!RESERVE(t, sorted, sorted_cap, nb) || !RESERVE(t, gsize, gsize_cap, nb)) return CT_TRI_NOMEM;
    int touching = group_positions(t, p, nb);
    if (touching && (ts = check_shared_segments(t, nr)) != CT_TRI_OK) return ts;
    b->nrings = nr;
    b->ring_start = t->rs;
    b->idx = t->bidx;
    b->rank = t->brank;
    b->touching = touching;
    return CT_TRI_OK;
}

/* ---- joining holes ---------------------------------------------------------------- */

/* 1 when (px, py) lies strictly inside the interior wedge of node q (the interior is on
 * the left of prev -> q -> next). */
static int wedge_contains(const node *nd, uint32_t q, double px, double py) {
    const node *c = &nd[q], *a = &nd[c->prev], *b = &nd[c->next];
    if (orient(c->x, c->y, b->x, b->y, a->x, a->y) > 0)
        return orient(c->x, c->y, b->x, b->y, px, py) > 0 && orient(c->x, c->y, px, py, a->x, a->y) > 0;
    return !(orient(c->x, c->y, a->x, a->y, px, py) >= 0 && orient(c->x, c->y, px, py, b->x, b->y) >= 0);
}

static uint32_t add_copy(ct_triangulator *t, uint32_t *nn, uint32_t of) {
    uint32_t k = (*nn)++;
    t->nodes[k] = t->nodes[of];
    t->nodes[k].ring = NONE;
    t->nodes[of].gnext = k; /* keep the copy in the position group, right after its original */
    return k;
}

/* Bridges hole node m to outer node o with two coincident edges. */
static void bridge(ct_triangulator *t, uint32_t *nn, uint32_t o, uint32_t m) {
    node *nd = t->nodes;
    uint32_t o2 = add_copy(t, nn, o), m2 = add_copy(t, nn, m);
    nd = t->nodes;
    uint32_t ob = nd[o].next, mp = nd[m].prev;
    nd[o].next = m; nd[m].prev = o;
    nd[mp].next = m2; nd[m2].prev = mp;
    nd[m2].next = o2; nd[o2].prev = m2;
    nd[o2].next = ob; nd[ob].prev = o2;
}

/* The occurrence (outer node at the same position as o) whose wedge holds (px, py). */
static uint32_t pick_occurrence(const ct_triangulator *t, uint32_t o, double px, double py) {
    const node *nd = t->nodes;
    uint32_t first = t->gfirst[nd[o].gid];
    for (uint32_t q = first; q != NONE; q = nd[q].gnext)
        if (nd[q].outer && wedge_contains(nd, q, px, py)) return q;
    return o;
}

/* Splices hole ring (nodes from..to-1) into the outer ring at a point they share, at
 * the occurrence whose interior wedge holds the hole. 1 when spliced, 0 when the hole
 * shares no point with the outer ring. */
static int splice_hole(ct_triangulator *t, uint32_t from, uint32_t to) {
    node *nd = t->nodes;
    for (uint32_t m = from; m < to; m++) {
        for (uint32_t q = t->gfirst[nd[m].gid]; q != NONE; q = nd[q].gnext) {
            if (!nd[q].outer) continue;
            const node *c = &nd[nd[m].prev];
            if (!wedge_contains(nd, q, c->x, c->y)) continue;
            uint32_t qb = nd[q].next, md = nd[m].next;
            nd[q].next = md; nd[md].prev = q;
            nd[m].next = qb; nd[qb].prev = m;
            for (uint32_t k = from; k < to; k++) nd[k].outer = 1;
            return 1;
        }
    }
    return 0;
}

/* Bridges hole ring (nodes from..to-1) to the outer ring from its rightmost point.
 * 0, or -1 when no outer edge lies to its right. */
static int bridge_hole(ct_triangulator *t, uint32_t *nn, uint32_t from, uint32_t to, uint32_t start) {
    node *nd = t->nodes;
    uint32_t m = from;
    for (uint32_t k = from + 1; k < to; k++)
        if (nd[k].x > nd[m].x || (nd[k].x == nd[m].x && nd[k].y < nd[m].y)) m = k;
    double mx = nd[m].x, my = nd[m].y, hx = INFINITY;
    uint32_t hit = NONE;
    uint32_t u = start;
    do {
        uint32_t v = nd[u].next;
        const node *a = &nd[u], *b = &nd[v];
        if (a->y <= my && b->y >= my && a->y < b->y && orient(a->x, a->y, b->x, b->y, mx, my) > 0) {
            double x = a->y == my ? a->x : b->y == my ? b->x : a->x + (my - a->y) * (b->x - a->x) / (b->y - a->y);
            if (x < hx) {
                hx = x;
                hit = a->y == my ? u : b->y == my ? v : (a->x > b->x ? u : v);
            }
        }
        u = v;
    } while (u != start);
    if (hit == NONE) return -1;
    /* A vertex inside the triangle (m, hit point, chosen endpoint) would hide the
     * endpoint: take the one of least angle to the ray, then the nearest. */
    if (!(nd[hit].y == my)) {
        double px = nd[hit].x, py = nd[hit].y;
        double best_tan = INFINITY, best_d = INFINITY;
        uint32_t best = hit;
        u = start;
        do {
            const node *c = &nd[u];
            if (c->x >= mx && !(c->x == px && c->y == py)) {
                /* inside the triangle (m, (hx, my), p) including its boundary */
                double s1 = orient(mx, my, hx, my, c->x, c->y), s2 = orient(hx, my, px, py, c->x, c->y),
                       s3 = orient(px, py, mx, my, c->x, c->y);
                int neg = s1 < 0 || s2 < 0 || s3 < 0, pos = s1 > 0 || s2 > 0 || s3 > 0;
                if (!(neg && pos) && c->x > mx) {
                    double tn = fabs(c->y - my) / (c->x - mx), d = (c->x - mx) * (c->x - mx) + (c->y - my) * (c->y - my);
                    if (tn < best_tan || (tn == best_tan && d < best_d)) {
                        best_tan = tn;
                        best_d = d;
                        best = u;
                    }
                }
            }
            u = nd[u].next;
        } while (u != start);
        hit = best;
    }
    hit = pick_occurrence(t, hit, mx, my);
    bridge(t, nn, hit, m);
    nd = t->nodes;
    for (uint32_t k = from; k < to; k++) nd[k].outer = 1;
    nd[*nn - 1].outer = nd[*nn - 2].outer = 1;
    return 0;
}

/* ---- ears ------------------------------------------------------------------------- */

static uint32_t morton(double x, double y, double x0, double y0, double inv) {
    uint32_t a = (uint32_t)((x - x0) * inv), b = (uint32_t)((y - y0) * inv);
    a = (a | (a << 8)) & 0x00FF00FFu; a = (a | (a << 4)) & 0x0F0F0F0Fu;
    a = (a | (a << 2)) & 0x33333333u; a = (a | (a << 1)) & 0x55555555u;
    b = (b | (b << 8)) & 0x00FF00FFu; b = (b | (b << 4)) & 0x0F0F0F0Fu;
    b = (b | (b << 2)) & 0x33333333u; b = (b | (b << 1)) & 0x55555555u;
    return a | (b << 1);
}

static int blocks(const node *nd, uint32_t ia, uint32_t ib, uint32_t ic, uint32_t q, double x0, double y0, double x1,
                  double y1) {
    const node *a = &nd[ia], *b = &nd[ib], *c = &nd[ic], *p = &nd[q];
    if (q == ia || q == ib || q == ic) return 0;
    if (p->x < x0 || p->x > x1 || p->y < y0 || p->y > y1) return 0;
    if ((p->x == a->x && p->y == a->y) || (p->x == b->x && p->y == b->y) || (p->x == c->x && p->y == c->y)) return 0;
    return orient(a->x, a->y, b->x, b->y, p->x, p->y) >= 0 && orient(b->x, b->y, c->x, c->y, p->x, p->y) >= 0 &&
           orient(c->x, c->y, a->x, a->y, p->x, p->y) >= 0;
}

static int is_ear(const node *nd, uint32_t ib, int zmode, double zx, double zy, double zinv) {
    uint32_t ia = nd[ib].prev, ic = nd[ib].next;
    const node *a = &nd[ia], *b = &nd[ib], *c = &nd[ic];
    if (!(orient(a->x, a->y, b->x, b->y, c->x, c->y) > 0)) return 0;
    double x0 = a->x < b->x ? a->x : b->x, x1 = a->x > b->x ? a->x : b->x;
    double y0 = a->y < b->y ? a->y : b->y, y1 = a->y > b->y ? a->y : b->y;
    x0 = c->x < x0 ? c->x : x0;
    x1 = c->x > x1 ? c->x : x1;
    y0 = c->y < y0 ? c->y : y0;
    y1 = c->y > y1 ? c->y : y1;
    if (!zmode) {
        for (uint32_t q = c->next; q != ia; q = nd[q].next)
            if (blocks(nd, ia, ib, ic, q, x0, y0, x1, y1)) return 0;
        return 1;
    }
    uint32_t z0 = morton(x0, y0, zx, zy, zinv), z1 = morton(x1, y1, zx, zy, zinv);
    for (uint32_t q = b->nz; q != NONE && nd[q].z <= z1; q = nd[q].nz)
        if (blocks(nd, ia, ib, ic, q, x0, y0, x1, y1)) return 0;
    for (uint32_t q = b->pz; q != NONE && nd[q].z >= z0; q = nd[q].pz)
        if (blocks(nd, ia, ib, ic, q, x0, y0, x1, y1)) return 0;
    return 1;
}

/* The boundary's rings as linked node lists, and each position group's nodes in
 * entry order (deterministic). */
static void init_nodes(ct_triangulator *t, const ct_polygon *p, const ct_boundary *b) {
    node *nd = t->nodes;
    const uint32_t nb = b->ring_start[b->nrings];
    for (uint32_t g = 0; g < nb; g++) t->gfirst[g] = NONE;
    for (uint32_t r = 0; r < b->nrings; r++) {
        uint32_t s = b->ring_start[r], e = b->ring_start[r + 1];
        for (uint32_t k = s; k < e; k++) {
            node *q = &nd[k];
            q->x = PX(p, b->idx[k]);
            q->y = PY(p, b->idx[k]);
            q->idx = b->idx[k];
            q->gid = t->bgid[k];
            q->prev = k > s ? k - 1 : e - 1;
            q->next = k + 1 < e ? k + 1 : s;
            q->ring = r;
            q->outer = r == 0;
            q->pz = q->nz = NONE;
            q->z = 0;
        }
    }
    for (uint32_t k = nb; k-- > 0;) {
        nd[k].gnext = t->gfirst[nd[k].gid];
        t->gfirst[nd[k].gid] = k;
    }
}

/* Holes that touch form components (union-find over shared positions): parent[r] is
 * the root of ring r's component, the smallest ring in it (0: the shell's). */
static void hole_components(const ct_triangulator *t, const ct_boundary *b, uint32_t *parent) {
    const node *nd = t->nodes;
    const uint32_t nr = b->nrings, nb = b->ring_start[nr];
    for (uint32_t r = 0; r < nr; r++) parent[r] = r;
    if (b->touching)
        for (uint32_t k = 0; k < nb; k++)
            for (uint32_t q = nd[k].gnext; q != NONE; q = nd[q].gnext) {
                uint32_t x = nd[k].ring, y = nd[q].ring;
                while (parent[x] != x) x = parent[x] = parent[parent[x]];
                while (parent[y] != y) y = parent[y] = parent[parent[y]];
                if (x != y) parent[x > y ? x : y] = x < y ? x : y; /* the smaller ring is the root */
            }
    for (uint32_t r = 0; r < nr; r++) {
        uint32_t x = r;
        while (parent[x] != x) x = parent[x];
        parent[r] = x;
    }
}

/* The components other than the shell's (their roots into list, *nl of them), by
 * decreasing rightmost x (ties: root order), and each one's rightmost point cm[root]
 * (the lowest of equals). cx, cm: nr entries. */
static void order_components(const ct_triangulator *t, const ct_boundary *b, const uint32_t *parent, uint32_t *list,
                             uint32_t *nl, double *cx, uint32_t *cm) {
    const node *nd = t->nodes;
    const uint32_t nr = b->nrings;
    *nl = 0;
    for (uint32_t r = 1; r < nr; r++)
        if (parent[r] == r) list[(*nl)++] = r;
    for (uint32_t r = 0; r < nr; r++) cx[r] = -INFINITY, cm[r] = NONE;
    for (uint32_t r = 1; r < nr; r++)
        for (uint32_t k = b->ring_start[r]; k < b->ring_start[r + 1]; k++)
            if (nd[k].x > cx[parent[r]] ||
                (nd[k].x == cx[parent[r]] && cm[parent[r]] != NONE && nd[k].y < nd[cm[parent[r]]].y)) {
                cx[parent[r]] = nd[k].x;
                cm[parent[r]] = k;
            }
    for (uint32_t i = 1; i < *nl; i++) { /* insertion sort: few components */
        uint32_t r = list[i], j = i;
        while (j > 0 && cx[list[j - 1]] < cx[r]) {
            list[j] = list[j - 1];
            j--;
        }
        list[j] = r;
    }
}

/* The holes joined to the shell into one weakly simple ring of *nn nodes. The shell's
 * component is spliced in; every other component is bridged once, from its rightmost
 * point, by decreasing rightmost x (so the ray only meets what is already joined), and
 * its other holes spliced: no cycle of connections. */
static ct_tri_status join_holes(ct_triangulator *t, const ct_boundary *b, uint32_t *nn) {
    uint32_t nr = b->nrings;
    if (!RESERVE(t, order, order_cap, 3 * (size_t)nr)) return CT_TRI_NOMEM;
    uint32_t *parent = t->order, *list = t->order + nr, *done = t->order + 2 * nr;
    hole_components(t, b, parent);
    for (uint32_t r = 0; r < nr; r++) done[r] = r == 0;
    uint32_t nl = 0;
    for (uint32_t r = 1; r < nr; r++) nl += parent[r] == r;
    double *cx = NULL;
    uint32_t *cm = NULL;
    if (nl) { /* (no component of its own: every hole touches the shell's) */
        cx = malloc(nr * sizeof *cx);
        cm = malloc(nr * sizeof *cm);
        if (!cx || !cm) {
            free(cx);
            free(cm);
            return CT_TRI_NOMEM;
        }
        order_components(t, b, parent, list, &nl, cx, cm);
    }
    int ok = 1;
    for (uint32_t c = 0; c <= nl && ok; c++) {
        uint32_t root = c == 0 ? 0 : list[c - 1];
        if (c > 0) {
            uint32_t m = cm[root], r = t->nodes[m].ring;
            if (bridge_hole(t, nn, b->ring_start[r], b->ring_start[r + 1], 0) != 0) ok = 0;
            done[r] = 1;
        }
        /* Splice the component's other holes, each once it touches what is joined. */
        for (int progress = 1; progress && ok;) {
            progress = 0;
            int left = 0;
            for (uint32_t r = 1; r < nr; r++) {
                if (done[r] || parent[r] != root) continue;
                if (splice_hole(t, b->ring_start[r], b->ring_start[r + 1])) done[r] = 1, progress = 1;
                else left = 1;
            }
            if (!progress && left) ok = 0;
        }
    }
    free(cx);
    free(cm);
    return ok ? CT_TRI_OK : fail(t, "a hole is not inside the shell");
}

/* The z-order (Morton) list of the nn nodes, for finding an ear's candidates fast:
 * *zx, *zy, *zinv map coordinates to the 16-bit grid. */
static int build_zorder(ct_triangulator *t, uint32_t nn, double *zx, double *zy, double *zinv) {
    node *nd = t->nodes;
    double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    for (uint32_t k = 0; k < nn; k++) {
        x0 = fmin(x0, nd[k].x); x1 = fmax(x1, nd[k].x);
        y0 = fmin(y0, nd[k].y); y1 = fmax(y1, nd[k].y);
    }
    double span = fmax(x1 - x0, y1 - y0);
    *zx = x0;
    *zy = y0;
    *zinv = span > 0 ? 65535.0 / span : 0;
    if (!RESERVE(t, order, order_cap, nn)) return 0;
    for (uint32_t k = 0; k < nn; k++) nd[k].z = morton(nd[k].x, nd[k].y, *zx, *zy, *zinv);
    /* Radix sort of node ids by z (stable: ties keep id order). gfirst is scratch now:
     * the position groups are no longer needed. */
    if (!RESERVE(t, gfirst, gfirst_cap, nn)) return 0;
    uint32_t *src = t->order, *dst = t->gfirst;
    for (uint32_t k = 0; k < nn; k++) src[k] = k;
    for (int shift = 0; shift < 32; shift += 8) {
        uint32_t cnt[257] = {0};
        for (uint32_t k = 0; k < nn; k++) cnt[((nd[src[k]].z >> shift) & 255) + 1]++;
        for (int d = 0; d < 256; d++) cnt[d + 1] += cnt[d];
        for (uint32_t k = 0; k < nn; k++) dst[cnt[(nd[src[k]].z >> shift) & 255]++] = src[k];
        uint32_t *sw = src; src = dst; dst = sw;
    }
    for (uint32_t k = 0; k < nn; k++) {
        nd[src[k]].pz = k ? src[k - 1] : NONE;
        nd[src[k]].nz = k + 1 < nn ? src[k + 1] : NONE;
    }
    return 1;
}

/* Clips ears off the ring of nn nodes (starting at node 0) into t->tris, *nt triangles. */
static ct_tri_status clip_ears(ct_triangulator *t, uint32_t nn, int zmode, double zx, double zy, double zinv,
                               size_t *nt_out) {
    node *nd = t->nodes;
    size_t nt = 0;
    uint32_t left = nn, ear = 0, stop = 0;
    while (left > 3) {
        uint32_t a = nd[ear].prev, c = nd[ear].next;
        if (is_ear(nd, ear, zmode, zx, zy, zinv)) {
            t->tris[3 * nt] = nd[a].idx;
            t->tris[3 * nt + 1] = nd[ear].idx;
            t->tris[3 * nt + 2] = nd[c].idx;
            nt++;
            nd[a].next = c;
            nd[c].prev = a;
            if (zmode) {
                if (nd[ear].pz != NONE) nd[nd[ear].pz].nz = nd[ear].nz;
                if (nd[ear].nz != NONE) nd[nd[ear].nz].pz = nd[ear].pz;
            }
            left--;
            ear = nd[c].next;
            stop = ear;
            continue;
        }
        ear = c;
        if (ear == stop) return fail(t, "ear clipping found no ear");
    }
    uint32_t a = nd[ear].prev, c = nd[ear].next;
    if (!(orient(nd[a].x, nd[a].y, nd[ear].x, nd[ear].y, nd[c].x, nd[c].y) > 0))
        return fail(t, "ear clipping left a triangle without area");
    t->tris[3 * nt] = nd[a].idx;
    t->tris[3 * nt + 1] = nd[ear].idx;
    t->tris[3 * nt + 2] = nd[c].idx;
    nt++;
    *nt_out = nt;
    return CT_TRI_OK;
}

ct_tri_status ct_triangulate_earclip(ct_triangulator *t, const ct_polygon *p, const ct_boundary *b,
                                     const uint32_t **tris, size_t *ntris) {
    *tris = NULL;
    *ntris = 0;
    t->reason[0] = '\0';
    uint32_t nb = b->ring_start[b->nrings];
    size_t cap = (size_t)nb + 2 * (size_t)b->nrings;
    if (!RESERVE(t, nodes, nodes_cap, cap) || !RESERVE(t, gfirst, gfirst_cap, nb) ||
        !RESERVE(t, tris, tris_cap, 3 * cap))
        return CT_TRI_NOMEM;
    init_nodes(t, p, b);
    uint32_t nn = nb;
    ct_tri_status ts = b->nrings > 1 ? join_holes(t, b, &nn) : CT_TRI_OK;
    if (ts != CT_TRI_OK) return ts;
    int zmode = nn > CT_TRI_ZORDER_MIN;
    double zx = 0, zy = 0, zinv = 0;
    if (zmode && !build_zorder(t, nn, &zx, &zy, &zinv)) return CT_TRI_NOMEM;
    size_t nt = 0;
    if ((ts = clip_ears(t, nn, zmode, zx, zy, zinv, &nt)) != CT_TRI_OK) return ts;
    if (ct_tri_flip_improve(&t->flip, p, t->tris, nt) < 0) return CT_TRI_NOMEM;
    int v = ct_triangulation_verify(t, p, b, t->tris, nt, 0);
    if (v < 0) return CT_TRI_NOMEM;
    if (v == 0) return CT_TRI_FAILED;
    *tris = t->tris;
    *ntris = nt;
    return CT_TRI_OK;
}

/* ---- verification ------------------------------------------------------------------ */

int ct_triangulation_verify(ct_triangulator *t, const ct_polygon *p, const ct_boundary *b, const uint32_t *tris,
                            size_t ntris, int check_chain) {
    double ox = PX(p, 0), oy = PY(p, 0);
    double area2 = 0, pos = 0;
    for (uint32_t r = 0; r < b->nrings; r++) {
        uint32_t s = b->ring_start[r];
        double a = ring_area2(p, b->idx + s, b->ring_start[r + 1] - s, ox, oy);
        area2 += a;
        pos += fabs(a);
    }
    double sum = 0;
    for (size_t k = 0; k < ntris; k++) {
        uint32_t i = tris[3 * k], j = tris[3 * k + 1], l = tris[3 * k + 2];
        if (!(orient(PX(p, i), PY(p, i), PX(p, j), PY(p, j), PX(p, l), PY(p, l)) > 0)) {
            snprintf(t->reason, sizeof t->reason, "triangle %zu is not counter-clockwise with positive area", k);
            return 0;
        }
        sum += (PX(p, i) - ox) * (PY(p, j) - oy) - (PX(p, j) - ox) * (PY(p, i) - oy) + (PX(p, j) - ox) * (PY(p, l) - oy) -
               (PX(p, l) - ox) * (PY(p, j) - oy) + (PX(p, l) - ox) * (PY(p, i) - oy) - (PX(p, i) - ox) * (PY(p, l) - oy);
    }
    if (!(fabs(sum - area2) <= 1e-9 * pos)) {
        snprintf(t->reason, sizeof t->reason, "triangles cover %.9g m2 of a %.9g m2 polygon", sum / 2, area2 / 2);
        return 0;
    }
    if (!check_chain) return 1;
    /* Position group of every point the boundary uses. */
    uint32_t npts = p->ring_start[p->nrings], nb = b->ring_start[b->nrings];
    if (!RESERVE(t, pgid, pgid_cap, npts ? npts : 1)) return -1;
    for (uint32_t i = 0; i < npts; i++) t->pgid[i] = NONE;
    for (uint32_t e = 0; e < nb; e++) t->pgid[b->idx[e]] = t->bgid[e];
    size_t ne = 3 * ntris + nb;
    if (!RESERVE(t, edges, edges_cap, ne ? ne : 1)) return -1;
    size_t m = 0;
    for (size_t k = 0; k < ntris; k++)
        for (int c = 0; c < 3; c++) {
            uint32_t ga = t->pgid[tris[3 * k + c]], gb = t->pgid[tris[3 * k + (c + 1) % 3]];
            if (ga == NONE || gb == NONE) {
                snprintf(t->reason, sizeof t->reason, "a triangle uses a point off the boundary");
                return 0;
            }
            t->edges[m].a = ga < gb ? ga : gb;
            t->edges[m].b = ga < gb ? gb : ga;
            t->edges[m].s = ga < gb ? 1 : -1;
            m++;
        }
    for (uint32_t r = 0; r < b->nrings; r++)
        for (uint32_t e = b->ring_start[r]; e < b->ring_start[r + 1]; e++) {
            uint32_t f = e + 1 < b->ring_start[r + 1] ? e + 1 : b->ring_start[r];
            uint32_t ga = t->bgid[e], gb = t->bgid[f]; /* subtracted: the reverse direction */
            t->edges[m].a = ga < gb ? ga : gb;
            t->edges[m].b = ga < gb ? gb : ga;
            t->edges[m].s = ga < gb ? -1 : 1;
            m++;
        }
    qsort(t->edges, m, sizeof *t->edges, cmp_ekey);
    for (size_t i = 0; i < m;) {
        size_t j = i;
        long s = 0;
        while (j < m && t->edges[j].a == t->edges[i].a && t->edges[j].b == t->edges[i].b) s += t->edges[j++].s;
        if (s != 0) {
            snprintf(t->reason, sizeof t->reason, "triangle edges do not close along the boundary");
            return 0;
        }
        i = j;
    }
    return 1;
}
