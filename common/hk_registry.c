/* hk_registry: service registration (TTL heartbeats) and discovery in Redis. */
#include "hk_registry.h"

#include "hk_log.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_ZSET "hk:{registry}:instances"
#define S_HASH_PREFIX "hk:{registry}:inst:"

const char *hk_common_lua_get(const char *name);

struct hk_registry_t {
    uv_loop_t *loop;
    hk_redis_t *redis;
    int script_beat;
    int script_list;
    char service[32];
    char instance[96];
    int ttl_ms;
    size_t n_eps;
    char ep_names[HK_REGISTRY_MAX_EPS][32];
    char ep_values[HK_REGISTRY_MAX_EPS][160];
    uv_timer_t timer;
    int beating;
    uint64_t period_ms;
    int beat_inflight;
    void (*leave_done)(void *);
    void *leave_arg;
    int calls; /* beats and the leave waiting for Redis: their callbacks use reg */
    int dead;  /* destroyed: freed once calls is 0 and the timer closed */
    int timer_closed;
};

typedef struct {
    hk_registry_list_fn *fn;
    void *arg;
} s_list_req_t;

hk_registry_t *hk_registry_new(uv_loop_t *loop, hk_redis_t *redis, const char *service,
                               const char *instance, int ttl_ms) {
    hk_registry_t *reg = calloc(1, sizeof *reg);
    assert(reg);
    reg->loop = loop;
    reg->redis = redis;
    reg->script_beat = hk_redis_script(redis, "registry_beat", hk_common_lua_get("registry_beat"));
    reg->script_list = hk_redis_script(redis, "registry_list", hk_common_lua_get("registry_list"));
    snprintf(reg->service, sizeof reg->service, "%s", service ? service : "");
    snprintf(reg->instance, sizeof reg->instance, "%s", instance ? instance : "");
    reg->ttl_ms = ttl_ms > 0 ? ttl_ms : 3000;
    uv_timer_init(loop, &reg->timer);
    reg->timer.data = reg;
    return reg;
}

void hk_registry_set_endpoint(hk_registry_t *reg, const char *name, const char *endpoint) {
    size_t i = 0;
    while (i < reg->n_eps && strcmp(reg->ep_names[i], name) != 0) {
        i++;
    }
    assert(i < HK_REGISTRY_MAX_EPS);
    snprintf(reg->ep_names[i], sizeof reg->ep_names[i], "%s", name);
    snprintf(reg->ep_values[i], sizeof reg->ep_values[i], "%s", endpoint);
    if (i == reg->n_eps) {
        reg->n_eps++;
    }
}

static void s_maybe_free(hk_registry_t *reg) {
    if (reg->dead && reg->calls == 0 && reg->timer_closed) {
        free(reg);
    }
}

static void s_on_beat(hk_redis_t *r, redisReply *reply, void *arg) {
    hk_registry_t *reg = arg;
    reg->calls--;
    if (reg->dead) {
        s_maybe_free(reg);
        return;
    }
    reg->beat_inflight = 0;
    if (!reply || reply->type == REDIS_REPLY_ERROR) {
        HK_WARN("registry.beat_failed", "error=\"%s\"", reply ? reply->str : "no connection");
    } else if (reg->beating && uv_timer_get_repeat(&reg->timer) != reg->period_ms) {
        uv_timer_set_repeat(&reg->timer, reg->period_ms);
    }
}

static void s_beat(uv_timer_t *t) {
    hk_registry_t *reg = t->data;
    if (!reg->beating || reg->beat_inflight || !hk_redis_ready(reg->redis)) {
        return;
    }
    char key[256], ttl[16];
    snprintf(key, sizeof key, S_HASH_PREFIX "%s/%s", reg->service, reg->instance);
    snprintf(ttl, sizeof ttl, "%d", reg->ttl_ms);
    const char *argv[5 + 2 * HK_REGISTRY_MAX_EPS];
    size_t lens[5 + 2 * HK_REGISTRY_MAX_EPS];
    int argc = 0;
    argv[argc++] = S_ZSET;
    argv[argc++] = key;
    argv[argc++] = reg->service;
    argv[argc++] = reg->instance;
    argv[argc++] = ttl;
    for (size_t i = 0; i < reg->n_eps; i++) {
        argv[argc++] = reg->ep_names[i];
        argv[argc++] = reg->ep_values[i];
    }
    for (int i = 0; i < argc; i++) {
        lens[i] = strlen(argv[i]);
    }
    if (hk_redis_eval(reg->redis, reg->script_beat, 2, argc, argv, lens, s_on_beat, reg) == 0) {
        reg->beat_inflight = 1;
        reg->calls++;
    }
}

void hk_registry_start(hk_registry_t *reg) {
    assert(reg->service[0] && reg->instance[0]);
    reg->beating = 1;
    /* Every third of the TTL, and at most 200 ms apart until the first beat succeeded. */
    uint64_t every = (uint64_t)reg->ttl_ms / 3;
    uv_timer_start(&reg->timer, s_beat, 0, every < 200 ? every : 200);
    reg->period_ms = every;
}

static void s_leave_done(hk_registry_t *reg) {
    if (reg->leave_done) {
        void (*done)(void *) = reg->leave_done;
        reg->leave_done = NULL;
        done(reg->leave_arg);
    }
}

static void s_on_left(hk_redis_t *r, redisReply *reply, void *arg) {
    hk_registry_t *reg = arg;
    reg->calls--;
    if (reg->dead) {
        s_maybe_free(reg); /* the leave timed out and the service went on without us */
        return;
    }
    s_leave_done(reg);
}

void hk_registry_leave(hk_registry_t *reg, void (*done)(void *arg), void *arg) {
    reg->beating = 0;
    uv_timer_stop(&reg->timer);
    char key[256], member[160];
    snprintf(key, sizeof key, S_HASH_PREFIX "%s/%s", reg->service, reg->instance);
    snprintf(member, sizeof member, "%s/%s", reg->service, reg->instance);
    const char *zrem[] = {"ZREM", S_ZSET, member};
    size_t zrem_len[] = {4, strlen(S_ZSET), strlen(member)};
    const char *del[] = {"DEL", key};
    size_t del_len[] = {3, strlen(key)};
    reg->leave_done = done;
    reg->leave_arg = arg;
    if (hk_redis_command(reg->redis, 3, zrem, zrem_len, NULL, NULL) != 0 ||
        hk_redis_command(reg->redis, 2, del, del_len, s_on_left, reg) != 0) {
        s_leave_done(reg);
        return;
    }
    reg->calls++;
}

static void s_fill(hk_instance_t *inst, const redisReply *h) {
    memset(inst, 0, sizeof *inst);
    for (size_t i = 0; i + 1 < h->elements; i += 2) {
        const redisReply *k = h->element[i], *v = h->element[i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) {
            continue;
        }
        if (strcmp(k->str, "service") == 0) {
            snprintf(inst->service, sizeof inst->service, "%s", v->str);
        } else if (strcmp(k->str, "instance") == 0) {
            snprintf(inst->instance, sizeof inst->instance, "%s", v->str);
        } else if (strcmp(k->str, "started_ms") == 0) {
            inst->started_ms = strtoll(v->str, NULL, 10);
        } else if (strcmp(k->str, "seen_ms") == 0) {
            inst->seen_ms = strtoll(v->str, NULL, 10);
        } else if (strncmp(k->str, "ep:", 3) == 0 && inst->n_eps < HK_REGISTRY_MAX_EPS) {
            snprintf(inst->eps[inst->n_eps].name, sizeof inst->eps[0].name, "%s", k->str + 3);
            snprintf(inst->eps[inst->n_eps].endpoint, sizeof inst->eps[0].endpoint, "%s", v->str);
            inst->n_eps++;
        }
    }
}

static void s_on_list(hk_redis_t *r, redisReply *reply, void *arg) {
    s_list_req_t *req = arg;
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements < 1) {
        req->fn(NULL, 0, 0, -1, req->arg);
        free(req);
        return;
    }
    size_t n = reply->elements - 1;
    hk_instance_t *list = calloc(n ? n : 1, sizeof *list);
    assert(list);
    size_t k = 0;
    for (size_t i = 1; i < reply->elements; i++) {
        if (reply->element[i]->type == REDIS_REPLY_ARRAY) {
            s_fill(&list[k++], reply->element[i]);
        }
    }
    req->fn(list, k, (int64_t)reply->element[0]->integer, 0, req->arg);
    free(list);
    free(req);
}

int hk_registry_list(hk_registry_t *reg, const char *service, hk_registry_list_fn *fn, void *arg) {
    s_list_req_t *req = malloc(sizeof *req);
    assert(req);
    req->fn = fn;
    req->arg = arg;
    const char *argv[] = {S_ZSET, service ? service : "", S_HASH_PREFIX};
    size_t lens[] = {strlen(argv[0]), strlen(argv[1]), strlen(argv[2])};
    if (hk_redis_eval(reg->redis, reg->script_list, 1, 3, argv, lens, s_on_list, req) != 0) {
        free(req);
        return -1;
    }
    return 0;
}

const char *hk_instance_endpoint(const hk_instance_t *inst, const char *name) {
    for (size_t i = 0; i < inst->n_eps; i++) {
        if (strcmp(inst->eps[i].name, name) == 0) {
            return inst->eps[i].endpoint;
        }
    }
    return NULL;
}

static void s_on_timer_closed(uv_handle_t *h) {
    hk_registry_t *reg = h->data;
    reg->timer_closed = 1;
    s_maybe_free(reg);
}

void hk_registry_destroy(hk_registry_t **reg_p) {
    assert(reg_p);
    hk_registry_t *reg = *reg_p;
    if (reg) {
        *reg_p = NULL;
        reg->dead = 1; /* beats or the leave still waiting for Redis free it, else the close */
        uv_close((uv_handle_t *)&reg->timer, s_on_timer_closed);
    }
}
