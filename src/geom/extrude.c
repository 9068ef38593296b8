/* Extrusion: walls from the boundary's edges, roof and floor from a triangulation of
 * each part. The roof uses the boundary's points, so the mesh welds into a closed shell
 * in which every edge is used exactly twice, in opposite directions.
 *
 * Triangulation: our ear clipping (triangulate.c) first, GEOS's constrained Delaunay
 * triangulation as the fallback. Chosen by measurement (tools/bench/bench_geometry
 * --compare, one thread, whole ct_extrude_footprint): on the cleaned Delft sample
 * 0.4-0.6 us per building against 13.5 us for the GEOS path (GEOS geometry, validity
 * check, triangulation, mapping coordinates back); 1e5-vertex ring 0.1-0.3 s against
 * 5-8 s; and it is the more robust: it closes all 16 corpus footprints filters.clean
 * keeps and all 3.4k parts of 3000 random repaired grid rings (test_extrude), where
 * GEOS 3.11 fails on 2 and 35 of them (holes touching the shell or each other at a
 * point, e.g. corpus cases 7 and 23). GEOS stays as the fallback: it costs nothing
 * until ear clipping fails, and may triangulate a valid polygon that it cannot. Every
 * triangulation is verified (all triangles strictly counter-clockwise by an exact test,
 * area sum = polygon area within 1e-9; for GEOS's also edges cancelling along the
 * boundary, i.e. nothing outside and no overlap). Only when ear clipping fails does the
 * extruder ask GEOS whether the polygon is valid (the reason for an invalid one) and
 * try GEOS's triangulation; filters.clean guarantees validity upstream, so validity is
 * not checked on the hot path.
 *
 * Walls: one flat quad per boundary edge, normal to the right of the edge (outward for
 * a counter-clockwise shell and clockwise holes). Where several boundary points share a
 * position (a hole touching the shell), the vertical edge there would be used by four
 * walls; the k-th further occurrence (its rank) splits its vertical edges into k + 1
 * pieces, so each piece is used by exactly its own two walls. The ranks continue across
 * the parts of a footprint (parts touching at a point). The mesh then has non-manifold
 * vertices at such points but no non-manifold edge. */
#include "citytiler/extrude.h"
#include "core/reserve.h"
#include "citytiler/triangulate.h"

#include <geos_c.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ct_extruder {
    GEOSContextHandle_t geos;
    ct_triangulator *tri;
    char reason[256];
    /* Scratch for the GEOS path: boundary points sorted by (x, y), triangles. */
    struct vtx { double x, y; uint32_t i; } *sorted;
    size_t sorted_cap;
    double *coords;
    size_t coords_cap;
    uint32_t *gtris;
    size_t gtris_cap;
    /* Multi-part footprints: boundary positions of the parts done so far (counted), and
     * per boundary entry of the current part the occurrences there in earlier parts. */
    struct pos { double x, y; uint32_t count, gen; } *seen; /* a hash table (cross_part_ranks) */
    size_t nseen, seen_cap; /* positions of this footprint; slots (a power of two) */
    uint32_t seen_gen;      /* the generation of this footprint's slots */
    uint32_t *extra;
    size_t extra_cap;
    int force_geos; /* tests and benchmarks: GEOS only (environment CT_EXTRUDE_TRIANGULATOR=geos,
                     * read when the extruder is created) */
    /* The mesh is built in these (reused, so warm) arrays and copied out at its exact size. */
    double *spos;
    float *snrm;
    uint32_t *sidx;
    size_t svcap, sicap;
    ct_mesh_arena *arena; /* where finished meshes go, or NULL: malloc */
};

void ct_extruder_set_arena(ct_extruder *e, ct_mesh_arena *arena) { e->arena = arena; }

ct_extruder *ct_extruder_create(void) {
    ct_extruder *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    e->geos = GEOS_init_r();
    e->tri = ct_triangulator_create();
    if (!e->geos || !e->tri) {
        ct_extruder_destroy(e);
        return NULL;
    }
    const char *mode = getenv("CT_EXTRUDE_TRIANGULATOR");
    e->force_geos = mode && strcmp(mode, "geos") == 0;
    return e;
}

void ct_extruder_destroy(ct_extruder *e) {
    if (!e) return;
    if (e->geos) GEOS_finish_r(e->geos);
    ct_triangulator_destroy(e->tri);
    free(e->sorted);
    free(e->coords);
    free(e->gtris);
    free(e->seen);
    free(e->extra);
    free(e->spos);
    free(e->snrm);
    free(e->sidx);
    free(e);
}

const char *ct_extruder_reason(const ct_extruder *e) { return e->reason; }

/* Hash of a position (-0 and 0 are equal positions, so hash alike). */
static size_t pos_hash(double x, double y) {
    uint64_t a, b;
    x = x == 0 ? 0.0 : x;
    y = y == 0 ? 0.0 : y;
    memcpy(&a, &x, sizeof a);
    memcpy(&b, &y, sizeof b);
    uint64_t h = (a * 0x9E3779B97F4A7C15u) ^ (b + 0x632BE59BD9B4E019u + (a << 6) + (a >> 2));
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9u;
    return (size_t)(h ^ (h >> 32));
}

/* 1 when slot s of the table holds a position of the current footprint. */
static int pos_live(const ct_extruder *e, size_t s) { return e->seen[s].gen == e->seen_gen; }

/* The slot of (x, y) in the table of positions seen: its entry, or the free one where
 * it would go (open addressing, linear probing). */
static size_t pos_slot(const ct_extruder *e, double x, double y) {
    size_t mask = e->seen_cap - 1, s = pos_hash(x, y) & mask;
    while (pos_live(e, s) && !(e->seen[s].x == x && e->seen[s].y == y)) s = (s + 1) & mask;
    return s;
}

/* Room for `more` further positions at a load of at most one half. 0: out of memory. */
static int pos_reserve(ct_extruder *e, size_t more) {
    size_t need = 2 * (e->nseen + more);
    if (need <= e->seen_cap) return 1;
    size_t cap = 64;
    while (cap < need) {
        if (cap > SIZE_MAX / 2 / sizeof *e->seen) return 0;
        cap *= 2;
    }
    struct pos *old = e->seen;
    size_t old_cap = e->seen_cap;
    uint32_t gen = e->seen_gen;
    e->seen = calloc(cap, sizeof *e->seen);
    if (!e->seen) {
        e->seen = old;
        return 0;
    }
    e->seen_cap = cap;
    e->seen_gen = 1;
    for (size_t k = 0; k < old_cap; k++)
        if (old[k].gen == gen) {
            struct pos *q = &e->seen[pos_slot(e, old[k].x, old[k].y)];
            *q = old[k];
            q->gen = 1;
        }
    free(old);
    return 1;
}

/* Empties the table for the next footprint: a new generation (every slot stale), so
 * small footprints after a large one do not clear the whole table. */
static void pos_clear(ct_extruder *e) {
    e->nseen = 0;
    if (++e->seen_gen == 0) {
        if (e->seen) memset(e->seen, 0, e->seen_cap * sizeof *e->seen);
        e->seen_gen = 1;
    }
}

/* For a footprint of several parts (they may touch at a point, e.g. a repaired
 * bow-tie): ranks continue across parts, so the vertical edges at a point shared by two
 * parts stay distinct too. Fills e->extra for bd (the occurrences of each position in
 * earlier parts) and counts bd's positions into e->seen, a hash table: re-sorting every
 * position seen after each part made thousands of parts cost parts x positions.
 * Returns 0 when out of memory. */
static int cross_part_ranks(ct_extruder *e, const ct_polygon *p, const ct_boundary *bd) {
    uint32_t nb = bd->ring_start[bd->nrings];
    if (!ct_reserve((void **)&e->extra, &e->extra_cap, nb ? nb : 1, sizeof *e->extra) || !pos_reserve(e, nb)) return 0;
    for (uint32_t k = 0; k < nb; k++) {
        double x = p->xy[2 * (size_t)bd->idx[k]], y = p->xy[2 * (size_t)bd->idx[k] + 1];
        size_t s = pos_slot(e, x, y);
        e->extra[k] = pos_live(e, s) ? e->seen[s].count : 0;
    }
    for (uint32_t k = 0; k < nb; k++) {
        double x = p->xy[2 * (size_t)bd->idx[k]], y = p->xy[2 * (size_t)bd->idx[k] + 1];
        size_t s = pos_slot(e, x, y);
        if (!pos_live(e, s)) e->seen[s] = (struct pos){x, y, 0, e->seen_gen}, e->nseen++;
        e->seen[s].count++;
    }
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
        if (n == 0 || !ct_reserve((void **)&e->coords, &e->coords_cap, 2 * ((size_t)n + 1), sizeof(double))) { ok = 0; break; }
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
    ct_mesh m;          /* arrays: the extruder's scratch */
    ct_extruder *e;
} mesh_builder;

/* Room for nv more vertices and ni more indices, in the extruder's scratch arrays (they
 * only grow, so after the first buildings no memory is fresh); the finished mesh is copied
 * out at its exact size (finish_mesh). */
static int mb_reserve(mesh_builder *b, size_t nv, size_t ni) {
    ct_extruder *e = b->e;
    if (b->m.nverts + nv > e->svcap) {
        size_t cap = e->svcap ? e->svcap : 256;
        while (cap < b->m.nverts + nv) cap *= 2;
        double *p = realloc(e->spos, cap * 3 * sizeof *p);
        if (!p) return 0;
        e->spos = p;
        float *n = realloc(e->snrm, cap * 3 * sizeof *n);
        if (!n) return 0;
        e->snrm = n;
        e->svcap = cap;
    }
    if (b->m.nindices + ni > e->sicap) {
        size_t cap = e->sicap ? e->sicap : 768;
        while (cap < b->m.nindices + ni) cap *= 2;
        uint32_t *q = realloc(e->sidx, cap * sizeof *q);
        if (!q) return 0;
        e->sidx = q;
        e->sicap = cap;
    }
    b->m.pos = e->spos;
    b->m.nrm = e->snrm;
    b->m.idx = e->sidx;
    return 1;
}

/* Copies the built mesh out of the scratch arrays: into the arena when one is set
 * (borrowed arrays), else into its own allocations. Returns 0 when out of memory. */
static int finish_mesh(ct_extruder *e, const ct_mesh *m, ct_mesh *out) {
    size_t pb = 3 * m->nverts * sizeof(double), nb = 3 * m->nverts * sizeof(float), ib = m->nindices * sizeof(uint32_t);
    memset(out, 0, sizeof *out);
    if (e->arena) {
        out->pos = ct_mesh_arena_alloc(e->arena, pb);
        out->nrm = ct_mesh_arena_alloc(e->arena, nb);
        out->idx = ct_mesh_arena_alloc(e->arena, ib);
        out->borrowed = 1;
    } else {
        out->pos = malloc(pb ? pb : 1);
        out->nrm = malloc(nb ? nb : 1);
        out->idx = malloc(ib ? ib : 1);
    }
    if (!out->pos || !out->nrm || !out->idx) {
        ct_mesh_free(out);
        return 0;
    }
    memcpy(out->pos, m->pos, pb);
    memcpy(out->nrm, m->nrm, nb);
    memcpy(out->idx, m->idx, ib);
    out->nverts = m->nverts;
    out->nindices = m->nindices;
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

/* Height of piece j of a vertical edge cut into rank + 1 pieces. */
static double cut_z(double base, double top, uint32_t j, uint32_t rank) {
    return j == 0 ? base : j == rank + 1 ? top : base + (top - base) * (double)j / (double)(rank + 1);
}

/* Walls along the boundary: per edge a vertical strip between the chain of heights at
 * its start (a) and at its end (b), zipped into triangles bottom to top. */
static void wall_counts(const ct_boundary *bd, const uint32_t *extra, size_t *nv, size_t *ni) {
    uint32_t nb = bd->ring_start[bd->nrings];
    *nv = 4 * (size_t)nb;
    *ni = 6 * (size_t)nb;
    if (!bd->touching && !extra) return;
    for (uint32_t k = 0; k < nb; k++) {
        uint32_t rk = bd->rank[k] + (extra ? extra[k] : 0);
        *nv += 2 * (size_t)rk;
        *ni += 6 * (size_t)rk;
    }
}

/* Room for the walls must have been reserved (wall_counts). */
static void add_walls(mesh_builder *b, const ct_polygon *p, const ct_boundary *bd, const uint32_t *extra, double base,
                      double top) {
    for (uint32_t r = 0; r < bd->nrings; r++) {
        uint32_t s = bd->ring_start[r], e = bd->ring_start[r + 1];
        for (uint32_t k = s; k < e; k++) {
            uint32_t l = k + 1 < e ? k + 1 : s;
            const double *pa = p->xy + 2 * (size_t)bd->idx[k], *pb = p->xy + 2 * (size_t)bd->idx[l];
            double ex = pb[0] - pa[0], ey = pb[1] - pa[1], len = sqrt(ex * ex + ey * ey);
            float nx = len > 0 ? (float)(ey / len) : 0.f, ny = len > 0 ? (float)(-ex / len) : 0.f;
            uint32_t ra = bd->rank[k] + (extra ? extra[k] : 0), rb = bd->rank[l] + (extra ? extra[l] : 0);
            uint32_t a0 = (uint32_t)b->m.nverts;
            for (uint32_t j = 0; j < ra + 2; j++) mb_vertex(b, pa[0], pa[1], cut_z(base, top, j, ra), nx, ny, 0.f);
            uint32_t b0 = (uint32_t)b->m.nverts;
            for (uint32_t j = 0; j < rb + 2; j++) mb_vertex(b, pb[0], pb[1], cut_z(base, top, j, rb), nx, ny, 0.f);
            uint32_t i = 0, j = 0;
            while (i < ra + 1 || j < rb + 1) {
                if (j < rb + 1 && (i == ra + 1 || cut_z(base, top, j + 1, rb) <= cut_z(base, top, i + 1, ra))) {
                    mb_tri(b, a0 + i, b0 + j, b0 + j + 1);
                    j++;
                } else {
                    mb_tri(b, a0 + i, b0 + j, a0 + i + 1);
                    i++;
                }
            }
        }
    }
}

/* Looks a triangle corner up among the boundary's points. */
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

/* Validity of part p by GEOS: 1 valid, 0 invalid (reason recorded; `ours` when GEOS
 * cannot even build the polygon, e.g. a ring of two points). */
static int geos_valid(ct_extruder *e, const ct_polygon *p, const char *ours) {
    GEOSContextHandle_t h = e->geos;
    GEOSGeometry *poly = to_geos(e, p);
    if (!poly) {
        snprintf(e->reason, sizeof e->reason, "invalid polygon: %.200s", ours);
        return 0;
    }
    char v = GEOSisValid_r(h, poly);
    if (v != 1) {
        char *why = GEOSisValidReason_r(h, poly);
        snprintf(e->reason, sizeof e->reason, "invalid polygon: %s", why ? why : "unknown reason");
        if (why) GEOSFree_r(h, why);
    }
    GEOSGeom_destroy_r(h, poly);
    return v == 1 ? 1 : 0;
}

/* GEOS constrained Delaunay triangulation of p, mapped onto the boundary's points and
 * verified. */
static ct_extrude_result geos_triangulate(ct_extruder *e, const ct_polygon *p, const ct_boundary *bd,
                                          const uint32_t **tris, size_t *ntris) {
    GEOSContextHandle_t h = e->geos;
    GEOSGeometry *poly = to_geos(e, p);
    if (!poly) return CT_EXTRUDE_NOMEM;
    GEOSGeometry *tg = GEOSConstrainedDelaunayTriangulation_r(h, poly);
    GEOSGeom_destroy_r(h, poly);
    if (!tg) {
        snprintf(e->reason, sizeof e->reason, "triangulation failed");
        return CT_EXTRUDE_FAILED;
    }
    uint32_t nb = bd->ring_start[bd->nrings];
    int ng = GEOSGetNumGeometries_r(h, tg);
    if (!ct_reserve((void **)&e->sorted, &e->sorted_cap, nb ? nb : 1, sizeof *e->sorted) ||
        !ct_reserve((void **)&e->gtris, &e->gtris_cap, 3 * (size_t)(ng > 0 ? ng : 1), sizeof *e->gtris)) {
        GEOSGeom_destroy_r(h, tg);
        return CT_EXTRUDE_NOMEM;
    }
    for (uint32_t k = 0; k < nb; k++) {
        e->sorted[k].x = p->xy[2 * (size_t)bd->idx[k]];
        e->sorted[k].y = p->xy[2 * (size_t)bd->idx[k] + 1];
        e->sorted[k].i = bd->idx[k];
    }
    qsort(e->sorted, nb, sizeof *e->sorted, cmp_vtx);
    size_t nt = 0;
    ct_extrude_result res = CT_EXTRUDE_OK;
    for (int t = 0; t < ng; t++) {
        const GEOSGeometry *tri = GEOSGetGeometryN_r(h, tg, t);
        const GEOSGeometry *ring = tri ? GEOSGetExteriorRing_r(h, tri) : NULL;
        const GEOSCoordSequence *cs = ring ? GEOSGeom_getCoordSeq_r(h, ring) : NULL;
        long id[3];
        double xs[3], ys[3];
        for (unsigned c = 0; c < 3 && cs; c++) {
            GEOSCoordSeq_getXY_r(h, cs, c, &xs[c], &ys[c]);
            id[c] = find_vertex(e->sorted, nb, xs[c], ys[c]);
            if (id[c] < 0) cs = NULL;
        }
        if (!cs) {
            snprintf(e->reason, sizeof e->reason, "triangulation introduced a vertex not on the footprint");
            res = CT_EXTRUDE_FAILED;
            break;
        }
        double o = ct_orient2d(xs[0], ys[0], xs[1], ys[1], xs[2], ys[2]);
        if (o == 0) continue; /* no area: the edge check below tells whether it mattered */
        if (o < 0) { long tmp = id[1]; id[1] = id[2]; id[2] = tmp; }
        for (int c = 0; c < 3; c++) e->gtris[3 * nt + (size_t)c] = (uint32_t)id[c];
        nt++;
    }
    GEOSGeom_destroy_r(h, tg);
    if (res != CT_EXTRUDE_OK) return res;
    int v = ct_triangulation_verify(e->tri, p, bd, e->gtris, nt, 1);
    if (v < 0) return CT_EXTRUDE_NOMEM;
    if (v == 0) {
        snprintf(e->reason, sizeof e->reason, "triangulation failed: %s", ct_triangulator_reason(e->tri));
        return CT_EXTRUDE_FAILED;
    }
    *tris = e->gtris;
    *ntris = nt;
    return CT_EXTRUDE_OK;
}

/* Roof (normal up), optional floor (normal down) and walls of part p. */
static ct_extrude_result add_part(ct_extruder *e, mesh_builder *b, const ct_polygon *p, double base, double top,
                                  int with_floor, int multi) {
    ct_boundary bd;
    const uint32_t *tris = NULL;
    size_t nt = 0;
    ct_tri_status ts = ct_boundary_build(e->tri, p, &bd);
    if (ts == CT_TRI_NOMEM) return CT_EXTRUDE_NOMEM;
    if (ts == CT_TRI_OK && !e->force_geos) ts = ct_triangulate_earclip(e->tri, p, &bd, &tris, &nt);
    if (ts == CT_TRI_NOMEM) return CT_EXTRUDE_NOMEM;
    if (ts != CT_TRI_OK || e->force_geos) {
        /* Ear clipping failed (or the boundary could not be built): an invalid polygon,
         * or a valid one we could not triangulate, which GEOS may. */
        char ours[160];
        snprintf(ours, sizeof ours, "%s", ct_triangulator_reason(e->tri));
        if (geos_valid(e, p, ours) == 0) return CT_EXTRUDE_INVALID;
        if (ts != CT_TRI_OK) {
            snprintf(e->reason, sizeof e->reason, "triangulation failed: %.150s", ours);
            return CT_EXTRUDE_FAILED; /* valid per GEOS, yet no boundary: not expected */
        }
        ct_extrude_result r = geos_triangulate(e, p, &bd, &tris, &nt);
        if (r != CT_EXTRUDE_OK) {
            if (r == CT_EXTRUDE_FAILED && !e->force_geos) {
                char g[256];
                snprintf(g, sizeof g, "%s", e->reason);
                snprintf(e->reason, sizeof e->reason, "ear clipping: %.100s; GEOS: %.120s", ours, g);
            }
            return r;
        }
    }
    uint32_t npts = p->ring_start[p->nrings];
    int caps = with_floor ? 2 : 1;
    if (multi && !cross_part_ranks(e, p, &bd)) return CT_EXTRUDE_NOMEM;
    size_t wv, wi;
    wall_counts(&bd, multi ? e->extra : NULL, &wv, &wi);
    if (!mb_reserve(b, (size_t)npts * caps + wv, nt * 3 * caps + wi)) return CT_EXTRUDE_NOMEM;
    uint32_t roof0 = (uint32_t)b->m.nverts;
    for (uint32_t k = 0; k < npts; k++) mb_vertex(b, p->xy[2 * k], p->xy[2 * k + 1], top, 0.f, 0.f, 1.f);
    uint32_t floor0 = (uint32_t)b->m.nverts;
    if (with_floor)
        for (uint32_t k = 0; k < npts; k++) mb_vertex(b, p->xy[2 * k], p->xy[2 * k + 1], base, 0.f, 0.f, -1.f);
    for (size_t t = 0; t < nt; t++) {
        const uint32_t *q = tris + 3 * t;
        mb_tri(b, roof0 + q[0], roof0 + q[1], roof0 + q[2]);
        if (with_floor) mb_tri(b, floor0 + q[0], floor0 + q[2], floor0 + q[1]);
    }
    add_walls(b, p, &bd, multi ? e->extra : NULL, base, top);
    return CT_EXTRUDE_OK;
}

ct_extrude_result ct_extrude_footprint(ct_extruder *e, const ct_footprint *fp, double base, double top,
                                       int with_floor, ct_mesh *out) {
    mesh_builder b;
    memset(&b, 0, sizeof b);
    b.e = e;
    memset(out, 0, sizeof *out);
    e->reason[0] = '\0';
    if (!(top > base) || !isfinite(base) || !isfinite(top)) {
        snprintf(e->reason, sizeof e->reason, "roof height %.3f is not above ground height %.3f", top, base);
        return CT_EXTRUDE_INVALID;
    }
    ct_extrude_result res = CT_EXTRUDE_OK;
    pos_clear(e);
    for (uint32_t i = 0; i < fp->nparts && res == CT_EXTRUDE_OK; i++) {
        const ct_polygon *p = &fp->parts[i];
        if (p->nrings == 0 || p->ring_start[p->nrings] == 0) continue;
        res = add_part(e, &b, p, base, top, with_floor, fp->nparts > 1);
    }
    if (res == CT_EXTRUDE_OK && b.m.nindices == 0) {
        snprintf(e->reason, sizeof e->reason, "footprint has no area");
        res = CT_EXTRUDE_INVALID;
    }
    if (res == CT_EXTRUDE_OK && !finish_mesh(e, &b.m, out)) res = CT_EXTRUDE_NOMEM;
    if (res != CT_EXTRUDE_OK && res == CT_EXTRUDE_NOMEM) snprintf(e->reason, sizeof e->reason, "out of memory");
    return res;
}
