/* chat_http: the chat port's plain HTTP side: the embedded widget files (services/chat/web,
 * embedded at build time) with the demo page at "/". GET and HEAD only; the demo page's
 * data-tenant attribute is set to HETKI_CHAT_TENANT. Runs inside chat_ws's vhost. */
#ifndef CHAT_HTTP_H
#define CHAT_HTTP_H

#include <libwebsockets.h>

typedef struct chat_http_t chat_http_t;

/* Per-connection state of an HTTP request; lws allocates sizeof(chat_http_pss_t). */
typedef struct {
    const unsigned char *body; /* not owned */
    size_t len;
    size_t sent;
    unsigned int status;
    const char *content_type;
    const char *cache;
    int responding;
    int wait_body;
    int headers_sent;
    int head_only;
    int close_after;
} chat_http_pss_t;

/* Creates the file server for the demo page's tenant. */
chat_http_t *chat_http_new(const char *tenant);

/* From now on every request is answered 503 (the service is draining). */
void chat_http_drain(chat_http_t *http);

/* Handles one lws HTTP callback for the vhost's HTTP protocol; returns what the lws callback
 * returns. */
int chat_http_callback(chat_http_t *http, struct lws *wsi, enum lws_callback_reasons reason,
                       chat_http_pss_t *pss, void *in, size_t len);

/* Frees the server; nulls the pointer. Only once lws no longer calls it (vhost finalized). */
void chat_http_destroy(chat_http_t **http_p);

#endif
