/* point_density (ct_heights_density): samples per m² of the footprint, and unknown (NaN)
 * where the footprint's signed area is no area at all, as a bow-tie's whose lobes cancel
 * (QA: 0 and 1.8e7 points/m² when filters.heights ran before filters.clean); a valid but
 * thin diagonal strip keeps its density. */
#include <math.h>
#include <stdlib.h>

#include "citytiler/heights.h"
#include "ct_test.h"

static double density_of(const double *xy, uint32_t n, size_t samples) {
    uint32_t starts[2] = {0, n};
    ct_polygon p = {1, starts, (double *)xy};
    ct_footprint f = {1, &p};
    return ct_heights_density(&f, samples);
}

int main(void) {
    const double X = 85000, Y = 447000;
    const double square[] = {X, Y, X + 10, Y, X + 10, Y + 10, X, Y + 10};
    CT_CHECK_NEAR(density_of(square, 4, 400), 4.0, 1e-12);
    CT_CHECK(density_of(square, 4, 0) == 0.0);
    /* a bow-tie: lobes of 50 m² each, signed area 0 */
    const double bowtie[] = {X, Y, X + 10, Y + 10, X + 10, Y, X, Y + 10};
    CT_CHECK_MSG(isnan(density_of(bowtie, 4, 124)), "bow-tie: %g", density_of(bowtie, 4, 124));
    /* the same, its crossing moved by 1e-9 m (a reprojection's rounding): area about 1e-8 m² */
    const double bowtie_off[] = {X, Y, X + 10, Y + 10, X + 10, Y + 1e-9, X, Y + 10};
    CT_CHECK_MSG(isnan(density_of(bowtie_off, 4, 124)), "bow-tie off: %g", density_of(bowtie_off, 4, 124));
    /* a 0.5 m wide strip 200 m long at 45 degrees: 100 m² in a box of 20,000 m² */
    const double h = 0.5 / sqrt(2.0), d = 200 / sqrt(2.0);
    const double strip[] = {X, Y, X + d, Y + d, X + d - h, Y + d + h, X - h, Y + h};
    CT_CHECK_NEAR(density_of(strip, 4, 400), 4.0, 1e-6);
    return ct_test_finish("test_heights_density");
}
