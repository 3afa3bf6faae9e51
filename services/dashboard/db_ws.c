/* db_ws: the dashboard vhost (web app files and the websocket) on the shared lws context.
 *
 * Two protocols: "http" (protocols[0], plain HTTP: db_http) and hetki-dashboard.v1 (the
 * websocket). An upgrade is checked in LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION (path, Origin,
 * draining) and refused there with an HTTP status; an upgrade without our subprotocol lands
 * on protocols[0] and is refused the same way. Client messages arrive in chunks of at most
 * S_RX_BUFFER bytes and are gathered up to HETKI_DASHBOARD_MAX_FRAME (larger: close 1009). Frames
 * out are queued per connection and written from the writeable callback with LWS_PRE headroom,
 * several per callback while the socket takes them. An event frame is queued as a reference to
 * a body every connection shares (db_shared_t) plus its per-connection seq; events queued back
 * to back are written as one `events` message (one send instead of one per event), assembled
 * in a scratch buffer of the vhost. A writeable callback is asked for once until it comes.
 * A close waits until the queue is written; then, because a non-zero return from the
 * writeable callback makes lws drop the socket without a Close frame, the connection goes on
 * a kill list that a zero-delay timer closes from the loop (lws_close_reason followed by
 * LWS_TO_KILL_SYNC), so lws sends our Close code and waits for the client's. Idle and close
 * timeouts use real time (hk_limits_now_ms), never the virtual clock. */
#include "db_ws.h"

#include "db_http.h"
#include "db_limits.h"
#include "hk_clock.h"
#include "hk_log.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_RX_BUFFER 2048      /* lws rx chunk per connection */
#define S_OUT_MAX_FRAMES 4096 /* queued frames before the client counts as not reading */
#define S_WRITES_PER_CALLBACK 64
#define S_BATCH_MAX_BYTES 65536 /* events joined into one `events` message */
#define S_EVENT_HEAD_MAX 48     /* ,{"type":"event","seq":<20 digits>, */
#define S_BATCH_HEAD "{\"type\":\"events\",\"events\":["
#define S_WRITE_RETRY_MS 1000 /* a writeable callback asked for but not come: ask again */
#define S_CLOSE_GRACE_S 5     /* a close that cannot be written is forced after this */

struct db_shared_t {
    size_t refs;
    size_t len;
    char text[]; /* len bytes and a NUL */
};

typedef struct s_out {
    struct s_out *next;
    size_t len;          /* bytes it counts for in the queue */
    db_shared_t *sh;     /* an event frame's shared body (buf unused), or NULL */
    uint64_t seq;        /* the event frame's seq */
    unsigned char buf[]; /* other frames: LWS_PRE + len */
} s_out_t;

struct db_conn_t {
    struct lws *wsi;
    db_ws_t *ws;
    db_conn_t *prev, *next;
    void *user;
    s_out_t *out_head, *out_tail;
    size_t out_n, out_bytes;
    char *rx; /* a message being gathered from several chunks */
    size_t rx_len;
    int64_t last_rx_ms;
    int close_code;
    const char *close_reason;
    int write_asked;  /* a writeable callback was asked for and has not come yet */
    int64_t asked_ms; /* when it was asked for */
    int kill_pending; /* on the ws's kill list */
    int killed;       /* the close is lws's now */
    db_conn_t *kill_next;
    char peer[48];
};

struct db_ws_t {
    struct lws_vhost *vhost;
    const db_config_t *cfg;
    db_stats_t *stats;
    db_ws_handlers_t handlers;
    void *arg;
    db_http_t *http;
    hk_origins_t origins;
    db_conn_t *conns;
    size_t n_conns;
    uv_timer_t idle;
    uv_timer_t killer; /* closes the connections on kill_head, outside lws callbacks */
    db_conn_t *kill_head;
    char host[HK_CFG_STR_MAX]; /* lws keeps a pointer to the iface */
    int port;
    int draining;
    int destroying;
    int finalized;
    int handles_open;       /* libuv timers not yet closed */
    unsigned char *scratch; /* LWS_PRE + an `events` message being written */
    size_t scratch_cap;
};

static void s_free_ws(db_ws_t *ws) {
    db_http_destroy(&ws->http);
    free(ws->scratch);
    free(ws);
}

static void s_maybe_free(db_ws_t *ws) {
    if (ws->destroying && ws->finalized && ws->handles_open == 0) {
        s_free_ws(ws);
    }
}

db_shared_t *db_shared_new(const char *text, size_t len) {
    db_shared_t *sh = malloc(sizeof *sh + len + 1);
    if (!sh) {
        return NULL;
    }
    sh->refs = 1;
    sh->len = len;
    memcpy(sh->text, text, len);
    sh->text[len] = '\0';
    return sh;
}

db_shared_t *db_shared_ref(db_shared_t *sh) {
    assert(sh);
    sh->refs++;
    return sh;
}

void db_shared_unref(db_shared_t **sh_p) {
    assert(sh_p);
    db_shared_t *sh = *sh_p;
    *sh_p = NULL;
    if (sh && --sh->refs == 0) {
        free(sh);
    }
}

static void s_out_free(s_out_t *o) {
    db_shared_unref(&o->sh);
    free(o);
}

/* Asks lws for a writeable callback unless one is on its way. */
static void s_want_write(db_conn_t *c) {
    if (!c->write_asked && lws_callback_on_writable(c->wsi) == 1) {
        c->write_asked = 1;
        c->asked_ms = hk_limits_now_ms();
    }
}

/* Frees a connection's queue and gathered message. */
static void s_conn_clear(db_conn_t *c) {
    while (c->out_head) {
        s_out_t *o = c->out_head;
        c->out_head = o->next;
        s_out_free(o);
    }
    c->out_tail = NULL;
    c->out_n = c->out_bytes = 0;
    free(c->rx);
    c->rx = NULL;
    c->rx_len = 0;
}

static void s_request_close(db_conn_t *c, int code, const char *reason) {
    if (c->close_code) {
        return;
    }
    c->close_code = code;
    c->close_reason = reason ? reason : "";
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, S_CLOSE_GRACE_S);
    s_want_write(c);
}

static int s_enqueue(db_conn_t *c, s_out_t *o) {
    if (c->close_code) {
        s_out_free(o);
        return -1;
    }
    if (c->out_n >= S_OUT_MAX_FRAMES || c->out_bytes + o->len > (size_t)c->ws->cfg->out_max_bytes) {
        s_out_free(o);
        (*c->ws->stats->closed_slow)++;
        HK_WARN("dashboard.client_not_reading", "peer=%s frames=%zu bytes=%zu", c->peer, c->out_n,
                c->out_bytes);
        s_conn_clear(c);
        s_request_close(c, DB_CLOSE_POLICY, "not reading");
        return -1;
    }
    o->next = NULL;
    if (c->out_tail) {
        c->out_tail->next = o;
    } else {
        c->out_head = o;
    }
    c->out_tail = o;
    c->out_n++;
    c->out_bytes += o->len;
    (*c->ws->stats->frames_out)++;
    s_want_write(c);
    return 0;
}

int db_conn_send_event(db_conn_t *conn, uint64_t seq, db_shared_t *sh) {
    assert(conn && sh);
    s_out_t *o = malloc(sizeof *o);
    assert(o);
    o->len = sh->len + S_EVENT_HEAD_MAX;
    o->sh = db_shared_ref(sh);
    o->seq = seq;
    return s_enqueue(conn, o);
}

int db_conn_send(db_conn_t *conn, const char *text, size_t len) {
    assert(conn);
    s_out_t *o = malloc(sizeof *o + LWS_PRE + len);
    assert(o);
    o->len = len;
    o->sh = NULL;
    memcpy(o->buf + LWS_PRE, text, len);
    return s_enqueue(conn, o);
}

int db_conn_send_parts(db_conn_t *conn, const char *a, size_t alen, const char *b, size_t blen) {
    assert(conn);
    s_out_t *o = malloc(sizeof *o + LWS_PRE + alen + blen);
    assert(o);
    o->len = alen + blen;
    o->sh = NULL;
    memcpy(o->buf + LWS_PRE, a, alen);
    memcpy(o->buf + LWS_PRE + alen, b, blen);
    return s_enqueue(conn, o);
}

int db_conn_send_json(db_conn_t *conn, const json_t *obj) {
    assert(conn && obj);
    size_t len = json_dumpb(obj, NULL, 0, JSON_COMPACT);
    if (len == 0) {
        return -1;
    }
    s_out_t *o = malloc(sizeof *o + LWS_PRE + len);
    assert(o);
    o->sh = NULL;
    o->len = json_dumpb(obj, (char *)o->buf + LWS_PRE, len, JSON_COMPACT);
    assert(o->len == len);
    return s_enqueue(conn, o);
}

void db_conn_close(db_conn_t *conn, int code, const char *reason) {
    assert(conn);
    s_request_close(conn, code, reason);
}

int db_conn_closing(const db_conn_t *conn) {
    return conn->close_code != 0;
}

void db_conn_set_user(db_conn_t *conn, void *user) {
    conn->user = user;
}

void *db_conn_user(const db_conn_t *conn) {
    return conn->user;
}

const char *db_conn_peer(const db_conn_t *conn) {
    return conn->peer;
}

/* From the loop, never inside an lws callback: closes each connection on the kill list with
 * its code. lws_close_reason then a synchronous kill makes lws send the Close frame and wait
 * for the client's (5 s at most). */
static void s_on_killer(uv_timer_t *t) {
    db_ws_t *ws = t->data;
    while (ws->kill_head) {
        db_conn_t *c = ws->kill_head;
        ws->kill_head = c->kill_next;
        c->kill_pending = 0;
        c->killed = 1;
        struct lws *wsi = c->wsi;
        lws_close_reason(wsi, (enum lws_close_status)c->close_code,
                         (unsigned char *)c->close_reason, strlen(c->close_reason));
        lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC); /* c may be gone */
    }
}

/* Takes the next queued item off the queue. */
static s_out_t *s_pop(db_conn_t *c) {
    s_out_t *o = c->out_head;
    c->out_head = o->next;
    if (!c->out_head) {
        c->out_tail = NULL;
    }
    c->out_n--;
    c->out_bytes -= o->len;
    return o;
}

/* Writes the events at the head of the queue: one `event` frame, or several joined into one
 * `events` message (up to S_BATCH_MAX_BYTES). Returns lws_write's verdict: 0 or -1. */
static int s_write_events(db_conn_t *c) {
    db_ws_t *ws = c->ws;
    size_t need = LWS_PRE + sizeof S_BATCH_HEAD + 2;
    int n = 0;
    for (s_out_t *o = c->out_head; o && o->sh; o = o->next, n++) {
        if (n > 0 && need + o->len > LWS_PRE + S_BATCH_MAX_BYTES) {
            break;
        }
        need += o->len;
    }
    if (need > ws->scratch_cap) {
        unsigned char *grown = realloc(ws->scratch, need);
        assert(grown);
        ws->scratch = grown;
        ws->scratch_cap = need;
    }
    char *w = (char *)ws->scratch + LWS_PRE;
    size_t cap = need - LWS_PRE, at = 0;
    if (n > 1) {
        memcpy(w, S_BATCH_HEAD, sizeof S_BATCH_HEAD - 1);
        at = sizeof S_BATCH_HEAD - 1;
    }
    for (int i = 0; i < n; i++) {
        s_out_t *o = s_pop(c);
        at += (size_t)snprintf(w + at, cap - at, "%s{\"type\":\"event\",\"seq\":%llu,",
                               i > 0 ? "," : "", (unsigned long long)o->seq);
        memcpy(w + at, o->sh->text, o->sh->len);
        at += o->sh->len;
        s_out_free(o);
    }
    if (n > 1) {
        w[at++] = ']';
        w[at++] = '}';
    }
    int wrote = lws_write(c->wsi, (unsigned char *)w, at, LWS_WRITE_TEXT);
    return wrote < (int)at ? -1 : 0;
}

/* Writes the queued frames (several while the socket takes them), or the close once the
 * queue is empty. */
static int s_on_writeable(db_conn_t *c) {
    c->write_asked = 0;
    if (c->out_head) {
        /* Several frames per callback while the socket takes them (fan-out to many clients
         * would otherwise cost one poll round per frame). */
        for (int i = 0; c->out_head && i < S_WRITES_PER_CALLBACK; i++) {
            if (i > 0 && lws_send_pipe_choked(c->wsi)) {
                break;
            }
            if (c->out_head->sh) {
                if (s_write_events(c) != 0) {
                    return -1;
                }
                continue;
            }
            s_out_t *o = s_pop(c);
            int n = lws_write(c->wsi, o->buf + LWS_PRE, o->len, LWS_WRITE_TEXT);
            int failed = n < (int)o->len;
            s_out_free(o);
            if (failed) {
                return -1;
            }
        }
        if (c->out_head || c->close_code) {
            s_want_write(c);
        }
        return 0;
    }
    if (c->close_code && !c->kill_pending && !c->killed) {
        /* Returning -1 here would drop the socket without a Close frame (lws treats it as a
         * failed write); the close is made from the loop instead (s_on_killer). */
        c->kill_pending = 1;
        c->kill_next = c->ws->kill_head;
        c->ws->kill_head = c;
        uv_timer_start(&c->ws->killer, s_on_killer, 0, 0);
    }
    return 0;
}

/* A chunk of a client message: gathers it, refuses it when too big, delivers it when whole. */
static int s_on_receive(db_ws_t *ws, db_conn_t *c, const char *in, size_t len) {
    c->last_rx_ms = hk_limits_now_ms();
    size_t total = c->rx_len + len + lws_remaining_packet_payload(c->wsi);
    if (total > (size_t)ws->cfg->max_frame) {
        (*ws->stats->closed_too_big)++;
        HK_INFO("dashboard.frame_too_big", "peer=%s bytes=%zu max=%ld", c->peer, total,
                ws->cfg->max_frame);
        s_conn_clear(c);
        c->close_code = DB_CLOSE_TOO_BIG;
        c->close_reason = "message too big";
        lws_close_reason(c->wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
                         (unsigned char *)"message too big", 15);
        return -1;
    }
    int final = lws_is_final_fragment(c->wsi);
    if (c->close_code) {
        return 0; /* closing: what arrives now is dropped */
    }
    if (final && !c->rx) {
        (*ws->stats->frames_in)++;
        if (ws->handlers.on_frame) {
            ws->handlers.on_frame(c, in, len, lws_frame_is_binary(c->wsi), ws->arg);
        }
        return 0;
    }
    char *grown = realloc(c->rx, c->rx_len + len + 1);
    assert(grown);
    c->rx = grown;
    memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
    if (final) {
        char *data = c->rx;
        size_t n = c->rx_len;
        c->rx = NULL;
        c->rx_len = 0;
        (*ws->stats->frames_in)++;
        if (ws->handlers.on_frame) {
            ws->handlers.on_frame(c, data, n, lws_frame_is_binary(c->wsi), ws->arg);
        }
        free(data);
    }
    return 0;
}

/* Refuses an upgrade with an HTTP status: returns non-zero for lws to drop it. */
static int s_refuse(db_ws_t *ws, struct lws *wsi, unsigned int status, const char *why) {
    if (ws) {
        (*ws->stats->refused)++;
    }
    HK_INFO("dashboard.upgrade_refused", "status=%u reason=\"%s\"", status, why);
    lws_return_http_status(wsi, status, why);
    return -1;
}

/* LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: the path, the Origin and whether we accept. */
static int s_filter(db_ws_t *ws, struct lws *wsi) {
    char uri[64] = "";
    char origin[HK_ORIGIN_MAX * 2] = "";
    if (!ws || ws->draining || ws->destroying) {
        return s_refuse(ws, wsi, HTTP_STATUS_SERVICE_UNAVAILABLE, "draining");
    }
    if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0 ||
        strcmp(uri, DB_WS_PATH) != 0) {
        return s_refuse(ws, wsi, HTTP_STATUS_NOT_FOUND, "no websocket here");
    }
    int n = lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) > 0
                ? lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN)
                : 0;
    if (n < 0 || !hk_origins_allow(&ws->origins, n > 0 ? origin : NULL)) {
        char quoted[sizeof origin + 3];
        HK_INFO("dashboard.origin_refused", "origin=%s",
                hk_log_quote(quoted, sizeof quoted, n > 0 ? origin : ""));
        return s_refuse(ws, wsi, HTTP_STATUS_FORBIDDEN, "origin not allowed");
    }
    return 0;
}

static void s_on_established(db_ws_t *ws, struct lws *wsi, db_conn_t *c) {
    memset(c, 0, sizeof *c);
    c->wsi = wsi;
    c->ws = ws;
    c->last_rx_ms = hk_limits_now_ms();
    lws_get_peer_simple(wsi, c->peer, sizeof c->peer);
    c->next = ws->conns;
    if (ws->conns) {
        ws->conns->prev = c;
    }
    ws->conns = c;
    ws->n_conns++;
    *ws->stats->connections = (double)ws->n_conns;
    (*ws->stats->connections_total)++;
    if (ws->handlers.on_open) {
        ws->handlers.on_open(c, ws->arg);
    }
}

static void s_on_closed(db_ws_t *ws, db_conn_t *c) {
    if (!c->ws) {
        return; /* never established */
    }
    if (c->prev) {
        c->prev->next = c->next;
    } else {
        ws->conns = c->next;
    }
    if (c->next) {
        c->next->prev = c->prev;
    }
    ws->n_conns--;
    *ws->stats->connections = (double)ws->n_conns;
    if (c->kill_pending) {
        for (db_conn_t **pp = &ws->kill_head; *pp; pp = &(*pp)->kill_next) {
            if (*pp == c) {
                *pp = c->kill_next;
                break;
            }
        }
        c->kill_pending = 0;
    }
    s_conn_clear(c);
    if (ws->handlers.on_close) {
        ws->handlers.on_close(c, ws->arg);
    }
    c->ws = NULL;
}

static int s_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len) {
    db_ws_t *ws = lws_vhost_user(lws_get_vhost(wsi));
    db_conn_t *c = user;
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return s_filter(ws, wsi);
    case LWS_CALLBACK_ESTABLISHED:
        if (!ws || !c) {
            return -1;
        }
        s_on_established(ws, wsi, c);
        return 0;
    case LWS_CALLBACK_RECEIVE:
        return ws && c && c->ws ? s_on_receive(ws, c, in, len) : -1;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return c && c->ws ? s_on_writeable(c) : -1;
    case LWS_CALLBACK_CLOSED:
        if (ws && c) {
            s_on_closed(ws, c);
        }
        return 0;
    default:
        return 0;
    }
}

static int s_http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                           size_t len) {
    db_ws_t *ws = lws_vhost_user(lws_get_vhost(wsi));
    if (reason == LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION) {
        return s_refuse(ws, wsi, HTTP_STATUS_BAD_REQUEST,
                        "subprotocol " DB_WS_SUBPROTOCOL " required");
    }
    return db_http_callback(ws ? ws->http : NULL, wsi, reason, user, in, len);
}

static const struct lws_protocols s_protocols[] = {
    {"http", s_http_callback, sizeof(db_http_pss_t), 0, 0, NULL, 0},
    {DB_WS_SUBPROTOCOL, s_ws_callback, sizeof(db_conn_t), S_RX_BUFFER, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* Every second or so: connections silent longer than HETKI_DB_IDLE_S are closed (1008). */
static void s_on_idle_timer(uv_timer_t *t) {
    db_ws_t *ws = t->data;
    int64_t now = hk_limits_now_ms();
    int64_t limit = (int64_t)ws->cfg->idle_s * 1000;
    for (db_conn_t *c = ws->conns; c; c = c->next) {
        if (c->write_asked && now - c->asked_ms >= S_WRITE_RETRY_MS) {
            c->write_asked = 0; /* never lose a queue to a request lws dropped */
            s_want_write(c);
        }
        if (!c->close_code && now - c->last_rx_ms >= limit) {
            (*ws->stats->closed_policy)++;
            HK_INFO("dashboard.idle_close", "peer=%s idle_s=%ld", c->peer, ws->cfg->idle_s);
            s_request_close(c, DB_CLOSE_POLICY, "idle timeout");
        }
    }
}

static void s_on_timer_closed(uv_handle_t *h) {
    db_ws_t *ws = h->data;
    ws->handles_open--;
    s_maybe_free(ws);
}

static void s_finalize(struct lws_vhost *vh, void *arg) {
    db_ws_t *ws = arg;
    (void)vh;
    ws->vhost = NULL;
    ws->finalized = 1;
    s_maybe_free(ws);
}

db_ws_t *db_ws_new(uv_loop_t *loop, hk_web_t *web, const db_config_t *cfg, db_stats_t *stats,
                   const db_ws_handlers_t *handlers, void *arg) {
    assert(loop && web && cfg && stats && handlers);
    db_ws_t *ws = calloc(1, sizeof *ws);
    assert(ws);
    ws->cfg = cfg;
    ws->stats = stats;
    ws->handlers = *handlers;
    ws->arg = arg;
    snprintf(ws->host, sizeof ws->host, "%s", cfg->base.bind_host);
    if (hk_origins_parse(&ws->origins, cfg->origins_text) != 0) {
        HK_ERROR("dashboard.bad_origins", "origins=\"%s\"", cfg->origins_text);
        free(ws);
        return NULL;
    }
    struct lws_context_creation_info info;
    if (hk_web_vhost_info(&info, ws->host, (int)cfg->port) != 0) {
        free(ws);
        return NULL;
    }
    ws->http = db_http_new();
    info.vhost_name = "dashboard";
    info.protocols = s_protocols;
    info.user = ws;
    info.finalize = s_finalize;
    info.finalize_arg = ws;
    info.keepalive_timeout = 5;
    info.timeout_secs = 10;
    ws->vhost = lws_create_vhost(hk_web_context(web), &info);
    if (!ws->vhost) {
        HK_ERROR("dashboard.bind_failed", "host=%s port=%ld", ws->host, cfg->port);
        ws->destroying = 1;
        if (ws->finalized) {
            s_free_ws(ws);
        }
        return NULL;
    }
    ws->port = lws_get_vhost_listen_port(ws->vhost);
    uv_timer_init(loop, &ws->idle);
    ws->idle.data = ws;
    uv_timer_init(loop, &ws->killer);
    ws->killer.data = ws;
    ws->handles_open = 2;
    uint64_t period = cfg->idle_s * 1000 / 4;
    period = period < 100 ? 100 : period > 1000 ? 1000 : period;
    uv_timer_start(&ws->idle, s_on_idle_timer, period, period);
    HK_INFO("dashboard.listening", "port=%d path=%s subprotocol=%s", ws->port, DB_WS_PATH,
            DB_WS_SUBPROTOCOL);
    return ws;
}

int db_ws_port(const db_ws_t *ws) {
    return ws->port;
}

size_t db_ws_count(const db_ws_t *ws) {
    return ws->n_conns;
}

void db_ws_foreach(db_ws_t *ws, void (*fn)(db_conn_t *conn, void *arg), void *arg) {
    db_conn_t *next;
    for (db_conn_t *c = ws->conns; c; c = next) {
        next = c->next; /* fn only requests closes: the list does not change under us */
        fn(c, arg);
    }
}

void db_ws_drain(db_ws_t *ws) {
    ws->draining = 1;
    db_http_drain(ws->http);
}

void db_ws_destroy(db_ws_t **ws_p) {
    assert(ws_p);
    db_ws_t *ws = *ws_p;
    if (!ws) {
        return;
    }
    *ws_p = NULL;
    memset(&ws->handlers, 0, sizeof ws->handlers);
    ws->destroying = 1;
    db_ws_drain(ws);
    uv_timer_stop(&ws->idle);
    uv_close((uv_handle_t *)&ws->idle, s_on_timer_closed);
    uv_timer_stop(&ws->killer);
    uv_close((uv_handle_t *)&ws->killer, s_on_timer_closed);
    ws->kill_head = NULL; /* lws closes what is left */
    /* lws closes the listener and what is left, then calls s_finalize (maybe later). */
    lws_vhost_destroy(ws->vhost);
}
