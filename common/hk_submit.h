/* hk_submit: reliable submission of contacts from any client to the live router replicas
 * (zguide Freelance + Lazy Pirate). One DEALER per replica, found through hk_registry (or
 * given statically); each submission goes to one replica believed alive and is resent, with
 * the same correlation id and dedupe key, to another one when no ack comes in time. A router
 * acks only after Redis has the contact, so a completed submission is durable; a resend is
 * harmless because the router dedupes by the contact's dedupe key. */
#ifndef HK_SUBMIT_H
#define HK_SUBMIT_H

#include <stddef.h>
#include <uv.h>

#include "hetki/v1/envelope.pb-c.h"
#include "hk_codec.h"
#include "hk_registry.h"

typedef struct hk_submit_t hk_submit_t;

typedef struct {
    int attempt_timeout_ms; /* resend to another replica after this (default 1000) */
    int deadline_ms;        /* give up after this in total (default 30000) */
    int discovery_ms;       /* refresh the replica list this often (default 1000) */
    const char *service;    /* registry service to submit to (default "router") */
    const char *endpoint;   /* registry endpoint name (default "contacts") */
} hk_submit_opts_t;

/* Completion: exactly once per submission. ack is the router's answer (its error_code may be
 * set: a validation or tenant error is final), valid only during the call; ack is NULL when
 * the submission was given up, with the reason in error. */
typedef void(hk_submit_done_fn)(const Hetki__V1__Ack *ack, const char *error, void *arg);

/* Creates a client. registry may be NULL when only static endpoints are used; opts may be
 * NULL for defaults. */
hk_submit_t *hk_submit_new(uv_loop_t *loop, void *zctx, hk_registry_t *registry,
                           const hk_submit_opts_t *opts);

/* Adds a static router endpoint (e.g. "tcp://127.0.0.1:5555"). Returns 0 or -1. */
int hk_submit_add_endpoint(hk_submit_t *s, const char *endpoint);

/* Completion of a generic request: reply is the router's envelope (any body), valid only
 * during the call; NULL when given up, with the reason in error. */
typedef void(hk_submit_reply_fn)(const hk_envelope_t *reply, const char *error, void *arg);

/* Sends env (its body set by the caller; version, correlation id and send time are filled in
 * here) with the same retry rules as contacts. A reply whose Ack or CommandReply says
 * ERROR_UNAVAILABLE is retried. Requests must be idempotent (a command_id, a dedupe key).
 * Returns 0 (fn will run), or -1 when env cannot be encoded (fn is not called). */
int hk_submit_request(hk_submit_t *s, hk_envelope_t *env, hk_submit_reply_fn *fn, void *arg);

/* Submits a contact; contact->dedupe_key must be set. Returns 0 (fn will run), or -1 when
 * the contact cannot be encoded (too large), in which case fn is not called. */
int hk_submit_contact(hk_submit_t *s, const Hetki__V1__Contact *contact, hk_submit_done_fn *fn,
                      void *arg);

/* Submissions not yet completed. */
size_t hk_submit_pending(const hk_submit_t *s);

/* Replicas currently believed alive. */
size_t hk_submit_live(const hk_submit_t *s);

/* Total resends so far (attempts after the first). */
unsigned long hk_submit_resends(const hk_submit_t *s);

/* Completes every pending submission with an error, closes sockets and frees once libuv has
 * released the handles; nulls the caller's pointer. */
void hk_submit_destroy(hk_submit_t **s_p);

#endif
