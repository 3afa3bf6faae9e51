/* ph_sdp: the Session Description Protocol (RFC 4566) as hetki-phone needs it: build an offer
 * or an answer for one audio stream (PCMU 0, PCMA 8, telephone-event 101/8000 with 0-15),
 * parse a remote description (c=, m=audio, rtpmap, fmtp, direction) and choose the codec.
 * Parsing is strict and bounded: bad input gives -1 and a reason, never a crash. */
#ifndef PH_SDP_H
#define PH_SDP_H

#include <stddef.h>
#include <stdint.h>

#define PH_SDP_PT_PCMU 0
#define PH_SDP_PT_PCMA 8
#define PH_SDP_PT_DTMF 101 /* our telephone-event payload type in what we build */
#define PH_SDP_MAX_PTS 32  /* payload types kept from one m= line */
#define PH_SDP_ADDR_LEN 64 /* holds an IPv4/IPv6 literal or a host name */
#define PH_SDP_MAX_LEN 65536

typedef enum {
    PH_SDP_SENDRECV = 0,
    PH_SDP_SENDONLY,
    PH_SDP_RECVONLY,
    PH_SDP_INACTIVE
} ph_sdp_dir_t;

/* What a remote description says about its (first) audio stream. */
typedef struct {
    char addr[PH_SDP_ADDR_LEN]; /* media c= (else session c=) address; "0.0.0.0" = on hold */
    int ipv6;                   /* 1 when c= was IN IP6 */
    int port;                   /* m=audio port; 0 means the stream was refused */
    int pts[PH_SDP_MAX_PTS];    /* payload types in m= order (preference order) */
    size_t npts;
    int dtmf_pt;           /* payload type of telephone-event/8000, or -1 */
    int ptime;             /* a=ptime in ms, or 0 when absent */
    ph_sdp_dir_t dir;      /* media direction (media level over session level) */
    uint64_t sess_id;      /* o= sess-id */
    uint64_t sess_version; /* o= sess-version */
} ph_sdp_media_t;

/* What we describe about our own stream. */
typedef struct {
    const char *addr;      /* our media address (IPv4 or IPv6 literal) */
    int port;              /* our RTP port; 0 refuses the stream */
    const int *codecs;     /* payload types to list: PH_SDP_PT_PCMU and/or PH_SDP_PT_PCMA */
    size_t ncodecs;        /* an answer lists exactly one */
    int dtmf_pt;           /* telephone-event payload type to list, or -1 for none */
    ph_sdp_dir_t dir;      /* a=sendrecv / sendonly / recvonly / inactive */
    uint64_t sess_id;      /* stays the same for the whole call */
    uint64_t sess_version; /* increases with each new description in the call */
} ph_sdp_local_t;

/* Parses text (len bytes, need not be NUL terminated) into out. Returns 0, or -1 with a short
 * static reason in *why (why may be NULL) when the description is malformed, oversize or has
 * no audio stream. A refused audio stream (port 0) parses fine with out->port 0. */
int ph_sdp_parse(const char *text, size_t len, ph_sdp_media_t *out, const char **why);

/* The codec to use with remote: the first of PCMU/PCMA in the remote's order, or -1. */
int ph_sdp_choose_codec(const ph_sdp_media_t *remote);

/* Writes local as an SDP body (CRLF lines, NUL terminated) into buf. Returns the length, or
 * -1 when buf is too small or local is invalid. */
int ph_sdp_build(const ph_sdp_local_t *local, char *buf, size_t cap);

/* Builds our answer to the offer remote: the codec chosen from the offer, telephone-event
 * with the offer's payload type when it offered one, and the direction that mirrors the
 * offer's (sendonly -> recvonly, ...). local's codecs, dtmf_pt and dir are ignored. Returns
 * the length, or -1 when no common codec exists (answer 488) or buf is too small. */
int ph_sdp_answer(const ph_sdp_media_t *remote, const ph_sdp_local_t *local, char *buf, size_t cap);

/* The name of dir as an SDP attribute ("sendrecv", ...). */
const char *ph_sdp_dir_name(ph_sdp_dir_t dir);

#endif
