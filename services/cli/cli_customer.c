/* cli_customer: `hetki customer flag` sets or clears a customer's flags, which classification
 * weighs at intake (policy weight_vulnerable, weight_vip):
 *   hetki customer flag --tenant T (--phone N | --email A | --chat S)
 *                       [--vulnerable on|off] [--vip on|off]
 * The customer is found by the identity (and created when not seen yet). Runs the router's
 * customer_flag script, so the change is atomic. Prints "customer id=.. vulnerable=.. vip=..".
 * Exit codes: 0 done, 2 usage, 3 Redis unreachable or refused. */
#include "cli.h"

#include "hk_limits.h"
#include "hk_clock.h"
#include "hk_id.h"

#include <getopt.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <string.h>

const char *rt_lua_get(const char *name);

static void s_usage(void) {
    fprintf(stderr, "usage: hetki customer flag --tenant T (--phone N | --email A | --chat S)\n"
                    "                           [--vulnerable on|off] [--vip on|off]\n");
}

/* "on" -> "1", "off" -> "0", NULL -> "" (unchanged); anything else -> NULL. */
static const char *s_onoff(const char *v) {
    if (!v) {
        return "";
    }
    if (!strcmp(v, "on")) {
        return "1";
    }
    if (!strcmp(v, "off")) {
        return "0";
    }
    return NULL;
}

int cli_customer(int argc, char **argv) {
    if (argc < 1 || strcmp(argv[0], "flag") != 0) {
        s_usage();
        return 2;
    }
    const char *tenant = NULL, *kind = NULL, *value = NULL, *vulnerable = NULL, *vip = NULL;
    static const struct option opts[] = {
        {"tenant", 1, 0, 't'},     {"phone", 1, 0, 'p'}, {"email", 1, 0, 'e'}, {"chat", 1, 0, 'c'},
        {"vulnerable", 1, 0, 'v'}, {"vip", 1, 0, 'V'},   {0, 0, 0, 0}};
    optind = 1;
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 't':
            tenant = optarg;
            break;
        case 'p':
        case 'e':
        case 'c':
            if (kind) {
                s_usage();
                return 2;
            }
            kind = o == 'p' ? "phone" : o == 'e' ? "email" : "chat";
            value = optarg;
            break;
        case 'v':
            vulnerable = optarg;
            break;
        case 'V':
            vip = optarg;
            break;
        default:
            s_usage();
            return 2;
        }
    }
    const char *vul = s_onoff(vulnerable), *vi = s_onoff(vip);
    if (optind != argc || !tenant || !hk_tenant_ok(tenant) || !kind || !value[0] ||
        strlen(value) > 256 || !vul || !vi || (!vulnerable && !vip)) {
        s_usage();
        return 2;
    }
    redisContext *c = cli_redis_connect();
    if (!c) {
        return 3;
    }
    char k[400], now[24], id[HK_ID_LEN + 1];
    snprintf(k, sizeof k, "hk:{%s}:cust:%s:%s", tenant, kind, value);
    snprintf(now, sizeof now, "%lld", (long long)hk_clock_now_ms());
    hk_id_new(id);
    redisReply *r = cli_redis(c, "EVAL %s 1 %s %s {} cli %s %s %s %s %s",
                              rt_lua_get("customer_flag"), k, now, id, kind, value, vul, vi);
    int code = 3;
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 8) {
        printf("customer id=%s vulnerable=%s vip=%s\n", r->element[5]->str, r->element[6]->str,
               r->element[7]->str);
        code = 0;
    }
    freeReplyObject(r);
    redisFree(c);
    return code;
}
