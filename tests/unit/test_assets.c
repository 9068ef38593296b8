/* readers.assets (io/ogr_assets.c): coordinate columns found by name or given,
 * the source CRS (stored, given, lon/lat by column name, lon/lat by value range, else an
 * error), the working CRS chosen when none is set, explicit z / height / heading /
 * scale fields, category field or constant, attribute selection and CSV column types,
 * duplicate ids across two readers, messages naming the file, row and reason. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "citytiler/assets.h"
#include "ct_test.h"
#include "io/ogr_assets.h"

typedef struct log_buf {
    char text[16384];
    size_t used;
} log_buf;

static void logger(void *user, ct_log_level level, const char *msg) {
    log_buf *b = user;
    (void)level;
    int w = snprintf(b->text + b->used, sizeof b->text - b->used, "%s\n", msg);
    if (w > 0 && (size_t)w < sizeof b->text - b->used) b->used += (size_t)w;
}

static char dir[1024];

static const char *write_file(const char *name, const char *text) {
    static char path[2][1200];
    static int k = 0;
    k ^= 1;
    snprintf(path[k], sizeof path[k], "%s/%s", dir, name);
    FILE *f = fopen(path[k], "w");
    CT_CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    return path[k];
}

static const ct_value *attr(const ct_asset_set *s, const ct_asset *a, const char *name, ct_attr_type *type) {
    for (size_t k = 0; k < s->nattrs; k++)
        if (strcmp(s->attrs[k].name, name) == 0) {
            if (type) *type = s->attrs[k].type;
            return &a->attrs[k];
        }
    return NULL;
}

static const char *RD_WKT_INPUT = "EPSG:28992";

/* A dataset whose working CRS is RD New (as after readers.footprints). */
static ct_dataset *rd_dataset(void) {
    ct_dataset *ds = ct_dataset_create();
    ds->crs_wkt = strdup(
        "PROJCS[\"Amersfoort / RD New\",GEOGCS[\"Amersfoort\",DATUM[\"Amersfoort\",SPHEROID[\"Bessel 1841\",6377397.155,"
        "299.1528128],TOWGS84[565.2369,50.0087,465.658,-0.406857,0.350733,-1.87035,4.0812]],PRIMEM[\"Greenwich\",0],"
        "UNIT[\"degree\",0.0174532925199433]],PROJECTION[\"Oblique_Stereographic\"],PARAMETER[\"latitude_of_origin\","
        "52.1561605555556],PARAMETER[\"central_meridian\",5.38763888888889],PARAMETER[\"scale_factor\",0.9999079],"
        "PARAMETER[\"false_easting\",155000],PARAMETER[\"false_northing\",463000],UNIT[\"metre\",1],"
        "AUTHORITY[\"EPSG\",\"28992\"]]");
    return ds;
}

static void test_fields_and_types(void) {
    ct_context *ctx = ct_context_create();
    log_buf lb = {{0}, 0};
    ct_context_set_logger(ctx, logger, &lb, CT_LOG_DEBUG);
    const char *p = write_file("fields.csv",
                               "code,rd_x,rd_y,kind,elev,hag,dir,size,serial,level,note,colour\n"
                               "L1,119318.7,485146.8,lamp,,6,90,1,007,1,hello,0x1A\n"
                               "L2,119320.7,485146.8,lamp,1.25,,-90,2.5,008,2.5,,0x1B\n"
                               "L3,119322.7,485146.8,lamp,,,450,,009,3,x,0x1C\n");
    ct_dataset *ds = rd_dataset();
    ct_ogr_assets_options o;
    memset(&o, 0, sizeof o);
    o.path = p;
    o.id_field = "code";
    o.category_field = "kind";
    o.x_field = "rd_x";
    o.y_field = "rd_y";
    o.z_field = "elev";
    o.height_field = "hag";
    o.heading_field = "dir";
    o.scale_field = "size";
    o.srs = RD_WKT_INPUT;
    o.all_fields = 1;
    o.on_roof = 1;
    o.area_margin = 1;
    ct_status st = ct_ogr_read_assets(ctx, &o, ds);
    CT_CHECK_MSG(st == CT_OK, "%s", ct_error_message(ctx));
    const ct_asset_set *s = ds->assets;
    CT_CHECK(s && s->n == 3);
    if (s && s->n == 3) {
        const ct_asset *a = s->items;
        CT_CHECK(strcmp(a[0].id, "L1") == 0 && strcmp(a[0].category, "lamp") == 0);
        CT_CHECK_NEAR(a[0].x, 119318.7, 1e-9);
        CT_CHECK_NEAR(a[0].y, 485146.8, 1e-9);
        CT_CHECK(isnan(a[0].z) && !(a[0].flags & CT_ASSET_Z_GIVEN));
        CT_CHECK(a[1].z == 1.25 && (a[1].flags & CT_ASSET_Z_GIVEN));
        CT_CHECK(a[0].height_above_ground == 6 && isnan(a[1].height_above_ground));
        CT_CHECK(a[0].heading == 90 && a[1].heading == 270 && a[2].heading == 90);
        CT_CHECK(a[0].scale == 1 && a[1].scale == 2.5 && a[2].scale == 1);
        CT_CHECK(a[0].flags & CT_ASSET_ON_ROOF);
        CT_CHECK(a[0].source_record == 2 && a[2].source_record == 4);
        ct_attr_type t;
        const ct_value *v = attr(s, &a[0], "serial", &t);
        CT_CHECK(v && t == CT_ATTR_STRING && strcmp(v->v.s, "007") == 0); /* leading zeros stay text */
        v = attr(s, &a[1], "level", &t);
        CT_CHECK(v && t == CT_ATTR_REAL && v->v.r == 2.5);
        v = attr(s, &a[0], "hag", &t);
        CT_CHECK(v && t == CT_ATTR_INT && v->v.i == 6);
        v = attr(s, &a[0], "colour", &t);
        CT_CHECK(v && t == CT_ATTR_STRING && strcmp(v->v.s, "0x1A") == 0); /* hexadecimal is text, not 26 */
        v = attr(s, &a[1], "note", &t);
        CT_CHECK(v && t == CT_ATTR_STRING && v->is_null); /* empty cell: null */
        CT_CHECK(attr(s, &a[0], "rd_x", NULL) == NULL && attr(s, &a[0], "rd_y", NULL) == NULL);
    }
    /* A second reader: the same ids are duplicates of the first reader's. */
    memset(&o, 0, sizeof o);
    o.path = p;
    o.id_field = "code";
    o.x_field = "rd_x";
    o.y_field = "rd_y";
    o.srs = RD_WKT_INPUT;
    o.category = "fixed";
    o.area_margin = 1;
    const char *fields[] = {"note"};
    o.fields = fields;
    o.nfields = 1;
    st = ct_ogr_read_assets(ctx, &o, ds);
    CT_CHECK(st == CT_OK);
    CT_CHECK(s->n == 3);
    CT_CHECK(strstr(lb.text, "fields.csv: row 2: skipped: duplicate id 'L1' (already read by an earlier stage; id_field "
                             "or id_prefix keeps the sources apart)") != NULL);
    uint64_t dup = 0;
    for (size_t r = 0; r < s->nskipped; r++)
        if (strcmp(s->skipped[r].reason, "duplicate id") == 0) dup = s->skipped[r].count;
    CT_CHECK(dup == 3);
    CT_CHECK(s->input_rows == 6);
    /* A third reader with id_prefix: its ids no longer clash, so all three load. */
    o.id_prefix = "b/";
    st = ct_ogr_read_assets(ctx, &o, ds);
    CT_CHECK(st == CT_OK);
    CT_CHECK_MSG(s->n == 6, "%zu assets", s->n);
    if (s->n == 6) CT_CHECK(strcmp(s->items[3].id, "b/L1") == 0);
    ct_dataset_destroy(ds);

    /* Unknown field names are errors naming the file and the field. */
    ds = rd_dataset();
    memset(&o, 0, sizeof o);
    o.path = p;
    o.x_field = "rd_x";
    o.y_field = "rd_y";
    o.srs = RD_WKT_INPUT;
    o.heading_field = "bearing";
    st = ct_ogr_read_assets(ctx, &o, ds);
    CT_CHECK(st == CT_ERR_INPUT);
    CT_CHECK(strstr(ct_error_message(ctx), "fields.csv: heading_field 'bearing' is not a field of layer 'fields'") != NULL);
    ct_error_clear(ctx);
    ct_dataset_destroy(ds);
    ct_context_destroy(ctx);
}

static void test_crs(void) {
    ct_context *ctx = ct_context_create();
    log_buf lb = {{0}, 0};
    ct_context_set_logger(ctx, logger, &lb, CT_LOG_DEBUG);
    ct_ogr_assets_options o;
    /* x/y in metres, no CRS anywhere: an error that says what to do. */
    const char *p = write_file("rd_nocrs.csv", "id,x,y\n1,119318.7,485146.8\n");
    ct_dataset *ds = ct_dataset_create();
    memset(&o, 0, sizeof o);
    o.path = p;
    o.all_fields = 1;
    o.area_margin = 1;
    ct_status st = ct_ogr_read_assets(ctx, &o, ds);
    CT_CHECK(st == CT_ERR_INPUT && strstr(ct_error_message(ctx), "has no CRS; give readers.assets an \"srs\"") != NULL);
    ct_error_clear(ctx);
    ct_dataset_destroy(ds);

    /* X/Y columns whose values all look like degrees: EPSG:4326 with a warning; the
     * working CRS becomes the UTM zone of the data. */
    p = write_file("xy_degrees.csv", "name,X,Y\nn1,4.8635,52.3531\nn2,4.8636,52.3527\n");
    ds = ct_dataset_create();
    memset(&o, 0, sizeof o);
    o.path = p;
    o.id_field = "name";
    o.area_margin = 1;
    st = ct_ogr_read_assets(ctx, &o, ds);
    CT_CHECK_MSG(st == CT_OK, "%s", ct_error_message(ctx));
    CT_CHECK(strstr(lb.text, "every coordinate looks like longitude/latitude, assuming EPSG:4326") != NULL);
    CT_CHECK(ds->crs_wkt && strstr(ds->crs_wkt, "UTM zone 31N") != NULL);
    CT_CHECK(ds->assets && ds->assets->n == 2);
    if (ds->assets && ds->assets->n == 2) {
        /* 4.8635 E, 52.3531 N in UTM 31N: about (627 km, 5801 km) */
        CT_CHECK(fabs(ds->assets->items[0].x - 627000) < 2000 && fabs(ds->assets->items[0].y - 5801000) < 2000);
    }
    ct_dataset_destroy(ds);

    /* The area of use (RD New: lon 3.20..7.22) with a margin: 0 is strict, 1 degree lets
     * a point at about 7.6 E through. */
    p = write_file("near_border.csv", "id,x,y\nin,119318.7,485146.8\nbeyond,305000,501000\n");
    for (int margin = 0; margin <= 1; margin++) {
        ds = rd_dataset();
        memset(&o, 0, sizeof o);
        o.path = p;
        o.srs = "EPSG:28992";
        o.area_margin = margin;
        lb.used = 0;
        lb.text[0] = 0;
        st = ct_ogr_read_assets(ctx, &o, ds);
        CT_CHECK(st == CT_OK && ds->assets->n == (size_t)(margin ? 2 : 1));
        if (!margin)
            CT_CHECK(strstr(lb.text, "near_border.csv: row 3: skipped: outside the CRS's area of use (305000, 501000 is lon 7.") != NULL);
        ct_dataset_destroy(ds);
    }
    ct_context_destroy(ctx);
}

/* A skipped row does not decide a column's type: its value holding the delimiter
 * shifted its fields ("oops" in the z column), which made z text for every asset. */
static void test_types_of_kept_rows(void) {
    ct_context *ctx = ct_context_create();
    log_buf lb = {{0}, 0};
    ct_context_set_logger(ctx, logger, &lb, CT_LOG_DEBUG);
    const char *p = write_file("shifted.csv", "id,x,y,z,dir\n"
                                              "a,119318.7,485146.8,1,45\n"
                                              "b,119319.7,485147.0,oops,x,2\n"
                                              "c,119320.7,485146.8,2,90.5\n");
    ct_dataset *ds = rd_dataset();
    ct_ogr_assets_options o;
    memset(&o, 0, sizeof o);
    o.path = p;
    o.id_field = "id";
    o.x_field = "x";
    o.y_field = "y";
    o.z_field = "z";
    o.srs = RD_WKT_INPUT;
    o.all_fields = 1;
    o.area_margin = 1;
    ct_status st = ct_ogr_read_assets(ctx, &o, ds);
    CT_CHECK_MSG(st == CT_OK, "%s", ct_error_message(ctx));
    const ct_asset_set *s = ds->assets;
    CT_CHECK(s && s->n == 2);
    if (s && s->n == 2) {
        ct_attr_type t;
        const ct_value *v = attr(s, &s->items[1], "z", &t);
        CT_CHECK_MSG(v && t == CT_ATTR_INT && v->v.i == 2, "z: type %d", (int)t);
        v = attr(s, &s->items[1], "dir", &t);
        CT_CHECK_MSG(v && t == CT_ATTR_REAL && v->v.r == 90.5, "dir: type %d", (int)t);
    }
    ct_dataset_destroy(ds);
    ct_context_destroy(ctx);
}

int main(void) {
    const char *bin = ct_test_env("CT_BINARY_DIR", ".");
    snprintf(dir, sizeof dir, "%s/test-out", bin);
    mkdir(dir, 0777);
    snprintf(dir, sizeof dir, "%s/test-out/assets", bin);
    mkdir(dir, 0777);
    test_fields_and_types();
    test_types_of_kept_rows();
    test_crs();
    return ct_test_finish("test_assets");
}
