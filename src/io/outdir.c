#define _GNU_SOURCE /* (F_OFD_SETLK) */
#include "io/outdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb; (void)flag; (void)ftw;
    remove(path);
    return 0;
}

static void remove_tree(const char *path) { nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS); }

ct_status ct_mkdirs(ct_context *ctx, const char *path) {
    char *p = strdup(path);
    if (!p) return ct_error_nomem(ctx, "path");
    for (char *c = p + 1; *c; c++) {
        if (*c != '/') continue;
        *c = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            ct_status st = ct_error(ctx, CT_ERR_IO, "%s: cannot create directory: %s", p, strerror(errno));
            free(p);
            return st;
        }
        *c = '/';
    }
    ct_status st = CT_OK;
    if (mkdir(p, 0777) != 0 && errno != EEXIST)
        st = ct_error(ctx, CT_ERR_IO, "%s: cannot create directory: %s", p, strerror(errno));
    free(p);
    return st;
}

/* 1 when dir has no entries besides . and .. ; -1 when it cannot be read. */
static int dir_is_empty(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    struct dirent *e;
    int empty = 1;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) { empty = 0; break; }
    closedir(d);
    return empty;
}

void ct_remove_tree(const char *path) { remove_tree(path); }

void ct_outdir_work_path(const char *final_path, char *work, size_t n) { snprintf(work, n, "%s.partial", final_path); }

int ct_outdir_work_exists(const char *final_path, char *work, size_t n) {
    struct stat sb;
    ct_outdir_work_path(final_path, work, n);
    return stat(work, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* What writers.3dtiles writes into its directory: these top-level names, and in each of
 * the folders only files of the suffixes given. */
typedef struct output_entry {
    const char *name;
    int is_dir;
    const char *suffix[2]; /* of the folder's files */
} output_entry;
static const output_entry OUTPUT_LAYOUT[] = {
    {"tileset.json", 0, {NULL, NULL}},   {"run-summary.json", 0, {NULL, NULL}}, {"tiles", 1, {".glb", NULL}},
    {"subtrees", 1, {".subtree", NULL}}, {"assets", 1, {".glb", ".json"}},
};

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* The first entry of dir (into `found`) that a writer does not write there: 1 when one is
 * found, 0 when none, -1 when dir cannot be read. `layout` NULL: dir is the output
 * directory itself; else the folder `layout` describes. */
static int foreign_entry(const char *dir, const output_entry *layout, char *found, size_t n) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat sb;
        int is_dir = lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode), is_file = !is_dir && S_ISREG(sb.st_mode);
        const output_entry *known = NULL;
        if (!layout) {
            for (size_t k = 0; k < sizeof OUTPUT_LAYOUT / sizeof *OUTPUT_LAYOUT; k++)
                if (strcmp(e->d_name, OUTPUT_LAYOUT[k].name) == 0 && OUTPUT_LAYOUT[k].is_dir == is_dir &&
                    (is_dir || is_file))
                    known = &OUTPUT_LAYOUT[k];
            if (known && known->is_dir) {
                rc = foreign_entry(path, known, found, n);
                if (rc < 0) rc = 0; /* (an unreadable folder: the replace will say) */
                continue;
            }
        } else if (is_file) {
            for (int k = 0; k < 2 && layout->suffix[k]; k++)
                if (ends_with(e->d_name, layout->suffix[k])) known = layout;
        }
        if (!known) {
            snprintf(found, n, "%s", path);
            rc = 1;
        }
    }
    closedir(d);
    return rc;
}

/* The first folder of path's missing parents (malloc'd; NULL when none is missing or out
 * of memory). */
static char *first_missing_parent(const char *path) {
    char *p = strdup(path), *missing = NULL;
    struct stat sb;
    while (p) {
        char *slash = strrchr(p, '/');
        if (!slash || slash == p) break;
        *slash = '\0';
        if (stat(p, &sb) == 0) break;
        free(missing);
        missing = strdup(p);
    }
    free(p);
    return missing;
}

/* The folders above `path`, up to and including `made` (the first of them a call made),
 * removed while they are empty, deepest first. */
static void remove_made_folders(const char *path, const char *made) {
    if (!made) return;
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", path);
    size_t top = strlen(made);
    for (char *slash; (slash = strrchr(dir, '/')) != NULL && (size_t)(slash - dir) >= top;) {
        *slash = '\0';
        if (rmdir(dir) != 0) break;
    }
}

/* A probe: can "<final_path>.partial" be made? It is made (with any missing parents) and,
 * when it was not there, removed again with the folders made for it (a run failing in
 * stage 0 left "a/b/" behind). */
static ct_status probe_work_dir(ct_context *ctx, const char *final_path) {
    char work[4200];
    ct_outdir_work_path(final_path, work, sizeof work);
    struct stat sb;
    if (stat(work, &sb) == 0) return CT_OK; /* (a run of another partition, or one to resume) */
    char *made = first_missing_parent(work);
    ct_status st = ct_mkdirs(ctx, work);
    if (st != CT_OK) {
        char *msg = strdup(ct_error_message(ctx));
        ct_error_clear(ctx);
        st = ct_error(ctx, CT_ERR_USAGE, "%s: output path cannot be written: %s", final_path,
                      msg ? msg : "cannot create its work directory");
        free(msg);
    } else if (rmdir(work) == 0) {
        remove_made_folders(work, made);
    }
    free(made);
    return st;
}

ct_status ct_outdir_check(ct_context *ctx, const char *final_path, const char *marker, int probe) {
    struct stat sb;
    if (lstat(final_path, &sb) == 0 && S_ISLNK(sb.st_mode) && stat(final_path, &sb) != 0)
        return ct_error(ctx, CT_ERR_USAGE, "%s: output path is a symbolic link to nothing: make its target, or write "
                                           "elsewhere", final_path);
    if (stat(final_path, &sb) == 0) {
        if (!S_ISDIR(sb.st_mode))
            return ct_error(ctx, CT_ERR_USAGE, "%s: output path exists and is not a directory", final_path);
        size_t n = strlen(final_path) + strlen(marker) + 2;
        char *m = malloc(n);
        if (!m) return ct_error_nomem(ctx, "path");
        snprintf(m, n, "%s/%s", final_path, marker);
        int earlier_output = access(m, F_OK) == 0;
        free(m);
        if (!earlier_output && dir_is_empty(final_path) != 1)
            return ct_error(ctx, CT_ERR_USAGE,
                            "%s: output directory exists, is not empty and holds no %s: refusing to replace it",
                            final_path, marker);
        /* An earlier output is replaced whole: a file a user put in it (an input of this
         * very run, say) would go with it. */
        char found[4200];
        if (earlier_output && foreign_entry(final_path, NULL, found, sizeof found) == 1)
            return ct_error(ctx, CT_ERR_USAGE,
                            "%s: output directory holds '%s', which citytiler does not write: refusing to replace the "
                            "directory (and delete it); move that out, or write elsewhere",
                            final_path, found);
    } else if (errno == ENOTDIR) {
        return ct_error(ctx, CT_ERR_USAGE, "%s: output path cannot be written: a part of it is a file, not a directory",
                        final_path);
    }
    return probe ? probe_work_dir(ctx, final_path) : CT_OK;
}

static void lock_path(const char *final_path, char *out, size_t n) { snprintf(out, n, "%s.lock", final_path); }

/* Partitions of one run share the flock; each also holds a read lock (open file
 * description lock, so threads and forks of a process keep it) on byte N of the lock file,
 * N its partition count. A read lock on another byte is a partition of a run split
 * another way: its tiles would fall among this one's. Taken first, then looked for, so
 * of two starting together both see the other and stop. Returns 0 or the other count. */
static long other_partition_count(int fd, int partitions) {
    struct flock mine = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = partitions, .l_len = 1};
    if (fcntl(fd, F_OFD_SETLK, &mine) != 0) return 0; /* (no such locks here: the merge still checks N) */
    struct flock below = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = partitions};
    if (fcntl(fd, F_OFD_GETLK, &below) == 0 && below.l_type != F_UNLCK) return (long)below.l_start;
    struct flock above = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = (off_t)partitions + 1, .l_len = 0};
    if (fcntl(fd, F_OFD_GETLK, &above) == 0 && above.l_type != F_UNLCK) return (long)above.l_start;
    return 0;
}

ct_status ct_outdir_lock(ct_context *ctx, const char *final_path, int partitions, int *fd, char **made) {
    char path[4200];
    lock_path(final_path, path, sizeof path);
    *made = first_missing_parent(final_path);
    if (*made) { /* (the folders the output goes in: made now, as the writer would) */
        char parent[4200];
        snprintf(parent, sizeof parent, "%s", final_path);
        char *slash = strrchr(parent, '/');
        if (slash) *slash = '\0';
        ct_status st = ct_mkdirs(ctx, parent);
        if (st != CT_OK) return st;
    }
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (*fd < 0) /* (a path that cannot be written is said by ct_outdir_check's probe) */
        return ct_error(ctx, CT_ERR_USAGE, "%s: output path cannot be written: %s: %s", final_path, path,
                        strerror(errno));
    if (flock(*fd, (partitions ? LOCK_SH : LOCK_EX) | LOCK_NB) == 0) {
        long other = partitions > 1 ? other_partition_count(*fd, partitions) : 0;
        if (other == 0) return CT_OK;
        close(*fd);
        *fd = -1;
        return ct_error(ctx, CT_ERR_USAGE, "%s: a run split into %ld partitions is writing this output (it holds %s), "
                                           "and this one is split into %d: use the same N for every --partition K/N of "
                                           "a run, or write elsewhere", final_path, other, path, partitions);
    }
    int e = errno;
    close(*fd);
    *fd = -1;
    if (e == EWOULDBLOCK)
        return ct_error(ctx, CT_ERR_USAGE, "%s: another citytiler run is writing this output (it holds %s): wait for it "
                                           "to end, or write elsewhere", final_path, path);
    return ct_error(ctx, CT_ERR_IO, "%s: cannot lock %s: %s", final_path, path, strerror(e));
}

void ct_outdir_unlock(const char *final_path, int fd, int partitions, char *made) {
    if (fd >= 0) {
        if (!partitions) { /* (removed while held: a run that opens it later makes a new one) */
            char path[4200];
            lock_path(final_path, path, sizeof path);
            unlink(path);
        }
        close(fd);
    }
    remove_made_folders(final_path, made);
    free(made);
}

int ct_outdir_finished(const char *final_path) {
    char partial[4200], done[4200];
    struct stat done_st;
    snprintf(done, sizeof done, "%s/tileset.json", final_path);
    return !ct_outdir_work_exists(final_path, partial, sizeof partial) && stat(done, &done_st) == 0;
}

ct_status ct_outdir_check_merge(ct_context *ctx, const char *final_path) {
    char partial[4200], done[4200];
    struct stat done_st;
    snprintf(done, sizeof done, "%s/tileset.json", final_path);
    if (ct_outdir_work_exists(final_path, partial, sizeof partial)) return CT_OK;
    if (stat(done, &done_st) == 0) /* a second merge: the first took the work directory */
        return ct_error(ctx, CT_ERR_USAGE, "%s: already merged (it holds a tileset.json and there is no %s): run "
                                           "every partition again to rebuild it", final_path, partial);
    return ct_error(ctx, CT_ERR_USAGE, "%s: no partition has run (no %s): run `citytiler run --partition K/N` for every "
                                       "K first", final_path, partial);
}

ct_status ct_outdir_begin(ct_context *ctx, const char *final_path, const char *marker, int resume, char **tmp_out) {
    *tmp_out = NULL;
    ct_status cst = ct_outdir_check(ctx, final_path, marker, 0);
    if (cst != CT_OK) return cst;
    size_t n = strlen(final_path) + 32;
    char *tmp = malloc(n);
    if (!tmp) return ct_error_nomem(ctx, "path");
    ct_outdir_work_path(final_path, tmp, n);
    if (!resume) remove_tree(tmp);
    ct_status st = ct_mkdirs(ctx, tmp);
    if (st != CT_OK) {
        free(tmp);
        return st;
    }
    *tmp_out = tmp;
    return CT_OK;
}

/* Folders "<final_path>.old-PID" of earlier tilesets that runs stopped while removing
 * them (the process PID gone), holding nothing but what a writer writes: removed (11 MB
 * of a small city stayed for good). */
static void remove_stale_old(ct_context *ctx, const char *final_path, const char *marker) {
    char parent[4096], prefix[4200];
    snprintf(parent, sizeof parent, "%s", final_path);
    char *slash = strrchr(parent, '/');
    const char *base = final_path;
    if (slash) {
        *slash = '\0';
        base = final_path + (slash - parent) + 1;
        if (!parent[0]) snprintf(parent, sizeof parent, "/");
    } else {
        snprintf(parent, sizeof parent, ".");
    }
    snprintf(prefix, sizeof prefix, "%s.old-", base);
    const size_t np = strlen(prefix);
    DIR *d = opendir(parent);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        const char *pid_text = e->d_name + np, *c = pid_text;
        if (strncmp(e->d_name, prefix, np) != 0 || !*pid_text) continue;
        while (*c >= '0' && *c <= '9') c++;
        long pid = strtol(pid_text, NULL, 10);
        if (*c || pid <= 0 || pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        char path[8400], mark[8500], found[4200];
        snprintf(path, sizeof path, "%s/%s", parent, e->d_name);
        snprintf(mark, sizeof mark, "%s/%s", path, marker);
        struct stat sb;
        if (lstat(path, &sb) != 0 || !S_ISDIR(sb.st_mode) || (access(mark, F_OK) != 0 && dir_is_empty(path) != 1) ||
            foreign_entry(path, NULL, found, sizeof found) != 0)
            continue;
        remove_tree(path);
        ct_log(ctx, CT_LOG_INFO, "%s: removed, an earlier tileset a stopped run was removing", path);
    }
    closedir(d);
}

ct_status ct_outdir_commit(ct_context *ctx, const char *final_path, const char *tmp_path) {
    struct stat sb;
    char old[4096];
    int had_old = 0;
    remove_stale_old(ctx, final_path, "tileset.json");
    if (stat(final_path, &sb) == 0) {
        snprintf(old, sizeof old, "%s.old-%ld", final_path, (long)getpid());
        remove_tree(old);
        /* The new tileset and the earlier one swapped in one step: moving the earlier aside
         * first left nothing at the path when the run was killed between the two renames.
         * (Then the earlier one, at the work path, goes aside and is removed; killed before,
         * the next run removes it, and --resume finds no record there to keep.) */
        if (renameat2(AT_FDCWD, tmp_path, AT_FDCWD, final_path, RENAME_EXCHANGE) == 0) {
            ct_context_set_output_done(ctx);
            if (getenv("CITYTILER_TEST_KILL_IN_COMMIT")) raise(SIGKILL); /* (tests: a kill right after the swap) */
            if (rename(tmp_path, old) == 0) remove_tree(old);
            else remove_tree(tmp_path);
            return CT_OK;
        }
        if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) /* (else a file system without the swap) */
            return ct_error(ctx, CT_ERR_IO, "%s: cannot move the new output into place: %s", final_path, strerror(errno));
        if (rename(final_path, old) != 0)
            return ct_error(ctx, CT_ERR_IO, "%s: cannot move the earlier output aside: %s", final_path, strerror(errno));
        had_old = 1;
    }
    if (rename(tmp_path, final_path) != 0) {
        ct_status st = ct_error(ctx, CT_ERR_IO, "%s: cannot move the new output into place: %s", final_path, strerror(errno));
        if (had_old) rename(old, final_path);
        return st;
    }
    ct_context_set_output_done(ctx);
    if (had_old) remove_tree(old);
    return CT_OK;
}

void ct_outdir_abort(const char *tmp_path) {
    if (tmp_path) remove_tree(tmp_path);
}

ct_status ct_write_file(ct_context *ctx, const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) return ct_error(ctx, CT_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    size_t w = fwrite(data, 1, len, f);
    int bad = w != len || ferror(f);
    if (fclose(f) != 0) bad = 1;
    if (bad) return ct_error(ctx, CT_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    return CT_OK;
}

static void partitions_path(const char *work, char *out, size_t size) {
    snprintf(out, size, "%s/.resume/partitions", work);
}

int ct_outdir_partitions(const char *work) {
    char path[4200];
    partitions_path(work, path, sizeof path);
    FILE *f = fopen(path, "r");
    int n = 0;
    if (!f) return 0;
    if (fscanf(f, "%d", &n) != 1 || n < 0) n = 0;
    fclose(f);
    return n;
}

ct_status ct_outdir_record_partitions(ct_context *ctx, const char *work, int n) {
    char path[4200], text[16];
    partitions_path(work, path, sizeof path);
    int len = snprintf(text, sizeof text, "%d", n);
    return ct_write_file(ctx, path, text, (size_t)len);
}
