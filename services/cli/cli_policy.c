/* cli_policy: `hetki policy load FILE | check FILE | show TENANT`. A file is validated
 * locally first (errors name the line and the field) and only a valid one is stored, as the
 * tenant's next version (services/router/lua/policy_put.lua); every router replica picks it
 * up within a poll period. One-shot commands, so plain synchronous hiredis.
 * Exit codes: 0 done, 1 invalid policy or none stored, 2 usage or unreadable file, 3 Redis
 * unreachable or failing. */
#include "cli.h"

#include "hk_config.h"
#include "rt_policy.h"

#include <hiredis/hiredis.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define S_MAX_FILE (1024 * 1024)

const char *rt_lua_get(const char *name);

static void s_usage(void) {
    fprintf(stderr, "usage: hetki policy load FILE    validate FILE and store it as its tenant's "
                    "next version\n"
                    "       hetki policy check FILE   validate FILE only\n"
                    "       hetki policy show TENANT  print the tenant's stored policy\n"
                    "Redis comes from HETKI_REDIS_HOST / HETKI_REDIS_PORT (127.0.0.1:6380).\n");
}

/* Reads path into a new NUL-terminated buffer; returns NULL after printing why. */
static char *s_read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "hetki: cannot open %s: %m\n", path);
        return NULL;
    }
    char *buf = malloc(S_MAX_FILE + 1);
    size_t n = buf ? fread(buf, 1, S_MAX_FILE + 1, f) : 0;
    int failed = !buf || ferror(f);
    fclose(f);
    if (failed || n > S_MAX_FILE) {
        fprintf(stderr, "hetki: %s: %s\n", path,
                failed ? "cannot read the file" : "larger than 1 MiB");
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    if (strlen(buf) != n) {
        fprintf(stderr, "hetki: %s: contains a NUL byte (a policy is UTF-8 text)\n", path);
        free(buf);
        return NULL;
    }
    return buf;
}

/* Reads and validates path; returns the text (caller frees) and fills p, or NULL with the
 * exit code in *code. */
static char *s_load_valid(const char *path, rt_policy_t *p, int *code) {
    char err[512];
    char *text = s_read_file(path);
    *code = 2;
    if (!text) {
        return NULL;
    }
    *code = 1;
    if (rt_policy_parse(text, p, err, sizeof err) != 0) {
        fprintf(stderr, "hetki: %s: %s\n", path, err);
        free(text);
        return NULL;
    }
    if (!p->tenant[0]) {
        fprintf(stderr,
                "hetki: %s: line 1: tenant.name: missing (a policy file names its "
                "tenant: [tenant] name = ...)\n",
                path);
        free(text);
        return NULL;
    }
    return text;
}

/* Runs a command; returns the reply, or NULL after printing the error (and frees nothing). */
static redisReply *s_command(redisContext *c, int argc, const char **argv, const size_t *lens) {
    redisReply *reply = redisCommandArgv(c, argc, argv, lens);
    if (!reply) {
        fprintf(stderr, "hetki: Redis failed: %s\n", c->errstr);
        return NULL;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        fprintf(stderr, "hetki: Redis refused %s: %s\n", argv[0], reply->str);
        freeReplyObject(reply);
        return NULL;
    }
    return reply;
}

static int s_load(const char *path) {
    rt_policy_t *p = malloc(sizeof *p);
    int code = 2;
    char *text = p ? s_load_valid(path, p, &code) : NULL;
    redisContext *c = text ? cli_redis_connect() : NULL;
    if (!c) {
        code = text ? 3 : code;
        goto cleanup;
    }
    code = 3;
    char key[RT_POLICY_NAME + 16], now[32], source[600], host[256] = "?";
    struct timeval tv;
    gettimeofday(&tv, NULL);
    gethostname(host, sizeof host - 1);
    const struct passwd *pw = getpwuid(getuid());
    const char *user = getenv("USER") ? getenv("USER") : pw ? pw->pw_name : NULL;
    snprintf(key, sizeof key, "hk:{%s}:policy", p->tenant);
    snprintf(now, sizeof now, "%lld", (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000);
    snprintf(source, sizeof source, "%s@%s:%s", user && user[0] ? user : "unknown", host, path);
    /* The tenant set first: a tenant listed without a policy yet simply uses the defaults. */
    const char *sadd[] = {"SADD", "hk:tenants", p->tenant};
    size_t sadd_lens[] = {4, 10, strlen(p->tenant)};
    redisReply *reply = s_command(c, 3, sadd, sadd_lens);
    if (!reply) {
        goto cleanup;
    }
    freeReplyObject(reply);
    const char *body = rt_lua_get("policy_put");
    const char *eval[] = {"EVAL", body, "1", key, now, "{}", source, text};
    size_t lens[8];
    for (int i = 0; i < 8; i++) {
        lens[i] = strlen(eval[i]);
    }
    reply = s_command(c, 8, eval, lens);
    if (!reply) {
        goto cleanup;
    }
    if (reply->type == REDIS_REPLY_INTEGER) {
        printf("policy tenant=%s version=%lld\n", p->tenant, reply->integer);
        code = 0;
    } else {
        fprintf(stderr, "hetki: unexpected reply from policy_put (type %d)\n", reply->type);
    }
    freeReplyObject(reply);
cleanup:
    if (c) {
        redisFree(c);
    }
    free(text);
    free(p);
    return code;
}

static int s_check(const char *path) {
    rt_policy_t *p = malloc(sizeof *p);
    int code = 2;
    char *text = p ? s_load_valid(path, p, &code) : NULL;
    if (text) {
        printf("ok tenant=%s status=%s queues=", p->tenant,
               p->status == RT_TENANT_SUSPENDED ? "suspended" : "active");
        for (size_t i = 0; i < p->n_queues; i++) {
            printf("%s%s", i ? "," : "", p->queues[i].name);
        }
        printf(" lexicon_entries=fi:%zu+%zu,sv:%zu+%zu,en:%zu+%zu\n",
               p->lexicons[RT_LANG_FI].n_urgent, p->lexicons[RT_LANG_FI].n_personal,
               p->lexicons[RT_LANG_SV].n_urgent, p->lexicons[RT_LANG_SV].n_personal,
               p->lexicons[RT_LANG_EN].n_urgent, p->lexicons[RT_LANG_EN].n_personal);
        code = 0;
    }
    free(text);
    free(p);
    return code;
}

static int s_show(const char *tenant) {
    if (!rt_policy_name_valid(tenant)) {
        fprintf(stderr, "hetki: \"%s\" is not a tenant name (a-z, 0-9, _ and -)\n", tenant);
        return 2;
    }
    redisContext *c = cli_redis_connect();
    if (!c) {
        return 3;
    }
    char key[RT_POLICY_NAME + 16];
    snprintf(key, sizeof key, "hk:{%s}:policy", tenant);
    const char *argv[] = {"HMGET", key, "version", "text", "loaded_at_ms", "source"};
    size_t lens[6];
    for (int i = 0; i < 6; i++) {
        lens[i] = strlen(argv[i]);
    }
    int code = 3;
    redisReply *r = s_command(c, 6, argv, lens);
    if (r && (r->type != REDIS_REPLY_ARRAY || r->elements != 4)) {
        fprintf(stderr, "hetki: unexpected reply to HMGET\n");
    } else if (r && (r->element[0]->type != REDIS_REPLY_STRING ||
                     r->element[1]->type != REDIS_REPLY_STRING)) {
        fprintf(stderr, "hetki: tenant %s has no stored policy (it uses the built-in defaults)\n",
                tenant);
        code = 1;
    } else if (r) {
        char when[64] = "?";
        const redisReply *at = r->element[2], *src = r->element[3];
        if (at->type == REDIS_REPLY_STRING) {
            time_t secs = (time_t)(atoll(at->str) / 1000);
            struct tm tm;
            if (gmtime_r(&secs, &tm)) {
                strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
            }
        }
        const redisReply *text = r->element[1];
        printf("# tenant=%s version=%s loaded_at=%s source=%s\n", tenant, r->element[0]->str, when,
               src->type == REDIS_REPLY_STRING ? src->str : "?");
        fwrite(text->str, 1, text->len, stdout);
        if (text->len == 0 || text->str[text->len - 1] != '\n') {
            putchar('\n');
        }
        code = 0;
    }
    if (r) {
        freeReplyObject(r);
    }
    redisFree(c);
    return code;
}

int cli_policy(int argc, char **argv) {
    if (argc != 2) {
        s_usage();
        return 2;
    }
    if (!strcmp(argv[0], "load")) {
        return s_load(argv[1]);
    }
    if (!strcmp(argv[0], "check")) {
        return s_check(argv[1]);
    }
    if (!strcmp(argv[0], "show")) {
        return s_show(argv[1]);
    }
    s_usage();
    return 2;
}
