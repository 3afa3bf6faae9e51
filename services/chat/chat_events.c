/* chat_events: SUB to every router replica's events, with (publisher, seq) gap detection. */
#include "chat_events.h"

#include "hk_codec.h"
#include "hk_log.h"
#include "hk_strmap.h"
#include "hk_zsock.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define S_MAX_PEERS 64
#define S_DISCOVERY_MS 500

typedef struct {
    char instance[96]; /* "" for the static endpoint */
    char endpoint[160];
    int used;
    int is_static;
    int seen;
} s_peer_t;

struct chat_events_t {
    hk_zsock_t *zs;
    hk_registry_t *registry;
    chat_event_fn *on_event;
    chat_gap_fn *on_gap;
    void *arg;
    s_peer_t peers[S_MAX_PEERS];
    hk_strmap_t *last; /* publisher -> uint64_t *last seq */
    uv_timer_t discovery;
    int listing;
    int closing;
    int open;
};

static uint64_t *s_last(chat_events_t *ev, const char *publisher) {
    uint64_t *p = hk_strmap_get(ev->last, publisher);
    if (!p) {
        p = calloc(1, sizeof *p);
        assert(p);
        hk_strmap_put(ev->last, publisher, p);
    }
    return p;
}

/* Moves a publisher to seq, reporting skipped events. */
static void s_advance(chat_events_t *ev, const char *publisher, uint64_t *last, uint64_t seq) {
    if (*last && seq > *last + 1) {
        unsigned long missed = (unsigned long)(seq - *last - 1);
        HK_WARN("chat.event_gap", "publisher=%s last=%llu seq=%llu", publisher,
                (unsigned long long)*last, (unsigned long long)seq);
        if (ev->on_gap) {
            ev->on_gap(publisher, missed, ev->arg);
        }
    }
    *last = seq;
}

static void s_on_event(chat_events_t *ev, const Hetki__V1__ContactEvent *ce) {
    uint64_t *last = s_last(ev, ce->publisher);
    if (ce->seq == 1) {
        *last = 0; /* the publisher started again */
    } else if (*last && ce->seq <= *last) {
        return; /* seen before */
    }
    s_advance(ev, ce->publisher, last, ce->seq);
    ev->on_event(ce, ev->arg);
}

static void s_on_heartbeat(chat_events_t *ev, const Hetki__V1__Heartbeat *hb) {
    uint64_t *last = s_last(ev, hb->instance);
    if (*last && hb->seq > *last) {
        s_advance(ev, hb->instance, last, hb->seq);
    } else if (!*last) {
        *last = hb->seq;
    }
}

static void s_on_msg(hk_zsock_t *zs, const hk_frame_t *frames, size_t n, void *arg) {
    chat_events_t *ev = arg;
    char err[160];
    (void)zs;
    if (n != 2) {
        return;
    }
    hk_envelope_t *env = hk_codec_decode(frames[1].data, frames[1].len, err, sizeof err);
    if (!env) {
        HK_WARN("chat.bad_event", "error=\"%s\"", err);
        return;
    }
    if (env->body_case == HETKI__V1__ENVELOPE__BODY_EVENT) {
        s_on_event(ev, env->event);
    } else if (env->body_case == HETKI__V1__ENVELOPE__BODY_HEARTBEAT) {
        s_on_heartbeat(ev, env->heartbeat);
    }
    hk_codec_free(&env);
}

static int s_connect(chat_events_t *ev, const char *instance, const char *endpoint, int is_static) {
    int slot = -1;
    for (int i = 0; i < S_MAX_PEERS; i++) {
        s_peer_t *p = &ev->peers[i];
        if (p->used && !strcmp(p->endpoint, endpoint) && !strcmp(p->instance, instance)) {
            p->seen = 1;
            return 0;
        }
        if (!p->used && slot < 0) {
            slot = i;
        }
    }
    if (slot < 0) {
        HK_WARN("chat.too_many_routers", "max=%d", S_MAX_PEERS);
        return -1;
    }
    if (hk_zsock_connect(ev->zs, endpoint) != 0) {
        HK_WARN("chat.events_connect_failed", "endpoint=%s error=\"%s\"", endpoint,
                zmq_strerror(errno));
        return -1;
    }
    s_peer_t *p = &ev->peers[slot];
    memset(p, 0, sizeof *p);
    p->used = p->seen = 1;
    p->is_static = is_static;
    snprintf(p->instance, sizeof p->instance, "%s", instance);
    snprintf(p->endpoint, sizeof p->endpoint, "%s", endpoint);
    HK_INFO("chat.events_connected", "instance=%s endpoint=%s", instance, endpoint);
    return 0;
}

static void s_release(chat_events_t *ev) {
    if (--ev->open == 0) {
        hk_strmap_destroy_values(&ev->last, free);
        free(ev);
    }
}

static void s_on_list(const hk_instance_t *list, size_t n, int64_t now_ms, int status, void *arg) {
    chat_events_t *ev = arg;
    (void)now_ms;
    ev->listing = 0;
    if (ev->closing) {
        s_release(ev);
        return;
    }
    if (status != 0) {
        return;
    }
    for (int i = 0; i < S_MAX_PEERS; i++) {
        ev->peers[i].seen = 0;
    }
    for (size_t k = 0; k < n; k++) {
        const char *endpoint = hk_instance_endpoint(&list[k], "events");
        if (endpoint) {
            s_connect(ev, list[k].instance, endpoint, 0);
        }
    }
    for (int i = 0; i < S_MAX_PEERS; i++) {
        s_peer_t *p = &ev->peers[i];
        if (p->used && !p->is_static && !p->seen) {
            HK_INFO("chat.events_removed", "instance=%s endpoint=%s", p->instance, p->endpoint);
            hk_zsock_disconnect(ev->zs, p->endpoint);
            p->used = 0;
        }
    }
}

static void s_on_discovery(uv_timer_t *t) {
    chat_events_t *ev = t->data;
    if (!ev->listing && hk_registry_list(ev->registry, "router", s_on_list, ev) == 0) {
        ev->listing = 1;
    }
}

chat_events_t *chat_events_new(uv_loop_t *loop, void *zctx, hk_registry_t *registry,
                               const chat_config_t *cfg, chat_event_fn *on_event,
                               chat_gap_fn *on_gap, void *arg) {
    assert(loop && zctx && cfg && on_event);
    chat_events_t *ev = calloc(1, sizeof *ev);
    assert(ev);
    ev->registry = registry;
    ev->on_event = on_event;
    ev->on_gap = on_gap;
    ev->arg = arg;
    ev->zs = hk_zsock_new(loop, zctx, ZMQ_SUB, s_on_msg, ev);
    if (!ev->zs) {
        free(ev);
        return NULL;
    }
    void *raw = hk_zsock_raw(ev->zs);
    int hwm = 100000, reconnect = 100;
    zmq_setsockopt(raw, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(raw, ZMQ_RECONNECT_IVL, &reconnect, sizeof reconnect);
    zmq_setsockopt(raw, ZMQ_SUBSCRIBE, "t:", 2);
    zmq_setsockopt(raw, ZMQ_SUBSCRIBE, "hb", 2);
    ev->last = hk_strmap_new();
    ev->open = 1;
    if (cfg->events_endpoint[0] && s_connect(ev, "", cfg->events_endpoint, 1) != 0) {
        HK_ERROR("chat.bad_events_endpoint", "endpoint=%s", cfg->events_endpoint);
        hk_zsock_destroy(&ev->zs);
        hk_strmap_destroy_values(&ev->last, free);
        free(ev);
        return NULL;
    }
    uv_timer_init(loop, &ev->discovery);
    ev->discovery.data = ev;
    if (registry) {
        uv_timer_start(&ev->discovery, s_on_discovery, 0, S_DISCOVERY_MS);
    }
    return ev;
}

size_t chat_events_connected(const chat_events_t *ev) {
    size_t n = 0;
    for (int i = 0; i < S_MAX_PEERS; i++) {
        n += ev->peers[i].used ? 1 : 0;
    }
    return n;
}

static void s_on_closed(uv_handle_t *h) {
    s_release(h->data);
}

void chat_events_destroy(chat_events_t **ev_p) {
    assert(ev_p);
    chat_events_t *ev = *ev_p;
    if (!ev) {
        return;
    }
    *ev_p = NULL;
    ev->closing = 1;
    hk_zsock_destroy(&ev->zs);
    ev->open = 1 + (ev->listing ? 1 : 0);
    uv_close((uv_handle_t *)&ev->discovery, s_on_closed);
}
