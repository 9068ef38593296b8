/* Progress line text: see progress_text.h. */
#include "core/progress_text.h"

#include <stdio.h>
#include <string.h>

enum { REDRAW_MS = 100, RATE_AFTER_MS = 500 }; /* REDRAW_MS: unless p->redraw says otherwise */

int ct_progress_text_format(ct_progress_text *p, const char *what, uint64_t done, uint64_t total, double t,
                            char *buf, size_t size) {
    int last = total && done >= total;
    if (p->finished && last && strncmp(p->what, what, sizeof p->what - 1) == 0) return 0; /* its end again */
    /* Another step, or the same one again after its end (a second reader stage). */
    int first = p->finished || strncmp(p->what, what, sizeof p->what - 1) != 0;
    if (first) {
        snprintf(p->what, sizeof p->what, "%s", what);
        p->started = t;
        p->done0 = done;
    }
    double redraw = p->redraw > 0 ? p->redraw : REDRAW_MS / 1000.0;
    if (!first && !last && t - p->drawn < redraw) return 0;
    p->drawn = t;
    p->finished = last;
    double secs = t - p->started;
    double rate = secs >= RATE_AFTER_MS / 1000.0 && done > p->done0 ? (double)(done - p->done0) / secs : 0;
    char rate_text[32] = "";
    if (rate >= 1e6) snprintf(rate_text, sizeof rate_text, ", %.1f M/s", rate / 1e6);
    else if (rate >= 1e3) snprintf(rate_text, sizeof rate_text, ", %.1f k/s", rate / 1e3);
    else if (rate > 0) snprintf(rate_text, sizeof rate_text, ", %.0f /s", rate);
    if (total) {
        char eta[32] = "";
        if (rate > 0 && done < total) snprintf(eta, sizeof eta, ", ETA %.0f s", (double)(total - done) / rate);
        snprintf(buf, size, "%s: %llu / %llu (%3.0f%%)%s%s", what, (unsigned long long)done, (unsigned long long)total,
                 100.0 * (double)(done < total ? done : total) / (double)total, rate_text, eta);
    } else {
        snprintf(buf, size, "%s: %llu%s", what, (unsigned long long)done, rate_text);
    }
    return 1;
}
