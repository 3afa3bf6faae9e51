/* ph_sdp: building and parsing session descriptions (RFC 4566) for one audio stream. The
 * parser walks the text line by line without copying it whole; every field is length
 * checked, numbers are range checked and addresses must be IP literals. */
#include "ph_sdp.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define S_LINE_MAX 1024

typedef struct {
    const char *p; /* the line's value (after "x=") */
    size_t len;
    char type;
} s_line_t;

typedef struct {
    int in_audio;   /* 1 while the lines belong to the chosen audio m= */
    int seen_audio; /* the chosen audio m= was found */
    int seen_media; /* any m= seen (ends the session level) */
    int sess_c;     /* session-level c= seen */
    char sess_addr[PH_SDP_ADDR_LEN];
    int sess_ipv6;
    int media_c;
    int sess_dir; /* -1: not given */
    int media_dir;
} s_state_t;

const char *ph_sdp_dir_name(ph_sdp_dir_t dir) {
    switch (dir) {
    case PH_SDP_SENDONLY:
        return "sendonly";
    case PH_SDP_RECVONLY:
        return "recvonly";
    case PH_SDP_INACTIVE:
        return "inactive";
    case PH_SDP_SENDRECV:
    default:
        return "sendrecv";
    }
}

/* Splits the value into space-separated tokens (at most max); returns the count or -1 when
 * there are more or a token is empty (double blank). */
static int s_tokens(const char *p, size_t len, const char **tok, size_t *tlen, int max) {
    int n = 0;
    size_t i = 0;
    while (i < len) {
        size_t start = i;
        while (i < len && p[i] != ' ') {
            i++;
        }
        if (i == start || n == max) {
            return -1;
        }
        tok[n] = p + start;
        tlen[n] = i - start;
        n++;
        if (i < len) {
            i++; /* the blank */
            if (i == len) {
                return -1; /* trailing blank */
            }
        }
    }
    return n;
}

/* Parses a decimal number of at most 20 digits that fits max. Returns 0 or -1. */
static int s_number(const char *p, size_t len, uint64_t max, uint64_t *out) {
    uint64_t v = 0;
    if (len == 0 || len > 20) {
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return -1;
        }
        uint64_t d = (uint64_t)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return -1;
        }
        v = v * 10 + d;
    }
    if (v > max) {
        return -1;
    }
    *out = v;
    return 0;
}

static int s_token_is(const char *p, size_t len, const char *word) {
    return strlen(word) == len && strncmp(p, word, len) == 0;
}

/* c=IN IP4 addr[/ttl[/n]] or c=IN IP6 addr[/n]: the address must be an IP literal. */
static int s_connection(const s_line_t *l, char *addr, int *ipv6, const char **why) {
    const char *tok[3];
    size_t tlen[3];
    if (s_tokens(l->p, l->len, tok, tlen, 3) != 3 || !s_token_is(tok[0], tlen[0], "IN")) {
        *why = "bad c= line";
        return -1;
    }
    int v6 = s_token_is(tok[1], tlen[1], "IP6");
    if (!v6 && !s_token_is(tok[1], tlen[1], "IP4")) {
        *why = "c= address type is not IP4 or IP6";
        return -1;
    }
    size_t alen = tlen[2];
    const char *slash = memchr(tok[2], '/', alen);
    if (slash) {
        alen = (size_t)(slash - tok[2]);
    }
    if (alen == 0 || alen >= PH_SDP_ADDR_LEN) {
        *why = "bad c= address";
        return -1;
    }
    char buf[PH_SDP_ADDR_LEN];
    memcpy(buf, tok[2], alen);
    buf[alen] = '\0';
    unsigned char bin[16];
    if (inet_pton(v6 ? AF_INET6 : AF_INET, buf, bin) != 1) {
        *why = "c= address is not an IP literal";
        return -1;
    }
    memcpy(addr, buf, alen + 1);
    *ipv6 = v6;
    return 0;
}

/* o=user sess-id sess-version IN IP4 addr */
static int s_origin(const s_line_t *l, ph_sdp_media_t *out, const char **why) {
    const char *tok[6];
    size_t tlen[6];
    if (s_tokens(l->p, l->len, tok, tlen, 6) != 6 ||
        s_number(tok[1], tlen[1], UINT64_MAX, &out->sess_id) < 0 ||
        s_number(tok[2], tlen[2], UINT64_MAX, &out->sess_version) < 0) {
        *why = "bad o= line";
        return -1;
    }
    return 0;
}

/* m=<media> <port>[/<n>] <proto> <fmt> ... : the first m=audio is ours. */
static int s_media(const s_line_t *l, ph_sdp_media_t *out, s_state_t *st, const char **why) {
    const char *tok[4 + PH_SDP_MAX_PTS];
    size_t tlen[4 + PH_SDP_MAX_PTS];
    int n = s_tokens(l->p, l->len, tok, tlen, 3 + PH_SDP_MAX_PTS);
    st->seen_media = 1;
    st->in_audio = 0;
    if (n < 4) {
        *why = n < 0 ? "bad m= line (or too many formats)" : "bad m= line";
        return -1;
    }
    if (st->seen_audio || !s_token_is(tok[0], tlen[0], "audio")) {
        return 0; /* another stream: ignored with its attributes */
    }
    size_t plen = tlen[1];
    const char *slash = memchr(tok[1], '/', plen);
    if (slash) {
        plen = (size_t)(slash - tok[1]);
    }
    uint64_t port;
    if (s_number(tok[1], plen, 65535, &port) < 0) {
        *why = "bad m= port";
        return -1;
    }
    if (!s_token_is(tok[2], tlen[2], "RTP/AVP") && !s_token_is(tok[2], tlen[2], "RTP/AVPF")) {
        *why = "m=audio transport is not RTP/AVP";
        return -1;
    }
    out->npts = 0;
    for (int i = 3; i < n; i++) {
        uint64_t pt;
        if (s_number(tok[i], tlen[i], 127, &pt) < 0) {
            *why = "bad m= payload type";
            return -1;
        }
        out->pts[out->npts++] = (int)pt;
    }
    out->port = (int)port;
    st->seen_audio = 1;
    st->in_audio = 1;
    return 0;
}

static int s_has_pt(const ph_sdp_media_t *m, int pt) {
    for (size_t i = 0; i < m->npts; i++) {
        if (m->pts[i] == pt) {
            return 1;
        }
    }
    return 0;
}

/* a=rtpmap:<pt> <encoding>/<rate>[/<channels>] : only telephone-event/8000 matters (never on
 * the static G.711 payload types, which keep their meaning). */
static int s_rtpmap(const char *p, size_t len, ph_sdp_media_t *out, const char **why) {
    const char *sp = memchr(p, ' ', len);
    uint64_t pt;
    if (!sp || s_number(p, (size_t)(sp - p), 127, &pt) < 0) {
        *why = "bad a=rtpmap";
        return -1;
    }
    const char *enc = sp + 1;
    size_t elen = len - (size_t)(enc - p);
    const char *name = "telephone-event/8000";
    size_t nlen = strlen(name);
    if (elen >= nlen && strncasecmp(enc, name, nlen) == 0 && (elen == nlen || enc[nlen] == '/') &&
        s_has_pt(out, (int)pt) && out->dtmf_pt < 0 && pt != PH_SDP_PT_PCMU &&
        pt != PH_SDP_PT_PCMA) {
        out->dtmf_pt = (int)pt;
    }
    return 0;
}

static int s_direction(const char *p, size_t len) {
    if (s_token_is(p, len, "sendrecv")) {
        return PH_SDP_SENDRECV;
    }
    if (s_token_is(p, len, "sendonly")) {
        return PH_SDP_SENDONLY;
    }
    if (s_token_is(p, len, "recvonly")) {
        return PH_SDP_RECVONLY;
    }
    if (s_token_is(p, len, "inactive")) {
        return PH_SDP_INACTIVE;
    }
    return -1;
}

static int s_attribute(const s_line_t *l, ph_sdp_media_t *out, s_state_t *st, const char **why) {
    int dir = s_direction(l->p, l->len);
    if (dir >= 0) {
        if (!st->seen_media) {
            st->sess_dir = dir;
        } else if (st->in_audio) {
            st->media_dir = dir;
        }
        return 0;
    }
    if (!st->in_audio) {
        return 0;
    }
    if (l->len > 7 && strncmp(l->p, "rtpmap:", 7) == 0) {
        return s_rtpmap(l->p + 7, l->len - 7, out, why);
    }
    if (l->len > 6 && strncmp(l->p, "ptime:", 6) == 0) {
        uint64_t ms;
        if (s_number(l->p + 6, l->len - 6, 1000, &ms) < 0) {
            *why = "bad a=ptime";
            return -1;
        }
        out->ptime = (int)ms;
    }
    return 0;
}

static int s_line(const s_line_t *l, ph_sdp_media_t *out, s_state_t *st, const char **why) {
    switch (l->type) {
    case 'o':
        return s_origin(l, out, why);
    case 'c':
        if (!st->seen_media) {
            st->sess_c = 1;
            return s_connection(l, st->sess_addr, &st->sess_ipv6, why);
        }
        if (st->in_audio) {
            st->media_c = 1;
            return s_connection(l, out->addr, &out->ipv6, why);
        }
        return 0;
    case 'm':
        return s_media(l, out, st, why);
    case 'a':
        return s_attribute(l, out, st, why);
    default:
        return 0; /* s=, t=, b=, i=, u=, e=, p=, z=, k=, r= */
    }
}

int ph_sdp_parse(const char *text, size_t len, ph_sdp_media_t *out, const char **why) {
    const char *reason = NULL;
    s_state_t st = {.sess_dir = -1, .media_dir = -1};
    memset(out, 0, sizeof *out);
    out->dtmf_pt = -1;
    int rc = -1;
    size_t i = 0;
    int lines = 0;
    if (!text || len == 0 || len > PH_SDP_MAX_LEN) {
        reason = "empty or oversize description";
        goto done;
    }
    while (i < len) {
        size_t start = i;
        while (i < len && text[i] != '\n') {
            i++;
        }
        size_t end = i;
        if (i < len) {
            i++; /* the LF */
        }
        if (end > start && text[end - 1] == '\r') {
            end--;
        }
        if (end == start) {
            if (i >= len) {
                break; /* a final empty line */
            }
            reason = "empty line";
            goto done;
        }
        if (end - start > S_LINE_MAX) {
            reason = "line too long";
            goto done;
        }
        for (size_t k = start; k < end; k++) {
            unsigned char ch = (unsigned char)text[k];
            if (ch < 0x20 && ch != '\t') {
                reason = "control character";
                goto done;
            }
        }
        s_line_t l = {.type = text[start], .p = text + start + 2, .len = end - start - 2};
        if (end - start < 2 || text[start + 1] != '=' || l.type < 'a' || l.type > 'z') {
            reason = "line is not <type>=<value>";
            goto done;
        }
        if (lines++ == 0 && (l.type != 'v' || !s_token_is(l.p, l.len, "0"))) {
            reason = "first line is not v=0";
            goto done;
        }
        if (s_line(&l, out, &st, &reason) < 0) {
            goto done;
        }
    }
    if (lines == 0) {
        reason = "empty description";
        goto done;
    }
    if (!st.seen_audio) {
        reason = "no audio stream";
        goto done;
    }
    if (!st.media_c) {
        if (!st.sess_c && out->port != 0) {
            reason = "no c= for the audio stream";
            goto done;
        }
        memcpy(out->addr, st.sess_addr, sizeof out->addr);
        out->ipv6 = st.sess_ipv6;
    }
    out->dir = st.media_dir >= 0  ? (ph_sdp_dir_t)st.media_dir
               : st.sess_dir >= 0 ? (ph_sdp_dir_t)st.sess_dir
                                  : PH_SDP_SENDRECV;
    rc = 0;
done:
    if (why) {
        *why = rc == 0 ? NULL : reason;
    }
    return rc;
}

int ph_sdp_choose_codec(const ph_sdp_media_t *remote) {
    for (size_t i = 0; i < remote->npts; i++) {
        if (remote->pts[i] == PH_SDP_PT_PCMU || remote->pts[i] == PH_SDP_PT_PCMA) {
            return remote->pts[i];
        }
    }
    return -1;
}

/* Appends formatted text at *off; returns 0 or -1 when it does not fit. */
static int s_put(char *buf, size_t cap, size_t *off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int s_put(char *buf, size_t cap, size_t *off, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *off, cap - *off, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap - *off) {
        return -1;
    }
    *off += (size_t)n;
    return 0;
}

int ph_sdp_build(const ph_sdp_local_t *local, char *buf, size_t cap) {
    unsigned char bin[16];
    int v6;
    size_t off = 0;
    if (!buf || cap == 0 || !local->addr || local->port < 0 || local->port > 65535 ||
        local->ncodecs == 0 || local->ncodecs > 2 || local->dtmf_pt > 127 ||
        local->dtmf_pt == PH_SDP_PT_PCMU || local->dtmf_pt == PH_SDP_PT_PCMA) {
        return -1;
    }
    for (size_t i = 0; i < local->ncodecs; i++) {
        if (local->codecs[i] != PH_SDP_PT_PCMU && local->codecs[i] != PH_SDP_PT_PCMA) {
            return -1;
        }
    }
    if (inet_pton(AF_INET, local->addr, bin) == 1) {
        v6 = 0;
    } else if (inet_pton(AF_INET6, local->addr, bin) == 1) {
        v6 = 1;
    } else {
        return -1;
    }
    const char *ip = v6 ? "IP6" : "IP4";
    if (s_put(buf, cap, &off,
              "v=0\r\no=hetki %llu %llu IN %s %s\r\ns=hetki\r\nc=IN %s %s\r\nt=0 0\r\n"
              "m=audio %d RTP/AVP",
              (unsigned long long)local->sess_id, (unsigned long long)local->sess_version, ip,
              local->addr, ip, local->addr, local->port) < 0) {
        return -1;
    }
    for (size_t i = 0; i < local->ncodecs; i++) {
        if (s_put(buf, cap, &off, " %d", local->codecs[i]) < 0) {
            return -1;
        }
    }
    if (local->dtmf_pt >= 0 && s_put(buf, cap, &off, " %d", local->dtmf_pt) < 0) {
        return -1;
    }
    if (s_put(buf, cap, &off, "\r\n") < 0) {
        return -1;
    }
    for (size_t i = 0; i < local->ncodecs; i++) {
        const char *name = local->codecs[i] == PH_SDP_PT_PCMU ? "PCMU" : "PCMA";
        if (s_put(buf, cap, &off, "a=rtpmap:%d %s/8000\r\n", local->codecs[i], name) < 0) {
            return -1;
        }
    }
    if (local->dtmf_pt >= 0 &&
        s_put(buf, cap, &off, "a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-15\r\n",
              local->dtmf_pt, local->dtmf_pt) < 0) {
        return -1;
    }
    if (s_put(buf, cap, &off, "a=ptime:20\r\na=%s\r\n", ph_sdp_dir_name(local->dir)) < 0) {
        return -1;
    }
    return (int)off;
}

int ph_sdp_answer(const ph_sdp_media_t *remote, const ph_sdp_local_t *local, char *buf,
                  size_t cap) {
    int codec = ph_sdp_choose_codec(remote);
    if (codec < 0) {
        return -1;
    }
    ph_sdp_local_t ans = *local;
    ans.codecs = &codec;
    ans.ncodecs = 1;
    ans.dtmf_pt = remote->dtmf_pt;
    switch (remote->dir) {
    case PH_SDP_SENDONLY:
        ans.dir = PH_SDP_RECVONLY;
        break;
    case PH_SDP_RECVONLY:
        ans.dir = PH_SDP_SENDONLY;
        break;
    case PH_SDP_INACTIVE:
        ans.dir = PH_SDP_INACTIVE;
        break;
    case PH_SDP_SENDRECV:
    default:
        ans.dir = PH_SDP_SENDRECV;
        break;
    }
    if (remote->port == 0) {
        ans.port = 0; /* a refused stream stays refused */
    }
    return ph_sdp_build(&ans, buf, cap);
}
