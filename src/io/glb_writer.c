/* GLB (binary glTF 2.0) encoder: see include/citytiler/glb.h.
 *
 * Two passes over the input: the first checks it and sizes everything (position
 * bounds, per-column statistics, the BIN layout), the JSON is then built and
 * serialised, the output is allocated once, and the second pass fills the BIN
 * chunk in place. No allocation depends on the vertex count except the output.
 * The container, the BIN layout and the property table are shared with the instanced
 * writer (io/glb_internal.h); the geometry and its meshopt compression are here.
 *
 * Feature ID attribute: glTF requires each vertex attribute element to start on a
 * 4-byte boundary, so one feature ID costs 4 bytes per vertex whatever its type:
 * UNSIGNED_SHORT with byteStride 4 (2 bytes of zero padding), FLOAT, or interleaving
 * it after position+normal (24 + 2 bytes padded to 28). Measured on test_glb's
 * 3000-box tile (72000 vertices): 288000 bytes either way; deflated 5679 bytes
 * (UNSIGNED_SHORT + 2 zero bytes) vs 4950 (FLOAT), i.e. 0.2% of the 297 kB gzipped tile.
 * We use UNSIGNED_SHORT because the IDs stay integers (no float-to-int conversion in
 * readers, nothing to get wrong near 2^24) and fall back to FLOAT (exact up to 2^24)
 * above 65536 features, since glTF forbids UNSIGNED_INT for vertex attributes. */
#include "citytiler/glb.h"
#include "io/glb_internal.h"

#include <math.h>
#include <meshoptimizer.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FEATURES_USHORT 65536u       /* ids 0..65535 */
#define MAX_FEATURES_FLOAT (1u << 24)    /* floats hold integers exactly up to 2^24 */

/* ---------------------------------------------------------------- meshopt compression
 *
 * mo_prepare reorders, quantises and encodes the geometry streams before the layout is
 * planned; the encoder then only copies the compressed bytes into the BIN chunk. */

typedef struct mo_stream {
    uint8_t *data;   /* compressed bytes (malloc'd) */
    size_t len;      /* compressed length */
    size_t count;    /* elements */
    unsigned stride; /* bytes per element once decoded */
} mo_stream;

typedef struct mo_geom {
    size_t nv;                  /* vertices written */
    int quantized;              /* positions UNSIGNED_SHORT (else FLOAT + EXPONENTIAL filter) */
    double translation[3], scale;
    long qmin[3], qmax[3];      /* quantized: integer bounds */
    float pmin[3], pmax[3];     /* float: bounds of the decoded positions */
    double max_err;             /* metres */
    mo_stream pos, nrm, fid, idx;
} mo_geom;

static void mo_free(mo_geom *g) {
    free(g->pos.data);
    free(g->nrm.data);
    free(g->fid.data);
    free(g->idx.data);
}

/* What the mo_ steps return: 0, or out of memory, or a bitstream not of the version
 * EXT_meshopt_compression reads. */
enum { MO_OK = 0, MO_NOMEM = -1, MO_CODEC = -2 };

static pthread_once_t mo_once = PTHREAD_ONCE_INIT;
/* EXT_meshopt_compression's TRIANGLES bitstream is index codec version 1 (header 0xe1);
 * meshoptimizer 0.18 encodes version 0 unless told otherwise. */
static void mo_init(void) { meshopt_encodeIndexVersion(1); }

/* Encodes `count` elements of `stride` bytes (attribute codec): MO_OK, MO_NOMEM, or
 * MO_CODEC when the bitstream is not the version expected. */
static int mo_encode_attr(mo_stream *s, const void *data, size_t count, unsigned stride) {
    size_t cap = meshopt_encodeVertexBufferBound(count, stride);
    s->data = malloc(cap);
    if (!s->data) return MO_NOMEM;
    s->len = meshopt_encodeVertexBuffer(s->data, cap, data, count, stride);
    s->count = count;
    s->stride = stride;
    return s->len == 0 || s->data[0] != 0xa0 ? MO_CODEC : MO_OK;
}

/* Smallest exponential-filter mantissa width K (<= 24) for which every coordinate whose
 * vector's largest |component| is <= maxabs decodes within `err` (per coordinate). The
 * filter stores 2^e * m with e = (frexp exponent of the vector's largest |component|) - (K-1). */
static int mo_exp_bits(double maxabs, double err) {
    int e;
    (void)frexp(maxabs, &e);
    for (int k = 1; k <= 24; k++)
        if (ldexp(0.5, e - (k - 1)) <= err) return k;
    return 24;
}

/* Positions on a UNSIGNED_SHORT grid of step extent / 65535 (node 1 maps it back). */
static int mo_positions_quantized(const ct_glb_mesh_input *mesh, const unsigned *src, size_t nv2, double step,
                                  const float pmin[3], void *tmp, mo_geom *g) {
    uint16_t *q = tmp;
    memset(q, 0, nv2 * 8);
    for (int k = 0; k < 3; k++) {
        g->translation[k] = pmin[k];
        g->qmin[k] = 65535;
        g->qmax[k] = 0;
    }
    g->scale = step;
    for (size_t i = 0; i < nv2; i++) {
        const float *p = mesh->pos + 3 * (size_t)src[i];
        double d2 = 0;
        for (int k = 0; k < 3; k++) {
            double v = nearbyint(((double)p[k] - g->translation[k]) / step);
            long qi = v < 0 ? 0 : v > 65535 ? 65535 : (long)v;
            q[4 * i + k] = (uint16_t)qi;
            if (qi < g->qmin[k]) g->qmin[k] = qi;
            if (qi > g->qmax[k]) g->qmax[k] = qi;
            double e = g->translation[k] + step * (double)qi - (double)p[k];
            d2 += e * e;
        }
        g->max_err = fmax(g->max_err, sqrt(d2));
    }
    return mo_encode_attr(&g->pos, q, nv2, 8);
}

/* Positions as FLOAT through the exponential filter, with the fewest mantissa bits that
 * keep every vertex within tol; the bounds and the error from a decoded copy. */
static int mo_positions_filtered(const ct_glb_mesh_input *mesh, const unsigned *src, size_t nv2, double tol,
                                 void *tmp, mo_geom *g) {
    float *f = tmp;
    double maxabs = 0;
    for (size_t i = 0; i < nv2; i++)
        for (int k = 0; k < 3; k++) {
            f[3 * i + k] = mesh->pos[3 * (size_t)src[i] + k];
            maxabs = fmax(maxabs, fabs((double)f[3 * i + k]));
        }
    int bits = mo_exp_bits(maxabs, tol / sqrt(3.0));
    void *filtered = malloc(nv2 * 12);
    float *dec = malloc(nv2 * 12);
    if (!filtered || !dec) {
        free(filtered);
        free(dec);
        return MO_NOMEM;
    }
    meshopt_encodeFilterExp(filtered, nv2, 12, bits, f);
    memcpy(dec, filtered, nv2 * 12);
    meshopt_decodeFilterExp(dec, nv2, 12);
    for (int k = 0; k < 3; k++) {
        g->pmin[k] = INFINITY;
        g->pmax[k] = -INFINITY;
    }
    for (size_t i = 0; i < nv2; i++) {
        double d2 = 0;
        for (int k = 0; k < 3; k++) {
            float x = dec[3 * i + k];
            if (x < g->pmin[k]) g->pmin[k] = x;
            if (x > g->pmax[k]) g->pmax[k] = x;
            double e = (double)x - (double)f[3 * i + k];
            d2 += e * e;
        }
        g->max_err = fmax(g->max_err, sqrt(d2));
    }
    free(dec);
    int rc = mo_encode_attr(&g->pos, filtered, nv2, 12);
    free(filtered);
    return rc;
}

/* Positions: quantised when the grid of extent / 65535 keeps every vertex within tol
 * (KHR_mesh_quantization), else filtered floats. */
static int mo_positions(const ct_glb_mesh_input *mesh, const unsigned *src, size_t nv2, double tol, void *tmp,
                        mo_geom *g) {
    float pmin[3], pmax[3];
    for (int k = 0; k < 3; k++) {
        pmin[k] = INFINITY;
        pmax[k] = -INFINITY;
    }
    for (size_t i = 0; i < nv2; i++)
        for (int k = 0; k < 3; k++) {
            float x = mesh->pos[3 * (size_t)src[i] + k];
            if (x < pmin[k]) pmin[k] = x;
            if (x > pmax[k]) pmax[k] = x;
        }
    double extent = 0;
    for (int k = 0; k < 3; k++) extent = fmax(extent, (double)pmax[k] - (double)pmin[k]);
    double step = extent > 0 ? extent / 65535.0 : 1.0;
    g->quantized = step * sqrt(3.0) / 2.0 <= tol;
    return g->quantized ? mo_positions_quantized(mesh, src, nv2, step, pmin, tmp, g)
                        : mo_positions_filtered(mesh, src, nv2, tol, tmp, g);
}

/* Normals: snorm8 x, y, z and a zero pad byte. */
static int mo_normals(ct_context *ctx, const ct_glb_mesh_input *mesh, const unsigned *src, size_t nv2, void *tmp,
                      mo_geom *g) {
    int8_t *n8 = tmp;
    size_t fixed = 0;
    for (size_t i = 0; i < nv2; i++) {
        float n[3];
        ct_glb_unit_normal(mesh->nrm + 3 * (size_t)src[i], n, &fixed);
        for (int k = 0; k < 3; k++) n8[4 * i + k] = (int8_t)lroundf(n[k] * 127.0f);
        n8[4 * i + 3] = 0;
    }
    if (fixed) ct_log(ctx, CT_LOG_WARN, "glb: %zu zero or non-finite normals replaced by (0,0,1)", fixed);
    return mo_encode_attr(&g->nrm, n8, nv2, 4);
}

/* Feature ids: UNSIGNED_SHORT + 2 zero bytes (little-endian uint32), or FLOAT. */
static int mo_feature_ids(const ct_glb_mesh_input *mesh, const unsigned *src, size_t nv2, int fid_float, void *tmp,
                          mo_geom *g) {
    uint32_t *w = tmp;
    for (size_t i = 0; i < nv2; i++) {
        uint32_t id = mesh->feature_id[src[i]];
        if (fid_float) {
            float x = (float)id;
            memcpy(&w[i], &x, 4);
        } else {
            w[i] = id;
        }
    }
    return mo_encode_attr(&g->fid, w, nv2, 4);
}

/* The reordered indices (index codec). */
static int mo_indices(const unsigned *idx, size_t ni, size_t nv2, mo_geom *g) {
    size_t cap = meshopt_encodeIndexBufferBound(ni, nv2);
    g->idx.data = malloc(cap);
    if (!g->idx.data) return MO_NOMEM;
    g->idx.len = meshopt_encodeIndexBuffer(g->idx.data, cap, idx, ni);
    g->idx.count = ni;
    g->idx.stride = nv2 <= 65535 ? 2 : 4;
    return g->idx.len == 0 || g->idx.data[0] != 0xe1 ? MO_CODEC : MO_OK;
}

/* Reorders, quantises and compresses the mesh (indices and feature ids already checked). */
static ct_status mo_prepare(ct_context *ctx, const ct_glb_mesh_input *mesh, int with_fid,
                            int fid_float, double tol, mo_geom *g) {
    const size_t nv = mesh->nverts, ni = mesh->nindices;
    memset(g, 0, sizeof *g);
    if (nv > UINT32_MAX || ni > SIZE_MAX / 16 || nv > SIZE_MAX / 16)
        return ct_error(ctx, CT_ERR_UNSUPPORTED, "glb: %zu vertices: too many to compress", nv);
    pthread_once(&mo_once, mo_init);

    unsigned int *idx = malloc(ni * sizeof *idx);
    unsigned int *remap = malloc(nv * sizeof *remap);
    unsigned int *src = malloc(nv * sizeof *src); /* new vertex -> input vertex */
    void *tmp = malloc(nv * 16);                  /* one attribute stream at a time */
    int rc = idx && remap && src && tmp ? MO_OK : MO_NOMEM;
    if (rc == MO_OK) {
        /* triangles for the vertex cache, then vertices in first-use order */
        meshopt_optimizeVertexCache(idx, mesh->idx, ni, nv);
        const size_t nv2 = meshopt_optimizeVertexFetchRemap(remap, idx, ni, nv);
        for (size_t i = 0; i < nv; i++)
            if (remap[i] != ~0u) src[remap[i]] = (unsigned)i;
        for (size_t i = 0; i < ni; i++) idx[i] = remap[idx[i]];
        g->nv = nv2;
        rc = mo_positions(mesh, src, nv2, tol, tmp, g);
        if (rc == MO_OK && mesh->nrm) rc = mo_normals(ctx, mesh, src, nv2, tmp, g);
        if (rc == MO_OK && with_fid) rc = mo_feature_ids(mesh, src, nv2, fid_float, tmp, g);
        if (rc == MO_OK) rc = mo_indices(idx, ni, nv2, g);
    }
    free(idx);
    free(remap);
    free(src);
    free(tmp);
    if (rc == MO_OK) return CT_OK;
    mo_free(g);
    if (rc == MO_NOMEM) return ct_error_nomem(ctx, "glb compression");
    return ct_error(ctx, CT_ERR_INTERNAL, "glb: meshoptimizer produced an unexpected bitstream (codec version changed?)");
}

/* Reserves a compressed view: st->len bytes in BIN at a 4-byte boundary, and its decoded
 * range (count * stride) in the fallback buffer at a 4-byte boundary. */
static int layout_add_mo(ct_glb_layout *L, const mo_stream *st, int target, const char *mode,
                         const char *filter) {
    int i = ct_glb_layout_add(L, 4, st->len, 0, target);
    ct_glb_view *v = &L->views[i];
    size_t raw = ct_glb_mul(L, st->count, st->stride);
    size_t off = ct_glb_pad4(L->fb_end);
    if (off < L->fb_end || off + raw < off) L->overflow = 1;
    v->mode = mode;
    v->filter = filter;
    v->count = st->count;
    v->mo_stride = st->stride;
    v->fb_offset = off;
    L->fb_end = off + raw;
    return i;
}

/* ---------------------------------------------------------------- encoder */

ct_status ct_glb_encode(ct_context *ctx, const ct_glb_mesh_input *mesh,
                        const ct_glb_features *features, uint8_t **out, size_t *out_len) {
    return ct_glb_encode_ex(ctx, mesh, features, NULL, out, out_len, NULL);
}

/* One encoding: the input, the choices made from it, and the BIN chunk's views. */
typedef struct encode_job {
    const ct_glb_mesh_input *mesh;
    const ct_glb_features *F; /* NULL without features */
    size_t nv, ni;            /* input vertices and indices */
    size_t nvw;               /* vertices written (meshopt may drop duplicates) */
    int compress;             /* EXT_meshopt_compression */
    int quantized;            /* positions UNSIGNED_SHORT under node 1 */
    int fid_float;            /* feature ids as FLOAT (over 65536 features) */
    int idx_ushort;           /* indices as UNSIGNED_SHORT */
    double tol;               /* compress: the largest position error allowed (m) */
    float pmin[3], pmax[3];   /* bounds of the input positions */
    mo_geom mo;               /* compress: the encoded streams */
    int bv_pos, bv_nrm, bv_fid, bv_idx; /* buffer views (-1: none) */
} encode_job;

/* The input's shape and options (pass 1 begins: nothing is read per vertex yet). */
static ct_status check_options(ct_context *ctx, encode_job *e, const ct_glb_options *options) {
    const ct_glb_mesh_input *mesh = e->mesh;
    if (e->nv == 0 || e->ni == 0)
        return ct_error(ctx, CT_ERR_USAGE, "glb: empty mesh (%zu vertices, %zu indices)", e->nv, e->ni);
    if (!mesh->pos || !mesh->idx)
        return ct_error(ctx, CT_ERR_USAGE, "glb: positions and indices are required");
    if (e->ni % 3 != 0)
        return ct_error(ctx, CT_ERR_USAGE, "glb: %zu indices is not a multiple of 3", e->ni);
    for (int k = 0; mesh->root_matrix && k < 16; k++)
        if (!isfinite(mesh->root_matrix[k]))
            return ct_error(ctx, CT_ERR_USAGE, "glb: root_matrix has a non-finite element");
    const ct_glb_features *F = e->F;
    if (F) {
        if (!mesh->feature_id)
            return ct_error(ctx, CT_ERR_USAGE, "glb: %zu features but no per-vertex feature_id",
                            F->nfeatures);
        if (F->nfeatures > MAX_FEATURES_FLOAT)
            return ct_error(ctx, CT_ERR_UNSUPPORTED, "glb: %zu features (at most %u per tile)",
                            F->nfeatures, MAX_FEATURES_FLOAT);
        if (F->ndefs > 0 && (!F->defs || !F->rows))
            return ct_error(ctx, CT_ERR_USAGE, "glb: %zu columns but no defs or rows", F->ndefs);
    }
    e->compress = options && options->compression == CT_GLB_COMPRESSION_MESHOPT;
    if (options && options->compression != CT_GLB_COMPRESSION_NONE && !e->compress)
        return ct_error(ctx, CT_ERR_USAGE, "glb: unknown compression %d", (int)options->compression);
    e->tol = options && options->max_position_error > 0 ? options->max_position_error : 0.01;
    if (e->compress && !isfinite(e->tol))
        return ct_error(ctx, CT_ERR_USAGE, "glb: max_position_error must be finite");
    e->fid_float = F && F->nfeatures > MAX_FEATURES_USHORT;
    return CT_OK;
}

/* Pass 1 over the arrays: indices and feature ids in range, positions finite, and
 * their bounds. */
static ct_status check_arrays(ct_context *ctx, encode_job *e) {
    const ct_glb_mesh_input *mesh = e->mesh;
    for (size_t i = 0; i < e->ni; i++)
        if (mesh->idx[i] >= e->nv)
            return ct_error(ctx, CT_ERR_USAGE, "glb: index %zu is %u, but there are %zu vertices", i,
                            (unsigned)mesh->idx[i], e->nv);
    if (e->F)
        for (size_t i = 0; i < e->nv; i++)
            if (mesh->feature_id[i] >= e->F->nfeatures)
                return ct_error(ctx, CT_ERR_USAGE,
                                "glb: vertex %zu has feature id %u, but there are %zu features", i,
                                (unsigned)mesh->feature_id[i], e->F->nfeatures);
    for (int k = 0; k < 3; k++) e->pmin[k] = e->pmax[k] = mesh->pos[k];
    for (size_t i = 0; i < e->nv; i++) {
        const float *p = mesh->pos + 3 * i;
        for (int k = 0; k < 3; k++) {
            if (!isfinite(p[k]))
                return ct_error(ctx, CT_ERR_USAGE, "glb: vertex %zu has a non-finite coordinate", i);
            if (p[k] < e->pmin[k]) e->pmin[k] = p[k];
            if (p[k] > e->pmax[k]) e->pmax[k] = p[k];
        }
    }
    return CT_OK;
}

/* The geometry's buffer views, in the order the BIN chunk holds them. */
static void plan_geometry(encode_job *e, ct_glb_layout *L) {
    const size_t nv = e->nv;
    e->bv_nrm = e->bv_fid = -1;
    if (e->compress) {
        e->bv_pos = layout_add_mo(L, &e->mo.pos, GL_ARRAY_BUFFER, "ATTRIBUTES", e->quantized ? NULL : "EXPONENTIAL");
        if (e->mesh->nrm) e->bv_nrm = layout_add_mo(L, &e->mo.nrm, GL_ARRAY_BUFFER, "ATTRIBUTES", NULL);
        if (e->F) e->bv_fid = layout_add_mo(L, &e->mo.fid, GL_ARRAY_BUFFER, "ATTRIBUTES", NULL);
        e->bv_idx = layout_add_mo(L, &e->mo.idx, GL_ELEMENT_ARRAY_BUFFER, "TRIANGLES", NULL);
    } else {
        e->bv_pos = ct_glb_layout_add(L, 4, ct_glb_mul(L, nv, 12), 0, GL_ARRAY_BUFFER);
        if (e->mesh->nrm) e->bv_nrm = ct_glb_layout_add(L, 4, ct_glb_mul(L, nv, 12), 0, GL_ARRAY_BUFFER);
        if (e->F) e->bv_fid = ct_glb_layout_add(L, 4, ct_glb_mul(L, nv, 4), e->fid_float ? 0 : 4, GL_ARRAY_BUFFER);
        e->bv_idx = ct_glb_layout_add(L, 4, ct_glb_mul(L, e->ni, e->idx_ushort ? 2 : 4), 0, GL_ELEMENT_ARRAY_BUFFER);
    }
}

/* extensionsUsed / extensionsRequired, and the property table's root extension. */
static void json_extensions(int *fail, json_t *root, const encode_job *e, const ct_glb_metadata *md) {
    const int uses_quant = e->quantized || (e->compress && e->mesh->nrm);
    if (e->F || e->compress) {
        json_t *used = json_array();
        if (e->F) {
            ct_glb_japp(fail, used, json_string("EXT_mesh_features"));
            ct_glb_japp(fail, used, json_string("EXT_structural_metadata"));
        }
        if (e->compress) {
            json_t *req = json_array();
            ct_glb_japp(fail, used, json_string("EXT_meshopt_compression"));
            ct_glb_japp(fail, req, json_string("EXT_meshopt_compression"));
            if (uses_quant) {
                ct_glb_japp(fail, used, json_string("KHR_mesh_quantization"));
                ct_glb_japp(fail, req, json_string("KHR_mesh_quantization"));
            }
            ct_glb_jset(fail, root, "extensionsUsed", used);
            ct_glb_jset(fail, root, "extensionsRequired", req);
        } else {
            ct_glb_jset(fail, root, "extensionsUsed", used);
        }
    }
    if (e->F) {
        json_t *ext = json_object();
        ct_glb_jset(fail, ext, "EXT_structural_metadata", ct_glb_metadata_json(fail, md));
        ct_glb_jset(fail, root, "extensions", ext);
    }
}

/* Node 0 (y-up to z-up, times root_matrix), and with quantized positions node 1, which
 * maps the UNSIGNED_SHORT grid back to metres in the local frame. */
static void json_nodes(int *fail, json_t *root, const encode_job *e) {
    json_t *nodes = json_array(), *node = json_object(), *matrix;
    if (e->mesh->root_matrix) {
        /* yup_to_zup x root_matrix: rows of the product are rows 0, 2, -1 of root_matrix */
        const double *r = e->mesh->root_matrix;
        double placed[16];
        for (int c = 0; c < 4; c++) {
            placed[4 * c] = r[4 * c];
            placed[4 * c + 1] = r[4 * c + 2];
            placed[4 * c + 2] = -r[4 * c + 1];
            placed[4 * c + 3] = r[4 * c + 3];
        }
        matrix = json_array();
        for (int k = 0; k < 16; k++) ct_glb_japp(fail, matrix, json_real(placed[k] + 0.0));
    } else {
        matrix = ct_glb_json_yup_to_zup(fail);
    }
    if (e->quantized) {
        json_t *children = json_array(), *qnode = json_object();
        json_t *tr = json_array(), *sc = json_array();
        ct_glb_japp(fail, children, ct_glb_jint(1));
        ct_glb_jset(fail, node, "children", children);
        ct_glb_jset(fail, qnode, "mesh", ct_glb_jint(0));
        for (int k = 0; k < 3; k++) {
            ct_glb_japp(fail, tr, json_real(e->mo.translation[k]));
            ct_glb_japp(fail, sc, json_real(e->mo.scale));
        }
        ct_glb_jset(fail, qnode, "translation", tr);
        ct_glb_jset(fail, qnode, "scale", sc);
        ct_glb_jset(fail, node, "matrix", matrix);
        ct_glb_japp(fail, nodes, node);
        ct_glb_japp(fail, nodes, qnode);
    } else {
        ct_glb_jset(fail, node, "mesh", ct_glb_jint(0));
        ct_glb_jset(fail, node, "matrix", matrix);
        ct_glb_japp(fail, nodes, node);
    }
    ct_glb_jset(fail, root, "nodes", nodes);
}

/* The accessors (0 POSITION, then NORMAL, _FEATURE_ID_0, indices as present), appended
 * to `accessors`, and the mesh of one primitive with its material. */
static void json_mesh(int *fail, json_t *root, json_t *accessors, const encode_job *e) {
    json_t *attrs = json_object();
    int nacc = 0;
    json_t *acc = ct_glb_json_accessor(fail, e->bv_pos, e->quantized ? GL_UNSIGNED_SHORT : GL_FLOAT, e->nvw, "VEC3");
    if (e->quantized) {
        json_t *qmn = json_array(), *qmx = json_array();
        for (int k = 0; k < 3; k++) {
            ct_glb_japp(fail, qmn, ct_glb_jint(e->mo.qmin[k]));
            ct_glb_japp(fail, qmx, ct_glb_jint(e->mo.qmax[k]));
        }
        ct_glb_jset(fail, acc, "min", qmn);
        ct_glb_jset(fail, acc, "max", qmx);
    } else {
        ct_glb_jset(fail, acc, "min", ct_glb_json_vec3(fail, e->compress ? e->mo.pmin : e->pmin));
        ct_glb_jset(fail, acc, "max", ct_glb_json_vec3(fail, e->compress ? e->mo.pmax : e->pmax));
    }
    ct_glb_japp(fail, accessors, acc);
    ct_glb_jset(fail, attrs, "POSITION", ct_glb_jint(nacc++));
    if (e->bv_nrm >= 0) {
        json_t *an = ct_glb_json_accessor(fail, e->bv_nrm, e->compress ? GL_BYTE : GL_FLOAT, e->nvw, "VEC3");
        if (e->compress) ct_glb_jset(fail, an, "normalized", json_true());
        ct_glb_japp(fail, accessors, an);
        ct_glb_jset(fail, attrs, "NORMAL", ct_glb_jint(nacc++));
    }
    if (e->bv_fid >= 0) {
        ct_glb_japp(fail, accessors, ct_glb_json_accessor(fail, e->bv_fid, e->fid_float ? GL_FLOAT : GL_UNSIGNED_SHORT,
                                                          e->nvw, "SCALAR"));
        ct_glb_jset(fail, attrs, "_FEATURE_ID_0", ct_glb_jint(nacc++));
    }
    ct_glb_japp(fail, accessors, ct_glb_json_accessor(fail, e->bv_idx, e->idx_ushort ? GL_UNSIGNED_SHORT : GL_UNSIGNED_INT,
                                                      e->ni, "SCALAR"));
    const int acc_idx = nacc++;

    json_t *prim = json_object();
    ct_glb_jset(fail, prim, "attributes", attrs);
    ct_glb_jset(fail, prim, "indices", ct_glb_jint(acc_idx));
    ct_glb_jset(fail, prim, "material", ct_glb_jint(0));
    if (e->F) {
        json_t *pext = json_object(), *mf = json_object(), *fids = json_array(), *fid = json_object();
        ct_glb_jset(fail, fid, "featureCount", ct_glb_jint((long long)e->F->nfeatures));
        ct_glb_jset(fail, fid, "attribute", ct_glb_jint(0));
        ct_glb_jset(fail, fid, "propertyTable", ct_glb_jint(0));
        ct_glb_japp(fail, fids, fid);
        ct_glb_jset(fail, mf, "featureIds", fids);
        ct_glb_jset(fail, pext, "EXT_mesh_features", mf);
        ct_glb_jset(fail, prim, "extensions", pext);
    }
    json_t *meshes = json_array(), *jmesh = json_object(), *prims = json_array();
    ct_glb_japp(fail, prims, prim);
    ct_glb_jset(fail, jmesh, "primitives", prims);
    ct_glb_japp(fail, meshes, jmesh);
    ct_glb_jset(fail, root, "meshes", meshes);
    json_t *materials = json_array();
    ct_glb_japp(fail, materials, ct_glb_json_material(fail, e->mesh->base_color));
    ct_glb_jset(fail, root, "materials", materials);
}

/* Pass 2: the geometry into the BIN chunk (compressed streams copied; else positions,
 * unit normals, feature ids and indices written). */
static void fill_geometry(ct_context *ctx, const encode_job *e, uint8_t *bin, const ct_glb_view *views) {
    const ct_glb_mesh_input *mesh = e->mesh;
    const size_t nv = e->nv;
    if (e->compress) {
        memcpy(bin + views[e->bv_pos].offset, e->mo.pos.data, e->mo.pos.len);
        if (e->bv_nrm >= 0) memcpy(bin + views[e->bv_nrm].offset, e->mo.nrm.data, e->mo.nrm.len);
        if (e->bv_fid >= 0) memcpy(bin + views[e->bv_fid].offset, e->mo.fid.data, e->mo.fid.len);
        memcpy(bin + views[e->bv_idx].offset, e->mo.idx.data, e->mo.idx.len);
        return;
    }
    memcpy(bin + views[e->bv_pos].offset, mesh->pos, nv * 12);
    if (e->bv_nrm >= 0) {
        uint8_t *dst = bin + views[e->bv_nrm].offset;
        size_t fixed = 0;
        for (size_t i = 0; i < nv; i++) {
            float n[3];
            ct_glb_unit_normal(mesh->nrm + 3 * i, n, &fixed);
            memcpy(dst + 12 * i, n, 12);
        }
        if (fixed) ct_log(ctx, CT_LOG_WARN, "glb: %zu zero or non-finite normals replaced by (0,0,1)", fixed);
    }
    if (e->bv_fid >= 0) {
        uint8_t *dst = bin + views[e->bv_fid].offset;
        const uint32_t *fid = mesh->feature_id;
        for (size_t i = 0; i < nv; i++) {
            if (e->fid_float) {
                float x = (float)fid[i];
                memcpy(dst + 4 * i, &x, 4);
            } else {
                /* little-endian: the UNSIGNED_SHORT then 2 zero bytes of stride padding */
                memcpy(dst + 4 * i, &fid[i], 4);
            }
        }
    }
    ct_glb_put_indices(bin + views[e->bv_idx].offset, mesh->idx, e->ni, e->idx_ushort);
}

static void fill_stats(ct_glb_stats *stats, const encode_job *e, const ct_glb_view *views, size_t total) {
    const size_t nv = e->nv;
    memset(stats, 0, sizeof *stats);
    stats->nverts = e->nvw;
    stats->geometry_raw = nv * 12 + (e->mesh->nrm ? nv * 12 : 0) + e->ni * (nv <= 65535 ? 2 : 4);
    stats->geometry_bytes = views[e->bv_pos].length + (e->bv_nrm >= 0 ? views[e->bv_nrm].length : 0) +
                            views[e->bv_idx].length;
    stats->feature_id_raw = e->F ? nv * 4 : 0;
    stats->feature_id_bytes = e->bv_fid >= 0 ? views[e->bv_fid].length : 0;
    stats->total_bytes = total;
    stats->positions_quantized = e->quantized;
    stats->max_position_error = e->compress ? e->mo.max_err : 0.0;
}

ct_status ct_glb_encode_ex(ct_context *ctx, const ct_glb_mesh_input *mesh,
                           const ct_glb_features *features, const ct_glb_options *options,
                           uint8_t **out, size_t *out_len, ct_glb_stats *stats) {
    if (out) *out = NULL;
    if (out_len) *out_len = 0;
    if (!mesh || !out || !out_len)
        return ct_error(ctx, CT_ERR_USAGE, "glb: mesh, out and out_len are required");
    encode_job e;
    memset(&e, 0, sizeof e);
    e.mesh = mesh;
    e.F = features && features->nfeatures > 0 ? features : NULL;
    e.nv = mesh->nverts;
    e.ni = mesh->nindices;
    ct_status st = check_options(ctx, &e, options);
    if (st == CT_OK) st = check_arrays(ctx, &e);
    if (st != CT_OK) return st;

    /* pass 1: metadata columns */
    const ct_glb_features *F = e.F;
    ct_glb_metadata md;
    memset(&md, 0, sizeof md);
    ct_glb_view *views = NULL;
    json_t *root = NULL;
    uint8_t *buf = NULL;
    const ct_glb_table_rows table = {F ? F->nfeatures : 0, F ? F->ids : NULL, F ? F->rows : NULL};
    if (F && (st = ct_glb_metadata_plan(ctx, &md, F->class_name, "feature", F->ids != NULL, F->defs, F->ndefs,
                                        &table, 1, options ? options->column_plans : NULL)) != CT_OK)
        goto done;

    /* compression: reorder, quantise, encode */
    if (e.compress && (st = mo_prepare(ctx, mesh, F != NULL, e.fid_float, e.tol, &e.mo)) != CT_OK) goto done;
    e.nvw = e.compress ? e.mo.nv : e.nv;
    e.quantized = e.compress && e.mo.quantized;
    e.idx_ushort = e.nvw <= 65535; /* 65535 is the primitive restart value */

    /* BIN layout */
    ct_glb_layout L = {0};
    views = calloc(4 + ct_glb_metadata_nviews(&md), sizeof *views);
    if (!views) { st = ct_error_nomem(ctx, "glb buffer views"); goto done; }
    L.views = views;
    plan_geometry(&e, &L);
    ct_glb_metadata_layout(&md, &L);
    const size_t bin_len = ct_glb_pad4(L.end);
    const size_t fb_len = ct_glb_pad4(L.fb_end);
    if (L.overflow || bin_len < L.end || bin_len > UINT32_MAX || fb_len < L.fb_end || fb_len > UINT32_MAX) {
        st = ct_error(ctx, CT_ERR_UNSUPPORTED, "glb: %zu vertices, %zu indices: over 4 GiB", e.nv, e.ni);
        goto done;
    }

    /* JSON */
    int fail = 0;
    root = ct_glb_json_root(&fail);
    json_extensions(&fail, root, &e, &md);
    ct_glb_json_scene(&fail, root);
    json_nodes(&fail, root, &e);
    json_t *accessors = json_array();
    json_mesh(&fail, root, accessors, &e);
    ct_glb_json_buffers(&fail, root, accessors, &L, bin_len, e.compress);

    /* allocate once, then pass 2: fill */
    size_t total;
    uint8_t *bin;
    if ((st = ct_glb_container(ctx, root, fail, &L, bin_len, &buf, &total, &bin)) != CT_OK) goto done;
    fill_geometry(ctx, &e, bin, views);
    if (F) ct_glb_metadata_fill(&md, 0, bin, views);
    if (stats) fill_stats(stats, &e, views, total);
    *out = buf;
    *out_len = total;
    buf = NULL;

done:
    mo_free(&e.mo);
    free(buf);
    json_decref(root);
    free(views);
    ct_glb_metadata_free(&md);
    return st;
}
