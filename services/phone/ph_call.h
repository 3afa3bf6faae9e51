/* ph_call: the calls of one hetki-phone instance. An inbound INVITE becomes a contact
 * (caller id = customer, dialled number = tenant); it is answered only after the router's
 * ack, then hears the reassurance announcement (RTP) and may press 1 for a callback (or is
 * offered one when the estimated wait exceeds the tenant's threshold). When the router
 * offers the contact to a voice agent (contact.offered), the agent's phone is called and the
 * two are connected by third-party call control (RFC 3725 flow I: the agent is invited
 * without an offer, its offer goes to the caller in a re-INVITE and the caller's answer back
 * in the ACK), so media flows between the two phones. Either side's BYE ends both legs. Every
 * state is reported to the router as a CallState. Outbound calls (callbacks) use the same
 * machinery through ph_call_dial and ph_call_connect. */
#ifndef PH_CALL_H
#define PH_CALL_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "hetki/v1/envelope.pb-c.h"
#include "hk_metrics.h"
#include "hk_redis.h"
#include "ph_bus.h"
#include "ph_config.h"
#include "ph_policy.h"
#include "ph_sip.h"

typedef struct ph_calls_t ph_calls_t;
typedef struct ph_call_t ph_call_t;
typedef struct ph_register_t ph_register_t;

/* What an owner of an outbound call or a connect attempt hears. */
typedef enum {
    PH_CALL_ANSWERED = 1, /* ph_call_dial: the callee answered (media with us) */
    PH_CALL_FAILED,       /* dial or connect failed: code is the SIP status (408 no answer,
                             487 cancelled, 486 busy, 503 ...) */
    PH_CALL_CONNECTED,    /* ph_call_connect: the two phones have each other's media */
    PH_CALL_ENDED,        /* the call is over (code: the reason's SIP-ish status, 200 for a
                             normal hang-up); the last event, the call is freed after it */
    PH_CALL_DIGIT,        /* a DTMF digit from the call's first party (code: the char) */
} ph_call_event_t;

/* call is valid during the callback (after PH_CALL_ENDED never again). */
typedef void(ph_call_fn)(ph_call_t *call, ph_call_event_t ev, int code, const char *reason,
                         void *arg);

typedef struct {
    const char *tenant;     /* required */
    const char *contact_id; /* the contact the call serves (CallState reports) */
    const char *agent_id;   /* the agent being called, or NULL (the customer) */
    const char *from_user;  /* our caller id shown to the callee (NULL: "hetki") */
    const char *language;   /* prompts ("fi", "sv", "en"; NULL: the configured default) */
    const char *prompt;     /* ph_call_dial: prompt played once answered (NULL: none) */
    int ring_s;             /* ring timeout (0: HETKI_PHONE_RING_S) */
} ph_dial_opts_t;

/* What the callback hook learns about an inbound call. */
typedef struct {
    const char *tenant;
    const char *contact_id;
    const char *caller;  /* the customer's number */
    const char *dialled; /* the number called */
    const char *language;
    const char *call_id; /* SIP Call-ID */
    int64_t estimated_wait_s;
} ph_call_info_t;

/* Hooks phone-callback provides for inbound calls. */
typedef struct {
    /* The caller pressed 1 (why "dtmf") or the estimated wait exceeds the threshold (why
     * "wait"): store a promise and later answer with ph_call_callback_promised or
     * ph_call_callback_failed. Return 0 when it will, -1 to decline (the call waits on). */
    int (*callback)(ph_call_t *call, const ph_call_info_t *info, const char *why, void *arg);
    /* The tenant's callback threshold in seconds (-1: unknown, the configured default is
     * used). May be NULL. */
    long (*threshold_s)(const char *tenant, void *arg);
    void *arg;
} ph_inbound_hooks_t;

typedef struct {
    uint64_t *calls;        /* inbound INVITEs that became calls */
    uint64_t *answered;     /* answered after the router's ack */
    uint64_t *connected;    /* connected to an agent */
    uint64_t *abandoned;    /* caller hung up before being connected */
    uint64_t *refused;      /* 503: router error, limits, draining */
    uint64_t *agent_failed; /* agent phone busy, declined or no answer */
    uint64_t *outbound;     /* ph_call_dial calls */
    double *active;         /* calls now */
    hk_histogram_t *ack_ms; /* INVITE to router ack */
} ph_call_metrics_t;

/* Creates the call table. Everything given must outlive it. reg may be NULL (static agent
 * URIs only); policy may be NULL (the default tenant and settings). */
ph_calls_t *ph_calls_new(uv_loop_t *loop, const ph_config_t *cfg, ph_sip_t *sip, ph_bus_t *bus,
                         ph_register_t *reg, ph_policy_t *policy, hk_metrics_t *metrics);

/* Installs the callback hooks (copied). */
void ph_calls_set_hooks(ph_calls_t *calls, const ph_inbound_hooks_t *hooks);

/* ph_sip handler entry points (main wires them). */
void ph_calls_on_request(ph_calls_t *calls, osip_transaction_t *tr, osip_message_t *req,
                         const ph_peer_t *from);
void ph_calls_on_response(ph_calls_t *calls, osip_transaction_t *tr, void *owner,
                          osip_message_t *resp);
void ph_calls_on_timeout(ph_calls_t *calls, osip_transaction_t *tr, void *owner, int code);
void ph_calls_on_gone(ph_calls_t *calls, osip_transaction_t *tr, void *owner);

/* A router event; returns 1 when it was about a call held here (and acted on), else 0. */
int ph_calls_on_event(ph_calls_t *calls, const Hetki__V1__ContactEvent *ev);

/* Dials uri (sip:user@numeric-host[:port], sent over UDP) with our media offer; fn gets
 * PH_CALL_ANSWERED and later PH_CALL_ENDED (and DIGITs), or PH_CALL_FAILED, after which the
 * call is gone. Returns the call (owned by the table) or NULL (bad uri, draining, full). */
ph_call_t *ph_call_dial(ph_calls_t *calls, const char *uri, const ph_dial_opts_t *opts,
                        ph_call_fn *fn, void *arg);

/* Connects an answered call to uri (RFC 3725 flow I). fn gets PH_CALL_CONNECTED or
 * PH_CALL_FAILED (the call stays up and may connect again), later PH_CALL_ENDED. Replaces
 * the call's fn/arg. Returns 0, or -1 when the call cannot connect now. */
int ph_call_connect(ph_call_t *call, const char *uri, const ph_dial_opts_t *opts, ph_call_fn *fn,
                    void *arg);

/* Plays prompts (names from ph_prompts, in the call's language) to the call's first party,
 * replacing what plays. Returns 0 or -1 (not answered, or connected). */
int ph_call_play(ph_call_t *call, const char *const *prompts, size_t n);

/* The promise is stored: plays the window (from_ms..to_ms, unix ms) and hangs up. */
void ph_call_callback_promised(ph_call_t *call, int64_t from_ms, int64_t to_ms);

/* The promise could not be stored: the call keeps waiting for an agent. */
void ph_call_callback_failed(ph_call_t *call);

/* Hangs up every leg (BYE, or CANCEL/487 before an answer); PH_CALL_ENDED follows. */
void ph_call_hangup(ph_call_t *call, const char *reason);

/* Getters (valid while the call lives). */
const char *ph_call_sip_id(const ph_call_t *call);
const char *ph_call_contact_id(const ph_call_t *call);
const char *ph_call_tenant(const ph_call_t *call);
const char *ph_call_state(const ph_call_t *call);

/* The live call serving contact_id, or NULL (ended): for answers that come later (a
 * callback promise stored while the caller may hang up). */
ph_call_t *ph_calls_by_contact(ph_calls_t *calls, const char *contact_id);

/* Draining: new INVITEs get 503; returns the calls still up. */
void ph_calls_drain(ph_calls_t *calls);
size_t ph_calls_count(const ph_calls_t *calls);

/* Hangs up what remains (drain deadline), without waiting for answers. */
void ph_calls_hangup_all(ph_calls_t *calls, const char *reason);

/* Frees every call (no callbacks) and the table; nulls the pointer. */
void ph_calls_destroy(ph_calls_t **calls_p);

#endif
