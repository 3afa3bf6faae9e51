/* hetki-router: receives contacts, stores them idempotently in Redis, classifies, queues,
 * acks and publishes events. Stateless: run as many replicas as needed. Wiring only. */
#include "hk_log.h"
#include "hk_service.h"
#include "rt_events.h"
#include "rt_bus.h"
#include "rt_engine.h"
#include "rt_policy_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    hk_base_config_t base;
    long contacts_port;
    long events_port;
    long dedupe_retention_s;
    long max_inflight;
    long timer_poll_ms;
    long policy_poll_ms;
} rt_config_t;

typedef struct {
    hk_service_t *svc;
    rt_events_t *events;
    rt_policy_store_t *policies;
    rt_engine_t *engine;
    rt_bus_t *bus;
} rt_router_t;

/* The engine answered its last Redis call: what its answers used may go now. */
static void s_on_engine_done(void *arg) {
    rt_router_t *rt = arg;
    rt_policy_store_destroy(&rt->policies);
    rt_events_destroy(&rt->events);
    hk_service_drained(rt->svc);
}

static void s_on_bus_drained(void *arg) {
    rt_router_t *rt = arg;
    rt_bus_destroy(&rt->bus);
    rt_engine_destroy(&rt->engine, s_on_engine_done, rt);
}

static void s_on_stop(hk_service_t *svc, void *arg) {
    rt_router_t *rt = arg;
    if (rt->bus) {
        rt_bus_drain(rt->bus, s_on_bus_drained, rt);
    } else {
        s_on_bus_drained(rt);
    }
}

static int s_ready(void *arg, char *why, size_t whylen) {
    rt_router_t *rt = arg;
    if (!rt->bus) {
        snprintf(why, whylen, "bus not bound");
        return 0;
    }
    if (!rt_policy_store_ready(rt->policies)) {
        snprintf(why, whylen, "tenant policies not loaded yet");
        return 0;
    }
    return 1;
}

/* Formats the bind endpoint for a port (0 asks ZeroMQ for an ephemeral one). */
static void s_endpoint(char *out, size_t len, const char *host, long port) {
    if (port == 0) {
        snprintf(out, len, "tcp://%s:*", host);
    } else {
        snprintf(out, len, "tcp://%s:%ld", host, port);
    }
}

/* Replaces the bound host by the advertised one: "tcp://<bind>:<port>" -> advertised. */
static void s_advertise(char *out, size_t len, const char *bound, const char *host) {
    const char *colon = strrchr(bound, ':');
    snprintf(out, len, "tcp://%s%s", host, colon ? colon : "");
}

int main(void) {
    static rt_config_t cfg;
    hk_cfg_entry_t table[] = {
        HK_BASE_CONFIG_ENTRIES(&cfg.base, "9100"),
        {"HETKI_ROUTER_CONTACTS_PORT", HK_CFG_PORT, "5555", 0, 65535, NULL, &cfg.contacts_port,
         "contacts and commands in (ROUTER); 0 = ephemeral"},
        {"HETKI_ROUTER_EVENTS_PORT", HK_CFG_PORT, "5556", 0, 65535, NULL, &cfg.events_port,
         "events out (PUB); 0 = ephemeral"},
        {"HETKI_ROUTER_DEDUPE_RETENTION_S", HK_CFG_INT, "2592000", 60, 31536000, NULL,
         &cfg.dedupe_retention_s, "how long a dedupe key is remembered"},
        {"HETKI_ROUTER_MAX_INFLIGHT", HK_CFG_INT, "4096", 1, 1000000, NULL, &cfg.max_inflight,
         "requests in flight before the bus socket pauses"},
        {"HETKI_ROUTER_TIMER_POLL_MS", HK_CFG_INT, "100", 5, 60000, NULL, &cfg.timer_poll_ms,
         "how often due timers (leases, windows, pauses) are claimed"},
        {"HETKI_ROUTER_POLICY_POLL_MS", HK_CFG_INT, "1000", 10, 600000, NULL, &cfg.policy_poll_ms,
         "how often tenant policy versions are checked"},
    };
    if (hk_service_configure("router", &cfg.base, table, sizeof table / sizeof table[0]) != 0) {
        return 2;
    }
    rt_router_t rt = {0};
    rt.svc = hk_service_new("router", &cfg.base);
    char endpoint[200], bound[200], advertised[200];
    s_endpoint(endpoint, sizeof endpoint, cfg.base.bind_host, cfg.events_port);
    rt.events = rt_events_new(hk_service_loop(rt.svc), hk_service_zctx(rt.svc), cfg.base.instance,
                              endpoint, bound, sizeof bound);
    if (rt.events) {
        s_advertise(advertised, sizeof advertised, bound, cfg.base.advertise_host);
        hk_registry_set_endpoint(hk_service_registry(rt.svc), "events", advertised);
        s_endpoint(endpoint, sizeof endpoint, cfg.base.bind_host, cfg.contacts_port);
        rt.policies = rt_policy_store_new(hk_service_loop(rt.svc), hk_service_redis(rt.svc));
        rt_engine_opts_t eopts = {cfg.dedupe_retention_s, cfg.timer_poll_ms};
        rt.engine = rt_engine_new(rt.svc, rt.events, rt.policies, &eopts);
        rt_bus_opts_t bopts = {cfg.max_inflight};
        rt.bus = rt_bus_new(rt.svc, rt.engine, endpoint, &bopts, bound, sizeof bound);
    }
    int code;
    if (!rt.bus) {
        HK_ERROR("router.start_failed", "reason=\"cannot bind the bus sockets\"");
        rt_engine_destroy(&rt.engine, NULL, NULL); /* not started: no call in flight */
        rt_policy_store_destroy(&rt.policies);
        rt_events_destroy(&rt.events);
        code = 1;
    } else {
        rt_policy_store_start(rt.policies, (int)cfg.policy_poll_ms);
        rt_engine_start(rt.engine);
        s_advertise(advertised, sizeof advertised, bound, cfg.base.advertise_host);
        hk_registry_set_endpoint(hk_service_registry(rt.svc), "contacts", advertised);
        HK_INFO("router.listening", "contacts=%s", advertised);
        code = hk_service_run(rt.svc, s_ready, &rt, s_on_stop, &rt);
    }
    hk_service_destroy(&rt.svc);
    return code;
}
