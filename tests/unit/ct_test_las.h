/* Small LAS files written by tests: LAS 1.2, point format 1, scale 0.01, no offset. */
#ifndef CT_TEST_LAS_H
#define CT_TEST_LAS_H
#include <stddef.h>
#include <stdint.h>

/* The n points (x, y, z, class) into path. The header's bounds are box (min x, min y,
 * min z, max x, max y, max z) when given (a test may make them lie), else the points'.
 * Returns 0 when the file cannot be written. */
int ct_test_write_las(const char *path, const double *x, const double *y, const double *z, const uint8_t *cls,
                      size_t n, const double *box);
#endif
