/* A PLY model's header against the file's size: see io/ply_header_check.h. */
#include "io/ply_header_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    const char *p;
    size_t n;
} token;

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }

/* The next whitespace-separated token of [*s, end); n 0 when none is left. */
static token next_token(const char **s, const char *end) {
    const char *p = *s;
    while (p < end && is_space(*p))
        p++;
    const char *q = p;
    while (q < end && !is_space(*q))
        q++;
    *s = q;
    return (token){p, (size_t)(q - p)};
}

static int tok_is(token t, const char *word) { return t.n == strlen(word) && memcmp(t.p, word, t.n) == 0; }

/* Byte size of a PLY scalar type (the names Assimp knows), 0 when unknown. */
static unsigned type_size(token t) {
    static const struct {
        const char *name;
        unsigned size;
    } types[] = {{"char", 1},   {"int8", 1},    {"uchar", 1},  {"uint8", 1},   {"short", 2},   {"int16", 2},
                 {"ushort", 2}, {"uint16", 2},  {"int", 4},    {"int32", 4},   {"uint", 4},    {"uint32", 4},
                 {"float", 4},  {"float32", 4}, {"double", 8}, {"float64", 8}, {"double64", 8}};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (tok_is(t, types[i].name)) return types[i].size;
    return 0;
}

/* Decimal digits only, into *out; 0 when not a number or above UINT64_MAX. */
static int parse_count(token t, uint64_t *out) {
    if (t.n == 0) return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < t.n; i++) {
        if (t.p[i] < '0' || t.p[i] > '9') return 0;
        unsigned d = (unsigned)(t.p[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return 0;
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}

int ct_ply_is_ply(const unsigned char *head, size_t n) {
    if (!head || n < 4) return 0;
    if (lower((char)head[0]) != 'p' || lower((char)head[1]) != 'l' || lower((char)head[2]) != 'y') return 0;
    return head[3] == '\n' || (head[3] == '\r' && n > 4 && head[4] == '\n');
}

/* An element being read: its name (in the header buffer), count and bytes per element. */
typedef struct {
    token name;
    uint64_t count;
    uint64_t per; /* least bytes one element takes */
    unsigned props;
    int open; /* an element line was seen */
} element;

enum { FMT_NONE, FMT_ASCII, FMT_BINARY };

/* Adds the finished element `e` to *need (bytes the body needs so far); refuses it when
 * the body (`body` bytes) cannot hold it. */
static ct_status close_element(ct_context *ctx, const char *name, const element *e, int fmt, uint64_t *need,
                               uint64_t body) {
    if (!e->open || e->count == 0) return CT_OK;
    uint64_t per = e->props ? e->per : 1;
    int overflow = per > UINT64_MAX / e->count;
    uint64_t bytes = overflow ? UINT64_MAX : e->count * per;
    /* ascii: the last value of the file may end without its line end */
    if (!overflow && fmt == FMT_ASCII && bytes > 0) bytes--;
    if (!overflow && bytes <= body && *need <= body - bytes) {
        *need += bytes;
        return CT_OK;
    }
    const int nn = e->name.n > 64 ? 64 : (int)e->name.n;
    const unsigned long long cnt = (unsigned long long)e->count, size = (unsigned long long)body;
    if (overflow)
        return ct_error(ctx, CT_ERR_INPUT,
                        "%s: damaged PLY model: its header declares %llu %.*s elements (more than 2^64 bytes) but "
                        "%llu bytes follow the header",
                        name, cnt, nn, e->name.p, size);
    if (*need == 0)
        return ct_error(ctx, CT_ERR_INPUT,
                        "%s: damaged PLY model: its header declares %llu %.*s elements (at least %llu bytes) but "
                        "%llu bytes follow the header",
                        name, cnt, nn, e->name.p, (unsigned long long)bytes, size);
    return ct_error(ctx, CT_ERR_INPUT,
                    "%s: damaged PLY model: its header declares %llu %.*s elements (at least %llu bytes) but %llu "
                    "bytes follow the header, of which the elements before them take at least %llu",
                    name, cnt, nn, e->name.p, (unsigned long long)bytes, size, (unsigned long long)*need);
}

ct_status ct_ply_header_check_buffer(ct_context *ctx, const char *name, const unsigned char *head, size_t n,
                                     uint64_t file_size) {
    if (!name) name = "model";
    if (!head || !ct_ply_is_ply(head, n)) return ct_error(ctx, CT_ERR_INPUT, "%s: not a PLY file", name);
    if (file_size < n) file_size = n;
    const char *s = (const char *)head, *end = s + n;
    /* find the end of the header first: the body's size bounds every element */
    const char *line = memchr(s, '\n', n);
    line++; /* ct_ply_is_ply: the first line ends */
    const char *body_at = NULL;
    for (const char *l = line; l < end;) {
        const char *le = memchr(l, '\n', (size_t)(end - l));
        const char *lend = le ? le : end, *c = l;
        if (tok_is(next_token(&c, lend), "end_header")) {
            body_at = le ? le + 1 : end;
            break;
        }
        if (!le) break;
        l = le + 1;
    }
    if (!body_at) {
        if (file_size > n && n >= CT_PLY_HEADER_MAX)
            return ct_error(ctx, CT_ERR_INPUT, "%s: damaged PLY model: no end_header in its first %zu bytes", name, n);
        return ct_error(ctx, CT_ERR_INPUT, "%s: damaged PLY model: its header has no end_header", name);
    }
    const uint64_t body = file_size - (uint64_t)(body_at - s);

    int fmt = FMT_NONE;
    element e = {0};
    uint64_t need = 0;
    unsigned lineno = 1;
    for (const char *l = line; l < body_at; lineno++) {
        const char *le = memchr(l, '\n', (size_t)(body_at - l));
        const char *lend = le ? le : body_at, *c = l;
        l = le ? le + 1 : body_at;
        token kw = next_token(&c, lend);
        if (tok_is(kw, "end_header")) break;
        if (tok_is(kw, "format")) {
            token f = next_token(&c, lend);
            if (tok_is(f, "ascii"))
                fmt = FMT_ASCII;
            else if (tok_is(f, "binary_little_endian") || tok_is(f, "binary_big_endian"))
                fmt = FMT_BINARY;
            else
                return ct_error(ctx, CT_ERR_INPUT, "%s: damaged PLY model: unknown format \"%.*s\" (line %u)", name,
                                f.n > 64 ? 64 : (int)f.n, f.p, lineno);
        } else if (tok_is(kw, "element")) {
            if (fmt == FMT_NONE)
                return ct_error(ctx, CT_ERR_INPUT, "%s: damaged PLY model: an element before the format line (line %u)",
                                name, lineno);
            ct_status st = close_element(ctx, name, &e, fmt, &need, body);
            if (st != CT_OK) return st;
            memset(&e, 0, sizeof e);
            e.open = 1;
            e.name = next_token(&c, lend);
            token cnt = next_token(&c, lend);
            if (tok_is(e.name, "TextureFile")) { /* Assimp's: a file name, no count */
                e.open = 0;
                continue;
            }
            if (!parse_count(cnt, &e.count))
                return ct_error(
                    ctx, CT_ERR_INPUT, "%s: damaged PLY model: element %.*s has no valid count (\"%.*s\", line %u)",
                    name, e.name.n > 64 ? 64 : (int)e.name.n, e.name.p, cnt.n > 64 ? 64 : (int)cnt.n, cnt.p, lineno);
        } else if (tok_is(kw, "property")) {
            if (!e.open) continue; /* Assimp ignores it too */
            token t = next_token(&c, lend);
            if (tok_is(t, "list")) t = next_token(&c, lend); /* the count's type; a list may be empty */
            /* a type Assimp does not know (int64, ...): Assimp skips the property; any type
             * takes a byte at least, so the bound holds */
            unsigned size = type_size(t);
            if (size == 0) size = 1;
            e.per += fmt == FMT_ASCII ? 2 : size; /* at most 8 per header line: no overflow */
            e.props++;
        }
        /* comment, obj_info and anything else: skipped, as Assimp does */
    }
    if (fmt == FMT_NONE)
        return ct_error(ctx, CT_ERR_INPUT, "%s: damaged PLY model: its header has no format line", name);
    return close_element(ctx, name, &e, fmt, &need, body);
}

static int has_ply_extension(const char *path) {
    size_t n = strlen(path);
    return n >= 4 && path[n - 4] == '.' && lower(path[n - 3]) == 'p' && lower(path[n - 2]) == 'l' &&
           lower(path[n - 1]) == 'y';
}

ct_status ct_ply_header_check(ct_context *ctx, const char *path) {
    if (!path) return CT_OK;
    FILE *f = fopen(path, "rb");
    if (!f) return CT_OK; /* Assimp says why */
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 4) {
        fclose(f);
        return CT_OK;
    }
    unsigned char magic[5] = {0};
    size_t got = fread(magic, 1, sizeof magic, f);
    /* Assimp reads a file as PLY when its first line starts with "ply" (any case) */
    int ply = ct_ply_is_ply(magic, got);
    if (!ply && has_ply_extension(path) && got >= 3)
        ply = lower((char)magic[0]) == 'p' && lower((char)magic[1]) == 'l' && lower((char)magic[2]) == 'y';
    if (!ply) {
        fclose(f);
        return CT_OK;
    }
    const uint64_t size = (uint64_t)st.st_size;
    const size_t want = size < CT_PLY_HEADER_MAX ? (size_t)size : CT_PLY_HEADER_MAX;
    unsigned char *buf = malloc(want);
    if (!buf) {
        fclose(f);
        return ct_error_nomem(ctx, "PLY header");
    }
    rewind(f);
    size_t n = fread(buf, 1, want, f);
    fclose(f);
    ct_status rc;
    if (!ct_ply_is_ply(buf, n)) {
        /* "ply" then something else on its line: let the check see a plain first line */
        const unsigned char *nl = n ? memchr(buf, '\n', n) : NULL;
        if (!nl) {
            free(buf);
            return ct_error(ctx, CT_ERR_INPUT, "%s: damaged PLY model: its header has no end_header", path);
        }
        size_t skip = (size_t)(nl - buf) - 3; /* keep "ply", drop the rest of its line */
        memmove(buf + 3, nl, n - (size_t)(nl - buf));
        n -= skip;
        rc = ct_ply_header_check_buffer(ctx, path, buf, n, size - skip);
    } else {
        rc = ct_ply_header_check_buffer(ctx, path, buf, n, size);
    }
    free(buf);
    return rc;
}
