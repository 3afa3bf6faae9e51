/* rt_engine_int: the engine's internals shared by its files (rt_engine.c: policy numbers,
 * script calls, timers; rt_intake.c: contact intake; rt_commands.c: agent and customer
 * commands). Not for use outside the engine. */
#ifndef RT_ENGINE_INT_H
#define RT_ENGINE_INT_H

#include "hk_strmap.h"
#include "rt_engine.h"

#define RT_MAX_ARGS 96

enum {
    RT_INTAKE,
    RT_PROFILE,
    RT_STATE,
    RT_OFFER,
    RT_TRANSFER,
    RT_PROPOSE,
    RT_WRAPUP,
    RT_CONFIRM,
    RT_TIMERS,
    RT_HELD,
    RT_CHAT,
    RT_CALL,
    RT_TENANT_STATUS,
    RT_NSCRIPTS
};

typedef struct {
    long version;
    int built;
    char *params;
    int timers_inflight;
    int held_inflight;
} rt_tenant_t;

struct rt_engine_t {
    hk_service_t *svc;
    hk_redis_t *redis;
    rt_events_t *events;
    rt_policy_store_t *policies;
    rt_engine_opts_t opts;
    int scripts[RT_NSCRIPTS];
    char instance[96];
    hk_strmap_t *tenants;
    uv_timer_t timers;
    uv_timer_t tenants_refresh;
    int64_t last_held_check;
    size_t inflight;
    int destroying;
    void (*destroyed)(void *arg); /* rt_engine_destroy's done callback */
    void *destroyed_arg;
    uint64_t *m_timers_fired;
    struct rt_intake_batches_t *intake; /* contacts gathered for the next intake call */
};

/* Arguments of one script call: KEYS[1], then now, params, router, then the script's own. */
typedef struct {
    const char *argv[RT_MAX_ARGS];
    size_t lens[RT_MAX_ARGS];
    int argc;
    char now[24];
} rt_args_t;

/* The tenant's entry (created on first sight and announced in hk:tenants), with the policy
 * numbers as the scripts' JSON, rebuilt when the policy version changed. */
rt_tenant_t *rt_engine_tenant(rt_engine_t *e, const char *tenant);

/* Starts a's arguments: KEYS[1] = key1, then now, the tenant's policy JSON, the router. */
void rt_args_begin(rt_engine_t *e, rt_args_t *a, const char *key1, const char *tenant);

/* Appends one argument (NULL as ""). */
void rt_arg(rt_args_t *a, const char *v);

/* Appends name and value when value is non-empty. */
void rt_field(rt_args_t *a, const char *name, const char *value);

/* Element i of an array reply as text ("" when absent) or as a number (0 when absent). */
const char *rt_reply_str(const redisReply *r, size_t i);
long long rt_reply_int(const redisReply *r, size_t i);

/* Publishes the events JSON that scripts return as their element 4. */
void rt_publish_script_events(rt_engine_t *e, const char *tenant, const redisReply *r);

/* 0 when t is a valid tenant name, else -1 with the reason in err. */
int rt_tenant_ok(const char *t, char *err, size_t errlen);

/* Sets up the intake batching (rt_intake.c); called by rt_engine_new. */
void rt_intake_init(rt_engine_t *e);

/* Sends what is gathered and releases the batching; called by rt_engine_destroy. Takes one
 * engine reference until its timer handle is closed. */
void rt_intake_close(rt_engine_t *e);

/* One request of the engine finished (frees the engine after destroy once none is left). */
void rt_engine_done(rt_engine_t *e);

#endif
