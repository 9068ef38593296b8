/* filters.simplify: topology-preserving footprint simplification (GEOS). With
 * keep_shared_walls, footprints whose boxes touch are simplified together so the walls
 * they share stay shared (see src/geom/simplify.c for how and why). */
#include <jansson.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "citytiler/simplify.h"
#include "citytiler/stage.h"

/* A snap_tolerance up to this (the default, 1 mm) is accepted whatever the tolerance: it
 * joins points that coincide but for rounding; a footprint it would still move beyond
 * tolerance is kept unsimplified by the checks of ct_simplify_group. */
#define SNAP_ALWAYS 0.001

typedef struct simplify_state {
    double tolerance, snap;
    int shared;
} simplify_state;

static const ct_option_def options[] = {
    {"tolerance", CT_OPT_NUMBER, "0.1", 0, "largest distance a footprint's boundary may move (metres)"},
    {"keep_shared_walls", CT_OPT_BOOL, "true", 0,
     "simplify touching footprints together so shared walls stay shared (no gaps, no overlaps)"},
    {"snap_tolerance", CT_OPT_NUMBER, "0.001", 0,
     "with keep_shared_walls: a neighbour's vertex this close to a wall is inserted in it (metres; at most "
     "tolerance, or at most 0.001)"},
    {NULL, 0, NULL, 0, NULL},
};

static ct_status create(ct_context *ctx, const ct_json *opts, void **state) {
    double tol = ct_opt_number(opts, "tolerance"), snap = ct_opt_number(opts, "snap_tolerance");
    if (!(tol >= 0) || !isfinite(tol))
        return ct_error(ctx, CT_ERR_USAGE, "filters.simplify: option 'tolerance' must be a number of metres >= 0");
    if (!(snap >= 0) || !isfinite(snap))
        return ct_error(ctx, CT_ERR_USAGE, "filters.simplify: option 'snap_tolerance' must be a number of metres >= 0");
    if (snap > tol && snap > SNAP_ALWAYS)
        return ct_error(ctx, CT_ERR_USAGE,
                        "filters.simplify: option 'snap_tolerance' (%g m) is larger than 'tolerance' (%g m): inserting a "
                        "neighbour's vertex moves a wall by up to snap_tolerance, and no boundary point may move more "
                        "than tolerance (snap_tolerance may be at most %g m here)",
                        snap, tol, tol > SNAP_ALWAYS ? tol : SNAP_ALWAYS);
    simplify_state *s = calloc(1, sizeof *s);
    if (!s) return ct_error_nomem(ctx, "filters.simplify");
    s->tolerance = tol;
    s->snap = snap;
    s->shared = ct_opt_bool(opts, "keep_shared_walls");
    *state = s;
    return CT_OK;
}

typedef struct item {
    ct_footprint fp;
    unsigned char result; /* ct_simplify_result; 255: not processed (empty footprint) */
    char *reason;         /* when kept unsimplified: what is counted */
    char *detail;         /* and what is logged beside it (NULL: the reason) */
} item;

static size_t point_count(const ct_footprint *f) {
    size_t n = 0;
    for (uint32_t i = 0; i < f->nparts; i++)
        if (f->parts[i].nrings) n += f->parts[i].ring_start[f->parts[i].nrings];
    return n;
}

static int footprint_equal(const ct_footprint *a, const ct_footprint *b) {
    if (a->nparts != b->nparts) return 0;
    for (uint32_t i = 0; i < a->nparts; i++) {
        const ct_polygon *p = &a->parts[i], *q = &b->parts[i];
        if (p->nrings != q->nrings) return 0;
        if (memcmp(p->ring_start, q->ring_start, ((size_t)p->nrings + 1) * sizeof *p->ring_start) != 0) return 0;
        size_t npts = p->nrings ? p->ring_start[p->nrings] : 0;
        if (npts && memcmp(p->xy, q->xy, 2 * npts * sizeof *p->xy) != 0) return 0;
    }
    return 1;
}

/* it->reason and it->detail for footprint j of the group whose buildings are
 * ds->buildings[idx[members[0..]]], kept by ct_simplify_group's checks. 0 or -1 (nomem). */
static int describe_refusal(const ct_simplifier *sp, size_t j, const ct_dataset *ds, const size_t *idx,
                            const size_t *members, item *it) {
    const char *detail = NULL;
    size_t other = (size_t)-1;
    const char *why = ct_simplifier_refusal(sp, j, &detail, &other);
    char text[400];
    if (other != (size_t)-1)
        snprintf(text, sizeof text, "%s: %s (building %s)", why, detail, ds->buildings[idx[members[other]]].id);
    else
        snprintf(text, sizeof text, "%s: %s", why, detail);
    it->reason = strdup(why);
    it->detail = strdup(text);
    return it->reason && it->detail ? 0 : -1;
}

static ct_status run(ct_context *ctx, void *state, ct_dataset *ds) {
    simplify_state *s = state;
    size_t n = ds->nbuildings;
    item *items = calloc(n ? n : 1, sizeof *items);
    double *bbox = malloc(4 * (n ? n : 1) * sizeof *bbox);
    size_t *idx = malloc((n ? n : 1) * sizeof *idx), *members = malloc((n ? n : 1) * sizeof *members);
    size_t *start = malloc((n + 1) * sizeof *start);
    ct_status st = CT_OK;
    if (!items || !bbox || !idx || !members || !start) st = ct_error_nomem(ctx, "simplification");
    /* Buildings with a footprint, and their groups (each alone without keep_shared_walls). */
    size_t m = 0, ngroups = 0;
    for (size_t i = 0; i < n && st == CT_OK; i++) {
        items[i].result = 255;
        if (ct_footprint_bbox(&ds->buildings[i].footprint, bbox + 4 * m)) idx[m++] = i;
    }
    if (st == CT_OK) {
        if (s->shared) {
            ngroups = ct_bbox_groups(bbox, m, s->snap, members, start);
            if (ngroups == (size_t)-1) st = ct_error_nomem(ctx, "simplification groups");
        } else {
            for (size_t k = 0; k < m; k++) {
                members[k] = k;
                start[k] = k;
            }
            start[m] = m;
            ngroups = m;
        }
    }
    int nomem = 0;
    size_t largest = 0;
    for (size_t g = 0; st == CT_OK && g < ngroups; g++)
        if (start[g + 1] - start[g] > largest) largest = start[g + 1] - start[g];
    if (st == CT_OK) {
#pragma omp parallel num_threads(ct_context_threads(ctx)) reduction(| : nomem)
        {
            ct_simplifier *sp = ct_simplifier_create();
            const ct_footprint **in = malloc((largest ? largest : 1) * sizeof *in);
            ct_footprint *out = malloc((largest ? largest : 1) * sizeof *out);
            unsigned char *kept = malloc(largest ? largest : 1);
            if (!sp || !in || !out || !kept) nomem = 1;
#pragma omp for schedule(dynamic, 8)
            for (size_t g = 0; g < ngroups; g++) {
                if (!sp || !in || !out || !kept) continue;
                size_t k0 = start[g], k = start[g + 1] - k0;
                for (size_t j = 0; j < k; j++) in[j] = &ds->buildings[idx[members[k0 + j]]].footprint;
                ct_simplify_result r = ct_simplify_group(sp, s->tolerance, s->snap, in, k, out, kept);
                if (r == CT_SIMPLIFY_NOMEM) {
                    nomem = 1;
                    continue;
                }
                for (size_t j = 0; j < k; j++) {
                    item *it = &items[idx[members[k0 + j]]];
                    it->fp = out[j];
                    it->result = (unsigned char)r;
                    if (r == CT_SIMPLIFY_KEPT) {
                        it->reason = strdup(ct_simplifier_reason(sp));
                        if (!it->reason) nomem = 1;
                    } else if (kept[j]) {
                        it->result = CT_SIMPLIFY_KEPT;
                        if (describe_refusal(sp, j, ds, idx, members + k0, it) != 0) nomem = 1;
                    }
                }
            }
            free(in);
            free(out);
            free(kept);
            ct_simplifier_destroy(sp);
        }
        if (nomem) st = ct_error_nomem(ctx, "simplification");
    }
    size_t before = 0, after = 0;
    for (size_t i = 0; i < n && st == CT_OK; i++) {
        item *it = &items[i];
        ct_building *b = &ds->buildings[i];
        if (it->result == 255) continue;
        char reason[320];
        if (it->result == CT_SIMPLIFY_KEPT) {
            snprintf(reason, sizeof reason, "simplify: kept unsimplified (%s)", it->reason ? it->reason : "");
            const char *told = it->detail ? it->detail : it->reason;
            ct_log(ctx, CT_LOG_INFO, "filters.simplify: building %s (feature %llu): kept unsimplified: %s", b->id,
                   (unsigned long long)b->source_record, told ? told : "");
            st = ct_dataset_count_change(ctx, ds, reason);
            continue;
        }
        size_t p0 = point_count(&b->footprint), p1 = point_count(&it->fp);
        before += p0;
        after += p1;
        if (footprint_equal(&b->footprint, &it->fp)) continue;
        st = ct_dataset_count_change(ctx, ds, "simplify: simplified");
        ct_footprint_free(&b->footprint);
        b->footprint = it->fp;
        memset(&it->fp, 0, sizeof it->fp);
        ct_mesh_free(&b->mesh);
    }
    if (st == CT_OK)
        ct_log(ctx, CT_LOG_INFO, "filters.simplify: %zu footprints in %zu groups, %zu vertices -> %zu (tolerance %.3f m)",
               m, ngroups, before, after, s->tolerance);
    for (size_t i = 0; items && i < n; i++) {
        ct_footprint_free(&items[i].fp);
        free(items[i].reason);
        free(items[i].detail);
    }
    free(items);
    free(bbox);
    free(idx);
    free(members);
    free(start);
    return st;
}

static void destroy(void *state) { free(state); }

const ct_stage_vtable ct_stage_filters_simplify = {
    "filters.simplify", "topology-preserving footprint simplification (GEOS), keeping shared walls shared", options,
    create, run, destroy,
};
