/* hk_submit: Freelance-style reliable submission to router replicas. */
#include "hk_submit.h"

#include "hk_clock.h"
#include "hk_codec.h"
#include "hk_id.h"
#include "hk_log.h"
#include "hk_strmap.h"
#include "hk_zsock.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define S_MAX_EPS 64
#define S_TICK_MS 20
#define S_NO_REPLICA_RETRY_MS 100
#define S_UNAVAILABLE_RETRY_MS 200

typedef struct {
    hk_submit_t *owner;
    char endpoint[160];
    hk_zsock_t *zs;        /* NULL once removed */
    int64_t suspect_until; /* mono ms; not chosen before this */
    int from_registry;
    int seen; /* in the latest registry listing */
} s_ep_t;

typedef struct s_req {
    struct s_req *prev, *next;
    char corr[HK_ID_LEN + 1];
    uint8_t *frame;
    size_t frame_len;
    hk_submit_done_fn *fn;
    hk_submit_reply_fn *reply_fn;
    void *arg;
    int ep; /* endpoint index of the current attempt, -1 when none */
    int attempts;
    int64_t due;      /* mono ms when the current attempt times out */
    int64_t deadline; /* mono ms when the submission is given up */
} s_req_t;

struct hk_submit_t {
    uv_loop_t *loop;
    void *zctx;
    hk_registry_t *registry;
    hk_submit_opts_t opts;
    s_ep_t eps[S_MAX_EPS];
    int n_eps;
    int rr; /* round-robin cursor */
    hk_strmap_t *pending;
    s_req_t *head, *tail;
    uv_timer_t tick;
    uv_timer_t discovery;
    int listing;
    int closing;
    int open_handles;
    unsigned long resends;
};

static void s_list_append(hk_submit_t *s, s_req_t *r) {
    r->next = NULL;
    r->prev = s->tail;
    if (s->tail) {
        s->tail->next = r;
    } else {
        s->head = r;
    }
    s->tail = r;
}

static void s_list_unlink(hk_submit_t *s, s_req_t *r) {
    if (r->prev) {
        r->prev->next = r->next;
    } else {
        s->head = r->next;
    }
    if (r->next) {
        r->next->prev = r->prev;
    } else {
        s->tail = r->prev;
    }
    r->prev = r->next = NULL;
}

static void s_complete(hk_submit_t *s, s_req_t *r, const hk_envelope_t *reply, const char *error) {
    s_list_unlink(s, r);
    hk_strmap_remove(s->pending, r->corr);
    if (r->reply_fn) {
        r->reply_fn(reply, error, r->arg);
    } else {
        r->fn(reply ? reply->ack : NULL, error, r->arg);
    }
    free(r->frame);
    free(r);
}

/* Picks a live endpoint, avoiding `avoid` when another one is live. -1 when none. */
static int s_pick(hk_submit_t *s, int avoid) {
    int64_t now = hk_clock_mono_ms();
    int fallback = -1;
    for (int k = 0; k < s->n_eps; k++) {
        int i = (s->rr + k) % s->n_eps;
        s_ep_t *ep = &s->eps[i];
        if (!ep->zs) {
            continue;
        }
        if (ep->suspect_until > now) {
            if (fallback < 0 || ep->suspect_until < s->eps[fallback].suspect_until) {
                fallback = i;
            }
            continue;
        }
        if (i == avoid) {
            fallback = i;
            continue;
        }
        s->rr = (i + 1) % s->n_eps;
        return i;
    }
    return fallback; /* everything is suspect: try the one that failed longest ago */
}

static void s_send(hk_submit_t *s, s_req_t *r, int avoid) {
    int64_t now = hk_clock_mono_ms();
    int tries = 0;
    for (;;) {
        int i = s_pick(s, avoid);
        if (i < 0 || tries++ >= s->n_eps) {
            r->ep = -1;
            r->due = now + S_NO_REPLICA_RETRY_MS;
            break;
        }
        hk_frame_t frames[2] = {{(const uint8_t *)"", 0}, {r->frame, r->frame_len}};
        if (hk_zsock_send(s->eps[i].zs, frames, 2) == 0) {
            r->ep = i;
            r->attempts++;
            if (r->attempts > 1) {
                s->resends++;
            }
            r->due = now + s->opts.attempt_timeout_ms;
            break;
        }
        /* Not connected (ZMQ_IMMEDIATE) or full: mark suspect and try another one. */
        s->eps[i].suspect_until = now + s->opts.attempt_timeout_ms;
        avoid = i;
    }
    s_list_unlink(s, r);
    s_list_append(s, r);
}

static void s_on_reply(hk_zsock_t *zs, const hk_frame_t *frames, size_t n, void *arg) {
    s_ep_t *ep = arg;
    hk_submit_t *s = ep->owner;
    char err[160];
    if (n != 2 || frames[0].len != 0) {
        HK_WARN("submit.bad_reply", "endpoint=%s frames=%zu", ep->endpoint, n);
        return;
    }
    hk_envelope_t *env = hk_codec_decode(frames[1].data, frames[1].len, err, sizeof err);
    if (!env) {
        HK_WARN("submit.bad_reply", "endpoint=%s error=\"%s\"", ep->endpoint, err);
        return;
    }
    ep->suspect_until = 0; /* it answered: alive */
    s_req_t *r = hk_strmap_get(s->pending, env->correlation_id);
    if (!r || (!r->reply_fn && env->body_case != HETKI__V1__ENVELOPE__BODY_ACK)) {
        /* A late answer to an attempt that was answered elsewhere, or a stray one. */
        hk_codec_free(&env);
        return;
    }
    Hetki__V1__ErrorCode code = HETKI__V1__ERROR_CODE__ERROR_NONE;
    if (env->body_case == HETKI__V1__ENVELOPE__BODY_ACK) {
        code = env->ack->error_code;
    } else if (env->body_case == HETKI__V1__ENVELOPE__BODY_COMMAND_REPLY) {
        code = env->command_reply->error_code;
    }
    if (code == HETKI__V1__ERROR_CODE__ERROR_UNAVAILABLE) {
        /* The replica cannot store it now (e.g. Redis down): retry soon, maybe elsewhere. */
        r->due = hk_clock_mono_ms() + S_UNAVAILABLE_RETRY_MS;
        r->ep = -1;
    } else {
        s_complete(s, r, env, NULL);
    }
    hk_codec_free(&env);
}

static void s_on_tick(uv_timer_t *t) {
    hk_submit_t *s = t->data;
    int64_t now = hk_clock_mono_ms();
    s_req_t *r = s->head;
    while (r) {
        s_req_t *next = r->next;
        if (now >= r->deadline) {
            char why[96];
            snprintf(why, sizeof why, "no router acknowledged within %d ms (%d attempts)",
                     s->opts.deadline_ms, r->attempts);
            s_complete(s, r, NULL, why);
        } else if (now >= r->due) {
            int failed = r->ep;
            if (failed >= 0) {
                s->eps[failed].suspect_until = now + 2 * (int64_t)s->opts.attempt_timeout_ms;
                HK_DEBUG("submit.timeout", "corr=%s endpoint=%s attempt=%d", r->corr,
                         s->eps[failed].endpoint, r->attempts);
            }
            s_send(s, r, failed);
        }
        r = next;
    }
}

static int s_add(hk_submit_t *s, const char *endpoint, int from_registry) {
    for (int i = 0; i < s->n_eps; i++) {
        if (strcmp(s->eps[i].endpoint, endpoint) == 0) {
            if (!s->eps[i].zs) {
                break; /* removed earlier: reconnect below */
            }
            s->eps[i].seen = 1;
            return 0;
        }
    }
    int slot = -1;
    for (int i = 0; i < s->n_eps; i++) {
        if (!s->eps[i].zs) {
            slot = i;
            break;
        }
    }
    if (slot < 0) {
        if (s->n_eps == S_MAX_EPS) {
            HK_WARN("submit.too_many_replicas", "max=%d", S_MAX_EPS);
            return -1;
        }
        slot = s->n_eps++;
    }
    s_ep_t *ep = &s->eps[slot];
    memset(ep, 0, sizeof *ep);
    ep->owner = s;
    snprintf(ep->endpoint, sizeof ep->endpoint, "%s", endpoint);
    ep->zs = hk_zsock_new(s->loop, s->zctx, ZMQ_DEALER, s_on_reply, ep);
    if (!ep->zs) {
        return -1;
    }
    int one = 1, hwm = 100000, reconnect = 100, reconnect_max = 2000;
    void *raw = hk_zsock_raw(ep->zs);
    zmq_setsockopt(raw, ZMQ_IMMEDIATE, &one, sizeof one);
    zmq_setsockopt(raw, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(raw, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(raw, ZMQ_RECONNECT_IVL, &reconnect, sizeof reconnect);
    zmq_setsockopt(raw, ZMQ_RECONNECT_IVL_MAX, &reconnect_max, sizeof reconnect_max);
    if (hk_zsock_connect(ep->zs, endpoint) != 0) {
        HK_WARN("submit.connect_failed", "endpoint=%s error=\"%s\"", endpoint, zmq_strerror(errno));
        hk_zsock_destroy(&ep->zs);
        return -1;
    }
    ep->from_registry = from_registry;
    ep->seen = 1;
    HK_INFO("submit.replica_added", "endpoint=%s", endpoint);
    return 0;
}

int hk_submit_add_endpoint(hk_submit_t *s, const char *endpoint) {
    return s_add(s, endpoint, 0);
}

static void s_release(hk_submit_t *s);

static void s_on_list(const hk_instance_t *list, size_t n, int64_t now_ms, int status, void *arg) {
    hk_submit_t *s = arg;
    s->listing = 0;
    if (s->closing) {
        s_release(s); /* the listing held the client alive past destroy */
        return;
    }
    if (status != 0) {
        return;
    }
    for (int i = 0; i < s->n_eps; i++) {
        s->eps[i].seen = 0;
    }
    for (size_t k = 0; k < n; k++) {
        const char *endpoint = hk_instance_endpoint(&list[k], s->opts.endpoint);
        if (endpoint) {
            s_add(s, endpoint, 1);
        }
    }
    for (int i = 0; i < s->n_eps; i++) {
        s_ep_t *ep = &s->eps[i];
        if (ep->zs && ep->from_registry && !ep->seen) {
            /* Its registration expired: requests sent there time out and move on. */
            HK_INFO("submit.replica_removed", "endpoint=%s", ep->endpoint);
            hk_zsock_destroy(&ep->zs);
        }
    }
}

static void s_on_discovery(uv_timer_t *t) {
    hk_submit_t *s = t->data;
    if (s->registry && !s->listing &&
        hk_registry_list(s->registry, s->opts.service, s_on_list, s) == 0) {
        s->listing = 1;
    }
}

hk_submit_t *hk_submit_new(uv_loop_t *loop, void *zctx, hk_registry_t *registry,
                           const hk_submit_opts_t *opts) {
    hk_submit_t *s = calloc(1, sizeof *s);
    assert(s);
    s->loop = loop;
    s->zctx = zctx;
    s->registry = registry;
    if (opts) {
        s->opts = *opts;
    }
    if (s->opts.attempt_timeout_ms <= 0) {
        s->opts.attempt_timeout_ms = 1000;
    }
    if (s->opts.deadline_ms <= 0) {
        s->opts.deadline_ms = 30000;
    }
    if (s->opts.discovery_ms <= 0) {
        s->opts.discovery_ms = 1000;
    }
    if (!s->opts.service) {
        s->opts.service = "router";
    }
    if (!s->opts.endpoint) {
        s->opts.endpoint = "contacts";
    }
    s->pending = hk_strmap_new();
    uv_timer_init(loop, &s->tick);
    uv_timer_init(loop, &s->discovery);
    s->tick.data = s->discovery.data = s;
    uv_timer_start(&s->tick, s_on_tick, S_TICK_MS, S_TICK_MS);
    if (registry) {
        uv_timer_start(&s->discovery, s_on_discovery, 0, (uint64_t)s->opts.discovery_ms);
    }
    return s;
}

static int s_submit(hk_submit_t *s, hk_envelope_t *env, hk_submit_done_fn *fn,
                    hk_submit_reply_fn *reply_fn, void *arg) {
    s_req_t *r = calloc(1, sizeof *r);
    assert(r);
    hk_id_new(r->corr);
    env->version = HK_CODEC_VERSION;
    env->correlation_id = r->corr;
    env->sent_at_ms = hk_clock_now_ms();
    if (hk_codec_encode(env, &r->frame, &r->frame_len) != 0) {
        free(r);
        return -1;
    }
    r->fn = fn;
    r->reply_fn = reply_fn;
    r->arg = arg;
    r->ep = -1;
    r->deadline = hk_clock_mono_ms() + s->opts.deadline_ms;
    hk_strmap_put(s->pending, r->corr, r);
    s_list_append(s, r);
    s_send(s, r, -1);
    return 0;
}

int hk_submit_request(hk_submit_t *s, hk_envelope_t *env, hk_submit_reply_fn *fn, void *arg) {
    assert(s && env && fn && env->body_case != HETKI__V1__ENVELOPE__BODY__NOT_SET);
    return s_submit(s, env, NULL, fn, arg);
}

int hk_submit_contact(hk_submit_t *s, const Hetki__V1__Contact *contact, hk_submit_done_fn *fn,
                      void *arg) {
    assert(s && contact && fn && contact->dedupe_key && contact->dedupe_key[0]);
    hk_envelope_t env = HETKI__V1__ENVELOPE__INIT;
    env.body_case = HETKI__V1__ENVELOPE__BODY_CONTACT;
    env.contact = (Hetki__V1__Contact *)contact;
    return s_submit(s, &env, fn, NULL, arg);
}

size_t hk_submit_pending(const hk_submit_t *s) {
    return hk_strmap_size(s->pending);
}

size_t hk_submit_live(const hk_submit_t *s) {
    int64_t now = hk_clock_mono_ms();
    size_t n = 0;
    for (int i = 0; i < s->n_eps; i++) {
        n += s->eps[i].zs && s->eps[i].suspect_until <= now;
    }
    return n;
}

unsigned long hk_submit_resends(const hk_submit_t *s) {
    return s->resends;
}

static void s_release(hk_submit_t *s) {
    if (--s->open_handles == 0) {
        free(s);
    }
}

static void s_on_closed(uv_handle_t *h) {
    s_release(h->data);
}

void hk_submit_destroy(hk_submit_t **s_p) {
    assert(s_p);
    hk_submit_t *s = *s_p;
    if (!s) {
        return;
    }
    *s_p = NULL;
    s->closing = 1;
    while (s->head) {
        s_complete(s, s->head, NULL, "client shutting down");
    }
    hk_strmap_destroy(&s->pending);
    for (int i = 0; i < s->n_eps; i++) {
        hk_zsock_destroy(&s->eps[i].zs);
    }
    s->open_handles = 2 + (s->listing ? 1 : 0);
    uv_close((uv_handle_t *)&s->tick, s_on_closed);
    uv_close((uv_handle_t *)&s->discovery, s_on_closed);
}
