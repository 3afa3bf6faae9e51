/* chat_events: the routers' event streams as hetki-chat needs them. One SUB socket connected
 * to the "events" endpoint of every live router replica (registry, or
 * HETKI_ROUTER_EVENTS_ENDPOINT), subscribed to every tenant ("t:") and to heartbeats ("hb"),
 * because a publisher's seq spans all tenants. Each event is passed on; a jump in a
 * publisher's seq (or a heartbeat ahead of it) is reported as a gap, after which the caller
 * resends what events may have carried (the outboxes). */
#ifndef CHAT_EVENTS_H
#define CHAT_EVENTS_H

#include <stddef.h>
#include <uv.h>

#include "chat_config.h"
#include "hetki/v1/envelope.pb-c.h"
#include "hk_registry.h"

typedef struct chat_events_t chat_events_t;

/* An event of any tenant; ev is valid only during the call. */
typedef void(chat_event_fn)(const Hetki__V1__ContactEvent *ev, void *arg);

/* Events of publisher were lost (missed of them). */
typedef void(chat_gap_fn)(const char *publisher, unsigned long missed, void *arg);

/* Creates the subscriber. Returns NULL (logged) when the socket or the static endpoint is
 * unusable. cfg must outlive it. */
chat_events_t *chat_events_new(uv_loop_t *loop, void *zctx, hk_registry_t *registry,
                               const chat_config_t *cfg, chat_event_fn *on_event,
                               chat_gap_fn *on_gap, void *arg);

/* Router event streams connected now. */
size_t chat_events_connected(const chat_events_t *ev);

/* Closes the socket; frees once libuv released the handles. Nulls the pointer. */
void chat_events_destroy(chat_events_t **ev_p);

#endif
