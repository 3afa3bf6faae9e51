/* hk_test_guard: the watchdog and the exit handler of a long integration test (see the
 * header). The state is static: a signal handler can reach nothing else. */
#include "hk_test_guard.h"

#include "hk_test.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define S_ROUTERS_MAX 8

static struct {
    char name[64];
    const char *dir;
    hk_test_redis_t *redis;
    hk_test_router_t *routers[S_ROUTERS_MAX];
    size_t n_routers;
    hk_test_events_t **ev;
    redisContext **rc;
    int passed;
} s_guard;

static void s_on_watchdog(int sig) {
    (void)sig;
    static const char msg[] = ": deadline passed, killing the processes\n";
    if (write(2, s_guard.name, strlen(s_guard.name)) < 0 || write(2, msg, sizeof msg - 1) < 0) {
        /* nothing more to do in a signal handler */
    }
    for (size_t i = 0; i < s_guard.n_routers; i++) {
        if (s_guard.routers[i]->pid > 0) {
            kill(s_guard.routers[i]->pid, SIGKILL);
        }
    }
    if (s_guard.redis && s_guard.redis->pid > 0) {
        kill(s_guard.redis->pid, SIGKILL);
    }
    _exit(1);
}

static void s_on_exit(void) {
    for (size_t i = 0; i < s_guard.n_routers; i++) {
        hk_test_router_stop(s_guard.routers[i], 5000);
    }
    if (s_guard.ev) {
        hk_test_events_destroy(s_guard.ev);
    }
    if (s_guard.rc && *s_guard.rc) {
        redisFree(*s_guard.rc);
        *s_guard.rc = NULL;
    }
    if (s_guard.redis) {
        hk_test_redis_stop(s_guard.redis);
    }
    if (s_guard.passed) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_guard.dir);
        if (system(cmd) != 0) {
            fprintf(stderr, "could not remove %s\n", s_guard.dir);
        }
    } else {
        fprintf(stderr, "%s: logs kept in %s\n", s_guard.name, s_guard.dir);
    }
}

void hk_test_guard_begin(const char *name, const char *template, char *dir, size_t dir_len,
                         unsigned deadline_s) {
    snprintf(s_guard.name, sizeof s_guard.name, "%s", name);
    snprintf(dir, dir_len, "%s", template);
    HK_CHECK(mkdtemp(dir), "mkdtemp %s", template);
    s_guard.dir = dir;
    atexit(s_on_exit);
    signal(SIGALRM, s_on_watchdog);
    alarm(deadline_s);
}

void hk_test_guard_redis(hk_test_redis_t *redis) {
    s_guard.redis = redis;
}

void hk_test_guard_router(hk_test_router_t *router) {
    HK_CHECK(s_guard.n_routers < S_ROUTERS_MAX, "too many guarded routers");
    s_guard.routers[s_guard.n_routers++] = router;
}

void hk_test_guard_client(hk_test_events_t **ev, redisContext **rc) {
    s_guard.ev = ev;
    s_guard.rc = rc;
}

void hk_test_guard_pass(void) {
    s_guard.passed = 1;
}

void hk_test_guard_stop_routers(void) {
    for (size_t i = 0; i < s_guard.n_routers; i++) {
        hk_test_router_t *rt = s_guard.routers[i];
        if (rt->pid > 0) {
            int status = hk_test_router_stop(rt, 10000);
            HK_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "router %s exit status %d",
                     rt->instance, status);
        }
    }
}
