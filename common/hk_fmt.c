/* hk_fmt: number formatting without snprintf. */
#include "hk_fmt.h"

#include <string.h>

size_t hk_fmt_long(char *out, long v) {
    char digits[HK_FMT_LONG_MAX];
    size_t n = sizeof digits;
    unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;
    do {
        digits[--n] = (char)('0' + u % 10);
        u /= 10;
    } while (u > 0);
    if (v < 0) {
        digits[--n] = '-';
    }
    memcpy(out, digits + n, sizeof digits - n);
    return sizeof digits - n;
}
