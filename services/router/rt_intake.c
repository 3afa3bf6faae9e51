/* rt_intake: a contact's intake in one atomic step (contact_intake.lua). The router classifies
 * the contact for every combination of the signals only Redis knows (repeat, first contact,
 * vulnerable, VIP); the script resolves the customer, picks the matching decision, stores,
 * queues and offers. Classification stays in C (rt_classify.c), the round trip stays one. */
#include "rt_engine_int.h"

#include "hk_clock.h"
#include "hk_id.h"
#include "hk_log.h"
#include "rt_validate.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    rt_engine_t *e;
    rt_intake_fn *fn;
    void *arg;
    Hetki__V1__Contact *c; /* a deep copy: the request's buffers are gone after dispatch */
    rt_base_t base;
    rt_decision_t decisions[16]; /* by signal bits: repeat 8, first 4, vulnerable 2, VIP 1 */
    rt_decision_t decision;      /* a duplicate's stored decision */
    char dedupe_key[400];
    char id[HK_ID_LEN + 1];
    char customer[HK_ID_LEN + 1];
    int64_t promise_ms;
} s_intake_t;

static Hetki__V1__Contact *s_copy_contact(const Hetki__V1__Contact *c) {
    size_t len = hetki__v1__contact__get_packed_size(c);
    uint8_t *buf = malloc(len ? len : 1);
    assert(buf);
    hetki__v1__contact__pack(c, buf);
    Hetki__V1__Contact *copy = hetki__v1__contact__unpack(NULL, len, buf);
    free(buf);
    return copy;
}

static void s_intake_free(s_intake_t *in) {
    hetki__v1__contact__free_unpacked(in->c, NULL);
    free(in);
}

static void s_intake_fail(s_intake_t *in, Hetki__V1__ErrorCode code, const char *text) {
    rt_intake_result_t r = {.error_code = code, .error_text = text, .message = ""};
    in->fn(&r, in->arg);
    s_intake_free(in);
}

/* The queue language of a contact: "fi", "sv" or "en" from a code like "FI" or "sv-FI",
 * else "any". */
static const char *s_lang(const char *code) {
    char two[3] = {0};
    for (int i = 0; i < 2 && code && code[i]; i++) {
        two[i] = (char)((code[i] >= 'A' && code[i] <= 'Z') ? code[i] + 32 : code[i]);
    }
    if (code && code[0] && code[1] && code[2] && code[2] != '-' && code[2] != '_') {
        return "any";
    }
    int l = rt_lang_parse(two);
    return l >= 0 ? rt_lang_code((rt_lang_t)l) : "any";
}

static int s_cost(const rt_policy_t *p, Hetki__V1__Channel ch) {
    switch (ch) {
    case HETKI__V1__CHANNEL__CHANNEL_PHONE:
        return p->cost_phone;
    case HETKI__V1__CHANNEL__CHANNEL_EMAIL:
        return p->cost_email;
    case HETKI__V1__CHANNEL__CHANNEL_KIOSK:
        return p->cost_kiosk;
    default:
        return p->cost_chat;
    }
}

/* Answers a duplicate with the decision stored with the first submission: reply elements
 * first.. are class, score, target, queue, reasons; id and state are given. */
static void s_answer_duplicate(s_intake_t *in, const redisReply *reply, size_t first,
                               const char *id, const char *state) {
    rt_decision_t *d = &in->decision;
    memset(d, 0, sizeof *d);
    d->klass = rt_class_parse(rt_reply_str(reply, first));
    d->score = atoi(rt_reply_str(reply, first + 1));
    static const char *const targets[] = {"voice", "callback", "human_chat", "async"};
    d->target = "async";
    for (size_t i = 0; i < 4; i++) {
        if (!strcmp(rt_reply_str(reply, first + 2), targets[i])) {
            d->target = targets[i];
        }
    }
    snprintf(d->queue_buf, sizeof d->queue_buf, "%s", rt_reply_str(reply, first + 3));
    d->queue = d->queue_buf;
    char reasons[RT_MAX_REASONS * RT_REASON_LEN];
    snprintf(reasons, sizeof reasons, "%s", rt_reply_str(reply, first + 4));
    char *save = NULL;
    for (char *tok = strtok_r(reasons, ",", &save); tok && d->n_reasons < RT_MAX_REASONS;
         tok = strtok_r(NULL, ",", &save)) {
        snprintf(d->reason_buf[d->n_reasons], RT_REASON_LEN, "%s", tok);
        d->reasons[d->n_reasons] = d->reason_buf[d->n_reasons];
        d->n_reasons++;
    }
    rt_intake_result_t res = {.error_code = HETKI__V1__ERROR_CODE__ERROR_NONE,
                              .error_text = "",
                              .contact_id = id,
                              .duplicate = 1,
                              .decision = d,
                              .state = state,
                              .message = ""};
    in->fn(&res, in->arg);
}

static void s_on_intake(hk_redis_t *r, redisReply *reply, void *arg) {
    s_intake_t *in = arg;
    rt_engine_t *e = in->e;
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements < 8) {
        HK_WARN("intake.store_failed", "contact=%s tenant=%s error=\"%s\"", in->id, in->c->tenant,
                reply && reply->type == REDIS_REPLY_ERROR ? reply->str : "no answer from redis");
        s_intake_fail(in, HETKI__V1__ERROR_CODE__ERROR_UNAVAILABLE, "storage unavailable, retry");
        rt_engine_done(e);
        return;
    }
    if (rt_reply_int(reply, 6)) {
        s_answer_duplicate(in, reply, 8, rt_reply_str(reply, 5), rt_reply_str(reply, 3));
        s_intake_free(in);
        rt_engine_done(e);
        return;
    }
    const rt_policy_t *p = rt_policy_store_get(e->policies, in->c->tenant);
    long long index = rt_reply_int(reply, 8);
    const rt_decision_t *d = &in->decisions[index >= 0 && index < 16 ? index : 0];
    const rt_queue_policy_t *q = rt_policy_queue(p, d->queue);
    rt_intake_result_t res = {.error_code = HETKI__V1__ERROR_CODE__ERROR_NONE,
                              .error_text = "",
                              .contact_id = rt_reply_str(reply, 5),
                              .duplicate = 0,
                              .decision = d,
                              .state = rt_reply_str(reply, 3),
                              .estimated_wait_ms = rt_reply_int(reply, 7),
                              .promise_ms = q ? q->promise_ms : 0,
                              .message =
                                  p->status == RT_TENANT_SUSPENDED ? p->suspended_message : ""};
    rt_event_t ev = {.kind = "contact.received",
                     .tenant = in->c->tenant,
                     .contact_id = res.contact_id,
                     .state = res.state,
                     .queue = d->queue,
                     .decision = d};
    rt_events_publish(e->events, &ev);
    rt_publish_script_events(e, in->c->tenant, reply);
    in->fn(&res, in->arg);
    s_intake_free(in);
    rt_engine_done(e);
}

/* One decision as the script's "class|score|target|queue|reasons". */
static void s_decision_arg(const rt_decision_t *d, char *out, size_t len) {
    int n =
        snprintf(out, len, "%s|%d|%s|%s|", rt_class_name(d->klass), d->score, d->target, d->queue);
    for (size_t i = 0; i < d->n_reasons && n > 0 && (size_t)n < len; i++) {
        n += snprintf(out + n, len - (size_t)n, "%s%s", i ? "," : "", d->reasons[i]);
    }
}

/* Appends the customer identities the contact carries as kind, value pairs; returns how many
 * pairs. The phone and email a customer typed in count as well as the ones the channel saw. */
static int s_identities(rt_args_t *a, const Hetki__V1__CustomerIdentity *cu) {
    if (!cu) {
        return 0;
    }
    const char *pairs[][2] = {
        {"phone", cu->phone_number[0] ? cu->phone_number : cu->entered_phone},
        {"email", cu->email_address[0] ? cu->email_address : cu->entered_email},
        {"chat", cu->chat_session},
        {"phone", cu->phone_number[0] ? cu->entered_phone : ""},
        {"email", cu->email_address[0] ? cu->entered_email : ""}};
    int n = 0;
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        if (pairs[i][1][0]) {
            rt_arg(a, pairs[i][0]);
            rt_arg(a, pairs[i][1]);
            n++;
        }
    }
    return n;
}

void rt_engine_intake(rt_engine_t *e, const Hetki__V1__Contact *c, rt_intake_fn *fn, void *arg) {
    s_intake_t *in = calloc(1, sizeof *in);
    assert(in);
    in->e = e;
    in->fn = fn;
    in->arg = arg;
    in->c = s_copy_contact(c);
    e->inflight++;
    if (!in->c) {
        s_intake_fail(in, HETKI__V1__ERROR_CODE__ERROR_INTERNAL, "could not copy the contact");
        rt_engine_done(e);
        return;
    }
    c = in->c;
    const rt_policy_t *p = rt_policy_store_get(e->policies, c->tenant);
    rt_classify_base(c, p, &in->base);
    static char decision_args[16][RT_MAX_REASONS * RT_REASON_LEN + 128];
    for (int i = 0; i < 16; i++) {
        rt_signals_t sig = {.repeat = (i >> 3) & 1,
                            .first_contact = (i >> 2) & 1,
                            .vulnerable = (i >> 1) & 1,
                            .vip = i & 1};
        rt_classify_finish(&in->base, &sig, p, &in->decisions[i]);
        s_decision_arg(&in->decisions[i], decision_args[i], sizeof decision_args[i]);
    }
    hk_id_new(in->id);
    hk_id_new(in->customer);
    snprintf(in->dedupe_key, sizeof in->dedupe_key, "hk:{%s}:dedupe:%s:%s", c->tenant,
             rt_channel_name(c->channel), c->dedupe_key);
    char retention[24], window[24], cost[8], n_ids[8], received[24];
    snprintf(retention, sizeof retention, "%ld", e->opts.dedupe_retention_s);
    snprintf(window, sizeof window, "%lld", (long long)p->repeat_window_ms);
    snprintf(cost, sizeof cost, "%d", s_cost(p, c->channel));
    snprintf(received, sizeof received, "%lld",
             (long long)(c->received_at_ms > 0 ? c->received_at_ms : hk_clock_now_ms()));
    rt_args_t a;
    rt_args_begin(e, &a, in->dedupe_key, c->tenant);
    rt_arg(&a, in->id);
    rt_arg(&a, retention);
    rt_arg(&a, in->customer);
    rt_arg(&a, window);
    rt_arg(&a, p->status == RT_TENANT_SUSPENDED ? "1" : "0");
    rt_arg(&a, s_lang(c->language)); /* enqueue uses "any" if the queue lacks it */
    rt_arg(&a, cost);
    int n_pos = a.argc;
    rt_arg(&a, "0");
    snprintf(n_ids, sizeof n_ids, "%d", s_identities(&a, c->customer));
    a.argv[n_pos] = n_ids;
    a.lens[n_pos] = strlen(n_ids);
    for (int i = 0; i < 16; i++) {
        rt_arg(&a, decision_args[i]);
    }
    const Hetki__V1__CustomerIdentity *cu = c->customer;
    const Hetki__V1__Choices *ch = c->choices;
    rt_field(&a, "id", in->id);
    rt_field(&a, "tenant", c->tenant);
    rt_field(&a, "channel", rt_channel_name(c->channel));
    rt_field(&a, "dedupe_key", c->dedupe_key);
    if (cu) {
        rt_field(&a, "phone_number", cu->phone_number);
        rt_field(&a, "email_address", cu->email_address);
        rt_field(&a, "chat_session", cu->chat_session);
        rt_field(&a, "kiosk_device", cu->kiosk_device);
        rt_field(&a, "entered_phone", cu->entered_phone);
        rt_field(&a, "entered_email", cu->entered_email);
        rt_field(&a, "display_name", cu->display_name);
    }
    rt_field(&a, "language", c->language);
    rt_field(&a, "subject", c->subject);
    rt_field(&a, "text", c->text);
    if (ch) {
        rt_field(&a, "choice_urgent", ch->urgent ? "1" : "");
        rt_field(&a, "choice_person", ch->talk_to_person ? "1" : "");
        rt_field(&a, "choice_callback", ch->callback ? "1" : "");
        rt_field(&a, "ivr_digits", ch->ivr_digits);
    }
    rt_field(&a, "received_at_ms", received);
    rt_field(&a, "gateway", c->gateway);
    rt_field(&a, "router", e->instance);
    if (hk_redis_eval(e->redis, e->scripts[RT_INTAKE], 1, a.argc, a.argv, a.lens, s_on_intake,
                      in) != 0) {
        s_intake_fail(in, HETKI__V1__ERROR_CODE__ERROR_UNAVAILABLE, "storage unavailable, retry");
        rt_engine_done(e);
    }
}
