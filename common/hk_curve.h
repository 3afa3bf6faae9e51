/* hk_curve: CurveZMQ between hetki's services when a key is configured.
 *
 * A deployment shares one CURVE key pair, given to every process as HETKI_CURVE_SECRET_KEY
 * (40 Z85 characters; `hetki curve-keygen` makes one). With it, every socket that binds a
 * network endpoint (the routers' contacts and events sockets) is a CURVE server with that
 * secret key, every socket that connects is a CURVE client that expects the server to hold
 * it and presents the same key pair, and a ZAP handler in each binding process admits only
 * clients presenting that public key: traffic is encrypted and only holders of the secret
 * can talk to or listen to a router. Without the variable nothing changes (plain TCP).
 * inproc:// endpoints are never secured (they do not leave the process). */
#ifndef HK_CURVE_H
#define HK_CURVE_H

#include <stdint.h>
#include <uv.h>

#define HK_CURVE_KEY_LEN 40 /* Z85 text of a 32-byte key */

typedef struct hk_curve_zap_t hk_curve_zap_t;

/* Sets the process's key pair from a Z85 secret key ("" disables CURVE). Returns 0, or -1
 * when the text is not a Z85 key of 40 characters. */
int hk_curve_set_key(const char *secret_z85);

/* hk_curve_set_key from HETKI_CURVE_SECRET_KEY (unset or empty: disabled). Returns 0, or -1
 * after printing an error naming the variable to stderr (prefixed with who). */
int hk_curve_from_env(const char *who);

/* True when a key is set. */
int hk_curve_enabled(void);

/* The public key (Z85, 40 characters) when enabled, else "". */
const char *hk_curve_public(void);

/* Makes sock a CURVE server for endpoint before it binds (nothing when disabled or for
 * inproc://). Returns 0, or -1 (errno from ZeroMQ, or ENOTSUP when no ZAP handler runs in
 * this process: the server would admit anyone). */
int hk_curve_server(void *sock, const char *endpoint);

/* Makes sock a CURVE client for endpoint before it connects (nothing when disabled or for
 * inproc://). Returns 0 or -1. */
int hk_curve_client(void *sock, const char *endpoint);

/* Starts the ZAP handler of zctx on loop when enabled (NULL when disabled, or when it could
 * not bind: logged). Each refused handshake is logged and counted in *denied (may be NULL). */
hk_curve_zap_t *hk_curve_zap_new(uv_loop_t *loop, void *zctx, uint64_t *denied);

/* Stops the handler; nulls the pointer (NULL is fine). */
void hk_curve_zap_destroy(hk_curve_zap_t **zap_p);

#endif
