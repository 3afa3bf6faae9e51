/* test_suspension: a suspended tenant's new contacts get the polite message, are stored and
 * held (nothing lost, nothing routed); when an active policy version is loaded, every router
 * replica releases the held contacts into their queues. Real redis-server, real router, the
 * real CLI (`hetki policy load`, `hetki send`). */
#include "hk_test.h"
#include "hk_test_proc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static char s_dir[256];
static char s_redis_env[64];

/* Runs the CLI with args, captures stdout into out; returns the exit code. */
static int s_cli(char *out, size_t cap, const char *args) {
    char bin[300], cmd[1200];
    snprintf(cmd, sizeof cmd, "%s %s %s 2>&1", s_redis_env, hk_test_bin("hetki", bin, sizeof bin),
             args);
    FILE *p = popen(cmd, "r");
    HK_CHECK(p, "popen %s", cmd);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void s_policy(const char *status) {
    char path[300], out[2048], args[400];
    snprintf(path, sizeof path, "%s/sus-%s.policy", s_dir, status);
    FILE *f = fopen(path, "w");
    HK_CHECK(f, "write %s", path);
    fprintf(f,
            "[tenant]\nname = sus\nstatus = %s\n"
            "suspended_message = We are paused today; your message is saved.\n",
            status);
    fclose(f);
    snprintf(args, sizeof args, "policy load %s", path);
    HK_CHECK(s_cli(out, sizeof out, args) == 0, "policy load failed: %s", out);
}

static char *s_hget(redisContext *c, const char *id, const char *field) {
    static char value[128];
    redisReply *r = redisCommand(c, "HGET hk:{sus}:contact:%s %s", id, field);
    snprintf(value, sizeof value, "%s", r && r->type == REDIS_REPLY_STRING ? r->str : "");
    freeReplyObject(r);
    return value;
}

int main(void) {
    snprintf(s_dir, sizeof s_dir, "/tmp/hetki-it-suspend-XXXXXX");
    HK_CHECK(mkdtemp(s_dir), "mkdtemp");
    hk_test_redis_t redis;
    HK_CHECK(hk_test_redis_start(&redis) == 0, "redis-server did not start");
    snprintf(s_redis_env, sizeof s_redis_env, "HETKI_REDIS_PORT=%d", redis.port);
    s_policy("suspended");

    char bin[300], redis_env[48], admin_env[48], log[300];
    int admin = hk_test_free_port();
    snprintf(redis_env, sizeof redis_env, "HETKI_REDIS_PORT=%d", redis.port);
    snprintf(admin_env, sizeof admin_env, "HETKI_ADMIN_PORT=%d", admin);
    snprintf(log, sizeof log, "%s/router.log", s_dir);
    const char *env[] = {redis_env,
                         admin_env,
                         "HETKI_ROUTER_CONTACTS_PORT=0",
                         "HETKI_ROUTER_EVENTS_PORT=0",
                         "HETKI_ROUTER_POLICY_POLL_MS=100",
                         NULL};
    const char *argv[] = {hk_test_bin("hetki-router", bin, sizeof bin), NULL};
    pid_t router = hk_test_spawn(argv, env, log);
    HK_CHECK(hk_test_wait_ready(admin, 20000) == 0, "router not ready (see %s)", log);

    /* Suspended: acked with the message, stored, held, in no queue. */
    char out[2048];
    HK_CHECK(s_cli(out, sizeof out, "send --tenant sus --channel chat --text 'my card is lost'") ==
                 0,
             "send failed: %s", out);
    HK_CHECK_CONTAINS(out, "message=\"We are paused today; your message is saved.\"");
    char id[64] = "";
    const char *p = strstr(out, "contact_id=");
    HK_CHECK(p && sscanf(p, "contact_id=%63s", id) == 1, "no contact id in: %s", out);
    redisContext *c = hk_test_redis_connect(redis.port);
    HK_CHECK_STR_EQ(s_hget(c, id, "state"), "held");
    HK_CHECK_STR_EQ(s_hget(c, id, "text"), "my card is lost");
    redisReply *r = redisCommand(c, "ZSCORE hk:{sus}:held %s", id);
    HK_CHECK(r && r->type == REDIS_REPLY_STRING, "the contact is not in the held set");
    freeReplyObject(r);

    /* Active again: the held contact is queued by the router on its own. */
    s_policy("active");
    long long until = hk_test_now_ms() + 10000;
    while (strcmp(s_hget(c, id, "state"), "queued") != 0) {
        HK_CHECK(hk_test_now_ms() < until, "held contact not released: state=%s",
                 s_hget(c, id, "state"));
        hk_test_sleep_ms(50);
    }
    char queue[64];
    snprintf(queue, sizeof queue, "%s", s_hget(c, id, "queue"));
    r = redisCommand(c, "ZSCORE hk:{sus}:q:%s:%s %s", queue, s_hget(c, id, "lang"), id);
    HK_CHECK(r && r->type == REDIS_REPLY_STRING, "released contact is not in queue %s", queue);
    freeReplyObject(r);
    r = redisCommand(c, "ZCARD hk:{sus}:held");
    HK_CHECK(r && r->type == REDIS_REPLY_INTEGER && r->integer == 0, "held set not empty");
    freeReplyObject(r);

    /* New contacts route normally and carry no message. */
    HK_CHECK(s_cli(out, sizeof out, "send --tenant sus --channel chat --text hello") == 0,
             "send failed: %s", out);
    HK_CHECK(strstr(out, "message=") == NULL, "active tenant still sends a message: %s", out);

    redisFree(c);
    int status = hk_test_stop(router, 10000);
    HK_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "router exit status %d", status);
    hk_test_redis_stop(&redis);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    HK_CHECK(system(cmd) == 0, "cleanup");
    printf("suspension: held while suspended, released when active\n");
    return 0;
}
