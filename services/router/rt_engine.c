/* rt_engine: the engine core: per-tenant policy numbers for the scripts, script calls, event
 * publishing, and the timers and held contacts any replica may claim. */
#include "rt_engine_int.h"

#include "hk_clock.h"
#include "hk_id.h"
#include "hk_log.h"
#include "rt_validate.h"

#include <assert.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *rt_lua_library(void);
const char *rt_lua_function(const char *name);

#define S_TIMER_BATCH "200"
#define S_HELD_BATCH "500"
#define S_TENANTS_REFRESH_MS 5000
#define S_HELD_CHECK_MS 1000
/* Engine constants the policy does not (yet) set: the time constant of the rolling
 * occupancy, the handle time assumed before a queue has history, and how long an agent who
 * declined a contact is not asked for it again. */
#define S_OCCUPANCY_TAU_MS 1800000
#define S_DEFAULT_HANDLE_MS 300000
#define S_DECLINE_MEMORY_MS 300000

static const char *const s_script_names[RT_NSCRIPTS] = {
    "contact_intake", "agent_profile", "agent_state",  "offer_reply", "transfer",
    "propose",        "wrapup",        "confirm",      "timers",      "release_held",
    "chat_message",   "call_state",    "tenant_status"};

/* Per tenant: the policy numbers as the scripts' JSON, rebuilt when the version changes. */
void rt_arg(rt_args_t *a, const char *v) {
    if (a->argc < RT_MAX_ARGS) {
        a->argv[a->argc] = v ? v : "";
        a->lens[a->argc] = strlen(a->argv[a->argc]);
        a->argc++;
    }
}

rt_tenant_t *rt_engine_tenant(rt_engine_t *e, const char *tenant) {
    rt_tenant_t *t = hk_strmap_get(e->tenants, tenant);
    if (!t) {
        t = calloc(1, sizeof *t);
        assert(t);
        hk_strmap_put(e->tenants, tenant, t);
        /* Make the tenant known to every replica's timer loop (outside its slot: plain SADD). */
        const char *argv[] = {"SADD", "hk:tenants", tenant};
        size_t lens[] = {4, 10, strlen(tenant)};
        hk_redis_command(e->redis, 3, argv, lens, NULL, NULL);
    }
    const rt_policy_t *p = rt_policy_store_get(e->policies, tenant);
    long version = rt_policy_store_version(e->policies, tenant);
    if (!t->built || t->version != version) {
        json_t *queues = json_object();
        for (size_t i = 0; i < p->n_queues; i++) {
            const rt_queue_policy_t *q = &p->queues[i];
            json_object_set_new(queues, q->name,
                                json_pack("{s:s, s:I, s:{s:b, s:b, s:b}}", "overflow_to",
                                          q->overflow_to, "overflow_after",
                                          (json_int_t)q->overflow_after_ms, "langs", "fi",
                                          (q->languages & (1 << RT_LANG_FI)) != 0, "sv",
                                          (q->languages & (1 << RT_LANG_SV)) != 0, "en",
                                          (q->languages & (1 << RT_LANG_EN)) != 0));
        }
        int min_cost = p->cost_phone;
        const int costs[] = {p->cost_chat, p->cost_email, p->cost_kiosk};
        for (size_t i = 0; i < 3; i++) {
            min_cost = costs[i] < min_cost ? costs[i] : min_cost;
        }
        json_t *root = json_pack(
            "{s:I, s:i, s:i, s:I, s:I, s:I, s:I, s:i, s:I, s:I, s:I, s:o}", "lease",
            (json_int_t)p->offer_lease_ms, "occ_cap", p->occupancy_cap_pct, "nr_after",
            p->not_responding_after, "recovery", (json_int_t)p->recovery_pause_ms, "confirm",
            (json_int_t)p->confirmation_window_ms, "followup", (json_int_t)p->followup_after_ms,
            "aging", (json_int_t)p->aging_ms_per_point, "min_cost", min_cost, "tau",
            (json_int_t)S_OCCUPANCY_TAU_MS, "default_handle", (json_int_t)S_DEFAULT_HANDLE_MS,
            "decline_memory", (json_int_t)S_DECLINE_MEMORY_MS, "queues", queues);
        free(t->params);
        t->params = json_dumps(root, JSON_COMPACT);
        json_decref(root);
        t->version = version;
        t->built = 1;
    }
    return t;
}

void rt_args_begin(rt_engine_t *e, rt_args_t *a, const char *key1, const char *tenant) {
    a->argc = 0;
    snprintf(a->now, sizeof a->now, "%lld", (long long)hk_clock_now_ms());
    rt_arg(a, key1);
    rt_arg(a, a->now);
    rt_arg(a, rt_engine_tenant(e, tenant)->params);
    rt_arg(a, e->instance);
}

const char *rt_reply_str(const redisReply *r, size_t i) {
    if (!r || r->type != REDIS_REPLY_ARRAY || i >= r->elements) {
        return "";
    }
    const redisReply *x = r->element[i];
    return x->type == REDIS_REPLY_STRING || x->type == REDIS_REPLY_STATUS ? x->str : "";
}

long long rt_reply_int(const redisReply *r, size_t i) {
    if (!r || r->type != REDIS_REPLY_ARRAY || i >= r->elements) {
        return 0;
    }
    const redisReply *x = r->element[i];
    if (x->type == REDIS_REPLY_INTEGER) {
        return x->integer;
    }
    return x->type == REDIS_REPLY_STRING ? strtoll(x->str, NULL, 10) : 0;
}

void rt_publish_script_events(rt_engine_t *e, const char *tenant, const redisReply *r) {
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements > 4) {
        rt_events_publish_reply(e->events, tenant, r->element[4]);
    }
}

static void s_tenant_free(void *value) {
    rt_tenant_t *t = value;
    free(t->params);
    free(t);
}

void rt_engine_done(rt_engine_t *e) {
    e->inflight--;
    if (e->destroying && e->inflight == 0) {
        void (*done)(void *) = e->destroyed;
        void *arg = e->destroyed_arg;
        hk_strmap_destroy_values(&e->tenants, s_tenant_free);
        free(e);
        if (done) {
            done(arg);
        }
    }
}

void rt_field(rt_args_t *a, const char *name, const char *value) {
    if (value && value[0]) {
        rt_arg(a, name);
        rt_arg(a, value);
    }
}

int rt_tenant_ok(const char *t, char *err, size_t errlen) {
    Hetki__V1__Contact probe = HETKI__V1__CONTACT__INIT;
    probe.tenant = (char *)t;
    probe.channel = HETKI__V1__CHANNEL__CHANNEL_CHAT;
    probe.dedupe_key = "x";
    return rt_validate_contact(&probe, err, errlen);
}

typedef struct {
    rt_engine_t *e;
    rt_tenant_t *t;
    char tenant[RT_MAX_TENANT + 1];
    int held;
} s_sweep_t;

static void s_on_swept(hk_redis_t *redis, redisReply *reply, void *arg) {
    s_sweep_t *sw = arg;
    rt_engine_t *e = sw->e;
    if (sw->held) {
        sw->t->held_inflight = 0;
    } else {
        sw->t->timers_inflight = 0;
    }
    if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements >= 6) {
        rt_publish_script_events(e, sw->tenant, reply);
        if (!sw->held) {
            *e->m_timers_fired += (uint64_t)rt_reply_int(reply, 5);
        }
    } else if (reply && reply->type == REDIS_REPLY_ERROR) {
        HK_ERROR("timers.failed", "tenant=%s error=\"%s\"", sw->tenant, reply->str);
    }
    free(sw);
    rt_engine_done(e);
}

static void s_sweep(rt_engine_t *e, const char *tenant, int held) {
    rt_tenant_t *t = rt_engine_tenant(e, tenant);
    if ((held ? t->held_inflight : t->timers_inflight) || !hk_redis_ready(e->redis)) {
        return;
    }
    const rt_policy_t *p = rt_policy_store_get(e->policies, tenant);
    if (held && p->status == RT_TENANT_SUSPENDED) {
        return;
    }
    s_sweep_t *sw = calloc(1, sizeof *sw);
    assert(sw);
    sw->e = e;
    sw->t = t;
    sw->held = held;
    snprintf(sw->tenant, sizeof sw->tenant, "%s", tenant);
    char k[96];
    snprintf(k, sizeof k, "hk:{%s}:%s", tenant, held ? "held" : "timers");
    rt_args_t a;
    rt_args_begin(e, &a, k, tenant);
    rt_arg(&a, held ? S_HELD_BATCH : S_TIMER_BATCH);
    if (held) {
        rt_arg(&a, p->voice_queue);
        rt_arg(&a, p->human_chat_queue);
        rt_arg(&a, p->async_queue);
    }
    if (held) {
        t->held_inflight = 1;
    } else {
        t->timers_inflight = 1;
    }
    e->inflight++;
    if (hk_redis_eval(e->redis, e->scripts[held ? RT_HELD : RT_TIMERS], 1, a.argc, a.argv, a.lens,
                      s_on_swept, sw) != 0) {
        s_on_swept(e->redis, NULL, sw);
    }
}

static void s_on_tenants(hk_redis_t *redis, redisReply *reply, void *arg) {
    rt_engine_t *e = arg;
    if (reply && reply->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i < reply->elements; i++) {
            char err[160];
            const redisReply *x = reply->element[i];
            if (x->type == REDIS_REPLY_STRING && rt_tenant_ok(x->str, err, sizeof err) == 0) {
                rt_engine_tenant(e, x->str);
            }
        }
    }
    rt_engine_done(e);
}

static void s_on_tenants_refresh(uv_timer_t *h) {
    rt_engine_t *e = h->data;
    const char *argv[] = {"SMEMBERS", "hk:tenants"};
    size_t lens[] = {8, 10};
    e->inflight++;
    if (hk_redis_command(e->redis, 2, argv, lens, s_on_tenants, e) != 0) {
        e->inflight--;
    }
}

static void s_on_timers(uv_timer_t *h) {
    rt_engine_t *e = h->data;
    int64_t now = hk_clock_mono_ms();
    int held = now - e->last_held_check >= S_HELD_CHECK_MS;
    if (held) {
        e->last_held_check = now;
    }
    size_t n = 0;
    char **names = hk_strmap_keys(e->tenants, &n);
    for (size_t i = 0; i < n; i++) {
        s_sweep(e, names[i], 0);
        if (held) {
            s_sweep(e, names[i], 1);
        }
    }
    free(names);
}

rt_engine_t *rt_engine_new(hk_service_t *svc, rt_events_t *events, rt_policy_store_t *policies,
                           const rt_engine_opts_t *opts) {
    rt_engine_t *e = calloc(1, sizeof *e);
    assert(e);
    e->svc = svc;
    e->redis = hk_service_redis(svc);
    e->events = events;
    e->policies = policies;
    e->opts = *opts;
    snprintf(e->instance, sizeof e->instance, "%s", hk_service_config(svc)->instance);
    int library = hk_redis_library(e->redis, rt_lua_library());
    for (int i = 0; i < RT_NSCRIPTS; i++) {
        const char *function = rt_lua_function(s_script_names[i]);
        assert(function);
        e->scripts[i] = hk_redis_function(e->redis, library, function, false);
    }
    e->tenants = hk_strmap_new();
    uv_timer_init(hk_service_loop(svc), &e->timers);
    uv_timer_init(hk_service_loop(svc), &e->tenants_refresh);
    e->timers.data = e->tenants_refresh.data = e;
    rt_intake_init(e);
    hk_metrics_t *m = hk_service_metrics(svc);
    e->m_timers_fired = hk_metrics_counter(m, "router_timers_fired_total",
                                           "leases, overflows, windows and pauses applied");
    return e;
}

void rt_engine_start(rt_engine_t *e) {
    uv_timer_start(&e->timers, s_on_timers, (uint64_t)e->opts.timer_poll_ms,
                   (uint64_t)e->opts.timer_poll_ms);
    uv_timer_start(&e->tenants_refresh, s_on_tenants_refresh, 0, S_TENANTS_REFRESH_MS);
}

size_t rt_engine_inflight(const rt_engine_t *e) {
    return e->inflight;
}

static void s_on_timer_closed(uv_handle_t *h) {
    rt_engine_t *e = h->data;
    rt_engine_done(e); /* one reference per timer handle, taken in destroy */
}

void rt_engine_destroy(rt_engine_t **e_p, void (*done)(void *arg), void *arg) {
    assert(e_p);
    rt_engine_t *e = *e_p;
    if (!e) {
        return;
    }
    *e_p = NULL;
    e->destroying = 1;
    e->destroyed = done;
    e->destroyed_arg = arg;
    rt_intake_close(e);
    e->inflight += 2;
    uv_close((uv_handle_t *)&e->timers, s_on_timer_closed);
    uv_close((uv_handle_t *)&e->tenants_refresh, s_on_timer_closed);
}
