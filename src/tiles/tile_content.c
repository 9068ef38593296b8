/* Positions go working CRS -> geodetic (PROJ) -> ECEF -> the tile's ENU frame, so
 * tiles are placed exactly, without a projection's scale or grid-north error.
 * Normals are turned by the local Jacobian of that map at the tile centre. */
#include "tiles/tile_content.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "citytiler/glb.h"
#include "tiles/region_json.h"

/* ECEF -> ENU with the frame m (columns east, north, up, origin). */
static void ecef_to_enu(const double m[16], const double p[3], double out[3]) {
    double d[3] = {p[0] - m[12], p[1] - m[13], p[2] - m[14]};
    for (int k = 0; k < 3; k++) out[k] = m[4 * k] * d[0] + m[4 * k + 1] * d[1] + m[4 * k + 2] * d[2];
}

/* Jacobian of working CRS -> ENU at (x, y, z): columns are the images of unit steps. */
static ct_status local_jacobian(ct_context *ctx, ct_geo_transform *geo, const double m[16], double x, double y,
                                double z, double jac[9]) {
    double px[4] = {x, x + 1.0, x, x}, py[4] = {y, y, y + 1.0, y}, pz[4] = {z, z, z, z + 1.0};
    ct_status st = ct_geo_to_geodetic(ctx, geo, px, py, pz, 1, 4);
    if (st != CT_OK) return st;
    double enu[4][3];
    for (int k = 0; k < 4; k++) {
        double e[3];
        ct_geodetic_to_ecef(px[k], py[k], pz[k], e);
        ecef_to_enu(m, e, enu[k]);
    }
    for (int c = 0; c < 3; c++)
        for (int r = 0; r < 3; r++) jac[3 * c + r] = enu[c + 1][r] - enu[0][r];
    return CT_OK;
}

/* The largest distance (m) float32 rounding moved the nv positions pos from the exact ones:
 * a unit in the last place of the largest coordinate, for each of the three. */
static double float_rounding(const float *pos, size_t nv) {
    float big = 0.0f;
    for (size_t i = 0; i < 3 * nv; i++) big = fmaxf(big, fabsf(pos[i]));
    return 3.0 * (double)big * FLT_EPSILON;
}

/* The region grown by err metres every way: the positions written moved up to err from
 * the exact ones the region was made of (float32 rounding, compression). Near a pole a
 * millimetre is a wide angle of longitude (89.9 degrees: 5e-7 rad), more than any
 * reader's rounding room. */
static void grow_region(double r[6], double err) {
    const double radius = 6335439.0; /* WGS84's smallest radius of curvature: the widest angle */
    double dlat = err / radius;
    double lat = fmax(fabs(r[1]), fabs(r[3])) + dlat;
    double parallel = lat < M_PI_2 ? radius * cos(lat) : 0.0;
    double width = r[2] >= r[0] ? r[2] - r[0] : r[2] - r[0] + 2 * M_PI;
    double dlon = parallel > 0 ? err / parallel : INFINITY;
    if (!(width + 2 * dlon < 2 * M_PI)) { /* (around a pole) */
        r[0] = -M_PI;
        r[2] = M_PI;
    } else {
        r[0] -= dlon;
        r[2] += dlon;
        if (r[0] < -M_PI) r[0] += 2 * M_PI; /* across the antimeridian now: west > east */
        if (r[2] > M_PI) r[2] -= 2 * M_PI;
    }
    r[1] = fmax(r[1] - dlat, -M_PI_2);
    r[3] = fmin(r[3] + dlat, M_PI_2);
    r[4] -= err;
    r[5] += err;
}

/* The longest edge (m) of the ni / 3 triangles tri over positions pos. */
static double longest_edge(const float *pos, const uint32_t *tri, size_t ni) {
    double worst = 0;
    for (size_t i = 0; i + 2 < ni; i += 3)
        for (int k = 0; k < 3; k++) {
            const float *a = pos + 3 * (size_t)tri[i + k], *b = pos + 3 * (size_t)tri[i + (k + 1) % 3];
            double d2 = 0;
            for (int c = 0; c < 3; c++) d2 += ((double)a[c] - b[c]) * ((double)a[c] - b[c]);
            if (d2 > worst) worst = d2;
        }
    return sqrt(worst);
}

/* 1 when the working CRS's axes are a mirror image of east, north, up (a negative
 * Jacobian determinant): EPSG:2065 (S-JTSK) as GDAL reads it, southing then westing. */
static int mirrors(const double jac[9]) {
    double det = jac[0] * (jac[4] * jac[8] - jac[5] * jac[7]) - jac[3] * (jac[1] * jac[8] - jac[2] * jac[7]) +
                 jac[6] * (jac[1] * jac[5] - jac[2] * jac[4]);
    return det < 0;
}

/* Meshes are wound counter-clockwise seen from outside in the working CRS; in a mirrored
 * one that is clockwise on the Earth, and viewers cull the outside of every face. */
static void wind_the_other_way(uint32_t *tri, size_t ni) {
    for (size_t i = 0; i + 2 < ni; i += 3) {
        uint32_t t = tri[i + 1];
        tri[i + 1] = tri[i + 2];
        tri[i + 2] = t;
    }
}

/* The bits of v, the same for -0.0 and 0.0 (so equal coordinates have equal bits, and
 * a NaN matches its own copies instead of making every lookup probe on). */
static uint64_t coord_bits(double v) {
    v += 0.0; /* -0.0 becomes 0.0 */
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

/* Hash and equality of the first `dims` coordinates of a position. */
static uint64_t pos_hash(const double *p, int dims) {
    uint64_t h = 0;
    for (int k = 0; k < dims; k++) {
        h = (h ^ coord_bits(p[k])) * 0x9E3779B97F4A7C15ull;
        h ^= h >> 29;
    }
    return h;
}

static int same_pos(const double *a, const double *b, int dims) {
    for (int k = 0; k < dims; k++)
        if (coord_bits(a[k]) != coord_bits(b[k])) return 0;
    return 1;
}

/* The change of geo's longitude, latitude and height a metre of height (d[3]) when it
 * is the same, to 1e-12 rad (6 micrometres) and 1e-7 m over dz metres, at the first
 * and the last of the nv points (x, y, z interleaved) from zlo to zlo + dz: 1, else 0.
 * A projected CRS gives (0, 0, 1) (a geoid too); a 3D Helmert between datums turns the
 * position a little with the height (Amersfoort to WGS 84: 1.5 mm in 100 m), the same
 * way across a tile. */
static int height_slope(ct_geo_transform *geo, const double *g, size_t nv, double zlo, double zhi, double d[3]) {
    double dz = zhi - zlo > 10.0 ? zhi - zlo : 10.0;
    const double *a = g, *b = g + 3 * (nv - 1);
    double px[4] = {a[0], a[0], b[0], b[0]}, py[4] = {a[1], a[1], b[1], b[1]}, pz[4] = {zlo, zlo + dz, zlo, zlo + dz};
    /* (no context: a failure here is no error, the exact path meets it again and says it;
     * clearing the shared context's error would race with the other tiles' threads) */
    if (ct_geo_to_geodetic(NULL, geo, px, py, pz, 1, 4) != CT_OK) return 0;
    d[0] = (px[1] - px[0]) / dz;
    d[1] = (py[1] - py[0]) / dz;
    d[2] = (pz[1] - pz[0]) / dz;
    return fabs(px[3] - px[2] - (px[1] - px[0])) <= 1e-12 && fabs(py[3] - py[2] - (py[1] - py[0])) <= 1e-12 &&
           fabs(pz[3] - pz[2] - (pz[1] - pz[0])) <= 1e-7;
}

/* In place: working CRS -> geodetic for nv points (x, y, z interleaved), z from zlo to
 * zhi. Flat-shaded meshes repeat each position 3-6 times, and the PROJ transformation
 * is the writer's hot spot, so each distinct position is transformed once and copied
 * back. When the height moves the result the same way across the tile (height_slope),
 * each distinct (x, y) is transformed once, at zlo, and a vertex gets that plus its
 * height above zlo times the slope: an extruded building's floor and roof share their
 * (x, y), which halves the transformations again (within 6 micrometres of transforming
 * each: the slope is checked at two corners of the tile). Distinct positions are found
 * with a hash table, in first-appearance order (a sort with a comparison callback took
 * as long as a third of the transformations). */
static ct_status geodetic_unique(ct_context *ctx, ct_geo_transform *geo, double *g, size_t nv, double zlo,
                                 double zhi) {
    double slope[3] = {0, 0, 0};
    const int dims = nv > 0 && height_slope(geo, g, nv, zlo, zhi, slope) ? 2 : 3;
    size_t cap = 16;
    while (cap < 2 * nv) cap *= 2;
    uint32_t *table = calloc(cap, sizeof *table); /* unique index + 1; 0: empty */
    double *u = malloc(3 * nv * sizeof *u);
    uint32_t *slot = malloc(nv * sizeof *slot);
    if (!table || !u || !slot) {
        free(table); free(u); free(slot);
        return ct_error_nomem(ctx, "tile positions");
    }
    size_t nu = 0;
    for (size_t i = 0; i < nv; i++) {
        const double *p = g + 3 * i;
        size_t h = (size_t)pos_hash(p, dims) & (cap - 1);
        for (;;) {
            uint32_t e = table[h];
            if (e == 0) { /* new */
                memcpy(u + 3 * nu, p, 3 * sizeof *u);
                if (dims == 2) u[3 * nu + 2] = zlo;
                table[h] = (uint32_t)(++nu);
                slot[i] = (uint32_t)(nu - 1);
                break;
            }
            const double *q = u + 3 * (size_t)(e - 1);
            if (same_pos(q, p, dims)) {
                slot[i] = e - 1;
                break;
            }
            h = (h + 1) & (cap - 1);
        }
    }
    free(table);
    ct_status st = ct_geo_to_geodetic(ctx, geo, u, u + 1, u + 2, 3, nu);
    for (size_t i = 0; st == CT_OK && i < nv; i++) {
        const double *q = u + 3 * (size_t)slot[i];
        double z = g[3 * i + 2];
        double above = dims == 3 ? 0.0 : z - zlo;
        for (int k = 0; k < 3; k++) g[3 * i + k] = above == 0.0 ? q[k] : q[k] + above * slope[k];
    }
    free(u);
    free(slot);
    return st;
}

ct_status ct_tile_build(ct_context *ctx, ct_geo_transform *geo, const ct_dataset *ds, const uint32_t *idx,
                        size_t n, const ct_mesh *meshes, const char *class_name, const ct_glb_options *glb,
                        ct_tile_output *out) {
    return ct_tile_build_ex(ctx, geo, ds, idx, n, meshes, class_name, glb, 0, out);
}

ct_status ct_tile_build_ex(ct_context *ctx, ct_geo_transform *geo, const ct_dataset *ds, const uint32_t *idx,
                           size_t n, const ct_mesh *meshes, const char *class_name, const ct_glb_options *glb,
                           unsigned flags, ct_tile_output *out) {
#define MESH_OF(k) (meshes ? &meshes[k] : &ds->buildings[idx[k]].mesh)
    memset(out, 0, sizeof *out);
    size_t nv = 0, ni = 0;
    for (size_t k = 0; k < n; k++) {
        nv += MESH_OF(k)->nverts;
        ni += MESH_OF(k)->nindices;
    }
    if (nv == 0 || ni == 0) return ct_error(ctx, CT_ERR_INTERNAL, "tile with no geometry");
    if (nv > UINT32_MAX) return ct_error(ctx, CT_ERR_UNSUPPORTED, "tile with more than 2^32 vertices");
    double *geod = malloc(3 * nv * sizeof *geod);
    float *pos = malloc(3 * nv * sizeof *pos);
    float *nrm = malloc(3 * nv * sizeof *nrm);
    uint32_t *fid = malloc(nv * sizeof *fid);
    uint32_t *tri = malloc(ni * sizeof *tri);
    const char **ids = malloc((n ? n : 1) * sizeof *ids);
    const ct_value **rows = malloc((n ? n : 1) * sizeof *rows);
    ct_status st = CT_OK;
    if (!geod || !pos || !nrm || !fid || !tri || !ids || !rows) st = ct_error_nomem(ctx, "tile buffers");

    double cx = 0, cy = 0, cz = 0;
    if (st == CT_OK) {
        size_t v = 0, i = 0;
        for (size_t k = 0; k < n; k++) {
            const ct_building *b = &ds->buildings[idx[k]];
            const ct_mesh *m = MESH_OF(k);
            memcpy(geod + 3 * v, m->pos, 3 * m->nverts * sizeof(double));
            for (size_t j = 0; j < m->nverts; j++) fid[v + j] = (uint32_t)k;
            for (size_t j = 0; j < m->nindices; j++) tri[i + j] = (uint32_t)(m->idx[j] + v);
            v += m->nverts;
            i += m->nindices;
            ids[k] = b->id;
            rows[k] = b->attrs;
        }
        double bb[6] = {geod[0], geod[1], geod[2], geod[0], geod[1], geod[2]};
        for (size_t j = 1; j < nv; j++)
            for (int c = 0; c < 3; c++) {
                if (geod[3 * j + c] < bb[c]) bb[c] = geod[3 * j + c];
                if (geod[3 * j + c] > bb[3 + c]) bb[3 + c] = geod[3 * j + c];
            }
        cx = 0.5 * (bb[0] + bb[3]);
        cy = 0.5 * (bb[1] + bb[4]);
        cz = bb[2];
        st = geodetic_unique(ctx, geo, geod, nv, bb[2], bb[5]);
    }
    if (st == CT_OK) {
        double *r = out->region;
        r[0] = r[2] = geod[0];
        r[1] = r[3] = geod[1];
        r[4] = r[5] = geod[2];
        for (size_t j = 1; j < nv; j++) {
            const double *g = geod + 3 * j;
            if (g[0] < r[0]) r[0] = g[0];
            if (g[0] > r[2]) r[2] = g[0];
            if (g[1] < r[1]) r[1] = g[1];
            if (g[1] > r[3]) r[3] = g[1];
            if (g[2] < r[4]) r[4] = g[2];
            if (g[2] > r[5]) r[5] = g[2];
        }
        if (r[2] - r[0] > M_PI) ct_lon_range(geod, nv, 3, &r[0], &r[2]); /* across the antimeridian */
        double origin[3] = {cx, cy, cz};
        st = ct_geo_to_geodetic(ctx, geo, origin, origin + 1, origin + 2, 1, 1);
        if (st == CT_OK) ct_enu_to_ecef_matrix(origin[0], origin[1], origin[2], out->transform);
    }
    double jac[9];
    if (st == CT_OK) st = local_jacobian(ctx, geo, out->transform, cx, cy, cz, jac);
    if (st == CT_OK && mirrors(jac)) wind_the_other_way(tri, ni);
    if (st == CT_OK) {
        size_t v = 0;
        for (size_t k = 0; k < n; k++) {
            const ct_mesh *m = MESH_OF(k);
            for (size_t j = 0; j < m->nverts; j++, v++) {
                double e[3], l[3];
                ct_geodetic_to_ecef(geod[3 * v], geod[3 * v + 1], geod[3 * v + 2], e);
                ecef_to_enu(out->transform, e, l);
                for (int c = 0; c < 3; c++) pos[3 * v + c] = (float)l[c];
                const float *nn = m->nrm + 3 * j;
                double t[3];
                for (int r = 0; r < 3; r++) t[r] = jac[r] * nn[0] + jac[3 + r] * nn[1] + jac[6 + r] * nn[2];
                double len = sqrt(t[0] * t[0] + t[1] * t[1] + t[2] * t[2]);
                for (int c = 0; c < 3; c++) nrm[3 * v + c] = (float)(t[c] / len);
            }
        }
        ct_glb_mesh_input mesh = {nv, pos, nrm, fid, ni, tri, {0, 0, 0, 0},
                                  (flags & CT_TILE_EMBED_TRANSFORM) ? out->transform : NULL};
        ct_glb_features feats = {class_name, n, ids, ds->attrs, ds->nattrs, rows};
        st = ct_glb_encode_ex(ctx, &mesh, &feats, glb, &out->glb, &out->glb_len, &out->stats);
        if (st == CT_OK) grow_region(out->region, float_rounding(pos, nv) + out->stats.max_position_error);
        if (st == CT_OK) ct_region_hold_faces(out->region, longest_edge(pos, tri, ni));
    }
    free(geod); free(pos); free(nrm); free(fid); free(tri); free(ids); free(rows);
    out->has_content = st == CT_OK;
    return st;
#undef MESH_OF
}
