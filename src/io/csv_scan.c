/* Record starts and field counts of a CSV file (see csv_scan.h). */
#include "io/csv_scan.h"
#include "core/reserve.h"

#include <cpl_vsi.h>
#include <stdlib.h>
#include <string.h>

static const char DELIMS[] = {',', ';', '\t', '|'};
enum { NDELIMS = sizeof DELIMS };

typedef struct scan_state {
    ct_csv_scan *out;
    size_t line_cap, nfields_cap;
    int in_record, quoted, in_header, delim; /* delim: index in DELIMS, -1 unknown */
    uint32_t header_count[NDELIMS];          /* fields of the header per candidate */
    size_t expected;
} scan_state;

/* Chooses the delimiter once the header has ended. */
static void end_header(scan_state *s) {
    s->in_header = 0;
    s->delim = -1;
    for (int d = 0; d < NDELIMS; d++)
        if (s->header_count[d] == s->expected) {
            if (s->delim >= 0) { /* several fit (a one-column file): unknown */
                s->delim = -1;
                break;
            }
            s->delim = d;
        }
    if (s->delim >= 0) s->out->header_fields = s->header_count[s->delim];
}

/* A record starts at line: the header, or a data record appended. */
static int start_record(scan_state *s, uint64_t line) {
    s->in_record = 1;
    if (s->in_header) {
        for (int d = 0; d < NDELIMS; d++) s->header_count[d] = 1;
        return 0;
    }
    ct_csv_scan *o = s->out;
    if (!ct_reserve((void **)&o->line, &s->line_cap, o->n + 1, sizeof *o->line) ||
        !ct_reserve((void **)&o->nfields, &s->nfields_cap, o->n + 1, sizeof *o->nfields))
        return -1;
    o->line[o->n] = line;
    o->nfields[o->n++] = 1;
    return 0;
}

static void count_char(scan_state *s, char c) {
    if (c == '"') s->quoted = !s->quoted;
    if (s->quoted) return;
    if (s->in_header) {
        for (int d = 0; d < NDELIMS; d++) s->header_count[d] += c == DELIMS[d];
    } else if (s->delim >= 0 && c == DELIMS[s->delim]) {
        s->out->nfields[s->out->n - 1]++;
    }
}

int ct_csv_scan_file(const char *path, size_t expected_fields, ct_csv_scan *out) {
    memset(out, 0, sizeof *out);
    VSILFILE *fp = VSIFOpenL(path, "rb");
    if (!fp) return -1;
    scan_state s;
    memset(&s, 0, sizeof s);
    s.out = out;
    s.in_header = 1;
    s.delim = -1;
    s.expected = expected_fields;
    uint64_t line = 1;
    int ok = 1, seen_header = 0;
    char buf[65536];
    size_t got;
    while (ok && (got = VSIFReadL(buf, 1, sizeof buf, fp)) > 0) {
        for (size_t i = 0; i < got && ok; i++) {
            char c = buf[i];
            if (c == '\n') {
                if (!s.quoted) {
                    if (s.in_record && s.in_header) end_header(&s);
                    s.in_record = 0;
                }
                line++;
                continue;
            }
            if (c == '\r') continue;
            if (!s.in_record) {
                seen_header |= s.in_header;
                ok = start_record(&s, line) == 0;
            }
            if (ok) count_char(&s, c);
        }
    }
    VSIFCloseL(fp);
    if (ok && s.in_header && seen_header) end_header(&s); /* a header without a line end */
    if (!ok || !seen_header) {
        ct_csv_scan_free(out);
        return -1;
    }
    if (s.delim < 0) {
        free(out->nfields);
        out->nfields = NULL;
    }
    return 0;
}

void ct_csv_scan_free(ct_csv_scan *s) {
    free(s->line);
    free(s->nfields);
    memset(s, 0, sizeof *s);
}
