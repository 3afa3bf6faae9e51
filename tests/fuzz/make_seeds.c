/* make_seeds: writes the seed corpus for fuzz_codec (tests/fuzz/corpus/codec): valid
 * envelopes of every body type and a few malformed frames. The committed seeds came from it;
 * after a schema change run `make_seeds tests/fuzz/corpus/codec` and commit the result. */
#include "hk_codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_dir;
static int s_errors;

static void s_write(const char *name, const uint8_t *data, size_t len) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", s_dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len) {
        fprintf(stderr, "make_seeds: cannot write %s\n", path);
        s_errors++;
    }
    if (f && fclose(f) != 0) {
        s_errors++;
    }
}

/* Encodes env and writes it; tail (may be NULL) is appended as extra raw bytes. */
static void s_write_env(const char *name, const hk_envelope_t *env, const uint8_t *tail,
                        size_t tail_len, size_t cut) {
    size_t len = hetki__v1__envelope__get_packed_size(env);
    uint8_t *buf = malloc(len + tail_len + 1);
    if (!buf) {
        s_errors++;
        return;
    }
    hetki__v1__envelope__pack(env, buf);
    if (tail_len > 0) {
        memcpy(buf + len, tail, tail_len);
        len += tail_len;
    }
    s_write(name, buf, cut > 0 && cut < len ? cut : len);
    free(buf);
}

static hk_envelope_t s_env(Hetki__V1__Envelope__BodyCase body, void *msg) {
    hk_envelope_t env = HETKI__V1__ENVELOPE__INIT;
    env.version = HK_CODEC_VERSION;
    env.correlation_id = "c-1";
    env.sent_at_ms = 1718000000000;
    env.body_case = body;
    env.contact = msg; /* every body member is a pointer in the same union */
    return env;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s <output dir>\n", argv[0]);
        return 1;
    }
    s_dir = argv[1];

    Hetki__V1__CustomerIdentity ident = HETKI__V1__CUSTOMER_IDENTITY__INIT;
    ident.phone_number = "+358401234567";
    ident.email_address = "a@example.fi";
    ident.chat_session = "s-1";
    ident.kiosk_device = "k-1";
    ident.entered_phone = "0401234567";
    ident.entered_email = "b@example.se";
    ident.display_name = "Päivi";
    Hetki__V1__Choices choices = HETKI__V1__CHOICES__INIT;
    choices.urgent = 1;
    choices.talk_to_person = 1;
    choices.callback = 1;
    choices.ivr_digits = "12#";
    Hetki__V1__Contact contact = HETKI__V1__CONTACT__INIT;
    contact.id = "01J0000000000000000000000A";
    contact.tenant = "acme";
    contact.channel = HETKI__V1__CHANNEL__CHANNEL_PHONE;
    contact.dedupe_key = "call-1@sip";
    contact.customer = &ident;
    contact.language = "fi";
    contact.subject = "Lasku";
    contact.text = "Tarvitsen apua heti";
    contact.choices = &choices;
    contact.received_at_ms = 1718000000000;
    contact.gateway = "phone-1";
    hk_envelope_t env = s_env(HETKI__V1__ENVELOPE__BODY_CONTACT, &contact);
    s_write_env("contact_full", &env, NULL, 0, 0);

    Hetki__V1__Contact minimal = HETKI__V1__CONTACT__INIT;
    minimal.tenant = "t";
    minimal.channel = HETKI__V1__CHANNEL__CHANNEL_CHAT;
    minimal.text = "hi";
    env = s_env(HETKI__V1__ENVELOPE__BODY_CONTACT, &minimal);
    s_write_env("contact_minimal", &env, NULL, 0, 0);

    Hetki__V1__Contact sv = minimal;
    sv.channel = HETKI__V1__CHANNEL__CHANNEL_EMAIL;
    sv.language = "sv";
    sv.text = "Hej, jag behöver hjälp med fakturan. 😀 €";
    env = s_env(HETKI__V1__ENVELOPE__BODY_CONTACT, &sv);
    s_write_env("contact_utf8", &env, NULL, 0, 0);

    char *reasons[] = {"choice:urgent", "lexicon:fi:heti", "first_contact"};
    Hetki__V1__RoutingDecision decision = HETKI__V1__ROUTING_DECISION__INIT;
    decision.class_ = HETKI__V1__CONTACT_CLASS__CONTACT_CLASS_URGENT;
    decision.score = 90;
    decision.target = "voice";
    decision.n_reasons = 3;
    decision.reasons = reasons;
    decision.queue = "default";
    Hetki__V1__Ack ack = HETKI__V1__ACK__INIT;
    ack.contact_id = "01J0000000000000000000000A";
    ack.duplicate = 1;
    ack.decision = &decision;
    ack.router = "router-1";
    env = s_env(HETKI__V1__ENVELOPE__BODY_ACK, &ack);
    s_write_env("ack_decision", &env, NULL, 0, 0);

    Hetki__V1__Ack nack = HETKI__V1__ACK__INIT;
    nack.error_code = HETKI__V1__ERROR_CODE__ERROR_INVALID;
    nack.error_text = "tenant: expected [a-z0-9_-]{1,32}";
    nack.router = "router-2";
    env = s_env(HETKI__V1__ENVELOPE__BODY_ACK, &nack);
    s_write_env("ack_error", &env, NULL, 0, 0);

    env = s_env(HETKI__V1__ENVELOPE__BODY_DECISION, &decision);
    s_write_env("decision", &env, NULL, 0, 0);

    Hetki__V1__RoutingDecision negative = HETKI__V1__ROUTING_DECISION__INIT;
    negative.class_ = HETKI__V1__CONTACT_CLASS__CONTACT_CLASS_ROUTINE;
    negative.score = -1;
    negative.target = "async:mail";
    env = s_env(HETKI__V1__ENVELOPE__BODY_DECISION, &negative);
    s_write_env("decision_negative", &env, NULL, 0, 0);

    Hetki__V1__Heartbeat hb = HETKI__V1__HEARTBEAT__INIT;
    hb.instance = "router-1";
    hb.service = "router";
    hb.seq = 7;
    env = s_env(HETKI__V1__ENVELOPE__BODY_HEARTBEAT, &hb);
    s_write_env("heartbeat", &env, NULL, 0, 0);

    Hetki__V1__Heartbeat hb_empty = HETKI__V1__HEARTBEAT__INIT;
    env = s_env(HETKI__V1__ENVELOPE__BODY_HEARTBEAT, &hb_empty);
    s_write_env("heartbeat_empty", &env, NULL, 0, 0);

    Hetki__V1__ContactEvent ev = HETKI__V1__CONTACT_EVENT__INIT;
    ev.publisher = "router-1";
    ev.seq = 1234;
    ev.kind = "contact.queued";
    ev.tenant = "acme";
    ev.contact_id = "01J0000000000000000000000A";
    ev.decision = &decision;
    ev.at_ms = 1718000000001;
    env = s_env(HETKI__V1__ENVELOPE__BODY_EVENT, &ev);
    s_write_env("event", &env, NULL, 0, 0);

    /* Malformed: wrong version, no body, unknown fields, bad UTF-8, truncated, garbage. */
    env = s_env(HETKI__V1__ENVELOPE__BODY_HEARTBEAT, &hb);
    env.version = 2;
    s_write_env("bad_version", &env, NULL, 0, 0);
    env = s_env(HETKI__V1__ENVELOPE__BODY__NOT_SET, NULL);
    s_write_env("bad_no_body", &env, NULL, 0, 0);
    const uint8_t unknown_top[] = {0x98, 0x06, 0x01}; /* field 99, varint 1 */
    env = s_env(HETKI__V1__ENVELOPE__BODY_HEARTBEAT, &hb);
    s_write_env("bad_unknown_top", &env, unknown_top, sizeof unknown_top, 0);
    /* Envelope{version 1, contact{customer{phone "1", field 9: 1}, channel 2}} by hand. */
    const uint8_t unknown_nested[] = {0x08, 0x01, 0x52, 0x09, 0x2a, 0x05, 0x0a,
                                      0x01, '1',  0x48, 0x01, 0x18, 0x02};
    s_write("bad_unknown_nested", unknown_nested, sizeof unknown_nested);
    Hetki__V1__Contact bad_text = minimal;
    bad_text.text = "bad \xc0\xaf text";
    env = s_env(HETKI__V1__ENVELOPE__BODY_CONTACT, &bad_text);
    s_write_env("bad_utf8", &env, NULL, 0, 0);
    env = s_env(HETKI__V1__ENVELOPE__BODY_CONTACT, &contact);
    s_write_env("bad_truncated", &env, NULL, 0, 40);
    const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                               0xff, 0x01, 0x52, 0x80, 0x80, 0x80, 0x80, 0x10, 0x00};
    s_write("bad_garbage", garbage, sizeof garbage);
    return s_errors == 0 ? 0 : 1;
}
