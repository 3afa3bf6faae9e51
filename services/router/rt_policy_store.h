/* rt_policy_store: tenant policies in Redis, versioned, hot-reloaded by every replica.
 * Keys: hk:{t}:policy (hash: version, text, loaded_at_ms, source) and the set hk:tenants
 * of known tenants. A replica polls the versions every second and re-parses what changed;
 * a tenant without a stored policy uses the defaults. */
#ifndef RT_POLICY_STORE_H
#define RT_POLICY_STORE_H

#include <stdbool.h>

#include "hk_redis.h"
#include "rt_policy.h"

typedef struct rt_policy_store_t rt_policy_store_t;

/* Creates the store on redis (adds its scripts: call before hk_redis_start). */
rt_policy_store_t *rt_policy_store_new(uv_loop_t *loop, hk_redis_t *redis);

/* Starts polling for new versions every poll_ms. */
void rt_policy_store_start(rt_policy_store_t *store, int poll_ms);

/* The current policy of tenant (defaults when none is stored); valid until the next loop
 * iteration that reloads it. Never NULL. Unknown tenants are remembered and polled. */
const rt_policy_t *rt_policy_store_get(rt_policy_store_t *store, const char *tenant);

/* The version in use for tenant (0 = defaults). */
long rt_policy_store_version(rt_policy_store_t *store, const char *tenant);

/* True once a poll has completed: every tenant in hk:tenants has its stored policy (until
 * then every tenant gets the defaults; a router may hold /readyz on this). */
bool rt_policy_store_ready(const rt_policy_store_t *store);

/* Stops polling and frees the store once its pending replies are in (destroy it before or
 * after the hk_redis_t; run the loop afterwards so the memory is released). */
void rt_policy_store_destroy(rt_policy_store_t **store_p);

#endif
