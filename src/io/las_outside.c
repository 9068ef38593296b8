/* Whether a LAS file can be passed over unread for a crop box: its header's bounds lie
 * wholly outside the box, and the header can be trusted for that (see las.h). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "citytiler/las.h"

/* Records sampled, spread evenly over the file (the first and the last among them). */
enum { SAMPLES = 64 };

static int finite_box(const ct_las_header *h) {
    for (int k = 0; k < 2; k++)
        if (!isfinite(h->min[k]) || !isfinite(h->max[k]) || !(h->min[k] <= h->max[k])) return 0;
    return 1;
}

/* x (or y) of a raw record, as ct_las_read_points computes it. */
static double coord(const unsigned char *rec, int axis, const ct_las_header *h) {
    const unsigned char *p = rec + 4 * axis;
    int32_t v = (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
    return (double)v * h->scale[axis] + h->offset[axis];
}

int ct_las_outside_box(const ct_las_reader *r, const double box[4]) {
    const ct_las_header *h = ct_las_get_header(r);
    if (!finite_box(h) || h->point_count == 0 || h->record_length < 8 || h->record_length > 1024) return 0;
    /* The bounds are the stored ones, rounded by the writer: a margin of a few units of
     * the scale, and of the coordinates' own rounding. */
    double tol[2];
    for (int k = 0; k < 2; k++)
        tol[k] = 4.0 * fabs(h->scale[k]) + 1e-9 * fmax(fabs(h->min[k]), fabs(h->max[k])) + 1e-6;
    if (!(h->max[0] + tol[0] < box[0] || h->min[0] - tol[0] > box[2] || h->max[1] + tol[1] < box[1] ||
          h->min[1] - tol[1] > box[3]))
        return 0; /* the header's box meets the crop box: read it */
    /* A header that was not updated after its points changed (or a damaged one) must not
     * hide points inside the box: every sampled point has to lie within its bounds. */
    unsigned char rec[1024];
    uint64_t n = h->point_count, step = n > SAMPLES ? (n - 1) / (SAMPLES - 1) : 1;
    for (uint64_t i = 0, taken = 0; i < n && taken < SAMPLES; i += step, taken++) {
        uint64_t at = taken == SAMPLES - 1 ? n - 1 : i;
        if (ct_las_read_raw(NULL, r, at, 1, rec) != CT_OK) return 0; /* (the reading says why) */
        for (int k = 0; k < 2; k++) {
            double v = coord(rec, k, h);
            if (!(v >= h->min[k] - tol[k] && v <= h->max[k] + tol[k])) return 0;
        }
    }
    return 1;
}
