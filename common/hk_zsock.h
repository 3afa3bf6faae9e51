/* hk_zsock: a ZeroMQ socket driven by a libuv loop.
 * ZMQ_FD is edge-triggered, so the socket is drained while ZMQ_EVENTS has POLLIN (in batches
 * that reschedule themselves), a drain is scheduled after every send, and a periodic safety
 * drain runs. The fd is never read or closed by us. */
#ifndef HK_ZSOCK_H
#define HK_ZSOCK_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define HK_ZSOCK_MAX_FRAMES 8

typedef struct hk_zsock_t hk_zsock_t;

typedef struct {
    const uint8_t *data;
    size_t len;
} hk_frame_t;

/* Called for each received multipart message; frames are valid only during the call.
 * A message with more than HK_ZSOCK_MAX_FRAMES frames is dropped and logged. */
typedef void(hk_zsock_msg_fn)(hk_zsock_t *zs, const hk_frame_t *frames, size_t n, void *arg);

/* Creates a socket of zmq type (ZMQ_ROUTER, ZMQ_DEALER, ...) in zctx, watched on loop.
 * Sets linger 0. Returns NULL when ZeroMQ refuses. */
hk_zsock_t *hk_zsock_new(uv_loop_t *loop, void *zctx, int type, hk_zsock_msg_fn *on_msg, void *arg);

/* The underlying ZeroMQ socket, for setsockopt before bind/connect. */
void *hk_zsock_raw(hk_zsock_t *zs);

/* Binds; when bound is non-NULL writes the resolved endpoint (ports "*" or 0 resolved).
 * Returns 0 or -1 (errno from ZeroMQ). */
int hk_zsock_bind(hk_zsock_t *zs, const char *endpoint, char *bound, size_t boundlen);

int hk_zsock_connect(hk_zsock_t *zs, const char *endpoint);
int hk_zsock_disconnect(hk_zsock_t *zs, const char *endpoint);

/* Sends a multipart message without blocking. Returns 0, or -1 when ZeroMQ would block or
 * refuses (errno: EAGAIN, EHOSTUNREACH for an unknown ROUTER peer, ...). */
int hk_zsock_send(hk_zsock_t *zs, const hk_frame_t *frames, size_t n);

/* Pauses or resumes delivery (backpressure); a resume schedules a drain. */
void hk_zsock_pause(hk_zsock_t *zs, int paused);

/* Stops watching, closes the ZeroMQ socket and frees it once libuv has released the
 * handles; nulls the caller's pointer. */
void hk_zsock_destroy(hk_zsock_t **zs_p);

#endif
