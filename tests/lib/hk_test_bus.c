/* hk_test_bus: synchronous DEALER requests and a SUB event collector for tests. */
#include "hk_test_bus.h"

#include "hk_curve.h"
#include "hk_test_proc.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define S_MAX_FRAME (HK_CODEC_MAX_FRAME + 1024)

struct hk_test_bus_t {
    void *zctx;
    void *sock;
    unsigned long next_corr;
};

struct hk_test_events_t {
    void *zctx;
    void *sock;
    hk_test_event_t *items;
    size_t n, cap;
    /* The last probe event: kept apart from the collected events. */
    unsigned long probes_seen;
    char probe_publisher[96];
    int64_t probe_at_ms;
};

static long long s_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void s_copy(char *dst, size_t cap, const char *src) {
    snprintf(dst, cap, "%s", src ? src : "");
}

hk_test_bus_t *hk_test_bus_new(const char *endpoint) {
    hk_test_bus_t *bus = calloc(1, sizeof *bus);
    if (!bus) {
        return NULL;
    }
    bus->zctx = zmq_ctx_new();
    bus->sock = bus->zctx ? zmq_socket(bus->zctx, ZMQ_DEALER) : NULL;
    int linger = 0;
    if (!bus->sock || zmq_setsockopt(bus->sock, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        hk_curve_client(bus->sock, endpoint) != 0 || zmq_connect(bus->sock, endpoint) != 0) {
        hk_test_bus_destroy(&bus);
        return NULL;
    }
    return bus;
}

void hk_test_bus_destroy(hk_test_bus_t **bus_p) {
    hk_test_bus_t *bus = bus_p ? *bus_p : NULL;
    if (!bus) {
        return;
    }
    *bus_p = NULL;
    if (bus->sock) {
        zmq_close(bus->sock);
    }
    if (bus->zctx) {
        zmq_ctx_term(bus->zctx);
    }
    free(bus);
}

/* Receives one whole message within the time left; returns the decoded envelope of its last
 * frame, or NULL (timed_out says whether the time ran out). */
static hk_envelope_t *s_recv_reply(void *sock, long long until, int *timed_out) {
    static uint8_t buf[S_MAX_FRAME];
    *timed_out = 0;
    zmq_pollitem_t item = {sock, 0, ZMQ_POLLIN, 0};
    long long left = until - s_now_ms();
    if (left < 0 || zmq_poll(&item, 1, (long)left) <= 0 || !(item.revents & ZMQ_POLLIN)) {
        *timed_out = 1;
        return NULL;
    }
    int more = 1, last = -1, frames = 0, first_len = -1;
    while (more) {
        last = zmq_recv(sock, buf, sizeof buf, 0);
        if (last < 0) {
            return NULL;
        }
        if (frames++ == 0) {
            first_len = last;
        }
        size_t sz = sizeof more;
        zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &sz);
    }
    if (frames != 2 || first_len != 0 || last > (int)sizeof buf) {
        fprintf(stderr, "hk_test_bus: reply of %d frames is not [empty][envelope]\n", frames);
        return NULL;
    }
    char err[160];
    hk_envelope_t *env = hk_codec_decode(buf, (size_t)last, err, sizeof err);
    if (!env) {
        fprintf(stderr, "hk_test_bus: reply does not decode: %s\n", err);
    }
    return env;
}

static int s_send(hk_test_bus_t *bus, const void *data, size_t len, int with_delimiter) {
    if (with_delimiter && zmq_send(bus->sock, "", 0, ZMQ_SNDMORE) != 0) {
        return -1;
    }
    return zmq_send(bus->sock, data, len, 0) == (int)len ? 0 : -1;
}

int hk_test_bus_send(hk_test_bus_t *bus, hk_envelope_t *env, char *corr, size_t corr_len) {
    snprintf(corr, corr_len, "test-%d-%lu", (int)getpid(), ++bus->next_corr);
    env->version = HK_CODEC_VERSION;
    env->correlation_id = corr;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    env->sent_at_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    uint8_t *frame = NULL;
    size_t len = 0;
    int rc = hk_codec_encode(env, &frame, &len);
    env->correlation_id = NULL;
    rc = rc == 0 ? s_send(bus, frame, len, 1) : -1;
    free(frame);
    return rc;
}

hk_envelope_t *hk_test_bus_recv(hk_test_bus_t *bus, int timeout_ms) {
    long long until = s_now_ms() + timeout_ms;
    for (;;) {
        int timed_out = 0;
        hk_envelope_t *reply = s_recv_reply(bus->sock, until, &timed_out);
        if (reply || timed_out) {
            return reply;
        }
    }
}

hk_envelope_t *hk_test_bus_request(hk_test_bus_t *bus, hk_envelope_t *env, int timeout_ms) {
    char corr[64];
    if (hk_test_bus_send(bus, env, corr, sizeof corr) != 0) {
        return NULL;
    }
    long long until = s_now_ms() + timeout_ms;
    for (;;) {
        int timed_out = 0;
        hk_envelope_t *reply = s_recv_reply(bus->sock, until, &timed_out);
        if (reply && !strcmp(reply->correlation_id, corr)) {
            return reply;
        }
        hk_codec_free(&reply); /* an answer to an earlier request that timed out */
        if (timed_out) {
            return NULL;
        }
    }
}

int hk_test_bus_urgent_chat(hk_test_bus_t *bus, const char *tenant, const char *key,
                            const char *phone, const char *lang, const char *text, char *id,
                            size_t idlen, char *target, size_t targetlen) {
    Hetki__V1__Contact c = HETKI__V1__CONTACT__INIT;
    Hetki__V1__CustomerIdentity who = HETKI__V1__CUSTOMER_IDENTITY__INIT;
    Hetki__V1__Choices choices = HETKI__V1__CHOICES__INIT;
    who.chat_session = (char *)key;
    who.entered_phone = (char *)phone;
    choices.urgent = 1;
    c.tenant = (char *)tenant;
    c.channel = HETKI__V1__CHANNEL__CHANNEL_CHAT;
    c.dedupe_key = (char *)key;
    c.customer = &who;
    c.choices = &choices;
    c.language = (char *)lang;
    c.text = (char *)text;
    return hk_test_bus_submit(bus, &c, id, idlen, target, targetlen);
}

int hk_test_bus_submit(hk_test_bus_t *bus, const Hetki__V1__Contact *c, char *id, size_t idlen,
                       char *target, size_t targetlen) {
    hk_envelope_t *reply = hk_test_bus_contact(bus, c, 5000);
    int ok = reply && reply->body_case == HETKI__V1__ENVELOPE__BODY_ACK &&
             reply->ack->error_code == HETKI__V1__ERROR_CODE__ERROR_NONE;
    if (id) {
        snprintf(id, idlen, "%s", ok ? reply->ack->contact_id : "");
    }
    if (target) {
        snprintf(target, targetlen, "%s",
                 ok && reply->ack->decision ? reply->ack->decision->target : "");
    }
    hk_codec_free(&reply);
    return ok ? 0 : -1;
}

hk_envelope_t *hk_test_bus_raw(hk_test_bus_t *bus, const void *data, size_t len, int with_delimiter,
                               int timeout_ms) {
    return s_send(bus, data, len, with_delimiter) == 0 ? hk_test_bus_recv(bus, timeout_ms) : NULL;
}

void hk_test_reply_from(const hk_envelope_t *reply, hk_test_reply_t *out) {
    memset(out, 0, sizeof *out);
    if (!reply) {
        out->code = HETKI__V1__ERROR_CODE__ERROR_INTERNAL;
        s_copy(out->text, sizeof out->text, "no reply");
        return;
    }
    out->answered = 1;
    if (reply->body_case == HETKI__V1__ENVELOPE__BODY_COMMAND_REPLY) {
        const Hetki__V1__CommandReply *r = reply->command_reply;
        out->code = r->error_code;
        s_copy(out->text, sizeof out->text, r->error_text);
        s_copy(out->agent_state, sizeof out->agent_state, r->agent_state);
        s_copy(out->contact_state, sizeof out->contact_state, r->contact_state);
        s_copy(out->contact_id, sizeof out->contact_id, r->contact_id);
        s_copy(out->router, sizeof out->router, r->router);
    } else if (reply->body_case == HETKI__V1__ENVELOPE__BODY_ACK) {
        const Hetki__V1__Ack *a = reply->ack;
        out->is_ack = 1;
        out->code = a->error_code;
        s_copy(out->text, sizeof out->text, a->error_text);
        s_copy(out->contact_id, sizeof out->contact_id, a->contact_id);
        s_copy(out->router, sizeof out->router, a->router);
    } else {
        out->code = HETKI__V1__ERROR_CODE__ERROR_INTERNAL;
        s_copy(out->text, sizeof out->text, "unexpected reply body");
    }
}

static int s_call(hk_test_bus_t *bus, hk_envelope_t *env, hk_test_reply_t *out, int timeout_ms) {
    hk_envelope_t *reply = hk_test_bus_request(bus, env, timeout_ms);
    hk_test_reply_from(reply, out);
    hk_codec_free(&reply);
    return out->answered ? (int)out->code : -1;
}

int hk_test_bus_profile(hk_test_bus_t *bus, const Hetki__V1__AgentProfile *p, hk_test_reply_t *out,
                        int timeout_ms) {
    hk_envelope_t env = HETKI__V1__ENVELOPE__INIT;
    env.body_case = HETKI__V1__ENVELOPE__BODY_AGENT_PROFILE;
    env.agent_profile = (Hetki__V1__AgentProfile *)p;
    return s_call(bus, &env, out, timeout_ms);
}

int hk_test_bus_command(hk_test_bus_t *bus, const Hetki__V1__AgentCommand *cmd,
                        hk_test_reply_t *out, int timeout_ms) {
    hk_envelope_t env = HETKI__V1__ENVELOPE__INIT;
    env.body_case = HETKI__V1__ENVELOPE__BODY_AGENT_COMMAND;
    env.agent_command = (Hetki__V1__AgentCommand *)cmd;
    return s_call(bus, &env, out, timeout_ms);
}

int hk_test_bus_confirm(hk_test_bus_t *bus, const Hetki__V1__CustomerConfirm *cc,
                        hk_test_reply_t *out, int timeout_ms) {
    hk_envelope_t env = HETKI__V1__ENVELOPE__INIT;
    env.body_case = HETKI__V1__ENVELOPE__BODY_CUSTOMER_CONFIRM;
    env.customer_confirm = (Hetki__V1__CustomerConfirm *)cc;
    return s_call(bus, &env, out, timeout_ms);
}

hk_envelope_t *hk_test_bus_contact(hk_test_bus_t *bus, const Hetki__V1__Contact *c,
                                   int timeout_ms) {
    hk_envelope_t env = HETKI__V1__ENVELOPE__INIT;
    env.body_case = HETKI__V1__ENVELOPE__BODY_CONTACT;
    env.contact = (Hetki__V1__Contact *)c;
    return hk_test_bus_request(bus, &env, timeout_ms);
}

/* ------------------------------------------------------------------------------------- */
/* Events                                                                                 */

hk_test_events_t *hk_test_events_new(void) {
    hk_test_events_t *ev = calloc(1, sizeof *ev);
    if (!ev) {
        return NULL;
    }
    ev->zctx = zmq_ctx_new();
    ev->sock = ev->zctx ? zmq_socket(ev->zctx, ZMQ_SUB) : NULL;
    int linger = 0;
    if (!ev->sock || zmq_setsockopt(ev->sock, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        hk_test_events_subscribe(ev, HK_TEST_PROBE_TENANT) != 0) {
        hk_test_events_destroy(&ev);
        return NULL;
    }
    return ev;
}

int hk_test_events_subscribe(hk_test_events_t *ev, const char *tenant) {
    char topic[64];
    int n = snprintf(topic, sizeof topic, "t:%s", tenant);
    return zmq_setsockopt(ev->sock, ZMQ_SUBSCRIBE, topic, (size_t)n);
}

int hk_test_events_connect(hk_test_events_t *ev, const char *endpoint) {
    return hk_curve_client(ev->sock, endpoint) == 0 ? zmq_connect(ev->sock, endpoint) : -1;
}

static void s_keep(hk_test_events_t *ev, const Hetki__V1__ContactEvent *ce) {
    if (!strcmp(ce->tenant, HK_TEST_PROBE_TENANT)) {
        ev->probes_seen++;
        s_copy(ev->probe_publisher, sizeof ev->probe_publisher, ce->publisher);
        ev->probe_at_ms = ce->at_ms;
        return;
    }
    if (ev->n == ev->cap) {
        size_t cap = ev->cap ? ev->cap * 2 : 256;
        hk_test_event_t *items = realloc(ev->items, cap * sizeof *items);
        if (!items) {
            fprintf(stderr, "hk_test_events: out of memory\n");
            return;
        }
        ev->items = items;
        ev->cap = cap;
    }
    hk_test_event_t *e = &ev->items[ev->n++];
    memset(e, 0, sizeof *e);
    s_copy(e->publisher, sizeof e->publisher, ce->publisher);
    e->seq = ce->seq;
    s_copy(e->kind, sizeof e->kind, ce->kind);
    s_copy(e->tenant, sizeof e->tenant, ce->tenant);
    s_copy(e->contact_id, sizeof e->contact_id, ce->contact_id);
    s_copy(e->agent_id, sizeof e->agent_id, ce->agent_id);
    s_copy(e->state, sizeof e->state, ce->state);
    s_copy(e->queue, sizeof e->queue, ce->queue);
    e->rev = ce->rev;
    s_copy(e->detail, sizeof e->detail, ce->detail);
    e->at_ms = ce->at_ms;
}

/* Receives one [topic][envelope] message if one is ready within timeout_ms; 1 when one was
 * read (kept or not), 0 otherwise. */
static int s_recv_event(hk_test_events_t *ev, int timeout_ms) {
    static uint8_t buf[S_MAX_FRAME];
    zmq_pollitem_t item = {ev->sock, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, timeout_ms) <= 0 || !(item.revents & ZMQ_POLLIN)) {
        return 0;
    }
    int more = 1, last = -1, frames = 0;
    while (more) {
        last = zmq_recv(ev->sock, buf, sizeof buf, 0);
        if (last < 0) {
            return 0;
        }
        frames++;
        size_t sz = sizeof more;
        zmq_getsockopt(ev->sock, ZMQ_RCVMORE, &more, &sz);
    }
    if (frames != 2 || last > (int)sizeof buf) {
        fprintf(stderr, "hk_test_events: message of %d frames is not [topic][envelope]\n", frames);
        return 1;
    }
    char err[160];
    hk_envelope_t *env = hk_codec_decode(buf, (size_t)last, err, sizeof err);
    if (!env) {
        fprintf(stderr, "hk_test_events: event does not decode: %s\n", err);
        return 1;
    }
    if (env->body_case == HETKI__V1__ENVELOPE__BODY_EVENT) {
        s_keep(ev, env->event);
    }
    hk_codec_free(&env);
    return 1;
}

void hk_test_events_poll(hk_test_events_t *ev, int timeout_ms) {
    if (s_recv_event(ev, timeout_ms)) {
        while (s_recv_event(ev, 0)) {
        }
    }
}

static int s_matches(const hk_test_event_t *e, const char *kind, const char *contact_id,
                     const char *agent_id) {
    return (!kind || !strcmp(e->kind, kind)) &&
           (!contact_id || !strcmp(e->contact_id, contact_id)) &&
           (!agent_id || !strcmp(e->agent_id, agent_id));
}

static int s_find(const hk_test_events_t *ev, size_t from, const char *kind, const char *contact_id,
                  const char *agent_id) {
    for (size_t i = from; i < ev->n; i++) {
        if (s_matches(&ev->items[i], kind, contact_id, agent_id)) {
            return (int)i;
        }
    }
    return -1;
}

int hk_test_events_wait(hk_test_events_t *ev, size_t from, const char *kind, const char *contact_id,
                        const char *agent_id, int timeout_ms) {
    long long until = s_now_ms() + timeout_ms;
    for (;;) {
        hk_test_events_poll(ev, 0);
        int i = s_find(ev, from, kind, contact_id, agent_id);
        long long left = until - s_now_ms();
        if (i >= 0 || left <= 0) {
            return i;
        }
        hk_test_events_poll(ev, (int)(left < 50 ? left : 50));
    }
}

size_t hk_test_events_count_matching(hk_test_events_t *ev, size_t from, const char *kind,
                                     const char *contact_id, const char *agent_id) {
    hk_test_events_poll(ev, 0);
    size_t count = 0;
    for (size_t i = from; i < ev->n; i++) {
        count += (size_t)s_matches(&ev->items[i], kind, contact_id, agent_id);
    }
    return count;
}

const hk_test_event_t *hk_test_events_get(const hk_test_events_t *ev, size_t i) {
    return i < ev->n ? &ev->items[i] : NULL;
}

size_t hk_test_events_size(hk_test_events_t *ev) {
    hk_test_events_poll(ev, 0);
    return ev->n;
}

void hk_test_events_destroy(hk_test_events_t **ev_p) {
    hk_test_events_t *ev = ev_p ? *ev_p : NULL;
    if (!ev) {
        return;
    }
    *ev_p = NULL;
    if (ev->sock) {
        zmq_close(ev->sock);
    }
    if (ev->zctx) {
        zmq_ctx_term(ev->zctx);
    }
    free(ev->items);
    free(ev);
}

int64_t hk_test_bus_probe(hk_test_bus_t *bus, hk_test_events_t *ev, int timeout_ms) {
    long long until = s_now_ms() + timeout_ms;
    while (s_now_ms() < until) {
        Hetki__V1__AgentProfile p = HETKI__V1__AGENT_PROFILE__INIT;
        p.tenant = HK_TEST_PROBE_TENANT;
        p.agent_id = "sync";
        p.display_name = "probe";
        hk_test_reply_t r;
        hk_test_events_poll(ev, 0);
        unsigned long before = ev->probes_seen;
        if (hk_test_bus_profile(bus, &p, &r, 1000) != 0) {
            hk_test_sleep_ms(20);
            continue;
        }
        long long wait_until = s_now_ms() + 200;
        while (s_now_ms() < wait_until) {
            hk_test_events_poll(ev, 20);
            if (ev->probes_seen > before && !strcmp(ev->probe_publisher, r.router)) {
                return ev->probe_at_ms;
            }
        }
    }
    return -1;
}

/* ------------------------------------------------------------------------------------- */
/* Router processes                                                                       */

/* Reads the router's registered endpoints; 0 once both are there. */
static int s_endpoints(hk_test_router_t *rt, int redis_port) {
    redisContext *c = hk_test_redis_connect(redis_port);
    redisReply *r =
        redisCommand(c, "HMGET hk:{registry}:inst:router/%s ep:contacts ep:events", rt->instance);
    int rc = -1;
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
        r->element[0]->type == REDIS_REPLY_STRING && r->element[1]->type == REDIS_REPLY_STRING) {
        s_copy(rt->contacts, sizeof rt->contacts, r->element[0]->str);
        s_copy(rt->events, sizeof rt->events, r->element[1]->str);
        rc = 0;
    }
    freeReplyObject(r);
    redisFree(c);
    return rc;
}

int hk_test_router_start(hk_test_router_t *rt, const char *instance, int redis_port,
                         const char *dir, const char *const *extra_env, hk_test_events_t *ev) {
    memset(rt, 0, sizeof *rt);
    char bin[300], redis[48], admin[48], inst[64];
    const char *env[40];
    size_t n = 0;
    rt->admin_port = hk_test_free_port();
    s_copy(rt->instance, sizeof rt->instance, instance);
    snprintf(rt->log, sizeof rt->log, "%s/%s.log", dir, instance);
    snprintf(redis, sizeof redis, "HETKI_REDIS_PORT=%d", redis_port);
    snprintf(admin, sizeof admin, "HETKI_ADMIN_PORT=%d", rt->admin_port);
    snprintf(inst, sizeof inst, "HETKI_INSTANCE=%s", instance);
    env[n++] = redis;
    env[n++] = admin;
    env[n++] = inst;
    env[n++] = "HETKI_ROUTER_CONTACTS_PORT=0";
    env[n++] = "HETKI_ROUTER_EVENTS_PORT=0";
    env[n++] = "HETKI_REGISTRY_TTL_MS=1500";
    for (size_t i = 0; extra_env && extra_env[i] && n + 1 < sizeof env / sizeof env[0]; i++) {
        env[n++] = extra_env[i];
    }
    env[n] = NULL;
    const char *argv[] = {hk_test_bin("hetki-router", bin, sizeof bin), NULL};
    rt->pid = hk_test_spawn(argv, env, rt->log);
    if (hk_test_wait_ready(rt->admin_port, 20000) != 0) {
        fprintf(stderr, "router %s not ready (see %s)\n", instance, rt->log);
        return -1;
    }
    /* Ready comes before the first registry beat: wait for the endpoints. */
    long long until = s_now_ms() + 5000;
    while (s_endpoints(rt, redis_port) != 0) {
        if (s_now_ms() > until) {
            fprintf(stderr, "router %s did not register its endpoints\n", instance);
            return -1;
        }
        hk_test_sleep_ms(20);
    }
    rt->bus = hk_test_bus_new(rt->contacts);
    if (!rt->bus || (ev && hk_test_events_connect(ev, rt->events) != 0)) {
        fprintf(stderr, "router %s: cannot connect to %s / %s\n", instance, rt->contacts,
                rt->events);
        return -1;
    }
    if (ev && hk_test_bus_probe(rt->bus, ev, 5000) < 0) {
        fprintf(stderr, "router %s: no probe event came back\n", instance);
        return -1;
    }
    return 0;
}

int hk_test_router_stop(hk_test_router_t *rt, int timeout_ms) {
    hk_test_bus_destroy(&rt->bus);
    int status = -1;
    if (rt->pid > 0) {
        status = hk_test_stop(rt->pid, timeout_ms);
        rt->pid = 0;
    }
    return status;
}

int hk_test_router_kill(hk_test_router_t *rt) {
    hk_test_bus_destroy(&rt->bus);
    if (rt->pid <= 0 || kill(rt->pid, SIGKILL) != 0) {
        return -1;
    }
    int status = 0;
    int rc = hk_test_wait(rt->pid, 5000, &status);
    rt->pid = 0;
    return rc;
}
