/* db_view: what a session sees besides the event stream. Tenant groups (the authenticated
 * sessions of one tenant on this instance, with the tenant's queues and status read from its
 * stored policy), snapshots (the router's snapshot.lua, the dashboard's view.lua figures and,
 * for an agent, the cards of its contacts), the periodic stats frames of tenants that change,
 * and contact cards on request or pushed on offers. */
#include "db_proto_int.h"

#include "hk_clock.h"
#include "hk_log.h"
#include "rt_policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_STATS_IDLE_MS 5000  /* stats of a quiet tenant are refreshed this often */
#define S_AGENT_STATS_MS 5000 /* agents get stats (queues, no agent list) this often */
#define S_PROMPT_STATS_MS 250 /* supervisors' stats after a load change, at most this often */
#define S_DEFAULT_HANDLE_MS "300000" /* the router's default handle time (rt_engine.c) */

enum { S_OP_VIEW = 200, S_OP_CARD_ASK, S_OP_CARD_PUSH };

/* ---- tenant groups ---- */

db_tenant_t *db_tenant_find(db_proto_t *p, const char *name) {
    return hk_strmap_get(p->tenants, name);
}

static void s_tenant_maybe_free(db_tenant_t *t) {
    if (t->n_sessions == 0 && t->refs == 0) {
        hk_strmap_remove(t->p->tenants, t->name);
        free(t);
    }
}

void db_tenant_unref(db_tenant_t *t) {
    t->refs--;
    s_tenant_maybe_free(t);
}

void db_tenant_join(db_sess_t *s) {
    db_proto_t *p = s->p;
    db_tenant_t *t = db_tenant_find(p, s->tenant);
    if (!t) {
        t = calloc(1, sizeof *t);
        if (!t) {
            return;
        }
        t->p = p;
        snprintf(t->name, sizeof t->name, "%s", s->tenant);
        t->policy_version = -1;
        hk_strmap_put(p->tenants, t->name, t);
    }
    s->tenant_grp = t;
    s->tnext = t->sessions;
    s->tprev = NULL;
    if (t->sessions) {
        t->sessions->tprev = s;
    }
    t->sessions = s;
    t->n_sessions++;
    p->n_ready++;
    *p->stats->sessions = (double)p->n_ready;
}

void db_tenant_leave(db_sess_t *s) {
    db_tenant_t *t = s->tenant_grp;
    if (!t) {
        return;
    }
    if (s->tprev) {
        s->tprev->tnext = s->tnext;
    } else {
        t->sessions = s->tnext;
    }
    if (s->tnext) {
        s->tnext->tprev = s->tprev;
    }
    s->tenant_grp = NULL;
    t->n_sessions--;
    s->p->n_ready--;
    *s->p->stats->sessions = (double)s->p->n_ready;
    s_tenant_maybe_free(t);
}

/* ---- the view pipeline: policy -> snapshot.lua -> view.lua -> (agent) card.lua ---- */

static void s_view_finish(db_op_t *op);

static void s_view_fail(db_op_t *op, const char *why) {
    HK_WARN("dashboard.view_failed", "tenant=%s reason=\"%s\"", op->tenant, why);
    if (op->resync == -1) {
        op->tenant_grp->stats_busy = 0;
    }
    if (op->sess) {
        op->sess->snapping = 0;
        db_fanout_clear(op->sess);
        db_sess_error(op->sess, DB_ERR_UNAVAILABLE, op->req,
                      "could not read the view from Redis: send resync");
    }
    db_op_done(op);
}

/* Reply text of a script that returns JSON, parsed; NULL when it is none. */
static json_t *s_json_reply(redisReply *reply) {
    if (!reply || reply->type != REDIS_REPLY_STRING) {
        return NULL;
    }
    return json_loadb(reply->str, reply->len, 0, NULL);
}

/* Redis's cjson writes an empty list as {}: the lists of cards become [] again. */
static void s_fix_cards(json_t *cards) {
    static const char *const lists[] = {"reasons", "history", "conversation"};
    size_t i;
    json_t *c;
    json_array_foreach(cards, i, c) {
        for (size_t k = 0; k < sizeof lists / sizeof lists[0]; k++) {
            if (!json_is_array(json_object_get(c, lists[k]))) {
                json_object_set_new(c, lists[k], json_array());
            }
        }
    }
}

static void s_on_cards(hk_redis_t *r, redisReply *reply, void *arg) {
    db_op_t *op = arg;
    (void)r;
    json_t *cards = s_json_reply(reply);
    if (!json_is_array(cards)) {
        json_decref(cards);
        s_view_fail(op, "card script");
        return;
    }
    s_fix_cards(cards);
    json_object_set_new(op->acc, "contacts", cards);
    s_view_finish(op);
}

static void s_on_view(hk_redis_t *r, redisReply *reply, void *arg) {
    db_op_t *op = arg;
    (void)r;
    json_t *v = s_json_reply(reply);
    if (!json_is_object(v)) {
        json_decref(v);
        s_view_fail(op, "view script");
        return;
    }
    json_object_set_new(op->acc, "_view", v);
    db_sess_t *s = op->sess;
    if (s && s->role == DB_ROLE_AGENT && op->p->redis) {
        char key[DB_TENANT_MAX + 16], now[24];
        snprintf(key, sizeof key, "hk:{%s}:rev", op->tenant);
        snprintf(now, sizeof now, "%lld", (long long)hk_clock_now_ms());
        const char *argv[] = {key, now, "{}", op->p->instance, s->account, "agent"};
        if (db_redis(op->p, db_script_card, 6, argv, s_on_cards, op) != 0) {
            s_view_fail(op, "redis not ready");
        }
        return;
    }
    s_view_finish(op);
}

static void s_on_snapshot(hk_redis_t *r, redisReply *reply, void *arg) {
    db_op_t *op = arg;
    (void)r;
    json_t *snap = s_json_reply(reply);
    db_tenant_t *t = op->tenant_grp;
    if (!json_is_object(snap) || !op->p->redis) {
        json_decref(snap);
        s_view_fail(op, "snapshot script");
        return;
    }
    json_decref(op->acc);
    op->acc = snap;
    char key[DB_TENANT_MAX + 16], now[24];
    snprintf(key, sizeof key, "hk:{%s}:rev", op->tenant);
    snprintf(now, sizeof now, "%lld", (long long)hk_clock_now_ms());
    const char *argv[5 + 2 * 16];
    char targets[16][24];
    int argc = 0;
    argv[argc++] = key;
    argv[argc++] = now;
    argv[argc++] = "{}";
    argv[argc++] = op->p->instance;
    argv[argc++] = S_DEFAULT_HANDLE_MS;
    for (size_t i = 0; i < t->n_queues; i++) {
        snprintf(targets[i], sizeof targets[i], "%lld", (long long)t->queues[i].target_ms);
        argv[argc++] = t->queues[i].name;
        argv[argc++] = targets[i];
    }
    if (db_redis(op->p, db_script_view, argc, argv, s_on_view, op) != 0) {
        s_view_fail(op, "redis not ready");
    }
}

/* Takes the queues and status of the tenant from its stored policy (defaults when none). */
static void s_apply_policy(db_tenant_t *t, long version, const char *text) {
    if (version == t->policy_version && t->n_queues > 0) {
        return;
    }
    static rt_policy_t pol; /* large; one loop thread */
    char err[256];
    if (!text || rt_policy_parse(text, &pol, err, sizeof err) != 0) {
        if (text) {
            HK_WARN("dashboard.policy_unreadable", "tenant=%s version=%ld error=\"%s\"", t->name,
                    version, err);
        }
        rt_policy_defaults(&pol, t->name);
    }
    t->policy_version = version;
    t->suspended = pol.status == RT_TENANT_SUSPENDED;
    t->n_queues = 0;
    for (size_t i = 0; i < pol.n_queues && i < 16; i++) {
        snprintf(t->queues[i].name, sizeof t->queues[i].name, "%s", pol.queues[i].name);
        t->queues[i].target_ms = pol.queues[i].target_answer_ms;
        t->n_queues++;
    }
}

static void s_on_policy(hk_redis_t *r, redisReply *reply, void *arg) {
    db_op_t *op = arg;
    (void)r;
    db_tenant_t *t = op->tenant_grp;
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 || !op->p->redis) {
        s_view_fail(op, "policy read");
        return;
    }
    redisReply *v = reply->element[0], *text = reply->element[1];
    long version = v->type == REDIS_REPLY_STRING ? strtol(v->str, NULL, 10) : 0;
    s_apply_policy(t, version, text->type == REDIS_REPLY_STRING ? text->str : NULL);
    char key[DB_TENANT_MAX + 16], now[24];
    snprintf(key, sizeof key, "hk:{%s}:rev", op->tenant);
    snprintf(now, sizeof now, "%lld", (long long)hk_clock_now_ms());
    const char *argv[4 + 16];
    int argc = 0;
    argv[argc++] = key;
    argv[argc++] = now;
    argv[argc++] = "{}";
    argv[argc++] = op->p->instance;
    for (size_t i = 0; i < t->n_queues; i++) {
        argv[argc++] = t->queues[i].name;
    }
    if (db_redis(op->p, db_script_snapshot, argc, argv, s_on_snapshot, op) != 0) {
        s_view_fail(op, "redis not ready");
    }
}

/* Starts the pipeline for s (a snapshot) or for the whole tenant t (stats). */
static void s_view_start(db_proto_t *p, db_sess_t *s, db_tenant_t *t, const char *req, int resync) {
    db_op_t *op = db_op_new(p, s, S_OP_VIEW);
    snprintf(op->tenant, sizeof op->tenant, "%s", t->name);
    snprintf(op->req, sizeof op->req, "%s", req ? req : "");
    op->tenant_grp = t;
    op->resync = resync;
    t->refs++;
    char key[DB_TENANT_MAX + 16];
    snprintf(key, sizeof key, "hk:{%s}:policy", t->name);
    const char *argv[] = {"HMGET", key, "version", "text"};
    if (!p->redis || db_redis(p, -1, 4, argv, s_on_policy, op) != 0) {
        s_view_fail(op, "redis not ready");
    }
}

void db_view_snapshot(db_sess_t *s, const char *req, int resync) {
    if (!s->tenant_grp) {
        return;
    }
    if (s->snapping) {
        s->snap_again = 1; /* the one in flight may predate what made us ask */
        return;
    }
    s->snapping = 1;
    s_view_start(s->p, s, s->tenant_grp, req, resync);
}

/* ---- building frames ---- */

static json_t *s_queues(db_tenant_t *t, json_t *snap) {
    json_t *view = json_object_get(json_object_get(snap, "_view"), "queues");
    json_t *out = json_array();
    size_t i;
    json_t *q;
    json_array_foreach(json_object_get(snap, "queues"), i, q) {
        const char *name = db_json_str(q, "name");
        json_t *v = json_object_get(view, name ? name : "");
        json_t *row = json_deep_copy(q);
        int64_t target = 0;
        for (size_t k = 0; name && k < t->n_queues; k++) {
            if (strcmp(t->queues[k].name, name) == 0) {
                target = t->queues[k].target_ms;
            }
        }
        json_int_t answered = json_integer_value(json_object_get(v, "answered"));
        json_int_t within = json_integer_value(json_object_get(v, "within_target"));
        json_object_set_new(row, "target_ms", json_integer(target));
        json_object_set_new(row, "est_wait_s",
                            json_integer(json_integer_value(json_object_get(v, "est_wait_s"))));
        json_object_set_new(row, "answered", json_integer(answered));
        json_object_set_new(row, "within_target", json_integer(within));
        json_object_set_new(row, "service_level",
                            answered > 0 ? json_integer((within * 100 + answered / 2) / answered)
                                         : json_null());
        json_array_append_new(out, row);
    }
    return out;
}

/* Agents as the role may see them: supervisors everything, agents id, name and state. */
static json_t *s_agents(json_t *snap, db_role_t role) {
    json_t *all = json_object_get(snap, "agents");
    if (role == DB_ROLE_SUPERVISOR) {
        return json_is_array(all) ? json_deep_copy(all) : json_array();
    }
    json_t *out = json_array();
    size_t i;
    json_t *a;
    json_array_foreach(all, i, a) {
        json_array_append_new(out, json_pack("{s:O?, s:O?, s:O?}", "id", json_object_get(a, "id"),
                                             "name", json_object_get(a, "name"), "state",
                                             json_object_get(a, "state")));
    }
    return out;
}

static json_t *s_me(json_t *snap, const char *account) {
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(snap, "agents"), i, a) {
        const char *id = db_json_str(a, "id");
        if (id && strcmp(id, account) == 0) {
            return json_deep_copy(a);
        }
    }
    return json_null();
}

static json_t *s_critical(json_t *snap) {
    json_t *out = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(snap, "critical"), i, c) {
        const char *text = json_string_value(c);
        json_t *obj = text ? json_loads(text, 0, NULL) : NULL;
        if (json_is_object(obj)) {
            json_array_append_new(out, obj);
        } else {
            json_decref(obj);
        }
    }
    return out;
}

static json_t *s_tenant_obj(db_tenant_t *t) {
    return json_pack("{s:s, s:s}", "name", t->name, "status",
                     t->suspended ? "suspended" : "active");
}

/* The common part of snapshot and stats frames for a role. */
static json_t *s_aggregate(db_tenant_t *t, json_t *snap, db_role_t role) {
    return json_pack("{s:I, s:I, s:o, s:o, s:o, s:I}", "rev",
                     json_integer_value(json_object_get(snap, "rev")), "at",
                     json_integer_value(json_object_get(snap, "at")), "tenant", s_tenant_obj(t),
                     "queues", s_queues(t, snap), "agents", s_agents(snap, role), "callbacks",
                     json_integer_value(json_object_get(snap, "callbacks")));
}

static void s_send_snapshot(db_op_t *op, db_sess_t *s) {
    db_tenant_t *t = op->tenant_grp;
    json_t *snap = op->acc;
    uint64_t rev = (uint64_t)json_integer_value(json_object_get(snap, "rev"));
    json_t *f = s_aggregate(t, snap, s->role);
    json_object_set_new(f, "type", json_string("snapshot"));
    json_object_set_new(f, "seq", json_integer(0));
    json_object_set_new(f, "critical",
                        s->role == DB_ROLE_SUPERVISOR ? s_critical(snap) : json_array());
    json_object_set_new(f, "me", s->role == DB_ROLE_AGENT ? s_me(snap, s->account) : json_null());
    json_t *cards = json_object_get(snap, "contacts");
    json_object_set_new(f, "contacts", json_is_array(cards) ? json_incref(cards) : json_array());
    json_object_set(f, "wrap_codes", op->p->wrap_codes);
    if (op->req[0]) {
        json_object_set_new(f, "req", json_string(op->req));
    }
    if (s->role == DB_ROLE_AGENT && s->mine) {
        size_t i;
        json_t *c;
        json_array_foreach(cards, i, c) {
            const char *id = db_json_str(c, "id");
            if (id && hk_strmap_size(s->mine) < DB_MINE_MAX) {
                hk_strmap_put(s->mine, id, s);
            }
        }
    }
    s->seq = 0;
    (*op->p->stats->snapshots)++;
    if (op->resync) {
        (*op->p->stats->resyncs)++;
    }
    db_sess_send(s, f);
    s->snapping = 0;
    db_fanout_flush(s, rev);
    if (s->snap_again) {
        s->snap_again = 0;
        db_view_snapshot(s, NULL, 1);
    }
}

static void s_send_stats(db_op_t *op) {
    db_tenant_t *t = op->tenant_grp;
    int64_t now = db_real_ms();
    int agents_due = now - t->agent_stats_ms >= S_AGENT_STATS_MS;
    char *rest[2] = {NULL, NULL};
    for (int role = 0; role < 2; role++) {
        if (role == DB_ROLE_AGENT && !agents_due) {
            continue;
        }
        json_t *f = s_aggregate(t, op->acc, (db_role_t)role);
        if (role == DB_ROLE_AGENT) {
            /* Agents follow colleagues through agent.* events; a list of every agent to
             * every agent each time would grow with the square of the staff. */
            json_object_del(f, "agents");
        }
        rest[role] = json_dumps(f, JSON_COMPACT);
        json_decref(f);
    }
    for (db_sess_t *s = t->sessions; s; s = s->tnext) {
        if (!s->snapping && rest[s->role]) {
            /* the fields after "{": joined behind "type" and "seq" */
            db_fanout_seq_frame(s, "stats", rest[s->role] + 1);
        }
    }
    free(rest[0]);
    free(rest[1]);
    if (agents_due) {
        t->agent_stats_ms = now;
    }
    t->stats_busy = 0;
    t->stats_ms = now;
}

static void s_view_finish(db_op_t *op) {
    if (op->resync == -1) {
        s_send_stats(op);
    } else if (op->sess) {
        s_send_snapshot(op, op->sess);
    }
    db_op_done(op);
}

/* ---- stats ---- */

void db_view_tick(db_proto_t *p) {
    size_t n = 0;
    char **names = hk_strmap_keys(p->tenants, &n);
    int64_t now = db_real_ms();
    for (size_t i = 0; i < n; i++) {
        db_tenant_t *t = hk_strmap_get(p->tenants, names[i]);
        if (!t || t->stats_busy || t->n_sessions == 0) {
            continue;
        }
        int64_t since = now - t->stats_ms;
        if ((t->dirty && since >= p->cfg->stats_ms) || (t->prompt && since >= S_PROMPT_STATS_MS) ||
            since >= S_STATS_IDLE_MS) {
            t->dirty = 0;
            t->prompt = 0;
            t->stats_busy = 1;
            s_view_start(p, NULL, t, NULL, -1);
        }
    }
    free(names);
}

void db_view_tenant_status(db_proto_t *p, const char *tenant, int suspended) {
    db_tenant_t *t = db_tenant_find(p, tenant);
    if (t) {
        t->suspended = suspended;
        t->policy_version = -1; /* read it again */
        t->dirty = 1;
        t->stats_ms = 0;
        t->agent_stats_ms = 0;
    }
}

/* ---- cards ---- */

static void s_on_card(hk_redis_t *r, redisReply *reply, void *arg) {
    db_op_t *op = arg;
    (void)r;
    json_t *cards = s_json_reply(reply);
    s_fix_cards(cards);
    json_t *card = json_array_get(cards, 0);
    if (op->kind == S_OP_CARD_ASK) {
        if (!op->sess) {
            /* the asker is gone */
        } else if (!json_is_array(cards)) {
            db_sess_error(op->sess, DB_ERR_UNAVAILABLE, op->req, "Redis did not answer: retry");
        } else if (!card) {
            db_sess_error(op->sess, DB_ERR_NOT_FOUND, op->req, "no such contact");
        } else {
            json_t *f = json_pack("{s:s, s:O}", "type", "card", "contact", card);
            if (op->req[0]) {
                json_object_set_new(f, "req", json_string(op->req));
            }
            db_sess_send(op->sess, f);
        }
    } else if (card) {
        db_tenant_t *t = db_tenant_find(op->p, op->tenant);
        json_t *f = json_pack("{s:s, s:O}", "type", "card", "contact", card);
        for (db_sess_t *s = t ? t->sessions : NULL; s; s = s->tnext) {
            if (s->role == DB_ROLE_AGENT && strcmp(s->account, op->account) == 0) {
                json_incref(f);
                db_sess_send(s, f);
            }
        }
        json_decref(f);
    }
    json_decref(cards);
    db_op_done(op);
}

void db_view_card(db_proto_t *p, db_sess_t *s, const char *tenant, const char *agent,
                  const char *contact, const char *req) {
    if (!p->redis) {
        if (s && req) {
            db_sess_error(s, DB_ERR_UNAVAILABLE, req, "shutting down");
        }
        return;
    }
    db_op_t *op = db_op_new(p, req ? s : NULL, req ? S_OP_CARD_ASK : S_OP_CARD_PUSH);
    snprintf(op->tenant, sizeof op->tenant, "%s", tenant);
    snprintf(op->account, sizeof op->account, "%s", agent);
    snprintf(op->contact, sizeof op->contact, "%s", contact);
    snprintf(op->req, sizeof op->req, "%s", req ? req : "");
    char key[DB_TENANT_MAX + 16], now[24];
    snprintf(key, sizeof key, "hk:{%s}:rev", tenant);
    snprintf(now, sizeof now, "%lld", (long long)hk_clock_now_ms());
    const char *argv[] = {key, now, "{}", p->instance, agent, "ids", contact};
    if (db_redis(p, db_script_card, 7, argv, s_on_card, op) != 0) {
        if (op->sess) {
            db_sess_error(op->sess, DB_ERR_UNAVAILABLE, req, "Redis is not reachable: retry");
        }
        db_op_done(op);
    }
}
