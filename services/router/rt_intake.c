/* rt_intake: a contact's intake in one atomic step (contact_intake.lua). The router classifies
 * the contact for every combination of the signals only Redis knows (repeat, first contact,
 * vulnerable, VIP); the script resolves the customer, picks the matching decision, stores,
 * queues and offers. Classification stays in C (rt_classify.c), the round trip stays one.
 * Contacts of one tenant that arrive together (in one drain of the bus) are gathered into one
 * script call of up to S_BATCH_MAX contacts, sent on the next loop turn or, while
 * S_INFLIGHT_MAX calls are in flight, when one of them is answered (group commit): each
 * contact is still its own atomic step inside it, and each is acked after the call returned. */
#include "rt_engine_int.h"

#include "hk_clock.h"
#include "hk_fmt.h"
#include "hk_id.h"
#include "hk_log.h"
#include "hk_metrics.h"
#include "rt_validate.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    rt_engine_t *e;
    rt_intake_fn *fn;
    void *arg;
    char tenant[RT_MAX_TENANT + 1]; /* the contact itself is the caller's only during intake */
    char dedupe_key[400];
    char id[HK_ID_LEN + 1];
    char customer[HK_ID_LEN + 1];
    /* The contact's own script arguments (dedupe key first), copied: the batch is sent later.
     * The decisions argument (s_decisions_arg) is the one at dec_arg (-1: none). */
    int argc, dec_arg;
    size_t off[RT_MAX_ARGS];
    size_t len[RT_MAX_ARGS];
    char *blob;
} s_intake_t;

/* The longest decisions argument (s_decisions_arg): 17 lines of at most 16 reasons each. */
#define S_DECISIONS_MAX (17 * (RT_MAX_REASONS * RT_REASON_LEN + 64))

#define S_BATCH_MAX 32   /* contacts per script call */
#define S_OPEN_MAX 16    /* tenants with a batch being gathered at once */
#define S_INFLIGHT_MAX 2 /* partial batches wait while this many calls are in flight */

typedef struct {
    char tenant[RT_MAX_TENANT + 1];
    size_t n;
    s_intake_t *items[S_BATCH_MAX];
} s_batch_t;

struct rt_intake_batches_t {
    rt_engine_t *e;
    uv_timer_t flush;  /* fires on the next loop turn while contacts are gathered */
    size_t inflight;   /* script calls sent and not yet answered */
    uint64_t *m_calls; /* router_intake_calls_total */
    int closing;       /* rt_intake_close was called: freed once the timer and calls are done */
    int timer_closed;
    size_t n_open;
    s_batch_t *open[S_OPEN_MAX];
};

static void s_intake_free(s_intake_t *in) {
    free(in->blob);
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

/* Fills d with a decision as the script stores it: class, score, target, queue and the
 * reasons joined with ','. */
static void s_decision_set(rt_decision_t *d, const char *klass, const char *score,
                           const char *target, const char *queue, const char *joined) {
    memset(d, 0, sizeof *d);
    d->klass = rt_class_parse(klass);
    d->score = atoi(score);
    static const char *const targets[] = {"voice", "callback", "human_chat", "async"};
    d->target = "async";
    for (size_t i = 0; i < 4; i++) {
        if (!strcmp(target, targets[i])) {
            d->target = targets[i];
        }
    }
    snprintf(d->queue_buf, sizeof d->queue_buf, "%s", queue);
    d->queue = d->queue_buf;
    char reasons[RT_MAX_REASONS * RT_REASON_LEN];
    snprintf(reasons, sizeof reasons, "%s", joined);
    char *save = NULL;
    for (char *tok = strtok_r(reasons, ",", &save); tok && d->n_reasons < RT_MAX_REASONS;
         tok = strtok_r(NULL, ",", &save)) {
        size_t n = strnlen(tok, RT_REASON_LEN - 1);
        memcpy(d->reason_buf[d->n_reasons], tok, n);
        d->reason_buf[d->n_reasons][n] = '\0';
        d->reasons[d->n_reasons] = d->reason_buf[d->n_reasons];
        d->n_reasons++;
    }
}

/* Fills d with the decision the script picked (index 0..15) from the decisions argument sent
 * with the contact, joining the base reasons and the line's own as the script does: the
 * contact is acked and announced with exactly what was stored. (Keeping the 16 classified
 * decisions instead would cost some 27 KB per contact in flight.) */
static void s_decision_sent(const s_intake_t *in, long long index, rt_decision_t *d) {
    const char *all = "";
    size_t len = 0;
    if (in->dec_arg >= 0 && in->dec_arg < in->argc) {
        all = in->blob + in->off[in->dec_arg];
        len = in->len[in->dec_arg] < S_DECISIONS_MAX ? in->len[in->dec_arg] : S_DECISIONS_MAX;
    }
    /* Line 0 holds the base reasons, line 1 + index the decision. */
    const char *end = all + len, *base_end = memchr(all, '\n', len);
    base_end = base_end ? base_end : end;
    const char *line = base_end, *line_end = base_end;
    for (long long i = 0; i <= index; i++) {
        line = line_end < end ? line_end + 1 : end;
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        line_end = nl ? nl : end;
    }
    /* The line, split at its first four '|', and the joined reasons (both fit: the base line
     * and this line are parts of the argument). */
    static char text[S_DECISIONS_MAX + 1], joined[S_DECISIONS_MAX + 2];
    size_t n_line = (size_t)(line_end - line), n_base = (size_t)(base_end - all);
    memcpy(text, line, n_line);
    text[n_line] = '\0';
    char *field[5] = {text, "", "", "", ""};
    for (int f = 1; f < 5; f++) {
        char *bar = strchr(field[f - 1], '|');
        if (!bar) {
            break;
        }
        *bar = '\0';
        field[f] = bar + 1;
    }
    memcpy(joined, all, n_base);
    size_t at = n_base;
    if (n_base > 0 && field[4][0]) {
        joined[at++] = ',';
    }
    size_t n_more = strlen(field[4]);
    memcpy(joined + at, field[4], n_more);
    joined[at + n_more] = '\0';
    s_decision_set(d, field[0], field[1], field[2], field[3], joined);
}

/* Answers a duplicate with the decision stored with the first submission: reply elements
 * first.. are class, score, target, queue, reasons; id and state are given. */
static void s_answer_duplicate(s_intake_t *in, const redisReply *reply, size_t first,
                               const char *id, const char *state) {
    rt_decision_t d;
    s_decision_set(&d, rt_reply_str(reply, first), rt_reply_str(reply, first + 1),
                   rt_reply_str(reply, first + 2), rt_reply_str(reply, first + 3),
                   rt_reply_str(reply, first + 4));
    rt_intake_result_t res = {.error_code = HETKI__V1__ERROR_CODE__ERROR_NONE,
                              .error_text = "",
                              .contact_id = id,
                              .duplicate = 1,
                              .decision = &d,
                              .state = state,
                              .message = ""};
    in->fn(&res, in->arg);
}

/* Finishes one contact with its element of the batch's reply (NULL or an error reply when the
 * call failed: the submitter is told to retry, and the dedupe key makes that safe). */
static void s_finish_one(s_intake_t *in, const redisReply *reply) {
    rt_engine_t *e = in->e;
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements < 8) {
        HK_WARN("intake.store_failed", "contact=%s tenant=%s error=\"%s\"", in->id, in->tenant,
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
    const rt_policy_t *p = rt_policy_store_get(e->policies, in->tenant);
    long long index = rt_reply_int(reply, 8);
    rt_decision_t decision;
    const rt_decision_t *d = &decision;
    s_decision_sent(in, index >= 0 && index < 16 ? index : 0, &decision);
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
                     .tenant = in->tenant,
                     .contact_id = res.contact_id,
                     .state = res.state,
                     .queue = d->queue,
                     .decision = d};
    rt_events_publish(e->events, &ev);
    rt_publish_script_events(e, in->tenant, reply);
    in->fn(&res, in->arg);
    s_intake_free(in);
    rt_engine_done(e);
}

typedef struct {
    struct rt_intake_batches_t *ib;
    size_t n;
    s_intake_t *items[S_BATCH_MAX];
} s_call_t;

static void s_flush_all(struct rt_intake_batches_t *ib);
static void s_release_if_done(struct rt_intake_batches_t *ib);

static void s_on_batch(hk_redis_t *r, redisReply *reply, void *arg) {
    s_call_t *call = arg;
    (void)r;
    struct rt_intake_batches_t *ib = call->ib;
    ib->inflight--;
    int whole = reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 6 + call->n;
    if (reply && reply->type == REDIS_REPLY_ERROR) {
        HK_ERROR("intake.batch_failed", "contacts=%zu error=\"%s\"", call->n, reply->str);
    }
    for (size_t i = 0; i < call->n; i++) {
        s_finish_one(call->items[i], whole ? reply->element[6 + i] : reply);
    }
    free(call);
    /* Group commit: what gathered while Redis was busy goes now, as one call per tenant. */
    if (ib->n_open > 0 && ib->inflight < S_INFLIGHT_MAX) {
        s_flush_all(ib);
    }
    s_release_if_done(ib);
}

/* Sends one tenant's gathered contacts as one script call; frees the batch. */
static void s_send_batch(struct rt_intake_batches_t *ib, s_batch_t *b) {
    rt_engine_t *e = ib->e;
    s_call_t *call = malloc(sizeof *call);
    assert(call);
    call->ib = ib;
    ib->inflight++;
    (*ib->m_calls)++;
    call->n = b->n;
    memcpy(call->items, b->items, b->n * sizeof b->items[0]);
    size_t argc = 5;
    for (size_t i = 0; i < b->n; i++) {
        argc += 1 + (size_t)b->items[i]->argc;
    }
    const char **argv = malloc(argc * sizeof *argv);
    size_t *lens = malloc(argc * sizeof *lens);
    char(*counts)[12] = malloc((b->n + 1) * sizeof *counts);
    assert(argv && lens && counts);
    char key1[64];
    snprintf(key1, sizeof key1, "hk:{%s}:rev", b->tenant);
    rt_args_t head;
    rt_args_begin(e, &head, key1, b->tenant);
    size_t k = 0;
    for (int i = 0; i < head.argc; i++, k++) {
        argv[k] = head.argv[i];
        lens[k] = head.lens[i];
    }
    snprintf(counts[b->n], sizeof counts[b->n], "%zu", b->n);
    argv[k] = counts[b->n];
    lens[k++] = strlen(counts[b->n]);
    for (size_t i = 0; i < b->n; i++) {
        s_intake_t *in = b->items[i];
        snprintf(counts[i], sizeof counts[i], "%d", in->argc);
        argv[k] = counts[i];
        lens[k++] = strlen(counts[i]);
        for (int j = 0; j < in->argc; j++, k++) {
            argv[k] = in->blob + in->off[j];
            lens[k] = in->len[j];
        }
    }
    free(b);
    if (hk_redis_eval(e->redis, e->scripts[RT_INTAKE], 1, (int)k, argv, lens, s_on_batch, call) !=
        0) {
        s_on_batch(e->redis, NULL, call);
    }
    free(argv);
    free(lens);
    free(counts);
}

static void s_flush_all(struct rt_intake_batches_t *ib) {
    while (ib->n_open > 0) {
        s_send_batch(ib, ib->open[--ib->n_open]);
    }
}

/* Sends the partial batches on the next loop turn unless enough calls are in flight: then
 * they keep gathering until one is answered (s_on_batch), so a busy Redis gets bigger batches. */
static void s_on_flush(uv_timer_t *t) {
    struct rt_intake_batches_t *ib = t->data;
    if (ib->inflight < S_INFLIGHT_MAX) {
        s_flush_all(ib);
    }
}

/* Adds in to its tenant's batch; a full batch goes at once, the rest on the next loop turn. */
static void s_gather(rt_engine_t *e, s_intake_t *in) {
    struct rt_intake_batches_t *ib = e->intake;
    s_batch_t *b = NULL;
    size_t at = 0;
    for (; at < ib->n_open && !b; at++) {
        if (!strcmp(ib->open[at]->tenant, in->tenant)) {
            b = ib->open[at];
        }
    }
    if (!b) {
        if (ib->n_open == S_OPEN_MAX) {
            s_flush_all(ib);
        }
        b = calloc(1, sizeof *b);
        assert(b);
        snprintf(b->tenant, sizeof b->tenant, "%s", in->tenant);
        ib->open[ib->n_open++] = b;
        at = ib->n_open;
    }
    b->items[b->n++] = in;
    if (b->n == S_BATCH_MAX) {
        ib->open[at - 1] = ib->open[--ib->n_open];
        s_send_batch(ib, b);
    }
    if (ib->n_open > 0 && !uv_is_active((uv_handle_t *)&ib->flush)) {
        uv_timer_start(&ib->flush, s_on_flush, 0, 0);
    }
}

/* Keeps the contact's own arguments (a's KEYS[1] and everything after the common head) and
 * where its decisions argument (a's argument dec_at) is among them. */
static void s_keep_args(s_intake_t *in, const rt_args_t *a, int dec_at) {
    size_t total = 0;
    for (int i = 0; i < a->argc; i++) {
        total += a->lens[i] + 1;
    }
    in->blob = malloc(total);
    assert(in->blob);
    size_t at = 0;
    in->argc = 0;
    in->dec_arg = -1;
    for (int i = 0; i < a->argc; i++) {
        if (i >= 1 && i <= 3) {
            continue; /* now, params, router: once per batch */
        }
        memcpy(in->blob + at, a->argv[i], a->lens[i]);
        in->blob[at + a->lens[i]] = '\0';
        if (i == dec_at) {
            in->dec_arg = in->argc;
        }
        in->off[in->argc] = at;
        in->len[in->argc++] = a->lens[i];
        at += a->lens[i] + 1;
    }
}

static void s_release_if_done(struct rt_intake_batches_t *ib) {
    if (ib->closing && ib->timer_closed && ib->inflight == 0) {
        rt_engine_t *e = ib->e;
        free(ib);
        rt_engine_done(e);
    }
}

static void s_on_flush_closed(uv_handle_t *h) {
    struct rt_intake_batches_t *ib = h->data;
    ib->timer_closed = 1;
    s_release_if_done(ib);
}

void rt_intake_init(rt_engine_t *e) {
    struct rt_intake_batches_t *ib = calloc(1, sizeof *ib);
    assert(ib);
    ib->e = e;
    ib->m_calls = hk_metrics_counter(hk_service_metrics(e->svc), "router_intake_calls_total",
                                     "intake script calls (each stores one or more contacts)");
    uv_timer_init(hk_service_loop(e->svc), &ib->flush);
    ib->flush.data = ib;
    e->intake = ib;
}

void rt_intake_close(rt_engine_t *e) {
    struct rt_intake_batches_t *ib = e->intake;
    e->intake = NULL;
    ib->closing = 1;
    s_flush_all(ib);
    e->inflight++;
    uv_close((uv_handle_t *)&ib->flush, s_on_flush_closed);
}

/* A bounded text buffer: what does not fit is cut; s_text_end terminates it. */
typedef struct {
    char *out;
    size_t len, at;
} s_text_t;

static void s_putn(s_text_t *t, const char *s, size_t n) {
    if (t->at + n >= t->len) {
        n = t->at + 1 < t->len ? t->len - t->at - 1 : 0;
    }
    memcpy(t->out + t->at, s, n);
    t->at += n;
}

static void s_put(s_text_t *t, const char *s) {
    s_putn(t, s, strlen(s));
}

static size_t s_text_end(s_text_t *t) {
    t->out[t->at] = '\0';
    return t->at;
}

static void s_put_reasons(s_text_t *t, const char *const *reasons, size_t from, size_t to) {
    for (size_t i = from; i < to; i++) {
        if (i > from) {
            s_putn(t, ",", 1);
        }
        s_put(t, reasons[i]);
    }
}

/* Appends v in decimal (as "%d" would). */
static void s_put_int(s_text_t *t, int v) {
    char digits[HK_FMT_LONG_MAX];
    s_putn(t, digits, hk_fmt_long(digits, v));
}

/* The 16 decisions as the script's one "decisions" argument: the base reasons (the signals
 * every combination shares), then one line per combination "class|score|target|queue|more
 * reasons" (the reasons after the base ones), lines separated by '\n'. Reasons hold no '\n'
 * (lexicon entries are single-line words, their control characters replaced). Returns the
 * length written; out (len >= 1) is always terminated. */
static size_t s_decisions_arg(const rt_base_t *b, const rt_decision_t *d, char *out, size_t len) {
    s_text_t t = {.out = out, .len = len, .at = 0};
    s_put_reasons(&t, b->reasons, 0, b->n_reasons);
    for (int i = 0; i < 16; i++) {
        s_putn(&t, "\n", 1);
        s_put(&t, rt_class_name(d[i].klass));
        s_putn(&t, "|", 1);
        s_put_int(&t, d[i].score);
        s_putn(&t, "|", 1);
        s_put(&t, d[i].target);
        s_putn(&t, "|", 1);
        s_put(&t, d[i].queue);
        s_putn(&t, "|", 1);
        s_put_reasons(&t, d[i].reasons, b->n_reasons < d[i].n_reasons ? b->n_reasons : 0,
                      d[i].n_reasons);
    }
    return s_text_end(&t);
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
    snprintf(in->tenant, sizeof in->tenant, "%s", c->tenant);
    e->inflight++;
    const rt_policy_t *p = rt_policy_store_get(e->policies, c->tenant);
    /* Scratch (one loop thread): what is kept of them is the decisions argument. */
    static rt_base_t base;
    static rt_decision_t by_signals[16]; /* repeat 8, first 4, vulnerable 2, VIP 1 */
    rt_classify_base(c, p, &base);
    for (int i = 0; i < 16; i++) {
        rt_signals_t sig = {.repeat = (i >> 3) & 1,
                            .first_contact = (i >> 2) & 1,
                            .vulnerable = (i >> 1) & 1,
                            .vip = i & 1};
        rt_classify_finish(&base, &sig, p, &by_signals[i]);
    }
    static char decisions[S_DECISIONS_MAX];
    s_decisions_arg(&base, by_signals, decisions, sizeof decisions);
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
    int dec_at = a.argc;
    rt_arg(&a, decisions);
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
    if (!e->intake || !hk_redis_ready(e->redis)) {
        s_intake_fail(in, HETKI__V1__ERROR_CODE__ERROR_UNAVAILABLE, "storage unavailable, retry");
        rt_engine_done(e);
        return;
    }
    s_keep_args(in, &a, dec_at);
    s_gather(e, in);
}
