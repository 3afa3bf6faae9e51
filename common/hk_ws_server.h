/* hk_ws_server: a service's websocket port on the shared hk_web context: one vhost serving
 * embedded files (hk_web_files) and one websocket path with one subprotocol. It enforces what
 * belongs to the transport: the Origin allowlist (403 before the upgrade), 503 while draining,
 * the size of client messages (close 1009), the idle timeout (close 1008), and a bounded send
 * queue per connection (a client that does not read is closed 1008) written only from the
 * writeable callback, with the Close frame sent once the queue is written. Frames out may share
 * a refcounted body (hk_ws_shared_t) with a per-connection sequence number; such frames queued
 * back to back can be joined into one batch message. What the frames mean is the caller's,
 * through the handlers. Log events are "<name>.<event>" (listening, bind_failed, bad_origins,
 * upgrade_refused, origin_refused, frame_too_big, idle_close, client_not_reading). */
#ifndef HK_WS_SERVER_H
#define HK_WS_SERVER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "hk_web.h"
#include "hk_web_files.h"

/* Close codes (RFC 6455) the transport uses. */
#define HK_WS_CLOSE_POLICY 1008
#define HK_WS_CLOSE_TOO_BIG 1009

typedef struct hk_ws_server_t hk_ws_server_t;
typedef struct hk_ws_conn_t hk_ws_conn_t;
typedef struct hk_ws_shared_t hk_ws_shared_t;

typedef struct {
    /* A websocket connection was established. */
    void (*on_open)(hk_ws_conn_t *conn, void *arg);
    /* A complete client message (data valid only during the call; binary when the client
     * sent a binary message). */
    void (*on_frame)(hk_ws_conn_t *conn, const char *data, size_t len, int binary, void *arg);
    /* The connection is gone: conn must not be used after this returns. */
    void (*on_close)(hk_ws_conn_t *conn, void *arg);
} hk_ws_handlers_t;

/* The service's counters the transport keeps (every pointer set). */
typedef struct {
    double *connections;         /* connections open now */
    uint64_t *connections_total; /* connections accepted */
    uint64_t *refused;           /* upgrades refused (Origin, path, draining) */
    uint64_t *frames_in;         /* client messages received */
    uint64_t *frames_out;        /* frames queued for clients */
    uint64_t *closed_policy;     /* closes with 1008 (the transport counts idle closes) */
    uint64_t *closed_too_big;    /* closes with 1009 */
    uint64_t *closed_slow;       /* closes because the client did not read its frames */
} hk_ws_stats_t;

typedef struct {
    const char *name;        /* vhost name and log event prefix ("chat") */
    const char *subprotocol; /* the one websocket subprotocol accepted */
    const char *path;        /* the websocket path ("/ws") */
    const char *bind_host;   /* copied; see hk_web_vhost_info */
    long port;               /* 0: the kernel picks */
    const char *origins;     /* the Origin allowlist text (hk_origins_parse) */
    long max_frame;          /* bytes of one client message */
    long idle_s;             /* silent this long: close 1008 */
    size_t out_max_frames;   /* queued frames before the client counts as not reading */
    size_t out_max_bytes;    /* queued bytes, same */
    int writes_per_callback; /* frames written per writeable callback while the socket takes them */
    /* Shared frames: each is written as shared_prefix, its seq, ",", then its body; several
     * queued back to back are joined as batch_head, the frames separated by ",", then "]}",
     * up to batch_max_bytes. NULL shared_prefix: no shared frames. */
    const char *shared_prefix;
    const char *batch_head;
    size_t batch_max_bytes;
} hk_ws_config_t;

/* Adds the vhost on cfg's bind host and port, serving files (taken over; may be NULL: every
 * HTTP request is 503). Returns NULL (logged; files freed) when it cannot listen. The strings
 * of cfg (but bind_host), handlers, stats' counters and arg must outlive the server. */
hk_ws_server_t *hk_ws_server_new(uv_loop_t *loop, hk_web_t *web, const hk_ws_config_t *cfg,
                                 const hk_ws_stats_t *stats, hk_web_files_t *files,
                                 const hk_ws_handlers_t *handlers, void *arg);

/* The port actually bound. */
int hk_ws_server_port(const hk_ws_server_t *ws);

/* Connections open now. */
size_t hk_ws_server_count(const hk_ws_server_t *ws);

/* Calls fn for every open connection (fn may close conn but must not destroy ws). */
void hk_ws_server_foreach(hk_ws_server_t *ws, void (*fn)(hk_ws_conn_t *conn, void *arg), void *arg);

/* Refuses new websocket upgrades (503) and HTTP requests from now on. */
void hk_ws_server_drain(hk_ws_server_t *ws);

/* Stops calling the handlers, closes what is left and removes the vhost; the memory goes
 * when lws finalizes the vhost. Nulls the pointer. */
void hk_ws_server_destroy(hk_ws_server_t **ws_p);

/* Copies text into a new shared frame body with one reference, or NULL when out of memory. */
hk_ws_shared_t *hk_ws_shared_new(const char *text, size_t len);

/* Adds a reference; returns sh. */
hk_ws_shared_t *hk_ws_shared_ref(hk_ws_shared_t *sh);

/* Drops a reference (the body goes with the last one). Nulls the pointer. */
void hk_ws_shared_unref(hk_ws_shared_t **sh_p);

/* Queues the shared frame <shared_prefix><seq>,<sh> (takes a reference); see
 * hk_ws_config_t for batching. Same returns as hk_ws_conn_send. */
int hk_ws_conn_send_shared(hk_ws_conn_t *conn, uint64_t seq, hk_ws_shared_t *sh);

/* Queues a text frame (copied). Returns 0, or -1 when the connection is closing or its queue
 * is full (the connection is then closed: the client does not read). */
int hk_ws_conn_send(hk_ws_conn_t *conn, const char *text, size_t len);

/* Queues the text frame a followed by b (both copied). Same returns. */
int hk_ws_conn_send_parts(hk_ws_conn_t *conn, const char *a, size_t alen, const char *b,
                          size_t blen);

/* Queues obj as one compact JSON text frame (obj stays the caller's). Same returns. */
int hk_ws_conn_send_json(hk_ws_conn_t *conn, const json_t *obj);

/* Closes with code and reason (a static string) once the queued frames are written. */
void hk_ws_conn_close(hk_ws_conn_t *conn, int code, const char *reason);

/* True once a close was requested. */
int hk_ws_conn_closing(const hk_ws_conn_t *conn);

/* Sets the caller's per-connection pointer. */
void hk_ws_conn_set_user(hk_ws_conn_t *conn, void *user);

/* The caller's per-connection pointer (NULL until set). */
void *hk_ws_conn_user(const hk_ws_conn_t *conn);

/* The client's address for logs ("" when unknown). */
const char *hk_ws_conn_peer(const hk_ws_conn_t *conn);

#endif
