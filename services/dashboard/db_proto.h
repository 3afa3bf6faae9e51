/* db_proto: the dashboard protocol (docs/protocols/dashboard.md) on top of db_ws: one session
 * per websocket connection (login with a password or a session token, then snapshot plus
 * deltas), the commands agents and supervisors send (checked against the session, sent to
 * the routers), router events fanned out to the sessions allowed to see them, and a fresh
 * snapshot after a gap in the event stream. */
#ifndef DB_PROTO_H
#define DB_PROTO_H

#include <stddef.h>
#include <uv.h>

#include "db_config.h"
#include "db_stats.h"
#include "db_ws.h"
#include "hetki/v1/envelope.pb-c.h"
#include "hk_redis.h"
#include "hk_submit.h"

typedef struct db_proto_t db_proto_t;

/* Adds the dashboard's Lua scripts to redis (before hk_redis_start). Returns 0 or -1. */
int db_proto_scripts(hk_redis_t *redis);

/* Creates the engine. cfg, stats, redis and submit must outlive it (until db_proto_stop). */
db_proto_t *db_proto_new(uv_loop_t *loop, const db_config_t *cfg, db_stats_t *stats,
                         hk_redis_t *redis, hk_submit_t *submit, const char *instance);

/* The handlers to give db_ws_new (with the engine as their arg). */
const hk_ws_handlers_t *db_proto_handlers(void);

/* hk_events callbacks (arg: the engine): an event of any tenant, and a gap after which every
 * connected session gets a fresh snapshot. */
void db_proto_on_event(const Hetki__V1__ContactEvent *ev, void *arg);
void db_proto_on_gap(const char *publisher, unsigned long missed, void *arg);

/* Drain: every session gets `reconnect` and a close 1001. */
void db_proto_drain(db_proto_t *p);

/* Requests in flight (Redis, thread pool and bus). */
size_t db_proto_busy(const db_proto_t *p);

/* Stops using redis, submit and the connections and closes its timers; requests in flight
 * still complete. Call before destroying those. */
void db_proto_stop(db_proto_t *p);

/* Frees the engine, at once or when its last request in flight completes. Nulls the
 * pointer. */
void db_proto_destroy(db_proto_t **p_p);

#endif
