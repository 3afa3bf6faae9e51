/* cli_account: `hetki agent add|passwd|remove`: the dashboard's login accounts (agents and
 * supervisors of a tenant) in Redis, passwords hashed with argon2id (libsodium). The password
 * is read from standard input, never from the command line (where other users of the machine
 * could read it in the process list). Removing an account or changing its password ends every
 * session of it (connected dashboards close them within seconds). See
 * docs/protocols/dashboard.md "Operator commands". */
#include "cli.h"

#include "hk_limits.h"

#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_PASSWORD_MIN 8
#define S_PASSWORD_MAX 1024
#define S_ID_MAX 64
#define S_MEM_MIN_KIB 8192 /* the floor of HETKI_PWHASH_MEM_KIB */

typedef struct {
    char tenant[64];
    char id[S_ID_MAX + 1];
    char role[16];
    char name[129];
    long count;
} s_opts_t;

static void s_usage(void) {
    fprintf(stderr,
            "usage: hetki agent add --tenant T --id A --role agent|supervisor [--name N] "
            "[--count N]\n"
            "       hetki agent passwd --tenant T --id A\n"
            "       hetki agent remove --tenant T --id A\n"
            "       (add and passwd read the password from standard input: its first line, 8 to "
            "1024 bytes;\n"
            "        --count N makes the accounts A1..AN with that password, for load tests)\n");
}

static int s_parse(int argc, char **argv, s_opts_t *o) {
    static const struct option opts[] = {{"tenant", 1, 0, 't'},         {"id", 1, 0, 'i'},
                                         {"agent", 1, 0, 'i'},          {"role", 1, 0, 'r'},
                                         {"name", 1, 0, 'n'},           {"count", 1, 0, 'c'},
                                         {"password-stdin", 0, 0, 'p'}, {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    optind = 1;
    opterr = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 't':
            snprintf(o->tenant, sizeof o->tenant, "%s", optarg);
            break;
        case 'i':
            snprintf(o->id, sizeof o->id, "%s", optarg);
            break;
        case 'r':
            snprintf(o->role, sizeof o->role, "%s", optarg);
            break;
        case 'n':
            snprintf(o->name, sizeof o->name, "%s", optarg);
            break;
        case 'c':
            o->count = strtol(optarg, NULL, 10);
            if (o->count < 1 || o->count > 100000) {
                fprintf(stderr, "hetki: --count: 1 to 100000\n");
                return -1;
            }
            break;
        case 'p':
            break; /* the only way: accepted for clarity */
        default:
            return -1;
        }
    }
    if (optind != argc || !hk_tenant_ok(o->tenant) || !hk_ref_ok(o->id)) {
        fprintf(stderr, "hetki: --tenant ([a-z0-9_-]{1,32}) and --id (1 to 64 characters of "
                        "A-Z a-z 0-9 _ . : -) are required\n");
        return -1;
    }
    return 0;
}

/* Reads the first line of standard input as the password. Returns 0 or -1 (printed). */
static int s_read_password(char *buf, size_t cap) {
    if (!fgets(buf, (int)cap, stdin)) {
        fprintf(stderr, "hetki: no password on standard input\n");
        return -1;
    }
    size_t n = strcspn(buf, "\r\n");
    if (buf[n] == '\0' && n == cap - 1) {
        fprintf(stderr, "hetki: the password is longer than %d bytes\n", S_PASSWORD_MAX);
        return -1;
    }
    buf[n] = '\0';
    if (n < S_PASSWORD_MIN) {
        fprintf(stderr, "hetki: the password needs at least %d bytes\n", S_PASSWORD_MIN);
        return -1;
    }
    return 0;
}

/* The argon2id limits: libsodium's INTERACTIVE ones, or HETKI_PWHASH_OPS and
 * HETKI_PWHASH_MEM_KIB (tests), never below 1 pass and S_MEM_MIN_KIB. */
static void s_limits(unsigned long long *ops, size_t *mem) {
    *ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
    *mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
    const char *o = getenv("HETKI_PWHASH_OPS"), *m = getenv("HETKI_PWHASH_MEM_KIB");
    if (o && *o) {
        long v = strtol(o, NULL, 10);
        *ops = v < 1 ? 1 : (unsigned long long)v;
    }
    if (m && *m) {
        long v = strtol(m, NULL, 10);
        *mem = (size_t)(v < S_MEM_MIN_KIB ? S_MEM_MIN_KIB : v) * 1024;
    }
    if (*ops < crypto_pwhash_OPSLIMIT_INTERACTIVE || *mem < crypto_pwhash_MEMLIMIT_INTERACTIVE) {
        fprintf(stderr, "hetki: warning: password hashing below libsodium's interactive limits "
                        "(HETKI_PWHASH_OPS/HETKI_PWHASH_MEM_KIB): for tests only\n");
    }
}

/* Ends every session of the account. Returns the number ended, or -1. */
static long s_end_sessions(redisContext *c, const char *tenant, const char *id) {
    redisReply *r = cli_redis(c, "SMEMBERS hk:{%s}:account:%s:sessions", tenant, id);
    if (!r) {
        return -1;
    }
    long n = 0;
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *d = cli_redis(c, "DEL hk:{%s}:session:%s", tenant, r->element[i]->str);
        n += d && d->type == REDIS_REPLY_INTEGER ? d->integer : 0;
        freeReplyObject(d);
    }
    freeReplyObject(r);
    freeReplyObject(cli_redis(c, "DEL hk:{%s}:account:%s:sessions", tenant, id));
    return n;
}

static int s_store(redisContext *c, const s_opts_t *o, const char *id, const char *password,
                   unsigned long long ops, size_t mem, int must_exist) {
    char hash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(hash, password, strlen(password), ops, mem) != 0) {
        fprintf(stderr, "hetki: out of memory hashing the password\n");
        return 1;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long long now = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    redisReply *r = NULL;
    if (must_exist) {
        redisReply *e = cli_redis(c, "EXISTS hk:{%s}:account:%s", o->tenant, id);
        int exists = e && e->type == REDIS_REPLY_INTEGER && e->integer == 1;
        freeReplyObject(e);
        if (!exists) {
            fprintf(stderr, "hetki: no account %s in tenant %s\n", id, o->tenant);
            return 1;
        }
        r = cli_redis(c, "HSET hk:{%s}:account:%s hash %s changed_ms %lld", o->tenant, id, hash,
                      now);
    } else {
        r = cli_redis(c,
                      "HSET hk:{%s}:account:%s id %s tenant %s role %s name %s hash %s "
                      "created_ms %lld changed_ms %lld",
                      o->tenant, id, id, o->tenant, o->role, o->name[0] ? o->name : id, hash, now,
                      now);
    }
    sodium_memzero(hash, sizeof hash);
    if (!r) {
        return 1;
    }
    freeReplyObject(r);
    freeReplyObject(cli_redis(c, "SADD hk:{%s}:accounts %s", o->tenant, id));
    freeReplyObject(cli_redis(c, "SADD hk:tenants %s", o->tenant));
    return 0;
}

static int s_add(redisContext *c, const s_opts_t *o, const char *password) {
    unsigned long long ops;
    size_t mem;
    s_limits(&ops, &mem);
    long n = o->count ? o->count : 1;
    for (long i = 1; i <= n; i++) {
        char id[S_ID_MAX + 24];
        if (o->count) {
            snprintf(id, sizeof id, "%s%ld", o->id, i);
        } else {
            snprintf(id, sizeof id, "%s", o->id);
        }
        if (!hk_ref_ok(id)) {
            fprintf(stderr, "hetki: id %s is too long\n", id);
            return 2;
        }
        if (s_end_sessions(c, o->tenant, id) < 0 || s_store(c, o, id, password, ops, mem, 0)) {
            return 1;
        }
    }
    printf("ok tenant=%s role=%s accounts=%ld%s%s\n", o->tenant, o->role, n,
           o->count ? " first=" : " id=", o->count ? "" : o->id);
    return 0;
}

int cli_account(int argc, char **argv) {
    s_opts_t o;
    int adding = !strcmp(argv[0], "add"), passwd = !strcmp(argv[0], "passwd");
    if (s_parse(argc, argv, &o) != 0) {
        s_usage();
        return 2;
    }
    if (adding && strcmp(o.role, "agent") != 0 && strcmp(o.role, "supervisor") != 0) {
        fprintf(stderr, "hetki: --role agent or --role supervisor is required\n");
        return 2;
    }
    if (!adding && o.count) {
        fprintf(stderr, "hetki: --count is for add only\n");
        return 2;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "hetki: libsodium could not start\n");
        return 1;
    }
    char password[S_PASSWORD_MAX + 2] = "";
    if ((adding || passwd) && s_read_password(password, sizeof password) != 0) {
        return 2;
    }
    redisContext *c = cli_redis_connect();
    int code = 1;
    if (!c) {
        goto cleanup;
    }
    if (adding) {
        code = s_add(c, &o, password);
    } else if (passwd) {
        unsigned long long ops;
        size_t mem;
        s_limits(&ops, &mem);
        code = s_store(c, &o, o.id, password, ops, mem, 1);
        if (code == 0) {
            long ended = s_end_sessions(c, o.tenant, o.id);
            code = ended < 0 ? 1 : 0;
            if (code == 0) {
                printf("ok tenant=%s id=%s sessions_ended=%ld\n", o.tenant, o.id, ended);
            }
        }
    } else {
        long ended = s_end_sessions(c, o.tenant, o.id);
        redisReply *r = ended < 0 ? NULL : cli_redis(c, "DEL hk:{%s}:account:%s", o.tenant, o.id);
        if (r) {
            code = r->integer == 1 ? 0 : 1;
            if (code) {
                fprintf(stderr, "hetki: no account %s in tenant %s\n", o.id, o.tenant);
            } else {
                freeReplyObject(cli_redis(c, "SREM hk:{%s}:accounts %s", o.tenant, o.id));
                freeReplyObject(cli_redis(c, "DEL hk:{%s}:loginfail:%s", o.tenant, o.id));
                printf("ok tenant=%s id=%s removed sessions_ended=%ld\n", o.tenant, o.id, ended);
            }
            freeReplyObject(r);
        }
    }
cleanup:
    sodium_memzero(password, sizeof password);
    if (c) {
        redisFree(c);
    }
    return code;
}
