/* cli_policy: `hetki policy load FILE | check FILE | show TENANT`. A file is validated
 * locally first (errors name the line and the field) and only a valid one is stored, as the
 * tenant's next version (services/router/lua/policy_put.lua); every router replica picks it
 * up within a poll period. The [phone] numbers are given to the tenant first (refused when
 * another tenant has one: phone_numbers.lua), and the phone settings hetki-phone reads are
 * written after the policy (phone_put.lua). One-shot commands, so plain synchronous hiredis.
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

/* The line of key in [section] of text (1-based), or 0: for errors found only in Redis. */
static int s_key_line(const char *text, const char *section, const char *key) {
    int line = 0, in_section = 0;
    size_t klen = strlen(key);
    for (const char *s = text; *s;) {
        const char *eol = strchr(s, '\n');
        size_t len = eol ? (size_t)(eol - s) : strlen(s);
        line++;
        while (len > 0 && (*s == ' ' || *s == '\t')) {
            s++;
            len--;
        }
        if (len > 0 && *s == '[') {
            const char *name = s + 1;
            while (*name == ' ' || *name == '\t') {
                name++;
            }
            size_t n = strlen(section);
            in_section = !strncmp(name, section, n) && (name[n] == ']' || name[n] == ' ');
        } else if (in_section && len > klen && !strncmp(s, key, klen) && strchr(" \t=", s[klen])) {
            return line;
        }
        s = eol ? eol + 1 : s + len;
    }
    return 0;
}

/* Runs a router script with KEYS[1] = key and the routing convention (now, '{}', source)
 * before n extra arguments; returns the reply or NULL after printing the error. */
static redisReply *s_script(redisContext *c, const char *name, const char *key, const char *now,
                            const char *source, size_t n, const char **extra) {
    size_t argc = 7 + n;
    const char **argv = calloc(argc, sizeof *argv);
    size_t *lens = calloc(argc, sizeof *lens);
    redisReply *reply = NULL;
    if (argv && lens) {
        const char *head[] = {"EVAL", rt_lua_get(name), "1", key, now, "{}", source};
        for (size_t i = 0; i < argc; i++) {
            argv[i] = i < 7 ? head[i] : extra[i - 7];
        }
        for (size_t i = 0; i < argc; i++) {
            lens[i] = strlen(argv[i]);
        }
        reply = s_command(c, (int)argc, argv, lens);
    }
    free(argv);
    free(lens);
    return reply;
}

/* Gives the tenant the numbers its [phone] section lists (refused, changing nothing, when
 * another tenant has one). Returns 0, 1 on a conflict (printed) or 3. */
static int s_put_numbers(redisContext *c, const char *path, const char *text, const rt_policy_t *p,
                         const char *now, const char *source) {
    const char *extra[1 + RT_PHONE_MAX_NUMBERS];
    extra[0] = p->tenant;
    for (size_t i = 0; i < p->phone.n_numbers; i++) {
        extra[1 + i] = p->phone.numbers[i];
    }
    redisReply *r = s_script(c, "phone_numbers", "hk:{phone}:numbers", now, source,
                             1 + p->phone.n_numbers, extra);
    if (!r) {
        return 3;
    }
    int code = 3;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
        r->element[0]->type == REDIS_REPLY_INTEGER) {
        code = r->element[0]->integer == 0 ? 0 : 1;
        if (code == 1) {
            fprintf(stderr,
                    "hetki: %s: line %d: phone.numbers: %s is already a number of tenant %s (a "
                    "number belongs to one tenant; remove it there first); nothing was stored\n",
                    path, s_key_line(text, "phone", "numbers"), r->element[1]->str,
                    r->element[2]->str);
        }
    } else {
        fprintf(stderr, "hetki: unexpected reply from phone_numbers\n");
    }
    freeReplyObject(r);
    return code;
}

/* Writes hk:{t}:phone, what hetki-phone reads: callback settings and static agent URIs. */
static int s_put_phone(redisContext *c, const rt_policy_t *p, long long version, const char *now,
                       const char *source) {
    static const char *const langs[] = {"fi", "sv", "en"};
    char key[RT_POLICY_NAME + 16], ver[24], window[24], attempts[16], retry[24], threshold[24];
    snprintf(key, sizeof key, "hk:{%s}:phone", p->tenant);
    snprintf(ver, sizeof ver, "%lld", version);
    snprintf(window, sizeof window, "%lld", (long long)p->phone.callback_window_ms);
    snprintf(attempts, sizeof attempts, "%d", p->phone.callback_attempts);
    snprintf(retry, sizeof retry, "%lld", (long long)p->phone.callback_retry_after_ms);
    snprintf(threshold, sizeof threshold, "%lld", (long long)p->callback_threshold_ms);
    size_t n = 0, cap = 1 + 12 + 2 * p->phone.n_agents;
    const char **extra = calloc(cap, sizeof *extra);
    char(*fields)[RT_PHONE_AGENT_ID + 8] = calloc(p->phone.n_agents + 1, sizeof *fields);
    int code = 3;
    if (extra && fields) {
        extra[n++] = ver;
        const char *pairs[] = {
            "callback_window_ms",
            window,
            "callback_attempts",
            attempts,
            "callback_retry_after_ms",
            retry,
            "callback_threshold_ms",
            threshold,
            "language",
            langs[p->phone.language >= 0 && p->phone.language < 3 ? p->phone.language : 0]};
        for (size_t i = 0; i < 10; i++) {
            extra[n++] = pairs[i];
        }
        for (size_t i = 0; i < p->phone.n_agents; i++) {
            snprintf(fields[i], sizeof fields[i], "agent:%s", p->phone.agents[i].agent);
            extra[n++] = fields[i];
            extra[n++] = p->phone.agents[i].uri;
        }
        redisReply *r = s_script(c, "phone_put", key, now, source, n, extra);
        if (r) {
            code = 0;
            freeReplyObject(r);
        }
    }
    free(extra);
    free(fields);
    return code;
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
    /* The dialled numbers first: a number another tenant has refuses the whole load. */
    code = s_put_numbers(c, path, text, p, now, source);
    if (code != 0) {
        goto cleanup;
    }
    code = 3;
    /* The tenant set first: a tenant listed without a policy yet simply uses the defaults. */
    const char *sadd[] = {"SADD", "hk:tenants", p->tenant};
    size_t sadd_lens[] = {4, 10, strlen(p->tenant)};
    redisReply *reply = s_command(c, 3, sadd, sadd_lens);
    if (!reply) {
        goto cleanup;
    }
    freeReplyObject(reply);
    const char *extra[] = {text};
    reply = s_script(c, "policy_put", key, now, source, 1, extra);
    if (!reply) {
        goto cleanup;
    }
    if (reply->type == REDIS_REPLY_INTEGER) {
        long long version = reply->integer;
        code = s_put_phone(c, p, version, now, source);
        if (code == 0) {
            printf("policy tenant=%s version=%lld\n", p->tenant, version);
        }
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
        printf(" lexicon_entries=fi:%zu+%zu,sv:%zu+%zu,en:%zu+%zu phone_numbers=%zu "
               "phone_agents=%zu\n",
               p->lexicons[RT_LANG_FI].n_urgent, p->lexicons[RT_LANG_FI].n_personal,
               p->lexicons[RT_LANG_SV].n_urgent, p->lexicons[RT_LANG_SV].n_personal,
               p->lexicons[RT_LANG_EN].n_urgent, p->lexicons[RT_LANG_EN].n_personal,
               p->phone.n_numbers, p->phone.n_agents);
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
