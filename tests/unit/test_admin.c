/* test_admin: the admin vhost over real HTTP/1.1 on loopback. A tiny uv_tcp client shares
 * the loop with hk_web and hk_admin; checks /healthz, /readyz (both states), /metrics (a page
 * longer than one write), 404, 405, keep-alive, HTTP/2 attempts, an ephemeral port, a busy
 * port, loopback-only binding, then that destroying everything (in either order, inside or
 * outside uv_run) leaves no libuv handle behind (uv_loop_close() == 0). Run it under
 * AddressSanitizer to check that nothing leaks. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <uv.h>

#include "hk_admin.h"
#include "hk_log.h"
#include "hk_metrics.h"
#include "hk_test.h"
#include "hk_web.h"

#define S_RESP_MAX (256 * 1024)
#define S_WAIT_MS 5000

typedef struct {
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_write_t write;
    char *resp; /* S_RESP_MAX bytes, NUL-terminated */
    size_t len;
    int connected; /* 1 connected, -1 failed */
    int eof;
    int error;
    int closed;
} s_client_t;

typedef struct {
    int ready;
    const char *why;
} s_state_t;

/* A parsed response. */
typedef struct {
    int status;
    char *headers; /* points into the client's buffer */
    char *body;
    long content_length;
} s_resp_t;

static uv_loop_t s_loop;
static uv_timer_t s_tick; /* keeps UV_RUN_ONCE from blocking forever while we wait */

static int s_ready(void *arg, char *why, size_t whylen) {
    s_state_t *state = arg;
    if (!state->ready) {
        snprintf(why, whylen, "%s", state->why);
    }
    return state->ready;
}

static void s_on_tick(uv_timer_t *timer) {
    (void)timer;
}

typedef int(s_until_fn)(const s_client_t *c);

/* Runs the loop until done(c) holds or S_WAIT_MS pass; returns done(c). */
static int s_run_until(s_until_fn *done, const s_client_t *c) {
    uv_update_time(&s_loop);
    uint64_t deadline = uv_now(&s_loop) + S_WAIT_MS;
    uv_timer_start(&s_tick, s_on_tick, 20, 20);
    while (!done(c) && uv_now(&s_loop) < deadline) {
        uv_run(&s_loop, UV_RUN_ONCE);
    }
    uv_timer_stop(&s_tick);
    return done(c);
}

static int s_is_closed(const s_client_t *c) {
    return c->closed;
}

static int s_is_eof(const s_client_t *c) {
    return c->eof;
}

static void s_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf) {
    s_client_t *c = handle->data;
    (void)suggested;
    buf->base = c->resp + c->len;
    buf->len = S_RESP_MAX - 1 - c->len;
}

static void s_on_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf) {
    s_client_t *c = stream->data;
    (void)buf;
    if (n > 0) {
        c->len += (size_t)n;
        c->resp[c->len] = '\0';
    } else if (n == UV_EOF) {
        c->eof = 1;
        uv_read_stop(stream);
    } else if (n < 0) {
        c->error = (int)n;
        c->eof = 1;
        uv_read_stop(stream);
    }
}

static void s_on_connect(uv_connect_t *req, int status) {
    s_client_t *c = req->data;
    c->connected = status == 0 ? 1 : -1;
    if (status == 0) {
        uv_read_start((uv_stream_t *)&c->tcp, s_alloc, s_on_read);
    }
}

static void s_on_close(uv_handle_t *handle) {
    s_client_t *c = handle->data;
    c->closed = 1;
}

static void s_on_write(uv_write_t *req, int status) {
    s_client_t *c = req->data;
    if (status != 0) {
        c->error = status;
    }
}

/* Connects a client to 127.0.0.1:port; returns 0, or the libuv error. */
static int s_connect(s_client_t *c, int port) {
    memset(c, 0, sizeof *c);
    c->resp = calloc(1, S_RESP_MAX);
    HK_CHECK(c->resp, "out of memory");
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", port, &addr);
    uv_tcp_init(&s_loop, &c->tcp);
    c->tcp.data = c;
    c->connect.data = c;
    int rc = uv_tcp_connect(&c->connect, &c->tcp, (const struct sockaddr *)&addr, s_on_connect);
    HK_CHECK(rc == 0, "uv_tcp_connect: %s", uv_strerror(rc));
    while (!c->connected) {
        uv_run(&s_loop, UV_RUN_ONCE);
    }
    return c->connected == 1 ? 0 : -1;
}

static void s_close(s_client_t *c) {
    uv_close((uv_handle_t *)&c->tcp, s_on_close);
    HK_CHECK(s_run_until(s_is_closed, c), "client did not close");
    free(c->resp);
    c->resp = NULL;
}

/* Sends raw request text; the response accumulates in c->resp. */
static void s_send(s_client_t *c, const char *text) {
    uv_buf_t buf = uv_buf_init((char *)text, (unsigned)strlen(text));
    c->write.data = c;
    int rc = uv_write(&c->write, (uv_stream_t *)&c->tcp, &buf, 1, s_on_write);
    HK_CHECK(rc == 0, "uv_write: %s", uv_strerror(rc));
}

/* Returns 1 once c->resp holds a whole response (headers and Content-Length bytes). */
static int s_complete(const s_client_t *c) {
    const char *end = strstr(c->resp, "\r\n\r\n");
    if (!end) {
        return 0;
    }
    const char *cl = strcasestr(c->resp, "\r\ncontent-length:");
    if (!cl || cl > end) {
        return c->eof;
    }
    long n = strtol(cl + 17, NULL, 10);
    return (long)(c->len - (size_t)(end + 4 - c->resp)) >= n;
}

static int s_has_answer(const s_client_t *c) {
    return c->eof || s_complete(c);
}

static int s_has_headers(const s_client_t *c) {
    return c->eof || strstr(c->resp, "\r\n\r\n");
}

/* Waits for a whole response (and for the server to close when want_eof) and parses it. */
static s_resp_t s_receive(s_client_t *c, int want_eof) {
    s_resp_t r = {0, NULL, NULL, -1};
    s_run_until(want_eof ? s_is_eof : s_has_answer, c);
    HK_CHECK(s_complete(c) && (c->eof || !want_eof), "no complete response, got %zu bytes: \"%s\"",
             c->len, c->resp);
    HK_CHECK(sscanf(c->resp, "HTTP/1.%*d %d", &r.status) == 1, "bad status line: \"%s\"", c->resp);
    char *end = strstr(c->resp, "\r\n\r\n");
    HK_CHECK(end, "no end of headers");
    *end = '\0';
    r.headers = c->resp;
    r.body = end + 4;
    const char *cl = strcasestr(r.headers, "\r\ncontent-length:");
    if (cl) {
        r.content_length = strtol(cl + 17, NULL, 10);
    }
    return r;
}

/* Forgets the response held in c->resp (for the next request on a kept-alive connection). */
static void s_consume(s_client_t *c, const s_resp_t *r) {
    size_t used =
        (size_t)(r->body - c->resp) + (size_t)(r->content_length > 0 ? r->content_length : 0);
    HK_CHECK(used <= c->len, "response longer than data");
    memmove(c->resp, c->resp + used, c->len - used + 1);
    c->len -= used;
}

/* One request on a fresh connection closed by the server; checks status and body. */
static void s_expect(int port, const char *request, int status, const char *body) {
    s_client_t c;
    HK_CHECK(s_connect(&c, port) == 0, "cannot connect to port %d", port);
    s_send(&c, request);
    s_resp_t r = s_receive(&c, 1);
    HK_CHECK(r.status == status, "%s-> status %d, expected %d", request, r.status, status);
    if (body) {
        HK_CHECK_STR_EQ(r.body, body);
    }
    HK_CHECK_INT_EQ(r.content_length, (long)strlen(r.body));
    s_close(&c);
}

static void s_test_keepalive(int port) {
    s_client_t c;
    HK_CHECK(s_connect(&c, port) == 0, "cannot connect");
    s_send(&c, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n");
    s_resp_t r = s_receive(&c, 0);
    HK_CHECK_INT_EQ(r.status, 200);
    HK_CHECK_INT_EQ(r.content_length, 3);
    HK_CHECK(strncmp(r.body, "ok\n", 3) == 0, "healthz body \"%s\"", r.body);
    HK_CHECK(!c.eof, "server closed a keep-alive connection");
    s_consume(&c, &r);
    /* the same connection serves a second request */
    s_send(&c, "GET /readyz?probe=1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    r = s_receive(&c, 1);
    HK_CHECK_INT_EQ(r.status, 200);
    HK_CHECK_STR_EQ(r.body, "ready\n");
    s_close(&c);
}

static void s_test_metrics(int port, uint64_t *counter) {
    *counter = 42;
    s_client_t c;
    HK_CHECK(s_connect(&c, port) == 0, "cannot connect");
    s_send(&c, "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    s_resp_t r = s_receive(&c, 1);
    HK_CHECK_INT_EQ(r.status, 200);
    HK_CHECK(strcasestr(r.headers, "\r\ncontent-type: text/plain; version=0.0.4"),
             "metrics content type: %s", r.headers);
    HK_CHECK_CONTAINS(r.body, "\nhetki_test_requests_total 42\n");
    HK_CHECK_CONTAINS(r.body, "hetki_filler_199_total 199\n");
    HK_CHECK_INT_EQ(r.content_length, (long)strlen(r.body));
    HK_CHECK(r.content_length > 3 * 4096, "metrics body too short (%ld) to span writes",
             r.content_length);
    s_close(&c);
}

static void s_test_methods(int port) {
    s_client_t c;
    HK_CHECK(s_connect(&c, port) == 0, "cannot connect");
    s_send(&c, "POST /healthz HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\n"
               "Content-Length: 5\r\n\r\nhello");
    s_resp_t r = s_receive(&c, 1);
    HK_CHECK_INT_EQ(r.status, 405);
    HK_CHECK(strcasestr(r.headers, "\r\nallow: GET"), "405 without Allow: %s", r.headers);
    s_close(&c);
    s_expect(port, "POST /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n", 405, NULL);
    s_expect(port, "DELETE /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n", 405, NULL);
}

/* HTTP/2 paths. With prior knowledge (the "PRI *" preface) lws refuses it as HTTP/1.1. An
 * "Upgrade: h2c" request is answered with 101 by lws 4.1 (only a CONFIRM_UPGRADE handler could
 * refuse it); the check here is that such a connection, dropped after the 101, leaves the
 * server serving. */
static void s_test_h2(int port) {
    s_client_t c;
    HK_CHECK(s_connect(&c, port) == 0, "cannot connect");
    s_send(&c, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    s_resp_t r = s_receive(&c, 1);
    HK_CHECK(r.status >= 400 && r.status < 500, "h2 preface answered %d", r.status);
    s_close(&c);

    HK_CHECK(s_connect(&c, port) == 0, "cannot connect");
    s_send(&c, "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade, HTTP2-Settings\r\n"
               "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n");
    HK_CHECK(s_run_until(s_has_headers, &c), "no answer to an h2c upgrade");
    s_close(&c);
    s_expect(port, "GET /healthz HTTP/1.0\r\n\r\n", 200, "ok\n");
}

/* Opens a kept-alive connection that has been served once (so lws has accepted it). */
static void s_open_served(s_client_t *c, int port) {
    HK_CHECK(s_connect(c, port) == 0, "cannot connect to port %d", port);
    s_send(c, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n");
    s_resp_t r = s_receive(c, 0);
    HK_CHECK_INT_EQ(r.status, 200);
    s_consume(c, &r);
}

/* A port held by another socket fails cleanly. (A port used by another vhost of the same
 * context would not: lws shares that listener between its vhosts.) */
static void s_test_busy_port(hk_web_t *web, hk_metrics_t *metrics) {
    uv_tcp_t holder;
    struct sockaddr_in any;
    struct sockaddr_storage bound;
    int boundlen = sizeof bound;
    uv_ip4_addr("127.0.0.1", 0, &any);
    HK_CHECK(uv_tcp_init(&s_loop, &holder) == 0 &&
                 uv_tcp_bind(&holder, (const struct sockaddr *)&any, 0) == 0 &&
                 uv_listen((uv_stream_t *)&holder, 1, NULL) == 0 &&
                 uv_tcp_getsockname(&holder, (struct sockaddr *)&bound, &boundlen) == 0,
             "cannot hold a port");
    int busy = ntohs(((struct sockaddr_in *)&bound)->sin_port);
    HK_CHECK(!hk_admin_new(web, "127.0.0.1", busy, metrics, NULL, NULL),
             "bind of busy port %d succeeded", busy);
    uv_close((uv_handle_t *)&holder, NULL);
}

/* Bound to 127.0.0.1 means loopback only: another local IPv4 address of this host (if it has
 * one) refuses the port. (lws 4.1 would listen on every interface had it put 127.0.0.1 on an
 * IPv6 socket.) */
static void s_test_loopback_only(int port) {
    uv_interface_address_t *ifs = NULL;
    int n = 0;
    char other[64] = "";
    if (uv_interface_addresses(&ifs, &n) == 0) {
        for (int i = 0; i < n && !other[0]; i++) {
            if (!ifs[i].is_internal && ifs[i].address.address4.sin_family == AF_INET) {
                uv_ip4_name(&ifs[i].address.address4, other, sizeof other);
            }
        }
        uv_free_interface_addresses(ifs, n);
    }
    if (!other[0]) {
        return; /* nothing but loopback here */
    }
    s_client_t c;
    memset(&c, 0, sizeof c);
    c.resp = calloc(1, S_RESP_MAX);
    HK_CHECK(c.resp, "out of memory");
    struct sockaddr_in addr;
    uv_ip4_addr(other, port, &addr);
    uv_tcp_init(&s_loop, &c.tcp);
    c.tcp.data = c.connect.data = &c;
    HK_CHECK(uv_tcp_connect(&c.connect, &c.tcp, (const struct sockaddr *)&addr, s_on_connect) == 0,
             "uv_tcp_connect");
    while (!c.connected) {
        uv_run(&s_loop, UV_RUN_ONCE);
    }
    HK_CHECK(c.connected == -1, "port %d bound to 127.0.0.1 answers on %s", port, other);
    s_close(&c);
}

/* A second admin on port 0 gets a port of its own. Once destroyed it answers nothing but
 * 503 on connections lws has not closed yet (lws 4.1 closes a destroyed vhost's listener
 * and connections from a periodic check, up to 30 s later, or when the context goes). */
static void s_test_second_admin(hk_web_t *web, hk_metrics_t *metrics, int first_port) {
    hk_admin_t *other = hk_admin_new(web, "127.0.0.1", 0, metrics, NULL, NULL);
    HK_CHECK(other, "second admin on port 0 failed");
    int port = hk_admin_port(other);
    HK_CHECK(port > 0 && port != first_port, "second port 0 vhost got port %d (first %d)", port,
             first_port);
    s_expect(port, "GET /readyz HTTP/1.0\r\n\r\n", 200, "ready\n");
    s_client_t c;
    s_open_served(&c, port);
    hk_admin_destroy(&other);
    HK_CHECK(!other, "hk_admin_destroy did not null the pointer");
    s_send(&c, "GET /readyz HTTP/1.1\r\nHost: localhost\r\n\r\n");
    s_run_until(s_has_answer, &c);
    if (!c.eof || c.len > 0) {
        s_resp_t r = s_receive(&c, 0);
        HK_CHECK_INT_EQ(r.status, 503);
        HK_CHECK_STR_EQ(r.body, "shutting down\n");
    }
    s_close(&c);
}

/* The context goes first, the admin after: the admin is freed without touching lws. */
static void s_test_reverse_teardown(void) {
    HK_CHECK(uv_loop_init(&s_loop) == 0, "uv_loop_init");
    uv_timer_init(&s_loop, &s_tick);
    hk_web_t *web = hk_web_new(&s_loop);
    HK_CHECK(web, "hk_web_new failed");
    hk_admin_t *admin = hk_admin_new(web, "127.0.0.1", 0, NULL, NULL, NULL);
    HK_CHECK(admin, "hk_admin_new failed");
    s_expect(hk_admin_port(admin), "GET /metrics HTTP/1.0\r\n\r\n", 200, "");
    hk_web_destroy(&web);
    uv_close((uv_handle_t *)&s_tick, NULL);
    uv_run(&s_loop, UV_RUN_DEFAULT);
    hk_admin_destroy(&admin);
    int rc = uv_loop_close(&s_loop);
    HK_CHECK(rc == 0, "uv_loop_close: %s (handles left behind)", uv_strerror(rc));
}

/* Teardown from a callback while uv_run is running, as hk_service does: the loop then ends
 * on its own once lws's handles are gone. */
typedef struct {
    hk_web_t *web;
    hk_admin_t *admin;
} s_pair_t;

static void s_on_teardown(uv_timer_t *timer) {
    s_pair_t *pair = timer->data;
    hk_admin_destroy(&pair->admin);
    hk_web_destroy(&pair->web);
    uv_close((uv_handle_t *)timer, NULL);
}

static void s_test_teardown_in_loop(void) {
    HK_CHECK(uv_loop_init(&s_loop) == 0, "uv_loop_init");
    uv_timer_init(&s_loop, &s_tick);
    s_pair_t pair = {hk_web_new(&s_loop), NULL};
    HK_CHECK(pair.web, "hk_web_new failed");
    pair.admin = hk_admin_new(pair.web, "localhost", 0, NULL, NULL, NULL);
    HK_CHECK(pair.admin, "hk_admin_new on localhost failed");
    s_expect(hk_admin_port(pair.admin), "GET /readyz HTTP/1.0\r\n\r\n", 200, "ready\n");
    uv_timer_t timer;
    uv_timer_init(&s_loop, &timer);
    timer.data = &pair;
    uv_timer_start(&timer, s_on_teardown, 1, 0);
    uv_close((uv_handle_t *)&s_tick, NULL);
    uv_run(&s_loop, UV_RUN_DEFAULT);
    HK_CHECK(!pair.web && !pair.admin, "teardown did not run");
    int rc = uv_loop_close(&s_loop);
    HK_CHECK(rc == 0, "uv_loop_close: %s (handles left behind)", uv_strerror(rc));
}

int main(void) {
    alarm(60); /* a hang is a failure */
    hk_log_init("test", "admin", getenv("TEST_DEBUG") ? HK_LOG_DEBUG : HK_LOG_WARN);
    HK_CHECK(uv_loop_init(&s_loop) == 0, "uv_loop_init");
    uv_timer_init(&s_loop, &s_tick);

    hk_web_t *web = hk_web_new(&s_loop);
    HK_CHECK(web, "hk_web_new failed (is libwebsockets-evlib-uv installed?)");
    hk_metrics_t *metrics = hk_metrics_new();
    uint64_t *counter = hk_metrics_counter(metrics, "test_requests_total", "Requests in the test");
    for (int i = 0; i < 200; i++) {
        char name[64];
        snprintf(name, sizeof name, "filler_%03d_total", i);
        *hk_metrics_counter(metrics, name, "A filler counter that makes the page long enough") =
            (uint64_t)i;
    }
    s_state_t state = {1, ""};
    hk_admin_t *admin = hk_admin_new(web, "127.0.0.1", 0, metrics, s_ready, &state);
    HK_CHECK(admin, "hk_admin_new on port 0 failed");
    int port = hk_admin_port(admin);
    HK_CHECK(port > 0 && port < 65536, "ephemeral port %d", port);

    s_expect(port, "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", 200,
             "ok\n");
    s_test_keepalive(port);
    state.ready = 0;
    state.why = "redis down";
    s_expect(port, "GET /readyz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", 503,
             "not ready: redis down\n");
    state.ready = 1;
    s_expect(port, "GET /readyz HTTP/1.0\r\n\r\n", 200, "ready\n");
    s_test_metrics(port, counter);
    s_expect(port, "GET /nope HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", 404, NULL);
    s_test_methods(port);
    s_test_h2(port);
    s_test_loopback_only(port);
    s_test_busy_port(web, metrics);
    s_test_second_admin(web, metrics, port);

    /* tear down with a served connection still open: the context closes it */
    s_client_t idle;
    s_open_served(&idle, port);
    hk_admin_destroy(&admin);
    hk_web_destroy(&web);
    HK_CHECK(!web, "hk_web_destroy did not null the pointer");
    HK_CHECK(s_run_until(s_is_eof, &idle), "connection survived the context");
    s_close(&idle);
    uv_close((uv_handle_t *)&s_tick, NULL);
    uv_run(&s_loop, UV_RUN_DEFAULT);
    int rc = uv_loop_close(&s_loop);
    HK_CHECK(rc == 0, "uv_loop_close: %s (handles left behind)", uv_strerror(rc));
    hk_metrics_destroy(&metrics);

    s_test_reverse_teardown();
    s_test_teardown_in_loop();
    return HK_TEST_EXIT();
}
