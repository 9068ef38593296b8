/* The citytiler executable's heap: jemalloc (CT_WITH_JEMALLOC) on transparent huge pages.
 *
 * Most of a run's allocations are small and many (footprint rings, attribute strings, GDAL's
 * features, meshes): glibc's malloc touches a fresh 4 KiB page for every 4 KiB of them, and a
 * page fault is the expensive part on virtual machines (about 10 us each on the reference VM:
 * a 100k-building footprint read spent a fifth of its CPU time in faults). jemalloc reads
 * this compiled-in configuration at start (MALLOC_CONF in the environment still overrides
 * it). The library itself uses plain malloc/free and works with any allocator. */
#ifdef CT_WITH_JEMALLOC
extern const char *malloc_conf;
const char *malloc_conf = "thp:always,metadata_thp:always";
#else
typedef int ct_no_malloc_conf; /* (an empty file is not valid C) */
#endif
