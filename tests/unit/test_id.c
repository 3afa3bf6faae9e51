/* test_id: hk_id ids are valid, unique, strictly increasing within the process and carry the
 * clock's time, under the real clock and under a virtual one that stands still. */
#include "hk_clock.h"
#include "hk_id.h"
#include "hk_test.h"

#include <stdlib.h>
#include <string.h>

#define S_COUNT 10000

static char s_ids[S_COUNT][HK_ID_LEN + 1];

static int s_cmp(const void *a, const void *b) {
    return strcmp(a, b);
}

/* Makes S_COUNT ids; each must be valid, after the previous one and carry a time between the
 * clock readings around it. Then checks uniqueness independently by sorting a copy. */
static void s_make_run(const char *what) {
    for (int i = 0; i < S_COUNT; i++) {
        int64_t before = hk_clock_now_ms();
        hk_id_new(s_ids[i]);
        int64_t after = hk_clock_now_ms();
        HK_CHECK(strlen(s_ids[i]) == HK_ID_LEN, "%s: id %d has length %zu", what, i,
                 strlen(s_ids[i]));
        HK_CHECK(hk_id_valid(s_ids[i]), "%s: id %d \"%s\" is not valid", what, i, s_ids[i]);
        int64_t t = hk_id_time_ms(s_ids[i]);
        HK_CHECK(t >= before && t <= after + 1, "%s: id %d time %lld outside [%lld, %lld]", what, i,
                 (long long)t, (long long)before, (long long)after);
        if (i > 0) {
            HK_CHECK(strcmp(s_ids[i - 1], s_ids[i]) < 0, "%s: id %d \"%s\" not after \"%s\"", what,
                     i, s_ids[i], s_ids[i - 1]);
            HK_CHECK(hk_id_time_ms(s_ids[i - 1]) <= t, "%s: id %d goes back in time", what, i);
        }
    }
    static char sorted[S_COUNT][HK_ID_LEN + 1];
    memcpy(sorted, s_ids, sizeof sorted);
    qsort(sorted, S_COUNT, sizeof sorted[0], s_cmp);
    for (int i = 1; i < S_COUNT; i++) {
        HK_CHECK(strcmp(sorted[i - 1], sorted[i]) != 0, "%s: duplicate id \"%s\"", what, sorted[i]);
    }
}

static void s_test_real_clock(void) {
    HK_CHECK(!hk_clock_is_virtual(), "the clock starts real");
    s_make_run("real clock");
}

static void s_test_invalid(void) {
    char good[HK_ID_LEN + 1];
    hk_id_new(good);
    HK_CHECK(hk_id_valid(good), "fresh id \"%s\" invalid", good);

    HK_CHECK(!hk_id_valid(NULL), "NULL is not an id");
    HK_CHECK(!hk_id_valid(""), "empty is not an id");
    HK_CHECK_INT_EQ(hk_id_time_ms(""), -1);
    HK_CHECK_INT_EQ(hk_id_time_ms(NULL), -1);

    /* Wrong lengths. */
    char text[64];
    snprintf(text, sizeof text, "%.25s", good);
    HK_CHECK(!hk_id_valid(text), "25 characters accepted");
    HK_CHECK_INT_EQ(hk_id_time_ms(text), -1);
    snprintf(text, sizeof text, "%s0", good);
    HK_CHECK(!hk_id_valid(text), "27 characters accepted");
    HK_CHECK_INT_EQ(hk_id_time_ms(text), -1);

    /* Characters outside Crockford base32, anywhere. */
    const char bad[] = {'I', 'L', 'O', 'U', 'i', 'l', 'o', 'u', 'a', 'z', '-', ' ', '*', '\x80'};
    for (size_t b = 0; b < sizeof bad; b++) {
        for (int pos = 0; pos < HK_ID_LEN; pos += 5) {
            memcpy(text, good, sizeof good);
            text[pos] = bad[b];
            HK_CHECK(!hk_id_valid(text), "\"%s\" (0x%02x at %d) accepted", text,
                     (unsigned)(unsigned char)bad[b], pos);
            HK_CHECK_INT_EQ(hk_id_time_ms(text), -1);
        }
    }
    /* An embedded NUL makes it short. */
    memcpy(text, good, sizeof good);
    text[10] = '\0';
    HK_CHECK(!hk_id_valid(text), "short id accepted");

    /* The first character holds three bits: 0-7 only. */
    const char first_ok[] = "01234567";
    const char first_bad[] = "89ABCDEFGHJKMNPQRSTVWXYZ";
    for (size_t i = 0; first_ok[i]; i++) {
        memcpy(text, good, sizeof good);
        text[0] = first_ok[i];
        HK_CHECK(hk_id_valid(text), "\"%s\" refused", text);
    }
    for (size_t i = 0; first_bad[i]; i++) {
        memcpy(text, good, sizeof good);
        text[0] = first_bad[i];
        HK_CHECK(!hk_id_valid(text), "\"%s\" (first character > 7) accepted", text);
        HK_CHECK_INT_EQ(hk_id_time_ms(text), -1);
    }

    /* The largest and smallest well-formed ids decode to the ends of the 48-bit range. */
    HK_CHECK_INT_EQ(hk_id_time_ms("7ZZZZZZZZZZZZZZZZZZZZZZZZZ"), (1ll << 48) - 1);
    HK_CHECK_INT_EQ(hk_id_time_ms("00000000000000000000000000"), 0);
    HK_CHECK_INT_EQ(hk_id_time_ms("0000000001ZZZZZZZZZZZZZZZZ"), 1);
}

static void s_test_virtual_clock(void) {
    /* Ids never go back in time, so the virtual clock starts after everything made so far. */
    int64_t t0 = hk_clock_now_ms() + 86400000;
    hk_clock_set_virtual(t0);
    HK_CHECK(hk_clock_is_virtual(), "the clock is virtual");
    HK_CHECK_INT_EQ(hk_clock_now_ms(), t0);

    char prev[HK_ID_LEN + 1];
    strcpy(prev, s_ids[S_COUNT - 1]);
    /* The clock stands still for a whole run: every id carries t0 and they still increase. */
    for (int i = 0; i < S_COUNT; i++) {
        char id[HK_ID_LEN + 1];
        hk_id_new(id);
        HK_CHECK(hk_id_valid(id), "virtual id \"%s\" invalid", id);
        HK_CHECK_INT_EQ(hk_id_time_ms(id), t0);
        HK_CHECK(strcmp(prev, id) < 0, "virtual id %d \"%s\" not after \"%s\"", i, id, prev);
        strcpy(prev, id);
    }
    HK_CHECK_INT_EQ(hk_clock_now_ms(), t0);

    /* Advancing moves the id time with it. */
    hk_clock_advance(1);
    char id[HK_ID_LEN + 1];
    hk_id_new(id);
    HK_CHECK_INT_EQ(hk_id_time_ms(id), t0 + 1);
    HK_CHECK(strcmp(prev, id) < 0, "id after advance \"%s\" not after \"%s\"", id, prev);
    strcpy(prev, id);
    hk_clock_advance(3 * 86400000ll);
    hk_id_new(id);
    HK_CHECK_INT_EQ(hk_id_time_ms(id), t0 + 1 + 3 * 86400000ll);
    HK_CHECK(strcmp(prev, id) < 0, "id after a long advance \"%s\" not after \"%s\"", id, prev);
    strcpy(prev, id);

    /* A virtual clock set back in time never makes an id sort before an earlier one. */
    hk_clock_set_virtual(t0 - 1000);
    for (int i = 0; i < 100; i++) {
        hk_id_new(id);
        HK_CHECK(hk_id_valid(id), "id \"%s\" invalid", id);
        HK_CHECK(strcmp(prev, id) < 0, "id after a clock step back \"%s\" not after \"%s\"", id,
                 prev);
        strcpy(prev, id);
    }

    /* And a fresh run on a standing virtual clock far ahead passes the same checks. */
    hk_clock_set_virtual(t0 + 10 * 86400000ll);
    s_make_run("virtual clock");
    for (int i = 0; i < S_COUNT; i++) {
        HK_CHECK_INT_EQ(hk_id_time_ms(s_ids[i]), t0 + 10 * 86400000ll);
    }
}

int main(void) {
    s_test_real_clock();
    s_test_invalid();
    s_test_virtual_clock();
    printf("test_id: ok\n");
    return HK_TEST_EXIT();
}
