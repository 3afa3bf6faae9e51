/* ph_promise: the durable callback promise (docs/protocols/phone.md, "Callback promises").
 * A promise belongs to one contact (idempotent by contact id) and lives in Redis:
 * hk:{t}:promise:<contact> (window [start, end], attempts made and allowed, retry delay,
 * status pending -> dialing -> kept | broken, or back to pending after an unanswered
 * attempt), hk:{t}:callbacks (open promises by window end) and hk:{t}:promise_due (the
 * timer: when each open promise next needs attention). Every change is one Lua script
 * (services/phone/lua), so any number of hetki-phone replicas share the promises: an
 * attempt is claimed by exactly one, and whichever replica polls the due set first breaks a
 * promise whose window passed, gives a retry its turn, or takes back an attempt a dead
 * replica left behind. What the router must know is sent to it as a CallState (state
 * callback_promised, callback_retry, callback_due, promise_kept, promise_broken), so the
 * router stays the one writer of contacts, the trail, events and critical moments. */
#ifndef PH_PROMISE_H
#define PH_PROMISE_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "hk_metrics.h"
#include "hk_redis.h"
#include "hk_submit.h"
#include "ph_policy.h"

#define PH_PROMISE_PHONE 33 /* the customer's number as the call or contact gave it */
#define PH_PROMISE_ID 72

typedef struct ph_promise_t ph_promise_t;

typedef enum {
    PH_PROMISE_PENDING = 0, /* waiting for an agent (or for its retry time) */
    PH_PROMISE_DIALING,     /* an attempt is in progress on one replica */
    PH_PROMISE_KEPT,        /* agent and customer were connected */
    PH_PROMISE_BROKEN       /* attempts used up or the window passed: a critical moment */
} ph_promise_status_t;

/* A promise as stored. Valid only during the callback that passes it. */
typedef struct {
    char tenant[PH_POLICY_TENANT];
    char contact_id[PH_PROMISE_ID];
    char phone[PH_PROMISE_PHONE]; /* whom to call back */
    char language[3];             /* fi, sv or en */
    int64_t window_start_ms, window_end_ms;
    int attempts, max_attempts;
    int64_t retry_after_ms;
    ph_promise_status_t status;
    char agent_id[PH_PROMISE_ID]; /* the agent of the current or last attempt */
    int created;                  /* ph_promise_create: 1 new, 0 it existed already */
} ph_promise_info_t;

/* Outcomes: OK, NOT_FOUND (no such contact or promise), STATE (not possible now: not due,
 * claimed by another replica, already ended), INVALID (bad arguments), UNAVAILABLE (Redis
 * did not answer: retry). */
typedef enum {
    PH_PROMISE_R_OK = 0,
    PH_PROMISE_R_NOT_FOUND = 1,
    PH_PROMISE_R_STATE = 2,
    PH_PROMISE_R_INVALID = 3,
    PH_PROMISE_R_UNAVAILABLE = -1
} ph_promise_rc_t;

/* Completion of every call below: info is NULL unless rc is OK (or STATE, with the promise
 * as it is); why is a short reason ("not_due", "claimed", "window_passed", ...). Both valid
 * only during the call. */
typedef void(ph_promise_fn)(ph_promise_rc_t rc, const ph_promise_info_t *info, const char *why,
                            void *arg);

typedef struct {
    const char *tenant;
    const char *contact_id;
    const char *phone;    /* the number to call back (blanks - . ( ) dropped; anything but
                           * digits and a leading + is INVALID, e.g. "anonymous"); NULL or "":
                           * the contact's phone number */
    const char *language; /* NULL or "": the contact's, else the tenant's default */
    const char *source;   /* "ivr" (pressed 1), "threshold" (wait too long), "channel" */
} ph_promise_request_t;

/* What an attempt came to, for ph_promise_result. */
typedef enum {
    PH_ATTEMPT_CONNECTED = 0, /* agent and customer talk: the promise is kept */
    PH_ATTEMPT_NO_ANSWER,     /* the customer did not answer (counts as an attempt) */
    PH_ATTEMPT_AGENT_FAILED   /* the agent's phone failed before the customer was dialled:
                               * does not count; the promise waits for the next offer */
} ph_attempt_result_t;

/* Creates the promise keeper: registers its scripts on redis (call before the service
 * runs), reads settings through policy, reports to the routers through submit (CallState
 * requests with command ids, so resends are harmless),
 * counts on metrics (phone_callbacks_promised_total, _kept_total, _broken_total). instance
 * names this replica in claims. None of them is owned. */
ph_promise_t *ph_promise_new(uv_loop_t *loop, hk_redis_t *redis, ph_policy_t *policy,
                             hk_submit_t *submit, hk_metrics_t *metrics, const char *instance);

/* How long a claimed attempt may take (agent ring, customer ring, connect) before the due
 * timer counts it as unanswered. */
#define PH_PROMISE_CLAIM_MS 180000

/* Starts polling the due timers of every tenant (hk:tenants) every poll_ms. */
void ph_promise_start(ph_promise_t *pr, int poll_ms);

/* Creates the contact's promise with the tenant's window and attempts, or returns the one
 * it has (info->created 0). A new one is reported to the router (callback_promised). fn runs
 * exactly once, never before this returns. */
void ph_promise_create(ph_promise_t *pr, const ph_promise_request_t *req, ph_promise_fn *fn,
                       void *arg);

/* The contact's promise (NOT_FOUND when it has none). fn runs exactly once, later. */
void ph_promise_get(ph_promise_t *pr, const char *tenant, const char *contact_id, ph_promise_fn *fn,
                    void *arg);

/* Claims the next attempt for agent_id, who has just been offered the contact: succeeds on
 * one replica only, while the promise is pending, inside its window and the offer is the
 * agent's. The attempt is this replica's until ph_promise_result (or, if it dies, until the
 * claim lapses and a due sweep counts it as unanswered). NOT_FOUND with why
 * "no_promise_callback": the contact was routed to a callback but has no promise yet (create
 * it and claim again). fn runs exactly once, later. */
void ph_promise_claim(ph_promise_t *pr, const char *tenant, const char *contact_id,
                      const char *agent_id, ph_promise_fn *fn, void *arg);

/* Records what the claimed attempt came to: kept, back to pending (retry after the delay;
 * the router releases the agent and holds the contact until then) or broken (attempts used
 * up or no retry fits the window), and tells the router. fn may be NULL; runs once, later. */
void ph_promise_result(ph_promise_t *pr, const char *tenant, const char *contact_id,
                       ph_attempt_result_t result, const char *detail, ph_promise_fn *fn,
                       void *arg);

/* Stops polling (the due sweep and the tenant refresh): for a drain. */
void ph_promise_stop(ph_promise_t *pr);

/* Operations waiting for Redis or the policy (reports to the router are the bus's). */
size_t ph_promise_busy(const ph_promise_t *pr);

/* Stops polling and frees once Redis answered what is in flight (those answers may still
 * use the policy and the submit client given to ph_promise_new), then calls done(arg) (done
 * may be NULL): only then may the policy and the submit client go. Nulls the pointer. */
void ph_promise_destroy(ph_promise_t **pr_p, void (*done)(void *arg), void *arg);

#endif
