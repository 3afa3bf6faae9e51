/* hk_id: time-ordered ULID-style ids, monotonic within the process. */
#include "hk_id.h"

#include "hk_clock.h"

#include <string.h>
#include <sys/random.h>

static const char s_alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
static int64_t s_last_ms = -1;
static uint8_t s_last_rand[10];

static int s_value(char c) {
    const char *p = c ? strchr(s_alphabet, c) : NULL;
    return p ? (int)(p - s_alphabet) : -1;
}

/* Adds one to the 80-bit random part; returns 1 on overflow. */
static int s_increment(uint8_t r[10]) {
    for (int i = 9; i >= 0; i--) {
        if (++r[i] != 0) {
            return 0;
        }
    }
    return 1;
}

void hk_id_new(char out[HK_ID_LEN + 1]) {
    int64_t ms = hk_clock_now_ms();
    if (ms <= s_last_ms) {
        ms = s_last_ms;
        if (s_increment(s_last_rand)) {
            ms = ++s_last_ms;
        }
    } else {
        if (getrandom(s_last_rand, sizeof s_last_rand, 0) != (ssize_t)sizeof s_last_rand) {
            /* Not reachable on Linux >= 3.17 for 10 bytes; keep ids unique anyway. */
            memset(s_last_rand, 0, sizeof s_last_rand);
        }
        s_last_rand[0] &= 0x7f; /* headroom so increments within a ms never overflow */
    }
    s_last_ms = ms;
    uint8_t b[16];
    uint64_t t = (uint64_t)ms;
    for (int i = 5; i >= 0; i--) {
        b[i] = (uint8_t)(t & 0xff);
        t >>= 8;
    }
    memcpy(b + 6, s_last_rand, 10);
    /* 128 bits -> 26 base32 digits, most significant first (the first digit holds 3 bits). */
    int bit = -2; /* 26*5 = 130 bits: two leading zero bits */
    for (int i = 0; i < HK_ID_LEN; i++) {
        int v = 0;
        for (int k = 0; k < 5; k++, bit++) {
            v <<= 1;
            if (bit >= 0) {
                v |= (b[bit / 8] >> (7 - bit % 8)) & 1;
            }
        }
        out[i] = s_alphabet[v];
    }
    out[HK_ID_LEN] = '\0';
}

bool hk_id_valid(const char *text) {
    if (!text || strlen(text) != HK_ID_LEN) {
        return false;
    }
    if (s_value(text[0]) < 0 || s_value(text[0]) > 7) {
        return false;
    }
    for (int i = 1; i < HK_ID_LEN; i++) {
        if (s_value(text[i]) < 0) {
            return false;
        }
    }
    return true;
}

int64_t hk_id_time_ms(const char *id) {
    if (!hk_id_valid(id)) {
        return -1;
    }
    /* The first 10 digits carry 50 bits: 2 zero bits + 48 bits of time. */
    uint64_t t = 0;
    for (int i = 0; i < 10; i++) {
        t = (t << 5) | (uint64_t)s_value(id[i]);
    }
    return (int64_t)t;
}
