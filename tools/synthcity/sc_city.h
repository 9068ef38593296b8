/* synthcity — the city model: a deterministic layout of streets, blocks, buildings,
 * trees and assets, generated one block at a time from (seed, column, row).
 *
 * Every value is a pure function of the seed and the block's grid position, so the
 * vector pass (footprints, truth, assets) and the point pass (LAS) regenerate the same
 * block independently and memory stays bounded by one block. Coordinates here are
 * relative to the city origin (metres); the writers add the origin.
 *
 * Only +, -, *, /, floor and sqrt (all exactly rounded in IEEE 754) are used on doubles,
 * never libm's transcendental functions, so the output does not depend on the C
 * library's sin/cos/exp implementation. */
#ifndef SYNTHCITY_CITY_H
#define SYNTHCITY_CITY_H

#include <stddef.h>
#include <stdint.h>

/* ---- random numbers --------------------------------------------------- */

/* The splitmix64 output function: a bijective 64-bit mixer. */
static inline uint64_t sc_mix64(uint64_t z) {
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* A stateless hash of (seed, stream, a, b): independent streams for layout, trees,
 * assets, point jitter, ... */
static inline uint64_t sc_hash4(uint64_t seed, uint64_t stream, uint64_t a, uint64_t b) {
    uint64_t h = sc_mix64(seed ^ (stream * 0xD1B54A32D192ED03ull));
    h = sc_mix64(h ^ a);
    return sc_mix64(h ^ (b * 0x9E3779B97F4A7C15ull));
}

/* A uniform double in [0, 1) from the top 53 bits. */
static inline double sc_u01(uint64_t h) { return (double)(h >> 11) * (1.0 / 9007199254740992.0); }

/* A sequential splitmix64 generator (state owned by the caller, no globals). */
typedef struct sc_rng { uint64_t state; } sc_rng;
static inline uint64_t sc_next(sc_rng *r) {
    r->state += 0x9E3779B97F4A7C15ull;
    uint64_t z = r->state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static inline double sc_uniform(sc_rng *r, double lo, double hi) { return lo + (hi - lo) * sc_u01(sc_next(r)); }
/* An integer in [lo, hi] (inclusive); the tiny modulo bias does not matter here. */
static inline int sc_int(sc_rng *r, int lo, int hi) {
    return lo + (int)(sc_next(r) % (uint64_t)(hi - lo + 1));
}

/* Hash streams (fixed: changing one changes every output). */
enum {
    SC_S_COLUMN = 1, SC_S_ROW, SC_S_BLOCK, SC_S_TREES, SC_S_ASSETS, SC_S_INVALID,
    SC_S_GROUND, SC_S_LATTICE, SC_S_JITTER, SC_S_POINT
};

/* ---- the model ----------------------------------------------------------- */

typedef struct sc_pt { double x, y; } sc_pt;

/* A ring: `count` vertices starting at `first` in sc_block.pts, not closed
 * (the writer repeats the first vertex). Exterior rings counter-clockwise, holes
 * clockwise. */
typedef struct sc_ring { size_t first, count; } sc_ring;

enum sc_kind { SC_TERRACED, SC_DETACHED, SC_COURTYARD, SC_LSHAPE, SC_TOWER };
enum sc_invalid { SC_VALID, SC_BOWTIE, SC_SPIKE, SC_DUPVERT };

typedef struct sc_building {
    int kind;                     /* enum sc_kind */
    int invalid;                  /* enum sc_invalid: set by the vector pass only */
    int storeys;
    double height;                /* roof_z - ground_z */
    double ground_z, roof_z;      /* ground at the centroid; flat roof */
    double area;                  /* of the true (valid) shape, holes excluded */
    double cx, cy;                /* area centroid of the true shape */
    double minx, miny, maxx, maxy;
    size_t ring0, nrings;         /* true shape: rings [ring0, ring0 + nrings) */
} sc_building;

typedef struct sc_tree { double x, y, r, h; } sc_tree;

enum sc_category { SC_STREET_LIGHT, SC_AIR_QUALITY, SC_BIN, SC_CAMERA };
enum sc_status { SC_ACTIVE, SC_MAINTENANCE, SC_INACTIVE };
typedef struct sc_asset { double x, y; int category, status; } sc_asset;

enum sc_block_type { SC_B_TERRACED, SC_B_DETACHED, SC_B_COURTYARD, SC_B_LSHAPE, SC_B_TOWERS, SC_B_PARK };

/* One block and its cell (the block plus half of each surrounding street). The
 * arrays grow as needed and are reused from block to block. */
typedef struct sc_block {
    int col, row, type;
    double cx0, cy0, cx1, cy1;    /* cell (street centre lines) */
    double bx0, by0, bx1, by1;    /* block (inside the streets) */
    sc_pt *pts; size_t npts, cap_pts;
    sc_ring *rings; size_t nrings, cap_rings;
    sc_building *b; size_t nb, cap_b;
    sc_tree *trees; size_t ntrees, cap_trees;
    sc_asset *assets; size_t nassets, cap_assets;
} sc_block;

/* The city: grid of streets, ground model, and the plan (how many blocks hold
 * the requested number of buildings). */
typedef struct sc_city {
    uint64_t seed;
    uint64_t nbuildings;          /* requested */
    int ncols;
    double *xe;                   /* ncols + 1 street centre lines (x) */
    int nrows, cap_rows;
    double *ye;                   /* nrows + 1 street centre lines (y), grown by sc_city_row */
    /* ground: z = z0 + gx * x + gy * y + value noise (amplitude amp, lattice spacing lat) */
    double z0, gx, gy, amp, lat;
    /* plan, filled by the vector pass (sc_city_plan): blocks are numbered row-major;
     * blocks before last_block are complete, last_block keeps last_keep buildings,
     * later cells of the last row are empty land. */
    uint64_t last_block;
    size_t last_keep;
    int planned;
} sc_city;

/* Sets up the city for `nbuildings` (>= 1). Returns 0, or -1 when out of memory. */
int sc_city_init(sc_city *c, uint64_t seed, uint64_t nbuildings);
void sc_city_free(sc_city *c);
/* Makes sure rows [0, row] have their y edges. Returns 0 or -1 (out of memory). */
int sc_city_row(sc_city *c, int row);
/* Ground height (metres) at city-relative (x, y). */
double sc_ground(const sc_city *c, double x, double y);

/* Generates block (col, row) into `b` (arrays reused). `keep` limits the buildings
 * kept (SIZE_MAX: all; 0 with empty_land: no buildings and no assets, just ground
 * and trees). Rows up to `row` must exist (sc_city_row). Returns 0 or -1 (out of
 * memory). */
int sc_block_generate(const sc_city *c, int col, int row, size_t keep, int empty_land, sc_block *b);
void sc_block_free(sc_block *b);

const char *sc_kind_name(int kind, int invalid);
const char *sc_category_name(int category);
const char *sc_status_name(int status);

/* Signed area and centroid of a ring (positive for counter-clockwise). */
double sc_ring_area(const sc_pt *p, size_t n, double *cx, double *cy);

#endif
