/* The temporary files of a store on disk: one unlinked file per binning thread, each
 * chunk's points appended grouped by cell as 13-byte records; a cell's points are its
 * runs in those files, in chunk order. */
#include "geom/point_store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* The folder of the temporary point files: temp_dir, else $TMPDIR, else /tmp. */
static const char *spill_folder(const ct_point_store *s) {
    const char *dir = s->spill_dir ? s->spill_dir : getenv("TMPDIR");
    return dir && *dir ? dir : "/tmp";
}

/* The error of a failed read or write (what) of the temporary point files, err its errno.
 * A full disk also says how much the points may need there and what to do (a server's
 * small /tmp: the run stopped with "No space left on device" only). */
ct_status ps_spill_error(ct_context *ctx, const ct_point_store *s, const char *what, int err, size_t nchunks,
                         size_t max_chunk) {
    if (err == ENOSPC || err == EDQUOT)
        return ct_error(ctx, CT_ERR_IO, "cannot %s the temporary point file in %s: %s (the points may need up to %.0f MB "
                        "there: give readers.lidar a temp_dir on a larger disk, or more memory_limit)", what,
                        spill_folder(s), strerror(err), (double)nchunks * (double)max_chunk * CT_POINT_SPILL_BYTES / 1e6);
    return ct_error(ctx, CT_ERR_IO, "cannot %s the temporary point file in %s: %s", what, spill_folder(s),
                    strerror(err ? err : EIO));
}

/* Before the points go to disk: a warning when the temporary folder has less room than
 * they may need (an upper bound: crop and classes drop points as they are read), so a
 * batch log says why before the run stops with a full disk, not only after. */
void ps_warn_spill_room(ct_context *ctx, const ct_point_store *s, size_t nchunks, size_t max_chunk) {
    struct statvfs v;
    const char *dir = spill_folder(s);
    if (statvfs(dir, &v) != 0) return; /* (a missing folder fails with its own message) */
    double room = (double)v.f_bavail * (double)v.f_frsize;
    double need = (double)nchunks * (double)max_chunk * CT_POINT_SPILL_BYTES;
    if (room < need)
        ct_log(ctx, CT_LOG_WARN, "points: the temporary folder %s has %.0f MB free and the points may need up to %.0f MB "
               "there (less when crop or classes drop some): the run may stop with a full disk; give readers.lidar a "
               "temp_dir on a larger disk, or more memory_limit", dir, room / 1e6, need / 1e6);
}

/* Opens an unlinked temporary file for the points (gone when closed or on a crash). */
static int open_spill(ct_point_store *s) {
    const char *dir = spill_folder(s);
    if (getenv("CITYTILER_TEST_SPILL_FULL")) { /* (tests: a disk full in the middle of a run, on one MPI rank) */
        errno = ENOSPC;
        return -1;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/citytiler-points-XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0) return -1;
    unlink(path);
    return fd;
}

/* Packs n records in place, to SPILL_REC bytes each from the start of `recs` (record i
 * goes to bytes 13i..13i+12, never beyond the records not packed yet, which begin at 16i + 16). */
static void spill_pack(ct_point_rec *recs, size_t n) {
    unsigned char *out = (unsigned char *)recs;
    for (size_t i = 0; i < n; i++) {
        ct_point_rec r = recs[i];
        memcpy(out + SPILL_REC * i, &r, 12); /* x, y, z: the first 12 bytes of the struct */
        out[SPILL_REC * i + 12] = r.cls;
    }
}

/* The record packed at p. */
static inline ct_point_rec spill_rec(const unsigned char *p) {
    ct_point_rec r;
    memcpy(&r, p, 12);
    r.cls = p[12];
    r.reserved[0] = r.reserved[1] = r.reserved[2] = 0;
    return r;
}

/* The inverse, in place: the n packed records sit in the last 13n of the 16n bytes at
 * `recs`; unpacking forwards never overwrites a packed record not read yet (record i
 * ends at 16i + 16 <= 3n + 13(i + 1), where record i + 1 begins). */
static void spill_unpack(ct_point_rec *recs, size_t n) {
    const unsigned char *in = (const unsigned char *)recs + 3 * n;
    for (size_t i = 0; i < n; i++) recs[i] = spill_rec(in + SPILL_REC * i);
}

/* Appends n records to thread t's spill file (opened on first use); *at becomes their
 * offset in it, in records. The records are packed in place (`from` is scratch after).
 * Each thread writes its own file: one shared file made the threads queue on its lock
 * (a fifth of the samples at 1M buildings). */
int ps_spill_append(ct_point_store *s, int t, ct_point_rec *from, size_t n, uint64_t *at) {
    if (s->spill_fds[t] < 0 && (s->spill_fds[t] = open_spill(s)) < 0) return 0;
    *at = s->spill_len[t];
    spill_pack(from, n);
    const char *p = (const char *)from;
    size_t left = n * SPILL_REC;
    while (left > 0) {
        ssize_t w = write(s->spill_fds[t], p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            if (w == 0) errno = ENOSPC; /* (write(2) makes no progress: the disk is full) */
            return 0;
        }
        p += w;
        left -= (size_t)w;
    }
    s->spill_len[t] += n;
    return 1;
}

/* Reads cnt packed records at offset off (in records) of spill file `file` into `to`.
 * Returns 0, or the error: errno's, EIO when the file ends early (never a stale errno). */
int ps_spill_read_packed(const ct_point_store *s, int file, uint64_t off, unsigned char *to, size_t cnt) {
    size_t left = cnt * SPILL_REC;
    off_t at = (off_t)(off * SPILL_REC);
    while (left > 0) {
        ssize_t r = pread(s->spill_fds[file], to, left, at);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return errno ? errno : EIO;
        if (r == 0) return EIO;
        to += r;
        at += r;
        left -= (size_t)r;
    }
    return 0;
}

/* The same, unpacked into `to` (packed first at its end: see spill_unpack). */
int ps_spill_read(const ct_point_store *s, int file, uint64_t off, ct_point_rec *to, size_t cnt) {
    int err = ps_spill_read_packed(s, file, off, (unsigned char *)to + 3 * cnt, cnt);
    if (!err) spill_unpack(to, cnt);
    return err;
}

int ct_point_store_read_cell(const ct_point_store *s, int64_t cx, int64_t cy, unsigned char **buf, size_t *cap,
                             size_t *n) {
    *n = 0;
    if (s->released) return EBADF;
    long ci = ps_find_cell((ct_point_store *)s, cx, cy, 0);
    if (ci < 0) return 0;
    const cell *c = &s->cells[ci];
    if (c->n > *cap) {
        unsigned char *p = c->n <= SIZE_MAX / SPILL_REC ? ps_alloc_huge(c->n * SPILL_REC) : NULL;
        if (!p) return ENOMEM;
        free(*buf);
        *buf = p;
        *cap = c->n;
    }
    if (!s->on_disk) {
        for (size_t i = 0; i < c->n; i++) {
            memcpy(*buf + SPILL_REC * i, &c->pts[i], 12);
            (*buf)[SPILL_REC * i + 12] = c->pts[i].cls;
        }
        *n = c->n;
        return 0;
    }
    size_t at = 0;
    for (size_t r = 0; r < c->nruns; r++) {
        const spill_run *run = &s->runs[c->run_first + r];
        if (run->n > c->n - at) return EIO;
        int err = ps_spill_read_packed(s, run->file, run->off, *buf + SPILL_REC * at, (size_t)run->n);
        if (err) return err;
        at += (size_t)run->n;
    }
    if (at != c->n) return EIO;
    *n = at;
    return 0;
}

typedef struct closing_files {
    int n;
    int fds[];
} closing_files;

static void *close_files(void *arg) {
    closing_files *c = arg;
    for (int t = 0; t < c->n; t++)
        if (c->fds[t] >= 0) close(c->fds[t]);
    free(c);
    return NULL;
}

void ct_point_store_release_disk(ct_point_store *s) {
    if (!s || !s->on_disk || s->released) return;
    for (size_t i = 0; i < s->ncells; i++)
        if (s->cells[i].resident) ps_evict(s, &s->cells[i]);
    ps_free_load_memory(s);
    free(s->runs);
    s->runs = NULL;
    for (size_t i = 0; i < s->ncells; i++) s->cells[i].nruns = 0;
    s->released = 1;
    closing_files *c = malloc(sizeof *c + (size_t)(s->nspill > 0 ? s->nspill : 1) * sizeof(int));
    for (int t = 0; t < s->nspill; t++) {
        if (c) c->fds[t] = s->spill_fds[t];
        else if (s->spill_fds[t] >= 0) close(s->spill_fds[t]); /* no memory: close them here */
        s->spill_fds[t] = -1;
    }
    if (!c) return;
    c->n = s->nspill;
    if (pthread_create(&s->closer, NULL, close_files, c) == 0) s->closing = 1;
    else close_files(c);
}
