/* hk_ws_conn: a connection's side of hk_ws_server: the bounded send queue, shared frames and
 * the deferred close.
 *
 * Frames out are queued per connection and written from the writeable callback with LWS_PRE
 * headroom, up to writes_per_callback per callback while the socket takes them. A shared frame
 * is queued as a reference to a body many connections share plus its per-connection seq;
 * shared frames queued back to back are written as one batch message (one send instead of one
 * per frame), assembled in a scratch buffer of the vhost. A writeable callback is asked for
 * once until it comes (hk_ws_server asks again should lws have dropped the request). A close
 * waits until the queue is written; then, because a non-zero return from the writeable
 * callback makes lws drop the socket without a Close frame, the connection goes on a kill list
 * that a zero-delay timer closes from the loop (lws_close_reason followed by LWS_TO_KILL_SYNC),
 * so lws sends our Close code and waits for the client's. */
#include "hk_ws_server_int.h"

#include "hk_log.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_SHARED_HEAD_EXTRA 26 /* a shared frame's ",", seq (20 digits) and "," with slack */
#define S_BATCH_TAIL "]}"
#define S_CLOSE_GRACE_S 5 /* a close that cannot be written is forced after this */

hk_ws_shared_t *hk_ws_shared_new(const char *text, size_t len) {
    hk_ws_shared_t *sh = malloc(sizeof *sh + len + 1);
    if (!sh) {
        return NULL;
    }
    sh->refs = 1;
    sh->len = len;
    memcpy(sh->text, text, len);
    sh->text[len] = '\0';
    return sh;
}

hk_ws_shared_t *hk_ws_shared_ref(hk_ws_shared_t *sh) {
    assert(sh);
    sh->refs++;
    return sh;
}

void hk_ws_shared_unref(hk_ws_shared_t **sh_p) {
    assert(sh_p);
    hk_ws_shared_t *sh = *sh_p;
    *sh_p = NULL;
    if (sh && --sh->refs == 0) {
        free(sh);
    }
}

static void s_out_free(hk_ws_out_t *o) {
    hk_ws_shared_unref(&o->sh);
    free(o);
}

void hk_ws_conn_want_write(hk_ws_conn_t *c) {
    if (!c->write_asked && lws_callback_on_writable(c->wsi) == 1) {
        c->write_asked = 1;
        c->asked_ms = hk_limits_now_ms();
    }
}

void hk_ws_conn_clear(hk_ws_conn_t *c) {
    while (c->out_head) {
        hk_ws_out_t *o = c->out_head;
        c->out_head = o->next;
        s_out_free(o);
    }
    c->out_tail = NULL;
    c->out_n = c->out_bytes = 0;
    free(c->rx);
    c->rx = NULL;
    c->rx_len = 0;
}

static void s_request_close(hk_ws_conn_t *c, int code, const char *reason) {
    if (c->close_code) {
        return;
    }
    c->close_code = code;
    c->close_reason = reason ? reason : "";
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, S_CLOSE_GRACE_S);
    hk_ws_conn_want_write(c);
}

static int s_enqueue(hk_ws_conn_t *c, hk_ws_out_t *o) {
    hk_ws_server_t *ws = c->ws;
    if (c->close_code) {
        s_out_free(o);
        return -1;
    }
    if (c->out_n >= ws->cfg.out_max_frames || c->out_bytes + o->len > ws->cfg.out_max_bytes) {
        s_out_free(o);
        (*ws->stats.closed_slow)++;
        HK_WARN(ws->events[HK_WS_EV_SLOW], "peer=%s frames=%zu bytes=%zu", c->peer, c->out_n,
                c->out_bytes);
        hk_ws_conn_clear(c);
        s_request_close(c, HK_WS_CLOSE_POLICY, "not reading");
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
    (*ws->stats.frames_out)++;
    hk_ws_conn_want_write(c);
    return 0;
}

int hk_ws_conn_send_shared(hk_ws_conn_t *conn, uint64_t seq, hk_ws_shared_t *sh) {
    assert(conn && sh && conn->ws && conn->ws->cfg.shared_prefix);
    hk_ws_out_t *o = malloc(sizeof *o);
    assert(o);
    o->len = sh->len + strlen(conn->ws->cfg.shared_prefix) + S_SHARED_HEAD_EXTRA;
    o->sh = hk_ws_shared_ref(sh);
    o->seq = seq;
    return s_enqueue(conn, o);
}

int hk_ws_conn_send(hk_ws_conn_t *conn, const char *text, size_t len) {
    return hk_ws_conn_send_parts(conn, text, len, "", 0);
}

int hk_ws_conn_send_parts(hk_ws_conn_t *conn, const char *a, size_t alen, const char *b,
                          size_t blen) {
    assert(conn);
    hk_ws_out_t *o = malloc(sizeof *o + LWS_PRE + alen + blen);
    assert(o);
    o->len = alen + blen;
    o->sh = NULL;
    memcpy(o->buf + LWS_PRE, a, alen);
    memcpy(o->buf + LWS_PRE + alen, b, blen);
    return s_enqueue(conn, o);
}

int hk_ws_conn_send_json(hk_ws_conn_t *conn, const json_t *obj) {
    assert(conn && obj);
    size_t len = json_dumpb(obj, NULL, 0, JSON_COMPACT);
    if (len == 0) {
        return -1;
    }
    hk_ws_out_t *o = malloc(sizeof *o + LWS_PRE + len);
    assert(o);
    o->sh = NULL;
    o->len = json_dumpb(obj, (char *)o->buf + LWS_PRE, len, JSON_COMPACT);
    assert(o->len == len);
    return s_enqueue(conn, o);
}

void hk_ws_conn_close(hk_ws_conn_t *conn, int code, const char *reason) {
    assert(conn);
    s_request_close(conn, code, reason);
}

int hk_ws_conn_closing(const hk_ws_conn_t *conn) {
    return conn->close_code != 0;
}

void hk_ws_conn_set_user(hk_ws_conn_t *conn, void *user) {
    conn->user = user;
}

void *hk_ws_conn_user(const hk_ws_conn_t *conn) {
    return conn->user;
}

const char *hk_ws_conn_peer(const hk_ws_conn_t *conn) {
    return conn->peer;
}

/* From the loop, never inside an lws callback: closes each connection on the kill list with
 * its code. lws_close_reason then a synchronous kill makes lws send the Close frame and wait
 * for the client's (5 s at most). */
static void s_on_killer(uv_timer_t *t) {
    hk_ws_server_t *ws = t->data;
    while (ws->kill_head) {
        hk_ws_conn_t *c = ws->kill_head;
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
static hk_ws_out_t *s_pop(hk_ws_conn_t *c) {
    hk_ws_out_t *o = c->out_head;
    c->out_head = o->next;
    if (!c->out_head) {
        c->out_tail = NULL;
    }
    c->out_n--;
    c->out_bytes -= o->len;
    return o;
}

/* Writes the shared frames at the head of the queue: one frame, or several joined into one
 * batch message (up to batch_max_bytes). Returns lws_write's verdict: 0 or -1. */
static int s_write_shared(hk_ws_conn_t *c) {
    hk_ws_server_t *ws = c->ws;
    size_t head_len = ws->cfg.batch_head ? strlen(ws->cfg.batch_head) : 0;
    size_t need = LWS_PRE + head_len + sizeof S_BATCH_TAIL; /* and a NUL */
    int n = 0;
    for (hk_ws_out_t *o = c->out_head; o && o->sh; o = o->next, n++) {
        if (n > 0 && (!ws->cfg.batch_head || need + o->len > LWS_PRE + ws->cfg.batch_max_bytes)) {
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
        memcpy(w, ws->cfg.batch_head, head_len);
        at = head_len;
    }
    for (int i = 0; i < n; i++) {
        hk_ws_out_t *o = s_pop(c);
        at += (size_t)snprintf(w + at, cap - at, "%s%s%llu,", i > 0 ? "," : "",
                               ws->cfg.shared_prefix, (unsigned long long)o->seq);
        memcpy(w + at, o->sh->text, o->sh->len);
        at += o->sh->len;
        s_out_free(o);
    }
    if (n > 1) {
        memcpy(w + at, S_BATCH_TAIL, sizeof S_BATCH_TAIL - 1);
        at += sizeof S_BATCH_TAIL - 1;
    }
    int wrote = lws_write(c->wsi, (unsigned char *)w, at, LWS_WRITE_TEXT);
    return wrote < (int)at ? -1 : 0;
}

int hk_ws_conn_writeable(hk_ws_conn_t *c) {
    hk_ws_server_t *ws = c->ws;
    c->write_asked = 0;
    if (c->out_head) {
        for (int i = 0; c->out_head && i < ws->cfg.writes_per_callback; i++) {
            if (i > 0 && lws_send_pipe_choked(c->wsi)) {
                break;
            }
            if (c->out_head->sh) {
                if (s_write_shared(c) != 0) {
                    return -1;
                }
                continue;
            }
            hk_ws_out_t *o = s_pop(c);
            int n = lws_write(c->wsi, o->buf + LWS_PRE, o->len, LWS_WRITE_TEXT);
            int failed = n < (int)o->len;
            s_out_free(o);
            if (failed) {
                return -1;
            }
        }
        if (c->out_head || c->close_code) {
            hk_ws_conn_want_write(c);
        }
        return 0;
    }
    if (c->close_code && !c->kill_pending && !c->killed) {
        /* Returning -1 here would drop the socket without a Close frame (lws treats it as a
         * failed write); the close is made from the loop instead (s_on_killer). */
        c->kill_pending = 1;
        c->kill_next = ws->kill_head;
        ws->kill_head = c;
        uv_timer_start(&ws->killer, s_on_killer, 0, 0);
    }
    return 0;
}
