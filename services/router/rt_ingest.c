/* rt_ingest: contacts in over the bus, idempotent storage in Redis, acks out. */
#include "rt_ingest.h"

#include "hk_clock.h"
#include "hk_codec.h"
#include "hk_id.h"
#include "hk_log.h"
#include "hk_zsock.h"
#include "rt_classify.h"
#include "rt_validate.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

const char *rt_lua_get(const char *name);

#define S_MAX_IDENTITY 256
#define S_MAX_FIELDS 64

struct rt_ingest_t {
    hk_service_t *svc;
    hk_redis_t *redis;
    rt_events_t *events;
    hk_zsock_t *zs;
    int script;
    rt_ingest_opts_t opts;
    char instance[96];
    size_t inflight;
    int paused;
    int draining;
    void (*drained)(void *);
    void *drained_arg;
    uint64_t *m_received, *m_stored, *m_duplicate, *m_rejected, *m_garbage, *m_unavailable;
    hk_histogram_t *m_latency;
    double *m_inflight;
};

/* One contact waiting for Redis. */
typedef struct {
    rt_ingest_t *in;
    uint8_t identity[S_MAX_IDENTITY];
    size_t identity_len;
    char corr[HK_ID_LEN * 2 + 1];
    char tenant[RT_MAX_TENANT + 1];
    rt_decision_t decision;
    int64_t received_us;
} s_pending_t;

static void s_update_flow(rt_ingest_t *in) {
    *in->m_inflight = (double)in->inflight;
    int should_pause = in->draining || in->inflight >= (size_t)in->opts.max_inflight;
    if (should_pause != in->paused) {
        in->paused = should_pause;
        hk_zsock_pause(in->zs, should_pause);
    }
    if (in->draining && in->inflight == 0 && in->drained) {
        void (*done)(void *) = in->drained;
        in->drained = NULL;
        done(in->drained_arg);
    }
}

static void s_reply(rt_ingest_t *in, const uint8_t *identity, size_t identity_len, const char *corr,
                    Hetki__V1__Ack *ack) {
    uint8_t buf[4096];
    hk_envelope_t env = HETKI__V1__ENVELOPE__INIT;
    env.version = HK_CODEC_VERSION;
    env.correlation_id = (char *)(corr ? corr : "");
    env.sent_at_ms = hk_clock_now_ms();
    ack->router = in->instance;
    env.body_case = HETKI__V1__ENVELOPE__BODY_ACK;
    env.ack = ack;
    size_t len = hk_codec_encode_to(&env, buf, sizeof buf);
    if (len == 0) {
        HK_ERROR("ingest.reply_encode_failed", "corr=%s", env.correlation_id);
        return;
    }
    hk_frame_t frames[3] = {{identity, identity_len}, {(const uint8_t *)"", 0}, {buf, len}};
    if (hk_zsock_send(in->zs, frames, 3) != 0) {
        /* The client is gone (ROUTER_MANDATORY): it will resend elsewhere. */
        HK_WARN("ingest.reply_failed", "corr=%s error=\"%s\"", env.correlation_id,
                zmq_strerror(errno));
    }
}

static void s_reply_error(rt_ingest_t *in, const uint8_t *identity, size_t identity_len,
                          const char *corr, Hetki__V1__ErrorCode code, const char *text) {
    Hetki__V1__Ack ack = HETKI__V1__ACK__INIT;
    ack.error_code = code;
    ack.error_text = (char *)text;
    s_reply(in, identity, identity_len, corr, &ack);
}

/* Splits "a,b,c" into the decision's reasons (pointing into buf). */
static void s_split_reasons(char *buf, rt_decision_t *d) {
    d->n_reasons = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok && d->n_reasons < RT_MAX_REASONS;
         tok = strtok_r(NULL, ",", &save)) {
        d->reasons[d->n_reasons++] = tok;
    }
}

static const char *s_str(const redisReply *r) {
    return r && r->type == REDIS_REPLY_STRING ? r->str : "";
}

static void s_on_stored(hk_redis_t *redis, redisReply *reply, void *arg) {
    s_pending_t *p = arg;
    rt_ingest_t *in = p->in;
    in->inflight--;
    if (!reply || reply->type != REDIS_REPLY_ARRAY ||
        (reply->elements != 2 && reply->elements != 7)) {
        (*in->m_unavailable)++;
        HK_WARN("ingest.store_failed", "corr=%s tenant=%s error=\"%s\"", p->corr, p->tenant,
                reply && reply->type == REDIS_REPLY_ERROR ? reply->str : "no answer from redis");
        s_reply_error(in, p->identity, p->identity_len, p->corr,
                      HETKI__V1__ERROR_CODE__ERROR_UNAVAILABLE, "storage unavailable, retry");
        free(p);
        s_update_flow(in);
        return;
    }
    const char *id = s_str(reply->element[0]);
    int duplicate = reply->elements == 7;
    char reasons[512];
    rt_decision_t d = p->decision;
    if (duplicate) {
        /* Answer with the decision stored with the first submission. */
        d.klass = rt_class_parse(s_str(reply->element[2]));
        d.score = atoi(s_str(reply->element[3]));
        d.target = s_str(reply->element[4]);
        snprintf(reasons, sizeof reasons, "%s", s_str(reply->element[5]));
        s_split_reasons(reasons, &d);
        d.queue = s_str(reply->element[6]);
        (*in->m_duplicate)++;
    } else {
        (*in->m_stored)++;
    }
    Hetki__V1__RoutingDecision dec = HETKI__V1__ROUTING_DECISION__INIT;
    dec.class_ = d.klass;
    dec.score = d.score;
    dec.target = (char *)d.target;
    dec.queue = (char *)d.queue;
    dec.n_reasons = d.n_reasons;
    dec.reasons = (char **)d.reasons;
    Hetki__V1__Ack ack = HETKI__V1__ACK__INIT;
    ack.contact_id = (char *)id;
    ack.duplicate = duplicate;
    ack.decision = &dec;
    s_reply(in, p->identity, p->identity_len, p->corr, &ack);
    hk_histogram_observe(in->m_latency, (double)(hk_clock_real_us() - p->received_us) / 1e6);
    HK_DEBUG("contact.acked", "contact=%s tenant=%s duplicate=%d class=%s", id, p->tenant,
             duplicate, rt_class_name(d.klass));
    if (!duplicate) {
        rt_events_contact(in->events, "contact.queued", p->tenant, id, &d);
    }
    free(p);
    s_update_flow(in);
}

/* Appends field=value to the argument list when value is non-empty. */
static void s_field(const char **argv, size_t *lens, int *argc, const char *name,
                    const char *value) {
    if (value && value[0] && *argc + 2 <= S_MAX_FIELDS) {
        argv[*argc] = name;
        lens[*argc] = strlen(name);
        argv[*argc + 1] = value;
        lens[*argc + 1] = strlen(value);
        *argc += 2;
    }
}

static void s_store(rt_ingest_t *in, const hk_frame_t *identity, const char *corr,
                    const Hetki__V1__Contact *c) {
    s_pending_t *p = calloc(1, sizeof *p);
    assert(p);
    p->in = in;
    p->identity_len = identity->len;
    memcpy(p->identity, identity->data, identity->len);
    snprintf(p->corr, sizeof p->corr, "%s", corr);
    snprintf(p->tenant, sizeof p->tenant, "%s", c->tenant);
    p->received_us = hk_clock_real_us();
    rt_classify(c, &p->decision);
    const rt_decision_t *d = &p->decision;

    char id[HK_ID_LEN + 1];
    hk_id_new(id);
    const char *channel = rt_channel_name(c->channel);
    int64_t now = hk_clock_now_ms();
    int64_t received = c->received_at_ms > 0 ? c->received_at_ms : now;
    char k_dedupe[400], k_contact[96], k_queue[96], k_index[64];
    snprintf(k_dedupe, sizeof k_dedupe, "hk:{%s}:dedupe:%s:%s", c->tenant, channel, c->dedupe_key);
    snprintf(k_contact, sizeof k_contact, "hk:{%s}:contact:%s", c->tenant, id);
    snprintf(k_queue, sizeof k_queue, "hk:{%s}:queue:%s", c->tenant, d->queue);
    snprintf(k_index, sizeof k_index, "hk:{%s}:contacts", c->tenant);
    char retention[24], qscore[32], received_s[24], now_s[24], score_s[8], reasons[512];
    snprintf(retention, sizeof retention, "%ld", in->opts.dedupe_retention_s);
    /* Lower is served first: more urgent first, then older first. */
    snprintf(qscore, sizeof qscore, "%lld",
             (long long)(100 - d->score) * 10000000000000LL + (long long)received);
    snprintf(received_s, sizeof received_s, "%lld", (long long)received);
    snprintf(now_s, sizeof now_s, "%lld", (long long)now);
    snprintf(score_s, sizeof score_s, "%d", d->score);
    reasons[0] = '\0';
    for (size_t i = 0; i < d->n_reasons; i++) {
        size_t used = strlen(reasons);
        snprintf(reasons + used, sizeof reasons - used, "%s%s", i ? "," : "", d->reasons[i]);
    }

    const char *argv[S_MAX_FIELDS + 8];
    size_t lens[S_MAX_FIELDS + 8];
    int argc = 0;
    const char *fixed[] = {k_dedupe, k_contact, k_queue, k_index,
                           id,       retention, qscore,  received_s};
    for (size_t i = 0; i < 8; i++) {
        argv[argc] = fixed[i];
        lens[argc++] = strlen(fixed[i]);
    }
    const char **fv = argv + argc;
    size_t *fl = lens + argc;
    int nf = 0;
    const Hetki__V1__CustomerIdentity *cu = c->customer;
    const Hetki__V1__Choices *ch = c->choices;
    s_field(fv, fl, &nf, "id", id);
    s_field(fv, fl, &nf, "tenant", c->tenant);
    s_field(fv, fl, &nf, "channel", channel);
    s_field(fv, fl, &nf, "dedupe_key", c->dedupe_key);
    if (cu) {
        s_field(fv, fl, &nf, "phone_number", cu->phone_number);
        s_field(fv, fl, &nf, "email_address", cu->email_address);
        s_field(fv, fl, &nf, "chat_session", cu->chat_session);
        s_field(fv, fl, &nf, "kiosk_device", cu->kiosk_device);
        s_field(fv, fl, &nf, "entered_phone", cu->entered_phone);
        s_field(fv, fl, &nf, "entered_email", cu->entered_email);
        s_field(fv, fl, &nf, "display_name", cu->display_name);
    }
    s_field(fv, fl, &nf, "language", c->language);
    s_field(fv, fl, &nf, "subject", c->subject);
    s_field(fv, fl, &nf, "text", c->text);
    if (ch) {
        s_field(fv, fl, &nf, "choice_urgent", ch->urgent ? "1" : "");
        s_field(fv, fl, &nf, "choice_person", ch->talk_to_person ? "1" : "");
        s_field(fv, fl, &nf, "choice_callback", ch->callback ? "1" : "");
        s_field(fv, fl, &nf, "ivr_digits", ch->ivr_digits);
    }
    s_field(fv, fl, &nf, "received_at_ms", received_s);
    s_field(fv, fl, &nf, "stored_at_ms", now_s);
    s_field(fv, fl, &nf, "gateway", c->gateway);
    s_field(fv, fl, &nf, "router", in->instance);
    s_field(fv, fl, &nf, "state", "queued");
    s_field(fv, fl, &nf, "class", rt_class_name(d->klass));
    s_field(fv, fl, &nf, "score", score_s);
    s_field(fv, fl, &nf, "target", d->target);
    s_field(fv, fl, &nf, "queue", d->queue);
    s_field(fv, fl, &nf, "reasons", reasons);
    argc += nf;
    if (hk_redis_eval(in->redis, in->script, 4, argc, argv, lens, s_on_stored, p) != 0) {
        (*in->m_unavailable)++;
        s_reply_error(in, p->identity, p->identity_len, p->corr,
                      HETKI__V1__ERROR_CODE__ERROR_UNAVAILABLE, "storage unavailable, retry");
        free(p);
        return;
    }
    in->inflight++;
    s_update_flow(in);
}

static void s_on_request(hk_zsock_t *zs, const hk_frame_t *frames, size_t n, void *arg) {
    rt_ingest_t *in = arg;
    char err[256];
    (*in->m_received)++;
    /* [identity][empty][envelope] as a DEALER or REQ peer sends it. */
    if (n < 1 || frames[0].len == 0 || frames[0].len > S_MAX_IDENTITY) {
        (*in->m_garbage)++;
        HK_WARN("bus.garbage", "reason=\"no peer identity\" frames=%zu", n);
        return;
    }
    if (n != 3 || frames[1].len != 0) {
        (*in->m_garbage)++;
        HK_WARN("bus.garbage", "reason=\"expected [empty][envelope]\" frames=%zu", n);
        s_reply_error(in, frames[0].data, frames[0].len, NULL, HETKI__V1__ERROR_CODE__ERROR_INVALID,
                      "malformed request: expected an empty delimiter frame and one envelope");
        return;
    }
    hk_envelope_t *env = hk_codec_decode(frames[2].data, frames[2].len, err, sizeof err);
    if (!env) {
        (*in->m_garbage)++;
        HK_WARN("bus.garbage", "reason=\"%s\" bytes=%zu", err, frames[2].len);
        s_reply_error(in, frames[0].data, frames[0].len, NULL, HETKI__V1__ERROR_CODE__ERROR_INVALID,
                      err);
        return;
    }
    const char *corr = env->correlation_id ? env->correlation_id : "";
    if (env->body_case == HETKI__V1__ENVELOPE__BODY_HEARTBEAT) {
        Hetki__V1__Heartbeat hb = HETKI__V1__HEARTBEAT__INIT;
        hb.instance = in->instance;
        hb.service = "router";
        hb.seq = env->heartbeat->seq;
        hk_envelope_t pong = HETKI__V1__ENVELOPE__INIT;
        uint8_t buf[512];
        pong.version = HK_CODEC_VERSION;
        pong.correlation_id = (char *)corr;
        pong.sent_at_ms = hk_clock_now_ms();
        pong.body_case = HETKI__V1__ENVELOPE__BODY_HEARTBEAT;
        pong.heartbeat = &hb;
        size_t len = hk_codec_encode_to(&pong, buf, sizeof buf);
        hk_frame_t out[3] = {frames[0], {(const uint8_t *)"", 0}, {buf, len}};
        if (len) {
            hk_zsock_send(in->zs, out, 3);
        }
    } else if (env->body_case != HETKI__V1__ENVELOPE__BODY_CONTACT) {
        (*in->m_rejected)++;
        s_reply_error(in, frames[0].data, frames[0].len, corr, HETKI__V1__ERROR_CODE__ERROR_INVALID,
                      "unexpected message type on the contacts socket");
    } else if (strlen(corr) == 0 || strlen(corr) > HK_ID_LEN * 2) {
        (*in->m_rejected)++;
        s_reply_error(in, frames[0].data, frames[0].len, corr, HETKI__V1__ERROR_CODE__ERROR_INVALID,
                      "correlation_id is required (at most 52 characters)");
    } else if (rt_validate_contact(env->contact, err, sizeof err) != 0) {
        (*in->m_rejected)++;
        HK_INFO("contact.rejected", "corr=%s error=\"%s\"", corr, err);
        s_reply_error(in, frames[0].data, frames[0].len, corr, HETKI__V1__ERROR_CODE__ERROR_INVALID,
                      err);
    } else if (in->draining) {
        s_reply_error(in, frames[0].data, frames[0].len, corr,
                      HETKI__V1__ERROR_CODE__ERROR_UNAVAILABLE, "router draining, retry");
    } else {
        s_store(in, &frames[0], corr, env->contact);
    }
    hk_codec_free(&env);
}

rt_ingest_t *rt_ingest_new(hk_service_t *svc, rt_events_t *events, const char *endpoint,
                           const rt_ingest_opts_t *opts, char *bound, size_t boundlen) {
    rt_ingest_t *in = calloc(1, sizeof *in);
    assert(in);
    in->svc = svc;
    in->redis = hk_service_redis(svc);
    in->events = events;
    in->opts = *opts;
    snprintf(in->instance, sizeof in->instance, "%s", hk_service_config(svc)->instance);
    in->script = hk_redis_script(in->redis, "contact_ingest", rt_lua_get("contact_ingest"));
    in->zs = hk_zsock_new(hk_service_loop(svc), hk_service_zctx(svc), ZMQ_ROUTER, s_on_request, in);
    if (!in->zs) {
        free(in);
        return NULL;
    }
    int one = 1;
    int hwm = 100000;
    void *raw = hk_zsock_raw(in->zs);
    zmq_setsockopt(raw, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    zmq_setsockopt(raw, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(raw, ZMQ_RCVHWM, &hwm, sizeof hwm);
    int64_t maxmsg = HK_CODEC_MAX_FRAME + 1024;
    zmq_setsockopt(raw, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    if (hk_zsock_bind(in->zs, endpoint, bound, boundlen) != 0) {
        HK_ERROR("ingest.bind_failed", "endpoint=%s error=\"%s\"", endpoint, zmq_strerror(errno));
        hk_zsock_destroy(&in->zs);
        free(in);
        return NULL;
    }
    hk_metrics_t *m = hk_service_metrics(svc);
    in->m_received = hk_metrics_counter(m, "router_requests_total", "bus requests received");
    in->m_stored =
        hk_metrics_counter(m, "router_contacts_stored_total", "new contacts stored and acked");
    in->m_duplicate = hk_metrics_counter(m, "router_contacts_duplicate_total",
                                         "submissions acked as duplicates of a stored contact");
    in->m_rejected = hk_metrics_counter(m, "router_contacts_rejected_total",
                                        "submissions refused by validation");
    in->m_garbage =
        hk_metrics_counter(m, "router_bus_garbage_total", "frames that were not a valid envelope");
    in->m_unavailable = hk_metrics_counter(m, "router_store_unavailable_total",
                                           "submissions answered 'retry' (redis unavailable)");
    static const double bounds[] = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1};
    in->m_latency = hk_metrics_histogram(m, "router_ack_latency_seconds",
                                         "receipt to ack of a contact", bounds, 10);
    in->m_inflight = hk_metrics_gauge(m, "router_inflight", "contacts waiting for redis");
    return in;
}

size_t rt_ingest_inflight(const rt_ingest_t *in) {
    return in->inflight;
}

void rt_ingest_drain(rt_ingest_t *in, void (*done)(void *arg), void *arg) {
    in->draining = 1;
    in->drained = done;
    in->drained_arg = arg;
    s_update_flow(in);
}

void rt_ingest_destroy(rt_ingest_t **in_p) {
    assert(in_p);
    rt_ingest_t *in = *in_p;
    if (in) {
        *in_p = NULL;
        hk_zsock_destroy(&in->zs);
        free(in);
    }
}
