/* rt_events: the router's event publisher (PUB). Every event is a ContactEvent tagged with
 * (publisher, seq) where seq has no gaps, so subscribers can detect a gap and resnapshot
 * (zguide Clone). Frames: [topic "t:<tenant>"] [Envelope]. When idle it sends a Heartbeat
 * on topic "hb" carrying the latest seq. */
#ifndef RT_EVENTS_H
#define RT_EVENTS_H

#include <stdint.h>
#include <uv.h>

#include "rt_classify.h"

typedef struct rt_events_t rt_events_t;

/* Binds the publisher on endpoint; bound receives the resolved endpoint. NULL on failure. */
rt_events_t *rt_events_new(uv_loop_t *loop, void *zctx, const char *publisher, const char *endpoint,
                           char *bound, size_t boundlen);

/* Publishes kind (e.g. "contact.queued") for a contact and its decision. */
void rt_events_contact(rt_events_t *ev, const char *kind, const char *tenant,
                       const char *contact_id, const rt_decision_t *d);

uint64_t rt_events_seq(const rt_events_t *ev);

void rt_events_destroy(rt_events_t **ev_p);

#endif
