/* The one warning of a stage whose output columns replace input attributes of the same
 * names (a dataset exported by an earlier run): for buildings and assets alike. */
#ifndef CT_CORE_CLAIMED_COLUMNS_H
#define CT_CORE_CLAIMED_COLUMNS_H

#include <stddef.h>

#include "citytiler/context.h"

/* Collects names, then logs "STAGE: the WHOSE input attribute(s) A, B are replaced by
 * what this stage computes (rename the input's to keep it)" once, when any. */
typedef struct ct_claimed_columns {
    char names[512];
    size_t len, count;
} ct_claimed_columns;

void ct_claimed_columns_add(ct_claimed_columns *c, const char *name);
void ct_claimed_columns_log(ct_context *ctx, const ct_claimed_columns *c, const char *stage, const char *whose);

#endif
