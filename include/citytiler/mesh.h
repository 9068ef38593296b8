/* citytiler — triangle meshes of buildings, in the working CRS (metres, z up). */
#ifndef CITYTILER_MESH_H
#define CITYTILER_MESH_H

#include <stddef.h>
#include <stdint.h>

/* Flat-shaded triangle mesh: each face owns its vertices, so normals are per face.
 * Triangles are counter-clockwise seen from outside (outward normals). */
typedef struct ct_mesh {
    size_t nverts;
    size_t nindices;   /* 3 per triangle */
    double *pos;       /* 3 * nverts: x, y, z in the working CRS */
    float *nrm;        /* 3 * nverts: unit normals in the working CRS */
    uint32_t *idx;     /* nindices */
    int borrowed;      /* the arrays live in a ct_mesh_arena: ct_mesh_free only forgets them */
} ct_mesh;

/* Frees the arrays (unless borrowed) and zeroes the mesh. */
void ct_mesh_free(ct_mesh *m);

/* Memory for many meshes in large blocks (marked for transparent huge pages): writing the
 * meshes of a city into fresh small allocations spent most of filters.extrude's time in
 * first-touch page faults (tools/bench/bench_geometry). Not thread-safe: one per thread. */
typedef struct ct_mesh_arena {
    void **blocks;
    size_t nblocks, cap;
    unsigned char *cur;
    size_t left;
} ct_mesh_arena;
/* 16-byte aligned memory for `bytes`; NULL when out of memory. Lives until the arena is freed. */
void *ct_mesh_arena_alloc(ct_mesh_arena *a, size_t bytes);
void ct_mesh_arena_free(ct_mesh_arena *a);
/* Moves src's blocks into dst (src becomes empty). Returns 0, or -1 when out of memory. */
int ct_mesh_arena_adopt(ct_mesh_arena *dst, ct_mesh_arena *src);

/* Topology and volume of a mesh, computed on positions welded exactly. */
typedef struct ct_mesh_check {
    size_t welded_vertices;
    size_t edges;
    size_t boundary_edges;     /* edges used by one triangle only */
    size_t nonmanifold_edges;  /* edges used by more than two triangles */
    size_t misoriented_edges;  /* edges used twice in the same direction */
    size_t degenerate_triangles;
    double signed_volume;      /* > 0 when closed and outward-facing */
} ct_mesh_check;

/* Fills `out`. Returns 0 on success, -1 when out of memory.
 * A mesh is closed and 2-manifold when boundary, nonmanifold and misoriented are 0. */
int ct_mesh_check_topology(const ct_mesh *m, ct_mesh_check *out);

#endif
