/* hk_redis: the one module that owns Redis connections. An async hiredis connection on the
 * libuv loop that reconnects with exponential backoff, loads the service's Lua scripts and
 * function libraries on every (re)connect, and runs scripts by SHA (falling back to EVAL if
 * Redis lost them) and functions with FCALL (loading their library again if Redis lost it). */
#ifndef HK_REDIS_H
#define HK_REDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <hiredis/hiredis.h>
#include <uv.h>

typedef struct hk_redis_t hk_redis_t;

/* Reply callback. reply is NULL when the connection dropped before an answer; it is valid
 * only during the call. */
typedef void(hk_redis_reply_fn)(hk_redis_t *r, redisReply *reply, void *arg);

/* Called whenever readiness changes (connected with scripts loaded, or lost). */
typedef void(hk_redis_state_fn)(hk_redis_t *r, bool ready, void *arg);

/* Creates a client for host:port; nothing connects until hk_redis_start. */
hk_redis_t *hk_redis_new(uv_loop_t *loop, const char *host, int port);

/* Authenticates every (re)connection with AUTH [user] password before anything else; user
 * may be "" for the default user. Call before hk_redis_start; no-op when password is "". */
void hk_redis_auth(hk_redis_t *r, const char *user, const char *password);

/* Registers a Lua script (body copied) before start; returns its handle (>= 0). */
int hk_redis_script(hk_redis_t *r, const char *name, const char *body);

/* Registers a script that only reads: it runs with EVALSHA_RO (EVAL_RO), which Redis also
 * allows on replicas and which an ACL user with read-only keys may run (EVAL counts the keys
 * it is given as written). The script must not call a write command. */
int hk_redis_script_ro(hk_redis_t *r, const char *name, const char *body);

/* Registers a Redis function library (code copied; it starts "#!lua name=NAME") before start;
 * returns its handle (>= 0). It is loaded on every connect; a library of that name already in
 * Redis counts as loaded (name it by its version, so that two releases can share a Redis). */
int hk_redis_library(hk_redis_t *r, const char *code);

/* Registers function name of library (a handle of hk_redis_library) before start; returns a
 * handle for hk_redis_eval, which runs it with FCALL (FCALL_RO when ro: the function must
 * then be registered with the no-writes flag). */
int hk_redis_function(hk_redis_t *r, int library, const char *name, bool ro);

void hk_redis_on_state(hk_redis_t *r, hk_redis_state_fn *fn, void *arg);

/* Connects (and keeps reconnecting with backoff until destroyed). A connection that leaves
 * commands unanswered for HK_REDIS_STALL_MS is dropped and made again (hiredis has no
 * command timeouts of its own), so callers get NULL replies instead of waiting forever. */
#define HK_REDIS_STALL_MS 5000
/* A connection not ready (connected, authenticated, scripts loaded) within this is dropped
 * and made again with backoff. */
#define HK_REDIS_CONNECT_MS 2000
void hk_redis_start(hk_redis_t *r);

bool hk_redis_ready(const hk_redis_t *r);

/* Runs script (a handle of hk_redis_script[_ro] or hk_redis_function) with nkeys keys followed by
 * arguments (argv[0..argc-1], binary safe). Returns 0 when queued (fn is then called exactly once),
 * -1 when not ready. */
int hk_redis_eval(hk_redis_t *r, int script, int nkeys, int argc, const char **argv,
                  const size_t *argvlen, hk_redis_reply_fn *fn, void *arg);

/* Runs a plain command; same contract as hk_redis_eval. */
int hk_redis_command(hk_redis_t *r, int argc, const char **argv, const size_t *argvlen,
                     hk_redis_reply_fn *fn, void *arg);

/* Commands sent and not yet answered (for backpressure). */
size_t hk_redis_inflight(const hk_redis_t *r);

/* Disconnects (pending callbacks get NULL) and frees once libuv released its handles. */
void hk_redis_destroy(hk_redis_t **r_p);

#endif
