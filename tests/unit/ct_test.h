/* A tiny test harness: CT_CHECK records failures and goes on; main returns
 * the failure count so ctest sees a failing test. */
#ifndef CT_TEST_H
#define CT_TEST_H
#include <stdio.h>

extern int ct_test_failures;
extern int ct_test_checks;

#define CT_CHECK(cond) do { ct_test_checks++; if (!(cond)) { ct_test_failures++; \
    fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define CT_CHECK_MSG(cond, ...) do { ct_test_checks++; if (!(cond)) { ct_test_failures++; \
    fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)
#define CT_CHECK_NEAR(a, b, tol) CT_CHECK_MSG(((a) - (b) <= (tol)) && ((b) - (a) <= (tol)), \
    "%.9g vs %.9g (tol %.3g)", (double)(a), (double)(b), (double)(tol))

/* Prints "N checks, F failed" and returns the exit code for main. */
int ct_test_finish(const char *name);
/* Uniform in [0, 1) from a xorshift64 state (any nonzero seed): the same numbers on
 * every machine, for tests that make random inputs. */
#include <stdint.h>
double ct_test_unif(uint64_t *state);
/* getenv that returns `fallback` when unset. */
const char *ct_test_env(const char *name, const char *fallback);
#endif
