/* hk_web_files: the plain HTTP side of a service's websocket vhost (hk_ws_server): serves
 * files embedded at build time (cmake/embed_files.cmake), GET and HEAD only, with an optional
 * generated page at "/" and "/index.html", 426 on the websocket path and 503 once draining.
 * The request callback only picks the response; the writeable callback writes headers, then
 * the body in chunks, then completes the transaction (keep-alive, or close after an error). */
#ifndef HK_WEB_FILES_H
#define HK_WEB_FILES_H

#include <libwebsockets.h>
#include <stddef.h>

#include "hk_web.h"

#ifndef HK_EMBEDDED_FILE_T
#define HK_EMBEDDED_FILE_T
typedef struct {
    const char *path;
    const char *content_type;
    const unsigned char *data;
    size_t len;
} hk_embedded_file_t;
#endif

typedef struct hk_web_files_t hk_web_files_t;

typedef struct {
    /* Finds an embedded file by its path ("/widget.js"); NULL when there is none. */
    const hk_embedded_file_t *(*find)(const char *path);
    const char *ws_path;    /* answered 426 with ws_text (plain HTTP on the websocket path) */
    const char *ws_text;    /* the 426 body */
    const char *file_cache; /* cache-control of the embedded files */
    int index_at_root;      /* "/" serves the embedded /index.html */
    int frame_deny;         /* adds x-frame-options: DENY to every response */
    /* A page served at "/" and "/index.html" (text/html, no-cache) instead of the embedded
     * file; copied. NULL: none. */
    const char *page;
    size_t page_len;
} hk_web_files_config_t;

/* Per-connection state of an HTTP request; lws allocates sizeof(hk_web_files_pss_t). */
typedef struct {
    hk_web_response_t response; /* its body is an embedded file or text: not owned */
    const char *cache;          /* its cache-control */
    int frame_deny;             /* adds x-frame-options: DENY */
} hk_web_files_pss_t;

/* Creates the file server; cfg is copied (its strings and find must stay valid). */
hk_web_files_t *hk_web_files_new(const hk_web_files_config_t *cfg);

/* From now on every request is answered 503 (the service is draining). */
void hk_web_files_drain(hk_web_files_t *files);

/* Handles one lws callback of the vhost's HTTP protocol (files NULL: 503); returns what the
 * lws callback returns. */
int hk_web_files_callback(hk_web_files_t *files, struct lws *wsi, enum lws_callback_reasons reason,
                          hk_web_files_pss_t *pss, void *in, size_t len);

/* Frees the server; nulls the pointer. Only once lws no longer calls it (vhost finalized). */
void hk_web_files_destroy(hk_web_files_t **files_p);

#endif
