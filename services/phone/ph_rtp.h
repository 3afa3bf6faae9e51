/* ph_rtp: one RTP endpoint (RFC 3550) on the libuv loop: a UDP port taken from a range,
 * announcements sent as G.711 in 20 ms packets (160 samples) paced against the monotonic
 * clock, and RFC 4733 telephone-events received as one digit callback per event. Audio is
 * given as mu-law; the endpoint converts to A-law when the remote chose PCMA. */
#ifndef PH_RTP_H
#define PH_RTP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* A piece of 8 kHz mu-law audio (e.g. a prompt clip). The bytes are borrowed: they must
 * stay valid while they are being played (embedded clips always do). */
typedef struct {
    const uint8_t *data;
    size_t len;
} ph_audio_t;

typedef struct ph_rtp_t ph_rtp_t;

/* A telephone-event arrived: digit is one of "0123456789*#ABCD". Once per event. */
typedef void(ph_rtp_digit_fn)(ph_rtp_t *rtp, char digit, void *arg);

/* Playback ended: completed is 1 when every packet was sent, 0 when stopped or replaced. */
typedef void(ph_rtp_done_fn)(ph_rtp_t *rtp, int completed, void *arg);

typedef struct {
    uint64_t sent;          /* RTP packets sent */
    uint64_t received;      /* RTP packets received (any payload) */
    uint64_t digits;        /* telephone-events reported */
    uint64_t bad;           /* datagrams dropped as not RTP or from an unexpected source */
    uint64_t late;          /* packets sent more than one packet time behind schedule */
    uint64_t first_sent_ns; /* uv_hrtime of the first packet sent, 0 before */
} ph_rtp_stats_t;

/* Parses a port range "LO-HI" (1024 <= LO <= HI <= 65535, at least two ports). Returns 0 or
 * -1. */
int ph_rtp_parse_range(const char *text, int *lo, int *hi);

/* Opens an endpoint on bind_ip (IPv4 or IPv6 literal) at a free even port within [lo, hi],
 * starting after the port the previous endpoint of the process took. Returns NULL when none
 * is free or bind_ip is invalid. */
ph_rtp_t *ph_rtp_new(uv_loop_t *loop, const char *bind_ip, int lo, int hi);

/* Closes the socket and stops playback (the done callback is not called); the memory is
 * released once libuv closed the handles. Nulls the caller's pointer. Safe from callbacks. */
void ph_rtp_destroy(ph_rtp_t **self_p);

/* The local port the endpoint is bound to. */
int ph_rtp_port(const ph_rtp_t *self);

/* Sets where to send: ip:port with payload type pt (0 PCMU or 8 PCMA) and the remote's
 * telephone-event payload type (-1 when none). Packets from another address than ip are
 * dropped. Returns 0, or -1 for a bad address or payload type. */
int ph_rtp_set_remote(ph_rtp_t *self, const char *ip, int port, int pt, int dtmf_pt);

/* Registers the digit callback (NULL to stop reporting). */
void ph_rtp_on_digit(ph_rtp_t *self, ph_rtp_digit_fn *fn, void *arg);

/* Starts sending n pieces of audio back to back (a previous playback is replaced: its done
 * callback gets 0). The array is copied; the audio bytes are borrowed. The first packet goes
 * out at once with the marker bit; a short last packet is padded with silence. done (may be
 * NULL) is called once when playback ends. Returns 0, or -1 when no remote is set or n is 0. */
int ph_rtp_play(ph_rtp_t *self, const ph_audio_t *pieces, size_t n, ph_rtp_done_fn *done,
                void *arg);

/* Stops playback (done gets 0). No-op when nothing plays. */
void ph_rtp_stop(ph_rtp_t *self);

/* 1 while a playback is running. */
int ph_rtp_playing(const ph_rtp_t *self);

/* Counters of this endpoint. */
void ph_rtp_stats(const ph_rtp_t *self, ph_rtp_stats_t *out);

/* G.711: one mu-law byte as an A-law byte (for PCMA). */
uint8_t ph_rtp_ulaw_to_alaw(uint8_t u);

#endif
