/* test_ph_sdp: hetki-phone's SDP: parsing what real phones and sipp send (session/media c=,
 * rtpmap, telephone-event, directions, IPv6, LF-only lines), refusing malformed text with a
 * reason, building offers and answers that parse back, and surviving every truncation and
 * single-byte mutation of a valid description (run under the sanitizers). */
#include "hk_test.h"
#include "ph_sdp.h"

#include <stdint.h>

static const char *s_sipp_offer = "v=0\r\n"
                                  "o=user1 53655765 2353687637 IN IP4 127.0.0.1\r\n"
                                  "s=-\r\n"
                                  "c=IN IP4 127.0.0.1\r\n"
                                  "t=0 0\r\n"
                                  "m=audio 6000 RTP/AVP 0\r\n"
                                  "a=rtpmap:0 PCMU/8000\r\n";

static const char *s_phone_offer = "v=0\r\n"
                                   "o=- 1 2 IN IP4 10.0.0.9\r\n"
                                   "s=call\r\n"
                                   "c=IN IP4 10.0.0.9\r\n"
                                   "t=0 0\r\n"
                                   "a=sendonly\r\n"
                                   "m=video 7000 RTP/AVP 96\r\n"
                                   "c=IN IP4 10.0.0.7\r\n"
                                   "a=rtpmap:96 telephone-event/8000\r\n"
                                   "a=recvonly\r\n"
                                   "m=audio 40002 RTP/AVP 18 8 0 96\r\n"
                                   "c=IN IP4 192.168.1.20\r\n"
                                   "a=rtpmap:18 G729/8000\r\n"
                                   "a=rtpmap:8 PCMA/8000\r\n"
                                   "a=rtpmap:0 PCMU/8000\r\n"
                                   "a=rtpmap:97 telephone-event/8000\r\n"
                                   "a=rtpmap:96 TELEPHONE-EVENT/8000\r\n"
                                   "a=fmtp:96 0-16\r\n"
                                   "a=ptime:30\r\n"
                                   "m=audio 40004 RTP/AVP 0\r\n"
                                   "a=inactive\r\n";

static ph_sdp_media_t s_parse_ok(const char *text) {
    ph_sdp_media_t m;
    const char *why = "unset";
    int rc = ph_sdp_parse(text, strlen(text), &m, &why);
    HK_CHECK(rc == 0, "parse failed: %s\n%s", why ? why : "(null)", text);
    HK_CHECK(why == NULL, "why is set on success");
    return m;
}

static void s_parse_bad(const char *text, const char *want_why) {
    ph_sdp_media_t m;
    const char *why = NULL;
    int rc = ph_sdp_parse(text, strlen(text), &m, &why);
    HK_CHECK(rc == -1, "parsed although malformed (%s):\n%s", want_why, text);
    HK_CHECK(why != NULL, "no reason for %s", want_why);
    HK_CHECK_CONTAINS(why, want_why);
}

static void s_test_sipp(void) {
    ph_sdp_media_t m = s_parse_ok(s_sipp_offer);
    HK_CHECK_STR_EQ(m.addr, "127.0.0.1");
    HK_CHECK_INT_EQ(m.ipv6, 0);
    HK_CHECK_INT_EQ(m.port, 6000);
    HK_CHECK_INT_EQ(m.npts, 1);
    HK_CHECK_INT_EQ(m.pts[0], 0);
    HK_CHECK_INT_EQ(m.dtmf_pt, -1);
    HK_CHECK_INT_EQ(m.dir, PH_SDP_SENDRECV);
    HK_CHECK(m.sess_id == 53655765ULL && m.sess_version == 2353687637ULL, "o= numbers");
    HK_CHECK_INT_EQ(ph_sdp_choose_codec(&m), PH_SDP_PT_PCMU);
}

static void s_test_phone(void) {
    ph_sdp_media_t m = s_parse_ok(s_phone_offer);
    /* the first audio stream, its own c=, the video's attributes ignored */
    HK_CHECK_STR_EQ(m.addr, "192.168.1.20");
    HK_CHECK_INT_EQ(m.port, 40002);
    HK_CHECK_INT_EQ(m.npts, 4);
    HK_CHECK_INT_EQ(m.pts[0], 18);
    HK_CHECK_INT_EQ(m.dtmf_pt, 96); /* 97 is not in the m= line; case-insensitive name */
    HK_CHECK_INT_EQ(m.ptime, 30);
    HK_CHECK_INT_EQ(m.dir, PH_SDP_SENDONLY); /* session level (the video's recvonly ignored) */
    HK_CHECK_INT_EQ(ph_sdp_choose_codec(&m), PH_SDP_PT_PCMA);

    /* LF-only lines, no final newline, IPv6, media-level direction over session level */
    const char *v6 = "v=0\no=- 7 7 IN IP6 ::1\ns=-\nc=IN IP6 2001:db8::5\nt=0 0\na=sendonly\n"
                     "m=audio 5004 RTP/AVP 8 101\na=rtpmap:101 telephone-event/8000\na=sendrecv";
    m = s_parse_ok(v6);
    HK_CHECK_STR_EQ(m.addr, "2001:db8::5");
    HK_CHECK_INT_EQ(m.ipv6, 1);
    HK_CHECK_INT_EQ(m.dtmf_pt, 101);
    HK_CHECK_INT_EQ(m.dir, PH_SDP_SENDRECV);

    /* multicast-style ttl suffix, port count suffix */
    m = s_parse_ok("v=0\r\nc=IN IP4 224.2.1.1/127\r\nm=audio 49170/2 RTP/AVP 0\r\n");
    HK_CHECK_STR_EQ(m.addr, "224.2.1.1");
    HK_CHECK_INT_EQ(m.port, 49170);

    /* a refused stream needs no address */
    m = s_parse_ok("v=0\r\nm=audio 0 RTP/AVP 0\r\n");
    HK_CHECK_INT_EQ(m.port, 0);

    /* hold */
    m = s_parse_ok("v=0\r\nc=IN IP4 0.0.0.0\r\nm=audio 4000 RTP/AVP 0\r\na=inactive\r\n");
    HK_CHECK_STR_EQ(m.addr, "0.0.0.0");
    HK_CHECK_INT_EQ(m.dir, PH_SDP_INACTIVE);

    /* telephone-event claimed for a static G.711 type is ignored; the codec still works */
    m = s_parse_ok("v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 8 0\r\n"
                   "a=rtpmap:0 telephone-event/8000\r\n");
    HK_CHECK_INT_EQ(m.dtmf_pt, -1);
    HK_CHECK_INT_EQ(ph_sdp_choose_codec(&m), PH_SDP_PT_PCMA);

    /* no common codec */
    m = s_parse_ok("v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 18 9\r\n");
    HK_CHECK_INT_EQ(ph_sdp_choose_codec(&m), -1);
}

static void s_test_bad(void) {
    s_parse_bad("", "empty");
    s_parse_bad("o=- 1 1 IN IP4 1.2.3.4\r\n", "v=0");
    s_parse_bad("v=1\r\nc=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 0\r\n", "v=0");
    s_parse_bad("v=0\r\nc=IN IP4 1.2.3.4\r\n", "no audio");
    s_parse_bad("v=0\r\nm=audio 4000 RTP/AVP 0\r\n", "no c=");
    s_parse_bad("v=0\r\nc=IN IP4 pbx.example.com\r\nm=audio 4000 RTP/AVP 0\r\n", "IP literal");
    s_parse_bad("v=0\r\nc=IN IP4 1.2.3.999\r\nm=audio 4000 RTP/AVP 0\r\n", "IP literal");
    s_parse_bad("v=0\r\nc=IN IP5 1.2.3.4\r\nm=audio 4000 RTP/AVP 0\r\n", "address type");
    s_parse_bad("v=0\r\nc=IN IP4\r\nm=audio 4000 RTP/AVP 0\r\n", "bad c=");
    s_parse_bad("v=0\r\nc=IN  IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 0\r\n", "bad c=");
    s_parse_bad("v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 70000 RTP/AVP 0\r\n", "port");
    s_parse_bad("v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio -1 RTP/AVP 0\r\n", "port");
    s_parse_bad("v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 128\r\n", "payload type");
    s_parse_bad("v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP x\r\n", "payload type");
    s_parse_bad("v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/SAVP 0\r\n", "transport");
    s_parse_bad("v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP\r\n", "bad m=");
    s_parse_bad("v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 0\r\na=ptime:abc\r\n", "ptime");
    s_parse_bad("v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:x PCMU\r\n",
                "rtpmap");
    s_parse_bad("v=0\r\nhello\r\n", "<type>=<value>");
    s_parse_bad("v=0\r\nX=1\r\n", "<type>=<value>");
    s_parse_bad("v=0\r\n\r\nc=IN IP4 1.2.3.4\r\n", "empty line");
    s_parse_bad("v=0\r\no=- 1\r\n", "bad o=");
    s_parse_bad("v=0\r\no=- 1x 1 IN IP4 1.2.3.4\r\n", "bad o=");
    s_parse_bad("v=0\r\no=- 99999999999999999999 1 IN IP4 1.2.3.4\r\n", "bad o=");
    s_parse_bad("v=0\r\ns=a\x01\r\n", "control");

    /* an embedded NUL (the length says there is more) */
    const char nul[] = "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 0\0\r\n";
    ph_sdp_media_t m;
    const char *why = NULL;
    HK_CHECK(ph_sdp_parse(nul, sizeof nul - 1, &m, &why) == -1, "NUL accepted");

    /* too many formats */
    char many[2048] = "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP";
    for (int i = 0; i < PH_SDP_MAX_PTS + 1; i++) {
        snprintf(many + strlen(many), sizeof many - strlen(many), " %d", 96 + i % 30);
    }
    strcat(many, "\r\n");
    s_parse_bad(many, "too many");

    /* a line over the limit, and an oversize description */
    static char big[PH_SDP_MAX_LEN + 16];
    memset(big, 'a', sizeof big - 1);
    memcpy(big, "v=0\r\ns=", 7);
    s_parse_bad(big, "");
    HK_CHECK(ph_sdp_parse(big, 2000, &m, &why) == -1, "a 2000-byte line accepted");
    HK_CHECK_CONTAINS(why, "too long");
    HK_CHECK(ph_sdp_parse(NULL, 0, &m, &why) == -1, "NULL accepted");
}

static void s_test_build(void) {
    char buf[1024];
    int codecs[] = {PH_SDP_PT_PCMU, PH_SDP_PT_PCMA};
    ph_sdp_local_t local = {.addr = "127.0.0.1",
                            .port = 20002,
                            .codecs = codecs,
                            .ncodecs = 2,
                            .dtmf_pt = PH_SDP_PT_DTMF,
                            .dir = PH_SDP_SENDRECV,
                            .sess_id = 42,
                            .sess_version = 1};
    int n = ph_sdp_build(&local, buf, sizeof buf);
    HK_CHECK(n > 0 && (size_t)n == strlen(buf), "build returned %d", n);
    HK_CHECK_CONTAINS(buf, "m=audio 20002 RTP/AVP 0 8 101\r\n");
    HK_CHECK_CONTAINS(buf, "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n");
    HK_CHECK_CONTAINS(buf, "a=rtpmap:8 PCMA/8000\r\n");
    HK_CHECK_CONTAINS(buf, "c=IN IP4 127.0.0.1\r\n");
    HK_CHECK_CONTAINS(buf, "a=sendrecv\r\n");
    ph_sdp_media_t m = s_parse_ok(buf);
    HK_CHECK_INT_EQ(m.port, 20002);
    HK_CHECK_INT_EQ(m.npts, 3);
    HK_CHECK_INT_EQ(m.dtmf_pt, 101);
    HK_CHECK(m.sess_id == 42 && m.sess_version == 1, "o= round trip");

    /* every shorter buffer fails cleanly */
    for (size_t cap = 0; cap <= (size_t)n; cap++) {
        HK_CHECK(ph_sdp_build(&local, buf, cap) == -1, "fits in %zu of %d bytes", cap, n);
    }

    /* sendonly hold offer on IPv6 */
    local.addr = "::1";
    local.dir = PH_SDP_SENDONLY;
    local.dtmf_pt = -1;
    local.ncodecs = 1;
    n = ph_sdp_build(&local, buf, sizeof buf);
    HK_CHECK(n > 0, "IPv6 build");
    HK_CHECK_CONTAINS(buf, "c=IN IP6 ::1\r\n");
    HK_CHECK_CONTAINS(buf, "a=sendonly\r\n");
    HK_CHECK(strstr(buf, "telephone-event") == NULL, "no dtmf asked");

    /* invalid local descriptions */
    local.addr = "localhost";
    HK_CHECK(ph_sdp_build(&local, buf, sizeof buf) == -1, "host name accepted");
    local.addr = "127.0.0.1";
    int g729 = 18;
    local.codecs = &g729;
    HK_CHECK(ph_sdp_build(&local, buf, sizeof buf) == -1, "G.729 accepted");
    local.codecs = codecs;
    local.port = 70000;
    HK_CHECK(ph_sdp_build(&local, buf, sizeof buf) == -1, "port 70000 accepted");
}

static void s_test_answer(void) {
    char buf[1024];
    ph_sdp_local_t local = {.addr = "127.0.0.1", .port = 20004, .sess_id = 9, .sess_version = 9};
    ph_sdp_media_t offer = s_parse_ok(s_phone_offer);
    int n = ph_sdp_answer(&offer, &local, buf, sizeof buf);
    HK_CHECK(n > 0, "answer");
    ph_sdp_media_t ans = s_parse_ok(buf);
    HK_CHECK_INT_EQ(ans.npts, 2);
    HK_CHECK_INT_EQ(ans.pts[0], PH_SDP_PT_PCMA);
    HK_CHECK_INT_EQ(ans.dtmf_pt, 96); /* the offer's payload type */
    HK_CHECK_INT_EQ(ans.dir, PH_SDP_RECVONLY);
    HK_CHECK_INT_EQ(ans.port, 20004);

    offer = s_parse_ok(s_sipp_offer);
    n = ph_sdp_answer(&offer, &local, buf, sizeof buf);
    ans = s_parse_ok(buf);
    HK_CHECK_INT_EQ(ans.npts, 1);
    HK_CHECK_INT_EQ(ans.pts[0], PH_SDP_PT_PCMU);
    HK_CHECK_INT_EQ(ans.dtmf_pt, -1);
    HK_CHECK_INT_EQ(ans.dir, PH_SDP_SENDRECV);

    offer = s_parse_ok("v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 18\r\n");
    HK_CHECK(ph_sdp_answer(&offer, &local, buf, sizeof buf) == -1, "answered without a codec");

    offer = s_parse_ok("v=0\r\nm=audio 0 RTP/AVP 0\r\n");
    HK_CHECK(ph_sdp_answer(&offer, &local, buf, sizeof buf) > 0, "refused stream answer");
    HK_CHECK_CONTAINS(buf, "m=audio 0 RTP/AVP 0");
}

/* Every prefix and every single-byte change of a valid description: no crash, and a result
 * that is either a clean error or a parse with sane fields. */
static void s_test_mutations(void) {
    size_t len = strlen(s_phone_offer);
    char buf[1024];
    ph_sdp_media_t m;
    const char *why;
    static const char subst[] = {'\0', '\n', '\r', ' ', '=', '/', ':', '9', 'a', '\xff', '-'};
    for (size_t cut = 0; cut <= len; cut++) {
        int rc = ph_sdp_parse(s_phone_offer, cut, &m, &why);
        HK_CHECK(rc == 0 || (rc == -1 && why), "prefix %zu", cut);
    }
    uint32_t seed = 12345;
    for (size_t pos = 0; pos < len; pos++) {
        for (size_t s = 0; s < sizeof subst; s++) {
            memcpy(buf, s_phone_offer, len);
            buf[pos] = subst[s];
            int rc = ph_sdp_parse(buf, len, &m, &why);
            HK_CHECK(rc == 0 || (rc == -1 && why), "mutation at %zu", pos);
            if (rc == 0) {
                HK_CHECK(m.port >= 0 && m.port <= 65535 && m.npts <= PH_SDP_MAX_PTS &&
                             strlen(m.addr) < sizeof m.addr,
                         "sane fields after mutation at %zu", pos);
            }
        }
    }
    for (int i = 0; i < 20000; i++) {
        size_t n = 1 + (size_t)(i % 300);
        for (size_t k = 0; k < n; k++) {
            seed = seed * 1103515245u + 12345u;
            buf[k] = (char)(seed >> 16);
        }
        if (i % 2) {
            memcpy(buf, "v=0\r\n", 5 < n ? 5 : n);
        }
        int rc = ph_sdp_parse(buf, n, &m, &why);
        HK_CHECK(rc == 0 || (rc == -1 && why), "random input %d", i);
    }
}

int main(void) {
    s_test_sipp();
    s_test_phone();
    s_test_bad();
    s_test_build();
    s_test_answer();
    s_test_mutations();
    printf("test_ph_sdp: ok\n");
    return HK_TEST_EXIT();
}
