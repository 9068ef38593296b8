/* Mesh memory and topology checks (closed, 2-manifold, outward, volume). */
#include "citytiler/mesh.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

void ct_mesh_free(ct_mesh *m) {
    if (!m->borrowed) {
        free(m->pos);
        free(m->nrm);
        free(m->idx);
    }
    memset(m, 0, sizeof *m);
}

enum { ARENA_BLOCK = 4u << 20 }; /* 4 MiB: two huge pages */

void *ct_mesh_arena_alloc(ct_mesh_arena *a, size_t bytes) {
    bytes = (bytes + 15) & ~(size_t)15;
    if (bytes > a->left) {
        size_t size = bytes > ARENA_BLOCK ? bytes : ARENA_BLOCK;
        if (a->nblocks == a->cap) {
            size_t cap = a->cap ? a->cap * 2 : 16;
            void **nb = realloc(a->blocks, cap * sizeof *nb);
            if (!nb) return NULL;
            a->blocks = nb;
            a->cap = cap;
        }
        void *block = NULL;
        if (posix_memalign(&block, (size_t)2 << 20, size) != 0) return NULL;
#ifdef MADV_HUGEPAGE
        madvise(block, size, MADV_HUGEPAGE);
#endif
        a->blocks[a->nblocks++] = block;
        a->cur = block;
        a->left = size;
    }
    void *p = a->cur;
    a->cur += bytes;
    a->left -= bytes;
    return p;
}

void ct_mesh_arena_free(ct_mesh_arena *a) {
    for (size_t i = 0; i < a->nblocks; i++) free(a->blocks[i]);
    free(a->blocks);
    memset(a, 0, sizeof *a);
}

int ct_mesh_arena_adopt(ct_mesh_arena *dst, ct_mesh_arena *src) {
    if (src->nblocks == 0) return 0;
    if (dst->nblocks + src->nblocks > dst->cap) {
        size_t cap = dst->nblocks + src->nblocks;
        void **nb = realloc(dst->blocks, cap * sizeof *nb);
        if (!nb) return -1;
        dst->blocks = nb;
        dst->cap = cap;
    }
    memcpy(dst->blocks + dst->nblocks, src->blocks, src->nblocks * sizeof *src->blocks);
    dst->nblocks += src->nblocks;
    free(src->blocks);
    memset(src, 0, sizeof *src);
    return 0;
}

typedef struct vkey { double x, y, z; uint32_t orig; } vkey;
typedef struct ekey { uint32_t a, b; } ekey; /* directed edge a -> b (welded ids) */

static int cmp_vkey(const void *pa, const void *pb) {
    const vkey *a = pa, *b = pb;
    if (a->x != b->x) return a->x < b->x ? -1 : 1;
    if (a->y != b->y) return a->y < b->y ? -1 : 1;
    if (a->z != b->z) return a->z < b->z ? -1 : 1;
    return (a->orig > b->orig) - (a->orig < b->orig);
}

static int cmp_ekey(const void *pa, const void *pb) {
    const ekey *a = pa, *b = pb;
    uint32_t a0 = a->a < a->b ? a->a : a->b, a1 = a->a < a->b ? a->b : a->a;
    uint32_t b0 = b->a < b->b ? b->a : b->b, b1 = b->a < b->b ? b->b : b->a;
    if (a0 != b0) return a0 < b0 ? -1 : 1;
    if (a1 != b1) return a1 < b1 ? -1 : 1;
    return 0;
}

int ct_mesh_check_topology(const ct_mesh *m, ct_mesh_check *out) {
    memset(out, 0, sizeof *out);
    size_t ntri = m->nindices / 3;
    vkey *keys = malloc((m->nverts ? m->nverts : 1) * sizeof *keys);
    uint32_t *weld = malloc((m->nverts ? m->nverts : 1) * sizeof *weld);
    ekey *edges = malloc((ntri ? ntri : 1) * 3 * sizeof *edges);
    if (!keys || !weld || !edges) {
        free(keys); free(weld); free(edges);
        return -1;
    }
    for (size_t i = 0; i < m->nverts; i++) {
        keys[i].x = m->pos[3 * i]; keys[i].y = m->pos[3 * i + 1]; keys[i].z = m->pos[3 * i + 2];
        keys[i].orig = (uint32_t)i;
    }
    qsort(keys, m->nverts, sizeof *keys, cmp_vkey);
    uint32_t id = 0;
    for (size_t i = 0; i < m->nverts; i++) {
        if (i > 0 && (keys[i].x != keys[i - 1].x || keys[i].y != keys[i - 1].y || keys[i].z != keys[i - 1].z)) id++;
        weld[keys[i].orig] = id;
    }
    out->welded_vertices = m->nverts ? id + 1 : 0;

    /* Volume relative to the first vertex keeps precision with projected coordinates. */
    double ox = m->nverts ? m->pos[0] : 0, oy = m->nverts ? m->pos[1] : 0, oz = m->nverts ? m->pos[2] : 0;
    double vol6 = 0.0;
    size_t ne = 0;
    for (size_t t = 0; t < ntri; t++) {
        uint32_t i0 = m->idx[3 * t], i1 = m->idx[3 * t + 1], i2 = m->idx[3 * t + 2];
        uint32_t w0 = weld[i0], w1 = weld[i1], w2 = weld[i2];
        if (w0 == w1 || w1 == w2 || w0 == w2) { out->degenerate_triangles++; continue; }
        const double *a = m->pos + 3 * (size_t)i0, *b = m->pos + 3 * (size_t)i1, *c = m->pos + 3 * (size_t)i2;
        double ax = a[0] - ox, ay = a[1] - oy, az = a[2] - oz;
        double bx = b[0] - ox, by = b[1] - oy, bz = b[2] - oz;
        double cx = c[0] - ox, cy = c[1] - oy, cz = c[2] - oz;
        vol6 += ax * (by * cz - bz * cy) - ay * (bx * cz - bz * cx) + az * (bx * cy - by * cx);
        edges[ne++] = (ekey){w0, w1};
        edges[ne++] = (ekey){w1, w2};
        edges[ne++] = (ekey){w2, w0};
    }
    out->signed_volume = vol6 / 6.0;
    qsort(edges, ne, sizeof *edges, cmp_ekey);
    for (size_t i = 0; i < ne;) {
        size_t j = i + 1;
        while (j < ne && cmp_ekey(&edges[i], &edges[j]) == 0) j++;
        size_t uses = j - i;
        out->edges++;
        if (uses == 1) out->boundary_edges++;
        else if (uses > 2) out->nonmanifold_edges++;
        else if (edges[i].a == edges[i + 1].a) out->misoriented_edges++;
        i = j;
    }
    free(keys); free(weld); free(edges);
    return 0;
}
