/* UTF-8 validation and repair (core/utf8.c) on the edge cases of RFC 3629. */
#include "core/utf8.h"
#include "ct_test.h"

#include <stdlib.h>
#include <string.h>

/* s repaired: equal to want, with `bad` bytes replaced. */
static void check_repair(const char *s, const char *want, size_t bad) {
    size_t n = 99;
    char *r = ct_utf8_repaired(s, &n);
    CT_CHECK_MSG(r && strcmp(r, want) == 0 && n == bad, "repairing '%s': '%s', %zu replaced", s, r ? r : "(null)", n);
    CT_CHECK(r && ct_utf8_valid(r));
    free(r);
}

int main(void) {
    CT_CHECK(ct_utf8_valid(""));
    CT_CHECK(ct_utf8_valid("plain ascii"));
    CT_CHECK(ct_utf8_valid("Stra\xC3\x9F" "e caf\xC3\xA9 \xE5\x9F\x8E \xF0\x9F\x8F\xA0")); /* 2, 3 and 4 bytes */
    CT_CHECK(ct_utf8_valid("\xF4\x8F\xBF\xBF"));  /* U+10FFFF, the last code point */
    CT_CHECK(!ct_utf8_valid("Stra\xDF" "e"));     /* Latin-1 */
    CT_CHECK(!ct_utf8_valid("\xC3"));             /* cut short at the end */
    CT_CHECK(!ct_utf8_valid("\xE5\x9F"));
    CT_CHECK(!ct_utf8_valid("\xC0\xAF"));         /* overlong '/' */
    CT_CHECK(!ct_utf8_valid("\xE0\x80\xAF"));     /* overlong, 3 bytes */
    CT_CHECK(!ct_utf8_valid("\xF0\x80\x80\xAF")); /* overlong, 4 bytes */
    CT_CHECK(!ct_utf8_valid("\xED\xA0\x80"));     /* a surrogate (U+D800) */
    CT_CHECK(!ct_utf8_valid("\xF4\x90\x80\x80")); /* U+110000 */
    CT_CHECK(!ct_utf8_valid("\x80"));             /* a lone continuation byte */
    CT_CHECK(!ct_utf8_valid("\xFF\xFE"));
    check_repair("ok \xC3\xA9", "ok \xC3\xA9", 0);
    check_repair("Stra\xDF" "e", "Stra\xEF\xBF\xBD" "e", 1);
    check_repair("\xFF\xFE\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD", 3);
    check_repair("a\xE5\x9F", "a\xEF\xBF\xBD\xEF\xBF\xBD", 2); /* each byte of a cut sequence */
    check_repair("\xC3\xA9\xC3", "\xC3\xA9\xEF\xBF\xBD", 1);
    size_t n = 0;
    char *l = ct_utf8_latin1_fallback("Stra\xDF" "e caf\xE9 \xC3\xA9", &n); /* Latin-1, then real UTF-8 */
    CT_CHECK_MSG(l && strcmp(l, "Stra\xC3\x9F" "e caf\xC3\xA9 \xC3\xA9") == 0 && n == 2, "latin-1: '%s', %zu", l ? l : "", n);
    free(l);
    l = ct_utf8_latin1_fallback("b\xE8", NULL);
    char *m = ct_utf8_latin1_fallback("b\xE9", NULL);
    CT_CHECK(l && m && strcmp(l, m) != 0); /* different ids stay different */
    free(l);
    free(m);
    return ct_test_finish("test_utf8");
}
