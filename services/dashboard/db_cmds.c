/* db_cmds: what agents and supervisors ask for: agent commands (AgentCommand), chat replies
 * and typing (ChatMessage), the tenant suspension switch (TenantStatus) and contact cards.
 * The tenant and the agent of every request come from the session, never from the frame;
 * the role decides what may be sent. Router replies become ok/error frames. */
#include "db_proto_int.h"

#include "hk_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_NOTE_MAX 1024
#define S_REASON_MAX 64
#define S_CODE_MAX 64
#define S_TEXT_MAX 4096

enum { S_OP_COMMAND = 300, S_OP_SAY, S_OP_TYPING, S_OP_TENANT };

static db_err_t s_err_of(Hetki__V1__ErrorCode code) {
    switch (code) {
    case HETKI__V1__ERROR_CODE__ERROR_INVALID:
        return DB_ERR_INVALID;
    case HETKI__V1__ERROR_CODE__ERROR_NOT_FOUND:
        return DB_ERR_NOT_FOUND;
    case HETKI__V1__ERROR_CODE__ERROR_NOT_YOURS:
        return DB_ERR_NOT_YOURS;
    case HETKI__V1__ERROR_CODE__ERROR_CAPACITY:
        return DB_ERR_CAPACITY;
    case HETKI__V1__ERROR_CODE__ERROR_STATE:
    case HETKI__V1__ERROR_CODE__ERROR_TENANT:
        return DB_ERR_STATE;
    default:
        return DB_ERR_UNAVAILABLE;
    }
}

/* The router's answer to any request of ours. */
static void s_on_reply(const hk_envelope_t *reply, const char *error, void *arg) {
    db_op_t *op = arg;
    db_sess_t *s = op->sess;
    const Hetki__V1__CommandReply *cr =
        reply && reply->body_case == HETKI__V1__ENVELOPE__BODY_COMMAND_REPLY ? reply->command_reply
                                                                             : NULL;
    const Hetki__V1__Ack *ack =
        reply && reply->body_case == HETKI__V1__ENVELOPE__BODY_ACK ? reply->ack : NULL;
    int ok = cr && cr->error_code == HETKI__V1__ERROR_CODE__ERROR_NONE;
    if (ok && op->kind == S_OP_TENANT) {
        db_view_tenant_status(op->p, op->tenant, strcmp(op->extra, "suspended") == 0);
        HK_INFO("dashboard.tenant_status", "tenant=%s status=%s by=%s", op->tenant, op->extra,
                op->account);
    }
    if (!s || op->kind == S_OP_TYPING) {
        /* nobody to tell */
    } else if (ok) {
        json_t *extra = NULL;
        if (op->kind == S_OP_TENANT) {
            extra = json_pack("{s:s}", "status", op->extra);
        } else {
            extra = json_pack("{s:s, s:s, s:s}", "agent_state", cr->agent_state, "contact_state",
                              cr->contact_state, "contact", cr->contact_id);
            if (op->kind == S_OP_SAY) {
                json_object_set_new(extra, "id", json_string(op->extra));
            }
        }
        db_sess_ok(s, op->req, extra);
    } else if (cr) {
        db_sess_error(s, s_err_of(cr->error_code), op->req,
                      cr->error_text[0] ? cr->error_text : "refused by the router");
    } else if (ack && ack->error_code != HETKI__V1__ERROR_CODE__ERROR_NONE) {
        db_sess_error(s, s_err_of(ack->error_code), op->req,
                      ack->error_text[0] ? ack->error_text : "refused by the router");
    } else {
        HK_WARN("dashboard.command_failed", "tenant=%s account=%s error=\"%s\"", op->tenant,
                op->account, error ? error : "unexpected reply");
        db_sess_error(s, DB_ERR_UNAVAILABLE, op->req, "the routers did not answer: retry");
    }
    db_op_done(op);
}

static void s_submit(db_sess_t *s, db_op_t *op, hk_envelope_t *env) {
    (*s->p->stats->commands)++;
    if (!s->p->submit || hk_submit_request(s->p->submit, env, s_on_reply, op) != 0) {
        db_sess_error(s, DB_ERR_UNAVAILABLE, op->req, "could not send the command");
        db_op_done(op);
    }
}

/* A string field: absent is NULL; present must be a string of 1..max bytes of UTF-8. Sends
 * bad_frame and returns -1 when it is not. */
static int s_field(db_sess_t *s, json_t *root, const char *field, size_t max, int required,
                   const char *req, const char **out) {
    json_t *v = json_object_get(root, field);
    *out = NULL;
    if (!v && !required) {
        return 0;
    }
    const char *text = json_string_value(v);
    if (!text || json_string_length(v) != strlen(text) || !db_text_ok(text, max)) {
        char why[128];
        snprintf(why, sizeof why, "%s: a text of 1 to %zu bytes required", field, max);
        db_sess_error(s, DB_ERR_BAD_FRAME, req, why);
        return -1;
    }
    *out = text;
    return 0;
}

static int s_contact(db_sess_t *s, json_t *root, const char *req, const char **out) {
    *out = db_json_str(root, "contact");
    if (!hk_ref_ok(*out)) {
        db_sess_error(s, DB_ERR_BAD_FRAME, req, "contact: a contact id required");
        return -1;
    }
    return 0;
}

static int s_agent_only(db_sess_t *s, const char *req) {
    if (s->role != DB_ROLE_AGENT) {
        db_sess_error(s, DB_ERR_FORBIDDEN, req, "agents only");
        return -1;
    }
    return 0;
}

void db_frame_agent_cmd(db_sess_t *s, json_t *root, const char *req) {
    static const struct {
        const char *type;
        Hetki__V1__AgentCommandKind kind;
        int needs_contact;
    } kinds[] = {
        {"available", HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_AVAILABLE, 0},
        {"pause", HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_PAUSE, 0},
        {"offline", HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_OFFLINE, 0},
        {"accept", HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_ACCEPT, 1},
        {"decline", HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_DECLINE, 1},
        {"transfer", HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_TRANSFER, 1},
        {"propose", HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_PROPOSE_RESOLUTION, 1},
        {"wrapup", HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_WRAP_UP, 1},
    };
    const char *type = db_json_str(root, "type");
    size_t k = 0;
    while (k < sizeof kinds / sizeof kinds[0] && strcmp(kinds[k].type, type) != 0) {
        k++;
    }
    if (k == sizeof kinds / sizeof kinds[0] || s_agent_only(s, req) != 0) {
        return;
    }
    Hetki__V1__AgentCommand cmd = HETKI__V1__AGENT_COMMAND__INIT;
    const char *contact = NULL, *reason = NULL, *to_queue = NULL, *to_agent = NULL, *note = NULL,
               *code = NULL;
    if (kinds[k].needs_contact && s_contact(s, root, req, &contact) != 0) {
        return;
    }
    cmd.kind = kinds[k].kind;
    if (cmd.kind == HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_PAUSE) {
        if (s_field(s, root, "reason", S_REASON_MAX, 0, req, &reason) != 0) {
            return;
        }
        cmd.reason = (char *)(reason ? reason : "break");
    } else if (cmd.kind == HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_TRANSFER) {
        if (s_field(s, root, "to_queue", 64, 0, req, &to_queue) != 0 ||
            s_field(s, root, "to_agent", 64, 0, req, &to_agent) != 0 ||
            s_field(s, root, "note", S_NOTE_MAX, 0, req, &note) != 0) {
            return;
        }
        if (!to_queue == !to_agent) {
            db_sess_error(s, DB_ERR_BAD_FRAME, req, "transfer: exactly one of to_queue, to_agent");
            return;
        }
        cmd.to_queue = (char *)(to_queue ? to_queue : "");
        cmd.to_agent = (char *)(to_agent ? to_agent : "");
        cmd.note = (char *)(note ? note : "");
    } else if (cmd.kind == HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_WRAP_UP) {
        json_t *d = json_object_get(root, "distressing");
        if (s_field(s, root, "code", S_CODE_MAX, 1, req, &code) != 0) {
            return;
        }
        if (d && !json_is_boolean(d)) {
            db_sess_error(s, DB_ERR_BAD_FRAME, req, "distressing: true or false");
            return;
        }
        cmd.wrap_code = (char *)code;
        cmd.distressing = json_is_true(d);
    }
    db_op_t *op = db_op_new(s->p, s, S_OP_COMMAND);
    snprintf(op->req, sizeof op->req, "%s", req ? req : "");
    char command_id[HK_ID_LEN + 4];
    snprintf(command_id, sizeof command_id, "db-");
    hk_id_new(command_id + 3);
    cmd.command_id = command_id;
    cmd.tenant = s->tenant;
    cmd.agent_id = s->account;
    cmd.contact_id = (char *)(contact ? contact : "");
    hk_envelope_t env = HETKI__V1__ENVELOPE__INIT;
    env.body_case = HETKI__V1__ENVELOPE__BODY_AGENT_COMMAND;
    env.agent_command = &cmd;
    s_submit(s, op, &env);
}

static void s_chat(db_sess_t *s, json_t *root, const char *req, int typing) {
    const char *contact = NULL, *text = NULL, *id = db_json_str(root, "id");
    if (s_agent_only(s, req) != 0 || s_contact(s, root, req, &contact) != 0) {
        return;
    }
    if (!typing && s_field(s, root, "text", S_TEXT_MAX, 1, req, &text) != 0) {
        return;
    }
    if (!typing && json_object_get(root, "id") && !hk_client_id_ok(id)) {
        db_sess_error(s, DB_ERR_BAD_FRAME, req, "id: 1 to 64 characters of A-Z a-z 0-9 _ -");
        return;
    }
    db_op_t *op = db_op_new(s->p, s, typing ? S_OP_TYPING : S_OP_SAY);
    snprintf(op->req, sizeof op->req, "%s", req ? req : "");
    char mid[HK_ID_LEN + 4];
    if (id) {
        snprintf(mid, sizeof mid, "%s", id);
    } else {
        snprintf(mid, sizeof mid, "db-");
        hk_id_new(mid + 3);
    }
    /* The client's id makes a resend of the same message harmless; without one, a new id. */
    snprintf(op->extra, sizeof op->extra, "%s", mid);
    Hetki__V1__ChatMessage msg = HETKI__V1__CHAT_MESSAGE__INIT;
    msg.tenant = s->tenant;
    msg.contact_id = (char *)contact;
    msg.message_id = op->extra;
    msg.kind =
        typing ? HETKI__V1__CHAT_KIND__CHAT_KIND_TYPING : HETKI__V1__CHAT_KIND__CHAT_KIND_MESSAGE;
    msg.sender = "agent";
    msg.agent_id = s->account;
    msg.text = (char *)(text ? text : "");
    hk_envelope_t env = HETKI__V1__ENVELOPE__INIT;
    env.body_case = HETKI__V1__ENVELOPE__BODY_CHAT_MESSAGE;
    env.chat_message = &msg;
    s_submit(s, op, &env);
}

void db_frame_say(db_sess_t *s, json_t *root, const char *req) {
    s_chat(s, root, req, 0);
}

void db_frame_typing(db_sess_t *s, json_t *root, const char *req) {
    s_chat(s, root, req, 1);
}

void db_frame_tenant(db_sess_t *s, json_t *root, const char *req) {
    const char *status = db_json_str(root, "status");
    if (s->role != DB_ROLE_SUPERVISOR) {
        db_sess_error(s, DB_ERR_FORBIDDEN, req, "supervisors only");
        return;
    }
    if (!status || (strcmp(status, "active") != 0 && strcmp(status, "suspended") != 0)) {
        db_sess_error(s, DB_ERR_BAD_FRAME, req, "status: active or suspended");
        return;
    }
    db_op_t *op = db_op_new(s->p, s, S_OP_TENANT);
    snprintf(op->req, sizeof op->req, "%s", req ? req : "");
    snprintf(op->extra, sizeof op->extra, "%s", status);
    char command_id[HK_ID_LEN + 4];
    snprintf(command_id, sizeof command_id, "db-");
    hk_id_new(command_id + 3);
    Hetki__V1__TenantStatus ts = HETKI__V1__TENANT_STATUS__INIT;
    ts.command_id = command_id;
    ts.tenant = s->tenant;
    ts.status = op->extra;
    ts.by = s->account;
    hk_envelope_t env = HETKI__V1__ENVELOPE__INIT;
    env.body_case = HETKI__V1__ENVELOPE__BODY_TENANT_STATUS;
    env.tenant_status = &ts;
    s_submit(s, op, &env);
}

void db_frame_contact(db_sess_t *s, json_t *root, const char *req) {
    const char *contact = NULL;
    if (s_contact(s, root, req, &contact) != 0) {
        return;
    }
    db_view_card(s->p, s, s->tenant, s->role == DB_ROLE_AGENT ? s->account : "", contact,
                 req ? req : "");
}
