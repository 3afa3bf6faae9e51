/* test_codec: hk_codec round trips (Contact, Ack with a RoutingDecision, the other bodies) and
 * every rejection the codec promises, with the reason checked in the error text. Malformed
 * and unknown-field frames are crafted byte by byte. */
#include "hk_codec.h"
#include "hk_test.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define S_BUF_MAX (HK_CODEC_MAX_FRAME + 1024)

/* A growable byte buffer for crafting frames by hand. */
typedef struct {
    uint8_t *data;
    size_t len, cap;
} s_bytes_t;

static void s_bytes_put(s_bytes_t *b, const void *data, size_t n) {
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->data = realloc(b->data, b->cap);
        HK_CHECK(b->data, "out of memory");
    }
    if (n > 0) {
        memcpy(b->data + b->len, data, n);
    }
    b->len += n;
}

static void s_bytes_varint(s_bytes_t *b, uint64_t v) {
    while (v >= 0x80) {
        uint8_t c = (uint8_t)(v | 0x80);
        s_bytes_put(b, &c, 1);
        v >>= 7;
    }
    uint8_t c = (uint8_t)v;
    s_bytes_put(b, &c, 1);
}

/* Appends a varint field (wire type 0). */
static void s_bytes_varint_field(s_bytes_t *b, uint32_t field, uint64_t v) {
    s_bytes_varint(b, (uint64_t)field << 3);
    s_bytes_varint(b, v);
}

/* Appends a length-delimited field (wire type 2). */
static void s_bytes_len_field(s_bytes_t *b, uint32_t field, const void *data, size_t n) {
    s_bytes_varint(b, ((uint64_t)field << 3) | 2);
    s_bytes_varint(b, n);
    s_bytes_put(b, data, n);
}

/* Packs any generated message into b. */
static void s_bytes_pack(s_bytes_t *b, const ProtobufCMessage *msg) {
    size_t n = protobuf_c_message_get_packed_size(msg);
    uint8_t *tmp = malloc(n ? n : 1);
    HK_CHECK(tmp, "out of memory");
    HK_CHECK_INT_EQ(protobuf_c_message_pack(msg, tmp), n);
    s_bytes_put(b, tmp, n);
    free(tmp);
}

static void s_bytes_free(s_bytes_t *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}

/* Fixtures: a Contact with every field set, and an Ack carrying a decision. */
static Hetki__V1__CustomerIdentity s_identity = HETKI__V1__CUSTOMER_IDENTITY__INIT;
static Hetki__V1__Choices s_choices = HETKI__V1__CHOICES__INIT;
static Hetki__V1__Contact s_contact = HETKI__V1__CONTACT__INIT;
static Hetki__V1__RoutingDecision s_decision = HETKI__V1__ROUTING_DECISION__INIT;
static Hetki__V1__Ack s_ack = HETKI__V1__ACK__INIT;
static char *s_reasons[] = {"choice:urgent", "lexicon:fi:kiireellinen", "first_contact",
                            "customer:vulnerable"};

static void s_fixtures(void) {
    s_identity.phone_number = "+358401234567";
    s_identity.email_address = "asiakas@example.fi";
    s_identity.chat_session = "chat-5f2c";
    s_identity.kiosk_device = "kiosk-helsinki-3";
    s_identity.entered_phone = "040 123 4567";
    s_identity.entered_email = "Åsa@example.se";
    s_identity.display_name = "Päivi Äijälä 😀";

    s_choices.urgent = 1;
    s_choices.talk_to_person = 1;
    s_choices.callback = 1;
    s_choices.ivr_digits = "1#9*";

    s_contact.id = "01J0000000000000000000000A";
    s_contact.tenant = "acme_fi-1";
    s_contact.channel = HETKI__V1__CHANNEL__CHANNEL_KIOSK;
    s_contact.dedupe_key = "<20240101.1234@mail.example.fi>";
    s_contact.customer = &s_identity;
    s_contact.language = "fi";
    s_contact.subject = "Laskussa virhe / fel i fakturan";
    s_contact.text = "Hei! Tarvitsen apua heti. Hej, jag behöver hjälp. €100 ✓";
    s_contact.choices = &s_choices;
    s_contact.received_at_ms = 1718000000123;
    s_contact.gateway = "kiosk-host-42";

    s_decision.class_ = HETKI__V1__CONTACT_CLASS__CONTACT_CLASS_URGENT;
    s_decision.score = 87;
    s_decision.target = "callback";
    s_decision.n_reasons = sizeof s_reasons / sizeof s_reasons[0];
    s_decision.reasons = s_reasons;
    s_decision.queue = "billing";

    s_ack.contact_id = "01J0000000000000000000000A";
    s_ack.duplicate = 1;
    s_ack.error_code = HETKI__V1__ERROR_CODE__ERROR_TENANT;
    s_ack.error_text = "tenant acme_fi-1 is suspended";
    s_ack.decision = &s_decision;
    s_ack.router = "router-host-7";
}

static hk_envelope_t s_envelope(Hetki__V1__Envelope__BodyCase body, void *msg) {
    hk_envelope_t env = HETKI__V1__ENVELOPE__INIT;
    env.version = HK_CODEC_VERSION;
    env.correlation_id = "corr-0001";
    env.sent_at_ms = 1718000000456;
    env.body_case = body;
    switch (body) {
    case HETKI__V1__ENVELOPE__BODY_CONTACT:
        env.contact = msg;
        break;
    case HETKI__V1__ENVELOPE__BODY_ACK:
        env.ack = msg;
        break;
    case HETKI__V1__ENVELOPE__BODY_DECISION:
        env.decision = msg;
        break;
    case HETKI__V1__ENVELOPE__BODY_HEARTBEAT:
        env.heartbeat = msg;
        break;
    case HETKI__V1__ENVELOPE__BODY_EVENT:
        env.event = msg;
        break;
    default:
        break;
    }
    return env;
}

/* Encodes env with both encoders, checks they agree, and returns the bytes in b. */
static void s_encode(const hk_envelope_t *env, s_bytes_t *b) {
    uint8_t *out = NULL;
    size_t len = 0;
    HK_CHECK(hk_codec_encode(env, &out, &len) == 0, "hk_codec_encode refused a valid envelope");
    HK_CHECK(len > 0 && len <= HK_CODEC_MAX_FRAME, "odd encoded length %zu", len);
    static uint8_t buf[S_BUF_MAX];
    size_t n = hk_codec_encode_to(env, buf, sizeof buf);
    HK_CHECK_INT_EQ(n, len);
    HK_CHECK(memcmp(buf, out, len) == 0, "hk_codec_encode_to and hk_codec_encode disagree");
    HK_CHECK_INT_EQ(hk_codec_encode_to(env, buf, len - 1), 0);
    s_bytes_put(b, out, len);
    free(out);
}

/* Decodes data, which must be rejected with an error containing reason. */
static void s_expect_reject(const char *what, const uint8_t *data, size_t len, const char *reason) {
    char err[256] = "";
    hk_envelope_t *env = hk_codec_decode(data, len, err, sizeof err);
    if (env) {
        hk_codec_free(&env);
        HK_CHECK(0, "%s: decoded, expected a rejection (%s)", what, reason);
    }
    HK_CHECK(strstr(err, reason) != NULL, "%s: error \"%s\" does not say \"%s\"", what, err,
             reason);
}

/* Decodes data, which must be accepted; the caller frees the result. */
static hk_envelope_t *s_expect_accept(const char *what, const uint8_t *data, size_t len) {
    char err[256] = "";
    hk_envelope_t *env = hk_codec_decode(data, len, err, sizeof err);
    HK_CHECK(env, "%s: rejected: %s", what, err);
    return env;
}

static void s_check_identity(const Hetki__V1__CustomerIdentity *got) {
    HK_CHECK(got, "customer lost");
    HK_CHECK_STR_EQ(got->phone_number, s_identity.phone_number);
    HK_CHECK_STR_EQ(got->email_address, s_identity.email_address);
    HK_CHECK_STR_EQ(got->chat_session, s_identity.chat_session);
    HK_CHECK_STR_EQ(got->kiosk_device, s_identity.kiosk_device);
    HK_CHECK_STR_EQ(got->entered_phone, s_identity.entered_phone);
    HK_CHECK_STR_EQ(got->entered_email, s_identity.entered_email);
    HK_CHECK_STR_EQ(got->display_name, s_identity.display_name);
}

static void s_check_decision(const Hetki__V1__RoutingDecision *got) {
    HK_CHECK(got, "decision lost");
    HK_CHECK_INT_EQ(got->class_, s_decision.class_);
    HK_CHECK_INT_EQ(got->score, s_decision.score);
    HK_CHECK_STR_EQ(got->target, s_decision.target);
    HK_CHECK_STR_EQ(got->queue, s_decision.queue);
    HK_CHECK_INT_EQ(got->n_reasons, s_decision.n_reasons);
    for (size_t i = 0; i < got->n_reasons; i++) {
        HK_CHECK_STR_EQ(got->reasons[i], s_decision.reasons[i]);
    }
}

/* Re-encodes a decoded envelope and checks the bytes are what was decoded. */
static void s_check_reencode(const hk_envelope_t *env, const s_bytes_t *orig) {
    s_bytes_t again = {0};
    s_encode(env, &again);
    HK_CHECK(again.len == orig->len && memcmp(again.data, orig->data, orig->len) == 0,
             "re-encoding a decoded envelope changed its bytes");
    s_bytes_free(&again);
}

static void s_test_contact_round_trip(void) {
    hk_envelope_t env = s_envelope(HETKI__V1__ENVELOPE__BODY_CONTACT, &s_contact);
    s_bytes_t b = {0};
    s_encode(&env, &b);
    hk_envelope_t *got = s_expect_accept("contact", b.data, b.len);
    HK_CHECK_INT_EQ(got->version, HK_CODEC_VERSION);
    HK_CHECK_STR_EQ(got->correlation_id, "corr-0001");
    HK_CHECK_INT_EQ(got->sent_at_ms, 1718000000456);
    HK_CHECK_INT_EQ(got->body_case, HETKI__V1__ENVELOPE__BODY_CONTACT);
    const Hetki__V1__Contact *c = got->contact;
    HK_CHECK(c, "contact lost");
    HK_CHECK_STR_EQ(c->id, s_contact.id);
    HK_CHECK_STR_EQ(c->tenant, s_contact.tenant);
    HK_CHECK_INT_EQ(c->channel, s_contact.channel);
    HK_CHECK_STR_EQ(c->dedupe_key, s_contact.dedupe_key);
    s_check_identity(c->customer);
    HK_CHECK_STR_EQ(c->language, s_contact.language);
    HK_CHECK_STR_EQ(c->subject, s_contact.subject);
    HK_CHECK_STR_EQ(c->text, s_contact.text);
    HK_CHECK(c->choices, "choices lost");
    HK_CHECK_INT_EQ(c->choices->urgent, 1);
    HK_CHECK_INT_EQ(c->choices->talk_to_person, 1);
    HK_CHECK_INT_EQ(c->choices->callback, 1);
    HK_CHECK_STR_EQ(c->choices->ivr_digits, s_choices.ivr_digits);
    HK_CHECK_INT_EQ(c->received_at_ms, s_contact.received_at_ms);
    HK_CHECK_STR_EQ(c->gateway, s_contact.gateway);
    s_check_reencode(got, &b);
    hk_codec_free(&got);
    HK_CHECK(got == NULL, "hk_codec_free did not null the pointer");
    hk_codec_free(&got); /* freeing NULL is harmless */
    s_bytes_free(&b);
}

static void s_test_ack_round_trip(void) {
    hk_envelope_t env = s_envelope(HETKI__V1__ENVELOPE__BODY_ACK, &s_ack);
    s_bytes_t b = {0};
    s_encode(&env, &b);
    hk_envelope_t *got = s_expect_accept("ack", b.data, b.len);
    HK_CHECK_INT_EQ(got->body_case, HETKI__V1__ENVELOPE__BODY_ACK);
    const Hetki__V1__Ack *a = got->ack;
    HK_CHECK(a, "ack lost");
    HK_CHECK_STR_EQ(a->contact_id, s_ack.contact_id);
    HK_CHECK_INT_EQ(a->duplicate, 1);
    HK_CHECK_INT_EQ(a->error_code, HETKI__V1__ERROR_CODE__ERROR_TENANT);
    HK_CHECK_STR_EQ(a->error_text, s_ack.error_text);
    HK_CHECK_STR_EQ(a->router, s_ack.router);
    s_check_decision(a->decision);
    s_check_reencode(got, &b);
    hk_codec_free(&got);
    s_bytes_free(&b);
}

static void s_test_other_bodies(void) {
    Hetki__V1__Heartbeat hb = HETKI__V1__HEARTBEAT__INIT;
    hb.instance = "router-host-1";
    hb.service = "router";
    hb.seq = UINT64_MAX;
    Hetki__V1__ContactEvent ev = HETKI__V1__CONTACT_EVENT__INIT;
    ev.publisher = "router-host-1";
    ev.seq = 42;
    ev.kind = "contact.queued";
    ev.tenant = "acme";
    ev.contact_id = "01J0000000000000000000000A";
    ev.decision = &s_decision;
    ev.at_ms = 1718000000999;
    Hetki__V1__RoutingDecision negative = HETKI__V1__ROUTING_DECISION__INIT;
    negative.score = -5; /* int32 negatives take ten bytes on the wire */

    struct {
        Hetki__V1__Envelope__BodyCase body;
        void *msg;
    } cases[] = {{HETKI__V1__ENVELOPE__BODY_HEARTBEAT, &hb},
                 {HETKI__V1__ENVELOPE__BODY_EVENT, &ev},
                 {HETKI__V1__ENVELOPE__BODY_DECISION, &s_decision},
                 {HETKI__V1__ENVELOPE__BODY_DECISION, &negative}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hk_envelope_t env = s_envelope(cases[i].body, cases[i].msg);
        s_bytes_t b = {0};
        s_encode(&env, &b);
        hk_envelope_t *got = s_expect_accept("body", b.data, b.len);
        HK_CHECK_INT_EQ(got->body_case, cases[i].body);
        if (cases[i].body == HETKI__V1__ENVELOPE__BODY_HEARTBEAT) {
            HK_CHECK_STR_EQ(got->heartbeat->instance, hb.instance);
            HK_CHECK_STR_EQ(got->heartbeat->service, hb.service);
            HK_CHECK(got->heartbeat->seq == UINT64_MAX, "heartbeat seq changed");
        } else if (cases[i].body == HETKI__V1__ENVELOPE__BODY_EVENT) {
            HK_CHECK_STR_EQ(got->event->publisher, ev.publisher);
            HK_CHECK_INT_EQ(got->event->seq, 42);
            HK_CHECK_STR_EQ(got->event->kind, ev.kind);
            HK_CHECK_STR_EQ(got->event->tenant, ev.tenant);
            HK_CHECK_STR_EQ(got->event->contact_id, ev.contact_id);
            HK_CHECK_INT_EQ(got->event->at_ms, ev.at_ms);
            s_check_decision(got->event->decision);
        } else {
            HK_CHECK_INT_EQ(got->decision->score,
                            ((Hetki__V1__RoutingDecision *)cases[i].msg)->score);
        }
        s_check_reencode(got, &b);
        hk_codec_free(&got);
        s_bytes_free(&b);
    }
}

static void s_test_empty_truncated_garbage(void) {
    uint8_t one = 0;
    s_expect_reject("empty", &one, 0, "empty");

    hk_envelope_t env = s_envelope(HETKI__V1__ENVELOPE__BODY_CONTACT, &s_contact);
    s_bytes_t b = {0};
    s_encode(&env, &b);
    /* The body is packed last, so every cut inside it breaks a length prefix; cuts before it
     * leave an envelope without a body. Either way nothing may be accepted. */
    for (size_t cut = 1; cut < b.len; cut++) {
        char err[256] = "";
        hk_envelope_t *got = hk_codec_decode(b.data, cut, err, sizeof err);
        if (got) {
            hk_codec_free(&got);
            HK_CHECK(0, "a frame cut to %zu of %zu bytes was accepted", cut, b.len);
        }
        HK_CHECK(err[0] != '\0', "rejection of a cut frame without a reason");
    }
    s_expect_reject("truncated by one byte", b.data, b.len - 1, "malformed");
    s_expect_reject("truncated by half", b.data, b.len / 2, "malformed");
    s_bytes_free(&b);

    /* A lone field key without its value, and a length prefix pointing past the end. */
    const uint8_t key_only[] = {0x08};
    s_expect_reject("key without value", key_only, sizeof key_only, "malformed");
    const uint8_t long_prefix[] = {0x08, 0x01, 0x52, 0x7f, 0x0a, 0x00};
    s_expect_reject("length past the end", long_prefix, sizeof long_prefix, "malformed");
    const uint8_t bad_wire[] = {0x0f, 0x01}; /* field 1 with wire type 7 */
    s_expect_reject("bad wire type", bad_wire, sizeof bad_wire, "malformed");

    /* Random garbage from a fixed seed: every frame refused with a reason, nothing crashes. */
    uint64_t x = 0x9e3779b97f4a7c15ull;
    static uint8_t junk[4096];
    for (int round = 0; round < 2000; round++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t len = 1 + (size_t)(x % sizeof junk);
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            junk[i] = (uint8_t)(x >> 32);
        }
        char err[256] = "";
        hk_envelope_t *got = hk_codec_decode(junk, len, err, sizeof err);
        if (got) {
            hk_codec_free(&got);
            HK_CHECK(0, "random garbage of %zu bytes (round %d) was accepted", len, round);
        }
        HK_CHECK(err[0] != '\0', "rejection of garbage without a reason");
    }
}

static void s_test_oversize(void) {
    /* A frame one byte over the limit is refused before parsing, even if it starts validly. */
    uint8_t *big = calloc(1, HK_CODEC_MAX_FRAME + 1);
    HK_CHECK(big, "out of memory");
    s_expect_reject("max frame + 1", big, HK_CODEC_MAX_FRAME + 1, "exceeds");
    free(big);

    /* Grow a contact's text until the envelope is exactly the limit: it is accepted. */
    char *text = malloc(HK_CODEC_MAX_FRAME + 1);
    HK_CHECK(text, "out of memory");
    Hetki__V1__Contact c = s_contact;
    c.text = text;
    hk_envelope_t env = s_envelope(HETKI__V1__ENVELOPE__BODY_CONTACT, &c);
    size_t n = 0;
    size_t size = 0;
    for (n = 60000; n <= HK_CODEC_MAX_FRAME; n++) {
        memset(text, 'a', n);
        text[n] = '\0';
        size = hetki__v1__envelope__get_packed_size(&env);
        if (size >= HK_CODEC_MAX_FRAME) {
            break;
        }
    }
    HK_CHECK_INT_EQ(size, HK_CODEC_MAX_FRAME);
    s_bytes_t b = {0};
    s_encode(&env, &b);
    hk_envelope_t *got = s_expect_accept("exactly max frame", b.data, b.len);
    HK_CHECK_INT_EQ(strlen(got->contact->text), n);
    hk_codec_free(&got);

    /* One more character and the encoders refuse. */
    text[n] = 'a';
    text[n + 1] = '\0';
    uint8_t *out = NULL;
    size_t len = 0;
    HK_CHECK(hk_codec_encode(&env, &out, &len) == -1, "encoded a frame over the limit");
    static uint8_t buf[S_BUF_MAX];
    HK_CHECK_INT_EQ(hk_codec_encode_to(&env, buf, sizeof buf), 0);
    free(text);
    s_bytes_free(&b);

    /* A contact with a 70,000 character text. */
    char *huge = malloc(70001);
    HK_CHECK(huge, "out of memory");
    memset(huge, 'x', 70000);
    huge[70000] = '\0';
    c.text = huge;
    env = s_envelope(HETKI__V1__ENVELOPE__BODY_CONTACT, &c);
    out = NULL;
    HK_CHECK(hk_codec_encode(&env, &out, &len) == -1, "encoded a 70,000 character text");
    HK_CHECK_INT_EQ(hk_codec_encode_to(&env, buf, sizeof buf), 0);
    free(huge);
}

static void s_test_unknown_fields(void) {
    hk_envelope_t env = s_envelope(HETKI__V1__ENVELOPE__BODY_CONTACT, &s_contact);

    /* Top level: a varint field 99 appended to a valid encoding. */
    s_bytes_t b = {0};
    s_encode(&env, &b);
    s_bytes_varint_field(&b, 99, 1);
    s_expect_reject("unknown top-level field", b.data, b.len, "unknown field 99");
    s_expect_reject("unknown top-level field", b.data, b.len, "Envelope");
    s_bytes_free(&b);

    /* Inside the Contact: the Contact's own bytes plus field 77, wrapped by hand. */
    s_bytes_t contact = {0};
    s_bytes_pack(&contact, &s_contact.base);
    s_bytes_len_field(&contact, 77, "x", 1);
    s_bytes_varint_field(&b, 1, HK_CODEC_VERSION);
    s_bytes_len_field(&b, 10, contact.data, contact.len);
    s_expect_reject("unknown field in Contact", b.data, b.len, "unknown field 77");
    s_expect_reject("unknown field in Contact", b.data, b.len, "Contact");
    s_bytes_free(&b);
    s_bytes_free(&contact);

    /* Two levels down, in CustomerIdentity: its bytes plus field 55, the Contact's bytes without
     * a customer plus the tampered customer, then the envelope. */
    s_bytes_t ident = {0};
    s_bytes_pack(&ident, &s_identity.base);
    s_bytes_varint_field(&ident, 55, 300);
    Hetki__V1__Contact bare = s_contact;
    bare.customer = NULL;
    s_bytes_pack(&contact, &bare.base);
    s_bytes_len_field(&contact, 5, ident.data, ident.len);
    s_bytes_varint_field(&b, 1, HK_CODEC_VERSION);
    s_bytes_len_field(&b, 10, contact.data, contact.len);
    s_expect_reject("unknown field in CustomerIdentity", b.data, b.len, "unknown field 55");
    s_expect_reject("unknown field in CustomerIdentity", b.data, b.len, "CustomerIdentity");
    /* The same bytes without the extra field are fine: the crafting itself is right. */
    s_bytes_free(&b);
    s_bytes_free(&contact);
    s_bytes_free(&ident);
    s_bytes_pack(&ident, &s_identity.base);
    s_bytes_pack(&contact, &bare.base);
    s_bytes_len_field(&contact, 5, ident.data, ident.len);
    s_bytes_varint_field(&b, 1, HK_CODEC_VERSION);
    s_bytes_len_field(&b, 10, contact.data, contact.len);
    hk_envelope_t *got = s_expect_accept("hand-wrapped contact", b.data, b.len);
    s_check_identity(got->contact->customer);
    hk_codec_free(&got);
    s_bytes_free(&b);
    s_bytes_free(&contact);
    s_bytes_free(&ident);

    /* In the RoutingDecision of an Ack, and an unknown fixed32 field in Choices. */
    s_bytes_t dec = {0};
    s_bytes_pack(&dec, &s_decision.base);
    s_bytes_len_field(&dec, 31, "", 0);
    Hetki__V1__Ack bare_ack = s_ack;
    bare_ack.decision = NULL;
    s_bytes_t ack = {0};
    s_bytes_pack(&ack, &bare_ack.base);
    s_bytes_len_field(&ack, 5, dec.data, dec.len);
    s_bytes_varint_field(&b, 1, HK_CODEC_VERSION);
    s_bytes_len_field(&b, 11, ack.data, ack.len);
    s_expect_reject("unknown field in RoutingDecision", b.data, b.len, "unknown field 31");
    s_bytes_free(&b);
    s_bytes_free(&ack);
    s_bytes_free(&dec);

    s_bytes_t ch = {0};
    s_bytes_pack(&ch, &s_choices.base);
    s_bytes_varint(&ch, (9 << 3) | 5);
    s_bytes_put(&ch, "\1\2\3\4", 4);
    bare = s_contact;
    bare.choices = NULL;
    s_bytes_pack(&contact, &bare.base);
    s_bytes_len_field(&contact, 9, ch.data, ch.len);
    s_bytes_varint_field(&b, 1, HK_CODEC_VERSION);
    s_bytes_len_field(&b, 10, contact.data, contact.len);
    s_expect_reject("unknown field in Choices", b.data, b.len, "Choices");
    s_bytes_free(&b);
    s_bytes_free(&contact);
    s_bytes_free(&ch);
}

static void s_test_utf8(void) {
    static const struct {
        const char *text;
        bool valid;
    } cases[] = {
        {"plain ascii", true},
        {"\xc3\xa4", true},               /* ä */
        {"\xe2\x82\xac", true},           /* € */
        {"\xf0\x9f\x98\x80", true},       /* 😀 */
        {"\xf4\x8f\xbf\xbf", true},       /* U+10FFFF */
        {"\xef\xbf\xbd", true},           /* U+FFFD */
        {"\xff", false},                  /* never valid */
        {"\x80", false},                  /* lone continuation */
        {"\xc3", false},                  /* truncated 2-byte */
        {"abc\xe2\x82", false},           /* truncated 3-byte at the end */
        {"\xe2\x28\xa1", false},          /* bad continuation */
        {"\xc0\xaf", false},              /* overlong '/' */
        {"\xe0\x80\xaf", false},          /* overlong, 3 bytes */
        {"\xf0\x80\x80\xaf", false},      /* overlong, 4 bytes */
        {"\xed\xa0\x80", false},          /* surrogate U+D800 */
        {"\xed\xbf\xbf", false},          /* surrogate U+DFFF */
        {"\xf4\x90\x80\x80", false},      /* U+110000 */
        {"\xf8\x88\x80\x80\x80", false},  /* 5-byte form */
        {"ok \xc3\xa4 then \xfe", false}, /* bad byte after good ones */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *t = cases[i].text;
        HK_CHECK(hk_utf8_valid(t, strlen(t)) == cases[i].valid, "hk_utf8_valid case %zu", i);

        Hetki__V1__Contact c = s_contact;
        c.text = (char *)t;
        hk_envelope_t env = s_envelope(HETKI__V1__ENVELOPE__BODY_CONTACT, &c);
        s_bytes_t b = {0};
        s_encode(&env, &b);
        if (cases[i].valid) {
            hk_envelope_t *got = s_expect_accept("valid UTF-8 text", b.data, b.len);
            HK_CHECK_STR_EQ(got->contact->text, t);
            hk_codec_free(&got);
        } else {
            s_expect_reject("invalid UTF-8 in Contact.text", b.data, b.len, "UTF-8");
            s_expect_reject("invalid UTF-8 in Contact.text", b.data, b.len, "text");
        }
        s_bytes_free(&b);
    }
    HK_CHECK(hk_utf8_valid("", 0), "empty text is valid UTF-8");

    /* Deeper strings are checked too: a display name and a repeated reason. */
    Hetki__V1__CustomerIdentity ident = s_identity;
    ident.display_name = "\xc0\x80";
    Hetki__V1__Contact c = s_contact;
    c.customer = &ident;
    hk_envelope_t env = s_envelope(HETKI__V1__ENVELOPE__BODY_CONTACT, &c);
    s_bytes_t b = {0};
    s_encode(&env, &b);
    s_expect_reject("invalid UTF-8 in display_name", b.data, b.len, "display_name");
    s_bytes_free(&b);

    char *reasons[] = {"fine", "bad\xff"};
    Hetki__V1__RoutingDecision d = s_decision;
    d.reasons = reasons;
    d.n_reasons = 2;
    env = s_envelope(HETKI__V1__ENVELOPE__BODY_DECISION, &d);
    s_encode(&env, &b);
    s_expect_reject("invalid UTF-8 in a repeated reason", b.data, b.len, "reasons");
    s_bytes_free(&b);
}

static void s_test_version_and_body(void) {
    uint32_t versions[] = {0, 2, 1000};
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
        hk_envelope_t env = s_envelope(HETKI__V1__ENVELOPE__BODY_ACK, &s_ack);
        env.version = versions[i];
        s_bytes_t b = {0};
        s_encode(&env, &b);
        char want[64];
        snprintf(want, sizeof want, "version %u", versions[i]);
        s_expect_reject("wrong version", b.data, b.len, want);
        s_bytes_free(&b);
    }

    hk_envelope_t env = s_envelope(HETKI__V1__ENVELOPE__BODY__NOT_SET, NULL);
    s_bytes_t b = {0};
    s_encode(&env, &b);
    s_expect_reject("no body", b.data, b.len, "no body");
    s_bytes_free(&b);

    /* An empty but present body is a body. */
    Hetki__V1__Heartbeat hb = HETKI__V1__HEARTBEAT__INIT;
    env = s_envelope(HETKI__V1__ENVELOPE__BODY_HEARTBEAT, &hb);
    s_encode(&env, &b);
    hk_envelope_t *got = s_expect_accept("empty heartbeat body", b.data, b.len);
    HK_CHECK_INT_EQ(got->body_case, HETKI__V1__ENVELOPE__BODY_HEARTBEAT);
    hk_codec_free(&got);
    s_bytes_free(&b);
}

int main(void) {
    s_fixtures();
    s_test_contact_round_trip();
    s_test_ack_round_trip();
    s_test_other_bodies();
    s_test_empty_truncated_garbage();
    s_test_oversize();
    s_test_unknown_fields();
    s_test_utf8();
    s_test_version_and_body();
    printf("test_codec: ok\n");
    return HK_TEST_EXIT();
}
