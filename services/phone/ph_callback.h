/* ph_callback: the callback scheduler. It keeps the promises of ph_promise: a caller who
 * pressed 1 (or whose wait exceeds the tenant's threshold) gets a promise through the
 * inbound hooks of ph_call; a contact from another channel that the router routed to target
 * callback gets one when its contact.received event arrives (or, at the latest, when it is
 * offered). When the router offers a contact with a pending promise to a voice agent
 * (contact.offered), one replica claims the attempt, calls the agent's phone first
 * (ph_call_dial), accepts the offer for the agent once it answers (AgentCommand ACCEPT),
 * then calls the customer and connects the two (ph_call_connect, RFC 3725). An agent who
 * does not answer declines the offer (the contact goes to the next agent; the attempt does
 * not count); a customer who does not answer costs an attempt: the agent hears that and is
 * released, and the router holds the contact until the retry time. */
#ifndef PH_CALLBACK_H
#define PH_CALLBACK_H

#include <uv.h>

#include "hetki/v1/envelope.pb-c.h"
#include "ph_bus.h"
#include "ph_call.h"
#include "ph_policy.h"
#include "ph_promise.h"
#include "ph_register.h"

typedef struct ph_callback_t ph_callback_t;

/* Creates the scheduler. Everything given must outlive it; reg may be NULL (static URIs
 * from the policy only). */
ph_callback_t *ph_callback_new(uv_loop_t *loop, ph_calls_t *calls, ph_register_t *reg,
                               ph_promise_t *promises, ph_policy_t *policy, ph_bus_t *bus);

/* Where customers are called back: a SIP URI template in which {number} is replaced by the
 * promise's number (e.g. "sip:{number}@trunk.example.com"). Copied. Until it is set (or when
 * it is ""), a callback attempt cannot call the customer and counts as unanswered. */
void ph_callback_set_customer_uri(ph_callback_t *cb, const char *tmpl);

/* The hooks to install with ph_calls_set_hooks (valid while cb lives). */
const ph_inbound_hooks_t *ph_callback_hooks(ph_callback_t *cb);

/* A router event ph_calls did not take: contact.received with target callback creates a
 * promise, contact.offered of a contact with a promise starts an attempt. */
void ph_callback_on_event(ph_callback_t *cb, const Hetki__V1__ContactEvent *ev);

/* Attempts in progress on this replica. */
size_t ph_callback_active(const ph_callback_t *cb);

/* Hangs up attempts in progress (each is recorded as the agent's failure, so the promise
 * waits for the next offer) and frees once their calls ended and every answer it waits for
 * came (those may still use the promises, registrar, policy and bus given to
 * ph_callback_new), then calls done(arg) (done may be NULL). Nulls the pointer. */
void ph_callback_destroy(ph_callback_t **cb_p, void (*done)(void *arg), void *arg);

#endif
