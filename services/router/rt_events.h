/* rt_events: the router's event publisher (PUB). Every event is a ContactEvent tagged with
 * (publisher, seq) where seq has no gaps, so subscribers can detect a gap and resnapshot
 * (zguide Clone). Frames: [topic "t:<tenant>"] [Envelope]. When idle it sends a Heartbeat
 * on topic "hb" carrying the latest seq. */
#ifndef RT_EVENTS_H
#define RT_EVENTS_H

#include <hiredis/hiredis.h>
#include <stdint.h>
#include <uv.h>

#include "rt_classify.h"

typedef struct rt_events_t rt_events_t;

/* Binds the publisher on endpoint; bound receives the resolved endpoint. NULL on failure. */
rt_events_t *rt_events_new(uv_loop_t *loop, void *zctx, const char *publisher, const char *endpoint,
                           char *bound, size_t boundlen);

typedef struct {
    const char *kind; /* "contact.received", "contact.offered", "agent.state", ... */
    const char *tenant;
    const char *contact_id;
    const char *agent_id;
    const char *state;
    const char *queue;
    uint64_t rev; /* the tenant revision after the change (0 when not known) */
    const char *detail;
    const char *payload;           /* chat.* events: the message as JSON; may be NULL */
    const rt_decision_t *decision; /* may be NULL */
} rt_event_t;

/* Publishes one event (fields may be NULL) with the next seq of this publisher. */
void rt_events_publish(rt_events_t *ev, const rt_event_t *e);

/* Publishes a script's events, an array reply of [kind, contact, agent, state, queue, rev,
 * detail, payload] arrays (rev an integer), for tenant; malformed entries are logged and
 * skipped. */
void rt_events_publish_reply(rt_events_t *ev, const char *tenant, const redisReply *events);

uint64_t rt_events_seq(const rt_events_t *ev);

void rt_events_destroy(rt_events_t **ev_p);

#endif
