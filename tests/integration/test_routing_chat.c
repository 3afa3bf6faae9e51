/* test_routing_chat: the router's side of chat conversations against a real redis-server and
 * a real hetki-router: customer messages stored once in the conversation, "talk to a person"
 * routing a routine contact as personal, agent replies into the conversation and the
 * session's outbox (idempotent by message id), typing relayed, the email for async
 * continuation, and every refusal (wrong session, not the holder, other tenant, malformed,
 * closed contact) answered with an error and no change. */
#include "hk_test.h"
#include "hk_test_bus.h"
#include "hk_test_proc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_T "chatt"

static hk_test_router_t s_rt;
static redisContext *s_redis;

static int s_chat(const char *tenant, const char *sender, const char *contact, const char *session,
                  const char *mid, Hetki__V1__ChatKind kind, const char *agent, const char *text,
                  hk_test_reply_t *out) {
    Hetki__V1__ChatMessage m = HETKI__V1__CHAT_MESSAGE__INIT;
    m.tenant = (char *)tenant;
    m.sender = (char *)sender;
    m.contact_id = (char *)contact;
    m.session_id = (char *)session;
    m.message_id = (char *)mid;
    m.kind = kind;
    m.agent_id = (char *)agent;
    m.text = (char *)text;
    hk_envelope_t env = HETKI__V1__ENVELOPE__INIT;
    env.body_case = HETKI__V1__ENVELOPE__BODY_CHAT_MESSAGE;
    env.chat_message = &m;
    hk_envelope_t *reply = hk_test_bus_request(s_rt.bus, &env, 5000);
    hk_test_reply_from(reply, out);
    hk_codec_free(&reply);
    return out->answered ? (int)out->code : -1;
}

static long long s_llen(const char *fmt, const char *arg) {
    char k[200];
    snprintf(k, sizeof k, fmt, arg);
    redisReply *r = redisCommand(s_redis, "LLEN %s", k);
    long long n = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    freeReplyObject(r);
    return n;
}

static char *s_hget(const char *id, const char *field) {
    static char v[256];
    redisReply *r = redisCommand(s_redis, "HGET hk:{" S_T "}:contact:%s %s", id, field);
    snprintf(v, sizeof v, "%s", r && r->type == REDIS_REPLY_STRING ? r->str : "");
    freeReplyObject(r);
    return v;
}

static void s_agent(const char *id) {
    Hetki__V1__AgentProfile p = HETKI__V1__AGENT_PROFILE__INIT;
    char *langs[] = {"en"};
    Hetki__V1__Channel chans[] = {HETKI__V1__CHANNEL__CHANNEL_CHAT};
    p.tenant = S_T;
    p.agent_id = (char *)id;
    p.display_name = "Anna Agent";
    p.n_languages = 1;
    p.languages = langs;
    p.n_channels = 1;
    p.channels = chans;
    hk_test_reply_t r;
    HK_CHECK(hk_test_bus_profile(s_rt.bus, &p, &r, 5000) == 0, "profile: %s", r.text);
    Hetki__V1__AgentCommand c = HETKI__V1__AGENT_COMMAND__INIT;
    c.tenant = S_T;
    c.agent_id = (char *)id;
    c.kind = HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_AVAILABLE;
    HK_CHECK(hk_test_bus_command(s_rt.bus, &c, &r, 5000) == 0, "available: %s", r.text);
}

static void s_command(Hetki__V1__AgentCommandKind kind, const char *contact) {
    Hetki__V1__AgentCommand c = HETKI__V1__AGENT_COMMAND__INIT;
    hk_test_reply_t r;
    c.tenant = S_T;
    c.agent_id = "anna";
    c.contact_id = (char *)contact;
    c.kind = kind;
    c.wrap_code = "done";
    HK_CHECK(hk_test_bus_command(s_rt.bus, &c, &r, 5000) == 0, "command %d: %s", (int)kind, r.text);
}

int main(void) {
    char dir[] = "/tmp/hetki-it-chat-XXXXXX";
    HK_CHECK(mkdtemp(dir), "mkdtemp");
    hk_test_redis_t redis;
    HK_CHECK(hk_test_redis_start(&redis) == 0, "redis-server did not start");
    hk_test_events_t *ev = hk_test_events_new();
    HK_CHECK(hk_test_events_subscribe(ev, S_T) == 0, "subscribe");
    HK_CHECK(hk_test_router_start(&s_rt, "rt-chat", redis.port, dir, NULL, ev) == 0, "router");
    s_redis = hk_test_redis_connect(redis.port);

    /* The first message is the contact; then it goes into the conversation. */
    Hetki__V1__CustomerIdentity cu = HETKI__V1__CUSTOMER_IDENTITY__INIT;
    cu.chat_session = "s1";
    Hetki__V1__Contact c = HETKI__V1__CONTACT__INIT;
    c.tenant = S_T;
    c.channel = HETKI__V1__CHANNEL__CHANNEL_CHAT;
    c.dedupe_key = "m1";
    c.text = "where is my parcel";
    c.language = "en";
    c.customer = &cu;
    char cid[64];
    HK_CHECK(hk_test_bus_submit(s_rt.bus, &c, cid, sizeof cid, NULL, 0) == 0, "contact not acked");
    HK_CHECK_STR_EQ(s_hget(cid, "class"), "routine");
    hk_test_reply_t r;
    HK_CHECK_INT_EQ(s_chat(S_T, "customer", cid, "s1", "m1",
                           HETKI__V1__CHAT_KIND__CHAT_KIND_MESSAGE, "", "where is my parcel", &r),
                    0);
    HK_CHECK_INT_EQ(s_llen("hk:{" S_T "}:conv:%s", cid), 1);

    /* "Talk to a person": the routine contact is routed as personal to the human chat. */
    HK_CHECK_INT_EQ(s_chat(S_T, "customer", cid, "s1", "p1", HETKI__V1__CHAT_KIND__CHAT_KIND_PERSON,
                           "", "", &r),
                    0);
    HK_CHECK_STR_EQ(s_hget(cid, "class"), "personal");
    HK_CHECK_STR_EQ(s_hget(cid, "queue"), "human_chat");
    HK_CHECK_STR_EQ(s_hget(cid, "state"), "queued");
    HK_CHECK(strstr(s_hget(cid, "reasons"), "choice:talk_to_person") != NULL, "no reason");
    HK_CHECK(hk_test_events_wait(ev, 0, "chat.person", cid, NULL, 3000) >= 0,
             "no chat.person event");

    /* An agent takes it; messages both ways. */
    s_agent("anna");
    HK_CHECK(hk_test_events_wait(ev, 0, "contact.offered", cid, NULL, 3000) >= 0, "not offered");
    s_command(HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_ACCEPT, cid);
    size_t mark = hk_test_events_size(ev);
    HK_CHECK_INT_EQ(s_chat(S_T, "customer", cid, "s1", "m2",
                           HETKI__V1__CHAT_KIND__CHAT_KIND_MESSAGE, "", "it was due yesterday", &r),
                    0);
    HK_CHECK(hk_test_events_wait(ev, mark, "chat.message", cid, NULL, 3000) >= 0,
             "no chat.message");
    HK_CHECK_INT_EQ(s_chat(S_T, "agent", cid, "", "a1", HETKI__V1__CHAT_KIND__CHAT_KIND_MESSAGE,
                           "anna", "I am looking into it", &r),
                    0);
    HK_CHECK_INT_EQ(s_llen("hk:{" S_T "}:conv:%s", cid), 3);
    HK_CHECK_INT_EQ(s_llen("hk:{" S_T "}:outbox:%s", "s1"), 1);
    redisReply *o = redisCommand(s_redis, "LINDEX hk:{" S_T "}:outbox:s1 0");
    HK_CHECK(o && o->type == REDIS_REPLY_STRING && strstr(o->str, "\"name\":\"Anna Agent\"") &&
                 strstr(o->str, "I am looking into it"),
             "outbox entry: %s", o && o->str ? o->str : "-");
    freeReplyObject(o);
    /* The same message ids again: stored once. */
    HK_CHECK_INT_EQ(s_chat(S_T, "agent", cid, "", "a1", HETKI__V1__CHAT_KIND__CHAT_KIND_MESSAGE,
                           "anna", "I am looking into it", &r),
                    0);
    HK_CHECK_INT_EQ(s_chat(S_T, "customer", cid, "s1", "m2",
                           HETKI__V1__CHAT_KIND__CHAT_KIND_MESSAGE, "", "it was due yesterday", &r),
                    0);
    HK_CHECK_INT_EQ(s_llen("hk:{" S_T "}:conv:%s", cid), 3);
    HK_CHECK_INT_EQ(s_llen("hk:{" S_T "}:outbox:%s", "s1"), 1);
    /* Typing is relayed, not stored. */
    mark = hk_test_events_size(ev);
    HK_CHECK_INT_EQ(
        s_chat(S_T, "agent", cid, "", "t1", HETKI__V1__CHAT_KIND__CHAT_KIND_TYPING, "anna", "", &r),
        0);
    HK_CHECK(hk_test_events_wait(ev, mark, "chat.typing", cid, NULL, 3000) >= 0, "no chat.typing");
    HK_CHECK_INT_EQ(s_llen("hk:{" S_T "}:conv:%s", cid), 3);

    /* Refusals change nothing. */
    struct {
        const char *tenant, *sender, *session, *agent, *text;
        Hetki__V1__ChatKind kind;
        Hetki__V1__ErrorCode want;
    } bad[] = {
        {S_T, "customer", "s2", "", "hi", HETKI__V1__CHAT_KIND__CHAT_KIND_MESSAGE,
         HETKI__V1__ERROR_CODE__ERROR_NOT_YOURS},
        {S_T, "agent", "", "bob", "hi", HETKI__V1__CHAT_KIND__CHAT_KIND_MESSAGE,
         HETKI__V1__ERROR_CODE__ERROR_NOT_YOURS},
        {"other", "customer", "s1", "", "hi", HETKI__V1__CHAT_KIND__CHAT_KIND_MESSAGE,
         HETKI__V1__ERROR_CODE__ERROR_NOT_FOUND},
        {S_T, "customer", "s1", "", "", HETKI__V1__CHAT_KIND__CHAT_KIND_MESSAGE,
         HETKI__V1__ERROR_CODE__ERROR_INVALID},
        {S_T, "customer", "s1", "", "not an address", HETKI__V1__CHAT_KIND__CHAT_KIND_EMAIL,
         HETKI__V1__ERROR_CODE__ERROR_INVALID},
        {S_T, "robot", "s1", "", "hi", HETKI__V1__CHAT_KIND__CHAT_KIND_MESSAGE,
         HETKI__V1__ERROR_CODE__ERROR_INVALID},
        {S_T, "customer", "s1", "", "hi", (Hetki__V1__ChatKind)42,
         HETKI__V1__ERROR_CODE__ERROR_INVALID},
        {S_T, "agent", "", "anna", "hi", HETKI__V1__CHAT_KIND__CHAT_KIND_PERSON,
         HETKI__V1__ERROR_CODE__ERROR_INVALID},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char mid[16];
        snprintf(mid, sizeof mid, "bad%zu", i);
        HK_CHECK_INT_EQ(s_chat(bad[i].tenant, bad[i].sender, cid, bad[i].session, mid, bad[i].kind,
                               bad[i].agent, bad[i].text, &r),
                        bad[i].want);
    }
    HK_CHECK_INT_EQ(s_llen("hk:{" S_T "}:conv:%s", cid), 3);
    HK_CHECK_INT_EQ(s_llen("hk:{" S_T "}:outbox:%s", "s1"), 1);

    /* The email to continue by: stored on the contact. */
    HK_CHECK_INT_EQ(s_chat(S_T, "customer", cid, "s1", "e1", HETKI__V1__CHAT_KIND__CHAT_KIND_EMAIL,
                           "", "maija@example.fi", &r),
                    0);
    HK_CHECK_STR_EQ(s_hget(cid, "continue_email"), "maija@example.fi");

    /* Closed: a customer message for it is refused with ERROR_STATE (the chat service then
     * starts a new contact). */
    s_command(HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_PROPOSE_RESOLUTION, cid);
    Hetki__V1__CustomerConfirm cc = HETKI__V1__CUSTOMER_CONFIRM__INIT;
    cc.tenant = S_T;
    cc.contact_id = cid;
    cc.confirmed = 1;
    HK_CHECK(hk_test_bus_confirm(s_rt.bus, &cc, &r, 5000) == 0, "confirm: %s", r.text);
    HK_CHECK_STR_EQ(s_hget(cid, "state"), "closed");
    HK_CHECK_INT_EQ(s_chat(S_T, "customer", cid, "s1", "m3",
                           HETKI__V1__CHAT_KIND__CHAT_KIND_MESSAGE, "", "one more thing", &r),
                    HETKI__V1__ERROR_CODE__ERROR_STATE);
    HK_CHECK_INT_EQ(s_llen("hk:{" S_T "}:conv:%s", cid), 3);

    redisFree(s_redis);
    HK_CHECK(hk_test_router_stop(&s_rt, 10000) == 0, "router did not stop cleanly");
    hk_test_events_destroy(&ev);
    hk_test_redis_stop(&redis);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    HK_CHECK(system(cmd) == 0, "cleanup");
    printf("chat routing: conversation, person, replies, outbox, refusals ok\n");
    return 0;
}
