/* hk_events: a subscriber to the routers' event streams (hetki-chat, the agent simulator,
 * later the dashboard). One SUB socket connected to the "events" endpoint of every live
 * router replica (found through hk_registry, or given statically), subscribed to every
 * tenant ("t:", because a publisher's seq spans all tenants) and to heartbeats ("hb").
 * Events are checked by (publisher, seq): a delta at or below the last one seen from its
 * publisher is dropped, a jump counts as a gap (events lost, e.g. a slow subscriber or a
 * replica that died), and a heartbeat whose seq is ahead of us reveals a gap too. A publisher
 * that restarted (a new epoch under the same instance id) or whose registration expired is
 * reported as a gap of unknown size (missed = 0): it may have changed Redis without
 * publishing, so watchers take a fresh snapshot. */
#ifndef HK_EVENTS_H
#define HK_EVENTS_H

#include <stddef.h>
#include <uv.h>

#include "hetki/v1/envelope.pb-c.h"
#include "hk_registry.h"

typedef struct hk_events_t hk_events_t;

/* Called for each accepted event (of the tenant given, or of all); valid only during the
 * call. */
typedef void(hk_event_fn)(const Hetki__V1__ContactEvent *ev, void *arg);

/* Called once per detected gap with the publisher and how many events were lost (0: unknown,
 * after a restart or the publisher's removal). */
typedef void(hk_event_gap_fn)(const char *publisher, unsigned long missed, void *arg);

typedef struct {
    unsigned long events;     /* events passed to the callback */
    unsigned long heartbeats; /* heartbeats received */
    unsigned long gaps;       /* jumps in a publisher's seq */
    unsigned long missed;     /* events lost in those jumps */
    unsigned long stale;      /* deltas at or below the last seq, dropped */
    unsigned long bad;        /* frames that did not decode */
} hk_events_stats_t;

/* Creates the subscriber on loop, passing on the events of tenant (NULL: of every tenant).
 * registry may be NULL when only static endpoints are used; it is polled every discovery_ms
 * for router replicas. Returns NULL when ZeroMQ refuses the socket. */
hk_events_t *hk_events_new(uv_loop_t *loop, void *zctx, hk_registry_t *registry, const char *tenant,
                           int discovery_ms, hk_event_fn *on_event, hk_event_gap_fn *on_gap,
                           void *arg);

/* Connects to a static events endpoint ("tcp://127.0.0.1:5556"). Returns 0 or -1. */
int hk_events_add_endpoint(hk_events_t *ev, const char *endpoint);

/* Replicas (registry instances or static endpoints) currently connected. */
size_t hk_events_connected(const hk_events_t *ev);

/* Connected replicas from which at least one message arrived (the subscription works). */
size_t hk_events_ready(const hk_events_t *ev);

/* Counters so far. */
void hk_events_stats(const hk_events_t *ev, hk_events_stats_t *out);

/* Closes the socket and frees once libuv released the handles; nulls the caller's pointer. */
void hk_events_destroy(hk_events_t **ev_p);

#endif
