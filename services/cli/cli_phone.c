/* cli_phone: `hetki agent phone-passwd --tenant T --id A [--realm R] [--remove]`: the digest
 * credentials an agent's SIP phone registers with (docs/protocols/phone.md, "Agent phones:
 * REGISTER"). Only HA1 = MD5(agent:realm:password) is stored, in hk:{t}:phone:agents_ha1,
 * never the password; the password is the first line of standard input (never an argument,
 * which other users could see). The realm must be hetki-phone's HETKI_PHONE_REALM (default
 * "hetki"; the option defaults to that variable). Exit codes: 0 done, 2 usage, 3 Redis. */
#include "cli.h"

#include "hk_limits.h"

#include <getopt.h>
#include <osipparser2/osip_md5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_PASSWORD_MIN 8
#define S_PASSWORD_MAX 256

typedef struct {
    char tenant[40];
    char id[72];
    char realm[72];
    int remove;
} s_opts_t;

static void s_usage(void) {
    fprintf(stderr,
            "usage: hetki agent phone-passwd --tenant T --id AGENT [--realm R] [--remove]\n"
            "  sets the SIP digest password of AGENT's phone (first line of standard input,\n"
            "  at least %d bytes); --remove deletes it. The realm defaults to HETKI_PHONE_REALM\n"
            "  or \"hetki\" and must match hetki-phone's.\n",
            S_PASSWORD_MIN);
}

/* A realm is printable ASCII without quotes or backslashes (it goes into a quoted header). */
static int s_realm_ok(const char *r) {
    size_t n = strlen(r);
    if (n == 0 || n > 64) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (r[i] <= 0x20 || r[i] >= 0x7f || r[i] == '"' || r[i] == '\\') {
            return 0;
        }
    }
    return 1;
}

static int s_parse(int argc, char **argv, s_opts_t *o) {
    static const struct option opts[] = {{"tenant", 1, 0, 't'}, {"id", 1, 0, 'i'},
                                         {"agent", 1, 0, 'i'},  {"realm", 1, 0, 'r'},
                                         {"remove", 0, 0, 'x'}, {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    const char *env = getenv("HETKI_PHONE_REALM");
    snprintf(o->realm, sizeof o->realm, "%s", env && env[0] ? env : "hetki");
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
            snprintf(o->realm, sizeof o->realm, "%s", optarg);
            break;
        case 'x':
            o->remove = 1;
            break;
        default:
            return -1;
        }
    }
    if (optind != argc || !hk_tenant_ok(o->tenant) || !hk_ref_ok(o->id) || !s_realm_ok(o->realm)) {
        fprintf(stderr, "hetki: --tenant ([a-z0-9_-]{1,32}), --id (1 to 64 characters of A-Z a-z "
                        "0-9 _ . : -) are required; --realm is printable ASCII without quotes\n");
        return -1;
    }
    return 0;
}

/* HA1 of RFC 2617: hex MD5 of "agent:realm:password". */
static void s_ha1(const s_opts_t *o, const char *password, char out[33]) {
    char text[S_PASSWORD_MAX + 160];
    unsigned char d[16];
    snprintf(text, sizeof text, "%s:%s:%s", o->id, o->realm, password);
    osip_MD5_CTX ctx;
    osip_MD5Init(&ctx);
    osip_MD5Update(&ctx, (unsigned char *)text, (unsigned int)strlen(text));
    osip_MD5Final(d, &ctx);
    for (int i = 0; i < 16; i++) {
        snprintf(out + 2 * i, 3, "%02x", d[i]);
    }
    memset(text, 0, sizeof text);
}

int cli_phone_passwd(int argc, char **argv) {
    s_opts_t o;
    if (s_parse(argc, argv, &o) != 0) {
        s_usage();
        return 2;
    }
    char password[S_PASSWORD_MAX + 2] = "", ha1[33] = "";
    if (!o.remove) {
        if (!fgets(password, (int)sizeof password, stdin)) {
            fprintf(stderr, "hetki: no password on standard input\n");
            return 2;
        }
        size_t n = strcspn(password, "\r\n");
        if (password[n] == '\0' && n == sizeof password - 1) {
            fprintf(stderr, "hetki: the password is longer than %d bytes\n", S_PASSWORD_MAX);
            return 2;
        }
        password[n] = '\0';
        if (n < S_PASSWORD_MIN) {
            fprintf(stderr, "hetki: the password needs at least %d bytes\n", S_PASSWORD_MIN);
            return 2;
        }
        s_ha1(&o, password, ha1);
        memset(password, 0, sizeof password);
    }
    redisContext *c = cli_redis_connect();
    if (!c) {
        return 3;
    }
    char key[96];
    snprintf(key, sizeof key, "hk:{%s}:phone:agents_ha1", o.tenant);
    redisReply *r = o.remove ? cli_redis(c, "HDEL %s %s", key, o.id)
                             : cli_redis(c, "HSET %s %s %s", key, o.id, ha1);
    int code = r ? 0 : 3;
    if (r) {
        printf("phone %s tenant=%s agent=%s realm=%s\n",
               o.remove ? (r->integer ? "password removed" : "no password to remove")
                        : "password set",
               o.tenant, o.id, o.realm);
        freeReplyObject(r);
    }
    redisFree(c);
    return code;
}
