/* citytiler — footprint repair: validity (GEOS make-valid), repeated and collinear
 * vertices, spikes, ring orientation, small parts. */
#ifndef CITYTILER_CLEAN_H
#define CITYTILER_CLEAN_H

#include "citytiler/geometry.h"

/* What to clean. Zero-initialised options are NOT the defaults: call
 * ct_clean_options_default first, then change fields. */
typedef struct ct_clean_options {
    int make_valid;             /* repair invalid footprints with GEOS (else skip them) */
    double duplicate_tolerance; /* m: a vertex this close to the previous one is repeated */
    double collinear_tolerance; /* m: a vertex this close to the segment joining its
                                 * neighbours (and between them) is collinear */
    double spike_angle;         /* degrees: a vertex whose interior angle is smaller is a spike tip */
    double min_area;            /* m²: parts with less area are dropped */
} ct_clean_options;

/* duplicate 0.001 m, collinear 0.001 m, spike 1°, min_area 1 m², make_valid on. */
void ct_clean_options_default(ct_clean_options *o);

/* What ct_clean_footprint changed (bits of `flags`). */
enum {
    CT_CLEAN_MADE_VALID = 1u << 0,  /* GEOS make-valid repaired the footprint */
    CT_CLEAN_REPEATED = 1u << 1,    /* repeated vertices removed */
    CT_CLEAN_COLLINEAR = 1u << 2,   /* collinear vertices removed */
    CT_CLEAN_SPIKE = 1u << 3,       /* spike tips removed */
    CT_CLEAN_DEGENERATE = 1u << 4,  /* rings or parts without area dropped */
    CT_CLEAN_ORIENTATION = 1u << 5, /* rings reversed (shell CCW, holes CW) */
    CT_CLEAN_SMALL_PARTS = 1u << 6, /* parts below min_area dropped */
    CT_CLEAN_SNAPPED = 1u << 7,     /* rings nearly touching (closer than duplicate_tolerance): snap-rounded */
    CT_CLEAN_NFLAGS = 8
};

/* Short token of flag bit i (0 <= i < CT_CLEAN_NFLAGS), e.g. "made_valid". Static. */
const char *ct_clean_flag_token(unsigned i);
/* Run-summary reason of flag bit i, e.g. "clean: collinear vertices removed". Static. */
const char *ct_clean_flag_reason(unsigned i);

typedef enum ct_clean_result {
    CT_CLEAN_KEPT = 0,  /* *out holds the cleaned footprint (maybe unchanged: flags == 0) */
    CT_CLEAN_SKIPPED,   /* unusable: ct_cleaner_reason() says why, *out is empty */
    CT_CLEAN_NOMEM
} ct_clean_result;

/* Per-thread workspace (GEOS handle, scratch). Not thread-safe: one per thread.
 * NULL when out of memory. */
typedef struct ct_cleaner ct_cleaner;
ct_cleaner *ct_cleaner_create(void);
void ct_cleaner_destroy(ct_cleaner *c);

/* Cleans `in` (not modified) into a new footprint *out that the caller frees with
 * ct_footprint_free. On CT_CLEAN_KEPT every part is a valid polygon (GEOS), shells
 * counter-clockwise, holes clockwise, area >= min_area; *flags has the CT_CLEAN_* bits
 * of what changed. A valid footprint no rule applies to comes out with the same
 * vertices (orientation aside) and flags == 0.
 * Order of work: non-finite check, vertex rules (repeated, spikes, collinear), validity
 * (make-valid with GEOS's "structure" method, collapsed parts dropped, then the vertex
 * rules again), orientation, min_area. */
ct_clean_result ct_clean_footprint(ct_cleaner *c, const ct_clean_options *o, const ct_footprint *in,
                                   ct_footprint *out, unsigned *flags);

/* After CT_CLEAN_SKIPPED: a stable short reason ("non-finite coordinate", "no area",
 * "area below min_area", "invalid geometry", "could not be repaired"). Static string. */
const char *ct_cleaner_reason(const ct_cleaner *c);
/* After CT_CLEAN_MADE_VALID or a skip for invalidity: GEOS's reason without the
 * location ("Self-intersection"). Owned by c, valid until the next call. */
const char *ct_cleaner_invalid_kind(const ct_cleaner *c);
/* The same with the location ("Self-intersection[85010 447510]"). Owned by c. */
const char *ct_cleaner_invalid_detail(const ct_cleaner *c);

/* GEOS conversions shared by the geometry code (visible when geos_c.h is included
 * first). Rings are closed again on the way to GEOS and opened on the way back.
 * Return NULL / -1 on failure (out of memory or GEOS error). */
#ifdef GEOS_C_H_INCLUDED
/* The cleaner's GEOS handle, for the caller's own checks between its calls. */
GEOSContextHandle_t ct_cleaner_geos(ct_cleaner *c);
/* A new GEOS Polygon of p; the caller destroys it. */
GEOSGeometry *ct_geos_from_polygon(GEOSContextHandle_t h, const ct_polygon *p);
/* A new GEOS MultiPolygon of every part of f; the caller destroys it. */
GEOSGeometry *ct_geos_from_footprint(GEOSContextHandle_t h, const ct_footprint *f);
/* Appends every non-empty polygon found in g (Polygon, MultiPolygon, collections) to
 * out as parts; other geometry types are ignored. Returns 0, or -1 when out of memory. */
int ct_geos_append_polygons(GEOSContextHandle_t h, const GEOSGeometry *g, ct_footprint *out);
#endif

#endif
