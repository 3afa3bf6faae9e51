/* ph_transport: SIP over UDP and TCP on the libuv loop (see ph_transport.h). */
#include "ph_transport.h"

#include "hk_log.h"
#include "hk_strmap.h"

#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_SWEEP_MS 1000
#define S_MAX_WRITE_QUEUE (1024 * 1024)

typedef struct s_conn_t s_conn_t;

struct ph_transport_t {
    uv_loop_t *loop;
    ph_transport_opts_t opts;
    char host[64];
    int port;
    uv_udp_t udp;
    uv_tcp_t listener;
    uv_timer_t sweep;
    int listening;
    hk_strmap_t *conns; /* id text -> s_conn_t */
    uint32_t next_id;
    char *udp_buf;
    ph_transport_recv_fn *fn;
    void *arg;
    unsigned long closed_bad;
    int handles_open;
    int destroyed;
};

struct s_conn_t {
    uv_tcp_t tcp;
    ph_transport_t *t;
    uint32_t id;
    ph_peer_t peer;
    char *buf;
    size_t len, cap;
    uint64_t last_ms;
    int closing;
};

static void s_peer_fill(ph_peer_t *p, ph_proto_t proto, uint32_t conn, const struct sockaddr *sa) {
    memset(p, 0, sizeof *p);
    p->proto = proto;
    p->conn = conn;
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        memcpy(&p->addr, s6, sizeof *s6);
        uv_ip6_name(s6, p->ip, sizeof p->ip);
        p->port = ntohs(s6->sin6_port);
    } else {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        memcpy(&p->addr, s4, sizeof *s4);
        uv_ip4_name(s4, p->ip, sizeof p->ip);
        p->port = ntohs(s4->sin_port);
    }
}

int ph_transport_peer_udp(ph_peer_t *peer, const char *host, int port) {
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (port <= 0 || port > 65535) {
        return -1;
    }
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)&ss) != 0 &&
        uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss) != 0) {
        return -1;
    }
    s_peer_fill(peer, PH_UDP, 0, (const struct sockaddr *)&ss);
    return 0;
}

static void s_handle_closed(uv_handle_t *h) {
    ph_transport_t *t = h->data;
    t->handles_open--;
    if (t->destroyed && t->handles_open == 0) {
        hk_strmap_destroy(&t->conns);
        free(t->udp_buf);
        free(t);
    }
}

static void s_conn_closed(uv_handle_t *h) {
    s_conn_t *c = h->data;
    ph_transport_t *t = c->t;
    free(c->buf);
    free(c);
    t->handles_open--;
    if (t->destroyed && t->handles_open == 0) {
        hk_strmap_destroy(&t->conns);
        free(t->udp_buf);
        free(t);
    }
}

static void s_conn_close(s_conn_t *c, const char *why) {
    if (c->closing) {
        return;
    }
    c->closing = 1;
    char key[16];
    snprintf(key, sizeof key, "%u", c->id);
    hk_strmap_remove(c->t->conns, key);
    if (why) {
        c->t->closed_bad++;
        HK_INFO("phone.tcp_closed", "peer=%s:%d reason=%s", c->peer.ip, c->peer.port, why);
    }
    uv_close((uv_handle_t *)&c->tcp, s_conn_closed);
}

/* ---- UDP ---- */

static void s_udp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    ph_transport_t *t = h->data;
    (void)suggested;
    buf->base = t->udp_buf;
    buf->len = t->opts.max_msg + 1;
}

static void s_udp_recv(uv_udp_t *u, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *sa,
                       unsigned flags) {
    ph_transport_t *t = u->data;
    if (nread <= 0 || !sa) {
        return;
    }
    if ((flags & UV_UDP_PARTIAL) || (size_t)nread > t->opts.max_msg) {
        HK_DEBUG("phone.udp_oversize", "bytes=%zd", nread);
        return;
    }
    ph_peer_t peer;
    s_peer_fill(&peer, PH_UDP, 0, sa);
    t->fn(buf->base, (size_t)nread, &peer, t->arg);
}

/* ---- TCP ---- */

/* Content-Length of the header block hdr (hlen bytes); 0 when absent; -1 when malformed. */
static long s_content_length(const char *hdr, size_t hlen) {
    const char *p = hdr;
    const char *end = hdr + hlen;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) {
            eol = end;
        }
        size_t n = (size_t)(eol - p);
        const char *v = NULL;
        if (n > 15 && strncasecmp(p, "Content-Length", 14) == 0) {
            v = p + 14;
        } else if (n > 2 && (p[0] == 'l' || p[0] == 'L') && (p[1] == ':' || p[1] == ' ')) {
            v = p + 1;
        }
        if (v) {
            while (v < eol && (*v == ' ' || *v == '\t')) {
                v++;
            }
            if (v < eol && *v == ':') {
                v++;
                while (v < eol && (*v == ' ' || *v == '\t')) {
                    v++;
                }
                long value = 0;
                int digits = 0;
                while (v < eol && isdigit((unsigned char)*v) && digits < 7) {
                    value = value * 10 + (*v - '0');
                    v++;
                    digits++;
                }
                return digits ? value : -1;
            }
        }
        p = eol + 1;
    }
    return 0;
}

/* Delivers every complete message in c's buffer; closes c on garbage. */
static void s_conn_frames(s_conn_t *c) {
    ph_transport_t *t = c->t;
    size_t off = 0;
    while (!c->closing) {
        while (off < c->len && (c->buf[off] == '\r' || c->buf[off] == '\n')) {
            off++; /* keep-alive CRLFs */
        }
        if (off >= c->len) {
            break;
        }
        const char *start = c->buf + off;
        size_t avail = c->len - off;
        const char *hend = memmem(start, avail, "\r\n\r\n", 4);
        if (!hend) {
            if (avail > t->opts.max_msg) {
                s_conn_close(c, "oversize");
            }
            break;
        }
        size_t hlen = (size_t)(hend - start) + 4;
        long clen = s_content_length(start, hlen);
        if (clen < 0 || hlen + (size_t)clen > t->opts.max_msg) {
            s_conn_close(c, clen < 0 ? "bad_length" : "oversize");
            break;
        }
        if (avail < hlen + (size_t)clen) {
            break;
        }
        /* The callback may close c (never free it: freeing waits for uv_close). */
        t->fn(start, hlen + (size_t)clen, &c->peer, t->arg);
        off += hlen + (size_t)clen;
    }
    if (!c->closing && off > 0) {
        memmove(c->buf, c->buf + off, c->len - off);
        c->len -= off;
    }
}

static void s_tcp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    s_conn_t *c = h->data;
    size_t want = c->t->opts.max_msg + 1;
    (void)suggested;
    if (c->cap < want) {
        char *nb = realloc(c->buf, want);
        if (!nb) {
            buf->base = NULL;
            buf->len = 0;
            return;
        }
        c->buf = nb;
        c->cap = want;
    }
    buf->base = c->buf + c->len;
    buf->len = c->cap - c->len;
}

static void s_tcp_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
    s_conn_t *c = s->data;
    (void)buf;
    if (nread < 0) {
        s_conn_close(c, NULL);
        return;
    }
    if (nread == 0) {
        return;
    }
    c->len += (size_t)nread;
    c->last_ms = uv_now(c->t->loop);
    s_conn_frames(c);
    if (!c->closing && c->len >= c->cap) {
        s_conn_close(c, "oversize");
    }
}

static void s_on_connection(uv_stream_t *server, int status) {
    ph_transport_t *t = server->data;
    if (status < 0) {
        return;
    }
    s_conn_t *c = calloc(1, sizeof *c);
    if (!c) {
        return;
    }
    c->t = t;
    uv_tcp_init(t->loop, &c->tcp);
    c->tcp.data = c;
    t->handles_open++;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        c->closing = 1;
        uv_close((uv_handle_t *)&c->tcp, s_conn_closed);
        return;
    }
    struct sockaddr_storage ss;
    int sl = sizeof ss;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &sl) != 0 ||
        hk_strmap_size(t->conns) >= (size_t)t->opts.max_conns || !t->listening) {
        c->closing = 1;
        t->closed_bad++;
        uv_close((uv_handle_t *)&c->tcp, s_conn_closed);
        return;
    }
    c->id = ++t->next_id;
    if (c->id == 0) {
        c->id = ++t->next_id;
    }
    s_peer_fill(&c->peer, PH_TCP, c->id, (const struct sockaddr *)&ss);
    c->last_ms = uv_now(t->loop);
    char key[16];
    snprintf(key, sizeof key, "%u", c->id);
    hk_strmap_put(t->conns, key, c);
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start((uv_stream_t *)&c->tcp, s_tcp_alloc, s_tcp_read);
}

static void s_on_sweep(uv_timer_t *timer) {
    ph_transport_t *t = timer->data;
    size_t n = 0;
    char **keys = hk_strmap_keys(t->conns, &n);
    uint64_t now = uv_now(t->loop);
    for (size_t i = 0; i < n; i++) {
        s_conn_t *c = hk_strmap_get(t->conns, keys[i]);
        if (c && now - c->last_ms > (uint64_t)t->opts.idle_s * 1000) {
            s_conn_close(c, "idle");
        }
    }
    free(keys);
}

ph_transport_t *ph_transport_new(uv_loop_t *loop, const ph_transport_opts_t *opts,
                                 ph_transport_recv_fn *fn, void *arg) {
    ph_transport_t *t = calloc(1, sizeof *t);
    assert(t && opts && fn);
    t->loop = loop;
    t->opts = *opts;
    snprintf(t->host, sizeof t->host, "%s", opts->host);
    t->opts.host = t->host;
    t->fn = fn;
    t->arg = arg;
    t->conns = hk_strmap_new();
    t->udp_buf = malloc(opts->max_msg + 1);
    assert(t->udp_buf);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (uv_ip4_addr(opts->host, opts->port, (struct sockaddr_in *)&ss) != 0 &&
        uv_ip6_addr(opts->host, opts->port, (struct sockaddr_in6 *)&ss) != 0) {
        HK_ERROR("phone.bad_bind_host", "host=%s", opts->host);
        hk_strmap_destroy(&t->conns);
        free(t->udp_buf);
        free(t);
        return NULL;
    }
    uv_udp_init(loop, &t->udp);
    uv_tcp_init(loop, &t->listener);
    uv_timer_init(loop, &t->sweep);
    t->udp.data = t->listener.data = t->sweep.data = t;
    t->handles_open = 3;
    int rc = uv_udp_bind(&t->udp, (const struct sockaddr *)&ss, 0);
    if (rc == 0) {
        struct sockaddr_storage bound;
        int bl = sizeof bound;
        uv_udp_getsockname(&t->udp, (struct sockaddr *)&bound, &bl);
        t->port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
        ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)t->port);
        rc = uv_tcp_bind(&t->listener, (const struct sockaddr *)&ss, 0);
    }
    if (rc == 0) {
        rc = uv_listen((uv_stream_t *)&t->listener, 128, s_on_connection);
    }
    if (rc == 0) {
        rc = uv_udp_recv_start(&t->udp, s_udp_alloc, s_udp_recv);
    }
    if (rc != 0) {
        HK_ERROR("phone.cannot_bind", "host=%s port=%d error=%s", opts->host, opts->port,
                 uv_strerror(rc));
        ph_transport_destroy(&t);
        return NULL;
    }
    /* A larger receive buffer absorbs bursts of calls. */
    int sz = 4 * 1024 * 1024;
    uv_recv_buffer_size((uv_handle_t *)&t->udp, &sz);
    t->listening = 1;
    uv_timer_start(&t->sweep, s_on_sweep, S_SWEEP_MS, S_SWEEP_MS);
    return t;
}

int ph_transport_port(const ph_transport_t *t) {
    return t->port;
}

typedef struct {
    uv_write_t req;
    char data[];
} s_write_t;

static void s_write_done(uv_write_t *req, int status) {
    (void)status;
    free(req);
}

int ph_transport_send(ph_transport_t *t, const ph_peer_t *peer, const char *buf, size_t len) {
    if (t->destroyed) {
        return -1;
    }
    if (peer->proto == PH_UDP) {
        uv_buf_t b = uv_buf_init((char *)buf, (unsigned)len);
        int rc = uv_udp_try_send(&t->udp, &b, 1, (const struct sockaddr *)&peer->addr);
        return rc >= 0 ? 0 : -1;
    }
    char key[16];
    snprintf(key, sizeof key, "%u", peer->conn);
    s_conn_t *c = hk_strmap_get(t->conns, key);
    if (!c || c->closing) {
        return -1;
    }
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) > S_MAX_WRITE_QUEUE) {
        s_conn_close(c, "slow_reader");
        return -1;
    }
    s_write_t *w = malloc(sizeof *w + len);
    if (!w) {
        return -1;
    }
    memcpy(w->data, buf, len);
    uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, s_write_done) != 0) {
        free(w);
        s_conn_close(c, NULL);
        return -1;
    }
    return 0;
}

void ph_transport_stop_listening(ph_transport_t *t) {
    t->listening = 0; /* new connections are accepted and closed at once */
}

size_t ph_transport_tcp_count(const ph_transport_t *t) {
    return hk_strmap_size(t->conns);
}

unsigned long ph_transport_tcp_closed_bad(const ph_transport_t *t) {
    return t->closed_bad;
}

void ph_transport_destroy(ph_transport_t **t_p) {
    assert(t_p);
    ph_transport_t *t = *t_p;
    if (!t) {
        return;
    }
    *t_p = NULL;
    t->destroyed = 1;
    size_t n = 0;
    char **keys = hk_strmap_keys(t->conns, &n);
    for (size_t i = 0; i < n; i++) {
        s_conn_t *c = hk_strmap_get(t->conns, keys[i]);
        if (c) {
            s_conn_close(c, NULL);
        }
    }
    free(keys);
    uv_timer_stop(&t->sweep);
    uv_udp_recv_stop(&t->udp);
    uv_close((uv_handle_t *)&t->udp, s_handle_closed);
    uv_close((uv_handle_t *)&t->listener, s_handle_closed);
    uv_close((uv_handle_t *)&t->sweep, s_handle_closed);
}
