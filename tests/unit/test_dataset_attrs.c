/* Attribute columns of a dataset: ct_dataset_add_attrs adds several columns at once,
 * null for the buildings already there, reuses a column of the same name and type,
 * gives a name repeated within one call one column, refuses a name that exists with
 * another type (leaving the dataset as it was), and keeps the values already set. */
#include <stdlib.h>
#include <string.h>

#include "citytiler/dataset.h"
#include "ct_test.h"

int main(void) {
    ct_context *ctx = ct_context_create();
    ct_dataset *ds = ct_dataset_create();
    CT_CHECK(ctx && ds);
    int name_col = -1;
    CT_CHECK(ct_dataset_add_attr(ctx, ds, "name", CT_ATTR_STRING, &name_col) == CT_OK && name_col == 0);
    for (int i = 0; i < 300; i++) { /* past the first growth of the building array */
        ct_building *b = NULL;
        CT_CHECK(ct_dataset_append(ctx, ds, &b) == CT_OK);
        b->attrs[name_col].is_null = 0;
        b->attrs[name_col].v.s = strdup(i % 2 ? "odd" : "even");
    }

    const char *names[] = {"ground_z", "name", "point_count", "ground_z", "flag"};
    const ct_attr_type types[] = {CT_ATTR_REAL, CT_ATTR_STRING, CT_ATTR_INT, CT_ATTR_REAL, CT_ATTR_STRING};
    int cols[5] = {-1, -1, -1, -1, -1};
    CT_CHECK(ct_dataset_add_attrs(ctx, ds, names, types, 5, cols) == CT_OK);
    CT_CHECK_MSG(cols[0] == 1 && cols[1] == 0 && cols[2] == 2 && cols[3] == 1 && cols[4] == 3,
                 "columns %d %d %d %d %d", cols[0], cols[1], cols[2], cols[3], cols[4]);
    CT_CHECK_MSG(ds->nattrs == 4, "%zu columns", ds->nattrs);
    CT_CHECK(strcmp(ds->attrs[1].name, "ground_z") == 0 && ds->attrs[1].type == CT_ATTR_REAL);
    CT_CHECK(strcmp(ds->attrs[2].name, "point_count") == 0 && ds->attrs[2].type == CT_ATTR_INT);
    CT_CHECK(strcmp(ds->attrs[3].name, "flag") == 0 && ds->attrs[3].type == CT_ATTR_STRING);
    size_t bad = 0;
    for (size_t i = 0; i < ds->nbuildings; i++) {
        const ct_value *a = ds->buildings[i].attrs;
        bad += a[0].is_null || strcmp(a[0].v.s, i % 2 ? "odd" : "even") != 0;
        bad += !a[1].is_null || !a[2].is_null || !a[3].is_null;
    }
    CT_CHECK_MSG(bad == 0, "%zu wrong values", bad);

    /* Again: the same columns, nothing added. */
    int again[5];
    CT_CHECK(ct_dataset_add_attrs(ctx, ds, names, types, 5, again) == CT_OK && ds->nattrs == 4);
    CT_CHECK(memcmp(again, cols, sizeof cols) == 0);
    /* Another type for an existing name: refused, nothing added. */
    const char *clash[] = {"roof_z", "point_count"};
    const ct_attr_type clash_types[] = {CT_ATTR_REAL, CT_ATTR_REAL};
    int cc[2];
    CT_CHECK(ct_dataset_add_attrs(ctx, ds, clash, clash_types, 2, cc) == CT_ERR_USAGE);
    CT_CHECK(strstr(ct_error_message(ctx), "point_count") != NULL);
    CT_CHECK_MSG(ds->nattrs == 4, "%zu columns after a refused add", ds->nattrs);
    /* A name repeated with two types in one call: refused too. */
    const char *twice[] = {"height", "height"};
    const ct_attr_type twice_types[] = {CT_ATTR_REAL, CT_ATTR_INT};
    CT_CHECK(ct_dataset_add_attrs(ctx, ds, twice, twice_types, 2, cc) == CT_ERR_USAGE && ds->nattrs == 4);

    /* A building appended afterwards has every column, all null. */
    ct_building *b = NULL;
    CT_CHECK(ct_dataset_append(ctx, ds, &b) == CT_OK);
    CT_CHECK(b->attrs[0].is_null && b->attrs[1].is_null && b->attrs[2].is_null && b->attrs[3].is_null);

    ct_dataset_destroy(ds);
    ct_context_destroy(ctx);
    return ct_test_finish("test_dataset_attrs");
}
