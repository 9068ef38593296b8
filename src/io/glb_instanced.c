/* Instanced GLB encoder: see include/citytiler/glb_instanced.h.
 *
 * Same two-pass shape as glb_writer.c: check and size everything (column statistics over
 * all sets, the BIN layout), build and serialise the JSON, allocate the output once, fill
 * the BIN chunk in place. The container, the BIN layout and the property tables are
 * shared with it (io/glb_internal.h); here each column is planned over the rows of every
 * set, because all the sets' tables share one class.
 *
 * Per instance the BIN chunk holds 12 (TRANSLATION) + 16 (ROTATION) + 12 (SCALE) + 2 or 4
 * (_FEATURE_ID_0) bytes plus its metadata row. The feature IDs are tightly packed
 * UNSIGNED_SHORTs: the 4-byte element alignment of glTF applies to vertex attributes, and
 * these are instance attributes (bufferViews without target); the component alignment (2)
 * holds. */
#include "citytiler/glb_instanced.h"
#include "io/glb_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define MAX_INSTANCES_USHORT 65536u    /* ids 0..65535 */
#define MAX_INSTANCES (1u << 24)       /* FLOAT ids are exact up to 2^24 */

/* ---------------------------------------------------------------- maths */

void ct_glb_heading_quat(double heading_deg, float q[4]) {
    /* clockwise seen from above = counter-clockwise by -heading about +z */
    double h = fmod(heading_deg, 360.0);
    double half = -h * (M_PI / 360.0);
    q[0] = 0.0f;
    q[1] = 0.0f;
    q[2] = (float)sin(half) + 0.0f; /* + 0.0f: no negative zero */
    q[3] = (float)cos(half) + 0.0f;
}

int ct_glb_instanced_bounds(const ct_glb_instanced_input *in, double mn[3], double mx[3]) {
    int any = 0;
    for (int k = 0; k < 3; k++) {
        mn[k] = INFINITY;
        mx[k] = -INFINITY;
    }
    if (!in || !in->sets) return -1;
    for (size_t s = 0; s < in->nsets; s++) {
        const ct_glb_instances *set = &in->sets[s];
        if (!set->symbol || !set->translation) continue;
        const float *b0 = set->symbol->bbox_min, *b1 = set->symbol->bbox_max;
        for (size_t i = 0; i < set->ninstances; i++) {
            const double h = set->heading ? -set->heading[i] * (M_PI / 180.0) : 0.0;
            const double c = cos(h), sn = sin(h);
            const float *t = set->translation + 3 * i;
            for (int corner = 0; corner < 8; corner++) {
                double p[3];
                for (int k = 0; k < 3; k++) {
                    p[k] = (corner >> k) & 1 ? b1[k] : b0[k];
                    if (set->scale) p[k] *= set->scale[3 * i + k];
                }
                double q[3] = {c * p[0] - sn * p[1] + t[0], sn * p[0] + c * p[1] + t[1], p[2] + t[2]};
                for (int k = 0; k < 3; k++) {
                    mn[k] = fmin(mn[k], q[k]);
                    mx[k] = fmax(mx[k], q[k]);
                }
            }
            any = 1;
        }
    }
    return any ? 0 : -1;
}

/* ---------------------------------------------------------------- encoder */

typedef struct set_plan {
    int bv_pos, bv_nrm, bv_idx, bv_t, bv_r, bv_s, bv_fid;
    int idx_ushort, fid_ushort;
    float pmin[3], pmax[3];
    float tmin[3], tmax[3]; /* TRANSLATION bounds: CesiumJS then skips a CPU copy for bounds */
} set_plan;

static ct_status check_set(ct_context *ctx, const ct_glb_instanced_input *in, size_t s, set_plan *P) {
    const ct_glb_instances *set = &in->sets[s];
    const ct_symbol *sym = set->symbol;
    if (!sym || sym->nverts == 0 || sym->nindices == 0 || !sym->pos || !sym->nrm || !sym->idx)
        return ct_error(ctx, CT_ERR_USAGE, "glb: set %zu has no symbol mesh", s);
    if (sym->nindices % 3 != 0)
        return ct_error(ctx, CT_ERR_USAGE, "glb: set %zu: %zu indices is not a multiple of 3", s, sym->nindices);
    if (sym->nverts > UINT32_MAX)
        return ct_error(ctx, CT_ERR_UNSUPPORTED, "glb: set %zu: %zu vertices", s, sym->nverts);
    if (set->ninstances == 0 || set->ninstances > MAX_INSTANCES)
        return ct_error(ctx, CT_ERR_USAGE, "glb: set %zu has %zu instances (1 to %u)", s, set->ninstances,
                        MAX_INSTANCES);
    if (!set->translation) return ct_error(ctx, CT_ERR_USAGE, "glb: set %zu has no translations", s);
    if (in->ndefs > 0 && !set->rows)
        return ct_error(ctx, CT_ERR_USAGE, "glb: set %zu: %zu columns but no rows", s, in->ndefs);
    for (int k = 0; k < 3; k++) P->pmin[k] = P->pmax[k] = sym->pos[k];
    for (size_t i = 0; i < sym->nverts; i++)
        for (int k = 0; k < 3; k++) {
            float v = sym->pos[3 * i + k];
            if (!isfinite(v)) return ct_error(ctx, CT_ERR_USAGE, "glb: set %zu: vertex %zu is not finite", s, i);
            P->pmin[k] = fminf(P->pmin[k], v);
            P->pmax[k] = fmaxf(P->pmax[k], v);
        }
    for (size_t i = 0; i < sym->nindices; i++)
        if (sym->idx[i] >= sym->nverts)
            return ct_error(ctx, CT_ERR_USAGE, "glb: set %zu: index %zu is %u, but there are %zu vertices", s, i,
                            (unsigned)sym->idx[i], sym->nverts);
    for (int k = 0; k < 3; k++) P->tmin[k] = P->tmax[k] = set->translation[k];
    for (size_t i = 0; i < set->ninstances; i++) {
        const float *t = set->translation + 3 * i;
        if (!isfinite(t[0]) || !isfinite(t[1]) || !isfinite(t[2]))
            return ct_error(ctx, CT_ERR_USAGE, "glb: set %zu: instance %zu has a non-finite translation", s, i);
        for (int k = 0; k < 3; k++) {
            P->tmin[k] = fminf(P->tmin[k], t[k]);
            P->tmax[k] = fmaxf(P->tmax[k], t[k]);
        }
        if (set->heading && !isfinite(set->heading[i]))
            return ct_error(ctx, CT_ERR_USAGE, "glb: set %zu: instance %zu has a non-finite heading", s, i);
        if (set->scale)
            for (int k = 0; k < 3; k++) {
                float v = set->scale[3 * i + k];
                if (!isfinite(v) || v == 0.0f)
                    return ct_error(ctx, CT_ERR_USAGE, "glb: set %zu: instance %zu has a zero or non-finite scale", s, i);
            }
    }
    P->idx_ushort = sym->nverts <= 65535;
    P->fid_ushort = set->ninstances <= MAX_INSTANCES_USHORT;
    return CT_OK;
}

/* The BIN layout: every set's mesh, then every set's instance attributes (then the
 * metadata, laid out by the caller). */
static void plan_views(const ct_glb_instanced_input *in, set_plan *plans, ct_glb_layout *L) {
    for (size_t s = 0; s < in->nsets; s++) {
        const ct_symbol *sym = in->sets[s].symbol;
        set_plan *P = &plans[s];
        P->bv_pos = ct_glb_layout_add(L, 4, ct_glb_mul(L, sym->nverts, 12), 0, GL_ARRAY_BUFFER);
        P->bv_nrm = ct_glb_layout_add(L, 4, ct_glb_mul(L, sym->nverts, 12), 0, GL_ARRAY_BUFFER);
        P->bv_idx = ct_glb_layout_add(L, 4, ct_glb_mul(L, sym->nindices, P->idx_ushort ? 2 : 4), 0,
                                      GL_ELEMENT_ARRAY_BUFFER);
    }
    for (size_t s = 0; s < in->nsets; s++) {
        const size_t n = in->sets[s].ninstances;
        set_plan *P = &plans[s];
        P->bv_t = ct_glb_layout_add(L, 4, ct_glb_mul(L, n, 12), 0, 0);
        P->bv_r = ct_glb_layout_add(L, 4, ct_glb_mul(L, n, 16), 0, 0);
        P->bv_s = ct_glb_layout_add(L, 4, ct_glb_mul(L, n, 12), 0, 0);
        P->bv_fid = ct_glb_layout_add(L, 4, ct_glb_mul(L, n, P->fid_ushort ? 2 : 4), 0, 0);
    }
}

/* The extensions used and required, and the property tables' root extension. */
static void json_extensions(int *fail, json_t *root, const ct_glb_metadata *md) {
    json_t *used = json_array(), *req = json_array();
    ct_glb_japp(fail, used, json_string("EXT_mesh_gpu_instancing"));
    ct_glb_japp(fail, used, json_string("EXT_instance_features"));
    ct_glb_japp(fail, used, json_string("EXT_structural_metadata"));
    ct_glb_japp(fail, req, json_string("EXT_mesh_gpu_instancing"));
    ct_glb_jset(fail, root, "extensionsUsed", used);
    ct_glb_jset(fail, root, "extensionsRequired", req);
    json_t *ext = json_object();
    ct_glb_jset(fail, ext, "EXT_structural_metadata", ct_glb_metadata_json(fail, md));
    ct_glb_jset(fail, root, "extensions", ext);
}

/* Set s's mesh (its accessors from *nacc on, its material) and its node of instances. */
static void json_set(int *fail, const ct_glb_instances *set, size_t s, const set_plan *P, json_t *accessors,
                     json_t *meshes, json_t *materials, json_t *nodes, int *nacc) {
    const ct_symbol *sym = set->symbol;
    /* mesh */
    json_t *attrs = json_object(), *acc = ct_glb_json_accessor(fail, P->bv_pos, GL_FLOAT, sym->nverts, "VEC3");
    ct_glb_jset(fail, acc, "min", ct_glb_json_vec3(fail, P->pmin));
    ct_glb_jset(fail, acc, "max", ct_glb_json_vec3(fail, P->pmax));
    ct_glb_japp(fail, accessors, acc);
    ct_glb_jset(fail, attrs, "POSITION", ct_glb_jint((*nacc)++));
    ct_glb_japp(fail, accessors, ct_glb_json_accessor(fail, P->bv_nrm, GL_FLOAT, sym->nverts, "VEC3"));
    ct_glb_jset(fail, attrs, "NORMAL", ct_glb_jint((*nacc)++));
    ct_glb_japp(fail, accessors,
                ct_glb_json_accessor(fail, P->bv_idx, P->idx_ushort ? GL_UNSIGNED_SHORT : GL_UNSIGNED_INT,
                                     sym->nindices, "SCALAR"));
    json_t *prim = json_object(), *prims = json_array(), *mesh = json_object();
    ct_glb_jset(fail, prim, "attributes", attrs);
    ct_glb_jset(fail, prim, "indices", ct_glb_jint((*nacc)++));
    ct_glb_jset(fail, prim, "material", ct_glb_jint((long long)s));
    ct_glb_japp(fail, prims, prim);
    if (set->name) ct_glb_jset(fail, mesh, "name", json_string(set->name));
    ct_glb_jset(fail, mesh, "primitives", prims);
    ct_glb_japp(fail, meshes, mesh);
    ct_glb_japp(fail, materials, ct_glb_json_material(fail, sym->base_color));
    /* instances */
    json_t *iattrs = json_object();
    const size_t n = set->ninstances;
    json_t *tacc = ct_glb_json_accessor(fail, P->bv_t, GL_FLOAT, n, "VEC3");
    ct_glb_jset(fail, tacc, "min", ct_glb_json_vec3(fail, P->tmin));
    ct_glb_jset(fail, tacc, "max", ct_glb_json_vec3(fail, P->tmax));
    ct_glb_japp(fail, accessors, tacc);
    ct_glb_jset(fail, iattrs, "TRANSLATION", ct_glb_jint((*nacc)++));
    ct_glb_japp(fail, accessors, ct_glb_json_accessor(fail, P->bv_r, GL_FLOAT, n, "VEC4"));
    ct_glb_jset(fail, iattrs, "ROTATION", ct_glb_jint((*nacc)++));
    ct_glb_japp(fail, accessors, ct_glb_json_accessor(fail, P->bv_s, GL_FLOAT, n, "VEC3"));
    ct_glb_jset(fail, iattrs, "SCALE", ct_glb_jint((*nacc)++));
    ct_glb_japp(fail, accessors,
                ct_glb_json_accessor(fail, P->bv_fid, P->fid_ushort ? GL_UNSIGNED_SHORT : GL_FLOAT, n, "SCALAR"));
    ct_glb_jset(fail, iattrs, "_FEATURE_ID_0", ct_glb_jint((*nacc)++));
    json_t *node = json_object(), *next = json_object(), *inst = json_object(), *feat = json_object();
    json_t *fids = json_array(), *fid = json_object();
    if (set->name) ct_glb_jset(fail, node, "name", json_string(set->name));
    ct_glb_jset(fail, node, "mesh", ct_glb_jint((long long)s));
    ct_glb_jset(fail, inst, "attributes", iattrs);
    ct_glb_jset(fail, next, "EXT_mesh_gpu_instancing", inst);
    ct_glb_jset(fail, fid, "featureCount", ct_glb_jint((long long)n));
    ct_glb_jset(fail, fid, "propertyTable", ct_glb_jint((long long)s));
    ct_glb_jset(fail, fid, "attribute", ct_glb_jint(0));
    ct_glb_japp(fail, fids, fid);
    ct_glb_jset(fail, feat, "featureIds", fids);
    ct_glb_jset(fail, next, "EXT_instance_features", feat);
    ct_glb_jset(fail, node, "extensions", next);
    ct_glb_japp(fail, nodes, node);
}

/* The glTF document: node 0 turns y-up to z-up and holds one node of instances per set. */
static json_t *json_document(int *fail, const ct_glb_instanced_input *in, const set_plan *plans,
                             const ct_glb_metadata *md, const ct_glb_layout *L, size_t bin_len) {
    json_t *root = ct_glb_json_root(fail);
    json_extensions(fail, root, md);
    ct_glb_json_scene(fail, root);
    json_t *nodes = json_array(), *rootnode = json_object(), *children = json_array();
    for (size_t s = 0; s < in->nsets; s++) ct_glb_japp(fail, children, ct_glb_jint((long long)s + 1));
    ct_glb_jset(fail, rootnode, "children", children);
    ct_glb_jset(fail, rootnode, "matrix", ct_glb_json_yup_to_zup(fail));
    ct_glb_japp(fail, nodes, rootnode);
    json_t *accessors = json_array(), *meshes = json_array(), *materials = json_array();
    int nacc = 0;
    for (size_t s = 0; s < in->nsets; s++)
        json_set(fail, &in->sets[s], s, &plans[s], accessors, meshes, materials, nodes, &nacc);
    ct_glb_jset(fail, root, "nodes", nodes);
    ct_glb_jset(fail, root, "meshes", meshes);
    ct_glb_jset(fail, root, "materials", materials);
    ct_glb_json_buffers(fail, root, accessors, L, bin_len, 0);
    return root;
}

/* Set s's mesh and instance attributes into the BIN chunk. */
static void fill_set(const ct_glb_instances *set, const set_plan *P, uint8_t *bin, const ct_glb_view *views) {
    const ct_symbol *sym = set->symbol;
    memcpy(bin + views[P->bv_pos].offset, sym->pos, sym->nverts * 12);
    uint8_t *dn = bin + views[P->bv_nrm].offset;
    size_t fixed = 0; /* not reported: symbols are checked when they are loaded */
    for (size_t i = 0; i < sym->nverts; i++) {
        float n[3];
        ct_glb_unit_normal(sym->nrm + 3 * i, n, &fixed);
        memcpy(dn + 12 * i, n, 12);
    }
    ct_glb_put_indices(bin + views[P->bv_idx].offset, sym->idx, sym->nindices, P->idx_ushort);
    const size_t n = set->ninstances;
    memcpy(bin + views[P->bv_t].offset, set->translation, n * 12);
    uint8_t *dr = bin + views[P->bv_r].offset, *ds = bin + views[P->bv_s].offset;
    uint8_t *df = bin + views[P->bv_fid].offset;
    for (size_t i = 0; i < n; i++) {
        float q[4];
        ct_glb_heading_quat(set->heading ? set->heading[i] : 0.0, q);
        memcpy(dr + 16 * i, q, 16);
        static const float one[3] = {1.0f, 1.0f, 1.0f};
        memcpy(ds + 12 * i, set->scale ? set->scale + 3 * i : one, 12);
        if (P->fid_ushort) {
            uint16_t x = (uint16_t)i;
            memcpy(df + 2 * i, &x, 2);
        } else {
            float x = (float)i;
            memcpy(df + 4 * i, &x, 4);
        }
    }
}

ct_status ct_glb_encode_instanced(ct_context *ctx, const ct_glb_instanced_input *in, uint8_t **out,
                                  size_t *out_len) {
    if (out) *out = NULL;
    if (out_len) *out_len = 0;
    if (!in || !out || !out_len) return ct_error(ctx, CT_ERR_USAGE, "glb: input, out and out_len are required");
    if (in->nsets == 0 || !in->sets) return ct_error(ctx, CT_ERR_USAGE, "glb: no symbol sets to encode");
    if (in->ndefs > 0 && !in->defs) return ct_error(ctx, CT_ERR_USAGE, "glb: %zu columns but no defs", in->ndefs);
    const size_t ns = in->nsets;

    ct_status st = CT_OK;
    set_plan *plans = NULL;
    ct_glb_table_rows *tables = NULL;
    ct_glb_metadata md;
    memset(&md, 0, sizeof md);
    md.string_default = 1; /* a set whose values are all "" leaves the property out of its table */
    ct_glb_view *views = NULL;
    json_t *root = NULL;
    uint8_t *buf = NULL;

    plans = calloc(ns, sizeof *plans);
    tables = calloc(ns, sizeof *tables);
    if (!plans || !tables) { st = ct_error_nomem(ctx, "glb set plans"); goto done; }
    size_t total = 0;
    int any_ids = 0;
    for (size_t s = 0; s < ns; s++) {
        const ct_glb_instances *set = &in->sets[s];
        if ((st = check_set(ctx, in, s, &plans[s])) != CT_OK) goto done;
        total += set->ninstances;
        if (set->ids) any_ids = 1;
        tables[s] = (ct_glb_table_rows){set->ninstances, set->ids, set->rows};
    }

    /* columns, planned over every set */
    if ((st = ct_glb_metadata_plan(ctx, &md, in->class_name, "asset", any_ids, in->defs, in->ndefs, tables, ns,
                                  NULL)) !=
        CT_OK)
        goto done;

    /* BIN layout: meshes, then instance attributes, then metadata */
    ct_glb_layout L = {0};
    views = calloc(ns * 7 + ct_glb_metadata_nviews(&md), sizeof *views);
    if (!views) { st = ct_error_nomem(ctx, "glb buffer views"); goto done; }
    L.views = views;
    plan_views(in, plans, &L);
    ct_glb_metadata_layout(&md, &L);
    const size_t bin_len = ct_glb_pad4(L.end);
    if (L.overflow || bin_len < L.end || bin_len > UINT32_MAX) {
        st = ct_error(ctx, CT_ERR_UNSUPPORTED, "glb: %zu instances of %zu symbols: over 4 GiB", total, ns);
        goto done;
    }

    int fail = 0;
    root = json_document(&fail, in, plans, &md, &L, bin_len);

    /* allocate once, then fill */
    size_t glb_len;
    uint8_t *bin;
    if ((st = ct_glb_container(ctx, root, fail, &L, bin_len, &buf, &glb_len, &bin)) != CT_OK) goto done;
    for (size_t s = 0; s < ns; s++) {
        fill_set(&in->sets[s], &plans[s], bin, views);
        ct_glb_metadata_fill(&md, s, bin, views);
    }
    *out = buf;
    *out_len = glb_len;
    buf = NULL;

done:
    free(buf);
    json_decref(root);
    free(views);
    ct_glb_metadata_free(&md);
    free(tables);
    free(plans);
    return st;
}
