/* test_policy_reload: `hetki policy load/show` against a real redis-server, with an
 * rt_policy_store on a libuv loop in this process: version 1 is seen with its values, a
 * version 2 is picked up within two poll periods, an invalid file is refused (exit 1) and
 * changes nothing, a stored text that does not parse keeps the previous policy, a tenant
 * loaded later is discovered through hk:tenants, and `hetki policy show` prints the text. */
#include "hk_test.h"
#include "hk_test_proc.h"

#include "hk_log.h"
#include "hk_redis.h"
#include "rt_policy_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#define S_POLL_MS 300

static char s_dir[256];
static int s_redis_port;
static uv_loop_t s_loop;
static uv_timer_t s_wake; /* keeps uv_run(UV_RUN_ONCE) returning */
static rt_policy_store_t *s_store;

static void s_on_wake(uv_timer_t *t) {
}

static void s_write(const char *name, const char *text, char *path, size_t len) {
    snprintf(path, len, "%s/%s", s_dir, name);
    FILE *f = fopen(path, "w");
    HK_CHECK(f != NULL, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

/* Runs `hetki policy ARGS...` to completion; returns its exit code and its output in out. */
static int s_hetki(char *out, size_t cap, const char *a1, const char *a2, const char *a3) {
    static int calls;
    char bin[300], log[300], port[48];
    snprintf(log, sizeof log, "%s/hetki-%d.log", s_dir, ++calls);
    snprintf(port, sizeof port, "HETKI_REDIS_PORT=%d", s_redis_port);
    const char *env[] = {port, "HETKI_REDIS_HOST=127.0.0.1", NULL};
    const char *argv[] = {hk_test_bin("hetki", bin, sizeof bin), a1, a2, a3, NULL};
    int status = 0;
    pid_t pid = hk_test_spawn(argv, env, log);
    HK_CHECK(hk_test_wait(pid, 20000, &status) == 0, "hetki %s %s did not finish", a1, a2);
    FILE *f = fopen(log, "r");
    size_t n = f ? fread(out, 1, cap - 1, f) : 0;
    out[n] = '\0';
    if (f) {
        fclose(f);
    }
    HK_CHECK(WIFEXITED(status), "hetki %s %s died: %s", a1, a2, out);
    return WEXITSTATUS(status);
}

/* Runs the loop until tenant's version is want or timeout_ms passes; returns the ms taken or
 * -1. */
static long long s_wait_version(const char *tenant, long want, int timeout_ms) {
    long long start = hk_test_now_ms();
    while (hk_test_now_ms() - start < timeout_ms) {
        if (rt_policy_store_version(s_store, tenant) == want) {
            return hk_test_now_ms() - start;
        }
        uv_run(&s_loop, UV_RUN_ONCE);
    }
    return rt_policy_store_version(s_store, tenant) == want ? timeout_ms : -1;
}

static void s_spin(int ms) {
    long long start = hk_test_now_ms();
    while (hk_test_now_ms() - start < ms) {
        uv_run(&s_loop, UV_RUN_ONCE);
    }
}

static long s_stored_version(const char *tenant) {
    redisContext *c = hk_test_redis_connect(s_redis_port);
    redisReply *r = redisCommand(c, "HGET hk:{%s}:policy version", tenant);
    long v = r && r->type == REDIS_REPLY_STRING ? atol(r->str) : 0;
    freeReplyObject(r);
    redisFree(c);
    return v;
}

static const char *const s_v1 = "# v1 of the test tenant\n"
                                "[tenant]\nname = it\n"
                                "[agents]\noffer_lease = 25s\n"
                                "[lexicon fi]\nurgent_extra = Testisana, ÄKKIÄ\n";
static const char *const s_v2 = "# v2 of the test tenant\n"
                                "[tenant]\nname = it\nstatus = suspended\n"
                                "suspended_message = Tauko: viestisi on tallessa.\n"
                                "[agents]\noffer_lease = 40s\n";
static const char *const s_bad = "[tenant]\nname = it\n\n[agents]\noffer_lease = 40 seconds\n";
static const char *const s_v4 = "[tenant]\nname = it\n[capacity]\nchat = 25\n";
static const char *const s_other = "[tenant]\nname = it2\n[capacity]\nemail = 10\n";

int main(void) {
    char path[400], out[65536];
    hk_log_init("test", "policy-reload", HK_LOG_INFO);
    snprintf(s_dir, sizeof s_dir, "/tmp/hetki-test-policy-XXXXXX");
    HK_CHECK(mkdtemp(s_dir) != NULL, "mkdtemp");
    hk_test_redis_t redis;
    HK_CHECK(hk_test_redis_start(&redis) == 0, "redis-server did not start");
    s_redis_port = redis.port;

    /* Version 1 through the CLI. */
    s_write("v1.policy", s_v1, path, sizeof path);
    HK_CHECK_INT_EQ(s_hetki(out, sizeof out, "policy", "load", path), 0);
    HK_CHECK_CONTAINS(out, "policy tenant=it version=1");

    /* A store on a loop in this process sees it with its values. */
    uv_loop_init(&s_loop);
    uv_timer_init(&s_loop, &s_wake);
    uv_timer_start(&s_wake, s_on_wake, 10, 10);
    hk_redis_t *r = hk_redis_new(&s_loop, "127.0.0.1", s_redis_port);
    s_store = rt_policy_store_new(&s_loop, r);
    hk_redis_start(r);
    rt_policy_store_start(s_store, S_POLL_MS);
    const rt_policy_t *p = rt_policy_store_get(s_store, "fresh"); /* never seen: defaults */
    HK_CHECK_STR_EQ(p->tenant, "fresh");
    HK_CHECK_INT_EQ(p->offer_lease_ms, 20000);
    HK_CHECK(s_wait_version("it", 1, 5000) >= 0, "the store never saw version 1");
    HK_CHECK(rt_policy_store_ready(s_store), "ready after a poll");
    p = rt_policy_store_get(s_store, "it");
    HK_CHECK_STR_EQ(p->tenant, "it");
    HK_CHECK_INT_EQ(p->offer_lease_ms, 25000);
    HK_CHECK_INT_EQ(p->status, RT_TENANT_ACTIVE);
    const rt_lexicon_t *fi = &p->lexicons[RT_LANG_FI];
    HK_CHECK(fi->n_urgent >= 2 && !strcmp(fi->urgent[fi->n_urgent - 2], "testisana") &&
                 !strcmp(fi->urgent[fi->n_urgent - 1], "äkkiä"),
             "fi extras lowercased and added");
    HK_CHECK_INT_EQ(rt_policy_store_version(s_store, "fresh"), 0);
    HK_CHECK_INT_EQ(rt_policy_store_get(s_store, "fresh")->offer_lease_ms, 20000);

    /* Version 2: picked up within two poll periods. */
    s_write("v2.policy", s_v2, path, sizeof path);
    HK_CHECK_INT_EQ(s_hetki(out, sizeof out, "policy", "load", path), 0);
    HK_CHECK_CONTAINS(out, "policy tenant=it version=2");
    long long took = s_wait_version("it", 2, 2 * S_POLL_MS);
    HK_CHECK(took >= 0, "version 2 not picked up within %d ms", 2 * S_POLL_MS);
    p = rt_policy_store_get(s_store, "it");
    HK_CHECK_INT_EQ(p->offer_lease_ms, 40000);
    HK_CHECK_INT_EQ(p->status, RT_TENANT_SUSPENDED);
    HK_CHECK_STR_EQ(p->suspended_message, "Tauko: viestisi on tallessa.");
    printf("version 2 picked up after %lld ms (poll %d ms)\n", took, S_POLL_MS);

    /* An invalid file: refused with the line and field, nothing changes. */
    s_write("bad.policy", s_bad, path, sizeof path);
    HK_CHECK_INT_EQ(s_hetki(out, sizeof out, "policy", "load", path), 1);
    HK_CHECK_CONTAINS(out, "line 5: agents.offer_lease: expected a duration like 90s, 5m, 2h");
    HK_CHECK_INT_EQ(s_stored_version("it"), 2);
    s_spin(2 * S_POLL_MS);
    HK_CHECK_INT_EQ(rt_policy_store_version(s_store, "it"), 2);
    HK_CHECK_INT_EQ(rt_policy_store_get(s_store, "it")->offer_lease_ms, 40000);

    /* A stored text that does not parse (say, from a newer format): the store keeps v2. */
    redisContext *c = hk_test_redis_connect(s_redis_port);
    redisReply *reply = redisCommand(c, "HSET hk:{it}:policy version 3 text %s", "[future]\nx=1\n");
    HK_CHECK(reply && reply->type == REDIS_REPLY_INTEGER, "HSET");
    freeReplyObject(reply);
    redisFree(c);
    s_spin(3 * S_POLL_MS);
    HK_CHECK_INT_EQ(rt_policy_store_version(s_store, "it"), 2);
    HK_CHECK_INT_EQ(rt_policy_store_get(s_store, "it")->offer_lease_ms, 40000);

    /* The next valid load is version 4 and replaces it. */
    s_write("v4.policy", s_v4, path, sizeof path);
    HK_CHECK_INT_EQ(s_hetki(out, sizeof out, "policy", "load", path), 0);
    HK_CHECK_CONTAINS(out, "policy tenant=it version=4");
    HK_CHECK(s_wait_version("it", 4, 2 * S_POLL_MS) >= 0, "version 4 not picked up");
    p = rt_policy_store_get(s_store, "it");
    HK_CHECK_INT_EQ(p->cost_chat, 25);
    HK_CHECK_INT_EQ(p->offer_lease_ms, 20000); /* v4 does not set it: back to the default */
    HK_CHECK_INT_EQ(p->status, RT_TENANT_ACTIVE);

    /* A tenant loaded later is discovered through hk:tenants, without a get(). */
    s_write("other.policy", s_other, path, sizeof path);
    HK_CHECK_INT_EQ(s_hetki(out, sizeof out, "policy", "load", path), 0);
    HK_CHECK(s_wait_version("it2", 1, 2 * S_POLL_MS) >= 0, "tenant it2 not discovered");
    HK_CHECK_INT_EQ(rt_policy_store_get(s_store, "it2")->cost_email, 10);

    /* show prints the stored text with its version; unknown tenants and bad names fail. */
    HK_CHECK_INT_EQ(s_hetki(out, sizeof out, "policy", "show", "it"), 0);
    HK_CHECK_CONTAINS(out, "# tenant=it version=4 loaded_at=");
    HK_CHECK_CONTAINS(out, s_v4);
    HK_CHECK_INT_EQ(s_hetki(out, sizeof out, "policy", "show", "nobody"), 1);
    HK_CHECK_CONTAINS(out, "no stored policy");
    HK_CHECK_INT_EQ(s_hetki(out, sizeof out, "policy", "show", "Bad Name"), 2);
    HK_CHECK_INT_EQ(s_hetki(out, sizeof out, "policy", "check", path), 0);
    HK_CHECK_CONTAINS(out, "ok tenant=it2");

    /* Redis gone: load reports it (exit 3) instead of hanging or crashing. */
    rt_policy_store_destroy(&s_store);
    hk_redis_destroy(&r);
    uv_close((uv_handle_t *)&s_wake, NULL);
    uv_run(&s_loop, UV_RUN_DEFAULT);
    HK_CHECK_INT_EQ(uv_loop_close(&s_loop), 0);
    hk_test_redis_stop(&redis);
    HK_CHECK_INT_EQ(s_hetki(out, sizeof out, "policy", "load", path), 3);
    HK_CHECK_CONTAINS(out, "cannot reach Redis");

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "could not remove %s\n", s_dir);
    }
    int code = HK_TEST_EXIT();
    if (code == 0) {
        printf("test_policy_reload: ok\n");
    }
    return code;
}
