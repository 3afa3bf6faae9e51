/* hk_service: the shared service lifecycle (start, readiness, graceful stop, teardown). */
#include "hk_service.h"

#include "hk_clock.h"
#include "hk_curve.h"
#include "hk_log.h"

#include <assert.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define S_LEAVE_TIMEOUT_MS 1000

struct hk_service_t {
    char name[32];
    const hk_base_config_t *base;
    uv_loop_t loop;
    void *zctx;
    hk_metrics_t *metrics;
    hk_redis_t *redis;
    hk_registry_t *registry;
    hk_curve_zap_t *zap; /* admits CURVE clients when a key is configured */
    hk_web_t *web;
    hk_admin_t *admin;
    uv_signal_t sigterm, sigint;
    uv_timer_t leave_timer;
    uv_timer_t clock_timer; /* virtual clock: follows HK_SERVICE_CLOCK_KEY in Redis */
    int clock_inflight;
    hk_admin_ready_fn *ready;
    void *ready_arg;
    hk_service_stop_fn *on_stop;
    void *stop_arg;
    int stopping;
    int running;
    int torn_down;
    int exit_code;
};

int hk_service_configure(const char *name, hk_base_config_t *base, const hk_cfg_entry_t *table,
                         size_t n) {
    char err[512];
    if (hk_config_load(table, n, err, sizeof err) != 0) {
        fprintf(stderr, "hetki-%s: configuration error: %s\n", name, err);
        return -1;
    }
    if (hk_clock_from_env() != 0) {
        fprintf(stderr,
                "hetki-%s: configuration error: HETKI_CLOCK: expected \"real\" or "
                "\"virtual:<unix ms>\"\n",
                name);
        return -1;
    }
    if (hk_curve_set_key(base->curve_secret) != 0) {
        fprintf(stderr,
                "hetki-%s: configuration error: HETKI_CURVE_SECRET_KEY: expected a CURVE secret "
                "key of 40 Z85 characters (hetki curve-keygen makes one)\n",
                name);
        return -1;
    }
    hk_config_base_finish(base, name);
    hk_log_level_t level = HK_LOG_INFO;
    hk_log_level_parse(base->log_level, &level);
    hk_log_init(name, base->instance, level);
    hk_config_print(table, n, stderr);
    return 0;
}

hk_service_t *hk_service_new(const char *name, const hk_base_config_t *base) {
    hk_service_t *svc = calloc(1, sizeof *svc);
    assert(svc);
    snprintf(svc->name, sizeof svc->name, "%s", name);
    svc->base = base;
    uv_loop_init(&svc->loop);
    svc->zctx = zmq_ctx_new();
    assert(svc->zctx);
    svc->metrics = hk_metrics_new();
    svc->zap = hk_curve_zap_new(&svc->loop, svc->zctx,
                                hk_metrics_counter(svc->metrics, "curve_denied_total",
                                                   "ZeroMQ handshakes refused: the peer did not "
                                                   "hold the deployment's CURVE key"));
    svc->redis = hk_redis_new(&svc->loop, base->redis_host, (int)base->redis_port);
    hk_redis_auth(svc->redis, base->redis_user, base->redis_password);
    svc->registry =
        hk_registry_new(&svc->loop, svc->redis, name, base->instance, (int)base->registry_ttl_ms);
    return svc;
}

uv_loop_t *hk_service_loop(hk_service_t *svc) {
    return &svc->loop;
}
void *hk_service_zctx(hk_service_t *svc) {
    return svc->zctx;
}
hk_redis_t *hk_service_redis(hk_service_t *svc) {
    return svc->redis;
}
hk_registry_t *hk_service_registry(hk_service_t *svc) {
    return svc->registry;
}
hk_metrics_t *hk_service_metrics(hk_service_t *svc) {
    return svc->metrics;
}
hk_web_t *hk_service_web(hk_service_t *svc) {
    return svc->web;
}
const hk_base_config_t *hk_service_config(hk_service_t *svc) {
    return svc->base;
}
int hk_service_stopping(const hk_service_t *svc) {
    return svc->stopping;
}

static int s_default_ready(void *arg, char *why, size_t whylen) {
    hk_service_t *svc = arg;
    if (!hk_redis_ready(svc->redis)) {
        snprintf(why, whylen, "redis not connected");
        return 0;
    }
    return 1;
}

static int s_ready(void *arg, char *why, size_t whylen) {
    hk_service_t *svc = arg;
    if (svc->stopping) {
        snprintf(why, whylen, "draining");
        return 0;
    }
    if (!s_default_ready(svc, why, whylen)) {
        return 0;
    }
    return svc->ready ? svc->ready(svc->ready_arg, why, whylen) : 1;
}

/* A virtual clock follows the value tests write to Redis (never backwards), so that every
 * replica shares one simulated time. */
static void s_on_clock(hk_redis_t *r, redisReply *reply, void *arg) {
    hk_service_t *svc = arg;
    svc->clock_inflight = 0;
    if (reply && reply->type == REDIS_REPLY_STRING) {
        long long target = strtoll(reply->str, NULL, 10);
        int64_t now = hk_clock_now_ms();
        if (target > now) {
            hk_clock_advance(target - now);
        }
    }
}

static void s_on_clock_timer(uv_timer_t *t) {
    hk_service_t *svc = t->data;
    const char *argv[] = {"GET", HK_SERVICE_CLOCK_KEY};
    size_t lens[] = {3, strlen(HK_SERVICE_CLOCK_KEY)};
    if (!svc->clock_inflight && !svc->torn_down &&
        hk_redis_command(svc->redis, 2, argv, lens, s_on_clock, svc) == 0) {
        svc->clock_inflight = 1;
    }
}

static void s_teardown(hk_service_t *svc) {
    if (svc->torn_down) {
        return;
    }
    svc->torn_down = 1;
    HK_INFO("service.stopped", "service=%s", svc->name);
    if (svc->running) {
        uv_timer_stop(&svc->clock_timer);
        uv_close((uv_handle_t *)&svc->clock_timer, NULL);
        uv_timer_stop(&svc->leave_timer);
        uv_close((uv_handle_t *)&svc->leave_timer, NULL);
        uv_close((uv_handle_t *)&svc->sigterm, NULL);
        uv_close((uv_handle_t *)&svc->sigint, NULL);
    }
    hk_admin_destroy(&svc->admin);
    hk_web_destroy(&svc->web);
    hk_registry_destroy(&svc->registry);
    hk_redis_destroy(&svc->redis);
    hk_curve_zap_destroy(&svc->zap);
}

static void s_on_left(void *arg) {
    s_teardown(arg);
}

static void s_on_leave_timeout(uv_timer_t *t) {
    HK_WARN("service.leave_timeout", "ms=%d", S_LEAVE_TIMEOUT_MS);
    s_teardown(t->data);
}

void hk_service_drained(hk_service_t *svc) {
    if (svc->torn_down) {
        return;
    }
    uv_timer_start(&svc->leave_timer, s_on_leave_timeout, S_LEAVE_TIMEOUT_MS, 0);
    hk_registry_leave(svc->registry, s_on_left, svc);
}

void hk_service_stop(hk_service_t *svc) {
    if (svc->stopping) {
        return;
    }
    svc->stopping = 1;
    HK_INFO("service.stopping", "service=%s", svc->name);
    if (svc->on_stop) {
        svc->on_stop(svc, svc->stop_arg);
    } else {
        hk_service_drained(svc);
    }
}

static void s_on_signal(uv_signal_t *h, int signum) {
    hk_service_t *svc = h->data;
    if (svc->stopping) {
        HK_WARN("service.forced_stop", "signal=%d", signum);
        _exit(1); /* a second signal cuts the drain short */
    }
    HK_INFO("service.signal", "signal=%d", signum);
    hk_service_stop(svc);
}

int hk_service_run(hk_service_t *svc, hk_admin_ready_fn *ready, void *ready_arg,
                   hk_service_stop_fn *on_stop, void *stop_arg) {
    svc->ready = ready;
    svc->ready_arg = ready_arg;
    svc->on_stop = on_stop;
    svc->stop_arg = stop_arg;
    signal(SIGPIPE, SIG_IGN);
    svc->running = 1;
    uv_timer_init(&svc->loop, &svc->leave_timer);
    svc->leave_timer.data = svc;
    uv_timer_init(&svc->loop, &svc->clock_timer);
    svc->clock_timer.data = svc;
    if (hk_clock_is_virtual()) {
        uv_timer_start(&svc->clock_timer, s_on_clock_timer, 10, 10);
    }
    uv_signal_init(&svc->loop, &svc->sigterm);
    uv_signal_init(&svc->loop, &svc->sigint);
    svc->sigterm.data = svc->sigint.data = svc;
    uv_signal_start(&svc->sigterm, s_on_signal, SIGTERM);
    uv_signal_start(&svc->sigint, s_on_signal, SIGINT);

    svc->web = hk_web_new(&svc->loop);
    if (svc->web) {
        svc->admin = hk_admin_new(svc->web, svc->base->bind_host, (int)svc->base->admin_port,
                                  svc->metrics, s_ready, svc);
    }
    if (!svc->web || !svc->admin) {
        HK_ERROR("service.admin_failed", "host=%s port=%ld", svc->base->bind_host,
                 svc->base->admin_port);
        svc->exit_code = 1;
        hk_service_stop(svc);
    } else {
        char admin[160];
        snprintf(admin, sizeof admin, "http://%s:%d", svc->base->advertise_host,
                 hk_admin_port(svc->admin));
        hk_registry_set_endpoint(svc->registry, "admin", admin);
        hk_redis_start(svc->redis);
        hk_registry_start(svc->registry);
        HK_INFO("service.started", "service=%s admin=%s", svc->name, admin);
    }
    uv_run(&svc->loop, UV_RUN_DEFAULT);
    return svc->exit_code;
}

void hk_service_destroy(hk_service_t **svc_p) {
    assert(svc_p);
    hk_service_t *svc = *svc_p;
    if (!svc) {
        return;
    }
    *svc_p = NULL;
    s_teardown(svc);                    /* no-op after a normal run */
    uv_run(&svc->loop, UV_RUN_DEFAULT); /* let closing handles finish */
    if (uv_loop_close(&svc->loop) != 0) {
        HK_WARN("service.loop_busy", "service=%s", svc->name);
    }
    zmq_ctx_term(svc->zctx);
    hk_metrics_destroy(&svc->metrics);
    free(svc);
}
