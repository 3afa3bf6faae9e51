/* cli_bus: the one-shot loop, Redis and submission client behind `hetki send|status`. */
#include "cli_bus.h"

#include "hk_config.h"
#include "hk_curve.h"
#include "hk_log.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <zmq.h>

struct cli_bus_t {
    uv_loop_t loop;
    void *zctx;
    hk_redis_t *redis;
    hk_registry_t *registry;
    hk_submit_t *submit;
    uv_timer_t timeout;
    cli_bus_start_fn *start;
    void *start_arg;
    int started;
    int finished;
    int code;
    int timeout_ms;
    char redis_host[HK_CFG_STR_MAX];
    long redis_port;
    char router[HK_CFG_STR_MAX];
    char redis_user[HK_CFG_STR_MAX];
    char redis_password[HK_CFG_STR_MAX];
};

cli_bus_t *cli_bus_new(int timeout_ms) {
    cli_bus_t *bus = calloc(1, sizeof *bus);
    assert(bus);
    char log_level[HK_CFG_STR_MAX];
    hk_cfg_entry_t table[] = {
        {"HETKI_REDIS_HOST", HK_CFG_STRING, "127.0.0.1", 1, 255, NULL, bus->redis_host, ""},
        {"HETKI_REDIS_PORT", HK_CFG_PORT, "6380", 1, 65535, NULL, &bus->redis_port, ""},
        {"HETKI_ROUTER_ENDPOINT", HK_CFG_STRING, "", 0, 255, NULL, bus->router, ""},
        {"HETKI_REDIS_USER", HK_CFG_STRING, "", 0, 128, NULL, bus->redis_user, ""},
        {"HETKI_REDIS_PASSWORD", HK_CFG_SECRET, "", 0, 255, NULL, bus->redis_password, ""},
        {"HETKI_LOG_LEVEL", HK_CFG_ENUM, "warn", 0, 0, "debug|info|warn|error", log_level, ""},
    };
    char err[512];
    if (hk_config_load(table, sizeof table / sizeof table[0], err, sizeof err) != 0) {
        fprintf(stderr, "hetki: configuration error: %s\n", err);
        free(bus);
        return NULL;
    }
    if (hk_curve_from_env("hetki") != 0) {
        free(bus);
        return NULL;
    }
    hk_log_level_t level = HK_LOG_WARN;
    hk_log_level_parse(log_level, &level);
    hk_log_init("cli", "hetki", level);
    bus->timeout_ms = timeout_ms;
    uv_loop_init(&bus->loop);
    bus->zctx = zmq_ctx_new();
    bus->redis = hk_redis_new(&bus->loop, bus->redis_host, (int)bus->redis_port);
    hk_redis_auth(bus->redis, bus->redis_user, bus->redis_password);
    bus->registry = hk_registry_new(&bus->loop, bus->redis, NULL, NULL, 0);
    hk_submit_opts_t opts = {.attempt_timeout_ms = 1000, .deadline_ms = timeout_ms};
    bus->submit =
        hk_submit_new(&bus->loop, bus->zctx, bus->router[0] ? NULL : bus->registry, &opts);
    if (bus->router[0]) {
        hk_submit_add_endpoint(bus->submit, bus->router);
    }
    uv_timer_init(&bus->loop, &bus->timeout);
    bus->timeout.data = bus;
    return bus;
}

hk_registry_t *cli_bus_registry(cli_bus_t *bus) {
    return bus->registry;
}

hk_submit_t *cli_bus_submit(cli_bus_t *bus) {
    return bus->submit;
}

static void s_on_state(hk_redis_t *r, bool ready, void *arg) {
    cli_bus_t *bus = arg;
    if (ready && !bus->started && !bus->finished) {
        bus->started = 1;
        bus->start(bus, 1, bus->start_arg);
    }
}

static void s_on_timeout(uv_timer_t *t) {
    cli_bus_t *bus = t->data;
    if (!bus->started) {
        fprintf(stderr, "hetki: cannot reach Redis at %s:%ld (is the stack running?)\n",
                bus->redis_host, bus->redis_port);
        bus->started = 1;
        bus->start(bus, 0, bus->start_arg);
    } else {
        fprintf(stderr, "hetki: no answer within %d ms\n", bus->timeout_ms);
        cli_bus_finish(bus, 3);
    }
}

int cli_bus_run(cli_bus_t *bus, int need_redis, cli_bus_start_fn *start, void *arg) {
    bus->start = start;
    bus->start_arg = arg;
    hk_redis_on_state(bus->redis, s_on_state, bus);
    if (!need_redis && bus->router[0]) {
        bus->started = 1;
        start(bus, 1, arg);
    } else {
        hk_redis_start(bus->redis);
    }
    uv_timer_start(&bus->timeout, s_on_timeout, (uint64_t)bus->timeout_ms, 0);
    uv_run(&bus->loop, UV_RUN_DEFAULT);
    return bus->code;
}

void cli_bus_finish(cli_bus_t *bus, int code) {
    if (bus->finished) {
        return;
    }
    bus->finished = 1;
    bus->code = code;
    uv_timer_stop(&bus->timeout);
    uv_close((uv_handle_t *)&bus->timeout, NULL);
    hk_submit_destroy(&bus->submit);
    hk_registry_destroy(&bus->registry);
    hk_redis_destroy(&bus->redis);
}

void cli_bus_destroy(cli_bus_t **bus_p) {
    assert(bus_p);
    cli_bus_t *bus = *bus_p;
    if (!bus) {
        return;
    }
    *bus_p = NULL;
    cli_bus_finish(bus, bus->code);
    uv_run(&bus->loop, UV_RUN_DEFAULT);
    uv_loop_close(&bus->loop);
    zmq_ctx_term(bus->zctx);
    free(bus);
}
