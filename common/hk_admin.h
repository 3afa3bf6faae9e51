/* hk_admin: the admin HTTP endpoint every service runs on its own port:
 *   GET /healthz  200 "ok" while the process runs its loop
 *   GET /readyz   200 "ready" when the ready callback says so, else 503 with the reason
 *   GET /metrics  Prometheus text from the service's hk_metrics registry
 * Anything else is 404; any method but GET is 405. Served by libwebsockets (HTTP/1.1,
 * keep-alive) as a vhost on the shared hk_web context. */
#ifndef HK_ADMIN_H
#define HK_ADMIN_H

#include <stddef.h>

#include "hk_metrics.h"
#include "hk_web.h"

typedef struct hk_admin_t hk_admin_t;

/* Returns 1 when the service is ready; otherwise 0 and a short reason in why. */
typedef int(hk_admin_ready_fn)(void *arg, char *why, size_t whylen);

/* Adds the admin vhost listening on host:port to web. host is an IPv4 or IPv6 address,
 * "localhost", or NULL, "" or "*" for every IPv4 interface (see hk_web_vhost_info); port 0
 * lets the kernel pick (see hk_admin_port). metrics and ready may be NULL (empty page, always
 * ready); they stay the caller's and must outlive the admin. Returns NULL (and logs) when
 * host is not an address or host:port cannot be bound. */
hk_admin_t *hk_admin_new(hk_web_t *web, const char *host, int port, hk_metrics_t *metrics,
                         hk_admin_ready_fn *ready, void *ready_arg);

/* The port actually bound. */
int hk_admin_port(const hk_admin_t *admin);

/* Stops using metrics and ready at once (requests still arriving get 503) and removes the
 * vhost, which lws frees later (lws 4.1: its listener and connections close within 30 s, or
 * when the context goes). Usually called before hk_web_destroy; after it works too. Nulls
 * the pointer. */
void hk_admin_destroy(hk_admin_t **admin_p);

#endif
