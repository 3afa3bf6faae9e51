/* hk_web: the process's one libwebsockets context, running on the shared libuv loop as a
 * foreign loop (LWS_SERVER_OPTION_LIBUV). Services add vhosts to it (admin, chat,
 * dashboard). HTTP/1.1 only: no h2 ALPN.
 *
 * Rules for every vhost added with lws_create_vhost(hk_web_context(web), &info):
 *  - start info with hk_web_vhost_info (listen address, ALPN, bind failure), then add the
 *    vhost's own fields; never set LWS_SERVER_OPTION_H2_PRIOR_KNOWLEDGE. (lws 4.1 still
 *    answers a plain-text "Upgrade: h2c" with 101; only LWS_CALLBACK_HTTP_CONFIRM_UPGRADE
 *    could refuse it, and we do not handle that callback.)
 *  - two vhosts of this context on the same port share one listener (lws picks the vhost by
 *    the Host header); port 0 gets a fresh kernel-chosen port each time, which
 *    lws_get_vhost_listen_port() reports.
 *  - lws keeps pointers to info.vhost_name, info.iface, the protocols array and other
 *    strings: they must live as long as the vhost (static strings, or memory freed from the
 *    info.finalize callback, which lws calls just before it frees the vhost).
 *  - lws_vhost_destroy() in lws 4.1 on libuv only starts the job: the listener and
 *    connections close at lws's periodic check (up to 30 s later) or when the context goes,
 *    and info.finalize runs then. Keep the vhost's data valid until finalize.
 * lws's own log lines go to hk_log (warn and error only). The libuv event library is the
 * evlib plugin from the libwebsockets-evlib-uv package, which lws loads by itself from its
 * install directory; without it hk_web_new fails. */
#ifndef HK_WEB_H
#define HK_WEB_H

#include <libwebsockets.h>
#include <uv.h>

typedef struct hk_web_t hk_web_t;

/* Creates the context on loop (no vhost yet). Returns NULL and logs on failure. */
hk_web_t *hk_web_new(uv_loop_t *loop);

/* The lws context, to create vhosts with lws_create_vhost. */
struct lws_context *hk_web_context(hk_web_t *web);

/* Zeroes info and fills in the listening part of a vhost on host:port: info.port, info.iface,
 * info.alpn = "http/1.1" and options that make lws_create_vhost fail (NULL) when the port is
 * busy or the address is not local. host is an IPv4 or IPv6 address, "localhost", or NULL,
 * "" or "*" for every IPv4 interface; port 0 lets the kernel pick. The family is chosen from
 * host because lws 4.1, given an IPv4 address on its default IPv6 socket, listens on every
 * interface. lws keeps the info.iface pointer, which is host itself for an address: host must
 * live as long as the vhost. Returns 0, or -1 (logged) when host or port is unusable. */
int hk_web_vhost_info(struct lws_context_creation_info *info, const char *host, int port);

/* One HTTP response of a connection, kept in a vhost's per-session data and written by
 * hk_web_response_write from writeable callbacks: status line and headers, then the body in
 * chunks. A response is pending once responding is set. */
typedef struct {
    const char *body; /* len bytes */
    char *owned;      /* malloc'd memory freed with the response (body may point into it) */
    size_t len;
    size_t sent;
    unsigned int status;
    const char *content_type;
    int responding;   /* a response is pending or being written */
    int wait_body;    /* answer once the request body has been read */
    int headers_sent; /* status line and headers are out */
    int head_only;    /* HEAD request: headers, no body */
    int close_after;  /* close the connection after this response */
} hk_web_response_t;

/* Adds a vhost's own headers to a response after its status, content type and length (lws
 * header helpers on *p up to end); returns 0, or -1 when they do not fit. */
typedef int(hk_web_headers_fn)(struct lws *wsi, const hk_web_response_t *r, unsigned char **p,
                               unsigned char *end, void *arg);

/* The Content-Length of the request being answered; 0 when absent or unreadable. */
long long hk_web_request_length(struct lws *wsi);

/* For LWS_CALLBACK_HTTP_WRITEABLE: writes the next part of r (nothing while no response is
 * pending or the request body is still being read): the headers (common ones, those headers
 * adds, "connection: close" when close_after), then one body chunk per call. Returns what the
 * callback returns: 0 while r goes on, -1 when a write failed; once r is complete it is reset
 * and the connection closes (-1) after close_after or when lws will not keep it, else 0. */
int hk_web_response_write(struct lws *wsi, hk_web_response_t *r, hk_web_headers_fn *headers,
                          void *arg);

/* For LWS_CALLBACK_HTTP_BODY_COMPLETION: a response that waited for the request body is
 * written from the next writeable callback. */
void hk_web_response_body_read(struct lws *wsi, hk_web_response_t *r);

/* Frees what r owns and clears it. */
void hk_web_response_reset(hk_web_response_t *r);

/* Destroys the context and nulls the pointer. lws closes its libuv handles from the loop and
 * the context (with its vhosts, whose finalize callbacks run) is freed once they are all
 * closed, so run the loop afterwards until it drains (uv_run UV_RUN_DEFAULT); then
 * uv_loop_close() returns 0. */
void hk_web_destroy(hk_web_t **web_p);

#endif
