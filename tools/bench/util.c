#include "util.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

double bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double bench_cpu_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec +
           1e-6 * (double)ru.ru_stime.tv_usec;
}

double bench_peak_rss_mib(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
}

double bench_raw_read(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    char *buf = malloc(1 << 20);
    if (!buf) { close(fd); return -1; }
    double t0 = bench_now();
    uint64_t total = 0;
    ssize_t n;
    while ((n = read(fd, buf, 1 << 20)) > 0) total += (uint64_t)n;
    double t = bench_now() - t0;
    free(buf);
    close(fd);
    return t > 0 ? (double)total / t : -1;
}

static uint32_t rd32(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static void wr32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static double rdd(const unsigned char *p) { double d; memcpy(&d, p, 8); return d; }
static void wrd(unsigned char *p, double d) { memcpy(p, &d, 8); }

/* LAS 1.0-1.3 layout (legacy counts); enough for the benchmark's real inputs. */
int bench_tile_las(const char *in, const char *out, int tiles, double *dx_out, double *dy_out) {
    FILE *f = fopen(in, "rb");
    if (!f) return -1;
    unsigned char hdr[375];
    if (fread(hdr, 1, 227, f) != 227 || memcmp(hdr, "LASF", 4) != 0 || hdr[25] > 3) { fclose(f); return -1; }
    uint32_t off = rd32(hdr + 96), count = rd32(hdr + 107);
    uint16_t rl = (uint16_t)(hdr[105] | hdr[106] << 8);
    double sx = rdd(hdr + 131), sy = rdd(hdr + 139), ox = rdd(hdr + 155), oy = rdd(hdr + 163);
    double maxx = rdd(hdr + 179), minx = rdd(hdr + 187), maxy = rdd(hdr + 195), miny = rdd(hdr + 203);
    unsigned char *head = malloc(off);
    unsigned char *pts = malloc((size_t)count * rl);
    if (!head || !pts) { free(head); free(pts); fclose(f); return -1; }
    fseek(f, 0, SEEK_SET);
    int ok = fread(head, 1, off, f) == off && fread(pts, rl, count, f) == count;
    fclose(f);
    FILE *o = ok ? fopen(out, "wb") : NULL;
    if (!o) { free(head); free(pts); return -1; }
    double dx = ceil(maxx - minx + 1.0), dy = ceil(maxy - miny + 1.0);
    uint64_t total = (uint64_t)count * (uint64_t)(tiles * tiles);
    wr32(head + 107, total > UINT32_MAX ? UINT32_MAX : (uint32_t)total);
    for (int r = 0; r < 5; r++) wr32(head + 111 + 4 * r, rd32(head + 111 + 4 * r) * (uint32_t)(tiles * tiles));
    wrd(head + 179, maxx + dx * (tiles - 1));
    wrd(head + 195, maxy + dy * (tiles - 1));
    fwrite(head, 1, off, o);
    for (int ty = 0; ty < tiles && ok; ty++)
        for (int tx = 0; tx < tiles && ok; tx++) {
            int32_t ix = (int32_t)llround(dx * tx / sx), iy = (int32_t)llround(dy * ty / sy);
            for (uint32_t i = 0; i < count; i++) {
                unsigned char *p = pts + (size_t)i * rl;
                unsigned char rec[512];
                memcpy(rec, p, rl);
                wr32(rec, (uint32_t)((int32_t)rd32(p) + ix));
                wr32(rec + 4, (uint32_t)((int32_t)rd32(p + 4) + iy));
                if (fwrite(rec, 1, rl, o) != rl) ok = 0;
            }
        }
    (void)ox; (void)oy;
    if (fclose(o) != 0) ok = 0;
    free(head);
    free(pts);
    *dx_out = dx;
    *dy_out = dy;
    return ok ? 0 : -1;
}
