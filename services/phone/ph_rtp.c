/* ph_rtp: an RTP endpoint on the libuv loop. Sending: packet k of a playback is due at
 * start + k * 20 ms on the monotonic clock (uv_hrtime), so timer lateness never accumulates:
 * a late wake-up sends every packet already due (catching up) and the timer is re-armed for
 * the next due time. Timestamps follow the same schedule (160 samples per packet), seq grows
 * by one per packet, the SSRC is random. Receiving: RTP headers are checked (version, CSRCs,
 * extension, padding); RFC 4733 events are reported once per event timestamp, so the
 * redundant updates and the three end packets of one key press give one digit. */
#include "ph_rtp.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#define S_PTIME_NS 20000000ULL /* 20 ms */
#define S_SAMPLES 160          /* per packet at 8 kHz */
#define S_HDR 12
#define S_CATCHUP_MAX 50 /* packets sent in one wake-up before yielding to the loop */
#define S_SILENCE_ULAW 0xFF

struct ph_rtp_t {
    uv_loop_t *loop;
    uv_udp_t udp;
    uv_timer_t timer;
    int open_handles; /* handles not yet closed; memory goes when it reaches 0 */
    int closing;
    int port;
    int family;
    /* remote */
    struct sockaddr_storage remote;
    int has_remote;
    int pt;
    int dtmf_pt;
    /* stream */
    uint32_t ssrc;
    uint16_t seq;
    uint32_t ts_origin; /* timestamp at origin_ns */
    uint64_t origin_ns; /* when the endpoint was made */
    uint32_t last_ts;   /* timestamp of the last packet sent */
    int sent_any;
    /* playback */
    ph_audio_t *pieces;
    size_t npieces;
    size_t piece; /* current piece and offset in it */
    size_t off;
    uint64_t play_ns; /* due time of packet 0 */
    uint32_t play_ts; /* timestamp of packet 0 */
    uint64_t k;       /* next packet index */
    int playing;
    int ending; /* the last packet went out; done is due when its 20 ms have passed */
    ph_rtp_done_fn *done;
    void *done_arg;
    /* receiving */
    ph_rtp_digit_fn *digit_fn;
    void *digit_arg;
    int have_event;
    uint32_t event_ts;
    uint32_t event_ssrc;
    ph_rtp_stats_t stats;
    uint8_t rbuf[2048];
};

static int s_next_port; /* where the next endpoint of this process starts looking */
static uint8_t s_alaw[256];
static int s_alaw_ready;

/* G.711 mu-law to 16-bit linear. */
static int s_ulaw_decode(uint8_t u) {
    u = (uint8_t)~u;
    int t = ((u & 0x0F) << 3) + 0x84;
    t <<= (u & 0x70) >> 4;
    return (u & 0x80) ? (0x84 - t) : (t - 0x84);
}

/* G.711 16-bit linear to A-law (13-bit magnitude, segment search). */
static uint8_t s_alaw_encode(int pcm) {
    static const int seg_end[8] = {0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF};
    int mask;
    pcm >>= 3;
    if (pcm >= 0) {
        mask = 0xD5;
    } else {
        mask = 0x55;
        pcm = -pcm - 1;
    }
    int seg = 0;
    while (seg < 8 && pcm > seg_end[seg]) {
        seg++;
    }
    if (seg >= 8) {
        return (uint8_t)(0x7F ^ mask);
    }
    int aval = seg << 4;
    aval |= seg < 2 ? (pcm >> 1) & 0x0F : (pcm >> seg) & 0x0F;
    return (uint8_t)(aval ^ mask);
}

uint8_t ph_rtp_ulaw_to_alaw(uint8_t u) {
    if (!s_alaw_ready) {
        for (int i = 0; i < 256; i++) {
            s_alaw[i] = s_alaw_encode(s_ulaw_decode((uint8_t)i));
        }
        s_alaw_ready = 1;
    }
    return s_alaw[u];
}

int ph_rtp_parse_range(const char *text, int *lo, int *hi) {
    char *end;
    if (!text) {
        return -1;
    }
    errno = 0;
    long a = strtol(text, &end, 10);
    if (end == text || *end != '-' || errno) {
        return -1;
    }
    const char *p = end + 1;
    long b = strtol(p, &end, 10);
    if (end == p || *end != '\0' || errno || a < 1024 || b > 65535 || b <= a) {
        return -1;
    }
    *lo = (int)a;
    *hi = (int)b;
    return 0;
}

static uint32_t s_random32(void) {
    uint32_t v = 0;
    if (getrandom(&v, sizeof v, GRND_NONBLOCK) != (ssize_t)sizeof v) {
        v = (uint32_t)uv_hrtime() ^ (uint32_t)getpid() * 2654435761u;
    }
    return v;
}

static int s_addr(const char *ip, int port, struct sockaddr_storage *ss) {
    memset(ss, 0, sizeof *ss);
    if (uv_ip4_addr(ip, port, (struct sockaddr_in *)ss) == 0) {
        return AF_INET;
    }
    if (uv_ip6_addr(ip, port, (struct sockaddr_in6 *)ss) == 0) {
        return AF_INET6;
    }
    return -1;
}

/* Binds a non-blocking UDP socket to an even port of [lo, hi]; returns the fd or -1. */
static int s_bind(int family, struct sockaddr_storage *ss, int lo, int hi, int *port) {
    int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    int first = lo + (lo & 1);
    if (first > hi) {
        close(fd);
        return -1; /* no even port in the range */
    }
    int span = (hi - first) / 2 + 1;
    int start = s_next_port >= first && s_next_port <= hi ? (s_next_port - first) / 2 : 0;
    for (int i = 0; i < span; i++) {
        int p = first + 2 * ((start + i) % span);
        if (family == AF_INET) {
            ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)p);
        } else {
            ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)p);
        }
        socklen_t len =
            family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
        if (bind(fd, (struct sockaddr *)ss, len) == 0) {
            *port = p;
            s_next_port = p + 2;
            return fd;
        }
        if (errno != EADDRINUSE && errno != EACCES) {
            break;
        }
    }
    close(fd);
    return -1;
}

static void s_on_close(uv_handle_t *h) {
    ph_rtp_t *self = h->data;
    if (--self->open_handles == 0) {
        free(self->pieces);
        free(self);
    }
}

static void s_close(ph_rtp_t *self) {
    self->closing = 1;
    self->playing = 0;
    uv_close((uv_handle_t *)&self->timer, s_on_close);
    uv_close((uv_handle_t *)&self->udp, s_on_close);
}

static void s_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    ph_rtp_t *self = h->data;
    buf->base = (char *)self->rbuf;
    buf->len = sizeof self->rbuf;
}

static int s_from_remote(const ph_rtp_t *self, const struct sockaddr *addr) {
    if (!self->has_remote) {
        return 1;
    }
    if (addr->sa_family != self->remote.ss_family) {
        return 0;
    }
    if (addr->sa_family == AF_INET) {
        return ((const struct sockaddr_in *)addr)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)&self->remote)->sin_addr.s_addr;
    }
    return memcmp(&((const struct sockaddr_in6 *)addr)->sin6_addr,
                  &((const struct sockaddr_in6 *)&self->remote)->sin6_addr,
                  sizeof(struct in6_addr)) == 0;
}

static uint32_t s_get32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* One datagram: check the RTP header and report a new telephone-event. */
static void s_packet(ph_rtp_t *self, const uint8_t *d, size_t len) {
    if (len < S_HDR || (d[0] >> 6) != 2) {
        self->stats.bad++;
        return;
    }
    if (d[1] >= 200 && d[1] <= 204) {
        return; /* RTCP multiplexed on the port: not ours to read */
    }
    size_t hdr = S_HDR + 4u * (d[0] & 0x0F);
    if (d[0] & 0x10) {
        if (len < hdr + 4) {
            self->stats.bad++;
            return;
        }
        hdr += 4 + 4u * ((size_t)d[hdr + 2] << 8 | d[hdr + 3]);
    }
    size_t pad = (d[0] & 0x20) ? d[len - 1] : 0;
    if (len < hdr || len - hdr < pad || ((d[0] & 0x20) && pad == 0)) {
        self->stats.bad++;
        return;
    }
    size_t plen = len - hdr - pad;
    int pt = d[1] & 0x7F;
    self->stats.received++;
    if (self->dtmf_pt < 0 || pt != self->dtmf_pt || plen < 4) {
        return;
    }
    int event = d[hdr];
    uint32_t ts = s_get32(d + 4);
    uint32_t ssrc = s_get32(d + 8);
    if (event > 15 || (self->have_event && ts == self->event_ts && ssrc == self->event_ssrc)) {
        return; /* not a key, or a repeat/end packet of the event already reported */
    }
    self->have_event = 1;
    self->event_ts = ts;
    self->event_ssrc = ssrc;
    self->stats.digits++;
    if (self->digit_fn) {
        self->digit_fn(self, "0123456789*#ABCD"[event], self -> digit_arg);
    }
}

static void s_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *addr,
                   unsigned flags) {
    ph_rtp_t *self = h->data;
    if (self->closing || nread <= 0 || !addr) {
        return; /* nothing, or an error the next datagram will not care about */
    }
    if ((flags & UV_UDP_PARTIAL) || !s_from_remote(self, addr)) {
        self->stats.bad++;
        return;
    }
    s_packet(self, (const uint8_t *)buf->base, (size_t)nread);
}

ph_rtp_t *ph_rtp_new(uv_loop_t *loop, const char *bind_ip, int lo, int hi) {
    struct sockaddr_storage ss;
    int family = bind_ip ? s_addr(bind_ip, 0, &ss) : -1;
    int port = 0;
    if (family < 0 || lo < 1 || hi > 65535 || lo > hi) {
        return NULL;
    }
    int fd = s_bind(family, &ss, lo, hi, &port);
    if (fd < 0) {
        return NULL;
    }
    ph_rtp_t *self = calloc(1, sizeof *self);
    if (!self) {
        close(fd);
        return NULL;
    }
    self->loop = loop;
    self->port = port;
    self->family = family;
    self->dtmf_pt = -1;
    self->ssrc = s_random32();
    self->seq = (uint16_t)s_random32();
    self->ts_origin = s_random32();
    self->origin_ns = uv_hrtime();
    uv_timer_init(loop, &self->timer);
    self->timer.data = self;
    uv_udp_init(loop, &self->udp);
    self->udp.data = self;
    self->open_handles = 2;
    if (uv_udp_open(&self->udp, fd) != 0) {
        close(fd);
        s_close(self);
        return NULL;
    }
    if (uv_udp_recv_start(&self->udp, s_alloc, s_recv) != 0) {
        s_close(self);
        return NULL;
    }
    return self;
}

static void s_finish(ph_rtp_t *self, int completed) {
    ph_rtp_done_fn *done = self->done;
    void *arg = self->done_arg;
    self->playing = 0;
    self->ending = 0;
    self->done = NULL;
    uv_timer_stop(&self->timer);
    if (done) {
        done(self, completed, arg);
    }
}

void ph_rtp_destroy(ph_rtp_t **self_p) {
    assert(self_p);
    ph_rtp_t *self = *self_p;
    if (self && !self->closing) {
        self->done = NULL;
        uv_timer_stop(&self->timer);
        uv_udp_recv_stop(&self->udp);
        s_close(self);
    }
    *self_p = NULL;
}

int ph_rtp_port(const ph_rtp_t *self) {
    return self->port;
}

int ph_rtp_set_remote(ph_rtp_t *self, const char *ip, int port, int pt, int dtmf_pt) {
    struct sockaddr_storage ss;
    if (!ip || port <= 0 || port > 65535 || (pt != 0 && pt != 8) || dtmf_pt > 127 ||
        s_addr(ip, port, &ss) != self->family) {
        return -1;
    }
    if (dtmf_pt != self->dtmf_pt) {
        self->have_event = 0;
    }
    self->remote = ss;
    self->has_remote = 1;
    self->pt = pt;
    self->dtmf_pt = dtmf_pt < 0 ? -1 : dtmf_pt;
    return 0;
}

void ph_rtp_on_digit(ph_rtp_t *self, ph_rtp_digit_fn *fn, void *arg) {
    self->digit_fn = fn;
    self->digit_arg = arg;
}

/* Fills payload with the next 160 samples; returns 1 when the audio ran out with it. */
static int s_fill(ph_rtp_t *self, uint8_t *payload) {
    size_t n = 0;
    while (n < S_SAMPLES && self->piece < self->npieces) {
        const ph_audio_t *a = &self->pieces[self->piece];
        size_t take = a->len - self->off;
        if (take > S_SAMPLES - n) {
            take = S_SAMPLES - n;
        }
        if (take > 0) {
            memcpy(payload + n, a->data + self->off, take);
        }
        n += take;
        self->off += take;
        if (self->off >= a->len) {
            self->piece++;
            self->off = 0;
        }
    }
    memset(payload + n, S_SILENCE_ULAW, S_SAMPLES - n);
    if (self->pt == 8) {
        for (size_t i = 0; i < S_SAMPLES; i++) {
            payload[i] = ph_rtp_ulaw_to_alaw(payload[i]);
        }
    }
    return self->piece >= self->npieces;
}

static void s_send_one(ph_rtp_t *self) {
    uint8_t pkt[S_HDR + S_SAMPLES];
    uint32_t ts = self->play_ts + (uint32_t)(self->k * S_SAMPLES);
    int last = s_fill(self, pkt + S_HDR);
    pkt[0] = 0x80;
    pkt[1] = (uint8_t)((self->k == 0 ? 0x80 : 0) | self->pt);
    pkt[2] = (uint8_t)(self->seq >> 8);
    pkt[3] = (uint8_t)self->seq;
    pkt[4] = (uint8_t)(ts >> 24);
    pkt[5] = (uint8_t)(ts >> 16);
    pkt[6] = (uint8_t)(ts >> 8);
    pkt[7] = (uint8_t)ts;
    pkt[8] = (uint8_t)(self->ssrc >> 24);
    pkt[9] = (uint8_t)(self->ssrc >> 16);
    pkt[10] = (uint8_t)(self->ssrc >> 8);
    pkt[11] = (uint8_t)self->ssrc;
    uv_buf_t b = uv_buf_init((char *)pkt, sizeof pkt);
    /* A full socket buffer drops the packet: late audio is worth less than none. */
    (void)uv_udp_try_send(&self->udp, &b, 1, (const struct sockaddr *)&self->remote);
    if (self->stats.sent++ == 0) {
        self->stats.first_sent_ns = uv_hrtime();
    }
    self->seq++;
    self->last_ts = ts;
    self->sent_any = 1;
    self->k++;
    if (last) {
        self->ending = 1;
    }
}

static void s_tick(uv_timer_t *t) {
    ph_rtp_t *self = t->data;
    uint64_t now = uv_hrtime();
    int burst = 0;
    while (self->playing && !self->ending && burst < S_CATCHUP_MAX) {
        uint64_t due = self->play_ns + self->k * S_PTIME_NS;
        if (due > now) {
            break;
        }
        if (now - due > S_PTIME_NS) {
            self->stats.late++;
        }
        s_send_one(self);
        burst++;
    }
    if (self->closing || !self->playing) {
        return;
    }
    uint64_t due = self->play_ns + self->k * S_PTIME_NS;
    if (self->ending && due <= now) {
        s_finish(self, 1);
        return;
    }
    uint64_t wait_ms = due > now ? (due - now + 999999) / 1000000 : 0;
    uv_timer_start(&self->timer, s_tick, wait_ms, 0);
}

int ph_rtp_play(ph_rtp_t *self, const ph_audio_t *pieces, size_t n, ph_rtp_done_fn *done,
                void *arg) {
    if (self->closing || !self->has_remote || n == 0 || !pieces) {
        return -1;
    }
    ph_audio_t *copy = malloc(n * sizeof *copy);
    if (!copy) {
        return -1;
    }
    memcpy(copy, pieces, n * sizeof *copy);
    if (self->playing) {
        s_finish(self, 0);
        if (self->closing) {
            free(copy);
            return -1; /* the done callback destroyed us */
        }
    }
    free(self->pieces);
    self->pieces = copy;
    self->npieces = n;
    self->piece = 0;
    self->off = 0;
    self->k = 0;
    self->ending = 0;
    self->play_ns = uv_hrtime();
    /* The timestamp follows the wall clock since the endpoint began, and never goes back. */
    uint32_t ts = self->ts_origin + (uint32_t)((self->play_ns - self->origin_ns) / 125000u);
    if (self->sent_any && (int32_t)(ts - (self->last_ts + S_SAMPLES)) < 0) {
        ts = self->last_ts + S_SAMPLES;
    }
    self->play_ts = ts;
    self->playing = 1;
    self->done = done;
    self->done_arg = arg;
    s_tick(&self->timer);
    return 0;
}

void ph_rtp_stop(ph_rtp_t *self) {
    if (self->playing && !self->closing) {
        s_finish(self, 0);
    }
}

int ph_rtp_playing(const ph_rtp_t *self) {
    return self->playing;
}

void ph_rtp_stats(const ph_rtp_t *self, ph_rtp_stats_t *out) {
    *out = self->stats;
}
