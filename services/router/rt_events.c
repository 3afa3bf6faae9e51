/* rt_events: PUB of contact events with (publisher, seq) and idle heartbeats. */
#include "rt_events.h"

#include "hk_clock.h"
#include "hk_codec.h"
#include "hk_log.h"
#include "hk_zsock.h"

#include <hiredis/hiredis.h>

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
    uint64_t epoch; /* this process's start (unix us): a restart is a new epoch */
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
    hk_zsock_send(ev->zs, frames, 2);          /* PUB drops for slow subscribers by design */
    ev->last_sent = hk_clock_real_us() / 1000; /* transport time: real even when virtual */
}

static void s_on_heartbeat(uv_timer_t *t) {
    rt_events_t *ev = t->data;
    if (hk_clock_real_us() / 1000 - ev->last_sent < S_HEARTBEAT_MS) {
        return;
    }
    Hetki__V1__Heartbeat hb = HETKI__V1__HEARTBEAT__INIT;
    hb.instance = ev->publisher;
    hb.service = "router";
    hb.seq = ev->seq;
    hb.epoch = ev->epoch;
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
    ev->epoch = (uint64_t)hk_clock_real_us();
    uv_timer_init(loop, &ev->heartbeat);
    ev->heartbeat.data = ev;
    uv_timer_start(&ev->heartbeat, s_on_heartbeat, S_HEARTBEAT_MS / 4, S_HEARTBEAT_MS / 4);
    return ev;
}

void rt_events_publish(rt_events_t *ev, const rt_event_t *e) {
    Hetki__V1__RoutingDecision dec = HETKI__V1__ROUTING_DECISION__INIT;
    Hetki__V1__ContactEvent ce = HETKI__V1__CONTACT_EVENT__INIT;
    if (e->decision) {
        rt_decision_to_proto(e->decision, &dec);
        ce.decision = &dec;
    }
    ce.publisher = ev->publisher;
    ce.seq = ++ev->seq;
    ce.epoch = ev->epoch;
    ce.kind = (char *)(e->kind ? e->kind : "");
    ce.tenant = (char *)(e->tenant ? e->tenant : "");
    ce.contact_id = (char *)(e->contact_id ? e->contact_id : "");
    ce.agent_id = (char *)(e->agent_id ? e->agent_id : "");
    ce.state = (char *)(e->state ? e->state : "");
    ce.queue = (char *)(e->queue ? e->queue : "");
    ce.rev = e->rev;
    ce.detail = (char *)(e->detail ? e->detail : "");
    ce.payload = (char *)(e->payload ? e->payload : "");
    ce.at_ms = hk_clock_now_ms();
    hk_envelope_t env = HETKI__V1__ENVELOPE__INIT;
    env.body_case = HETKI__V1__ENVELOPE__BODY_EVENT;
    env.event = &ce;
    char topic[48];
    snprintf(topic, sizeof topic, "t:%s", ce.tenant);
    s_publish(ev, topic, &env);
}

/* Element i of a script's event array as text ("" when absent or not text). */
static const char *s_item(const redisReply *item, size_t i) {
    const redisReply *v = i < item->elements ? item->element[i] : NULL;
    return v && (v->type == REDIS_REPLY_STRING || v->type == REDIS_REPLY_STATUS) ? v->str : "";
}

void rt_events_publish_reply(rt_events_t *ev, const char *tenant, const redisReply *events) {
    if (!events || events->type != REDIS_REPLY_ARRAY) {
        HK_ERROR("events.bad_script_events", "tenant=%s type=%d", tenant,
                 events ? events->type : -1);
        return;
    }
    for (size_t i = 0; i < events->elements; i++) {
        const redisReply *item = events->element[i];
        if (item->type != REDIS_REPLY_ARRAY || item->elements < 7 ||
            item->element[5]->type != REDIS_REPLY_INTEGER) {
            HK_ERROR("events.bad_script_event", "tenant=%s index=%zu", tenant, i);
            continue;
        }
        rt_event_t e = {.kind = s_item(item, 0),
                        .tenant = tenant,
                        .contact_id = s_item(item, 1),
                        .agent_id = s_item(item, 2),
                        .state = s_item(item, 3),
                        .queue = s_item(item, 4),
                        .rev = (uint64_t)item->element[5]->integer,
                        .detail = s_item(item, 6),
                        .payload = s_item(item, 7)};
        rt_events_publish(ev, &e);
    }
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
