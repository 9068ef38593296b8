/* Building meshes are flat-shaded (each face owns its vertices), which would lock every
 * edge for a simplifier. So positions are welded first, simplified as one closed surface,
 * and the result is flat-shaded again with face normals. Coordinates are taken relative
 * to the first vertex so float precision is kept with projected coordinates. */
#include "tiles/lod.h"

#include <math.h>
#include <meshoptimizer.h>
#include <stdlib.h>
#include <string.h>

int ct_lod_simplify_mesh(const ct_mesh *in, double abs_error, ct_mesh *out, double *achieved) {
    memset(out, 0, sizeof *out);
    *achieved = 0;
    size_t nv = in->nverts, ni = in->nindices;
    if (nv == 0 || ni == 0) return 0;
    double ox = in->pos[0], oy = in->pos[1], oz = in->pos[2];
    float *pos = malloc(nv * 3 * sizeof *pos);
    unsigned int *remap = malloc(nv * sizeof *remap);
    unsigned int *idx = malloc(ni * sizeof *idx);
    unsigned int *simp = malloc(ni * sizeof *simp);
    float *welded = NULL;
    int rc = -1;
    if (!pos || !remap || !idx || !simp) goto done;
    for (size_t v = 0; v < nv; v++) {
        pos[3 * v] = (float)(in->pos[3 * v] - ox);
        pos[3 * v + 1] = (float)(in->pos[3 * v + 1] - oy);
        pos[3 * v + 2] = (float)(in->pos[3 * v + 2] - oz);
    }
    size_t nu = meshopt_generateVertexRemap(remap, in->idx, ni, pos, nv, 3 * sizeof(float));
    welded = malloc((nu ? nu : 1) * 3 * sizeof *welded);
    if (!welded) goto done;
    meshopt_remapVertexBuffer(welded, pos, nv, 3 * sizeof(float), remap);
    meshopt_remapIndexBuffer(idx, in->idx, ni, remap);
    float scale = meshopt_simplifyScale(welded, nu, 3 * sizeof(float));
    float rel = scale > 0 ? (float)(abs_error / scale) : 0.f, err = 0.f;
    size_t ns = meshopt_simplify(simp, idx, ni, welded, nu, 3 * sizeof(float), 0, rel, 0, &err);
    *achieved = (double)err * scale;
    /* Flat-shade the result: three vertices and a face normal per triangle. */
    size_t nt = ns / 3, kept = 0;
    out->pos = malloc((nt ? nt : 1) * 9 * sizeof *out->pos);
    out->nrm = malloc((nt ? nt : 1) * 9 * sizeof *out->nrm);
    out->idx = malloc((nt ? nt : 1) * 3 * sizeof *out->idx);
    if (!out->pos || !out->nrm || !out->idx) {
        ct_mesh_free(out);
        goto done;
    }
    for (size_t t = 0; t < nt; t++) {
        const float *a = welded + 3 * simp[3 * t], *b = welded + 3 * simp[3 * t + 1], *c = welded + 3 * simp[3 * t + 2];
        double u[3] = {b[0] - a[0], b[1] - a[1], b[2] - a[2]}, w[3] = {c[0] - a[0], c[1] - a[1], c[2] - a[2]};
        double n[3] = {u[1] * w[2] - u[2] * w[1], u[2] * w[0] - u[0] * w[2], u[0] * w[1] - u[1] * w[0]};
        double len = sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
        if (!(len > 1e-12)) continue; /* a collapsed triangle adds nothing */
        const float *corner[3] = {a, b, c};
        for (int k = 0; k < 3; k++) {
            size_t v = 3 * kept + (size_t)k;
            out->pos[3 * v] = ox + corner[k][0];
            out->pos[3 * v + 1] = oy + corner[k][1];
            out->pos[3 * v + 2] = oz + corner[k][2];
            for (int d = 0; d < 3; d++) out->nrm[3 * v + d] = (float)(n[d] / len);
            out->idx[v] = (uint32_t)v;
        }
        kept++;
    }
    out->nverts = 3 * kept;
    out->nindices = 3 * kept;
    rc = 0;
done:
    free(pos);
    free(remap);
    free(idx);
    free(simp);
    free(welded);
    return rc;
}
