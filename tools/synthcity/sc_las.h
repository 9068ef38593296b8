/* synthcity — a streaming LAS 1.4 writer for point data record format 6
 * (ASPRS LAS 1.4 R15): 375-byte header, one OGC WKT CRS VLR (LASF_Projection /
 * 2112), 30-byte records. Points are buffered and written in chunks; the header
 * (counts, bounds) is rewritten when the file is closed, so memory does not
 * depend on the number of points. */
#ifndef SYNTHCITY_LAS_H
#define SYNTHCITY_LAS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct sc_las_writer {
    FILE *f;
    char *path;                 /* owned copy, for messages */
    unsigned char *buf;         /* pending records */
    size_t nbuf, capbuf;        /* records pending / capacity */
    uint64_t count;
    uint64_t by_return[15];
    int32_t min[3], max[3];     /* of the stored integers */
    double scale[3], offset[3];
    uint32_t offset_to_points;
    char *wkt;                  /* owned copy, NUL included in the VLR */
    size_t wkt_len;             /* strlen + 1 */
    char err[512];              /* the first error */
} sc_las_writer;

/* Creates `path` and writes a provisional header and the WKT VLR. Scale is
 * 0.001 on every axis, offsets as given. Returns 0, or -1 with w->err set. */
int sc_las_open(sc_las_writer *w, const char *path, const char *wkt, const double offset[3]);

/* Appends one point. X, Y, Z are the stored integers ((coord - offset) / scale).
 * return_number 1..15, number_of_returns 1..15. Returns 0 or -1 (w->err). */
int sc_las_add(sc_las_writer *w, int32_t X, int32_t Y, int32_t Z, uint16_t intensity, int return_number,
               int number_of_returns, uint8_t classification, double gps_time);

/* Flushes, rewrites the header with the final counts and bounds, closes. Also
 * frees everything. Returns 0 or -1 (w->err is still readable afterwards). */
int sc_las_close(sc_las_writer *w);

/* Closes without finishing (after an error) and removes the file. */
void sc_las_abort(sc_las_writer *w);

/* Bytes the file has once closed (header + VLR + records). */
uint64_t sc_las_size(const sc_las_writer *w);

#endif
