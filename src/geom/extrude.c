/* Extrusion: walls from ring edges, roof and floor from a GEOS constrained Delaunay
 * triangulation of each part. The roof shares the ring vertices, so the mesh welds
 * into a closed 2-manifold. */
#include "citytiler/extrude.h"

#include <geos_c.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ct_extruder {
    GEOSContextHandle_t geos;
    char reason[256];
    /* Scratch: ring vertices sorted by (x, y) for mapping triangle corners back. */
    struct vtx { double x, y; uint32_t i; } *sorted;
    size_t sorted_cap;
    double *coords;
    size_t coords_cap;
};

ct_extruder *ct_extruder_create(void) {
    ct_extruder *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    e->geos = GEOS_init_r();
    if (!e->geos) {
        free(e);
        return NULL;
    }
    return e;
}

void ct_extruder_destroy(ct_extruder *e) {
    if (!e) return;
    GEOS_finish_r(e->geos);
    free(e->sorted);
    free(e->coords);
    free(e);
}

const char *ct_extruder_reason(const ct_extruder *e) { return e->reason; }

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 1;
    size_t n = *cap ? *cap : 64;
    while (n < need) n *= 2;
    void *q = realloc(*p, n * elem);
    if (!q) return 0;
    *p = q;
    *cap = n;
    return 1;
}

static int cmp_vtx(const void *a, const void *b) {
    const struct vtx *p = a, *q = b;
    if (p->x != q->x) return p->x < q->x ? -1 : 1;
    if (p->y != q->y) return p->y < q->y ? -1 : 1;
    return (p->i > q->i) - (p->i < q->i);
}

/* Builds a GEOS polygon of part p (rings closed again). */
static GEOSGeometry *to_geos(ct_extruder *e, const ct_polygon *p) {
    GEOSContextHandle_t h = e->geos;
    GEOSGeometry *shell = NULL, **holes = NULL;
    if (p->nrings > 1) {
        holes = calloc(p->nrings - 1, sizeof *holes);
        if (!holes) return NULL;
    }
    int ok = 1;
    for (uint32_t r = 0; r < p->nrings && ok; r++) {
        uint32_t n = ct_ring_size(p, r), s = p->ring_start[r];
        if (!grow((void **)&e->coords, &e->coords_cap, 2 * ((size_t)n + 1), sizeof(double))) { ok = 0; break; }
        memcpy(e->coords, p->xy + 2 * (size_t)s, 2 * (size_t)n * sizeof(double));
        e->coords[2 * n] = e->coords[0];
        e->coords[2 * n + 1] = e->coords[1];
        GEOSCoordSequence *seq = GEOSCoordSeq_copyFromBuffer_r(h, e->coords, n + 1, 0, 0);
        GEOSGeometry *ring = seq ? GEOSGeom_createLinearRing_r(h, seq) : NULL;
        if (!ring) { ok = 0; break; }
        if (r == 0) shell = ring;
        else holes[r - 1] = ring;
    }
    GEOSGeometry *poly = NULL;
    if (ok) poly = GEOSGeom_createPolygon_r(h, shell, holes, p->nrings - 1);
    if (!poly) {
        if (shell) GEOSGeom_destroy_r(h, shell);
        for (uint32_t r = 0; holes && r + 1 < p->nrings; r++) if (holes[r]) GEOSGeom_destroy_r(h, holes[r]);
    }
    free(holes);
    return poly;
}

typedef struct mesh_builder {
    ct_mesh m;
    size_t vcap, icap;
} mesh_builder;

static int mb_reserve(mesh_builder *b, size_t nv, size_t ni) {
    if (b->m.nverts + nv > b->vcap) {
        size_t cap = b->vcap ? b->vcap : 64;
        while (cap < b->m.nverts + nv) cap *= 2;
        double *p = realloc(b->m.pos, cap * 3 * sizeof *p);
        if (!p) return 0;
        b->m.pos = p;
        float *n = realloc(b->m.nrm, cap * 3 * sizeof *n);
        if (!n) return 0;
        b->m.nrm = n;
        b->vcap = cap;
    }
    if (b->m.nindices + ni > b->icap) {
        size_t cap = b->icap ? b->icap : 192;
        while (cap < b->m.nindices + ni) cap *= 2;
        uint32_t *q = realloc(b->m.idx, cap * sizeof *q);
        if (!q) return 0;
        b->m.idx = q;
        b->icap = cap;
    }
    return 1;
}

static uint32_t mb_vertex(mesh_builder *b, double x, double y, double z, float nx, float ny, float nz) {
    size_t v = b->m.nverts++;
    b->m.pos[3 * v] = x; b->m.pos[3 * v + 1] = y; b->m.pos[3 * v + 2] = z;
    b->m.nrm[3 * v] = nx; b->m.nrm[3 * v + 1] = ny; b->m.nrm[3 * v + 2] = nz;
    return (uint32_t)v;
}

static void mb_tri(mesh_builder *b, uint32_t a, uint32_t c, uint32_t d) {
    b->m.idx[b->m.nindices++] = a;
    b->m.idx[b->m.nindices++] = c;
    b->m.idx[b->m.nindices++] = d;
}

/* Point k of the part, in the orientation we want: shell CCW, holes CW. */
static void ring_point(const ct_polygon *p, uint32_t r, int reverse, uint32_t k, double *x, double *y) {
    uint32_t n = ct_ring_size(p, r);
    uint32_t j = reverse ? (n - 1 - k) : k;
    const double *q = p->xy + 2 * (size_t)(p->ring_start[r] + j);
    *x = q[0];
    *y = q[1];
}

static void add_walls(mesh_builder *b, const ct_polygon *p, double base, double top) {
    for (uint32_t r = 0; r < p->nrings; r++) {
        double area = ct_ring_signed_area(p, r);
        int reverse = r == 0 ? area < 0 : area > 0;
        uint32_t n = ct_ring_size(p, r);
        for (uint32_t k = 0; k < n; k++) {
            double ax, ay, bx, by;
            ring_point(p, r, reverse, k, &ax, &ay);
            ring_point(p, r, reverse, (k + 1) % n, &bx, &by);
            double ex = bx - ax, ey = by - ay, len = sqrt(ex * ex + ey * ey);
            float nx = len > 0 ? (float)(ey / len) : 0.f, ny = len > 0 ? (float)(-ex / len) : 0.f;
            uint32_t a0 = mb_vertex(b, ax, ay, base, nx, ny, 0.f);
            uint32_t b0 = mb_vertex(b, bx, by, base, nx, ny, 0.f);
            uint32_t b1 = mb_vertex(b, bx, by, top, nx, ny, 0.f);
            uint32_t a1 = mb_vertex(b, ax, ay, top, nx, ny, 0.f);
            mb_tri(b, a0, b0, b1);
            mb_tri(b, a0, b1, a1);
        }
    }
}

/* Looks a triangle corner up among the part's ring points. */
static long find_vertex(const struct vtx *s, size_t n, double x, double y) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s[mid].x < x || (s[mid].x == x && s[mid].y < y)) lo = mid + 1;
        else hi = mid;
    }
    if (lo < n && s[lo].x == x && s[lo].y == y) return (long)s[lo].i;
    return -1;
}

/* Roof (normal up) and optional floor (normal down) from the triangulation. */
static ct_extrude_result add_caps(ct_extruder *e, mesh_builder *b, const ct_polygon *p, double base, double top,
                                  int with_floor) {
    GEOSContextHandle_t h = e->geos;
    GEOSGeometry *poly = to_geos(e, p);
    if (!poly) return CT_EXTRUDE_NOMEM;
    if (GEOSisValid_r(h, poly) != 1) {
        char *why = GEOSisValidReason_r(h, poly);
        snprintf(e->reason, sizeof e->reason, "invalid polygon: %s", why ? why : "unknown reason");
        if (why) GEOSFree_r(h, why);
        GEOSGeom_destroy_r(h, poly);
        return CT_EXTRUDE_INVALID;
    }
    GEOSGeometry *tris = GEOSConstrainedDelaunayTriangulation_r(h, poly);
    GEOSGeom_destroy_r(h, poly);
    if (!tris) {
        snprintf(e->reason, sizeof e->reason, "triangulation failed");
        return CT_EXTRUDE_FAILED;
    }
    uint32_t npts = p->ring_start[p->nrings];
    if (!grow((void **)&e->sorted, &e->sorted_cap, npts, sizeof *e->sorted)) {
        GEOSGeom_destroy_r(h, tris);
        return CT_EXTRUDE_NOMEM;
    }
    for (uint32_t k = 0; k < npts; k++) {
        e->sorted[k].x = p->xy[2 * k];
        e->sorted[k].y = p->xy[2 * k + 1];
        e->sorted[k].i = k;
    }
    qsort(e->sorted, npts, sizeof *e->sorted, cmp_vtx);
    int ntri = GEOSGetNumGeometries_r(h, tris);
    int caps = with_floor ? 2 : 1;
    if (!mb_reserve(b, (size_t)npts * caps, (size_t)ntri * 3 * caps)) {
        GEOSGeom_destroy_r(h, tris);
        return CT_EXTRUDE_NOMEM;
    }
    uint32_t roof0 = (uint32_t)b->m.nverts;
    for (uint32_t k = 0; k < npts; k++) mb_vertex(b, p->xy[2 * k], p->xy[2 * k + 1], top, 0.f, 0.f, 1.f);
    uint32_t floor0 = (uint32_t)b->m.nverts;
    if (with_floor)
        for (uint32_t k = 0; k < npts; k++) mb_vertex(b, p->xy[2 * k], p->xy[2 * k + 1], base, 0.f, 0.f, -1.f);
    ct_extrude_result res = CT_EXTRUDE_OK;
    for (int t = 0; t < ntri && res == CT_EXTRUDE_OK; t++) {
        const GEOSGeometry *tri = GEOSGetGeometryN_r(h, tris, t);
        const GEOSGeometry *ring = GEOSGetExteriorRing_r(h, tri);
        const GEOSCoordSequence *cs = ring ? GEOSGeom_getCoordSeq_r(h, ring) : NULL;
        long id[3];
        double xs[3], ys[3];
        for (unsigned c = 0; c < 3 && cs; c++) {
            GEOSCoordSeq_getXY_r(h, cs, c, &xs[c], &ys[c]);
            id[c] = find_vertex(e->sorted, npts, xs[c], ys[c]);
            if (id[c] < 0) cs = NULL;
        }
        if (!cs) {
            snprintf(e->reason, sizeof e->reason, "triangulation introduced a vertex not on the footprint");
            res = CT_EXTRUDE_FAILED;
            break;
        }
        double cross = (xs[1] - xs[0]) * (ys[2] - ys[0]) - (xs[2] - xs[0]) * (ys[1] - ys[0]);
        if (cross == 0.0) continue; /* a zero-area triangle adds nothing to the surface */
        if (cross < 0) { long tmp = id[1]; id[1] = id[2]; id[2] = tmp; }
        mb_tri(b, roof0 + (uint32_t)id[0], roof0 + (uint32_t)id[1], roof0 + (uint32_t)id[2]);
        if (with_floor) mb_tri(b, floor0 + (uint32_t)id[0], floor0 + (uint32_t)id[2], floor0 + (uint32_t)id[1]);
    }
    GEOSGeom_destroy_r(h, tris);
    return res;
}

ct_extrude_result ct_extrude_footprint(ct_extruder *e, const ct_footprint *fp, double base, double top,
                                       int with_floor, ct_mesh *out) {
    mesh_builder b;
    memset(&b, 0, sizeof b);
    memset(out, 0, sizeof *out);
    e->reason[0] = '\0';
    if (!(top > base)) {
        snprintf(e->reason, sizeof e->reason, "roof height %.3f is not above ground height %.3f", top, base);
        return CT_EXTRUDE_INVALID;
    }
    ct_extrude_result res = CT_EXTRUDE_OK;
    for (uint32_t i = 0; i < fp->nparts && res == CT_EXTRUDE_OK; i++) {
        const ct_polygon *p = &fp->parts[i];
        size_t npts = p->nrings ? p->ring_start[p->nrings] : 0;
        if (!mb_reserve(&b, 4 * npts, 6 * npts)) { res = CT_EXTRUDE_NOMEM; break; }
        res = add_caps(e, &b, p, base, top, with_floor);
        if (res == CT_EXTRUDE_OK) {
            if (!mb_reserve(&b, 4 * npts, 6 * npts)) { res = CT_EXTRUDE_NOMEM; break; }
            add_walls(&b, p, base, top);
        }
    }
    if (res == CT_EXTRUDE_OK && b.m.nindices == 0) {
        snprintf(e->reason, sizeof e->reason, "footprint has no area");
        res = CT_EXTRUDE_INVALID;
    }
    if (res != CT_EXTRUDE_OK) {
        if (res == CT_EXTRUDE_NOMEM) snprintf(e->reason, sizeof e->reason, "out of memory");
        ct_mesh_free(&b.m);
        return res;
    }
    *out = b.m;
    return CT_EXTRUDE_OK;
}
