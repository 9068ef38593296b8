/* Internal: which directory a path names, so that two spellings of one directory (through
 * a symbolic link, "a/../b" and "b", a trailing slash) are seen to be the same. */
#ifndef CT_CORE_PATH_IDENTITY_H
#define CT_CORE_PATH_IDENTITY_H

/* The absolute path `path` names, whether or not it exists yet: the realpath of its
 * longest existing leading part (links and ".." resolved by the system), then the rest
 * with "." and ".." applied by hand (a part that does not exist yet is no link).
 * Trailing slashes do not count. A relative path is taken from the current directory.
 * Returns a malloc'd string (the caller frees it), or NULL when out of memory or the
 * current directory cannot be resolved. */
char *ct_path_canonical(const char *path);

/* 1 when paths a and b name the same directory or file: equal canonical paths, or both
 * exist with the same device and inode (a bind mount); 0 otherwise, -1 when out of memory. */
int ct_path_same(const char *a, const char *b);

/* 1 when `path` is directory `dir` or lies inside it (canonical paths compared), 0 when
 * not, -1 when out of memory. */
int ct_path_within(const char *path, const char *dir);

#endif
