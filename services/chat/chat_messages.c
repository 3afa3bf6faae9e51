/* chat_messages: a customer's messages, from the `message` frame to the ack.
 *
 * Messages wait in a short per-session queue and are submitted one at a time, so the
 * conversation keeps their order. Without a contact the message becomes a Contact (dedupe key
 * "<session>:<message id>", so one customer's ids never meet another's); its Ack gives the
 * contact, which is stored in the session hash before the client gets its ack (with the
 * reassurance from the Ack), and then the message goes into the conversation as a
 * ChatMessage. Later messages are ChatMessages; ERROR_STATE or ERROR_NOT_FOUND (the contact
 * closed) starts a new contact with the message. */
#include "chat_proto_int.h"

#include "hk_clock.h"
#include "hk_log.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_QUEUE_MAX 64 /* customer messages waiting per connection */

static void s_pump(chat_sess_t *s);

/* Ends a message's submission: the next one may go. */
static void s_msg_finish(chat_op_t *op) {
    chat_sess_t *s = op->sess;
    if (s) {
        s->busy = 0;
    }
    chat_op_done(op);
    if (s) {
        s_pump(s);
    }
}

static void s_ack(chat_sess_t *s, const chat_msg_t *m, const char *contact, json_t *reassure) {
    json_t *f = json_pack("{s:s, s:s, s:s}", "type", "ack", "id", m->id, "contact", contact);
    if (f && reassure) {
        json_object_set(f, "reassure", reassure);
    }
    (*s->p->stats->acks)++;
    hk_histogram_observe(s->p->stats->ack_seconds,
                         (double)(hk_clock_real_us() - m->at_us) / 1000000.0);
    chat_sess_send(s, f);
}

/* The error for a router that did not answer or refused. */
void chat_router_error(chat_op_t *op, int code, const char *text, const char *what) {
    char quoted[300];
    hk_log_quote(quoted, sizeof quoted, text ? text : "");
    HK_WARN("chat.router_refused", "what=%s session=%s contact=%s code=%d error=%s", what,
            op->session, op->contact[0] ? op->contact : "-", code, quoted);
    if (op->sess) {
        int unavailable = code < 0 || code == HETKI__V1__ERROR_CODE__ERROR_UNAVAILABLE;
        chat_sess_error(op->sess, unavailable ? CHAT_ERR_UNAVAILABLE : CHAT_ERR_REFUSED,
                        op->msg ? op->msg->id : NULL, unavailable ? NULL : text);
    }
}

static const char *s_class_name(Hetki__V1__ContactClass c) {
    switch (c) {
    case HETKI__V1__CONTACT_CLASS__CONTACT_CLASS_URGENT:
        return "urgent";
    case HETKI__V1__CONTACT_CLASS__CONTACT_CLASS_PERSONAL:
        return "personal";
    case HETKI__V1__CONTACT_CLASS__CONTACT_CLASS_ROUTINE:
        return "routine";
    default:
        return "";
    }
}

static void s_on_first_reply(const hk_envelope_t *reply, const char *error, void *arg) {
    chat_op_t *op = arg;
    const Hetki__V1__CommandReply *cr =
        reply && reply->body_case == HETKI__V1__ENVELOPE__BODY_COMMAND_REPLY ? reply->command_reply
                                                                             : NULL;
    if (!cr || cr->error_code != HETKI__V1__ERROR_CODE__ERROR_NONE) {
        /* The contact holds the text; the conversation lacks this first message. */
        char quoted[300];
        HK_WARN("chat.first_message_not_stored", "session=%s contact=%s id=%s error=%s",
                op->session, op->contact, op->msg->id,
                hk_log_quote(quoted, sizeof quoted, cr ? cr->error_text : error));
    }
    s_msg_finish(op);
}

/* The session hash has the contact (or Redis failed): ack, then the conversation. */
static void s_on_contact_stored(int status, void *arg) {
    chat_op_t *op = arg;
    chat_sess_t *s = op->sess;
    chat_proto_t *p = op->p;
    if (status != 0) {
        HK_WARN("chat.contact_not_recorded", "session=%s contact=%s", op->session, op->contact);
    }
    if (s) {
        s_ack(s, op->msg, op->contact, op->reassure);
        if (s->person_pending && !op->with_person) {
            chat_sess_signal(s, HETKI__V1__CHAT_KIND__CHAT_KIND_PERSON, NULL, "");
        }
        s->person_pending = 0;
    }
    (*p->stats->contacts)++;
    op->kind = CHAT_OP_FIRST;
    Hetki__V1__ChatMessage cm = HETKI__V1__CHAT_MESSAGE__INIT;
    cm.tenant = op->tenant;
    cm.contact_id = op->contact;
    cm.session_id = op->session;
    cm.message_id = op->msg->id;
    cm.kind = HETKI__V1__CHAT_KIND__CHAT_KIND_MESSAGE;
    cm.sender = "customer";
    cm.text = op->msg->text;
    cm.gateway = p->gateway;
    if (!p->router || chat_router_chat(p->router, &cm, s_on_first_reply, op) != 0) {
        s_msg_finish(op);
    }
}

static void s_on_contact_ack(const Hetki__V1__Ack *ack, const char *error, void *arg) {
    chat_op_t *op = arg;
    chat_proto_t *p = op->p;
    if (!ack) {
        chat_router_error(op, -1, error, "contact");
        s_msg_finish(op);
        return;
    }
    if (ack->error_code != HETKI__V1__ERROR_CODE__ERROR_NONE || !ack->contact_id[0]) {
        chat_router_error(op, ack->error_code, ack->message[0] ? ack->message : ack->error_text,
                          "contact");
        s_msg_finish(op);
        return;
    }
    snprintf(op->contact, sizeof op->contact, "%s", ack->contact_id);
    const Hetki__V1__RoutingDecision *d = ack->decision;
    op->reassure =
        json_pack("{s:s, s:s, s:I, s:I}", "class", d ? s_class_name(d->class_) : "", "target",
                  d && d->target ? d->target : "", "wait_s", (json_int_t)ack->estimated_wait_s,
                  "promise_s", (json_int_t)ack->promise_s);
    if (op->reassure && ack->message[0]) {
        json_object_set_new(op->reassure, "message", json_string(ack->message));
    }
    if (op->sess) {
        chat_sess_set_contact(op->sess, op->contact);
        op->sess->person = 0;
    }
    HK_INFO("chat.contact", "session=%s contact=%s class=%s duplicate=%d router=%s", op->session,
            op->contact, d ? s_class_name(d->class_) : "-", ack->duplicate ? 1 : 0, ack->router);
    op->kind = CHAT_OP_SET_CONTACT;
    if (!p->store || chat_store_set_contact(p->store, op->tenant, op->session, op->contact,
                                            s_on_contact_stored, op) != 0) {
        s_on_contact_stored(-1, op);
    }
}

static void s_submit_contact(chat_sess_t *s, chat_msg_t *m) {
    chat_proto_t *p = s->p;
    chat_op_t *op = chat_op_new(p, s, CHAT_OP_CONTACT);
    op->msg = m;
    op->with_person = s->person;
    char dedupe[HK_ID_LEN + CHAT_ID_MAX + 2];
    snprintf(dedupe, sizeof dedupe, "%s:%s", s->session, m->id);
    Hetki__V1__CustomerIdentity cu = HETKI__V1__CUSTOMER_IDENTITY__INIT;
    cu.chat_session = s->session;
    Hetki__V1__Choices choices = HETKI__V1__CHOICES__INIT;
    choices.talk_to_person = s->person ? 1 : 0;
    Hetki__V1__Contact c = HETKI__V1__CONTACT__INIT;
    c.tenant = s->tenant;
    c.channel = HETKI__V1__CHANNEL__CHANNEL_CHAT;
    c.dedupe_key = dedupe;
    c.customer = &cu;
    c.language = s->lang;
    c.text = m->text;
    c.choices = &choices;
    c.received_at_ms = hk_clock_now_ms();
    c.gateway = p->gateway;
    if (chat_router_contact(p->router, &c, s_on_contact_ack, op) != 0) {
        chat_router_error(op, HETKI__V1__ERROR_CODE__ERROR_INVALID, "cannot be sent", "contact");
        s->busy = 0;
        chat_op_done(op);
    }
}

static void s_on_message_reply(const hk_envelope_t *reply, const char *error, void *arg) {
    chat_op_t *op = arg;
    chat_sess_t *s = op->sess;
    const Hetki__V1__CommandReply *cr =
        reply && reply->body_case == HETKI__V1__ENVELOPE__BODY_COMMAND_REPLY ? reply->command_reply
                                                                             : NULL;
    if (!cr) {
        chat_router_error(op, reply ? HETKI__V1__ERROR_CODE__ERROR_INTERNAL : -1,
                          reply ? "unexpected reply" : error, "message");
    } else if (cr->error_code == HETKI__V1__ERROR_CODE__ERROR_NONE) {
        if (s) {
            s_ack(s, op->msg, op->contact, NULL);
        }
    } else if (cr->error_code == HETKI__V1__ERROR_CODE__ERROR_STATE ||
               cr->error_code == HETKI__V1__ERROR_CODE__ERROR_NOT_FOUND) {
        HK_INFO("chat.contact_over", "session=%s contact=%s state=%s id=%s", op->session,
                op->contact, cr->contact_state, op->msg->id);
        if (s) { /* the message starts a new contact */
            if (strcmp(s->contact, op->contact) == 0) {
                chat_sess_set_contact(s, "");
            }
            op->msg->next = s->q_head;
            s->q_head = op->msg;
            if (!s->q_tail) {
                s->q_tail = op->msg;
            }
            s->q_n++;
            op->msg = NULL;
        }
    } else {
        chat_router_error(op, cr->error_code, cr->error_text, "message");
    }
    s_msg_finish(op);
}

static void s_submit_message(chat_sess_t *s, chat_msg_t *m) {
    chat_proto_t *p = s->p;
    chat_op_t *op = chat_op_new(p, s, CHAT_OP_MESSAGE);
    op->msg = m;
    Hetki__V1__ChatMessage cm = HETKI__V1__CHAT_MESSAGE__INIT;
    cm.tenant = s->tenant;
    cm.contact_id = s->contact;
    cm.session_id = s->session;
    cm.message_id = m->id;
    cm.kind = HETKI__V1__CHAT_KIND__CHAT_KIND_MESSAGE;
    cm.sender = "customer";
    cm.text = m->text;
    cm.gateway = p->gateway;
    if (chat_router_chat(p->router, &cm, s_on_message_reply, op) != 0) {
        chat_router_error(op, HETKI__V1__ERROR_CODE__ERROR_INVALID, "cannot be sent", "message");
        s->busy = 0;
        chat_op_done(op);
    }
}

/* Submits queued messages, one at a time. */
static void s_pump(chat_sess_t *s) {
    while (!s->busy && s->q_head && s->p->router && !s->draining) {
        chat_msg_t *m = s->q_head;
        s->q_head = m->next;
        if (!s->q_head) {
            s->q_tail = NULL;
        }
        s->q_n--;
        m->next = NULL;
        s->busy = 1;
        if (s->contact[0] && !s->closed) {
            s_submit_message(s, m);
        } else {
            s_submit_contact(s, m);
        }
    }
}

void chat_messages_flush(chat_sess_t *s, int tell) {
    while (s->q_head) {
        chat_msg_t *m = s->q_head;
        s->q_head = m->next;
        if (tell) {
            chat_sess_error(s, CHAT_ERR_UNAVAILABLE, m->id, NULL);
        }
        free(m);
    }
    s->q_tail = NULL;
    s->q_n = 0;
}

void chat_frame_message(chat_sess_t *s, json_t *root) {
    const char *id = chat_json_str(root, "id");
    json_t *text = json_object_get(root, "text");
    if (!hk_client_id_ok(id)) {
        chat_sess_error(s, CHAT_ERR_BAD_FRAME, NULL,
                        "id: 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-' required");
        return;
    }
    if (!json_is_string(text) || json_string_length(text) == 0) {
        chat_sess_error(s, CHAT_ERR_BAD_FRAME, id, "text: a non-empty string required");
        return;
    }
    size_t len = json_string_length(text);
    if (len > (size_t)s->p->cfg->max_text) {
        chat_sess_error(s, CHAT_ERR_TOO_LONG, id, NULL);
        return;
    }
    (*s->p->stats->messages_in)++;
    if (s->draining || !s->p->router || s->q_n >= S_QUEUE_MAX) {
        chat_sess_error(s, CHAT_ERR_UNAVAILABLE, id, NULL);
        return;
    }
    for (chat_msg_t *q = s->q_head; q; q = q->next) {
        if (strcmp(q->id, id) == 0) {
            return; /* already waiting */
        }
    }
    chat_msg_t *m = malloc(sizeof *m + len + 1);
    assert(m);
    m->next = NULL;
    snprintf(m->id, sizeof m->id, "%s", id);
    m->at_us = hk_clock_real_us();
    memcpy(m->text, json_string_value(text), len + 1);
    if (s->q_tail) {
        s->q_tail->next = m;
    } else {
        s->q_head = m;
    }
    s->q_tail = m;
    s->q_n++;
    HK_DEBUG("chat.message_in", "session=%s contact=%s id=%s bytes=%zu", s->session,
             s->contact[0] ? s->contact : "-", id, len);
    s_pump(s);
}
