/* chat_proto: the engine's core: a session per websocket connection (NEW -> HELLO while
 * Redis answers -> READY), the asynchronous requests made for it (chat_op_t, which outlive
 * their connection), error frames, the dispatch of client frames with their rates, the drain
 * and the engine's lifetime. The frames themselves are in chat_frames.c and
 * chat_messages.c, what goes out unasked in chat_deliver.c. */
#include "chat_proto_int.h"

#include "hk_log.h"

#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_RATE_PERIOD_MS 10000
#define S_LIGHT_FACTOR 5 /* typing, read, received, lang: this many times the rate */

typedef enum { S_FREE = 0, S_LIGHT, S_HEAVY } s_cost_t;

/* ---- ops and frames ---- */

chat_op_t *chat_op_new(chat_proto_t *p, chat_sess_t *sess, int kind) {
    chat_op_t *op = calloc(1, sizeof *op);
    assert(op);
    op->p = p;
    op->sess = sess;
    op->kind = kind;
    if (sess) {
        snprintf(op->tenant, sizeof op->tenant, "%s", sess->tenant);
        snprintf(op->session, sizeof op->session, "%s", sess->session);
        snprintf(op->contact, sizeof op->contact, "%s", sess->contact);
        op->next = sess->ops;
        if (sess->ops) {
            sess->ops->prev = op;
        }
        sess->ops = op;
    }
    p->n_ops++;
    return op;
}

static void s_free_proto(chat_proto_t *p) {
    hk_strmap_destroy(&p->by_contact);
    free(p);
}

void chat_op_done(chat_op_t *op) {
    chat_proto_t *p = op->p;
    chat_sess_t *s = op->sess;
    if (s) {
        if (op->prev) {
            op->prev->next = op->next;
        } else {
            s->ops = op->next;
        }
        if (op->next) {
            op->next->prev = op->prev;
        }
        if (s->draining && !s->ops && !s->busy) {
            hk_ws_conn_close(s->conn, CHAT_CLOSE_GOING_AWAY, "draining");
        }
    }
    free(op->msg);
    json_decref(op->reassure);
    free(op);
    if (--p->n_ops == 0 && p->destroying) {
        s_free_proto(p);
    }
}

void chat_sess_send(chat_sess_t *s, json_t *frame) {
    if (frame) {
        hk_ws_conn_send_json(s->conn, frame);
        json_decref(frame);
    }
}

void chat_sess_error(chat_sess_t *s, chat_err_t err, const char *id, const char *detail) {
    char text[512];
    chat_err_text(err, s->lang, detail, s->p->cfg->max_text, text, sizeof text);
    json_t *f =
        json_pack("{s:s, s:s, s:s}", "type", "error", "code", chat_err_code(err), "text", text);
    if (f && id && *id) {
        json_object_set_new(f, "id", json_string(id));
    }
    (*s->p->stats->errors[err < CHAT_ERR_COUNT ? err : CHAT_ERR_BAD_FRAME])++;
    chat_sess_send(s, f);
}

const char *chat_json_str(json_t *root, const char *field) {
    return json_string_value(json_object_get(root, field));
}

/* The id of a message frame when it is a valid one (for errors about it). */
static const char *s_frame_id(json_t *root) {
    const char *id = chat_json_str(root, "id");
    return hk_client_id_ok(id) ? id : NULL;
}

/* Asks the client to come back (to any instance) and closes 1001. */
void chat_sess_retry_later(chat_sess_t *s, int after_ms) {
    s->state = CHAT_SESS_NEW;
    chat_sess_send(s, json_pack("{s:s, s:i}", "type", "reconnect", "after_ms", after_ms));
    hk_ws_conn_close(s->conn, CHAT_CLOSE_GOING_AWAY, "try again");
}

/* ---- dispatch ---- */

typedef struct {
    const char *type;
    void (*fn)(chat_sess_t *s, json_t *root);
    s_cost_t cost;
} s_handler_t;

static const s_handler_t s_handlers[] = {
    {"hello", chat_frame_hello, S_FREE},      {"message", chat_frame_message, S_HEAVY},
    {"person", chat_frame_person, S_HEAVY},   {"typing", chat_frame_typing, S_LIGHT},
    {"read", chat_frame_read, S_LIGHT},       {"received", chat_frame_received, S_LIGHT},
    {"confirm", chat_frame_confirm, S_HEAVY}, {"email", chat_frame_email, S_HEAVY},
    {"lang", chat_frame_lang, S_LIGHT},
};

/* Takes a token for a frame; when none is left answers `rate` (quiet: not for typing) and
 * closes 1008 after as many refused frames within a rate period as the rate allows. */
static int s_charge(chat_sess_t *s, s_cost_t cost, int quiet, const char *id) {
    const chat_config_t *cfg = s->p->cfg;
    int64_t now = hk_limits_now_ms();
    double burst = (double)cfg->rate * (cost == S_LIGHT ? S_LIGHT_FACTOR : 1);
    hk_bucket_t *b = cost == S_LIGHT ? &s->light : &s->heavy;
    if (cost == S_FREE || hk_bucket_take(b, burst, S_RATE_PERIOD_MS, now)) {
        return 1;
    }
    if (now - s->strikes_since > S_RATE_PERIOD_MS) {
        s->strikes = 0;
        s->strikes_since = now;
    }
    if (++s->strikes > cfg->rate) {
        if (!hk_ws_conn_closing(s->conn)) {
            (*s->p->stats->ws.closed_policy)++;
            HK_INFO("chat.rate_close", "session=%s peer=%s", s->session[0] ? s->session : "-",
                    hk_ws_conn_peer(s->conn));
            hk_ws_conn_close(s->conn, CHAT_CLOSE_POLICY, "rate limit exceeded");
        }
    } else if (!quiet) {
        chat_sess_error(s, CHAT_ERR_RATE, id, NULL);
    }
    return 0;
}

static void s_on_frame(hk_ws_conn_t *conn, const char *data, size_t len, int binary, void *arg) {
    chat_sess_t *s = hk_ws_conn_user(conn);
    (void)arg;
    if (!s) {
        return;
    }
    if (binary) {
        if (s_charge(s, S_HEAVY, 0, NULL)) {
            chat_sess_error(s, CHAT_ERR_BAD_FRAME, NULL, "text frames only");
        }
        return;
    }
    json_error_t jerr;
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        if (s_charge(s, S_HEAVY, 0, NULL)) {
            chat_sess_error(s, CHAT_ERR_BAD_JSON, NULL, NULL);
        }
        return;
    }
    const char *type = chat_json_str(root, "type");
    const s_handler_t *h = NULL;
    for (size_t i = 0; type && i < sizeof s_handlers / sizeof s_handlers[0]; i++) {
        if (strcmp(s_handlers[i].type, type) == 0) {
            h = &s_handlers[i];
        }
    }
    if (!h) {
        if (s_charge(s, S_HEAVY, 0, NULL)) {
            chat_sess_error(s, CHAT_ERR_BAD_FRAME, NULL,
                            json_is_object(root) && type ? "unknown type"
                                                         : "a JSON object with a type required");
        }
    } else if (!s_charge(s, h->cost, h->fn == chat_frame_typing, s_frame_id(root))) {
        /* refused by the rate */
    } else if (s->state != CHAT_SESS_READY && h->fn != chat_frame_hello) {
        chat_sess_error(s, CHAT_ERR_NOT_READY, s_frame_id(root), NULL);
    } else if (s->draining && h->fn != chat_frame_message) {
        /* draining: only messages are answered (unavailable) */
    } else {
        h->fn(s, root);
    }
    json_decref(root);
}

/* ---- connections ---- */

static void s_drain_sess(chat_sess_t *s) {
    if (s->draining) {
        return;
    }
    s->draining = 1;
    chat_messages_flush(s, 1);
    int after = 100 + (int)randombytes_uniform(900);
    chat_sess_send(s, json_pack("{s:s, s:i}", "type", "reconnect", "after_ms", after));
    if (!s->busy && !s->ops) {
        hk_ws_conn_close(s->conn, CHAT_CLOSE_GOING_AWAY, "draining");
    }
}

static void s_on_open(hk_ws_conn_t *conn, void *arg) {
    chat_proto_t *p = arg;
    chat_sess_t *s = calloc(1, sizeof *s);
    assert(s);
    s->p = p;
    s->conn = conn;
    int64_t now = hk_limits_now_ms();
    hk_bucket_init(&s->heavy, (double)p->cfg->rate, now);
    hk_bucket_init(&s->light, (double)p->cfg->rate * S_LIGHT_FACTOR, now);
    s->next = p->sessions;
    if (p->sessions) {
        p->sessions->prev = s;
    }
    p->sessions = s;
    hk_ws_conn_set_user(conn, s);
    if (p->draining) {
        s_drain_sess(s);
    }
}

/* Frees a session: its requests in flight carry on without it. */
static void s_sess_free(chat_proto_t *p, chat_sess_t *s) {
    for (chat_op_t *op = s->ops; op; op = op->next) {
        op->sess = NULL;
    }
    chat_messages_flush(s, 0);
    chat_sess_set_contact(s, "");
    if (s->prev) {
        s->prev->next = s->next;
    } else {
        p->sessions = s->next;
    }
    if (s->next) {
        s->next->prev = s->prev;
    }
    hk_ws_conn_set_user(s->conn, NULL);
    free(s);
}

static void s_on_close(hk_ws_conn_t *conn, void *arg) {
    chat_sess_t *s = hk_ws_conn_user(conn);
    if (s) {
        HK_DEBUG("chat.connection_closed", "session=%s contact=%s",
                 s->session[0] ? s->session : "-", s->contact[0] ? s->contact : "-");
        s_sess_free(arg, s);
    }
}

static const hk_ws_handlers_t s_ws_handlers = {s_on_open, s_on_frame, s_on_close};

const hk_ws_handlers_t *chat_proto_handlers(void) {
    return &s_ws_handlers;
}

chat_proto_t *chat_proto_new(const chat_config_t *cfg, chat_stats_t *stats, chat_store_t *store,
                             chat_router_t *router, const char *gateway) {
    chat_proto_t *p = calloc(1, sizeof *p);
    assert(p);
    p->cfg = cfg;
    p->stats = stats;
    p->store = store;
    p->router = router;
    snprintf(p->gateway, sizeof p->gateway, "%s", gateway);
    p->by_contact = hk_strmap_new();
    return p;
}

void chat_proto_drain(chat_proto_t *p) {
    p->draining = 1;
    for (chat_sess_t *s = p->sessions; s; s = s->next) {
        s_drain_sess(s);
    }
}

size_t chat_proto_busy(const chat_proto_t *p) {
    return p->n_ops;
}

void chat_proto_stop(chat_proto_t *p) {
    p->store = NULL;
    p->router = NULL;
    while (p->sessions) {
        s_sess_free(p, p->sessions);
    }
}

void chat_proto_destroy(chat_proto_t **p_p) {
    assert(p_p);
    chat_proto_t *p = *p_p;
    if (!p) {
        return;
    }
    *p_p = NULL;
    chat_proto_stop(p);
    p->destroying = 1;
    if (p->n_ops == 0) {
        s_free_proto(p);
    }
}
