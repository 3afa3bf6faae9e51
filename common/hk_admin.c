/* hk_admin: the admin HTTP vhost (/healthz, /readyz, /metrics) on the shared hk_web context.
 * One protocol callback answers every request: the request callback only decides the status
 * and body, the writeable callback writes headers, then the body in chunks, then finishes
 * the transaction (keep-alive for GET, close after anything else). */
#include "hk_admin.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hk_log.h"

#define S_HEADERS_MAX 4096 /* bytes of response headers */

struct hk_admin_t {
    struct lws_vhost *vhost; /* NULL once lws finalized it */
    hk_metrics_t *metrics;
    hk_admin_ready_fn *ready;
    void *ready_arg;
    char host[64]; /* lws keeps a pointer to the vhost's iface: lives as long as the vhost */
    int port;
    int finalized;  /* lws called s_finalize: the vhost is gone */
    int destroying; /* the owner let go: s_finalize frees the struct */
};

/* Per-connection state: the response being written. */
typedef struct {
    char *body; /* malloc'd */
    size_t len;
    size_t sent;
    unsigned int status;
    const char *content_type;
    int responding;   /* a response is pending or being written */
    int wait_body;    /* answer once the request body has been read */
    int headers_sent; /* status line and headers are out */
    int head_only;    /* HEAD request: headers, no body */
    int close_after;  /* close the connection after this response */
} s_pss_t;

static void s_pss_reset(s_pss_t *pss) {
    free(pss->body);
    memset(pss, 0, sizeof *pss);
}

/* Sets the response (body copied from text) and marks it pending. */
static int s_respond(s_pss_t *pss, unsigned int status, const char *content_type,
                     const char *text) {
    pss->body = strdup(text);
    if (!pss->body) {
        return -1;
    }
    pss->len = strlen(text);
    pss->status = status;
    pss->content_type = content_type;
    pss->responding = 1;
    return 0;
}

static int s_respond_metrics(hk_admin_t *self, s_pss_t *pss) {
    size_t len = 0;
    char *text = self->metrics ? hk_metrics_render(self->metrics, &len) : strdup("");
    if (!text) {
        return s_respond(pss, HTTP_STATUS_INTERNAL_SERVER_ERROR, "text/plain",
                         "metrics unavailable\n");
    }
    pss->body = text;
    pss->len = strlen(text);
    pss->status = HTTP_STATUS_OK;
    pss->content_type = "text/plain; version=0.0.4";
    pss->responding = 1;
    return 0;
}

static int s_respond_ready(hk_admin_t *self, s_pss_t *pss) {
    char why[200] = "";
    if (!self->ready || self->ready(self->ready_arg, why, sizeof why)) {
        return s_respond(pss, HTTP_STATUS_OK, "text/plain", "ready\n");
    }
    why[sizeof why - 1] = '\0';
    char text[sizeof why + 16];
    snprintf(text, sizeof text, "not ready: %s\n", why[0] ? why : "unknown");
    return s_respond(pss, HTTP_STATUS_SERVICE_UNAVAILABLE, "text/plain", text);
}

/* Content-Length of the request, 0 when absent or unreadable. */
static long long s_request_length(struct lws *wsi) {
    char value[32];
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0 ||
        lws_hdr_copy(wsi, value, sizeof value, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0) {
        return 0;
    }
    return strtoll(value, NULL, 10);
}

/* LWS_CALLBACK_HTTP: decides the response; writing waits for the writeable callback. */
static int s_on_request(struct lws *wsi, s_pss_t *pss, const char *uri) {
    hk_admin_t *self = lws_vhost_user(lws_get_vhost(wsi));
    int rc = 0;
    s_pss_reset(pss);
    if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0) {
        pss->close_after = 1;
        pss->head_only = lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) > 0;
        pss->wait_body = s_request_length(wsi) > 0;
        rc = s_respond(pss, HTTP_STATUS_METHOD_NOT_ALLOWED, "text/plain", "method not allowed\n");
    } else if (!self || self->destroying) {
        pss->close_after = 1;
        rc = s_respond(pss, HTTP_STATUS_SERVICE_UNAVAILABLE, "text/plain", "shutting down\n");
    } else if (strcmp(uri, "/healthz") == 0) {
        rc = s_respond(pss, HTTP_STATUS_OK, "text/plain", "ok\n");
    } else if (strcmp(uri, "/readyz") == 0) {
        rc = s_respond_ready(self, pss);
    } else if (strcmp(uri, "/metrics") == 0) {
        rc = s_respond_metrics(self, pss);
    } else {
        rc = s_respond(pss, HTTP_STATUS_NOT_FOUND, "text/plain", "not found\n");
    }
    if (rc != 0) {
        HK_ERROR("admin.respond_failed", "reason=oom");
        return -1;
    }
    if (!pss->wait_body) {
        lws_callback_on_writable(wsi);
    }
    return 0;
}

/* LWS_CALLBACK_HTTP_WRITEABLE: one write per call, headers first, then body chunks. */
static int s_on_writeable(struct lws *wsi, s_pss_t *pss) {
    unsigned char buf[LWS_PRE + S_HEADERS_MAX];
    if (!pss->responding || pss->wait_body) {
        return 0;
    }
    if (!pss->headers_sent) {
        unsigned char *start = buf + LWS_PRE;
        unsigned char *p = start;
        unsigned char *end = buf + sizeof buf - 1;
        if (lws_add_http_common_headers(wsi, pss->status, pss->content_type, pss->len, &p, end) ||
            lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                        (const unsigned char *)"no-store", 8, &p, end)) {
            return -1;
        }
        if (pss->status == HTTP_STATUS_METHOD_NOT_ALLOWED &&
            lws_add_http_header_by_name(
                wsi, (const unsigned char *)"allow:", (const unsigned char *)"GET", 3, &p, end)) {
            return -1;
        }
        if (pss->close_after &&
            lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, (const unsigned char *)"close",
                                         5, &p, end)) {
            return -1;
        }
        if (lws_finalize_write_http_header(wsi, start, &p, end)) {
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
        int more = hk_web_write_body(wsi, pss->body, pss->len, &pss->sent);
        if (more != 0) {
            return more < 0 ? -1 : 0;
        }
    }
    int close_after = pss->close_after;
    s_pss_reset(pss);
    return hk_web_transaction_done(wsi, close_after);
}

static int s_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                      size_t len) {
    s_pss_t *pss = user;
    (void)len;
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return pss ? s_on_request(wsi, pss, in ? (const char *)in : "") : -1;
    case LWS_CALLBACK_HTTP_BODY:
        return 0; /* a request body is read and ignored */
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (pss && pss->wait_body) {
            pss->wait_body = 0;
            lws_callback_on_writable(wsi);
        }
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return pss ? s_on_writeable(wsi, pss) : -1;
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
    case LWS_CALLBACK_CLOSED_HTTP:
        if (pss) {
            s_pss_reset(pss);
        }
        return 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return -1; /* no websocket on the admin port */
    default:
        return 0;
    }
}

static const struct lws_protocols s_protocols[] = {
    {"hk-admin", s_callback, sizeof(s_pss_t), 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* Called by lws just before it frees the vhost (from lws_vhost_destroy, a failed
 * lws_create_vhost or the context's destruction, possibly later from the loop). */
static void s_finalize(struct lws_vhost *vh, void *arg) {
    hk_admin_t *self = arg;
    (void)vh;
    self->vhost = NULL;
    self->finalized = 1;
    if (self->destroying) {
        free(self);
    }
}

hk_admin_t *hk_admin_new(hk_web_t *web, const char *host, int port, hk_metrics_t *metrics,
                         hk_admin_ready_fn *ready, void *ready_arg) {
    assert(web);
    hk_admin_t *self = calloc(1, sizeof *self);
    if (!self) {
        HK_ERROR("admin.create_failed", "reason=oom");
        return NULL;
    }
    self->metrics = metrics;
    self->ready = ready;
    self->ready_arg = ready_arg;
    snprintf(self->host, sizeof self->host, "%s", host ? host : "");

    struct lws_context_creation_info info;
    if (strlen(host ? host : "") >= sizeof self->host ||
        hk_web_vhost_info(&info, self->host, port) != 0) {
        HK_ERROR("admin.bad_listen", "port=%d", port);
        free(self);
        return NULL;
    }
    info.vhost_name = "admin";
    info.protocols = s_protocols;
    info.user = self;
    info.finalize = s_finalize;
    info.finalize_arg = self;
    info.keepalive_timeout = 5;
    info.timeout_secs = 10;
    self->vhost = lws_create_vhost(hk_web_context(web), &info);
    if (!self->vhost) {
        char quoted[sizeof self->host + 3];
        HK_ERROR("admin.bind_failed", "host=%s port=%d",
                 hk_log_quote(quoted, sizeof quoted, self->host[0] ? self->host : "*"), port);
        if (self->finalized) {
            free(self);
        } else {
            self->destroying = 1; /* lws may still finalize it later */
        }
        return NULL;
    }
    self->port = lws_get_vhost_listen_port(self->vhost);
    HK_INFO("admin.listening", "port=%d", self->port);
    return self;
}

int hk_admin_port(const hk_admin_t *admin) {
    assert(admin);
    return admin->port;
}

void hk_admin_destroy(hk_admin_t **admin_p) {
    assert(admin_p);
    hk_admin_t *self = *admin_p;
    if (!self) {
        return;
    }
    *admin_p = NULL;
    self->metrics = NULL;
    self->ready = NULL;
    if (self->finalized) {
        free(self);
        return;
    }
    self->destroying = 1;
    /* lws closes the listener and connections, then calls s_finalize (which frees self),
     * at once or from the loop. */
    lws_vhost_destroy(self->vhost);
}
