/* hetki-chat: the customer chat service: serves the embeddable widget and its websocket,
 * submits customers' messages to the routers and forwards agents' replies. Any number of
 * instances: sessions live in Redis and resume on any of them. Wiring only. */
#include "chat_config.h"
#include "hk_events.h"
#include "chat_proto.h"
#include "chat_router.h"
#include "chat_stats.h"
#include "chat_store.h"
#include "chat_ws.h"
#include "hk_clock.h"
#include "hk_log.h"
#include "hk_service.h"

#include <stdio.h>
#include <string.h>

#define S_DRAIN_TICK_MS 50
#define S_DRAIN_MARGIN_MS 3000 /* beyond the ack timeout, for closes to finish */

typedef struct {
    chat_config_t *cfg;
    hk_service_t *svc;
    chat_stats_t stats;
    chat_store_t *store;
    chat_router_t *router;
    hk_events_t *events;
    chat_proto_t *proto;
    hk_ws_server_t *ws;
    uv_timer_t start_timer;
    uv_timer_t drain_timer;
    int64_t drain_deadline;
    int started;  /* the start timer ran (or was cancelled) */
    int draining; /* the drain timer runs */
    int failed;
} chat_main_t;

static void s_finish(chat_main_t *m) {
    if (m->draining) {
        uv_timer_stop(&m->drain_timer);
        uv_close((uv_handle_t *)&m->drain_timer, NULL);
        m->draining = 0;
    }
    if (m->proto) {
        chat_proto_stop(m->proto);
    }
    hk_events_destroy(&m->events);
    chat_router_destroy(&m->router);
    hk_ws_server_destroy(&m->ws);
    chat_proto_destroy(&m->proto);
    chat_store_destroy(&m->store);
    hk_service_drained(m->svc);
}

static void s_on_drain_tick(uv_timer_t *t) {
    chat_main_t *m = t->data;
    size_t conns = m->ws ? hk_ws_server_count(m->ws) : 0;
    size_t busy = m->proto ? chat_proto_busy(m->proto) : 0;
    size_t pending = m->router ? chat_router_pending(m->router) : 0;
    int64_t now = hk_clock_real_us() / 1000;
    if (conns == 0 && busy == 0 && pending == 0) {
        HK_INFO("chat.drained", "reason=done");
        s_finish(m);
    } else if (now >= m->drain_deadline) {
        HK_WARN("chat.drained", "reason=deadline connections=%zu busy=%zu pending=%zu", conns, busy,
                pending);
        s_finish(m);
    }
}

static void s_on_stop(hk_service_t *svc, void *arg) {
    chat_main_t *m = arg;
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
        chat_proto_drain(m->proto);
    }
    HK_INFO("chat.draining", "connections=%zu", m->ws ? hk_ws_server_count(m->ws) : 0);
    m->drain_deadline = hk_clock_real_us() / 1000 + m->cfg->ack_timeout_ms + S_DRAIN_MARGIN_MS;
    uv_timer_init(hk_service_loop(m->svc), &m->drain_timer);
    m->drain_timer.data = m;
    m->draining = 1;
    uv_timer_start(&m->drain_timer, s_on_drain_tick, 0, S_DRAIN_TICK_MS);
}

/* Runs once the loop runs (the shared lws context exists only then): the chat vhost. */
static void s_on_start(uv_timer_t *t) {
    chat_main_t *m = t->data;
    m->started = 1;
    uv_close((uv_handle_t *)t, NULL);
    hk_web_t *web = hk_service_web(m->svc);
    m->ws = web ? chat_ws_new(hk_service_loop(m->svc), web, m->cfg, &m->stats,
                              chat_proto_handlers(), m->proto)
                : NULL;
    if (!m->ws) {
        HK_ERROR("chat.start_failed", "reason=\"cannot listen\" port=%ld", m->cfg->port);
        m->failed = 1;
        hk_service_stop(m->svc);
        return;
    }
    char endpoint[300];
    snprintf(endpoint, sizeof endpoint, "ws://%s:%d%s", m->cfg->base.advertise_host,
             hk_ws_server_port(m->ws), CHAT_WS_PATH);
    hk_registry_set_endpoint(hk_service_registry(m->svc), "ws", endpoint);
    HK_INFO("chat.started", "ws=%s", endpoint);
}

static int s_ready(void *arg, char *why, size_t whylen) {
    chat_main_t *m = arg;
    if (!m->ws) {
        snprintf(why, whylen, "chat port not listening");
        return 0;
    }
    if (chat_router_live(m->router) == 0) {
        snprintf(why, whylen, "no router replica known");
        return 0;
    }
    return 1;
}

int main(void) {
    static chat_config_t cfg;
    static chat_main_t m;
    if (chat_config_load(&cfg) != 0) {
        return 2;
    }
    m.cfg = &cfg;
    m.svc = hk_service_new("chat", &cfg.base);
    uv_loop_t *loop = hk_service_loop(m.svc);
    chat_stats_init(&m.stats, hk_service_metrics(m.svc));
    m.store = chat_store_new(hk_service_redis(m.svc), &cfg, cfg.base.instance);
    m.router = chat_router_new(loop, hk_service_zctx(m.svc), hk_service_registry(m.svc), &cfg);
    if (m.store && m.router) {
        m.proto = chat_proto_new(&cfg, &m.stats, m.store, m.router, cfg.base.instance);
        /* Every tenant's events: a publisher's seq spans them all. */
        m.events = hk_events_new(loop, hk_service_zctx(m.svc), hk_service_registry(m.svc), NULL,
                                 500, chat_proto_on_event, chat_proto_on_gap, m.proto);
        if (m.events && cfg.events_endpoint[0] &&
            hk_events_add_endpoint(m.events, cfg.events_endpoint) != 0) {
            HK_ERROR("chat.bad_events_endpoint", "endpoint=%s", cfg.events_endpoint);
            hk_events_destroy(&m.events);
        }
    }
    int code = 1;
    if (!m.events) {
        HK_ERROR("chat.start_failed", "reason=\"cannot set up the bus\"");
        chat_proto_destroy(&m.proto);
        chat_router_destroy(&m.router);
        chat_store_destroy(&m.store);
    } else {
        uv_timer_init(loop, &m.start_timer);
        m.start_timer.data = &m;
        uv_timer_start(&m.start_timer, s_on_start, 0, 0);
        code = hk_service_run(m.svc, s_ready, &m, s_on_stop, &m);
    }
    hk_service_destroy(&m.svc);
    return m.failed ? 1 : code;
}
