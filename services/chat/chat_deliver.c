/* chat_deliver: what goes from the service to customers besides answers to their frames:
 * the welcome (with the history and the outbox of a resumed session) and the router's events
 * for the contacts of connected sessions. The engine maps "tenant/contact" to the chain of
 * sessions connected here that follow that contact (usually one; several tabs share one). */
#include "chat_proto_int.h"

#include "hk_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void s_map_key(char *out, size_t cap, const char *tenant, const char *contact) {
    snprintf(out, cap, "%s/%s", tenant, contact);
}

void chat_sess_set_contact(chat_sess_t *s, const char *contact) {
    char key[CHAT_TENANT_MAX + CHAT_CONTACT_MAX + 2];
    hk_strmap_t *map = s->p->by_contact;
    if (s->contact[0]) {
        s_map_key(key, sizeof key, s->tenant, s->contact);
        if (s->map_prev) {
            s->map_prev->map_next = s->map_next;
        } else if (s->map_next) {
            hk_strmap_put(map, key, s->map_next);
        } else {
            hk_strmap_remove(map, key);
        }
        if (s->map_next) {
            s->map_next->map_prev = s->map_prev;
        }
        s->map_prev = s->map_next = NULL;
    }
    snprintf(s->contact, sizeof s->contact, "%s", contact ? contact : "");
    s->closed = 0;
    if (s->contact[0]) {
        s_map_key(key, sizeof key, s->tenant, s->contact);
        chat_sess_t *head = hk_strmap_get(map, key);
        s->map_next = head;
        if (head) {
            head->map_prev = s;
        }
        hk_strmap_put(map, key, s);
    }
}

/* The sessions connected here that follow tenant/contact. */
static chat_sess_t *s_chain(chat_proto_t *p, const char *tenant, const char *contact) {
    char key[CHAT_TENANT_MAX + CHAT_CONTACT_MAX + 2];
    if (strlen(tenant) > CHAT_TENANT_MAX || strlen(contact) > CHAT_CONTACT_MAX) {
        return NULL;
    }
    s_map_key(key, sizeof key, tenant, contact);
    return hk_strmap_get(p->by_contact, key);
}

/* Sends frame (stolen) to every session of the chain. */
static void s_send_chain(chat_sess_t *chain, json_t *frame) {
    if (!frame) {
        return;
    }
    for (chat_sess_t *s = chain; s; s = s->map_next) {
        hk_ws_conn_send_json(s->conn, frame);
    }
    json_decref(frame);
}

json_t *chat_message_frame(const char *json) {
    json_t *m = json_loads(json ? json : "", 0, NULL);
    const char *id = json_string_value(json_object_get(m, "id"));
    const char *from = json_string_value(json_object_get(m, "from"));
    const char *text = json_string_value(json_object_get(m, "text"));
    const char *name = json_string_value(json_object_get(m, "name"));
    json_t *at = json_object_get(m, "at");
    json_t *frame = NULL;
    if (id && from && text) {
        frame = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "type", "message", "id", id, "from",
                          from, "name", name ? name : "", "text", text, "at",
                          (json_int_t)(json_is_number(at) ? json_number_value(at) : 0));
    }
    json_decref(m);
    return frame;
}

static int s_from_agent(const char *json) {
    json_t *m = json_loads(json ? json : "", 0, NULL);
    const char *from = json_string_value(json_object_get(m, "from"));
    int agent = from && strcmp(from, "agent") == 0;
    json_decref(m);
    return agent;
}

/* Sends the outbox's agent messages (the widget drops ids it has). */
static void s_send_outbox(chat_sess_t *s, const char *const *items, size_t n) {
    for (size_t i = 0; i < n; i++) {
        json_t *f = chat_message_frame(items[i]);
        if (f) {
            (*s->p->stats->messages_out)++;
            chat_sess_send(s, f);
        }
    }
}

void chat_deliver_welcome(chat_sess_t *s, const char *token, const chat_resume_t *r) {
    json_t *history = json_array();
    for (size_t i = 0; r && i < r->n_conv; i++) {
        json_t *f = chat_message_frame(r->conv[i]);
        if (f) {
            json_array_append_new(history, f);
        }
    }
    const char *state = "new";
    if (r && r->contact[0]) {
        state = r->state[0] ? r->state : "unknown";
    }
    chat_sess_send(s, json_pack("{s:s, s:s, s:s, s:s, s:o, s:s}", "type", "welcome", "session",
                                s->session, "resume", token, "lang", s->lang, "history", history,
                                "state", state));
    if (!r) {
        return;
    }
    if (r->agent[0]) {
        chat_sess_send(s, json_pack("{s:s, s:s}", "type", "agent", "name", r->agent));
    }
    if (strcmp(r->state, "resolution_proposed") == 0) {
        chat_sess_send(s, json_pack("{s:s, s:s}", "type", "resolution", "contact", r->contact));
    }
    s_send_outbox(s, r->outbox, r->n_outbox);
}

static void s_on_outbox(int status, const char *const *items, size_t n, void *arg) {
    chat_op_t *op = arg;
    if (op->sess && status == 0) {
        s_send_outbox(op->sess, items, n);
    }
    chat_op_done(op);
}

void chat_deliver_outbox(chat_sess_t *s) {
    if (!s->p->store) {
        return;
    }
    chat_op_t *op = chat_op_new(s->p, s, CHAT_OP_OUTBOX);
    if (chat_store_outbox(s->p->store, s->tenant, s->session, s_on_outbox, op) != 0) {
        chat_op_done(op);
    }
}

static void s_on_agent_name(int status, const char *name, void *arg) {
    chat_op_t *op = arg;
    chat_sess_t *chain = op->p->destroying ? NULL : s_chain(op->p, op->tenant, op->contact);
    if (chain) {
        const char *shown = status == 0 && name[0] ? name : op->token; /* token: the agent id */
        s_send_chain(chain, json_pack("{s:s, s:s}", "type", "agent", "name", shown));
    }
    chat_op_done(op);
}

/* The value of key=... in an event's detail ("reason=confirmed"), or "". */
static void s_detail(const char *detail, const char *key, char *out, size_t cap) {
    out[0] = '\0';
    size_t klen = strlen(key);
    for (const char *p = detail ? detail : ""; *p;) {
        if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
            const char *v = p + klen + 1;
            size_t n = strcspn(v, " ");
            snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), v);
            return;
        }
        const char *sp = strchr(p, ' ');
        p = sp ? sp + 1 : p + strlen(p);
    }
}

void chat_proto_on_event(const Hetki__V1__ContactEvent *ev, void *arg) {
    chat_proto_t *p = arg;
    (*p->stats->events)++;
    if (p->destroying || !ev->contact_id[0]) {
        return;
    }
    chat_sess_t *chain = s_chain(p, ev->tenant, ev->contact_id);
    if (!chain) {
        return;
    }
    const char *kind = ev->kind;
    HK_DEBUG("chat.event", "kind=%s contact=%s session=%s", kind, ev->contact_id, chain->session);
    if (strcmp(kind, "chat.message") == 0) {
        if (s_from_agent(ev->payload)) {
            json_t *f = chat_message_frame(ev->payload);
            for (chat_sess_t *s = chain; f && s; s = s->map_next) {
                (*p->stats->messages_out)++;
            }
            s_send_chain(chain, f);
        }
    } else if (strcmp(kind, "chat.typing") == 0) {
        if (s_from_agent(ev->payload)) {
            s_send_chain(chain, json_pack("{s:s, s:s}", "type", "typing", "from", "agent"));
        }
    } else if (strcmp(kind, "chat.read") == 0) {
        if (s_from_agent(ev->payload)) {
            json_t *m = json_loads(ev->payload, 0, NULL);
            const char *id = json_string_value(json_object_get(m, "id"));
            if (id) {
                s_send_chain(chain, json_pack("{s:s, s:s}", "type", "read", "id", id));
            }
            json_decref(m);
        }
    } else if (strcmp(kind, "contact.assigned") == 0 && ev->agent_id[0] && p->store) {
        chat_op_t *op = chat_op_new(p, NULL, CHAT_OP_AGENT);
        snprintf(op->tenant, sizeof op->tenant, "%s", ev->tenant);
        snprintf(op->contact, sizeof op->contact, "%s", ev->contact_id);
        snprintf(op->token, sizeof op->token, "%s", ev->agent_id);
        if (chat_store_agent_name(p->store, ev->tenant, ev->agent_id, s_on_agent_name, op) != 0) {
            s_on_agent_name(-1, "", op);
        }
    } else if (strcmp(kind, "contact.resolution_proposed") == 0) {
        s_send_chain(chain,
                     json_pack("{s:s, s:s}", "type", "resolution", "contact", ev->contact_id));
    } else if (strcmp(kind, "contact.closed") == 0) {
        char reason[64];
        s_detail(ev->detail, "reason", reason, sizeof reason);
        HK_INFO("chat.contact_closed", "contact=%s session=%s reason=%s", ev->contact_id,
                chain->session, reason[0] ? reason : "-");
        for (chat_sess_t *s = chain; s; s = s->map_next) {
            s->closed = 1; /* the next message starts a new contact */
        }
        s_send_chain(chain, json_pack("{s:s, s:s, s:s}", "type", "closed", "contact",
                                      ev->contact_id, "reason", reason));
    }
}

void chat_proto_on_gap(const char *publisher, unsigned long missed, void *arg) {
    chat_proto_t *p = arg;
    (*p->stats->event_gaps)++;
    size_t n = 0;
    for (chat_sess_t *s = p->sessions; s; s = s->next) {
        if (s->state == CHAT_SESS_READY && s->contact[0]) {
            chat_deliver_outbox(s);
            n++;
        }
    }
    HK_INFO("chat.outboxes_resent", "publisher=%s missed=%lu sessions=%zu", publisher, missed, n);
}
