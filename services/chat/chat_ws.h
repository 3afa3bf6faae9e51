/* chat_ws: the chat port on the shared hk_web context: one vhost serving the widget files
 * (chat_http) and the websocket /ws (subprotocol hetki-chat.v1). It enforces what belongs to
 * the transport: the Origin allowlist (403 before the upgrade), the size of client messages
 * (close 1009), the idle timeout (close 1008), text frames only, and a bounded send queue per
 * connection written only from the writeable callback. What the frames mean is the caller's
 * (chat_proto), through the handlers. */
#ifndef CHAT_WS_H
#define CHAT_WS_H

#include <jansson.h>
#include <stddef.h>
#include <uv.h>

#include "chat_config.h"
#include "chat_stats.h"
#include "hk_web.h"

#define CHAT_WS_SUBPROTOCOL "hetki-chat.v1"
#define CHAT_WS_PATH "/ws"

/* Close codes (RFC 6455) the chat protocol uses. */
#define CHAT_CLOSE_NORMAL 1000
#define CHAT_CLOSE_GOING_AWAY 1001
#define CHAT_CLOSE_POLICY 1008
#define CHAT_CLOSE_TOO_BIG 1009

typedef struct chat_ws_t chat_ws_t;
typedef struct chat_conn_t chat_conn_t;

typedef struct {
    /* A websocket connection was established. */
    void (*on_open)(chat_conn_t *conn, void *arg);
    /* A complete client message (data valid only during the call; binary when the client
     * sent a binary message). */
    void (*on_frame)(chat_conn_t *conn, const char *data, size_t len, int binary, void *arg);
    /* The connection is gone: conn must not be used after this returns. */
    void (*on_close)(chat_conn_t *conn, void *arg);
} chat_ws_handlers_t;

/* Adds the chat vhost on the configured bind host and port. Returns NULL (logged) when it
 * cannot listen. cfg, stats and arg must outlive it. */
chat_ws_t *chat_ws_new(uv_loop_t *loop, hk_web_t *web, const chat_config_t *cfg,
                       chat_stats_t *stats, const chat_ws_handlers_t *handlers, void *arg);

/* The port actually bound. */
int chat_ws_port(const chat_ws_t *ws);

/* Connections open now. */
size_t chat_ws_count(const chat_ws_t *ws);

/* Calls fn for every open connection (fn may close conn but must not destroy ws). */
void chat_ws_foreach(chat_ws_t *ws, void (*fn)(chat_conn_t *conn, void *arg), void *arg);

/* Refuses new websocket upgrades (503) and HTTP requests from now on. */
void chat_ws_drain(chat_ws_t *ws);

/* Stops calling the handlers, closes what is left and removes the vhost; the memory goes
 * when lws finalizes the vhost. Nulls the pointer. */
void chat_ws_destroy(chat_ws_t **ws_p);

/* Queues a text frame (copied). Returns 0, or -1 when the connection is closing or its queue
 * is full (the connection is then closed: the client does not read). */
int chat_conn_send(chat_conn_t *conn, const char *text, size_t len);

/* Queues obj as one compact JSON text frame (obj stays the caller's). Same returns. */
int chat_conn_send_json(chat_conn_t *conn, const json_t *obj);

/* Closes with code and reason (a static string) once the queued frames are written. */
void chat_conn_close(chat_conn_t *conn, int code, const char *reason);

/* True once a close was requested. */
int chat_conn_closing(const chat_conn_t *conn);

/* The caller's per-connection pointer (NULL until set). */
void chat_conn_set_user(chat_conn_t *conn, void *user);
void *chat_conn_user(const chat_conn_t *conn);

/* The client's address for logs ("" when unknown). */
const char *chat_conn_peer(const chat_conn_t *conn);

#endif
