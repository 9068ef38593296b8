/* Shared helpers of the benchmarks: clocks, peak memory, raw read throughput,
 * and enlarged copies of real LAS files. */
#ifndef CT_BENCH_UTIL_H
#define CT_BENCH_UTIL_H
#include <stddef.h>
#include <stdint.h>

double bench_now(void);
/* CPU seconds (user + system) of all this process's threads so far. */
double bench_cpu_seconds(void);
/* Peak resident set size of this process so far, in MiB. */
double bench_peak_rss_mib(void);
/* Reads the whole file through read(2) into a 1 MiB buffer (like cat > /dev/null);
 * returns bytes per second, or -1 on error. */
double bench_raw_read(const char *path);
/* Writes `out`: the points of LAS file `in` repeated on a tiles x tiles grid, shifted
 * by the input's extent (header counts and bounds updated). Returns 0 on success. */
int bench_tile_las(const char *in, const char *out, int tiles, double *dx, double *dy);
#endif
