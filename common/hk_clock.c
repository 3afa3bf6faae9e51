/* hk_clock: real or virtual process clock. */
#include "hk_clock.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static bool s_virtual = false;
static int64_t s_virtual_ms = 0;
static int64_t s_virtual_mono_base = 0;

static int64_t s_read(clockid_t id, int64_t div) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * (1000000000 / div) + ts.tv_nsec / div;
}

int64_t hk_clock_now_ms(void) {
    return s_virtual ? s_virtual_ms : s_read(CLOCK_REALTIME, 1000000);
}

int64_t hk_clock_mono_ms(void) {
    return s_virtual ? s_virtual_ms - s_virtual_mono_base : s_read(CLOCK_MONOTONIC, 1000000);
}

int64_t hk_clock_real_us(void) {
    return s_read(CLOCK_MONOTONIC, 1000);
}

void hk_clock_set_virtual(int64_t start_ms) {
    s_virtual = true;
    s_virtual_ms = start_ms;
    s_virtual_mono_base = start_ms;
}

void hk_clock_advance(int64_t delta_ms) {
    assert(s_virtual && delta_ms >= 0);
    s_virtual_ms += delta_ms;
}

bool hk_clock_is_virtual(void) {
    return s_virtual;
}

int hk_clock_from_env(void) {
    const char *v = getenv("HETKI_CLOCK");
    if (!v || !*v || strcmp(v, "real") == 0) {
        return 0;
    }
    if (strncmp(v, "virtual:", 8) != 0) {
        return -1;
    }
    char *end = NULL;
    errno = 0;
    long long start = strtoll(v + 8, &end, 10);
    if (errno || end == v + 8 || *end || start < 0) {
        return -1;
    }
    hk_clock_set_virtual((int64_t)start);
    return 0;
}
