/* A LAS reader over LAZ: the compression and chunk table read at open, and records read
 * by decoding the chunks that hold them (src/io/laz.h does the decoding). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/las_internal.h"

static int is_laszip_vlr(const ct_las_vlr *v) {
    return !v->extended && v->record_id == 22204 && strcmp(v->user_id, "laszip encoded") == 0;
}

/* Where the compressed records must end: the EVLRs' start when a LAS 1.4 file has some
 * after the points, else the end of the file. */
static uint64_t points_end(const ct_las_header *h) {
    if (h->version_minor >= 4 && h->evlr_count > 0 && h->evlr_offset > h->offset_to_points &&
        h->evlr_offset <= h->file_size)
        return h->evlr_offset;
    return h->file_size;
}

ct_status ct_las_laz_open(ct_context *ctx, ct_las_reader *r, ct_las_read_fn rd, void *user) {
    ct_las_header *h = &r->hdr;
    const ct_las_vlr *v = NULL;
    for (size_t i = 0; i < h->nvlrs && !v; i++)
        if (is_laszip_vlr(&h->vlrs[i])) v = &h->vlrs[i];
    if (!v)
        return ct_error(ctx, CT_ERR_INPUT,
                        "%s: the point format byte says LAZ (compressed) but the file has no 'laszip encoded' VLR "
                        "describing the compression",
                        r->path);
    uint8_t *payload = malloc(v->length ? (size_t)v->length : 1);
    if (!payload) return ct_error_nomem(ctx, "LAZ VLR");
    if (rd(user, v->data_offset, (size_t)v->length, payload) != 0) {
        free(payload);
        return ct_error(ctx, CT_ERR_IO, "%s: cannot read the 'laszip encoded' VLR", r->path);
    }
    r->laz = calloc(1, sizeof *r->laz);
    ct_status st = r->laz ? CT_OK : ct_error_nomem(ctx, "LAZ description");
    if (st == CT_OK)
        st = ct_laz_parse_vlr(ctx, r->path, payload, (size_t)v->length, h->point_format, h->record_length, r->laz);
    free(payload);
    if (st == CT_OK)
        st = ct_laz_read_chunk_table(ctx, r->path, r->laz, rd, user, h->offset_to_points, points_end(h),
                                     h->point_count, &r->chunks, &r->nchunks);
    if (st != CT_OK) return st;
    h->laz_chunks = r->nchunks;
    h->laz_chunk_size = r->laz->chunk_size;
    return CT_OK;
}

size_t ct_las_laz_chunk_of(const ct_las_reader *r, uint64_t p) {
    size_t lo = 0, hi = r->nchunks;
    while (hi - lo > 1) {
        size_t m = lo + (hi - lo) / 2;
        if (r->chunks[m].first_point <= p) lo = m;
        else hi = m;
    }
    return lo;
}

uint64_t ct_las_block_end(const ct_las_reader *r, uint64_t first) {
    if (!r->laz || r->nchunks == 0) return r->hdr.point_count;
    const ct_laz_chunk *c = &r->chunks[ct_las_laz_chunk_of(r, first)];
    return c->first_point + c->points;
}

static int read_bytes(int fd, uint64_t off, size_t len, uint8_t *buf) {
    while (len > 0) {
        ssize_t n = pread(fd, buf, len, (off_t)off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return n < 0 ? errno : -1;
        buf += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
}

/* Grows *buf to hold n bytes. */
static int reserve(uint8_t **buf, size_t *cap, size_t n) {
    if (n <= *cap) return 1;
    uint8_t *p = realloc(*buf, n);
    if (!p) return 0;
    *buf = p;
    *cap = n;
    return 1;
}

ct_status ct_las_laz_read_raw(ct_context *ctx, const ct_las_reader *r, uint64_t first, size_t count, uint8_t *buf) {
    const size_t rl = r->hdr.record_length;
    const uint64_t end = first + count;
    uint8_t *bytes = NULL, *tmp = NULL;
    size_t bytes_cap = 0, tmp_cap = 0;
    ct_status st = CT_OK;
    uint64_t at = first;
    for (size_t k = ct_las_laz_chunk_of(r, first); st == CT_OK && at < end; k++) {
        const ct_laz_chunk *c = &r->chunks[k];
        uint64_t skip = at - c->first_point, stop = c->first_point + c->points < end ? c->first_point + c->points : end;
        /* decoded as far as the last record wanted (a chunk decodes from its start) */
        uint32_t upto = (uint32_t)(stop - c->first_point);
        if (!reserve(&bytes, &bytes_cap, (size_t)c->bytes)) {
            st = ct_error_nomem(ctx, "LAZ chunk");
            break;
        }
        int err = read_bytes(r->fd, c->offset, (size_t)c->bytes, bytes);
        if (err) {
            st = ct_error(ctx, CT_ERR_IO, "%s: LAZ chunk %zu (%llu bytes at byte %llu): %s", r->path, k,
                          (unsigned long long)c->bytes, (unsigned long long)c->offset,
                          err < 0 ? "unexpected end of file (file changed?)" : strerror(err));
            break;
        }
        uint8_t *out = buf + (size_t)(at - first) * rl;
        if (skip == 0) {
            st = ct_laz_decode_chunk_head(ctx, r->path, r->laz, k, bytes, (size_t)c->bytes, c->points, upto, out);
        } else if (!reserve(&tmp, &tmp_cap, (size_t)upto * rl)) {
            st = ct_error_nomem(ctx, "LAZ records");
        } else {
            st = ct_laz_decode_chunk_head(ctx, r->path, r->laz, k, bytes, (size_t)c->bytes, c->points, upto, tmp);
            if (st == CT_OK) memcpy(out, tmp + (size_t)skip * rl, (size_t)(stop - at) * rl);
        }
        at = stop;
    }
    free(bytes);
    free(tmp);
    return st;
}
