/* Footprint repair. Vertex rules (repeated, spike, collinear) are a small worklist over
 * a circular linked list of each ring, so every removal re-checks its two neighbours and
 * the whole pass is linear in the number of vertices. Validity and repair are GEOS's:
 * GEOSisValidDetail, then GEOSMakeValidWithParams with the "structure" method (shells
 * unioned, holes subtracted, so a hole outside its shell vanishes instead of becoming a
 * new part: within_shells makes sure of it) and collapsed parts dropped (keepCollapsed =
 * 0: only polygons survive). A footprint whose rings nearly touch is then snap-rounded
 * (snap_near_rings). */
#include <geos_c.h> /* before clean.h: enables its GEOS conversion declarations */

#include "citytiler/clean.h"
#include "geom/box_pairs.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CT_PI 3.14159265358979323846

struct ct_cleaner {
    GEOSContextHandle_t geos;
    GEOSMakeValidParams *mv;
    const char *reason;
    char kind[128];
    char detail[256];
    /* Scratch for the ring worklist. */
    uint32_t *prev, *next, *stack;
    unsigned char *state; /* bit 0: removed, bit 1: queued, bit 2: removed as a spike tip */
    size_t cap;
};

static const char *const flag_tokens[CT_CLEAN_NFLAGS] = {
    "made_valid", "repeated_vertices", "collinear_vertices", "spikes", "degenerate_rings", "orientation", "small_parts",
    "snapped_rings",
};
static const char *const flag_reasons[CT_CLEAN_NFLAGS] = {
    "clean: made valid",              /* the stage appends the GEOS reason */
    "clean: repeated vertices removed",
    "clean: collinear vertices removed",
    "clean: spikes removed",
    "clean: rings without area dropped",
    "clean: ring orientation fixed",
    "clean: parts below min_area dropped",
    "clean: nearly touching rings made to touch",
};

const char *ct_clean_flag_token(unsigned i) { return i < CT_CLEAN_NFLAGS ? flag_tokens[i] : ""; }
const char *ct_clean_flag_reason(unsigned i) { return i < CT_CLEAN_NFLAGS ? flag_reasons[i] : ""; }

void ct_clean_options_default(ct_clean_options *o) {
    o->make_valid = 1;
    o->duplicate_tolerance = 0.001;
    o->collinear_tolerance = 0.001;
    o->spike_angle = 1.0;
    o->min_area = 1.0;
}

ct_cleaner *ct_cleaner_create(void) {
    ct_cleaner *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->geos = GEOS_init_r();
    if (!c->geos) {
        free(c);
        return NULL;
    }
    c->mv = GEOSMakeValidParams_create_r(c->geos);
    if (!c->mv || !GEOSMakeValidParams_setMethod_r(c->geos, c->mv, GEOS_MAKE_VALID_STRUCTURE) ||
        !GEOSMakeValidParams_setKeepCollapsed_r(c->geos, c->mv, 0)) {
        ct_cleaner_destroy(c);
        return NULL;
    }
    return c;
}

void ct_cleaner_destroy(ct_cleaner *c) {
    if (!c) return;
    if (c->mv) GEOSMakeValidParams_destroy_r(c->geos, c->mv);
    GEOS_finish_r(c->geos);
    free(c->prev);
    free(c->next);
    free(c->stack);
    free(c->state);
    free(c);
}

const char *ct_cleaner_reason(const ct_cleaner *c) { return c->reason ? c->reason : ""; }
const char *ct_cleaner_invalid_kind(const ct_cleaner *c) { return c->kind; }
const char *ct_cleaner_invalid_detail(const ct_cleaner *c) { return c->detail; }

/* ---- GEOS conversions ---------------------------------------------------------- */

static GEOSGeometry *ring_to_geos(GEOSContextHandle_t h, const double *xy, uint32_t n) {
    double *buf = malloc(2 * ((size_t)n + 1) * sizeof *buf);
    if (!buf) return NULL;
    memcpy(buf, xy, 2 * (size_t)n * sizeof *buf);
    buf[2 * n] = xy[0];
    buf[2 * n + 1] = xy[1];
    GEOSCoordSequence *seq = GEOSCoordSeq_copyFromBuffer_r(h, buf, n + 1, 0, 0);
    free(buf);
    return seq ? GEOSGeom_createLinearRing_r(h, seq) : NULL;
}

GEOSGeometry *ct_geos_from_polygon(GEOSContextHandle_t h, const ct_polygon *p) {
    if (p->nrings == 0) return GEOSGeom_createEmptyPolygon_r(h);
    GEOSGeometry *shell = ring_to_geos(h, p->xy + 2 * (size_t)p->ring_start[0], ct_ring_size(p, 0));
    if (!shell) return NULL;
    GEOSGeometry **holes = NULL;
    uint32_t nh = p->nrings - 1;
    if (nh) {
        holes = calloc(nh, sizeof *holes);
        if (!holes) {
            GEOSGeom_destroy_r(h, shell);
            return NULL;
        }
    }
    int ok = 1;
    for (uint32_t r = 1; r < p->nrings && ok; r++) {
        holes[r - 1] = ring_to_geos(h, p->xy + 2 * (size_t)p->ring_start[r], ct_ring_size(p, r));
        ok = holes[r - 1] != NULL;
    }
    GEOSGeometry *poly = ok ? GEOSGeom_createPolygon_r(h, shell, holes, nh) : NULL;
    if (!poly) {
        GEOSGeom_destroy_r(h, shell);
        for (uint32_t r = 0; r < nh; r++)
            if (holes[r]) GEOSGeom_destroy_r(h, holes[r]);
    }
    free(holes);
    return poly;
}

GEOSGeometry *ct_geos_from_footprint(GEOSContextHandle_t h, const ct_footprint *f) {
    GEOSGeometry **polys = calloc(f->nparts ? f->nparts : 1, sizeof *polys);
    if (!polys) return NULL;
    int ok = 1;
    for (uint32_t i = 0; i < f->nparts && ok; i++) {
        polys[i] = ct_geos_from_polygon(h, &f->parts[i]);
        ok = polys[i] != NULL;
    }
    GEOSGeometry *mp = ok ? GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, polys, f->nparts) : NULL;
    if (!mp)
        for (uint32_t i = 0; i < f->nparts; i++)
            if (polys[i]) GEOSGeom_destroy_r(h, polys[i]);
    free(polys);
    return mp;
}

/* Converts a GEOS polygon (non-empty) into *out. Returns 0 or -1. */
static int polygon_from_geos(GEOSContextHandle_t h, const GEOSGeometry *g, ct_polygon *out) {
    memset(out, 0, sizeof *out);
    int nh = GEOSGetNumInteriorRings_r(h, g);
    if (nh < 0) return -1;
    uint32_t nr = (uint32_t)nh + 1, total = 0;
    const GEOSGeometry **rings = malloc(nr * sizeof *rings);
    out->ring_start = malloc(((size_t)nr + 1) * sizeof *out->ring_start);
    if (!rings || !out->ring_start) goto fail;
    for (uint32_t r = 0; r < nr; r++) {
        rings[r] = r == 0 ? GEOSGetExteriorRing_r(h, g) : GEOSGetInteriorRingN_r(h, g, (int)r - 1);
        const GEOSCoordSequence *cs = rings[r] ? GEOSGeom_getCoordSeq_r(h, rings[r]) : NULL;
        unsigned int sz = 0;
        if (!cs || !GEOSCoordSeq_getSize_r(h, cs, &sz)) goto fail;
        total += sz;
    }
    out->xy = malloc(2 * ((size_t)total + 1) * sizeof *out->xy);
    if (!out->xy) goto fail;
    uint32_t used = 0, kept = 0;
    for (uint32_t r = 0; r < nr; r++) {
        const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(h, rings[r]);
        unsigned int sz = 0;
        GEOSCoordSeq_getSize_r(h, cs, &sz);
        if (sz < 4) {
            if (r == 0) goto fail; /* cannot happen for a non-empty valid polygon */
            continue;
        }
        if (!GEOSCoordSeq_copyToBuffer_r(h, cs, out->xy + 2 * (size_t)used, 0, 0)) goto fail;
        out->ring_start[kept++] = used;
        used += sz - 1; /* drop the closing point */
    }
    out->ring_start[kept] = used;
    out->nrings = kept;
    free(rings);
    return 0;
fail:
    free(rings);
    ct_polygon_free(out);
    return -1;
}

int ct_geos_append_polygons(GEOSContextHandle_t h, const GEOSGeometry *g, ct_footprint *out) {
    int type = GEOSGeomTypeId_r(h, g);
    if (type == GEOS_POLYGON) {
        if (GEOSisEmpty_r(h, g)) return 0;
        ct_polygon *parts = realloc(out->parts, ((size_t)out->nparts + 1) * sizeof *parts);
        if (!parts) return -1;
        out->parts = parts;
        if (polygon_from_geos(h, g, &parts[out->nparts]) != 0) return -1;
        out->nparts++;
        return 0;
    }
    if (type == GEOS_MULTIPOLYGON || type == GEOS_GEOMETRYCOLLECTION) {
        int n = GEOSGetNumGeometries_r(h, g);
        for (int i = 0; i < n; i++)
            if (ct_geos_append_polygons(h, GEOSGetGeometryN_r(h, g, i), out) != 0) return -1;
    }
    return 0;
}

/* ---- vertex rules ------------------------------------------------------------- */

static int reserve(ct_cleaner *c, size_t n) {
    if (n <= c->cap) return 1;
    size_t cap = c->cap ? c->cap : 64;
    while (cap < n) cap *= 2;
    uint32_t *p = realloc(c->prev, cap * sizeof *p);
    if (!p) return 0;
    c->prev = p;
    p = realloc(c->next, cap * sizeof *p);
    if (!p) return 0;
    c->next = p;
    p = realloc(c->stack, cap * sizeof *p);
    if (!p) return 0;
    c->stack = p;
    unsigned char *s = realloc(c->state, cap);
    if (!s) return 0;
    c->state = s;
    c->cap = cap;
    return 1;
}

/* Vertices already removed between p and q (in ring order) stay within tol of the
 * segment p-q, so removals cannot add up along a gentle curve (a 1e5-vertex circle
 * must not become a hexagon). Runs longer than CT_CLEAN_MAX_RUN are not extended,
 * which keeps the pass linear. */
#define CT_CLEAN_MAX_RUN 256
static int removed_within(const double *xy, const unsigned char *st, uint32_t n, uint32_t p, uint32_t q, double tol) {
    uint32_t run = (q + n - p - 1) % n;
    if (run > CT_CLEAN_MAX_RUN) return 0;
    double px = xy[2 * p], py = xy[2 * p + 1], ex = xy[2 * q] - px, ey = xy[2 * q + 1] - py;
    double len = sqrt(ex * ex + ey * ey);
    for (uint32_t k = (p + 1) % n; k != q; k = (k + 1) % n) {
        if (st[k] & 4) continue; /* a spike tip: cut off on purpose */
        double cross = ex * (xy[2 * k + 1] - py) - ey * (xy[2 * k] - px);
        if (fabs(cross) > tol * len) return 0;
    }
    return 1;
}

/* Cleans one ring of n points into out (room for n points). Returns the number of
 * points kept (< 3: the ring has no area). Sets CT_CLEAN_* bits in *flags. */
static uint32_t clean_ring(ct_cleaner *c, const ct_clean_options *o, const double *xy, uint32_t n, double *out,
                           unsigned *flags) {
    uint32_t *prev = c->prev, *next = c->next, *stack = c->stack;
    unsigned char *st = c->state;
    double dup2 = o->duplicate_tolerance * o->duplicate_tolerance;
    double cos_spike = cos(o->spike_angle * CT_PI / 180.0);
    uint32_t sp = 0, alive = n;
    for (uint32_t i = 0; i < n; i++) {
        prev[i] = i ? i - 1 : n - 1;
        next[i] = i + 1 < n ? i + 1 : 0;
        st[i] = 2;
        stack[sp++] = n - 1 - i; /* pop order 0, 1, 2, ... */
    }
    while (sp > 0 && alive >= 3) {
        uint32_t i = stack[--sp];
        st[i] &= (unsigned char)~2u;
        if (st[i] & 1) continue;
        uint32_t p = prev[i], q = next[i];
        double ax = xy[2 * p] - xy[2 * i], ay = xy[2 * p + 1] - xy[2 * i + 1];
        double bx = xy[2 * q] - xy[2 * i], by = xy[2 * q + 1] - xy[2 * i + 1];
        double la2 = ax * ax + ay * ay, lb2 = bx * bx + by * by;
        unsigned why = 0;
        if (la2 <= dup2) {
            why = CT_CLEAN_REPEATED;
        } else if (lb2 > dup2) {
            double dot = ax * bx + ay * by, cross = ax * by - ay * bx;
            double cosang = dot / sqrt(la2 * lb2);
            if (o->spike_angle > 0 && cosang > cos_spike) {
                why = CT_CLEAN_SPIKE;
            } else if (dot < 0) {
                double cx = xy[2 * q] - xy[2 * p], cy = xy[2 * q + 1] - xy[2 * p + 1];
                double chord = sqrt(cx * cx + cy * cy);
                if (fabs(cross) <= o->collinear_tolerance * chord &&
                    removed_within(xy, st, n, p, q, o->collinear_tolerance))
                    why = CT_CLEAN_COLLINEAR;
            }
        }
        if (!why) continue;
        *flags |= why;
        st[i] |= why == CT_CLEAN_SPIKE ? 5 : 1;
        alive--;
        next[p] = q;
        prev[q] = p;
        if (!(st[p] & 2)) { st[p] |= 2; stack[sp++] = p; }
        if (!(st[q] & 2)) { st[q] |= 2; stack[sp++] = q; }
    }
    if (alive < 3) return alive;
    uint32_t first = 0;
    while (st[first] & 1) first++;
    uint32_t m = 0, i = first;
    do {
        out[2 * m] = xy[2 * i];
        out[2 * m + 1] = xy[2 * i + 1];
        m++;
        i = next[i];
    } while (i != first);
    return m;
}

/* Applies the vertex rules to every ring of `in` into *out (new). Rings left with no
 * area are dropped (a part whose shell has none is dropped). Returns 0 or -1 (nomem). */
static int vertex_rules(ct_cleaner *c, const ct_clean_options *o, const ct_footprint *in, ct_footprint *out,
                        unsigned *flags) {
    memset(out, 0, sizeof *out);
    out->parts = calloc(in->nparts ? in->nparts : 1, sizeof *out->parts);
    if (!out->parts) return -1;
    for (uint32_t i = 0; i < in->nparts; i++) {
        const ct_polygon *p = &in->parts[i];
        if (p->nrings == 0) continue;
        uint32_t npts = p->ring_start[p->nrings];
        ct_polygon q;
        q.nrings = 0;
        q.ring_start = malloc(((size_t)p->nrings + 1) * sizeof *q.ring_start);
        q.xy = malloc(2 * ((size_t)npts + 1) * sizeof *q.xy);
        if (!q.ring_start || !q.xy || !reserve(c, npts)) {
            ct_polygon_free(&q);
            ct_footprint_free(out);
            return -1;
        }
        uint32_t used = 0;
        for (uint32_t r = 0; r < p->nrings; r++) {
            uint32_t n = ct_ring_size(p, r);
            uint32_t m = n >= 3 ? clean_ring(c, o, p->xy + 2 * (size_t)p->ring_start[r], n, q.xy + 2 * (size_t)used, flags)
                                : n;
            if (m < 3) {
                *flags |= CT_CLEAN_DEGENERATE;
                if (r == 0) break; /* the part has no area: holes go with it */
                continue;
            }
            q.ring_start[q.nrings++] = used;
            used += m;
        }
        q.ring_start[q.nrings] = used;
        if (q.nrings == 0) {
            ct_polygon_free(&q);
            continue;
        }
        out->parts[out->nparts++] = q;
    }
    return 0;
}

/* ---- the whole footprint -------------------------------------------------------- */

static void reverse_ring(ct_polygon *p, uint32_t r) {
    double *xy = p->xy + 2 * (size_t)p->ring_start[r];
    uint32_t n = ct_ring_size(p, r);
    for (uint32_t a = 0, b = n - 1; a < b; a++, b--) {
        double tx = xy[2 * a], ty = xy[2 * a + 1];
        xy[2 * a] = xy[2 * b];
        xy[2 * a + 1] = xy[2 * b + 1];
        xy[2 * b] = tx;
        xy[2 * b + 1] = ty;
    }
}

/* 1 valid, 0 invalid (reason recorded in c when record), -1 GEOS failure or nomem. */
static int footprint_valid(ct_cleaner *c, const ct_footprint *f, int record) {
    GEOSGeometry *g = ct_geos_from_footprint(c->geos, f);
    if (!g) return -1;
    char *reason = NULL;
    GEOSGeometry *where = NULL;
    char v = GEOSisValidDetail_r(c->geos, g, 0, &reason, &where);
    if (v == 0 && record) {
        snprintf(c->kind, sizeof c->kind, "%s", reason ? reason : "unknown reason");
        double x = 0, y = 0;
        if (where) {
            GEOSGeomGetX_r(c->geos, where, &x);
            GEOSGeomGetY_r(c->geos, where, &y);
        }
        snprintf(c->detail, sizeof c->detail, "%s at (%.3f %.3f)", c->kind, x, y);
    }
    if (reason) GEOSFree_r(c->geos, reason);
    if (where) GEOSGeom_destroy_r(c->geos, where);
    GEOSGeom_destroy_r(c->geos, g);
    return v == 1 ? 1 : v == 0 ? 0 : -1;
}

static ct_clean_result skip(ct_cleaner *c, const char *why, ct_footprint *work, ct_footprint *out) {
    if (work) ct_footprint_free(work);
    memset(out, 0, sizeof *out);
    c->reason = why;
    return CT_CLEAN_SKIPPED;
}

/* The structure method is "shells minus holes", yet GEOS 3.11 returns a hole lying
 * outside its shell (or the part of one that does) as a polygon of its own: a second
 * solid beside the building. What lies outside the shells' own repaired area is cut
 * away; a result within them is kept as it is. Returns the result (fixed itself, or a
 * new geometry with fixed destroyed), NULL when GEOS fails or memory runs out. */
static GEOSGeometry *within_shells(ct_cleaner *c, const ct_footprint *work, GEOSGeometry *fixed) {
    GEOSContextHandle_t h = c->geos;
    int holes = 0;
    for (uint32_t i = 0; i < work->nparts; i++) holes |= work->parts[i].nrings > 1;
    if (!holes) return fixed;
    GEOSGeometry **shells = calloc(work->nparts, sizeof *shells);
    int ok = shells != NULL;
    for (uint32_t i = 0; ok && i < work->nparts; i++) {
        const ct_polygon *p = &work->parts[i];
        ct_polygon outer = {p->nrings ? 1 : 0, p->ring_start, p->xy}; /* (ring 0 only) */
        ok = (shells[i] = ct_geos_from_polygon(h, &outer)) != NULL;
    }
    GEOSGeometry *all = ok ? GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, shells, work->nparts) : NULL;
    if (!all && shells)
        for (uint32_t i = 0; i < work->nparts; i++)
            if (shells[i]) GEOSGeom_destroy_r(h, shells[i]);
    free(shells);
    GEOSGeometry *area = all ? GEOSMakeValidWithParams_r(h, all, c->mv) : NULL;
    if (all) GEOSGeom_destroy_r(h, all);
    GEOSGeometry *outside = area ? GEOSDifference_r(h, fixed, area) : NULL;
    GEOSGeometry *out = NULL;
    if (outside && GEOSisEmpty_r(h, outside) == 1) out = fixed;
    else if (outside) out = GEOSIntersection_r(h, fixed, area);
    if (outside) GEOSGeom_destroy_r(h, outside);
    if (area) GEOSGeom_destroy_r(h, area);
    if (out != fixed) GEOSGeom_destroy_r(h, fixed);
    return out;
}

/* Repairs *work (invalid) in place with GEOS make-valid. */
static ct_clean_result repair(ct_cleaner *c, const ct_clean_options *o, ct_footprint *work, unsigned *flags) {
    GEOSContextHandle_t h = c->geos;
    GEOSGeometry *g = ct_geos_from_footprint(h, work);
    if (!g) return CT_CLEAN_NOMEM;
    GEOSGeometry *fixed = GEOSMakeValidWithParams_r(h, g, c->mv);
    GEOSGeom_destroy_r(h, g);
    if (fixed) fixed = within_shells(c, work, fixed);
    if (!fixed) {
        c->reason = "could not be repaired";
        return CT_CLEAN_SKIPPED;
    }
    ct_footprint made = {0, NULL};
    int rc = ct_geos_append_polygons(h, fixed, &made);
    GEOSGeom_destroy_r(h, fixed);
    if (rc != 0) {
        ct_footprint_free(&made);
        return CT_CLEAN_NOMEM;
    }
    if (made.nparts == 0) {
        c->reason = "no area";
        return CT_CLEAN_SKIPPED;
    }
    /* Make-valid may leave repeated/collinear vertices at the cuts: apply the rules
     * again, keeping the rules' result only when it is still valid. */
    ct_footprint again;
    unsigned f2 = 0;
    if (vertex_rules(c, o, &made, &again, &f2) != 0) {
        ct_footprint_free(&made);
        return CT_CLEAN_NOMEM;
    }
    int v = again.nparts ? footprint_valid(c, &again, 0) : 0;
    if (v < 0) {
        ct_footprint_free(&made);
        ct_footprint_free(&again);
        return CT_CLEAN_NOMEM;
    }
    ct_footprint_free(work);
    if (v == 1) {
        /* f2 (what the rules removed after the repair) is not reported: the flags say
         * what was wrong with the input, and the make-valid flag already covers this. */
        *work = again;
        ct_footprint_free(&made);
    } else {
        ct_footprint_free(&again);
        int vm = footprint_valid(c, &made, 0);
        if (vm != 1) {
            ct_footprint_free(&made);
            if (vm < 0) return CT_CLEAN_NOMEM;
            c->reason = "could not be repaired";
            return CT_CLEAN_SKIPPED;
        }
        *work = made;
    }
    *flags |= CT_CLEAN_MADE_VALID;
    return CT_CLEAN_KEPT;
}

/* A ring of a polygon as a GEOS geometry (owned by g). */
static const GEOSGeometry *ring_of(GEOSContextHandle_t h, const GEOSGeometry *g, int r) {
    return r == 0 ? GEOSGetExteriorRing_r(h, g) : GEOSGetInteriorRingN_r(h, g, r - 1);
}

/* The sweep's state: the rings, the ring whose pairs are being measured (prepared: its
 * edges indexed) and the tolerance. */
typedef struct near_sweep {
    GEOSContextHandle_t h;
    const GEOSGeometry **rings;
    size_t a;
    const GEOSPreparedGeometry *pa;
    double tol;
} near_sweep;

/* A pair of rings whose boxes come within tol: 1 when they come closer than tol without
 * touching, -1 when GEOS cannot prepare the ring, 0 to go on. */
static int near_pair(size_t a, size_t b, void *arg) {
    near_sweep *s = arg;
    if (!s->pa || s->a != a) {
        if (s->pa) GEOSPreparedGeom_destroy_r(s->h, s->pa);
        s->a = a;
        if (!(s->pa = GEOSPrepare_r(s->h, s->rings[a]))) return -1;
    }
    double d = 0;
    return GEOSPreparedDistance_r(s->h, s->pa, s->rings[b], &d) == 1 && d > 0 && d < s->tol;
}

/* 1 when two rings of the footprint (any parts; g its GEOS geometry) come closer than tol
 * without touching, 0 when not, -1 when out of memory. Boxes first, paired by a sweep
 * (box_pairs.c: every box against every other took 5 s for 96,000 courtyards); a ring's
 * distances go through its prepared (indexed) form, so a shell of thousands of vertices
 * with hundreds of holes costs little. */
static int rings_nearly_touch(GEOSContextHandle_t h, const GEOSGeometry *g, const ct_footprint *f, double tol) {
    size_t n = 0;
    for (uint32_t i = 0; i < f->nparts; i++) n += f->parts[i].nrings;
    /* A ring nearly touching itself: a vertex within tol of one of its own edges
     * (GEOS's minimum clearance; a valid ring never touches itself, so 0 is not seen). */
    for (uint32_t i = 0; i < f->nparts; i++) {
        const GEOSGeometry *part = GEOSGetGeometryN_r(h, g, (int)i);
        for (uint32_t r = 0; part && r < f->parts[i].nrings; r++) {
            const GEOSGeometry *ring = ring_of(h, part, (int)r);
            double d = INFINITY;
            if (ring && GEOSMinimumClearance_r(h, ring, &d) == 0 && d > 0 && d < tol) return 1;
        }
    }
    if (n < 2) return 0;
    const GEOSGeometry **rings = malloc(n * sizeof *rings);
    double *boxes = malloc(n * 4 * sizeof *boxes); /* (xmin, ymin, xmax, ymax) a ring */
    if (!rings || !boxes) {
        free(rings);
        free(boxes);
        return -1;
    }
    size_t k = 0;
    for (uint32_t i = 0; i < f->nparts; i++) {
        const GEOSGeometry *part = GEOSGetGeometryN_r(h, g, (int)i);
        for (uint32_t r = 0; part && r < f->parts[i].nrings; r++) {
            rings[k] = ring_of(h, part, (int)r);
            double *b = boxes + 4 * k;
            if (rings[k] && GEOSGeom_getExtent_r(h, rings[k], &b[0], &b[1], &b[2], &b[3]) == 1) k++;
        }
    }
    near_sweep s = {h, rings, 0, NULL, tol};
    int near = ct_box_pairs(boxes, k, tol, near_pair, &s, NULL);
    if (s.pa) GEOSPreparedGeom_destroy_r(h, s.pa);
    free(rings);
    free(boxes);
    return near;
}

/* Footprints of up to this many vertices are checked for nearly touching rings directly
 * (every vertex against every edge not ending at it); larger ones through GEOS's indexes.
 * Building the GEOS geometry of every footprint doubled filters.clean's time (100k city). */
#define NEAR_DIRECT_MAX 48

/* 1 when a vertex lies within tol of an edge (of any ring of any part) that does not
 * end at it, without lying on it; f has at most NEAR_DIRECT_MAX vertices. Each vertex is
 * first counted against every edge's box grown by tol, in a loop without branches (the
 * two edges ending at it always hold it); only a vertex in a third box is measured. The
 * plain double loop cost 0.3 s of a million footprints' clean. */
static int nearly_touch_direct(const ct_footprint *f, double tol) {
    double x0[NEAR_DIRECT_MAX], x1[NEAR_DIRECT_MAX], y0[NEAR_DIRECT_MAX], y1[NEAR_DIRECT_MAX];
    const double *from[NEAR_DIRECT_MAX], *to[NEAR_DIRECT_MAX];
    uint32_t before[NEAR_DIRECT_MAX]; /* the ring's edge ending at this edge's first vertex */
    uint32_t n = 0;
    for (uint32_t p = 0; p < f->nparts; p++)
        for (uint32_t r = 0; r < f->parts[p].nrings; r++) {
            const ct_polygon *P = &f->parts[p];
            const double *v = P->xy + 2 * (size_t)P->ring_start[r];
            uint32_t m = ct_ring_size(P, r), first = n;
            for (uint32_t j = 0; j < m && n < NEAR_DIRECT_MAX; j++, n++) {
                const double *a = v + 2 * j, *b = v + 2 * (j + 1 == m ? 0 : j + 1);
                from[n] = a;
                to[n] = b;
                before[n] = j == 0 ? first + m - 1 : n - 1;
                x0[n] = fmin(a[0], b[0]) - tol;
                x1[n] = fmax(a[0], b[0]) + tol;
                y0[n] = fmin(a[1], b[1]) - tol;
                y1[n] = fmax(a[1], b[1]) + tol;
            }
        }
    const double t2 = tol * tol;
    for (uint32_t g = 0; g < n; g++) {
        const double px = from[g][0], py = from[g][1];
        unsigned inside = 0;
        for (uint32_t e = 0; e < n; e++) inside += (px >= x0[e]) & (px <= x1[e]) & (py >= y0[e]) & (py <= y1[e]);
        if (inside <= 2) continue;
        for (uint32_t e = 0; e < n; e++) {
            if (e == g || e == before[g] || !((px >= x0[e]) & (px <= x1[e]) & (py >= y0[e]) & (py <= y1[e]))) continue;
            double d2 = ct_segment_dist2(px, py, from[e][0], from[e][1], to[e][0], to[e][1]);
            if (d2 > 0 && d2 < t2) return 1;
        }
    }
    return 0;
}

/* Rings that come within tol of each other without touching (a touch point that a
 * reprojection moved a few nanometres, a hole's side along the shell's, two parts a hair
 * apart) leave gaps the roof must be triangulated across, or walls a hair apart: pieces
 * nanometres wide, which turn over once stored as 32-bit floats. The footprint is then
 * snap-rounded to a grid of tol (GEOSGeom_setPrecision: every vertex moves by at most
 * tol/sqrt(2), near vertices and edges merge, and the result is valid, so a hole along the
 * shell becomes a notch and parts a hair apart one part). Kept when its area is within
 * tol x the rings' length of the original's. Returns 1 when *work changed, 0 when not,
 * -1 when out of memory. */
static int snap_near_rings(ct_cleaner *c, double tol, ct_footprint *work) {
    if (!(tol > 0)) return 0;
    size_t nv = 0;
    for (uint32_t i = 0; i < work->nparts; i++)
        nv += work->parts[i].nrings ? work->parts[i].ring_start[work->parts[i].nrings] : 0;
    if (nv <= NEAR_DIRECT_MAX && !nearly_touch_direct(work, tol)) return 0;
    GEOSContextHandle_t h = c->geos;
    GEOSGeometry *g = ct_geos_from_footprint(h, work);
    if (!g) return -1;
    int near = nv <= NEAR_DIRECT_MAX ? 1 : rings_nearly_touch(h, g, work, tol), changed = 0;
    GEOSGeometry *s = near == 1 ? GEOSGeom_setPrecision_r(h, g, tol, 0) : NULL;
    double a0 = 0, a1 = 0, len = 0;
    if (s && GEOSisEmpty_r(h, s) == 0 && GEOSArea_r(h, g, &a0) && GEOSArea_r(h, s, &a1) && GEOSLength_r(h, g, &len) &&
        fabs(a1 - a0) <= tol * len) {
        ct_footprint made = {0, NULL};
        if (ct_geos_append_polygons(h, s, &made) != 0) changed = -1;
        else if (made.nparts > 0) {
            int v = footprint_valid(c, &made, 0);
            if (v < 0) changed = -1;
            else if (v == 1) {
                ct_footprint_free(work);
                *work = made;
                made.nparts = 0;
                made.parts = NULL;
                changed = 1;
            }
        }
        ct_footprint_free(&made);
    }
    if (s) GEOSGeom_destroy_r(h, s);
    GEOSGeom_destroy_r(h, g);
    return near < 0 ? -1 : changed;
}

GEOSContextHandle_t ct_cleaner_geos(ct_cleaner *c) { return c->geos; }

ct_clean_result ct_clean_footprint(ct_cleaner *c, const ct_clean_options *o, const ct_footprint *in,
                                   ct_footprint *out, unsigned *flags) {
    *flags = 0;
    c->reason = NULL;
    c->kind[0] = c->detail[0] = '\0';
    memset(out, 0, sizeof *out);
    for (uint32_t i = 0; i < in->nparts; i++) {
        const ct_polygon *p = &in->parts[i];
        size_t n = p->nrings ? 2 * (size_t)p->ring_start[p->nrings] : 0;
        for (size_t k = 0; k < n; k++)
            if (!isfinite(p->xy[k])) return skip(c, "non-finite coordinate", NULL, out);
    }
    ct_footprint work;
    if (vertex_rules(c, o, in, &work, flags) != 0) return CT_CLEAN_NOMEM;
    if (work.nparts == 0) return skip(c, "no area", &work, out);

    /* Orientation is judged on the input: make-valid output has GEOS's own winding,
     * which is normalised below without being reported. Only a hole wound like its shell
     * is reported: rings wound the other way throughout are a convention (Shapefile's
     * clockwise shells, GeoJSON before RFC 7946), normalised without a word, where every
     * Shapefile footprint was flagged. */
    for (uint32_t i = 0; i < work.nparts; i++) {
        const ct_polygon *p = &work.parts[i];
        double shell = p->nrings ? ct_ring_signed_area(p, 0) : 0;
        for (uint32_t r = 1; r < p->nrings; r++)
            if (ct_ring_signed_area(p, r) * shell > 0) *flags |= CT_CLEAN_ORIENTATION;
    }
    int v = footprint_valid(c, &work, 1);
    if (v < 0) {
        ct_footprint_free(&work);
        return CT_CLEAN_NOMEM;
    }
    if (v == 0) {
        if (!o->make_valid) return skip(c, "invalid geometry", &work, out);
        ct_clean_result r = repair(c, o, &work, flags);
        if (r == CT_CLEAN_NOMEM) {
            ct_footprint_free(&work);
            return r;
        }
        if (r == CT_CLEAN_SKIPPED) return skip(c, c->reason, &work, out);
    }

    int sn = snap_near_rings(c, o->duplicate_tolerance, &work);
    if (sn < 0) {
        ct_footprint_free(&work);
        return CT_CLEAN_NOMEM;
    }
    if (sn) *flags |= CT_CLEAN_SNAPPED;
    /* Orientation: shells counter-clockwise, holes clockwise. */
    for (uint32_t i = 0; i < work.nparts; i++) {
        ct_polygon *p = &work.parts[i];
        for (uint32_t r = 0; r < p->nrings; r++) {
            double a = ct_ring_signed_area(p, r);
            if ((r == 0 && a < 0) || (r > 0 && a > 0)) reverse_ring(p, r);
        }
    }
    /* Parts below min_area. */
    uint32_t kept = 0;
    for (uint32_t i = 0; i < work.nparts; i++) {
        if (ct_polygon_area(&work.parts[i]) < o->min_area || !(ct_polygon_area(&work.parts[i]) > 0)) {
            ct_polygon_free(&work.parts[i]);
            *flags |= CT_CLEAN_SMALL_PARTS;
            continue;
        }
        work.parts[kept++] = work.parts[i];
    }
    work.nparts = kept;
    if (kept == 0) return skip(c, "area below min_area", &work, out);
    *out = work;
    return CT_CLEAN_KEPT;
}
