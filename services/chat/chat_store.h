/* chat_store: the chat sessions in Redis (docs/protocols/chat.md, "Keys"): the session hash
 * hk:{t}:chat:<session> with the SHA-256 of its resume token (never the token), the resume
 * in one script (conversation, outbox, contact state, agent name), field updates, the
 * outbox, and agents' display names. Every call is asynchronous; a callback runs exactly once
 * when the call returned 0. Resume tokens are "<session>.<64 hex digits>" (32 random bytes). */
#ifndef CHAT_STORE_H
#define CHAT_STORE_H

#include <stddef.h>

#include "chat_config.h"
#include "hk_id.h"
#include "hk_redis.h"

#define CHAT_TOKEN_MAX (HK_ID_LEN + 1 + 64)
#define CHAT_SHA_HEX 65 /* 64 hex digits and a NUL */

typedef struct chat_store_t chat_store_t;

/* What a resume found; every pointer valid only during the callback. */
typedef struct {
    const char *contact; /* "" when the session has no contact yet */
    const char *state;   /* the contact's state, "" without one */
    const char *agent;   /* the holding agent's display name, "" when none holds it */
    const char *lang;
    const char *email;
    int person;              /* "talk to a person" pressed before a contact existed */
    const char *const *conv; /* the conversation, JSON messages oldest first */
    size_t n_conv;
    const char *const *outbox; /* agent messages not yet confirmed received */
    size_t n_outbox;
} chat_resume_t;

/* status 0: done; -1: Redis failed. A resume's status is 0, -1 when the session is unknown
 * or the token does not match it, or -2 when Redis failed. */
typedef void(chat_store_done_fn)(int status, void *arg);
typedef void(chat_store_resume_fn)(int status, const chat_resume_t *r, void *arg);
typedef void(chat_store_list_fn)(int status, const char *const *items, size_t n, void *arg);
typedef void(chat_store_text_fn)(int status, const char *text, void *arg);

/* Creates the store and registers its scripts on redis: call before hk_redis_start. Also
 * initialises libsodium. cfg must outlive it. */
chat_store_t *chat_store_new(hk_redis_t *redis, const chat_config_t *cfg, const char *gateway);

/* Writes a new resume token for session into out (CHAT_TOKEN_MAX + 1 bytes). */
void chat_store_token_new(const char *session, char *out);

/* Writes the SHA-256 of token as hex into out. */
void chat_store_token_hash(const char *token, char out[CHAT_SHA_HEX]);

/* Extracts the session id from a well-formed token into session (HK_ID_LEN + 1 bytes).
 * Returns 0, or -1 when token is not one of ours. */
int chat_store_token_session(const char *token, char *session);

/* Stores a new session. Returns 0 (fn will run) or -1 when Redis is not ready. */
int chat_store_open(chat_store_t *st, const char *tenant, const char *session, const char *token,
                    const char *lang, chat_store_done_fn *fn, void *arg);

/* Resumes session with token; lang ("" keeps) becomes the session's. Same returns. */
int chat_store_resume(chat_store_t *st, const char *tenant, const char *session, const char *token,
                      const char *lang, chat_store_resume_fn *fn, void *arg);

/* Sets one field of the session hash; fn may be NULL. Same returns. */
int chat_store_set(chat_store_t *st, const char *tenant, const char *session, const char *field,
                   const char *value, chat_store_done_fn *fn, void *arg);

/* Records the session's new contact (and clears its "talk to a person" flag, which that
 * contact carried). Same returns. */
int chat_store_set_contact(chat_store_t *st, const char *tenant, const char *session,
                           const char *contact, chat_store_done_fn *fn, void *arg);

/* Reads the session's outbox (JSON messages). Same returns. */
int chat_store_outbox(chat_store_t *st, const char *tenant, const char *session,
                      chat_store_list_fn *fn, void *arg);

/* Removes the message id from the session's outbox (the widget showed it). Same returns. */
int chat_store_received(chat_store_t *st, const char *tenant, const char *session, const char *id);

/* Reads an agent's display name (the agent id when it has none). Same returns. */
int chat_store_agent_name(chat_store_t *st, const char *tenant, const char *agent,
                          chat_store_text_fn *fn, void *arg);

/* Frees the store (callbacks still pending run with status -1 when Redis drops them, so the
 * store must outlive hk_redis). Nulls the pointer. */
void chat_store_destroy(chat_store_t **st_p);

#endif
