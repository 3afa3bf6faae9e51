/* hk_web_files: embedded static files on a websocket vhost's HTTP protocol (see the header). */
#include "hk_web_files.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    pss->response.status = status;
    pss->response.content_type = type;
    pss->response.body = body;
    pss->response.len = len;
    pss->response.responding = 1;
    pss->cache = cache;
}

static void s_text(hk_web_files_pss_t *pss, unsigned int status, const char *text) {
    s_set(pss, status, "text/plain; charset=utf-8", text, strlen(text), "no-store");
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
    hk_web_response_t *r = &pss->response;
    pss->frame_deny = files && files->cfg.frame_deny;
    int get = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0;
    int head = !get && lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) > 0;
    r->head_only = head;
    if (!get && !head) {
        r->close_after = 1;
        r->wait_body = hk_web_request_length(wsi) > 0;
        s_text(pss, HTTP_STATUS_METHOD_NOT_ALLOWED, "method not allowed\n");
    } else if (!files || files->draining) {
        r->close_after = 1;
        s_text(pss, HTTP_STATUS_SERVICE_UNAVAILABLE, "shutting down\n");
    } else {
        s_pick(files, pss, uri);
    }
    if (!r->wait_body) {
        lws_callback_on_writable(wsi);
    }
    return 0;
}

static int s_header(struct lws *wsi, const char *name, const char *value, unsigned char **p,
                    unsigned char *end) {
    return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                       (const unsigned char *)value, (int)strlen(value), p, end);
}

/* The files' own response headers (after status, type and length). */
static int s_headers(struct lws *wsi, const hk_web_response_t *r, unsigned char **p,
                     unsigned char *end, void *arg) {
    const hk_web_files_pss_t *pss = arg;
    if (s_header(wsi, "cache-control:", pss->cache, p, end) ||
        s_header(wsi, "x-content-type-options:", "nosniff", p, end) ||
        s_header(wsi, "referrer-policy:", "no-referrer", p, end)) {
        return -1;
    }
    if (pss->frame_deny && s_header(wsi, "x-frame-options:", "DENY", p, end)) {
        return -1;
    }
    if (r->status == HTTP_STATUS_METHOD_NOT_ALLOWED &&
        s_header(wsi, "allow:", "GET, HEAD", p, end)) {
        return -1;
    }
    return 0;
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
        if (pss) {
            hk_web_response_body_read(wsi, &pss->response);
        }
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return pss ? hk_web_response_write(wsi, &pss->response, s_headers, pss) : -1;
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
