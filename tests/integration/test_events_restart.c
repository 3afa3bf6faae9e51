/* test_events_restart: the event subscriber (common/hk_events) against a router that is killed
 * and started again with the same instance id and ports. The new process counts its seq from 1
 * again; the subscriber must see its new epoch, report the restart as a gap (watchers take a
 * fresh snapshot) and pass the new process's events on instead of dropping them as stale. */
#include "hk_test.h"
#include "hk_test_bus.h"
#include "hk_test_proc.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <uv.h>
#include <zmq.h>

#include "hk_codec.h"
#include "hk_events.h"

#define S_TENANT "evr"
#define S_BEFORE 40 /* contacts before the kill: the old process's seq goes well past S_AFTER */
#define S_AFTER 5

typedef struct {
    unsigned long events;
    unsigned long gaps;
    unsigned long unknown_gaps; /* gaps of unknown size (restart or removal) */
} s_seen_t;

static s_seen_t s_seen;

static void s_on_event(const Hetki__V1__ContactEvent *ev, void *arg) {
    (void)arg;
    if (!strcmp(ev->tenant, S_TENANT)) {
        s_seen.events++;
    }
}

static void s_on_gap(const char *publisher, unsigned long missed, void *arg) {
    (void)publisher;
    (void)arg;
    s_seen.gaps++;
    if (missed == 0) {
        s_seen.unknown_gaps++;
    }
}

static pid_t s_start_router(int redis_port, int contacts_port, int events_port, int admin_port,
                            const char *log) {
    char bin[300], redis[48], admin[48], contacts[64], events[64];
    snprintf(redis, sizeof redis, "HETKI_REDIS_PORT=%d", redis_port);
    snprintf(admin, sizeof admin, "HETKI_ADMIN_PORT=%d", admin_port);
    snprintf(contacts, sizeof contacts, "HETKI_ROUTER_CONTACTS_PORT=%d", contacts_port);
    snprintf(events, sizeof events, "HETKI_ROUTER_EVENTS_PORT=%d", events_port);
    const char *env[] = {redis, admin, contacts, events, "HETKI_INSTANCE=router-fixed", NULL};
    const char *argv[] = {hk_test_bin("hetki-router", bin, sizeof bin), NULL};
    pid_t pid = hk_test_spawn(argv, env, log);
    HK_CHECK(hk_test_wait_ready(admin_port, 20000) == 0, "router not ready (see %s)", log);
    return pid;
}

/* Submits n chat contacts with dedupe keys prefix<i>; each must be acked. */
static void s_submit(hk_test_bus_t *bus, const char *prefix, int n) {
    for (int i = 0; i < n; i++) {
        char key[64];
        snprintf(key, sizeof key, "%s%d", prefix, i);
        Hetki__V1__Contact c = HETKI__V1__CONTACT__INIT;
        Hetki__V1__CustomerIdentity who = HETKI__V1__CUSTOMER_IDENTITY__INIT;
        who.chat_session = key;
        c.tenant = S_TENANT;
        c.channel = HETKI__V1__CHANNEL__CHANNEL_CHAT;
        c.dedupe_key = key;
        c.customer = &who;
        c.language = "en";
        c.text = "Where is my parcel?";
        HK_CHECK(hk_test_bus_submit(bus, &c, NULL, 0, NULL, 0) == 0, "contact %s not acked", key);
    }
}

/* Runs the loop until cond holds or ms passed. */
static int s_run_until(uv_loop_t *loop, int (*cond)(void), int ms) {
    long long until = hk_test_now_ms() + ms;
    while (!cond() && hk_test_now_ms() < until) {
        uv_run(loop, UV_RUN_NOWAIT);
        hk_test_sleep_ms(5);
    }
    return cond();
}

static hk_events_t *s_sub;

static int s_before_done(void) {
    hk_events_stats_t st;
    hk_events_stats(s_sub, &st);
    return st.events >= 2 * S_BEFORE; /* received + queued per contact */
}

static int s_ready(void) {
    return hk_events_ready(s_sub) > 0;
}

static int s_after_done(void) {
    return s_seen.unknown_gaps >= 1 && s_seen.events >= 2 * S_BEFORE + 2 * S_AFTER;
}

int main(void) {
    hk_test_redis_t redis;
    HK_CHECK(hk_test_redis_start(&redis) == 0, "redis-server did not start");
    char log[300];
    snprintf(log, sizeof log, "%s/router.log", redis.dir);
    int contacts_port = hk_test_free_port(), events_port = hk_test_free_port();
    int admin_port = hk_test_free_port();
    pid_t router = s_start_router(redis.port, contacts_port, events_port, admin_port, log);

    uv_loop_t loop;
    uv_loop_init(&loop);
    void *zctx = zmq_ctx_new();
    s_sub = hk_events_new(&loop, zctx, NULL, S_TENANT, 0, s_on_event, s_on_gap, NULL);
    HK_CHECK(s_sub != NULL, "no subscriber");
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", events_port);
    HK_CHECK(hk_events_add_endpoint(s_sub, endpoint) == 0, "cannot connect to %s", endpoint);
    HK_CHECK(s_run_until(&loop, s_ready, 10000), "no heartbeat from the router");

    snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", contacts_port);
    hk_test_bus_t *bus = hk_test_bus_new(endpoint);
    s_submit(bus, "before-", S_BEFORE);
    HK_CHECK(s_run_until(&loop, s_before_done, 10000), "events before the restart missing");
    HK_CHECK_INT_EQ(s_seen.unknown_gaps, 0);

    /* Kill it and start it again under the same instance id and ports. */
    kill(router, SIGKILL);
    waitpid(router, NULL, 0);
    router = s_start_router(redis.port, contacts_port, events_port, admin_port, log);
    /* Let the subscription reconnect (a heartbeat of the new process arrives within ~1 s). */
    long long settle = hk_test_now_ms() + 2500;
    while (hk_test_now_ms() < settle) {
        uv_run(&loop, UV_RUN_NOWAIT);
        hk_test_sleep_ms(5);
    }
    s_submit(bus, "after-", S_AFTER);
    int ok = s_run_until(&loop, s_after_done, 10000);
    hk_events_stats_t st;
    hk_events_stats(s_sub, &st);
    HK_EXPECT(ok, "after the restart: events=%lu (want >= %d) unknown gaps=%lu stale=%lu",
              s_seen.events, 2 * S_BEFORE + 2 * S_AFTER, s_seen.unknown_gaps, st.stale);
    HK_EXPECT(s_seen.unknown_gaps >= 1, "the restart was not reported as a gap");
    HK_EXPECT(st.stale == 0, "%lu events of the new process were dropped as stale", st.stale);

    hk_test_bus_destroy(&bus);
    hk_events_destroy(&s_sub);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    zmq_ctx_term(zctx);
    hk_test_stop(router, 10000);
    hk_test_redis_stop(&redis);
    return HK_TEST_EXIT();
}
