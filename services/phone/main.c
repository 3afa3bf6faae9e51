/* hetki-phone: the SIP service. Takes calls from a trunk or PBX (UDP and TCP), submits each
 * as a contact, answers after the router's ack with an announcement, connects the caller to
 * the voice agent the router picks (RFC 3725), registers agent phones and keeps callback
 * promises. Any number of instances: a call belongs to the instance that holds its dialog,
 * registrations and promises live in Redis. Wiring only. */
#include "hk_clock.h"
#include "hk_events.h"
#include "hk_log.h"
#include "hk_service.h"
#include "ph_bus.h"
#include "ph_call.h"
#include "ph_config.h"
#include "ph_flood.h"
#include "ph_policy.h"
#include "ph_register.h"
#include "ph_sip.h"
#include "ph_transport.h"
#include "ph_callback.h"
#include "ph_promise.h"

#include <stdio.h>
#include <string.h>

#define S_TICK_MS 1000
#define S_DRAIN_TICK_MS 100
#define S_HANGUP_GRACE_MS 1500 /* after the drain deadline: BYEs go out, then stop */

typedef struct {
    ph_config_t *cfg;
    hk_service_t *svc;
    ph_transport_t *transport;
    ph_flood_t *flood;
    ph_sip_t *sip;
    ph_bus_t *bus;
    ph_policy_t *policy;
    ph_register_t *reg;
    ph_calls_t *calls;
    hk_events_t *events;
    ph_promise_t *promises;
    ph_callback_t *callback;
    uv_timer_t tick;
    int64_t drain_deadline;
    int hung_up; /* the drain deadline passed and calls were hung up */
    int draining;
    /* SIP-level metrics, copied from the modules' counters every tick */
    uint64_t *m_received, *m_bad, *m_limited, *m_bans, *m_dropped, *m_reg_ok, *m_reg_failed;
    uint64_t *m_tcp_closed;
    double *m_tcp, *m_transactions;
} ph_main_t;

static void s_metrics(ph_main_t *m) {
    ph_sip_stats_t st;
    ph_sip_stats(m->sip, &st);
    *m->m_received = st.received;
    *m->m_bad = st.bad;
    *m->m_limited = st.limited;
    *m->m_dropped = st.dropped;
    *m->m_bans = ph_flood_bans(m->flood);
    *m->m_reg_ok = ph_register_ok(m->reg);
    *m->m_reg_failed = ph_register_failed(m->reg);
    *m->m_tcp_closed = ph_transport_tcp_closed_bad(m->transport);
    *m->m_tcp = (double)ph_transport_tcp_count(m->transport);
    *m->m_transactions = (double)st.transactions;
}

static void s_register_metrics(ph_main_t *m, hk_metrics_t *mt) {
    m->m_received = hk_metrics_counter(mt, "phone_sip_messages_total", "SIP messages parsed");
    m->m_bad = hk_metrics_counter(mt, "phone_sip_bad_total",
                                  "malformed SIP messages (400 sent or dropped)");
    m->m_limited = hk_metrics_counter(mt, "phone_sip_flood_refused_total",
                                      "requests refused by the per-source limit (503)");
    m->m_bans = hk_metrics_counter(mt, "phone_sip_flood_bans_total", "sources banned");
    m->m_dropped = hk_metrics_counter(mt, "phone_sip_dropped_total",
                                      "messages dropped (banned sources, strays)");
    m->m_reg_ok = hk_metrics_counter(mt, "phone_registrations_total", "REGISTERs accepted");
    m->m_reg_failed =
        hk_metrics_counter(mt, "phone_registration_failures_total", "REGISTERs refused (403)");
    m->m_tcp_closed = hk_metrics_counter(mt, "phone_tcp_closed_bad_total",
                                         "TCP connections closed: oversize, garbage, idle");
    m->m_tcp = hk_metrics_gauge(mt, "phone_tcp_connections", "SIP TCP connections now");
    m->m_transactions = hk_metrics_gauge(mt, "phone_sip_transactions", "SIP transactions now");
}

/* ---- glue between the modules ---- */

static void s_on_message(const char *buf, size_t len, const ph_peer_t *from, void *arg) {
    ph_main_t *m = arg;
    ph_sip_input(m->sip, buf, len, from);
}

static void s_on_request(ph_sip_t *sip, osip_transaction_t *tr, osip_message_t *req,
                         const ph_peer_t *from, void *arg) {
    ph_main_t *m = arg;
    (void)sip;
    ph_calls_on_request(m->calls, tr, req, from);
}

static void s_on_response(ph_sip_t *sip, osip_transaction_t *tr, void *owner, osip_message_t *resp,
                          void *arg) {
    ph_main_t *m = arg;
    (void)sip;
    ph_calls_on_response(m->calls, tr, owner, resp);
}

static void s_on_timeout(ph_sip_t *sip, osip_transaction_t *tr, void *owner, int code, void *arg) {
    ph_main_t *m = arg;
    (void)sip;
    ph_calls_on_timeout(m->calls, tr, owner, code);
}

static void s_on_gone(ph_sip_t *sip, osip_transaction_t *tr, void *owner, void *arg) {
    ph_main_t *m = arg;
    (void)sip;
    if (m->calls) {
        ph_calls_on_gone(m->calls, tr, owner);
    }
}

static void s_on_event(const Hetki__V1__ContactEvent *ev, void *arg) {
    ph_main_t *m = arg;
    if (ph_calls_on_event(m->calls, ev)) {
        return;
    }
    ph_callback_on_event(m->callback, ev);
}

static void s_on_gap(const char *publisher, unsigned long missed, void *arg) {
    (void)arg;
    HK_WARN("phone.events_gap", "publisher=%s missed=%lu", publisher, missed);
}

/* ---- drain ---- */

static size_t s_busy(ph_main_t *m) {
    size_t n = ph_calls_count(m->calls);
    n += ph_callback_active(m->callback);
    return n;
}

/* The promises answered their last call: what their answers used may go now. */
static void s_on_promises_done(void *arg) {
    ph_main_t *m = arg;
    ph_bus_destroy(&m->bus);
    ph_policy_destroy(&m->policy); /* frees once its own lookups are answered */
    hk_service_drained(m->svc);
}

/* The callback scheduler is gone (its attempts' answers may still have used the promises). */
static void s_on_callback_done(void *arg) {
    ph_main_t *m = arg;
    ph_promise_destroy(&m->promises, s_on_promises_done, m);
}

static void s_finish(ph_main_t *m) {
    uv_timer_stop(&m->tick);
    uv_close((uv_handle_t *)&m->tick, NULL);
    hk_events_destroy(&m->events);
    ph_callback_destroy(&m->callback, s_on_callback_done, m);
    ph_calls_destroy(&m->calls);
    ph_register_destroy(&m->reg);
    ph_sip_destroy(&m->sip);
    ph_transport_destroy(&m->transport);
    ph_flood_destroy(&m->flood);
}

static void s_on_tick(uv_timer_t *t) {
    ph_main_t *m = t->data;
    s_metrics(m);
    if (!m->draining) {
        return;
    }
    int64_t now = hk_clock_real_us() / 1000;
    size_t busy = s_busy(m);
    if (busy == 0 && ph_bus_pending(m->bus) == 0 && ph_promise_busy(m->promises) == 0) {
        HK_INFO("phone.drained", "reason=done");
        s_finish(m);
    } else if (now >= m->drain_deadline && !m->hung_up) {
        HK_WARN("phone.drain_deadline", "calls=%zu", busy);
        ph_calls_hangup_all(m->calls, "drain");
        m->hung_up = 1;
        m->drain_deadline = now + S_HANGUP_GRACE_MS;
    } else if (now >= m->drain_deadline) {
        HK_WARN("phone.drained", "reason=deadline calls=%zu", busy);
        s_finish(m);
    }
}

static void s_on_stop(hk_service_t *svc, void *arg) {
    ph_main_t *m = arg;
    (void)svc;
    ph_calls_drain(m->calls);
    ph_promise_stop(m->promises); /* sweeps are any replica's; what is in flight completes */
    ph_transport_stop_listening(m->transport);
    m->draining = 1;
    m->drain_deadline = hk_clock_real_us() / 1000 + m->cfg->drain_s * 1000;
    HK_INFO("phone.draining", "calls=%zu drain_s=%ld", s_busy(m), m->cfg->drain_s);
    uv_timer_start(&m->tick, s_on_tick, 0, S_DRAIN_TICK_MS);
}

static int s_ready(void *arg, char *why, size_t whylen) {
    ph_main_t *m = arg;
    if (ph_bus_live(m->bus) == 0) {
        snprintf(why, whylen, "no router replica known");
        return 0;
    }
    return 1;
}

int main(void) {
    static ph_config_t cfg;
    static ph_main_t m;
    if (ph_config_load(&cfg) != 0) {
        return 2;
    }
    m.cfg = &cfg;
    m.svc = hk_service_new("phone", &cfg.base);
    uv_loop_t *loop = hk_service_loop(m.svc);
    hk_redis_t *redis = hk_service_redis(m.svc);
    hk_metrics_t *metrics = hk_service_metrics(m.svc);
    ph_transport_opts_t topts = {.host = cfg.base.bind_host,
                                 .port = (int)cfg.sip_port,
                                 .max_msg = (size_t)cfg.max_msg,
                                 .idle_s = (int)cfg.tcp_idle_s,
                                 .max_conns = (int)cfg.tcp_max_conns};
    m.transport = ph_transport_new(loop, &topts, s_on_message, &m);
    m.bus = ph_bus_new(loop, hk_service_zctx(m.svc), hk_service_registry(m.svc), &cfg);
    int code = 1;
    if (!m.transport || !m.bus) {
        HK_ERROR("phone.start_failed", "reason=\"%s\"",
                 m.transport ? "cannot set up the bus" : "cannot listen");
        ph_transport_destroy(&m.transport);
        ph_bus_destroy(&m.bus);
        hk_service_destroy(&m.svc);
        return 1;
    }
    int port = ph_transport_port(m.transport);
    m.flood = ph_flood_new((double)cfg.flood_rate, (double)cfg.flood_burst,
                           (int)cfg.flood_ban_after, (int)cfg.ban_s, cfg.trusted);
    ph_sip_handlers_t h = {.on_request = s_on_request,
                           .on_response = s_on_response,
                           .on_timeout = s_on_timeout,
                           .on_gone = s_on_gone};
    m.sip = ph_sip_new(loop, m.transport, m.flood, cfg.sip_host, port, &h, &m);
    m.policy = ph_policy_new(redis, 0);
    m.reg = ph_register_new(&cfg, m.sip, redis, m.policy);
    m.calls = ph_calls_new(loop, &cfg, m.sip, m.bus, m.reg, m.policy, metrics);
    m.promises =
        ph_promise_new(loop, redis, m.policy, ph_bus_submit(m.bus), metrics, cfg.base.instance);
    m.callback = ph_callback_new(loop, m.calls, m.reg, m.promises, m.policy, m.bus);
    ph_calls_set_hooks(m.calls, ph_callback_hooks(m.callback));
    ph_callback_set_customer_uri(m.callback, cfg.callback_uri);
    ph_promise_start(m.promises, 500);
    /* Every tenant's events: a publisher's seq spans them all. */
    m.events = hk_events_new(loop, hk_service_zctx(m.svc), hk_service_registry(m.svc), NULL, 500,
                             s_on_event, s_on_gap, &m);
    if (m.events && cfg.events_endpoint[0] &&
        hk_events_add_endpoint(m.events, cfg.events_endpoint) != 0) {
        HK_ERROR("phone.bad_events_endpoint", "endpoint=%s", cfg.events_endpoint);
        hk_events_destroy(&m.events);
    }
    s_register_metrics(&m, metrics);
    if (!m.sip || !m.events) {
        HK_ERROR("phone.start_failed", "reason=\"cannot set up SIP or events\"");
    } else {
        char endpoint[300];
        snprintf(endpoint, sizeof endpoint, "sip:%s:%d", cfg.sip_host, port);
        hk_registry_set_endpoint(hk_service_registry(m.svc), "sip", endpoint);
        uv_timer_init(loop, &m.tick);
        m.tick.data = &m;
        uv_timer_start(&m.tick, s_on_tick, S_TICK_MS, S_TICK_MS);
        HK_INFO("phone.started", "sip=%s udp+tcp", endpoint);
        code = hk_service_run(m.svc, s_ready, &m, s_on_stop, &m);
    }
    hk_service_destroy(&m.svc);
    return code;
}
