/* Footprint simplification.
 *
 * One footprint alone: GEOSTopologyPreserveSimplify on its MultiPolygon.
 *
 * Footprints that share walls (terraced houses, tenement rows): simplifying each on its
 * own moves the two copies of a shared wall differently (Douglas-Peucker keeps
 * different vertices depending on where each ring starts), which opens gaps and makes
 * overlaps. GEOS 3.11 has no coverage simplifier (GEOSCoverageSimplifyVW is 3.12), so
 * we build the coverage's edge graph ourselves and let GEOS simplify its edges:
 *   1. snap each footprint to its neighbours (GEOSSnap, a millimetre): a neighbour's
 *      vertex lying on our wall (a T-junction) becomes our vertex too, so shared walls
 *      have identical vertices in both footprints;
 *   2. the undirected edges of all rings form a graph; a vertex whose degree is not 2 is
 *      a node (where three or more faces meet, or rings touch). Boundaries are cut at
 *      nodes into chains; a chain used by two footprints is stored once;
 *   3. all chains (a closed chain without nodes is cut at a third and two thirds, so a
 *      ring keeps at least a triangle) go into one MultiLineString simplified with
 *      GEOSTopologyPreserveSimplify: endpoints stay, and no chain crosses another;
 *   4. every ring is rebuilt from its chains, so both sides of a shared wall get the same
 *      simplified polyline: no gap, no overlap. Each footprint is checked (GEOS valid,
 *      rings keep their orientation); if any fails the group keeps its input;
 *   5. each result is checked against its input and its neighbours' results
 *      (simplify_check.c: moved at most tolerance, area, no new overlap). Snapping is
 *      what can break these: it moves a wall by up to snap_tolerance, and two facing
 *      walls across a gap, each snapped to the other, cross. A refused footprint is
 *      frozen (not snapped; the chains it uses put back as they were) and steps 1-4
 *      run again, so its neighbours still share its walls.
 * We chose this over "simplify each, then snap neighbours together" because snapping
 * after the fact cannot restore a wall whose two copies kept different vertices (it only
 * moves vertices within the snap distance), and over GEOSPolygonize on the simplified
 * linework because mapping faces back to buildings needs point-in-polygon guesses,
 * whereas the chain references keep the mapping exact. */
#include <geos_c.h> /* before clean.h: enables its GEOS conversion declarations */

#include "citytiler/clean.h"
#include "core/reserve.h"
#include "citytiler/simplify.h"
#include "simplify_check.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Open-addressing hash table keyed by 4 doubles (a vertex uses 2). */
typedef struct htab {
    double *keys;
    int32_t *vals;
    size_t cap, n;
} htab;

typedef struct chain {
    uint32_t start, n; /* points cpts[start .. start+n-1] (2 doubles each) */
    uint32_t piece0, npieces;
} chain;

typedef struct piece {
    uint32_t start, n;       /* input points in cpts */
    uint32_t out_start, out_n; /* simplified points in spts */
    int fixed;               /* of a chain a frozen footprint uses: output = input */
} piece;

typedef struct ref {
    int32_t chain;
    int32_t reversed;
} ref;

struct ct_simplifier {
    GEOSContextHandle_t geos;
    char reason[256];
    htab edges, verts;
    double *cpts, *spts;
    size_t ncpts, cap_cpts, nspts, cap_spts;
    chain *chains;
    size_t nchains, cap_chains;
    piece *pieces;
    size_t npieces, cap_pieces;
    ref *refs;
    size_t nrefs, cap_refs;
    uint32_t *ring_refs; /* start of each ring's refs, one more than rings */
    size_t nrings, cap_rings;
    unsigned char *fixed; /* per chain: used by a frozen footprint, kept as it is */
    size_t cap_fixed;
    unsigned char *frozen, *failed; /* per footprint of the group */
    ct_simplify_refusal *refusal;
    size_t cap_frozen, cap_failed, cap_refusal;
};

static void ht_free(htab *t) {
    free(t->keys);
    free(t->vals);
    memset(t, 0, sizeof *t);
}

static uint64_t ht_hash(const double *k) {
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < 4; i++) {
        uint64_t b;
        double d = k[i] + 0.0; /* -0 == +0 */
        memcpy(&b, &d, sizeof b);
        h ^= b;
        h *= 1099511628211ull;
        h ^= h >> 31;
    }
    return h;
}

static int ht_init(htab *t, size_t expect) {
    size_t cap = 64;
    while (cap < 2 * expect + 2) cap *= 2;
    if (cap > t->cap) {
        double *k = realloc(t->keys, cap * 4 * sizeof *k);
        if (!k) return 0;
        t->keys = k;
        int32_t *v = realloc(t->vals, cap * sizeof *v);
        if (!v) return 0;
        t->vals = v;
        t->cap = cap;
    }
    t->n = 0;
    for (size_t i = 0; i < t->cap; i++) t->vals[i] = INT32_MIN; /* empty */
    return 1;
}

/* Slot of key k; inserts it with value `init` when absent and *created is set.
 * The table never fills: ht_init sized it for every key. */
static int32_t *ht_slot(htab *t, const double *k, int32_t init, int *created) {
    size_t mask = t->cap - 1, i = (size_t)ht_hash(k) & mask;
    for (;;) {
        if (t->vals[i] == INT32_MIN) {
            memcpy(t->keys + 4 * i, k, 4 * sizeof *k);
            t->vals[i] = init;
            t->n++;
            if (created) *created = 1;
            return &t->vals[i];
        }
        const double *q = t->keys + 4 * i;
        if (q[0] == k[0] && q[1] == k[1] && q[2] == k[2] && q[3] == k[3]) {
            if (created) *created = 0;
            return &t->vals[i];
        }
        i = (i + 1) & mask;
    }
}

static int32_t *ht_find(htab *t, const double *k) {
    size_t mask = t->cap - 1, i = (size_t)ht_hash(k) & mask;
    for (;;) {
        if (t->vals[i] == INT32_MIN) return NULL;
        const double *q = t->keys + 4 * i;
        if (q[0] == k[0] && q[1] == k[1] && q[2] == k[2] && q[3] == k[3]) return &t->vals[i];
        i = (i + 1) & mask;
    }
}

static void edge_key(const double *a, const double *b, double k[4]) {
    int a_first = a[0] < b[0] || (a[0] == b[0] && a[1] <= b[1]);
    const double *p = a_first ? a : b, *q = a_first ? b : a;
    k[0] = p[0];
    k[1] = p[1];
    k[2] = q[0];
    k[3] = q[1];
}

static void vert_key(const double *a, double k[4]) {
    k[0] = a[0];
    k[1] = a[1];
    k[2] = k[3] = 0.0;
}

ct_simplifier *ct_simplifier_create(void) {
    ct_simplifier *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->geos = GEOS_init_r();
    if (!s->geos) {
        free(s);
        return NULL;
    }
    return s;
}

void ct_simplifier_destroy(ct_simplifier *s) {
    if (!s) return;
    GEOS_finish_r(s->geos);
    ht_free(&s->edges);
    ht_free(&s->verts);
    free(s->cpts);
    free(s->spts);
    free(s->chains);
    free(s->pieces);
    free(s->refs);
    free(s->ring_refs);
    free(s->fixed);
    free(s->frozen);
    free(s->failed);
    free(s->refusal);
    free(s);
}

const char *ct_simplifier_reason(const ct_simplifier *s) { return s->reason; }

int ct_footprint_copy(const ct_footprint *in, ct_footprint *out) {
    memset(out, 0, sizeof *out);
    out->parts = calloc(in->nparts ? in->nparts : 1, sizeof *out->parts);
    if (!out->parts) return -1;
    for (uint32_t i = 0; i < in->nparts; i++) {
        const ct_polygon *p = &in->parts[i];
        ct_polygon *q = &out->parts[i];
        size_t npts = p->nrings ? p->ring_start[p->nrings] : 0;
        q->ring_start = malloc(((size_t)p->nrings + 1) * sizeof *q->ring_start);
        q->xy = malloc((2 * npts + 1) * sizeof *q->xy);
        out->nparts = i + 1;
        if (!q->ring_start || !q->xy) {
            ct_footprint_free(out);
            return -1;
        }
        q->nrings = p->nrings;
        memcpy(q->ring_start, p->ring_start, ((size_t)p->nrings + 1) * sizeof *q->ring_start);
        memcpy(q->xy, p->xy, 2 * npts * sizeof *q->xy);
    }
    return 0;
}

static size_t footprint_points(const ct_footprint *f) {
    size_t n = 0;
    for (uint32_t i = 0; i < f->nparts; i++)
        if (f->parts[i].nrings) n += f->parts[i].ring_start[f->parts[i].nrings];
    return n;
}

/* 1 valid, 0 invalid, -1 failure. */
static int geos_valid(ct_simplifier *s, const ct_footprint *f) {
    GEOSGeometry *g = ct_geos_from_footprint(s->geos, f);
    if (!g) return -1;
    char v = GEOSisValid_r(s->geos, g);
    GEOSGeom_destroy_r(s->geos, g);
    return v == 1 ? 1 : v == 0 ? 0 : -1;
}

static ct_simplify_result keep_input(const ct_footprint *in, ct_footprint *out) {
    return ct_footprint_copy(in, out) == 0 ? CT_SIMPLIFY_KEPT : CT_SIMPLIFY_NOMEM;
}

ct_simplify_result ct_simplify_footprint(ct_simplifier *s, double tolerance, const ct_footprint *in,
                                         ct_footprint *out) {
    GEOSContextHandle_t h = s->geos;
    memset(out, 0, sizeof *out);
    s->reason[0] = '\0';
    GEOSGeometry *g = ct_geos_from_footprint(h, in);
    if (!g) return CT_SIMPLIFY_NOMEM;
    GEOSGeometry *r = GEOSTopologyPreserveSimplify_r(h, g, tolerance);
    GEOSGeom_destroy_r(h, g);
    if (!r) {
        snprintf(s->reason, sizeof s->reason, "GEOS simplification failed");
        return keep_input(in, out);
    }
    int rc = ct_geos_append_polygons(h, r, out);
    GEOSGeom_destroy_r(h, r);
    if (rc != 0) {
        ct_footprint_free(out);
        return CT_SIMPLIFY_NOMEM;
    }
    int ok = out->nparts == in->nparts;
    for (uint32_t i = 0; ok && i < in->nparts; i++) ok = out->parts[i].nrings == in->parts[i].nrings;
    int v = ok ? geos_valid(s, out) : 0;
    if (v == 1) return CT_SIMPLIFY_OK;
    ct_footprint_free(out);
    if (v < 0) return CT_SIMPLIFY_NOMEM;
    snprintf(s->reason, sizeof s->reason, "simplified footprint lost a ring or is invalid");
    return keep_input(in, out);
}

/* Removes consecutive repeated points of every ring (snapping can make them). */
static void dedup_footprint(ct_footprint *f) {
    for (uint32_t i = 0; i < f->nparts; i++) {
        ct_polygon *p = &f->parts[i];
        uint32_t w = 0;
        for (uint32_t r = 0; r < p->nrings; r++) {
            uint32_t s = p->ring_start[r], n = ct_ring_size(p, r), start = w;
            for (uint32_t k = 0; k < n; k++) {
                const double *q = p->xy + 2 * (size_t)(s + k);
                if (w > start && p->xy[2 * (w - 1)] == q[0] && p->xy[2 * (w - 1) + 1] == q[1]) continue;
                p->xy[2 * w] = q[0];
                p->xy[2 * w + 1] = q[1];
                w++;
            }
            while (w - start > 1 && p->xy[2 * start] == p->xy[2 * (w - 1)] && p->xy[2 * start + 1] == p->xy[2 * (w - 1) + 1])
                w--;
            p->ring_start[r] = start;
        }
        p->ring_start[p->nrings] = w;
    }
}

static int boxes_touch(const double *a, const double *b, double eps) {
    return a[0] <= b[2] + eps && b[0] <= a[2] + eps && a[1] <= b[3] + eps && b[1] <= a[3] + eps;
}

/* Step 1: work[i] = in[i] snapped to its neighbours (earlier ones already snapped);
 * a frozen footprint is not snapped (neighbours still snap to it). */
static ct_simplify_result snap_group(ct_simplifier *s, double snap, const ct_footprint *const *in, size_t n,
                                     const unsigned char *frozen, ct_footprint *work) {
    GEOSContextHandle_t h = s->geos;
    GEOSGeometry **g = calloc(n, sizeof *g);
    double *bb = malloc(4 * n * sizeof *bb);
    GEOSGeometry **nb = calloc(n, sizeof *nb);
    ct_simplify_result res = g && bb && nb ? CT_SIMPLIFY_OK : CT_SIMPLIFY_NOMEM;
    for (size_t i = 0; i < n && res == CT_SIMPLIFY_OK; i++) {
        if (!ct_footprint_bbox(in[i], bb + 4 * i)) memset(bb + 4 * i, 0, 4 * sizeof *bb);
        g[i] = ct_geos_from_footprint(h, in[i]);
        if (!g[i]) res = CT_SIMPLIFY_NOMEM;
    }
    for (size_t i = 0; i < n && res == CT_SIMPLIFY_OK; i++) {
        unsigned nn = 0;
        for (size_t j = 0; j < n && res == CT_SIMPLIFY_OK && !frozen[i]; j++) {
            if (j == i || !boxes_touch(bb + 4 * i, bb + 4 * j, snap)) continue;
            nb[nn] = GEOSGeom_clone_r(h, g[j]);
            if (!nb[nn]) res = CT_SIMPLIFY_NOMEM;
            else nn++;
        }
        GEOSGeometry *snapped = NULL;
        if (res == CT_SIMPLIFY_OK && nn > 0) {
            GEOSGeometry *coll = GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, nb, nn);
            if (!coll) {
                for (unsigned k = 0; k < nn; k++) GEOSGeom_destroy_r(h, nb[k]);
                res = CT_SIMPLIFY_NOMEM;
                break;
            }
            snapped = GEOSSnap_r(h, g[i], coll, snap);
            GEOSGeom_destroy_r(h, coll);
        }
        if (res != CT_SIMPLIFY_OK) break;
        int use = 0;
        if (snapped && GEOSisValid_r(h, snapped) == 1) {
            ct_footprint f = {0, NULL};
            if (ct_geos_append_polygons(h, snapped, &f) != 0) {
                ct_footprint_free(&f);
                GEOSGeom_destroy_r(h, snapped);
                res = CT_SIMPLIFY_NOMEM;
                break;
            }
            use = f.nparts == in[i]->nparts;
            for (uint32_t p = 0; use && p < f.nparts; p++) use = f.parts[p].nrings == in[i]->parts[p].nrings;
            if (use) {
                dedup_footprint(&f);
                work[i] = f;
                GEOSGeom_destroy_r(h, g[i]);
                g[i] = snapped;
                snapped = NULL;
            } else {
                ct_footprint_free(&f);
            }
        }
        if (snapped) GEOSGeom_destroy_r(h, snapped);
        if (!use) {
            if (ct_footprint_copy(in[i], &work[i]) != 0) res = CT_SIMPLIFY_NOMEM;
            else dedup_footprint(&work[i]);
        }
    }
    for (size_t i = 0; g && i < n; i++)
        if (g[i]) GEOSGeom_destroy_r(h, g[i]);
    free(g);
    free(bb);
    free(nb);
    return res;
}

static int add_points(ct_simplifier *s, const double *xy, size_t n) {
    if (!ct_reserve((void **)&s->cpts, &s->cap_cpts, 2 * (s->ncpts + n), sizeof *s->cpts)) return 0;
    memcpy(s->cpts + 2 * s->ncpts, xy, 2 * n * sizeof *xy);
    s->ncpts += n;
    return 1;
}

/* Creates the chain of ring points v[from], v[from+1], ..., `count` points (wrapping
 * around the ring of size rn starting at rs). Returns the chain id or -1 (nomem). */
static int32_t new_chain(ct_simplifier *s, const double *ring, uint32_t rn, uint32_t from, uint32_t count) {
    if (!ct_reserve((void **)&s->chains, &s->cap_chains, s->nchains + 1, sizeof *s->chains)) return -1;
    if (!ct_reserve((void **)&s->cpts, &s->cap_cpts, 2 * (s->ncpts + count), sizeof *s->cpts)) return -1;
    chain *c = &s->chains[s->nchains];
    c->start = (uint32_t)s->ncpts;
    c->n = count;
    for (uint32_t k = 0; k < count; k++) {
        const double *q = ring + 2 * (size_t)((from + k) % rn);
        if (!add_points(s, q, 1)) return -1;
    }
    int32_t id = (int32_t)s->nchains++;
    for (uint32_t k = 0; k + 1 < count; k++) {
        double key[4];
        const double *a = s->cpts + 2 * (size_t)(c->start + k);
        edge_key(a, a + 2, key);
        int32_t *slot = ht_find(&s->edges, key);
        if (slot) *slot = id;
    }
    return id;
}

static int add_ref(ct_simplifier *s, int32_t chain_id, int reversed) {
    if (!ct_reserve((void **)&s->refs, &s->cap_refs, s->nrefs + 1, sizeof *s->refs)) return 0;
    s->refs[s->nrefs].chain = chain_id;
    s->refs[s->nrefs].reversed = reversed;
    s->nrefs++;
    return 1;
}

/* Finds or creates the chain that starts with ring points v[from], v[from+1] and has
 * `count` points, and adds a reference to it. Returns 0 or -1 (nomem). */
static int use_chain(ct_simplifier *s, const double *ring, uint32_t rn, uint32_t from, uint32_t count) {
    const double *a = ring + 2 * (size_t)(from % rn), *b = ring + 2 * (size_t)((from + 1) % rn);
    double key[4];
    edge_key(a, b, key);
    int32_t *slot = ht_find(&s->edges, key);
    if (slot && *slot >= 0) {
        const chain *c = &s->chains[*slot];
        const double *c0 = s->cpts + 2 * (size_t)c->start;
        int forward = c0[0] == a[0] && c0[1] == a[1] && c0[2] == b[0] && c0[3] == b[1];
        return add_ref(s, *slot, !forward) ? 0 : -1;
    }
    int32_t id = new_chain(s, ring, rn, from, count);
    if (id < 0) return -1;
    return add_ref(s, id, 0) ? 0 : -1;
}

/* Step 2: the edge graph, chains and each ring's chain references. Returns 0, 1 when
 * a ring has fewer than 3 points, -1 when out of memory. */
static int build_chains(ct_simplifier *s, const ct_footprint *work, size_t n) {
    size_t total = 0;
    for (size_t i = 0; i < n; i++) total += footprint_points(&work[i]);
    s->ncpts = s->nchains = s->nrefs = s->nrings = 0;
    if (!ht_init(&s->edges, total) || !ht_init(&s->verts, total)) return -1;
    for (size_t i = 0; i < n; i++)
        for (uint32_t p = 0; p < work[i].nparts; p++) {
            const ct_polygon *pl = &work[i].parts[p];
            for (uint32_t r = 0; r < pl->nrings; r++) {
                const double *ring = pl->xy + 2 * (size_t)pl->ring_start[r];
                uint32_t rn = ct_ring_size(pl, r);
                if (rn < 3) return 1;
                for (uint32_t k = 0; k < rn; k++) {
                    const double *a = ring + 2 * (size_t)k, *b = ring + 2 * (size_t)((k + 1) % rn);
                    double key[4];
                    int created = 0;
                    edge_key(a, b, key);
                    ht_slot(&s->edges, key, -1, &created);
                    if (!created) continue;
                    vert_key(a, key);
                    (*ht_slot(&s->verts, key, 0, NULL))++;
                    vert_key(b, key);
                    (*ht_slot(&s->verts, key, 0, NULL))++;
                }
            }
        }
    for (size_t i = 0; i < n; i++)
        for (uint32_t p = 0; p < work[i].nparts; p++) {
            const ct_polygon *pl = &work[i].parts[p];
            for (uint32_t r = 0; r < pl->nrings; r++) {
                const double *ring = pl->xy + 2 * (size_t)pl->ring_start[r];
                uint32_t rn = ct_ring_size(pl, r);
                if (!ct_reserve((void **)&s->ring_refs, &s->cap_rings, s->nrings + 2, sizeof *s->ring_refs)) return -1;
                s->ring_refs[s->nrings++] = (uint32_t)s->nrefs;
                /* Nodes: vertices of degree != 2. */
                uint32_t first_node = UINT32_MAX;
                for (uint32_t k = 0; k < rn && first_node == UINT32_MAX; k++) {
                    double key[4];
                    vert_key(ring + 2 * (size_t)k, key);
                    if (*ht_find(&s->verts, key) != 2) first_node = k;
                }
                if (first_node == UINT32_MAX) {
                    /* No node: one closed chain from the lexicographically smallest vertex, so
                     * two rings with the same points (a courtyard filled by another
                     * building) find the same chain. */
                    uint32_t m = 0;
                    for (uint32_t k = 1; k < rn; k++) {
                        const double *q = ring + 2 * (size_t)k, *b = ring + 2 * (size_t)m;
                        if (q[0] < b[0] || (q[0] == b[0] && q[1] < b[1])) m = k;
                    }
                    double key[4];
                    edge_key(ring + 2 * (size_t)m, ring + 2 * (size_t)((m + 1) % rn), key);
                    int32_t *slot = ht_find(&s->edges, key);
                    if (slot && *slot >= 0) {
                        /* Reuse, and reverse when the other ring went the other way. */
                        const chain *c = &s->chains[*slot];
                        const double *c1 = s->cpts + 2 * (size_t)(c->start + 1);
                        const double *v1 = ring + 2 * (size_t)((m + 1) % rn);
                        if (!add_ref(s, *slot, !(c1[0] == v1[0] && c1[1] == v1[1]))) return -1;
                    } else if (use_chain(s, ring, rn, m, rn + 1) != 0) {
                        return -1;
                    }
                    continue;
                }
                uint32_t k = first_node;
                do {
                    uint32_t len = 1;
                    for (;;) {
                        double key[4];
                        vert_key(ring + 2 * (size_t)((k + len) % rn), key);
                        if (*ht_find(&s->verts, key) != 2) break;
                        len++;
                    }
                    if (use_chain(s, ring, rn, k, len + 1) != 0) return -1;
                    k = (k + len) % rn;
                } while (k != first_node);
            }
        }
    s->ring_refs[s->nrings] = (uint32_t)s->nrefs;
    return 0;
}

/* Marks the chains a frozen footprint uses (rings in build_chains' order). Returns 0 or
 * -1 (nomem). */
static int mark_fixed(ct_simplifier *s, const ct_footprint *work, size_t n, const unsigned char *frozen) {
    if (!ct_reserve((void **)&s->fixed, &s->cap_fixed, s->nchains + 1, sizeof *s->fixed)) return -1;
    memset(s->fixed, 0, (s->nchains + 1) * sizeof *s->fixed);
    size_t ring = 0;
    for (size_t i = 0; i < n; i++)
        for (uint32_t p = 0; p < work[i].nparts; p++)
            for (uint32_t r = 0; r < work[i].parts[p].nrings; r++, ring++)
                for (uint32_t f = s->ring_refs[ring]; frozen[i] && f < s->ring_refs[ring + 1]; f++)
                    s->fixed[s->refs[f].chain] = 1;
    return 0;
}

/* Step 3: cut chains into pieces and simplify all pieces with one GEOS call. */
static ct_simplify_result simplify_chains(ct_simplifier *s, double tolerance) {
    GEOSContextHandle_t h = s->geos;
    s->npieces = 0;
    for (size_t c = 0; c < s->nchains; c++) {
        chain *ch = &s->chains[c];
        const double *p0 = s->cpts + 2 * (size_t)ch->start, *pn = s->cpts + 2 * (size_t)(ch->start + ch->n - 1);
        uint32_t cuts[4] = {0, ch->n - 1, 0, 0}, ncut = 2;
        if (p0[0] == pn[0] && p0[1] == pn[1] && ch->n >= 4) {
            uint32_t m = ch->n - 1;
            cuts[1] = m / 3;
            cuts[2] = 2 * m / 3;
            cuts[3] = m;
            ncut = 4;
        }
        if (!ct_reserve((void **)&s->pieces, &s->cap_pieces, s->npieces + ncut, sizeof *s->pieces)) return CT_SIMPLIFY_NOMEM;
        ch->piece0 = (uint32_t)s->npieces;
        ch->npieces = ncut - 1;
        for (uint32_t k = 0; k + 1 < ncut; k++) {
            piece *pc = &s->pieces[s->npieces++];
            pc->start = ch->start + cuts[k];
            pc->n = cuts[k + 1] - cuts[k] + 1;
            pc->fixed = s->fixed[c];
        }
    }
    GEOSGeometry **lines = calloc(s->npieces ? s->npieces : 1, sizeof *lines);
    if (!lines) return CT_SIMPLIFY_NOMEM;
    size_t made = 0;
    for (; made < s->npieces; made++) {
        const piece *pc = &s->pieces[made];
        GEOSCoordSequence *seq = GEOSCoordSeq_copyFromBuffer_r(h, s->cpts + 2 * (size_t)pc->start, pc->n, 0, 0);
        lines[made] = seq ? GEOSGeom_createLineString_r(h, seq) : NULL;
        if (!lines[made]) break;
    }
    if (made < s->npieces) {
        for (size_t k = 0; k < made; k++) GEOSGeom_destroy_r(h, lines[k]);
        free(lines);
        return CT_SIMPLIFY_NOMEM;
    }
    GEOSGeometry *mls = GEOSGeom_createCollection_r(h, GEOS_MULTILINESTRING, lines, (unsigned)s->npieces);
    if (!mls) {
        for (size_t k = 0; k < made; k++) GEOSGeom_destroy_r(h, lines[k]);
        free(lines);
        return CT_SIMPLIFY_NOMEM;
    }
    free(lines);
    GEOSGeometry *res = GEOSTopologyPreserveSimplify_r(h, mls, tolerance);
    GEOSGeom_destroy_r(h, mls);
    if (!res) {
        snprintf(s->reason, sizeof s->reason, "GEOS simplification of the shared walls failed");
        return CT_SIMPLIFY_KEPT;
    }
    ct_simplify_result out = CT_SIMPLIFY_OK;
    if ((size_t)GEOSGetNumGeometries_r(h, res) != s->npieces) {
        snprintf(s->reason, sizeof s->reason, "GEOS returned %d walls for %zu", GEOSGetNumGeometries_r(h, res),
                 s->npieces);
        out = CT_SIMPLIFY_KEPT;
    }
    s->nspts = 0;
    for (size_t k = 0; k < s->npieces && out == CT_SIMPLIFY_OK; k++) {
        const GEOSGeometry *ln = GEOSGetGeometryN_r(h, res, (int)k);
        const GEOSCoordSequence *cs = ln ? GEOSGeom_getCoordSeq_r(h, ln) : NULL;
        unsigned int sz = 0;
        if (!cs || !GEOSCoordSeq_getSize_r(h, cs, &sz) || sz < 2) {
            snprintf(s->reason, sizeof s->reason, "a wall collapsed");
            out = CT_SIMPLIFY_KEPT;
            break;
        }
        if (!ct_reserve((void **)&s->spts, &s->cap_spts, 2 * (s->nspts + sz), sizeof *s->spts)) {
            out = CT_SIMPLIFY_NOMEM;
            break;
        }
        piece *pc = &s->pieces[k];
        if (pc->fixed) {
            /* GEOS simplified it with the others; its input goes back (a neighbour that
             * now crosses it is caught by the checks). */
            if (!ct_reserve((void **)&s->spts, &s->cap_spts, 2 * (s->nspts + pc->n), sizeof *s->spts)) {
                out = CT_SIMPLIFY_NOMEM;
                break;
            }
            memcpy(s->spts + 2 * s->nspts, s->cpts + 2 * (size_t)pc->start, 2 * (size_t)pc->n * sizeof *s->spts);
            sz = pc->n;
        } else {
            GEOSCoordSeq_copyToBuffer_r(h, cs, s->spts + 2 * s->nspts, 0, 0);
        }
        /* Endpoints must be the chain's (they are what neighbours share). */
        const double *a = s->cpts + 2 * (size_t)pc->start, *b = s->cpts + 2 * (size_t)(pc->start + pc->n - 1);
        const double *sa = s->spts + 2 * s->nspts, *sb = s->spts + 2 * (s->nspts + sz - 1);
        if (sa[0] != a[0] || sa[1] != a[1] || sb[0] != b[0] || sb[1] != b[1]) {
            snprintf(s->reason, sizeof s->reason, "GEOS moved the end of a wall");
            out = CT_SIMPLIFY_KEPT;
            break;
        }
        pc->out_start = (uint32_t)s->nspts;
        pc->out_n = sz;
        s->nspts += sz;
    }
    GEOSGeom_destroy_r(h, res);
    return out;
}

/* Step 4: rebuild every footprint from its rings' chains. */
static ct_simplify_result rebuild(ct_simplifier *s, const ct_footprint *work, size_t n, ct_footprint *out) {
    double *buf = NULL;
    size_t cap = 0;
    size_t ring = 0;
    ct_simplify_result res = CT_SIMPLIFY_OK;
    for (size_t i = 0; i < n && res == CT_SIMPLIFY_OK; i++) {
        out[i].parts = calloc(work[i].nparts ? work[i].nparts : 1, sizeof *out[i].parts);
        if (!out[i].parts) { res = CT_SIMPLIFY_NOMEM; break; }
        for (uint32_t p = 0; p < work[i].nparts && res == CT_SIMPLIFY_OK; p++) {
            const ct_polygon *wp = &work[i].parts[p];
            size_t npts = 0;
            uint32_t *starts = malloc(((size_t)wp->nrings + 1) * sizeof *starts);
            if (!starts) { res = CT_SIMPLIFY_NOMEM; break; }
            for (uint32_t r = 0; r < wp->nrings && res == CT_SIMPLIFY_OK; r++, ring++) {
                starts[r] = (uint32_t)npts;
                size_t before = npts;
                for (uint32_t f = s->ring_refs[ring]; f < s->ring_refs[ring + 1] && res == CT_SIMPLIFY_OK; f++) {
                    const ref *rf = &s->refs[f];
                    const chain *ch = &s->chains[rf->chain];
                    for (uint32_t k = 0; k < ch->npieces; k++) {
                        const piece *pc = &s->pieces[rf->reversed ? ch->piece0 + ch->npieces - 1 - k : ch->piece0 + k];
                        if (!ct_reserve((void **)&buf, &cap, 2 * (npts + pc->out_n), sizeof *buf)) {
                            res = CT_SIMPLIFY_NOMEM;
                            break;
                        }
                        for (uint32_t q = 0; q < pc->out_n; q++) {
                            uint32_t j = rf->reversed ? pc->out_n - 1 - q : q;
                            const double *pt = s->spts + 2 * (size_t)(pc->out_start + j);
                            if (q == 0 && npts > before) continue; /* the previous piece ended here */
                            buf[2 * npts] = pt[0];
                            buf[2 * npts + 1] = pt[1];
                            npts++;
                        }
                    }
                }
                if (res != CT_SIMPLIFY_OK) break;
                /* Drop the closing point. */
                if (npts - before > 1 && buf[2 * before] == buf[2 * (npts - 1)] &&
                    buf[2 * before + 1] == buf[2 * (npts - 1) + 1])
                    npts--;
                if (npts - before < 3) {
                    snprintf(s->reason, sizeof s->reason, "a ring collapsed");
                    res = CT_SIMPLIFY_KEPT;
                }
            }
            if (res != CT_SIMPLIFY_OK) {
                free(starts);
                break;
            }
            starts[wp->nrings] = (uint32_t)npts;
            ct_polygon *op = &out[i].parts[out[i].nparts];
            op->ring_start = starts;
            op->xy = malloc((2 * npts + 1) * sizeof *op->xy);
            if (!op->xy) {
                free(starts);
                op->ring_start = NULL;
                res = CT_SIMPLIFY_NOMEM;
                break;
            }
            memcpy(op->xy, buf, 2 * npts * sizeof *buf);
            op->nrings = wp->nrings;
            out[i].nparts++;
            /* Rings keep their orientation (a flip means the ring folded over). */
            for (uint32_t r = 0; r < wp->nrings; r++) {
                double a0 = ct_ring_signed_area(wp, r), a1 = ct_ring_signed_area(op, r);
                if (!(a0 * a1 > 0)) {
                    snprintf(s->reason, sizeof s->reason, "a ring collapsed or flipped");
                    res = CT_SIMPLIFY_KEPT;
                }
            }
        }
    }
    free(buf);
    for (size_t i = 0; i < n && res == CT_SIMPLIFY_OK; i++) {
        int v = geos_valid(s, &out[i]);
        if (v < 0) res = CT_SIMPLIFY_NOMEM;
        else if (v == 0) {
            snprintf(s->reason, sizeof s->reason, "a simplified footprint is invalid");
            res = CT_SIMPLIFY_KEPT;
        }
    }
    return res;
}

/* One pass of steps 1-4 with the footprints frozen[] kept as they are. */
static ct_simplify_result simplify_pass(ct_simplifier *s, double tolerance, double snap_tolerance,
                                        const ct_footprint *const *in, size_t n, const unsigned char *frozen,
                                        ct_footprint *work, ct_footprint *out) {
    for (size_t i = 0; i < n; i++) {
        memset(&work[i], 0, sizeof work[i]);
        memset(&out[i], 0, sizeof out[i]);
    }
    ct_simplify_result res = snap_group(s, snap_tolerance, in, n, frozen, work);
    if (res == CT_SIMPLIFY_OK) {
        int rc = build_chains(s, work, n);
        if (rc == 0) rc = mark_fixed(s, work, n, frozen);
        if (rc < 0) res = CT_SIMPLIFY_NOMEM;
        else if (rc > 0) {
            snprintf(s->reason, sizeof s->reason, "a ring has fewer than 3 distinct points");
            res = CT_SIMPLIFY_KEPT;
        }
    }
    if (res == CT_SIMPLIFY_OK) res = simplify_chains(s, tolerance);
    if (res == CT_SIMPLIFY_OK) res = rebuild(s, work, n, out);
    for (size_t i = 0; i < n; i++) ct_footprint_free(&work[i]);
    if (res != CT_SIMPLIFY_OK)
        for (size_t i = 0; i < n; i++) ct_footprint_free(&out[i]);
    return res;
}

/* Passes after which a group still refusing footprints keeps its input whole. */
#define MAX_PASSES 8

ct_simplify_result ct_simplify_group(ct_simplifier *s, double tolerance, double snap_tolerance,
                                     const ct_footprint *const *in, size_t n, ct_footprint *out,
                                     unsigned char *kept) {
    for (size_t i = 0; i < n; i++) {
        memset(&out[i], 0, sizeof out[i]);
        if (kept) kept[i] = 0;
    }
    s->reason[0] = '\0';
    if (n == 1) return ct_simplify_footprint(s, tolerance, in[0], &out[0]);
    ct_footprint *work = calloc(n ? n : 1, sizeof *work);
    if (!work || !ct_reserve((void **)&s->frozen, &s->cap_frozen, n, sizeof *s->frozen) ||
        !ct_reserve((void **)&s->failed, &s->cap_failed, n, sizeof *s->failed) ||
        !ct_reserve((void **)&s->refusal, &s->cap_refusal, n, sizeof *s->refusal)) {
        free(work);
        return CT_SIMPLIFY_NOMEM;
    }
    memset(s->frozen, 0, n * sizeof *s->frozen);
    /* A footprint whose result breaks a promise of the README (moved beyond tolerance,
     * area, a new overlap) is frozen: the group is simplified again with it kept as its
     * input, its walls not snapped nor simplified, so its neighbours still match it. */
    ct_simplify_result res = CT_SIMPLIFY_OK;
    for (int pass = 0;; pass++) {
        res = simplify_pass(s, tolerance, snap_tolerance, in, n, s->frozen, work, out);
        if (res != CT_SIMPLIFY_OK) break;
        memset(s->failed, 0, n * sizeof *s->failed);
        long bad = ct_simplify_check(s->geos, tolerance, in, out, n, s->frozen, s->failed, s->refusal);
        if (bad == 0) break;
        for (size_t i = 0; i < n; i++) ct_footprint_free(&out[i]);
        if (bad < 0) {
            res = CT_SIMPLIFY_NOMEM;
            break;
        }
        if (pass + 1 == MAX_PASSES) {
            snprintf(s->reason, sizeof s->reason, "footprints still refused after %d passes", MAX_PASSES);
            res = CT_SIMPLIFY_KEPT;
            break;
        }
        for (size_t i = 0; i < n; i++) s->frozen[i] |= s->failed[i];
    }
    free(work);
    if (res == CT_SIMPLIFY_OK) {
        /* A frozen footprint gets its input exactly (its rebuilt rings lost repeated points). */
        for (size_t i = 0; i < n; i++) {
            if (!s->frozen[i]) continue;
            if (kept) kept[i] = 1;
            ct_footprint_free(&out[i]);
            if (ct_footprint_copy(in[i], &out[i]) != 0) res = CT_SIMPLIFY_NOMEM;
        }
        if (res == CT_SIMPLIFY_OK) return res;
    }
    for (size_t i = 0; i < n; i++) ct_footprint_free(&out[i]);
    if (res == CT_SIMPLIFY_NOMEM) return res;
    for (size_t i = 0; i < n; i++)
        if (ct_footprint_copy(in[i], &out[i]) != 0) {
            for (size_t j = 0; j <= i; j++) ct_footprint_free(&out[j]);
            return CT_SIMPLIFY_NOMEM;
        }
    return CT_SIMPLIFY_KEPT;
}

const char *ct_simplifier_refusal(const ct_simplifier *s, size_t i, const char **detail, size_t *neighbour) {
    const ct_simplify_refusal *r = &s->refusal[i];
    if (detail) *detail = r->detail;
    if (neighbour) *neighbour = r->other;
    return r->why;
}

/* ---- grouping ------------------------------------------------------------------ */

static size_t uf_find(size_t *parent, size_t i) {
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    return i;
}

typedef struct sort_item {
    double key;
    size_t i;
} sort_item;

static int cmp_sort_item(const void *a, const void *b) {
    const sort_item *p = a, *q = b;
    if (p->key != q->key) return p->key < q->key ? -1 : 1;
    return (p->i > q->i) - (p->i < q->i);
}

size_t ct_bbox_groups(const double *bbox, size_t n, double eps, size_t *members, size_t *start) {
    size_t *parent = malloc((n ? n : 1) * sizeof *parent);
    sort_item *order = malloc((n ? n : 1) * sizeof *order);
    size_t *count = calloc(n + 1, sizeof *count);
    if (!parent || !order || !count) {
        free(parent);
        free(order);
        free(count);
        return (size_t)-1;
    }
    for (size_t i = 0; i < n; i++) {
        parent[i] = i;
        order[i].key = bbox[4 * i];
        order[i].i = i;
    }
    qsort(order, n, sizeof *order, cmp_sort_item);
    /* Sweep along x: only boxes starting before this one ends can touch it. */
    for (size_t a = 0; a < n; a++) {
        const double *ba = bbox + 4 * order[a].i;
        for (size_t b = a + 1; b < n && order[b].key <= ba[2] + eps; b++) {
            if (!boxes_touch(ba, bbox + 4 * order[b].i, eps)) continue;
            size_t ra = uf_find(parent, order[a].i), rb = uf_find(parent, order[b].i);
            if (ra != rb) parent[ra > rb ? ra : rb] = ra < rb ? ra : rb; /* root = smallest index */
        }
    }
    /* The root of each group is its smallest member: groups ordered by first member.
     * count[] holds the roots, then parent[] is reused as each group's write position. */
    for (size_t i = 0; i < n; i++) count[i] = uf_find(parent, i);
    size_t ngroups = 0, pos = 0;
    for (size_t i = 0; i < n; i++) parent[i] = 0;
    for (size_t i = 0; i < n; i++) parent[count[i]]++; /* group sizes, at the roots */
    for (size_t i = 0; i < n; i++) {
        if (count[i] != i) continue;
        size_t size = parent[i];
        start[ngroups++] = pos;
        parent[i] = pos;
        pos += size;
    }
    start[ngroups] = n;
    for (size_t i = 0; i < n; i++) members[parent[count[i]]++] = i;
    free(parent);
    free(order);
    free(count);
    return ngroups;
}
