/* ph_policy: the tenants' phone settings as `hetki policy load` writes them to Redis
 * (hk:{phone}:numbers, hk:{t}:phone), read asynchronously and cached for a short time. */
#include "ph_policy.h"

#include "hk_limits.h"
#include "hk_clock.h"
#include "hk_log.h"
#include "hk_strmap.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_CACHED 10000 /* numbers remembered; more (a flood of random numbers) resets */

/* Built-in defaults (the router's, services/router/rt_policy*.c). */
#define S_DEFAULT_WINDOW_MS (2 * 3600 * 1000LL)
#define S_DEFAULT_ATTEMPTS 3
#define S_DEFAULT_RETRY_MS (10 * 60 * 1000LL)
#define S_DEFAULT_THRESHOLD_MS (3 * 60 * 1000LL)

typedef struct {
    int found;
    char tenant[PH_POLICY_TENANT];
    int64_t at;
} s_number_t;

typedef struct {
    ph_phone_settings_t s;
    hk_strmap_t *agents; /* agent id -> strdup'd SIP URI */
    int64_t at;
} s_tenant_t;

struct ph_policy_t {
    hk_redis_t *redis;
    int64_t cache_ms;
    hk_strmap_t *numbers; /* normalised number -> s_number_t */
    hk_strmap_t *tenants; /* tenant -> s_tenant_t */
    size_t inflight;
    int destroying;
};

/* One lookup waiting for Redis. */
typedef struct {
    ph_policy_t *pp;
    int kind; /* 0 number, 1 settings, 2 agent uri */
    char key[80];
    char agent[72];
    void *fn;
    void *arg;
} s_req_t;

static void s_tenant_free(void *value) {
    s_tenant_t *t = value;
    if (t) {
        hk_strmap_destroy_values(&t->agents, free);
        free(t);
    }
}

int ph_policy_normalize_number(const char *text, char *out, size_t outlen) {
    char buf[PH_POLICY_NUMBER];
    size_t n = 0, digits = 0;
    for (const char *c = text ? text : ""; *c; c++) {
        if (*c == ' ' || *c == '\t' || *c == '-' || *c == '.' || *c == '(' || *c == ')') {
            continue;
        }
        if (*c == '+' && n == 0) {
            buf[n++] = '+';
        } else if (*c >= '0' && *c <= '9' && digits < 15) {
            buf[n++] = *c;
            digits++;
        } else {
            return -1;
        }
    }
    if (digits < 3 || n + 1 > outlen) {
        return -1;
    }
    buf[n] = '\0';
    memcpy(out, buf, n + 1);
    return 0;
}

ph_policy_t *ph_policy_new(hk_redis_t *redis, int cache_ms) {
    ph_policy_t *pp = calloc(1, sizeof *pp);
    assert(pp && redis);
    pp->redis = redis;
    pp->cache_ms = cache_ms > 0 ? cache_ms : PH_POLICY_CACHE_MS;
    pp->numbers = hk_strmap_new();
    pp->tenants = hk_strmap_new();
    return pp;
}

static void s_free_all(ph_policy_t *pp) {
    hk_strmap_destroy_values(&pp->numbers, free);
    hk_strmap_destroy_values(&pp->tenants, s_tenant_free);
    free(pp);
}

void ph_policy_flush(ph_policy_t *pp) {
    hk_strmap_destroy_values(&pp->numbers, free);
    hk_strmap_destroy_values(&pp->tenants, s_tenant_free);
    pp->numbers = hk_strmap_new();
    pp->tenants = hk_strmap_new();
}

static int s_fresh(const ph_policy_t *pp, int64_t at) {
    return hk_clock_mono_ms() - at < pp->cache_ms;
}

/* Answers a settings or agent request from the tenant entry (NULL: unavailable). */
static void s_answer_tenant(s_req_t *rq, const s_tenant_t *t) {
    if (rq->kind == 1) {
        ((ph_policy_settings_fn *)rq->fn)(t ? PH_POLICY_OK : PH_POLICY_UNAVAILABLE,
                                          t ? &t->s : NULL, rq->arg);
        return;
    }
    const char *uri = t ? hk_strmap_get(t->agents, rq->agent) : NULL;
    ((ph_policy_uri_fn *)rq->fn)(!t    ? PH_POLICY_UNAVAILABLE
                                 : uri ? PH_POLICY_OK
                                       : PH_POLICY_NOT_FOUND,
                                 uri, rq->arg);
}

/* Builds a tenant entry from an HGETALL of hk:{t}:phone (empty: the defaults). */
static s_tenant_t *s_tenant_from(const char *tenant, const redisReply *r) {
    s_tenant_t *t = calloc(1, sizeof *t);
    assert(t);
    t->agents = hk_strmap_new();
    ph_phone_settings_t *s = &t->s;
    snprintf(s->tenant, sizeof s->tenant, "%s", tenant);
    s->callback_window_ms = S_DEFAULT_WINDOW_MS;
    s->callback_attempts = S_DEFAULT_ATTEMPTS;
    s->callback_retry_after_ms = S_DEFAULT_RETRY_MS;
    s->callback_threshold_ms = S_DEFAULT_THRESHOLD_MS;
    snprintf(s->language, sizeof s->language, "fi");
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const redisReply *f = r->element[i], *v = r->element[i + 1];
        if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) {
            continue;
        }
        long long n = strtoll(v->str, NULL, 10);
        if (!strcmp(f->str, "version")) {
            s->version = (long)n;
        } else if (!strcmp(f->str, "callback_window_ms") && n > 0) {
            s->callback_window_ms = n;
        } else if (!strcmp(f->str, "callback_attempts") && n > 0 && n <= 100) {
            s->callback_attempts = (int)n;
        } else if (!strcmp(f->str, "callback_retry_after_ms") && n > 0) {
            s->callback_retry_after_ms = n;
        } else if (!strcmp(f->str, "callback_threshold_ms") && n >= 0) {
            s->callback_threshold_ms = n;
        } else if (!strcmp(f->str, "language") && v->len == 2) {
            snprintf(s->language, sizeof s->language, "%s", v->str);
        } else if (!strncmp(f->str, "agent:", 6) && f->str[6]) {
            free(hk_strmap_put(t->agents, f->str + 6, strdup(v->str)));
        }
    }
    t->at = hk_clock_mono_ms();
    return t;
}

static void s_on_reply(hk_redis_t *redis, redisReply *reply, void *arg) {
    (void)redis;
    s_req_t *rq = arg;
    ph_policy_t *pp = rq->pp;
    if (rq->kind == 0) {
        ph_policy_status_t st = PH_POLICY_UNAVAILABLE;
        const char *tenant = NULL;
        if (reply && (reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_NIL)) {
            s_number_t *n = calloc(1, sizeof *n);
            assert(n);
            n->found = reply->type == REDIS_REPLY_STRING && hk_tenant_ok(reply->str);
            snprintf(n->tenant, sizeof n->tenant, "%s", n->found ? reply->str : "");
            n->at = hk_clock_mono_ms();
            if (!pp->destroying) {
                if (hk_strmap_size(pp->numbers) >= S_MAX_CACHED) {
                    hk_strmap_destroy_values(&pp->numbers, free);
                    pp->numbers = hk_strmap_new();
                }
                free(hk_strmap_put(pp->numbers, rq->key, n));
            }
            st = n->found ? PH_POLICY_OK : PH_POLICY_NOT_FOUND;
            tenant = n->found ? n->tenant : NULL;
            ((ph_policy_tenant_fn *)rq->fn)(st, tenant, rq->arg);
            if (pp->destroying) {
                free(n);
            }
        } else {
            HK_WARN("phone.policy_unavailable", "number=%s", rq->key);
            ((ph_policy_tenant_fn *)rq->fn)(st, NULL, rq->arg);
        }
    } else {
        s_tenant_t *t = NULL;
        if (reply && reply->type == REDIS_REPLY_ARRAY) {
            t = s_tenant_from(rq->key, reply);
            if (!pp->destroying) {
                s_tenant_free(hk_strmap_put(pp->tenants, rq->key, t));
            }
        } else {
            HK_WARN("phone.policy_unavailable", "tenant=%s", rq->key);
        }
        s_answer_tenant(rq, t);
        if (t && pp->destroying) {
            s_tenant_free(t);
        }
    }
    free(rq);
    pp->inflight--;
    if (pp->destroying && pp->inflight == 0) {
        s_free_all(pp);
    }
}

static void s_send(ph_policy_t *pp, s_req_t *rq, int argc, const char **argv) {
    size_t lens[3];
    for (int i = 0; i < argc; i++) {
        lens[i] = strlen(argv[i]);
    }
    pp->inflight++;
    if (hk_redis_command(pp->redis, argc, argv, lens, s_on_reply, rq) != 0) {
        s_on_reply(pp->redis, NULL, rq);
    }
}

void ph_policy_number(ph_policy_t *pp, const char *dialled, ph_policy_tenant_fn *fn, void *arg) {
    char num[PH_POLICY_NUMBER];
    if (ph_policy_normalize_number(dialled, num, sizeof num) != 0) {
        fn(PH_POLICY_NOT_FOUND, NULL, arg);
        return;
    }
    const s_number_t *n = hk_strmap_get(pp->numbers, num);
    if (n && s_fresh(pp, n->at)) {
        fn(n->found ? PH_POLICY_OK : PH_POLICY_NOT_FOUND, n->found ? n->tenant : NULL, arg);
        return;
    }
    s_req_t *rq = calloc(1, sizeof *rq);
    assert(rq);
    rq->pp = pp;
    rq->kind = 0;
    rq->fn = (void *)fn;
    rq->arg = arg;
    snprintf(rq->key, sizeof rq->key, "%s", num);
    const char *argv[] = {"HGET", "hk:{phone}:numbers", num};
    s_send(pp, rq, 3, argv);
}

static void s_tenant_lookup(ph_policy_t *pp, const char *tenant, int kind, const char *agent,
                            void *fn, void *arg) {
    s_req_t *rq = calloc(1, sizeof *rq);
    assert(rq);
    rq->pp = pp;
    rq->kind = kind;
    rq->fn = fn;
    rq->arg = arg;
    snprintf(rq->agent, sizeof rq->agent, "%s", agent ? agent : "");
    if (!hk_tenant_ok(tenant)) {
        if (kind == 1) {
            ((ph_policy_settings_fn *)fn)(PH_POLICY_NOT_FOUND, NULL, arg);
        } else {
            ((ph_policy_uri_fn *)fn)(PH_POLICY_NOT_FOUND, NULL, arg);
        }
        free(rq);
        return;
    }
    snprintf(rq->key, sizeof rq->key, "%s", tenant);
    const s_tenant_t *t = hk_strmap_get(pp->tenants, tenant);
    if (t && s_fresh(pp, t->at)) {
        s_answer_tenant(rq, t);
        free(rq);
        return;
    }
    char key[64];
    snprintf(key, sizeof key, "hk:{%s}:phone", tenant);
    const char *argv[] = {"HGETALL", key};
    s_send(pp, rq, 2, argv);
}

void ph_policy_settings(ph_policy_t *pp, const char *tenant, ph_policy_settings_fn *fn, void *arg) {
    s_tenant_lookup(pp, tenant, 1, NULL, (void *)fn, arg);
}

void ph_policy_agent_uri(ph_policy_t *pp, const char *tenant, const char *agent_id,
                         ph_policy_uri_fn *fn, void *arg) {
    s_tenant_lookup(pp, tenant, 2, agent_id, (void *)fn, arg);
}

const ph_phone_settings_t *ph_policy_cached(ph_policy_t *pp, const char *tenant) {
    const s_tenant_t *t = hk_tenant_ok(tenant) ? hk_strmap_get(pp->tenants, tenant) : NULL;
    return t ? &t->s : NULL;
}

void ph_policy_destroy(ph_policy_t **pp_p) {
    assert(pp_p);
    ph_policy_t *pp = *pp_p;
    if (!pp) {
        return;
    }
    *pp_p = NULL;
    pp->destroying = 1;
    if (pp->inflight == 0) {
        s_free_all(pp);
    }
}
