/* `citytiler info FILE [--classes]`: what a user needs to know about a file they were
 * handed, as JSON on stdout: a LAS file's header, CRS, VLRs (and class counts), or an
 * OGR vector source's layers, CRS, extent, feature counts and fields. */
#include "cli/cli_info.h"

#include <cpl_conv.h>
#include <gdal.h>
#include <stdlib.h>
#include <jansson.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "citytiler/las.h"
#include "core/utf8.h"
#include "io/input_file.h"
#include "io/ogr_source.h"

static int is_las(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    char sig[4] = {0};
    size_t n = fread(sig, 1, 4, f);
    fclose(f);
    return n == 4 && memcmp(sig, "LASF", 4) == 0;
}

/* Text from the file as UTF-8, its other bytes read as Latin-1 (as the readers do):
 * jansson refuses text that is not UTF-8, and such a field name or file name was left out
 * of the output without a word. The caller frees it; NULL when out of memory. */
static char *utf8_text(const char *s) { return ct_utf8_latin1_fallback(s ? s : "", NULL); }

static json_t *utf8_string(const char *s) {
    char *c = utf8_text(s);
    json_t *j = c ? json_string(c) : NULL;
    free(c);
    return j;
}

static json_t *layer_json(OGRLayerH layer) {
    json_t *j = json_object();
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(layer);
    json_object_set_new(j, "name", utf8_string(OGR_L_GetName(layer)));
    json_object_set_new(j, "geometry_type", json_string(OGRGeometryTypeToName(OGR_L_GetGeomType(layer))));
    json_object_set_new(j, "feature_count", json_integer((json_int_t)OGR_L_GetFeatureCount(layer, TRUE)));
    OGREnvelope e;
    if (OGR_L_GetExtent(layer, &e, TRUE) == OGRERR_NONE) {
        json_t *b = json_array();
        json_array_append_new(b, json_real(e.MinX));
        json_array_append_new(b, json_real(e.MinY));
        json_array_append_new(b, json_real(e.MaxX));
        json_array_append_new(b, json_real(e.MaxY));
        json_object_set_new(j, "extent", b);
    }
    OGRSpatialReferenceH srs = OGR_L_GetSpatialRef(layer);
    if (srs) {
        char *wkt = ct_ogr_wkt2(srs);
        if (wkt) json_object_set_new(j, "crs_wkt", json_string(wkt));
        free(wkt);
        const char *auth = OSRGetAuthorityName(srs, NULL), *code = OSRGetAuthorityCode(srs, NULL);
        if (auth && code && strcmp(auth, "EPSG") == 0) json_object_set_new(j, "epsg", json_integer(atoi(code)));
    } else {
        json_object_set_new(j, "crs_wkt", json_null());
    }
    json_t *fields = json_object();
    for (int i = 0; i < OGR_FD_GetFieldCount(defn); i++) {
        OGRFieldDefnH fd = OGR_FD_GetFieldDefn(defn, i);
        char *name = utf8_text(OGR_Fld_GetNameRef(fd));
        if (name) json_object_set_new(fields, name, json_string(OGR_GetFieldTypeName(OGR_Fld_GetType(fd))));
        free(name);
    }
    json_object_set_new(j, "fields", fields);
    return j;
}

static int ogr_info(const char *path) {
    GDALAllRegister();
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!ds) {
        /* Why, where the file says (a missing file, one not readable, an empty one, a .las
         * without the LAS signature were all "neither ... can open") */
        struct stat sb;
        char why[160] = "";
        size_t len = strlen(path);
        int las_name = len >= 4 && strcasecmp(path + len - 4, ".las") == 0;
        FILE *f = NULL;
        if (stat(path, &sb) != 0) {
            if (strncmp(path, "PG:", 3) != 0) snprintf(why, sizeof why, " (%s)", strerror(errno));
        } else if (S_ISDIR(sb.st_mode)) {
            snprintf(why, sizeof why, " (a directory: info describes one LAS file at a time, e.g. citytiler info "
                                      "DIR/TILE.las)");
        } else if (!(f = fopen(path, "rb"))) {
            snprintf(why, sizeof why, " (%s)", strerror(errno));
        } else if (sb.st_size == 0) {
            snprintf(why, sizeof why, " (an empty file)");
        } else if (las_name) {
            snprintf(why, sizeof why, " (named .las, but its first bytes are not the LAS signature \"LASF\")");
        }
        if (f) fclose(f);
        fprintf(stderr, "citytiler info: %s: neither a LAS file nor a vector source GDAL can open%s\n", path, why);
        return 2;
    }
    json_t *j = json_object();
    json_object_set_new(j, "file", utf8_string(path));
    json_object_set_new(j, "driver", json_string(GDALGetDriverShortName(GDALGetDatasetDriver(ds))));
    json_t *layers = json_array();
    for (int i = 0; i < GDALDatasetGetLayerCount(ds); i++) json_array_append_new(layers, layer_json(GDALDatasetGetLayer(ds, i)));
    json_object_set_new(j, "layers", layers);
    GDALClose(ds);
    json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    json_decref(j);
    return 0;
}

int ct_cli_info(ct_context *ctx, int argc, char **argv) {
    const char *file = NULL;
    int classes = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--classes") == 0) {
            classes = 1;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "citytiler info: unknown option '%s'\n", argv[i]);
            return 2;
        } else if (!file) {
            file = argv[i];
        } else {
            fprintf(stderr, "citytiler info: one FILE only\n");
            return 2;
        }
    }
    if (!file) {
        fprintf(stderr, "citytiler info: missing FILE (a .las file or any GDAL vector source)\n");
        return 2;
    }
    if (ct_input_file_check(ctx, file, NULL) != CT_OK) {
        fprintf(stderr, "citytiler info: %s\n", ct_error_message(ctx));
        return 2;
    }
    if (!is_las(file) && !ct_las_is_laz(file)) return ogr_info(file);
    json_t *j = NULL;
    ct_status st = ct_las_info_json(ctx, file, classes, &j);
    if (st != CT_OK) {
        fprintf(stderr, "citytiler info: %s\n", ct_error_message(ctx));
        return ct_status_exit_code(st);
    }
    json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    json_decref(j);
    return 0;
}
