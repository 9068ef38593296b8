/* synthcity — streaming LAS 1.4 / PDRF 6 writer (see sc_las.h). All multi-byte
 * values are written little-endian byte by byte, whatever the host. */
#include "sc_las.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { HEADER_SIZE = 375, VLR_HEADER_SIZE = 54, RECORD_LENGTH = 30, BUF_RECORDS = 65536 };

/* File creation date: fixed, so that the same seed gives the same bytes on every day. */
enum { CREATION_DAY = 1, CREATION_YEAR = 2025 };

static void set_err(sc_las_writer *w, const char *fmt, ...) {
    if (w->err[0]) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err, sizeof w->err, fmt, ap);
    va_end(ap);
}

static void put_u16(unsigned char *p, uint16_t v) {
    p[0] = (unsigned char)(v & 0xFF);
    p[1] = (unsigned char)(v >> 8);
}
static void put_u32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)((v >> (8 * i)) & 0xFF);
}
static void put_u64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)((v >> (8 * i)) & 0xFF);
}
static void put_f64(unsigned char *p, double d) {
    uint64_t v;
    memcpy(&v, &d, sizeof v); /* IEEE 754 binary64 on every platform we build for */
    put_u64(p, v);
}
static void put_str(unsigned char *p, size_t field, const char *s) {
    size_t n = strlen(s);
    if (n > field) n = field;
    memset(p, 0, field);
    memcpy(p, s, n);
}

static void build_header(const sc_las_writer *w, unsigned char h[HEADER_SIZE]) {
    memset(h, 0, HEADER_SIZE);
    memcpy(h + 0, "LASF", 4);
    put_u16(h + 4, 0);                       /* file source id: none assigned */
    put_u16(h + 6, (1u << 0) | (1u << 4));   /* adjusted standard GPS time; CRS is WKT */
    /* 8..23: project GUID, zero */
    h[24] = 1;
    h[25] = 4;
    put_str(h + 26, 32, "OTHER");            /* system identifier: synthetic data */
    put_str(h + 58, 32, "citytiler synthcity");
    put_u16(h + 90, CREATION_DAY);
    put_u16(h + 92, CREATION_YEAR);
    put_u16(h + 94, HEADER_SIZE);
    put_u32(h + 96, w->offset_to_points);
    put_u32(h + 100, 1);                     /* one VLR: the WKT */
    h[104] = 6;
    put_u16(h + 105, RECORD_LENGTH);
    /* 107..130: legacy point count and legacy counts by return: zero, as LAS 1.4
     * requires for point formats 6-10. */
    for (int i = 0; i < 3; i++) put_f64(h + 131 + 8 * i, w->scale[i]);
    for (int i = 0; i < 3; i++) put_f64(h + 155 + 8 * i, w->offset[i]);
    for (int i = 0; i < 3; i++) {
        double mn = 0, mx = 0;
        if (w->count > 0) {
            mn = w->offset[i] + w->scale[i] * (double)w->min[i];
            mx = w->offset[i] + w->scale[i] * (double)w->max[i];
        }
        put_f64(h + 179 + 16 * i, mx);
        put_f64(h + 187 + 16 * i, mn);
    }
    put_u64(h + 227, 0);                     /* no waveform data */
    put_u64(h + 235, 0);                     /* no EVLRs */
    put_u32(h + 243, 0);
    put_u64(h + 247, w->count);
    for (int i = 0; i < 15; i++) put_u64(h + 255 + 8 * i, w->by_return[i]);
}

int sc_las_open(sc_las_writer *w, const char *path, const char *wkt, const double offset[3]) {
    memset(w, 0, sizeof *w);
    size_t wl = strlen(wkt) + 1;
    if (wl > 65535) {
        set_err(w, "%s: the CRS WKT is %zu bytes, more than a VLR holds (65535)", path, wl);
        return -1;
    }
    w->path = malloc(strlen(path) + 1);
    w->wkt = malloc(wl);
    w->capbuf = BUF_RECORDS;
    w->buf = malloc(w->capbuf * RECORD_LENGTH);
    if (!w->path || !w->wkt || !w->buf) {
        set_err(w, "%s: out of memory", path);
        free(w->path), free(w->wkt), free(w->buf);
        w->path = w->wkt = NULL;
        w->buf = NULL;
        return -1;
    }
    memcpy(w->path, path, strlen(path) + 1);
    memcpy(w->wkt, wkt, wl);
    w->wkt_len = wl;
    for (int i = 0; i < 3; i++) {
        w->scale[i] = 0.001;
        w->offset[i] = offset[i];
        w->min[i] = INT32_MAX;
        w->max[i] = INT32_MIN;
    }
    w->offset_to_points = (uint32_t)(HEADER_SIZE + VLR_HEADER_SIZE + wl);
    w->f = fopen(path, "wb");
    if (!w->f) {
        set_err(w, "%s: cannot create: %s", path, strerror(errno));
        free(w->path), free(w->wkt), free(w->buf);
        w->path = w->wkt = NULL;
        w->buf = NULL;
        return -1;
    }
    unsigned char h[HEADER_SIZE], v[VLR_HEADER_SIZE];
    build_header(w, h);
    memset(v, 0, sizeof v);
    put_u16(v + 0, 0);                       /* reserved */
    put_str(v + 2, 16, "LASF_Projection");
    put_u16(v + 18, 2112);                   /* OGC coordinate system WKT */
    put_u16(v + 20, (uint16_t)wl);
    put_str(v + 22, 32, "OGC coordinate system WKT");
    if (fwrite(h, 1, sizeof h, w->f) != sizeof h || fwrite(v, 1, sizeof v, w->f) != sizeof v ||
        fwrite(w->wkt, 1, wl, w->f) != wl) {
        set_err(w, "%s: write failed: %s", path, strerror(errno));
        sc_las_abort(w);
        return -1;
    }
    return 0;
}

static int flush(sc_las_writer *w) {
    if (w->nbuf == 0) return 0;
    size_t bytes = w->nbuf * RECORD_LENGTH;
    if (fwrite(w->buf, 1, bytes, w->f) != bytes) {
        set_err(w, "%s: write failed: %s", w->path, strerror(errno));
        return -1;
    }
    w->nbuf = 0;
    return 0;
}

int sc_las_add(sc_las_writer *w, int32_t X, int32_t Y, int32_t Z, uint16_t intensity, int return_number,
               int number_of_returns, uint8_t classification, double gps_time) {
    if (return_number < 1 || return_number > 15 || number_of_returns < return_number || number_of_returns > 15) {
        set_err(w, "%s: bad return %d of %d", w->path, return_number, number_of_returns);
        return -1;
    }
    if (w->nbuf == w->capbuf && flush(w) != 0) return -1;
    unsigned char *p = w->buf + w->nbuf * RECORD_LENGTH;
    put_u32(p + 0, (uint32_t)X);
    put_u32(p + 4, (uint32_t)Y);
    put_u32(p + 8, (uint32_t)Z);
    put_u16(p + 12, intensity);
    p[14] = (unsigned char)((return_number & 0x0F) | ((number_of_returns & 0x0F) << 4));
    p[15] = 0;                               /* class flags, scanner channel 0, scan direction, edge */
    p[16] = classification;
    p[17] = 0;                               /* user data */
    put_u16(p + 18, 0);                      /* scan angle (0.006 degree units): nadir */
    put_u16(p + 20, 1);                      /* point source id: flight line 1 */
    put_f64(p + 22, gps_time);
    w->nbuf++;
    w->count++;
    w->by_return[return_number - 1]++;
    const int32_t v[3] = {X, Y, Z};
    for (int i = 0; i < 3; i++) {
        if (v[i] < w->min[i]) w->min[i] = v[i];
        if (v[i] > w->max[i]) w->max[i] = v[i];
    }
    return 0;
}

uint64_t sc_las_size(const sc_las_writer *w) {
    return (uint64_t)w->offset_to_points + w->count * (uint64_t)RECORD_LENGTH;
}

static void release(sc_las_writer *w) {
    free(w->path);
    free(w->wkt);
    free(w->buf);
    w->path = w->wkt = NULL;
    w->buf = NULL;
}

int sc_las_close(sc_las_writer *w) {
    int rc = 0;
    if (!w->f) {
        release(w);
        return -1;
    }
    unsigned char h[HEADER_SIZE];
    if (flush(w) != 0) {
        rc = -1;
    } else {
        build_header(w, h);
        if (fseek(w->f, 0, SEEK_SET) != 0 || fwrite(h, 1, sizeof h, w->f) != sizeof h) {
            set_err(w, "%s: rewriting the header failed: %s", w->path, strerror(errno));
            rc = -1;
        }
    }
    if (fclose(w->f) != 0 && rc == 0) {
        set_err(w, "%s: close failed: %s", w->path, strerror(errno));
        rc = -1;
    }
    w->f = NULL;
    if (rc != 0 && w->path) unlink(w->path);
    release(w);
    return rc;
}

void sc_las_abort(sc_las_writer *w) {
    if (w->f) fclose(w->f);
    w->f = NULL;
    if (w->path) unlink(w->path);
    release(w);
}
