/* db_auth: login with a password (account from Redis, argon2id verified on the libuv thread
 * pool, never on the loop), authentication with a session token, logout, the per-account
 * lockout after failed logins, and the periodic check that connected sessions still exist
 * (removed accounts, changed passwords and expiry end them). */
#include "db_proto_int.h"

#include "hk_log.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_AUTH_TRIES 5     /* failed login/auth frames per connection, then close */
#define S_FAIL_WINDOW_S 900    /* the per-account failure counter lives this long */
#define S_CHECK_EVERY_MS 10000 /* each session is looked up in Redis this often */
#define S_CHECKS_PER_TICK 250  /* at most this many lookups per tick */
#define S_PASSWORD_MAX 1024

/* Verified when the account does not exist, so that an unknown id takes as long as a wrong
 * password (argon2id, libsodium's interactive limits, of a text nobody uses). */
static const char s_dummy_hash[] = "$argon2id$v=19$m=65536,t=2,p=1$Btxv2QQRhmVuMsMGQ9z6NQ$"
                                   "/fIigW9jifTEp1/A/55p9K/hlXn8axZNcVY6E0qmkRA";

enum { S_OP_LOGIN = 100, S_OP_AUTH, S_OP_LOGOUT, S_OP_CHECK };

static const char *s_str(redisReply *r) {
    return r && r->type == REDIS_REPLY_STRING ? r->str : NULL;
}

/* The login or auth failed: error frame, back to NEW, and a close after too many. */
static void s_refuse(db_sess_t *s, db_err_t err, const char *req, const char *text) {
    s->state = DB_SESS_NEW;
    db_sess_error(s, err, req, text);
    if (err != DB_ERR_UNAVAILABLE && ++s->auth_tries >= S_MAX_AUTH_TRIES) {
        (*s->p->stats->ws.closed_policy)++;
        HK_INFO("dashboard.auth_close", "peer=%s tries=%d", hk_ws_conn_peer(s->conn),
                s->auth_tries);
        hk_ws_conn_close(s->conn, DB_CLOSE_POLICY, "too many failed logins");
    }
}

/* Authenticated: session frame (with the token after a login), tenant group, snapshot. */
static void s_ready(db_sess_t *s, const char *req, const char *role, const char *name,
                    int64_t expires_ms, const char *token) {
    s->state = DB_SESS_READY;
    s->role = db_role_parse(role) == DB_ROLE_SUPERVISOR ? DB_ROLE_SUPERVISOR : DB_ROLE_AGENT;
    snprintf(s->name, sizeof s->name, "%s", name ? name : "");
    s->expires_ms = expires_ms;
    s->checked_ms = db_real_ms();
    if (s->role == DB_ROLE_AGENT) {
        s->mine = hk_strmap_new();
    }
    json_t *f = json_pack("{s:s, s:{s:s, s:s, s:s, s:s}, s:I}", "type", "session", "account",
                          "tenant", s->tenant, "id", s->account, "role",
                          s->role == DB_ROLE_SUPERVISOR ? "supervisor" : "agent", "name", s->name,
                          "expires_at", (json_int_t)expires_ms);
    if (token) {
        json_object_set_new(f, "token", json_string(token));
    }
    if (req && *req) {
        json_object_set_new(f, "req", json_string(req));
    }
    db_sess_send(s, f);
    db_tenant_join(s);
    db_view_snapshot(s, NULL, 0);
}

static void s_ignore(hk_redis_t *r, redisReply *reply, void *arg) {
    (void)r;
    (void)reply;
    (void)arg;
}

static int s_cmd(db_proto_t *p, hk_redis_reply_fn *fn, void *arg, int argc, const char **argv) {
    return db_redis(p, -1, argc, argv, fn, arg);
}

/* ---- login ---- */

static void s_login_fail(db_op_t *op, db_err_t err, const char *text) {
    if (op->sess) {
        s_refuse(op->sess, err, op->req, text);
    }
    db_op_done(op);
}

static void s_on_session_open(hk_redis_t *r, redisReply *reply, void *arg) {
    db_op_t *op = arg;
    (void)r;
    db_sess_t *s = op->sess;
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements < 1) {
        s_login_fail(op, DB_ERR_UNAVAILABLE, "could not store the session: try again");
        return;
    }
    if (reply->element[0]->integer != 1 || reply->elements < 3) {
        s_login_fail(op, DB_ERR_BAD_CREDENTIALS, "wrong tenant, id or password");
        return;
    }
    if (s) {
        (*op->p->stats->logins)++;
        HK_INFO("dashboard.login", "tenant=%s account=%s role=%s peer=%s", s->tenant, s->account,
                s_str(reply->element[1]) ? s_str(reply->element[1]) : "?",
                hk_ws_conn_peer(s->conn));
        s_ready(s, op->req, s_str(reply->element[1]), s_str(reply->element[2]), (int64_t)op->rev,
                op->hash);
    }
    db_op_done(op);
}

static void s_verify_work(uv_work_t *w) {
    db_op_t *op = w->data;
    int64_t t0 = db_real_ms();
    const char *hash = op->hash ? op->hash : s_dummy_hash;
    op->verified = crypto_pwhash_str_verify(hash, op->password, strlen(op->password)) == 0;
    op->verified = op->verified && op->hash;
    op->verify_s = (double)(db_real_ms() - t0) / 1000.0;
}

static void s_verify_done(uv_work_t *w, int status) {
    db_op_t *op = w->data;
    db_proto_t *p = op->p;
    hk_histogram_observe(p->stats->verify_seconds, op->verify_s);
    memset(op->password, 0, strlen(op->password));
    char fail_key[DB_TENANT_MAX + DB_ACCOUNT_MAX + 32];
    snprintf(fail_key, sizeof fail_key, "hk:{%s}:loginfail:%s", op->tenant, op->account);
    if (status != 0 || !op->verified || !op->sess || p->stopped) {
        if (status == 0 && !op->verified && p->redis) {
            const char *incr[] = {"INCR", fail_key};
            const char *exp[] = {"EXPIRE", fail_key, "900"};
            s_cmd(p, s_ignore, NULL, 2, incr);
            s_cmd(p, s_ignore, NULL, 3, exp);
            HK_INFO("dashboard.login_failed", "tenant=%s account=%s", op->tenant, op->account);
        }
        s_login_fail(op, DB_ERR_BAD_CREDENTIALS, "wrong tenant, id or password");
        return;
    }
    const char *del[] = {"DEL", fail_key};
    s_cmd(p, s_ignore, NULL, 2, del);
    /* The token goes to the client once; Redis keeps its SHA-256. op->hash now holds the
     * token (the account's hash is no longer needed); extra[0] marks a login. */
    char token[DB_TOKEN_MAX];
    unsigned char digest[32];
    char tenant[DB_TENANT_MAX + 1];
    db_token_new(op->tenant, token, sizeof token);
    db_token_parse(token, tenant, sizeof tenant, digest);
    free(op->hash);
    op->hash = strdup(token);
    sodium_memzero(token, sizeof token);
    db_hex(digest, sizeof digest, op->sess->sess_hash);
    char akey[DB_TENANT_MAX + DB_ACCOUNT_MAX + 40], now[24], ttl[24], expires[24];
    snprintf(akey, sizeof akey, "hk:{%s}:account:%s:sessions", op->tenant, op->account);
    int64_t now_ms = db_wall_ms();
    snprintf(now, sizeof now, "%lld", (long long)now_ms);
    snprintf(ttl, sizeof ttl, "%lld", (long long)p->cfg->session_ttl_s * 1000LL);
    op->rev = (uint64_t)(now_ms + p->cfg->session_ttl_s * 1000LL); /* the expiry, for the client */
    snprintf(expires, sizeof expires, "%llu", (unsigned long long)op->rev);
    const char *argv[] = {akey, now, "{}", p->instance, op->sess->sess_hash, ttl, expires};
    if (db_redis(p, db_script_session_open, 7, argv, s_on_session_open, op) != 0) {
        s_login_fail(op, DB_ERR_UNAVAILABLE, "Redis is not reachable: try again");
    }
}

static void s_on_account(hk_redis_t *r, redisReply *reply, void *arg) {
    db_op_t *op = arg;
    (void)r;
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 || !op->sess ||
        op->p->stopped) {
        s_login_fail(op, DB_ERR_UNAVAILABLE, "Redis is not reachable: try again");
        return;
    }
    const char *hash = s_str(reply->element[0]);
    op->hash = hash ? strdup(hash) : NULL;
    op->work.data = op;
    uv_queue_work(op->p->loop, &op->work, s_verify_work, s_verify_done);
}

static void s_on_fails(hk_redis_t *r, redisReply *reply, void *arg) {
    db_op_t *op = arg;
    (void)r;
    if (!reply || (reply->type != REDIS_REPLY_NIL && reply->type != REDIS_REPLY_STRING) ||
        !op->sess || op->p->stopped) {
        s_login_fail(op, DB_ERR_UNAVAILABLE, "Redis is not reachable: try again");
        return;
    }
    long fails = s_str(reply) ? strtol(reply->str, NULL, 10) : 0;
    if (fails >= op->p->cfg->login_fails) {
        HK_WARN("dashboard.login_locked", "tenant=%s account=%s fails=%ld", op->tenant, op->account,
                fails);
        s_login_fail(op, DB_ERR_LOCKED, "too many failed logins: try again later");
        return;
    }
    char akey[DB_TENANT_MAX + DB_ACCOUNT_MAX + 32];
    snprintf(akey, sizeof akey, "hk:{%s}:account:%s", op->tenant, op->account);
    const char *argv[] = {"HMGET", akey, "hash", "role", "name"};
    if (s_cmd(op->p, s_on_account, op, 5, argv) != 0) {
        s_login_fail(op, DB_ERR_UNAVAILABLE, "Redis is not reachable: try again");
    }
}

void db_frame_login(db_sess_t *s, json_t *root, const char *req) {
    const char *tenant = db_json_str(root, "tenant");
    const char *id = db_json_str(root, "id");
    const char *password = db_json_str(root, "password");
    if (!hk_tenant_ok(tenant)) {
        s_refuse(s, DB_ERR_BAD_FRAME, req, "tenant: 1 to 32 characters of a-z 0-9 _ -");
        return;
    }
    if (!hk_ref_ok(id)) {
        s_refuse(s, DB_ERR_BAD_FRAME, req, "id: 1 to 64 characters of A-Z a-z 0-9 _ . : -");
        return;
    }
    size_t plen = json_string_length(json_object_get(root, "password"));
    if (!password || plen == 0 || plen > S_PASSWORD_MAX || strlen(password) != plen) {
        s_refuse(s, DB_ERR_BAD_FRAME, req, "password: 1 to 1024 bytes required");
        return;
    }
    s->state = DB_SESS_AUTHING;
    snprintf(s->tenant, sizeof s->tenant, "%s", tenant);
    snprintf(s->account, sizeof s->account, "%s", id);
    db_op_t *op = db_op_new(s->p, s, S_OP_LOGIN);
    snprintf(op->req, sizeof op->req, "%s", req ? req : "");
    op->password = strdup(password);
    char key[DB_TENANT_MAX + DB_ACCOUNT_MAX + 32];
    snprintf(key, sizeof key, "hk:{%s}:loginfail:%s", tenant, id);
    const char *argv[] = {"GET", key};
    if (s_cmd(s->p, s_on_fails, op, 2, argv) != 0) {
        s_login_fail(op, DB_ERR_UNAVAILABLE, "Redis is not reachable: try again");
    }
}

/* ---- auth with a token ---- */

static void s_on_auth(hk_redis_t *r, redisReply *reply, void *arg) {
    db_op_t *op = arg;
    (void)r;
    db_sess_t *s = op->sess;
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 4) {
        s_login_fail(op, DB_ERR_UNAVAILABLE, "Redis is not reachable: try again");
        return;
    }
    const char *account = s_str(reply->element[0]);
    const char *role = s_str(reply->element[1]);
    const char *expires = s_str(reply->element[3]);
    if (!account || !role || db_role_parse(role) < 0 || !hk_ref_ok(account)) {
        s_login_fail(op, DB_ERR_BAD_TOKEN, "unknown or expired session: log in again");
        return;
    }
    if (s) {
        snprintf(s->account, sizeof s->account, "%s", account);
        (*op->p->stats->auths)++;
        HK_INFO("dashboard.auth", "tenant=%s account=%s peer=%s", s->tenant, s->account,
                hk_ws_conn_peer(s->conn));
        s_ready(s, op->req, role, s_str(reply->element[2]),
                expires ? strtoll(expires, NULL, 10) : 0, NULL);
    }
    db_op_done(op);
}

void db_frame_auth(db_sess_t *s, json_t *root, const char *req) {
    const char *token = db_json_str(root, "token");
    unsigned char digest[32];
    char tenant[DB_TENANT_MAX + 1];
    if (!token || db_token_parse(token, tenant, sizeof tenant, digest) != 0) {
        s_refuse(s, DB_ERR_BAD_TOKEN, req, "token: malformed");
        return;
    }
    s->state = DB_SESS_AUTHING;
    snprintf(s->tenant, sizeof s->tenant, "%s", tenant);
    db_hex(digest, sizeof digest, s->sess_hash);
    db_op_t *op = db_op_new(s->p, s, S_OP_AUTH);
    snprintf(op->req, sizeof op->req, "%s", req ? req : "");
    char key[DB_TENANT_MAX + 100];
    snprintf(key, sizeof key, "hk:{%s}:session:%s", tenant, s->sess_hash);
    const char *argv[] = {"HMGET", key, "account", "role", "name", "expires_ms"};
    if (s_cmd(s->p, s_on_auth, op, 6, argv) != 0) {
        s_login_fail(op, DB_ERR_UNAVAILABLE, "Redis is not reachable: try again");
    }
}

/* ---- logout ---- */

static void s_on_logout(hk_redis_t *r, redisReply *reply, void *arg) {
    db_op_t *op = arg;
    (void)r;
    db_sess_t *s = op->sess;
    if (s) {
        if (!reply || reply->type == REDIS_REPLY_ERROR) {
            db_sess_error(s, DB_ERR_UNAVAILABLE, op->req, "Redis is not reachable: try again");
        } else {
            HK_INFO("dashboard.logout", "tenant=%s account=%s", s->tenant, s->account);
            db_sess_ok(s, op->req, NULL);
            hk_ws_conn_close(s->conn, DB_CLOSE_NORMAL, "logged out");
        }
    }
    db_op_done(op);
}

void db_frame_logout(db_sess_t *s, json_t *root, const char *req) {
    (void)root;
    db_op_t *op = db_op_new(s->p, s, S_OP_LOGOUT);
    snprintf(op->req, sizeof op->req, "%s", req ? req : "");
    char key[DB_TENANT_MAX + 100], set[DB_TENANT_MAX + DB_ACCOUNT_MAX + 40];
    snprintf(key, sizeof key, "hk:{%s}:session:%s", s->tenant, s->sess_hash);
    snprintf(set, sizeof set, "hk:{%s}:account:%s:sessions", s->tenant, s->account);
    const char *srem[] = {"SREM", set, s->sess_hash};
    const char *del[] = {"DEL", key};
    s_cmd(s->p, s_ignore, NULL, 3, srem);
    if (s_cmd(s->p, s_on_logout, op, 2, del) != 0) {
        db_sess_error(s, DB_ERR_UNAVAILABLE, req, "Redis is not reachable: try again");
        db_op_done(op);
    }
}

/* ---- session checks ---- */

static void s_on_check(hk_redis_t *r, redisReply *reply, void *arg) {
    db_op_t *op = arg;
    (void)r;
    db_sess_t *s = op->sess;
    if (s) {
        s->checking = 0;
        if (reply && reply->type == REDIS_REPLY_INTEGER && reply->integer == 0 &&
            !hk_ws_conn_closing(s->conn)) {
            HK_INFO("dashboard.session_ended", "tenant=%s account=%s", s->tenant, s->account);
            db_sess_error(s, DB_ERR_SESSION_ENDED, NULL, "the session ended: log in again");
            (*s->p->stats->ws.closed_policy)++;
            hk_ws_conn_close(s->conn, DB_CLOSE_POLICY, "session ended");
        } else if (reply && reply->type == REDIS_REPLY_INTEGER) {
            s->checked_ms = db_real_ms();
        }
    }
    db_op_done(op);
}

void db_auth_check_sessions(db_proto_t *p) {
    int64_t now = db_real_ms();
    int n = 0;
    for (db_sess_t *s = p->sessions; s && n < S_CHECKS_PER_TICK && p->redis; s = s->next) {
        if (s->state != DB_SESS_READY || s->checking || hk_ws_conn_closing(s->conn) ||
            now - s->checked_ms < S_CHECK_EVERY_MS) {
            continue;
        }
        db_op_t *op = db_op_new(p, s, S_OP_CHECK);
        char key[DB_TENANT_MAX + 100];
        snprintf(key, sizeof key, "hk:{%s}:session:%s", s->tenant, s->sess_hash);
        const char *argv[] = {"EXISTS", key};
        s->checking = 1;
        if (s_cmd(p, s_on_check, op, 2, argv) != 0) {
            s->checking = 0;
            db_op_done(op);
            break;
        }
        n++;
    }
}
