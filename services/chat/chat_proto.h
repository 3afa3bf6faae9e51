/* chat_proto: the chat protocol (docs/protocols/chat.md) on top of chat_ws: one session per
 * websocket connection, hello/welcome with resume from Redis on any instance, customer
 * messages acked only after the router's ack (the first one of a contact as a Contact, the
 * rest as ChatMessages, one at a time per connection so the conversation keeps their order),
 * the other client frames, per-connection rates, and router events forwarded to the
 * connected sessions of their contact. */
#ifndef CHAT_PROTO_H
#define CHAT_PROTO_H

#include <stddef.h>

#include "chat_config.h"
#include "chat_router.h"
#include "chat_stats.h"
#include "chat_store.h"
#include "chat_ws.h"
#include "hetki/v1/envelope.pb-c.h"

typedef struct chat_proto_t chat_proto_t;

/* Creates the protocol engine. Everything given must outlive it (until chat_proto_stop). */
chat_proto_t *chat_proto_new(const chat_config_t *cfg, chat_stats_t *stats, chat_store_t *store,
                             chat_router_t *router, const char *gateway);

/* The handlers to give chat_ws_new (with the engine as their arg). */
const hk_ws_handlers_t *chat_proto_handlers(void);

/* hk_events callbacks (arg: the engine): an event of any tenant, and a gap after which
 * every connected session gets its outbox again. */
void chat_proto_on_event(const Hetki__V1__ContactEvent *ev, void *arg);
void chat_proto_on_gap(const char *publisher, unsigned long missed, void *arg);

/* Drain: every connection gets `reconnect`, then a close 1001 as soon as its messages in
 * flight are answered; messages arriving meanwhile get `unavailable`. */
void chat_proto_drain(chat_proto_t *p);

/* Requests in flight (Redis and bus). */
size_t chat_proto_busy(const chat_proto_t *p);

/* Stops using the store, the router and the connections (sessions are freed); requests in
 * flight still complete. Call before destroying those. */
void chat_proto_stop(chat_proto_t *p);

/* Frees the engine, at once or when its last request in flight completes. Nulls the
 * pointer. */
void chat_proto_destroy(chat_proto_t **p_p);

#endif
