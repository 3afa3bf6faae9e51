/* ph_sip: SIP messages and libosip2 transactions on the libuv loop (see ph_sip.h). */
#include "ph_sip.h"

#include "hk_clock.h"
#include "hk_log.h"
#include "hk_strmap.h"

#include <assert.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* libosip2's timers (T1 500 ms, Timer K/J ...) need no finer tick; each tick walks every
 * transaction, and completed ones live 32 s. */
#define S_TICK_MS 50
#define S_KEY_MAX 400
#define S_MAX_DEAD 4096

struct ph_sip_t {
    uv_loop_t *loop;
    ph_transport_t *t;
    ph_flood_t *flood;
    char host[64];
    int port;
    ph_sip_handlers_t h;
    void *arg;
    uv_timer_t tick;
    osip_transaction_t **dead; /* killed during a run, freed after it */
    size_t ndead, cap_dead;
    osip_transaction_t **ready; /* transactions with events queued, run by s_run */
    size_t nready, cap_ready;
    hk_strmap_t *trs; /* transaction key (s_tr_key) -> osip_transaction_t */
    ph_sip_stats_t stats;
    int running; /* inside s_run: kills are deferred */
};

/* libosip2 keeps process-wide parser state: one osip_t for the process. */
static osip_t *s_osip;
static ph_sip_t *s_self;

void ph_sip_token(char out[17]) {
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char raw[16];
    if (getrandom(raw, sizeof raw, GRND_NONBLOCK) != (ssize_t)sizeof raw) {
        for (size_t i = 0; i < sizeof raw; i++) {
            raw[i] = (unsigned char)rand();
        }
    }
    for (size_t i = 0; i < 16; i++) {
        out[i] = alphabet[raw[i] % 36];
    }
    out[16] = '\0';
}

const ph_peer_t *ph_sip_tr_peer(const osip_transaction_t *tr) {
    return tr ? osip_transaction_get_reserved2((osip_transaction_t *)tr) : NULL;
}

static int s_send_msg(ph_sip_t *sip, const osip_message_t *msg, const ph_peer_t *peer) {
    char *buf = NULL;
    size_t len = 0;
    if (!peer || osip_message_to_str((osip_message_t *)msg, &buf, &len) != 0 || !buf) {
        return -1;
    }
    int rc = sip->t ? ph_transport_send(sip->t, peer, buf, len) : 0;
    osip_free(buf);
    if (rc == 0) {
        sip->stats.sent++;
    }
    return rc;
}

/* libosip2's send hook: every transaction sends to the peer stored with it (reserved2; the
 * owner is "your_instance", which libosip2 keeps in reserved1). */
static int s_cb_send(osip_transaction_t *tr, osip_message_t *msg, char *host, int port, int sock) {
    (void)host;
    (void)port;
    (void)sock;
    ph_sip_t *sip = s_self;
    if (!sip) {
        return -1;
    }
    return s_send_msg(sip, msg, ph_sip_tr_peer(tr)) == 0 ? 0 : -1;
}

static void s_cb_kill(int type, osip_transaction_t *tr) {
    (void)type;
    ph_sip_t *sip = s_self;
    if (!sip) {
        return;
    }
    for (size_t i = 0; i < sip->ndead; i++) {
        if (sip->dead[i] == tr) {
            return;
        }
    }
    if (sip->ndead == sip->cap_dead) {
        size_t cap = sip->cap_dead ? sip->cap_dead * 2 : 64;
        osip_transaction_t **nd = realloc(sip->dead, cap * sizeof *nd);
        assert(nd);
        sip->dead = nd;
        sip->cap_dead = cap;
    }
    sip->dead[sip->ndead++] = tr;
}

static void s_cb_request(int type, osip_transaction_t *tr, osip_message_t *msg) {
    (void)type;
    ph_sip_t *sip = s_self;
    if (sip && sip->h.on_request) {
        sip->h.on_request(sip, tr, msg, ph_sip_tr_peer(tr), sip->arg);
    }
}

static void s_cb_response(int type, osip_transaction_t *tr, osip_message_t *msg) {
    (void)type;
    ph_sip_t *sip = s_self;
    if (sip && sip->h.on_response) {
        sip->h.on_response(sip, tr, osip_transaction_get_your_instance(tr), msg, sip->arg);
    }
}

static void s_cb_timeout(int type, osip_transaction_t *tr, osip_message_t *msg) {
    (void)type;
    (void)msg;
    ph_sip_t *sip = s_self;
    if (sip && sip->h.on_timeout) {
        sip->h.on_timeout(sip, tr, osip_transaction_get_your_instance(tr), 408, sip->arg);
    }
}

static void s_cb_transport_error(int type, osip_transaction_t *tr, int error) {
    (void)type;
    (void)error;
    ph_sip_t *sip = s_self;
    if (sip && sip->h.on_timeout && (tr->ctx_type == ICT || tr->ctx_type == NICT)) {
        sip->h.on_timeout(sip, tr, osip_transaction_get_your_instance(tr), 503, sip->arg);
    }
    s_cb_kill(type, tr);
}

static void s_unready(ph_sip_t *sip, osip_transaction_t *tr) {
    for (size_t i = 0; i < sip->nready; i++) {
        if (sip->ready[i] == tr) {
            sip->ready[i] = sip->ready[--sip->nready];
            return;
        }
    }
}

/* Remembers that tr has events queued (s_run executes them). */
static void s_ready(ph_sip_t *sip, osip_transaction_t *tr) {
    for (size_t i = 0; i < sip->nready; i++) {
        if (sip->ready[i] == tr) {
            return;
        }
    }
    if (sip->nready == sip->cap_ready) {
        size_t cap = sip->cap_ready ? 2 * sip->cap_ready : 16;
        osip_transaction_t **grown = realloc(sip->ready, cap * sizeof *grown);
        assert(grown);
        sip->ready = grown;
        sip->cap_ready = cap;
    }
    sip->ready[sip->nready++] = tr;
}

/* The key of a transaction in the map: RFC 3261 17.1.3 / 17.2.3 matching, made exact. Client
 * transactions ('C') by the branch of our top Via and the CSeq method; server ones ('S') by
 * the branch, the sent-by of the top Via and the method (an ACK belongs to the INVITE's).
 * -1 without an RFC 3261 branch (such messages go through libosip2's own search). */
static int s_key(char *out, size_t cap, int client, osip_via_t *via, const char *method) {
    osip_generic_param_t *br = NULL;
    if (!via || !method || osip_via_param_get_byname(via, "branch", &br) != 0 || !br ||
        !br->gvalue || strncmp(br->gvalue, "z9hG4bK", 7) != 0) {
        return -1;
    }
    if (strcmp(method, "ACK") == 0) {
        method = "INVITE";
    }
    int n = client ? snprintf(out, cap, "C %s %s", br->gvalue, method)
                   : snprintf(out, cap, "S %s %s:%s %s", br->gvalue, via->host ? via->host : "",
                              via->port ? via->port : "", method);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

static int s_tr_key(osip_transaction_t *tr, char *out, size_t cap) {
    int client = tr->ctx_type == ICT || tr->ctx_type == NICT;
    return s_key(out, cap, client, tr->topvia, tr->cseq ? tr->cseq->method : NULL);
}

static void s_map_tr(ph_sip_t *sip, osip_transaction_t *tr) {
    char key[S_KEY_MAX];
    if (s_tr_key(tr, key, sizeof key) == 0) {
        hk_strmap_put(sip->trs, key, tr);
    }
}

/* The transaction of a received message: the map for RFC 3261 branches (a miss means there is
 * none: every transaction is in it), libosip2's linear search for older peers. */
static osip_transaction_t *s_find_tr(ph_sip_t *sip, osip_event_t *evt) {
    osip_message_t *m = evt->sip;
    char key[S_KEY_MAX];
    if (s_key(key, sizeof key, !MSG_IS_REQUEST(m), osip_list_get(&m->vias, 0), m->cseq->method) ==
        0) {
        return hk_strmap_get(sip->trs, key);
    }
    return __osip_find_transaction(s_osip, evt, 0);
}

/* A request we sent ourselves (one of its Vias is our sent-by) has come back to us. */
static int s_is_loop(const ph_sip_t *sip, const osip_message_t *m) {
    for (int i = 0; i < osip_list_size(&m->vias); i++) {
        const osip_via_t *via = osip_list_get(&m->vias, i);
        int port = via && via->port ? atoi(via->port) : 5060;
        if (via && via->host && port == sip->port && strcmp(via->host, sip->host) == 0) {
            return 1;
        }
    }
    return 0;
}

static void s_free_tr(ph_sip_t *sip, osip_transaction_t *tr, int notify) {
    s_unready(sip, tr);
    char key[S_KEY_MAX];
    if (s_tr_key(tr, key, sizeof key) == 0 && hk_strmap_get(sip->trs, key) == tr) {
        hk_strmap_remove(sip->trs, key);
    }
    if (notify && sip->h.on_gone) {
        sip->h.on_gone(sip, tr, osip_transaction_get_your_instance(tr), sip->arg);
    }
    free(osip_transaction_get_reserved2(tr));
    osip_transaction_set_reserved2(tr, NULL);
    osip_transaction_free(tr);
    if (sip->stats.transactions > 0) {
        sip->stats.transactions--;
    }
}

/* Executes the events queued on the transactions that got some (a message, a response to
 * send, a request to send), then frees what they killed. Only those transactions are
 * touched: libosip2's osip_*_execute and osip_timers_*_execute walk every transaction, and
 * completed ones live 32 s, so at 200 calls/s per-message walks took most of the CPU. The
 * walks run on the tick (every S_TICK_MS) for the timers' events. */
static void s_run(ph_sip_t *sip) {
    sip->running = 1;
    while (sip->nready > 0) {
        osip_transaction_t *tr = sip->ready[--sip->nready];
        osip_event_t *ev;
        while ((ev = osip_fifo_tryget(tr->transactionff)) != NULL) {
            osip_transaction_execute(tr, ev);
        }
    }
    sip->running = 0;
    while (sip->ndead > 0) {
        osip_transaction_t *tr = sip->dead[--sip->ndead];
        s_free_tr(sip, tr, 1);
    }
}

/* The timers (retransmissions, Timer J/H/K ...) and every machine, then what they queued. */
static void s_on_tick(uv_timer_t *timer) {
    ph_sip_t *sip = timer->data;
    sip->running = 1;
    osip_timers_ict_execute(s_osip);
    osip_timers_ist_execute(s_osip);
    osip_timers_nict_execute(s_osip);
    osip_timers_nist_execute(s_osip);
    while (osip_ict_execute(s_osip) + osip_ist_execute(s_osip) + osip_nict_execute(s_osip) +
               osip_nist_execute(s_osip) >
           0) {
        /* events queued by callbacks run in the same pass */
    }
    s_run(sip);
}

static void s_trace_none(const char *fi, int li, osip_trace_level_t level, const char *chfr,
                         va_list ap) {
    (void)fi;
    (void)li;
    (void)level;
    (void)chfr;
    (void)ap;
}

ph_sip_t *ph_sip_new(uv_loop_t *loop, ph_transport_t *t, ph_flood_t *flood, const char *host,
                     int port, const ph_sip_handlers_t *h, void *arg) {
    assert(!s_self); /* one per process */
    if (!s_osip) {
        /* libosip2's own traces would go to stdout; our logs say what matters. */
        osip_trace_initialize_func(TRACE_LEVEL0, s_trace_none);
        for (int level = TRACE_LEVEL0; level < END_TRACE_LEVEL; level++) {
            osip_trace_disable_level((osip_trace_level_t)level);
        }
        if (osip_init(&s_osip) != 0) {
            return NULL;
        }
        osip_set_cb_send_message(s_osip, s_cb_send);
        int req_types[] = {OSIP_IST_INVITE_RECEIVED,
                           OSIP_NIST_REGISTER_RECEIVED,
                           OSIP_NIST_BYE_RECEIVED,
                           OSIP_NIST_OPTIONS_RECEIVED,
                           OSIP_NIST_INFO_RECEIVED,
                           OSIP_NIST_CANCEL_RECEIVED,
                           OSIP_NIST_NOTIFY_RECEIVED,
                           OSIP_NIST_SUBSCRIBE_RECEIVED,
                           OSIP_NIST_UNKNOWN_REQUEST_RECEIVED};
        for (size_t i = 0; i < sizeof req_types / sizeof req_types[0]; i++) {
            osip_set_message_callback(s_osip, req_types[i], s_cb_request);
        }
        int resp_types[] = {OSIP_ICT_STATUS_1XX_RECEIVED,       OSIP_ICT_STATUS_2XX_RECEIVED,
                            OSIP_ICT_STATUS_2XX_RECEIVED_AGAIN, OSIP_ICT_STATUS_3XX_RECEIVED,
                            OSIP_ICT_STATUS_4XX_RECEIVED,       OSIP_ICT_STATUS_5XX_RECEIVED,
                            OSIP_ICT_STATUS_6XX_RECEIVED,       OSIP_NICT_STATUS_1XX_RECEIVED,
                            OSIP_NICT_STATUS_2XX_RECEIVED,      OSIP_NICT_STATUS_3XX_RECEIVED,
                            OSIP_NICT_STATUS_4XX_RECEIVED,      OSIP_NICT_STATUS_5XX_RECEIVED,
                            OSIP_NICT_STATUS_6XX_RECEIVED};
        for (size_t i = 0; i < sizeof resp_types / sizeof resp_types[0]; i++) {
            osip_set_message_callback(s_osip, resp_types[i], s_cb_response);
        }
        osip_set_message_callback(s_osip, OSIP_ICT_STATUS_TIMEOUT, s_cb_timeout);
        osip_set_message_callback(s_osip, OSIP_NICT_STATUS_TIMEOUT, s_cb_timeout);
        osip_set_kill_transaction_callback(s_osip, OSIP_ICT_KILL_TRANSACTION, s_cb_kill);
        osip_set_kill_transaction_callback(s_osip, OSIP_IST_KILL_TRANSACTION, s_cb_kill);
        osip_set_kill_transaction_callback(s_osip, OSIP_NICT_KILL_TRANSACTION, s_cb_kill);
        osip_set_kill_transaction_callback(s_osip, OSIP_NIST_KILL_TRANSACTION, s_cb_kill);
        osip_set_transport_error_callback(s_osip, OSIP_ICT_TRANSPORT_ERROR, s_cb_transport_error);
        osip_set_transport_error_callback(s_osip, OSIP_IST_TRANSPORT_ERROR, s_cb_transport_error);
        osip_set_transport_error_callback(s_osip, OSIP_NICT_TRANSPORT_ERROR, s_cb_transport_error);
        osip_set_transport_error_callback(s_osip, OSIP_NIST_TRANSPORT_ERROR, s_cb_transport_error);
    }
    ph_sip_t *sip = calloc(1, sizeof *sip);
    assert(sip);
    sip->loop = loop;
    sip->t = t;
    sip->flood = flood;
    snprintf(sip->host, sizeof sip->host, "%s", host);
    sip->port = port;
    if (h) {
        sip->h = *h;
    }
    sip->arg = arg;
    sip->trs = hk_strmap_new();
    s_self = sip;
    osip_set_application_context(s_osip, sip);
    if (loop) {
        uv_timer_init(loop, &sip->tick);
        sip->tick.data = sip;
        uv_timer_start(&sip->tick, s_on_tick, S_TICK_MS, S_TICK_MS);
    }
    return sip;
}

/* ---- checks and the 400 for what libosip2 cannot parse ---- */

/* Copies the value of the first raw header line named name (or its compact form) into out. */
static int s_raw_header(const char *buf, size_t len, const char *name, char compact, char *out,
                        size_t outlen) {
    const char *p = buf;
    const char *end = buf + len;
    size_t nlen = strlen(name);
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) {
            eol = end;
        }
        if (eol == p || (eol == p + 1 && *p == '\r')) {
            break; /* end of headers */
        }
        const char *v = NULL;
        if ((size_t)(eol - p) > nlen && strncasecmp(p, name, nlen) == 0) {
            v = p + nlen;
        } else if (compact && eol - p > 1 && tolower((unsigned char)p[0]) == compact &&
                   (p[1] == ':' || p[1] == ' ')) {
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
                size_t n = 0;
                while (v < eol && *v != '\r' && n + 1 < outlen) {
                    unsigned char c = (unsigned char)*v++;
                    out[n++] = (c >= 32 && c < 127) ? (char)c : '?';
                }
                out[n] = '\0';
                return n > 0 ? 0 : -1;
            }
        }
        p = eol + 1;
    }
    return -1;
}

/* A 400 for a request libosip2 refused, echoing the raw Via/From/To/Call-ID/CSeq. */
static void s_raw_400(ph_sip_t *sip, const char *buf, size_t len, const ph_peer_t *from) {
    char via[512], fr[512], to[512], cid[256], cseq[128];
    if (len < 8 || memcmp(buf, "SIP/", 4) == 0 ||
        s_raw_header(buf, len, "Via", 'v', via, sizeof via) != 0 ||
        s_raw_header(buf, len, "From", 'f', fr, sizeof fr) != 0 ||
        s_raw_header(buf, len, "To", 't', to, sizeof to) != 0 ||
        s_raw_header(buf, len, "Call-ID", 'i', cid, sizeof cid) != 0 ||
        s_raw_header(buf, len, "CSeq", 0, cseq, sizeof cseq) != 0 ||
        strncmp(cseq, "0 ACK", 5) == 0 || strstr(cseq, "ACK")) {
        sip->stats.dropped++;
        return;
    }
    char out[2400];
    int n = snprintf(out, sizeof out,
                     "SIP/2.0 400 Bad Request\r\nVia: %s\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\n"
                     "CSeq: %s\r\nServer: hetki-phone\r\nContent-Length: 0\r\n\r\n",
                     via, fr, to, cid, cseq);
    if (n > 0 && (size_t)n < sizeof out &&
        (!sip->t || ph_transport_send(sip->t, from, out, (size_t)n) == 0)) {
        sip->stats.sent++;
    }
}

/* What a message must carry to be handled: a reason when it lacks it, else NULL. */
static const char *s_check(const osip_message_t *m) {
    osip_via_t *via = osip_list_get(&m->vias, 0);
    if (!via || !via->host || !via->protocol) {
        return "via";
    }
    if (!m->from || !m->from->url || !m->to || !m->to->url) {
        return "from_to";
    }
    if (!m->call_id || !m->call_id->number || strlen(m->call_id->number) > 200) {
        return "call_id";
    }
    if (!m->cseq || !m->cseq->method || !m->cseq->number) {
        return "cseq";
    }
    for (const char *p = m->cseq->number; *p; p++) {
        if (!isdigit((unsigned char)*p)) {
            return "cseq";
        }
    }
    if (strlen(m->cseq->number) > 9) {
        return "cseq";
    }
    if (MSG_IS_REQUEST(m)) {
        if (!m->sip_method || !m->req_uri || !m->req_uri->scheme) {
            return "request_line";
        }
        if (strcmp(m->sip_method, m->cseq->method) != 0) {
            return "cseq_method";
        }
    } else if (m->status_code < 100 || m->status_code > 699) {
        return "status";
    }
    return NULL;
}

void ph_sip_input(ph_sip_t *sip, const char *buf, size_t len, const ph_peer_t *from) {
    int64_t now = hk_clock_mono_ms();
    if (sip->flood && ph_flood_banned(sip->flood, from->ip, now)) {
        sip->stats.dropped++;
        return;
    }
    osip_event_t *evt = osip_parse(buf, len);
    if (!evt || !evt->sip) {
        sip->stats.bad++;
        HK_DEBUG("phone.sip_unparsable", "peer=%s:%d bytes=%zu", from->ip, from->port, len);
        if (evt) {
            osip_event_free(evt);
        }
        s_raw_400(sip, buf, len, from);
        return;
    }
    sip->stats.received++;
    osip_message_t *m = evt->sip;
    const char *why = s_check(m);
    if (why) {
        sip->stats.bad++;
        HK_DEBUG("phone.sip_malformed", "peer=%s:%d reason=%s", from->ip, from->port, why);
        osip_via_t *via = osip_list_get(&m->vias, 0);
        if (MSG_IS_REQUEST(m) && via && via->host && m->sip_method &&
            strcmp(m->sip_method, "ACK") != 0) {
            s_raw_400(sip, buf, len, from);
        } else {
            sip->stats.dropped++;
        }
        osip_event_free(evt);
        return;
    }
    if (MSG_IS_REQUEST(m) && s_is_loop(sip, m)) {
        /* Our own request back (a target that resolves to us): 482, never a new call. */
        HK_WARN("phone.sip_loop", "peer=%s:%d method=%s call_id=%s", from->ip, from->port,
                m->sip_method, m->call_id->number);
        sip->stats.dropped++;
        if (!MSG_IS_ACK(m)) {
            ph_sip_respond_stateless(sip, m, from, 482, NULL, NULL);
        }
        osip_event_free(evt);
        return;
    }
    if (MSG_IS_REQUEST(m) && sip->flood) {
        ph_flood_verdict_t v = ph_flood_request(sip->flood, from->ip, now);
        if (v != PH_FLOOD_OK) {
            if (v == PH_FLOOD_LIMIT && !MSG_IS_ACK(m)) {
                char ra[16];
                snprintf(ra, sizeof ra, "%d", ph_flood_retry_after(sip->flood));
                ph_sip_respond_stateless(sip, m, from, 503, "Retry-After", ra);
                sip->stats.limited++;
            } else {
                sip->stats.dropped++;
            }
            osip_event_free(evt);
            return;
        }
    }
    if (MSG_IS_REQUEST(m)) {
        osip_message_fix_last_via_header(m, from->ip, from->port);
    }
    osip_transaction_t *found = s_find_tr(sip, evt);
    if (found) {
        osip_transaction_add_event(found, evt);
        s_ready(sip, found);
        s_run(sip);
        return;
    }
    if (MSG_IS_REQUEST(m)) {
        if (MSG_IS_ACK(m)) {
            if (sip->h.on_request) {
                sip->h.on_request(sip, NULL, m, from, sip->arg);
            }
            osip_event_free(evt);
            s_run(sip);
            return;
        }
        osip_transaction_t *tr = osip_create_transaction(s_osip, evt);
        if (!tr) {
            sip->stats.bad++;
            osip_event_free(evt);
            return;
        }
        ph_peer_t *p = malloc(sizeof *p);
        assert(p);
        *p = *from;
        osip_transaction_set_reserved2(tr, p);
        sip->stats.transactions++;
        s_map_tr(sip, tr);
        osip_transaction_add_event(tr, evt);
        s_ready(sip, tr);
        s_run(sip);
        return;
    }
    /* A response no transaction knows: a 2xx to an INVITE whose transaction ended. */
    if (MSG_IS_STATUS_2XX(m) && strcmp(m->cseq->method, "INVITE") == 0 && sip->h.on_response) {
        sip->h.on_response(sip, NULL, NULL, m, sip->arg);
    } else {
        sip->stats.dropped++;
    }
    osip_event_free(evt);
    s_run(sip);
}

/* ---- building and sending ---- */

osip_message_t *ph_sip_response(ph_sip_t *sip, const osip_message_t *req, int code,
                                const char *to_tag, const char *ctype, const char *body) {
    osip_message_t *r = NULL;
    if (osip_message_init(&r) != 0) {
        return NULL;
    }
    osip_message_set_version(r, osip_strdup("SIP/2.0"));
    osip_message_set_status_code(r, code);
    const char *reason = osip_message_get_reason(code);
    osip_message_set_reason_phrase(r, osip_strdup(reason ? reason : "Unknown"));
    int rc = osip_list_clone(&req->vias, &r->vias, (int (*)(void *, void **))osip_via_clone);
    rc |= osip_from_clone(req->from, &r->from);
    rc |= osip_to_clone(req->to, &r->to);
    rc |= osip_call_id_clone(req->call_id, &r->call_id);
    rc |= osip_cseq_clone(req->cseq, &r->cseq);
    if (rc != 0) {
        osip_message_free(r);
        return NULL;
    }
    osip_generic_param_t *tag = NULL;
    if (to_tag && code > 100 && osip_to_get_tag(r->to, &tag) != 0) {
        osip_to_set_tag(r->to, osip_strdup(to_tag));
    }
    if (code > 100 && code < 300 && req->sip_method &&
        (strcmp(req->sip_method, "INVITE") == 0 || strcmp(req->sip_method, "SUBSCRIBE") == 0)) {
        char contact[128];
        snprintf(contact, sizeof contact, "<sip:hetki@%s:%d>", sip->host, sip->port);
        osip_message_set_contact(r, contact);
        /* Record-Route is echoed in 2xx to a dialog-creating request. */
        osip_list_clone(&req->record_routes, &r->record_routes,
                        (int (*)(void *, void **))osip_from_clone);
    }
    osip_message_set_header(r, "Server", "hetki-phone");
    if (body && ctype) {
        osip_message_set_body(r, body, strlen(body));
        osip_message_set_content_type(r, ctype);
    }
    return r;
}

int ph_sip_respond_msg(ph_sip_t *sip, osip_transaction_t *tr, osip_message_t *resp) {
    if (!tr || !resp) {
        if (resp) {
            osip_message_free(resp);
        }
        return -1;
    }
    osip_event_t *ev = osip_new_outgoing_sipmessage(resp);
    if (!ev) {
        osip_message_free(resp);
        return -1;
    }
    osip_transaction_add_event(tr, ev);
    s_ready(sip, tr);
    if (!sip->running) {
        s_run(sip);
    }
    return 0;
}

int ph_sip_respond(ph_sip_t *sip, osip_transaction_t *tr, int code, const char *to_tag,
                   const char *ctype, const char *body, const char *extra_name,
                   const char *extra_value) {
    if (!tr || !tr->orig_request) {
        return -1;
    }
    osip_message_t *r = ph_sip_response(sip, tr->orig_request, code, to_tag, ctype, body);
    if (!r) {
        return -1;
    }
    if (extra_name && extra_value) {
        osip_message_set_header(r, extra_name, extra_value);
    }
    return ph_sip_respond_msg(sip, tr, r);
}

void ph_sip_respond_stateless(ph_sip_t *sip, const osip_message_t *req, const ph_peer_t *to,
                              int code, const char *extra_name, const char *extra_value) {
    char tag[17];
    ph_sip_token(tag);
    osip_message_t *r = ph_sip_response(sip, req, code, tag, NULL, NULL);
    if (!r) {
        return;
    }
    if (extra_name && extra_value) {
        osip_message_set_header(r, extra_name, extra_value);
    }
    s_send_msg(sip, r, to);
    osip_message_free(r);
}

osip_message_t *ph_sip_request(ph_sip_t *sip, const char *method, const char *ruri,
                               const char *from, const char *from_tag, const char *to,
                               const char *to_tag, const char *call_id, unsigned cseq,
                               const osip_list_t *route) {
    osip_message_t *m = NULL;
    osip_uri_t *uri = NULL;
    if (osip_message_init(&m) != 0) {
        return NULL;
    }
    if (osip_uri_init(&uri) != 0 || osip_uri_parse(uri, ruri) != 0) {
        osip_uri_free(uri);
        osip_message_free(m);
        return NULL;
    }
    osip_message_set_method(m, osip_strdup(method));
    osip_message_set_uri(m, uri);
    osip_message_set_version(m, osip_strdup("SIP/2.0"));
    char branch[17], text[256];
    ph_sip_token(branch);
    snprintf(text, sizeof text, "SIP/2.0/UDP %s:%d;rport;branch=z9hG4bK%s", sip->host, sip->port,
             branch);
    int rc = osip_message_set_via(m, text);
    rc |= osip_message_set_from(m, from);
    rc |= osip_message_set_to(m, to);
    if (rc != 0 || !m->from || !m->to) {
        osip_message_free(m);
        return NULL;
    }
    if (from_tag) {
        osip_from_set_tag(m->from, osip_strdup(from_tag));
    }
    if (to_tag) {
        osip_to_set_tag(m->to, osip_strdup(to_tag));
    }
    osip_message_set_call_id(m, call_id);
    snprintf(text, sizeof text, "%u %s", cseq, method);
    osip_message_set_cseq(m, text);
    osip_message_set_max_forwards(m, "70");
    snprintf(text, sizeof text, "<sip:hetki@%s:%d>", sip->host, sip->port);
    osip_message_set_contact(m, text);
    if (route) {
        osip_list_clone(route, &m->routes, (int (*)(void *, void **))osip_from_clone);
    }
    osip_message_set_header(m, "User-Agent", "hetki-phone");
    return m;
}

int ph_sip_send_request(ph_sip_t *sip, osip_message_t *req, const ph_peer_t *peer, void *owner,
                        osip_transaction_t **tr_out) {
    if (tr_out) {
        *tr_out = NULL;
    }
    if (MSG_IS_ACK(req)) {
        int rc = s_send_msg(sip, req, peer);
        osip_message_free(req);
        return rc;
    }
    osip_transaction_t *tr = NULL;
    osip_fsm_type_t type = MSG_IS_INVITE(req) ? ICT : NICT;
    if (osip_transaction_init(&tr, type, s_osip, req) != 0) {
        osip_message_free(req);
        return -1;
    }
    ph_peer_t *p = malloc(sizeof *p);
    assert(p);
    *p = *peer;
    osip_transaction_set_reserved2(tr, p);
    osip_transaction_set_your_instance(tr, owner);
    sip->stats.transactions++;
    s_map_tr(sip, tr);
    osip_event_t *ev = osip_new_outgoing_sipmessage(req);
    if (!ev) {
        osip_message_free(req);
        s_free_tr(sip, tr, 0);
        return -1;
    }
    osip_transaction_add_event(tr, ev);
    s_ready(sip, tr);
    if (tr_out) {
        *tr_out = tr;
    }
    if (!sip->running) {
        s_run(sip);
    }
    return 0;
}

void ph_sip_detach(ph_sip_t *sip, osip_transaction_t *tr) {
    (void)sip;
    if (tr) {
        osip_transaction_set_your_instance(tr, NULL);
    }
}

int ph_sip_send_raw(ph_sip_t *sip, const osip_message_t *msg, const ph_peer_t *peer) {
    return s_send_msg(sip, msg, peer);
}

const char *ph_sip_host(const ph_sip_t *sip) {
    return sip->host;
}

int ph_sip_port(const ph_sip_t *sip) {
    return sip->port;
}

void ph_sip_stats(const ph_sip_t *sip, ph_sip_stats_t *out) {
    *out = sip->stats;
}

static void s_free_all(ph_sip_t *sip, osip_list_t *list) {
    osip_transaction_t *tr;
    while ((tr = osip_list_get(list, 0)) != NULL) {
        s_free_tr(sip, tr, 0);
    }
}

static void s_tick_closed(uv_handle_t *h) {
    free(h->data);
}

void ph_sip_destroy(ph_sip_t **sip_p) {
    assert(sip_p);
    ph_sip_t *sip = *sip_p;
    if (!sip) {
        return;
    }
    *sip_p = NULL;
    sip->ndead = 0;
    s_free_all(sip, &s_osip->osip_ict_transactions);
    s_free_all(sip, &s_osip->osip_ist_transactions);
    s_free_all(sip, &s_osip->osip_nict_transactions);
    s_free_all(sip, &s_osip->osip_nist_transactions);
    free(sip->dead);
    free(sip->ready);
    hk_strmap_destroy(&sip->trs);
    sip->dead = NULL;
    s_self = NULL;
    if (sip->loop) {
        uv_timer_stop(&sip->tick);
        uv_close((uv_handle_t *)&sip->tick, s_tick_closed);
    } else {
        free(sip);
    }
}
