/* rt_policy_store: every tenant's policy, kept current from Redis. Each poll sends, in one
 * pipelined round trip, SMEMBERS hk:tenants and HGET hk:{t}:policy version for every known
 * tenant; a tenant whose version changed is fetched (HMGET version text) and re-parsed. A
 * stored text that does not parse keeps the previous policy and is logged once. */
#include "rt_policy_store.h"

#include "hk_log.h"
#include "hk_strmap.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_TENANTS 4096
#define S_FAST_TICK_MS 50 /* how often to try while the first poll has not completed */
#define S_ERR_LEN 512

typedef struct {
    rt_policy_store_t *store;
    char name[RT_POLICY_NAME];
    rt_policy_t *policy; /* never NULL: the defaults until a version is loaded */
    long version;        /* in use; 0 = defaults */
    long bad_version;    /* a stored version that failed to parse: not tried again */
    bool checking;       /* a version query is in flight */
    bool fetching;       /* a text query is in flight */
    bool missing_logged; /* the stored policy vanished and we said so */
} s_tenant_t;

struct rt_policy_store_t {
    uv_loop_t *loop;
    hk_redis_t *redis;
    uv_timer_t timer;
    int poll_ms;
    uint64_t last_poll;
    hk_strmap_t *by_name;
    s_tenant_t **tenants;
    size_t n_tenants, cap_tenants;
    rt_policy_t **retired; /* replaced policies, freed on the next tick */
    size_t n_retired, cap_retired;
    size_t inflight;  /* replies outstanding */
    size_t pending;   /* replies outstanding that belong to the current poll */
    bool polling;     /* a poll is under way */
    bool poll_failed; /* a reply of the current poll was missing or an error */
    bool ready;       /* a poll has completed */
    bool destroying;
    bool timer_closed;
    rt_policy_t fallback; /* for names that cannot be tenants, or too many tenants */
};

typedef struct {
    rt_policy_store_t *store;
    s_tenant_t *tenant; /* NULL for the tenant list */
    bool fetch;         /* HMGET version text (else HGET version or SMEMBERS) */
    bool in_poll;
} s_req_t;

static void s_free(rt_policy_store_t *store) {
    for (size_t i = 0; i < store->n_tenants; i++) {
        free(store->tenants[i]->policy);
        free(store->tenants[i]);
    }
    for (size_t i = 0; i < store->n_retired; i++) {
        free(store->retired[i]);
    }
    hk_strmap_destroy(&store->by_name);
    free(store->tenants);
    free(store->retired);
    free(store);
}

static void s_maybe_free(rt_policy_store_t *store) {
    if (store->destroying && store->timer_closed && store->inflight == 0) {
        s_free(store);
    }
}

static void s_retire(rt_policy_store_t *store, rt_policy_t *old) {
    if (store->n_retired == store->cap_retired) {
        size_t cap = store->cap_retired ? store->cap_retired * 2 : 8;
        rt_policy_t **grown = realloc(store->retired, cap * sizeof *grown);
        if (!grown) {
            free(old); /* out of memory: give up the grace period */
            return;
        }
        store->retired = grown;
        store->cap_retired = cap;
    }
    store->retired[store->n_retired++] = old;
}

static s_tenant_t *s_tenant_add(rt_policy_store_t *store, const char *name) {
    if (!rt_policy_name_valid(name) || store->n_tenants >= S_MAX_TENANTS) {
        return NULL;
    }
    if (store->n_tenants == store->cap_tenants) {
        size_t cap = store->cap_tenants ? store->cap_tenants * 2 : 16;
        s_tenant_t **grown = realloc(store->tenants, cap * sizeof *grown);
        if (!grown) {
            return NULL;
        }
        store->tenants = grown;
        store->cap_tenants = cap;
    }
    s_tenant_t *t = calloc(1, sizeof *t);
    rt_policy_t *p = malloc(sizeof *p);
    if (!t || !p) {
        free(t);
        free(p);
        return NULL;
    }
    t->store = store;
    snprintf(t->name, sizeof t->name, "%s", name);
    rt_policy_defaults(p, name);
    t->policy = p;
    store->tenants[store->n_tenants++] = t;
    hk_strmap_put(store->by_name, t->name, t);
    return t;
}

static void s_on_reply(hk_redis_t *r, redisReply *reply, void *arg);

/* Sends a command for tenant t (NULL: the tenant list); returns 0 when sent. */
static int s_send(rt_policy_store_t *store, s_tenant_t *t, bool in_poll, int argc,
                  const char **argv) {
    size_t lens[4];
    for (int i = 0; i < argc; i++) {
        lens[i] = strlen(argv[i]);
    }
    s_req_t *req = malloc(sizeof *req);
    if (!req) {
        return -1;
    }
    *req = (s_req_t){store, t, argc == 4, in_poll};
    if (hk_redis_command(store->redis, argc, argv, lens, s_on_reply, req) != 0) {
        free(req);
        return -1;
    }
    store->inflight++;
    store->pending += in_poll ? 1 : 0;
    return 0;
}

/* Asks for t's stored version. */
static void s_check(s_tenant_t *t, bool in_poll) {
    char key[RT_POLICY_NAME + 16];
    if (t->checking || t->fetching) {
        return;
    }
    snprintf(key, sizeof key, "hk:{%s}:policy", t->name);
    const char *argv[] = {"HGET", key, "version"};
    if (s_send(t->store, t, in_poll, 3, argv) == 0) {
        t->checking = true;
    }
}

static void s_fetch(s_tenant_t *t, bool in_poll) {
    char key[RT_POLICY_NAME + 16];
    snprintf(key, sizeof key, "hk:{%s}:policy", t->name);
    const char *argv[] = {"HMGET", key, "version", "text"};
    if (s_send(t->store, t, in_poll, 4, argv) == 0) {
        t->fetching = true;
    }
}

/* A reply element as a version number; 0 when absent, -1 when not a number. */
static long s_version(const redisReply *e) {
    if (e->type == REDIS_REPLY_NIL) {
        return 0;
    }
    if (e->type == REDIS_REPLY_INTEGER) {
        return (long)e->integer;
    }
    if (e->type != REDIS_REPLY_STRING) {
        return -1;
    }
    char *end;
    long v = strtol(e->str, &end, 10);
    return (end == e->str || *end != '\0' || v < 0) ? -1 : v;
}

static void s_on_tenants(rt_policy_store_t *store, const redisReply *reply, bool in_poll) {
    for (size_t i = 0; i < reply->elements; i++) {
        const redisReply *e = reply->element[i];
        if (e->type != REDIS_REPLY_STRING || hk_strmap_get(store->by_name, e->str)) {
            continue;
        }
        s_tenant_t *t = s_tenant_add(store, e->str);
        if (t) {
            s_check(t, in_poll);
        } else {
            HK_DEBUG("policy.tenant_skipped", "reason=\"not a tenant name or too many\"");
        }
    }
}

static void s_on_version(s_tenant_t *t, const redisReply *reply, bool in_poll) {
    long v = s_version(reply);
    if (v < 0) {
        HK_ERROR("policy.bad_version", "tenant=%s reason=\"stored version is not a number\"",
                 t->name);
    } else if (v == 0) {
        if (t->version > 0 && !t->missing_logged) {
            HK_WARN("policy.missing", "tenant=%s version=%ld action=keep", t->name, t->version);
            t->missing_logged = true;
        }
    } else if (v != t->version && v != t->bad_version) {
        s_fetch(t, in_poll);
    }
}

static void s_on_text(s_tenant_t *t, const redisReply *reply) {
    rt_policy_store_t *store = t->store;
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
        return;
    }
    long v = s_version(reply->element[0]);
    const redisReply *text = reply->element[1];
    if (v <= 0 || v == t->version || v == t->bad_version || text->type != REDIS_REPLY_STRING) {
        return;
    }
    char err[S_ERR_LEN], quoted[S_ERR_LEN + 16];
    rt_policy_t *p = malloc(sizeof *p);
    if (!p) {
        return;
    }
    if (strlen(text->str) != text->len) {
        snprintf(err, sizeof err, "the stored text holds a NUL byte");
    } else if (rt_policy_parse(text->str, p, err, sizeof err) == 0) {
        if (p->tenant[0] && strcmp(p->tenant, t->name) != 0) {
            HK_WARN("policy.name_mismatch", "tenant=%s version=%ld file_names=%s", t->name, v,
                    p->tenant);
        }
        snprintf(p->tenant, sizeof p->tenant, "%s", t->name);
        s_retire(store, t->policy);
        t->policy = p;
        HK_INFO("policy.loaded", "tenant=%s version=%ld previous=%ld status=%s queues=%zu", t->name,
                v, t->version, p->status == RT_TENANT_SUSPENDED ? "suspended" : "active",
                p->n_queues);
        t->version = v;
        t->missing_logged = false;
        return;
    }
    free(p);
    t->bad_version = v;
    HK_ERROR("policy.invalid", "tenant=%s version=%ld in_use=%ld error=%s", t->name, v, t->version,
             hk_log_quote(quoted, sizeof quoted, err));
}

static void s_on_reply(hk_redis_t *r, redisReply *reply, void *arg) {
    s_req_t req = *(s_req_t *)arg;
    rt_policy_store_t *store = req.store;
    s_tenant_t *t = req.tenant;
    free(arg);
    if (t) {
        t->checking = t->fetching = false;
    }
    bool ok = reply && reply->type != REDIS_REPLY_ERROR;
    if (!ok && reply) {
        HK_ERROR("policy.redis_error", "tenant=%s error=\"%s\"", t ? t->name : "-", reply->str);
    }
    if (ok && !store->destroying) {
        if (!t) {
            if (reply->type == REDIS_REPLY_ARRAY) {
                s_on_tenants(store, reply, req.in_poll);
            }
        } else if (req.fetch) {
            s_on_text(t, reply);
        } else {
            s_on_version(t, reply, req.in_poll);
        }
    }
    store->inflight--;
    if (req.in_poll) {
        store->poll_failed = store->poll_failed || !ok;
        if (--store->pending == 0 && store->polling) {
            store->polling = false;
            if (!store->poll_failed && !store->ready) {
                store->ready = true;
                HK_INFO("policy.ready", "tenants=%zu", store->n_tenants);
            }
        }
    }
    s_maybe_free(store);
}

static void s_on_tick(uv_timer_t *timer) {
    rt_policy_store_t *store = timer->data;
    uint64_t now = uv_now(store->loop);
    if (store->polling || !hk_redis_ready(store->redis) ||
        (store->ready && now - store->last_poll < (uint64_t)store->poll_ms)) {
        return;
    }
    for (size_t i = 0; i < store->n_retired; i++) {
        free(store->retired[i]);
    }
    store->n_retired = 0;
    store->last_poll = now;
    store->polling = true;
    store->poll_failed = false;
    const char *argv[] = {"SMEMBERS", "hk:tenants"};
    if (s_send(store, NULL, true, 2, argv) != 0) {
        store->poll_failed = true;
    }
    for (size_t i = 0; i < store->n_tenants; i++) {
        s_check(store->tenants[i], true);
    }
    if (store->pending == 0) {
        store->polling = false;
    }
}

rt_policy_store_t *rt_policy_store_new(uv_loop_t *loop, hk_redis_t *redis) {
    rt_policy_store_t *store = calloc(1, sizeof *store);
    assert(store);
    store->loop = loop;
    store->redis = redis;
    store->by_name = hk_strmap_new();
    assert(store->by_name);
    rt_policy_defaults(&store->fallback, "");
    uv_timer_init(loop, &store->timer);
    store->timer.data = store;
    return store;
}

void rt_policy_store_start(rt_policy_store_t *store, int poll_ms) {
    store->poll_ms = poll_ms > 0 ? poll_ms : 1000;
    uint64_t tick = store->poll_ms < S_FAST_TICK_MS ? (uint64_t)store->poll_ms : S_FAST_TICK_MS;
    uv_timer_start(&store->timer, s_on_tick, 0, tick);
}

const rt_policy_t *rt_policy_store_get(rt_policy_store_t *store, const char *tenant) {
    s_tenant_t *t = tenant ? hk_strmap_get(store->by_name, tenant) : NULL;
    if (!t) {
        t = tenant ? s_tenant_add(store, tenant) : NULL;
        if (!t) {
            return &store->fallback;
        }
        if (hk_redis_ready(store->redis)) {
            s_check(t, false); /* picks up a stored policy within one round trip */
        }
    }
    return t->policy;
}

long rt_policy_store_version(rt_policy_store_t *store, const char *tenant) {
    s_tenant_t *t = tenant ? hk_strmap_get(store->by_name, tenant) : NULL;
    return t ? t->version : 0;
}

bool rt_policy_store_ready(const rt_policy_store_t *store) {
    return store->ready;
}

static void s_on_timer_closed(uv_handle_t *h) {
    rt_policy_store_t *store = h->data;
    store->timer_closed = true;
    s_maybe_free(store);
}

void rt_policy_store_destroy(rt_policy_store_t **store_p) {
    assert(store_p);
    rt_policy_store_t *store = *store_p;
    if (!store) {
        return;
    }
    *store_p = NULL;
    store->destroying = true;
    uv_timer_stop(&store->timer);
    uv_close((uv_handle_t *)&store->timer, s_on_timer_closed);
}
