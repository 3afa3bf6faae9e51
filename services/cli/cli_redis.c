/* cli_redis: the small synchronous Redis helpers the one-shot CLI commands share (explain,
 * snapshot, customer): connect from HETKI_REDIS_HOST/PORT, run a command, read times and
 * hash fields, check tenant names. Declared in cli.h. */
#include "cli.h"

#include "hk_clock.h"
#include "hk_config.h"
#include "hk_service.h"

#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

redisContext *cli_redis_connect(void) {
    char host[HK_CFG_STR_MAX], user[HK_CFG_STR_MAX], password[HK_CFG_STR_MAX];
    long port = 0;
    hk_cfg_entry_t table[] = {
        {"HETKI_REDIS_HOST", HK_CFG_STRING, "127.0.0.1", 1, 255, NULL, host, ""},
        {"HETKI_REDIS_PORT", HK_CFG_PORT, "6380", 1, 65535, NULL, &port, ""},
        {"HETKI_REDIS_USER", HK_CFG_STRING, "", 0, 128, NULL, user, ""},
        {"HETKI_REDIS_PASSWORD", HK_CFG_SECRET, "", 0, 255, NULL, password, ""},
    };
    char err[512];
    if (hk_config_load(table, sizeof table / sizeof table[0], err, sizeof err) != 0) {
        fprintf(stderr, "hetki: configuration error: %s\n", err);
        return NULL;
    }
    struct timeval tv = {2, 0};
    redisContext *c = redisConnectWithTimeout(host, (int)port, tv);
    if (!c || c->err) {
        fprintf(stderr, "hetki: cannot reach Redis at %s:%ld: %s\n", host, port,
                c ? c->errstr : "out of memory");
        redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    if (password[0]) {
        redisReply *r = user[0] ? redisCommand(c, "AUTH %s %s", user, password)
                                : redisCommand(c, "AUTH %s", password);
        int ok = r && r->type != REDIS_REPLY_ERROR;
        if (!ok) {
            fprintf(stderr, "hetki: Redis refused the credentials of %s: %s\n",
                    user[0] ? user : "the default user", r ? r->str : c->errstr);
        }
        freeReplyObject(r);
        if (!ok) {
            redisFree(c);
            return NULL;
        }
    }
    return c;
}

redisReply *cli_redis(redisContext *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    if (!r) {
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        fprintf(stderr, "hetki: Redis error: %s\n", r->str);
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

int64_t cli_redis_now_ms(redisContext *c) {
    if (hk_clock_from_env() == 0 && hk_clock_is_virtual()) {
        redisReply *r = cli_redis(c, "GET %s", HK_SERVICE_CLOCK_KEY);
        int64_t v = r && r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10) : 0;
        freeReplyObject(r);
        if (v > 0) {
            return v;
        }
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *cli_iso_ms(int64_t ms, char *buf, size_t len) {
    if (ms <= 0) {
        snprintf(buf, len, "-");
        return buf;
    }
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    return buf;
}

const char *cli_hash_get(const redisReply *h, const char *field) {
    if (!h || h->type != REDIS_REPLY_ARRAY) {
        return "";
    }
    for (size_t i = 0; i + 1 < h->elements; i += 2) {
        const redisReply *k = h->element[i], *v = h->element[i + 1];
        if (k->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING &&
            !strcmp(k->str, field)) {
            return v->str;
        }
    }
    return "";
}
