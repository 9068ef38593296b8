/* citytiler — pipeline stages: a small vtable per stage type, and its options. */
#ifndef CITYTILER_STAGE_H
#define CITYTILER_STAGE_H

#include "citytiler/context.h"
#include "citytiler/dataset.h"

/* Options are a JSON object (jansson's json_t). */
typedef struct json_t ct_json;

typedef enum ct_option_type {
    CT_OPT_STRING = 0,
    CT_OPT_PATH,        /* string; relative paths resolve against the pipeline file's folder */
    CT_OPT_NUMBER,
    CT_OPT_INTEGER,
    CT_OPT_BOOL,
    CT_OPT_STRING_LIST, /* array of strings */
    CT_OPT_BBOX,        /* [xmin, ymin, xmax, ymax] */
    CT_OPT_STRINGS_OR_ALL, /* "all" or an array of strings */
    CT_OPT_PATHS,       /* a path or an array of paths (files, directories, globs); resolved */
    CT_OPT_INTEGER_LIST, /* array of integers */
    CT_OPT_OBJECT       /* a JSON object; members' "model" paths resolve like CT_OPT_PATH */
} ct_option_type;

typedef struct ct_option_def {
    const char *name;
    ct_option_type type;
    const char *default_json; /* JSON text of the default, NULL = no default */
    int required;
    const char *help;
} ct_option_def;

typedef struct ct_stage_vtable {
    const char *type;                 /* "filters.extrude" */
    const char *summary;              /* one line for `citytiler stages` */
    const ct_option_def *options;     /* terminated by an entry with name NULL */
    /* Checks and keeps the options (already validated against `options`, defaults
     * filled, paths resolved). Must not touch output paths. A stage that reads the
     * LiDAR points (dataset->points) around buildings or assets says here how far
     * (ct_context_declare_point_reach): under mpirun each rank then keeps only its band
     * of the city plus that reach; without it every rank keeps every point. With a
     * stage added by a user in the pipeline, `citytiler merge` reads the LiDAR again
     * (the built-in ones leave what they measured to it: ct_context_declare_partition_results). */
    ct_status (*create)(ct_context *ctx, const ct_json *options, void **state);
    ct_status (*run)(ct_context *ctx, void *state, ct_dataset *data);
    void (*destroy)(void *state);
} ct_stage_vtable;

/* All built-in stage types, terminated by NULL. */
const ct_stage_vtable *const *ct_stage_registry(void);
/* The built-in stage type `type`, or NULL. */
const ct_stage_vtable *ct_stage_find(const char *type);

/* A stage of a program's own, for pipelines loaded with ctx afterwards: a researcher's
 * program that links the library adds its stages this way, without changing citytiler
 * (in the tree, a stage is one file in src/stages/ and one line in src/core/registry.c;
 * README, "Adding a stage"). vt must stay valid while ctx is used (a static const table).
 * Refused (CT_ERR_USAGE, with a message) when vt->type is not readers.NAME, filters.NAME
 * or writers.NAME, is already known (built in or added), or create, run, destroy or
 * options is NULL. */
ct_status ct_context_add_stage(ct_context *ctx, const ct_stage_vtable *vt);
/* The stage type `type` for pipelines of ctx: added to ctx, else built in; NULL when
 * unknown. */
const ct_stage_vtable *ct_stage_lookup(const ct_context *ctx, const char *type);

/* Typed access to validated options (the option must exist in the stage's table). */
const char *ct_opt_string(const ct_json *opts, const char *name);      /* NULL if null/absent */
double ct_opt_number(const ct_json *opts, const char *name);
long long ct_opt_integer(const ct_json *opts, const char *name);
int ct_opt_bool(const ct_json *opts, const char *name);
const ct_json *ct_opt_get(const ct_json *opts, const char *name);      /* raw, NULL if absent */
/* A CT_OPT_STRINGS_OR_ALL option: *all = 1 for "all", else *names (malloc'd array of
 * strings owned by opts; caller frees the array) and *n. */
ct_status ct_opt_names(ct_context *ctx, const ct_json *opts, const char *name, int *all, const char ***names,
                       size_t *n);

/* For a stage whose state is just its checked options (the OGR readers): as `create`
 * (or at its end), keeps a reference to options as *state (never fails); as `destroy`,
 * releases it. `run` then reads its options from the state with ct_opt_*. */
ct_status ct_stage_keep_options(ct_context *ctx, const ct_json *options, void **state);
void ct_stage_release_options(void *state);

#endif
