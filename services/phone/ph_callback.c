/* ph_callback: the callback scheduler (ph_callback.h): promises from the inbound hooks and
 * from contacts routed to a callback, and one attempt per offer of a promised contact:
 * claim, call the agent, accept, call the customer, connect, report the result. */
#include "ph_callback.h"

#include "hk_log.h"
#include "hk_strmap.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_URI 256

struct ph_callback_t {
    uv_loop_t *loop;
    ph_calls_t *calls;
    ph_register_t *reg;
    ph_promise_t *promises;
    ph_policy_t *policy;
    ph_bus_t *bus;
    ph_inbound_hooks_t hooks;
    char customer_uri[S_URI];
    hk_strmap_t *attempts; /* contact id -> s_attempt_t in progress here */
    size_t pending;        /* operations waiting for an answer (keep cb alive) */
    int destroying;
    void (*destroyed)(void *arg); /* ph_callback_destroy's done callback */
    void *destroyed_arg;
};

typedef enum {
    S_CLAIMING,
    S_LOOKUP,     /* the agent's phone */
    S_RING_AGENT, /* ph_call_dial */
    S_ACCEPTING,  /* AgentCommand ACCEPT sent */
    S_RING_CUST,  /* ph_call_connect */
    S_CONNECTED,  /* kept; waiting for the end of the call */
    S_DONE
} s_step_t;

/* One attempt of one promise on this replica. */
typedef struct {
    ph_callback_t *cb;
    s_step_t step;
    char tenant[PH_POLICY_TENANT];
    char contact_id[PH_PROMISE_ID];
    char agent_id[PH_PROMISE_ID];
    char phone[PH_PROMISE_PHONE];
    char language[3];
    ph_call_t *call; /* the agent leg (then both), NULL once ended */
    int reported;    /* ph_promise_result sent */
    int recreated;   /* the promise was made at offer time */
} s_attempt_t;

static void s_maybe_free(ph_callback_t *cb) {
    if (cb->destroying && cb->pending == 0 && hk_strmap_size(cb->attempts) == 0) {
        void (*done)(void *) = cb->destroyed;
        void *arg = cb->destroyed_arg;
        hk_strmap_destroy(&cb->attempts);
        free(cb);
        if (done) {
            done(arg);
        }
    }
}

static void s_attempt_free(s_attempt_t *at) {
    ph_callback_t *cb = at->cb;
    if (hk_strmap_get(cb->attempts, at->contact_id) == at) {
        hk_strmap_remove(cb->attempts, at->contact_id);
    }
    free(at);
    s_maybe_free(cb);
}

/* Reports the attempt's result once; frees the attempt when its call is over too. */
static void s_report(s_attempt_t *at, ph_attempt_result_t result, const char *detail) {
    if (!at->reported) {
        at->reported = 1;
        ph_promise_result(at->cb->promises, at->tenant, at->contact_id, result, detail, NULL, NULL);
    }
}

static void s_finish(s_attempt_t *at) {
    at->step = S_DONE;
    if (!at->call) {
        s_attempt_free(at);
    }
}

/* The agent's phone failed before the customer was called: the offer goes to the next agent
 * and the attempt does not count. */
static void s_agent_failed(s_attempt_t *at, const char *why) {
    HK_INFO("callback.agent_failed", "tenant=%s contact=%s agent=%s why=%s", at->tenant,
            at->contact_id, at->agent_id, why);
    ph_bus_agent_command(at->cb->bus, at->tenant, at->agent_id,
                         HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_DECLINE, at->contact_id, why,
                         NULL, NULL);
    char detail[96];
    snprintf(detail, sizeof detail, "agent_failed=%s", why);
    s_report(at, PH_ATTEMPT_AGENT_FAILED, detail);
    s_finish(at);
}

/* ---- the customer leg */

static void s_on_customer(ph_call_t *call, ph_call_event_t ev, int code, const char *reason,
                          void *arg) {
    s_attempt_t *at = arg;
    (void)call;
    char detail[96];
    switch (ev) {
    case PH_CALL_CONNECTED:
        at->step = S_CONNECTED;
        HK_INFO("callback.connected", "tenant=%s contact=%s agent=%s", at->tenant, at->contact_id,
                at->agent_id);
        s_report(at, PH_ATTEMPT_CONNECTED, "connected=1");
        return;
    case PH_CALL_FAILED:
        /* The customer did not answer (busy, no answer, refused): the attempt counts; the
         * agent's leg is hung up and the router releases the agent (callback_retry). */
        snprintf(detail, sizeof detail, "customer_status=%d customer_reason=%s", code,
                 reason ? reason : "");
        HK_INFO("callback.no_answer", "tenant=%s contact=%s agent=%s code=%d", at->tenant,
                at->contact_id, at->agent_id, code);
        s_report(at, PH_ATTEMPT_NO_ANSWER, detail);
        at->step = S_DONE;
        ph_call_hangup(call, "callback_no_answer");
        return;
    case PH_CALL_ENDED:
        at->call = NULL;
        if (!at->reported) { /* the agent hung up before the customer answered */
            snprintf(detail, sizeof detail, "ended=%d ended_reason=%s", code, reason ? reason : "");
            s_report(at, PH_ATTEMPT_NO_ANSWER, detail);
        }
        s_finish(at);
        return;
    default:
        return;
    }
}

static void s_connect_customer(s_attempt_t *at) {
    ph_callback_t *cb = at->cb;
    char uri[S_URI] = "";
    const char *mark = strstr(cb->customer_uri, "{number}");
    if (mark) {
        snprintf(uri, sizeof uri, "%.*s%s%s", (int)(mark - cb->customer_uri), cb->customer_uri,
                 at->phone, mark + 8);
    }
    ph_dial_opts_t opts = {at->tenant, at->contact_id, NULL, NULL, at->language, NULL, 0};
    at->step = S_RING_CUST;
    if (!uri[0] || ph_call_connect(at->call, uri, &opts, s_on_customer, at) != 0) {
        HK_WARN("callback.customer_uri", "tenant=%s contact=%s uri=\"%s\" error=\"cannot call\"",
                at->tenant, at->contact_id, uri);
        s_report(at, PH_ATTEMPT_NO_ANSWER, "customer=unreachable");
        at->step = S_DONE;
        ph_call_hangup(at->call, "callback_no_customer_uri");
    }
}

/* ---- the agent leg */

static void s_on_accepted(const hk_envelope_t *reply, const char *error, void *arg) {
    s_attempt_t *at = arg;
    ph_callback_t *cb = at->cb;
    cb->pending--;
    int ok = reply && reply->body_case == HETKI__V1__ENVELOPE__BODY_COMMAND_REPLY &&
             reply->command_reply->error_code == HETKI__V1__ERROR_CODE__ERROR_NONE;
    if (at->step != S_ACCEPTING) { /* the agent's call ended meanwhile */
        if (!at->call) {
            s_attempt_free(at);
        }
        return;
    }
    if (!ok) {
        const char *why = !reply ? (error ? error : "no_router") : "refused";
        HK_INFO("callback.accept_refused", "tenant=%s contact=%s agent=%s why=\"%s\"", at->tenant,
                at->contact_id, at->agent_id, why);
        s_report(at, PH_ATTEMPT_AGENT_FAILED, "accept_refused=1");
        at->step = S_DONE;
        ph_call_hangup(at->call, "callback_accept_refused");
        return;
    }
    s_connect_customer(at);
}

static void s_on_agent(ph_call_t *call, ph_call_event_t ev, int code, const char *reason,
                       void *arg) {
    s_attempt_t *at = arg;
    ph_callback_t *cb = at->cb;
    char why[64];
    switch (ev) {
    case PH_CALL_ANSWERED:
        at->step = S_ACCEPTING;
        cb->pending++;
        if (ph_bus_agent_command(cb->bus, at->tenant, at->agent_id,
                                 HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_ACCEPT,
                                 at->contact_id, NULL, s_on_accepted, at) != 0) {
            cb->pending--;
            s_report(at, PH_ATTEMPT_AGENT_FAILED, "accept_not_sent=1");
            at->step = S_DONE;
            ph_call_hangup(call, "callback_accept_failed");
        }
        return;
    case PH_CALL_FAILED: /* busy, no answer, refused: the call is gone (no ENDED follows) */
        at->call = NULL;
        snprintf(why, sizeof why, "agent_%d", code);
        (void)reason;
        s_agent_failed(at, why);
        return;
    case PH_CALL_ENDED:
        at->call = NULL;
        if (at->step == S_ACCEPTING || at->step == S_RING_AGENT) {
            /* Hung up before the customer was called: offered -> decline; accepted -> the
             * router releases the agent with the unanswered attempt. */
            if (at->step == S_RING_AGENT) {
                s_agent_failed(at, "agent_hangup");
                return;
            }
            s_report(at, PH_ATTEMPT_NO_ANSWER, "agent_hangup=1");
            at->step = S_DONE; /* s_on_accepted frees */
            return;
        }
        s_finish(at);
        return;
    default:
        return;
    }
}

static void s_dial_agent(s_attempt_t *at, const char *uri) {
    ph_dial_opts_t opts = {
        at->tenant, at->contact_id, at->agent_id, NULL, at->language, "callback_hello", 0};
    if (ph_calls_by_contact(at->cb->calls, at->contact_id)) {
        /* The contact is a live call of ours, whose own connect rings this agent: a second
         * INVITE to the same phone for the same offer must not go out (nor a DECLINE). */
        HK_WARN("callback.contact_is_live_call", "tenant=%s contact=%s agent=%s", at->tenant,
                at->contact_id, at->agent_id);
        s_attempt_free(at);
        return;
    }
    at->step = S_RING_AGENT;
    at->call = uri ? ph_call_dial(at->cb->calls, uri, &opts, s_on_agent, at) : NULL;
    if (!at->call) {
        s_agent_failed(at, uri ? "dial_failed" : "no_phone");
    }
}

static void s_on_agent_uri(const char *uri, void *arg) {
    s_attempt_t *at = arg;
    at->cb->pending--;
    if (at->cb->destroying) {
        s_report(at, PH_ATTEMPT_AGENT_FAILED, "shutdown=1");
        s_finish(at);
        return;
    }
    s_dial_agent(at, uri);
}

static void s_on_static_uri(ph_policy_status_t st, const char *uri, void *arg) {
    s_on_agent_uri(st == PH_POLICY_OK ? uri : NULL, arg);
}

static void s_on_recreated(ph_promise_rc_t rc, const ph_promise_info_t *info, const char *why,
                           void *arg);

static void s_on_claimed(ph_promise_rc_t rc, const ph_promise_info_t *info, const char *why,
                         void *arg) {
    s_attempt_t *at = arg;
    ph_callback_t *cb = at->cb;
    cb->pending--;
    if (rc == PH_PROMISE_R_NOT_FOUND && why && !strcmp(why, "no_promise_callback") &&
        !at->recreated && !cb->destroying) {
        at->recreated = 1;
        ph_promise_request_t req = {at->tenant, at->contact_id, NULL, NULL, "channel"};
        cb->pending++;
        ph_promise_create(cb->promises, &req, s_on_recreated, at);
        return;
    }
    if (rc != PH_PROMISE_R_OK || cb->destroying) {
        if (rc == PH_PROMISE_R_OK) { /* claimed during shutdown: give it back */
            s_report(at, PH_ATTEMPT_AGENT_FAILED, "shutdown=1");
        }
        HK_DEBUG("callback.not_claimed", "tenant=%s contact=%s agent=%s why=%s", at->tenant,
                 at->contact_id, at->agent_id, why ? why : "");
        s_attempt_free(at);
        return;
    }
    snprintf(at->phone, sizeof at->phone, "%s", info->phone);
    snprintf(at->language, sizeof at->language, "%s", info->language);
    HK_INFO("callback.attempt_start", "tenant=%s contact=%s agent=%s attempt=%d/%d", at->tenant,
            at->contact_id, at->agent_id, info->attempts + 1, info->max_attempts);
    at->step = S_LOOKUP;
    cb->pending++;
    if (cb->reg) {
        ph_register_lookup(cb->reg, at->tenant, at->agent_id, s_on_agent_uri, at);
    } else {
        ph_policy_agent_uri(cb->policy, at->tenant, at->agent_id, s_on_static_uri, at);
    }
}

static void s_on_recreated(ph_promise_rc_t rc, const ph_promise_info_t *info, const char *why,
                           void *arg) {
    s_attempt_t *at = arg;
    (void)info;
    at->cb->pending--;
    if (rc != PH_PROMISE_R_OK || at->cb->destroying) {
        HK_WARN("callback.recreate_failed", "tenant=%s contact=%s why=%s", at->tenant,
                at->contact_id, why ? why : "");
        s_attempt_free(at);
        return;
    }
    at->cb->pending++;
    ph_promise_claim(at->cb->promises, at->tenant, at->contact_id, at->agent_id, s_on_claimed, at);
}

/* ---- events */

static void s_on_channel_promise(ph_promise_rc_t rc, const ph_promise_info_t *info, const char *why,
                                 void *arg) {
    ph_callback_t *cb = arg;
    (void)info;
    cb->pending--;
    if (rc != PH_PROMISE_R_OK) {
        HK_WARN("callback.channel_promise_failed", "why=%s", why ? why : "");
    }
    s_maybe_free(cb);
}

void ph_callback_on_event(ph_callback_t *cb, const Hetki__V1__ContactEvent *ev) {
    if (cb->destroying || !ev->kind || !ev->tenant || !ev->contact_id || !ev->contact_id[0]) {
        return;
    }
    if (!strcmp(ev->kind, "contact.received") && ev->decision && ev->decision->target &&
        !strcmp(ev->decision->target, "callback")) {
        ph_promise_request_t req = {ev->tenant, ev->contact_id, NULL, NULL, "channel"};
        cb->pending++;
        ph_promise_create(cb->promises, &req, s_on_channel_promise, cb);
        return;
    }
    if (strcmp(ev->kind, "contact.offered") != 0 || !ev->agent_id || !ev->agent_id[0] ||
        hk_strmap_get(cb->attempts, ev->contact_id)) {
        return;
    }
    s_attempt_t *at = calloc(1, sizeof *at);
    assert(at);
    at->cb = cb;
    at->step = S_CLAIMING;
    snprintf(at->tenant, sizeof at->tenant, "%s", ev->tenant);
    snprintf(at->contact_id, sizeof at->contact_id, "%s", ev->contact_id);
    snprintf(at->agent_id, sizeof at->agent_id, "%s", ev->agent_id);
    hk_strmap_put(cb->attempts, at->contact_id, at);
    cb->pending++;
    ph_promise_claim(cb->promises, at->tenant, at->contact_id, at->agent_id, s_on_claimed, at);
}

/* ---- inbound hooks */

typedef struct {
    ph_callback_t *cb;
    char contact_id[PH_PROMISE_ID];
} s_inbound_t;

static void s_on_inbound_promise(ph_promise_rc_t rc, const ph_promise_info_t *info, const char *why,
                                 void *arg) {
    s_inbound_t *in = arg;
    ph_callback_t *cb = in->cb;
    cb->pending--;
    /* The caller may have hung up meanwhile: look the call up again. */
    ph_call_t *call = cb->destroying ? NULL : ph_calls_by_contact(cb->calls, in->contact_id);
    if (call) {
        if (rc == PH_PROMISE_R_OK) {
            ph_call_callback_promised(call, info->window_start_ms, info->window_end_ms);
        } else {
            HK_WARN("callback.promise_failed", "contact=%s why=%s", in->contact_id, why ? why : "");
            ph_call_callback_failed(call);
        }
    }
    free(in);
    s_maybe_free(cb);
}

static int s_hook_callback(ph_call_t *call, const ph_call_info_t *info, const char *why,
                           void *arg) {
    ph_callback_t *cb = arg;
    (void)call;
    if (cb->destroying || !info->contact_id || !info->contact_id[0]) {
        return -1;
    }
    s_inbound_t *in = calloc(1, sizeof *in);
    assert(in);
    in->cb = cb;
    snprintf(in->contact_id, sizeof in->contact_id, "%s", info->contact_id);
    ph_promise_request_t req = {info->tenant, info->contact_id, info->caller, info->language,
                                why && !strcmp(why, "dtmf") ? "ivr" : "threshold"};
    cb->pending++;
    ph_promise_create(cb->promises, &req, s_on_inbound_promise, in);
    return 0;
}

static void s_on_warm(ph_policy_status_t st, const ph_phone_settings_t *s, void *arg) {
    (void)st;
    (void)s;
    (void)arg;
}

static long s_hook_threshold(const char *tenant, void *arg) {
    ph_callback_t *cb = arg;
    const ph_phone_settings_t *s = ph_policy_cached(cb->policy, tenant);
    if (!s) {
        ph_policy_settings(cb->policy, tenant, s_on_warm, NULL); /* next time */
        return -1;
    }
    return (long)(s->callback_threshold_ms / 1000);
}

/* ---- lifecycle */

ph_callback_t *ph_callback_new(uv_loop_t *loop, ph_calls_t *calls, ph_register_t *reg,
                               ph_promise_t *promises, ph_policy_t *policy, ph_bus_t *bus) {
    ph_callback_t *cb = calloc(1, sizeof *cb);
    assert(cb && calls && promises && policy && bus);
    cb->loop = loop;
    cb->calls = calls;
    cb->reg = reg;
    cb->promises = promises;
    cb->policy = policy;
    cb->bus = bus;
    cb->attempts = hk_strmap_new();
    cb->hooks.callback = s_hook_callback;
    cb->hooks.threshold_s = s_hook_threshold;
    cb->hooks.arg = cb;
    return cb;
}

void ph_callback_set_customer_uri(ph_callback_t *cb, const char *tmpl) {
    snprintf(cb->customer_uri, sizeof cb->customer_uri, "%s", tmpl ? tmpl : "");
}

const ph_inbound_hooks_t *ph_callback_hooks(ph_callback_t *cb) {
    return &cb->hooks;
}

size_t ph_callback_active(const ph_callback_t *cb) {
    return hk_strmap_size(cb->attempts);
}

void ph_callback_destroy(ph_callback_t **cb_p, void (*done)(void *arg), void *arg) {
    assert(cb_p);
    ph_callback_t *cb = *cb_p;
    if (!cb) {
        return;
    }
    *cb_p = NULL;
    cb->destroying = 1;
    cb->destroyed = done;
    cb->destroyed_arg = arg;
    /* Calls end at once (PH_CALL_ENDED runs inside ph_call_hangup and frees the attempt), so
     * take the attempts out of the map first. */
    size_t n = 0;
    char **keys = hk_strmap_keys(cb->attempts, &n);
    s_attempt_t **list = calloc(n + 1, sizeof *list);
    assert(list);
    for (size_t i = 0; i < n; i++) {
        list[i] = hk_strmap_get(cb->attempts, keys[i]);
    }
    free(keys);
    for (size_t i = 0; i < n; i++) {
        s_attempt_t *at = list[i];
        if (at->call && at->step != S_CONNECTED && at->step != S_DONE) {
            /* Before the accept the offer goes back; after it the agent is released. */
            s_report(at, at->step >= S_ACCEPTING ? PH_ATTEMPT_NO_ANSWER : PH_ATTEMPT_AGENT_FAILED,
                     "shutdown=1");
            if (at->step != S_ACCEPTING) { /* accepting: s_on_accepted frees it */
                at->step = S_DONE;
            }
            ph_call_hangup(at->call, "shutdown");
        }
    }
    free(list);
    s_maybe_free(cb);
}
