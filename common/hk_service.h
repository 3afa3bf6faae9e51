/* hk_service: the lifecycle every hetki service shares. One libuv loop, one ZeroMQ context,
 * the Redis connection, the registry heartbeat, the admin endpoint and the metrics registry;
 * SIGTERM/SIGINT start a graceful drain, and a second signal cuts it short. */
#ifndef HK_SERVICE_H
#define HK_SERVICE_H

#include <uv.h>

#include "hk_admin.h"
#include "hk_config.h"
#include "hk_metrics.h"
#include "hk_redis.h"
#include "hk_registry.h"
#include "hk_web.h"

typedef struct hk_service_t hk_service_t;

/* With HETKI_CLOCK=virtual:<ms>, services follow the unix ms stored under this key (every
 * 10 ms, forward only), so tests move the time of every replica at once. */
#define HK_SERVICE_CLOCK_KEY "hk:clock:virtual_ms"

/* Called once when a stop was requested: the service stops taking new work, finishes (or
 * hands back) what it holds, closes its own sockets and then calls hk_service_drained. */
typedef void(hk_service_stop_fn)(hk_service_t *svc, void *arg);

/* Loads table (which should include HK_BASE_CONFIG_ENTRIES), HETKI_CLOCK, fills the base
 * defaults, starts logging and prints the configuration. Returns 0, or -1 after printing
 * the error that names the variable. */
int hk_service_configure(const char *name, hk_base_config_t *base, const hk_cfg_entry_t *table,
                         size_t n);

/* Creates the loop, ZeroMQ context, metrics, Redis client and registry (not yet started, so
 * services can add their Lua scripts to hk_service_redis first). base must outlive it. */
hk_service_t *hk_service_new(const char *name, const hk_base_config_t *base);

uv_loop_t *hk_service_loop(hk_service_t *svc);
void *hk_service_zctx(hk_service_t *svc);
hk_redis_t *hk_service_redis(hk_service_t *svc);
hk_registry_t *hk_service_registry(hk_service_t *svc);
hk_metrics_t *hk_service_metrics(hk_service_t *svc);
hk_web_t *hk_service_web(hk_service_t *svc);
const hk_base_config_t *hk_service_config(hk_service_t *svc);

/* True once a stop has been requested. */
int hk_service_stopping(const hk_service_t *svc);

/* Starts admin, Redis and registry, installs the signal handlers and runs the loop until the
 * service has shut down. ready decides /readyz (NULL: ready when Redis is). Returns the
 * process exit code (0 after a clean stop, 1 when start-up failed). */
int hk_service_run(hk_service_t *svc, hk_admin_ready_fn *ready, void *ready_arg,
                   hk_service_stop_fn *on_stop, void *stop_arg);

/* Requests a stop as a signal would (e.g. after a fatal error). */
void hk_service_stop(hk_service_t *svc);

/* Tells the lifecycle the service finished draining: deregisters and tears down. */
void hk_service_drained(hk_service_t *svc);

/* Frees what remains after hk_service_run returned (terminates the ZeroMQ context and closes
 * the loop); nulls the caller's pointer. */
void hk_service_destroy(hk_service_t **svc_p);

#endif
