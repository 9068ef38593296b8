/* bench_parallel: how far this machine lets 2 threads go against 1, on the kinds of work a
 * citytiler run does, so that a pipeline's 2-thread speed-up can be read against the
 * machine's own ceiling (issue "2 threads >= 1.8x one thread").
 *
 *   bench_parallel [MiB]     (default 1024: the buffer the memory kinds stream over)
 *
 * Each kind does the same total work with 1 thread, then 2, and prints both times and the
 * ratio; best of 3 runs each:
 *   compute     an arithmetic loop in registers (no memory): the ceiling of the CPUs
 *   read        sums one byte of every 64 over the buffer (memory bandwidth)
 *   copy        memcpy of the buffer in 1 MiB blocks (as reading a file through the page
 *               cache copies it, and as writing temporary point files does)
 *   fresh       first touch of newly mapped memory (page faults and zeroing) */
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "util.h"

typedef struct job {
    unsigned char *buf, *dst;
    size_t bytes;
    volatile uint64_t sink; /* (keeps the loops from being optimised away) */
} job;

static void compute(job *j, int threads) {
    const long total = 400000000L;
    uint64_t acc = 0;
#pragma omp parallel num_threads(threads) reduction(+ : acc)
    {
        uint32_t s = (uint32_t)omp_get_thread_num() + 1;
        long n = total / threads;
        for (long i = 0; i < n; i++) {
            s = s * 1103515245u + 12345u;
            acc += s >> 16;
        }
    }
    j->sink = acc;
}

static void read_kind(job *j, int threads) {
    uint64_t acc = 0;
#pragma omp parallel for num_threads(threads) reduction(+ : acc) schedule(static)
    for (size_t i = 0; i < j->bytes; i += 64) acc += j->buf[i];
    j->sink = acc;
}

static void copy_kind(job *j, int threads) {
    const size_t block = 1u << 20;
    long nblocks = (long)(j->bytes / block);
#pragma omp parallel for num_threads(threads) schedule(static)
    for (long b = 0; b < nblocks; b++) memcpy(j->dst + (size_t)b * block, j->buf + (size_t)b * block, block);
    j->sink = j->dst[j->bytes / 2];
}

static void fresh_kind(job *j, int threads) {
    unsigned char *m = mmap(NULL, j->bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        j->sink = 0;
        return;
    }
#pragma omp parallel for num_threads(threads) schedule(static)
    for (size_t i = 0; i < j->bytes; i += 4096) m[i] = 1;
    j->sink = m[j->bytes / 2];
    munmap(m, j->bytes);
}

static double best_of_3(void (*kind)(job *, int), job *j, int threads) {
    double best = 1e30;
    for (int r = 0; r < 3; r++) {
        double t0 = bench_now();
        kind(j, threads);
        double t = bench_now() - t0;
        if (t < best) best = t;
    }
    return best;
}

int main(int argc, char **argv) {
    size_t mib = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 1024;
    if (mib < 16) mib = 16;
    job j = {NULL, NULL, mib << 20, 0};
    j.buf = malloc(j.bytes);
    j.dst = malloc(j.bytes);
    if (!j.buf || !j.dst) {
        fprintf(stderr, "bench_parallel: out of memory for 2 x %zu MiB\n", mib);
        return 1;
    }
    memset(j.buf, 1, j.bytes);
    memset(j.dst, 0, j.bytes);
    static const struct {
        const char *name;
        void (*fn)(job *, int);
    } kinds[] = {{"compute", compute}, {"read", read_kind}, {"copy", copy_kind}, {"fresh", fresh_kind}};
    printf("%-8s %10s %10s %8s   (%zu MiB, %d processors)\n", "kind", "1 thread", "2 threads", "ratio", mib,
           omp_get_num_procs());
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        double t1 = best_of_3(kinds[k].fn, &j, 1), t2 = best_of_3(kinds[k].fn, &j, 2);
        printf("%-8s %9.3fs %9.3fs %7.2fx\n", kinds[k].name, t1, t2, t1 / t2);
    }
    free(j.buf);
    free(j.dst);
    return 0;
}
