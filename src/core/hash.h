/* Internal: FNV-1a, the one hash for ids and fingerprints (hash tables of building and
 * asset ids, the --resume fingerprint). */
#ifndef CT_CORE_HASH_H
#define CT_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>

#define CT_FNV1A_BASIS 0xcbf29ce484222325ull

/* Continues hash h (start from CT_FNV1A_BASIS) over len bytes. */
static inline uint64_t ct_fnv1a(uint64_t h, const void *data, size_t len) {
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* The hash of a NUL-terminated string. */
static inline uint64_t ct_fnv1a_str(const char *s) {
    uint64_t h = CT_FNV1A_BASIS;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

#endif
