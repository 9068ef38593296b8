/* The CRS of a LAS file, from the OGC WKT (E)VLR (LASF_Projection 2112) or the
 * GeoTIFF keys (LASF_Projection 34735 + 34736 doubles + 34737 ASCII).
 *
 * EPSG-coded GeoTIFF keys are resolved with OSR ("EPSG:h+v" for a compound);
 * user-defined keys (32767) are handed to GDAL by writing a 1x1 GeoTIFF holding
 * exactly those keys into /vsimem/ and reading back its SRS. No CRS database
 * of our own. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <ogr_srs_api.h>
#include <proj.h>

#include "io/las_internal.h"

#define WKT_MAX (16u << 20)

typedef struct geokeys {
    int present;
    int model, proj, geog, vert;   /* 0 when absent */
    int vert_units;                /* VerticalUnitsGeoKey: EPSG unit of z, 0 when absent */
    char vert_unit_name[64];       /* that unit as PROJ names it, "" when it is none */
    double vert_unit_metres;       /* metres per unit of it, 0 when it is none */
    uint8_t *dir;                  /* raw payloads (owned) */
    size_t ndir;
    uint8_t *dbl;
    size_t ndbl;
    uint8_t *asc;
    size_t nasc;
} geokeys;

static const ct_las_vlr *find_vlr(const ct_las_header *h, uint16_t id, int allow_evlr) {
    for (size_t i = 0; i < h->nvlrs; i++)
        if (h->vlrs[i].record_id == id && strcmp(h->vlrs[i].user_id, "LASF_Projection") == 0)
            return &h->vlrs[i];
    if (allow_evlr)
        for (size_t i = 0; i < h->nevlrs; i++)
            if (h->evlrs[i].record_id == id && strcmp(h->evlrs[i].user_id, "LASF_Projection") == 0)
                return &h->evlrs[i];
    return NULL;
}

/* Reads a (E)VLR payload into a new buffer with a NUL appended. */
static ct_status load_payload(ct_context *ctx, const char *path, const ct_las_vlr *v,
                              ct_las_read_fn rd, void *user, uint8_t **out, size_t *len) {
    *out = NULL;
    *len = 0;
    if (v->length > WKT_MAX) {
        ct_log(ctx, CT_LOG_WARN, "%s: CRS record %u is %llu bytes, more than %u: ignored", path,
               (unsigned)v->record_id, (unsigned long long)v->length, WKT_MAX);
        return CT_OK;
    }
    uint8_t *b = malloc((size_t)v->length + 1);
    if (!b) return ct_error_nomem(ctx, "LAS CRS record");
    if (rd(user, v->data_offset, (size_t)v->length, b) != 0) {
        free(b);
        return ct_error(ctx, CT_ERR_IO, "%s: cannot read CRS record %u", path, (unsigned)v->record_id);
    }
    b[v->length] = 0;
    *out = b;
    *len = (size_t)v->length;
    return CT_OK;
}

static int epsg_of(OGRSpatialReferenceH srs, const char *node) {
    const char *name = OSRGetAuthorityName(srs, node);
    const char *code = OSRGetAuthorityCode(srs, node);
    if (name && code && strcmp(name, "EPSG") == 0) return atoi(code);
    return 0;
}

/* Fills horizontal / vertical EPSG codes of a parsed SRS (0 when unknown). */
static void srs_codes(OGRSpatialReferenceH srs, int *horiz, int *vert) {
    *horiz = *vert = 0;
    if (OSRIsCompound(srs)) {
        *horiz = OSRIsProjected(srs) ? epsg_of(srs, "PROJCS") : epsg_of(srs, "GEOGCS");
        *vert = epsg_of(srs, "VERT_CS");
    } else if (OSRIsProjected(srs)) {
        *horiz = epsg_of(srs, "PROJCS");
        if (!*horiz) *horiz = epsg_of(srs, NULL);
    } else if (OSRIsGeographic(srs)) {
        *horiz = epsg_of(srs, "GEOGCS");
        if (!*horiz) *horiz = epsg_of(srs, NULL);
    } else if (OSRIsVertical(srs)) {
        *vert = epsg_of(srs, "VERT_CS");
    }
    if (!*horiz && (OSRIsProjected(srs) || OSRIsGeographic(srs)) && !OSRIsCompound(srs)) {
        OGRSpatialReferenceH c = OSRClone(srs);
        if (c && OSRAutoIdentifyEPSG(c) == OGRERR_NONE) *horiz = epsg_of(c, NULL);
        if (c) OSRDestroySpatialReference(c);
    }
}

/* Exports an SRS as WKT2 into a malloc'd string. */
static ct_status export_wkt(ct_context *ctx, OGRSpatialReferenceH srs, char **out) {
    char *w = NULL;
    const char *opts[] = {"FORMAT=WKT2_2019", "MULTILINE=NO", NULL};
    *out = NULL;
    if (OSRExportToWktEx(srs, &w, opts) != OGRERR_NONE || !w) {
        CPLFree(w);
        return CT_OK;
    }
    *out = strdup(w);
    CPLFree(w);
    if (!*out) return ct_error_nomem(ctx, "CRS WKT");
    return CT_OK;
}

static void parse_keys(geokeys *g) {
    size_t nshort = g->ndir / 2;
    if (nshort < 4) return;
    size_t nkeys = ct_le16(g->dir + 6);
    if (nkeys > (nshort - 4) / 4) nkeys = (nshort - 4) / 4;
    for (size_t k = 0; k < nkeys; k++) {
        const uint8_t *e = g->dir + 8 + 8 * k;
        unsigned id = ct_le16(e), loc = ct_le16(e + 2), val = ct_le16(e + 6);
        if (loc != 0) continue;
        switch (id) {
        case 1024: g->model = (int)val; break;
        case 2048: g->geog = (int)val; break;
        case 3072: g->proj = (int)val; break;
        case 4096: g->vert = (int)val; break;
        case 4099: g->vert_units = (int)val; break;
        default: break;
        }
    }
}

static void put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, v & 0xFFFF); put16(p + 2, v >> 16); }

/* Builds a 1x1 8-bit little-endian TIFF carrying the GeoTIFF tags. */
static uint8_t *build_tiff(const geokeys *g, size_t *size) {
    size_t nasc = g->nasc;
    int add_nul = nasc > 0 && g->asc[nasc - 1] != 0;
    size_t asc_len = nasc + (size_t)add_nul;
    size_t ndir_short = g->ndir / 2;
    unsigned nent = 9 + 1 + (g->ndbl >= 8 ? 1 : 0) + (asc_len ? 1 : 0);
    size_t ifd = 8, ifd_size = 2 + 12 * (size_t)nent + 4;
    size_t off_dir = ifd + ifd_size;
    size_t off_dbl = off_dir + ndir_short * 2;
    off_dbl = (off_dbl + 7) & ~(size_t)7;
    size_t ndbl = g->ndbl / 8;
    size_t off_asc = off_dbl + ndbl * 8;
    size_t off_pix = off_asc + asc_len;
    size_t total = off_pix + 1;
    uint8_t *t = calloc(1, total);
    if (!t) return NULL;
    memcpy(t, "II", 2);
    put16(t + 2, 42);
    put32(t + 4, (uint32_t)ifd);
    put16(t + ifd, nent);
    uint8_t *e = t + ifd + 2;
#define ENTRY(tag, type, count, value)                                             \
    do {                                                                           \
        put16(e, tag); put16(e + 2, type); put32(e + 4, (uint32_t)(count));        \
        put32(e + 8, (uint32_t)(value)); e += 12;                                  \
    } while (0)
    ENTRY(256, 3, 1, 1);        /* ImageWidth */
    ENTRY(257, 3, 1, 1);        /* ImageLength */
    ENTRY(258, 3, 1, 8);        /* BitsPerSample */
    ENTRY(259, 3, 1, 1);        /* Compression: none */
    ENTRY(262, 3, 1, 1);        /* Photometric: min-is-black */
    ENTRY(273, 4, 1, off_pix);  /* StripOffsets */
    ENTRY(277, 3, 1, 1);        /* SamplesPerPixel */
    ENTRY(278, 3, 1, 1);        /* RowsPerStrip */
    ENTRY(279, 4, 1, 1);        /* StripByteCounts */
    ENTRY(34735, 3, ndir_short, off_dir);
    if (ndbl) ENTRY(34736, 12, ndbl, off_dbl);
    if (asc_len) {
        if (asc_len <= 4) {
            put16(e, 34737); put16(e + 2, 2); put32(e + 4, (uint32_t)asc_len);
            memcpy(e + 8, g->asc, nasc);
            e += 12;
        } else {
            ENTRY(34737, 2, asc_len, off_asc);
        }
    }
#undef ENTRY
    put32(e, 0); /* no next IFD */
    memcpy(t + off_dir, g->dir, ndir_short * 2);
    if (ndbl) memcpy(t + off_dbl, g->dbl, ndbl * 8);
    if (asc_len > 4) memcpy(t + off_asc, g->asc, nasc);
    *size = total;
    return t;
}

/* GeoTIFF keys → SRS through GDAL's GeoTIFF reader. Returns NULL when GDAL
 * cannot make a CRS of them. */
static OGRSpatialReferenceH srs_from_gdal(const geokeys *g, const void *tag) {
    size_t size = 0;
    uint8_t *tiff = build_tiff(g, &size);
    if (!tiff) return NULL;
    char name[96];
    snprintf(name, sizeof name, "/vsimem/citytiler_las_geokeys_%p.tif", tag);
    VSILFILE *f = VSIFileFromMemBuffer(name, tiff, (vsi_l_offset)size, FALSE);
    if (!f) {
        free(tiff);
        return NULL;
    }
    VSIFCloseL(f);
    GDALAllRegister();
    const char *drivers[] = {"GTiff", NULL};
    const char *old = CPLGetThreadLocalConfigOption("GTIFF_REPORT_COMPD_CS", NULL);
    char *saved = old ? CPLStrdup(old) : NULL;
    CPLSetThreadLocalConfigOption("GTIFF_REPORT_COMPD_CS", "YES");
    GDALDatasetH ds = GDALOpenEx(name, GDAL_OF_RASTER | GDAL_OF_READONLY, drivers, NULL, NULL);
    OGRSpatialReferenceH srs = NULL;
    if (ds) {
        OGRSpatialReferenceH s = GDALGetSpatialRef(ds);
        if (s) srs = OSRClone(s);
        GDALClose(ds);
    }
    CPLSetThreadLocalConfigOption("GTIFF_REPORT_COMPD_CS", saved);
    CPLFree(saved);
    VSIUnlink(name);
    free(tiff);
    return srs;
}

static int is_code(int v) { return v > 0 && v < 32767; }

/* The EPSG linear unit `code` from PROJ's database: 1 and its name and metres per unit. */
static int linear_unit(int code, char *name, size_t size, double *metres) {
    PJ_CONTEXT *c = proj_context_create();
    if (!c) return 0;
    proj_log_level(c, PJ_LOG_NONE);
    char text[16];
    snprintf(text, sizeof text, "%d", code);
    const char *n = NULL, *category = NULL;
    int ok = proj_uom_get_info_from_database(c, "EPSG", text, &n, metres, &category) && n && category &&
             strcmp(category, "linear") == 0 && *metres > 0 && isfinite(*metres);
    if (ok) snprintf(name, size, "%s", n);
    proj_context_destroy(c);
    return ok;
}

/* VerticalUnitsGeoKey gives the unit of z. An EPSG vertical CRS in another unit takes it:
 * NAVD88 height (5703, metres) with z in US feet (9003) is how much US LiDAR is written,
 * and reading those feet as metres made buildings 3.28 times too tall. */
static void apply_vertical_units(ct_context *ctx, const char *path, const geokeys *g, OGRSpatialReferenceH srs) {
    if (!is_code(g->vert_units) || !is_code(g->vert)) return;
    const char *name = g->vert_unit_name;
    double want = g->vert_unit_metres;
    if (!(want > 0)) {
        ct_log(ctx, CT_LOG_WARN, "%s: GeoTIFF VerticalUnitsGeoKey %d is not an EPSG linear unit: ignored", path,
               g->vert_units);
        return;
    }
    char *have_name = NULL;
    double have = OSRGetTargetLinearUnits(srs, "VERT_CS", &have_name);
    if (fabs(have - want) <= 1e-12 * want) return;
    char was[64];
    snprintf(was, sizeof was, "%s", have_name ? have_name : "unknown unit");
    if (OSRSetTargetLinearUnits(srs, "VERT_CS", name, want) != OGRERR_NONE) {
        ct_log(ctx, CT_LOG_WARN, "%s: GeoTIFF VerticalUnitsGeoKey %d (%s) cannot be given to vertical CRS EPSG:%d: "
               "heights taken in %s", path, g->vert_units, name, g->vert, was);
        return;
    }
    ct_log(ctx, CT_LOG_INFO, "%s: GeoTIFF VerticalUnitsGeoKey %d (%s) for vertical CRS EPSG:%d (in %s): heights "
           "taken in %s", path, g->vert_units, name, g->vert, was, name);
}

/* CRS from GeoTIFF keys. On success sets *srs (caller destroys). */
static void geokeys_srs(ct_context *ctx, const char *path, const geokeys *g, const void *tag,
                        OGRSpatialReferenceH *srs) {
    *srs = NULL;
    int horiz = 0;
    if (is_code(g->proj)) horiz = g->proj;
    else if (!g->proj && is_code(g->geog)) horiz = g->geog;
    int vert = is_code(g->vert) ? g->vert : 0;
    int user_defined = g->proj == 32767 || (!g->proj && g->geog == 32767);
    if (horiz || (vert && !user_defined)) {
        char def[64];
        if (horiz && vert) snprintf(def, sizeof def, "EPSG:%d+%d", horiz, vert);
        else snprintf(def, sizeof def, "EPSG:%d", horiz ? horiz : vert);
        OGRSpatialReferenceH s = OSRNewSpatialReference(NULL);
        if (s && OSRSetFromUserInput(s, def) == OGRERR_NONE) {
            if (vert) apply_vertical_units(ctx, path, g, s);
            *srs = s;
            return;
        }
        if (s) OSRDestroySpatialReference(s);
        if (horiz && vert) {
            /* an unknown combination: try the horizontal part alone */
            snprintf(def, sizeof def, "EPSG:%d", horiz);
            s = OSRNewSpatialReference(NULL);
            if (s && OSRSetFromUserInput(s, def) == OGRERR_NONE) {
                ct_log(ctx, CT_LOG_WARN, "%s: GeoTIFF vertical CS EPSG:%d cannot be combined with "
                       "EPSG:%d: keeping the horizontal CRS only", path, vert, horiz);
                *srs = s;
                return;
            }
            if (s) OSRDestroySpatialReference(s);
        }
        if (!horiz && vert >= 5001 && vert <= 5033)
            ct_log(ctx, CT_LOG_WARN,
                   "%s: GeoTIFF keys hold only VerticalCSType %d, a GeoTIFF ellipsoidal-height code "
                   "(not an EPSG CRS), and no horizontal CRS: no CRS", path, vert);
        else
            ct_log(ctx, CT_LOG_WARN, "%s: GeoTIFF keys name %s, which PROJ does not know: no CRS",
                   path, def);
        return;
    }
    if (user_defined || g->model) {
        OGRSpatialReferenceH s = srs_from_gdal(g, tag);
        if (s && (OSRIsProjected(s) || OSRIsGeographic(s) || OSRIsCompound(s) || OSRIsVertical(s))) {
            *srs = s;
            return;
        }
        if (s) OSRDestroySpatialReference(s);
        ct_log(ctx, CT_LOG_WARN, "%s: GeoTIFF keys (model type %d, projected %d, geographic %d) do "
               "not define a usable CRS", path, g->model, g->proj, g->geog);
        return;
    }
    ct_log(ctx, CT_LOG_WARN, "%s: GeoTIFF key directory has no model, projected, geographic or "
           "vertical CS key: no CRS", path);
}

static void free_keys(geokeys *g) {
    free(g->dir);
    free(g->dbl);
    free(g->asc);
}

/* The OGC WKT record (VLR or EVLR 2112), when there is one: its text (trimmed) into
 * *raw, and the CRS OGR reads from it into *srs (NULL, with a warning, when it cannot). */
static ct_status read_wkt_record(ct_context *ctx, const char *path, const ct_las_vlr *vw, ct_las_read_fn rd,
                                 void *user, uint8_t **raw, OGRSpatialReferenceH *srs) {
    size_t len = 0;
    ct_status st = load_payload(ctx, path, vw, rd, user, raw, &len);
    if (st != CT_OK || !*raw) return st;
    uint8_t *w = *raw;
    /* trim trailing NULs / blanks */
    size_t n = strlen((char *)w);
    while (n > 0 && (w[n - 1] == ' ' || w[n - 1] == '\n' || w[n - 1] == '\r' || w[n - 1] == '\t')) w[--n] = 0;
    OGRSpatialReferenceH s = OSRNewSpatialReference(NULL);
    if (!s) return ct_error_nomem(ctx, "OGR spatial reference");
    char *p = (char *)w;
    if (n > 0 && OSRImportFromWkt(s, &p) == OGRERR_NONE) {
        *srs = s;
    } else {
        OSRDestroySpatialReference(s);
        ct_log(ctx, CT_LOG_WARN, "%s: OGC WKT record (%s %u) is not a CRS OGR can read ('%.40s%s')", path,
               vw->extended ? "EVLR" : "VLR", (unsigned)vw->record_id, (char *)w, n > 40 ? "..." : "");
    }
    return CT_OK;
}

/* The GeoTIFF keys (VLR 34735, with 34736 and 34737): the unit of z into the header, and
 * the CRS they give into *srs unless keys_needed is 0 (a usable WKT flagged by the
 * encoding bit makes them unnecessary). */
static ct_status read_geokeys(ct_context *ctx, const char *path, ct_las_header *h, const ct_las_vlr *vk,
                              ct_las_read_fn rd, void *user, int keys_needed, geokeys *g, OGRSpatialReferenceH *srs) {
    g->present = 1;
    ct_status st = load_payload(ctx, path, vk, rd, user, &g->dir, &g->ndir);
    if (st != CT_OK) return st;
    const ct_las_vlr *vd = find_vlr(h, 34736, 1), *va = find_vlr(h, 34737, 1);
    if (vd && (st = load_payload(ctx, path, vd, rd, user, &g->dbl, &g->ndbl)) != CT_OK) return st;
    if (va && (st = load_payload(ctx, path, va, rd, user, &g->asc, &g->nasc)) != CT_OK) return st;
    parse_keys(g);
    /* The unit of z, looked up once: the header keeps it (for a CRS without a vertical
     * part) and geokeys_srs gives it to the vertical CRS. */
    if (is_code(g->vert_units) &&
        !linear_unit(g->vert_units, g->vert_unit_name, sizeof g->vert_unit_name, &g->vert_unit_metres))
        g->vert_unit_metres = 0;
    h->z_units_key = g->vert_unit_metres;
    if (g->dir && keys_needed) geokeys_srs(ctx, path, g, h, srs);
    return CT_OK;
}

/* The CRS the file's records give (the WKT when the encoding bit says so or when there
 * are no keys, else the keys) into the header: its source, EPSG codes and WKT. */
static ct_status use_crs(ct_context *ctx, const char *path, ct_las_header *h, OGRSpatialReferenceH wkt_srs,
                         const uint8_t *wkt_raw, OGRSpatialReferenceH key_srs, int wkt_bit, int any_record) {
    ct_status st = CT_OK;
    OGRSpatialReferenceH use = NULL;
    if (wkt_bit && wkt_srs) {
        use = wkt_srs;
        h->crs_source = "wkt";
    } else if (key_srs) {
        use = key_srs;
        h->crs_source = "geotiff";
        if (wkt_srs)
            ct_log(ctx, CT_LOG_DEBUG, "%s: both GeoTIFF keys and WKT present, WKT bit not set: using "
                   "the GeoTIFF keys", path);
    } else if (wkt_srs) {
        use = wkt_srs;
        h->crs_source = "wkt";
        if (!wkt_bit)
            ct_log(ctx, CT_LOG_DEBUG, "%s: WKT CRS used although the global-encoding WKT bit is not set",
                   path);
    }
    if (wkt_bit && !wkt_srs && key_srs)
        ct_log(ctx, CT_LOG_WARN, "%s: WKT bit set but no usable WKT record: using the GeoTIFF keys", path);
    if (use) {
        srs_codes(use, &h->epsg_horizontal, &h->epsg_vertical);
        if (use == wkt_srs) {
            h->crs_wkt = strdup((const char *)wkt_raw);
            if (!h->crs_wkt) st = ct_error_nomem(ctx, "CRS WKT");
        } else {
            st = export_wkt(ctx, use, &h->crs_wkt);
            if (st == CT_OK && !h->crs_wkt) {
                ct_log(ctx, CT_LOG_WARN, "%s: GeoTIFF CRS cannot be written as WKT: no CRS", path);
                h->crs_source = "none";
                h->epsg_horizontal = h->epsg_vertical = 0;
            }
        }
    } else if (h->point_format >= 6 && h->version_minor >= 4 && !any_record) {
        ct_log(ctx, CT_LOG_DEBUG, "%s: no CRS record", path);
    }
    return st;
}

ct_status ct_las_parse_crs(ct_context *ctx, const char *path, ct_las_header *h, ct_las_read_fn rd,
                           void *user) {
    geokeys g;
    memset(&g, 0, sizeof g);
    uint8_t *wkt_raw = NULL;
    OGRSpatialReferenceH wkt_srs = NULL, key_srs = NULL;
    const int wkt_bit = (h->global_encoding >> 4) & 1;
    CPLPushErrorHandler(CPLQuietErrorHandler);
    ct_status st = CT_OK;
    const ct_las_vlr *vw = find_vlr(h, 2112, 1), *vk = find_vlr(h, 34735, 1);
    if (vw) st = read_wkt_record(ctx, path, vw, rd, user, &wkt_raw, &wkt_srs);
    if (st == CT_OK && vk) st = read_geokeys(ctx, path, h, vk, rd, user, !(wkt_bit && wkt_srs), &g, &key_srs);
    if (st == CT_OK) st = use_crs(ctx, path, h, wkt_srs, wkt_raw, key_srs, wkt_bit, vw || vk);
    CPLPopErrorHandler();
    if (wkt_srs) OSRDestroySpatialReference(wkt_srs);
    if (key_srs) OSRDestroySpatialReference(key_srs);
    free(wkt_raw);
    free_keys(&g);
    if (st != CT_OK) {
        free(h->crs_wkt);
        h->crs_wkt = NULL;
    }
    return st;
}
