#include "core/claimed_columns.h"

#include <stdio.h>

void ct_claimed_columns_add(ct_claimed_columns *c, const char *name) {
    if (c->len < sizeof c->names)
        c->len += (size_t)snprintf(c->names + c->len, sizeof c->names - c->len, "%s%s", c->count ? ", " : "", name);
    c->count++;
}

void ct_claimed_columns_log(ct_context *ctx, const ct_claimed_columns *c, const char *stage, const char *whose) {
    if (!c->count) return;
    ct_log(ctx, CT_LOG_WARN, "%s: the %s input attribute%s %s %s replaced by what this stage computes (rename the "
           "input's to keep it)", stage, whose, c->count > 1 ? "s" : "", c->names, c->count > 1 ? "are" : "is");
}
