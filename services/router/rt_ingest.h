/* rt_ingest: the router's contacts socket (ROUTER). Decodes each request, validates and
 * classifies a contact, stores it idempotently in Redis with one Lua script, and acks only
 * after Redis answered. Garbage gets an error ack (when there is someone to answer) and a
 * log line; the router keeps serving. Heartbeats are answered (Freelance ping). */
#ifndef RT_INGEST_H
#define RT_INGEST_H

#include "hk_service.h"
#include "rt_events.h"

typedef struct rt_ingest_t rt_ingest_t;

typedef struct {
    long dedupe_retention_s; /* how long a dedupe key is remembered */
    long max_inflight;       /* Redis calls in flight before the socket pauses */
} rt_ingest_opts_t;

/* Binds the contacts socket; bound receives the resolved endpoint. Registers the Lua script
 * on the service's Redis (call before hk_service_run). NULL on failure. */
rt_ingest_t *rt_ingest_new(hk_service_t *svc, rt_events_t *events, const char *endpoint,
                           const rt_ingest_opts_t *opts, char *bound, size_t boundlen);

/* Requests in flight (received and not yet answered). */
size_t rt_ingest_inflight(const rt_ingest_t *in);

/* Stops reading new requests; done runs once every request in flight was answered. */
void rt_ingest_drain(rt_ingest_t *in, void (*done)(void *arg), void *arg);

void rt_ingest_destroy(rt_ingest_t **in_p);

#endif
