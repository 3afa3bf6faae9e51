/* hk_clock: the process clock, real by default, virtual in tests and simulations.
 * Everything that decides by time (ids, timers that are due, windows) reads it here. */
#ifndef HK_CLOCK_H
#define HK_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

/* Wall-clock time in unix milliseconds (virtual time when the clock is virtual). */
int64_t hk_clock_now_ms(void);

/* Monotonic milliseconds for measuring intervals; follows virtual time when virtual. */
int64_t hk_clock_mono_ms(void);

/* Monotonic microseconds, always real: for latency measurements only. */
int64_t hk_clock_real_us(void);

/* Switches the process to a virtual clock starting at start_ms (unix ms). */
void hk_clock_set_virtual(int64_t start_ms);

/* Advances the virtual clock; asserts the clock is virtual and delta_ms >= 0. */
void hk_clock_advance(int64_t delta_ms);

bool hk_clock_is_virtual(void);

/* Reads HETKI_CLOCK: unset or "real" keeps the real clock, "virtual:<unix ms>" starts a
 * virtual one. Returns 0, or -1 when the value is malformed. */
int hk_clock_from_env(void);

#endif
