/* hk_test_proc: process and server helpers for integration tests: free loopback ports,
 * spawning and stopping programs, a real redis-server in a temporary folder, plain HTTP GETs
 * and paths to the built binaries. Tests start real servers; nothing is mocked. */
#ifndef HK_TEST_PROC_H
#define HK_TEST_PROC_H

#include <hiredis/hiredis.h>
#include <stddef.h>
#include <sys/types.h>

/* A TCP port on 127.0.0.1 that was free a moment ago. */
int hk_test_free_port(void);

/* Starts argv[0] (a path) with the current environment plus env ("K=V" entries, NULL
 * terminated, may be NULL); stdout and stderr go to log_path (append). Returns the pid. */
pid_t hk_test_spawn(const char *const *argv, const char *const *env, const char *log_path);

/* Waits for pid to exit for at most timeout_ms. Returns 0 and the wait status, or -1. */
int hk_test_wait(pid_t pid, int timeout_ms, int *status);

/* Sends SIGTERM, waits up to timeout_ms, then SIGKILL. Returns the exit status. */
int hk_test_stop(pid_t pid, int timeout_ms);

/* The path of a built binary (HETKI_BIN_DIR/name); static storage per call site is not
 * kept: copy it if needed. */
const char *hk_test_bin(const char *name, char *buf, size_t len);

typedef struct {
    pid_t pid;
    int port;
    char dir[256];
} hk_test_redis_t;

/* Starts redis-server on a free loopback port with its data in a new temporary folder and
 * waits until it answers PING. Returns 0 or -1. */
int hk_test_redis_start(hk_test_redis_t *r);

/* Stops the server and removes its folder. */
void hk_test_redis_stop(hk_test_redis_t *r);

/* A synchronous hiredis connection to 127.0.0.1:port (checked; exits the test on failure). */
redisContext *hk_test_redis_connect(int port);

/* Writes text to <dir>/<name>.policy and stores it with `hetki policy load` against the Redis
 * at redis_port (output appended to <dir>/policy-load.log). Returns the command's exit code,
 * or -1 when the file cannot be written or the command hangs or dies. */
int hk_test_policy_load(int redis_port, const char *dir, const char *name, const char *text);

/* GET http://127.0.0.1:port/path; returns the status code (body copied, NUL terminated) or
 * -1 when the server did not answer. */
int hk_test_http_get(int port, const char *path, char *body, size_t cap);

/* The value of the unlabelled metric name on the admin endpoint at admin_port (/metrics), or
 * -1 when it is not there or the endpoint does not answer. */
long long hk_test_metric(int admin_port, const char *name);

/* Polls GET /readyz until 200 or timeout_ms. Returns 0 when ready. */
int hk_test_wait_ready(int admin_port, int timeout_ms);

/* Monotonic milliseconds. */
long long hk_test_now_ms(void);

/* Sleeps ms milliseconds. */
void hk_test_sleep_ms(int ms);

#endif
