#include "ct_test_heights.h"

#include <string.h>

void ct_test_heights_defaults(ct_heights_params *p) {
    memset(p, 0, sizeof *p);
    p->roof_percentile = 90;
    p->ground_percentile = 10;
    p->buffer = 3;
    p->max_buffer = 24;
    p->min_roof_points = 5;
    p->min_ground_points = 3;
    p->ground_class[2] = p->roof_class[6] = 1;
}
