/* hk_web: the process's one libwebsockets context, running on the shared libuv loop as a
 * foreign loop (LWS_SERVER_OPTION_LIBUV). Services add vhosts to it (admin, chat,
 * dashboard). HTTP/1.1 only: no h2 ALPN. */
#ifndef HK_WEB_H
#define HK_WEB_H

#include <libwebsockets.h>
#include <uv.h>

typedef struct hk_web_t hk_web_t;

/* Creates the context on loop (no vhost yet). Returns NULL and logs on failure. */
hk_web_t *hk_web_new(uv_loop_t *loop);

/* The lws context, to create vhosts with lws_create_vhost. */
struct lws_context *hk_web_context(hk_web_t *web);

/* Destroys the context; lws releases its libuv handles while the loop keeps running,
 * so call this before the final uv_run that lets the loop drain. Nulls the pointer. */
void hk_web_destroy(hk_web_t **web_p);

#endif
