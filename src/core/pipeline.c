/* Pipeline files: JSON → checked stage list → run in order on one dataset. */
#include "citytiler/summary.h"
#include "citytiler/pipeline.h"

#include <jansson.h>
#include <math.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "citytiler/points.h"
#include "citytiler/stage.h"
#include "core/hash.h"
#include "core/options.h"
#include "core/path_identity.h"
#include "core/utf8.h"
#include "io/outdir.h"

#include <sys/stat.h>

typedef struct stage_slot {
    const ct_stage_vtable *vt;
    json_t *options;
    void *state;
    /* During ct_pipeline_run, for a writers.3dtiles stage with a path: */
    char *out_path;   /* that path made canonical once ("out", "out/" and "./out" are one) */
    int lock_fd;      /* its output lock (-1: none) */
    char *lock_made;  /* the first folder made for that output by the lock (NULL: none) */
} stage_slot;

struct ct_pipeline {
    char *file;
    double cell_size;
    stage_slot *stages;
    size_t nstages;
};

size_t ct_pipeline_stage_count(const ct_pipeline *p) { return p->nstages; }

void ct_pipeline_destroy(ct_pipeline *p) {
    if (!p) return;
    for (size_t i = 0; i < p->nstages; i++) {
        if (p->stages[i].state && p->stages[i].vt->destroy) p->stages[i].vt->destroy(p->stages[i].state);
        json_decref(p->stages[i].options);
    }
    free(p->stages);
    free(p->file);
    free(p);
}

/* Applies one "stage.type.option=value" override to every stage of that type. */
static ct_status apply_override(ct_context *ctx, ct_pipeline *p, const char *text) {
    const char *eq = strchr(text, '=');
    const char *dot = NULL;
    for (const char *c = text; eq && c < eq; c++) if (*c == '.') dot = c;
    if (!eq || !dot || dot == text || dot + 1 == eq)
        return ct_error(ctx, CT_ERR_USAGE, "--set %s: expected STAGE_TYPE.OPTION=VALUE, e.g. writers.3dtiles.path=out", text);
    char type[128], key[128];
    size_t tl = (size_t)(dot - text), kl = (size_t)(eq - dot - 1);
    if (tl >= sizeof type || kl >= sizeof key)
        return ct_error(ctx, CT_ERR_USAGE, "--set %s: name too long", text);
    memcpy(type, text, tl); type[tl] = '\0';
    memcpy(key, dot + 1, kl); key[kl] = '\0';
    const char *value = eq + 1;
    if (strcmp(key, "type") == 0)
        return ct_error(ctx, CT_ERR_USAGE, "--set %s: 'type' is not an option: a stage's type cannot be changed", text);
    const ct_stage_vtable *vt = ct_stage_lookup(ctx, type);
    const ct_option_def *def = NULL;
    for (const ct_option_def *d = vt ? vt->options : NULL; d && d->name; d++)
        if (strcmp(d->name, key) == 0) def = d;

    json_t *v = json_loads(value, JSON_DECODE_ANY, NULL);
    /* A string option given a number or true/false: the text was meant (a folder or a
     * layer named 2024 was refused as "must be a path"). */
    if (v && (json_is_number(v) || json_is_boolean(v)) && def &&
        (def->type == CT_OPT_STRING || def->type == CT_OPT_PATH || def->type == CT_OPT_PATHS)) {
        json_decref(v);
        v = NULL;
    }
    if (!v) v = json_string(value);
    if (!v && !ct_utf8_valid(value)) /* (jansson refuses it: that was "out of memory") */
        return ct_error(ctx, CT_ERR_USAGE, "--set %s: the value is not valid UTF-8, which the pipeline's JSON cannot hold", text);
    if (!v) return ct_error_nomem(ctx, "override value");
    /* Said against the argument: checked later with the pipeline's stages, the error named
     * the pipeline file's stage, where the user would look for it in vain. */
    if (vt && !def) {
        char known[512];
        ct_option_names(vt, known, sizeof known);
        json_decref(v);
        return ct_error(ctx, CT_ERR_USAGE, "--set %s: %s has no option '%s' (its options: %s)", text, type, key, known);
    }
    if (def && !json_is_null(v) && !ct_option_value_ok(def->type, v)) {
        json_decref(v);
        return ct_error(ctx, CT_ERR_USAGE, "--set %s: option '%s' of %s must be %s", text, key, type,
                        ct_option_type_phrase(def->type));
    }
    /* A relative path given on the command line means relative to the current directory. */
    if (def && (def->type == CT_OPT_PATH || def->type == CT_OPT_PATHS) && json_is_string(v)) {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd)) cwd[0] = '\0';
        char *abs = ct_resolve_path(cwd, json_string_value(v));
        json_decref(v);
        v = abs ? json_string(abs) : NULL;
        ct_status st = v || !abs || ct_utf8_valid(abs) ? CT_OK
            : ct_error(ctx, CT_ERR_USAGE, "--set %s: the path '%s' is not valid UTF-8, which citytiler's JSON "
                                          "(pipeline, tileset, run summary) cannot hold: rename the folder or file",
                       text, abs);
        free(abs);
        if (st != CT_OK) return st;
        if (!v) return ct_error_nomem(ctx, "override path");
    }
    int applied = 0;
    for (size_t i = 0; i < p->nstages; i++) {
        if (strcmp(p->stages[i].vt->type, type) != 0) continue;
        if (json_object_set(p->stages[i].options, key, v) != 0) {
            json_decref(v);
            return ct_error_nomem(ctx, "override");
        }
        applied++;
    }
    json_decref(v);
    if (!applied)
        return ct_error(ctx, CT_ERR_USAGE, "--set %s: the pipeline %s has no stage of type '%s'", text, p->file, type);
    return CT_OK;
}

static ct_status parse_stages(ct_context *ctx, ct_pipeline *p, json_t *root) {
    json_t *list = root;
    if (json_is_object(root)) {
        const char *key;
        json_t *val;
        json_object_foreach(root, key, val) {
            if (strcmp(key, "cell_size") == 0) {
                if (!json_is_number(val) || !(json_number_value(val) >= 1.0) || json_number_value(val) > 1e6)
                    return ct_error(ctx, CT_ERR_USAGE, "%s: cell_size must be a number of metres from 1 to 1000000", p->file);
                p->cell_size = json_number_value(val);
            } else if (strcmp(key, "pipeline") != 0) {
                return ct_error(ctx, CT_ERR_USAGE, "%s: unknown top-level key '%s' (expected \"pipeline\" and optionally \"cell_size\")",
                                p->file, key);
            }
        }
        list = json_object_get(root, "pipeline");
    }
    if (!json_is_array(list))
        return ct_error(ctx, CT_ERR_USAGE, "%s: expected {\"pipeline\": [ stages... ]}", p->file);
    if (json_array_size(list) == 0)
        return ct_error(ctx, CT_ERR_USAGE, "%s: the pipeline has no stages", p->file);
    p->stages = calloc(json_array_size(list), sizeof *p->stages);
    if (!p->stages) return ct_error_nomem(ctx, "stages");
    size_t i;
    json_t *st;
    json_array_foreach(list, i, st) {
        if (!json_is_object(st))
            return ct_error(ctx, CT_ERR_USAGE, "%s: stage %zu: expected an object with a \"type\"", p->file, i);
        const char *type = json_string_value(json_object_get(st, "type"));
        if (!type && json_object_get(st, "type"))
            return ct_error(ctx, CT_ERR_USAGE, "%s: stage %zu: \"type\" must be a string such as \"readers.footprints\"",
                            p->file, i);
        if (!type) return ct_error(ctx, CT_ERR_USAGE, "%s: stage %zu: missing \"type\"", p->file, i);
        const ct_stage_vtable *vt = ct_stage_lookup(ctx, type);
        if (!vt)
            return ct_error(ctx, CT_ERR_USAGE, "%s: stage %zu: unknown stage type '%s' (see `citytiler stages`)", p->file, i, type);
        p->stages[i].vt = vt;
        p->stages[i].options = json_deep_copy(st);
        if (!p->stages[i].options) return ct_error_nomem(ctx, "stage options");
        p->nstages = i + 1;
    }
    return CT_OK;
}

/* Stage i's output path (resolved against the pipeline's folder) when it is a writer, else NULL. */
static const char *output_path(const ct_pipeline *p, size_t i) {
    const char *a = json_string_value(json_object_get(p->stages[i].options, "path"));
    return a && strncmp(p->stages[i].vt->type, "writers.", 8) == 0 ? a : NULL;
}

/* Two writers with the same output directory: the second would silently replace the
 * first's tileset. Directories are compared, not strings: "w", "w/", "x/../w" and a
 * symbolic link to w (a writer writes into the directory a link names) are one. */
static ct_status check_outputs(ct_context *ctx, const ct_pipeline *p) {
    for (size_t i = 0; i < p->nstages; i++) {
        const char *a = output_path(p, i);
        if (!a) continue;
        for (size_t j = i + 1; j < p->nstages; j++) {
            const char *b = output_path(p, j);
            int same = b ? ct_path_same(a, b) : 0;
            if (same < 0) return ct_error_nomem(ctx, "output paths");
            if (!same) continue;
            if (strcmp(a, b) == 0)
                return ct_error(ctx, CT_ERR_USAGE,
                                "%s: stages %zu and %zu both write to '%s': the second would replace the first's output",
                                p->file, i, j, a);
            return ct_error(ctx, CT_ERR_USAGE,
                            "%s: stages %zu and %zu both write to '%s' (stage %zu's path '%s' names the same directory): "
                            "the second would replace the first's output",
                            p->file, i, j, a, j, b);
        }
    }
    return CT_OK;
}

/* Whether input `in` (an existing file of stage j's option `key`) lies inside writer i's
 * output directory `out` or its work directory: the writer replaces both whole. */
static ct_status check_input_outside(ct_context *ctx, const ct_pipeline *p, size_t j, const char *key, const char *in,
                                     size_t i, const char *out) {
    struct stat sb;
    if (!in || stat(in, &sb) != 0) return CT_OK; /* (a connection string, or not there: nothing to lose) */
    char work[4200];
    ct_outdir_work_path(out, work, sizeof work);
    int inside = ct_path_within(in, out), in_work = inside == 0 ? ct_path_within(in, work) : 0;
    if (inside < 0 || in_work < 0) return ct_error_nomem(ctx, "output paths");
    if (!inside && !in_work) return CT_OK;
    return ct_error(ctx, CT_ERR_USAGE,
                    "%s: stage %zu (%s) reads '%s' (option %s), which lies inside the output directory '%s' of stage "
                    "%zu (%s): the writer replaces that directory whole, and the input would be deleted; move the "
                    "input out, or write elsewhere",
                    p->file, j, p->stages[j].vt->type, in, key, in_work ? work : out, i, p->stages[i].vt->type);
}

/* No input of any stage inside a writer's output directory (checked for the inputs that
 * exist: path options, lists of paths, and the models of an object option's members). */
static ct_status check_inputs_outside_outputs(ct_context *ctx, const ct_pipeline *p) {
    ct_status st = CT_OK;
    for (size_t i = 0; i < p->nstages && st == CT_OK; i++) {
        const char *out = output_path(p, i);
        if (!out) continue;
        for (size_t j = 0; j < p->nstages && st == CT_OK; j++) {
            for (const ct_option_def *d = p->stages[j].vt->options; d && d->name && st == CT_OK; d++) {
                json_t *v = json_object_get(p->stages[j].options, d->name);
                if (output_path(p, j) && strcmp(d->name, "path") == 0) continue; /* (the output itself) */
                if ((d->type == CT_OPT_PATH || d->type == CT_OPT_PATHS) && json_is_string(v)) {
                    st = check_input_outside(ctx, p, j, d->name, json_string_value(v), i, out);
                } else if (d->type == CT_OPT_PATHS && json_is_array(v)) {
                    for (size_t k = 0; k < json_array_size(v) && st == CT_OK; k++)
                        st = check_input_outside(ctx, p, j, d->name, json_string_value(json_array_get(v, k)), i, out);
                } else if (d->type == CT_OPT_OBJECT && json_is_object(v)) {
                    const char *k;
                    json_t *member;
                    json_object_foreach(v, k, member) {
                        if (st == CT_OK)
                            st = check_input_outside(ctx, p, j, d->name,
                                                     json_string_value(json_object_get(member, "model")), i, out);
                    }
                }
            }
        }
    }
    return st;
}

/* The canonical output path of every writers.3dtiles stage (out_path), for the checks
 * and the lock below; every other slot's is NULL. */
static ct_status resolve_output_paths(ct_context *ctx, ct_pipeline *p) {
    for (size_t i = 0; i < p->nstages; i++) {
        stage_slot *sl = &p->stages[i];
        sl->out_path = sl->lock_made = NULL;
        sl->lock_fd = -1;
        if (strcmp(sl->vt->type, "writers.3dtiles") != 0 || !output_path(p, i)) continue;
        if (!(sl->out_path = ct_path_canonical(output_path(p, i)))) return ct_error_nomem(ctx, "output path");
    }
    return CT_OK;
}

/* Each writers.3dtiles output path can take the output (not a file, not a folder of
 * other files, writable), said before any stage runs: a path that cannot be written was
 * found when the writer started, after the LiDAR and heights work of the night. */
static ct_status check_output_paths(ct_context *ctx, const ct_pipeline *p) {
    ct_status st = CT_OK;
    for (size_t i = 0; i < p->nstages && st == CT_OK; i++)
        if (p->stages[i].out_path) st = ct_outdir_check(ctx, p->stages[i].out_path, "tileset.json", 1);
    return st;
}

/* Each writers.3dtiles output locked for this run (ct_outdir_lock): shared by independent
 * partitions (they write one work directory), exclusive otherwise; under mpirun rank 0
 * holds it for the ranks. */
static ct_status lock_outputs(ct_context *ctx, ct_pipeline *p, int *partitions) {
    int k = 0, n = 1;
    ct_context_partition(ctx, &k, &n);
    int mpi = ct_context_has_barrier(ctx) && n > 1;
    *partitions = n > 1 && !mpi && !ct_context_merge(ctx) ? n : 0; /* (0: this run alone) */
    ct_status st = CT_OK;
    for (size_t i = 0; i < p->nstages && st == CT_OK && !(mpi && k != 0); i++) {
        stage_slot *sl = &p->stages[i];
        if (sl->out_path) st = ct_outdir_lock(ctx, sl->out_path, *partitions, &sl->lock_fd, &sl->lock_made);
    }
    return st;
}

/* For `citytiler merge`, once the outputs are locked (a partition still running holds its
 * lock: that error is the one to say): each has the partitions' work directory. A merge
 * with nothing to merge read the footprints and ran every stage first. */
static ct_status check_merge_ready(ct_context *ctx, const ct_pipeline *p, int *nothing) {
    *nothing = 0;
    if (!ct_context_merge(ctx)) return CT_OK;
    /* Every output finished already (merged, or a lone --partition 0/1 wrote it whole: a
     * Slurm array of one, then its merge job): nothing to do, and no error. */
    size_t outputs = 0, finished = 0;
    for (size_t i = 0; i < p->nstages; i++)
        if (p->stages[i].out_path) {
            outputs++;
            finished += (size_t)ct_outdir_finished(p->stages[i].out_path);
        }
    if (outputs > 0 && finished == outputs) {
        for (size_t i = 0; i < p->nstages; i++)
            if (p->stages[i].out_path)
                ct_log(ctx, CT_LOG_WARN, "%s: nothing to merge: the tileset there is finished (merged already, or "
                       "written whole by --partition 0/1) and no partition has run since; to rebuild it, run every "
                       "partition again", p->stages[i].out_path);
        *nothing = 1;
        return CT_OK;
    }
    ct_status st = CT_OK;
    for (size_t i = 0; i < p->nstages && st == CT_OK; i++)
        if (p->stages[i].out_path) st = ct_outdir_check_merge(ctx, p->stages[i].out_path);
    return st;
}

/* The locks released (ct_outdir_unlock) and the canonical paths freed. */
static void release_outputs(ct_pipeline *p, int partitions) {
    for (size_t i = 0; i < p->nstages; i++) {
        stage_slot *sl = &p->stages[i];
        if (sl->out_path) ct_outdir_unlock(sl->out_path, sl->lock_fd, partitions, sl->lock_made);
        free(sl->out_path);
        sl->out_path = sl->lock_made = NULL;
        sl->lock_fd = -1;
    }
}

/* The index of the pipeline's last writers.* stage; p->nstages when it has none. */
static size_t last_writer(const ct_pipeline *p) {
    size_t last = p->nstages;
    for (size_t i = 0; i < p->nstages; i++)
        if (strncmp(p->stages[i].vt->type, "writers.", 8) == 0) last = i;
    return last;
}

/* Stages after the last writer do work nobody sees (a reader there: the summary counted its
 * buildings as written). Warned, not refused: a pipeline may end with a stage of a user's
 * that writes by itself. */
static void warn_after_last_writer(ct_context *ctx, const ct_pipeline *p) {
    size_t last = last_writer(p);
    if (last == p->nstages) return; /* no writer: a run that checks its inputs */
    for (size_t i = last + 1; i < p->nstages; i++)
        ct_log(ctx, CT_LOG_WARN, "%s: stage %zu (%s) comes after the last writer (stage %zu, %s): what it does is not "
                                 "written; put it before the writer",
               p->file, i, p->stages[i].vt->type, last, p->stages[last].vt->type);
}

/* readers.lidar keeps only the points near the footprints and assets read before it
 * (crop): assets read after it that lie beyond the footprints got no LiDAR ground, which
 * filters.clamp could only report asset by asset. Warned once, when the pipeline loads. */
static void warn_assets_after_cropped_lidar(ct_context *ctx, const ct_pipeline *p) {
    size_t lidar = p->nstages;
    for (size_t i = 0; i < p->nstages; i++) {
        const char *type = p->stages[i].vt->type;
        if (strcmp(type, "readers.lidar") == 0 && lidar == p->nstages &&
            json_is_true(json_object_get(p->stages[i].options, "crop")))
            lidar = i;
        if (strcmp(type, "readers.assets") == 0 && lidar < i) {
            ct_log(ctx, CT_LOG_WARN, "%s: stage %zu (readers.assets) comes after stage %zu (readers.lidar), which keeps "
                   "only the points near what was read before it (crop): assets beyond the footprints' extent plus "
                   "crop_margin get no LiDAR ground; put readers.assets before readers.lidar", p->file, i, lidar);
            return;
        }
    }
}

/* filters.extrude makes the meshes from the footprints and heights before it. A stage
 * after it that sets heights kept the old meshes (filters.heights after it: a default
 * 10 m box with the LiDAR's roof_z in its metadata; a second filters.extrude's height was
 * ignored), one that changes footprints dropped them, and footprints read after it (or
 * with it first of all) had none (the writer failed at the end of the run, saying to put
 * filters.extrude before it): refused before anything runs. */
static ct_status check_extrude_last(ct_context *ctx, const ct_pipeline *p) {
    static const char *const before[] = {"filters.heights", "filters.clean", "filters.simplify", "filters.extrude",
                                         "readers.footprints"};
    size_t extrude = p->nstages, writer = last_writer(p);
    for (size_t i = 0; i < p->nstages; i++) {
        const char *type = p->stages[i].vt->type;
        /* (footprints read after the last writer reach no tile: warn_after_last_writer says so) */
        if (strcmp(type, "readers.footprints") == 0 && (writer == p->nstages || i > writer)) continue;
        for (size_t k = 0; extrude < p->nstages && k < sizeof before / sizeof *before; k++)
            if (strcmp(type, before[k]) == 0)
                return ct_error(ctx, CT_ERR_USAGE,
                                "%s: stage %zu (%s) comes after filters.extrude (stage %zu), which made the meshes from "
                                "the heights and footprints before it: put it before filters.extrude",
                                p->file, i, type, extrude);
        if (strcmp(type, "filters.extrude") == 0) extrude = i;
    }
    return CT_OK;
}

/* writers.3dtiles writes the meshes of buildings and the assets: without a
 * readers.footprints and a filters.extrude before it (or, for a tileset of assets alone,
 * a readers.assets), it failed only when it ran, after every stage before it (the LiDAR
 * read, heights) had run. Refused before anything runs. */
static ct_status check_writer_inputs(ct_context *ctx, const ct_pipeline *p) {
    size_t footprints = p->nstages, extrude = p->nstages, assets = p->nstages;
    for (size_t i = 0; i < p->nstages; i++) {
        const char *type = p->stages[i].vt->type;
        if (strcmp(type, "readers.footprints") == 0 && footprints == p->nstages) footprints = i;
        if (strcmp(type, "readers.assets") == 0 && assets == p->nstages) assets = i;
        if (strcmp(type, "filters.extrude") == 0 && extrude == p->nstages) extrude = i;
        if (strcmp(type, "writers.3dtiles") != 0) continue;
        if (footprints == p->nstages && assets == p->nstages)
            return ct_error(ctx, CT_ERR_USAGE, "%s: stage %zu (writers.3dtiles) has nothing to write: put a "
                                               "readers.footprints stage (buildings) or a readers.assets stage (assets) "
                                               "before it",
                            p->file, i);
        if (footprints == p->nstages) continue; /* a tileset of assets alone */
        if (extrude == p->nstages)
            return ct_error(ctx, CT_ERR_USAGE, "%s: stage %zu (writers.3dtiles) writes meshes, and no filters.extrude "
                                               "before it makes them: put one between readers.footprints (stage %zu) "
                                               "and the writer",
                            p->file, i, footprints);
    }
    return CT_OK;
}

/* The built-in stage types, and whether each reads the LiDAR points; a stage added by a
 * user is none of them (it may read points, or bring them). */
typedef struct builtin_stage {
    const char *type;
    int reads_points;
} builtin_stage;
static const builtin_stage BUILTIN_STAGES[] = {
    {"readers.footprints", 0}, {"readers.assets", 0}, {"readers.raster", 0}, {"readers.lidar", 1},
    {"filters.heights", 1},    {"filters.clamp", 1},  {"filters.clean", 0},  {"filters.extrude", 0},
    {"filters.simplify", 0},   {"writers.3dtiles", 0},
};
static const builtin_stage *find_builtin(const char *type) {
    for (size_t k = 0; k < sizeof BUILTIN_STAGES / sizeof *BUILTIN_STAGES; k++)
        if (strcmp(type, BUILTIN_STAGES[k].type) == 0) return &BUILTIN_STAGES[k];
    return NULL;
}

/* filters.heights measures from the LiDAR (readers.lidar) or rasters (readers.raster)
 * before it, by its `source`: without them it failed when it ran, after the footprints
 * were read (minutes, for a country). Refused before anything runs, unless a stage
 * that is not built in comes first (a researcher's reader may bring points). */
static ct_status check_heights_inputs(ct_context *ctx, const ct_pipeline *p) {
    int lidar = 0, raster = 0, unknown = 0;
    for (size_t i = 0; i < p->nstages; i++) {
        const char *type = p->stages[i].vt->type;
        if (strcmp(type, "filters.heights") == 0 && !unknown) {
            const char *source = json_string_value(json_object_get(p->stages[i].options, "source"));
            if (!source) source = "auto";
            int ok = strcmp(source, "lidar") == 0 ? lidar : strcmp(source, "raster") == 0 ? raster : lidar || raster;
            if (!ok)
                return ct_error(ctx, CT_ERR_USAGE, "%s: stage %zu (filters.heights, source \"%s\") has nothing to measure "
                                "heights from: put %s before it", p->file, i, source,
                                strcmp(source, "lidar") == 0    ? "readers.lidar"
                                : strcmp(source, "raster") == 0 ? "readers.raster"
                                                                : "readers.lidar (or readers.raster)");
        }
        lidar |= strcmp(type, "readers.lidar") == 0;
        raster |= strcmp(type, "readers.raster") == 0;
        unknown |= !(lidar || raster || find_builtin(type) || strncmp(type, "writers.", 8) == 0);
    }
    return CT_OK;
}

/* Reads a pipeline file for jansson, passing over a UTF-8 byte order mark at its start
 * (editors on Windows write one; jansson refused it, with the invisible character in
 * its message). */
typedef struct bom_reader {
    FILE *f;
    int started;
} bom_reader;

static size_t read_past_bom(void *buffer, size_t len, void *data) {
    bom_reader *r = data;
    if (!r->started) {
        r->started = 1;
        unsigned char head[3];
        size_t got = fread(head, 1, sizeof head, r->f);
        if (!(got == 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF)) {
            if (got > len) return (size_t)-1; /* (jansson asks for more than 3 bytes) */
            memcpy(buffer, head, got);
            return got;
        }
    }
    size_t n = fread(buffer, 1, len, r->f);
    return n == 0 && ferror(r->f) ? (size_t)-1 : n;
}

static json_t *load_pipeline_json(const char *path, json_error_t *err) {
    bom_reader r = {fopen(path, "rb"), 0};
    if (!r.f) {
        json_error_t none = {0};
        *err = none;
        snprintf(err->text, sizeof err->text, "cannot open");
        return NULL;
    }
    json_t *root = json_load_callback(read_past_bom, &r, JSON_REJECT_DUPLICATES, err);
    fclose(r.f);
    return root;
}

ct_status ct_pipeline_load(ct_context *ctx, const char *path, const char *const *overrides,
                           size_t noverrides, ct_pipeline **out) {
    *out = NULL;
    if (access(path, R_OK) != 0)
        return ct_error(ctx, CT_ERR_INPUT, "%s: cannot read the pipeline file (missing or not readable)", path);
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return ct_error(ctx, CT_ERR_INPUT, "%s: is a folder, not a pipeline file (a JSON file such as "
                        "pipelines/sample.json)", path);
    ct_pipeline *p = calloc(1, sizeof *p);
    if (!p) return ct_error_nomem(ctx, "pipeline");
    p->file = strdup(path);
    char *absfile = realpath(path, NULL);
    char *base = absfile ? strdup(dirname(absfile)) : NULL;
    free(absfile);
    if (!p->file || !base) {
        free(base);
        ct_pipeline_destroy(p);
        return ct_error_nomem(ctx, "pipeline path");
    }
    json_error_t jerr;
    json_t *root = load_pipeline_json(path, &jerr);
    ct_status st = CT_OK;
    if (!root)
        st = ct_error(ctx, CT_ERR_USAGE, "%s:%d:%d: invalid JSON: %s", path, jerr.line, jerr.column, jerr.text);
    if (st == CT_OK) st = parse_stages(ctx, p, root);
    json_decref(root);
    for (size_t k = 0; st == CT_OK && k < noverrides; k++) st = apply_override(ctx, p, overrides[k]);
    for (size_t i = 0; st == CT_OK && i < p->nstages; i++) {
        ct_option_origin origin = {path, i, base};
        st = ct_options_check(ctx, p->stages[i].vt, p->stages[i].options, &origin);
        if (st == CT_OK) {
            int declared = ct_context_point_reach_declarations(ctx);
            st = p->stages[i].vt->create(ctx, p->stages[i].options, &p->stages[i].state);
            /* A stage that may read the points and did not say how far around its items:
             * under MPI every process then keeps every point (see rank_band.h). */
            const builtin_stage *bs = find_builtin(p->stages[i].vt->type);
            if (st == CT_OK && (!bs || bs->reads_points) && strcmp(p->stages[i].vt->type, "readers.lidar") != 0 &&
                ct_context_point_reach_declarations(ctx) == declared)
                ct_context_declare_point_reach(ctx, NAN);
            /* A stage not built in may read the points, and leaves no results for the
             * merge: `citytiler merge` then reads the LiDAR (core/partition_results.h). */
            if (st == CT_OK && !bs && !ct_context_declare_partition_results(ctx, NULL))
                st = ct_error_nomem(ctx, "pipeline");
            /* (checked at run time too; here before any stage ran: a wrong cell_size was
             * "out of memory while allocating point store", exit 1, after the footprints) */
            if (st == CT_OK && strcmp(p->stages[i].vt->type, "readers.lidar") == 0)
                st = ct_point_store_check_sizes(ctx, p->cell_size > 0 ? p->cell_size : CT_DEFAULT_CELL_SIZE,
                                                json_number_value(json_object_get(p->stages[i].options, "index_size")));
            /* A stage's own checks (ranges, combinations) name the stage type: add the file
             * and the stage's index, as the option type checks give them. */
            char *msg = st != CT_OK && st != CT_ERR_NOMEM ? strdup(ct_error_message(ctx)) : NULL;
            if (msg) { /* (out of memory: the stage's message as it is) */
                if (!strstr(msg, path)) {
                    ct_error_clear(ctx); /* (the first error is kept: replace it by the fuller one) */
                    const char *type = p->stages[i].vt->type, *text = msg;
                    size_t tl = strlen(type);
                    if (strncmp(text, type, tl) == 0 && strncmp(text + tl, ": ", 2) == 0) text += tl + 2;
                    st = ct_error(ctx, st, "%s: stage %zu (%s): %s", path, i, type, text);
                }
                free(msg);
            }
        }
    }
    free(base);
    if (st == CT_OK) st = check_outputs(ctx, p);
    if (st == CT_OK) st = check_inputs_outside_outputs(ctx, p);
    if (st == CT_OK) st = check_extrude_last(ctx, p);
    if (st == CT_OK) warn_after_last_writer(ctx, p);
    if (st == CT_OK) warn_assets_after_cropped_lidar(ctx, p);
    if (st != CT_OK) {
        ct_pipeline_destroy(p);
        return st;
    }
    *out = p;
    return CT_OK;
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

ct_status ct_pipeline_run(ct_context *ctx, ct_pipeline *p, ct_dataset **out) {
    if (out) *out = NULL;
    /* From an empty dataset the stages must bring their own inputs: said before any stage
     * runs. (Not at load: ct_pipeline_run_on may run a writer alone on a dataset made
     * by another pipeline, as tools/bench/bench_tiles does.) */
    ct_status cst = check_writer_inputs(ctx, p);
    if (cst == CT_OK) cst = check_heights_inputs(ctx, p);
    int partitions = 0; /* (the count sharing the output locks; 0: this run alone) */
    if (cst == CT_OK) cst = resolve_output_paths(ctx, p);
    if (cst == CT_OK) cst = check_output_paths(ctx, p);
    if (cst == CT_OK) cst = lock_outputs(ctx, p, &partitions);
    int nothing = 0;
    if (cst == CT_OK) cst = check_merge_ready(ctx, p, &nothing);
    if (cst == CT_OK && nothing) {
        release_outputs(p, partitions);
        return CT_OK; /* (*out NULL: no dataset was made) */
    }
    ct_dataset *ds = cst == CT_OK ? ct_dataset_create() : NULL;
    if (cst == CT_OK && !ds) cst = ct_error_nomem(ctx, "dataset");
    if (cst != CT_OK) {
        release_outputs(p, partitions);
        return cst;
    }
    if (p->cell_size > 0) ds->cell_size = p->cell_size;
    ct_status st = ct_pipeline_run_on(ctx, p, ds);
    release_outputs(p, partitions);
    if (st == CT_OK && out) *out = ds;
    else ct_dataset_destroy(ds);
    return st;
}

/* Built-in stages that never read LiDAR points. Any other (readers.lidar, filters.heights,
 * filters.clamp, and stages added by users) may. */
static int stage_reads_points(const char *type) {
    const builtin_stage *b = find_builtin(type);
    return !b || b->reads_points;
}

/* Points on disk that no later stage reads: their files are closed in the background
 * (8 GB of them took 4 s to close at the very end of a run; now during the tiles). */
static void release_points_after(ct_pipeline *p, size_t i, ct_dataset *ds) {
    if (!ds->points || !ct_point_store_on_disk(ds->points)) return;
    for (size_t j = i + 1; j < p->nstages; j++)
        if (stage_reads_points(p->stages[j].vt->type)) return;
    ct_point_store_release_disk(ds->points);
}

/* The pipeline as it runs, for the run summary (see ct_context_set_pipeline_json): the
 * stage objects after the option checks (every default filled in, paths absolute, --set
 * applied). NULL when out of memory (the summary then lacks it; the run goes on). */
static json_t *pipeline_as_run(const ct_pipeline *p) {
    char *abs = realpath(p->file, NULL);
    json_t *j = json_object(), *stages = json_array();
    int ok = j && stages && json_object_set_new(j, "file", json_string(abs ? abs : p->file)) == 0;
    free(abs);
    if (ok && p->cell_size > 0) ok = json_object_set_new(j, "cell_size", json_real(p->cell_size)) == 0;
    for (size_t i = 0; ok && i < p->nstages; i++) ok = json_array_append(stages, p->stages[i].options) == 0;
    if (ok && json_object_set(j, "stages", stages) == 0) {
        json_decref(stages);
        return j;
    }
    json_decref(stages);
    json_decref(j);
    return NULL;
}

/* Under MPI every process must run the same stages with the same options: ranks given
 * different pipelines (an MPMD launch) ran through and failed at the end with "tile 1_0_0
 * of another rank is missing" (exit 1). Compared by a hash of the stages as run (paths
 * absolute, --set applied) before any stage runs; every process says the same. */
static ct_status check_same_pipeline(ct_context *ctx, const ct_pipeline *p, const json_t *as_run) {
    int k = 0, n = 1;
    ct_context_partition(ctx, &k, &n);
    if (!ct_context_has_allgather(ctx) || n < 2) return CT_OK;
    char *text = as_run ? json_dumps(json_object_get(as_run, "stages"), JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    uint64_t mine = text ? ct_fnv1a_str(text) : 0; /* (0: unknown, out of memory: not compared) */
    free(text);
    size_t *counts = calloc((size_t)n, sizeof *counts);
    void *all = NULL;
    ct_status st = counts ? ct_context_allgather(ctx, &mine, sizeof mine, &all, counts) : ct_error_nomem(ctx, "pipeline");
    uint64_t first = 0;
    for (int r = 0; st == CT_OK && r < n; r++) {
        uint64_t h = 0;
        if (counts[r] == sizeof h) memcpy(&h, (const char *)all + (size_t)r * sizeof h, sizeof h);
        if (h == 0) continue;
        if (first == 0) first = h;
        else if (h != first)
            st = ct_error(ctx, CT_ERR_USAGE, "%s: process %d of %d runs another pipeline than the processes before it "
                          "(its stages or options differ): give every process the same pipeline and --set options",
                          p->file, r, n);
    }
    free(all);
    free(counts);
    return st;
}

ct_status ct_pipeline_run_on(ct_context *ctx, ct_pipeline *p, ct_dataset *ds) {
    json_t *as_run = pipeline_as_run(p);
    ct_context_set_pipeline_json(ctx, as_run);
    ct_status st = check_same_pipeline(ctx, p, as_run);
    json_decref(as_run);
    if (st != CT_OK) return st;
    /* --measure-only: up to the last stage that reads the points */
    size_t last = p->nstages;
    if (ct_context_measure_only(ctx)) {
        last = 0;
        for (size_t i = 0; i < p->nstages; i++)
            if (stage_reads_points(p->stages[i].vt->type)) last = i + 1;
        if (last == 0 || !ct_context_work_dir(ctx))
            return ct_error(ctx, CT_ERR_USAGE, "%s: --measure-only: the pipeline %s", p->file,
                            last == 0 ? "reads no LiDAR points" : "has no writers.3dtiles to leave the results with");
    }
    for (size_t i = 0; i < last && st == CT_OK; i++) {
        double t0 = now_seconds(), c0 = ct_process_cpu_seconds();
        ct_context_set_current_stage(ctx, p->stages[i].vt->type);
        ct_log(ctx, CT_LOG_INFO, "stage %zu: %s", i, p->stages[i].vt->type);
        st = p->stages[i].vt->run(ctx, p->stages[i].state, ds);
        if (st == CT_OK) {
            double secs = now_seconds() - t0;
            ct_context_record_stage(ctx, p->stages[i].vt->type, secs, ct_process_cpu_seconds() - c0,
                                    ds->nbuildings);
            ct_log(ctx, CT_LOG_INFO, "stage %zu: %s done in %.2f s (%zu buildings; memory %.0f MiB, peak %.0f MiB)", i,
                   p->stages[i].vt->type, secs, ds->nbuildings, (double)ct_current_rss_bytes() / 1048576.0,
                   (double)ct_peak_rss_bytes() / 1048576.0);
            release_points_after(p, i, ds);
        }
    }
    if (st == CT_OK) ct_context_set_current_stage(ctx, NULL); /* (a failure's message stays tagged with its stage) */
    if (st == CT_OK && last < p->nstages) {
        int k = 0, n = 1;
        ct_context_partition(ctx, &k, &n);
        ct_log(ctx, CT_LOG_INFO, "--measure-only: partition %d/%d measured its band of the city and stops before stage "
               "%zu (%s); when every partition has, `citytiler run --partition K/N` for each K takes the measurements "
               "(the LiDAR is not read again), then `citytiler merge`", k, n, last, p->stages[last].vt->type);
    }
    return st;
}
