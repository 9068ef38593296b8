/* The terminal progress line: its text, its rate from the step's own start, and how
 * often it is redrawn. */
#include <string.h>

#include "core/progress_text.h"
#include "ct_test.h"

int main(void) {
    ct_progress_text p;
    memset(&p, 0, sizeof p);
    char buf[256] = "";

    /* A step's first update is drawn, with no rate yet although 313 are already done
     * (counted from 0 it made "1738.9 M/s"). */
    CT_CHECK(ct_progress_text_format(&p, "reading footprints", 313, 10000, 100.0, buf, sizeof buf) == 1);
    CT_CHECK_MSG(strcmp(buf, "reading footprints: 313 / 10000 (  3%)") == 0, "got '%s'", buf);

    /* Updates within 0.1 s of the last line are not drawn, and leave buf alone. */
    strcpy(buf, "unchanged");
    CT_CHECK(ct_progress_text_format(&p, "reading footprints", 400, 10000, 100.05, buf, sizeof buf) == 0);
    CT_CHECK(strcmp(buf, "unchanged") == 0);

    /* Later: drawn; before 0.5 s into the step still no rate. */
    CT_CHECK(ct_progress_text_format(&p, "reading footprints", 2000, 10000, 100.2, buf, sizeof buf) == 1);
    CT_CHECK_MSG(strcmp(buf, "reading footprints: 2000 / 10000 ( 20%)") == 0, "got '%s'", buf);

    /* From 0.5 s: the rate of the step since its first update, and the ETA from it:
     * (5313 - 313) / 1.0 s = 5.0 k/s, 4687 left: 1 s. */
    CT_CHECK(ct_progress_text_format(&p, "reading footprints", 5313, 10000, 101.0, buf, sizeof buf) == 1);
    CT_CHECK_MSG(strcmp(buf, "reading footprints: 5313 / 10000 ( 53%), 5.0 k/s, ETA 1 s") == 0, "got '%s'", buf);

    /* The last update is drawn however soon it comes, without an ETA. */
    CT_CHECK(ct_progress_text_format(&p, "reading footprints", 10000, 10000, 101.01, buf, sizeof buf) == 1);
    CT_CHECK_MSG(strncmp(buf, "reading footprints: 10000 / 10000 (100%), ", 42) == 0 && !strstr(buf, "ETA"),
                 "got '%s'", buf);

    /* The end reported again (by a parallel reader, then by its caller) is not drawn again. */
    CT_CHECK(ct_progress_text_format(&p, "reading footprints", 10000, 10000, 101.5, buf, sizeof buf) == 0);
    /* The same step after its end (a second reader stage) starts over. */
    CT_CHECK(ct_progress_text_format(&p, "reading footprints", 20, 50, 101.6, buf, sizeof buf) == 1);
    CT_CHECK_MSG(strcmp(buf, "reading footprints: 20 / 50 ( 40%)") == 0, "got '%s'", buf);

    /* A new step starts its own count and clock, and is drawn at once. */
    CT_CHECK(ct_progress_text_format(&p, "reading LiDAR", 0, 5300000, 101.02, buf, sizeof buf) == 1);
    CT_CHECK_MSG(strcmp(buf, "reading LiDAR: 0 / 5300000 (  0%)") == 0, "got '%s'", buf);
    CT_CHECK(ct_progress_text_format(&p, "reading LiDAR", 4100000, 5300000, 102.02, buf, sizeof buf) == 1);
    CT_CHECK_MSG(strcmp(buf, "reading LiDAR: 4100000 / 5300000 ( 77%), 4.1 M/s, ETA 0 s") == 0, "got '%s'", buf);

    /* No total: the count and the rate only. */
    CT_CHECK(ct_progress_text_format(&p, "reading assets", 100, 0, 200.0, buf, sizeof buf) == 1);
    CT_CHECK(ct_progress_text_format(&p, "reading assets", 700, 0, 201.0, buf, sizeof buf) == 1);
    CT_CHECK_MSG(strcmp(buf, "reading assets: 700, 600 /s") == 0, "got '%s'", buf);

    /* A shorter redraw (a batch log's --progress-interval): updates drawn that often. */
    p.redraw = 0.002;
    CT_CHECK(ct_progress_text_format(&p, "heights by cell", 1, 100, 400.0, buf, sizeof buf) == 1);
    CT_CHECK(ct_progress_text_format(&p, "heights by cell", 2, 100, 400.001, buf, sizeof buf) == 0);
    CT_CHECK(ct_progress_text_format(&p, "heights by cell", 3, 100, 400.003, buf, sizeof buf) == 1);
    CT_CHECK_MSG(strcmp(buf, "heights by cell: 3 / 100 (  3%)") == 0, "got '%s'", buf);
    p.redraw = 0;

    /* A count beyond the total (a source that grew) shows 100%, not more. */
    CT_CHECK(ct_progress_text_format(&p, "writing tiles", 12, 10, 300.0, buf, sizeof buf) == 1);
    CT_CHECK_MSG(strncmp(buf, "writing tiles: 12 / 10 (100%)", 29) == 0, "got '%s'", buf);
    return ct_test_finish("test_progress_text");
}
