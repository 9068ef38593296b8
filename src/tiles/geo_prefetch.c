/* The writer's transformation made on a thread of its own (see geo_prefetch.h). */
#include "tiles/geo_prefetch.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct ct_geo_prefetch {
    pthread_t thread;
    char *src_crs, *vertical_crs, *geoid_grid; /* copies of the inputs */
    ct_geo_options o;                          /* pointing at the copies */
    ct_geo_transform *made;                    /* the thread's result (NULL: failed) */
};

static void *make(void *arg) {
    ct_geo_prefetch *f = arg;
    ct_context *own = ct_context_create(); /* (its error message is dropped: the caller repeats a failure) */
    if (own && ct_geo_transform_create_ex(own, f->src_crs, &f->o, &f->made) != CT_OK) f->made = NULL;
    ct_context_destroy(own);
    return NULL;
}

static int same_text(const char *a, const char *b) { return (!a && !b) || (a && b && strcmp(a, b) == 0); }

static char *copy_text(const char *s, int *failed) {
    if (!s) return NULL;
    char *c = strdup(s);
    if (!c) *failed = 1;
    return c;
}

static void free_inputs(ct_geo_prefetch *f) {
    free(f->src_crs);
    free(f->vertical_crs);
    free(f->geoid_grid);
    free(f);
}

ct_geo_prefetch *ct_geo_prefetch_start(const char *src_crs, const ct_geo_options *o) {
    if (!src_crs) return NULL;
    ct_geo_prefetch *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    int failed = 0;
    f->src_crs = copy_text(src_crs, &failed);
    f->vertical_crs = copy_text(o->vertical_crs, &failed);
    f->geoid_grid = copy_text(o->geoid_grid, &failed);
    f->o = *o;
    f->o.vertical_crs = f->vertical_crs;
    f->o.geoid_grid = f->geoid_grid;
    if (failed || pthread_create(&f->thread, NULL, make, f) != 0) {
        free_inputs(f);
        return NULL;
    }
    return f;
}

ct_geo_transform *ct_geo_prefetch_take(ct_geo_prefetch *f, const char *src_crs, const ct_geo_options *o) {
    if (!f) return NULL;
    pthread_join(f->thread, NULL);
    ct_geo_transform *t = f->made;
    int same = same_text(f->src_crs, src_crs) && same_text(f->vertical_crs, o->vertical_crs) &&
               same_text(f->geoid_grid, o->geoid_grid) && f->o.geoid_mode == o->geoid_mode &&
               f->o.probe[0] == o->probe[0] && f->o.probe[1] == o->probe[1];
    if (!same) {
        ct_geo_transform_destroy(t);
        t = NULL;
    }
    free_inputs(f);
    return t;
}

void ct_geo_prefetch_free(ct_geo_prefetch *f) {
    if (!f) return;
    pthread_join(f->thread, NULL);
    ct_geo_transform_destroy(f->made);
    free_inputs(f);
}
