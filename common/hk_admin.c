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
/* Per-connection state: the response being written (its body owned). */
typedef hk_web_response_t s_pss_t;

/* Sets the response (body copied from text) and marks it pending. */
static int s_respond(s_pss_t *pss, unsigned int status, const char *content_type,
                     const char *text) {
    pss->owned = strdup(text);
    if (!pss->owned) {
        return -1;
    }
    pss->body = pss->owned;
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
    pss->owned = text;
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

/* LWS_CALLBACK_HTTP: decides the response; writing waits for the writeable callback. */
static int s_on_request(struct lws *wsi, s_pss_t *pss, const char *uri) {
    hk_admin_t *self = lws_vhost_user(lws_get_vhost(wsi));
    int rc = 0;
    hk_web_response_reset(pss);
    if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0) {
        pss->close_after = 1;
        pss->head_only = lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) > 0;
        pss->wait_body = hk_web_request_length(wsi) > 0;
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

/* The admin endpoint's own response headers: never cached; a 405 says what is allowed. */
static int s_headers(struct lws *wsi, const hk_web_response_t *r, unsigned char **p,
                     unsigned char *end, void *arg) {
    (void)arg;
    if (lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                    (const unsigned char *)"no-store", 8, p, end)) {
        return -1;
    }
    if (r->status == HTTP_STATUS_METHOD_NOT_ALLOWED &&
        lws_add_http_header_by_name(
            wsi, (const unsigned char *)"allow:", (const unsigned char *)"GET", 3, p, end)) {
        return -1;
    }
    return 0;
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
        if (pss) {
            hk_web_response_body_read(wsi, pss);
        }
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return pss ? hk_web_response_write(wsi, pss, s_headers, NULL) : -1;
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
    case LWS_CALLBACK_CLOSED_HTTP:
        if (pss) {
            hk_web_response_reset(pss);
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
