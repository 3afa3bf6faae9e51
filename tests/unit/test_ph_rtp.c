/* test_ph_rtp: hetki-phone's RTP endpoint on real loopback UDP sockets. A peer socket on the
 * same libuv loop receives what the endpoint plays and checks the packets (seq, timestamp,
 * SSRC, marker, payload, PCMA conversion) and their timing (20 ms apart, no drift even
 * after the loop stalls); the peer sends RFC 4733 telephone-events (with repeats, end
 * packets, CSRCs, an extension and padding), garbage and packets from a stranger, and the
 * endpoint must report each key press exactly once. Also: port ranges, replacing and
 * stopping a playback, destroying from inside callbacks. */
#include "hk_test.h"
#include "ph_rtp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#define S_MAX_PKTS 512

typedef struct {
    uint8_t data[200];
    size_t len;
    uint64_t at_ns;
} s_pkt_t;

static uv_loop_t *s_loop;
static uv_udp_t s_peer;
static int s_peer_port;
static s_pkt_t s_pkts[S_MAX_PKTS];
static size_t s_npkts;
static int s_done_calls;
static int s_done_completed;
static uint64_t s_done_ns;
static char s_digits[64];
static size_t s_ndigits;
static int s_lo, s_hi; /* a port range for the endpoints */

static void s_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    static char b[2048];
    buf->base = b;
    buf->len = sizeof b;
}

static void s_peer_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *addr,
                        unsigned flags) {
    if (n <= 0 || s_npkts >= S_MAX_PKTS) {
        return;
    }
    s_pkt_t *p = &s_pkts[s_npkts++];
    p->len = (size_t)n < sizeof p->data ? (size_t)n : sizeof p->data;
    memcpy(p->data, buf->base, p->len);
    p->at_ns = uv_hrtime();
}

static void s_guard(uv_timer_t *t) {
    (void)t;
}

/* Runs the loop until *flag becomes non-zero (flag may be NULL) or ms passed. */
static void s_run(const int *flag, int ms) {
    uv_timer_t guard;
    uv_timer_init(s_loop, &guard);
    uv_timer_start(&guard, s_guard, 5, 5);
    uint64_t until = uv_hrtime() + (uint64_t)ms * 1000000ULL;
    while ((!flag || !*flag) && uv_hrtime() < until) {
        uv_run(s_loop, UV_RUN_ONCE);
    }
    uv_close((uv_handle_t *)&guard, NULL);
    uv_run(s_loop, UV_RUN_NOWAIT);
}

static uint16_t s_get16(const uint8_t *p) {
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t s_get32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void s_on_done(ph_rtp_t *rtp, int completed, void *arg) {
    s_done_calls++;
    s_done_completed = completed;
    s_done_ns = uv_hrtime();
}

static void s_on_digit(ph_rtp_t *rtp, char digit, void *arg) {
    if (s_ndigits < sizeof s_digits - 1) {
        s_digits[s_ndigits++] = digit;
    }
}

static void s_reset(void) {
    s_npkts = 0;
    s_done_calls = 0;
    s_done_completed = -1;
    s_ndigits = 0;
    memset(s_digits, 0, sizeof s_digits);
}

/* An even port p such that p and p + 2 are free for UDP on 127.0.0.1. */
static int s_find_range(void) {
    for (int base = 30000 + (int)(getpid() % 500) * 8; base < 60000; base += 8) {
        int ok = 1;
        for (int p = base; p <= base + 2 && ok; p += 2) {
            int fd = socket(AF_INET, SOCK_DGRAM, 0);
            struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p)};
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
            close(fd);
        }
        if (ok) {
            return base;
        }
    }
    return -1;
}

static ph_rtp_t *s_endpoint(void) {
    ph_rtp_t *rtp = ph_rtp_new(s_loop, "127.0.0.1", s_lo, s_hi);
    HK_CHECK(rtp != NULL, "no endpoint in %d-%d", s_lo, s_hi);
    return rtp;
}

static void s_destroy(ph_rtp_t **rtp) {
    ph_rtp_destroy(rtp);
    s_run(NULL, 20); /* let the handles close */
}

static void s_test_range(void) {
    int lo, hi;
    HK_CHECK(ph_rtp_parse_range("20000-20999", &lo, &hi) == 0 && lo == 20000 && hi == 20999,
             "parse range");
    HK_CHECK(ph_rtp_parse_range("20000-20000", &lo, &hi) == -1, "one port");
    HK_CHECK(ph_rtp_parse_range("80-100", &lo, &hi) == -1, "privileged");
    HK_CHECK(ph_rtp_parse_range("20000-70000", &lo, &hi) == -1, "above 65535");
    HK_CHECK(ph_rtp_parse_range("20000", &lo, &hi) == -1, "no dash");
    HK_CHECK(ph_rtp_parse_range("20000-2x", &lo, &hi) == -1, "junk");
    HK_CHECK(ph_rtp_parse_range(NULL, &lo, &hi) == -1, "NULL");

    /* a range of two even ports gives two endpoints, then none until one is closed */
    ph_rtp_t *a = s_endpoint();
    ph_rtp_t *b = s_endpoint();
    HK_CHECK(ph_rtp_port(a) % 2 == 0 && ph_rtp_port(b) % 2 == 0, "even ports");
    HK_CHECK(ph_rtp_port(a) != ph_rtp_port(b), "two endpoints, one port");
    HK_CHECK(ph_rtp_new(s_loop, "127.0.0.1", s_lo, s_hi) == NULL, "a third endpoint in 2 ports");
    HK_CHECK(ph_rtp_new(s_loop, "not-an-ip", s_lo, s_hi) == NULL, "bad bind address");
    HK_CHECK(ph_rtp_new(s_loop, "127.0.0.1", s_lo + 1, s_lo + 1) == NULL, "no even port");
    HK_CHECK(ph_rtp_new(s_loop, "127.0.0.1", s_hi, s_lo) == NULL, "reversed range");
    int freed = ph_rtp_port(a);
    s_destroy(&a);
    HK_CHECK(a == NULL, "destroy nulls");
    a = s_endpoint();
    HK_CHECK_INT_EQ(ph_rtp_port(a), freed);
    HK_CHECK(ph_rtp_set_remote(a, "127.0.0.1", 5000, 18, -1) == -1, "G.729 remote");
    HK_CHECK(ph_rtp_set_remote(a, "::1", 5000, 0, -1) == -1, "IPv6 remote on IPv4 socket");
    HK_CHECK(ph_rtp_set_remote(a, "127.0.0.1", 0, 0, -1) == -1, "port 0");
    ph_audio_t one = {.data = (const uint8_t *)"x", .len = 1};
    HK_CHECK(ph_rtp_play(a, &one, 1, NULL, NULL) == -1, "play without a remote");
    s_destroy(&a);
    s_destroy(&b);
}

/* Checks the received packets against the pieces: header fields, payload, 20 ms spacing. */
static void s_check_stream(const ph_audio_t *pieces, size_t n, int pt, size_t first, size_t count) {
    static uint8_t all[1 << 16];
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(all + total, pieces[i].data, pieces[i].len);
        total += pieces[i].len;
    }
    size_t want = (total + 159) / 160;
    HK_CHECK(count == want, "%zu packets, expected %zu", count, want);
    const s_pkt_t *p0 = &s_pkts[first];
    uint32_t ssrc = s_get32(p0->data + 8);
    for (size_t k = 0; k < count; k++) {
        const s_pkt_t *p = &s_pkts[first + k];
        HK_CHECK(p->len == 172, "packet %zu has %zu bytes", k, p->len);
        HK_CHECK(p->data[0] == 0x80, "packet %zu: version/flags %02x", k, p->data[0]);
        HK_CHECK((p->data[1] & 0x7F) == pt, "packet %zu: pt %d", k, p->data[1] & 0x7F);
        HK_CHECK(((p->data[1] & 0x80) != 0) == (k == 0), "packet %zu: marker", k);
        HK_CHECK(s_get16(p->data + 2) == (uint16_t)(s_get16(p0->data + 2) + k), "packet %zu seq",
                 k);
        HK_CHECK(s_get32(p->data + 4) == s_get32(p0->data + 4) + (uint32_t)(160 * k),
                 "packet %zu timestamp", k);
        HK_CHECK(s_get32(p->data + 8) == ssrc, "packet %zu ssrc", k);
        for (size_t i = 0; i < 160; i++) {
            size_t at = k * 160 + i;
            uint8_t u = at < total ? all[at] : 0xFF;
            uint8_t w = pt == 8 ? ph_rtp_ulaw_to_alaw(u) : u;
            HK_CHECK(p->data[12 + i] == w, "packet %zu byte %zu is %02x, expected %02x", k, i,
                     p->data[12 + i], w);
        }
    }
}

static void s_test_play(void) {
    static uint8_t a[1000], b[333], c[1287];
    for (size_t i = 0; i < sizeof a; i++) {
        a[i] = (uint8_t)i;
    }
    memset(b, 0x11, sizeof b);
    for (size_t i = 0; i < sizeof c; i++) {
        c[i] = (uint8_t)(255 - i % 200);
    }
    ph_audio_t pieces[] = {{a, sizeof a}, {b, sizeof b}, {c, sizeof c}};
    ph_rtp_t *rtp = s_endpoint();
    HK_CHECK(ph_rtp_set_remote(rtp, "127.0.0.1", s_peer_port, 0, 101) == 0, "set remote");
    s_reset();
    uint64_t t0 = uv_hrtime();
    HK_CHECK(ph_rtp_play(rtp, pieces, 3, s_on_done, NULL) == 0, "play");
    HK_CHECK(ph_rtp_playing(rtp), "playing");
    s_run(&s_done_calls, 3000);
    s_run(NULL, 30);
    HK_CHECK_INT_EQ(s_done_calls, 1);
    HK_CHECK_INT_EQ(s_done_completed, 1);
    HK_CHECK(!ph_rtp_playing(rtp), "still playing");
    s_check_stream(pieces, 3, 0, 0, s_npkts);
    /* timing: packet k is due k * 20 ms after the start; never early, mostly on time (the
     * machine may be busy: a few late packets are tolerated, a drifting schedule is not) */
    size_t on_time = 0;
    for (size_t k = 0; k < s_npkts; k++) {
        double off = (double)(s_pkts[k].at_ns - t0) / 1e6 - 20.0 * (double)k;
        HK_CHECK(off > -1.0 && off < 200.0, "packet %zu is %.1f ms off schedule", k, off);
        on_time += off < 10.0;
    }
    HK_CHECK(on_time * 10 >= s_npkts * 8, "only %zu of %zu packets on time", on_time, s_npkts);
    double first_ms = (double)(s_pkts[0].at_ns - t0) / 1e6;
    HK_CHECK(first_ms < 10.0, "first packet after %.1f ms", first_ms);
    double done_ms = (double)(s_done_ns - t0) / 1e6;
    HK_CHECK(done_ms >= 20.0 * (double)s_npkts - 1.0 && done_ms < 20.0 * (double)s_npkts + 200,
             "done after %.1f ms for %zu packets", done_ms, s_npkts);
    ph_rtp_stats_t st;
    ph_rtp_stats(rtp, &st);
    HK_CHECK(st.sent == s_npkts && st.first_sent_ns >= t0, "stats sent %llu",
             (unsigned long long)st.sent);

    /* a second playback continues seq and moves the timestamp on with the clock */
    uint32_t last_ts = s_get32(s_pkts[s_npkts - 1].data + 4);
    uint16_t last_seq = s_get16(s_pkts[s_npkts - 1].data + 2);
    uint32_t ssrc = s_get32(s_pkts[0].data + 8);
    s_run(NULL, 100);
    s_reset();
    HK_CHECK(ph_rtp_set_remote(rtp, "127.0.0.1", s_peer_port, 8, -1) == 0, "PCMA remote");
    HK_CHECK(ph_rtp_play(rtp, pieces, 1, s_on_done, NULL) == 0, "play 2");
    s_run(&s_done_calls, 3000);
    s_run(NULL, 30);
    s_check_stream(pieces, 1, 8, 0, s_npkts);
    HK_CHECK(s_get16(s_pkts[0].data + 2) == (uint16_t)(last_seq + 1), "seq continues");
    HK_CHECK(s_get32(s_pkts[0].data + 8) == ssrc, "same SSRC");
    uint32_t gap = s_get32(s_pkts[0].data + 4) - last_ts;
    HK_CHECK(gap >= 160 + 100 * 8 && gap < 160 + 400 * 8, "timestamp moved %u samples", gap);
    HK_CHECK(ph_rtp_ulaw_to_alaw(0xFF) == 0xD5 && ph_rtp_ulaw_to_alaw(0x7F) == 0xD5,
             "silence in A-law");
    HK_CHECK(ph_rtp_ulaw_to_alaw(0x00) == 0x2A && ph_rtp_ulaw_to_alaw(0x80) == 0xAA,
             "loudest in A-law");
    s_destroy(&rtp);
}

static void s_stall(uv_timer_t *t) {
    usleep(90 * 1000); /* the loop is blocked for 90 ms: 4-5 packets fall behind */
}

/* A 2 s playback with the loop blocked twice: packets catch up, and the stream ends where
 * the schedule says (no drift). */
static void s_test_drift(void) {
    static uint8_t audio[16000];
    memset(audio, 0x55, sizeof audio);
    ph_audio_t piece = {audio, sizeof audio};
    ph_rtp_t *rtp = s_endpoint();
    HK_CHECK(ph_rtp_set_remote(rtp, "127.0.0.1", s_peer_port, 0, -1) == 0, "set remote");
    uv_timer_t stall;
    uv_timer_init(s_loop, &stall);
    uv_timer_start(&stall, s_stall, 500, 700);
    s_reset();
    uint64_t t0 = uv_hrtime();
    HK_CHECK(ph_rtp_play(rtp, &piece, 1, s_on_done, NULL) == 0, "play");
    s_run(&s_done_calls, 5000);
    uv_timer_stop(&stall);
    uv_close((uv_handle_t *)&stall, NULL);
    s_run(NULL, 30);
    s_check_stream(&piece, 1, 0, 0, s_npkts);
    /* never early; late only around the stalls; and back on the schedule by the end: a timer
     * re-armed from each send would have drifted by the stalls (3 x 90 ms) and more */
    size_t late = 0;
    double best_tail = 1e9;
    for (size_t k = 0; k < s_npkts; k++) {
        double off = (double)(s_pkts[k].at_ns - t0) / 1e6 - 20.0 * (double)k;
        HK_CHECK(off > -1.0, "packet %zu is %.1f ms early", k, -off);
        if (off > 20.0) {
            late++;
        }
        if (k + 10 >= s_npkts && off < best_tail) {
            best_tail = off;
        }
    }
    HK_CHECK(best_tail < 30.0, "the stream ends %.1f ms behind its schedule", best_tail);
    HK_CHECK(late <= 40, "%zu packets were late", late);
    ph_rtp_stats_t st;
    ph_rtp_stats(rtp, &st);
    HK_CHECK(st.late >= 2, "the endpoint counted %llu late packets", (unsigned long long)st.late);
    s_destroy(&rtp);
}

/* Replacing a playback reports the first as not completed; stop ends it too. */
static void s_test_replace(void) {
    static uint8_t audio[8000];
    memset(audio, 0x33, sizeof audio);
    ph_audio_t piece = {audio, sizeof audio};
    ph_rtp_t *rtp = s_endpoint();
    HK_CHECK(ph_rtp_set_remote(rtp, "127.0.0.1", s_peer_port, 0, -1) == 0, "set remote");
    s_reset();
    HK_CHECK(ph_rtp_play(rtp, &piece, 1, s_on_done, NULL) == 0, "play");
    s_run(NULL, 110);
    size_t before = s_npkts;
    HK_CHECK(ph_rtp_play(rtp, &piece, 1, s_on_done, NULL) == 0, "play again");
    HK_CHECK(s_done_calls == 1 && s_done_completed == 0, "replaced playback not reported");
    s_run(NULL, 50);
    HK_CHECK(s_npkts > before, "second playback sends");
    const s_pkt_t *p = &s_pkts[before];
    HK_CHECK((p->data[1] & 0x80) != 0, "marker on the new playback");
    HK_CHECK(s_get16(p->data + 2) == (uint16_t)(s_get16(s_pkts[before - 1].data + 2) + 1),
             "seq continues");
    HK_CHECK((int32_t)(s_get32(p->data + 4) - s_get32(s_pkts[before - 1].data + 4)) >= 160,
             "timestamp goes forward");
    ph_rtp_stop(rtp);
    HK_CHECK(s_done_calls == 2 && s_done_completed == 0, "stop not reported");
    size_t after = s_npkts;
    s_run(NULL, 80);
    HK_CHECK(s_npkts <= after + 1, "packets after stop");
    ph_rtp_stop(rtp); /* no-op */
    HK_CHECK_INT_EQ(s_done_calls, 2);
    s_destroy(&rtp);
}

/* Sends one RFC 4733 packet to port from the peer (or from sock when >= 0). */
static void s_send_event(int port, int event, int end, uint16_t duration, uint32_t ts,
                         uint32_t ssrc, uint16_t seq, int pt, int extra) {
    uint8_t pkt[64];
    size_t n = 0;
    int cc = extra ? 1 : 0;
    pkt[n++] = (uint8_t)(0x80 | (extra ? 0x30 : 0) | cc);
    pkt[n++] = (uint8_t)pt;
    pkt[n++] = (uint8_t)(seq >> 8);
    pkt[n++] = (uint8_t)seq;
    for (int i = 3; i >= 0; i--) {
        pkt[n++] = (uint8_t)(ts >> (8 * i));
    }
    for (int i = 3; i >= 0; i--) {
        pkt[n++] = (uint8_t)(ssrc >> (8 * i));
    }
    if (extra) {
        memset(pkt + n, 0xAB, 4); /* one CSRC */
        n += 4;
        uint8_t ext[] = {0xBE, 0xDE, 0x00, 0x01, 1, 2, 3, 4}; /* one extension word */
        memcpy(pkt + n, ext, sizeof ext);
        n += sizeof ext;
    }
    pkt[n++] = (uint8_t)event;
    pkt[n++] = (uint8_t)((end ? 0x80 : 0) | 10);
    pkt[n++] = (uint8_t)(duration >> 8);
    pkt[n++] = (uint8_t)duration;
    if (extra) {
        memset(pkt + n, 0, 3);
        n += 3;
        pkt[n++] = 4; /* 4 bytes of padding */
    }
    struct sockaddr_in to;
    uv_ip4_addr("127.0.0.1", port, &to);
    uv_buf_t b = uv_buf_init((char *)pkt, (unsigned)n);
    HK_CHECK(uv_udp_try_send(&s_peer, &b, 1, (const struct sockaddr *)&to) == (int)n, "send");
}

static void s_send_raw(int port, const char *from_ip, const void *data, size_t len) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a, to;
    uv_ip4_addr(from_ip, 0, &a);
    HK_CHECK(bind(fd, (struct sockaddr *)&a, sizeof a) == 0, "bind %s: %s", from_ip,
             strerror(errno));
    uv_ip4_addr("127.0.0.1", port, &to);
    HK_CHECK(sendto(fd, data, len, 0, (struct sockaddr *)&to, sizeof to) == (ssize_t)len, "sendto");
    close(fd);
}

/* A key press as a phone sends it: updates with growing duration, then three end packets. */
static void s_press(int port, int event, uint32_t ts, uint32_t ssrc, uint16_t *seq, int pt) {
    for (int i = 1; i <= 3; i++) {
        s_send_event(port, event, 0, (uint16_t)(160 * i), ts, ssrc, (*seq)++, pt, 0);
    }
    for (int i = 0; i < 3; i++) {
        s_send_event(port, event, 1, 640, ts, ssrc, (*seq)++, pt, 0);
    }
}

static ph_rtp_t *s_destroy_me;

static void s_digit_destroy(ph_rtp_t *rtp, char digit, void *arg) {
    s_on_digit(rtp, digit, arg);
    ph_rtp_destroy(&s_destroy_me);
}

static void s_test_dtmf(void) {
    ph_rtp_t *rtp = s_endpoint();
    int port = ph_rtp_port(rtp);
    HK_CHECK(ph_rtp_set_remote(rtp, "127.0.0.1", s_peer_port, 0, 96) == 0, "set remote");
    ph_rtp_on_digit(rtp, s_on_digit, NULL);
    s_reset();
    uint16_t seq = 100;
    s_press(port, 1, 8000, 77, &seq, 96);
    s_run(NULL, 30);
    HK_CHECK_STR_EQ(s_digits, "1");
    s_press(port, 11, 9600, 77, &seq, 96);
    s_press(port, 1, 11200, 77, &seq, 96);                  /* the same key again is a new press */
    s_press(port, 16, 12800, 77, &seq, 96);                 /* flash: not a digit */
    s_press(port, 5, 14400, 77, &seq, 101);                 /* wrong payload type */
    s_send_event(port, 0, 0, 160, 16000, 77, seq++, 96, 1); /* CSRC + extension + padding */
    s_send_event(port, 0, 1, 320, 16000, 77, seq++, 96, 1);
    s_run(NULL, 30);
    HK_CHECK_STR_EQ(s_digits, "1#10");

    /* garbage and strangers */
    static const uint8_t junk1[] = {0x80, 96, 0, 1}; /* short */
    static const uint8_t junk2[] = {0x40, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 9, 0, 0, 160}; /* v1 */
    static const uint8_t junk3[] = {0x9F, 96, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1, 9, 0, 0, 160}; /* CCs */
    static const uint8_t junk4[] = {0xA0, 96, 0, 1, 0, 0, 0, 3, 0, 0, 0, 1, 9, 0, 0, 0}; /* pad 0 */
    static const uint8_t junk5[] = {0x90, 96, 0, 1, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0xFF, 0xFF};
    static const uint8_t stranger[] = {0x80, 96, 0, 1, 0, 0, 0, 5, 0, 0, 0, 1, 9, 0, 0, 160};
    ph_rtp_stats_t st0, st;
    ph_rtp_stats(rtp, &st0);
    s_send_raw(port, "127.0.0.1", junk1, sizeof junk1);
    s_send_raw(port, "127.0.0.1", junk2, sizeof junk2);
    s_send_raw(port, "127.0.0.1", junk3, sizeof junk3);
    s_send_raw(port, "127.0.0.1", junk4, sizeof junk4);
    s_send_raw(port, "127.0.0.1", junk5, sizeof junk5);
    s_send_raw(port, "127.0.0.2", stranger, sizeof stranger);
    s_run(NULL, 30);
    ph_rtp_stats(rtp, &st);
    HK_CHECK_STR_EQ(s_digits, "1#10");
    HK_CHECK(st.bad - st0.bad == 6, "%llu bad datagrams counted",
             (unsigned long long)(st.bad - st0.bad));
    HK_CHECK(st.digits == 4, "%llu digits counted", (unsigned long long)st.digits);

    /* the digit callback may destroy the endpoint */
    s_destroy_me = rtp;
    ph_rtp_on_digit(rtp, s_digit_destroy, NULL);
    s_press(port, 9, 20000, 78, &seq, 96);
    s_run(NULL, 40);
    HK_CHECK(s_destroy_me == NULL, "not destroyed");
    HK_CHECK_STR_EQ(s_digits, "1#109");
}

static void s_done_destroy(ph_rtp_t *rtp, int completed, void *arg) {
    s_on_done(rtp, completed, arg);
    ph_rtp_destroy(&s_destroy_me);
}

/* The done callback may destroy the endpoint; so may the owner in the middle of playback. */
static void s_test_destroy(void) {
    static uint8_t audio[480];
    memset(audio, 0x22, sizeof audio);
    ph_audio_t piece = {audio, sizeof audio};
    s_destroy_me = s_endpoint();
    HK_CHECK(ph_rtp_set_remote(s_destroy_me, "127.0.0.1", s_peer_port, 0, -1) == 0, "remote");
    s_reset();
    HK_CHECK(ph_rtp_play(s_destroy_me, &piece, 1, s_done_destroy, NULL) == 0, "play");
    s_run(&s_done_calls, 2000);
    HK_CHECK(s_done_calls == 1 && s_destroy_me == NULL, "destroyed in done");
    s_run(NULL, 20);
    HK_CHECK_INT_EQ(s_npkts, 3);

    ph_rtp_t *rtp = s_endpoint();
    HK_CHECK(ph_rtp_set_remote(rtp, "127.0.0.1", s_peer_port, 0, -1) == 0, "remote");
    s_reset();
    HK_CHECK(ph_rtp_play(rtp, &piece, 1, s_on_done, NULL) == 0, "play");
    ph_rtp_destroy(&rtp);
    s_run(NULL, 100);
    HK_CHECK(s_done_calls == 0, "done after destroy");
    HK_CHECK(s_npkts == 1, "%zu packets after destroy", s_npkts);
}

int main(void) {
    s_loop = uv_default_loop();
    int base = s_find_range();
    HK_CHECK(base > 0, "no free UDP ports");
    s_lo = base;
    s_hi = base + 3;
    uv_udp_init(s_loop, &s_peer);
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", 0, &a);
    HK_CHECK(uv_udp_bind(&s_peer, (const struct sockaddr *)&a, 0) == 0, "peer bind");
    struct sockaddr_in got;
    int len = sizeof got;
    uv_udp_getsockname(&s_peer, (struct sockaddr *)&got, &len);
    s_peer_port = ntohs(got.sin_port);
    uv_udp_recv_start(&s_peer, s_alloc, s_peer_recv);

    s_test_range();
    s_test_play();
    s_test_drift();
    s_test_replace();
    s_test_dtmf();
    s_test_destroy();

    uv_close((uv_handle_t *)&s_peer, NULL);
    uv_run(s_loop, UV_RUN_DEFAULT);
    HK_CHECK(uv_loop_close(s_loop) == 0, "handles left open");
    printf("test_ph_rtp: ok\n");
    return HK_TEST_EXIT();
}
