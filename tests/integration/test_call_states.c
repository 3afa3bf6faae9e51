/* test_call_states: CallState reports from hetki-phone over the real bus, against a real
 * hetki-router and redis-server. Bad reports (unknown contact, another tenant's contact, an
 * unknown agent, malformed fields) get an error reply and change nothing (every key of both
 * tenants is compared before and after). A good report is recorded on the contact and in
 * its trail and published as call.<state> with a rev; a resend with the same command_id
 * returns the first reply and publishes nothing. The callback states move the contact: a
 * retry releases the agent that accepted it and holds the contact, due queues it again (and
 * it is offered at once), a broken promise is a critical moment (critical.broken_promise)
 * and stops the contact waiting. The router runs on a virtual clock the test never moves. */
#include "hk_test.h"
#include "hk_test_bus.h"
#include "hk_test_guard.h"
#include "hk_test_proc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_T0 1700000000000LL
#define S_REPLY_MS 5000
#define S_WAIT_MS 5000
#define S_DEADLINE_S 100

static char s_dir[256];
static hk_test_redis_t s_redis;
static hk_test_router_t s_router;
static redisContext *s_rc;
static hk_test_events_t *s_ev;
static unsigned long s_seq;
static char s_cid[72]; /* tenant a's callback contact */

static int s_cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every key of the tenant (stored command replies aside) with its serialised value. */
static char *s_snapshot(const char *tenant) {
    redisReply *keys = redisCommand(s_rc, "KEYS hk:{%s}:*", tenant);
    HK_CHECK(keys && keys->type == REDIS_REPLY_ARRAY, "KEYS");
    char **names = calloc(keys->elements + 1, sizeof *names);
    size_t n = 0, len = 1;
    for (size_t i = 0; i < keys->elements; i++) {
        if (!strstr(keys->element[i]->str, "}:cmd:")) {
            names[n++] = keys->element[i]->str;
        }
    }
    qsort(names, n, sizeof *names, s_cmp);
    char *out = calloc(1, 1);
    for (size_t i = 0; i < n; i++) {
        redisReply *d = redisCommand(s_rc, "DUMP %s", names[i]);
        HK_CHECK(d && d->type == REDIS_REPLY_STRING, "DUMP %s", names[i]);
        size_t add = strlen(names[i]) + 2 * d->len + 3;
        out = realloc(out, len + add);
        char *w = out + len - 1;
        w += sprintf(w, "%s=", names[i]);
        for (size_t j = 0; j < d->len; j++) {
            w += sprintf(w, "%02x", (unsigned char)d->str[j]);
        }
        *w++ = '\n';
        *w = '\0';
        len += add - 1;
        freeReplyObject(d);
    }
    free(names);
    freeReplyObject(keys);
    return out;
}

static const char *s_hget(const char *tenant, const char *cid, const char *field) {
    static char buf[4][512];
    static int next;
    char *out = buf[next++ % 4];
    out[0] = '\0';
    redisReply *r = redisCommand(s_rc, "HGET hk:{%s}:contact:%s %s", tenant, cid, field);
    if (r && r->type == REDIS_REPLY_STRING) {
        snprintf(out, sizeof buf[0], "%s", r->str);
    }
    freeReplyObject(r);
    return out;
}

/* Sends a CallState; returns the reply summary (answered == 0: none in time). */
static hk_test_reply_t s_call_state(const char *tenant, const char *cid, const char *agent,
                                    const char *state, const char *detail, const char *command_id) {
    Hetki__V1__CallState cs = HETKI__V1__CALL_STATE__INIT;
    char id[32];
    snprintf(id, sizeof id, "cs-%lu", ++s_seq);
    cs.command_id = (char *)(command_id ? command_id : id);
    cs.tenant = (char *)tenant;
    cs.contact_id = (char *)cid;
    cs.agent_id = (char *)(agent ? agent : "");
    cs.state = (char *)state;
    cs.detail = (char *)(detail ? detail : "");
    cs.gateway = "phone-test";
    hk_envelope_t env = HETKI__V1__ENVELOPE__INIT;
    env.body_case = HETKI__V1__ENVELOPE__BODY_CALL_STATE;
    env.call_state = &cs;
    hk_envelope_t *reply = hk_test_bus_request(s_router.bus, &env, S_REPLY_MS);
    hk_test_reply_t r;
    hk_test_reply_from(reply, &r);
    hk_codec_free(&reply);
    return r;
}

static void s_register(const char *tenant, const char *aid) {
    Hetki__V1__AgentProfile p = HETKI__V1__AGENT_PROFILE__INIT;
    char *langs[] = {"en"};
    Hetki__V1__Channel channels[] = {HETKI__V1__CHANNEL__CHANNEL_PHONE,
                                     HETKI__V1__CHANNEL__CHANNEL_CHAT};
    p.tenant = (char *)tenant;
    p.agent_id = (char *)aid;
    p.display_name = (char *)aid;
    p.n_languages = 1;
    p.languages = langs;
    p.n_channels = 2;
    p.channels = channels;
    hk_test_reply_t r;
    HK_CHECK(hk_test_bus_profile(s_router.bus, &p, &r, S_REPLY_MS) == 0, "register %s: %s", aid,
             r.text);
}

static hk_test_reply_t s_agent(const char *tenant, const char *aid,
                               Hetki__V1__AgentCommandKind kind, const char *cid) {
    Hetki__V1__AgentCommand cmd = HETKI__V1__AGENT_COMMAND__INIT;
    char id[32];
    snprintf(id, sizeof id, "ac-%lu", ++s_seq);
    cmd.command_id = id;
    cmd.tenant = (char *)tenant;
    cmd.agent_id = (char *)aid;
    cmd.kind = kind;
    cmd.contact_id = (char *)(cid ? cid : "");
    hk_test_reply_t r;
    HK_CHECK(hk_test_bus_command(s_router.bus, &cmd, &r, S_REPLY_MS) == 0,
             "%s: command %d refused: %s", aid, (int)kind, r.text);
    return r;
}

/* An urgent chat contact with a phone number typed in: target callback, voice queue. */
static void s_submit_callback(const char *tenant, const char *key, char *id, size_t idlen) {
    char target[32];
    HK_CHECK(hk_test_bus_urgent_chat(s_router.bus, tenant, key, "+358401234567", "en",
                                     "Please call me back", id, idlen, target, sizeof target) == 0,
             "contact %s not acked", key);
    HK_CHECK_STR_EQ(target, "callback");
}

/* A bad report: the error code wanted, and no key of tenants a or b changed. */
static void s_bad(const char *what, const char *tenant, const char *cid, const char *agent,
                  const char *state, const char *detail, Hetki__V1__ErrorCode want) {
    char *a0 = s_snapshot("a"), *b0 = s_snapshot("b");
    size_t mark = hk_test_events_size(s_ev);
    hk_test_reply_t r = s_call_state(tenant, cid, agent, state, detail, NULL);
    HK_CHECK(r.answered, "%s: no reply", what);
    HK_EXPECT(r.code == want, "%s: code %d (%s), expected %d", what, (int)r.code, r.text,
              (int)want);
    char *a1 = s_snapshot("a"), *b1 = s_snapshot("b");
    HK_EXPECT(!strcmp(a0, a1) && !strcmp(b0, b1), "%s changed the state in Redis", what);
    hk_test_events_poll(s_ev, 100);
    HK_EXPECT(hk_test_events_count_matching(s_ev, mark, NULL, NULL, NULL) == 0,
              "%s published events", what);
    free(a0);
    free(b0);
    free(a1);
    free(b1);
}

static void s_test_bad(void) {
    static char long_detail[300], newline[] = "reason=x\ny";
    memset(long_detail, 'd', 257);
    const Hetki__V1__ErrorCode invalid = HETKI__V1__ERROR_CODE__ERROR_INVALID,
                               not_found = HETKI__V1__ERROR_CODE__ERROR_NOT_FOUND;
    s_bad("an unknown contact", "a", "NOSUCHCONTACT", NULL, "ringing", NULL, not_found);
    s_bad("tenant a's contact reported as tenant b's", "b", s_cid, NULL, "ringing", NULL,
          not_found);
    s_bad("an unknown agent", "a", s_cid, "ghost", "ringing_agent", NULL, not_found);
    s_bad("tenant b's agent", "a", s_cid, "b-1", "ringing_agent", NULL, not_found);
    s_bad("a state with capitals", "a", s_cid, NULL, "Connected", NULL, invalid);
    s_bad("a state with a dot", "a", s_cid, NULL, "call.connected", NULL, invalid);
    s_bad("an empty state", "a", s_cid, NULL, "", NULL, invalid);
    s_bad("a detail of 257 bytes", "a", s_cid, NULL, "ringing", long_detail, invalid);
    s_bad("a detail with a newline", "a", s_cid, NULL, "ringing", newline, invalid);
    s_bad("no contact id", "a", "", NULL, "ringing", NULL, invalid);
    s_bad("a contact id with spaces", "a", "a contact", NULL, "ringing", NULL, invalid);
    s_bad("a bad tenant", "A", s_cid, NULL, "ringing", NULL, invalid);
    printf("bad call states: 12 cases answered with errors, nothing changed\n");
}

static void s_test_record(void) {
    size_t mark = hk_test_events_size(s_ev);
    hk_test_reply_t r =
        s_call_state("a", s_cid, "a-1", "ringing_agent", "uri=sip:a-1@127.0.0.1", "ring-1");
    HK_CHECK(r.answered && r.code == HETKI__V1__ERROR_CODE__ERROR_NONE, "ringing_agent: %s",
             r.text);
    HK_CHECK_STR_EQ(r.contact_state, "offered");
    HK_CHECK_STR_EQ(s_hget("a", s_cid, "call_state"), "ringing_agent");
    HK_CHECK_STR_EQ(s_hget("a", s_cid, "call_agent"), "a-1");
    HK_CHECK_STR_EQ(s_hget("a", s_cid, "call_gateway"), "phone-test");
    int i = hk_test_events_wait(s_ev, mark, "call.ringing_agent", s_cid, "a-1", S_WAIT_MS);
    HK_CHECK(i >= 0, "no call.ringing_agent event");
    const hk_test_event_t *ev = hk_test_events_get(s_ev, (size_t)i);
    HK_CHECK(ev->rev > 0, "call event without a rev");
    HK_CHECK_STR_EQ(ev->detail, "uri=sip:a-1@127.0.0.1");
    redisReply *t = redisCommand(s_rc, "LRANGE hk:{a}:trail:%s -1 -1", s_cid);
    HK_CHECK(t && t->type == REDIS_REPLY_ARRAY && t->elements == 1, "trail");
    HK_CHECK_CONTAINS(t->element[0]->str,
                      "call state=ringing_agent agent=a-1 gateway=phone-test uri=sip:a-1@");
    freeReplyObject(t);
    /* The same command id again: the same answer, nothing changes, nothing published. */
    char *before = s_snapshot("a");
    size_t mark2 = hk_test_events_size(s_ev);
    hk_test_reply_t again =
        s_call_state("a", s_cid, "a-1", "ringing_agent", "uri=sip:a-1@127.0.0.1", "ring-1");
    HK_CHECK(again.code == r.code && !strcmp(again.contact_state, r.contact_state),
             "a resend got another answer");
    char *after = s_snapshot("a");
    HK_CHECK(!strcmp(before, after), "a resend changed the state");
    hk_test_events_poll(s_ev, 200);
    HK_CHECK_INT_EQ(hk_test_events_count_matching(s_ev, mark2, "call.ringing_agent", NULL, NULL),
                    0);
    free(before);
    free(after);
    printf("a call state is recorded, in the trail and published; a resend changes nothing\n");
}

static void s_test_callback(void) {
    const char *ak = "hk:{a}:agent:a-1";
    size_t mark = hk_test_events_size(s_ev);
    hk_test_reply_t r = s_call_state("a", s_cid, NULL, "callback_promised",
                                     "window=1700000000000-1700007200000 attempts=3", NULL);
    HK_CHECK(r.code == HETKI__V1__ERROR_CODE__ERROR_NONE, "callback_promised: %s", r.text);
    HK_CHECK_STR_EQ(s_hget("a", s_cid, "callback"), "pending");
    /* The agent answers and accepts; the customer does not answer: retry later. */
    s_agent("a", "a-1", HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_ACCEPT, s_cid);
    redisReply *load = redisCommand(s_rc, "HGET %s load", ak);
    HK_CHECK(load && load->type == REDIS_REPLY_STRING && atoi(load->str) > 0, "no load");
    freeReplyObject(load);
    r = s_call_state("a", s_cid, NULL, "callback_retry", "attempt=1 next=1700000600000", NULL);
    HK_CHECK(r.code == HETKI__V1__ERROR_CODE__ERROR_NONE, "callback_retry: %s", r.text);
    HK_CHECK_STR_EQ(r.contact_state, "callback_wait");
    HK_CHECK_STR_EQ(r.agent_state, "available");
    HK_CHECK_STR_EQ(s_hget("a", s_cid, "state"), "callback_wait");
    HK_CHECK_STR_EQ(s_hget("a", s_cid, "agent"), "");
    load = redisCommand(s_rc, "HGET %s load", ak);
    HK_CHECK(load && load->type == REDIS_REPLY_STRING && !strcmp(load->str, "0"),
             "the agent keeps the load after callback_retry");
    freeReplyObject(load);
    redisReply *m = redisCommand(s_rc, "SISMEMBER hk:{a}:agent:a-1:contacts %s", s_cid);
    HK_CHECK(m && m->integer == 0, "the agent still holds the contact");
    freeReplyObject(m);
    HK_CHECK(hk_test_events_wait(s_ev, mark, "call.callback_retry", s_cid, "a-1", S_WAIT_MS) >= 0,
             "no call.callback_retry naming the released agent");
    /* Due: queued again and offered to the free agent at once. */
    mark = hk_test_events_size(s_ev);
    r = s_call_state("a", s_cid, NULL, "callback_due", NULL, NULL);
    HK_CHECK(r.code == HETKI__V1__ERROR_CODE__ERROR_NONE, "callback_due: %s", r.text);
    HK_CHECK_STR_EQ(r.contact_state, "offered");
    HK_CHECK(hk_test_events_wait(s_ev, mark, "contact.queued", s_cid, NULL, S_WAIT_MS) >= 0,
             "no contact.queued after callback_due");
    HK_CHECK(hk_test_events_wait(s_ev, mark, "contact.offered", s_cid, "a-1", S_WAIT_MS) >= 0,
             "not offered again after callback_due");
    /* Broken: a critical moment, the offer is withdrawn, the contact stops waiting. */
    mark = hk_test_events_size(s_ev);
    r = s_call_state("a", s_cid, NULL, "promise_broken", "reason=attempts_used", NULL);
    HK_CHECK(r.code == HETKI__V1__ERROR_CODE__ERROR_NONE, "promise_broken: %s", r.text);
    HK_CHECK_STR_EQ(r.contact_state, "callback_broken");
    HK_CHECK_STR_EQ(s_hget("a", s_cid, "callback"), "broken");
    int i = hk_test_events_wait(s_ev, mark, "critical.broken_promise", s_cid, NULL, S_WAIT_MS);
    HK_CHECK(i >= 0, "no critical.broken_promise event");
    HK_CHECK_CONTAINS(hk_test_events_get(s_ev, (size_t)i)->detail, "reason=attempts_used");
    redisReply *crit = redisCommand(s_rc, "LRANGE hk:{a}:critical -1 -1");
    HK_CHECK(crit && crit->type == REDIS_REPLY_ARRAY && crit->elements == 1, "critical list");
    HK_CHECK_CONTAINS(crit->element[0]->str, "\"kind\":\"broken_promise\"");
    HK_CHECK_CONTAINS(crit->element[0]->str, s_cid);
    freeReplyObject(crit);
    load = redisCommand(s_rc, "HGET %s load", ak);
    HK_CHECK(load && load->type == REDIS_REPLY_STRING && !strcmp(load->str, "0"),
             "the offer's load stays after promise_broken");
    freeReplyObject(load);
    m = redisCommand(s_rc, "ZSCORE hk:{a}:timers lease|%s", s_cid);
    HK_CHECK(m && m->type == REDIS_REPLY_NIL, "a lease timer is left after promise_broken");
    freeReplyObject(m);
    printf("callback states: retry releases the agent and holds the contact, due queues and "
           "offers it, broken is a critical moment\n");
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    hk_test_guard_begin("test_call_states", "/tmp/hetki-it-calls-XXXXXX", s_dir, sizeof s_dir,
                        S_DEADLINE_S);
    hk_test_guard_redis(&s_redis);
    hk_test_guard_router(&s_router);
    hk_test_guard_client(&s_ev, &s_rc);
    HK_CHECK(hk_test_redis_start(&s_redis) == 0, "redis-server did not start");
    s_rc = hk_test_redis_connect(s_redis.port);
    s_ev = hk_test_events_new();
    HK_CHECK(s_ev && hk_test_events_subscribe(s_ev, "a") == 0 &&
                 hk_test_events_subscribe(s_ev, "b") == 0,
             "event collector");
    char clock[64];
    snprintf(clock, sizeof clock, "HETKI_CLOCK=virtual:%lld", S_T0);
    const char *env[] = {clock, NULL};
    HK_CHECK(hk_test_router_start(&s_router, "calls-a", s_redis.port, s_dir, env, s_ev) == 0,
             "router did not start");
    s_register("a", "a-1");
    s_register("b", "b-1");
    s_agent("a", "a-1", HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_AVAILABLE, NULL);
    size_t mark = hk_test_events_size(s_ev);
    s_submit_callback("a", "cb-1", s_cid, sizeof s_cid);
    HK_CHECK(hk_test_events_wait(s_ev, mark, "contact.offered", s_cid, "a-1", S_WAIT_MS) >= 0,
             "the callback contact was not offered to a-1");

    s_test_bad();
    s_test_record();
    s_test_callback();

    return HK_TEST_GUARD_END();
}
