/* synthcity — LiDAR simulation for one cell (see sc_points.h). */
#include "sc_points.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BUCKET 4.0 /* metres */

static int grow_u32(uint32_t **p, size_t *cap, size_t need) {
    if (need <= *cap) return 0;
    size_t n = *cap ? *cap : 1024;
    while (n < need) n *= 2;
    uint32_t *q = realloc(*p, n * sizeof *q);
    if (!q) return -1;
    *p = q;
    *cap = n;
    return 0;
}

static void bucket_range(const sc_index *ix, double lo, double hi, double origin, int n, int *a, int *b) {
    double fa = floor((lo - origin) / BUCKET), fb = floor((hi - origin) / BUCKET);
    *a = fa < 0 ? 0 : fa >= n ? n - 1 : (int)fa;
    *b = fb < 0 ? 0 : fb >= n ? n - 1 : (int)fb;
    (void)ix;
}

static void object_bounds(const sc_block *b, size_t k, double *x0, double *y0, double *x1, double *y1) {
    if (k < b->nb) {
        const sc_building *bd = &b->b[k];
        *x0 = bd->minx, *y0 = bd->miny, *x1 = bd->maxx, *y1 = bd->maxy;
    } else {
        const sc_tree *t = &b->trees[k - b->nb];
        *x0 = t->x - t->r, *y0 = t->y - t->r, *x1 = t->x + t->r, *y1 = t->y + t->r;
    }
}

static int build_index(const sc_block *b, sc_index *ix) {
    ix->x0 = b->cx0;
    ix->y0 = b->cy0;
    ix->nx = (int)ceil((b->cx1 - b->cx0) / BUCKET);
    ix->ny = (int)ceil((b->cy1 - b->cy0) / BUCKET);
    if (ix->nx < 1) ix->nx = 1;
    if (ix->ny < 1) ix->ny = 1;
    size_t nbk = (size_t)ix->nx * (size_t)ix->ny;
    if (grow_u32(&ix->start, &ix->cap_start, nbk + 1) != 0 || grow_u32(&ix->cursor, &ix->cap_cursor, nbk) != 0)
        return -1;
    memset(ix->start, 0, (nbk + 1) * sizeof *ix->start);
    size_t nobj = b->nb + b->ntrees;
    for (size_t k = 0; k < nobj; k++) {
        double x0, y0, x1, y1;
        int ax, bx, ay, by;
        object_bounds(b, k, &x0, &y0, &x1, &y1);
        bucket_range(ix, x0, x1, ix->x0, ix->nx, &ax, &bx);
        bucket_range(ix, y0, y1, ix->y0, ix->ny, &ay, &by);
        for (int j = ay; j <= by; j++)
            for (int i = ax; i <= bx; i++) ix->start[(size_t)j * ix->nx + i + 1]++;
    }
    for (size_t k = 0; k < nbk; k++) ix->start[k + 1] += ix->start[k];
    if (grow_u32(&ix->items, &ix->cap_items, ix->start[nbk] + 1) != 0) return -1;
    memcpy(ix->cursor, ix->start, nbk * sizeof *ix->cursor);
    for (size_t k = 0; k < nobj; k++) {
        double x0, y0, x1, y1;
        int ax, bx, ay, by;
        object_bounds(b, k, &x0, &y0, &x1, &y1);
        bucket_range(ix, x0, x1, ix->x0, ix->nx, &ax, &bx);
        bucket_range(ix, y0, y1, ix->y0, ix->ny, &ay, &by);
        for (int j = ay; j <= by; j++)
            for (int i = ax; i <= bx; i++) ix->items[ix->cursor[(size_t)j * ix->nx + i]++] = (uint32_t)k;
    }
    return 0;
}

/* Even-odd rule over all rings of the building (holes excluded). Half-open edge
 * rule: a point on a wall shared by two houses belongs to exactly one. */
static int in_building(const sc_block *b, const sc_building *bd, double x, double y) {
    if (x < bd->minx || x > bd->maxx || y < bd->miny || y > bd->maxy) return 0;
    int in = 0;
    for (size_t r = 0; r < bd->nrings; r++) {
        const sc_ring *ring = &b->rings[bd->ring0 + r];
        const sc_pt *p = b->pts + ring->first;
        size_t n = ring->count;
        for (size_t i = 0, j = n - 1; i < n; j = i++) {
            if ((p[i].y > y) != (p[j].y > y)) {
                double xc = p[j].x + (y - p[j].y) * (p[i].x - p[j].x) / (p[i].y - p[j].y);
                if (x < xc) in = !in;
            }
        }
    }
    return in;
}

/* The building (index) or tree (nb + index) hit at (x, y), or -1. */
static long lookup(const sc_block *b, const sc_index *ix, double x, double y) {
    int i = (int)floor((x - ix->x0) / BUCKET), j = (int)floor((y - ix->y0) / BUCKET);
    if (i < 0) i = 0;
    if (i >= ix->nx) i = ix->nx - 1;
    if (j < 0) j = 0;
    if (j >= ix->ny) j = ix->ny - 1;
    size_t k = (size_t)j * ix->nx + i;
    long tree = -1;
    for (uint32_t it = ix->start[k]; it < ix->start[k + 1]; it++) {
        uint32_t o = ix->items[it];
        if (o < b->nb) {
            if (in_building(b, &b->b[o], x, y)) return (long)o;
        } else if (tree < 0) {
            const sc_tree *t = &b->trees[o - b->nb];
            double dx = x - t->x, dy = y - t->y;
            if (dx * dx + dy * dy < t->r * t->r) tree = (long)o;
        }
    }
    return tree;
}

static int32_t mm(double v) { return (int32_t)floor(v * 1000.0 + 0.5); }

static double gps(const sc_points_state *st) { return 3.0e8 + (double)st->pulses * 1.0e-5; }

int sc_points_cell(const sc_city *c, const sc_block *b, sc_index *ix, sc_points_state *st, sc_las_writer *w,
                   int *nomem) {
    *nomem = 0;
    if (build_index(b, ix) != 0) {
        *nomem = 1;
        return -1;
    }
    const double s = st->spacing;
    const int64_t i0 = (int64_t)floor(b->cx0 / s), i1 = (int64_t)floor(b->cx1 / s);
    const int64_t j0 = (int64_t)floor(b->cy0 / s), j1 = (int64_t)floor(b->cy1 / s);
    for (int64_t j = j0; j <= j1; j++) {
        for (int64_t i = i0; i <= i1; i++) {
            uint64_t hj = sc_hash4(c->seed, SC_S_JITTER, (uint64_t)i, (uint64_t)j);
            double x = ((double)i + (double)(hj >> 32) * (1.0 / 4294967296.0)) * s;
            double y = ((double)j + (double)(hj & 0xFFFFFFFFu) * (1.0 / 4294967296.0)) * s;
            /* Each pulse belongs to the one cell that contains it. */
            if (x < b->cx0 || x >= b->cx1 || y < b->cy0 || y >= b->cy1) continue;
            uint64_t h = sc_hash4(c->seed, SC_S_POINT, (uint64_t)i, (uint64_t)j);
            uint64_t h2 = sc_mix64(h);
            double u1 = (double)(h >> 40) * (1.0 / 16777216.0);           /* 24 bits */
            double u2 = (double)((h >> 16) & 0xFFFFFF) * (1.0 / 16777216.0);
            double u3 = (double)(h2 >> 40) * (1.0 / 16777216.0);
            uint16_t jitter_i = (uint16_t)(h2 & 0xFFFF);
            int32_t X = mm(x), Y = mm(y);
            double t = gps(st);
            long o = lookup(b, ix, x, y);
            int rc;
            if (o >= 0 && (size_t)o < b->nb) {
                /* Flat roof at the true height, +-5 cm. */
                double z = b->b[o].roof_z + (u1 - 0.5) * 0.1;
                rc = sc_las_add(w, X, Y, mm(z), (uint16_t)(900 + jitter_i % 600), 1, 1, 6, t);
                st->by_class[6]++;
            } else if (o >= 0) {
                const sc_tree *tr = &b->trees[(size_t)o - b->nb];
                double g = sc_ground(c, x, y);
                double dx = x - tr->x, dy = y - tr->y, q = (dx * dx + dy * dy) / (tr->r * tr->r);
                double zc = g + tr->h * (1.0 - 0.35 * q) + (u1 - 0.5) * 0.6;
                if (u2 < 0.6) {
                    /* Through the crown: first return in the canopy, last on the ground. */
                    rc = sc_las_add(w, X, Y, mm(zc), (uint16_t)(120 + jitter_i % 200), 1, 2, 1, t);
                    if (rc == 0)
                        rc = sc_las_add(w, X, Y, mm(g + (u3 - 0.5) * 0.06), (uint16_t)(250 + jitter_i % 300), 2, 2,
                                        2, t);
                    st->by_class[1]++;
                    st->by_class[2]++;
                } else {
                    rc = sc_las_add(w, X, Y, mm(zc), (uint16_t)(120 + jitter_i % 200), 1, 1, 1, t);
                    st->by_class[1]++;
                }
            } else {
                double g = sc_ground(c, x, y);
                if (u2 < 0.004) {
                    /* Low vegetation noise (shrubs, hedges). */
                    rc = sc_las_add(w, X, Y, mm(g + 0.2 + 1.3 * u1), (uint16_t)(100 + jitter_i % 200), 1, 1, 1, t);
                    st->by_class[1]++;
                } else {
                    rc = sc_las_add(w, X, Y, mm(g + (u1 - 0.5) * 0.06), (uint16_t)(300 + jitter_i % 500), 1, 1, 2,
                                    t);
                    st->by_class[2]++;
                }
            }
            if (rc != 0) return -1;
            st->pulses++;
        }
    }
    return 0;
}

void sc_index_free(sc_index *ix) {
    free(ix->start);
    free(ix->cursor);
    free(ix->items);
    memset(ix, 0, sizeof *ix);
}
