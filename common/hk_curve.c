/* hk_curve: the deployment's CURVE key pair, the socket options of servers and clients, and
 * the ZAP handler that admits only clients holding the key (see the header). */
#include "hk_curve.h"

#include "hk_log.h"
#include "hk_zsock.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define S_ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define S_ZAP_DOMAIN "hetki"

static struct {
    int enabled;
    char secret[HK_CURVE_KEY_LEN + 1];
    char public_[HK_CURVE_KEY_LEN + 1];
    uint8_t public_bin[32];
} s_key;

/* ZAP handlers running in this process: a server without one would admit any CURVE client
 * (this libzmq cannot enforce the domain), so hk_curve_server refuses to bind then. */
static int s_zap_running;

struct hk_curve_zap_t {
    hk_zsock_t *zs;
    int bound; /* counted in s_zap_running */
    uint64_t *denied;
};

int hk_curve_set_key(const char *secret_z85) {
    memset(&s_key, 0, sizeof s_key);
    if (!secret_z85 || !secret_z85[0]) {
        return 0;
    }
    uint8_t secret_bin[32];
    if (strlen(secret_z85) != HK_CURVE_KEY_LEN || !zmq_z85_decode(secret_bin, secret_z85) ||
        zmq_curve_public(s_key.public_, secret_z85) != 0 ||
        !zmq_z85_decode(s_key.public_bin, s_key.public_)) {
        memset(&s_key, 0, sizeof s_key);
        return -1;
    }
    snprintf(s_key.secret, sizeof s_key.secret, "%s", secret_z85);
    s_key.enabled = 1;
    return 0;
}

int hk_curve_from_env(const char *who) {
    const char *v = getenv("HETKI_CURVE_SECRET_KEY");
    if (hk_curve_set_key(v ? v : "") != 0) {
        fprintf(stderr,
                "%s: configuration error: HETKI_CURVE_SECRET_KEY: expected a CURVE secret key "
                "of 40 Z85 characters (hetki curve-keygen makes one)\n",
                who);
        return -1;
    }
    return 0;
}

int hk_curve_enabled(void) {
    return s_key.enabled;
}

const char *hk_curve_public(void) {
    return s_key.public_;
}

static int s_secured(const char *endpoint) {
    return s_key.enabled && endpoint && strncmp(endpoint, "inproc://", 9) != 0;
}

int hk_curve_server(void *sock, const char *endpoint) {
    if (!s_secured(endpoint)) {
        return 0;
    }
    if (s_zap_running == 0) {
        errno = ENOTSUP;
        return -1;
    }
    int one = 1;
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, s_key.secret, HK_CURVE_KEY_LEN) != 0 ||
        zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, S_ZAP_DOMAIN, strlen(S_ZAP_DOMAIN)) != 0) {
        return -1;
    }
    return 0;
}

int hk_curve_client(void *sock, const char *endpoint) {
    if (!s_secured(endpoint)) {
        return 0;
    }
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, s_key.public_, HK_CURVE_KEY_LEN) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, s_key.public_, HK_CURVE_KEY_LEN) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, s_key.secret, HK_CURVE_KEY_LEN) != 0) {
        return -1;
    }
    return 0;
}

static int s_frame_is(const hk_frame_t *f, const char *text) {
    size_t n = strlen(text);
    return f->len == n && memcmp(f->data, text, n) == 0;
}

/* A ZAP request (RFC 27): version, request id, domain, address, identity, mechanism, then the
 * mechanism's credentials (CURVE: the client's 32-byte public key). The reply says 200 for the
 * deployment's own key, 400 otherwise. */
static void s_on_zap(hk_zsock_t *zs, const hk_frame_t *frames, size_t n, void *arg) {
    hk_curve_zap_t *zap = arg;
    int ok = n >= 7 && s_frame_is(&frames[0], "1.0") && s_frame_is(&frames[5], "CURVE") &&
             frames[6].len == 32 && memcmp(frames[6].data, s_key.public_bin, 32) == 0;
    char address[64] = "";
    if (n >= 4) {
        snprintf(address, sizeof address, "%.*s", (int)(frames[3].len < 63 ? frames[3].len : 63),
                 (const char *)frames[3].data);
    }
    if (!ok) {
        if (zap->denied) {
            (*zap->denied)++;
        }
        HK_WARN("curve.denied", "peer=%s mechanism=%.*s", address,
                n >= 6 ? (int)(frames[5].len < 16 ? frames[5].len : 16) : 0,
                n >= 6 ? (const char *)frames[5].data : "");
    }
    hk_frame_t reply[6] = {
        {(const uint8_t *)"1.0", 3},
        {n >= 2 ? frames[1].data : (const uint8_t *)"", n >= 2 ? frames[1].len : 0},
        {(const uint8_t *)(ok ? "200" : "400"), 3},
        {(const uint8_t *)(ok ? "OK" : "key not admitted"), ok ? 2 : 16},
        {(const uint8_t *)(ok ? "hetki" : ""), ok ? 5 : 0},
        {(const uint8_t *)"", 0},
    };
    if (hk_zsock_send(zs, reply, 6) != 0) {
        HK_WARN("curve.zap_reply_failed", "errno=%d", errno);
    }
}

hk_curve_zap_t *hk_curve_zap_new(uv_loop_t *loop, void *zctx, uint64_t *denied) {
    if (!s_key.enabled) {
        return NULL;
    }
    hk_curve_zap_t *zap = calloc(1, sizeof *zap);
    if (!zap) {
        return NULL;
    }
    zap->denied = denied;
    zap->zs = hk_zsock_new(loop, zctx, ZMQ_REP, s_on_zap, zap);
    if (!zap->zs || hk_zsock_bind(zap->zs, S_ZAP_ENDPOINT, NULL, 0) != 0) {
        HK_ERROR("curve.zap_failed", "endpoint=%s error=\"%s\"", S_ZAP_ENDPOINT,
                 zmq_strerror(zmq_errno()));
        hk_curve_zap_destroy(&zap);
        return NULL;
    }
    zap->bound = 1;
    s_zap_running++;
    return zap;
}

void hk_curve_zap_destroy(hk_curve_zap_t **zap_p) {
    if (!zap_p || !*zap_p) {
        return;
    }
    if ((*zap_p)->zs && s_zap_running > 0 && (*zap_p)->bound) {
        s_zap_running--;
    }
    hk_zsock_destroy(&(*zap_p)->zs);
    free(*zap_p);
    *zap_p = NULL;
}
