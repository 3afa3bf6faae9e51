/* chat_router: hetki-chat's side of the bus. Requests go through hk_submit (Freelance: one
 * DEALER per live router replica, resends to another on timeout): the first message of a
 * contact as a Contact, later traffic as ChatMessage, the customer's answer as
 * CustomerConfirm. Events come from hk_events. */
#ifndef CHAT_ROUTER_H
#define CHAT_ROUTER_H

#include <stddef.h>
#include <uv.h>

#include "chat_config.h"
#include "hk_registry.h"
#include "hk_submit.h"

typedef struct chat_router_t chat_router_t;

/* Creates the client; routers come from registry and HETKI_ROUTER_ENDPOINT. Returns NULL
 * (logged) when the static endpoint is unusable. cfg must outlive it. */
chat_router_t *chat_router_new(uv_loop_t *loop, void *zctx, hk_registry_t *registry,
                               const chat_config_t *cfg);

/* Submits a contact; fn runs exactly once when this returns 0 (-1: cannot be encoded). */
int chat_router_contact(chat_router_t *rt, const Hetki__V1__Contact *contact, hk_submit_done_fn *fn,
                        void *arg);

/* Submits a ChatMessage; the reply is a CommandReply. Same returns. */
int chat_router_chat(chat_router_t *rt, Hetki__V1__ChatMessage *msg, hk_submit_reply_fn *fn,
                     void *arg);

/* Submits the customer's answer to a proposed resolution. Same returns. */
int chat_router_confirm(chat_router_t *rt, Hetki__V1__CustomerConfirm *confirm,
                        hk_submit_reply_fn *fn, void *arg);

/* Router replicas believed alive. */
size_t chat_router_live(const chat_router_t *rt);

/* Requests not yet answered. */
size_t chat_router_pending(const chat_router_t *rt);

/* Completes what is pending with an error (callbacks run now) and frees; nulls the pointer. */
void chat_router_destroy(chat_router_t **rt_p);

#endif
