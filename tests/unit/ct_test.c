#include "ct_test.h"
#include <stdlib.h>

int ct_test_failures = 0;
int ct_test_checks = 0;

int ct_test_finish(const char *name) {
    printf("%s: %d checks, %d failed\n", name, ct_test_checks, ct_test_failures);
    if (ct_test_checks == 0) {
        printf("%s: no check ran: failing\n", name);
        return 1;
    }
    return ct_test_failures ? 1 : 0;
}

const char *ct_test_env(const char *name, const char *fallback) {
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

double ct_test_unif(uint64_t *state) {
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    return (double)(x >> 11) / 9007199254740992.0;
}
