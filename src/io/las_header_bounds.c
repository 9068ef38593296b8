/* A LAS file's header bounds, and whether its points keep within them (see las.h): what
 * lets a crop pass a file over unread. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
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

/* x, y or z of a raw record, as ct_las_read_points computes it. */
static double coord(const unsigned char *rec, int axis, const ct_las_header *h) {
    return (double)(int32_t)ct_le32(rec + 4 * axis) * h->scale[axis] + h->offset[axis];
}

/* The records sampled: their indexes and their bytes (record_length each). */
typedef struct samples {
    size_t n;
    uint64_t at[SAMPLES];
    unsigned char *rec; /* SAMPLES records */
} samples;

/* Record t of the samples. */
static unsigned char *rec_of(const samples *sm, const ct_las_reader *r, size_t t) {
    return sm->rec + t * r->hdr.record_length;
}

/* A LAZ decodes a chunk from its start, so records spread over a chunk cost the chunk
 * (and a chunk's first record, stored whole, costs nothing). With SAMPLES chunks or more,
 * the first records of SAMPLES chunks spread over the file; with fewer, records spread
 * over the first LAZ_HEAD records of every chunk (each chunk's head decoded once; the three
 * checks sample alike, so small: 3 x 1024 records a chunk is 6% of a 50,000-point one): a
 * one-chunk file gave 64 copies of its first point, which read as a damaged scale. */
enum { LAZ_HEAD = 1024 };

static int sample_laz(const ct_las_reader *r, samples *sm) {
    const size_t rl = r->hdr.record_length, nc = r->nchunks;
    if (nc >= SAMPLES) {
        for (size_t t = 0; t < SAMPLES; t++) {
            sm->at[t] = r->chunks[t * (nc - 1) / (SAMPLES - 1)].first_point;
            if (ct_las_read_raw(NULL, r, sm->at[t], 1, rec_of(sm, r, t)) != CT_OK) return 0;
        }
        sm->n = SAMPLES;
        return 1;
    }
    const size_t per = (SAMPLES + nc - 1) / (nc ? nc : 1);
    unsigned char *head = malloc(LAZ_HEAD * rl);
    if (!head) return 0;
    sm->n = 0;
    int ok = 1;
    for (size_t c = 0; c < nc && ok && sm->n < SAMPLES; c++) {
        const ct_laz_chunk *ch = &r->chunks[c];
        size_t lim = ch->points < LAZ_HEAD ? ch->points : LAZ_HEAD;
        if (lim == 0) continue;
        ok = ct_las_read_raw(NULL, r, ch->first_point, lim, head) == CT_OK; /* (the reading says why) */
        for (size_t k = 0; ok && k < per && sm->n < SAMPLES; k++) {
            size_t i = per > 1 ? k * (lim - 1) / (per - 1) : 0;
            sm->at[sm->n] = ch->first_point + i;
            memcpy(rec_of(sm, r, sm->n++), head + i * rl, rl);
        }
    }
    free(head);
    return ok;
}

static int sample_las(const ct_las_reader *r, samples *sm) {
    uint64_t n = r->hdr.point_count, step = n > SAMPLES ? (n - 1) / (SAMPLES - 1) : 1;
    for (uint64_t i = 0; i < n && sm->n < SAMPLES; i += step) {
        uint64_t p = sm->n == SAMPLES - 1 ? n - 1 : i;
        sm->at[sm->n] = p;
        if (ct_las_read_raw(NULL, r, p, 1, rec_of(sm, r, sm->n++)) != CT_OK) return 0;
    }
    return 1;
}

/* The records sampled of r (*sm, freed by samples_free): spread evenly over the file (the
 * first and the last among them) for LAS, as sample_laz says for LAZ; all of them when
 * there are at most SAMPLES. 0 when they cannot be read (the reading says why). */
static int sample_records(const ct_las_reader *r, samples *sm) {
    sm->n = 0;
    sm->rec = r->hdr.record_length >= 12 ? malloc((size_t)SAMPLES * r->hdr.record_length) : NULL;
    if (!sm->rec) return 0;
    return r->laz ? sample_laz(r, sm) : sample_las(r, sm);
}

static void samples_free(samples *sm) {
    if (sm) free(sm->rec);
    free(sm);
}

int ct_las_points_within_header(const ct_las_reader *r) {
    const ct_las_header *h = ct_las_get_header(r);
    double box[4];
    samples *sm = calloc(1, sizeof *sm);
    int ok = sm && ct_las_header_box(r, box) && sample_records(r, sm);
    for (size_t t = 0; ok && t < sm->n; t++)
        for (int k = 0; k < 2; k++) {
            double v = coord(rec_of(sm, r, t), k, h);
            if (!(v >= box[k] && v <= box[k + 2])) ok = 0;
        }
    samples_free(sm);
    return ok;
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
    samples *sm = calloc(1, sizeof *sm);
    if (!sm || !sample_records(r, sm)) {
        samples_free(sm);
        return 0;
    }
    double z[SAMPLES];
    for (size_t t = 0; t < sm->n; t++) z[t] = coord(rec_of(sm, r, t), 2, h);
    size_t got = sm->n, k = first_outside(z, got, h->min[2], h->max[2], fmax(10.0, h->max[2] - h->min[2]));
    int beyond = k < got;
    /* Bounds written in record units (Z, not Z * scale + offset), a writer's bug seen in
     * real surveys (laspy's simple1_3.las): whole numbers, which hold the points exactly
     * once scaled. */
    if (beyond && h->min[2] == floor(h->min[2]) && h->max[2] == floor(h->max[2])) {
        double a = h->min[2] * h->scale[2] + h->offset[2], b = h->max[2] * h->scale[2] + h->offset[2];
        if (first_outside(z, got, fmin(a, b), fmax(a, b), tolerance(h, 2)) == got) beyond = 0;
    }
    if (beyond) {
        *index = sm->at[k];
        for (int a = 0; a < 3; a++) xyz[a] = coord(rec_of(sm, r, k), a, h);
    }
    samples_free(sm);
    return beyond;
}

int ct_las_points_collapsed(const ct_las_reader *r, double spread[2]) {
    const ct_las_header *h = ct_las_get_header(r);
    double box[4];
    if (h->point_count < SAMPLES || !ct_las_header_box(r, box)) return 0;
    double span = fmax(h->max[0] - h->min[0], h->max[1] - h->min[1]);
    if (!(span > 10.0)) return 0;
    samples *sm = calloc(1, sizeof *sm);
    if (!sm || !sample_records(r, sm)) {
        samples_free(sm);
        return 0;
    }
    double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
    for (size_t t = 0; t < sm->n; t++)
        for (int k = 0; k < 2; k++) {
            double v = coord(rec_of(sm, r, t), k, h);
            lo[k] = fmin(lo[k], v);
            hi[k] = fmax(hi[k], v);
        }
    samples_free(sm);
    spread[0] = hi[0] - lo[0];
    spread[1] = hi[1] - lo[1];
    return fmax(spread[0], spread[1]) < 1e-6 * span;
}
