/* hk_ws_server: a service's vhost (files and one websocket) on the shared lws context.
 *
 * Two protocols: "http" (protocols[0], plain HTTP: hk_web_files) and the service's subprotocol
 * (the websocket). An upgrade is checked in LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION (path,
 * Origin, draining) and refused there with an HTTP status; an upgrade without our subprotocol
 * lands on protocols[0] and is refused the same way. Client messages arrive in chunks of at
 * most S_RX_BUFFER bytes and are gathered up to max_frame (larger: close 1009). Each
 * connection's send queue and close are hk_ws_conn.c's. Idle and close timeouts use real time
 * (hk_limits_now_ms), never the virtual clock. */
#include "hk_ws_server_int.h"

#include "hk_log.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_RX_BUFFER 2048      /* lws rx chunk per connection */
#define S_WRITE_RETRY_MS 1000 /* a writeable callback asked for but not come: ask again */

static const char *const s_event_names[HK_WS_EV_COUNT] = {
    "listening",      "bind_failed",   "bad_origins", "upgrade_refused",
    "origin_refused", "frame_too_big", "idle_close",  "client_not_reading"};

static void s_free_ws(hk_ws_server_t *ws) {
    hk_web_files_destroy(&ws->files);
    free(ws->scratch);
    free(ws);
}

static void s_maybe_free(hk_ws_server_t *ws) {
    if (ws->destroying && ws->finalized && ws->handles_open == 0) {
        s_free_ws(ws);
    }
}

/* Hands a whole client message to the handler. */
static void s_deliver(hk_ws_server_t *ws, hk_ws_conn_t *c, const char *data, size_t len) {
    (*ws->stats.frames_in)++;
    if (ws->handlers.on_frame) {
        ws->handlers.on_frame(c, data, len, lws_frame_is_binary(c->wsi), ws->arg);
    }
}

/* A chunk of a client message: gathers it, refuses it when too big, delivers it when whole. */
static int s_on_receive(hk_ws_server_t *ws, hk_ws_conn_t *c, const char *in, size_t len) {
    c->last_rx_ms = hk_limits_now_ms();
    size_t total = c->rx_len + len + lws_remaining_packet_payload(c->wsi);
    if (total > (size_t)ws->cfg.max_frame) {
        (*ws->stats.closed_too_big)++;
        HK_INFO(ws->events[HK_WS_EV_TOO_BIG], "peer=%s bytes=%zu max=%ld", c->peer, total,
                ws->cfg.max_frame);
        hk_ws_conn_clear(c);
        c->close_code = HK_WS_CLOSE_TOO_BIG;
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
        s_deliver(ws, c, in, len);
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
        s_deliver(ws, c, data, n);
        free(data);
    }
    return 0;
}

/* Refuses an upgrade with an HTTP status: returns non-zero for lws to drop it. */
static int s_refuse(hk_ws_server_t *ws, struct lws *wsi, unsigned int status, const char *why) {
    if (ws) {
        (*ws->stats.refused)++;
        HK_INFO(ws->events[HK_WS_EV_REFUSED], "status=%u reason=\"%s\"", status, why);
    }
    lws_return_http_status(wsi, status, why);
    return -1;
}

/* LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: the path, the Origin and whether we accept. */
static int s_filter(hk_ws_server_t *ws, struct lws *wsi) {
    char uri[64] = "";
    char origin[HK_ORIGIN_MAX * 2] = "";
    if (!ws || ws->draining || ws->destroying) {
        return s_refuse(ws, wsi, HTTP_STATUS_SERVICE_UNAVAILABLE, "draining");
    }
    if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0 ||
        strcmp(uri, ws->cfg.path) != 0) {
        return s_refuse(ws, wsi, HTTP_STATUS_NOT_FOUND, "no websocket here");
    }
    int n = lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) > 0
                ? lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN)
                : 0;
    if (n < 0 || !hk_origins_allow(&ws->origins, n > 0 ? origin : NULL)) {
        char quoted[sizeof origin + 3];
        HK_INFO(ws->events[HK_WS_EV_ORIGIN], "origin=%s",
                hk_log_quote(quoted, sizeof quoted, n > 0 ? origin : ""));
        return s_refuse(ws, wsi, HTTP_STATUS_FORBIDDEN, "origin not allowed");
    }
    return 0;
}

static void s_on_established(hk_ws_server_t *ws, struct lws *wsi, hk_ws_conn_t *c) {
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
    *ws->stats.connections = (double)ws->n_conns;
    (*ws->stats.connections_total)++;
    if (ws->handlers.on_open) {
        ws->handlers.on_open(c, ws->arg);
    }
}

static void s_on_closed(hk_ws_server_t *ws, hk_ws_conn_t *c) {
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
    *ws->stats.connections = (double)ws->n_conns;
    if (c->kill_pending) {
        for (hk_ws_conn_t **pp = &ws->kill_head; *pp; pp = &(*pp)->kill_next) {
            if (*pp == c) {
                *pp = c->kill_next;
                break;
            }
        }
        c->kill_pending = 0;
    }
    hk_ws_conn_clear(c);
    if (ws->handlers.on_close) {
        ws->handlers.on_close(c, ws->arg);
    }
    c->ws = NULL;
}

static int s_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len) {
    hk_ws_server_t *ws = lws_vhost_user(lws_get_vhost(wsi));
    hk_ws_conn_t *c = user;
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
        return c && c->ws ? hk_ws_conn_writeable(c) : -1;
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
    hk_ws_server_t *ws = lws_vhost_user(lws_get_vhost(wsi));
    if (reason == LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION) {
        return s_refuse(ws, wsi, HTTP_STATUS_BAD_REQUEST,
                        ws ? ws->refuse_why : "subprotocol required");
    }
    return hk_web_files_callback(ws ? ws->files : NULL, wsi, reason, user, in, len);
}

/* Every second or so: re-asks lost writeable callbacks, and closes connections silent longer
 * than idle_s (1008). */
static void s_on_idle_timer(uv_timer_t *t) {
    hk_ws_server_t *ws = t->data;
    int64_t now = hk_limits_now_ms();
    int64_t limit = (int64_t)ws->cfg.idle_s * 1000;
    for (hk_ws_conn_t *c = ws->conns; c; c = c->next) {
        if (c->write_asked && now - c->asked_ms >= S_WRITE_RETRY_MS) {
            c->write_asked = 0; /* never lose a queue to a request lws dropped */
            hk_ws_conn_want_write(c);
        }
        if (!c->close_code && now - c->last_rx_ms >= limit) {
            (*ws->stats.closed_policy)++;
            HK_INFO(ws->events[HK_WS_EV_IDLE], "peer=%s idle_s=%ld", c->peer, ws->cfg.idle_s);
            hk_ws_conn_close(c, HK_WS_CLOSE_POLICY, "idle timeout");
        }
    }
}

static void s_on_timer_closed(uv_handle_t *h) {
    hk_ws_server_t *ws = h->data;
    ws->handles_open--;
    s_maybe_free(ws);
}

static void s_finalize(struct lws_vhost *vh, void *arg) {
    hk_ws_server_t *ws = arg;
    (void)vh;
    ws->vhost = NULL;
    ws->finalized = 1;
    s_maybe_free(ws);
}

/* Fills in what lws and the log lines need from cfg. */
static void s_setup(hk_ws_server_t *ws) {
    for (int i = 0; i < HK_WS_EV_COUNT; i++) {
        snprintf(ws->events[i], sizeof ws->events[i], "%s.%s", ws->cfg.name, s_event_names[i]);
    }
    snprintf(ws->refuse_why, sizeof ws->refuse_why, "subprotocol %s required", ws->cfg.subprotocol);
    snprintf(ws->host, sizeof ws->host, "%s", ws->cfg.bind_host ? ws->cfg.bind_host : "");
    ws->protocols[0] =
        (struct lws_protocols){"http", s_http_callback, sizeof(hk_web_files_pss_t), 0, 0, NULL, 0};
    ws->protocols[1] = (struct lws_protocols){
        ws->cfg.subprotocol, s_ws_callback, sizeof(hk_ws_conn_t), S_RX_BUFFER, 0, NULL, 0};
}

hk_ws_server_t *hk_ws_server_new(uv_loop_t *loop, hk_web_t *web, const hk_ws_config_t *cfg,
                                 const hk_ws_stats_t *stats, hk_web_files_t *files,
                                 const hk_ws_handlers_t *handlers, void *arg) {
    assert(loop && web && cfg && stats && handlers && cfg->name && cfg->subprotocol && cfg->path);
    assert(cfg->writes_per_callback > 0 && (!cfg->batch_head || cfg->shared_prefix));
    hk_ws_server_t *ws = calloc(1, sizeof *ws);
    assert(ws);
    ws->cfg = *cfg;
    ws->stats = *stats;
    ws->handlers = *handlers;
    ws->arg = arg;
    ws->files = files;
    s_setup(ws);
    struct lws_context_creation_info info;
    if (hk_origins_parse(&ws->origins, cfg->origins) != 0) {
        HK_ERROR(ws->events[HK_WS_EV_BAD_ORIGINS], "origins=\"%s\"", cfg->origins);
        s_free_ws(ws);
        return NULL;
    }
    if (hk_web_vhost_info(&info, ws->host, (int)cfg->port) != 0) {
        s_free_ws(ws);
        return NULL;
    }
    info.vhost_name = cfg->name;
    info.protocols = ws->protocols;
    info.user = ws;
    info.finalize = s_finalize;
    info.finalize_arg = ws;
    info.keepalive_timeout = 5;
    info.timeout_secs = 10;
    ws->vhost = lws_create_vhost(hk_web_context(web), &info);
    if (!ws->vhost) {
        HK_ERROR(ws->events[HK_WS_EV_BIND_FAILED], "host=%s port=%ld", ws->host, cfg->port);
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
    uint64_t period = (uint64_t)cfg->idle_s * 1000 / 4;
    period = period < 100 ? 100 : period > 1000 ? 1000 : period;
    uv_timer_start(&ws->idle, s_on_idle_timer, period, period);
    HK_INFO(ws->events[HK_WS_EV_LISTENING], "port=%d path=%s subprotocol=%s", ws->port, cfg->path,
            cfg->subprotocol);
    return ws;
}

int hk_ws_server_port(const hk_ws_server_t *ws) {
    return ws->port;
}

size_t hk_ws_server_count(const hk_ws_server_t *ws) {
    return ws->n_conns;
}

void hk_ws_server_foreach(hk_ws_server_t *ws, void (*fn)(hk_ws_conn_t *conn, void *arg),
                          void *arg) {
    hk_ws_conn_t *next;
    for (hk_ws_conn_t *c = ws->conns; c; c = next) {
        next = c->next; /* fn only requests closes: the list does not change under us */
        fn(c, arg);
    }
}

void hk_ws_server_drain(hk_ws_server_t *ws) {
    ws->draining = 1;
    if (ws->files) {
        hk_web_files_drain(ws->files);
    }
}

void hk_ws_server_destroy(hk_ws_server_t **ws_p) {
    assert(ws_p);
    hk_ws_server_t *ws = *ws_p;
    if (!ws) {
        return;
    }
    *ws_p = NULL;
    memset(&ws->handlers, 0, sizeof ws->handlers);
    ws->destroying = 1;
    hk_ws_server_drain(ws);
    uv_timer_stop(&ws->idle);
    uv_close((uv_handle_t *)&ws->idle, s_on_timer_closed);
    uv_timer_stop(&ws->killer);
    uv_close((uv_handle_t *)&ws->killer, s_on_timer_closed);
    ws->kill_head = NULL; /* lws closes what is left */
    /* lws closes the listener and what is left, then calls s_finalize (maybe later). */
    lws_vhost_destroy(ws->vhost);
}
