/* hk_redis: async hiredis on libuv with reconnect, backoff, Lua script and function library
 * loading. */
#include "hk_redis.h"

#include "hk_log.h"

#include <assert.h>
#include <hiredis/adapters/libuv.h>
#include <hiredis/async.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_SCRIPTS 32
#define S_MAX_LIBRARIES 4
#define S_BACKOFF_MIN_MS 50
#define S_BACKOFF_MAX_MS 3000

typedef struct {
    char name[64];
    char *body; /* NULL for a function */
    char sha[41];
    bool ro;     /* read-only: run with EVALSHA_RO / EVAL_RO / FCALL_RO */
    int library; /* a function's library, else -1 */
} s_script_t;

struct hk_redis_t {
    uv_loop_t *loop;
    char host[256];
    int port;
    redisAsyncContext *ac;
    bool ready;
    int scripts_pending;
    s_script_t scripts[S_MAX_SCRIPTS];
    int nscripts;
    char *libraries[S_MAX_LIBRARIES];
    int nlibraries;
    uv_timer_t retry;
    int backoff_ms;
    bool destroying;
    bool started;
    hk_redis_state_fn *state_fn;
    void *state_arg;
    size_t inflight;
    char user[128];
    char password[256];
    uv_timer_t watchdog;
    uint64_t last_answer; /* uv_now when Redis last answered anything */
};

typedef struct {
    hk_redis_t *r;
    hk_redis_reply_fn *fn;
    void *arg;
    int script;   /* -1 for plain commands */
    bool retried; /* sent again after Redis lost the script or function */
    int nkeys;
    int argc;
    char **argv;
    size_t *argvlen;
} s_req_t;

static void s_connect(hk_redis_t *r);

static void s_set_ready(hk_redis_t *r, bool ready) {
    if (r->ready != ready) {
        r->ready = ready;
        HK_INFO(ready ? "redis.ready" : "redis.lost", "host=%s port=%d", r->host, r->port);
        if (r->state_fn) {
            r->state_fn(r, ready, r->state_arg);
        }
    }
}

static void s_on_retry(uv_timer_t *t) {
    s_connect(t->data);
}

static void s_schedule_reconnect(hk_redis_t *r) {
    if (r->destroying) {
        return;
    }
    uv_timer_start(&r->retry, s_on_retry, (uint64_t)r->backoff_ms, 0);
    r->backoff_ms = r->backoff_ms * 2 > S_BACKOFF_MAX_MS ? S_BACKOFF_MAX_MS : r->backoff_ms * 2;
}

/* One more script or library of the connection loaded: ready once all are. */
static void s_one_loaded(hk_redis_t *r) {
    if (--r->scripts_pending == 0) {
        r->backoff_ms = S_BACKOFF_MIN_MS;
        s_set_ready(r, true);
    }
}

/* FUNCTION LOAD answered with the library's name, or said a library of that name (the same
 * version) is there already. */
static bool s_library_loaded(const redisReply *reply) {
    return reply && (reply->type == REDIS_REPLY_STRING ||
                     (reply->type == REDIS_REPLY_ERROR && strstr(reply->str, "already exists")));
}

static void s_on_script_loaded(redisAsyncContext *ac, void *reply_, void *privdata) {
    hk_redis_t *r = ac->data;
    redisReply *reply = reply_;
    s_script_t *s = privdata;
    if (!r || r->destroying) {
        return;
    }
    r->last_answer = uv_now(r->loop);
    if (!reply || reply->type != REDIS_REPLY_STRING || reply->len != 40) {
        HK_ERROR("redis.script_load_failed", "script=%s error=\"%s\"", s->name,
                 reply && reply->type == REDIS_REPLY_ERROR ? reply->str : "no reply");
        return; /* the connection stays not ready; a reconnect retries */
    }
    memcpy(s->sha, reply->str, 40);
    s->sha[40] = '\0';
    s_one_loaded(r);
}

/* A library (privdata: its slot in libraries) loaded, or already there under its name. */
static void s_on_library_loaded(redisAsyncContext *ac, void *reply_, void *privdata) {
    hk_redis_t *r = ac->data;
    redisReply *reply = reply_;
    if (!r || r->destroying) {
        return;
    }
    int index = (int)((char **)privdata - r->libraries);
    r->last_answer = uv_now(r->loop);
    if (!s_library_loaded(reply)) {
        HK_ERROR("redis.library_load_failed", "library=%d error=\"%s\"", index,
                 reply && reply->type == REDIS_REPLY_ERROR ? reply->str : "no reply");
        return; /* the connection stays not ready; a reconnect retries */
    }
    s_one_loaded(r);
}

static void s_load_scripts(hk_redis_t *r);

static void s_on_auth(redisAsyncContext *ac, void *reply_, void *privdata) {
    hk_redis_t *r = ac->data;
    redisReply *reply = reply_;
    if (!r || r->destroying || !reply) {
        return;
    }
    r->last_answer = uv_now(r->loop);
    if (reply->type == REDIS_REPLY_ERROR) {
        /* Wrong credentials stay wrong: keep retrying with backoff, loudly. */
        HK_ERROR("redis.auth_failed", "host=%s port=%d user=%s error=\"%s\"", r->host, r->port,
                 r->user[0] ? r->user : "default", reply->str);
        redisAsyncDisconnect(ac);
        return;
    }
    s_load_scripts(r);
}

static void s_on_connect(const redisAsyncContext *ac, int status) {
    hk_redis_t *r = ac->data;
    if (status != REDIS_OK) {
        HK_WARN("redis.connect_failed", "host=%s port=%d error=\"%s\" retry_ms=%d", r->host,
                r->port, ac->errstr, r->backoff_ms);
        r->ac = NULL; /* hiredis frees the context after this callback */
        s_schedule_reconnect(r);
        return;
    }
    HK_INFO("redis.connected", "host=%s port=%d scripts=%d", r->host, r->port, r->nscripts);
    r->last_answer = uv_now(r->loop);
    if (r->password[0]) {
        if (r->user[0]) {
            redisAsyncCommand(r->ac, s_on_auth, NULL, "AUTH %s %s", r->user, r->password);
        } else {
            redisAsyncCommand(r->ac, s_on_auth, NULL, "AUTH %s", r->password);
        }
        return;
    }
    s_load_scripts(r);
}

static void s_load_scripts(hk_redis_t *r) {
    r->scripts_pending = r->nlibraries;
    for (int i = 0; i < r->nscripts; i++) {
        r->scripts_pending += r->scripts[i].body != NULL;
    }
    if (r->scripts_pending == 0) {
        r->backoff_ms = S_BACKOFF_MIN_MS;
        s_set_ready(r, true);
        return;
    }
    for (int i = 0; i < r->nlibraries; i++) {
        redisAsyncCommand(r->ac, s_on_library_loaded, &r->libraries[i], "FUNCTION LOAD %s",
                          r->libraries[i]);
    }
    for (int i = 0; i < r->nscripts; i++) {
        if (r->scripts[i].body) {
            redisAsyncCommand(r->ac, s_on_script_loaded, &r->scripts[i], "SCRIPT LOAD %s",
                              r->scripts[i].body);
        }
    }
}

static void s_on_disconnect(const redisAsyncContext *ac, int status) {
    hk_redis_t *r = ac->data;
    if (!r) {
        return;
    }
    r->ac = NULL;
    s_set_ready(r, false);
    if (!r->destroying) {
        HK_WARN("redis.disconnected", "host=%s port=%d error=\"%s\" retry_ms=%d", r->host, r->port,
                status == REDIS_OK ? "closed" : ac->errstr, r->backoff_ms);
        s_schedule_reconnect(r);
    }
}

static void s_connect(hk_redis_t *r) {
    if (r->destroying || r->ac) {
        return;
    }
    redisAsyncContext *ac = redisAsyncConnect(r->host, r->port);
    if (!ac || ac->err) {
        HK_WARN("redis.connect_failed", "host=%s port=%d error=\"%s\"", r->host, r->port,
                ac ? ac->errstr : "out of memory");
        if (ac) {
            redisAsyncFree(ac);
        }
        s_schedule_reconnect(r);
        return;
    }
    ac->data = r;
    r->ac = ac;
    r->last_answer = uv_now(r->loop); /* the connect timeout counts from here */
    redisLibuvAttach(ac, r->loop);
    redisAsyncSetConnectCallback(ac, s_on_connect);
    redisAsyncSetDisconnectCallback(ac, s_on_disconnect);
}

/* Drops a connection that sits on unanswered commands (a hung server or network), so that
 * the callers' callbacks run (NULL replies) and a new connection is made. */
static void s_on_watchdog(uv_timer_t *t) {
    hk_redis_t *r = t->data;
    uint64_t silent = uv_now(r->loop) - r->last_answer;
    /* Stalled: commands unanswered; or stuck: connecting, authenticating or loading scripts
     * for too long (the libuv adapter drops a refused connect's poll error, so hiredis never
     * reports it and nothing else would retry). */
    int stalled = r->inflight > 0 && silent > HK_REDIS_STALL_MS;
    int stuck = !r->ready && silent > HK_REDIS_CONNECT_MS;
    if (r->ac && !r->destroying && (stalled || stuck)) {
        HK_ERROR(stalled ? "redis.stalled" : "redis.connect_timeout",
                 "host=%s port=%d inflight=%zu silent_ms=%llu", r->host, r->port, r->inflight,
                 (unsigned long long)silent);
        redisAsyncContext *ac = r->ac;
        r->ac = NULL;
        s_set_ready(r, false);
        redisAsyncFree(ac); /* outside any hiredis callback: callbacks get NULL now */
        s_schedule_reconnect(r);
    }
}

hk_redis_t *hk_redis_new(uv_loop_t *loop, const char *host, int port) {
    hk_redis_t *r = calloc(1, sizeof *r);
    assert(r);
    r->loop = loop;
    snprintf(r->host, sizeof r->host, "%s", host);
    r->port = port;
    r->backoff_ms = S_BACKOFF_MIN_MS;
    uv_timer_init(loop, &r->retry);
    r->retry.data = r;
    uv_timer_init(loop, &r->watchdog);
    r->watchdog.data = r;
    return r;
}

void hk_redis_auth(hk_redis_t *r, const char *user, const char *password) {
    assert(r && !r->started);
    snprintf(r->user, sizeof r->user, "%s", user ? user : "");
    snprintf(r->password, sizeof r->password, "%s", password ? password : "");
}

int hk_redis_script(hk_redis_t *r, const char *name, const char *body) {
    assert(r && !r->started && r->nscripts < S_MAX_SCRIPTS);
    s_script_t *s = &r->scripts[r->nscripts];
    snprintf(s->name, sizeof s->name, "%s", name);
    s->body = strdup(body);
    assert(s->body);
    s->ro = false;
    s->library = -1;
    return r->nscripts++;
}

int hk_redis_script_ro(hk_redis_t *r, const char *name, const char *body) {
    int handle = hk_redis_script(r, name, body);
    r->scripts[handle].ro = true;
    return handle;
}

int hk_redis_library(hk_redis_t *r, const char *code) {
    assert(r && !r->started && r->nlibraries < S_MAX_LIBRARIES && code);
    r->libraries[r->nlibraries] = strdup(code);
    assert(r->libraries[r->nlibraries]);
    return r->nlibraries++;
}

int hk_redis_function(hk_redis_t *r, int library, const char *name, bool ro) {
    assert(r && !r->started && r->nscripts < S_MAX_SCRIPTS);
    assert(library >= 0 && library < r->nlibraries && strlen(name) < sizeof r->scripts[0].name);
    s_script_t *s = &r->scripts[r->nscripts];
    snprintf(s->name, sizeof s->name, "%s", name);
    s->body = NULL;
    s->ro = ro;
    s->library = library;
    return r->nscripts++;
}

void hk_redis_on_state(hk_redis_t *r, hk_redis_state_fn *fn, void *arg) {
    r->state_fn = fn;
    r->state_arg = arg;
}

void hk_redis_start(hk_redis_t *r) {
    r->started = true;
    uv_timer_start(&r->watchdog, s_on_watchdog, 1000, 1000);
    s_connect(r);
}

bool hk_redis_ready(const hk_redis_t *r) {
    return r->ready;
}

size_t hk_redis_inflight(const hk_redis_t *r) {
    return r->inflight;
}

static int s_send(hk_redis_t *r, s_req_t *req, bool by_sha);

static void s_on_reply(redisAsyncContext *ac, void *reply_, void *privdata) {
    s_req_t *req = privdata;
    hk_redis_t *r = req->r;
    redisReply *reply = reply_;
    r->inflight--;
    if (reply) {
        r->last_answer = uv_now(r->loop);
    }
    /* Redis lost the script (SCRIPT FLUSH, a new server): EVAL it; or lost the function's
     * library: load it and call again, once. */
    if (reply && req->script >= 0 && !req->retried && reply->type == REDIS_REPLY_ERROR &&
        (strncmp(reply->str, "NOSCRIPT", 8) == 0 ||
         strncmp(reply->str, "ERR Function not found", 22) == 0) &&
        !r->destroying) {
        HK_WARN("redis.noscript", "script=%s action=%s", r->scripts[req->script].name,
                r->scripts[req->script].body ? "eval" : "load_library");
        req->retried = true;
        if (s_send(r, req, false) == 0) {
            return;
        }
        reply = NULL;
    }
    if (req->fn) {
        req->fn(r, reply, req->arg);
    }
    free(req);
}

static void s_on_library_reloaded(redisAsyncContext *ac, void *reply_, void *privdata) {
    (void)privdata;
    hk_redis_t *r = ac->data;
    redisReply *reply = reply_;
    if (r && reply && reply->type == REDIS_REPLY_ERROR && !s_library_loaded(reply)) {
        HK_ERROR("redis.library_load_failed", "error=\"%s\"", reply->str);
    }
}

/* Sends EVALSHA sha (or EVAL body) nkeys args..., FCALL function nkeys args... (after loading
 * its library again when !by_sha), or the plain command. */
static int s_send(hk_redis_t *r, s_req_t *req, bool by_sha) {
    if (!r->ac) {
        return -1;
    }
    int rc;
    if (req->script < 0) {
        rc = redisAsyncCommandArgv(r->ac, s_on_reply, req, req->argc, (const char **)req->argv,
                                   req->argvlen);
    } else {
        const char *argv[req->argc + 3];
        size_t lens[req->argc + 3];
        char nkeys[16];
        s_script_t *s = &r->scripts[req->script];
        if (!s->body) {
            if (!by_sha) { /* pipelined: Redis loads the library before it runs the call */
                redisAsyncCommand(r->ac, s_on_library_reloaded, NULL, "FUNCTION LOAD %s",
                                  r->libraries[s->library]);
            }
            argv[0] = s->ro ? "FCALL_RO" : "FCALL";
            argv[1] = s->name;
        } else {
            argv[0] = by_sha ? (s->ro ? "EVALSHA_RO" : "EVALSHA") : (s->ro ? "EVAL_RO" : "EVAL");
            argv[1] = by_sha ? s->sha : s->body;
        }
        snprintf(nkeys, sizeof nkeys, "%d", req->nkeys);
        argv[2] = nkeys;
        for (int i = 0; i < 3; i++) {
            lens[i] = strlen(argv[i]);
        }
        for (int i = 0; i < req->argc; i++) {
            argv[i + 3] = req->argv[i];
            lens[i + 3] = req->argvlen[i];
        }
        rc = redisAsyncCommandArgv(r->ac, s_on_reply, req, req->argc + 3, argv, lens);
    }
    if (rc != REDIS_OK) {
        return -1;
    }
    r->inflight++;
    return 0;
}

/* Copies the arguments into one block owned by the request. */
static s_req_t *s_req_new(hk_redis_t *r, int script, int nkeys, int argc, const char **argv,
                          const size_t *argvlen, hk_redis_reply_fn *fn, void *arg) {
    size_t total = 0;
    for (int i = 0; i < argc; i++) {
        total += argvlen[i] + 1;
    }
    size_t head = sizeof(s_req_t) + (size_t)argc * (sizeof(char *) + sizeof(size_t));
    s_req_t *req = malloc(head + total);
    assert(req);
    req->r = r;
    req->fn = fn;
    req->arg = arg;
    req->script = script;
    req->retried = false;
    req->nkeys = nkeys;
    req->argc = argc;
    req->argv = (char **)(req + 1);
    req->argvlen = (size_t *)(req->argv + argc);
    char *p = (char *)req + head;
    for (int i = 0; i < argc; i++) {
        memcpy(p, argv[i], argvlen[i]);
        p[argvlen[i]] = '\0';
        req->argv[i] = p;
        req->argvlen[i] = argvlen[i];
        p += argvlen[i] + 1;
    }
    return req;
}

int hk_redis_eval(hk_redis_t *r, int script, int nkeys, int argc, const char **argv,
                  const size_t *argvlen, hk_redis_reply_fn *fn, void *arg) {
    assert(script >= 0 && script < r->nscripts && nkeys <= argc);
    if (!r->ready) {
        return -1;
    }
    s_req_t *req = s_req_new(r, script, nkeys, argc, argv, argvlen, fn, arg);
    if (s_send(r, req, true) != 0) {
        free(req);
        return -1;
    }
    return 0;
}

int hk_redis_command(hk_redis_t *r, int argc, const char **argv, const size_t *argvlen,
                     hk_redis_reply_fn *fn, void *arg) {
    if (!r->ready) {
        return -1;
    }
    s_req_t *req = s_req_new(r, -1, 0, argc, argv, argvlen, fn, arg);
    if (s_send(r, req, true) != 0) {
        free(req);
        return -1;
    }
    return 0;
}

static void s_on_watchdog_closed(uv_handle_t *h) {
    hk_redis_t *r = h->data;
    for (int i = 0; i < r->nscripts; i++) {
        free(r->scripts[i].body);
    }
    for (int i = 0; i < r->nlibraries; i++) {
        free(r->libraries[i]);
    }
    free(r);
}

static void s_on_retry_closed(uv_handle_t *h) {
    hk_redis_t *r = h->data;
    uv_close((uv_handle_t *)&r->watchdog, s_on_watchdog_closed);
}

/* Frees the hiredis context outside any hiredis callback (hiredis defers a free requested
 * from inside a callback, which could outlive us), then releases the timer and ourselves. */
static void s_finish_destroy(uv_timer_t *t) {
    hk_redis_t *r = t->data;
    if (r->ac) {
        redisAsyncContext *ac = r->ac;
        r->ac = NULL;
        redisAsyncFree(ac); /* pending callbacks run with NULL replies */
    }
    uv_close((uv_handle_t *)&r->retry, s_on_retry_closed);
}

void hk_redis_destroy(hk_redis_t **r_p) {
    assert(r_p);
    hk_redis_t *r = *r_p;
    if (!r) {
        return;
    }
    *r_p = NULL;
    r->destroying = true;
    uv_timer_stop(&r->watchdog);
    uv_timer_stop(&r->retry);
    uv_timer_start(&r->retry, s_finish_destroy, 0, 0);
}
