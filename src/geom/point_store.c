/* Points binned into cells by a hash of the cell coordinates, in one pass; then per
 * cell a stable counting sort by fine bin gives a CSR index (bin -> point range), so a
 * query for a box touches only the bins it overlaps. */
#include "citytiler/points.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct cell {
    int64_t cx, cy;
    size_t n, cap;
    float *x, *y, *z;   /* offsets from the cell's corner; z absolute */
    uint8_t *cls;
    uint32_t *bin_start; /* nb*nb + 1 entries once indexed, else NULL */
    int indexed;
} cell;

struct ct_point_store {
    double cell_size, fine_size;
    int nb;               /* bins per cell row */
    cell *cells;
    size_t ncells, cap;
    int64_t *slots;       /* open-addressing table: cell index + 1, 0 = empty */
    size_t nslots;
    uint64_t count, ignored;
    uint64_t class_counts[256];
};

ct_point_store *ct_point_store_create(double cell_size, double fine_size) {
    if (!(cell_size > 0) || !(fine_size > 0) || fine_size > cell_size || cell_size / fine_size > 4096) return NULL;
    ct_point_store *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->cell_size = cell_size;
    s->fine_size = fine_size;
    s->nb = (int)ceil(cell_size / fine_size);
    return s;
}

void ct_point_store_destroy(ct_point_store *s) {
    if (!s) return;
    for (size_t i = 0; i < s->ncells; i++) {
        cell *c = &s->cells[i];
        free(c->x); free(c->y); free(c->z); free(c->cls); free(c->bin_start);
    }
    free(s->cells);
    free(s->slots);
    free(s);
}

static uint64_t hash_cell(int64_t cx, int64_t cy) {
    uint64_t h = (uint64_t)cx * 0x9E3779B97F4A7C15ull ^ ((uint64_t)cy + 0x632BE59BD9B4E019ull) * 0xC2B2AE3D27D4EB4Full;
    return h ^ (h >> 29);
}

static int grow_table(ct_point_store *s) {
    size_t n = s->nslots ? s->nslots * 2 : 1024;
    int64_t *t = calloc(n, sizeof *t);
    if (!t) return 0;
    for (size_t i = 0; i < s->ncells; i++) {
        size_t h = hash_cell(s->cells[i].cx, s->cells[i].cy) & (n - 1);
        while (t[h]) h = (h + 1) & (n - 1);
        t[h] = (int64_t)i + 1;
    }
    free(s->slots);
    s->slots = t;
    s->nslots = n;
    return 1;
}

/* Index of cell (cx, cy), created when absent; -1 when out of memory. */
static long find_cell(ct_point_store *s, int64_t cx, int64_t cy, int create) {
    if (s->nslots) {
        size_t h = hash_cell(cx, cy) & (s->nslots - 1);
        while (s->slots[h]) {
            cell *c = &s->cells[s->slots[h] - 1];
            if (c->cx == cx && c->cy == cy) return (long)(s->slots[h] - 1);
            h = (h + 1) & (s->nslots - 1);
        }
    }
    if (!create) return -1;
    if ((s->ncells + 1) * 2 > s->nslots && !grow_table(s)) return -1;
    if (s->ncells == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        cell *nc = realloc(s->cells, cap * sizeof *nc);
        if (!nc) return -1;
        s->cells = nc;
        s->cap = cap;
    }
    cell *c = &s->cells[s->ncells];
    memset(c, 0, sizeof *c);
    c->cx = cx;
    c->cy = cy;
    size_t h = hash_cell(cx, cy) & (s->nslots - 1);
    while (s->slots[h]) h = (h + 1) & (s->nslots - 1);
    s->slots[h] = (int64_t)s->ncells + 1;
    return (long)s->ncells++;
}

static int cell_reserve(cell *c, size_t need) {
    if (need <= c->cap) return 1;
    size_t cap = c->cap ? c->cap : 1024;
    while (cap < need) cap *= 2;
    float *x = realloc(c->x, cap * sizeof *x);
    if (!x) return 0;
    c->x = x;
    float *y = realloc(c->y, cap * sizeof *y);
    if (!y) return 0;
    c->y = y;
    float *z = realloc(c->z, cap * sizeof *z);
    if (!z) return 0;
    c->z = z;
    uint8_t *k = realloc(c->cls, cap);
    if (!k) return 0;
    c->cls = k;
    c->cap = cap;
    return 1;
}

ct_status ct_point_store_add(ct_context *ctx, ct_point_store *s, const double *x, const double *y, const double *z,
                             const uint8_t *cls, size_t n) {
    long last = -1;
    int64_t lcx = 0, lcy = 0;
    const double cs = s->cell_size;
    for (size_t i = 0; i < n; i++) {
        double px = x[i], py = y[i], pz = z[i];
        if (!isfinite(px) || !isfinite(py) || !isfinite(pz) || fabs(px) > 1e15 || fabs(py) > 1e15) {
            s->ignored++;
            continue;
        }
        int64_t cx = (int64_t)floor(px / cs), cy = (int64_t)floor(py / cs);
        /* Consecutive points mostly share a cell: skip the hash lookup then. */
        if (last < 0 || cx != lcx || cy != lcy) {
            last = find_cell(s, cx, cy, 1);
            if (last < 0) return ct_error_nomem(ctx, "point cells");
            lcx = cx;
            lcy = cy;
        }
        cell *c = &s->cells[last];
        if (c->n == c->cap && !cell_reserve(c, c->n + 1)) return ct_error_nomem(ctx, "points of a cell");
        c->x[c->n] = (float)(px - (double)cx * cs);
        c->y[c->n] = (float)(py - (double)cy * cs);
        c->z[c->n] = (float)pz;
        c->cls[c->n] = cls ? cls[i] : 0;
        c->n++;
        c->indexed = 0;
        s->class_counts[cls ? cls[i] : 0]++;
        s->count++;
    }
    return CT_OK;
}

static int bin_of(const ct_point_store *s, float v) {
    int b = (int)((double)v / s->fine_size);
    if (b < 0) b = 0;
    if (b >= s->nb) b = s->nb - 1;
    return b;
}

/* Stable counting sort of one cell's points by fine bin. Returns 0 when out of memory. */
static int index_cell(const ct_point_store *s, cell *c) {
    size_t nbins = (size_t)s->nb * (size_t)s->nb;
    uint32_t *start = calloc(nbins + 1, sizeof *start);
    uint32_t *key = malloc((c->n ? c->n : 1) * sizeof *key);
    float *x = malloc((c->n ? c->n : 1) * sizeof *x), *y = malloc((c->n ? c->n : 1) * sizeof *y);
    float *z = malloc((c->n ? c->n : 1) * sizeof *z);
    uint8_t *k = malloc(c->n ? c->n : 1);
    if (!start || !key || !x || !y || !z || !k) {
        free(start); free(key); free(x); free(y); free(z); free(k);
        return 0;
    }
    for (size_t i = 0; i < c->n; i++) {
        key[i] = (uint32_t)(bin_of(s, c->y[i]) * s->nb + bin_of(s, c->x[i]));
        start[key[i] + 1]++;
    }
    for (size_t b = 0; b < nbins; b++) start[b + 1] += start[b];
    uint32_t *fill = malloc(nbins * sizeof *fill);
    if (!fill) {
        free(start); free(key); free(x); free(y); free(z); free(k);
        return 0;
    }
    memcpy(fill, start, nbins * sizeof *fill);
    for (size_t i = 0; i < c->n; i++) {
        uint32_t d = fill[key[i]]++;
        x[d] = c->x[i]; y[d] = c->y[i]; z[d] = c->z[i]; k[d] = c->cls[i];
    }
    free(fill);
    free(key);
    free(c->x); free(c->y); free(c->z); free(c->cls); free(c->bin_start);
    c->x = x; c->y = y; c->z = z; c->cls = k;
    c->cap = c->n ? c->n : 1;
    c->bin_start = start;
    c->indexed = 1;
    return 1;
}

ct_status ct_point_store_index(ct_context *ctx, ct_point_store *s, int threads) {
    int failed = 0;
    long n = (long)s->ncells;
#pragma omp parallel for num_threads(threads < 1 ? 1 : threads) schedule(dynamic, 1) reduction(| : failed)
    for (long i = 0; i < n; i++)
        if (!s->cells[i].indexed && !index_cell(s, &s->cells[i])) failed = 1;
    if (failed) return ct_error_nomem(ctx, "point index");
    if (s->cell_size / s->fine_size > 65535 || s->count > UINT32_MAX * (uint64_t)(s->ncells ? s->ncells : 1))
        return ct_error(ctx, CT_ERR_UNSUPPORTED, "point store: too many points per cell");
    return CT_OK;
}

uint64_t ct_point_store_count(const ct_point_store *s) { return s->count; }
uint64_t ct_point_store_ignored(const ct_point_store *s) { return s->ignored; }
size_t ct_point_store_cell_count(const ct_point_store *s) { return s->ncells; }
const uint64_t *ct_point_store_class_counts(const ct_point_store *s) { return s->class_counts; }

uint64_t ct_point_store_bytes(const ct_point_store *s) {
    uint64_t b = sizeof *s + s->cap * sizeof(cell) + s->nslots * sizeof(int64_t);
    for (size_t i = 0; i < s->ncells; i++) {
        b += s->cells[i].cap * (3 * sizeof(float) + 1);
        if (s->cells[i].bin_start) b += ((uint64_t)s->nb * (uint64_t)s->nb + 1) * sizeof(uint32_t);
    }
    return b;
}

static int push_span(ct_span_list *l, const cell *c, size_t from, size_t to, double ox, double oy) {
    if (to <= from) return 1;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        ct_point_span *v = realloc(l->v, cap * sizeof *v);
        if (!v) return 0;
        l->v = v;
        l->cap = cap;
    }
    ct_point_span *sp = &l->v[l->n++];
    sp->x = c->x + from;
    sp->y = c->y + from;
    sp->z = c->z + from;
    sp->cls = c->cls + from;
    sp->n = to - from;
    sp->ox = ox;
    sp->oy = oy;
    return 1;
}

ct_status ct_point_store_query(const ct_point_store *s, const double bbox[4], ct_span_list *list) {
    list->n = 0;
    const double cs = s->cell_size;
    int64_t cx0 = (int64_t)floor(bbox[0] / cs), cx1 = (int64_t)floor(bbox[2] / cs);
    int64_t cy0 = (int64_t)floor(bbox[1] / cs), cy1 = (int64_t)floor(bbox[3] / cs);
    for (int64_t cy = cy0; cy <= cy1; cy++) {
        for (int64_t cx = cx0; cx <= cx1; cx++) {
            long ci = find_cell((ct_point_store *)s, cx, cy, 0);
            if (ci < 0) continue;
            const cell *c = &s->cells[ci];
            if (!c->bin_start) continue;
            double ox = (double)cx * cs, oy = (double)cy * cs;
            int bx0 = bin_of(s, (float)(bbox[0] - ox)), bx1 = bin_of(s, (float)(bbox[2] - ox));
            int by0 = bin_of(s, (float)(bbox[1] - oy)), by1 = bin_of(s, (float)(bbox[3] - oy));
            for (int by = by0; by <= by1; by++) {
                size_t from = c->bin_start[by * s->nb + bx0], to = c->bin_start[by * s->nb + bx1 + 1];
                if (!push_span(list, c, from, to, ox, oy)) return CT_ERR_NOMEM;
            }
        }
    }
    return CT_OK;
}

void ct_span_list_free(ct_span_list *l) {
    free(l->v);
    memset(l, 0, sizeof *l);
}
