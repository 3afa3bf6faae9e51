/* test_phone_promises: hetki-phone's durable callback promises (services/phone/ph_promise.c
 * and lua/promise_*.lua) against a real redis-server and a real hetki-router, with the policy
 * loaded by the real `hetki policy load` ([phone] callback_window 1h, 2 attempts, 10m apart;
 * a number is one tenant's: a conflicting load is refused, a dropped number let go).
 * Two promise keepers in this process stand for two hetki-phone replicas ("phone-1",
 * "phone-2"), each with its own Redis connection and bus client. Checked: a promise is
 * created once per contact with the policy's window and the contact's number, and the router
 * records it; an attempt is claimed only for the agent the contact is offered to, and by one
 * replica only; an unanswered attempt releases the agent and holds the contact until the due
 * timer queues it again; the last unanswered attempt, a window that passed and a claim left
 * by a dead replica end as the policy says, a broken promise being a critical moment; a
 * connected attempt keeps the promise. Both the phone side and the router run on a virtual
 * clock the test moves. */
#include "hk_clock.h"
#include "hk_redis.h"
#include "hk_submit.h"
#include "hk_test.h"
#include "hk_test_bus.h"
#include "hk_test_guard.h"
#include "hk_test_proc.h"
#include "ph_policy.h"
#include "ph_promise.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define S_T0 1700000000000LL
#define S_REPLY_MS 5000
#define S_WAIT_MS 5000
#define S_DEADLINE_S 100
#define S_MIN 60000LL
#define S_HOUR 3600000LL

typedef struct {
    hk_redis_t *redis;
    hk_submit_t *submit;
    ph_policy_t *policy;
    ph_promise_t *promises;
    hk_metrics_t *metrics;
} s_replica_t;

static char s_dir[256];
static hk_test_redis_t s_redis;
static hk_test_router_t s_router;
static redisContext *s_rc;
static hk_test_events_t *s_ev;
static unsigned long s_seq;
static uv_loop_t s_loop;
static void *s_zctx;
static s_replica_t s_ph[2];
static int64_t s_now = S_T0;

static const char *s_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *s_fmt(const char *fmt, ...) {
    static char bufs[8][512];
    static int next;
    char *out = bufs[next++ % 8];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, sizeof bufs[0], fmt, ap);
    va_end(ap);
    return out;
}

static const char *s_hget(const char *key, const char *field) {
    static char bufs[4][512];
    static int next;
    char *out = bufs[next++ % 4];
    out[0] = '\0';
    redisReply *r = redisCommand(s_rc, "HGET %s %s", key, field);
    if (r && r->type == REDIS_REPLY_STRING) {
        snprintf(out, sizeof bufs[0], "%s", r->str);
    }
    freeReplyObject(r);
    return out;
}

/* Runs the loop until *done or timeout_ms passed (real time). */
static void s_run_until(const int *done, int timeout_ms) {
    long long until = hk_test_now_ms() + timeout_ms;
    while (!*done && hk_test_now_ms() < until) {
        uv_run(&s_loop, UV_RUN_NOWAIT);
        if (!*done) {
            hk_test_sleep_ms(1);
        }
    }
}

/* Moves both clocks: this process's (the promises) and the router's (hk:clock:virtual_ms). */
static void s_advance(int64_t delta) {
    s_now += delta;
    hk_clock_advance(delta);
    redisReply *r = redisCommand(s_rc, "SET hk:clock:virtual_ms %lld", (long long)s_now);
    HK_CHECK(r && r->type == REDIS_REPLY_STATUS, "SET hk:clock:virtual_ms");
    freeReplyObject(r);
    long long until = hk_test_now_ms() + S_WAIT_MS;
    int64_t at = -1;
    while (at < s_now && hk_test_now_ms() < until) {
        at = hk_test_bus_probe(s_router.bus, s_ev, S_WAIT_MS);
    }
    HK_CHECK(at >= s_now, "the router did not follow the clock");
}

/* ---- the two replicas */

static void s_replica_start(s_replica_t *r, const char *instance) {
    r->redis = hk_redis_new(&s_loop, "127.0.0.1", s_redis.port);
    r->submit = hk_submit_new(&s_loop, s_zctx, NULL, NULL);
    HK_CHECK(r->redis && r->submit, "clients");
    HK_CHECK(hk_submit_add_endpoint(r->submit, s_router.contacts) == 0, "router endpoint %s",
             s_router.contacts);
    r->policy = ph_policy_new(r->redis, 0);
    r->metrics = hk_metrics_new();
    r->promises = ph_promise_new(&s_loop, r->redis, r->policy, r->submit, r->metrics, instance);
    hk_redis_start(r->redis);
    long long until = hk_test_now_ms() + S_WAIT_MS;
    while (!hk_redis_ready(r->redis) && hk_test_now_ms() < until) {
        uv_run(&s_loop, UV_RUN_NOWAIT);
        hk_test_sleep_ms(1);
    }
    HK_CHECK(hk_redis_ready(r->redis), "%s: redis not ready", instance);
}

typedef struct {
    int done;
    ph_promise_rc_t rc;
    ph_promise_info_t info;
    char why[64];
} s_res_t;

static void s_on_promise(ph_promise_rc_t rc, const ph_promise_info_t *info, const char *why,
                         void *arg) {
    s_res_t *res = arg;
    res->done = 1;
    res->rc = rc;
    if (info) {
        res->info = *info;
    }
    snprintf(res->why, sizeof res->why, "%s", why ? why : "");
}

static s_res_t s_create(int replica, const char *cid, const char *source) {
    s_res_t res = {0};
    ph_promise_request_t req = {"a", cid, NULL, NULL, source};
    ph_promise_create(s_ph[replica].promises, &req, s_on_promise, &res);
    HK_CHECK(!res.done, "ph_promise_create answered before returning");
    s_run_until(&res.done, S_REPLY_MS);
    HK_CHECK(res.done, "create %s: no answer", cid);
    return res;
}

static s_res_t s_claim(int replica, const char *cid, const char *agent) {
    s_res_t res = {0};
    ph_promise_claim(s_ph[replica].promises, "a", cid, agent, s_on_promise, &res);
    s_run_until(&res.done, S_REPLY_MS);
    HK_CHECK(res.done, "claim %s: no answer", cid);
    return res;
}

static s_res_t s_result(int replica, const char *cid, ph_attempt_result_t result) {
    s_res_t res = {0};
    ph_promise_result(s_ph[replica].promises, "a", cid, result, "test=1", s_on_promise, &res);
    s_run_until(&res.done, S_REPLY_MS);
    HK_CHECK(res.done, "result %s: no answer", cid);
    return res;
}

/* Waits (running the loop, so reports go out) for an event of the contact. */
static int s_wait_event(size_t mark, const char *kind, const char *cid, const char *agent) {
    long long until = hk_test_now_ms() + S_WAIT_MS;
    while (hk_test_now_ms() < until) {
        uv_run(&s_loop, UV_RUN_NOWAIT);
        int i = hk_test_events_wait(s_ev, mark, kind, cid, agent, 5);
        if (i >= 0) {
            return i;
        }
    }
    return -1;
}

/* ---- bus helpers */

static void s_agent(const char *aid, Hetki__V1__AgentCommandKind kind, const char *cid) {
    Hetki__V1__AgentCommand cmd = HETKI__V1__AGENT_COMMAND__INIT;
    char id[32];
    snprintf(id, sizeof id, "ac-%lu", ++s_seq);
    cmd.command_id = id;
    cmd.tenant = "a";
    cmd.agent_id = (char *)aid;
    cmd.kind = kind;
    cmd.contact_id = (char *)(cid ? cid : "");
    cmd.reason = "test";
    hk_test_reply_t r;
    HK_CHECK(hk_test_bus_command(s_router.bus, &cmd, &r, S_REPLY_MS) == 0,
             "%s: command %d refused: %s", aid, (int)kind, r.text);
}

static void s_submit_to(const char *tenant, const char *key, char *id, size_t idlen) {
    char target[32];
    HK_CHECK(hk_test_bus_urgent_chat(s_router.bus, tenant, key, "+358 40 123 4567", "sv",
                                     "Ring mig", id, idlen, target, sizeof target) == 0,
             "contact %s not acked", key);
    HK_CHECK_STR_EQ(target, "callback");
}

static void s_submit(const char *key, char *id, size_t idlen) {
    s_submit_to("a", key, id, idlen);
}

static const char *s_ck(const char *cid) {
    return s_fmt("hk:{a}:contact:%s", cid);
}

static const char *s_pk(const char *cid) {
    return s_fmt("hk:{a}:promise:%s", cid);
}

/* ---- the scenarios */

/* Writes text as <name>.policy in the test's folder and runs `hetki policy load` on it;
 * returns the exit code (-1: could not run it). */
static int s_policy_load(const char *name, const char *text) {
    return hk_test_policy_load(s_redis.port, s_dir, name, text);
}

static void s_load_policy(void) {
    HK_CHECK(s_policy_load("a", "[tenant]\nname = a\n[phone]\nnumbers = +358 9 100 200, 5000\n"
                                "callback_window = 1h\ncallback_attempts = 2\n"
                                "callback_retry_after = 10m\nlanguage = en\n") == 0,
             "policy load of a failed");
    HK_CHECK_STR_EQ(s_hget("hk:{phone}:numbers", "+35891002000"), "");
    HK_CHECK_STR_EQ(s_hget("hk:{phone}:numbers", "+358910020"), "");
    HK_CHECK_STR_EQ(s_hget("hk:{phone}:numbers", "+358 9100200"), "");
    HK_CHECK_STR_EQ(s_hget("hk:{phone}:numbers", "+3589100200"), "a");
    HK_CHECK_STR_EQ(s_hget("hk:{phone}:numbers", "5000"), "a");
    /* Tenant b may not take a's number: refused (exit 1), nothing of b stored. */
    HK_CHECK(s_policy_load("b", "[tenant]\nname = b\n[phone]\nnumbers = 6000, +358 9 100 200\n") ==
                 1,
             "a number of tenant a was given to b");
    HK_CHECK_STR_EQ(s_hget("hk:{phone}:numbers", "+3589100200"), "a");
    HK_CHECK_STR_EQ(s_hget("hk:{phone}:numbers", "6000"), "");
    HK_CHECK_STR_EQ(s_hget("hk:{b}:policy", "version"), "");
    /* A new version of a drops 5000: let go, and b may have it. */
    HK_CHECK(s_policy_load("a", "[tenant]\nname = a\n[phone]\nnumbers = +358 9 100 200\n"
                                "callback_window = 1h\ncallback_attempts = 2\n"
                                "callback_retry_after = 10m\nlanguage = en\n"
                                "[phone_agents]\na-9 = sip:a-9@127.0.0.1:5999\n") == 0,
             "second policy load of a failed");
    HK_CHECK_STR_EQ(s_hget("hk:{phone}:numbers", "5000"), "");
    HK_CHECK(s_policy_load("b", "[tenant]\nname = b\n[phone]\nnumbers = 5000\n") == 0,
             "b could not take a number a let go");
    HK_CHECK_STR_EQ(s_hget("hk:{phone}:numbers", "5000"), "b");
    HK_CHECK_STR_EQ(s_hget("hk:{a}:phone", "version"), "2");
    HK_CHECK_STR_EQ(s_hget("hk:{a}:phone", "agent:a-9"), "sip:a-9@127.0.0.1:5999");
    printf("policy load: numbers are one tenant's, conflicts refused, dropped numbers let go\n");
}

typedef struct {
    int done;
    ph_policy_status_t st;
    char text[64];
    ph_phone_settings_t s;
} s_pol_t;

static void s_on_tenant(ph_policy_status_t st, const char *tenant, void *arg) {
    s_pol_t *p = arg;
    p->done = 1;
    p->st = st;
    snprintf(p->text, sizeof p->text, "%s", tenant ? tenant : "");
}

static void s_on_uri(ph_policy_status_t st, const char *uri, void *arg) {
    s_on_tenant(st, uri, arg);
}

static void s_on_settings(ph_policy_status_t st, const ph_phone_settings_t *s, void *arg) {
    s_pol_t *p = arg;
    p->done = 1;
    p->st = st;
    if (s) {
        p->s = *s;
    }
}

static void s_test_policy(void) {
    s_pol_t p = {0};
    ph_policy_number(s_ph[0].policy, "+35891 00-200", s_on_tenant, &p);
    s_run_until(&p.done, S_REPLY_MS);
    HK_CHECK(p.done && p.st == PH_POLICY_OK, "number lookup: %d", (int)p.st);
    HK_CHECK_STR_EQ(p.text, "a");
    memset(&p, 0, sizeof p);
    ph_policy_number(s_ph[0].policy, "+35891 00-200", s_on_tenant, &p);
    HK_CHECK(p.done && p.st == PH_POLICY_OK, "a cached number is answered at once");
    memset(&p, 0, sizeof p);
    ph_policy_number(s_ph[0].policy, "+358999", s_on_tenant, &p);
    s_run_until(&p.done, S_REPLY_MS);
    HK_CHECK(p.done && p.st == PH_POLICY_NOT_FOUND, "an unknown number: %d", (int)p.st);
    memset(&p, 0, sizeof p);
    ph_policy_number(s_ph[0].policy, "sip:bogus", s_on_tenant, &p);
    HK_CHECK(p.done && p.st == PH_POLICY_NOT_FOUND, "a malformed number");
    memset(&p, 0, sizeof p);
    ph_policy_settings(s_ph[0].policy, "a", s_on_settings, &p);
    s_run_until(&p.done, S_REPLY_MS);
    HK_CHECK(p.done && p.st == PH_POLICY_OK, "settings");
    HK_CHECK_INT_EQ(p.s.callback_window_ms, S_HOUR);
    HK_CHECK_INT_EQ(p.s.callback_attempts, 2);
    HK_CHECK_INT_EQ(p.s.callback_retry_after_ms, 10 * S_MIN);
    HK_CHECK_INT_EQ(p.s.callback_threshold_ms, 3 * S_MIN);
    HK_CHECK_STR_EQ(p.s.language, "en");
    HK_CHECK(p.s.version >= 1, "settings version");
    memset(&p, 0, sizeof p);
    ph_policy_settings(s_ph[0].policy, "nobody", s_on_settings, &p);
    s_run_until(&p.done, S_REPLY_MS);
    HK_CHECK(p.done && p.st == PH_POLICY_OK && p.s.version == 0, "defaults for a new tenant");
    HK_CHECK_INT_EQ(p.s.callback_attempts, 3);
    memset(&p, 0, sizeof p);
    ph_policy_agent_uri(s_ph[0].policy, "a", "a-1", s_on_uri, &p);
    s_run_until(&p.done, S_REPLY_MS);
    HK_CHECK(p.done && p.st == PH_POLICY_NOT_FOUND, "no static URI for a-1");
    memset(&p, 0, sizeof p);
    ph_policy_agent_uri(s_ph[0].policy, "a", "a-9", s_on_uri, &p);
    s_run_until(&p.done, S_REPLY_MS);
    HK_CHECK(p.done && p.st == PH_POLICY_OK, "static URI of a-9");
    HK_CHECK_STR_EQ(p.text, "sip:a-9@127.0.0.1:5999");
    printf("policy: number -> tenant, settings and defaults read from Redis\n");
}

static void s_test_retry_and_attempts(void) {
    char c1[72];
    size_t mark = hk_test_events_size(s_ev);
    s_submit("cb-1", c1, sizeof c1);
    s_res_t r = s_create(0, c1, "channel");
    HK_CHECK(r.rc == PH_PROMISE_R_OK && r.info.created, "create: %d %s", (int)r.rc, r.why);
    HK_CHECK_INT_EQ(r.info.window_start_ms, s_now);
    HK_CHECK_INT_EQ(r.info.window_end_ms, s_now + S_HOUR);
    HK_CHECK_INT_EQ(r.info.max_attempts, 2);
    HK_CHECK_STR_EQ(r.info.phone, "+358401234567");
    HK_CHECK_STR_EQ(r.info.language, "sv");
    HK_CHECK(s_wait_event(mark, "call.callback_promised", c1, NULL) >= 0,
             "the router did not record the promise");
    HK_CHECK_STR_EQ(s_hget(s_ck(c1), "callback"), "pending");
    s_res_t again = s_create(1, c1, "channel");
    HK_CHECK(again.rc == PH_PROMISE_R_OK && !again.info.created, "a second create made another");
    HK_CHECK_INT_EQ(again.info.window_end_ms, r.info.window_end_ms);
    /* Not offered to anyone yet: nothing to claim. */
    s_res_t no = s_claim(0, c1, "a-1");
    HK_CHECK(no.rc == PH_PROMISE_R_STATE && !strcmp(no.why, "not_offered"), "claim: %d %s",
             (int)no.rc, no.why);
    /* Offered to a-1: one replica claims it, the other cannot. */
    mark = hk_test_events_size(s_ev);
    s_agent("a-1", HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_AVAILABLE, NULL);
    HK_CHECK(s_wait_event(mark, "contact.offered", c1, "a-1") >= 0, "c1 not offered");
    s_res_t other = s_claim(0, c1, "a-2");
    HK_CHECK(other.rc == PH_PROMISE_R_STATE, "claimed for an agent it is not offered to");
    s_res_t mine = s_claim(0, c1, "a-1");
    HK_CHECK(mine.rc == PH_PROMISE_R_OK, "claim: %d %s", (int)mine.rc, mine.why);
    HK_CHECK_INT_EQ(mine.info.status, PH_PROMISE_DIALING);
    s_res_t theirs = s_claim(1, c1, "a-1");
    HK_CHECK(theirs.rc == PH_PROMISE_R_STATE && !strcmp(theirs.why, "status_dialing"),
             "a second replica claimed the same attempt: %d %s", (int)theirs.rc, theirs.why);
    s_res_t wrong = s_result(1, c1, PH_ATTEMPT_CONNECTED);
    HK_CHECK(wrong.rc == PH_PROMISE_R_STATE && !strcmp(wrong.why, "not_yours"),
             "another replica reported the attempt");
    /* The agent answered and accepted; the customer did not answer: retry in 10 minutes. */
    s_agent("a-1", HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_ACCEPT, c1);
    mark = hk_test_events_size(s_ev);
    s_res_t res = s_result(0, c1, PH_ATTEMPT_NO_ANSWER);
    HK_CHECK(res.rc == PH_PROMISE_R_OK && !strcmp(res.why, "retry"), "result: %s", res.why);
    HK_CHECK_INT_EQ(res.info.attempts, 1);
    HK_CHECK(s_wait_event(mark, "call.callback_retry", c1, "a-1") >= 0, "no callback_retry");
    HK_CHECK_STR_EQ(s_hget(s_ck(c1), "state"), "callback_wait");
    HK_CHECK_STR_EQ(s_hget("hk:{a}:agent:a-1", "load"), "0");
    /* The due timer: nothing before the retry time, then the router queues and offers it. */
    ph_promise_start(s_ph[0].promises, 20);
    ph_promise_start(s_ph[1].promises, 20);
    s_advance(10 * S_MIN - 1000);
    int none = 0;
    s_run_until(&none, 300);
    HK_CHECK_STR_EQ(s_hget(s_ck(c1), "state"), "callback_wait");
    mark = hk_test_events_size(s_ev);
    s_advance(1000);
    HK_CHECK(s_wait_event(mark, "call.callback_due", c1, NULL) >= 0, "no callback_due");
    HK_CHECK(s_wait_event(mark, "contact.offered", c1, "a-1") >= 0, "not offered after retry");
    HK_CHECK_INT_EQ(hk_test_events_count_matching(s_ev, mark, "call.callback_due", c1, NULL), 1);
    /* Second and last attempt unanswered: broken, a critical moment, the agent released. */
    HK_CHECK(s_claim(1, c1, "a-1").rc == PH_PROMISE_R_OK, "second claim");
    s_agent("a-1", HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_ACCEPT, c1);
    mark = hk_test_events_size(s_ev);
    res = s_result(1, c1, PH_ATTEMPT_NO_ANSWER);
    HK_CHECK(res.rc == PH_PROMISE_R_OK && !strcmp(res.why, "broken"), "result: %s", res.why);
    HK_CHECK_INT_EQ(res.info.status, PH_PROMISE_BROKEN);
    int i = s_wait_event(mark, "critical.broken_promise", c1, NULL);
    HK_CHECK(i >= 0, "no critical.broken_promise");
    HK_CHECK_CONTAINS(hk_test_events_get(s_ev, (size_t)i)->detail, "reason=attempts_used");
    HK_CHECK_STR_EQ(s_hget(s_ck(c1), "state"), "callback_broken");
    HK_CHECK_STR_EQ(s_hget(s_pk(c1), "broken_reason"), "attempts_used");
    HK_CHECK_STR_EQ(s_hget("hk:{a}:agent:a-1", "load"), "0");
    redisReply *z = redisCommand(s_rc, "ZSCORE hk:{a}:callbacks %s", c1);
    HK_CHECK(z && z->type == REDIS_REPLY_NIL, "a broken promise is still listed as open");
    freeReplyObject(z);
    printf("promise: created once, claimed once, retried after 10m, broken after 2 attempts\n");
}

static void s_test_window_passes(void) {
    char c2[72];
    s_agent("a-1", HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_PAUSE, NULL);
    s_submit("cb-2", c2, sizeof c2);
    s_res_t r = s_create(1, c2, "channel");
    HK_CHECK(r.rc == PH_PROMISE_R_OK && r.info.created, "create c2");
    size_t mark = hk_test_events_size(s_ev);
    s_advance(S_HOUR - 1000);
    int none = 0;
    s_run_until(&none, 300);
    HK_CHECK_STR_EQ(s_hget(s_pk(c2), "status"), "pending");
    s_advance(1000);
    int i = s_wait_event(mark, "critical.broken_promise", c2, NULL);
    HK_CHECK(i >= 0, "the window passed without a broken promise");
    HK_CHECK_CONTAINS(hk_test_events_get(s_ev, (size_t)i)->detail, "reason=window_passed");
    HK_CHECK_STR_EQ(s_hget(s_ck(c2), "state"), "callback_broken");
    redisReply *q = redisCommand(s_rc, "ZSCORE hk:{a}:q:voice:sv %s", c2);
    HK_CHECK(q && q->type == REDIS_REPLY_NIL, "a broken promise's contact still waits in a queue");
    freeReplyObject(q);
    s_res_t late = s_claim(0, c2, "a-1");
    HK_CHECK(late.rc == PH_PROMISE_R_STATE, "a broken promise was claimed");
    printf("promise: broken when its window passed (window_passed)\n");
}

static void s_test_dead_replica_and_kept(void) {
    char c3[72], c4[72];
    size_t mark = hk_test_events_size(s_ev);
    s_agent("a-1", HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_AVAILABLE, NULL);
    s_submit("cb-3", c3, sizeof c3);
    HK_CHECK(s_wait_event(mark, "contact.offered", c3, "a-1") >= 0, "c3 not offered");
    HK_CHECK(s_create(0, c3, "channel").rc == PH_PROMISE_R_OK, "create c3");
    HK_CHECK(s_claim(1, c3, "a-1").rc == PH_PROMISE_R_OK, "claim c3");
    /* phone-2 "dies" with the attempt claimed: after the claim time phone-1's sweep counts it
     * as unanswered and the router holds the contact for the retry. */
    ph_promise_destroy(&s_ph[1].promises, NULL, NULL);
    mark = hk_test_events_size(s_ev);
    s_advance(PH_PROMISE_CLAIM_MS + 1000);
    int i = s_wait_event(mark, "call.callback_retry", c3, NULL);
    HK_CHECK(i >= 0, "a lapsed claim was not retried");
    HK_CHECK_CONTAINS(hk_test_events_get(s_ev, (size_t)i)->detail, "reason=claim_expired");
    HK_CHECK_STR_EQ(s_hget(s_pk(c3), "status"), "pending");
    HK_CHECK_STR_EQ(s_hget(s_pk(c3), "attempts"), "1");
    HK_CHECK_STR_EQ(s_hget(s_ck(c3), "state"), "callback_wait");
    /* A kept promise. */
    mark = hk_test_events_size(s_ev);
    s_agent("a-1", HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_AVAILABLE, NULL);
    s_submit("cb-4", c4, sizeof c4);
    HK_CHECK(s_wait_event(mark, "contact.offered", c4, "a-1") >= 0, "c4 not offered");
    HK_CHECK(s_create(0, c4, "channel").rc == PH_PROMISE_R_OK, "create c4");
    HK_CHECK(s_claim(0, c4, "a-1").rc == PH_PROMISE_R_OK, "claim c4");
    s_agent("a-1", HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_ACCEPT, c4);
    s_res_t kept = s_result(0, c4, PH_ATTEMPT_CONNECTED);
    HK_CHECK(kept.rc == PH_PROMISE_R_OK && !strcmp(kept.why, "kept"), "kept: %s", kept.why);
    HK_CHECK(s_wait_event(mark, "call.promise_kept", c4, "a-1") >= 0, "no promise_kept");
    HK_CHECK_STR_EQ(s_hget(s_ck(c4), "callback"), "kept");
    HK_CHECK_STR_EQ(s_hget(s_ck(c4), "state"), "assigned");
    redisReply *z = redisCommand(s_rc, "ZCARD hk:{a}:callbacks");
    HK_CHECK(z && z->type == REDIS_REPLY_INTEGER && z->integer == 1, "open promises: c3 only");
    freeReplyObject(z);
    printf("promise: a dead replica's claim lapses into a retry; a connected attempt keeps it\n");
}

static void s_test_bad_input(void) {
    s_res_t r = s_create(0, "NOSUCHCONTACT", "ivr");
    HK_CHECK(r.rc == PH_PROMISE_R_NOT_FOUND, "unknown contact: %d", (int)r.rc);
    ph_promise_request_t bad = {"A B", "x", NULL, NULL, "ivr"};
    s_res_t res = {0};
    ph_promise_create(s_ph[0].promises, &bad, s_on_promise, &res);
    HK_CHECK(!res.done, "answered before returning");
    s_run_until(&res.done, S_REPLY_MS);
    HK_CHECK(res.rc == PH_PROMISE_R_INVALID, "bad tenant: %d", (int)res.rc);
    char cx[72];
    s_submit_to("b", "cb-anon", cx, sizeof cx); /* tenant b: no agent will be offered it */
    ph_promise_request_t anon = {"b", cx, "anonymous", NULL, "ivr"};
    memset(&res, 0, sizeof res);
    ph_promise_create(s_ph[0].promises, &anon, s_on_promise, &res);
    s_run_until(&res.done, S_REPLY_MS);
    HK_CHECK(res.rc == PH_PROMISE_R_INVALID, "an anonymous caller got a promise: %d", (int)res.rc);
    redisReply *ex = redisCommand(s_rc, "EXISTS hk:{b}:promise:%s", cx);
    HK_CHECK(ex && ex->integer == 0, "a refused promise was stored");
    freeReplyObject(ex);
    s_res_t none = s_claim(0, "NOSUCHCONTACT", "a-1");
    HK_CHECK(none.rc == PH_PROMISE_R_NOT_FOUND, "claim without a promise: %d", (int)none.rc);
    printf("promise: bad input answered, nothing stored\n");
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    hk_test_guard_begin("test_phone_promises", "/tmp/hetki-it-promises-XXXXXX", s_dir, sizeof s_dir,
                        S_DEADLINE_S);
    hk_test_guard_redis(&s_redis);
    hk_test_guard_router(&s_router);
    hk_test_guard_client(&s_ev, &s_rc);
    hk_clock_set_virtual(S_T0);
    HK_CHECK(hk_test_redis_start(&s_redis) == 0, "redis-server did not start");
    s_rc = hk_test_redis_connect(s_redis.port);
    redisReply *r = redisCommand(s_rc, "SET hk:clock:virtual_ms %lld", S_T0);
    freeReplyObject(r);
    s_ev = hk_test_events_new();
    HK_CHECK(s_ev && hk_test_events_subscribe(s_ev, "a") == 0, "event collector");
    char clock[64];
    snprintf(clock, sizeof clock, "HETKI_CLOCK=virtual:%lld", S_T0);
    const char *env[] = {clock, "HETKI_ROUTER_TIMER_POLL_MS=20", NULL};
    HK_CHECK(hk_test_router_start(&s_router, "prom-a", s_redis.port, s_dir, env, s_ev) == 0,
             "router did not start");
    s_load_policy();
    Hetki__V1__AgentProfile p = HETKI__V1__AGENT_PROFILE__INIT;
    char *langs[] = {"sv"};
    Hetki__V1__Channel ch = HETKI__V1__CHANNEL__CHANNEL_PHONE;
    p.tenant = "a";
    p.agent_id = "a-1";
    p.n_languages = 1;
    p.languages = langs;
    p.n_channels = 1;
    p.channels = &ch;
    hk_test_reply_t pr;
    HK_CHECK(hk_test_bus_profile(s_router.bus, &p, &pr, S_REPLY_MS) == 0, "profile: %s", pr.text);

    uv_loop_init(&s_loop);
    s_zctx = zmq_ctx_new();
    s_replica_start(&s_ph[0], "phone-1");
    s_replica_start(&s_ph[1], "phone-2");

    s_test_policy();
    s_test_bad_input();
    s_test_retry_and_attempts();
    s_test_window_passes();
    s_test_dead_replica_and_kept();

    for (int i = 0; i < 2; i++) {
        ph_promise_destroy(&s_ph[i].promises, NULL, NULL);
        ph_policy_destroy(&s_ph[i].policy);
        hk_submit_destroy(&s_ph[i].submit);
        hk_redis_destroy(&s_ph[i].redis);
    }
    for (int n = 0; n < 50; n++) {
        uv_run(&s_loop, UV_RUN_NOWAIT);
        hk_test_sleep_ms(2);
    }
    for (int i = 0; i < 2; i++) {
        hk_metrics_destroy(&s_ph[i].metrics);
    }
    uv_loop_close(&s_loop);
    zmq_ctx_term(s_zctx);
    return HK_TEST_GUARD_END();
}
