/* hetki-dashboard: the agents' and supervisors' web app and its websocket API: logins and
 * sessions, live views (snapshot plus router events), agent and supervisor commands sent to
 * the routers. Any number of instances: sessions live in Redis. Wiring only. */
#include "db_config.h"
#include "db_proto.h"
#include "db_stats.h"
#include "db_ws.h"
#include "hk_clock.h"
#include "hk_events.h"
#include "hk_log.h"
#include "hk_service.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define S_DRAIN_TICK_MS 50
#define S_DRAIN_MS 5000 /* connections have this long to close after `reconnect` */

typedef struct {
    db_config_t *cfg;
    hk_service_t *svc;
    db_stats_t stats;
    hk_submit_t *submit;
    hk_events_t *events;
    db_proto_t *proto;
    hk_ws_server_t *ws;
    uv_timer_t start_timer;
    uv_timer_t drain_timer;
    int64_t drain_deadline;
    int started;
    int draining;
    int failed;
} db_main_t;

static void s_finish(db_main_t *m) {
    if (m->draining) {
        uv_timer_stop(&m->drain_timer);
        uv_close((uv_handle_t *)&m->drain_timer, NULL);
        m->draining = 0;
    }
    if (m->proto) {
        db_proto_stop(m->proto);
    }
    hk_events_destroy(&m->events);
    hk_submit_destroy(&m->submit);
    hk_ws_server_destroy(&m->ws);
    db_proto_destroy(&m->proto);
    hk_service_drained(m->svc);
}

static void s_on_drain_tick(uv_timer_t *t) {
    db_main_t *m = t->data;
    size_t conns = m->ws ? hk_ws_server_count(m->ws) : 0;
    size_t busy = m->proto ? db_proto_busy(m->proto) : 0;
    int64_t now = hk_clock_real_us() / 1000;
    if (conns == 0 && busy == 0) {
        HK_INFO("dashboard.drained", "reason=done");
        s_finish(m);
    } else if (now >= m->drain_deadline) {
        HK_WARN("dashboard.drained", "reason=deadline connections=%zu busy=%zu", conns, busy);
        s_finish(m);
    }
}

static void s_on_stop(hk_service_t *svc, void *arg) {
    db_main_t *m = arg;
    (void)svc;
    if (!m->started) {
        m->started = 1;
        uv_timer_stop(&m->start_timer);
        uv_close((uv_handle_t *)&m->start_timer, NULL);
    }
    if (m->ws) {
        hk_ws_server_drain(m->ws);
    }
    if (m->proto) {
        db_proto_drain(m->proto);
    }
    HK_INFO("dashboard.draining", "connections=%zu", m->ws ? hk_ws_server_count(m->ws) : 0);
    m->drain_deadline = hk_clock_real_us() / 1000 + S_DRAIN_MS;
    uv_timer_init(hk_service_loop(m->svc), &m->drain_timer);
    m->drain_timer.data = m;
    m->draining = 1;
    uv_timer_start(&m->drain_timer, s_on_drain_tick, 0, S_DRAIN_TICK_MS);
}

/* Runs once the loop runs (the shared lws context exists only then): the dashboard vhost. */
static void s_on_start(uv_timer_t *t) {
    db_main_t *m = t->data;
    m->started = 1;
    uv_close((uv_handle_t *)t, NULL);
    hk_web_t *web = hk_service_web(m->svc);
    m->ws = web ? db_ws_new(hk_service_loop(m->svc), web, m->cfg, &m->stats, db_proto_handlers(),
                            m->proto)
                : NULL;
    if (!m->ws) {
        HK_ERROR("dashboard.start_failed", "reason=\"cannot listen\" port=%ld", m->cfg->port);
        m->failed = 1;
        hk_service_stop(m->svc);
        return;
    }
    char endpoint[300];
    snprintf(endpoint, sizeof endpoint, "http://%s:%d/", m->cfg->base.advertise_host,
             hk_ws_server_port(m->ws));
    hk_registry_set_endpoint(hk_service_registry(m->svc), "http", endpoint);
    HK_INFO("dashboard.started", "url=%s", endpoint);
}

static int s_ready(void *arg, char *why, size_t whylen) {
    db_main_t *m = arg;
    if (!m->ws) {
        snprintf(why, whylen, "dashboard port not listening");
        return 0;
    }
    if (!hk_redis_ready(hk_service_redis(m->svc))) {
        snprintf(why, whylen, "redis not ready");
        return 0;
    }
    if (hk_submit_live(m->submit) == 0) {
        snprintf(why, whylen, "no router replica known");
        return 0;
    }
    return 1;
}

int main(void) {
    static db_config_t cfg;
    static db_main_t m;
    if (db_config_load(&cfg) != 0) {
        return 2;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "hetki-dashboard: libsodium could not start\n");
        return 1;
    }
    m.cfg = &cfg;
    m.svc = hk_service_new("dashboard", &cfg.base);
    uv_loop_t *loop = hk_service_loop(m.svc);
    db_stats_init(&m.stats, hk_service_metrics(m.svc));
    int code = 1;
    hk_submit_opts_t opts = {.attempt_timeout_ms = 1000,
                             .deadline_ms = (int)cfg.command_timeout_ms,
                             .discovery_ms = 500};
    if (opts.attempt_timeout_ms > opts.deadline_ms / 2) {
        opts.attempt_timeout_ms = opts.deadline_ms / 2;
    }
    m.submit = hk_submit_new(loop, hk_service_zctx(m.svc), hk_service_registry(m.svc), &opts);
    if (m.submit && cfg.router_endpoint[0] &&
        hk_submit_add_endpoint(m.submit, cfg.router_endpoint) != 0) {
        HK_ERROR("dashboard.bad_router_endpoint", "endpoint=%s", cfg.router_endpoint);
        hk_submit_destroy(&m.submit);
    }
    if (m.submit && db_proto_scripts(hk_service_redis(m.svc)) == 0) {
        m.proto = db_proto_new(loop, &cfg, &m.stats, hk_service_redis(m.svc), m.submit,
                               cfg.base.instance);
        /* Every tenant's events: a publisher's seq spans them all. */
        m.events = hk_events_new(loop, hk_service_zctx(m.svc), hk_service_registry(m.svc), NULL,
                                 500, db_proto_on_event, db_proto_on_gap, m.proto);
        if (m.events && cfg.events_endpoint[0] &&
            hk_events_add_endpoint(m.events, cfg.events_endpoint) != 0) {
            HK_ERROR("dashboard.bad_events_endpoint", "endpoint=%s", cfg.events_endpoint);
            hk_events_destroy(&m.events);
        }
    }
    if (!m.events) {
        HK_ERROR("dashboard.start_failed", "reason=\"cannot set up the bus\"");
        db_proto_destroy(&m.proto);
        hk_submit_destroy(&m.submit);
    } else {
        uv_timer_init(loop, &m.start_timer);
        m.start_timer.data = &m;
        uv_timer_start(&m.start_timer, s_on_start, 0, 0);
        code = hk_service_run(m.svc, s_ready, &m, s_on_stop, &m);
    }
    hk_service_destroy(&m.svc);
    return m.failed ? 1 : code;
}
