/* db_http: the dashboard port's plain HTTP side: the web app's files (services/dashboard/web,
 * embedded at build time) with index.html at "/". GET and HEAD only. Runs inside db_ws's
 * vhost. */
#ifndef DB_HTTP_H
#define DB_HTTP_H

#include <libwebsockets.h>

typedef struct db_http_t db_http_t;

/* Per-connection state of an HTTP request; lws allocates sizeof(db_http_pss_t). */
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
} db_http_pss_t;

/* Creates the file server. */
db_http_t *db_http_new(void);

/* From now on every request is answered 503 (the service is draining). */
void db_http_drain(db_http_t *http);

/* Handles one lws HTTP callback for the vhost's HTTP protocol; returns what the lws callback
 * returns. */
int db_http_callback(db_http_t *http, struct lws *wsi, enum lws_callback_reasons reason,
                     db_http_pss_t *pss, void *in, size_t len);

/* Frees the server; nulls the pointer. Only once lws no longer calls it (vhost finalized). */
void db_http_destroy(db_http_t **http_p);

#endif
