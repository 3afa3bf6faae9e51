/* chat_proto_int: the state chat_proto.c (client frames) and chat_deliver.c (router events
 * and resends to clients) share. Internal to the chat protocol engine. */
#ifndef CHAT_PROTO_INT_H
#define CHAT_PROTO_INT_H

#include <jansson.h>
#include <stdint.h>

#include "chat_limits.h"
#include "chat_proto.h"
#include "chat_text.h"
#include "hk_id.h"
#include "hk_strmap.h"

#define CHAT_CONTACT_MAX 64

/* A customer message waiting for (or in) its submission. */
typedef struct chat_msg {
    struct chat_msg *next;
    char id[CHAT_ID_MAX + 1];
    int64_t at_us; /* when it arrived (ack latency) */
    char text[];
} chat_msg_t;

typedef enum { CHAT_SESS_NEW = 0, CHAT_SESS_HELLO, CHAT_SESS_READY } chat_sess_state_t;

typedef struct chat_op chat_op_t;

/* One connection's session. */
typedef struct chat_sess {
    chat_proto_t *p;
    hk_ws_conn_t *conn;
    struct chat_sess *prev, *next;         /* every session of the engine */
    struct chat_sess *map_prev, *map_next; /* sessions of the same contact */
    chat_op_t *ops;                        /* requests in flight for it */
    chat_sess_state_t state;
    char tenant[CHAT_TENANT_MAX + 1];
    char session[HK_ID_LEN + 1];
    char contact[CHAT_CONTACT_MAX + 1]; /* "" before the first message of a contact */
    int closed;                         /* the contact closed: the next message starts one */
    char lang[4];
    int person;         /* "talk to a person" pressed: the next Contact carries it */
    int person_pending; /* pressed while a Contact was in flight without it */
    chat_msg_t *q_head, *q_tail;
    size_t q_n;
    int busy; /* a customer message is being submitted */
    hk_bucket_t heavy, light;
    int strikes;
    int64_t strikes_since;
    int64_t last_typing_ms;
    int draining;
} chat_sess_t;

struct chat_proto_t {
    const chat_config_t *cfg;
    chat_stats_t *stats;
    chat_store_t *store;   /* NULL once stopped */
    chat_router_t *router; /* NULL once stopped */
    char gateway[HK_CFG_STR_MAX];
    chat_sess_t *sessions;
    hk_strmap_t *by_contact; /* "tenant/contact" -> first chat_sess_t of the chain */
    size_t n_ops;
    int draining;
    int destroying;
};

/* An asynchronous request (Redis or bus) made for a session; sess is NULL once the
 * connection is gone, the rest of the op carries what the completion still needs. */
struct chat_op {
    chat_op_t *prev, *next;
    chat_proto_t *p;
    chat_sess_t *sess;
    int kind;
    chat_msg_t *msg; /* owned */
    char tenant[CHAT_TENANT_MAX + 1];
    char session[HK_ID_LEN + 1];
    char contact[CHAT_CONTACT_MAX + 1];
    char token[CHAT_TOKEN_MAX + 1];
    int with_person;  /* CONTACT: the Contact carried "talk to a person" */
    int signal;       /* SIGNAL: the ChatKind sent */
    json_t *reassure; /* owned */
};

/* chat_proto.c */
/* A new request for sess (NULL: for none), counted until chat_op_done. */
chat_op_t *chat_op_new(chat_proto_t *p, chat_sess_t *sess, int kind);
/* The request completed: frees it (and, once the last one went, a destroyed engine). */
void chat_op_done(chat_op_t *op);
/* Sends an error frame (id and detail may be NULL) and counts it. */
void chat_sess_error(chat_sess_t *s, chat_err_t err, const char *id, const char *detail);
/* Sends frame (stolen; NULL is ignored). */
void chat_sess_send(chat_sess_t *s, json_t *frame);
/* Tells the client to reconnect after after_ms and closes 1001 (Redis could not answer). */
void chat_sess_retry_later(chat_sess_t *s, int after_ms);
/* The string field of a JSON object, or NULL. */
const char *chat_json_str(json_t *root, const char *field);

/* chat_messages.c */
void chat_frame_message(chat_sess_t *s, json_t *root);
/* Drops the queued messages, answering each `unavailable` when tell. */
void chat_messages_flush(chat_sess_t *s, int tell);
/* Logs a router that did not answer (code < 0) or refused, and tells the client. */
void chat_router_error(chat_op_t *op, int code, const char *text, const char *what);

/* chat_frames.c: one handler per client frame type */
void chat_frame_hello(chat_sess_t *s, json_t *root);
void chat_frame_person(chat_sess_t *s, json_t *root);
void chat_frame_typing(chat_sess_t *s, json_t *root);
void chat_frame_read(chat_sess_t *s, json_t *root);
void chat_frame_received(chat_sess_t *s, json_t *root);
void chat_frame_confirm(chat_sess_t *s, json_t *root);
void chat_frame_email(chat_sess_t *s, json_t *root);
void chat_frame_lang(chat_sess_t *s, json_t *root);
/* Sends typing, read, person or email for the session's contact (mid NULL: a new id). */
void chat_sess_signal(chat_sess_t *s, Hetki__V1__ChatKind kind, const char *mid, const char *text);

/* The kinds of chat_op_t. */
enum {
    CHAT_OP_OPEN,        /* session_open script */
    CHAT_OP_RESUME,      /* session_resume script */
    CHAT_OP_CONTACT,     /* first message as a Contact */
    CHAT_OP_SET_CONTACT, /* the session hash gets the new contact */
    CHAT_OP_FIRST,       /* the first message into the conversation */
    CHAT_OP_MESSAGE,     /* a later message */
    CHAT_OP_SIGNAL,      /* typing, read, person, email */
    CHAT_OP_CONFIRM,     /* CustomerConfirm */
    CHAT_OP_AGENT,       /* an agent's display name for `agent` */
    CHAT_OP_OUTBOX,      /* the outbox sent again */
};

/* chat_deliver.c */
/* Sets the session's contact ("" for none) and keeps the contact map in step. */
void chat_sess_set_contact(chat_sess_t *s, const char *contact);
/* Builds a `message` frame from the router's message JSON (NULL when it is not one). */
json_t *chat_message_frame(const char *json);
/* Sends the welcome and what a resumed session must see again. */
void chat_deliver_welcome(chat_sess_t *s, const char *token, const chat_resume_t *r);
/* Sends the session's outbox again (after an event gap). */
void chat_deliver_outbox(chat_sess_t *s);

#endif
