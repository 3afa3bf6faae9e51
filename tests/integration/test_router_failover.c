/* test_router_failover: two router replicas on one real Redis take 10,000 contacts from four
 * submitter processes while one replica is killed with SIGKILL mid-run. Afterwards every
 * acked contact is in Redis exactly once and none is lost; resubmitting comes back flagged
 * duplicate with the same ids; garbage on the bus gets error replies and the surviving
 * replica keeps serving. */
#include "hk_test.h"
#include "hk_test_proc.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "hk_codec.h"
#include "hk_strmap.h"

#define S_SUBMITTERS 4
#define S_PER_SUBMITTER 2500
#define S_TOTAL (S_SUBMITTERS * S_PER_SUBMITTER)

typedef struct {
    pid_t pid;
    int admin_port;
    char log[300];
} s_router_t;

static char s_dir[256];

static void s_start_router(s_router_t *rt, int redis_port, int index) {
    char bin[300], redis[48], admin[48], instance[64];
    rt->admin_port = hk_test_free_port();
    snprintf(redis, sizeof redis, "HETKI_REDIS_PORT=%d", redis_port);
    snprintf(admin, sizeof admin, "HETKI_ADMIN_PORT=%d", rt->admin_port);
    snprintf(instance, sizeof instance, "HETKI_INSTANCE=router-test-%d", index);
    snprintf(rt->log, sizeof rt->log, "%s/router-%d.log", s_dir, index);
    const char *env[] = {redis,
                         admin,
                         instance,
                         "HETKI_ROUTER_CONTACTS_PORT=0",
                         "HETKI_ROUTER_EVENTS_PORT=0",
                         "HETKI_REGISTRY_TTL_MS=1500",
                         NULL};
    const char *argv[] = {hk_test_bin("hetki-router", bin, sizeof bin), NULL};
    rt->pid = hk_test_spawn(argv, env, rt->log);
    HK_CHECK(hk_test_wait_ready(rt->admin_port, 20000) == 0, "router %d not ready (see %s)", index,
             rt->log);
}

static pid_t s_start_loadgen(int redis_port, const char *prefix, int count, const char *out,
                             const char *min_routers) {
    char bin[300], redis[48], n[16], log[300];
    snprintf(redis, sizeof redis, "HETKI_REDIS_PORT=%d", redis_port);
    snprintf(n, sizeof n, "%d", count);
    snprintf(log, sizeof log, "%s/%s.log", s_dir, prefix);
    const char *env[] = {redis, NULL};
    const char *argv[] = {hk_test_bin("hetki-loadgen", bin, sizeof bin),
                          "--count",
                          n,
                          "--window",
                          "64",
                          "--rate",
                          "1500",
                          "--tenant",
                          "it",
                          "--prefix",
                          prefix,
                          "--out",
                          out,
                          "--urgent-every",
                          "7",
                          "--min-routers",
                          min_routers,
                          "--deadline-ms",
                          "60000",
                          NULL};
    return hk_test_spawn(argv, env, log);
}

static long long s_zcard(redisContext *c, const char *key) {
    redisReply *r = redisCommand(c, "ZCARD %s", key);
    HK_CHECK(r && r->type == REDIS_REPLY_INTEGER, "ZCARD %s failed", key);
    long long n = r->integer;
    freeReplyObject(r);
    return n;
}

/* Reads "<key> <id> <dup>" lines into map key -> id (strdup'd); returns the line count. */
static int s_read_acks(const char *path, hk_strmap_t *map, int *dups) {
    FILE *f = fopen(path, "r");
    HK_CHECK(f, "cannot open %s", path);
    char key[160], id[64];
    int dup, n = 0;
    while (fscanf(f, "%159s %63s %d", key, id, &dup) == 3) {
        HK_CHECK(hk_strmap_get(map, key) == NULL || dups, "dedupe key %s acked twice", key);
        free(hk_strmap_put(map, key, strdup(id)));
        if (dups) {
            *dups += dup;
        }
        n++;
    }
    fclose(f);
    return n;
}

/* The resends= figure of a submitter's summary line in its log. */
static long s_resends(const char *prefix) {
    char path[300], line[512];
    snprintf(path, sizeof path, "%s/%s.log", s_dir, prefix);
    FILE *f = fopen(path, "r");
    HK_CHECK(f, "cannot open %s", path);
    long resends = -1;
    while (fgets(line, sizeof line, f)) {
        const char *p = strstr(line, " resends=");
        if (strncmp(line, "loadgen ", 8) == 0 && p) {
            resends = atol(p + 9);
        }
    }
    fclose(f);
    HK_CHECK(resends >= 0, "no summary line in %s", path);
    return resends;
}

/* Sends raw frames from a DEALER and returns the error text of the Ack that comes back
 * (empty string when the reply is an ack without error, NULL when none came). */
static char *s_raw_request(void *zctx, const char *endpoint, const void *frame, size_t len,
                           int with_delimiter) {
    static char text[256];
    void *s = zmq_socket(zctx, ZMQ_DEALER);
    int timeout = 3000, linger = 0;
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    HK_CHECK(zmq_connect(s, endpoint) == 0, "connect %s", endpoint);
    if (with_delimiter) {
        zmq_send(s, "", 0, ZMQ_SNDMORE);
    }
    zmq_send(s, frame, len, 0);
    char *result = NULL;
    uint8_t buf[8192];
    int more = 1, last = -1;
    while (more) {
        last = zmq_recv(s, buf, sizeof buf, 0);
        if (last < 0) {
            break;
        }
        size_t sz = sizeof more;
        zmq_getsockopt(s, ZMQ_RCVMORE, &more, &sz);
    }
    if (last >= 0) {
        char err[160];
        hk_envelope_t *env = hk_codec_decode(buf, (size_t)last, err, sizeof err);
        HK_CHECK(env && env->body_case == HETKI__V1__ENVELOPE__BODY_ACK, "reply is no ack: %s",
                 env ? "other body" : err);
        snprintf(text, sizeof text, "%s", env->ack->error_text);
        hk_codec_free(&env);
        result = text;
    }
    zmq_close(s);
    return result;
}

static void s_check_garbage(redisContext *c, int admin_port) {
    redisReply *r = redisCommand(c, "KEYS hk:{registry}:inst:router/*");
    HK_CHECK(r && r->type == REDIS_REPLY_ARRAY && r->elements >= 1, "no router registered");
    redisReply *ep = redisCommand(c, "HGET %s ep:contacts", r->element[0]->str);
    HK_CHECK(ep && ep->type == REDIS_REPLY_STRING, "router has no contacts endpoint");
    char endpoint[160];
    snprintf(endpoint, sizeof endpoint, "%s", ep->str);
    freeReplyObject(ep);
    freeReplyObject(r);

    void *zctx = zmq_ctx_new();
    char *text = s_raw_request(zctx, endpoint, "\x01\x02garbage\xff", 10, 1);
    HK_CHECK(text && strstr(text, "malformed"), "garbage: %s", text ? text : "no reply");
    uint8_t unknown[] = {0x08, 0x01, 0xf8, 0x06, 0x01}; /* version 1 + unknown field 111 */
    text = s_raw_request(zctx, endpoint, unknown, sizeof unknown, 1);
    HK_CHECK(text && strstr(text, "unknown field"), "unknown field: %s", text ? text : "-");
    text = s_raw_request(zctx, endpoint, "no delimiter", 12, 0);
    HK_CHECK(text && strstr(text, "delimiter"), "no delimiter: %s", text ? text : "no reply");
    static uint8_t big[HK_CODEC_MAX_FRAME + 10];
    memset(big, 0x41, sizeof big);
    text = s_raw_request(zctx, endpoint, big, sizeof big, 1);
    /* Over ZMQ_MAXMSGSIZE the transport drops the peer; under it the codec refuses: either
     * way no crash, which the next request proves. */
    (void)text;
    zmq_ctx_term(zctx);

    long long garbage = hk_test_metric(admin_port, "hetki_router_bus_garbage_total");
    HK_CHECK(garbage >= 3, "garbage not counted: %lld (-1: missing)", garbage);
}

int main(void) {
    snprintf(s_dir, sizeof s_dir, "/tmp/hetki-it-failover-XXXXXX");
    HK_CHECK(mkdtemp(s_dir), "mkdtemp");
    hk_test_redis_t redis;
    HK_CHECK(hk_test_redis_start(&redis) == 0, "redis-server did not start");
    s_router_t routers[2];
    s_start_router(&routers[0], redis.port, 0);
    s_start_router(&routers[1], redis.port, 1);
    redisContext *c = hk_test_redis_connect(redis.port);

    pid_t gens[S_SUBMITTERS];
    char outs[S_SUBMITTERS][300], prefix[32];
    for (int i = 0; i < S_SUBMITTERS; i++) {
        snprintf(prefix, sizeof prefix, "sub%d", i);
        snprintf(outs[i], sizeof outs[i], "%s/acks-%d.txt", s_dir, i);
        gens[i] = s_start_loadgen(redis.port, prefix, S_PER_SUBMITTER, outs[i], "2");
    }
    /* Kill replica 0 once a fifth of the contacts are stored. */
    long long until = hk_test_now_ms() + 120000;
    while (s_zcard(c, "hk:{it}:contacts") < S_TOTAL / 5 && hk_test_now_ms() < until) {
        hk_test_sleep_ms(20);
    }
    long long at_kill = s_zcard(c, "hk:{it}:contacts");
    HK_CHECK(at_kill < S_TOTAL, "the run finished before the kill (%lld stored)", at_kill);
    /* Freeze it first so that submissions pile up in it unanswered: a replica this fast is
     * often idle between the submitters' paced bursts, and the kill must hit work in flight. */
    kill(routers[0].pid, SIGSTOP);
    hk_test_sleep_ms(300);
    kill(routers[0].pid, SIGKILL);
    waitpid(routers[0].pid, NULL, 0);
    fprintf(stderr, "killed router 0 after %lld contacts were stored\n", at_kill);

    for (int i = 0; i < S_SUBMITTERS; i++) {
        int status = 0;
        HK_CHECK(hk_test_wait(gens[i], 240000, &status) == 0, "submitter %d hangs", i);
        HK_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                 "submitter %d failed (see %s/sub%d.log)", i, s_dir, i);
    }

    /* The killed replica's registration expires with its TTL (1.5 s here). */
    long long expire_by = hk_test_now_ms() + 5000;
    for (;;) {
        redisReply *r = redisCommand(c, "EXISTS hk:{registry}:inst:router/router-test-0");
        int exists = r && r->type == REDIS_REPLY_INTEGER && r->integer == 1;
        freeReplyObject(r);
        if (!exists) {
            break;
        }
        HK_CHECK(hk_test_now_ms() < expire_by, "the dead replica is still registered");
        hk_test_sleep_ms(100);
    }

    /* The kill happened mid-run: submissions in flight to the dead replica were resent. */
    long resends = 0;
    for (int i = 0; i < S_SUBMITTERS; i++) {
        snprintf(prefix, sizeof prefix, "sub%d", i);
        resends += s_resends(prefix);
    }
    HK_CHECK(resends > 0, "no submission was resent: the kill did not hit in-flight work");
    fprintf(stderr, "%ld submissions were resent to the surviving replica\n", resends);

    /* Every acked contact is stored exactly once, with its own dedupe key. */
    hk_strmap_t *acked = hk_strmap_new();
    int lines = 0;
    for (int i = 0; i < S_SUBMITTERS; i++) {
        lines += s_read_acks(outs[i], acked, NULL);
    }
    HK_CHECK_INT_EQ(lines, S_TOTAL);
    HK_CHECK_INT_EQ(hk_strmap_size(acked), S_TOTAL);
    HK_CHECK_INT_EQ(s_zcard(c, "hk:{it}:contacts"), S_TOTAL);
    for (int i = 0; i < S_SUBMITTERS; i++) {
        for (int k = 0; k < S_PER_SUBMITTER; k++) {
            char key[64];
            snprintf(key, sizeof key, "sub%d-%d", i, k);
            const char *id = hk_strmap_get(acked, key);
            HK_CHECK(id, "%s was never acked", key);
            redisReply *r = redisCommand(c, "HMGET hk:{it}:contact:%s dedupe_key state", id);
            HK_CHECK(r && r->type == REDIS_REPLY_ARRAY && r->element[0]->type == REDIS_REPLY_STRING,
                     "contact %s (%s) is not in redis", id, key);
            HK_CHECK_STR_EQ(r->element[0]->str, key);
            freeReplyObject(r);
            r = redisCommand(c, "GET hk:{it}:dedupe:chat:%s", key);
            HK_CHECK(r && r->type == REDIS_REPLY_STRING && !strcmp(r->str, id),
                     "dedupe key %s does not point to %s", key, id);
            freeReplyObject(r);
        }
    }
    long long queued = s_zcard(c, "hk:{it}:q:async:en") + s_zcard(c, "hk:{it}:q:human_chat:en");
    HK_CHECK_INT_EQ(queued, S_TOTAL);

    /* Resubmission: the same keys come back as duplicates of the same contacts. */
    char dup_out[300];
    snprintf(dup_out, sizeof dup_out, "%s/acks-dup.txt", s_dir);
    pid_t again = s_start_loadgen(redis.port, "sub1", 500, dup_out, "1");
    int status = 0;
    HK_CHECK(hk_test_wait(again, 120000, &status) == 0 && WIFEXITED(status) &&
                 WEXITSTATUS(status) == 0,
             "resubmission failed");
    hk_strmap_t *dups = hk_strmap_new();
    int dup_count = 0;
    HK_CHECK_INT_EQ(s_read_acks(dup_out, dups, &dup_count), 500);
    HK_CHECK_INT_EQ(dup_count, 500);
    for (int k = 0; k < 500; k++) {
        char key[64];
        snprintf(key, sizeof key, "sub1-%d", k);
        HK_CHECK_STR_EQ(hk_strmap_get(dups, key), hk_strmap_get(acked, key));
    }
    HK_CHECK_INT_EQ(s_zcard(c, "hk:{it}:contacts"), S_TOTAL);

    /* Garbage on the bus: clear errors, and the replica keeps serving. */
    s_check_garbage(c, routers[1].admin_port);
    char after_out[300];
    snprintf(after_out, sizeof after_out, "%s/acks-after.txt", s_dir);
    pid_t after = s_start_loadgen(redis.port, "after", 200, after_out, "1");
    HK_CHECK(hk_test_wait(after, 60000, &status) == 0 && WIFEXITED(status) &&
                 WEXITSTATUS(status) == 0,
             "the router stopped serving after garbage");
    HK_CHECK_INT_EQ(s_zcard(c, "hk:{it}:contacts"), S_TOTAL + 200);

    /* A graceful stop exits 0. */
    status = hk_test_stop(routers[1].pid, 10000);
    HK_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "router 1 exit status %d", status);

    hk_strmap_destroy_values(&acked, free);
    hk_strmap_destroy_values(&dups, free);
    redisFree(c);
    hk_test_redis_stop(&redis);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    HK_CHECK(system(cmd) == 0, "cleanup");
    printf("failover: %d contacts acked from %d submitters, replica killed at %lld; all stored "
           "once\n",
           S_TOTAL, S_SUBMITTERS, at_kill);
    return 0;
}
