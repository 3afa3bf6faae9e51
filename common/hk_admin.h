/* hk_admin: the admin HTTP endpoint every service runs on its own port:
 *   GET /healthz  200 "ok" while the process runs its loop
 *   GET /readyz   200 "ready" when the ready callback says so, else 503 with the reason
 *   GET /metrics  Prometheus text from the service's hk_metrics registry
 * Served by libwebsockets (HTTP/1.1 only) as a vhost on the shared hk_web context. */
#ifndef HK_ADMIN_H
#define HK_ADMIN_H

#include <stddef.h>

#include "hk_metrics.h"
#include "hk_web.h"

typedef struct hk_admin_t hk_admin_t;

/* Returns 1 when the service is ready; otherwise 0 and a short reason in why. */
typedef int(hk_admin_ready_fn)(void *arg, char *why, size_t whylen);

/* Adds the admin vhost listening on host:port to web. metrics and ready stay the caller's
 * and must outlive the admin. Returns NULL (and logs) when the port cannot be bound. */
hk_admin_t *hk_admin_new(hk_web_t *web, const char *host, int port, hk_metrics_t *metrics,
                         hk_admin_ready_fn *ready, void *ready_arg);

/* The port actually bound. */
int hk_admin_port(const hk_admin_t *admin);

void hk_admin_destroy(hk_admin_t **admin_p);

#endif
