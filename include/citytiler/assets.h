/* citytiler — city assets and sensors (street lights, air-quality sensors, bins, ...):
 * points with attributes, placed on the ground and drawn as instanced symbols. */
#ifndef CITYTILER_ASSETS_H
#define CITYTILER_ASSETS_H

#include <stddef.h>
#include <stdint.h>
#include "citytiler/context.h"
#include "citytiler/dataset.h"

typedef struct ct_asset {
    char *id;                 /* from the id field, or the feature id */
    uint64_t source_record;   /* CSV row (CT_ASSET_FROM_ROW) or feature id in the source, for messages */
    double x, y;              /* working CRS */
    double z;                 /* base height (same vertical datum as the LiDAR); NaN until placed */
    double height_above_ground; /* from an attribute; NaN when none */
    double heading;           /* degrees clockwise from north; 0 when none */
    double scale;             /* uniform symbol scale; 1 when none */
    char *category;           /* e.g. "street_light"; never NULL ("" when unknown) */
    ct_value *attrs;          /* one per column of the set */
    uint32_t flags;           /* CT_ASSET_* */
} ct_asset;

enum { CT_ASSET_ON_ROOF = 1u, CT_ASSET_Z_GIVEN = 2u, CT_ASSET_FROM_ROW = 4u };

/* How messages name source_record, as the reader's own messages do: "row" (a CSV line)
 * or "feature" (an OGR feature id). */
static inline const char *ct_asset_record_word(const ct_asset *a) {
    return a->flags & CT_ASSET_FROM_ROW ? "row" : "feature";
}

typedef struct ct_asset_set {
    ct_attr_def *attrs;
    size_t nattrs;
    ct_asset *items;
    size_t n, cap;
    uint64_t input_rows;
    ct_reason_count *skipped; /* rows dropped, by reason */
    size_t nskipped;
} ct_asset_set;

/* Creates an empty set; NULL when out of memory. */
ct_asset_set *ct_asset_set_create(void);
void ct_asset_set_destroy(ct_asset_set *s);
/* Adds a column (null for existing assets), or returns the existing one of that name and type. */
ct_status ct_asset_set_add_attr(ct_context *ctx, ct_asset_set *s, const char *name, ct_attr_type type, int *out);
/* A stage's own output columns, as ct_dataset_claim_attrs for buildings: input
 * attributes of those names lose all their values and take the stage's types, with one
 * warning naming them; out[k] gets the column of names[k]. */
ct_status ct_asset_set_claim_attrs(ct_context *ctx, ct_asset_set *s, const char *stage, const char *const *names,
                                   const ct_attr_type *types, size_t n, int *out);
/* Appends a zeroed asset (attrs all null, z/height NaN, scale 1, category "") and returns it. */
ct_status ct_asset_set_append(ct_context *ctx, ct_asset_set *s, ct_asset **out);
/* Frees every asset i with keep[i] == 0 and closes the gaps, keeping order. */
void ct_asset_set_compact(ct_asset_set *s, const unsigned char *keep);
/* Counts one skipped row under `reason` (copied). */
ct_status ct_asset_set_count_skip(ct_context *ctx, ct_asset_set *s, const char *reason);

#endif
