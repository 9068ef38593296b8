/* Generator for the small model files next to this file (run once by hand; not part of
 * the build). It imports the KayKit street light (CC0) through Assimp, flattens it to one
 * triangle mesh per material with node transforms baked in, and writes it in the formats
 * citytiler's tests need but the shared data does not have. The OBJ source is used (not
 * the GLB) because its texture is an external file name, so no exporter embeds or writes
 * the 20 kB palette PNG:
 *
 *   cc make_models.c -o /tmp/make_models -lassimp
 *   /tmp/make_models ../shared/data/models/kaykit/obj/streetlight.obj tests/data/models
 *
 * Writes OUTDIR/streetlight.{dae,ply,stl,fbx} (binary PLY and STL, ASCII FBX: Assimp 5.2.5
 * cannot read back its own binary FBX). */
#include <assimp/cexport.h>
#include <assimp/cimport.h>
#include <assimp/postprocess.h>
#include <assimp/scene.h>
#include <stdio.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s MODEL OUTDIR\n", argv[0]);
        return 2;
    }
    const struct aiScene *s = aiImportFile(argv[1], aiProcess_Triangulate | aiProcess_PreTransformVertices |
                                                        aiProcess_JoinIdenticalVertices);
    if (!s) {
        fprintf(stderr, "%s: %s\n", argv[1], aiGetErrorString());
        return 1;
    }
    static const struct { const char *id, *ext; } fmts[] = {
        {"collada", "dae"}, {"plyb", "ply"}, {"stlb", "stl"}, {"fbxa", "fbx"}};
    int rc = 0;
    for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/streetlight.%s", argv[2], fmts[i].ext);
        if (aiExportScene(s, fmts[i].id, path, 0) != aiReturn_SUCCESS) {
            fprintf(stderr, "%s: %s\n", path, aiGetErrorString());
            rc = 1;
        } else {
            printf("wrote %s\n", path);
        }
    }
    aiReleaseImport(s);
    return rc;
}
