/* citytiler (internal) — the text of a terminal progress line, and when to redraw it. */
#ifndef CT_CORE_PROGRESS_TEXT_H
#define CT_CORE_PROGRESS_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* The state of one progress line. Zero-initialise. */
typedef struct ct_progress_text {
    char what[64];   /* the step being shown */
    double started;  /* when its first update came (seconds, any monotonic clock) */
    uint64_t done0;  /* its count then: the rate counts from there */
    double drawn;    /* when its line was last drawn */
    int finished;    /* its last update (done >= total) was drawn */
    double redraw;   /* the least time (s) between two drawn updates of a step; 0: 0.1 s (a terminal's
                      * redraw; a batch log's lines have their own interval, which may be shorter) */
} ct_progress_text;

/* Formats "reading LiDAR: 1200000 / 5300000 ( 23%), 4.1 M/s, ETA 1 s" (no total: "what:
 * done") for an update of step `what` at time t into buf, and returns 1 when it is to be
 * drawn: a step's first update and its last (done >= total) always, the others at most
 * every p->redraw seconds (0.1 s by default: steps report thousands of times a second). The rate and the ETA appear
 * from 0.5 s into the step: measured over less, the first updates showed rates like
 * "1738.9 M/s". A step's last update is drawn once (a parallel reader and its caller
 * both report the end); after it, an update of the same step starts it again. Returns 0
 * (buf untouched) when not to be drawn. */
int ct_progress_text_format(ct_progress_text *p, const char *what, uint64_t done, uint64_t total, double t,
                            char *buf, size_t size);

#endif
