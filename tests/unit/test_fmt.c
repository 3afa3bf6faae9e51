/* test_fmt: hk_fmt_long writes what snprintf "%ld" writes, for the edges (0, +-1, the limits,
 * powers of ten and their neighbours) and for pseudo-random values of every magnitude. */
#include "hk_fmt.h"
#include "hk_test.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void s_check(long v) {
    char want[32], got[HK_FMT_LONG_MAX + 1];
    int wn = snprintf(want, sizeof want, "%ld", v);
    size_t n = hk_fmt_long(got, v);
    got[n] = '\0';
    HK_EXPECT(n == (size_t)wn && strcmp(got, want) == 0, "%ld: got \"%s\" (%zu bytes)", v, got, n);
}

int main(void) {
    const long edges[] = {0, 1, -1, 9, -9, 10, -10, LONG_MAX, LONG_MIN, LONG_MAX - 1, LONG_MIN + 1};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        s_check(edges[i]);
    }
    for (long p = 1; p <= LONG_MAX / 10; p *= 10) {
        s_check(p);
        s_check(p - 1);
        s_check(p + 1);
        s_check(-p);
        s_check(-p + 1);
    }
    uint64_t x = 0x9e3779b97f4a7c15ULL; /* xorshift: every magnitude, both signs */
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s_check((long)(x >> (x % 64)));
    }
    printf("test_fmt: ok\n");
    return HK_TEST_EXIT();
}
