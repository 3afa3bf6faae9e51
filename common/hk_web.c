/* hk_web: the process's one libwebsockets context on the shared libuv loop (foreign loop).
 * Creates no vhost itself: services add theirs with lws_create_vhost (see hk_web.h for the
 * rules every vhost follows). lws's own log lines go to hk_log at warn and error only.
 *
 * Destruction, lws 4.1 with a foreign libuv loop: lws_context_destroy() only starts closing
 * lws's uv handles, whose close callbacks (code in the evlib plugin) run from the loop. The
 * context, its vhosts and the plugin are released only by a second lws_context_destroy()
 * once every one of those handles has closed; a second call made earlier would free memory
 * the pending callbacks still use. So hk_web_destroy() makes the first call and leaves a
 * reaper (a uv_idle handle) that watches the loop until no lws handle is left on it, makes
 * the second call, then closes itself. lws's handles are the ones lws_create_context added
 * (found by walking the loop before and after) plus every handle closing right after the
 * first call (lws closes each connection and listener there). */
#include "hk_web.h"

#include <arpa/inet.h>
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "hk_log.h"

#define S_REAP_TIMEOUT_MS 10000 /* give up (and leak) if lws's handles never close */

struct hk_web_t {
    struct lws_context *context;
    struct lws_context *alive; /* info.pcontext: lws writes NULL once the context is freed */
    uv_loop_t *loop;
    void *loops[1]; /* info.foreign_loops */
    uv_idle_t reaper;
    uint64_t reap_deadline;
    const uv_handle_t **handles; /* lws's handles (compared by address, never dereferenced) */
    size_t n_handles;
    size_t cap_handles;
    size_t n_found;  /* scratch for the walks */
    int lost;        /* out of memory while tracking handles: never make the second call */
    unsigned rounds; /* reaper iterations, for the log */
};

/* lws emit function: one lws line becomes one hk_log line with the text quoted. */
static void s_lws_emit(int level, const char *line) {
    char text[512];
    char quoted[sizeof text * 2 + 3];
    size_t n = strlen(line);
    if (n >= sizeof text) {
        n = sizeof text - 1;
    }
    memcpy(text, line, n);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' ')) {
        n--;
    }
    text[n] = '\0';
    hk_log_quote(quoted, sizeof quoted, text);
    if (level & LLL_ERR) {
        HK_ERROR("lws.error", "msg=%s", quoted);
    } else {
        HK_WARN("lws.warn", "msg=%s", quoted);
    }
}

static int s_known(const hk_web_t *self, const uv_handle_t *handle) {
    for (size_t i = 0; i < self->n_handles; i++) {
        if (self->handles[i] == handle) {
            return 1;
        }
    }
    return 0;
}

static int s_remember(hk_web_t *self, const uv_handle_t *handle) {
    if (s_known(self, handle)) {
        return 0;
    }
    if (self->n_handles == self->cap_handles) {
        size_t cap = self->cap_handles ? self->cap_handles * 2 : 16;
        const uv_handle_t **grown = realloc(self->handles, cap * sizeof *grown);
        if (!grown) {
            self->lost = 1;
            return -1;
        }
        self->handles = grown;
        self->cap_handles = cap;
    }
    self->handles[self->n_handles++] = handle;
    return 0;
}

/* Walk callbacks: remember every handle (around creation), remember the closing ones (after
 * the first destroy), count the remembered ones still on the loop. */
static void s_walk_all(uv_handle_t *handle, void *arg) {
    s_remember(arg, handle);
}

static void s_walk_closing(uv_handle_t *handle, void *arg) {
    if (uv_is_closing(handle)) {
        s_remember(arg, handle);
    }
}

static void s_walk_count(uv_handle_t *handle, void *arg) {
    hk_web_t *self = arg;
    if (s_known(self, handle)) {
        self->n_found++;
    }
}

/* Keeps only the handles lws_create_context added to the loop (remembered after n_before). */
static void s_snapshot_creation(hk_web_t *self, size_t n_before) {
    size_t n_new = self->n_handles - n_before;
    memmove(self->handles, self->handles + n_before, n_new * sizeof *self->handles);
    self->n_handles = n_new;
}

static void s_free(hk_web_t *self) {
    free(self->handles);
    free(self);
}

static void s_on_reaper_closed(uv_handle_t *handle) {
    s_free(handle->data);
}

/* Each loop iteration after the first destroy: once none of lws's handles is left, finish. */
static void s_on_reap(uv_idle_t *idle) {
    hk_web_t *self = idle->data;
    if (self->lost) {
        HK_ERROR("web.destroy_incomplete", "reason=\"lost track of lws handles\"");
    } else {
        self->n_found = 0;
        self->rounds++;
        uv_walk(self->loop, s_walk_count, self);
        if (self->n_found > 0 && uv_now(self->loop) < self->reap_deadline) {
            return;
        }
        if (self->n_found > 0) {
            HK_ERROR("web.destroy_stuck", "handles=%zu", self->n_found);
        } else {
            lws_context_destroy(self->context); /* frees it; vhosts are finalized here */
            HK_DEBUG("web.destroyed", "lws_handles=%zu rounds=%u", self->n_handles, self->rounds);
            if (self->alive) {
                HK_ERROR("web.destroy_incomplete", "reason=\"context still alive\"");
            }
        }
    }
    uv_idle_stop(idle);
    uv_close((uv_handle_t *)idle, s_on_reaper_closed);
}

hk_web_t *hk_web_new(uv_loop_t *loop) {
    assert(loop);
    hk_web_t *self = calloc(1, sizeof *self);
    if (!self) {
        HK_ERROR("web.create_failed", "reason=oom");
        return NULL;
    }
    self->loop = loop;
    lws_set_log_level(LLL_ERR | LLL_WARN, s_lws_emit);

    uv_walk(loop, s_walk_all, self);
    size_t n_before = self->n_handles;

    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    self->loops[0] = loop;
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
    info.foreign_loops = self->loops;
    info.pcontext = &self->alive;
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.gid = -1;
    info.uid = -1;
    info.user = self;
    self->context = lws_create_context(&info);
    if (!self->context) {
        HK_ERROR("web.create_failed", "reason=\"lws_create_context failed (is the "
                                      "libwebsockets-evlib-uv package installed?)\"");
        s_free(self);
        return NULL;
    }
    self->alive = self->context;
    uv_walk(loop, s_walk_all, self); /* appends the new ones */
    s_snapshot_creation(self, n_before);
    uv_idle_init(loop, &self->reaper);
    self->reaper.data = self;
    return self;
}

#define S_BODY_CHUNK 8192  /* body bytes per writeable callback */
#define S_HEADERS_MAX 4096 /* bytes of response headers */

long long hk_web_request_length(struct lws *wsi) {
    char value[32];
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0 ||
        lws_hdr_copy(wsi, value, sizeof value, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0) {
        return 0;
    }
    return strtoll(value, NULL, 10);
}

void hk_web_response_reset(hk_web_response_t *r) {
    free(r->owned);
    memset(r, 0, sizeof *r);
}

void hk_web_response_body_read(struct lws *wsi, hk_web_response_t *r) {
    if (r->wait_body) {
        r->wait_body = 0;
        lws_callback_on_writable(wsi);
    }
}

static int s_write_headers(struct lws *wsi, const hk_web_response_t *r, hk_web_headers_fn *headers,
                           void *arg) {
    unsigned char buf[LWS_PRE + S_HEADERS_MAX];
    unsigned char *start = buf + LWS_PRE;
    unsigned char *p = start;
    unsigned char *end = buf + sizeof buf - 1;
    if (lws_add_http_common_headers(wsi, r->status, r->content_type, r->len, &p, end) ||
        (headers && headers(wsi, r, &p, end, arg))) {
        return -1;
    }
    if (r->close_after &&
        lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, (const unsigned char *)"close", 5,
                                     &p, end)) {
        return -1;
    }
    return lws_finalize_write_http_header(wsi, start, &p, end) ? -1 : 0;
}

/* Writes the next chunk of the body (once the headers are out) and asks for another
 * writeable callback while some remains: 1 while the body is incomplete, 0 once it is, -1
 * when the write failed. */
static int s_write_body(struct lws *wsi, hk_web_response_t *r) {
    unsigned char buf[LWS_PRE + S_BODY_CHUNK];
    size_t n = r->len - r->sent;
    n = n > S_BODY_CHUNK ? S_BODY_CHUNK : n;
    int final = r->sent + n == r->len;
    memcpy(buf + LWS_PRE, r->body + r->sent, n);
    if (lws_write(wsi, buf + LWS_PRE, n, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < (int)n) {
        return -1;
    }
    r->sent += n;
    if (!final) {
        lws_callback_on_writable(wsi);
        return 1;
    }
    return 0;
}

int hk_web_response_write(struct lws *wsi, hk_web_response_t *r, hk_web_headers_fn *headers,
                          void *arg) {
    if (!r->responding || r->wait_body) {
        return 0;
    }
    if (!r->headers_sent) {
        if (s_write_headers(wsi, r, headers, arg) != 0) {
            return -1;
        }
        r->headers_sent = 1;
        if (r->head_only || r->len == 0) {
            r->sent = r->len;
        } else {
            lws_callback_on_writable(wsi);
            return 0;
        }
    } else {
        int more = s_write_body(wsi, r);
        if (more != 0) {
            return more < 0 ? -1 : 0;
        }
    }
    int close_after = r->close_after;
    hk_web_response_reset(r);
    return close_after || lws_http_transaction_completed(wsi) ? -1 : 0;
}

int hk_web_vhost_info(struct lws_context_creation_info *info, const char *host, int port) {
    assert(info);
    unsigned char addr[sizeof(struct in6_addr)];
    memset(info, 0, sizeof *info);
    info->port = port;
    info->alpn = "http/1.1";
    info->options = LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
    if (port < 0 || port > 65535) {
        HK_ERROR("web.bad_listen", "port=%d", port);
        return -1;
    }
    if (!host || !*host || strcmp(host, "*") == 0) {
        info->options |= LWS_SERVER_OPTION_DISABLE_IPV6; /* every IPv4 interface */
    } else if (strcmp(host, "localhost") == 0) {
        info->iface = "127.0.0.1";
        info->options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    } else if (inet_pton(AF_INET, host, addr) == 1) {
        info->iface = host;
        info->options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    } else if (inet_pton(AF_INET6, host, addr) == 1) {
        info->iface = host;
    } else {
        char quoted[128];
        HK_ERROR("web.bad_listen", "host=%s reason=\"not an IP address\"",
                 hk_log_quote(quoted, sizeof quoted, host));
        return -1;
    }
    return 0;
}

struct lws_context *hk_web_context(hk_web_t *web) {
    assert(web);
    return web->context;
}

void hk_web_destroy(hk_web_t **web_p) {
    assert(web_p);
    hk_web_t *self = *web_p;
    if (!self) {
        return;
    }
    *web_p = NULL;
    lws_context_destroy(self->context);
    uv_walk(self->loop, s_walk_closing, self);
    uv_update_time(self->loop);
    self->reap_deadline = uv_now(self->loop) + S_REAP_TIMEOUT_MS;
    uv_idle_start(&self->reaper, s_on_reap);
}
