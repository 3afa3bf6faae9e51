/* db_proto: the engine's core: a session per websocket connection (NEW -> AUTHING while the
 * login or token is checked -> READY), the asynchronous requests made for it (db_op_t, which
 * outlive their connection), answers and errors, the dispatch of client frames with their
 * rates, the once-a-second tick, the drain and the engine's lifetime. Login is in db_auth.c,
 * views in db_view.c, events in db_fanout.c, commands in db_cmds.c. */
#include "db_proto_int.h"

#include "hk_clock.h"
#include "hk_log.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_RATE_PERIOD_MS 10000
#define S_TYPING_FACTOR 5
#define S_TICK_MS 250

typedef enum { S_FREE = 0, S_TYPING, S_CMD } s_cost_t;

/* ---- ops and frames ---- */

db_op_t *db_op_new(db_proto_t *p, db_sess_t *sess, int kind) {
    db_op_t *op = calloc(1, sizeof *op);
    assert(op);
    op->p = p;
    op->sess = sess;
    op->kind = kind;
    if (sess) {
        snprintf(op->tenant, sizeof op->tenant, "%s", sess->tenant);
        snprintf(op->account, sizeof op->account, "%s", sess->account);
        op->next = sess->ops;
        if (sess->ops) {
            sess->ops->prev = op;
        }
        sess->ops = op;
    }
    p->n_ops++;
    return op;
}

static void s_free_proto(db_proto_t *p) {
    json_decref(p->wrap_codes);
    hk_strmap_destroy(&p->tenants);
    free(p);
}

void db_op_done(db_op_t *op) {
    db_proto_t *p = op->p;
    db_sess_t *s = op->sess;
    if (s) {
        if (op->prev) {
            op->prev->next = op->next;
        } else {
            s->ops = op->next;
        }
        if (op->next) {
            op->next->prev = op->prev;
        }
    }
    if (op->tenant_grp) {
        db_tenant_unref(op->tenant_grp);
    }
    if (op->password) {
        memset(op->password, 0, strlen(op->password));
        free(op->password);
    }
    free(op->hash);
    json_decref(op->acc);
    free(op);
    if (--p->n_ops == 0 && p->destroying && !p->tick_open) {
        s_free_proto(p);
    }
}

void db_sess_send(db_sess_t *s, json_t *frame) {
    if (frame) {
        hk_ws_conn_send_json(s->conn, frame);
        json_decref(frame);
    }
}

void db_sess_error(db_sess_t *s, db_err_t err, const char *req, const char *text) {
    json_t *f = json_pack("{s:s, s:s, s:s}", "type", "error", "code", db_err_code(err), "text",
                          text ? text : db_err_code(err));
    if (f && req && *req) {
        json_object_set_new(f, "req", json_string(req));
    }
    (*s->p->stats->errors[err < DB_ERR_COUNT ? err : DB_ERR_BAD_FRAME])++;
    db_sess_send(s, f);
}

void db_sess_ok(db_sess_t *s, const char *req, json_t *extra) {
    json_t *f = json_pack("{s:s}", "type", "ok");
    if (req && *req) {
        json_object_set_new(f, "req", json_string(req));
    }
    if (extra) {
        json_object_update(f, extra);
        json_decref(extra);
    }
    db_sess_send(s, f);
}

const char *db_json_str(json_t *root, const char *field) {
    return json_string_value(json_object_get(root, field));
}

int db_redis(db_proto_t *p, int script, int argc, const char **argv, hk_redis_reply_fn *fn,
             void *arg) {
    size_t lens[64];
    if (!p->redis || argc > 64) {
        return -1;
    }
    for (int i = 0; i < argc; i++) {
        lens[i] = strlen(argv[i]);
    }
    return script < 0 ? hk_redis_command(p->redis, argc, argv, lens, fn, arg)
                      : hk_redis_eval(p->redis, script, 1, argc, argv, lens, fn, arg);
}

int64_t db_wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t db_real_ms(void) {
    return hk_clock_real_us() / 1000;
}

/* ---- dispatch ---- */

typedef struct {
    const char *type;
    void (*fn)(db_sess_t *s, json_t *root, const char *req);
    s_cost_t cost;
    int before_auth; /* 1: only before authentication; 0: only after */
} s_handler_t;

static void s_frame_ping(db_sess_t *s, json_t *root, const char *req) {
    (void)root;
    json_t *f = json_pack("{s:s, s:I}", "type", "pong", "at", (json_int_t)db_wall_ms());
    if (req && *req) {
        json_object_set_new(f, "req", json_string(req));
    }
    db_sess_send(s, f);
}

static void s_frame_resync(db_sess_t *s, json_t *root, const char *req) {
    (void)root;
    db_view_snapshot(s, req, 1);
}

static const s_handler_t s_handlers[] = {
    {"login", db_frame_login, S_CMD, 1},        {"auth", db_frame_auth, S_CMD, 1},
    {"logout", db_frame_logout, S_CMD, 0},      {"resync", s_frame_resync, S_CMD, 0},
    {"contact", db_frame_contact, S_CMD, 0},    {"available", db_frame_agent_cmd, S_CMD, 0},
    {"pause", db_frame_agent_cmd, S_CMD, 0},    {"offline", db_frame_agent_cmd, S_CMD, 0},
    {"accept", db_frame_agent_cmd, S_CMD, 0},   {"decline", db_frame_agent_cmd, S_CMD, 0},
    {"transfer", db_frame_agent_cmd, S_CMD, 0}, {"propose", db_frame_agent_cmd, S_CMD, 0},
    {"wrapup", db_frame_agent_cmd, S_CMD, 0},   {"say", db_frame_say, S_CMD, 0},
    {"typing", db_frame_typing, S_TYPING, 0},   {"tenant", db_frame_tenant, S_CMD, 0},
};

/* Takes a token for a frame; when none is left answers `rate` (quietly for typing) and closes
 * 1008 after as many refused frames within a rate period as the rate allows. */
static int s_charge(db_sess_t *s, s_cost_t cost, const char *req) {
    const db_config_t *cfg = s->p->cfg;
    int64_t now = hk_limits_now_ms();
    double burst = (double)cfg->rate * (cost == S_TYPING ? S_TYPING_FACTOR : 1);
    hk_bucket_t *b = cost == S_TYPING ? &s->typing : &s->cmd;
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
            HK_INFO("dashboard.rate_close", "account=%s peer=%s", s->account[0] ? s->account : "-",
                    hk_ws_conn_peer(s->conn));
            hk_ws_conn_close(s->conn, DB_CLOSE_POLICY, "rate limit exceeded");
        }
    } else if (cost != S_TYPING) {
        db_sess_error(s, DB_ERR_RATE, req, "too many frames: slow down");
    }
    return 0;
}

static void s_on_frame(hk_ws_conn_t *conn, const char *data, size_t len, int binary, void *arg) {
    db_sess_t *s = hk_ws_conn_user(conn);
    (void)arg;
    if (!s || hk_ws_conn_closing(conn)) {
        return;
    }
    if (binary) {
        if (s_charge(s, S_CMD, NULL)) {
            db_sess_error(s, DB_ERR_BAD_FRAME, NULL, "text frames only");
        }
        return;
    }
    json_error_t jerr;
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        if (s_charge(s, S_CMD, NULL)) {
            db_sess_error(s, DB_ERR_BAD_JSON, NULL, "not JSON");
        }
        return;
    }
    const char *type = db_json_str(root, "type");
    json_t *jreq = json_object_get(root, "req");
    const char *req = json_string_value(jreq);
    const s_handler_t *h = NULL;
    for (size_t i = 0; type && i < sizeof s_handlers / sizeof s_handlers[0]; i++) {
        if (strcmp(s_handlers[i].type, type) == 0) {
            h = &s_handlers[i];
        }
    }
    int is_ping = type && strcmp(type, "ping") == 0;
    if (!json_is_object(root)) {
        if (s_charge(s, S_CMD, NULL)) {
            db_sess_error(s, DB_ERR_BAD_FRAME, NULL, "a JSON object with a type required");
        }
    } else if (jreq && !hk_client_id_ok(req)) {
        if (s_charge(s, S_CMD, NULL)) {
            db_sess_error(s, DB_ERR_BAD_FRAME, NULL, "req: 1 to 64 characters of A-Z a-z 0-9 _ -");
        }
    } else if (is_ping) {
        s_frame_ping(s, root, req);
    } else if (!h) {
        if (s_charge(s, S_CMD, req)) {
            db_sess_error(s, DB_ERR_BAD_FRAME, req, type ? "unknown type" : "type required");
        }
    } else if (!s_charge(s, h->cost, req)) {
        /* refused by the rate */
    } else if (s->draining) {
        db_sess_error(s, DB_ERR_UNAVAILABLE, req, "this instance is shutting down: reconnect");
    } else if (h->before_auth && s->state != DB_SESS_NEW) {
        db_sess_error(s, DB_ERR_NOT_READY, req,
                      s->state == DB_SESS_READY ? "already authenticated" : "login in progress");
    } else if (!h->before_auth && s->state != DB_SESS_READY) {
        db_sess_error(s, DB_ERR_NOT_READY, req, "login or auth first");
    } else {
        h->fn(s, root, req);
    }
    json_decref(root);
}

/* ---- connections ---- */

static void s_on_open(hk_ws_conn_t *conn, void *arg) {
    db_proto_t *p = arg;
    db_sess_t *s = calloc(1, sizeof *s);
    assert(s);
    s->p = p;
    s->conn = conn;
    int64_t now = hk_limits_now_ms();
    hk_bucket_init(&s->cmd, (double)p->cfg->rate, now);
    hk_bucket_init(&s->typing, (double)p->cfg->rate * S_TYPING_FACTOR, now);
    s->strikes_since = now;
    s->next = p->sessions;
    if (p->sessions) {
        p->sessions->prev = s;
    }
    p->sessions = s;
    hk_ws_conn_set_user(conn, s);
    if (p->draining) {
        db_sess_send(s, json_pack("{s:s, s:i}", "type", "reconnect", "after_ms", 1000));
        hk_ws_conn_close(conn, DB_CLOSE_GOING_AWAY, "draining");
    }
}

/* Forgets a session: its requests in flight complete without it. */
static void s_sess_free(db_proto_t *p, db_sess_t *s) {
    for (db_op_t *op = s->ops; op; op = op->next) {
        op->sess = NULL;
    }
    s->ops = NULL;
    db_tenant_leave(s);
    db_fanout_clear(s);
    hk_strmap_destroy(&s->mine);
    if (s->prev) {
        s->prev->next = s->next;
    } else {
        p->sessions = s->next;
    }
    if (s->next) {
        s->next->prev = s->prev;
    }
    free(s);
}

static void s_on_close(hk_ws_conn_t *conn, void *arg) {
    db_proto_t *p = arg;
    db_sess_t *s = hk_ws_conn_user(conn);
    if (s) {
        hk_ws_conn_set_user(conn, NULL);
        s_sess_free(p, s);
    }
}

static const hk_ws_handlers_t s_ws_handlers = {s_on_open, s_on_frame, s_on_close};

const hk_ws_handlers_t *db_proto_handlers(void) {
    return &s_ws_handlers;
}

static void s_on_tick(uv_timer_t *t) {
    db_proto_t *p = t->data;
    if (p->stopped) {
        return;
    }
    db_view_tick(p);
    db_auth_check_sessions(p);
}

db_proto_t *db_proto_new(uv_loop_t *loop, const db_config_t *cfg, db_stats_t *stats,
                         hk_redis_t *redis, hk_submit_t *submit, const char *instance) {
    db_proto_t *p = calloc(1, sizeof *p);
    assert(p);
    p->loop = loop;
    p->cfg = cfg;
    p->stats = stats;
    p->redis = redis;
    p->submit = submit;
    snprintf(p->instance, sizeof p->instance, "%s", instance);
    p->tenants = hk_strmap_new();
    p->wrap_codes = json_array();
    char codes[HK_CFG_STR_MAX];
    snprintf(codes, sizeof codes, "%s", cfg->wrap_codes);
    char *save = NULL;
    for (char *c = strtok_r(codes, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
        json_array_append_new(p->wrap_codes, json_string(c));
    }
    uv_timer_init(loop, &p->tick);
    p->tick.data = p;
    p->tick_open = 1;
    uv_timer_start(&p->tick, s_on_tick, S_TICK_MS, S_TICK_MS);
    return p;
}

void db_proto_drain(db_proto_t *p) {
    p->draining = 1;
    for (db_sess_t *s = p->sessions; s; s = s->next) {
        if (!s->draining) {
            s->draining = 1;
            db_sess_send(s, json_pack("{s:s, s:i}", "type", "reconnect", "after_ms", 1000));
            hk_ws_conn_close(s->conn, DB_CLOSE_GOING_AWAY, "draining");
        }
    }
}

size_t db_proto_busy(const db_proto_t *p) {
    return p->n_ops;
}

static void s_on_tick_closed(uv_handle_t *h) {
    db_proto_t *p = h->data;
    p->tick_open = 0;
    if (p->destroying && p->n_ops == 0) {
        s_free_proto(p);
    }
}

void db_proto_stop(db_proto_t *p) {
    if (p->stopped) {
        return;
    }
    p->stopped = 1;
    p->redis = NULL;
    p->submit = NULL;
    while (p->sessions) {
        db_sess_t *s = p->sessions;
        hk_ws_conn_set_user(s->conn, NULL);
        s_sess_free(p, s);
    }
    uv_timer_stop(&p->tick);
    uv_close((uv_handle_t *)&p->tick, s_on_tick_closed);
}

void db_proto_destroy(db_proto_t **p_p) {
    assert(p_p);
    db_proto_t *p = *p_p;
    if (!p) {
        return;
    }
    *p_p = NULL;
    db_proto_stop(p);
    p->destroying = 1;
    if (p->n_ops == 0 && !p->tick_open) {
        s_free_proto(p);
    }
}
