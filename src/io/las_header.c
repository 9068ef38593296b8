/* LAS public header block, VLRs and EVLRs (ASPRS LAS 1.4 R15, sections 2.2–2.6).
 * Every size read from the file is checked against the file size before it is
 * used to allocate or seek. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/las_internal.h"

#define LAS_HEADER_MIN 227u
#define VLR_HEADER 54u
#define EVLR_HEADER 60u
#define EB_DESCRIPTOR 192u

uint16_t ct_las_standard_length(unsigned f) {
    static const uint16_t len[11] = {20, 28, 26, 34, 57, 63, 30, 36, 38, 59, 67};
    return f < 11 ? len[f] : 0;
}

/* ---- byte sources ---- */

typedef struct fd_src { int fd; } fd_src;
typedef struct mem_src { const uint8_t *data; size_t size; } mem_src;

static int fd_read(void *user, uint64_t off, size_t len, void *buf) {
    const fd_src *s = user;
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = pread(s->fd, p, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (n == 0) return -1;
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
}

static int mem_read(void *user, uint64_t off, size_t len, void *buf) {
    const mem_src *s = user;
    if (off > s->size || len > s->size - off) return -1;
    if (len) memcpy(buf, s->data + off, len);
    return 0;
}

/* Copies a fixed-width, possibly unterminated text field, stopping at NUL. */
static void copy_field(char *dst, const uint8_t *src, size_t width) {
    size_t n = 0;
    while (n < width && src[n] != 0) n++;
    memcpy(dst, src, n);
    dst[n] = '\0';
    /* keep messages and JSON printable */
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)dst[i] < 0x20 || (unsigned char)dst[i] == 0x7f) dst[i] = '?';
}

static void free_header(ct_las_header *h) {
    free(h->vlrs);
    free(h->evlrs);
    free(h->extra_dims);
    free(h->crs_wkt);
    memset(h, 0, sizeof *h);
}

void ct_las_close(ct_las_reader *r) {
    if (!r) return;
    if (r->fd >= 0) close(r->fd);
    free_header(&r->hdr);
    free(r->laz);
    free(r->chunks);
    free(r->path);
    free(r);
}

void ct_las_release_file(ct_las_reader *r) {
    if (!r || r->fd < 0) return;
    close(r->fd);
    r->fd = -1;
}

const ct_las_header *ct_las_get_header(const ct_las_reader *r) { return &r->hdr; }
const char *ct_las_path(const ct_las_reader *r) { return r->path; }

static int is_laszip_vlr(const ct_las_vlr *v) {
    return v->record_id == 22204 && strcmp(v->user_id, "laszip encoded") == 0;
}

/* Size in bytes of an extra-bytes data type (LAS 1.4 table 24), 0 when unknown. */
static uint32_t eb_type_size(unsigned type, unsigned options) {
    static const uint8_t base[11] = {0, 1, 1, 2, 2, 4, 4, 8, 8, 4, 8};
    if (type == 0) return options;           /* undocumented bytes: options = count */
    if (type <= 10) return base[type];
    if (type <= 20) return 2u * base[type - 10]; /* deprecated 2-element arrays */
    if (type <= 30) return 3u * base[type - 20]; /* deprecated 3-element arrays */
    return 0;
}

static ct_status parse_extra_bytes(ct_context *ctx, const char *path, ct_las_header *h,
                                   ct_las_read_fn rd, void *user) {
    size_t ndesc = 0;
    for (size_t i = 0; i < h->nvlrs; i++)
        if (h->vlrs[i].record_id == 4 && strcmp(h->vlrs[i].user_id, "LASF_Spec") == 0)
            ndesc += (size_t)(h->vlrs[i].length / EB_DESCRIPTOR);
    for (size_t i = 0; i < h->nevlrs; i++)
        if (h->evlrs[i].record_id == 4 && strcmp(h->evlrs[i].user_id, "LASF_Spec") == 0)
            ndesc += (size_t)(h->evlrs[i].length / EB_DESCRIPTOR);
    if (ndesc == 0) {
        if (h->extra_bytes)
            ct_log(ctx, CT_LOG_INFO, "%s: %u extra bytes per point without an Extra Bytes VLR",
                   path, (unsigned)h->extra_bytes);
        return CT_OK;
    }
    /* Each descriptor sits inside a VLR already checked against the file size,
     * and describes at least... nothing: bound by the record's extra bytes. */
    if (ndesc > 65535) ndesc = 65535;
    ct_las_extra_dim *dims = calloc(ndesc, sizeof *dims);
    if (!dims) return ct_error_nomem(ctx, "LAS extra-bytes descriptors");
    size_t n = 0;
    uint32_t off = h->standard_length;
    int bad = 0;
    for (int pass = 0; pass < 2 && !bad; pass++) {
        const ct_las_vlr *list = pass ? h->evlrs : h->vlrs;
        size_t cnt = pass ? h->nevlrs : h->nvlrs;
        for (size_t i = 0; i < cnt && !bad; i++) {
            if (list[i].record_id != 4 || strcmp(list[i].user_id, "LASF_Spec") != 0) continue;
            size_t k = (size_t)(list[i].length / EB_DESCRIPTOR);
            for (size_t j = 0; j < k && n < ndesc; j++) {
                uint8_t d[EB_DESCRIPTOR];
                if (rd(user, list[i].data_offset + j * EB_DESCRIPTOR, sizeof d, d) != 0) {
                    free(dims);
                    return ct_error(ctx, CT_ERR_IO, "%s: cannot read Extra Bytes VLR %zu", path, i);
                }
                ct_las_extra_dim *e = &dims[n];
                e->data_type = d[2];
                copy_field(e->name, d + 4, 32);
                e->size = eb_type_size(d[2], d[3]);
                e->offset = off;
                e->has_scale = (d[3] >> 3) & 1;
                e->has_offset = (d[3] >> 4) & 1;
                e->scale = e->has_scale ? ct_led(d + 112) : 1.0;
                e->offset_value = e->has_offset ? ct_led(d + 136) : 0.0;
                if (e->size == 0 || (uint64_t)off + e->size > h->record_length) {
                    ct_log(ctx, CT_LOG_WARN,
                           "%s: Extra Bytes VLR field %zu '%s' (type %u, %u bytes at offset %u) does "
                           "not fit the %u-byte point record (%u extra bytes): ignoring the "
                           "extra-bytes descriptors",
                           path, n, e->name, (unsigned)d[2], (unsigned)e->size, (unsigned)off,
                           (unsigned)h->record_length, (unsigned)h->extra_bytes);
                    bad = 1;
                    break;
                }
                off += e->size;
                n++;
            }
        }
    }
    if (bad || n == 0) {
        free(dims);
        return CT_OK;
    }
    h->extra_dims = dims;
    h->nextra_dims = n;
    return CT_OK;
}

/* The longest fixed header (LAS 1.4). */
enum { LAS_HEADER_MAX = 375 };

/* Where the parser reads from: `file_size` bytes through rd(user, ...). */
typedef struct las_source {
    ct_context *ctx;
    const char *path;
    uint64_t file_size;
    ct_las_read_fn rd;
    void *user;
} las_source;

/* The signature, then the fixed header's bytes into b. */
static ct_status read_header_bytes(const las_source *src, uint8_t b[LAS_HEADER_MAX]) {
    ct_context *ctx = src->ctx;
    const char *path = src->path;
    const uint64_t file_size = src->file_size;
    if (file_size < 4)
        return ct_error(ctx, CT_ERR_INPUT, "%s: not a LAS file: only %llu bytes", path,
                        (unsigned long long)file_size);
    if (src->rd(src->user, 0, 4, b) != 0) return ct_error(ctx, CT_ERR_IO, "%s: cannot read the header", path);
    if (memcmp(b, "LASF", 4) != 0) {
        char sig[5];
        copy_field(sig, b, 4);
        return ct_error(ctx, CT_ERR_INPUT,
                        "%s: not a LAS file: file signature is '%s' (bytes %02x %02x %02x %02x), "
                        "expected 'LASF'", path, sig, b[0], b[1], b[2], b[3]);
    }
    if (file_size < LAS_HEADER_MIN)
        return ct_error(ctx, CT_ERR_INPUT,
                        "%s: truncated header: file has %llu bytes, a LAS header needs at least %u",
                        path, (unsigned long long)file_size, LAS_HEADER_MIN);
    size_t avail = file_size < (size_t)LAS_HEADER_MAX ? (size_t)file_size : (size_t)LAS_HEADER_MAX;
    if (src->rd(src->user, 0, avail, b) != 0) return ct_error(ctx, CT_ERR_IO, "%s: cannot read the header", path);
    return CT_OK;
}

/* The fields every LAS version has (the first 227 bytes). */
static void decode_header(const uint8_t *b, ct_las_header *h, uint32_t *nvlr, uint8_t *fmt_byte) {
    h->file_source_id = ct_le16(b + 4);
    h->global_encoding = ct_le16(b + 6);
    memcpy(h->project_guid, b + 8, 16);
    h->version_major = b[24];
    h->version_minor = b[25];
    copy_field(h->system_id, b + 26, 32);
    copy_field(h->generating_software, b + 58, 32);
    h->creation_day = ct_le16(b + 90);
    h->creation_year = ct_le16(b + 92);
    h->header_size = ct_le16(b + 94);
    h->offset_to_points = ct_le32(b + 96);
    *nvlr = ct_le32(b + 100);
    *fmt_byte = b[104];
    h->record_length = ct_le16(b + 105);
    h->legacy_point_count = ct_le32(b + 107);
    for (int i = 0; i < 5; i++) h->points_by_return[i] = ct_le32(b + 111 + 4 * i);
    for (int i = 0; i < 3; i++) {
        h->scale[i] = ct_led(b + 131 + 8 * i);
        h->offset[i] = ct_led(b + 155 + 8 * i);
        h->max[i] = ct_led(b + 179 + 16 * i);
        h->min[i] = ct_led(b + 187 + 16 * i);
    }
}

/* The version and the header size; then the fields of LAS 1.3 and 1.4 (absent from a
 * shorter header than its version specifies: zeroed in b). */
static ct_status check_version(const las_source *src, ct_las_header *h, uint8_t b[LAS_HEADER_MAX],
                               uint64_t *count64) {
    ct_context *ctx = src->ctx;
    const char *path = src->path;
    const uint64_t file_size = src->file_size;
    if (h->version_major != 1)
        return ct_error(ctx, CT_ERR_UNSUPPORTED,
                        "%s: LAS version %u.%u is not supported (only LAS 1.0 to 1.4)", path,
                        h->version_major, h->version_minor);
    if (h->version_minor > 4)
        return ct_error(ctx, CT_ERR_UNSUPPORTED,
                        "%s: LAS version %u.%u is newer than this reader supports (LAS 1.0 to 1.4)",
                        path, h->version_major, h->version_minor);
    unsigned need_hdr = h->version_minor >= 4 ? 375u : h->version_minor == 3 ? 235u : 227u;
    if (h->header_size < LAS_HEADER_MIN)
        return ct_error(ctx, CT_ERR_INPUT,
                        "%s: header size field is %u bytes, LAS 1.%u needs at least %u", path,
                        (unsigned)h->header_size, h->version_minor, need_hdr);
    if (h->header_size < need_hdr) {
        /* Some writers give a LAS 1.3 or 1.4 file the 227-byte header of 1.0-1.2 (as
         * LAStools does, read it with a warning): the bytes past it are the VLRs, not
         * the newer fields, which are taken as absent. */
        ct_log(ctx, CT_LOG_WARN,
               "%s: header size field is %u bytes, LAS 1.%u specifies %u: reading it as a shorter header, "
               "without the fields past byte %u (waveform%s)", path, (unsigned)h->header_size,
               h->version_minor, need_hdr, (unsigned)h->header_size,
               h->version_minor >= 4 ? ", EVLRs and the 64-bit point counts" : "");
        unsigned whole = h->header_size >= 235u ? 235u : LAS_HEADER_MIN; /* fields wholly inside */
        memset(b + whole, 0, (size_t)LAS_HEADER_MAX - whole);
    }
    if (h->header_size > file_size)
        return ct_error(ctx, CT_ERR_INPUT,
                        "%s: header size field (%u bytes) is larger than the file (%llu bytes)",
                        path, (unsigned)h->header_size, (unsigned long long)file_size);
    if (h->version_minor >= 3) h->waveform_offset = ct_le64(b + 227);
    *count64 = 0;
    if (h->version_minor >= 4) {
        h->evlr_offset = ct_le64(b + 235);
        h->evlr_count = ct_le32(b + 243);
        *count64 = ct_le64(b + 247);
        for (int i = 0; i < 15; i++) h->points_by_return[i] = ct_le64(b + 255 + 8 * i);
    }
    return CT_OK;
}

/* The point format and record length, the scales and offsets. */
static ct_status check_format(const las_source *src, ct_las_header *h, uint8_t fmt_byte) {
    ct_context *ctx = src->ctx;
    const char *path = src->path;
    h->compressed = (fmt_byte & 0xC0) != 0; /* LAZ: LASzip sets bit 7 (and bit 6 for formats 6-10) */
    h->point_format = fmt_byte & 0x3F;
    if (h->point_format > 10)
        return ct_error(ctx, CT_ERR_UNSUPPORTED,
                        "%s: point data record format %u is not defined by LAS 1.4 (0 to 10)",
                        path, (unsigned)h->point_format);
    if (h->point_format >= 6 && h->version_minor < 4)
        ct_log(ctx, CT_LOG_WARN, "%s: point format %u in a LAS 1.%u file (formats 6-10 need LAS 1.4)",
               path, (unsigned)h->point_format, h->version_minor);
    h->standard_length = ct_las_standard_length(h->point_format);
    if (h->record_length < h->standard_length)
        return ct_error(ctx, CT_ERR_INPUT,
                        "%s: point record length %u is smaller than point format %u needs (%u bytes)",
                        path, (unsigned)h->record_length, (unsigned)h->point_format,
                        (unsigned)h->standard_length);
    h->extra_bytes = (uint16_t)(h->record_length - h->standard_length);
    static const char axis[3] = {'x', 'y', 'z'};
    for (int i = 0; i < 3; i++) {
        if (!(h->scale[i] != 0.0) || !isfinite(h->scale[i]))
            return ct_error(ctx, CT_ERR_INPUT, "%s: %c scale factor is %g (must be finite and non-zero)",
                            path, axis[i], h->scale[i]);
        if (!isfinite(h->offset[i]))
            return ct_error(ctx, CT_ERR_INPUT, "%s: %c offset is %g (must be finite)", path, axis[i],
                            h->offset[i]);
    }
    return CT_OK;
}

/* The point count: LAS 1.4 rules (the 64-bit count first, else the legacy one). */
static void resolve_point_count(const las_source *src, ct_las_header *h, uint64_t count64) {
    ct_context *ctx = src->ctx;
    const char *path = src->path;
    if (h->version_minor >= 4) {
        if (count64 != 0) {
            if (h->legacy_point_count != 0 && h->legacy_point_count != count64)
                ct_log(ctx, CT_LOG_WARN,
                       "%s: legacy point count %u disagrees with the 64-bit count %llu: using the latter",
                       path, h->legacy_point_count, (unsigned long long)count64);
            h->point_count = count64;
        } else {
            if (h->legacy_point_count != 0)
                ct_log(ctx, CT_LOG_WARN,
                       "%s: LAS 1.4 64-bit point count is 0 but the legacy count is %u: using the latter",
                       path, h->legacy_point_count);
            h->point_count = h->legacy_point_count;
        }
    } else {
        h->point_count = h->legacy_point_count;
    }
}

/* The VLRs: they must lie between the header and the point data. */
static ct_status read_vlrs(const las_source *src, ct_las_header *h, uint32_t nvlr) {
    ct_context *ctx = src->ctx;
    const char *path = src->path;
    const uint64_t file_size = src->file_size;
    if (h->offset_to_points < h->header_size)
        return ct_error(ctx, CT_ERR_INPUT, "%s: offset to point data (%u) is inside the %u-byte header",
                        path, h->offset_to_points, (unsigned)h->header_size);
    if (h->offset_to_points > file_size)
        return ct_error(ctx, CT_ERR_INPUT,
                        "%s: offset to point data (%u) is past the end of the file (%llu bytes)", path,
                        h->offset_to_points, (unsigned long long)file_size);

    uint64_t room = h->offset_to_points - h->header_size;
    uint64_t max_vlrs = room / VLR_HEADER;
    size_t cap = nvlr < max_vlrs ? nvlr : (size_t)max_vlrs;
    if (cap) {
        h->vlrs = calloc(cap, sizeof *h->vlrs);
        if (!h->vlrs) return ct_error_nomem(ctx, "LAS VLR list");
    }
    uint64_t pos = h->header_size;
    int laz = 0;
    for (uint32_t i = 0; i < nvlr; i++) {
        uint8_t v[VLR_HEADER];
        if (pos + VLR_HEADER > h->offset_to_points) {
            ct_log(ctx, CT_LOG_WARN,
                   "%s: header declares %u VLRs but VLR %u (at byte %llu) would run past the point "
                   "data (offset %u): keeping the first %u",
                   path, nvlr, i, (unsigned long long)pos, h->offset_to_points, i);
            break;
        }
        if (src->rd(src->user, pos, VLR_HEADER, v) != 0) return ct_error(ctx, CT_ERR_IO, "%s: cannot read VLR %u", path, i);
        ct_las_vlr *r = &h->vlrs[h->nvlrs];
        copy_field(r->user_id, v + 2, 16);
        r->record_id = ct_le16(v + 18);
        r->length = ct_le16(v + 20);
        copy_field(r->description, v + 22, 32);
        r->data_offset = pos + VLR_HEADER;
        if (r->data_offset + r->length > h->offset_to_points) {
            ct_log(ctx, CT_LOG_WARN,
                   "%s: VLR %u ('%s' %u) claims %llu bytes from byte %llu, past the point data "
                   "(offset %u): ignoring it and any later VLR",
                   path, i, r->user_id, (unsigned)r->record_id, (unsigned long long)r->length,
                   (unsigned long long)r->data_offset, h->offset_to_points);
            memset(r, 0, sizeof *r);
            break;
        }
        if (is_laszip_vlr(r)) laz = 1;
        h->nvlrs++;
        pos = r->data_offset + r->length;
    }
    if (laz && !h->compressed)
        ct_log(ctx, CT_LOG_WARN,
               "%s: has a 'laszip encoded' VLR but its point format byte says the points are not compressed: "
               "reading them as LAS records",
               path);
    if (h->nvlrs == nvlr && pos < h->offset_to_points) {
        uint64_t gap = h->offset_to_points - pos;
        ct_log(ctx, gap == 2 ? CT_LOG_DEBUG : CT_LOG_INFO,
               "%s: %llu bytes between the last VLR and the point data (skipped)", path,
               (unsigned long long)gap);
    }
    return CT_OK;
}

/* The points must be in the file (with allow_truncated, as many whole records as it holds). */
static ct_status check_point_room(const las_source *src, ct_las_header *h, const ct_las_open_options *opts) {
    ct_context *ctx = src->ctx;
    const char *path = src->path;
    const uint64_t file_size = src->file_size;
    if (h->compressed) return CT_OK; /* LAZ: the chunk table says where the points are (las_laz.c) */
    uint64_t data_room = file_size - h->offset_to_points;
    uint64_t fits = data_room / h->record_length;
    if (h->point_count > fits) {
        unsigned long long need_lo = 0;
        int overflow = h->point_count > (UINT64_MAX - h->offset_to_points) / h->record_length;
        if (!overflow) need_lo = (unsigned long long)(h->offset_to_points + h->point_count * h->record_length);
        if (!opts->allow_truncated) {
            if (overflow)
                return ct_error(ctx, CT_ERR_INPUT,
                                "%s: truncated or corrupt: header says %llu points of %u bytes from "
                                "offset %u (more than 2^64 bytes) but the file has %llu bytes",
                                path, (unsigned long long)h->point_count, (unsigned)h->record_length,
                                h->offset_to_points, (unsigned long long)file_size);
            return ct_error(ctx, CT_ERR_INPUT,
                            "%s: truncated: header says %llu points of %u bytes from offset %u, "
                            "expected %llu bytes but the file has %llu bytes (%llu complete records)",
                            path, (unsigned long long)h->point_count, (unsigned)h->record_length,
                            h->offset_to_points, need_lo, (unsigned long long)file_size,
                            (unsigned long long)fits);
        }
        ct_log(ctx, CT_LOG_WARN,
               "%s: truncated: header says %llu points but the file holds %llu complete records: "
               "reading those", path, (unsigned long long)h->point_count, (unsigned long long)fits);
        h->point_count = fits;
    } else if (fits > h->point_count && h->evlr_count == 0 && !(h->global_encoding & 2)) {
        /* Whole records past the count, with no EVLR or waveform data to explain them: a
         * count a writer never updated (one that stopped early leaves 0). They are not
         * read: say so, else "no points" or thin heights have no visible cause. */
        ct_log(ctx, CT_LOG_WARN,
               "%s: header says %llu points but %llu complete records follow the point data offset "
               "(a point count not updated by the writer?): reading %llu",
               path, (unsigned long long)h->point_count, (unsigned long long)fits,
               (unsigned long long)h->point_count);
    }
    return CT_OK;
}

/* The EVLRs of LAS 1.4: those whole inside the file, after the points. */
static ct_status read_evlrs(const las_source *src, ct_las_header *h) {
    ct_context *ctx = src->ctx;
    const char *path = src->path;
    const uint64_t file_size = src->file_size;
    if (h->version_minor >= 4 && h->evlr_count > 0) {
        uint64_t pts_end = h->compressed ? h->offset_to_points : h->offset_to_points + h->point_count * h->record_length;
        if (h->evlr_offset < pts_end || h->evlr_offset > file_size) {
            ct_log(ctx, CT_LOG_WARN,
                   "%s: %u EVLRs declared at byte %llu, outside [end of points %llu, file size %llu]: "
                   "ignoring them", path, h->evlr_count, (unsigned long long)h->evlr_offset,
                   (unsigned long long)pts_end, (unsigned long long)file_size);
        } else {
            uint64_t max_e = (file_size - h->evlr_offset) / EVLR_HEADER;
            size_t ecap = h->evlr_count < max_e ? h->evlr_count : (size_t)max_e;
            if (ecap) {
                h->evlrs = calloc(ecap, sizeof *h->evlrs);
                if (!h->evlrs) return ct_error_nomem(ctx, "LAS EVLR list");
            }
            uint64_t ep = h->evlr_offset;
            for (uint32_t i = 0; i < h->evlr_count; i++) {
                uint8_t v[EVLR_HEADER];
                if (h->nevlrs >= ecap || ep > file_size || file_size - ep < EVLR_HEADER) {
                    ct_log(ctx, CT_LOG_WARN,
                           "%s: EVLR %u (at byte %llu) runs past the end of the file: keeping %u of %u",
                           path, i, (unsigned long long)ep, i, h->evlr_count);
                    break;
                }
                if (src->rd(src->user, ep, EVLR_HEADER, v) != 0)
                    return ct_error(ctx, CT_ERR_IO, "%s: cannot read EVLR %u", path, i);
                ct_las_vlr *r = &h->evlrs[h->nevlrs];
                copy_field(r->user_id, v + 2, 16);
                r->record_id = ct_le16(v + 18);
                r->length = ct_le64(v + 20);
                copy_field(r->description, v + 28, 32);
                r->data_offset = ep + EVLR_HEADER;
                r->extended = 1;
                if (r->length > file_size - r->data_offset) {
                    ct_log(ctx, CT_LOG_WARN,
                           "%s: EVLR %u ('%s' %u) claims %llu bytes from byte %llu, past the end of "
                           "the file (%llu bytes): ignoring it and any later EVLR",
                           path, i, r->user_id, (unsigned)r->record_id, (unsigned long long)r->length,
                           (unsigned long long)r->data_offset, (unsigned long long)file_size);
                    memset(r, 0, sizeof *r);
                    break;
                }
                h->nevlrs++;
                ep = r->data_offset + r->length;
            }
        }
    }
    return CT_OK;
}

/* The core parser over any byte source of `file_size` bytes. */
static ct_status parse_all(ct_context *ctx, const char *path, uint64_t file_size,
                           const ct_las_open_options *opts, ct_las_read_fn rd, void *user,
                           ct_las_header *h) {
    const las_source src = {ctx, path, file_size, rd, user};
    uint8_t b[LAS_HEADER_MAX];
    memset(b, 0, sizeof b);
    h->file_size = file_size;
    h->crs_source = "none";
    uint32_t nvlr = 0;
    uint8_t fmt_byte = 0;
    uint64_t count64 = 0;
    ct_status st = read_header_bytes(&src, b);
    if (st != CT_OK) return st;
    decode_header(b, h, &nvlr, &fmt_byte);
    if ((st = check_version(&src, h, b, &count64)) != CT_OK) return st;
    if ((st = check_format(&src, h, fmt_byte)) != CT_OK) return st;
    resolve_point_count(&src, h, count64);
    if ((st = read_vlrs(&src, h, nvlr)) != CT_OK) return st;
    if ((st = check_point_room(&src, h, opts)) != CT_OK) return st;
    if ((st = read_evlrs(&src, h)) != CT_OK) return st;
    st = parse_extra_bytes(ctx, path, h, rd, user);
    if (st != CT_OK) return st;
    if (!opts->skip_crs) {
        st = ct_las_parse_crs(ctx, path, h, rd, user);
        if (st != CT_OK) return st;
    }
    return CT_OK;
}

static int has_laz_extension(const char *path) {
    size_t n = strlen(path);
    return n >= 4 && strcasecmp(path + n - 4, ".laz") == 0;
}

ct_status ct_las_open_ex(ct_context *ctx, const char *path, const ct_las_open_options *opts,
                         ct_las_reader **out) {
    static const ct_las_open_options defaults = {0, 0};
    *out = NULL;
    if (!opts) opts = &defaults;
    ct_las_reader *r = calloc(1, sizeof *r);
    if (!r) return ct_error_nomem(ctx, "LAS reader");
    atomic_init(&r->laz_bounds_warned, 0);
    r->fd = -1;
    r->path = strdup(path);
    if (!r->path) {
        free(r);
        return ct_error_nomem(ctx, "LAS reader path");
    }
    /* O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused just below). */
    r->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (r->fd < 0) {
        int e = errno;
        ct_las_close(r);
        int bad_input = e == ENOENT || e == EACCES || e == ENOTDIR || e == ELOOP || e == ENAMETOOLONG;
        const char *hint = e == EMFILE || e == ENFILE ? " (the LAS files of a readers.lidar stage are held open together: "
                                                        "raise the limit of open files above their number, ulimit -n)"
                                                      : "";
        return ct_error(ctx, bad_input ? CT_ERR_INPUT : CT_ERR_IO, "%s: cannot open: %s%s", path, strerror(e), hint);
    }
    struct stat st;
    int stat_ok = fstat(r->fd, &st) == 0;
    if (!stat_ok || !S_ISREG(st.st_mode)) {
        int dir = stat_ok && S_ISDIR(st.st_mode);
        ct_las_close(r);
        return ct_error(ctx, CT_ERR_INPUT, "%s: not a regular file%s", path,
                        dir ? " (a directory)" : " (a FIFO, socket or device)");
    }
    /* Regular file: blocking reads again (O_NONBLOCK has no effect on them, but be plain). */
    int fl = fcntl(r->fd, F_GETFL);
    if (fl != -1) (void)fcntl(r->fd, F_SETFL, fl & ~O_NONBLOCK);
    fd_src src = {r->fd};
    ct_status s = parse_all(ctx, path, (uint64_t)st.st_size, opts, fd_read, &src, &r->hdr);
    if (s == CT_OK && r->hdr.compressed) s = ct_las_laz_open(ctx, r, fd_read, &src);
    if (s != CT_OK) {
        ct_las_close(r);
        return s;
    }
    if (has_laz_extension(path) && !r->hdr.compressed)
        ct_log(ctx, CT_LOG_WARN, "%s: named .laz but not compressed: reading it as LAS", path);
    *out = r;
    return CT_OK;
}

ct_status ct_las_open(ct_context *ctx, const char *path, ct_las_reader **out) {
    return ct_las_open_ex(ctx, path, NULL, out);
}

ct_status ct_las_parse_header_bytes(ct_context *ctx, const char *name, const void *data,
                                    size_t size, const ct_las_open_options *opts,
                                    ct_las_reader **out) {
    static const ct_las_open_options defaults = {0, 0};
    *out = NULL;
    if (!opts) opts = &defaults;
    if (!name) name = "<memory>";
    ct_las_reader *r = calloc(1, sizeof *r);
    if (!r) return ct_error_nomem(ctx, "LAS reader");
    atomic_init(&r->laz_bounds_warned, 0);
    r->fd = -1;
    r->path = strdup(name);
    if (!r->path) {
        free(r);
        return ct_error_nomem(ctx, "LAS reader name");
    }
    mem_src src = {data, size};
    ct_status s = parse_all(ctx, name, size, opts, mem_read, &src, &r->hdr);
    if (s == CT_OK && r->hdr.compressed) s = ct_las_laz_open(ctx, r, mem_read, &src);
    if (s != CT_OK) {
        ct_las_close(r);
        return s;
    }
    *out = r;
    return CT_OK;
}

int ct_las_is_laz(const char *path) {
    if (has_laz_extension(path)) return 1;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK); /* a FIFO must not block */
    if (fd < 0) return 0;
    int laz = 0;
    uint8_t b[227];
    struct stat st;
    fd_src src = {fd};
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 227 && fd_read(&src, 0, sizeof b, b) == 0 &&
        memcmp(b, "LASF", 4) == 0) {
        if (b[104] & 0xC0) {
            laz = 1;
        } else {
            uint64_t pos = ct_le16(b + 94), end = ct_le32(b + 96);
            uint32_t n = ct_le32(b + 100);
            if (end > (uint64_t)st.st_size) end = (uint64_t)st.st_size;
            for (uint32_t i = 0; i < n && pos + VLR_HEADER <= end; i++) {
                uint8_t v[VLR_HEADER];
                if (fd_read(&src, pos, sizeof v, v) != 0) break;
                if (ct_le16(v + 18) == 22204 && memcmp(v + 2, "laszip encoded", 14) == 0 &&
                    (v[16] == 0)) {
                    laz = 1;
                    break;
                }
                pos += VLR_HEADER + ct_le16(v + 20);
            }
        }
    }
    close(fd);
    return laz;
}
