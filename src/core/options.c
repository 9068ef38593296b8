#include "core/options.h"
#include "core/utf8.h"

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Each option type's name, and the same as said after "must be". */
static const struct { const char *name, *phrase; } type_names[] = {
    [CT_OPT_STRING] = {"string", "a string"},
    [CT_OPT_PATH] = {"path", "a path"},
    [CT_OPT_NUMBER] = {"number", "a number"},
    [CT_OPT_INTEGER] = {"integer", "an integer"},
    [CT_OPT_BOOL] = {"boolean", "a boolean"},
    [CT_OPT_STRING_LIST] = {"list of strings", "a list of strings"},
    [CT_OPT_BBOX] = {"[xmin, ymin, xmax, ymax]", "[xmin, ymin, xmax, ymax]"},
    [CT_OPT_STRINGS_OR_ALL] = {"\"all\" or list of strings", "\"all\" or a list of strings"},
    [CT_OPT_PATHS] = {"path or list of paths", "a path or a list of paths"},
    [CT_OPT_INTEGER_LIST] = {"list of integers", "a list of integers"},
    [CT_OPT_OBJECT] = {"object", "an object"},
};

static int known_type(ct_option_type t) {
    return (size_t)t < sizeof type_names / sizeof *type_names && type_names[t].name;
}

const char *ct_option_type_name(ct_option_type t) { return known_type(t) ? type_names[t].name : "?"; }
const char *ct_option_type_phrase(ct_option_type t) { return known_type(t) ? type_names[t].phrase : "?"; }

/* "PG:dbname=x", "WFS:http://..." or "/vsicurl/..." are not files to resolve. */
static int is_connection_string(const char *p) {
    if (!isalpha((unsigned char)p[0])) return 0;
    size_t i = 1;
    while (isalnum((unsigned char)p[i]) || p[i] == '_') i++;
    return p[i] == ':' && i >= 2;
}

char *ct_resolve_path(const char *base_dir, const char *path) {
    if (!path[0] || path[0] == '/' || is_connection_string(path) || !base_dir || !*base_dir) return strdup(path);
    size_t n = strlen(base_dir) + strlen(path) + 2;
    char *out = malloc(n);
    if (!out) return NULL;
    snprintf(out, n, "%s/%s", base_dir, path);
    return out;
}

static int is_string_list(const json_t *v) {
    if (!json_is_array(v)) return 0;
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) if (!json_is_string(e)) return 0;
    return 1;
}

int ct_option_value_ok(ct_option_type t, const json_t *v) {
    switch (t) {
    case CT_OPT_STRING:
    case CT_OPT_PATH: return json_is_string(v);
    case CT_OPT_NUMBER: return json_is_number(v);
    case CT_OPT_INTEGER: return json_is_integer(v);
    case CT_OPT_BOOL: return json_is_boolean(v);
    case CT_OPT_STRING_LIST: return is_string_list(v);
    case CT_OPT_PATHS: return json_is_string(v) || (is_string_list(v) && json_array_size(v) > 0);
    case CT_OPT_INTEGER_LIST: {
        if (!json_is_array(v)) return 0;
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) if (!json_is_integer(e)) return 0;
        return 1;
    }
    case CT_OPT_OBJECT: return json_is_object(v);
    case CT_OPT_STRINGS_OR_ALL:
        return is_string_list(v) || (json_is_string(v) && strcmp(json_string_value(v), "all") == 0);
    case CT_OPT_BBOX: {
        if (!json_is_array(v) || json_array_size(v) != 4) return 0;
        for (size_t i = 0; i < 4; i++) if (!json_is_number(json_array_get(v, i))) return 0;
        double x0 = json_number_value(json_array_get(v, 0)), y0 = json_number_value(json_array_get(v, 1));
        double x1 = json_number_value(json_array_get(v, 2)), y1 = json_number_value(json_array_get(v, 3));
        return x0 < x1 && y0 < y1;
    }
    }
    return 0;
}

static const ct_option_def *find_def(const ct_stage_vtable *vt, const char *key) {
    for (const ct_option_def *d = vt->options; d && d->name; d++)
        if (strcmp(d->name, key) == 0) return d;
    return NULL;
}

void ct_option_names(const ct_stage_vtable *vt, char *buf, size_t n) {
    buf[0] = '\0';
    size_t used = 0;
    for (const ct_option_def *d = vt->options; d && d->name; d++) {
        int w = snprintf(buf + used, n - used, "%s%s", used ? ", " : "", d->name);
        if (w < 0 || (size_t)w >= n - used) break;
        used += (size_t)w;
    }
}

/* *out: a new JSON string of `value` resolved against the pipeline's folder. A folder
 * whose name is not UTF-8 cannot go into JSON (jansson refuses it): that was reported as
 * "out of memory". */
static ct_status resolved_path(ct_context *ctx, const ct_option_origin *o, const char *type, const char *key,
                               const char *value, json_t **out) {
    if (!*value) /* (it named the pipeline's folder, or the current one with --set) */
        return ct_error(ctx, CT_ERR_USAGE, "%s: stage %zu (%s): option '%s' is an empty path", o->file, o->stage_index,
                        type, key);
    char *abs = ct_resolve_path(o->base_dir, value);
    if (!abs) return ct_error_nomem(ctx, "path");
    *out = json_string(abs);
    ct_status st = CT_OK;
    if (!*out && !ct_utf8_valid(abs))
        st = ct_error(ctx, CT_ERR_USAGE,
                      "%s: stage %zu (%s): option '%s': the path '%s' is not valid UTF-8, which citytiler's JSON "
                      "(pipeline, tileset, run summary) cannot hold: rename the folder or file",
                      o->file, o->stage_index, type, key, abs);
    else if (!*out)
        st = ct_error_nomem(ctx, "path option");
    free(abs);
    return st;
}

/* An input of a reader (a path option of a readers.* stage) must exist before anything
 * runs: a missing LAS file was found after the footprints had been read (minutes, for a
 * city), a missing glob match likewise. Connection strings ("PG:...", "https://...") and
 * GDAL's virtual paths ("/vsizip/...") are left to GDAL; other errors (permissions) to
 * the reader, which names them. */
static ct_status input_exists(ct_context *ctx, const ct_option_origin *o, const ct_stage_vtable *vt, const char *key,
                              const json_t *value) {
    const char *path = json_string_value(value);
    if (strncmp(vt->type, "readers.", 8) != 0 || !path || is_connection_string(path) || strncmp(path, "/vsi", 4) == 0)
        return CT_OK;
    if (strpbrk(path, "*?[")) { /* a glob (readers.lidar): it must match something */
        glob_t g;
        int r = glob(path, 0, NULL, &g);
        size_t n = r == 0 ? g.gl_pathc : 0;
        if (r == 0 || r == GLOB_NOMATCH) globfree(&g);
        if (n > 0 || r != GLOB_NOMATCH) return CT_OK;
        return ct_error(ctx, CT_ERR_USAGE, "%s: stage %zu (%s): option '%s': '%s': pattern matches no file", o->file,
                        o->stage_index, vt->type, key, path);
    }
    struct stat st;
    if (stat(path, &st) == 0 || errno != ENOENT) return CT_OK;
    return ct_error(ctx, CT_ERR_USAGE, "%s: stage %zu (%s): option '%s': '%s' does not exist%s", o->file, o->stage_index,
                    vt->type, key, path,
                    o->base_dir && strncmp(path, o->base_dir, strlen(o->base_dir)) == 0
                        ? " (a relative path is taken from the pipeline file's folder)"
                        : "");
}

ct_status ct_options_check(ct_context *ctx, const ct_stage_vtable *vt, json_t *opts,
                           const ct_option_origin *o) {
    const char *key;
    json_t *val;
    json_object_foreach(opts, key, val) {
        if (strcmp(key, "type") == 0 || strcmp(key, "tag") == 0) continue;
        const ct_option_def *d = find_def(vt, key);
        if (!d) {
            char known[512];
            ct_option_names(vt, known, sizeof known);
            return ct_error(ctx, CT_ERR_USAGE, "%s: stage %zu (%s): unknown option '%s' (options of %s: %s)",
                            o->file, o->stage_index, vt->type, key, vt->type, known);
        }
        if (json_is_null(val) && !d->required) continue;
        if (!ct_option_value_ok(d->type, val))
            return ct_error(ctx, CT_ERR_USAGE, "%s: stage %zu (%s): option '%s' must be %s",
                            o->file, o->stage_index, vt->type, key, ct_option_type_phrase(d->type));
    }
    for (const ct_option_def *d = vt->options; d && d->name; d++) {
        json_t *v = json_object_get(opts, d->name);
        /* null means the default ("--set writers.3dtiles.lod=null" takes a pipeline file's
         * value back): stages read an option of theirs as its type, and a null string
         * crashed them, a null number was 0 (roof_percentile null: the roof's p0). */
        if (!v || (json_is_null(v) && d->default_json)) {
            if (d->required)
                return ct_error(ctx, CT_ERR_USAGE, "%s: stage %zu (%s): missing required option '%s'",
                                o->file, o->stage_index, vt->type, d->name);
            json_t *def = d->default_json ? json_loads(d->default_json, JSON_DECODE_ANY, NULL) : json_null();
            if (!def || json_object_set_new(opts, d->name, def) != 0)
                return ct_error_nomem(ctx, "option default");
            continue;
        }
        if ((d->type == CT_OPT_PATH || d->type == CT_OPT_PATHS) && json_is_string(v)) {
            json_t *abs = NULL;
            ct_status st = resolved_path(ctx, o, vt->type, d->name, json_string_value(v), &abs);
            if (st != CT_OK) return st;
            if (json_object_set_new(opts, d->name, abs) != 0) return ct_error_nomem(ctx, "path option");
            st = input_exists(ctx, o, vt, d->name, abs);
            if (st != CT_OK) return st;
        } else if (d->type == CT_OPT_OBJECT && json_is_object(v)) {
            /* {"name": {"model": "relative/path.glb", ...}, ...}: resolve the models. */
            const char *k;
            json_t *member;
            json_object_foreach(v, k, member) {
                const char *model = json_string_value(json_object_get(member, "model"));
                if (!model) continue;
                json_t *abs = NULL;
                ct_status st = resolved_path(ctx, o, vt->type, d->name, model, &abs);
                if (st != CT_OK) return st;
                if (json_object_set_new(member, "model", abs) != 0) return ct_error_nomem(ctx, "path option");
            }
        } else if (d->type == CT_OPT_PATHS && json_is_array(v)) {
            for (size_t i = 0; i < json_array_size(v); i++) {
                json_t *abs = NULL;
                ct_status st = resolved_path(ctx, o, vt->type, d->name, json_string_value(json_array_get(v, i)), &abs);
                if (st != CT_OK) return st;
                if (json_array_set_new(v, i, abs) != 0) return ct_error_nomem(ctx, "path option");
                st = input_exists(ctx, o, vt, d->name, abs);
                if (st != CT_OK) return st;
            }
        }
    }
    return CT_OK;
}

/* Typed accessors used by stages; options were checked, so types hold. */
const ct_json *ct_opt_get(const ct_json *opts, const char *name) {
    json_t *v = json_object_get((const json_t *)opts, name);
    return json_is_null(v) ? NULL : v;
}

const char *ct_opt_string(const ct_json *opts, const char *name) {
    return json_string_value(json_object_get((const json_t *)opts, name));
}

double ct_opt_number(const ct_json *opts, const char *name) {
    return json_number_value(json_object_get((const json_t *)opts, name));
}

long long ct_opt_integer(const ct_json *opts, const char *name) {
    return json_integer_value(json_object_get((const json_t *)opts, name));
}

int ct_opt_bool(const ct_json *opts, const char *name) {
    return json_is_true(json_object_get((const json_t *)opts, name));
}

ct_status ct_opt_names(ct_context *ctx, const ct_json *opts, const char *name, int *all, const char ***names,
                       size_t *n) {
    const json_t *v = ct_opt_get(opts, name);
    *all = json_is_string(v);
    *names = NULL;
    *n = 0;
    if (!json_is_array(v)) return CT_OK;
    *n = json_array_size(v);
    *names = calloc(*n ? *n : 1, sizeof **names);
    if (!*names) return ct_error_nomem(ctx, "name list");
    for (size_t i = 0; i < *n; i++) (*names)[i] = json_string_value(json_array_get(v, i));
    return CT_OK;
}

ct_status ct_stage_keep_options(ct_context *ctx, const ct_json *options, void **state) {
    (void)ctx; /* the vtable's create signature: a reference cannot fail */
    *state = json_incref((json_t *)options);
    return CT_OK;
}

void ct_stage_release_options(void *state) { json_decref(state); }
