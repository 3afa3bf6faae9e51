/* hk_registry: service registration and discovery in Redis.
 * An instance registers its endpoints with a TTL and refreshes it every third of the TTL;
 * peers list the live instances of a service. Keys: hk:{registry}:instances (sorted set by
 * expiry) and hk:{registry}:inst:<service>/<instance> (hash with ep:<name> fields). */
#ifndef HK_REGISTRY_H
#define HK_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "hk_redis.h"

#define HK_REGISTRY_MAX_EPS 8

typedef struct hk_registry_t hk_registry_t;

typedef struct {
    char service[32];
    char instance[96];
    int64_t started_ms; /* Redis time of the first heartbeat */
    int64_t seen_ms;    /* Redis time of the latest heartbeat */
    size_t n_eps;
    struct {
        char name[32];
        char endpoint[160];
    } eps[HK_REGISTRY_MAX_EPS];
} hk_instance_t;

/* Called with the live instances (valid only during the call) and Redis time now_ms;
 * status is 0, or -1 when Redis could not answer (list empty). */
typedef void(hk_registry_list_fn)(const hk_instance_t *list, size_t n, int64_t now_ms, int status,
                                  void *arg);

/* Creates the registry on redis and adds its scripts: call before hk_redis_start. service
 * and instance may be NULL for a client that only lists. */
hk_registry_t *hk_registry_new(uv_loop_t *loop, hk_redis_t *redis, const char *service,
                               const char *instance, int ttl_ms);

/* Adds or replaces an endpoint to publish (before or after start). */
void hk_registry_set_endpoint(hk_registry_t *reg, const char *name, const char *endpoint);

/* Starts heartbeats (the first one as soon as Redis is ready). */
void hk_registry_start(hk_registry_t *reg);

/* Stops heartbeats and removes the registration; done (may be NULL) runs when Redis answered
 * or could not. */
void hk_registry_leave(hk_registry_t *reg, void (*done)(void *arg), void *arg);

/* Lists live instances of service ("" or NULL for all). Returns 0, or -1 if Redis is not
 * ready (fn is then not called). */
int hk_registry_list(hk_registry_t *reg, const char *service, hk_registry_list_fn *fn, void *arg);

/* Looks up an endpoint of an instance by name; NULL when it has none. */
const char *hk_instance_endpoint(const hk_instance_t *inst, const char *name);

void hk_registry_destroy(hk_registry_t **reg_p);

#endif
