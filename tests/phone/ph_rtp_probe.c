/* ph_rtp_probe: the media side of a sipp caller in the phone tests and the benchmark. It
 * listens on a range of UDP ports (the ports the callers put in their SDP), records every
 * RTP stream it receives (first packet time in unix microseconds, packets, payload type,
 * marker, sequence gaps, timestamp steps (160 per packet, or forward with the clock at a new
 * talkspurt, marked), the largest gap between packets) and, when asked,
 * presses a key (RFC 4733 telephone-event) back to the stream's source after a delay, as a
 * caller's phone would. On SIGTERM/SIGINT (or after --duration-ms) it writes one line per
 * stream to --out and exits 0.
 *
 * usage: ph_rtp_probe --ports LO-HI --out FILE [--bind IP] [--duration-ms N]
 *                     [--dtmf DIGIT --dtmf-after-ms N --dtmf-pt PT] */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <uv.h>

#define S_MAX_STREAMS 200000

typedef struct s_port_t s_port_t;

typedef struct {
    s_port_t *port;
    uint32_t ssrc;
    struct sockaddr_storage src;
    int64_t first_us;
    int64_t last_us;
    uint64_t packets;
    int pt;
    int marker_first;
    uint16_t last_seq;
    uint32_t last_ts;
    uint64_t seq_gaps;
    uint64_t ts_bad;
    uint64_t talkspurts; /* packets after the first with the marker bit */
    int64_t max_gap_us;
    uint64_t events; /* telephone-event packets received */
    int dtmf_sent;
    uv_timer_t *dtmf_timer;
} s_stream_t;

struct s_port_t {
    uv_udp_t udp;
    int port;
    s_stream_t *last; /* the stream the latest packet belonged to */
};

static s_stream_t *s_streams;
static size_t s_nstreams;
static s_port_t *s_ports;
static int s_nports;
static const char *s_out;
static int s_dtmf_event = -1;
static int s_dtmf_after_ms = 500;
static int s_dtmf_pt = 101;
static uint8_t s_rbuf[2048];
static uv_signal_t s_sigterm, s_sigint;
static uv_timer_t s_duration;

static int64_t s_now_us(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

static uint32_t s_get32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void s_write_out(void) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", s_out);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        perror("ph_rtp_probe: out");
        exit(1);
    }
    for (size_t i = 0; i < s_nstreams; i++) {
        const s_stream_t *s = &s_streams[i];
        char ip[64] = "?";
        int sport = 0;
        if (s->src.ss_family == AF_INET) {
            const struct sockaddr_in *a = (const struct sockaddr_in *)&s->src;
            uv_ip4_name(a, ip, sizeof ip);
            sport = ntohs(a->sin_port);
        }
        fprintf(f,
                "stream port=%d ssrc=%" PRIu32 " src=%s:%d first_us=%" PRId64 " last_us=%" PRId64
                " packets=%" PRIu64 " pt=%d marker_first=%d seq_gaps=%" PRIu64 " ts_bad=%" PRIu64
                " max_gap_ms=%.1f talkspurts=%" PRIu64 " events=%" PRIu64 " dtmf_sent=%d\n",
                s->port->port, s->ssrc, ip, sport, s->first_us, s->last_us, s->packets, s->pt,
                s->marker_first, s->seq_gaps, s->ts_bad, (double)s->max_gap_us / 1000.0,
                s->talkspurts, s->events, s->dtmf_sent);
    }
    fclose(f);
    if (rename(tmp, s_out) != 0) {
        perror("ph_rtp_probe: rename");
        exit(1);
    }
}

static void s_stop(void) {
    s_write_out();
    exit(0);
}

static void s_on_signal(uv_signal_t *h, int sig) {
    s_stop();
}

static void s_on_duration(uv_timer_t *t) {
    s_stop();
}

static void s_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    buf->base = (char *)s_rbuf;
    buf->len = sizeof s_rbuf;
}

/* One telephone-event packet of the key press. */
static void s_send_event(s_stream_t *s, uint16_t seq, uint32_t ts, int end, uint16_t duration) {
    uint8_t p[16];
    uint32_t ssrc = s->ssrc ^ 0x5A5A5A5Au;
    p[0] = 0x80;
    p[1] = (uint8_t)((seq == 1 ? 0x80 : 0) | s_dtmf_pt);
    p[2] = (uint8_t)(seq >> 8);
    p[3] = (uint8_t)seq;
    p[4] = (uint8_t)(ts >> 24);
    p[5] = (uint8_t)(ts >> 16);
    p[6] = (uint8_t)(ts >> 8);
    p[7] = (uint8_t)ts;
    p[8] = (uint8_t)(ssrc >> 24);
    p[9] = (uint8_t)(ssrc >> 16);
    p[10] = (uint8_t)(ssrc >> 8);
    p[11] = (uint8_t)ssrc;
    p[12] = (uint8_t)s_dtmf_event;
    p[13] = (uint8_t)((end ? 0x80 : 0) | 10);
    p[14] = (uint8_t)(duration >> 8);
    p[15] = (uint8_t)duration;
    uv_buf_t b = uv_buf_init((char *)p, sizeof p);
    (void)uv_udp_try_send(&s->port->udp, &b, 1, (const struct sockaddr *)&s->src);
}

static void s_on_dtmf(uv_timer_t *t) {
    s_stream_t *s = t->data;
    /* A 100 ms press: updates at growing duration, then the end packet three times. */
    for (uint16_t i = 1; i <= 5; i++) {
        s_send_event(s, i, 48000, 0, (uint16_t)(160 * i));
    }
    for (uint16_t i = 6; i <= 8; i++) {
        s_send_event(s, i, 48000, 1, 800);
    }
    s->dtmf_sent = 1;
    uv_close((uv_handle_t *)t, (uv_close_cb)free);
    s->dtmf_timer = NULL;
}

static s_stream_t *s_stream(s_port_t *port, uint32_t ssrc, const struct sockaddr *addr) {
    if (port->last && port->last->ssrc == ssrc) {
        return port->last;
    }
    for (size_t i = s_nstreams; i-- > 0;) {
        if (s_streams[i].port == port && s_streams[i].ssrc == ssrc) {
            return port->last = &s_streams[i];
        }
    }
    if (s_nstreams >= S_MAX_STREAMS) {
        return NULL;
    }
    s_stream_t *s = &s_streams[s_nstreams++];
    memset(s, 0, sizeof *s);
    s->port = port;
    s->ssrc = ssrc;
    memcpy(&s->src, addr,
           addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
    port->last = s;
    return s;
}

static void s_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *addr,
                   unsigned flags) {
    s_port_t *port = h->data;
    const uint8_t *d = (const uint8_t *)buf->base;
    if (n < 12 || !addr || (d[0] >> 6) != 2) {
        return;
    }
    int64_t now = s_now_us();
    s_stream_t *s = s_stream(port, s_get32(d + 8), addr);
    if (!s) {
        return;
    }
    int pt = d[1] & 0x7F;
    uint16_t seq = (uint16_t)(d[2] << 8 | d[3]);
    uint32_t ts = s_get32(d + 4);
    if (pt != 0 && pt != 8) {
        s->events++;
        return;
    }
    if (s->packets == 0) {
        s->first_us = now;
        s->pt = pt;
        s->marker_first = (d[1] & 0x80) != 0;
        if (s_dtmf_event >= 0 && !s->dtmf_timer && !s->dtmf_sent) {
            s->dtmf_timer = malloc(sizeof *s->dtmf_timer);
            if (s->dtmf_timer) {
                uv_timer_init(h->loop, s->dtmf_timer);
                s->dtmf_timer->data = s;
                uv_timer_start(s->dtmf_timer, s_on_dtmf, (uint64_t)s_dtmf_after_ms, 0);
            }
        }
    } else {
        uint16_t dseq = (uint16_t)(seq - s->last_seq);
        uint32_t dts = ts - s->last_ts;
        if (dseq != 1) {
            s->seq_gaps++;
        }
        if (d[1] & 0x80) {
            /* a new talkspurt (another prompt): the timestamp may jump ahead with the clock */
            s->talkspurts++;
            if ((int32_t)dts < (int32_t)(160u * dseq)) {
                s->ts_bad++;
            }
        } else if (dts != 160u * dseq) {
            s->ts_bad++;
        }
        if (now - s->last_us > s->max_gap_us) {
            s->max_gap_us = now - s->last_us;
        }
    }
    s->last_us = now;
    s->last_seq = seq;
    s->last_ts = ts;
    s->packets++;
}

static int s_digit_event(const char *d) {
    const char *keys = "0123456789*#ABCD";
    const char *p = d && strlen(d) == 1 ? strchr(keys, d[0]) : NULL;
    return p ? (int)(p - keys) : -1;
}

int main(int argc, char **argv) {
    const char *ports = NULL;
    const char *bind_ip = "127.0.0.1";
    long duration_ms = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--ports")) {
            ports = argv[i + 1];
        } else if (!strcmp(argv[i], "--out")) {
            s_out = argv[i + 1];
        } else if (!strcmp(argv[i], "--bind")) {
            bind_ip = argv[i + 1];
        } else if (!strcmp(argv[i], "--duration-ms")) {
            duration_ms = atol(argv[i + 1]);
        } else if (!strcmp(argv[i], "--dtmf")) {
            s_dtmf_event = s_digit_event(argv[i + 1]);
        } else if (!strcmp(argv[i], "--dtmf-after-ms")) {
            s_dtmf_after_ms = atoi(argv[i + 1]);
        } else if (!strcmp(argv[i], "--dtmf-pt")) {
            s_dtmf_pt = atoi(argv[i + 1]) & 0x7F;
        } else {
            fprintf(stderr, "ph_rtp_probe: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    int lo, hi;
    if (!ports || !s_out || sscanf(ports, "%d-%d", &lo, &hi) != 2 || lo < 1 || hi > 65535 ||
        hi < lo || hi - lo > 20000) {
        fprintf(stderr, "usage: ph_rtp_probe --ports LO-HI --out FILE [--bind IP] "
                        "[--duration-ms N] [--dtmf D --dtmf-after-ms N --dtmf-pt PT]\n");
        return 2;
    }
    uv_loop_t *loop = uv_default_loop();
    s_streams = calloc(S_MAX_STREAMS, sizeof *s_streams);
    s_nports = hi - lo + 1;
    s_ports = calloc((size_t)s_nports, sizeof *s_ports);
    if (!s_streams || !s_ports) {
        return 1;
    }
    for (int i = 0; i < s_nports; i++) {
        struct sockaddr_in a;
        s_port_t *p = &s_ports[i];
        p->port = lo + i;
        if (uv_ip4_addr(bind_ip, p->port, &a) != 0) {
            fprintf(stderr, "ph_rtp_probe: bad --bind %s\n", bind_ip);
            return 2;
        }
        uv_udp_init(loop, &p->udp);
        p->udp.data = p;
        int rc = uv_udp_bind(&p->udp, (const struct sockaddr *)&a, 0);
        if (rc == 0) {
            int size = 1 << 20;
            uv_recv_buffer_size((uv_handle_t *)&p->udp, &size);
            rc = uv_udp_recv_start(&p->udp, s_alloc, s_recv);
        }
        if (rc != 0) {
            fprintf(stderr, "ph_rtp_probe: port %d: %s\n", p->port, uv_strerror(rc));
            return 2;
        }
    }
    uv_signal_init(loop, &s_sigterm);
    uv_signal_start(&s_sigterm, s_on_signal, SIGTERM);
    uv_signal_init(loop, &s_sigint);
    uv_signal_start(&s_sigint, s_on_signal, SIGINT);
    if (duration_ms > 0) {
        uv_timer_init(loop, &s_duration);
        uv_timer_start(&s_duration, s_on_duration, (uint64_t)duration_ms, 0);
    }
    printf("ready ports=%d-%d\n", lo, hi);
    fflush(stdout);
    uv_run(loop, UV_RUN_DEFAULT);
    s_write_out();
    return 0;
}
