/* hk_fmt: number formatting for hot paths, where snprintf's cost shows (one contact's
 * arguments, a load generator's per-contact texts). */
#ifndef HK_FMT_H
#define HK_FMT_H

#include <stddef.h>

/* The longest text hk_fmt_long writes: "-9223372036854775808". */
#define HK_FMT_LONG_MAX 20

/* Writes v in decimal (as "%ld" would) to out, which has room for HK_FMT_LONG_MAX bytes;
 * returns the length written. out is not terminated. */
size_t hk_fmt_long(char *out, long v);

#endif
