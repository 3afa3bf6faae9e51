/* test_intake_batch: contacts that reach the router together are stored by one intake script
 * call per batch (contact_intake.lua), and each must still be its own atomic step. A burst of
 * contacts is sent without waiting for the acks, against a real redis-server and a real
 * hetki-router; the burst holds the cases where contacts of one batch depend on each other:
 *   - the same dedupe key twice: one contact, the second answer flagged duplicate;
 *   - one new customer in three contacts (the same chat session, one also bringing an email):
 *     one customer, one first contact, two repeat contacts (critical moments), the email
 *     linked to that customer;
 *   - every other contact its own new customer.
 * Then: every new contact is in the index once, queued, with a trail of "received" then
 * "queued"; the events' revs are unique and account for every rev taken; the router made
 * fewer intake calls than it stored contacts (batches formed); the whole burst sent again is
 * answered as duplicates with the same ids and changes nothing. */
#include "hk_test.h"
#include "hk_test_bus.h"
#include "hk_test_guard.h"
#include "hk_test_proc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_T "batch"
#define S_N 200         /* contacts in the burst */
#define S_DUP_A 10      /* S_DUP_A and S_DUP_A + 1 share a dedupe key */
#define S_SHARED 12     /* S_SHARED .. S_SHARED + 2 share a chat session (one customer) */
#define S_NEW (S_N - 1) /* distinct contacts */

static redisContext *s_redis;

typedef struct {
    char corr[64];
    char id[72];
    int duplicate;
    int answered;
    char reasons[512];
} s_sent_t;

static s_sent_t s_sent[S_N];

static void s_contact_of(int i, Hetki__V1__Contact *c, Hetki__V1__CustomerIdentity *cu,
                         char *dedupe, char *session) {
    hetki__v1__customer_identity__init(cu);
    hetki__v1__contact__init(c);
    snprintf(dedupe, 32, "m-%d", i == S_DUP_A + 1 ? S_DUP_A : i);
    snprintf(session, 32, "s-%d", i >= S_SHARED && i <= S_SHARED + 2 ? S_SHARED : i);
    cu->chat_session = session;
    if (i == S_SHARED + 2) {
        cu->entered_email = "kaisa@example.com";
    }
    c->tenant = S_T;
    c->channel = HETKI__V1__CHANNEL__CHANNEL_CHAT;
    c->dedupe_key = dedupe;
    c->language = "en";
    c->text = "my invoice is wrong";
    c->customer = cu;
}

/* Sends the burst without waiting, then collects every ack by correlation id. */
static void s_burst(hk_test_bus_t *bus) {
    for (int i = 0; i < S_N; i++) {
        Hetki__V1__Contact c;
        Hetki__V1__CustomerIdentity cu;
        char dedupe[32], session[32];
        s_contact_of(i, &c, &cu, dedupe, session);
        hk_envelope_t env = HETKI__V1__ENVELOPE__INIT;
        env.body_case = HETKI__V1__ENVELOPE__BODY_CONTACT;
        env.contact = &c;
        HK_CHECK(hk_test_bus_send(bus, &env, s_sent[i].corr, sizeof s_sent[i].corr) == 0, "send %d",
                 i);
        s_sent[i].answered = 0;
    }
    for (int got = 0; got < S_N;) {
        hk_envelope_t *r = hk_test_bus_recv(bus, 10000);
        HK_CHECK(r != NULL, "only %d of %d acks arrived", got, S_N);
        HK_CHECK(r->body_case == HETKI__V1__ENVELOPE__BODY_ACK, "reply is not an ack");
        const Hetki__V1__Ack *a = r->ack;
        HK_CHECK(a->error_code == 0, "ack error %d: %s", (int)a->error_code, a->error_text);
        for (int i = 0; i < S_N; i++) {
            if (!strcmp(s_sent[i].corr, r->correlation_id) && !s_sent[i].answered) {
                s_sent[i].answered = 1;
                snprintf(s_sent[i].id, sizeof s_sent[i].id, "%s", a->contact_id);
                s_sent[i].duplicate = a->duplicate;
                s_sent[i].reasons[0] = '\0';
                for (size_t k = 0; a->decision && k < a->decision->n_reasons; k++) {
                    size_t at = strlen(s_sent[i].reasons);
                    snprintf(s_sent[i].reasons + at, sizeof s_sent[i].reasons - at, "%s,",
                             a->decision->reasons[k]);
                }
                got++;
            }
        }
        hk_codec_free(&r);
    }
}

static long long s_int(const char *fmt, const char *arg) {
    redisReply *r = redisCommand(s_redis, fmt, arg);
    long long v = -1;
    if (r && r->type == REDIS_REPLY_INTEGER) {
        v = r->integer;
    } else if (r && r->type == REDIS_REPLY_STRING) {
        v = atoll(r->str);
    }
    freeReplyObject(r);
    return v;
}

static const char *s_str(const char *fmt, const char *a, const char *b) {
    static char v[4][256];
    static int next;
    char *out = v[next++ % 4];
    redisReply *r = redisCommand(s_redis, fmt, a, b);
    snprintf(out, 256, "%s", r && r->type == REDIS_REPLY_STRING ? r->str : "");
    freeReplyObject(r);
    return out;
}

int main(void) {
    static char dir[64];
    static hk_test_redis_t redis;
    static hk_test_events_t *ev;
    static hk_test_router_t rt;
    hk_test_guard_begin("test_intake_batch", "/tmp/hetki-it-batch-XXXXXX", dir, sizeof dir, 100);
    hk_test_guard_redis(&redis);
    hk_test_guard_router(&rt);
    hk_test_guard_client(&ev, &s_redis);
    HK_CHECK(hk_test_redis_start(&redis) == 0, "redis-server did not start");
    ev = hk_test_events_new();
    HK_CHECK(hk_test_events_subscribe(ev, S_T) == 0, "subscribe");
    HK_CHECK(hk_test_router_start(&rt, "rt-batch", redis.port, dir, NULL, ev) == 0, "router");
    s_redis = hk_test_redis_connect(redis.port);
    size_t mark = hk_test_events_size(ev);

    s_burst(rt.bus);

    /* One contact per dedupe key; the second answer for a key is a duplicate of the first. */
    HK_CHECK_STR_EQ(s_sent[S_DUP_A].id, s_sent[S_DUP_A + 1].id);
    HK_CHECK_INT_EQ(s_sent[S_DUP_A].duplicate + s_sent[S_DUP_A + 1].duplicate, 1);
    HK_CHECK_INT_EQ(s_int("ZCARD hk:{%s}:contacts", S_T), S_NEW);

    /* One customer for the shared session; the first of its contacts is the moment of truth,
     * the others repeat contacts (each a critical moment). */
    const char *cust = s_str("HGET hk:{" S_T "}:contact:%s %s", s_sent[S_SHARED].id, "customer");
    HK_CHECK(cust[0], "no customer on the shared contact");
    char shared[256];
    snprintf(shared, sizeof shared, "%s", cust);
    int firsts = 0, repeats = 0;
    for (int i = S_SHARED; i <= S_SHARED + 2; i++) {
        HK_CHECK_STR_EQ(s_str("HGET hk:{" S_T "}:contact:%s %s", s_sent[i].id, "customer"), shared);
        firsts += strstr(s_sent[i].reasons, "first_contact:moment_of_truth") != NULL;
        repeats += strstr(s_sent[i].reasons, "repeat_contact") != NULL;
    }
    HK_CHECK_INT_EQ(firsts, 1);
    HK_CHECK_INT_EQ(repeats, 2);
    HK_CHECK_INT_EQ(s_int("LLEN hk:{%s}:critical", S_T), 2);
    HK_CHECK_STR_EQ(s_str("GET hk:{" S_T "}:cust:email:%s%s", "kaisa@example.com", ""), shared);
    HK_CHECK_STR_EQ(s_str("HGET hk:{" S_T "}:customer:%s %s", shared, "email"),
                    "kaisa@example.com");
    HK_CHECK_INT_EQ(s_int("ZCARD hk:{" S_T "}:customer:%s:contacts", shared), 3);
    /* Every other contact is its own new customer. */
    HK_CHECK(strcmp(s_str("HGET hk:{" S_T "}:contact:%s %s", s_sent[0].id, "customer"),
                    s_str("HGET hk:{" S_T "}:contact:%s %s", s_sent[1].id, "customer")) != 0,
             "two sessions share a customer");

    /* Each new contact is queued with its trail in order, and each has a contact.queued. */
    for (int i = 0; i < S_N; i++) {
        if (s_sent[i].duplicate) {
            continue;
        }
        HK_CHECK_STR_EQ(s_str("HGET hk:{" S_T "}:contact:%s %s", s_sent[i].id, "state"), "queued");
        HK_CHECK_INT_EQ(s_int("LLEN hk:{" S_T "}:trail:%s", s_sent[i].id), 2);
        HK_CHECK(strstr(s_str("LINDEX hk:{" S_T "}:trail:%s %s", s_sent[i].id, "0"), " received "),
                 "trail of %s does not start with received", s_sent[i].id);
        HK_CHECK(strstr(s_str("LINDEX hk:{" S_T "}:trail:%s %s", s_sent[i].id, "1"), " queued "),
                 "trail of %s does not go on with queued", s_sent[i].id);
        HK_CHECK(hk_test_events_wait(ev, mark, "contact.queued", s_sent[i].id, NULL, 5000) >= 0,
                 "no contact.queued for %s", s_sent[i].id);
    }

    /* Revs: one per script event (queued, critical), unique, and none taken without one. */
    long long last_rev = s_int("GET hk:{%s}:rev", S_T);
    HK_CHECK_INT_EQ(last_rev, S_NEW + 2);
    static char seen[S_NEW + 3];
    for (size_t i = mark; i < hk_test_events_size(ev); i++) {
        const hk_test_event_t *e = hk_test_events_get(ev, i);
        if (strcmp(e->tenant, S_T) || e->rev == 0) {
            continue;
        }
        HK_CHECK(e->rev <= (uint64_t)last_rev, "rev %llu beyond %lld", (unsigned long long)e->rev,
                 last_rev);
        HK_CHECK(!seen[e->rev], "rev %llu twice", (unsigned long long)e->rev);
        seen[e->rev] = 1;
    }
    for (long long r = 1; r <= last_rev; r++) {
        HK_CHECK(seen[r], "no event carries rev %lld", r);
    }

    /* Batches formed: fewer intake calls than contacts stored. */
    long long calls = hk_test_metric(rt.admin_port, "hetki_router_intake_calls_total");
    HK_CHECK(calls > 0 && calls < S_NEW, "intake calls %lld for %d contacts", calls, S_NEW);
    printf("intake: %d contacts in %lld script calls\n", S_N, calls);

    /* The same burst again: duplicates of the same contacts, nothing new. */
    char first_ids[S_N][72];
    for (int i = 0; i < S_N; i++) {
        snprintf(first_ids[i], sizeof first_ids[i], "%s", s_sent[i].id);
    }
    s_burst(rt.bus);
    for (int i = 0; i < S_N; i++) {
        HK_CHECK(s_sent[i].duplicate, "contact %d not answered as a duplicate", i);
        HK_CHECK_STR_EQ(s_sent[i].id, first_ids[i]);
    }
    HK_CHECK_INT_EQ(s_int("ZCARD hk:{%s}:contacts", S_T), S_NEW);
    HK_CHECK_INT_EQ(s_int("GET hk:{%s}:rev", S_T), last_rev);
    HK_CHECK_INT_EQ(s_int("LLEN hk:{%s}:critical", S_T), 2);

    int rc = HK_TEST_GUARD_END();
    printf("intake_batch: ok\n");
    return rc;
}
