/* rt_events: PUB of contact events with (publisher, seq) and idle heartbeats. */
#include "rt_events.h"

#include "hk_clock.h"
#include "hk_codec.h"
#include "hk_log.h"
#include "hk_zsock.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define S_HEARTBEAT_MS 1000

struct rt_events_t {
    hk_zsock_t *zs;
    char publisher[96];
    uint64_t seq;
    int64_t last_sent;
    uv_timer_t heartbeat;
};

static void s_publish(rt_events_t *ev, const char *topic, hk_envelope_t *env) {
    uint8_t buf[HK_CODEC_MAX_FRAME];
    env->version = HK_CODEC_VERSION;
    env->sent_at_ms = hk_clock_now_ms();
    size_t len = hk_codec_encode_to(env, buf, sizeof buf);
    if (len == 0) {
        HK_ERROR("events.encode_failed", "topic=%s", topic);
        return;
    }
    hk_frame_t frames[2] = {{(const uint8_t *)topic, strlen(topic)}, {buf, len}};
    hk_zsock_send(ev->zs, frames, 2); /* PUB drops for slow subscribers by design */
    ev->last_sent = hk_clock_mono_ms();
}

static void s_on_heartbeat(uv_timer_t *t) {
    rt_events_t *ev = t->data;
    if (hk_clock_mono_ms() - ev->last_sent < S_HEARTBEAT_MS) {
        return;
    }
    Hetki__V1__Heartbeat hb = HETKI__V1__HEARTBEAT__INIT;
    hb.instance = ev->publisher;
    hb.service = "router";
    hb.seq = ev->seq;
    hk_envelope_t env = HETKI__V1__ENVELOPE__INIT;
    env.body_case = HETKI__V1__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    s_publish(ev, "hb", &env);
}

static void s_ignore(hk_zsock_t *zs, const hk_frame_t *frames, size_t n, void *arg) {
    (void)zs;
    (void)frames;
    (void)n;
    (void)arg;
}

rt_events_t *rt_events_new(uv_loop_t *loop, void *zctx, const char *publisher, const char *endpoint,
                           char *bound, size_t boundlen) {
    rt_events_t *ev = calloc(1, sizeof *ev);
    assert(ev);
    ev->zs = hk_zsock_new(loop, zctx, ZMQ_PUB, s_ignore, ev);
    if (!ev->zs || hk_zsock_bind(ev->zs, endpoint, bound, boundlen) != 0) {
        HK_ERROR("events.bind_failed", "endpoint=%s error=\"%s\"", endpoint, zmq_strerror(errno));
        hk_zsock_destroy(&ev->zs);
        free(ev);
        return NULL;
    }
    snprintf(ev->publisher, sizeof ev->publisher, "%s", publisher);
    uv_timer_init(loop, &ev->heartbeat);
    ev->heartbeat.data = ev;
    uv_timer_start(&ev->heartbeat, s_on_heartbeat, S_HEARTBEAT_MS / 4, S_HEARTBEAT_MS / 4);
    return ev;
}

void rt_events_contact(rt_events_t *ev, const char *kind, const char *tenant,
                       const char *contact_id, const rt_decision_t *d) {
    Hetki__V1__RoutingDecision dec = HETKI__V1__ROUTING_DECISION__INIT;
    dec.class_ = d->klass;
    dec.score = d->score;
    dec.target = (char *)d->target;
    dec.queue = (char *)d->queue;
    dec.n_reasons = d->n_reasons;
    dec.reasons = (char **)d->reasons;
    Hetki__V1__ContactEvent ce = HETKI__V1__CONTACT_EVENT__INIT;
    ce.publisher = ev->publisher;
    ce.seq = ++ev->seq;
    ce.kind = (char *)kind;
    ce.tenant = (char *)tenant;
    ce.contact_id = (char *)contact_id;
    ce.decision = &dec;
    ce.at_ms = hk_clock_now_ms();
    hk_envelope_t env = HETKI__V1__ENVELOPE__INIT;
    env.body_case = HETKI__V1__ENVELOPE__BODY_EVENT;
    env.event = &ce;
    char topic[48];
    snprintf(topic, sizeof topic, "t:%s", tenant);
    s_publish(ev, topic, &env);
}

uint64_t rt_events_seq(const rt_events_t *ev) {
    return ev->seq;
}

static void s_on_closed(uv_handle_t *h) {
    free(h->data);
}

void rt_events_destroy(rt_events_t **ev_p) {
    assert(ev_p);
    rt_events_t *ev = *ev_p;
    if (ev) {
        *ev_p = NULL;
        hk_zsock_destroy(&ev->zs);
        uv_close((uv_handle_t *)&ev->heartbeat, s_on_closed);
    }
}
