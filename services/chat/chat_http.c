/* chat_http: static files (embedded) for the chat widget and demo page. The request callback
 * only picks the response; the writeable callback writes headers, then the body in chunks,
 * then completes the transaction (keep-alive, or close after an error). */
#include "chat_http.h"

#include "chat_web.h"
#include "hk_log.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_CHUNK 8192

struct chat_http_t {
    unsigned char *index; /* the demo page with the configured tenant; NULL without one */
    size_t index_len;
    int draining;
};

/* Copies the demo page with the value of its first data-tenant="..." set to tenant. */
static void s_make_index(chat_http_t *http, const char *tenant) {
    const hk_embedded_file_t *f = chat_web_find("/index.html");
    if (!f) {
        return;
    }
    const char *attr = "data-tenant=\"";
    const char *text = (const char *)f->data;
    const char *at = strstr(text, attr);
    const char *end = at ? strchr(at + strlen(attr), '"') : NULL;
    size_t head = end ? (size_t)(at - text) + strlen(attr) : f->len;
    size_t tail = end ? f->len - (size_t)(end - text) : 0;
    size_t tlen = end ? strlen(tenant) : 0;
    http->index = malloc(head + tlen + tail + 1);
    assert(http->index);
    memcpy(http->index, text, head);
    memcpy(http->index + head, tenant, tlen);
    memcpy(http->index + head + tlen, end ? end : "", tail);
    http->index_len = head + tlen + tail;
    http->index[http->index_len] = '\0';
}

chat_http_t *chat_http_new(const char *tenant) {
    chat_http_t *http = calloc(1, sizeof *http);
    assert(http);
    s_make_index(http, tenant);
    HK_INFO("chat.web_files", "count=%zu demo_page=%s", chat_web_count, http->index ? "yes" : "no");
    return http;
}

void chat_http_drain(chat_http_t *http) {
    http->draining = 1;
}

static void s_set(chat_http_pss_t *pss, unsigned int status, const char *type, const void *body,
                  size_t len, const char *cache) {
    pss->status = status;
    pss->content_type = type;
    pss->body = body;
    pss->len = len;
    pss->cache = cache;
    pss->responding = 1;
}

static void s_text(chat_http_pss_t *pss, unsigned int status, const char *text) {
    s_set(pss, status, "text/plain; charset=utf-8", text, strlen(text), "no-store");
}

static long long s_request_length(struct lws *wsi) {
    char value[32];
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0 ||
        lws_hdr_copy(wsi, value, sizeof value, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0) {
        return 0;
    }
    return strtoll(value, NULL, 10);
}

static int s_on_request(chat_http_t *http, struct lws *wsi, chat_http_pss_t *pss, const char *uri) {
    memset(pss, 0, sizeof *pss);
    int get = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0;
    int head = !get && lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) > 0;
    pss->head_only = head;
    if (!get && !head) {
        pss->close_after = 1;
        pss->wait_body = s_request_length(wsi) > 0;
        s_text(pss, HTTP_STATUS_METHOD_NOT_ALLOWED, "method not allowed\n");
    } else if (!http || http->draining) {
        pss->close_after = 1;
        s_text(pss, HTTP_STATUS_SERVICE_UNAVAILABLE, "shutting down\n");
    } else if ((strcmp(uri, "/") == 0 || strcmp(uri, "/index.html") == 0) && http->index) {
        s_set(pss, HTTP_STATUS_OK, "text/html; charset=utf-8", http->index, http->index_len,
              "no-cache");
    } else if (strcmp(uri, "/ws") == 0) {
        s_text(pss, 426, "websocket only (subprotocol hetki-chat.v1)\n");
    } else {
        const hk_embedded_file_t *f = chat_web_find(uri);
        if (f) {
            s_set(pss, HTTP_STATUS_OK, f->content_type, f->data, f->len, "public, max-age=300");
        } else {
            s_text(pss, HTTP_STATUS_NOT_FOUND, "not found\n");
        }
    }
    if (!pss->wait_body) {
        lws_callback_on_writable(wsi);
    }
    return 0;
}

static int s_header(struct lws *wsi, const char *name, const char *value, unsigned char **p,
                    unsigned char *end) {
    return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                       (const unsigned char *)value, (int)strlen(value), p, end);
}

static int s_write_headers(struct lws *wsi, chat_http_pss_t *pss) {
    unsigned char buf[LWS_PRE + 1024];
    unsigned char *start = buf + LWS_PRE;
    unsigned char *p = start;
    unsigned char *end = buf + sizeof buf - 1;
    if (lws_add_http_common_headers(wsi, pss->status, pss->content_type, pss->len, &p, end) ||
        s_header(wsi, "cache-control:", pss->cache, &p, end) ||
        s_header(wsi, "x-content-type-options:", "nosniff", &p, end) ||
        s_header(wsi, "referrer-policy:", "no-referrer", &p, end)) {
        return -1;
    }
    if (pss->status == HTTP_STATUS_METHOD_NOT_ALLOWED &&
        s_header(wsi, "allow:", "GET, HEAD", &p, end)) {
        return -1;
    }
    if (pss->close_after &&
        lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, (const unsigned char *)"close", 5,
                                     &p, end)) {
        return -1;
    }
    return lws_finalize_write_http_header(wsi, start, &p, end) ? -1 : 0;
}

static int s_on_writeable(struct lws *wsi, chat_http_pss_t *pss) {
    if (!pss->responding || pss->wait_body) {
        return 0;
    }
    if (!pss->headers_sent) {
        if (s_write_headers(wsi, pss) != 0) {
            return -1;
        }
        pss->headers_sent = 1;
        if (pss->head_only || pss->len == 0) {
            pss->sent = pss->len;
        } else {
            lws_callback_on_writable(wsi);
            return 0;
        }
    } else {
        unsigned char buf[LWS_PRE + S_CHUNK];
        size_t n = pss->len - pss->sent;
        n = n > S_CHUNK ? S_CHUNK : n;
        int final = pss->sent + n == pss->len;
        memcpy(buf + LWS_PRE, pss->body + pss->sent, n);
        if (lws_write(wsi, buf + LWS_PRE, n, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) <
            (int)n) {
            return -1;
        }
        pss->sent += n;
        if (!final) {
            lws_callback_on_writable(wsi);
            return 0;
        }
    }
    int close_after = pss->close_after;
    memset(pss, 0, sizeof *pss);
    if (close_after || lws_http_transaction_completed(wsi)) {
        return -1;
    }
    return 0;
}

int chat_http_callback(chat_http_t *http, struct lws *wsi, enum lws_callback_reasons reason,
                       chat_http_pss_t *pss, void *in, size_t len) {
    (void)len;
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return pss ? s_on_request(http, wsi, pss, in ? (const char *)in : "") : -1;
    case LWS_CALLBACK_HTTP_BODY:
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (pss && pss->wait_body) {
            pss->wait_body = 0;
            lws_callback_on_writable(wsi);
        }
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return pss ? s_on_writeable(wsi, pss) : -1;
    default:
        return 0;
    }
}

void chat_http_destroy(chat_http_t **http_p) {
    assert(http_p);
    chat_http_t *http = *http_p;
    if (http) {
        *http_p = NULL;
        free(http->index);
        free(http);
    }
}
