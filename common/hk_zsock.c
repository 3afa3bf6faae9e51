/* hk_zsock: ZeroMQ sockets on a libuv loop with the edge-triggered drain rules. */
#include "hk_zsock.h"

#include "hk_curve.h"
#include "hk_log.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define S_BATCH 256
#define S_SAFETY_MS 250

struct hk_zsock_t {
    uv_loop_t *loop;
    void *sock;
    uv_poll_t poll;
    uv_idle_t idle; /* a scheduled drain */
    uv_timer_t safety;
    hk_zsock_msg_fn *on_msg;
    void *arg;
    int paused;
    int closing;
    int open_handles;
};

static void s_drain(hk_zsock_t *zs);
static void s_on_idle(uv_idle_t *h);

static void s_schedule(hk_zsock_t *zs) {
    if (!zs->closing) {
        uv_idle_start(&zs->idle, s_on_idle);
    }
}

static void s_on_idle(uv_idle_t *h) {
    hk_zsock_t *zs = h->data;
    uv_idle_stop(h);
    s_drain(zs);
}

static void s_on_poll(uv_poll_t *h, int status, int events) {
    s_drain(h->data);
}

static void s_on_safety(uv_timer_t *h) {
    s_drain(h->data);
}

static int s_pollin(hk_zsock_t *zs) {
    int ev = 0;
    size_t sz = sizeof ev;
    if (zmq_getsockopt(zs->sock, ZMQ_EVENTS, &ev, &sz) != 0) {
        return 0;
    }
    return ev & ZMQ_POLLIN;
}

static void s_drain(hk_zsock_t *zs) {
    zmq_msg_t parts[HK_ZSOCK_MAX_FRAMES];
    hk_frame_t frames[HK_ZSOCK_MAX_FRAMES];
    int handled = 0;
    while (!zs->closing && !zs->paused && handled < S_BATCH && s_pollin(zs)) {
        size_t n = 0;
        int more = 1, overflow = 0, failed = 0;
        while (more) {
            zmq_msg_t scratch;
            zmq_msg_t *m = n < HK_ZSOCK_MAX_FRAMES ? &parts[n] : &scratch;
            zmq_msg_init(m);
            if (zmq_msg_recv(m, zs->sock, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(m);
                failed = 1;
                break;
            }
            more = zmq_msg_more(m);
            if (n < HK_ZSOCK_MAX_FRAMES) {
                frames[n].data = zmq_msg_data(m);
                frames[n].len = zmq_msg_size(m);
                n++;
            } else {
                overflow = 1;
                zmq_msg_close(m);
            }
        }
        if (overflow) {
            HK_WARN("bus.drop", "reason=\"too many frames\" max=%d", HK_ZSOCK_MAX_FRAMES);
        } else if (!failed) {
            zs->on_msg(zs, frames, n, zs->arg);
        }
        for (size_t i = 0; i < n; i++) {
            zmq_msg_close(&parts[i]);
        }
        if (failed) {
            break;
        }
        handled++;
    }
    if (!zs->closing && !zs->paused && handled >= S_BATCH) {
        s_schedule(zs); /* cut short by the batch cap: continue on the next iteration */
    }
}

hk_zsock_t *hk_zsock_new(uv_loop_t *loop, void *zctx, int type, hk_zsock_msg_fn *on_msg,
                         void *arg) {
    assert(loop && zctx && on_msg);
    void *sock = zmq_socket(zctx, type);
    if (!sock) {
        return NULL;
    }
    int linger = 0;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    int fd = -1;
    size_t sz = sizeof fd;
    if (zmq_getsockopt(sock, ZMQ_FD, &fd, &sz) != 0) {
        zmq_close(sock);
        return NULL;
    }
    hk_zsock_t *zs = calloc(1, sizeof *zs);
    assert(zs);
    zs->loop = loop;
    zs->sock = sock;
    zs->on_msg = on_msg;
    zs->arg = arg;
    uv_poll_init(loop, &zs->poll, fd);
    uv_idle_init(loop, &zs->idle);
    uv_timer_init(loop, &zs->safety);
    zs->poll.data = zs->idle.data = zs->safety.data = zs;
    uv_poll_start(&zs->poll, UV_READABLE, s_on_poll);
    uv_timer_start(&zs->safety, s_on_safety, S_SAFETY_MS, S_SAFETY_MS);
    s_schedule(zs); /* input may already be pending: drain once */
    return zs;
}

void *hk_zsock_raw(hk_zsock_t *zs) {
    return zs->sock;
}

int hk_zsock_bind(hk_zsock_t *zs, const char *endpoint, char *bound, size_t boundlen) {
    if (hk_curve_server(zs->sock, endpoint) != 0 || zmq_bind(zs->sock, endpoint) != 0) {
        return -1;
    }
    if (bound) {
        size_t sz = boundlen;
        if (zmq_getsockopt(zs->sock, ZMQ_LAST_ENDPOINT, bound, &sz) != 0) {
            return -1;
        }
    }
    s_schedule(zs);
    return 0;
}

int hk_zsock_connect(hk_zsock_t *zs, const char *endpoint) {
    int rc = hk_curve_client(zs->sock, endpoint) != 0 ? -1 : zmq_connect(zs->sock, endpoint);
    s_schedule(zs);
    return rc;
}

int hk_zsock_disconnect(hk_zsock_t *zs, const char *endpoint) {
    int rc = zmq_disconnect(zs->sock, endpoint);
    s_schedule(zs);
    return rc;
}

int hk_zsock_send(hk_zsock_t *zs, const hk_frame_t *frames, size_t n) {
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        int flags = ZMQ_DONTWAIT | (i + 1 < n ? ZMQ_SNDMORE : 0);
        if (zmq_send(zs->sock, frames[i].data, frames[i].len, flags) < 0) {
            rc = -1;
            break;
        }
    }
    /* A send may have consumed the edge of pending input: check again soon. */
    int saved = errno;
    s_schedule(zs);
    errno = saved;
    return rc;
}

void hk_zsock_pause(hk_zsock_t *zs, int paused) {
    zs->paused = paused;
    if (!paused) {
        s_schedule(zs);
    }
}

static void s_on_close(uv_handle_t *h) {
    hk_zsock_t *zs = h->data;
    if (--zs->open_handles == 0) {
        zmq_close(zs->sock); /* after libuv stopped watching its fd */
        free(zs);
    }
}

void hk_zsock_destroy(hk_zsock_t **zs_p) {
    assert(zs_p);
    hk_zsock_t *zs = *zs_p;
    if (!zs) {
        return;
    }
    *zs_p = NULL;
    zs->closing = 1;
    uv_poll_stop(&zs->poll);
    zs->open_handles = 3;
    uv_close((uv_handle_t *)&zs->poll, s_on_close);
    uv_close((uv_handle_t *)&zs->idle, s_on_close);
    uv_close((uv_handle_t *)&zs->safety, s_on_close);
}
