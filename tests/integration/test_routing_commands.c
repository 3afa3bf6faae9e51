/* test_routing_commands: agent commands and customer answers over the real bus, against a
 * real hetki-router and redis-server. Every bad command (unknown ids, another tenant's
 * contact, someone else's offer, the wrong state, impossible transfers, malformed envelopes)
 * must get an error reply and change nothing: each case snapshots all of the tenant's keys
 * before and after and compares them. A resent command (same command_id) returns the first
 * reply and changes nothing more, and the happy path accept -> propose -> customer confirm ->
 * wrap-up works. The router runs on a virtual clock that the test never moves, so no lease
 * or window can expire between a snapshot and the next. */
#include "hk_test.h"
#include "hk_test_bus.h"
#include "hk_test_guard.h"
#include "hk_test_proc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_T0 1700000000000LL
#define S_REPLY_MS 5000
#define S_WAIT_MS 5000
#define S_DEADLINE_S 180

static char s_dir[256];
static hk_test_redis_t s_redis;
static hk_test_router_t s_router;
static redisContext *s_rc;
static hk_test_events_t *s_ev;
static unsigned long s_cmd_seq;
static char s_c1[72], s_c2[72], s_c3[72]; /* held by a-1, offered to a-1, held by a-full */

/* ------------------------------------------------------------------------------------- */
/* Snapshots of a tenant's keys                                                           */

typedef struct {
    char *buf;
    size_t len, cap;
} s_text_t;

static void s_put(s_text_t *t, const char *fmt, ...) {
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        HK_CHECK(n >= 0, "vsnprintf");
        if (t->buf && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        t->cap = (t->cap + (size_t)n + 1) * 2;
        t->buf = realloc(t->buf, t->cap);
        HK_CHECK(t->buf, "out of memory");
    }
}

static int s_cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends the elements of an array reply, sorted (pairs joined as "a=b" when pairs). */
static void s_put_sorted(s_text_t *t, const redisReply *r, int pairs) {
    size_t n = pairs ? r->elements / 2 : r->elements;
    char **items = calloc(n ? n : 1, sizeof *items);
    HK_CHECK(items, "out of memory");
    for (size_t i = 0; i < n; i++) {
        s_text_t one = {0};
        if (pairs) {
            s_put(&one, "%s=%s", r->element[2 * i]->str, r->element[2 * i + 1]->str);
        } else {
            s_put(&one, "%s", r->element[i]->str);
        }
        items[i] = one.buf;
    }
    qsort(items, n, sizeof *items, s_cmp_str);
    for (size_t i = 0; i < n; i++) {
        s_put(t, "  %s\n", items[i]);
        free(items[i]);
    }
    free(items);
}

/* Every key of the tenant with its whole value, in a stable order. Command replies kept for
 * resends (hk:{t}:cmd:<id>) are left out: remembering an answer is not a change of state. */
static char *s_snapshot(const char *tenant) {
    redisReply *keys = redisCommand(s_rc, "KEYS hk:{%s}:*", tenant);
    HK_CHECK(keys && keys->type == REDIS_REPLY_ARRAY, "KEYS");
    char **sorted = calloc(keys->elements ? keys->elements : 1, sizeof *sorted);
    HK_CHECK(sorted, "out of memory");
    size_t n = 0;
    char cmd_prefix[64];
    snprintf(cmd_prefix, sizeof cmd_prefix, "hk:{%s}:cmd:", tenant);
    for (size_t i = 0; i < keys->elements; i++) {
        if (strncmp(keys->element[i]->str, cmd_prefix, strlen(cmd_prefix)) != 0) {
            sorted[n++] = keys->element[i]->str;
        }
    }
    qsort(sorted, n, sizeof *sorted, s_cmp_str);
    s_text_t t = {0};
    s_put(&t, "");
    for (size_t i = 0; i < n; i++) {
        const char *k = sorted[i];
        redisReply *type = redisCommand(s_rc, "TYPE %s", k);
        HK_CHECK(type && type->type == REDIS_REPLY_STATUS, "TYPE %s", k);
        s_put(&t, "%s (%s)\n", k, type->str);
        redisReply *v = NULL;
        if (!strcmp(type->str, "string")) {
            v = redisCommand(s_rc, "GET %s", k);
            s_put(&t, "  %s\n", v && v->type == REDIS_REPLY_STRING ? v->str : "?");
        } else if (!strcmp(type->str, "hash")) {
            v = redisCommand(s_rc, "HGETALL %s", k);
            s_put_sorted(&t, v, 1);
        } else if (!strcmp(type->str, "set")) {
            v = redisCommand(s_rc, "SMEMBERS %s", k);
            s_put_sorted(&t, v, 0);
        } else if (!strcmp(type->str, "zset")) {
            v = redisCommand(s_rc, "ZRANGE %s 0 -1 WITHSCORES", k);
            for (size_t j = 0; j + 1 < v->elements; j += 2) {
                s_put(&t, "  %s %s\n", v->element[j]->str, v->element[j + 1]->str);
            }
        } else if (!strcmp(type->str, "list")) {
            v = redisCommand(s_rc, "LRANGE %s 0 -1", k);
            for (size_t j = 0; j < v->elements; j++) {
                s_put(&t, "  %s\n", v->element[j]->str);
            }
        }
        freeReplyObject(v);
        freeReplyObject(type);
    }
    free(sorted);
    freeReplyObject(keys);
    return t.buf;
}

/* Fails with the first differing line when the snapshots differ. */
static void s_check_same(const char *what, const char *tenant, const char *before,
                         const char *after) {
    if (!strcmp(before, after)) {
        return;
    }
    const char *b = before, *a = after;
    while (*b && *b == *a) {
        b++;
        a++;
    }
    while (b > before && b[-1] != '\n') {
        b--;
        a--;
    }
    fprintf(stderr, "%s changed tenant %s; first difference:\n  before: %.*s\n  after:  %.*s\n",
            what, tenant, (int)strcspn(b, "\n"), b, (int)strcspn(a, "\n"), a);
    HK_CHECK(0, "%s changed the state in Redis", what);
}

/* ------------------------------------------------------------------------------------- */
/* Bus helpers                                                                            */

static const char *s_hget(const char *key, const char *field) {
    static char bufs[8][512];
    static int next;
    char *out = bufs[next++ % 8];
    out[0] = '\0';
    redisReply *r = redisCommand(s_rc, "HGET %s %s", key, field);
    HK_CHECK(r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_NIL), "HGET %s", key);
    if (r->type == REDIS_REPLY_STRING) {
        snprintf(out, sizeof bufs[0], "%s", r->str);
    }
    freeReplyObject(r);
    return out;
}

static void s_register(const char *tenant, const char *aid, int capacity) {
    Hetki__V1__AgentProfile p = HETKI__V1__AGENT_PROFILE__INIT;
    char *langs[] = {"en"};
    Hetki__V1__Channel channel = HETKI__V1__CHANNEL__CHANNEL_CHAT;
    p.tenant = (char *)tenant;
    p.agent_id = (char *)aid;
    p.display_name = (char *)aid;
    p.n_languages = 1;
    p.languages = langs;
    p.n_channels = 1;
    p.channels = &channel;
    p.capacity = capacity;
    hk_test_reply_t r;
    HK_CHECK(hk_test_bus_profile(s_router.bus, &p, &r, S_REPLY_MS) == 0, "register %s: %s", aid,
             r.text);
}

static void s_cmd_init(Hetki__V1__AgentCommand *cmd, char *idbuf, size_t idlen, const char *tenant,
                       const char *aid, Hetki__V1__AgentCommandKind kind, const char *cid) {
    Hetki__V1__AgentCommand init = HETKI__V1__AGENT_COMMAND__INIT;
    *cmd = init;
    snprintf(idbuf, idlen, "cmd-%lu", ++s_cmd_seq);
    cmd->command_id = idbuf;
    cmd->tenant = (char *)tenant;
    cmd->agent_id = (char *)aid;
    cmd->kind = kind;
    cmd->contact_id = (char *)(cid ? cid : "");
}

static hk_test_reply_t s_agent_ok(const char *tenant, const char *aid,
                                  Hetki__V1__AgentCommandKind kind, const char *cid) {
    Hetki__V1__AgentCommand cmd;
    char id[32];
    s_cmd_init(&cmd, id, sizeof id, tenant, aid, kind, cid);
    hk_test_reply_t r;
    HK_CHECK(hk_test_bus_command(s_router.bus, &cmd, &r, S_REPLY_MS) == 0,
             "%s: command %d on %s refused: %s", aid, (int)kind, cid ? cid : "-", r.text);
    return r;
}

/* Submits an urgent chat contact and waits until it is offered to aid (NULL: stays queued). */
static void s_submit(const char *tenant, const char *key, const char *aid, char *id, size_t idlen) {
    size_t mark = hk_test_events_size(s_ev);
    char target[32];
    HK_CHECK(hk_test_bus_urgent_chat(s_router.bus, tenant, key, NULL, "en", "Please call me", id,
                                     idlen, target, sizeof target) == 0,
             "contact %s not acked", key);
    if (aid) {
        HK_CHECK(hk_test_events_wait(s_ev, mark, "contact.offered", id, aid, S_WAIT_MS) >= 0,
                 "%s was not offered to %s", key, aid);
        char k[160];
        snprintf(k, sizeof k, "hk:{%s}:contact:%s", tenant, id);
        HK_CHECK_STR_EQ(s_hget(k, "offer_agent"), aid);
    }
}

/* ------------------------------------------------------------------------------------- */
/* Bad commands                                                                           */

typedef struct {
    const char *what;
    const char *tenant;
    const char *agent;
    Hetki__V1__AgentCommandKind kind;
    const char *contact; /* "@1", "@2", "@3": the contacts made in setup */
    const char *to_queue, *to_agent, *note, *wrap_code, *reason, *command_id;
    Hetki__V1__ErrorCode want;
    const char *needle; /* in the error text */
} s_case_t;

static const char *s_resolve(const char *c) {
    if (!c) {
        return "";
    }
    return !strcmp(c, "@1") ? s_c1 : !strcmp(c, "@2") ? s_c2 : !strcmp(c, "@3") ? s_c3 : c;
}

/* Runs one bad command and checks its error reply and that no key of tenants a or b
 * changed. */
static void s_bad(const s_case_t *k) {
    char *before_a = s_snapshot("a"), *before_b = s_snapshot("b");
    Hetki__V1__AgentCommand cmd;
    char id[32];
    s_cmd_init(&cmd, id, sizeof id, k->tenant, k->agent, k->kind, s_resolve(k->contact));
    cmd.to_queue = (char *)(k->to_queue ? k->to_queue : "");
    cmd.to_agent = (char *)(k->to_agent ? k->to_agent : "");
    cmd.note = (char *)(k->note ? k->note : "");
    cmd.wrap_code = (char *)(k->wrap_code ? k->wrap_code : "");
    cmd.reason = (char *)(k->reason ? k->reason : "");
    if (k->command_id) {
        cmd.command_id = (char *)k->command_id;
    }
    hk_test_reply_t r;
    HK_CHECK(hk_test_bus_command(s_router.bus, &cmd, &r, S_REPLY_MS) >= 0, "%s: no reply", k->what);
    HK_EXPECT(r.code == k->want, "%s: error code %d (%s), expected %d", k->what, (int)r.code,
              r.text, (int)k->want);
    if (k->needle) {
        HK_EXPECT(strstr(r.text, k->needle) != NULL, "%s: error text \"%s\" lacks \"%s\"", k->what,
                  r.text, k->needle);
    }
    char *after_a = s_snapshot("a"), *after_b = s_snapshot("b");
    s_check_same(k->what, "a", before_a, after_a);
    s_check_same(k->what, "b", before_b, after_b);
    free(before_a);
    free(before_b);
    free(after_a);
    free(after_b);
}

static void s_test_bad_commands(void) {
    static char long_id[70], long_text[1100], spaced[] = "a 1";
    memset(long_id, 'x', 65);
    memset(long_text, 'n', 1025);
    const Hetki__V1__ErrorCode invalid = HETKI__V1__ERROR_CODE__ERROR_INVALID,
                               not_found = HETKI__V1__ERROR_CODE__ERROR_NOT_FOUND,
                               not_yours = HETKI__V1__ERROR_CODE__ERROR_NOT_YOURS,
                               state = HETKI__V1__ERROR_CODE__ERROR_STATE,
                               capacity = HETKI__V1__ERROR_CODE__ERROR_CAPACITY;
    const Hetki__V1__AgentCommandKind
        avail = HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_AVAILABLE,
        offline = HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_OFFLINE,
        pause = HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_PAUSE,
        accept = HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_ACCEPT,
        decline = HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_DECLINE,
        transfer = HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_TRANSFER,
        propose = HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_PROPOSE_RESOLUTION,
        wrapup = HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_WRAP_UP;
    const s_case_t cases[] = {
        {"accept an unknown contact", "a", "a-1", accept, "NOSUCHCONTACT", .want = not_found,
         .needle = "unknown contact"},
        {"propose an unknown contact", "a", "a-1", propose, "NOSUCHCONTACT", .want = not_found},
        {"wrap up an unknown contact", "a", "a-1", wrapup, "NOSUCHCONTACT", .wrap_code = "x",
         .want = not_found},
        {"transfer an unknown contact", "a", "a-1", transfer, "NOSUCHCONTACT",
         .to_queue = "human_chat", .want = not_found},
        {"an unknown agent accepts", "a", "ghost", accept, "@2", .want = not_found,
         .needle = "unknown agent"},
        {"an unknown agent goes available", "a", "ghost", avail, NULL, .want = not_found},
        {"an unknown agent pauses", "a", "ghost", pause, NULL, .reason = "lunch",
         .want = not_found},
        {"tenant b's agent accepts tenant a's offer", "b", "b-1", accept, "@2", .want = not_found},
        {"tenant b's agent proposes for tenant a's contact", "b", "b-1", propose, "@1",
         .want = not_found},
        {"tenant b's agent transfers tenant a's contact", "b", "b-1", transfer, "@1",
         .to_queue = "human_chat", .want = not_found},
        {"a tenant a agent named in tenant b", "b", "a-1", accept, "@2", .want = not_found},
        {"accept an offer made to someone else", "a", "a-2", accept, "@2", .want = not_yours},
        {"decline an offer made to someone else", "a", "a-2", decline, "@2", .want = not_yours},
        {"propose for a contact someone else holds", "a", "a-2", propose, "@1", .want = not_yours},
        {"wrap up a contact someone else holds", "a", "a-2", wrapup, "@1", .wrap_code = "x",
         .want = not_yours},
        {"transfer a contact someone else holds", "a", "a-2", transfer, "@1",
         .to_queue = "human_chat", .want = not_yours},
        {"wrap up before proposing a resolution", "a", "a-1", wrapup, "@1", .wrap_code = "done",
         .want = state},
        {"propose for a contact only offered", "a", "a-1", propose, "@2", .want = not_yours},
        {"transfer to an unknown queue", "a", "a-1", transfer, "@1", .to_queue = "nosuchqueue",
         .want = not_found, .needle = "unknown queue"},
        {"transfer to an unknown agent", "a", "a-1", transfer, "@1", .to_agent = "ghost",
         .want = not_found},
        {"transfer to tenant b's agent", "a", "a-1", transfer, "@1", .to_agent = "b-1",
         .want = not_found},
        {"transfer to self", "a", "a-1", transfer, "@1", .to_agent = "a-1", .want = invalid},
        {"transfer to a full agent", "a", "a-1", transfer, "@1", .to_agent = "a-full",
         .want = capacity},
        {"transfer to both a queue and an agent", "a", "a-1", transfer, "@1",
         .to_queue = "human_chat", .to_agent = "a-2", .want = invalid},
        {"transfer to nobody", "a", "a-1", transfer, "@1", .want = invalid},
        {"go offline while holding contacts", "a", "a-1", offline, NULL, .want = state},
        {"pause while offline", "a", "a-2", pause, NULL, .reason = "lunch", .want = state},
        {"unspecified command kind", "a", "a-1",
         HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_UNSPECIFIED, "@1", .want = invalid},
        {"unknown command kind 99", "a", "a-1", (Hetki__V1__AgentCommandKind)99, "@1",
         .want = invalid},
        {"agent_id with spaces", "a", spaced, accept, "@2", .want = invalid},
        {"agent_id of 65 characters", "a", long_id, accept, "@2", .want = invalid},
        {"empty agent_id", "a", "", avail, NULL, .want = invalid},
        {"contact_id of 65 characters", "a", "a-1", accept, long_id, .want = invalid},
        {"contact_id missing", "a", "a-1", accept, NULL, .want = invalid},
        {"command_id of 65 characters", "a", "a-1", accept, "@2", .command_id = long_id,
         .want = invalid},
        {"pause reason of 65 bytes", "a", "a-1", pause, NULL, .reason = long_id, .want = invalid},
        {"wrap_code of 65 bytes", "a", "a-1", wrapup, "@1", .wrap_code = long_id, .want = invalid},
        {"wrap-up without a code", "a", "a-1", wrapup, "@1", .want = invalid},
        {"transfer note of 1025 bytes", "a", "a-1", transfer, "@1", .to_queue = "human_chat",
         .note = long_text, .want = invalid},
        {"tenant with capitals", "A", "a-1", accept, "@2", .want = invalid},
        {"empty tenant", "", "a-1", accept, "@2", .want = invalid},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        s_bad(&cases[i]);
    }
    printf("bad commands: %zu cases answered with errors, nothing changed\n",
           sizeof cases / sizeof cases[0]);
}

/* A bad customer answer: error reply, nothing changes. */
static void s_bad_confirm(const char *what, const char *tenant, const char *cid,
                          Hetki__V1__ErrorCode want) {
    char *before = s_snapshot("a");
    Hetki__V1__CustomerConfirm cc = HETKI__V1__CUSTOMER_CONFIRM__INIT;
    char id[32];
    snprintf(id, sizeof id, "cc-%lu", ++s_cmd_seq);
    cc.command_id = id;
    cc.tenant = (char *)tenant;
    cc.contact_id = (char *)cid;
    cc.confirmed = 1;
    hk_test_reply_t r;
    HK_CHECK(hk_test_bus_confirm(s_router.bus, &cc, &r, S_REPLY_MS) >= 0, "%s: no reply", what);
    HK_EXPECT(r.code == want, "%s: error code %d (%s), expected %d", what, (int)r.code, r.text,
              (int)want);
    char *after = s_snapshot("a");
    s_check_same(what, "a", before, after);
    free(before);
    free(after);
}

/* Raw frames that are not a valid request: an error reply (an Ack), nothing changes. */
static void s_bad_raw(const char *what, const void *data, size_t len, int with_delimiter,
                      const char *needle) {
    char *before = s_snapshot("a");
    hk_envelope_t *reply = hk_test_bus_raw(s_router.bus, data, len, with_delimiter, S_REPLY_MS);
    hk_test_reply_t r;
    hk_test_reply_from(reply, &r);
    hk_codec_free(&reply);
    HK_EXPECT(r.answered && r.code == HETKI__V1__ERROR_CODE__ERROR_INVALID,
              "%s: answered=%d code %d (%s), expected ERROR_INVALID", what, r.answered, (int)r.code,
              r.text);
    if (needle) {
        HK_EXPECT(strstr(r.text, needle) != NULL, "%s: error text \"%s\" lacks \"%s\"", what,
                  r.text, needle);
    }
    char *after = s_snapshot("a");
    s_check_same(what, "a", before, after);
    free(before);
    free(after);
}

static void s_test_malformed(void) {
    s_bad_confirm("confirm an unknown contact", "a", "NOSUCHCONTACT",
                  HETKI__V1__ERROR_CODE__ERROR_NOT_FOUND);
    s_bad_confirm("confirm a contact with no proposal", "a", s_c1,
                  HETKI__V1__ERROR_CODE__ERROR_STATE);
    s_bad_confirm("confirm tenant a's contact as tenant b", "b", s_c1,
                  HETKI__V1__ERROR_CODE__ERROR_NOT_FOUND);
    s_bad_confirm("confirm with a contact_id with spaces", "a", "a contact",
                  HETKI__V1__ERROR_CODE__ERROR_INVALID);

    s_bad_raw("garbage bytes", "\x01\x02garbage\xff", 10, 1, NULL);
    s_bad_raw("no delimiter frame", "no delimiter", 12, 0, "delimiter");

    /* A well-formed command without a correlation id. */
    Hetki__V1__AgentCommand cmd;
    char id[32];
    s_cmd_init(&cmd, id, sizeof id, "a", "a-1",
               HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_OFFLINE, NULL);
    hk_envelope_t env = HETKI__V1__ENVELOPE__INIT;
    env.version = HK_CODEC_VERSION;
    env.body_case = HETKI__V1__ENVELOPE__BODY_AGENT_COMMAND;
    env.agent_command = &cmd;
    uint8_t *frame = NULL;
    size_t len = 0;
    HK_CHECK(hk_codec_encode(&env, &frame, &len) == 0, "encode");
    s_bad_raw("missing correlation id", frame, len, 1, "correlation_id");
    free(frame);
    /* The same with a wrong protocol version. */
    env.version = 7;
    env.correlation_id = "corr-v7";
    HK_CHECK(hk_codec_encode(&env, &frame, &len) == 0, "encode");
    s_bad_raw("wrong envelope version", frame, len, 1, NULL);
    free(frame);
    /* An envelope with no body. */
    hk_envelope_t empty = HETKI__V1__ENVELOPE__INIT;
    empty.version = HK_CODEC_VERSION;
    empty.correlation_id = "corr-empty";
    HK_CHECK(hk_codec_encode(&empty, &frame, &len) == 0, "encode");
    s_bad_raw("envelope without a body", frame, len, 1, NULL);
    free(frame);
    /* A body the request socket does not take (an Ack). */
    Hetki__V1__Ack ack = HETKI__V1__ACK__INIT;
    empty.body_case = HETKI__V1__ENVELOPE__BODY_ACK;
    empty.ack = &ack;
    empty.correlation_id = "corr-ack";
    HK_CHECK(hk_codec_encode(&empty, &frame, &len) == 0, "encode");
    s_bad_raw("an ack sent as a request", frame, len, 1, "unexpected message type");
    free(frame);
    /* Unknown field 111 after version 1. */
    static const uint8_t unknown[] = {0x08, 0x01, 0xf8, 0x06, 0x01};
    s_bad_raw("unknown field", unknown, sizeof unknown, 1, "unknown field");
    /* A profile with a bad agent id. */
    char *before = s_snapshot("a");
    Hetki__V1__AgentProfile p = HETKI__V1__AGENT_PROFILE__INIT;
    p.tenant = "a";
    p.agent_id = "has space";
    hk_test_reply_t r;
    HK_EXPECT(hk_test_bus_profile(s_router.bus, &p, &r, S_REPLY_MS) ==
                  HETKI__V1__ERROR_CODE__ERROR_INVALID,
              "profile with a spaced agent_id: %d %s", (int)r.code, r.text);
    char *after = s_snapshot("a");
    s_check_same("profile with a spaced agent_id", "a", before, after);
    free(before);
    free(after);
    printf("malformed requests: error replies, nothing changed\n");
}

/* ------------------------------------------------------------------------------------- */
/* Resends and the happy path                                                             */

static int s_same_reply(const hk_test_reply_t *x, const hk_test_reply_t *y) {
    return x->code == y->code && !strcmp(x->text, y->text) &&
           !strcmp(x->agent_state, y->agent_state) && !strcmp(x->contact_state, y->contact_state);
}

static void s_test_resend_and_happy_path(void) {
    char ck[160];
    snprintf(ck, sizeof ck, "hk:{a}:contact:%s", s_c1);
    /* A resent error: the same answer, nothing changes. */
    Hetki__V1__AgentCommand cmd;
    char id[32];
    s_cmd_init(&cmd, id, sizeof id, "a", "a-2", HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_ACCEPT,
               s_c2);
    hk_test_reply_t first, again;
    HK_CHECK(hk_test_bus_command(s_router.bus, &cmd, &first, S_REPLY_MS) ==
                 HETKI__V1__ERROR_CODE__ERROR_NOT_YOURS,
             "accept someone else's offer: %s", first.text);
    char *before = s_snapshot("a");
    HK_CHECK(hk_test_bus_command(s_router.bus, &cmd, &again, S_REPLY_MS) >= 0, "resend");
    HK_CHECK(s_same_reply(&first, &again), "a resent error got another answer: %d %s", again.code,
             again.text);
    char *after = s_snapshot("a");
    s_check_same("a resent refused accept", "a", before, after);
    free(before);
    free(after);

    /* Propose, resent: the first answer again, no second event, no change. */
    size_t mark = hk_test_events_size(s_ev);
    s_cmd_init(&cmd, id, sizeof id, "a", "a-1",
               HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_PROPOSE_RESOLUTION, s_c1);
    before = s_snapshot("a");
    HK_CHECK(hk_test_bus_command(s_router.bus, &cmd, &first, S_REPLY_MS) == 0, "propose: %s",
             first.text);
    HK_CHECK_STR_EQ(first.contact_state, "resolution_proposed");
    HK_CHECK_STR_EQ(first.agent_state, "wrap_up");
    after = s_snapshot("a");
    HK_CHECK(strcmp(before, after) != 0, "the snapshot does not see a successful command");
    free(before);
    free(after);
    HK_CHECK(
        hk_test_events_wait(s_ev, mark, "contact.resolution_proposed", s_c1, "a-1", S_WAIT_MS) >= 0,
        "no resolution_proposed event");
    before = s_snapshot("a");
    HK_CHECK(hk_test_bus_command(s_router.bus, &cmd, &again, S_REPLY_MS) == 0, "resend: %s",
             again.text);
    HK_CHECK(s_same_reply(&first, &again), "a resent propose got another answer");
    after = s_snapshot("a");
    s_check_same("a resent propose", "a", before, after);
    free(before);
    free(after);
    hk_test_events_poll(s_ev, 200);
    HK_CHECK_INT_EQ(
        hk_test_events_count_matching(s_ev, mark, "contact.resolution_proposed", s_c1, NULL), 1);

    /* Another agent sending the same command id is not a resend: it must get its own
     * answer (a-2 holds nothing), not a-1's cached success. */
    Hetki__V1__AgentCommand other = cmd;
    other.agent_id = "a-2";
    hk_test_reply_t theirs;
    before = s_snapshot("a");
    HK_CHECK(hk_test_bus_command(s_router.bus, &other, &theirs, S_REPLY_MS) >= 0, "no reply");
    HK_EXPECT(theirs.code == HETKI__V1__ERROR_CODE__ERROR_NOT_YOURS,
              "a-2 reusing a-1's command id %s got code %d (%s) agent_state=%s, expected "
              "ERROR_NOT_YOURS",
              other.command_id, (int)theirs.code, theirs.text, theirs.agent_state);
    after = s_snapshot("a");
    s_check_same("another agent reusing a command id", "a", before, after);
    free(before);
    free(after);

    /* The customer confirms; resent, the same answer. */
    Hetki__V1__CustomerConfirm cc = HETKI__V1__CUSTOMER_CONFIRM__INIT;
    cc.command_id = "customer-yes-1";
    cc.tenant = "a";
    cc.contact_id = s_c1;
    cc.confirmed = 1;
    cc.text = "Thanks, that fixed it";
    HK_CHECK(hk_test_bus_confirm(s_router.bus, &cc, &first, S_REPLY_MS) == 0, "confirm: %s",
             first.text);
    HK_CHECK_STR_EQ(first.contact_state, "closed");
    HK_CHECK_STR_EQ(s_hget(ck, "state"), "closed");
    HK_CHECK_STR_EQ(s_hget(ck, "closed_reason"), "confirmed");
    int i = hk_test_events_wait(s_ev, mark, "contact.closed", s_c1, NULL, S_WAIT_MS);
    HK_CHECK(i >= 0, "no contact.closed event");
    HK_CHECK_CONTAINS(hk_test_events_get(s_ev, (size_t)i)->detail, "reason=confirmed");
    before = s_snapshot("a");
    HK_CHECK(hk_test_bus_confirm(s_router.bus, &cc, &again, S_REPLY_MS) == 0, "resend confirm");
    HK_CHECK(s_same_reply(&first, &again), "a resent confirm got another answer");
    after = s_snapshot("a");
    s_check_same("a resent confirm", "a", before, after);
    free(before);
    free(after);
    redisReply *r = redisCommand(s_rc, "ZSCORE hk:{a}:timers followup|%s", s_c1);
    HK_CHECK(r && r->type == REDIS_REPLY_STRING, "no follow-up timer after closing");
    freeReplyObject(r);

    /* Wrap-up frees the agent's capacity; resent, the same answer and nothing more. */
    HK_CHECK_STR_EQ(s_hget("hk:{a}:agent:a-1", "load"), "66");
    s_cmd_init(&cmd, id, sizeof id, "a", "a-1",
               HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_WRAP_UP, s_c1);
    cmd.wrap_code = "solved";
    HK_CHECK(hk_test_bus_command(s_router.bus, &cmd, &first, S_REPLY_MS) == 0, "wrap-up: %s",
             first.text);
    HK_CHECK_STR_EQ(first.agent_state, "busy"); /* still offered s_c2 */
    HK_CHECK_STR_EQ(s_hget("hk:{a}:agent:a-1", "load"), "33");
    HK_CHECK_STR_EQ(s_hget("hk:{a}:agent:a-1", "wrapping"), "0");
    HK_CHECK_STR_EQ(s_hget(ck, "wrap_code"), "solved");
    redisReply *m = redisCommand(s_rc, "SISMEMBER hk:{a}:agent:a-1:contacts %s", s_c1);
    HK_CHECK(m && m->type == REDIS_REPLY_INTEGER && m->integer == 0, "still held after wrap-up");
    freeReplyObject(m);
    before = s_snapshot("a");
    HK_CHECK(hk_test_bus_command(s_router.bus, &cmd, &again, S_REPLY_MS) == 0, "resend wrap-up");
    HK_CHECK(s_same_reply(&first, &again), "a resent wrap-up got another answer");
    after = s_snapshot("a");
    s_check_same("a resent wrap-up", "a", before, after);
    free(before);
    free(after);
    HK_CHECK_STR_EQ(s_hget("hk:{a}:agent:a-1", "load"), "33");

    /* The offered contact: accept works, and the accepted offer is a-1's now. */
    hk_test_reply_t acc =
        s_agent_ok("a", "a-1", HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_ACCEPT, s_c2);
    HK_CHECK_STR_EQ(acc.contact_state, "assigned");
    printf("resends answer the same and change nothing; accept -> propose -> confirm -> wrap-up "
           "works\n");
}

/* Accepting a contact another agent already holds: the proto says ERROR_NOT_YOURS ("the
 * contact is offered to or held by someone else"). */
static void s_test_accept_held(void) {
    char *before = s_snapshot("a");
    Hetki__V1__AgentCommand cmd;
    char id[32];
    s_cmd_init(&cmd, id, sizeof id, "a", "a-2", HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_ACCEPT,
               s_c3);
    hk_test_reply_t r;
    HK_CHECK(hk_test_bus_command(s_router.bus, &cmd, &r, S_REPLY_MS) >= 0, "no reply");
    HK_CHECK(r.code != HETKI__V1__ERROR_CODE__ERROR_NONE, "a-2 accepted a contact a-full holds");
    HK_EXPECT(r.code == HETKI__V1__ERROR_CODE__ERROR_NOT_YOURS,
              "accepting a contact held by someone else: code %d (%s), expected ERROR_NOT_YOURS",
              (int)r.code, r.text);
    char *after = s_snapshot("a");
    s_check_same("accept a contact held by someone else", "a", before, after);
    free(before);
    free(after);
}

/* Waits until key's field reads want; returns 1 when it did. */
static int s_wait_field(const char *key, const char *field, const char *want) {
    long long until = hk_test_now_ms() + S_WAIT_MS;
    while (strcmp(s_hget(key, field), want) != 0 && hk_test_now_ms() < until) {
        hk_test_sleep_ms(20);
    }
    return strcmp(s_hget(key, field), want) == 0;
}

/* Waits until the string key reads want; returns 1 when it did. */
static int s_wait_string(const char *key, const char *want) {
    long long until = hk_test_now_ms() + S_WAIT_MS;
    for (;;) {
        redisReply *r = redisCommand(s_rc, "GET %s", key);
        int same = r && r->type == REDIS_REPLY_STRING && !strcmp(r->str, want);
        freeReplyObject(r);
        if (same || hk_test_now_ms() >= until) {
            return same;
        }
        hk_test_sleep_ms(20);
    }
}

/* A transfer to a queue goes to someone else: the agent who handed it on is not offered it
 * again, even when it is the only free agent; a colleague who goes available gets it. Tenant
 * c, so that no agent of the other tests can take it. */
static void s_test_transfer_to_queue(void) {
    s_register("c", "c-1", 100);
    s_register("c", "c-2", 100);
    s_agent_ok("c", "c-1", HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_AVAILABLE, NULL);
    char cid[64], ck[160];
    s_submit("c", "ct", NULL, cid, sizeof cid);
    snprintf(ck, sizeof ck, "hk:{c}:contact:%s", cid);
    HK_CHECK(s_wait_field(ck, "offer_agent", "c-1"), "ct was not offered to c-1");
    s_agent_ok("c", "c-1", HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_ACCEPT, cid);
    Hetki__V1__AgentCommand cmd;
    char id[32];
    s_cmd_init(&cmd, id, sizeof id, "c", "c-1",
               HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_TRANSFER, cid);
    cmd.to_queue = "human_chat";
    cmd.note = "a card matter, not mine";
    hk_test_reply_t r;
    HK_CHECK(hk_test_bus_command(s_router.bus, &cmd, &r, S_REPLY_MS) == 0, "transfer: %s", r.text);
    HK_EXPECT(strcmp(r.contact_state, "queued") == 0,
              "after a transfer to a queue the contact is %s, expected queued", r.contact_state);
    HK_CHECK_STR_EQ(s_hget(ck, "offer_agent"), "");
    HK_CHECK_STR_EQ(s_hget(ck, "state"), "queued");
    s_agent_ok("c", "c-2", HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_AVAILABLE, NULL);
    HK_CHECK(s_wait_field(ck, "offer_agent", "c-2"),
             "the transferred contact was not offered to the colleague c-2");
    printf("routing_commands: a transfer to a queue goes to another agent\n");
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    hk_test_guard_begin("test_routing_commands", "/tmp/hetki-it-commands-XXXXXX", s_dir,
                        sizeof s_dir, S_DEADLINE_S);
    hk_test_guard_redis(&s_redis);
    hk_test_guard_router(&s_router);
    hk_test_guard_client(&s_ev, &s_rc);
    HK_CHECK(hk_test_redis_start(&s_redis) == 0, "redis-server did not start");
    s_rc = hk_test_redis_connect(s_redis.port);
    s_ev = hk_test_events_new();
    HK_CHECK(s_ev && hk_test_events_subscribe(s_ev, "a") == 0, "event collector");
    char clock[64];
    snprintf(clock, sizeof clock, "HETKI_CLOCK=virtual:%lld", S_T0);
    const char *env[] = {clock, "HETKI_LOG_LEVEL=debug", NULL};
    HK_CHECK(hk_test_router_start(&s_router, "cmd-a", s_redis.port, s_dir, env, s_ev) == 0,
             "router did not start");

    /* a-1 holds s_c1 and is offered s_c2 (capacity 70: then full); a-full holds s_c3
     * (capacity 40: full); a-2 is registered but offline; b-1 is tenant b's agent. */
    s_register("a", "a-1", 70);
    s_register("a", "a-2", 100);
    s_register("a", "a-full", 40);
    s_register("b", "b-1", 100);
    s_agent_ok("b", "b-1", HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_AVAILABLE, NULL);
    s_agent_ok("a", "a-1", HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_AVAILABLE, NULL);
    s_submit("a", "c1", "a-1", s_c1, sizeof s_c1);
    s_agent_ok("a", "a-1", HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_ACCEPT, s_c1);
    s_submit("a", "c2", "a-1", s_c2, sizeof s_c2);
    s_agent_ok("a", "a-full", HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_AVAILABLE, NULL);
    s_submit("a", "c3", "a-full", s_c3, sizeof s_c3);
    s_agent_ok("a", "a-full", HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_ACCEPT, s_c3);
    HK_CHECK_STR_EQ(s_hget("hk:{a}:agent:a-1", "load"), "66");
    HK_CHECK_STR_EQ(s_hget("hk:{a}:agent:a-full", "load"), "33");
    /* The timer sweep's one-time rebuild of the availability sets (timers.lua) has run for
     * both tenants, so that only the commands below may change their state. */
    HK_CHECK(s_wait_string("hk:{a}:avail_v", "2") && s_wait_string("hk:{b}:avail_v", "2"),
             "the timer sweep did not mark the availability sets rebuilt");

    s_test_bad_commands();
    s_test_malformed();
    s_test_accept_held();
    s_test_resend_and_happy_path();
    s_test_transfer_to_queue();

    return HK_TEST_GUARD_END();
}
