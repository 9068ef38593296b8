/* Test support: a building with a one-ring footprint, appended to a dataset. */
#ifndef CT_TEST_BUILDING_H
#define CT_TEST_BUILDING_H

#include <stdint.h>
#include "citytiler/dataset.h"

/* Appends building `id` whose footprint is the ring xy[0..2n-1] (n points, not closed);
 * NULL when out of memory. */
ct_building *ct_test_add_building(ct_context *ctx, ct_dataset *ds, const char *id, const double *xy, uint32_t n);

#endif
