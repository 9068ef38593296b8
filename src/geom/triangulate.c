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
 *    is visible) with two coincident bridge edges. From CT_TRI_GRID_MIN bridged components
 *    the ray and the visibility search go through a grid of what is joined (bridge_grid.c).
 * 3. Ears: a convex vertex (exact orientation > 0) whose triangle holds no other vertex,
 *    inside or on its boundary, except points at the triangle's own corners (pinch points
 *    and bridge ends). After a clip the search moves two vertices on, so ears stay local
 *    and a long convex ring is halved per turn rather than fanned. Above
 *    CT_TRI_ZORDER_MIN vertices the candidates inside an ear's bounding box are found
 *    through the z-order (Morton), and the walk skips vertices known to be reflex (the
 *    same ears: clip_ears_listed). A ring bridged through the grid clips the ear of the
 *    shortest diagonal first instead (clip_ears_greedy), which keeps ears local.
 * 4. Slivers: when a triangle is thinner than 1e-3 of its longest side, edges are
 *    flipped toward better-shaped pairs (tri_flip.c).
 * Each clip replaces the two edges a-b, b-c by a-c, so the triangles' edges cancel in
 *    pairs except the boundary: with every triangle strictly positive, they cover the
 *    polygon exactly once; a flip keeps that (two triangles of a convex quadrilateral
 *    become its other two). The area sum is checked as well. */
#include "citytiler/triangulate.h"
#include "core/reserve.h"
#include "geom/bridge_grid.h"
#include "geom/tri_flip.h"
#include "geom/triangulate_work.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CT_TRI_ZORDER_MIN 64
/* Hole components from which the bridges are found through a grid (bridge_grid.c) rather
 * than by scanning the ring joined so far: a scan costs the ring's length a hole. */
#define CT_TRI_GRID_MIN 16
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
    if (acxe == 0 && bcye == 0 && acye == 0 && bcxe == 0) {
        /* Exact differences (nearby coordinates: most collinear points of real and
         * gridded footprints): two exact products, an expansion of four terms. */
        double p = acx * bcy, pe = fma(acx, bcy, -p), q = acy * bcx, qe = fma(acy, bcx, -q);
        double e[4];
        size_t m = 0;
        m = grow(e, m, pe);
        m = grow(e, m, p);
        m = grow(e, m, -qe);
        m = grow(e, m, -q);
        for (size_t i = m; i-- > 0;)
            if (e[i] != 0) return e[i];
        return 0;
    }
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
    uint32_t cprev, cnext; /* the list of ear candidates (large rings, clip_ears_listed) */
    uint32_t tried;        /* clip count + 1 when last tried as an ear (full-lap detection);
                            * clip_ears_greedy: its version, raised when a neighbour goes */
    unsigned char outer, cand, gone; /* gone: clipped (clip_ears_listed) */
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
    pent *ysorted; /* the boundary's points by y, then x (find_insertions) */
    size_t ysorted_cap;
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
    ct_bridge_grid bgrid; /* what is joined, for the bridges of many holes */
    struct hent *heap;    /* candidate ears (clip_ears_greedy) */
    size_t heap_cap;
    ct_tri_stats stats;  /* work counts of the last call (tests) */
    int straightforward; /* tests: bridges by scanning, the plain ear walk */
};

#define RESERVE(t, field, capfield, need) ct_reserve((void **)&(t)->field, &(t)->capfield, (need), sizeof *(t)->field)

ct_triangulator *ct_triangulator_create(void) { return calloc(1, sizeof(ct_triangulator)); }

void ct_triangulator_set_straightforward(ct_triangulator *t, int on) { t->straightforward = on; }

void ct_triangulator_stats(const ct_triangulator *t, ct_tri_stats *out) { *out = t->stats; }

void ct_triangulator_destroy(ct_triangulator *t) {
    if (!t) return;
    free(t->rs); free(t->bidx); free(t->brank); free(t->bgid);
    free(t->dstart); free(t->didx); free(t->sorted); free(t->ysorted); free(t->insv); free(t->gsize);
    free(t->nodes); free(t->gfirst); free(t->order); free(t->tris); free(t->edges); free(t->pgid);
    ct_tri_flip_free(&t->flip);
    ct_bridge_grid_free(&t->bgrid);
    free(t->heap);
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

static int cmp_pent_yx(const void *a, const void *b) {
    const pent *p = a, *q = b;
    if (p->y != q->y) return p->y < q->y ? -1 : 1;
    if (p->x != q->x) return p->x < q->x ? -1 : 1;
    return (p->e > q->e) - (p->e < q->e);
}

/* The first of the n entries at or after (u, v) in their order: by x then y when byx,
 * else by y then x (u the first key). */
static size_t lower_pent(const pent *s, size_t n, int byx, double u, double v) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        double a = byx ? s[mid].x : s[mid].y, b = byx ? s[mid].y : s[mid].x;
        if (a < u || (a == u && b < v)) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* Points of one ring inside an edge of another (only possible with holes), as
 * insertions into t->insv sorted by edge and position along it: *nins of them. An edge's
 * candidates are the points of its box, from the points sorted along its box's narrower
 * side (by x then y for an edge taller than wide, else by y then x), from its box's first
 * corner to its last: a vertical edge of a hole in a grid of holes looked at every point
 * of its column (by x alone), which made the search grow as n^1.5 (96,000 holes: 1 s). */
static ct_tri_status find_insertions(ct_triangulator *t, const ct_polygon *p, uint32_t nr, uint32_t used,
                                     size_t *nins_out) {
    size_t nins = 0;
    if (!RESERVE(t, ysorted, ysorted_cap, used)) return CT_TRI_NOMEM;
    for (uint32_t e = 0; e < used; e++) {
        t->sorted[e].x = PX(p, t->didx[e]);
        t->sorted[e].y = PY(p, t->didx[e]);
        t->sorted[e].e = e;
    }
    memcpy(t->ysorted, t->sorted, used * sizeof *t->sorted);
    qsort(t->sorted, used, sizeof *t->sorted, cmp_pent);
    qsort(t->ysorted, used, sizeof *t->ysorted, cmp_pent_yx);
    for (uint32_t r = 0; r < nr; r++) {
        uint32_t s = t->dstart[r], n = t->dstart[r + 1] - s;
        for (uint32_t k = 0; k < n; k++) {
            uint32_t ia = t->didx[s + k], ib = t->didx[s + (k + 1) % n];
            double ax = PX(p, ia), ay = PY(p, ia), bx = PX(p, ib), by = PY(p, ib);
            double x0 = ax < bx ? ax : bx, x1 = ax < bx ? bx : ax, y0 = ay < by ? ay : by, y1 = ay < by ? by : ay;
            int byx = x1 - x0 <= y1 - y0;
            const pent *sp = byx ? t->sorted : t->ysorted;
            double u1 = byx ? x1 : y1, v1 = byx ? y1 : x1; /* the box's last corner in that order */
            double lastx = NAN, lasty = NAN;
            for (size_t q = lower_pent(sp, used, byx, byx ? x0 : y0, byx ? y0 : x0); q < used; q++) {
                double wx = sp[q].x, wy = sp[q].y, u = byx ? wx : wy, v = byx ? wy : wx;
                if (u > u1 || (u == u1 && v > v1)) break;
                t->stats.boundary_points++;
                if (wx < x0 || wx > x1 || wy < y0 || wy > y1) continue;
                if ((wx == ax && wy == ay) || (wx == bx && wy == by)) continue;
                if (wx == lastx && wy == lasty) continue; /* one insertion per position */
                if (orient(ax, ay, bx, by, wx, wy) != 0) continue;
                if (!RESERVE(t, insv, ins_cap, nins + 1)) return CT_TRI_NOMEM;
                t->insv[nins].after = s + k;
                t->insv[nins].t = (wx - ax) * (bx - ax) + (wy - ay) * (by - ay);
                t->insv[nins].idx = t->didx[sp[q].e];
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
    t->stats.boundary_points = 0;
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

/* The scan for a bridge's ray: of the upward edges of the ring joined so far that have
 * (mx, my) strictly on their left and cross y = my, the one crossing at the least x (*hx);
 * its end at y = my, else its end of larger x. NONE when there is none. */
static uint32_t ray_scan(ct_triangulator *t, double mx, double my, double *hx_out) {
    const node *nd = t->nodes;
    double hx = INFINITY;
    uint32_t hit = NONE, u = 0;
    do {
        uint32_t v = nd[u].next;
        const node *a = &nd[u], *b = &nd[v];
        t->stats.bridge_edges++;
        if (a->y <= my && b->y >= my && a->y < b->y && orient(a->x, a->y, b->x, b->y, mx, my) > 0) {
            double x = a->y == my ? a->x : b->y == my ? b->x : a->x + (my - a->y) * (b->x - a->x) / (b->y - a->y);
            if (x < hx) {
                hx = x;
                hit = a->y == my ? u : b->y == my ? v : (a->x > b->x ? u : v);
            }
        }
        u = v;
    } while (u != 0);
    *hx_out = hx;
    return hit;
}

/* The scan for a bridge's end: a vertex inside the triangle (m, hit point, chosen
 * endpoint p) would hide p; the one of least angle to the ray, then the nearest. */
static uint32_t visible_scan(ct_triangulator *t, double mx, double my, double hx, uint32_t hit) {
    const node *nd = t->nodes;
    double px = nd[hit].x, py = nd[hit].y;
    double best_tan = INFINITY, best_d = INFINITY;
    uint32_t best = hit, u = 0;
    do {
        const node *c = &nd[u];
        t->stats.bridge_points++;
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
    } while (u != 0);
    return best;
}

/* Adds ring r's edges and points (as the boundary links them) to the bridge grid. */
static int grid_add_ring(ct_bridge_grid *g, const node *nd, uint32_t from, uint32_t to) {
    for (uint32_t k = from; k < to; k++) {
        uint32_t l = k + 1 < to ? k + 1 : from;
        if (!ct_bridge_grid_add_edge(g, nd[k].x, nd[k].y, nd[l].x, nd[l].y, k, l) ||
            !ct_bridge_grid_add_point(g, nd[k].x, nd[k].y, k))
            return 0;
    }
    return 1;
}

/* Bridges hole ring (nodes from..to-1) to the outer ring from its rightmost point,
 * found through grid g when given (which then receives the hole and the bridge), else
 * by scanning. 0, -1 when no outer edge lies to its right, -2 when out of memory. */
static int bridge_hole(ct_triangulator *t, uint32_t *nn, uint32_t from, uint32_t to, ct_bridge_grid *g) {
    node *nd = t->nodes;
    uint32_t m = from;
    for (uint32_t k = from + 1; k < to; k++)
        if (nd[k].x > nd[m].x || (nd[k].x == nd[m].x && nd[k].y < nd[m].y)) m = k;
    double mx = nd[m].x, my = nd[m].y, hx = INFINITY;
    uint32_t hit = g ? ct_bridge_grid_ray(g, mx, my, &hx, &t->stats.bridge_edges) : ray_scan(t, mx, my, &hx);
    if (hit == NONE) return -1;
    if (!(nd[hit].y == my))
        hit = g ? ct_bridge_grid_visible(g, mx, my, hx, nd[hit].x, nd[hit].y, hit, &t->stats.bridge_points)
                : visible_scan(t, mx, my, hx, hit);
    hit = pick_occurrence(t, hit, mx, my);
    if (g && (!grid_add_ring(g, nd, from, to) ||
              !ct_bridge_grid_add_edge(g, nd[hit].x, nd[hit].y, mx, my, hit, m) ||
              !ct_bridge_grid_add_edge(g, mx, my, nd[hit].x, nd[hit].y, m, hit)))
        return -2;
    bridge(t, nn, hit, m);
    nd = t->nodes;
    for (uint32_t k = from; k < to; k++) nd[k].outer = 1;
    nd[*nn - 1].outer = nd[*nn - 2].outer = 1;
    return 0;
}

/* ---- ears ------------------------------------------------------------------------- */

/* The 16 bits of a spread to the even bits. */
static uint32_t spread(uint32_t a) {
    a = (a | (a << 8)) & 0x00FF00FFu; a = (a | (a << 4)) & 0x0F0F0F0Fu;
    a = (a | (a << 2)) & 0x33333333u; a = (a | (a << 1)) & 0x55555555u;
    return a;
}

static uint32_t morton(double x, double y, double x0, double y0, double inv) {
    uint32_t a = (uint32_t)((x - x0) * inv), b = (uint32_t)((y - y0) * inv);
    return spread(a) | (spread(b) << 1);
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

enum { EAR_REFLEX = 0, EAR_YES = 1, EAR_BLOCKED = 2 };

/* EAR_YES, EAR_REFLEX (not strictly convex: stays so until a neighbour is clipped) or
 * EAR_BLOCKED (a point inside the triangle). *tests counts the points looked at. */
static int is_ear(const node *nd, uint32_t ib, int zmode, double zx, double zy, double zinv, size_t *tests) {
    uint32_t ia = nd[ib].prev, ic = nd[ib].next;
    const node *a = &nd[ia], *b = &nd[ib], *c = &nd[ic];
    if (!(orient(a->x, a->y, b->x, b->y, c->x, c->y) > 0)) return EAR_REFLEX;
    double x0 = a->x < b->x ? a->x : b->x, x1 = a->x > b->x ? a->x : b->x;
    double y0 = a->y < b->y ? a->y : b->y, y1 = a->y > b->y ? a->y : b->y;
    x0 = c->x < x0 ? c->x : x0;
    x1 = c->x > x1 ? c->x : x1;
    y0 = c->y < y0 ? c->y : y0;
    y1 = c->y > y1 ? c->y : y1;
    if (!zmode) {
        for (uint32_t q = c->next; q != ia; q = nd[q].next)
            if (blocks(nd, ia, ib, ic, q, x0, y0, x1, y1)) return EAR_BLOCKED;
        return EAR_YES;
    }
    uint32_t z0 = morton(x0, y0, zx, zy, zinv), z1 = morton(x1, y1, zx, zy, zinv);
    size_t n = 0;
    int res = EAR_YES;
    for (uint32_t q = b->nz; q != NONE && nd[q].z <= z1 && res == EAR_YES; q = nd[q].nz, n++)
        if (blocks(nd, ia, ib, ic, q, x0, y0, x1, y1)) res = EAR_BLOCKED;
    for (uint32_t q = b->pz; q != NONE && nd[q].z >= z0 && res == EAR_YES; q = nd[q].pz, n++)
        if (blocks(nd, ia, ib, ic, q, x0, y0, x1, y1)) res = EAR_BLOCKED;
    *tests += n;
    return res;
}

/* The z-order of the nodes for clip_ears_listed: ids sorted by z (zs, n of them), the
 * map to the 16-bit grid, and the nodes clipped so far flagged in nd (gone). */
typedef struct zsorted {
    const uint32_t *zs;
    uint32_t n;
    double zx, zy, zinv;
} zsorted;

/* First position from `from` in zs whose z is >= z: galloping, then binary search (the
 * jumps over z-values outside an ear's box are mostly short). */
static uint32_t z_lower_bound(const node *nd, const zsorted *zo, uint32_t from, uint32_t z) {
    uint32_t lo = from, hi = from, step = 1;
    while (hi < zo->n && nd[zo->zs[hi]].z < z) {
        lo = hi + 1;
        hi = zo->n - hi > step ? hi + step : zo->n;
        step *= 2;
    }
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (nd[zo->zs[mid]].z < z) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* The bits of dimension (bit & 1) at and below `bit` of z: 1 at `bit` then 0s (high)
 * or 0 at `bit` then 1s (!high). */
static uint32_t z_load(uint32_t z, int bit, int high) {
    uint32_t dim = 0x55555555u << (bit & 1), below = (bit == 31 ? 0xFFFFFFFFu : (2u << bit) - 1) & dim;
    z &= ~below;
    return high ? z | (1u << bit) : z | (below & ~(1u << bit));
}

/* The smallest z-value above z that lies in the box whose corners have z-values zmin and
 * zmax (z lies outside it, between the two): the next z to look at (BIGMIN, after Tropf
 * and Herzog's range search in z-order). */
static uint32_t z_bigmin(uint32_t z, uint32_t zmin, uint32_t zmax) {
    uint32_t best = 0;
    for (int bit = 31; bit >= 0; bit--) {
        unsigned v = (z >> bit) & 1, lo = (zmin >> bit) & 1, hi = (zmax >> bit) & 1;
        if (v == 0 && lo == 0 && hi == 1) {
            best = z_load(zmin, bit, 1);
            zmax = z_load(zmax, bit, 0);
        } else if (v == 0 && lo == 1 && hi == 1) {
            return zmin;
        } else if (v == 1 && lo == 0 && hi == 0) {
            return best;
        } else if (v == 1 && lo == 0 && hi == 1) {
            zmin = z_load(zmin, bit, 1);
        }
    }
    return best;
}

/* is_ear for large rings. A box's z-range can span most of the ring where the box
 * straddles a coarse quadrant line (it did for the rings bridged from thousands of holes:
 * 1500 points looked at per ear, 57 of them inside its box): the walk through the ids
 * sorted by z jumps over every run of z-values outside the box (binary search from the
 * next z inside it). The answer is is_ear's (the same points block). */
static int is_ear_sorted(const node *nd, const zsorted *zo, uint32_t ib, size_t *tests) {
    uint32_t ia = nd[ib].prev, ic = nd[ib].next;
    const node *a = &nd[ia], *b = &nd[ib], *c = &nd[ic];
    if (!(orient(a->x, a->y, b->x, b->y, c->x, c->y) > 0)) return EAR_REFLEX;
    double x0 = fmin(fmin(a->x, b->x), c->x), x1 = fmax(fmax(a->x, b->x), c->x);
    double y0 = fmin(fmin(a->y, b->y), c->y), y1 = fmax(fmax(a->y, b->y), c->y);
    uint32_t qx0 = (uint32_t)((x0 - zo->zx) * zo->zinv), qx1 = (uint32_t)((x1 - zo->zx) * zo->zinv);
    uint32_t qy0 = (uint32_t)((y0 - zo->zy) * zo->zinv), qy1 = (uint32_t)((y1 - zo->zy) * zo->zinv);
    uint32_t zmin = spread(qx0) | (spread(qy0) << 1), zmax = spread(qx1) | (spread(qy1) << 1);
    size_t n = 0;
    int res = EAR_YES;
    uint32_t i = z_lower_bound(nd, zo, 0, zmin);
    while (i < zo->n && res == EAR_YES) {
        uint32_t q = zo->zs[i], z = nd[q].z;
        if (z > zmax) break;
        n++;
        uint32_t zx = z & 0x55555555u, zy = z & 0xAAAAAAAAu;
        if (zx < (zmin & 0x55555555u) || zx > (zmax & 0x55555555u) || zy < (zmin & 0xAAAAAAAAu) ||
            zy > (zmax & 0xAAAAAAAAu)) {
            i = z_lower_bound(nd, zo, i + 1, z_bigmin(z, zmin, zmax));
            continue;
        }
        if (!nd[q].gone && blocks(nd, ia, ib, ic, q, x0, y0, x1, y1)) res = EAR_BLOCKED;
        i++;
    }
    *tests += n;
    return res;
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

typedef struct rkey { double x; uint32_t r; } rkey; /* a component by its rightmost x */

static int cmp_rkey(const void *a, const void *b) {
    const rkey *p = a, *q = b;
    if (p->x != q->x) return p->x > q->x ? -1 : 1;
    return (p->r > q->r) - (p->r < q->r);
}

/* The components other than the shell's (their roots into list, *nl of them), by
 * decreasing rightmost x (ties: root order), and each one's rightmost point cm[root]
 * (the lowest of equals). cx, cm, keys: nr entries. */

static void order_components(const ct_triangulator *t, const ct_boundary *b, const uint32_t *parent, uint32_t *list,
                             uint32_t *nl, double *cx, uint32_t *cm, rkey *keys) {
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
    /* By decreasing x, ties in root order (the order a stable sort of the roots gives). */
    for (uint32_t i = 0; i < *nl; i++) keys[i] = (rkey){cx[list[i]], list[i]};
    if (*nl > 1) qsort(keys, *nl, sizeof *keys, cmp_rkey);
    for (uint32_t i = 0; i < *nl; i++) list[i] = keys[i].r;
}

/* Rings by component: the members of root r are mlist[mstart[r] .. mstart[r + 1] - 1],
 * ascending (a counting sort of the rings by root). */
static void component_members(const uint32_t *parent, uint32_t nr, uint32_t *mstart, uint32_t *mlist) {
    memset(mstart, 0, ((size_t)nr + 1) * sizeof *mstart);
    for (uint32_t r = 0; r < nr; r++) mstart[parent[r] + 1]++;
    for (uint32_t r = 0; r < nr; r++) mstart[r + 1] += mstart[r];
    for (uint32_t r = nr; r-- > 0;) mlist[--mstart[parent[r] + 1]] = r;
    /* mstart[r + 1] is now the start of r's members: shift back */
    for (uint32_t r = 0; r < nr; r++) mstart[r] = mstart[r + 1];
    mstart[nr] = nr;
}

/* The bridge grid over the whole boundary, holding the shell (its component's other
 * rings join it as they are spliced). 0 when out of memory. */
static int grid_start(ct_triangulator *t, const ct_boundary *b) {
    const node *nd = t->nodes;
    uint32_t nb = b->ring_start[b->nrings];
    double box[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (uint32_t k = 0; k < nb; k++) {
        box[0] = fmin(box[0], nd[k].x); box[2] = fmax(box[2], nd[k].x);
        box[1] = fmin(box[1], nd[k].y); box[3] = fmax(box[3], nd[k].y);
    }
    return ct_bridge_grid_init(&t->bgrid, box, nb) && grid_add_ring(&t->bgrid, nd, 0, b->ring_start[1]);
}

/* Splices the holes of component root other than those done, each once it touches what
 * is joined (in ring order, until none is left). 0 when one never touches, -2 when out
 * of memory, 1 otherwise. */
static int splice_component(ct_triangulator *t, const ct_boundary *b, const uint32_t *mem, uint32_t nmem,
                            uint32_t *done, ct_bridge_grid *g) {
    for (int progress = 1; progress;) {
        progress = 0;
        int left = 0;
        for (uint32_t i = 0; i < nmem; i++) {
            uint32_t r = mem[i], from = b->ring_start[r], to = b->ring_start[r + 1];
            if (done[r]) continue;
            if (!splice_hole(t, from, to)) {
                left = 1;
                continue;
            }
            done[r] = 1, progress = 1;
            if (g && !grid_add_ring(g, t->nodes, from, to)) return -2;
        }
        if (!progress && left) return 0;
    }
    return 1;
}

/* The holes joined to the shell into one weakly simple ring of *nn nodes. The shell's
 * component is spliced in; every other component is bridged once, from its rightmost
 * point, by decreasing rightmost x (so the ray only meets what is already joined), and
 * its other holes spliced: no cycle of connections. From CT_TRI_GRID_MIN components the
 * bridges are found through a grid of what is joined (a scan of it costs its length);
 * *many is then set. */
static ct_tri_status join_holes(ct_triangulator *t, const ct_boundary *b, uint32_t *nn, int *many) {
    uint32_t nr = b->nrings;
    if (!RESERVE(t, order, order_cap, 5 * (size_t)nr + 1)) return CT_TRI_NOMEM;
    uint32_t *parent = t->order, *list = t->order + nr, *done = t->order + 2 * nr, *mlist = t->order + 3 * nr,
             *mstart = t->order + 4 * nr;
    hole_components(t, b, parent);
    component_members(parent, nr, mstart, mlist);
    for (uint32_t r = 0; r < nr; r++) done[r] = r == 0;
    uint32_t nl = 0;
    for (uint32_t r = 1; r < nr; r++) nl += parent[r] == r;
    double *cx = NULL;
    uint32_t *cm = NULL;
    rkey *keys = NULL;
    if (nl) { /* (no component of its own: every hole touches the shell's) */
        cx = malloc(nr * sizeof *cx);
        cm = malloc(nr * sizeof *cm);
        keys = malloc(nr * sizeof *keys);
        if (!cx || !cm || !keys) {
            free(cx); free(cm); free(keys);
            return CT_TRI_NOMEM;
        }
        order_components(t, b, parent, list, &nl, cx, cm, keys);
    }
    ct_bridge_grid *g = nl >= CT_TRI_GRID_MIN && !t->straightforward ? &t->bgrid : NULL;
    *many = g != NULL;
    int ok = g ? (grid_start(t, b) ? 1 : -2) : 1;
    for (uint32_t c = 0; c <= nl && ok == 1; c++) {
        uint32_t root = c == 0 ? 0 : list[c - 1];
        if (c > 0) {
            uint32_t r = t->nodes[cm[root]].ring;
            int v = bridge_hole(t, nn, b->ring_start[r], b->ring_start[r + 1], g);
            if (v != 0) ok = v == -2 ? -2 : 0;
            done[r] = 1;
        }
        if (ok == 1) ok = splice_component(t, b, mlist + mstart[root], mstart[root + 1] - mstart[root], done, g);
    }
    free(cx); free(cm); free(keys);
    if (ok == -2) return CT_TRI_NOMEM;
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

/* The triangle the last three nodes make (b between its neighbours), as every ear walk
 * ends; it must turn left. */
/* Writes triangle nt: node b with its neighbours on the ring (an ear clipped off). */
static void put_triangle(ct_triangulator *t, const node *nd, uint32_t b, size_t nt) {
    t->tris[3 * nt] = nd[nd[b].prev].idx;
    t->tris[3 * nt + 1] = nd[b].idx;
    t->tris[3 * nt + 2] = nd[nd[b].next].idx;
}

static ct_tri_status last_triangle(ct_triangulator *t, const node *nd, uint32_t b, size_t nt, size_t *nt_out) {
    uint32_t a = nd[b].prev, c = nd[b].next;
    if (!(orient(nd[a].x, nd[a].y, nd[b].x, nd[b].y, nd[c].x, nd[c].y) > 0))
        return fail(t, "ear clipping left a triangle without area");
    put_triangle(t, nd, b, nt);
    *nt_out = nt + 1;
    return CT_TRI_OK;
}

/* Clips ears off the ring of nn nodes (starting at node 0) into t->tris, *nt triangles. */
static ct_tri_status clip_ears(ct_triangulator *t, uint32_t nn, int zmode, double zx, double zy, double zinv,
                               size_t *nt_out) {
    node *nd = t->nodes;
    size_t nt = 0;
    uint32_t left = nn, ear = 0, stop = 0;
    while (left > 3) {
        uint32_t a = nd[ear].prev, c = nd[ear].next;
        t->stats.ear_tries++;
        if (is_ear(nd, ear, zmode, zx, zy, zinv, &t->stats.ear_points) == EAR_YES) {
            put_triangle(t, nd, ear, nt++);
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
    return last_triangle(t, nd, ear, nt, nt_out);
}

/* Candidate list helpers: the candidates are a subsequence of the ring, in ring order. */
static void cand_insert_after(node *nd, uint32_t at, uint32_t k) {
    nd[k].cprev = at;
    nd[k].cnext = nd[at].cnext;
    nd[nd[at].cnext].cprev = k;
    nd[at].cnext = k;
    nd[k].cand = 1;
}

static void cand_remove(node *nd, uint32_t k) {
    nd[nd[k].cprev].cnext = nd[k].cnext;
    nd[nd[k].cnext].cprev = nd[k].cprev;
    nd[k].cand = 0;
}

/* clip_ears for large rings, with the same result: a vertex found reflex stays reflex
 * until a neighbour is clipped, so it leaves the list of candidates the walk visits and
 * comes back when a neighbour goes. The plain walk passes every reflex vertex again on
 * each lap: on a ring bridged from thousands of holes (nearly all reflex) that was
 * 100-200 tries per triangle; here a vertex is tried at most once more per clip beside it. */
static ct_tri_status clip_ears_listed(ct_triangulator *t, uint32_t nn, double zx, double zy, double zinv,
                                      size_t *nt_out) {
    node *nd = t->nodes;
    const zsorted zo = {t->order, nn, zx, zy, zinv};
    for (uint32_t k = 0; k < nn; k++) nd[k].tried = 0, nd[k].cand = 0, nd[k].gone = 0;
    /* Ring order from node 0 (copies made by the bridges sit anywhere in the array). */
    uint32_t k = 0;
    do {
        nd[k].cnext = nd[k].next;
        nd[k].cprev = nd[k].prev;
        nd[k].cand = 1;
        k = nd[k].next;
    } while (k != 0);
    size_t nt = 0;
    uint32_t left = nn, ear = 0, cur = 0, ncand = nn;
    while (left > 3) {
        if (ncand == 0 || nd[cur].tried == nt + 1) return fail(t, "ear clipping found no ear");
        nd[cur].tried = (uint32_t)nt + 1;
        t->stats.ear_tries++;
        int v = is_ear_sorted(nd, &zo, cur, &t->stats.ear_points);
        if (v != EAR_YES) {
            uint32_t nx = nd[cur].cnext;
            if (v == EAR_REFLEX) cand_remove(nd, cur), ncand--;
            cur = nx;
            continue;
        }
        uint32_t a = nd[cur].prev, c = nd[cur].next;
        put_triangle(t, nd, cur, nt++);
        /* a and c change shape: candidates again, in place around cur */
        if (!nd[a].cand) cand_insert_after(nd, nd[cur].cprev, a), ncand++;
        if (!nd[c].cand) cand_insert_after(nd, cur, c), ncand++;
        cand_remove(nd, cur);
        ncand--;
        nd[a].next = c;
        nd[c].prev = a;
        nd[cur].gone = 1;
        left--;
        ear = nd[c].next; /* as clip_ears: two on */
        cur = nd[c].cnext; /* the first candidate from there */
    }
    return last_triangle(t, nd, ear, nt, nt_out);
}

/* A candidate ear of clip_ears_greedy: the squared length of the diagonal it would make,
 * the node, and the node's version when pushed (an older one is stale). */
typedef struct hent { double key; uint32_t node, ver; } hent;

static int hent_less(const hent *a, const hent *b) {
    return a->key < b->key || (a->key == b->key && a->node < b->node);
}

static int heap_push(ct_triangulator *t, size_t *n, hent e) {
    if (!RESERVE(t, heap, heap_cap, *n + 1)) return 0;
    hent *h = t->heap;
    size_t i = (*n)++;
    while (i > 0 && hent_less(&e, &h[(i - 1) / 2])) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = e;
    return 1;
}

static hent heap_pop(hent *h, size_t *n) {
    hent top = h[0], last = h[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && hent_less(&h[c + 1], &h[c])) c++;
        if (!hent_less(&h[c], &last)) break;
        h[i] = h[c];
        i = c;
    }
    if (*n) h[i] = last;
    return top;
}

/* Pushes node k when it is strictly convex. 0 when out of memory. */
static int push_if_convex(ct_triangulator *t, size_t *n, uint32_t k) {
    const node *nd = t->nodes, *a = &nd[nd[k].prev], *b = &nd[k], *c = &nd[nd[k].next];
    if (!(orient(a->x, a->y, b->x, b->y, c->x, c->y) > 0)) return 1;
    double dx = c->x - a->x, dy = c->y - a->y;
    return heap_push(t, n, (hent){dx * dx + dy * dy, k, nd[k].tried});
}

/* Ear clipping for rings bridged from many holes: the ear whose diagonal is shortest
 * first (a heap; a candidate is pushed again when a neighbour is clipped). The walk of
 * clip_ears (and clip_ears_listed) makes long ears across such a ring, each testing the
 * many points in its box (190 a try for 24000 holes, 100 for 6000, 60 for 2000); short
 * diagonals keep the ears, and the points they test, local. A blocked ear is dropped
 * until a neighbour changes; when none is left, every convex vertex is pushed again
 * (a clip elsewhere may have freed it), and no ear after that is a failure. */
static ct_tri_status clip_ears_greedy(ct_triangulator *t, uint32_t nn, double zx, double zy, double zinv,
                                      size_t *nt_out) {
    node *nd = t->nodes;
    const zsorted zo = {t->order, nn, zx, zy, zinv};
    for (uint32_t k = 0; k < nn; k++) nd[k].tried = 0, nd[k].gone = 0;
    size_t nh = 0, nt = 0;
    uint32_t k = 0, left = nn, any = 0;
    int refilled = 0;
    do {
        if (!push_if_convex(t, &nh, k)) return CT_TRI_NOMEM;
        k = nd[k].next;
    } while (k != 0);
    while (left > 3) {
        if (nh == 0) {
            if (refilled) return fail(t, "ear clipping found no ear");
            refilled = 1;
            k = any;
            do {
                if (!push_if_convex(t, &nh, k)) return CT_TRI_NOMEM;
                k = nd[k].next;
            } while (k != any);
            continue;
        }
        hent e = heap_pop(t->heap, &nh);
        uint32_t b = e.node;
        if (nd[b].gone || nd[b].tried != e.ver) continue; /* stale */
        t->stats.ear_tries++;
        if (is_ear_sorted(nd, &zo, b, &t->stats.ear_points) != EAR_YES) continue;
        uint32_t a = nd[b].prev, c = nd[b].next;
        put_triangle(t, nd, b, nt++);
        nd[a].next = c;
        nd[c].prev = a;
        nd[b].gone = 1;
        nd[a].tried++;
        nd[c].tried++;
        left--;
        any = a;
        refilled = 0;
        if (left > 3 && (!push_if_convex(t, &nh, a) || !push_if_convex(t, &nh, c))) return CT_TRI_NOMEM;
    }
    return last_triangle(t, nd, any, nt, nt_out);
}

ct_tri_status ct_triangulate_earclip(ct_triangulator *t, const ct_polygon *p, const ct_boundary *b,
                                     const uint32_t **tris, size_t *ntris) {
    *tris = NULL;
    *ntris = 0;
    t->reason[0] = '\0';
    size_t boundary_points = t->stats.boundary_points; /* (ct_boundary_build's) */
    memset(&t->stats, 0, sizeof t->stats);
    t->stats.boundary_points = boundary_points;
    uint32_t nb = b->ring_start[b->nrings];
    size_t cap = (size_t)nb + 2 * (size_t)b->nrings;
    if (!RESERVE(t, nodes, nodes_cap, cap) || !RESERVE(t, gfirst, gfirst_cap, nb) ||
        !RESERVE(t, tris, tris_cap, 3 * cap))
        return CT_TRI_NOMEM;
    init_nodes(t, p, b);
    uint32_t nn = nb;
    int many_holes = 0; /* bridged through the grid: the greedy ear order too */
    ct_tri_status ts = b->nrings > 1 ? join_holes(t, b, &nn, &many_holes) : CT_TRI_OK;
    if (ts != CT_TRI_OK) return ts;
    int zmode = nn > CT_TRI_ZORDER_MIN;
    double zx = 0, zy = 0, zinv = 0;
    if (zmode && !build_zorder(t, nn, &zx, &zy, &zinv)) return CT_TRI_NOMEM;
    size_t nt = 0;
    if (zmode && many_holes) ts = clip_ears_greedy(t, nn, zx, zy, zinv, &nt);
    else if (zmode && !t->straightforward) ts = clip_ears_listed(t, nn, zx, zy, zinv, &nt);
    else ts = clip_ears(t, nn, zmode, zx, zy, zinv, &nt);
    if (ts != CT_TRI_OK) return ts;
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
