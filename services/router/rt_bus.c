/* rt_bus: requests in over the bus, answers out after the engine (and so Redis) answered. */
#include "rt_bus.h"

#include "hk_clock.h"
#include "hk_codec.h"
#include "hk_id.h"
#include "hk_log.h"
#include "hk_zsock.h"
#include "rt_tenant.h"
#include "rt_validate.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define S_MAX_IDENTITY 256
#define S_MAX_CORR 64

struct rt_bus_t {
    hk_service_t *svc;
    rt_engine_t *engine;
    hk_zsock_t *zs;
    rt_bus_opts_t opts;
    char instance[96];
    size_t inflight;
    int paused;
    int draining;
    void (*drained)(void *);
    void *drained_arg;
    uint64_t *m_received, *m_stored, *m_duplicate, *m_rejected, *m_garbage, *m_unavailable,
        *m_commands, *m_command_errors;
    hk_histogram_t *m_latency;
    double *m_inflight;
};

/* Who to answer, kept while the engine works. */
typedef struct {
    rt_bus_t *bus;
    uint8_t identity[S_MAX_IDENTITY];
    size_t identity_len;
    char corr[S_MAX_CORR + 1];
    int64_t received_us;
} s_pending_t;

static void s_update_flow(rt_bus_t *bus) {
    *bus->m_inflight = (double)bus->inflight;
    int should_pause = bus->draining || bus->inflight >= (size_t)bus->opts.max_inflight;
    if (should_pause != bus->paused) {
        bus->paused = should_pause;
        hk_zsock_pause(bus->zs, should_pause);
    }
    if (bus->draining && bus->inflight == 0 && bus->drained) {
        void (*done)(void *) = bus->drained;
        bus->drained = NULL;
        done(bus->drained_arg);
    }
}

static void s_send(rt_bus_t *bus, const uint8_t *identity, size_t identity_len, const char *corr,
                   hk_envelope_t *env) {
    uint8_t buf[8192];
    env->version = HK_CODEC_VERSION;
    env->correlation_id = (char *)(corr ? corr : "");
    env->sent_at_ms = hk_clock_now_ms();
    size_t len = hk_codec_encode_to(env, buf, sizeof buf);
    if (len == 0) {
        HK_ERROR("bus.reply_encode_failed", "corr=%s", env->correlation_id);
        return;
    }
    hk_frame_t frames[3] = {{identity, identity_len}, {(const uint8_t *)"", 0}, {buf, len}};
    if (hk_zsock_send(bus->zs, frames, 3) != 0) {
        /* The client is gone (ROUTER_MANDATORY): it resends elsewhere. */
        HK_WARN("bus.reply_failed", "corr=%s error=\"%s\"", env->correlation_id,
                zmq_strerror(errno));
    }
}

static void s_send_ack(rt_bus_t *bus, const uint8_t *identity, size_t identity_len,
                       const char *corr, Hetki__V1__Ack *ack) {
    hk_envelope_t env = HETKI__V1__ENVELOPE__INIT;
    ack->router = bus->instance;
    env.body_case = HETKI__V1__ENVELOPE__BODY_ACK;
    env.ack = ack;
    s_send(bus, identity, identity_len, corr, &env);
}

static void s_send_error(rt_bus_t *bus, const uint8_t *identity, size_t identity_len,
                         const char *corr, Hetki__V1__ErrorCode code, const char *text) {
    Hetki__V1__Ack ack = HETKI__V1__ACK__INIT;
    ack.error_code = code;
    ack.error_text = (char *)text;
    s_send_ack(bus, identity, identity_len, corr, &ack);
}

static s_pending_t *s_pending(rt_bus_t *bus, const hk_frame_t *identity, const char *corr) {
    s_pending_t *p = calloc(1, sizeof *p);
    assert(p);
    p->bus = bus;
    p->identity_len = identity->len;
    memcpy(p->identity, identity->data, identity->len);
    snprintf(p->corr, sizeof p->corr, "%s", corr);
    p->received_us = hk_clock_real_us();
    bus->inflight++;
    s_update_flow(bus);
    return p;
}

static void s_pending_done(s_pending_t *p) {
    rt_bus_t *bus = p->bus;
    free(p);
    bus->inflight--;
    s_update_flow(bus);
}

static void s_on_intake(const rt_intake_result_t *r, void *arg) {
    s_pending_t *p = arg;
    rt_bus_t *bus = p->bus;
    Hetki__V1__Ack ack = HETKI__V1__ACK__INIT;
    Hetki__V1__RoutingDecision dec = HETKI__V1__ROUTING_DECISION__INIT;
    if (r->error_code != HETKI__V1__ERROR_CODE__ERROR_NONE) {
        (*bus->m_unavailable)++;
        ack.error_code = r->error_code;
        ack.error_text = (char *)r->error_text;
    } else {
        rt_decision_to_proto(r->decision, &dec);
        ack.contact_id = (char *)r->contact_id;
        ack.duplicate = r->duplicate;
        ack.decision = &dec;
        ack.estimated_wait_s = (r->estimated_wait_ms + 999) / 1000;
        ack.promise_s = r->promise_ms / 1000;
        ack.message = (char *)r->message;
        (*(r->duplicate ? bus->m_duplicate : bus->m_stored))++;
        hk_histogram_observe(bus->m_latency, (double)(hk_clock_real_us() - p->received_us) / 1e6);
        HK_DEBUG("contact.acked", "contact=%s duplicate=%d state=%s", r->contact_id, r->duplicate,
                 r->state);
    }
    s_send_ack(bus, p->identity, p->identity_len, p->corr, &ack);
    s_pending_done(p);
}

static void s_on_reply(const rt_reply_t *r, void *arg) {
    s_pending_t *p = arg;
    rt_bus_t *bus = p->bus;
    Hetki__V1__CommandReply reply = HETKI__V1__COMMAND_REPLY__INIT;
    reply.error_code = r->error_code;
    reply.error_text = (char *)r->error_text;
    reply.agent_state = (char *)r->agent_state;
    reply.contact_state = (char *)r->contact_state;
    reply.contact_id = (char *)r->contact_id;
    reply.router = bus->instance;
    if (r->error_code != HETKI__V1__ERROR_CODE__ERROR_NONE) {
        (*bus->m_command_errors)++;
        HK_INFO("command.refused", "corr=%s contact=%s code=%d error=\"%s\"", p->corr,
                r->contact_id, (int)r->error_code, r->error_text);
    }
    hk_envelope_t env = HETKI__V1__ENVELOPE__INIT;
    env.body_case = HETKI__V1__ENVELOPE__BODY_COMMAND_REPLY;
    env.command_reply = &reply;
    s_send(bus, p->identity, p->identity_len, p->corr, &env);
    s_pending_done(p);
}

static void s_pong(rt_bus_t *bus, const hk_frame_t *identity, const char *corr, uint64_t seq) {
    Hetki__V1__Heartbeat hb = HETKI__V1__HEARTBEAT__INIT;
    hb.instance = bus->instance;
    hb.service = "router";
    hb.seq = seq;
    hk_envelope_t env = HETKI__V1__ENVELOPE__INIT;
    env.body_case = HETKI__V1__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    s_send(bus, identity->data, identity->len, corr, &env);
}

static void s_dispatch(rt_bus_t *bus, const hk_frame_t *id, hk_envelope_t *env) {
    char err[256];
    const char *corr = env->correlation_id;
    if (env->body_case == HETKI__V1__ENVELOPE__BODY_HEARTBEAT) {
        s_pong(bus, id, corr, env->heartbeat->seq);
        return;
    }
    if (corr[0] == '\0' || strlen(corr) > S_MAX_CORR) {
        (*bus->m_rejected)++;
        s_send_error(bus, id->data, id->len, "", HETKI__V1__ERROR_CODE__ERROR_INVALID,
                     "correlation_id is required (at most 64 characters)");
        return;
    }
    if (bus->draining) {
        s_send_error(bus, id->data, id->len, corr, HETKI__V1__ERROR_CODE__ERROR_UNAVAILABLE,
                     "router draining, retry");
        return;
    }
    switch (env->body_case) {
    case HETKI__V1__ENVELOPE__BODY_CONTACT:
        if (rt_validate_contact(env->contact, err, sizeof err) != 0) {
            (*bus->m_rejected)++;
            HK_INFO("contact.rejected", "corr=%s error=\"%s\"", corr, err);
            s_send_error(bus, id->data, id->len, corr, HETKI__V1__ERROR_CODE__ERROR_INVALID, err);
            return;
        }
        rt_engine_intake(bus->engine, env->contact, s_on_intake, s_pending(bus, id, corr));
        return;
    case HETKI__V1__ENVELOPE__BODY_AGENT_PROFILE:
        (*bus->m_commands)++;
        rt_engine_agent_profile(bus->engine, env->agent_profile, s_on_reply,
                                s_pending(bus, id, corr));
        return;
    case HETKI__V1__ENVELOPE__BODY_AGENT_COMMAND:
        (*bus->m_commands)++;
        rt_engine_agent_command(bus->engine, env->agent_command, s_on_reply,
                                s_pending(bus, id, corr));
        return;
    case HETKI__V1__ENVELOPE__BODY_CHAT_MESSAGE:
        (*bus->m_commands)++;
        rt_engine_chat_message(bus->engine, env->chat_message, s_on_reply,
                               s_pending(bus, id, corr));
        return;
    case HETKI__V1__ENVELOPE__BODY_CALL_STATE:
        (*bus->m_commands)++;
        rt_engine_call_state(bus->engine, env->call_state, s_on_reply, s_pending(bus, id, corr));
        return;
    case HETKI__V1__ENVELOPE__BODY_TENANT_STATUS:
        (*bus->m_commands)++;
        rt_tenant_status(bus->engine, env->tenant_status, s_on_reply, s_pending(bus, id, corr));
        return;
    case HETKI__V1__ENVELOPE__BODY_CUSTOMER_CONFIRM:
        (*bus->m_commands)++;
        rt_engine_customer_confirm(bus->engine, env->customer_confirm, s_on_reply,
                                   s_pending(bus, id, corr));
        return;
    default:
        (*bus->m_rejected)++;
        s_send_error(bus, id->data, id->len, corr, HETKI__V1__ERROR_CODE__ERROR_INVALID,
                     "unexpected message type on the request socket");
        return;
    }
}

static void s_on_request(hk_zsock_t *zs, const hk_frame_t *frames, size_t n, void *arg) {
    rt_bus_t *bus = arg;
    char err[256];
    (*bus->m_received)++;
    /* [identity][empty][envelope] as a DEALER or REQ peer sends it. */
    if (n < 1 || frames[0].len == 0 || frames[0].len > S_MAX_IDENTITY) {
        (*bus->m_garbage)++;
        HK_WARN("bus.garbage", "reason=\"no peer identity\" frames=%zu", n);
        return;
    }
    if (n != 3 || frames[1].len != 0) {
        (*bus->m_garbage)++;
        HK_WARN("bus.garbage", "reason=\"expected [empty][envelope]\" frames=%zu", n);
        s_send_error(bus, frames[0].data, frames[0].len, NULL, HETKI__V1__ERROR_CODE__ERROR_INVALID,
                     "malformed request: expected an empty delimiter frame and one envelope");
        return;
    }
    hk_envelope_t *env = hk_codec_decode(frames[2].data, frames[2].len, err, sizeof err);
    if (!env) {
        (*bus->m_garbage)++;
        HK_WARN("bus.garbage", "reason=\"%s\" bytes=%zu", err, frames[2].len);
        s_send_error(bus, frames[0].data, frames[0].len, NULL, HETKI__V1__ERROR_CODE__ERROR_INVALID,
                     err);
        return;
    }
    s_dispatch(bus, &frames[0], env);
    hk_codec_free(&env);
}

rt_bus_t *rt_bus_new(hk_service_t *svc, rt_engine_t *engine, const char *endpoint,
                     const rt_bus_opts_t *opts, char *bound, size_t boundlen) {
    rt_bus_t *bus = calloc(1, sizeof *bus);
    assert(bus);
    bus->svc = svc;
    bus->engine = engine;
    bus->opts = *opts;
    snprintf(bus->instance, sizeof bus->instance, "%s", hk_service_config(svc)->instance);
    bus->zs =
        hk_zsock_new(hk_service_loop(svc), hk_service_zctx(svc), ZMQ_ROUTER, s_on_request, bus);
    if (!bus->zs) {
        free(bus);
        return NULL;
    }
    int one = 1;
    int hwm = 100000;
    void *raw = hk_zsock_raw(bus->zs);
    zmq_setsockopt(raw, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    zmq_setsockopt(raw, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(raw, ZMQ_RCVHWM, &hwm, sizeof hwm);
    int64_t maxmsg = HK_CODEC_MAX_FRAME + 1024;
    zmq_setsockopt(raw, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    if (hk_zsock_bind(bus->zs, endpoint, bound, boundlen) != 0) {
        HK_ERROR("bus.bind_failed", "endpoint=%s error=\"%s\"", endpoint, zmq_strerror(errno));
        hk_zsock_destroy(&bus->zs);
        free(bus);
        return NULL;
    }
    hk_metrics_t *m = hk_service_metrics(svc);
    bus->m_received = hk_metrics_counter(m, "router_requests_total", "bus requests received");
    bus->m_stored =
        hk_metrics_counter(m, "router_contacts_stored_total", "new contacts stored and acked");
    bus->m_duplicate = hk_metrics_counter(m, "router_contacts_duplicate_total",
                                          "submissions acked as duplicates of a stored contact");
    bus->m_rejected =
        hk_metrics_counter(m, "router_contacts_rejected_total", "requests refused by validation");
    bus->m_garbage =
        hk_metrics_counter(m, "router_bus_garbage_total", "frames that were not a valid envelope");
    bus->m_unavailable = hk_metrics_counter(m, "router_store_unavailable_total",
                                            "submissions answered 'retry' (redis unavailable)");
    bus->m_commands = hk_metrics_counter(m, "router_commands_total",
                                         "agent profiles, agent commands, customer answers");
    bus->m_command_errors =
        hk_metrics_counter(m, "router_command_errors_total", "commands answered with an error");
    static const double bounds[] = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1};
    bus->m_latency = hk_metrics_histogram(m, "router_ack_latency_seconds",
                                          "receipt to ack of a contact", bounds, 10);
    bus->m_inflight = hk_metrics_gauge(m, "router_inflight", "requests waiting for redis");
    return bus;
}

void rt_bus_drain(rt_bus_t *bus, void (*done)(void *arg), void *arg) {
    bus->draining = 1;
    bus->drained = done;
    bus->drained_arg = arg;
    s_update_flow(bus);
}

void rt_bus_destroy(rt_bus_t **bus_p) {
    assert(bus_p);
    rt_bus_t *bus = *bus_p;
    if (bus) {
        *bus_p = NULL;
        hk_zsock_destroy(&bus->zs);
        free(bus);
    }
}
