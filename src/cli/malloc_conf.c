/* The citytiler executable's heap: jemalloc (CT_WITH_JEMALLOC) on transparent huge pages.
 *
 * Most of a run's allocations are small and many (footprint rings, attribute strings, GDAL's
 * features, meshes): glibc's malloc touches a fresh 4 KiB page for every 4 KiB of them, and a
 * page fault is the expensive part on virtual machines (about 10 us each on the reference VM:
 * a 100k-building footprint read spent a fifth of its CPU time in faults). jemalloc reads
 * this compiled-in configuration at start (MALLOC_CONF in the environment still overrides
 * it). The library itself uses plain malloc/free and works with any allocator.
 *
 * oversize_threshold:0: jemalloc serves requests above 8 MiB (a loaded cell's points, the
 * LiDAR reader's buffers) from an arena that gives freed memory back to the system at
 * once, so the next such request faulted in fresh zeroed pages again. Without it they
 * are reused (freed pages go back after the usual 10 s). 10k city at 10 pts/m2, 2
 * threads, 4 alternating pairs: run 0.96-1.31 s against 1.07-1.41 s, system time
 * 0.51-0.96 s against 0.73-1.11 s; 1M city: 26.5 and 26.9 s against 27.9 and 33.2 s,
 * peak RSS 1188 MiB against 1185 MiB. */
#ifdef CT_WITH_JEMALLOC
extern const char *malloc_conf;
const char *malloc_conf = "thp:always,metadata_thp:always,oversize_threshold:0";
#else
typedef int ct_no_malloc_conf; /* (an empty file is not valid C) */
#endif
