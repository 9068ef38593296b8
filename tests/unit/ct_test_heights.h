/* filters.heights' defaults and every-edge references, for the tests that call the heights library directly. */
#ifndef CT_TEST_HEIGHTS_H
#define CT_TEST_HEIGHTS_H
#include "citytiler/heights.h"

/* Roof p90 of class 6, ground p10 of class 2 within 3 m (widened up to 24 m), at least 5
 * roof and 3 ground points. */
void ct_test_heights_defaults(ct_heights_params *p);
/* Even-odd inside, and some edge within buffer of (x, y): every edge tested, with the
 * expressions of geom/edge_grid (the reference the fast tests are checked against). */
int ct_test_ref_inside(const ct_footprint *fp, double x, double y);
int ct_test_ref_near(const ct_footprint *fp, double x, double y, double buffer);

/* A footprint of one ring of four vertices, with its own storage (xy holds up to 8 vertices). */
typedef struct ct_test_bldg {
    ct_footprint fp;
    ct_polygon part;
    uint32_t start[2];
    double xy[2 * 8];
} ct_test_bldg;
/* b becomes the rectangle [x0, x0 + w] x [y0, y0 + h]. */
void ct_test_make_rect(ct_test_bldg *b, double x0, double y0, double w, double h);
#endif
