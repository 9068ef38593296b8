/* A LAS file's header bounds, and whether its points keep within them (see las.h): what
 * lets a crop pass a file over unread. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "citytiler/las.h"
#include "io/las_internal.h"

/* Records sampled, spread evenly over the file (the first and the last among them). */
enum { SAMPLES = 64 };

/* The margin of axis k: the stored bounds are rounded by the writer (a few units of the
 * scale) and by the coordinates' own rounding. */
static double tolerance(const ct_las_header *h, int k) {
    return 4.0 * fabs(h->scale[k]) + 1e-9 * fmax(fabs(h->min[k]), fabs(h->max[k])) + 1e-6;
}

int ct_las_header_box(const ct_las_reader *r, double box[4]) {
    const ct_las_header *h = ct_las_get_header(r);
    for (int k = 0; k < 2; k++) {
        if (!isfinite(h->min[k]) || !isfinite(h->max[k]) || !(h->min[k] <= h->max[k])) return 0;
        box[k] = h->min[k] - tolerance(h, k);
        box[k + 2] = h->max[k] + tolerance(h, k);
    }
    return 1;
}

/* x (or y) of a raw record, as ct_las_read_points computes it. */
static double coord(const unsigned char *rec, int axis, const ct_las_header *h) {
    return (double)(int32_t)ct_le32(rec + 4 * axis) * h->scale[axis] + h->offset[axis];
}

/* The records sampled of r's n, spread evenly over the file (the first and the last among
 * them), into at[]; returns how many (n when n <= SAMPLES). In a LAZ, each is moved to
 * the first record of its chunk, which is stored whole (no chunk is decoded for it). */
static size_t sample_records(const ct_las_reader *r, uint64_t n, uint64_t at[SAMPLES]) {
    uint64_t step = n > SAMPLES ? (n - 1) / (SAMPLES - 1) : 1;
    size_t taken = 0;
    for (uint64_t i = 0; i < n && taken < SAMPLES; i += step) {
        uint64_t p = taken == SAMPLES - 1 ? n - 1 : i;
        if (r->laz) p = r->chunks[ct_las_laz_chunk_of(r, p)].first_point;
        if (taken == 0 || p != at[taken - 1]) at[taken++] = p;
    }
    return taken;
}

int ct_las_points_within_header(const ct_las_reader *r) {
    const ct_las_header *h = ct_las_get_header(r);
    double box[4];
    if (!ct_las_header_box(r, box) || h->record_length < 8 || h->record_length > 1024) return 0;
    unsigned char rec[1024];
    uint64_t at[SAMPLES];
    size_t taken = sample_records(r, h->point_count, at);
    for (size_t t = 0; t < taken; t++) {
        if (ct_las_read_raw(NULL, r, at[t], 1, rec) != CT_OK) return 0; /* (the reading says why) */
        for (int k = 0; k < 2; k++) {
            double v = coord(rec, k, h);
            if (!(v >= box[k] && v <= box[k + 2])) return 0;
        }
    }
    return 1;
}

/* The first of z[0..n-1] outside [lo - room, hi + room]; n when none is. */
static size_t first_outside(const double *z, size_t n, double lo, double hi, double room) {
    size_t i = 0;
    while (i < n && z[i] >= lo - room && z[i] <= hi + room) i++;
    return i;
}

int ct_las_z_beyond_header(const ct_las_reader *r, uint64_t *index, double xyz[3]) {
    const ct_las_header *h = ct_las_get_header(r);
    /* (bounds left at zero: a writer that never filled them in, not a claim) */
    if (!isfinite(h->min[2]) || !isfinite(h->max[2]) || !(h->min[2] <= h->max[2]) || (h->min[2] == 0 && h->max[2] == 0))
        return 0;
    double x[SAMPLES], y[SAMPLES], z[SAMPLES];
    uint64_t at[SAMPLES];
    size_t got = sample_records(r, h->point_count, at);
    ct_las_points p;
    memset(&p, 0, sizeof p);
    p.capacity = 1;
    for (size_t t = 0; t < got; t++) {
        p.x = &x[t];
        p.y = &y[t];
        p.z = &z[t];
        if (ct_las_read_points(NULL, r, at[t], 1, &p) != CT_OK || p.count != 1) return 0; /* (the reading says why) */
    }
    size_t k = first_outside(z, got, h->min[2], h->max[2], fmax(10.0, h->max[2] - h->min[2]));
    if (k == got) return 0;
    /* Bounds written in record units (Z, not Z * scale + offset), a writer's bug seen in
     * real surveys (laspy's simple1_3.las): whole numbers, which hold the points exactly
     * once scaled. */
    if (h->min[2] == floor(h->min[2]) && h->max[2] == floor(h->max[2])) {
        double a = h->min[2] * h->scale[2] + h->offset[2], b = h->max[2] * h->scale[2] + h->offset[2];
        if (first_outside(z, got, fmin(a, b), fmax(a, b), tolerance(h, 2)) == got) return 0;
    }
    *index = at[k];
    xyz[0] = x[k];
    xyz[1] = y[k];
    xyz[2] = z[k];
    return 1;
}

int ct_las_points_collapsed(const ct_las_reader *r, double spread[2]) {
    const ct_las_header *h = ct_las_get_header(r);
    double box[4];
    if (h->point_count < SAMPLES || !ct_las_header_box(r, box) || h->record_length < 8 || h->record_length > 1024)
        return 0;
    double span = fmax(h->max[0] - h->min[0], h->max[1] - h->min[1]);
    if (!(span > 10.0)) return 0;
    unsigned char rec[1024];
    uint64_t at[SAMPLES];
    size_t taken = sample_records(r, h->point_count, at);
    double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
    for (size_t t = 0; t < taken; t++) {
        if (ct_las_read_raw(NULL, r, at[t], 1, rec) != CT_OK) return 0; /* (the reading says why) */
        for (int k = 0; k < 2; k++) {
            double v = coord(rec, k, h);
            lo[k] = fmin(lo[k], v);
            hi[k] = fmax(hi[k], v);
        }
    }
    spread[0] = hi[0] - lo[0];
    spread[1] = hi[1] - lo[1];
    return fmax(spread[0], spread[1]) < 1e-6 * span;
}
