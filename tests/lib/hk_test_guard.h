/* hk_test_guard: the guard a long integration test puts around its processes. It makes the
 * test's temporary folder, arms a watchdog that kills every guarded process with SIGKILL when
 * the deadline passes (a hung test never leaves a redis-server or a router behind), and at
 * exit stops the routers, the event collector, the Redis connection and the redis-server in
 * that order, removing the folder only when the test passed (a failed test keeps its logs).
 * One guard per test process; the objects handed to it must live until exit. */
#ifndef HK_TEST_GUARD_H
#define HK_TEST_GUARD_H

#include <hiredis/hiredis.h>
#include <stddef.h>

#include "hk_test.h"
#include "hk_test_bus.h"
#include "hk_test_proc.h"

/* Makes the folder from template (ending in XXXXXX) into dir, arms the watchdog for
 * deadline_s seconds and registers the exit handler; name is the test's, for messages.
 * Exits the test when the folder cannot be made. */
void hk_test_guard_begin(const char *name, const char *template, char *dir, size_t dir_len,
                         unsigned deadline_s);

/* Guards a redis-server: killed by the watchdog, stopped at exit after everything else. */
void hk_test_guard_redis(hk_test_redis_t *redis);

/* Guards a router (up to 8): killed by the watchdog, stopped first at exit. */
void hk_test_guard_router(hk_test_router_t *router);

/* Destroys *ev and frees *rc at exit (either may be NULL then). */
void hk_test_guard_client(hk_test_events_t **ev, redisContext **rc);

/* Marks the test passed: its folder is removed at exit. */
void hk_test_guard_pass(void);

/* Stops every guarded router still running (a killed one is skipped) and checks that each
 * exited cleanly; stops the test otherwise. */
void hk_test_guard_stop_routers(void);

/* Ends a guarded test's main: stops the routers (checked), marks the test passed when no
 * check or expectation failed, and is the test's exit code. */
#define HK_TEST_GUARD_END()                                                                        \
    (hk_test_guard_stop_routers(), hk_test_failures(0) == 0 ? hk_test_guard_pass() : (void)0,      \
     HK_TEST_EXIT())

#endif
