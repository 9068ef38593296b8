/* LAS point record decoding (formats 0–10) into structure-of-arrays buffers.
 *
 * Records are read with pread in chunks into a per-call buffer, then each
 * requested field is decoded in its own tight loop over the chunk at a fixed
 * byte offset (no per-point dispatch). Safe for concurrent calls on one reader. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/las_internal.h"

/* Records per pread: ~96 KiB, so the buffer stays in L2 and below malloc's
 * mmap threshold (a fresh mmap per call would page-fault on every read). */
#define CHUNK_BYTES (96u * 1024u)

ct_status ct_las_points_alloc(ct_context *ctx, size_t capacity, unsigned fields, ct_las_points *out) {
    memset(out, 0, sizeof *out);
    size_t n = capacity ? capacity : 1;
#define ALLOC(field, bit)                                                                 \
    if (fields & (bit)) {                                                                 \
        if (n > SIZE_MAX / sizeof *out->field) goto fail;                                 \
        out->field = malloc(n * sizeof *out->field);                                      \
        if (!out->field) goto fail;                                                       \
    }
    ALLOC(x, CT_LAS_XYZ)
    ALLOC(y, CT_LAS_XYZ)
    ALLOC(z, CT_LAS_XYZ)
    ALLOC(intensity, CT_LAS_INTENSITY)
    ALLOC(return_number, CT_LAS_RETURNS)
    ALLOC(number_of_returns, CT_LAS_RETURNS)
    ALLOC(cls, CT_LAS_CLASS)
    ALLOC(class_flags, CT_LAS_CLASS_FLAGS)
    ALLOC(scan_angle, CT_LAS_SCAN_ANGLE)
    ALLOC(user_data, CT_LAS_USER_DATA)
    ALLOC(point_source_id, CT_LAS_POINT_SOURCE)
    ALLOC(gps_time, CT_LAS_GPS_TIME)
    ALLOC(red, CT_LAS_RGB)
    ALLOC(green, CT_LAS_RGB)
    ALLOC(blue, CT_LAS_RGB)
    ALLOC(nir, CT_LAS_NIR)
#undef ALLOC
    out->capacity = capacity;
    return CT_OK;
fail:
    ct_las_points_free(out);
    return ct_error_nomem(ctx, "LAS point buffers");
}

void ct_las_points_free(ct_las_points *p) {
    if (!p) return;
    free(p->x);
    free(p->y);
    free(p->z);
    free(p->intensity);
    free(p->return_number);
    free(p->number_of_returns);
    free(p->cls);
    free(p->class_flags);
    free(p->scan_angle);
    free(p->user_data);
    free(p->point_source_id);
    free(p->gps_time);
    free(p->red);
    free(p->green);
    free(p->blue);
    free(p->nir);
    memset(p, 0, sizeof *p);
}

/* Byte offsets of optional fields per format; -1 when absent. */
static const int8_t GPS_OFF[11] = {-1, 20, -1, 20, 20, 20, 22, 22, 22, 22, 22};
static const int8_t RGB_OFF[11] = {-1, -1, 20, 28, -1, 28, -1, 30, 30, -1, 30};
static const int8_t NIR_OFF[11] = {-1, -1, -1, -1, -1, -1, -1, -1, 36, -1, 36};

static int read_fully(int fd, uint64_t off, size_t len, uint8_t *buf) {
    while (len > 0) {
        ssize_t n = pread(fd, buf, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno ? errno : EIO;
        }
        if (n == 0) return -1; /* unexpected end of file */
        buf += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
}

static void decode_i32_scaled(const uint8_t *p, size_t rl, size_t n, double s, double o, double *dst) {
    for (size_t i = 0; i < n; i++, p += rl) dst[i] = (double)(int32_t)ct_le32(p) * s + o;
}
static void decode_u16(const uint8_t *p, size_t rl, size_t n, uint16_t *dst) {
    for (size_t i = 0; i < n; i++, p += rl) dst[i] = ct_le16(p);
}
static void decode_u8(const uint8_t *p, size_t rl, size_t n, uint8_t *dst) {
    for (size_t i = 0; i < n; i++, p += rl) dst[i] = *p;
}
static void decode_u8_bits(const uint8_t *p, size_t rl, size_t n, unsigned shift, unsigned mask,
                           uint8_t *dst) {
    for (size_t i = 0; i < n; i++, p += rl) dst[i] = (uint8_t)((*p >> shift) & mask);
}
static void decode_f64(const uint8_t *p, size_t rl, size_t n, double *dst) {
    for (size_t i = 0; i < n; i++, p += rl) dst[i] = ct_led(p);
}

/* Decodes n records at buf (stride rl) into out at index `at`. */
static void decode_chunk(const ct_las_header *h, const uint8_t *buf, size_t n, ct_las_points *out,
                         size_t at) {
    const size_t rl = h->record_length;
    const unsigned f = h->point_format;
    const int ext = f >= 6;
    if (out->x) decode_i32_scaled(buf + 0, rl, n, h->scale[0], h->offset[0], out->x + at);
    if (out->y) decode_i32_scaled(buf + 4, rl, n, h->scale[1], h->offset[1], out->y + at);
    if (out->z) decode_i32_scaled(buf + 8, rl, n, h->scale[2], h->offset[2], out->z + at);
    if (out->intensity) decode_u16(buf + 12, rl, n, out->intensity + at);
    if (ext) {
        if (out->return_number) decode_u8_bits(buf + 14, rl, n, 0, 0x0F, out->return_number + at);
        if (out->number_of_returns) decode_u8_bits(buf + 14, rl, n, 4, 0x0F, out->number_of_returns + at);
        if (out->class_flags) decode_u8_bits(buf + 15, rl, n, 0, 0x0F, out->class_flags + at);
        if (out->cls) decode_u8(buf + 16, rl, n, out->cls + at);
        if (out->user_data) decode_u8(buf + 17, rl, n, out->user_data + at);
        if (out->scan_angle) {
            const uint8_t *p = buf + 18;
            float *d = out->scan_angle + at;
            for (size_t i = 0; i < n; i++, p += rl) d[i] = (float)(int16_t)ct_le16(p) * 0.006f;
        }
        if (out->point_source_id) decode_u16(buf + 20, rl, n, out->point_source_id + at);
    } else {
        if (out->return_number) decode_u8_bits(buf + 14, rl, n, 0, 0x07, out->return_number + at);
        if (out->number_of_returns) decode_u8_bits(buf + 14, rl, n, 3, 0x07, out->number_of_returns + at);
        if (out->cls) decode_u8_bits(buf + 15, rl, n, 0, 0x1F, out->cls + at);
        if (out->class_flags) decode_u8_bits(buf + 15, rl, n, 5, 0x07, out->class_flags + at);
        if (out->scan_angle) {
            const uint8_t *p = buf + 16;
            float *d = out->scan_angle + at;
            for (size_t i = 0; i < n; i++, p += rl) d[i] = (float)(int8_t)*p;
        }
        if (out->user_data) decode_u8(buf + 17, rl, n, out->user_data + at);
        if (out->point_source_id) decode_u16(buf + 18, rl, n, out->point_source_id + at);
    }
    if (out->gps_time) {
        if (GPS_OFF[f] >= 0) decode_f64(buf + GPS_OFF[f], rl, n, out->gps_time + at);
        else memset(out->gps_time + at, 0, n * sizeof *out->gps_time);
    }
    uint16_t *rgb[3] = {out->red, out->green, out->blue};
    for (int c = 0; c < 3; c++) {
        if (!rgb[c]) continue;
        if (RGB_OFF[f] >= 0) decode_u16(buf + RGB_OFF[f] + 2 * c, rl, n, rgb[c] + at);
        else memset(rgb[c] + at, 0, n * sizeof(uint16_t));
    }
    if (out->nir) {
        if (NIR_OFF[f] >= 0) decode_u16(buf + NIR_OFF[f], rl, n, out->nir + at);
        else memset(out->nir + at, 0, n * sizeof(uint16_t));
    }
}

ct_status ct_las_check_range(ct_context *ctx, const ct_las_reader *r, uint64_t first, size_t count) {
    if (r->fd < 0)
        return ct_error(ctx, CT_ERR_USAGE, "%s: no file to read points from (a reader parsed from memory, or a file passed over)",
                        r->path);
    if (first > r->hdr.point_count || count > r->hdr.point_count - first)
        return ct_error(ctx, CT_ERR_USAGE,
                        "%s: points %llu..%llu requested but the file has %llu points", r->path,
                        (unsigned long long)first, (unsigned long long)(first + count),
                        (unsigned long long)r->hdr.point_count);
    return CT_OK;
}

static ct_status read_error(ct_context *ctx, const ct_las_reader *r, uint64_t rec, int err) {
    if (err < 0)
        return ct_error(ctx, CT_ERR_IO, "%s: point record %llu: unexpected end of file (file changed?)",
                        r->path, (unsigned long long)rec);
    return ct_error(ctx, CT_ERR_IO, "%s: point record %llu: read failed: %s", r->path,
                    (unsigned long long)rec, strerror(err));
}

ct_status ct_las_read_points(ct_context *ctx, const ct_las_reader *r, uint64_t first, size_t count,
                             ct_las_points *out) {
    ct_status s = ct_las_check_range(ctx, r, first, count);
    if (s != CT_OK) return s;
    if (count > out->capacity)
        return ct_error(ctx, CT_ERR_USAGE, "%s: %zu points requested into a buffer of %zu", r->path,
                        count, out->capacity);
    out->count = 0;
    if (count == 0) return CT_OK;
    const ct_las_header *h = &r->hdr;
    size_t rl = h->record_length;
    size_t per = ct_las_block_records(r, count, CHUNK_BYTES / rl ? CHUNK_BYTES / rl : 1);
    size_t chunk = count < per ? count : per;
    uint8_t *buf = malloc(chunk * rl);
    if (!buf) return ct_error_nomem(ctx, "LAS read buffer");
    size_t done = 0;
    while (done < count) {
        size_t n = count - done < chunk ? count - done : chunk;
        uint64_t rec = first + done;
        ct_status rst = ct_las_read_raw(ctx, r, rec, n, buf);
        if (rst != CT_OK) {
            free(buf);
            return rst;
        }
        decode_chunk(h, buf, n, out, done);
        done += n;
    }
    free(buf);
    out->count = count;
    return CT_OK;
}

ct_status ct_las_read_raw(ct_context *ctx, const ct_las_reader *r, uint64_t first, size_t count,
                          void *buf) {
    ct_status s = ct_las_check_range(ctx, r, first, count);
    if (s != CT_OK) return s;
    if (count == 0) return CT_OK;
    if (r->laz) return ct_las_laz_read_raw(ctx, r, first, count, buf);
    size_t rl = r->hdr.record_length;
    int err = read_fully(r->fd, r->hdr.offset_to_points + first * rl, count * rl, buf);
    if (err) return read_error(ctx, r, first, err);
    return CT_OK;
}

void ct_las_drop_cached(const ct_las_reader *r, uint64_t first, size_t count) {
#ifdef POSIX_FADV_DONTNEED
    if (r->fd < 0 || count == 0 || r->laz) return; /* (LAZ: chunks are not record-aligned; left to the kernel) */
    size_t rl = r->hdr.record_length;
    posix_fadvise(r->fd, (off_t)(r->hdr.offset_to_points + first * rl), (off_t)(count * rl), POSIX_FADV_DONTNEED);
#else
    (void)r; (void)first; (void)count;
#endif
}
