#include "ct_test_las.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void put_u16(unsigned char *p, unsigned v) { p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); }
static void put_u32(unsigned char *p, uint32_t v) {
    for (int k = 0; k < 4; k++) p[k] = (unsigned char)(v >> (8 * k));
}
static void put_f64(unsigned char *p, double v) { memcpy(p, &v, 8); } /* (little-endian hosts) */

int ct_test_write_las(const char *path, const double *x, const double *y, const double *z, const uint8_t *cls,
                      size_t n, const double *box) {
    unsigned char h[227];
    memset(h, 0, sizeof h);
    memcpy(h, "LASF", 4);
    h[24] = 1;
    h[25] = 2;
    put_u16(h + 94, 227);
    put_u32(h + 96, 227);
    h[104] = 1;
    put_u16(h + 105, 28);
    put_u32(h + 107, (uint32_t)n);
    for (int k = 0; k < 3; k++) put_f64(h + 131 + 8 * k, 0.01);
    double b[6] = {INFINITY, INFINITY, INFINITY, -INFINITY, -INFINITY, -INFINITY};
    if (box) memcpy(b, box, sizeof b);
    for (size_t i = 0; !box && i < n; i++) {
        const double v[3] = {x[i], y[i], z[i]};
        for (int k = 0; k < 3; k++) {
            b[k] = fmin(b[k], v[k]);
            b[3 + k] = fmax(b[3 + k], v[k]);
        }
    }
    for (int k = 0; k < 3; k++) { /* max x, min x, max y, min y, max z, min z */
        put_f64(h + 179 + 16 * k, n || box ? b[3 + k] : 0.0);
        put_f64(h + 187 + 16 * k, n || box ? b[k] : 0.0);
    }
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    int ok = fwrite(h, 1, sizeof h, f) == sizeof h;
    for (size_t i = 0; ok && i < n; i++) {
        unsigned char r[28];
        memset(r, 0, sizeof r);
        put_u32(r, (uint32_t)(int32_t)llround(x[i] / 0.01));
        put_u32(r + 4, (uint32_t)(int32_t)llround(y[i] / 0.01));
        put_u32(r + 8, (uint32_t)(int32_t)llround(z[i] / 0.01));
        r[15] = cls[i];
        ok = fwrite(r, 1, sizeof r, f) == sizeof r;
    }
    return fclose(f) == 0 && ok;
}
