/* rt_engine: the router's decisions as atomic Lua transitions in Redis. Intake (resolve the
 * customer, classify, store, queue, offer), agent profiles and commands, the customer's
 * answer to a proposed resolution, and the timers (leases, overflow, confirmation windows,
 * recovery pauses, follow-ups) that any replica may claim. Every transition's events are
 * published on the router's event socket. */
#ifndef RT_ENGINE_H
#define RT_ENGINE_H

#include "hetki/v1/envelope.pb-c.h"
#include "hk_service.h"
#include "rt_classify.h"
#include "rt_events.h"
#include "rt_policy_store.h"

typedef struct rt_engine_t rt_engine_t;

typedef struct {
    long dedupe_retention_s; /* how long a dedupe key is remembered */
    long timer_poll_ms;      /* how often due timers are claimed */
} rt_engine_opts_t;

/* The answer to an intake: ack fields ready for the bus. error_code != 0 means no contact
 * was stored (retry on ERROR_UNAVAILABLE). Valid only during the callback. */
typedef struct {
    Hetki__V1__ErrorCode error_code;
    const char *error_text;
    const char *contact_id;
    int duplicate;
    const rt_decision_t *decision; /* NULL on error */
    const char *state;
    int64_t estimated_wait_ms;
    int64_t promise_ms;
    const char *message; /* the tenant's polite message while suspended, else "" */
} rt_intake_result_t;

typedef void(rt_intake_fn)(const rt_intake_result_t *r, void *arg);

/* The answer to a command. Valid only during the callback. */
typedef struct {
    Hetki__V1__ErrorCode error_code;
    const char *error_text;
    const char *agent_state;
    const char *contact_state;
    const char *contact_id;
} rt_reply_t;

typedef void(rt_reply_fn)(const rt_reply_t *r, void *arg);

/* Creates the engine and adds its scripts to the service's Redis (before hk_service_run).
 * events and policies must outlive it: until the done callback of rt_engine_destroy. */
rt_engine_t *rt_engine_new(hk_service_t *svc, rt_events_t *events, rt_policy_store_t *policies,
                           const rt_engine_opts_t *opts);

/* Starts claiming timers. */
void rt_engine_start(rt_engine_t *e);

/* Stores a validated contact. fn is called exactly once. */
void rt_engine_intake(rt_engine_t *e, const Hetki__V1__Contact *c, rt_intake_fn *fn, void *arg);

/* Registers or updates an agent. fn is called exactly once. */
void rt_engine_agent_profile(rt_engine_t *e, const Hetki__V1__AgentProfile *p, rt_reply_fn *fn,
                             void *arg);

/* Runs an agent command. fn is called exactly once. */
void rt_engine_agent_command(rt_engine_t *e, const Hetki__V1__AgentCommand *cmd, rt_reply_fn *fn,
                             void *arg);

/* Applies the customer's answer to a proposed resolution. fn is called exactly once. */
void rt_engine_customer_confirm(rt_engine_t *e, const Hetki__V1__CustomerConfirm *cc,
                                rt_reply_fn *fn, void *arg);

/* Applies a chat message, typing or read mark, "talk to a person" or an email address for
 * async continuation (docs/protocols/chat.md). fn is called exactly once. */
void rt_engine_chat_message(rt_engine_t *e, const Hetki__V1__ChatMessage *m, rt_reply_fn *fn,
                            void *arg);

/* Records a call's state reported by hetki-phone and applies the callback states
 * (rt_calls.c, docs/protocols/events.md). fn is called exactly once. */
void rt_engine_call_state(rt_engine_t *e, const Hetki__V1__CallState *cs, rt_reply_fn *fn,
                          void *arg);

/* Requests waiting for Redis. */
size_t rt_engine_inflight(const rt_engine_t *e);

/* Stops the timers; requests in flight still complete (their answers may still use the events
 * and policies given to rt_engine_new). Frees once they did, then calls done(arg) (done may
 * be NULL): only then may the events and policies go. */
void rt_engine_destroy(rt_engine_t **e_p, void (*done)(void *arg), void *arg);

#endif
