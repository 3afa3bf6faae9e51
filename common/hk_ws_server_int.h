/* hk_ws_server_int: what hk_ws_server.c (the vhost, upgrades, receiving, the connection list)
 * and hk_ws_conn.c (each connection's send queue, shared frames, the deferred close) share.
 * Not for services: they use hk_ws_server.h. */
#ifndef HK_WS_SERVER_INT_H
#define HK_WS_SERVER_INT_H

#include "hk_config.h"
#include "hk_limits.h"
#include "hk_ws_server.h"

/* The log events, "<name>.<event>" (hk_ws_server_t.events). */
enum {
    HK_WS_EV_LISTENING,
    HK_WS_EV_BIND_FAILED,
    HK_WS_EV_BAD_ORIGINS,
    HK_WS_EV_REFUSED,
    HK_WS_EV_ORIGIN,
    HK_WS_EV_TOO_BIG,
    HK_WS_EV_IDLE,
    HK_WS_EV_SLOW,
    HK_WS_EV_COUNT
};

struct hk_ws_shared_t {
    size_t refs;
    size_t len;
    char text[]; /* len bytes and a NUL */
};

typedef struct hk_ws_out {
    struct hk_ws_out *next;
    size_t len;          /* bytes it counts for in the queue */
    hk_ws_shared_t *sh;  /* a shared frame's body (buf unused), or NULL */
    uint64_t seq;        /* the shared frame's seq */
    unsigned char buf[]; /* other frames: LWS_PRE + len */
} hk_ws_out_t;

struct hk_ws_conn_t {
    struct lws *wsi;
    hk_ws_server_t *ws;
    hk_ws_conn_t *prev, *next;
    void *user;
    hk_ws_out_t *out_head, *out_tail;
    size_t out_n, out_bytes;
    char *rx; /* a message being gathered from several chunks */
    size_t rx_len;
    int64_t last_rx_ms;
    int close_code;
    const char *close_reason;
    int write_asked;  /* a writeable callback was asked for and has not come yet */
    int64_t asked_ms; /* when it was asked for */
    int kill_pending; /* on the server's kill list */
    int killed;       /* the close is lws's now */
    hk_ws_conn_t *kill_next;
    char peer[48];
};

struct hk_ws_server_t {
    struct lws_vhost *vhost;
    hk_ws_config_t cfg;
    hk_ws_stats_t stats;
    hk_ws_handlers_t handlers;
    void *arg;
    hk_web_files_t *files;
    hk_origins_t origins;
    hk_ws_conn_t *conns;
    size_t n_conns;
    uv_timer_t idle;
    uv_timer_t killer; /* closes the connections on kill_head, outside lws callbacks */
    hk_ws_conn_t *kill_head;
    char host[HK_CFG_STR_MAX]; /* lws keeps a pointer to the iface */
    char refuse_why[128];      /* the 400 reason for an upgrade without our subprotocol */
    char events[HK_WS_EV_COUNT][64];
    struct lws_protocols protocols[3]; /* lws keeps a pointer */
    int port;
    int draining;
    int destroying;
    int finalized;
    int handles_open;       /* libuv timers not yet closed */
    unsigned char *scratch; /* LWS_PRE + a batch being written */
    size_t scratch_cap;
};

/* Asks lws for a writeable callback unless one is on its way. */
void hk_ws_conn_want_write(hk_ws_conn_t *c);

/* Frees a connection's queue and gathered message. */
void hk_ws_conn_clear(hk_ws_conn_t *c);

/* LWS_CALLBACK_SERVER_WRITEABLE: writes queued frames, or starts the close once the queue is
 * empty. Returns what the lws callback returns. */
int hk_ws_conn_writeable(hk_ws_conn_t *c);

#endif
