/* hk_web_files: embedded static files on a websocket vhost's HTTP protocol (see the header). */
#include "hk_web_files.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hk_web.h"

struct hk_web_files_t {
    hk_web_files_config_t cfg;
    char *page; /* cfg.page copied, or NULL */
    int draining;
};

hk_web_files_t *hk_web_files_new(const hk_web_files_config_t *cfg) {
    assert(cfg && cfg->find && cfg->ws_path && cfg->ws_text && cfg->file_cache);
    hk_web_files_t *files = calloc(1, sizeof *files);
    assert(files);
    files->cfg = *cfg;
    if (cfg->page) {
        files->page = malloc(cfg->page_len + 1);
        assert(files->page);
        memcpy(files->page, cfg->page, cfg->page_len);
        files->page[cfg->page_len] = '\0';
    }
    return files;
}

void hk_web_files_drain(hk_web_files_t *files) {
    files->draining = 1;
}

static void s_set(hk_web_files_pss_t *pss, unsigned int status, const char *type, const void *body,
                  size_t len, const char *cache) {
    pss->status = status;
    pss->content_type = type;
    pss->body = body;
    pss->len = len;
    pss->cache = cache;
    pss->responding = 1;
}

static void s_text(hk_web_files_pss_t *pss, unsigned int status, const char *text) {
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

/* Picks the response to a GET or HEAD of uri. */
static void s_pick(hk_web_files_t *files, hk_web_files_pss_t *pss, const char *uri) {
    const hk_web_files_config_t *cfg = &files->cfg;
    int root = strcmp(uri, "/") == 0;
    if ((root || strcmp(uri, "/index.html") == 0) && files->page) {
        s_set(pss, HTTP_STATUS_OK, "text/html; charset=utf-8", files->page, cfg->page_len,
              "no-cache");
    } else if (strcmp(uri, cfg->ws_path) == 0) {
        s_text(pss, 426, cfg->ws_text);
    } else {
        const hk_embedded_file_t *f = cfg->find(root && cfg->index_at_root ? "/index.html" : uri);
        if (f) {
            s_set(pss, HTTP_STATUS_OK, f->content_type, f->data, f->len, cfg->file_cache);
        } else {
            s_text(pss, HTTP_STATUS_NOT_FOUND, "not found\n");
        }
    }
}

static int s_on_request(hk_web_files_t *files, struct lws *wsi, hk_web_files_pss_t *pss,
                        const char *uri) {
    memset(pss, 0, sizeof *pss);
    int get = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0;
    int head = !get && lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) > 0;
    pss->head_only = head;
    if (!get && !head) {
        pss->close_after = 1;
        pss->wait_body = s_request_length(wsi) > 0;
        s_text(pss, HTTP_STATUS_METHOD_NOT_ALLOWED, "method not allowed\n");
    } else if (!files || files->draining) {
        pss->close_after = 1;
        s_text(pss, HTTP_STATUS_SERVICE_UNAVAILABLE, "shutting down\n");
    } else {
        s_pick(files, pss, uri);
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

static int s_write_headers(hk_web_files_t *files, struct lws *wsi, hk_web_files_pss_t *pss) {
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
    if (files && files->cfg.frame_deny && s_header(wsi, "x-frame-options:", "DENY", &p, end)) {
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

static int s_on_writeable(hk_web_files_t *files, struct lws *wsi, hk_web_files_pss_t *pss) {
    if (!pss->responding || pss->wait_body) {
        return 0;
    }
    if (!pss->headers_sent) {
        if (s_write_headers(files, wsi, pss) != 0) {
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
        int more = hk_web_write_body(wsi, (const char *)pss->body, pss->len, &pss->sent);
        if (more != 0) {
            return more < 0 ? -1 : 0;
        }
    }
    int close_after = pss->close_after;
    memset(pss, 0, sizeof *pss);
    return hk_web_transaction_done(wsi, close_after);
}

int hk_web_files_callback(hk_web_files_t *files, struct lws *wsi, enum lws_callback_reasons reason,
                          hk_web_files_pss_t *pss, void *in, size_t len) {
    (void)len;
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return pss ? s_on_request(files, wsi, pss, in ? (const char *)in : "") : -1;
    case LWS_CALLBACK_HTTP_BODY:
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (pss && pss->wait_body) {
            pss->wait_body = 0;
            lws_callback_on_writable(wsi);
        }
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return pss ? s_on_writeable(files, wsi, pss) : -1;
    default:
        return 0;
    }
}

void hk_web_files_destroy(hk_web_files_t **files_p) {
    assert(files_p);
    hk_web_files_t *files = *files_p;
    if (files) {
        *files_p = NULL;
        free(files->page);
        free(files);
    }
}
