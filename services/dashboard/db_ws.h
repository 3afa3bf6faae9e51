/* db_ws: the dashboard port on the shared hk_web context: one vhost serving the web app files
 * (db_http) and the websocket /ws (subprotocol hetki-dashboard.v1). It enforces what belongs to
 * the transport: the Origin allowlist (403 before the upgrade), the size of client messages
 * (close 1009), the idle timeout (close 1008), text frames only, and a bounded send queue per
 * connection written only from the writeable callback. What the frames mean is the caller's
 * (db_proto), through the handlers. */
#ifndef DB_WS_H
#define DB_WS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "db_config.h"
#include "db_stats.h"
#include "hk_web.h"

#define DB_WS_SUBPROTOCOL "hetki-dashboard.v1"
#define DB_WS_PATH "/ws"

/* Close codes (RFC 6455) the dashboard protocol uses. */
#define DB_CLOSE_NORMAL 1000
#define DB_CLOSE_GOING_AWAY 1001
#define DB_CLOSE_POLICY 1008
#define DB_CLOSE_TOO_BIG 1009

typedef struct db_ws_t db_ws_t;
typedef struct db_conn_t db_conn_t;

typedef struct {
    /* A websocket connection was established. */
    void (*on_open)(db_conn_t *conn, void *arg);
    /* A complete client message (data valid only during the call; binary when the client
     * sent a binary message). */
    void (*on_frame)(db_conn_t *conn, const char *data, size_t len, int binary, void *arg);
    /* The connection is gone: conn must not be used after this returns. */
    void (*on_close)(db_conn_t *conn, void *arg);
} db_ws_handlers_t;

/* Adds the dashboard vhost on the configured bind host and port. Returns NULL (logged) when it
 * cannot listen. cfg, stats and arg must outlive it. */
db_ws_t *db_ws_new(uv_loop_t *loop, hk_web_t *web, const db_config_t *cfg, db_stats_t *stats,
                   const db_ws_handlers_t *handlers, void *arg);

/* The port actually bound. */
int db_ws_port(const db_ws_t *ws);

/* Connections open now. */
size_t db_ws_count(const db_ws_t *ws);

/* Calls fn for every open connection (fn may close conn but must not destroy ws). */
void db_ws_foreach(db_ws_t *ws, void (*fn)(db_conn_t *conn, void *arg), void *arg);

/* Refuses new websocket upgrades (503) and HTTP requests from now on. */
void db_ws_drain(db_ws_t *ws);

/* Stops calling the handlers, closes what is left and removes the vhost; the memory goes
 * when lws finalizes the vhost. Nulls the pointer. */
void db_ws_destroy(db_ws_t **ws_p);

/* A frame body many connections share (refcounted): the fields of an `event` frame after its
 * `seq`, i.e. the event's JSON object without its opening brace. */
typedef struct db_shared_t db_shared_t;

/* Copies text into a new shared body with one reference, or NULL when out of memory. */
db_shared_t *db_shared_new(const char *text, size_t len);

/* Adds a reference; returns sh. */
db_shared_t *db_shared_ref(db_shared_t *sh);

/* Drops a reference (the body goes with the last one). Nulls the pointer. */
void db_shared_unref(db_shared_t **sh_p);

/* Queues the event frame {"type":"event","seq":seq,<sh>} (takes a reference). Events queued
 * back to back are written as one `events` frame carrying them in order. Same returns as
 * db_conn_send. */
int db_conn_send_event(db_conn_t *conn, uint64_t seq, db_shared_t *sh);

/* Queues a text frame (copied). Returns 0, or -1 when the connection is closing or its queue
 * is full (the connection is then closed: the client does not read). */
int db_conn_send(db_conn_t *conn, const char *text, size_t len);

/* Queues the text frame a followed by b (both copied). Same returns. */
int db_conn_send_parts(db_conn_t *conn, const char *a, size_t alen, const char *b, size_t blen);

/* Queues obj as one compact JSON text frame (obj stays the caller's). Same returns. */
int db_conn_send_json(db_conn_t *conn, const json_t *obj);

/* Closes with code and reason (a static string) once the queued frames are written. */
void db_conn_close(db_conn_t *conn, int code, const char *reason);

/* True once a close was requested. */
int db_conn_closing(const db_conn_t *conn);

/* The caller's per-connection pointer (NULL until set). */
void db_conn_set_user(db_conn_t *conn, void *user);
void *db_conn_user(const db_conn_t *conn);

/* The client's address for logs ("" when unknown). */
const char *db_conn_peer(const db_conn_t *conn);

#endif
