/* filters.heights' defaults, for the tests that call the heights library directly. */
#ifndef CT_TEST_HEIGHTS_H
#define CT_TEST_HEIGHTS_H
#include "citytiler/heights.h"

/* Roof p90 of class 6, ground p10 of class 2 within 3 m (widened up to 24 m), at least 5
 * roof and 3 ground points. */
void ct_test_heights_defaults(ct_heights_params *p);
#endif
