/* A LAS reader over LAZ: the compression and chunk table read at open, and records read
 * by decoding the chunks that hold them (src/io/laz.h does the decoding). */
#include <errno.h>
#include <math.h>
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

static void drop_evlrs(ct_las_header *h) {
    free(h->evlrs);
    h->evlrs = NULL;
    h->nevlrs = 0;
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
    if (st != CT_OK) return st;
    uint64_t end = points_end(h);
    st = ct_laz_read_chunk_table(ctx, r->path, r->laz, rd, user, h->offset_to_points, end, h->point_count,
                                 &r->chunks, &r->nchunks);
    if (st != CT_OK && st != CT_ERR_NOMEM && end < h->file_size) {
        /* The EVLRs' offset may be what is wrong (the points then seem to end inside
         * themselves): read as LAS reads such a file, without its EVLRs. */
        ct_context *quiet = ct_context_create();
        ct_status again = quiet ? ct_laz_read_chunk_table(quiet, r->path, r->laz, rd, user, h->offset_to_points,
                                                          h->file_size, h->point_count, &r->chunks, &r->nchunks)
                                : CT_ERR_NOMEM;
        ct_context_destroy(quiet);
        if (again == CT_OK) {
            ct_log(ctx, CT_LOG_WARN, "%s: its EVLRs are said to start at byte %llu, inside its compressed points: "
                   "ignoring the EVLRs", r->path, (unsigned long long)h->evlr_offset);
            drop_evlrs(h);
            if (ctx) ct_error_clear(ctx); /* (the first try's message) */
            st = CT_OK;
        }
    }
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

/* Chunk k, decoded whole into recs, against the header's x/y bounds: its points are all
 * coded from its first, stored whole, so damage there moves the whole chunk without any
 * byte left unread (32.8 m or 2,147 km for one bit); LAZ has no checksum to tell. Told
 * once per file (a file whose writer left stale bounds would say it of every chunk). */
static void check_chunk_bounds(ct_context *ctx, const ct_las_reader *r, size_t k, const uint8_t *recs, uint32_t n) {
    const ct_las_header *h = &r->hdr;
    double box[4];
    if (!ct_las_header_box(r, box) || (h->min[0] == 0 && h->max[0] == 0) || !(h->scale[0] > 0) || !(h->scale[1] > 0))
        return;
    double lo[2], hi[2]; /* the box in record units, a few units wider */
    for (int a = 0; a < 2; a++) {
        lo[a] = floor((box[a] - h->offset[a]) / h->scale[a]) - 4.0;
        hi[a] = ceil((box[a + 2] - h->offset[a]) / h->scale[a]) + 4.0;
    }
    uint32_t outside = 0;
    const size_t rl = h->record_length;
    for (uint32_t i = 0; i < n; i++) {
        double x = (int32_t)ct_le32(recs + i * rl), y = (int32_t)ct_le32(recs + i * rl + 4);
        outside += !(x >= lo[0] && x <= hi[0] && y >= lo[1] && y <= hi[1]);
    }
    if (outside && atomic_exchange(&((ct_las_reader *)r)->laz_bounds_warned, 1) == 0)
        ct_log(ctx, CT_LOG_WARN, "%s: LAZ chunk %zu: %u of its %u points lie outside the header's x/y bounds: the chunk "
               "is damaged (its first point, stored whole, places all the others) or the writer left the bounds "
               "stale; read as they are (said once per file)", r->path, k, outside, n);
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
        /* (a chunk's first record alone is its first bytes, stored whole) */
        size_t need = upto == 1 && c->bytes > rl ? rl : (size_t)c->bytes;
        if (!reserve(&bytes, &bytes_cap, need)) {
            st = ct_error_nomem(ctx, "LAZ chunk");
            break;
        }
        int err = read_bytes(r->fd, c->offset, need, bytes);
        if (err) {
            st = ct_error(ctx, CT_ERR_IO, "%s: LAZ chunk %zu (%llu bytes at byte %llu): %s", r->path, k,
                          (unsigned long long)c->bytes, (unsigned long long)c->offset,
                          err < 0 ? "unexpected end of file (file changed?)" : strerror(err));
            break;
        }
        uint8_t *out = buf + (size_t)(at - first) * rl;
        if (skip == 0) {
            st = ct_laz_decode_chunk_head(ctx, r->path, r->laz, k, bytes, need, c->points, upto, out);
            if (st == CT_OK && upto == c->points) check_chunk_bounds(ctx, r, k, out, upto);
        } else if (!reserve(&tmp, &tmp_cap, (size_t)upto * rl)) {
            st = ct_error_nomem(ctx, "LAZ records");
        } else {
            st = ct_laz_decode_chunk_head(ctx, r->path, r->laz, k, bytes, need, c->points, upto, tmp);
            if (st == CT_OK) memcpy(out, tmp + (size_t)skip * rl, (size_t)(stop - at) * rl);
        }
        at = stop;
    }
    free(bytes);
    free(tmp);
    return st;
}
