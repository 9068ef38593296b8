/* Symbol models through Assimp's C API: see include/citytiler/symbol.h.
 *
 * Assimp does the format work and the merging of the node hierarchy
 * (aiProcess_PreTransformVertices bakes node transforms into the vertices); we then
 * concatenate its meshes' triangles into one mesh, bring it to z-up and hand it to
 * ct_symbol_transform (scale, heading, base-centre origin). Assimp's logger is never
 * enabled, and the property store is per call. */
#include "citytiler/symbol.h"
#include "io/input_file.h"
#include "io/ply_header_check.h"

#include <assimp/cimport.h>
#include <assimp/material.h>
#include <assimp/postprocess.h>
#include <assimp/scene.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define POST_FLAGS                                                                                  \
    (aiProcess_Triangulate | aiProcess_JoinIdenticalVertices | aiProcess_GenSmoothNormals |         \
     aiProcess_PreTransformVertices | aiProcess_SortByPType | aiProcess_ValidateDataStructure)

/* Material colour: glTF base colour, else diffuse, else light grey. */
static void material_color(const struct aiScene *sc, unsigned mi, float out[4]) {
    out[0] = out[1] = out[2] = 0.8f;
    out[3] = 1.0f;
    if (mi >= sc->mNumMaterials || !sc->mMaterials[mi]) return;
    struct aiColor4D c;
    if (aiGetMaterialColor(sc->mMaterials[mi], AI_MATKEY_BASE_COLOR, &c) == aiReturn_SUCCESS ||
        aiGetMaterialColor(sc->mMaterials[mi], AI_MATKEY_COLOR_DIFFUSE, &c) == aiReturn_SUCCESS) {
        const float v[4] = {c.r, c.g, c.b, c.a};
        for (int k = 0; k < 4; k++) out[k] = isfinite(v[k]) ? fminf(fmaxf(v[k], 0.0f), 1.0f) : out[k];
    }
}

static int is_triangle(const struct aiFace *f, unsigned nv) {
    return f->mNumIndices == 3 && f->mIndices[0] < nv && f->mIndices[1] < nv && f->mIndices[2] < nv;
}

/* Copies the scene's triangles into *out (model frame). Returns CT_OK or an error. */
static ct_status merge_meshes(ct_context *ctx, const char *path, const struct aiScene *sc, ct_symbol *out) {
    size_t nv = 0, ni = 0;
    for (unsigned m = 0; m < sc->mNumMeshes; m++) {
        const struct aiMesh *me = sc->mMeshes[m];
        if (!me || !me->mVertices) continue;
        size_t tris = 0;
        for (unsigned f = 0; f < me->mNumFaces; f++) tris += is_triangle(&me->mFaces[f], me->mNumVertices);
        if (tris == 0) continue;
        nv += me->mNumVertices;
        ni += 3 * tris;
    }
    if (ni == 0)
        return ct_error(ctx, CT_ERR_INPUT, "%s: model has no triangles (%u meshes)", path, sc->mNumMeshes);
    if (nv > UINT32_MAX)
        return ct_error(ctx, CT_ERR_UNSUPPORTED, "%s: model has %zu vertices (at most 2^32 - 1)", path, nv);
    if (nv > SIZE_MAX / (3 * sizeof(float)) || ni > SIZE_MAX / sizeof(uint32_t))
        return ct_error(ctx, CT_ERR_UNSUPPORTED, "%s: model too large", path);
    out->pos = malloc(nv * 3 * sizeof *out->pos);
    out->nrm = calloc(nv * 3, sizeof *out->nrm);
    out->idx = malloc(ni * sizeof *out->idx);
    if (!out->pos || !out->nrm || !out->idx) return ct_error_nomem(ctx, "symbol mesh");

    double colsum[4] = {0, 0, 0, 0}, wsum = 0;
    size_t v0 = 0, k = 0;
    for (unsigned m = 0; m < sc->mNumMeshes; m++) {
        const struct aiMesh *me = sc->mMeshes[m];
        if (!me || !me->mVertices) continue;
        const unsigned mv = me->mNumVertices;
        size_t k0 = k;
        double area = 0;
        for (unsigned f = 0; f < me->mNumFaces; f++) {
            const struct aiFace *fc = &me->mFaces[f];
            if (!is_triangle(fc, mv)) continue;
            const struct aiVector3D *a = &me->mVertices[fc->mIndices[0]], *b = &me->mVertices[fc->mIndices[1]],
                                    *c = &me->mVertices[fc->mIndices[2]];
            double e1[3] = {b->x - a->x, b->y - a->y, b->z - a->z}, e2[3] = {c->x - a->x, c->y - a->y, c->z - a->z};
            double cr[3] = {e1[1] * e2[2] - e1[2] * e2[1], e1[2] * e2[0] - e1[0] * e2[2],
                            e1[0] * e2[1] - e1[1] * e2[0]};
            double l = sqrt(cr[0] * cr[0] + cr[1] * cr[1] + cr[2] * cr[2]);
            if (isfinite(l)) area += 0.5 * l;
            for (int j = 0; j < 3; j++) {
                uint32_t vi = (uint32_t)(v0 + fc->mIndices[j]);
                out->idx[k++] = vi;
                if (!me->mNormals) /* area-weighted face normals, normalised below */
                    for (int q = 0; q < 3; q++) out->nrm[3 * vi + q] += (float)cr[q];
            }
        }
        if (k == k0) continue; /* no triangles: its vertices were not counted */
        for (unsigned i = 0; i < mv; i++) {
            const struct aiVector3D *p = &me->mVertices[i];
            float *d = out->pos + 3 * (v0 + i);
            d[0] = p->x;
            d[1] = p->y;
            d[2] = p->z;
            if (!isfinite(d[0]) || !isfinite(d[1]) || !isfinite(d[2]))
                return ct_error(ctx, CT_ERR_INPUT, "%s: mesh %u vertex %u has a non-finite coordinate", path, m, i);
            if (me->mNormals) {
                float *n = out->nrm + 3 * (v0 + i);
                n[0] = me->mNormals[i].x;
                n[1] = me->mNormals[i].y;
                n[2] = me->mNormals[i].z;
            }
        }
        float col[4];
        material_color(sc, me->mMaterialIndex, col);
        for (int q = 0; q < 4; q++) colsum[q] += area * col[q];
        wsum += area;
        v0 += mv;
    }
    out->nverts = nv;
    out->nindices = ni;
    for (size_t i = 0; i < nv; i++) {
        float *n = out->nrm + 3 * i;
        float l = sqrtf(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
        if (isfinite(l) && l > 1e-20f) {
            for (int q = 0; q < 3; q++) n[q] /= l;
        } else { /* degenerate: any unit vector (y is up in the model frame by default) */
            n[0] = n[2] = 0.0f;
            n[1] = 1.0f;
        }
    }
    for (int q = 0; q < 4; q++) out->base_color[q] = wsum > 0 ? (float)(colsum[q] / wsum) : (q < 3 ? 0.8f : 1.0f);
    return CT_OK;
}

ct_status ct_symbol_load(ct_context *ctx, const char *path, const ct_symbol_options *options, ct_symbol *out) {
    static const ct_symbol_options defaults = {0};
    if (!out) return ct_error(ctx, CT_ERR_USAGE, "symbol: out is required");
    memset(out, 0, sizeof *out);
    if (!path || !path[0]) return ct_error(ctx, CT_ERR_USAGE, "symbol: no model file given");
    if (!options) options = &defaults;
    ct_status st = ct_symbol_options_check(ctx, path, options);
    if (st == CT_OK) st = ct_input_file_check(ctx, path, "model");
    /* Assimp trusts a PLY header's counts: 4e9 vertices in a 178-byte file ran it out of memory */
    if (st == CT_OK) st = ct_ply_header_check(ctx, path);
    if (st != CT_OK) return st;

    struct aiPropertyStore *props = aiCreatePropertyStore();
    if (!props) return ct_error_nomem(ctx, "Assimp property store");
    aiSetImportPropertyInteger(props, AI_CONFIG_PP_SBP_REMOVE, aiPrimitiveType_POINT | aiPrimitiveType_LINE);
    aiSetImportPropertyFloat(props, AI_CONFIG_PP_GSN_MAX_SMOOTHING_ANGLE, 30.0f);
    aiSetImportPropertyInteger(props, AI_CONFIG_IMPORT_NO_SKELETON_MESHES, 1);
    const struct aiScene *sc = aiImportFileExWithProperties(path, POST_FLAGS, NULL, props);
    aiReleasePropertyStore(props);
    if (!sc) {
        const char *msg = aiGetErrorString();
        return ct_error(ctx, CT_ERR_INPUT, "%s: cannot load model: %s", path, msg && msg[0] ? msg : "unknown error");
    }
    st = merge_meshes(ctx, path, sc, out);
    aiReleaseImport(sc);
    if (st != CT_OK) {
        ct_symbol_free(out);
        return st;
    }
    if (options->up_axis == CT_SYMBOL_UP_Y) { /* (x, y, z) -> (x, -z, y): a rotation, winding kept */
        for (size_t i = 0; i < 3 * out->nverts; i += 3) {
            float *p = out->pos + i, *n = out->nrm + i, t;
            t = p[1]; p[1] = -p[2]; p[2] = t;
            t = n[1]; n[1] = -n[2]; n[2] = t;
        }
    }
    if (options->normalize_height > 0) {
        float zmin = out->pos[2], zmax = out->pos[2];
        for (size_t i = 0; i < out->nverts; i++) {
            zmin = fminf(zmin, out->pos[3 * i + 2]);
            zmax = fmaxf(zmax, out->pos[3 * i + 2]);
        }
        if (!(zmax > zmin)) {
            ct_symbol_free(out);
            return ct_error(ctx, CT_ERR_INPUT, "%s: model has zero height: cannot normalize_height", path);
        }
    }
    st = ct_symbol_transform(ctx, out, options); /* options were checked: cannot fail */
    /* A model reaching farther than any city asset from the point it is placed at (its
     * units, its scale, or geometry far from its own origin with origin "model"): a model
     * with 1e30 coordinates stretched the tileset over a hemisphere, and one 1000 km from
     * its origin put every instance 1000 km from its asset, without a word. */
    double reach = 0;
    for (int k = 0; k < 3; k++) reach = fmax(reach, fmax(fabs(out->bbox_min[k]), fabs(out->bbox_max[k])));
    if (st == CT_OK && !(reach <= CT_SYMBOL_MAX_REACH))
        st = ct_error(ctx, CT_ERR_INPUT,
                      "%s: the model reaches %.3g m from the point it is placed at (box x %.3g..%.3g, y %.3g..%.3g, "
                      "z %.3g..%.3g m after scale), more than the %g m of any city asset: its units (set scale), or "
                      "geometry far from its own origin (origin \"model\")?",
                      path, reach, out->bbox_min[0], out->bbox_max[0], out->bbox_min[1], out->bbox_max[1],
                      out->bbox_min[2], out->bbox_max[2], (double)CT_SYMBOL_MAX_REACH);
    if (st != CT_OK) ct_symbol_free(out);
    return st;
}
