/* chat_frames: the client frames besides `message`: hello (a new session, or the resume of
 * one from Redis on any instance), person, typing, read, received, confirm, email and lang. */
#include "chat_proto_int.h"

#include "hk_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_TYPING_MS 1000 /* typing forwarded at most this often */
#define S_RETRY_MS 1000  /* reconnect hint when Redis cannot answer a hello */

static void s_on_signal_reply(const hk_envelope_t *reply, const char *error, void *arg) {
    chat_op_t *op = arg;
    const Hetki__V1__CommandReply *cr =
        reply && reply->body_case == HETKI__V1__ENVELOPE__BODY_COMMAND_REPLY ? reply->command_reply
                                                                             : NULL;
    int code = cr ? (int)cr->error_code : -1;
    if (code != HETKI__V1__ERROR_CODE__ERROR_NONE) {
        int quiet = op->signal == HETKI__V1__CHAT_KIND__CHAT_KIND_TYPING ||
                    op->signal == HETKI__V1__CHAT_KIND__CHAT_KIND_READ;
        if (quiet) {
            HK_DEBUG("chat.signal_failed", "session=%s contact=%s", op->session, op->contact);
        } else {
            chat_router_error(op, code, cr ? cr->error_text : error,
                              op->kind == CHAT_OP_CONFIRM ? "confirm" : "signal");
        }
    }
    chat_op_done(op);
}

/* Sends typing, read, person or email for the session's contact (mid NULL: a new id). */
void chat_sess_signal(chat_sess_t *s, Hetki__V1__ChatKind kind, const char *mid, const char *text) {
    chat_proto_t *p = s->p;
    if (!p->router || !s->contact[0]) {
        return;
    }
    char id[HK_ID_LEN + 1];
    if (!mid) {
        hk_id_new(id);
        mid = id;
    }
    chat_op_t *op = chat_op_new(p, s, CHAT_OP_SIGNAL);
    op->signal = (int)kind;
    Hetki__V1__ChatMessage cm = HETKI__V1__CHAT_MESSAGE__INIT;
    cm.tenant = s->tenant;
    cm.contact_id = s->contact;
    cm.session_id = s->session;
    cm.message_id = (char *)mid;
    cm.kind = kind;
    cm.sender = "customer";
    cm.text = (char *)text;
    cm.gateway = p->gateway;
    if (chat_router_chat(p->router, &cm, s_on_signal_reply, op) != 0) {
        chat_op_done(op);
    }
}

static void s_on_opened(int status, void *arg);
static void s_on_resumed(int status, const chat_resume_t *r, void *arg);

/* Opens a new session for the op's connection. */
static void s_open(chat_op_t *op) {
    chat_sess_t *s = op->sess;
    hk_id_new(s->session);
    snprintf(op->session, sizeof op->session, "%s", s->session);
    chat_store_token_new(s->session, op->token);
    if (!s->lang[0]) {
        snprintf(s->lang, sizeof s->lang, "en");
    }
    op->kind = CHAT_OP_OPEN;
    if (!s->p->store || chat_store_open(s->p->store, s->tenant, s->session, op->token, s->lang,
                                        s_on_opened, op) != 0) {
        chat_sess_retry_later(s, S_RETRY_MS);
        chat_op_done(op);
    }
}

static void s_on_opened(int status, void *arg) {
    chat_op_t *op = arg;
    chat_sess_t *s = op->sess;
    if (s && status == 0) {
        s->state = CHAT_SESS_READY;
        (*s->p->stats->sessions_new)++;
        HK_INFO("chat.session_opened", "session=%s tenant=%s lang=%s peer=%s", s->session,
                s->tenant, s->lang, hk_ws_conn_peer(s->conn));
        chat_deliver_welcome(s, op->token, NULL);
    } else if (s) {
        chat_sess_retry_later(s, S_RETRY_MS);
    }
    chat_op_done(op);
}

static void s_on_resumed(int status, const chat_resume_t *r, void *arg) {
    chat_op_t *op = arg;
    chat_sess_t *s = op->sess;
    if (!s) {
        chat_op_done(op);
    } else if (status == 0) {
        s->state = CHAT_SESS_READY;
        s->person = r->person;
        if (!s->lang[0]) {
            const char *lang = chat_lang_norm(r->lang);
            snprintf(s->lang, sizeof s->lang, "%s", lang ? lang : "en");
        }
        chat_sess_set_contact(s, r->contact);
        s->closed = strcmp(r->state, "closed") == 0;
        (*s->p->stats->sessions_resumed)++;
        HK_INFO("chat.session_resumed",
                "session=%s contact=%s tenant=%s state=%s history=%zu "
                "outbox=%zu peer=%s",
                s->session, s->contact[0] ? s->contact : "-", s->tenant,
                r->state[0] ? r->state : "-", r->n_conv, r->n_outbox, hk_ws_conn_peer(s->conn));
        chat_deliver_welcome(s, op->token, r);
        chat_op_done(op);
    } else if (status == -1) {
        (*s->p->stats->resume_failed)++;
        HK_INFO("chat.resume_refused", "session=%s tenant=%s peer=%s", s->session, s->tenant,
                hk_ws_conn_peer(s->conn));
        s_open(op); /* a fresh session instead */
    } else {
        chat_sess_retry_later(s, S_RETRY_MS);
        chat_op_done(op);
    }
}

void chat_frame_hello(chat_sess_t *s, json_t *root) {
    if (s->state != CHAT_SESS_NEW) {
        chat_sess_error(s, CHAT_ERR_BAD_FRAME, NULL, "hello was sent already");
        return;
    }
    const char *tenant = chat_json_str(root, "tenant");
    json_t *resume = json_object_get(root, "resume");
    if (!hk_tenant_ok(tenant)) {
        chat_sess_error(s, CHAT_ERR_BAD_FRAME, NULL,
                        "tenant: 1 to 32 characters of a-z, 0-9, '_' and '-' required");
        return;
    }
    if (resume && !json_is_string(resume) && !json_is_null(resume)) {
        chat_sess_error(s, CHAT_ERR_BAD_FRAME, NULL, "resume must be a string");
        return;
    }
    const char *lang = chat_lang_norm(chat_json_str(root, "lang"));
    snprintf(s->tenant, sizeof s->tenant, "%s", tenant);
    snprintf(s->lang, sizeof s->lang, "%s", lang ? lang : "");
    s->state = CHAT_SESS_HELLO;
    chat_op_t *op = chat_op_new(s->p, s, CHAT_OP_RESUME);
    const char *token = json_string_value(resume);
    if (token && chat_store_token_session(token, s->session) == 0) {
        snprintf(op->session, sizeof op->session, "%s", s->session);
        snprintf(op->token, sizeof op->token, "%s", token);
        if (!s->p->store || chat_store_resume(s->p->store, s->tenant, s->session, token, s->lang,
                                              s_on_resumed, op) != 0) {
            chat_sess_retry_later(s, S_RETRY_MS);
            chat_op_done(op);
        }
        return;
    }
    if (token && *token) {
        (*s->p->stats->resume_failed)++;
        HK_INFO("chat.resume_malformed", "tenant=%s peer=%s", s->tenant, hk_ws_conn_peer(s->conn));
    }
    s_open(op);
}

void chat_frame_person(chat_sess_t *s, json_t *root) {
    (void)root;
    HK_INFO("chat.person", "session=%s contact=%s", s->session, s->contact[0] ? s->contact : "-");
    if (s->contact[0] && !s->closed) {
        chat_sess_signal(s, HETKI__V1__CHAT_KIND__CHAT_KIND_PERSON, NULL, "");
        return;
    }
    s->person = 1; /* the next contact carries it */
    s->person_pending = s->busy;
    if (s->p->store) {
        chat_store_set(s->p->store, s->tenant, s->session, "person", "1", NULL, NULL);
    }
}

void chat_frame_typing(chat_sess_t *s, json_t *root) {
    (void)root;
    int64_t now = hk_limits_now_ms();
    if (s->contact[0] && !s->closed && now - s->last_typing_ms >= S_TYPING_MS) {
        s->last_typing_ms = now;
        chat_sess_signal(s, HETKI__V1__CHAT_KIND__CHAT_KIND_TYPING, NULL, "");
    }
}

void chat_frame_read(chat_sess_t *s, json_t *root) {
    const char *id = chat_json_str(root, "id");
    if (!hk_ref_ok(id)) {
        chat_sess_error(s, CHAT_ERR_BAD_FRAME, NULL, "id: a message id required");
        return;
    }
    chat_sess_signal(s, HETKI__V1__CHAT_KIND__CHAT_KIND_READ, id, "");
}

void chat_frame_received(chat_sess_t *s, json_t *root) {
    const char *id = chat_json_str(root, "id");
    if (!hk_ref_ok(id)) {
        chat_sess_error(s, CHAT_ERR_BAD_FRAME, NULL, "id: a message id required");
        return;
    }
    if (s->p->store) {
        chat_store_received(s->p->store, s->tenant, s->session, id);
    }
}

static void s_on_confirm_reply(const hk_envelope_t *reply, const char *error, void *arg) {
    s_on_signal_reply(reply, error, arg);
}

void chat_frame_confirm(chat_sess_t *s, json_t *root) {
    json_t *resolved = json_object_get(root, "resolved");
    if (!json_is_boolean(resolved)) {
        chat_sess_error(s, CHAT_ERR_BAD_FRAME, NULL, "resolved: true or false required");
        return;
    }
    if (!s->contact[0] || !s->p->router) {
        chat_sess_error(s, CHAT_ERR_BAD_FRAME, NULL, "there is nothing to confirm");
        return;
    }
    char cmd[HK_ID_LEN + 1];
    hk_id_new(cmd);
    HK_INFO("chat.confirm", "session=%s contact=%s resolved=%d", s->session, s->contact,
            json_is_true(resolved) ? 1 : 0);
    chat_op_t *op = chat_op_new(s->p, s, CHAT_OP_CONFIRM);
    Hetki__V1__CustomerConfirm cc = HETKI__V1__CUSTOMER_CONFIRM__INIT;
    cc.command_id = cmd;
    cc.tenant = s->tenant;
    cc.contact_id = s->contact;
    cc.confirmed = json_is_true(resolved);
    if (chat_router_confirm(s->p->router, &cc, s_on_confirm_reply, op) != 0) {
        chat_op_done(op);
    }
}

void chat_frame_email(chat_sess_t *s, json_t *root) {
    const char *address = chat_json_str(root, "address");
    if (!chat_email_ok(address)) {
        chat_sess_error(s, CHAT_ERR_BAD_FRAME, NULL, "address: an email address required");
        return;
    }
    HK_INFO("chat.email", "session=%s contact=%s", s->session, s->contact[0] ? s->contact : "-");
    if (s->p->store) {
        chat_store_set(s->p->store, s->tenant, s->session, "email", address, NULL, NULL);
    }
    chat_sess_signal(s, HETKI__V1__CHAT_KIND__CHAT_KIND_EMAIL, NULL, address);
}

void chat_frame_lang(chat_sess_t *s, json_t *root) {
    const char *lang = chat_lang_norm(chat_json_str(root, "lang"));
    if (!lang) {
        chat_sess_error(s, CHAT_ERR_BAD_FRAME, NULL, "lang: fi, sv or en required");
        return;
    }
    snprintf(s->lang, sizeof s->lang, "%s", lang);
    if (s->p->store) {
        chat_store_set(s->p->store, s->tenant, s->session, "lang", lang, NULL, NULL);
    }
}
