/* synthcity — city layout and block generation (see sc_city.h). */
#include "sc_city.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- small helpers ----------------------------------------------------- */

/* Rounds to the millimetre (coordinates, so that files print cleanly). */
static double q3(double v) { return floor(v * 1000.0 + 0.5) / 1000.0; }
/* Rounds to the centimetre (heights). */
static double q2(double v) { return floor(v * 100.0 + 0.5) / 100.0; }
/* Uniform in [lo, hi] quantised to `step`. */
static double ustep(sc_rng *r, double lo, double hi, double step) {
    int n = (int)floor((hi - lo) / step + 0.5);
    return lo + step * (double)sc_int(r, 0, n);
}

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    size_t n = *cap ? *cap : 64;
    while (n < need) {
        if (n > SIZE_MAX / 2 / elem) return -1;
        n *= 2;
    }
    void *q = realloc(*p, n * elem);
    if (!q) return -1;
    *p = q;
    *cap = n;
    return 0;
}

/* Street width (m) of x-line or y-line k: an avenue every 6th line. */
static double street_width(uint64_t seed, uint64_t stream, int k) {
    if (k % 6 == 0) return 20.0;
    return 11.0 + (double)(sc_hash4(seed, stream, (uint64_t)k, 7) % 4);
}

int sc_city_init(sc_city *c, uint64_t seed, uint64_t nbuildings) {
    memset(c, 0, sizeof *c);
    c->seed = seed;
    c->nbuildings = nbuildings;
    /* About 17 buildings per block on average; blocks ~85 x 65 m plus streets, so a
     * square city has ncols ~ sqrt(blocks * 78 / 98). */
    double blocks = (double)nbuildings / 17.0;
    int ncols = (int)ceil(sqrt(blocks * 78.0 / 98.0));
    if (ncols < 1) ncols = 1;
    c->ncols = ncols;
    c->xe = malloc(((size_t)ncols + 1) * sizeof *c->xe);
    if (!c->xe) return -1;
    c->xe[0] = 0.0;
    for (int k = 0; k < ncols; k++) {
        double w = 55.0 + 5.0 * (double)(sc_hash4(seed, SC_S_COLUMN, (uint64_t)k, 0) % 13);
        c->xe[k + 1] = c->xe[k] + street_width(seed, SC_S_COLUMN, k) / 2 + w +
                       street_width(seed, SC_S_COLUMN, k + 1) / 2;
    }
    c->nrows = 0;
    c->cap_rows = 0;
    c->ye = NULL;
    /* Ground: a plane with slope <= 0.6 % per axis plus value noise (amplitude 0.4 m,
     * lattice 300 m, slope <= 0.5 % per axis), so the slope stays under 2 %. */
    c->z0 = 1.0 + 2.0 * sc_u01(sc_hash4(seed, SC_S_GROUND, 0, 0));
    c->gx = -0.006 + 0.012 * sc_u01(sc_hash4(seed, SC_S_GROUND, 1, 0));
    c->gy = -0.006 + 0.012 * sc_u01(sc_hash4(seed, SC_S_GROUND, 2, 0));
    c->amp = 0.4;
    c->lat = 300.0;
    return 0;
}

void sc_city_free(sc_city *c) {
    free(c->xe);
    free(c->ye);
    memset(c, 0, sizeof *c);
}

int sc_city_row(sc_city *c, int row) {
    if (row < c->nrows) return 0;
    size_t cap = (size_t)c->cap_rows;
    if (grow((void **)&c->ye, &cap, (size_t)row + 2, sizeof *c->ye) != 0) return -1;
    c->cap_rows = (int)cap;
    if (c->nrows == 0) c->ye[0] = 0.0;
    for (int k = c->nrows; k <= row; k++) {
        double d = 45.0 + 5.0 * (double)(sc_hash4(c->seed, SC_S_ROW, (uint64_t)k, 0) % 9);
        c->ye[k + 1] = c->ye[k] + street_width(c->seed, SC_S_ROW, k) / 2 + d +
                       street_width(c->seed, SC_S_ROW, k + 1) / 2;
    }
    c->nrows = row + 1;
    return 0;
}

/* C2-continuous fade 6t^5 - 15t^4 + 10t^3. */
static double fade(double t) { return t * t * t * (t * (t * 6.0 - 15.0) + 10.0); }

static double lattice(const sc_city *c, int64_t i, int64_t j) {
    return (2.0 * sc_u01(sc_hash4(c->seed, SC_S_LATTICE, (uint64_t)i, (uint64_t)j)) - 1.0) * c->amp;
}

double sc_ground(const sc_city *c, double x, double y) {
    double fx = x / c->lat, fy = y / c->lat;
    double flx = floor(fx), fly = floor(fy);
    int64_t i = (int64_t)flx, j = (int64_t)fly;
    double sx = fade(fx - flx), sy = fade(fy - fly);
    double v00 = lattice(c, i, j), v10 = lattice(c, i + 1, j);
    double v01 = lattice(c, i, j + 1), v11 = lattice(c, i + 1, j + 1);
    double a = v00 + (v10 - v00) * sx, b = v01 + (v11 - v01) * sx;
    return c->z0 + c->gx * x + c->gy * y + a + (b - a) * sy;
}

double sc_ring_area(const sc_pt *p, size_t n, double *cx, double *cy) {
    /* Shoelace relative to the first vertex (better conditioned). */
    double a2 = 0, sx = 0, sy = 0;
    double ox = p[0].x, oy = p[0].y;
    for (size_t i = 0; i < n; i++) {
        double x0 = p[i].x - ox, y0 = p[i].y - oy;
        double x1 = p[(i + 1) % n].x - ox, y1 = p[(i + 1) % n].y - oy;
        double cr = x0 * y1 - x1 * y0;
        a2 += cr;
        sx += (x0 + x1) * cr;
        sy += (y0 + y1) * cr;
    }
    if (cx && cy) {
        if (a2 != 0) {
            *cx = ox + sx / (3.0 * a2);
            *cy = oy + sy / (3.0 * a2);
        } else {
            *cx = ox;
            *cy = oy;
        }
    }
    return a2 / 2.0;
}

const char *sc_kind_name(int kind, int invalid) {
    switch (invalid) {
    case SC_BOWTIE: return "invalid_bowtie";
    case SC_SPIKE: return "invalid_spike";
    case SC_DUPVERT: return "invalid_duplicate_vertices";
    default: break;
    }
    static const char *const names[] = {"terraced", "detached", "courtyard", "l_shape", "tower"};
    return (kind >= 0 && kind <= SC_TOWER) ? names[kind] : "unknown";
}

const char *sc_category_name(int category) {
    static const char *const names[] = {"street_light", "air_quality", "bin", "camera"};
    return (category >= 0 && category <= SC_CAMERA) ? names[category] : "unknown";
}

const char *sc_status_name(int status) {
    static const char *const names[] = {"active", "maintenance", "inactive"};
    return (status >= 0 && status <= SC_INACTIVE) ? names[status] : "unknown";
}

/* ---- building construction ---------------------------------------------- */

/* Appends a ring (vertices rounded to the millimetre); `ccw` forces the
 * orientation: 1 counter-clockwise (exterior), 0 clockwise (hole). */
static int add_ring(sc_block *b, const sc_pt *p, size_t n, int ccw) {
    if (grow((void **)&b->pts, &b->cap_pts, b->npts + n, sizeof *b->pts) != 0 ||
        grow((void **)&b->rings, &b->cap_rings, b->nrings + 1, sizeof *b->rings) != 0)
        return -1;
    sc_pt *dst = b->pts + b->npts;
    for (size_t i = 0; i < n; i++) dst[i] = (sc_pt){q3(p[i].x), q3(p[i].y)};
    double a = sc_ring_area(dst, n, NULL, NULL);
    if ((a > 0) != (ccw != 0)) {
        for (size_t i = 0, k = n - 1; i < k; i++, k--) {
            sc_pt t = dst[i];
            dst[i] = dst[k];
            dst[k] = t;
        }
    }
    b->rings[b->nrings++] = (sc_ring){b->npts, n};
    b->npts += n;
    return 0;
}

static int add_rect_ring(sc_block *b, double x0, double y0, double x1, double y1, int ccw) {
    sc_pt p[4] = {{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}};
    return add_ring(b, p, 4, ccw);
}

/* Closes the building whose rings start at ring0: area, centroid, bounds, heights. */
static int finish_building(const sc_city *c, sc_block *b, size_t ring0, int kind, int storeys, double height) {
    if (grow((void **)&b->b, &b->cap_b, b->nb + 1, sizeof *b->b) != 0) return -1;
    sc_building *bd = &b->b[b->nb++];
    memset(bd, 0, sizeof *bd);
    bd->kind = kind;
    bd->storeys = storeys;
    bd->ring0 = ring0;
    bd->nrings = b->nrings - ring0;
    double area = 0, mx = 0, my = 0;
    bd->minx = bd->miny = INFINITY;
    bd->maxx = bd->maxy = -INFINITY;
    for (size_t r = ring0; r < b->nrings; r++) {
        const sc_pt *p = b->pts + b->rings[r].first;
        size_t n = b->rings[r].count;
        double cx, cy;
        double a = sc_ring_area(p, n, &cx, &cy); /* holes are clockwise: negative */
        area += a;
        mx += a * cx;
        my += a * cy;
        for (size_t i = 0; i < n; i++) {
            if (p[i].x < bd->minx) bd->minx = p[i].x;
            if (p[i].x > bd->maxx) bd->maxx = p[i].x;
            if (p[i].y < bd->miny) bd->miny = p[i].y;
            if (p[i].y > bd->maxy) bd->maxy = p[i].y;
        }
    }
    bd->area = area;
    bd->cx = mx / area;
    bd->cy = my / area;
    bd->height = q2(height);
    bd->ground_z = sc_ground(c, bd->cx, bd->cy);
    bd->roof_z = bd->ground_z + bd->height;
    return 0;
}

static int rect_building(const sc_city *c, sc_block *b, double x0, double y0, double x1, double y1,
                         int kind, int storeys, double height) {
    size_t r0 = b->nrings;
    if (add_rect_ring(b, x0, y0, x1, y1, 1) != 0) return -1;
    return finish_building(c, b, r0, kind, storeys, height);
}

/* A polygon given in local coordinates around (0, 0), rotated by the rational
 * rotation of parameter t (cos = (1-t^2)/(1+t^2), sin = 2t/(1+t^2): exact
 * arithmetic, no libm) and moved to (ox, oy). */
static int placed_building(const sc_city *c, sc_block *b, const sc_pt *local, size_t n, double t,
                           double ox, double oy, int kind, int storeys, double height) {
    sc_pt p[8];
    double den = 1.0 + t * t, co = (1.0 - t * t) / den, si = 2.0 * t / den;
    for (size_t i = 0; i < n && i < 8; i++)
        p[i] = (sc_pt){ox + co * local[i].x - si * local[i].y, oy + si * local[i].x + co * local[i].y};
    size_t r0 = b->nrings;
    if (add_ring(b, p, n, 1) != 0) return -1;
    return finish_building(c, b, r0, kind, storeys, height);
}

/* An L in the box [-w/2, w/2] x [-h/2, h/2] with arm widths tw (vertical arm) and
 * th (horizontal arm); `corner` 0..3 picks which corner the L wraps (SW, SE, NE, NW). */
static size_t l_local(double w, double h, double tw, double th, int corner, sc_pt out[6]) {
    double x0 = -w / 2, x1 = w / 2, y0 = -h / 2, y1 = h / 2;
    /* SW-corner L, counter-clockwise. */
    sc_pt p[6] = {{x0, y0}, {x1, y0}, {x1, y0 + th}, {x0 + tw, y0 + th}, {x0 + tw, y1}, {x0, y1}};
    for (int i = 0; i < 6; i++) {
        double x = p[i].x, y = p[i].y;
        if (corner == 1 || corner == 2) x = -x; /* mirror to the east */
        if (corner == 2 || corner == 3) y = -y; /* mirror to the north */
        out[i] = (sc_pt){x, y};
    }
    return 6; /* add_ring fixes the orientation after mirroring */
}

/* Axis-aligned half extents of a w x h box rotated by the rational parameter t. */
static void rotated_extent(double w, double h, double t, double *ex, double *ey) {
    double den = 1.0 + t * t, co = fabs((1.0 - t * t) / den), si = fabs(2.0 * t / den);
    *ex = co * w / 2 + si * h / 2;
    *ey = si * w / 2 + co * h / 2;
}

/* ---- block types ------------------------------------------------------------ */

/* One terraced row along x (houses side by side, sharing walls exactly) in
 * [x0, x1] x [y0, y1], or along y when `along_y`. */
static int terraced_row(const sc_city *c, sc_block *b, sc_rng *r, double a0, double a1, double c0, double c1,
                        int along_y) {
    int base = sc_int(r, 2, 3);
    double a = a0;
    while (a1 - a >= 4.5) {
        double w = ustep(r, 4.5, 7.5, 0.1);
        if (a + w > a1 || a1 - (a + w) < 4.5) w = a1 - a; /* the last house takes the rest */
        if (w > 9.0) w = ustep(r, 4.5, 7.5, 0.1);         /* ...unless too wide */
        double e = q3(a + w);
        int storeys = base;
        double u = sc_uniform(r, 0, 1);
        if (u < 0.15) storeys = base + 1;
        else if (u < 0.25 && base > 2) storeys = base - 1;
        double height = storeys * 2.8 + sc_uniform(r, 0.4, 1.6);
        int rc = along_y ? rect_building(c, b, c0, a, c1, e, SC_TERRACED, storeys, height)
                         : rect_building(c, b, a, c0, e, c1, SC_TERRACED, storeys, height);
        if (rc != 0) return -1;
        a = e;                                                      /* shared wall: the same value */
        if (sc_uniform(r, 0, 1) < 0.06) a = q3(a + ustep(r, 1.5, 3.0, 0.5)); /* an alley */
    }
    return 0;
}

static int gen_terraced(const sc_city *c, sc_block *b, sc_rng *r) {
    double W = b->bx1 - b->bx0, D = b->by1 - b->by0;
    double sb = ustep(r, 0.0, 3.0, 0.5), depth = ustep(r, 8.0, 12.0, 0.5);
    int two = D >= 2 * (sb + depth) + 6.0;
    if (W < 12) return 0;
    /* Rows along the south and north streets. */
    for (int side = 0; side < (two ? 2 : 1); side++) {
        double y0 = side == 0 ? b->by0 + sb : b->by1 - sb - depth;
        double g0 = ustep(r, 1.0, 4.0, 0.5), g1 = ustep(r, 1.0, 4.0, 0.5);
        if (terraced_row(c, b, r, b->bx0 + g0, b->bx1 - g1, y0, y0 + depth, 0) != 0) return -1;
    }
    /* Often a perimeter block: rows along the west and east streets too, between
     * the backs of the other two rows. */
    double ya = b->by0 + sb + depth + 1.0, yb = two ? b->by1 - sb - depth - 1.0 : b->by1 - 1.0;
    if (sc_uniform(r, 0, 1) < 0.6 && yb - ya >= 10.0 && W >= 2 * (sb + depth) + 6.0) {
        if (terraced_row(c, b, r, ya, yb, b->bx0 + sb, b->bx0 + sb + depth, 1) != 0 ||
            terraced_row(c, b, r, ya, yb, b->bx1 - sb - depth, b->bx1 - sb, 1) != 0)
            return -1;
    }
    return 0;
}

static int gen_house(const sc_city *c, sc_block *b, sc_rng *r, double lx0, double lx1, double ly0, double ly1,
                     int front_south) {
    double lw = lx1 - lx0, ld = ly1 - ly0;
    double w = ustep(r, 7.0, 12.0, 0.5), h = ustep(r, 7.0, 11.0, 0.5);
    double t = sc_uniform(r, 0, 1) < 0.5 ? sc_uniform(r, -0.12, 0.12) : 0.0;
    int lshape = sc_uniform(r, 0, 1) < 0.25;
    double setback = ustep(r, 3.0, 6.0, 0.5);
    double ex, ey;
    rotated_extent(w, h, t, &ex, &ey);
    /* Shrink until it fits the lot with 1 m side margins and 1 m at the back. */
    for (int k = 0; k < 8 && (2 * ex + 2.0 > lw || setback + 2 * ey + 1.0 > ld); k++) {
        w *= 0.85;
        h *= 0.85;
        rotated_extent(w, h, t, &ex, &ey);
    }
    if (w < 5.0 || h < 5.0 || 2 * ex + 2.0 > lw || setback + 2 * ey + 1.0 > ld) return 0; /* empty lot */
    double cx = sc_uniform(r, lx0 + 1.0 + ex, lx1 - 1.0 - ex);
    double cy = front_south ? ly0 + setback + ey : ly1 - setback - ey;
    int storeys = sc_int(r, 1, 3);
    double height = storeys * 2.9 + sc_uniform(r, 0.5, 2.0);
    sc_pt local[6];
    size_t n;
    if (lshape) {
        n = l_local(w, h, w * sc_uniform(r, 0.45, 0.6), h * sc_uniform(r, 0.45, 0.6), sc_int(r, 0, 3), local);
    } else {
        n = 4;
        local[0] = (sc_pt){-w / 2, -h / 2};
        local[1] = (sc_pt){w / 2, -h / 2};
        local[2] = (sc_pt){w / 2, h / 2};
        local[3] = (sc_pt){-w / 2, h / 2};
    }
    return placed_building(c, b, local, n, t, cx, cy, lshape ? SC_LSHAPE : SC_DETACHED, storeys, height);
}

static int gen_detached(const sc_city *c, sc_block *b, sc_rng *r) {
    double ymid = q3((b->by0 + b->by1) / 2);
    for (int side = 0; side < 2; side++) {
        double ly0 = side == 0 ? b->by0 : ymid, ly1 = side == 0 ? ymid : b->by1;
        double x = b->bx0;
        while (b->bx1 - x >= 12.0) {
            double lw = ustep(r, 12.0, 18.0, 0.5);
            if (b->bx1 - (x + lw) < 12.0) lw = b->bx1 - x;
            if (gen_house(c, b, r, x, x + lw, ly0, ly1, side == 0) != 0) return -1;
            x += lw;
        }
    }
    return 0;
}

static int gen_lshape_block(const sc_city *c, sc_block *b, sc_rng *r);

static int gen_courtyard(const sc_city *c, sc_block *b, sc_rng *r) {
    double sb = ustep(r, 0.0, 2.0, 0.5), d = ustep(r, 10.0, 15.0, 0.5);
    double ox0 = b->bx0 + sb, oy0 = b->by0 + sb, ox1 = b->bx1 - sb, oy1 = b->by1 - sb;
    double iw = ox1 - ox0 - 2 * d, ih = oy1 - oy0 - 2 * d;
    if (iw < 8.0 || ih < 8.0) return gen_lshape_block(c, b, r);
    int storeys = sc_int(r, 4, 7);
    double height = storeys * 3.1 + sc_uniform(r, 0.5, 1.5);
    size_t r0 = b->nrings;
    if (add_rect_ring(b, ox0, oy0, ox1, oy1, 1) != 0) return -1;
    double hx0 = ox0 + d, hy0 = oy0 + d, hx1 = ox1 - d, hy1 = oy1 - d;
    double fx0 = hx0, fx1 = hx1; /* the first hole (for the infill) */
    if (iw > 1.8 * ih && iw >= 30.0) {
        /* Two courtyards separated by a cross wing. */
        double cw = ustep(r, 8.0, 12.0, 0.5);
        double split = q3(sc_uniform(r, hx0 + 10.0, hx1 - 10.0 - cw));
        if (add_rect_ring(b, hx0, hy0, split, hy1, 0) != 0 ||
            add_rect_ring(b, split + cw, hy0, hx1, hy1, 0) != 0)
            return -1;
        fx1 = split;
    } else if (add_rect_ring(b, hx0, hy0, hx1, hy1, 0) != 0) {
        return -1;
    }
    if (finish_building(c, b, r0, SC_COURTYARD, storeys, height) != 0) return -1;
    /* Sometimes a small building stands inside the (first) courtyard. */
    double fw = fx1 - fx0, fh = hy1 - hy0;
    if (sc_uniform(r, 0, 1) < 0.3 && fw >= 10.0 && fh >= 10.0) {
        double w = fw - 4.0 < 8.0 ? fw - 4.0 : 8.0, h = fh - 4.0 < 6.0 ? fh - 4.0 : 6.0;
        double x0 = q3(fx0 + (fw - w) / 2), y0 = q3(hy0 + (fh - h) / 2);
        if (rect_building(c, b, x0, y0, x0 + w, y0 + h, SC_DETACHED, 1, sc_uniform(r, 3.0, 4.5)) != 0) return -1;
    }
    return 0;
}

static int gen_lshape_block(const sc_city *c, sc_block *b, sc_rng *r) {
    double W = b->bx1 - b->bx0, D = b->by1 - b->by0;
    int nx = W >= 60.0 ? 2 : 1, ny = D >= 50.0 ? 2 : 1;
    int storeys = sc_int(r, 3, 6);
    for (int qy = 0; qy < ny; qy++) {
        for (int qx = 0; qx < nx; qx++) {
            double qx0 = b->bx0 + W * qx / nx, qx1 = b->bx0 + W * (qx + 1) / nx;
            double qy0 = b->by0 + D * qy / ny, qy1 = b->by0 + D * (qy + 1) / ny;
            double m = ustep(r, 1.0, 3.0, 0.5);
            double w = qx1 - qx0 - 2 * m, h = qy1 - qy0 - 2 * m;
            double t = ustep(r, 9.0, 13.0, 0.5);
            if (w < 16.0 || h < 16.0) continue;
            double tw = t < 0.6 * w ? t : 0.6 * w, th = t < 0.6 * h ? t : 0.6 * h;
            /* The L wraps the corner of the block that the quadrant touches. */
            int east = nx == 2 ? qx == 1 : sc_int(r, 0, 1), north = ny == 2 ? qy == 1 : sc_int(r, 0, 1);
            int corner = north ? (east ? 2 : 3) : (east ? 1 : 0);
            sc_pt local[6];
            size_t n = l_local(w, h, tw, th, corner, local);
            int st = storeys + sc_int(r, -1, 1);
            double height = st * 3.0 + sc_uniform(r, 0.5, 1.5);
            if (placed_building(c, b, local, n, 0.0, (qx0 + qx1) / 2, (qy0 + qy1) / 2, SC_LSHAPE, st, height) != 0)
                return -1;
        }
    }
    return 0;
}

static int gen_towers(const sc_city *c, sc_block *b, sc_rng *r) {
    double W = b->bx1 - b->bx0, D = b->by1 - b->by0;
    int n = sc_int(r, 1, 4);
    int nx = n >= 2 && W >= 70.0 ? 2 : 1, ny = n >= 3 && D >= 70.0 ? 2 : 1;
    for (int qy = 0; qy < ny; qy++) {
        for (int qx = 0; qx < nx; qx++) {
            double qx0 = b->bx0 + W * qx / nx, qx1 = b->bx0 + W * (qx + 1) / nx;
            double qy0 = b->by0 + D * qy / ny, qy1 = b->by0 + D * (qy + 1) / ny;
            double w = ustep(r, 18.0, 32.0, 0.5), h = ustep(r, 18.0, 32.0, 0.5);
            double t = sc_uniform(r, 0, 1) < 0.5 ? sc_uniform(r, -0.15, 0.15) : 0.0;
            double ex, ey;
            rotated_extent(w, h, t, &ex, &ey);
            for (int k = 0; k < 8 && (2 * ex + 6.0 > qx1 - qx0 || 2 * ey + 6.0 > qy1 - qy0); k++) {
                w *= 0.85;
                h *= 0.85;
                rotated_extent(w, h, t, &ex, &ey);
            }
            if (2 * ex + 6.0 > qx1 - qx0 || 2 * ey + 6.0 > qy1 - qy0) continue;
            double cx = sc_uniform(r, qx0 + 3.0 + ex, qx1 - 3.0 - ex);
            double cy = sc_uniform(r, qy0 + 3.0 + ey, qy1 - 3.0 - ey);
            int storeys = sc_int(r, 8, 30);
            double height = storeys * 3.3 + sc_uniform(r, 1.0, 3.0);
            sc_pt local[4] = {{-w / 2, -h / 2}, {w / 2, -h / 2}, {w / 2, h / 2}, {-w / 2, h / 2}};
            if (placed_building(c, b, local, 4, t, cx, cy, SC_TOWER, storeys, height) != 0) return -1;
        }
    }
    return 0;
}

/* ---- trees and assets ------------------------------------------------------------ */

static int add_tree(sc_block *b, double x, double y, double rad, double h) {
    if (grow((void **)&b->trees, &b->cap_trees, b->ntrees + 1, sizeof *b->trees) != 0) return -1;
    b->trees[b->ntrees++] = (sc_tree){q3(x), q3(y), q2(rad), q2(h)};
    return 0;
}

static int add_asset(sc_block *b, sc_rng *r, double x, double y, int category) {
    if (grow((void **)&b->assets, &b->cap_assets, b->nassets + 1, sizeof *b->assets) != 0) return -1;
    double u = sc_uniform(r, 0, 1);
    int status = u < 0.85 ? SC_ACTIVE : u < 0.95 ? SC_MAINTENANCE : SC_INACTIVE;
    b->assets[b->nassets++] = (sc_asset){q3(x), q3(y), category, status};
    return 0;
}

/* A point on side `side` (0 south, 1 north, 2 west, 3 east) of the block at
 * fraction `f` along it, `dist` metres out into the street. */
static sc_pt side_point(const sc_block *b, int side, double f, double dist) {
    double x = b->bx0 + f * (b->bx1 - b->bx0), y = b->by0 + f * (b->by1 - b->by0);
    switch (side) {
    case 0: return (sc_pt){x, b->by0 - dist};
    case 1: return (sc_pt){x, b->by1 + dist};
    case 2: return (sc_pt){b->bx0 - dist, y};
    default: return (sc_pt){b->bx1 + dist, y};
    }
}

static int gen_trees(sc_block *b, sc_rng *r) {
    /* Street trees 3 m out from the kerb line (crown <= 2.3 m: stays inside the
     * half street, so inside this cell, and clear of every building). */
    for (int side = 0; side < 4; side++) {
        double len = side < 2 ? b->bx1 - b->bx0 : b->by1 - b->by0;
        double s = ustep(r, 6.0, 10.0, 0.5);
        while (s < len - 6.0) {
            if (sc_uniform(r, 0, 1) < 0.55) {
                sc_pt p = side_point(b, side, s / len, 3.0);
                if (add_tree(b, p.x, p.y, sc_uniform(r, 1.6, 2.3), sc_uniform(r, 6.0, 12.0)) != 0) return -1;
            }
            s += ustep(r, 8.0, 14.0, 0.5);
        }
    }
    if (b->type == SC_B_PARK) {
        double W = b->bx1 - b->bx0, D = b->by1 - b->by0;
        int n = (int)(W * D / 150.0);
        for (int k = 0; k < n; k++) {
            double rad = sc_uniform(r, 2.0, 4.5);
            if (W <= 2 * rad + 1 || D <= 2 * rad + 1) continue;
            double x = sc_uniform(r, b->bx0 + rad + 0.5, b->bx1 - rad - 0.5);
            double y = sc_uniform(r, b->by0 + rad + 0.5, b->by1 - rad - 0.5);
            if (add_tree(b, x, y, rad, sc_uniform(r, 6.0, 18.0)) != 0) return -1;
        }
    }
    return 0;
}

static int gen_assets(sc_block *b, sc_rng *r) {
    for (int side = 0; side < 4; side++) {
        double len = side < 2 ? b->bx1 - b->bx0 : b->by1 - b->by0;
        for (double s = ustep(r, 2.0, 12.0, 0.5); s <= len - 2.0; s += ustep(r, 25.0, 35.0, 0.5)) {
            sc_pt p = side_point(b, side, s / len, 1.0);
            if (add_asset(b, r, p.x, p.y, SC_STREET_LIGHT) != 0) return -1;
        }
    }
    int nbins = sc_int(r, 1, 3);
    for (int k = 0; k < nbins; k++) {
        sc_pt p = side_point(b, sc_int(r, 0, 3), sc_uniform(r, 0.1, 0.9), 0.6);
        if (add_asset(b, r, p.x, p.y, SC_BIN) != 0) return -1;
    }
    if (sc_uniform(r, 0, 1) < 0.3) {
        sc_pt p = side_point(b, sc_int(r, 0, 3), sc_uniform(r, 0.2, 0.8), 1.2);
        if (add_asset(b, r, p.x, p.y, SC_AIR_QUALITY) != 0) return -1;
    }
    if (sc_uniform(r, 0, 1) < 0.35 && add_asset(b, r, b->bx0 - 1.5, b->by0 - 1.5, SC_CAMERA) != 0) return -1;
    return 0;
}

/* ---- blocks ------------------------------------------------------------------- */

int sc_block_generate(const sc_city *c, int col, int row, size_t keep, int empty_land, sc_block *b) {
    b->npts = b->nrings = b->nb = b->ntrees = b->nassets = 0;
    b->col = col;
    b->row = row;
    b->cx0 = c->xe[col];
    b->cx1 = c->xe[col + 1];
    b->cy0 = c->ye[row];
    b->cy1 = c->ye[row + 1];
    b->bx0 = b->cx0 + street_width(c->seed, SC_S_COLUMN, col) / 2;
    b->bx1 = b->cx1 - street_width(c->seed, SC_S_COLUMN, col + 1) / 2;
    b->by0 = b->cy0 + street_width(c->seed, SC_S_ROW, row) / 2;
    b->by1 = b->cy1 - street_width(c->seed, SC_S_ROW, row + 1) / 2;

    sc_rng r = {sc_hash4(c->seed, SC_S_BLOCK, (uint64_t)col, (uint64_t)row)};
    double u = sc_uniform(&r, 0, 1);
    b->type = u < 0.42 ? SC_B_TERRACED : u < 0.64 ? SC_B_DETACHED : u < 0.76 ? SC_B_COURTYARD
            : u < 0.88 ? SC_B_LSHAPE : u < 0.95 ? SC_B_TOWERS : SC_B_PARK;
    if (empty_land) b->type = SC_B_PARK;
    int rc = 0;
    switch (b->type) {
    case SC_B_TERRACED: rc = gen_terraced(c, b, &r); break;
    case SC_B_DETACHED: rc = gen_detached(c, b, &r); break;
    case SC_B_COURTYARD: rc = gen_courtyard(c, b, &r); break;
    case SC_B_LSHAPE: rc = gen_lshape_block(c, b, &r); break;
    case SC_B_TOWERS: rc = gen_towers(c, b, &r); break;
    default: break;
    }
    if (rc != 0) return -1;
    if (keep < b->nb) b->nb = keep;

    sc_rng rt = {sc_hash4(c->seed, SC_S_TREES, (uint64_t)col, (uint64_t)row)};
    if (gen_trees(b, &rt) != 0) return -1;
    if (!empty_land) {
        sc_rng ra = {sc_hash4(c->seed, SC_S_ASSETS, (uint64_t)col, (uint64_t)row)};
        if (gen_assets(b, &ra) != 0) return -1;
    }
    return 0;
}

void sc_block_free(sc_block *b) {
    free(b->pts);
    free(b->rings);
    free(b->b);
    free(b->trees);
    free(b->assets);
    memset(b, 0, sizeof *b);
}
