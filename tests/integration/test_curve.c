/* test_curve: CurveZMQ between the services (common/hk_curve.h) with a real redis-server, a
 * real hetki-router and real ZeroMQ peers. With HETKI_CURVE_SECRET_KEY set:
 *   - a client holding the key gets its contact acked and its events (the test's own bus and
 *     collector, and `hetki send` as a separate process);
 *   - a plain TCP client and a plain subscriber get nothing, and the router keeps serving;
 *   - a CURVE client with another key is refused by the ZAP handler (counted in
 *     hetki_curve_denied_total) and gets nothing;
 *   - a key that is not Z85 stops the router and the CLI with an error naming the variable. */
#include "hk_curve.h"
#include "hk_test.h"
#include "hk_test_bus.h"
#include "hk_test_guard.h"
#include "hk_test_proc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <zmq.h>

#define S_T "curvet"

static hk_test_redis_t s_redis;
static hk_test_router_t s_rt;

static Hetki__V1__Contact s_contact(const char *dedupe) {
    static Hetki__V1__CustomerIdentity cu;
    hetki__v1__customer_identity__init(&cu);
    cu.chat_session = "curve-session";
    Hetki__V1__Contact c = HETKI__V1__CONTACT__INIT;
    c.tenant = S_T;
    c.channel = HETKI__V1__CHANNEL__CHANNEL_CHAT;
    c.dedupe_key = (char *)dedupe;
    c.text = "hello";
    c.language = "en";
    c.customer = &cu;
    return c;
}

/* A raw DEALER (plain, or CURVE with the given client key pair and the router's public key)
 * sends one contact; returns 1 when any reply came within wait_ms. */
static int s_raw_request(const char *public_, const char *secret, int wait_ms) {
    void *ctx = zmq_ctx_new();
    void *sock = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    if (public_) {
        zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, hk_curve_public(), 40);
        zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, public_, 40);
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, secret, 40);
    }
    HK_CHECK(zmq_connect(sock, s_rt.contacts) == 0, "connect");
    Hetki__V1__Contact c = s_contact(public_ ? "from-wrong-key" : "from-plain");
    hk_envelope_t env = HETKI__V1__ENVELOPE__INIT;
    env.version = HK_CODEC_VERSION;
    env.correlation_id = "raw-1";
    env.body_case = HETKI__V1__ENVELOPE__BODY_CONTACT;
    env.contact = &c;
    uint8_t *frame = NULL;
    size_t len = 0;
    HK_CHECK(hk_codec_encode(&env, &frame, &len) == 0, "encode");
    zmq_send(sock, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(sock, frame, len, ZMQ_DONTWAIT);
    free(frame);
    zmq_pollitem_t item = {sock, 0, ZMQ_POLLIN, 0};
    int got = zmq_poll(&item, 1, wait_ms) > 0;
    zmq_close(sock);
    zmq_ctx_term(ctx);
    return got;
}

/* A plain SUB on the router's events: returns how many messages arrived within wait_ms while
 * contacts were being acked for the tenant. */
static int s_plain_events(hk_test_bus_t *bus, int wait_ms) {
    void *ctx = zmq_ctx_new();
    void *sock = zmq_socket(ctx, ZMQ_SUB);
    int linger = 0;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(sock, ZMQ_SUBSCRIBE, "", 0);
    HK_CHECK(zmq_connect(sock, s_rt.events) == 0, "connect events");
    int got = 0;
    long long until = hk_test_now_ms() + wait_ms;
    for (int i = 0; hk_test_now_ms() < until; i++) {
        char key[32];
        snprintf(key, sizeof key, "sub-%d", i);
        Hetki__V1__Contact c = s_contact(key);
        hk_envelope_t *ack = hk_test_bus_contact(bus, &c, 5000);
        HK_CHECK(ack && ack->body_case == HETKI__V1__ENVELOPE__BODY_ACK, "contact %d not acked", i);
        hk_codec_free(&ack);
        zmq_pollitem_t item = {sock, 0, ZMQ_POLLIN, 0};
        while (zmq_poll(&item, 1, 100) > 0) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            zmq_msg_recv(&m, sock, ZMQ_DONTWAIT);
            zmq_msg_close(&m);
            got++;
        }
    }
    zmq_close(sock);
    zmq_ctx_term(ctx);
    return got;
}

/* Runs `hetki send` with the given key; returns its exit status (-1 when it hung). */
static int s_cli_send(const char *dir, const char *key_env, const char *dedupe_text) {
    char bin[300], redis[48], log[300];
    snprintf(redis, sizeof redis, "HETKI_REDIS_PORT=%d", s_redis.port);
    snprintf(log, sizeof log, "%s/cli-%s.log", dir, dedupe_text);
    const char *argv[] = {hk_test_bin("hetki", bin, sizeof bin),
                          "send",
                          "--tenant",
                          S_T,
                          "--channel",
                          "chat",
                          "--text",
                          dedupe_text,
                          "--timeout-ms",
                          "3000",
                          NULL};
    const char *env[] = {redis, key_env, NULL};
    int status = 0;
    if (hk_test_wait(hk_test_spawn(argv, env, log), 20000, &status) != 0) {
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int s_log_has(const char *path, const char *text) {
    FILE *f = fopen(path, "r");
    char line[1024];
    int found = 0;
    while (f && !found && fgets(line, sizeof line, f)) {
        found = strstr(line, text) != NULL;
    }
    if (f) {
        fclose(f);
    }
    return found;
}

int main(void) {
    static char dir[64];
    static hk_test_events_t *ev;
    static redisContext *no_rc;
    hk_test_guard_begin("test_curve", "/tmp/hetki-it-curve-XXXXXX", dir, sizeof dir, 100);
    hk_test_guard_redis(&s_redis);
    hk_test_guard_router(&s_rt);
    hk_test_guard_client(&ev, &no_rc);
    HK_CHECK(zmq_has("curve"), "this libzmq has no CURVE");
    char public_[41], secret[41], other_public[41], other_secret[41];
    HK_CHECK(zmq_curve_keypair(public_, secret) == 0, "keypair");
    HK_CHECK(zmq_curve_keypair(other_public, other_secret) == 0, "keypair");
    /* The test's own bus and collector are CURVE clients with the deployment's key. */
    HK_CHECK(hk_curve_set_key(secret) == 0, "set key");
    HK_CHECK_STR_EQ(hk_curve_public(), public_);
    HK_CHECK(hk_curve_set_key("not a key") != 0, "a bad key was accepted");
    HK_CHECK(hk_curve_set_key(secret) == 0, "set key again");

    HK_CHECK(hk_test_redis_start(&s_redis) == 0, "redis-server did not start");
    char key_env[80];
    snprintf(key_env, sizeof key_env, "HETKI_CURVE_SECRET_KEY=%s", secret);
    const char *env[] = {key_env, NULL};
    ev = hk_test_events_new();
    HK_CHECK(hk_test_events_subscribe(ev, S_T) == 0, "subscribe");
    /* Starting includes a probe contact and its event over CURVE. */
    HK_CHECK(hk_test_router_start(&s_rt, "rt-curve", s_redis.port, dir, env, ev) == 0,
             "router with a CURVE key did not start or answer over CURVE");
    HK_CHECK(s_log_has(s_rt.log, "HETKI_CURVE_SECRET_KEY=***"), "key not printed masked");
    HK_CHECK(!s_log_has(s_rt.log, secret), "the secret key is in the log");

    /* A client with the key: acked, and its events arrive. */
    size_t mark = hk_test_events_size(ev);
    Hetki__V1__Contact c = s_contact("with-key");
    char cid[72];
    HK_CHECK(hk_test_bus_submit(s_rt.bus, &c, cid, sizeof cid, NULL, 0) == 0,
             "contact over CURVE not acked");
    HK_CHECK(hk_test_events_wait(ev, mark, "contact.queued", cid, NULL, 5000) >= 0,
             "no event over CURVE");

    /* A plain client and a client with another key: no answer; the latter refused by ZAP. */
    HK_CHECK(!s_raw_request(NULL, NULL, 1500), "a plain TCP client got an answer");
    HK_CHECK(!s_raw_request(other_public, other_secret, 1500), "a client with another key "
                                                               "got an answer");
    HK_CHECK(hk_test_metric(s_rt.admin_port, "hetki_curve_denied_total") >= 1,
             "the other key's handshake was not counted as denied");
    /* A plain subscriber hears nothing while contacts are acked. */
    HK_CHECK_INT_EQ(s_plain_events(s_rt.bus, 1500), 0);
    /* The router still serves its own. */
    c = s_contact("after-refusals");
    hk_envelope_t *ack = hk_test_bus_contact(s_rt.bus, &c, 5000);
    HK_CHECK(ack && ack->body_case == HETKI__V1__ENVELOPE__BODY_ACK, "not acked after refusals");
    hk_codec_free(&ack);

    /* The CLI: the key works, another key gets no answer, a malformed key is refused. */
    HK_CHECK_INT_EQ(s_cli_send(dir, key_env, "cli-with-key"), 0);
    char other_env[80];
    snprintf(other_env, sizeof other_env, "HETKI_CURVE_SECRET_KEY=%s", other_secret);
    HK_CHECK(s_cli_send(dir, other_env, "cli-other-key") != 0,
             "the CLI with another key got an ack");
    HK_CHECK(s_cli_send(dir, "HETKI_CURVE_SECRET_KEY=short", "cli-bad-key") > 0,
             "the CLI accepted a malformed key");
    char cli_log[300];
    snprintf(cli_log, sizeof cli_log, "%s/cli-cli-bad-key.log", dir);
    HK_CHECK(s_log_has(cli_log, "HETKI_CURVE_SECRET_KEY"), "the CLI error does not name the key");

    /* A router given a malformed key stops at once, naming the variable. */
    char bin[300], redis[48], log[300];
    snprintf(redis, sizeof redis, "HETKI_REDIS_PORT=%d", s_redis.port);
    snprintf(log, sizeof log, "%s/bad-key-router.log", dir);
    const char *argv[] = {hk_test_bin("hetki-router", bin, sizeof bin), NULL};
    const char *bad_env[] = {redis,
                             "HETKI_ADMIN_PORT=0",
                             "HETKI_ROUTER_CONTACTS_PORT=0",
                             "HETKI_ROUTER_EVENTS_PORT=0",
                             "HETKI_CURVE_SECRET_KEY=~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~",
                             NULL};
    int status = 0;
    HK_CHECK(hk_test_wait(hk_test_spawn(argv, bad_env, log), 10000, &status) == 0,
             "a router with a malformed key kept running");
    HK_CHECK(WIFEXITED(status) && WEXITSTATUS(status) != 0, "it exited with success");
    HK_CHECK(s_log_has(log, "HETKI_CURVE_SECRET_KEY"), "its error does not name the variable");

    int rc = HK_TEST_GUARD_END();
    printf("curve: key holders served, plain and other-key peers refused, bad keys stop\n");
    return rc;
}
