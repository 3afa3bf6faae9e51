/* cli_snapshot: `hetki snapshot --tenant T` prints a tenant's live routing state for an
 * operator: each queue (waiting contacts per language, the oldest wait, staff) and each agent
 * (state as people see it, load/capacity, contacts held, occupancy, time in state), plus the
 * timers, held contacts, due follow-ups and critical moments. It reads Redis directly, key by
 * key (not one atomic script like the dashboard's snapshot), so a busy tenant may show a
 * change half-applied. Exit codes: 0 printed, 1 unknown tenant, 2 usage, 3 Redis unreachable. */
#include "cli.h"

#include "hk_limits.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_QUEUES 64
#define S_OLDEST_SCAN 1000
#define S_TIMER_SCAN 10000

static const char *const s_langs[] = {"fi", "sv", "en", "any"};
#define S_NLANGS 4

typedef struct {
    char name[64];
    long long waiting[S_NLANGS];
    long long total;
    int64_t oldest_ms; /* enqueue time of the longest-waiting contact, 0 = none */
    long long staff;
} s_queue_t;

typedef struct {
    redisContext *c;
    const char *tenant;
    int64_t now;
    s_queue_t queues[S_MAX_QUEUES];
    size_t n_queues;
} s_snap_t;

static int64_t s_ms(const char *v) {
    return v && v[0] ? strtoll(v, NULL, 10) : 0;
}

/* ms as a short duration: 42s, 12m05s, 3h04m, 2d03h. */
static const char *s_dur(int64_t ms, char *buf, size_t len) {
    long long s = ms > 0 ? ms / 1000 : 0;
    if (s < 60) {
        snprintf(buf, len, "%llds", s);
    } else if (s < 3600) {
        snprintf(buf, len, "%lldm%02llds", s / 60, s % 60);
    } else if (s < 86400) {
        snprintf(buf, len, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
    } else {
        snprintf(buf, len, "%lldd%02lldh", s / 86400, (s % 86400) / 3600);
    }
    return buf;
}

static s_queue_t *s_queue(s_snap_t *s, const char *name, size_t len) {
    for (size_t i = 0; i < s->n_queues; i++) {
        if (strlen(s->queues[i].name) == len && !strncmp(s->queues[i].name, name, len)) {
            return &s->queues[i];
        }
    }
    if (s->n_queues == S_MAX_QUEUES || len == 0 || len >= sizeof s->queues[0].name) {
        return NULL;
    }
    s_queue_t *q = &s->queues[s->n_queues++];
    memset(q, 0, sizeof *q);
    memcpy(q->name, name, len);
    return q;
}

/* Calls fn for every key matching hk:{t}:<what>:* with the part after the prefix. */
static int s_scan(s_snap_t *s, const char *what, void (*fn)(s_snap_t *, const char *)) {
    char prefix[128];
    int plen = snprintf(prefix, sizeof prefix, "hk:{%s}:%s:", s->tenant, what);
    char cursor[32] = "0";
    do {
        redisReply *r = cli_redis(s->c, "SCAN %s MATCH %s* COUNT 1000", cursor, prefix);
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            freeReplyObject(r);
            return -1;
        }
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        const redisReply *keys = r->element[1];
        for (size_t i = 0; i < keys->elements; i++) {
            if (keys->element[i]->type == REDIS_REPLY_STRING) {
                fn(s, keys->element[i]->str + plen);
            }
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    return 0;
}

static void s_found_queue_key(s_snap_t *s, const char *rest) {
    const char *colon = strrchr(rest, ':');
    if (colon) {
        s_queue(s, rest, (size_t)(colon - rest));
    }
}

static void s_found_staff_key(s_snap_t *s, const char *rest) {
    if (!strchr(rest, ':')) {
        s_queue(s, rest, strlen(rest));
    }
}

/* The oldest enqueue time in one queue zset. Queue scores are enqueue ms minus a head start
 * for priority, so no contact scored above the head's enqueue time can be older than it. */
static int s_oldest(s_snap_t *s, const char *key, int64_t *oldest) {
    redisReply *head = cli_redis(s->c, "ZRANGE %s 0 0", key);
    if (!head) {
        return -1;
    }
    if (head->type != REDIS_REPLY_ARRAY || head->elements == 0) {
        freeReplyObject(head);
        return 0;
    }
    redisReply *e =
        cli_redis(s->c, "HGET hk:{%s}:contact:%s enq_ms", s->tenant, head->element[0]->str);
    freeReplyObject(head);
    if (!e) {
        return -1;
    }
    int64_t limit = e->type == REDIS_REPLY_STRING ? s_ms(e->str) : 0;
    freeReplyObject(e);
    redisReply *cands = cli_redis(s->c, "ZRANGEBYSCORE %s -inf %lld LIMIT 0 %d", key,
                                  (long long)limit, S_OLDEST_SCAN);
    if (!cands) {
        return -1;
    }
    int64_t best = limit;
    for (size_t i = 0; cands->type == REDIS_REPLY_ARRAY && i < cands->elements; i++) {
        redisAppendCommand(s->c, "HGET hk:{%s}:contact:%s enq_ms", s->tenant,
                           cands->element[i]->str);
    }
    int rc = 0;
    for (size_t i = 0; cands->type == REDIS_REPLY_ARRAY && i < cands->elements; i++) {
        redisReply *v = NULL;
        if (redisGetReply(s->c, (void **)&v) != REDIS_OK || !v) {
            rc = -1;
            break;
        }
        int64_t ms = v->type == REDIS_REPLY_STRING ? s_ms(v->str) : 0;
        best = ms > 0 && (best == 0 || ms < best) ? ms : best;
        freeReplyObject(v);
    }
    freeReplyObject(cands);
    if (best > 0 && (*oldest == 0 || best < *oldest)) {
        *oldest = best;
    }
    return rc;
}

static int s_count_queue(s_snap_t *s, s_queue_t *q) {
    for (int l = 0; l < S_NLANGS; l++) {
        char key[160];
        snprintf(key, sizeof key, "hk:{%s}:q:%s:%s", s->tenant, q->name, s_langs[l]);
        redisReply *r = cli_redis(s->c, "ZCARD %s", key);
        if (!r) {
            return -1;
        }
        q->waiting[l] = r->integer;
        q->total += r->integer;
        freeReplyObject(r);
        if (q->waiting[l] > 0 && s_oldest(s, key, &q->oldest_ms) != 0) {
            return -1;
        }
    }
    redisReply *r = cli_redis(s->c, "SCARD hk:{%s}:staff:%s", s->tenant, q->name);
    if (!r) {
        return -1;
    }
    q->staff = r->integer;
    freeReplyObject(r);
    return 0;
}

static int s_by_name(const void *a, const void *b) {
    return strcmp(((const s_queue_t *)a)->name, ((const s_queue_t *)b)->name);
}

static int s_print_queues(s_snap_t *s) {
    if (s_scan(s, "q", s_found_queue_key) != 0 || s_scan(s, "staff", s_found_staff_key) != 0) {
        return -1;
    }
    qsort(s->queues, s->n_queues, sizeof s->queues[0], s_by_name);
    printf("\n%-20s %8s  %-24s %12s %6s\n", "QUEUE", "WAITING", "BY LANGUAGE", "OLDEST WAIT",
           "STAFF");
    long long total = 0;
    for (size_t i = 0; i < s->n_queues; i++) {
        s_queue_t *q = &s->queues[i];
        if (s_count_queue(s, q) != 0) {
            return -1;
        }
        char langs[64] = "", dur[32] = "-";
        for (int l = 0; l < S_NLANGS; l++) {
            if (q->waiting[l] > 0) {
                size_t used = strlen(langs);
                snprintf(langs + used, sizeof langs - used, "%s%s:%lld", used ? " " : "",
                         s_langs[l], q->waiting[l]);
            }
        }
        if (q->oldest_ms > 0) {
            s_dur(s->now - q->oldest_ms, dur, sizeof dur);
        }
        printf("%-20s %8lld  %-24s %12s %6lld\n", q->name, q->total, langs[0] ? langs : "-", dur,
               q->staff);
        total += q->total;
    }
    if (s->n_queues == 0) {
        printf("(no queues with contacts or staff)\n");
    }
    printf("%lld contact%s waiting\n", total, total == 1 ? "" : "s");
    return 0;
}

static int s_by_str(const void *a, const void *b) {
    return strcmp((*(redisReply *const *)a)->str, (*(redisReply *const *)b)->str);
}

/* The state shown to people (as the router's display_state): available agents holding work
 * are busy, or in wrap-up while a finished contact waits for its wrap-up code. */
static const char *s_display_state(const redisReply *a) {
    const char *state = cli_hash_get(a, "state");
    if (strcmp(state, "available") != 0) {
        return state[0] ? state : "unknown";
    }
    if (atol(cli_hash_get(a, "wrapping")) > 0) {
        return "wrap_up";
    }
    return atol(cli_hash_get(a, "load")) > 0 ? "busy" : "available";
}

/* Is an idle available agent missing from the sets matching reads? Then it is never offered
 * work until something refreshes it: worth telling the operator. 1 yes, 0 no, -1 error. */
static int s_unmatchable(s_snap_t *s, const char *aid, const redisReply *a) {
    char pair[128];
    if (strcmp(cli_hash_get(a, "state"), "available") != 0 || atol(cli_hash_get(a, "load")) != 0 ||
        s_ms(cli_hash_get(a, "recovery_until")) > s->now ||
        sscanf(cli_hash_get(a, "elig"), "%127s", pair) != 1) {
        return 0;
    }
    char *lang = strrchr(pair, ':'); /* pair is queue:language; the set is the queue's */
    if (lang) {
        *lang = '\0';
    }
    redisReply *r = cli_redis(s->c, "ZSCORE hk:{%s}:avail:%s %s", s->tenant, pair, aid);
    if (!r) {
        return -1;
    }
    int missing = r->type == REDIS_REPLY_NIL;
    freeReplyObject(r);
    return missing;
}

static int s_agent_note(s_snap_t *s, const char *aid, const redisReply *a, char *buf, size_t len) {
    const char *state = cli_hash_get(a, "state");
    int64_t recovery = s_ms(cli_hash_get(a, "recovery_until"));
    long nr = atol(cli_hash_get(a, "nr"));
    char dur[32];
    buf[0] = '\0';
    if (!strcmp(state, "paused") && recovery > s->now) {
        snprintf(buf, len, "recovery pause, %s left", s_dur(recovery - s->now, dur, sizeof dur));
    } else if (!strcmp(state, "paused")) {
        snprintf(buf, len, "reason=%s", cli_hash_get(a, "pause_reason"));
    } else if (nr > 0) {
        snprintf(buf, len, "timed-out offers=%ld", nr);
    }
    long wrapping = atol(cli_hash_get(a, "wrapping"));
    if (wrapping > 0) {
        size_t used = strlen(buf);
        snprintf(buf + used, len - used, "%swrap-ups owed=%ld", used ? " " : "", wrapping);
    }
    int missing = s_unmatchable(s, aid, a);
    if (missing > 0) {
        size_t used = strlen(buf);
        snprintf(buf + used, len - used, "%sNOT MATCHABLE (missing from avail sets)",
                 used ? " " : "");
    }
    return missing < 0 ? -1 : 0;
}

/* name cut to width characters (UTF-8) and padded with blanks to width columns. */
static const char *s_cell(const char *name, int width, char *out, size_t len) {
    size_t o = 0;
    int chars = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p && o + 5 < len; p++) {
        int lead = (*p & 0xC0) != 0x80;
        if (lead && chars == width) {
            break;
        }
        chars += lead;
        out[o++] = (char)*p;
    }
    while (chars++ < width && o + 1 < len) {
        out[o++] = ' ';
    }
    out[o] = '\0';
    return out;
}

static int s_print_agents(s_snap_t *s) {
    redisReply *ids = cli_redis(s->c, "SMEMBERS hk:{%s}:agents", s->tenant);
    if (!ids || ids->type != REDIS_REPLY_ARRAY) {
        freeReplyObject(ids);
        return -1;
    }
    qsort(ids->element, ids->elements, sizeof ids->element[0], s_by_str);
    printf("\n%-16s %-20s %-14s %8s %7s %5s %9s  %s\n", "AGENT", "NAME", "STATE", "LOAD/CAP",
           "HOLDING", "OCC", "IN STATE", "NOTE");
    int rc = 0;
    size_t counts[5] = {0};
    static const char *const shown[] = {"available", "busy", "wrap_up", "paused", "not_responding"};
    for (size_t i = 0; i < ids->elements && rc == 0; i++) {
        const char *aid = ids->element[i]->str;
        redisReply *a = cli_redis(s->c, "HGETALL hk:{%s}:agent:%s", s->tenant, aid);
        redisReply *held =
            a ? cli_redis(s->c, "SCARD hk:{%s}:agent:%s:contacts", s->tenant, aid) : NULL;
        if (!held) {
            rc = -1;
        } else {
            const char *state = s_display_state(a);
            for (size_t k = 0; k < 5; k++) {
                counts[k] += !strcmp(state, shown[k]);
            }
            char load[24], dur[32], note[160], name[96];
            snprintf(load, sizeof load, "%s/%s",
                     cli_hash_get(a, "load")[0] ? cli_hash_get(a, "load") : "0",
                     cli_hash_get(a, "capacity")[0] ? cli_hash_get(a, "capacity") : "100");
            s_dur(s->now - s_ms(cli_hash_get(a, "state_since")), dur, sizeof dur);
            rc = s_agent_note(s, aid, a, note, sizeof note);
            printf("%-16s %s %-14s %8s %7lld %4.0f%% %9s  %s\n", aid,
                   s_cell(cli_hash_get(a, "display_name"), 20, name, sizeof name), state, load,
                   held->integer, atof(cli_hash_get(a, "occ")) * 100.0, dur, note);
        }
        freeReplyObject(a);
        freeReplyObject(held);
    }
    if (rc == 0) {
        printf("%zu agent%s: %zu available, %zu busy, %zu wrap_up, %zu paused, %zu not_responding, "
               "%zu offline\n",
               ids->elements, ids->elements == 1 ? "" : "s", counts[0], counts[1], counts[2],
               counts[3], counts[4],
               ids->elements - counts[0] - counts[1] - counts[2] - counts[3] - counts[4]);
    }
    freeReplyObject(ids);
    return rc;
}

/* Timers by kind, how many are overdue (no replica claiming them?), and the other counts. */
static int s_print_counts(s_snap_t *s) {
    redisReply *t = cli_redis(s->c, "ZRANGE hk:{%s}:timers 0 %d", s->tenant, S_TIMER_SCAN - 1);
    redisReply *due =
        t ? cli_redis(s->c, "ZCOUNT hk:{%s}:timers -inf %lld", s->tenant, (long long)s->now) : NULL;
    if (!due) {
        freeReplyObject(t);
        return -1;
    }
    static const char *const kinds[] = {"lease", "overflow", "confirm", "recovery", "followup"};
    size_t n[5] = {0};
    for (size_t i = 0; t->type == REDIS_REPLY_ARRAY && i < t->elements; i++) {
        for (size_t k = 0; k < 5; k++) {
            size_t kl = strlen(kinds[k]);
            n[k] += !strncmp(t->element[i]->str, kinds[k], kl) && t->element[i]->str[kl] == '|';
        }
    }
    printf("\ntimers %zu%s (lease %zu, overflow %zu, confirm %zu, recovery %zu, followup %zu), "
           "%lld overdue\n",
           t->elements, t->elements == S_TIMER_SCAN ? "+" : "", n[0], n[1], n[2], n[3], n[4],
           due->integer);
    freeReplyObject(t);
    freeReplyObject(due);
    static const char *const counts[][3] = {
        {"ZCARD", "held", "held contacts (tenant suspended)"},
        {"ZCARD", "followups", "follow-ups due"},
        {"LLEN", "critical", "critical moments"},
        {"ZCARD", "contacts", "contacts in total"},
    };
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        redisReply *r = cli_redis(s->c, "%s hk:{%s}:%s", counts[i][0], s->tenant, counts[i][1]);
        if (!r) {
            return -1;
        }
        printf("%s%lld %s", i ? ", " : "", r->integer, counts[i][2]);
        freeReplyObject(r);
    }
    printf("\n");
    return 0;
}

/* 1 when the tenant is known, 0 when not, -1 when Redis failed. */
static int s_known(s_snap_t *s, long long *rev, long long *version) {
    redisReply *m = cli_redis(s->c, "SISMEMBER hk:tenants %s", s->tenant);
    redisReply *r = m ? cli_redis(s->c, "GET hk:{%s}:rev", s->tenant) : NULL;
    redisReply *v = r ? cli_redis(s->c, "HGET hk:{%s}:policy version", s->tenant) : NULL;
    int known = -1;
    if (v) {
        *rev = r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10) : 0;
        *version = v->type == REDIS_REPLY_STRING ? strtoll(v->str, NULL, 10) : 0;
        known = m->integer > 0 || *rev > 0;
    }
    freeReplyObject(m);
    freeReplyObject(r);
    freeReplyObject(v);
    return known;
}

int cli_snapshot(int argc, char **argv) {
    static const struct option opts[] = {{"tenant", required_argument, 0, 't'}, {0, 0, 0, 0}};
    static s_snap_t s;
    memset(&s, 0, sizeof s);
    optind = 1;
    int o;
    while ((o = getopt_long(argc + 1, argv - 1, "", opts, NULL)) != -1) {
        if (o != 't') {
            s.tenant = NULL;
            break;
        }
        s.tenant = optarg;
    }
    if (o != -1 || optind != argc + 1 || !s.tenant || !hk_tenant_ok(s.tenant)) {
        fprintf(stderr, "usage: hetki snapshot --tenant T\n");
        return 2;
    }
    s.c = cli_redis_connect();
    if (!s.c) {
        return 3;
    }
    int code = 3;
    long long rev = 0, version = 0;
    int known = s_known(&s, &rev, &version);
    if (known == 0) {
        fprintf(stderr, "hetki: no tenant %s\n", s.tenant);
        code = 1;
        goto cleanup;
    }
    if (known < 0) {
        goto cleanup;
    }
    s.now = cli_redis_now_ms(s.c);
    char iso[40];
    char policy[32] = "defaults";
    if (version > 0) {
        snprintf(policy, sizeof policy, "version %lld", version);
    }
    printf("tenant %s at %s, rev %lld, policy %s\n", s.tenant, cli_iso_ms(s.now, iso, sizeof iso),
           rev, policy);
    if (s_print_queues(&s) != 0 || s_print_agents(&s) != 0 || s_print_counts(&s) != 0) {
        goto cleanup;
    }
    code = 0;
cleanup:
    if (code == 3) {
        fflush(stdout);
        fprintf(stderr, "hetki: Redis stopped answering: %s\n",
                s.c->err ? s.c->errstr : "unexpected reply");
    }
    redisFree(s.c);
    return code;
}
