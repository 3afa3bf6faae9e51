/* hk_events: one SUB socket on every router replica's event stream, with (publisher, seq)
 * checks. The per-publisher seq counts the events of every tenant, so the socket subscribes
 * to all tenant topics ("t:") and filters here; otherwise other tenants' events would look
 * like gaps. */
#include "hk_events.h"

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

typedef struct {
    char instance[96]; /* registry instance id ("" for a static endpoint) */
    char endpoint[160];
    int used;
    int is_static;
    int seen; /* in the latest registry listing */
    int ready;
} s_peer_t;

typedef struct {
    uint64_t last;  /* last seq accepted (0: nothing yet) */
    uint64_t epoch; /* the publisher's start as it announced it (0: not yet known) */
} s_pub_t;

struct hk_events_t {
    uv_loop_t *loop;
    hk_zsock_t *zs;
    hk_registry_t *registry;
    char tenant[64]; /* "" passes every tenant's events */
    hk_event_fn *on_event;
    hk_event_gap_fn *on_gap;
    void *arg;
    s_peer_t peers[S_MAX_PEERS];
    hk_strmap_t *pubs;
    uv_timer_t discovery;
    int listing;
    int closing;
    int open;
    hk_events_stats_t stats;
};

static void s_mark_ready(hk_events_t *ev, const char *publisher) {
    for (int i = 0; i < S_MAX_PEERS; i++) {
        s_peer_t *p = &ev->peers[i];
        if (p->used && (p->is_static || !strcmp(p->instance, publisher))) {
            p->ready = 1;
        }
    }
}

static s_pub_t *s_pub(hk_events_t *ev, const char *publisher) {
    s_pub_t *p = hk_strmap_get(ev->pubs, publisher);
    if (!p) {
        p = calloc(1, sizeof *p);
        assert(p);
        hk_strmap_put(ev->pubs, publisher, p);
    }
    return p;
}

/* Advances a publisher's seq to seq; reports the events skipped on the way. */
static void s_advance(hk_events_t *ev, const char *publisher, s_pub_t *p, uint64_t seq) {
    if (p->last && seq > p->last + 1) {
        unsigned long missed = (unsigned long)(seq - p->last - 1);
        ev->stats.gaps++;
        ev->stats.missed += missed;
        HK_WARN("events.gap", "publisher=%s last=%llu seq=%llu", publisher,
                (unsigned long long)p->last, (unsigned long long)seq);
        if (ev->on_gap) {
            ev->on_gap(publisher, missed, ev->arg);
        }
    }
    p->last = seq;
}

/* Reports a gap of unknown size: the publisher restarted (or left) and whatever it changed
 * but had not published yet is only in Redis, so watchers should take a fresh snapshot. */
static void s_lost(hk_events_t *ev, const char *publisher, const char *why) {
    ev->stats.gaps++;
    HK_WARN("events.gap", "publisher=%s reason=%s", publisher, why);
    if (ev->on_gap) {
        ev->on_gap(publisher, 0, ev->arg);
    }
}

/* A new epoch from a known publisher means it restarted (same instance id): its seq starts
 * again at 1. Returns 1 when that happened (the publisher's seq was reset). */
static int s_epoch(hk_events_t *ev, const char *publisher, s_pub_t *p, uint64_t epoch) {
    if (epoch == 0 || epoch == p->epoch) {
        return 0;
    }
    int restarted = p->epoch != 0;
    p->epoch = epoch;
    if (restarted) {
        p->last = 0;
        s_lost(ev, publisher, "restarted");
    }
    return restarted;
}

static void s_on_event(hk_events_t *ev, const Hetki__V1__ContactEvent *ce) {
    s_mark_ready(ev, ce->publisher);
    s_pub_t *p = s_pub(ev, ce->publisher);
    s_epoch(ev, ce->publisher, p, ce->epoch);
    if (p->last && ce->seq <= p->last) {
        ev->stats.stale++; /* at or below what we have: drop (Clone rule) */
        return;
    }
    s_advance(ev, ce->publisher, p, ce->seq);
    if (!ev->tenant[0] || !strcmp(ce->tenant, ev->tenant)) {
        ev->stats.events++;
        ev->on_event(ce, ev->arg);
    }
}

static void s_on_heartbeat(hk_events_t *ev, const Hetki__V1__Heartbeat *hb) {
    ev->stats.heartbeats++;
    s_mark_ready(ev, hb->instance);
    s_pub_t *p = s_pub(ev, hb->instance);
    s_epoch(ev, hb->instance, p, hb->epoch);
    if (!p->last || hb->seq > p->last) {
        s_advance(ev, hb->instance, p, hb->seq);
    }
}

static void s_on_msg(hk_zsock_t *zs, const hk_frame_t *frames, size_t n, void *arg) {
    hk_events_t *ev = arg;
    char err[160];
    if (n != 2) {
        ev->stats.bad++;
        return;
    }
    hk_envelope_t *env = hk_codec_decode(frames[1].data, frames[1].len, err, sizeof err);
    if (!env) {
        ev->stats.bad++;
        HK_WARN("events.bad_frame", "error=\"%s\"", err);
        return;
    }
    if (env->body_case == HETKI__V1__ENVELOPE__BODY_EVENT) {
        s_on_event(ev, env->event);
    } else if (env->body_case == HETKI__V1__ENVELOPE__BODY_HEARTBEAT) {
        s_on_heartbeat(ev, env->heartbeat);
    } else {
        ev->stats.bad++;
    }
    hk_codec_free(&env);
}

static int s_connect(hk_events_t *ev, const char *instance, const char *endpoint, int is_static) {
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
        HK_WARN("events.too_many_replicas", "max=%d", S_MAX_PEERS);
        return -1;
    }
    if (hk_zsock_connect(ev->zs, endpoint) != 0) {
        HK_WARN("events.connect_failed", "endpoint=%s error=\"%s\"", endpoint, zmq_strerror(errno));
        return -1;
    }
    s_peer_t *p = &ev->peers[slot];
    memset(p, 0, sizeof *p);
    p->used = p->seen = 1;
    p->is_static = is_static;
    snprintf(p->instance, sizeof p->instance, "%s", instance);
    snprintf(p->endpoint, sizeof p->endpoint, "%s", endpoint);
    HK_INFO("events.connected", "instance=%s endpoint=%s", instance, endpoint);
    return 0;
}

int hk_events_add_endpoint(hk_events_t *ev, const char *endpoint) {
    return s_connect(ev, "", endpoint, 1);
}

static void s_release(hk_events_t *ev) {
    if (--ev->open == 0) {
        hk_strmap_destroy_values(&ev->pubs, free);
        free(ev);
    }
}

static void s_on_list(const hk_instance_t *list, size_t n, int64_t now_ms, int status, void *arg) {
    hk_events_t *ev = arg;
    ev->listing = 0;
    if (ev->closing) {
        s_release(ev); /* the listing kept us alive past destroy */
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
            /* Its registration expired (the replica died or left): stop reconnecting. */
            HK_INFO("events.removed", "instance=%s endpoint=%s", p->instance, p->endpoint);
            hk_zsock_disconnect(ev->zs, p->endpoint);
            p->used = 0;
            /* A replica that died may have changed Redis without publishing it. */
            s_pub_t *gone = hk_strmap_remove(ev->pubs, p->instance);
            if (gone) {
                s_lost(ev, p->instance, "removed");
                free(gone);
            }
        }
    }
}

static void s_on_discovery(uv_timer_t *t) {
    hk_events_t *ev = t->data;
    if (ev->registry && !ev->listing &&
        hk_registry_list(ev->registry, "router", s_on_list, ev) == 0) {
        ev->listing = 1;
    }
}

hk_events_t *hk_events_new(uv_loop_t *loop, void *zctx, hk_registry_t *registry, const char *tenant,
                           int discovery_ms, hk_event_fn *on_event, hk_event_gap_fn *on_gap,
                           void *arg) {
    hk_events_t *ev = calloc(1, sizeof *ev);
    assert(ev && on_event);
    ev->loop = loop;
    ev->registry = registry;
    ev->on_event = on_event;
    ev->on_gap = on_gap;
    ev->arg = arg;
    snprintf(ev->tenant, sizeof ev->tenant, "%s", tenant ? tenant : "");
    ev->zs = hk_zsock_new(loop, zctx, ZMQ_SUB, s_on_msg, ev);
    if (!ev->zs) {
        free(ev);
        return NULL;
    }
    void *raw = hk_zsock_raw(ev->zs);
    int hwm = 1000000, reconnect = 100;
    zmq_setsockopt(raw, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(raw, ZMQ_RECONNECT_IVL, &reconnect, sizeof reconnect);
    zmq_setsockopt(raw, ZMQ_SUBSCRIBE, "t:", 2);
    zmq_setsockopt(raw, ZMQ_SUBSCRIBE, "hb", 2);
    ev->pubs = hk_strmap_new();
    uv_timer_init(loop, &ev->discovery);
    ev->discovery.data = ev;
    if (registry) {
        uv_timer_start(&ev->discovery, s_on_discovery, 0,
                       (uint64_t)(discovery_ms > 0 ? discovery_ms : 500));
    }
    return ev;
}

size_t hk_events_connected(const hk_events_t *ev) {
    size_t n = 0;
    for (int i = 0; i < S_MAX_PEERS; i++) {
        n += ev->peers[i].used ? 1 : 0;
    }
    return n;
}

size_t hk_events_ready(const hk_events_t *ev) {
    size_t n = 0;
    for (int i = 0; i < S_MAX_PEERS; i++) {
        n += ev->peers[i].used && ev->peers[i].ready ? 1 : 0;
    }
    return n;
}

void hk_events_stats(const hk_events_t *ev, hk_events_stats_t *out) {
    *out = ev->stats;
}

static void s_on_closed(uv_handle_t *h) {
    s_release(h->data);
}

void hk_events_destroy(hk_events_t **ev_p) {
    assert(ev_p);
    hk_events_t *ev = *ev_p;
    if (!ev) {
        return;
    }
    *ev_p = NULL;
    ev->closing = 1;
    hk_zsock_destroy(&ev->zs);
    ev->open = 1 + (ev->listing ? 1 : 0);
    uv_close((uv_handle_t *)&ev->discovery, s_on_closed);
}
