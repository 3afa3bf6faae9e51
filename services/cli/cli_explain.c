/* cli_explain: `hetki explain CONTACT_ID [--tenant T]` prints why a contact was routed the way
 * it was: the contact, the decision with each reason in words, the decision trail (offers,
 * agents, times), the customer's other contacts and the critical moments naming it. It reads
 * Redis directly with a synchronous connection (an operator tool, not a service).
 * Exit codes: 0 printed, 1 no such contact, 2 usage, 3 Redis unreachable. */
#include "cli.h"

#include "hk_limits.h"
#include "hk_clock.h"
#include "hk_config.h"
#include "hk_service.h"
#include "rt_policy.h"

#include <getopt.h>
#include <stdarg.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_MAX_CUSTOMER_CONTACTS 20
#define S_MAX_CRITICAL 10000

/* ------------------------------------------------------------------------------------- */
/* Reasons in words                                                                       */

static const char *s_lang_name(const char *code) {
    return !strncmp(code, "fi", 2)   ? "Finnish"
           : !strncmp(code, "sv", 2) ? "Swedish"
           : !strncmp(code, "en", 2) ? "English"
                                     : code;
}

/* Writes a short explanation of reason code r into buf. */
static void s_explain_reason(const char *r, char *buf, size_t len) {
    static const struct {
        const char *code;
        const char *text;
    } fixed[] = {
        {"choice:urgent", "the customer marked it urgent (button, menu or kiosk choice)"},
        {"choice:talk_to_person", "the customer asked to talk to a person"},
        {"choice:callback", "the customer asked to be called back"},
        {"ivr:9:urgent", "the caller pressed 9 (urgent) in the phone menu"},
        {"ivr:0:talk_to_person", "the caller pressed 0 (talk to a person) in the phone menu"},
        {"channel:phone", "a phone call: the customer is waiting on the line"},
        {"repeat_contact", "the customer contacted again within the repeat window (a critical "
                           "moment)"},
        {"first_contact:moment_of_truth", "the customer's first-ever contact: the moment of "
                                          "truth, given priority"},
        {"customer:vulnerable", "the customer is flagged vulnerable"},
        {"customer:vip", "the customer is flagged VIP"},
        {"target:voice:live", "urgent or personal on the phone: a live voice agent"},
        {"target:callback:phone_known", "urgent or personal, not a call, phone number known: a "
                                        "voice callback"},
        {"target:human_chat:no_phone", "urgent or personal without a phone number: a human "
                                       "chat"},
        {"target:async", "routine: the async queue, answered within the stated response time"},
        {"no_explicit_choice:routine", "no signal for a person: routine"},
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        if (!strcmp(r, fixed[i].code)) {
            snprintf(buf, len, "%s", fixed[i].text);
            return;
        }
    }
    char lang[8], kind[16];
    int off = 0;
    if (sscanf(r, "lexicon:%7[^:]:%15[^:]:%n", lang, kind, &off) == 2 && off > 0) {
        int urgent = !strcmp(kind, "urgent");
        snprintf(buf, len, "the %s text contains \"%s\", a sign of %s", s_lang_name(lang), r + off,
                 urgent ? "urgency" : "a personal matter");
        return;
    }
    if (!strncmp(r, "ivr:", 4)) {
        snprintf(buf, len, "a phone menu choice (%s)", r + 4);
        return;
    }
    if (!strncmp(r, "target:", 7)) {
        snprintf(buf, len, "routed to %s", r + 7);
        return;
    }
    snprintf(buf, len, "(no description for this code)");
}

/* ------------------------------------------------------------------------------------- */
/* The explanation                                                                        */

typedef struct {
    redisContext *c;
    char tenant[40];
    const char *id;
    redisReply *contact; /* HGETALL of the contact */
    int64_t t0;          /* when the router received it (trail origin) */
} s_explain_t;

static const char *s_f(const s_explain_t *x, const char *field) {
    return cli_hash_get(x->contact, field);
}

static int64_t s_ms(const char *v) {
    return v && v[0] ? strtoll(v, NULL, 10) : 0;
}

/* 1 found, 0 not found, -1 Redis failed. */
static int s_exists(s_explain_t *x, const char *tenant) {
    redisReply *r = cli_redis(x->c, "EXISTS hk:{%s}:contact:%s", tenant, x->id);
    if (!r) {
        return -1;
    }
    int found = r->type == REDIS_REPLY_INTEGER && r->integer > 0;
    freeReplyObject(r);
    if (found) {
        snprintf(x->tenant, sizeof x->tenant, "%s", tenant);
    }
    return found;
}

/* 1 found, 0 not found, -1 Redis failed. */
static int s_find(s_explain_t *x, const char *tenant) {
    if (tenant) {
        return s_exists(x, tenant);
    }
    redisReply *r = cli_redis(x->c, "SMEMBERS hk:tenants");
    if (!r) {
        return -1;
    }
    int found = 0;
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements && !found; i++) {
        const redisReply *t = r->element[i];
        if (t->type == REDIS_REPLY_STRING && hk_tenant_ok(t->str)) {
            found = s_exists(x, t->str);
        }
    }
    freeReplyObject(r);
    return found;
}

static void s_line(const char *label, const char *value) {
    if (value && value[0]) {
        printf("  %-12s %s\n", label, value);
    }
}

static void s_print_contact(s_explain_t *x) {
    char a[40], b[40], line[512];
    printf("contact %s\n", x->id);
    s_line("tenant", x->tenant);
    s_line("channel", s_f(x, "channel"));
    const char *ids[] = {"phone_number",  "email_address", "chat_session", "kiosk_device",
                         "entered_phone", "entered_email", "display_name"};
    line[0] = '\0';
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        if (s_f(x, ids[i])[0]) {
            size_t used = strlen(line);
            snprintf(line + used, sizeof line - used, "%s%s=%s", used ? " " : "", ids[i],
                     s_f(x, ids[i]));
        }
    }
    char cust[600];
    snprintf(cust, sizeof cust, "%s%s%s%s", s_f(x, "customer"), line[0] ? " (" : "", line,
             line[0] ? ")" : "");
    s_line("customer", cust);
    snprintf(line, sizeof line, "%s (queue language %s)",
             s_f(x, "language")[0] ? s_f(x, "language") : "unknown",
             s_f(x, "lang")[0] ? s_f(x, "lang") : "any");
    s_line("language", line);
    int64_t rx = s_ms(s_f(x, "received_at_ms"));
    snprintf(line, sizeof line, "%s by gateway %s", cli_iso_ms(rx, a, sizeof a),
             s_f(x, "gateway")[0] ? s_f(x, "gateway") : "?");
    s_line("received", line);
    snprintf(line, sizeof line, "%s by router %s", cli_iso_ms(x->t0, b, sizeof b),
             s_f(x, "router")[0] ? s_f(x, "router") : "?");
    s_line("stored", line);
    const char *state = s_f(x, "state");
    if (!strcmp(state, "offered")) {
        snprintf(line, sizeof line, "offered to %s, lease until %s", s_f(x, "offer_agent"),
                 cli_iso_ms(s_ms(s_f(x, "offer_until")), a, sizeof a));
    } else if (!strcmp(state, "assigned")) {
        snprintf(line, sizeof line, "assigned to %s since %s", s_f(x, "agent"),
                 cli_iso_ms(s_ms(s_f(x, "assigned_ms")), a, sizeof a));
    } else if (!strcmp(state, "resolution_proposed")) {
        snprintf(line, sizeof line, "resolution proposed by %s, closes unconfirmed at %s",
                 s_f(x, "agent"), cli_iso_ms(s_ms(s_f(x, "confirm_until")), a, sizeof a));
    } else if (!strcmp(state, "closed")) {
        snprintf(line, sizeof line, "closed at %s (%s)",
                 cli_iso_ms(s_ms(s_f(x, "closed_ms")), a, sizeof a), s_f(x, "closed_reason"));
    } else if (!strcmp(state, "held")) {
        snprintf(line, sizeof line, "held while the tenant is suspended");
    } else {
        snprintf(line, sizeof line, "%s", state[0] ? state : "unknown");
    }
    s_line("state", line);
    s_line("queue", s_f(x, "queue"));
    if (s_f(x, "overflowed_from")[0]) {
        snprintf(line, sizeof line, "overflowed from %s", s_f(x, "overflowed_from"));
        s_line("", line);
    }
    s_line("wrap-up code", s_f(x, "wrap_code"));
    s_line("note", s_f(x, "note"));
    s_line("subject", s_f(x, "subject"));
    const char *text = s_f(x, "text");
    if (text[0]) {
        snprintf(line, sizeof line, "%.100s%s", text, strlen(text) > 100 ? "..." : "");
        for (char *p = line; *p; p++) {
            *p = (*p == '\n' || *p == '\r' || *p == '\t') ? ' ' : *p;
        }
        s_line("text", line);
    }
}

/* The weight policy p gives reason r ("" for none); a signal kind counts once, so a second
 * reason of the same kind (an urgent choice and IVR 9) shows as counted already. */
static void s_weight(const rt_policy_t *p, const char *r, int *seen, char *buf, size_t len) {
    int kind = -1, w = 0;
    if (!strcmp(r, "choice:urgent") || !strcmp(r, "ivr:9:urgent")) {
        kind = 0, w = p->weight_choice_urgent;
    } else if (!strcmp(r, "choice:talk_to_person") || !strcmp(r, "choice:callback") ||
               !strcmp(r, "ivr:0:talk_to_person")) {
        kind = 1, w = p->weight_choice_person;
    } else if (!strncmp(r, "lexicon:", 8) && strstr(r, ":urgent:")) {
        kind = 2, w = p->weight_lexicon_urgent;
    } else if (!strncmp(r, "lexicon:", 8) && strstr(r, ":personal:")) {
        kind = 3, w = p->weight_lexicon_personal;
    } else if (!strcmp(r, "channel:phone")) {
        kind = 4, w = p->weight_phone_channel;
    } else if (!strcmp(r, "repeat_contact")) {
        kind = 5, w = p->weight_repeat;
    } else if (!strcmp(r, "first_contact:moment_of_truth")) {
        kind = 6, w = p->weight_first_contact;
    } else if (!strcmp(r, "customer:vulnerable")) {
        kind = 7, w = p->weight_vulnerable;
    } else if (!strcmp(r, "customer:vip")) {
        kind = 8, w = p->weight_vip;
    }
    if (kind < 0) {
        buf[0] = '\0';
    } else if (seen[kind]) {
        snprintf(buf, len, "(once)");
    } else {
        seen[kind] = 1;
        snprintf(buf, len, "%+d", w);
    }
}

/* The tenant's current policy (the defaults when none is stored); 0, or -1 when Redis
 * failed. *version is 0 for the defaults. */
static int s_policy(s_explain_t *x, rt_policy_t *p, long *version) {
    rt_policy_defaults(p, x->tenant);
    *version = 0;
    redisReply *r = cli_redis(x->c, "HMGET hk:{%s}:policy version text", x->tenant);
    if (!r) {
        return -1;
    }
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
        r->element[0]->type == REDIS_REPLY_STRING && r->element[1]->type == REDIS_REPLY_STRING) {
        char err[256];
        if (rt_policy_parse(r->element[1]->str, p, err, sizeof err) == 0) {
            *version = atol(r->element[0]->str);
        } else {
            rt_policy_defaults(p, x->tenant);
        }
    }
    freeReplyObject(r);
    return 0;
}

static int s_print_decision(s_explain_t *x) {
    static rt_policy_t p;
    long version = 0;
    if (s_policy(x, &p, &version) != 0) {
        return -1;
    }
    char line[256];
    printf("\ndecision\n");
    snprintf(line, sizeof line, "%s (score %s of 100; urgent from %d, personal from %d)",
             s_f(x, "class"), s_f(x, "score"), p.urgent_threshold, p.personal_threshold);
    s_line("class", line);
    s_line("target", s_f(x, "target"));
    s_line("queue", s_f(x, "queue"));
    char reasons[2048];
    snprintf(reasons, sizeof reasons, "%s", s_f(x, "reasons"));
    char policy[32] = "the defaults";
    if (version > 0) {
        snprintf(policy, sizeof policy, "version %ld", version);
    }
    printf("  reasons (weights of the tenant's current policy, %s)\n", policy);
    int seen[9] = {0};
    char *save = NULL;
    for (char *r = strtok_r(reasons, ",", &save); r; r = strtok_r(NULL, ",", &save)) {
        char text[256], weight[16];
        s_explain_reason(r, text, sizeof text);
        s_weight(&p, r, seen, weight, sizeof weight);
        printf("    %-32s %6s  %s\n", r, weight, text);
    }
    printf("  the score is the sum, capped to 0..100; an explicit choice lifts it to its class's\n"
           "  threshold; the target follows the class and the channel\n");
    return 0;
}

/* Rewrites unix-ms values of known time keys in a trail entry as ISO times. */
static void s_trail_text(const char *what, char *out, size_t len) {
    static const char *const keys[] = {"lease_until=", "confirm_until=", "followup_at=", "until="};
    size_t o = 0;
    const char *p = what;
    out[0] = '\0';
    while (*p && o + 1 < len) {
        const char *word_end = strchr(p, ' ');
        size_t wl = word_end ? (size_t)(word_end - p) : strlen(p);
        int done = 0;
        for (size_t k = 0; k < sizeof keys / sizeof keys[0] && !done; k++) {
            size_t kl = strlen(keys[k]);
            char *end = NULL;
            if (wl > kl && !strncmp(p, keys[k], kl)) {
                long long v = strtoll(p + kl, &end, 10);
                if (end == p + wl && v > 0) {
                    char iso[40];
                    int n = snprintf(out + o, len - o, "%.*s%s", (int)kl, p,
                                     cli_iso_ms(v, iso, sizeof iso));
                    o += n > 0 ? (size_t)n : 0;
                    done = 1;
                }
            }
        }
        if (!done) {
            int n = snprintf(out + o, len - o, "%.*s", (int)wl, p);
            o += n > 0 ? (size_t)n : 0;
        }
        if (o >= len) {
            o = len - 1;
            break;
        }
        p += wl;
        if (*p == ' ') {
            out[o++] = ' ';
            out[o] = '\0';
            p++;
        }
    }
}

static int s_print_trail(s_explain_t *x) {
    redisReply *r = cli_redis(x->c, "LRANGE hk:{%s}:trail:%s 0 -1", x->tenant, x->id);
    if (!r) {
        return -1;
    }
    printf("\ntrail (UTC, +seconds since the router received it)\n");
    long last_day = -1;
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        const redisReply *e = r->element[i];
        if (e->type != REDIS_REPLY_STRING) {
            continue;
        }
        char *what = NULL;
        long long ms = strtoll(e->str, &what, 10);
        what = (what && *what == ' ') ? what + 1 : what;
        long day = (long)(ms / 86400000);
        char iso[40], text[1024];
        cli_iso_ms(ms, iso, sizeof iso);
        if (day != last_day) {
            printf("  -- %.10s\n", iso);
            last_day = day;
        }
        s_trail_text(what ? what : "", text, sizeof text);
        printf("  %.12s +%.3fs  %s\n", iso + 11, (double)(ms - x->t0) / 1000.0, text);
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
        printf("  (no trail entries)\n");
    }
    freeReplyObject(r);
    return 0;
}

static int s_print_customer(s_explain_t *x) {
    const char *cid = s_f(x, "customer");
    if (!cid[0]) {
        return 0;
    }
    redisReply *cust = cli_redis(x->c, "HGETALL hk:{%s}:customer:%s", x->tenant, cid);
    redisReply *list = cust
                           ? cli_redis(x->c, "ZRANGE hk:{%s}:customer:%s:contacts %d -1 WITHSCORES",
                                       x->tenant, cid, -S_MAX_CUSTOMER_CONTACTS)
                           : NULL;
    redisReply *count =
        list ? cli_redis(x->c, "ZCARD hk:{%s}:customer:%s:contacts", x->tenant, cid) : NULL;
    if (!count) {
        freeReplyObject(cust);
        freeReplyObject(list);
        return -1;
    }
    char a[40];
    printf("\ncustomer %s: %lld contact%s, first %s", cid, count->integer,
           count->integer == 1 ? "" : "s",
           cli_iso_ms(s_ms(cli_hash_get(cust, "first_ms")), a, sizeof a));
    if (!strcmp(cli_hash_get(cust, "vulnerable"), "1")) {
        printf(", vulnerable");
    }
    if (!strcmp(cli_hash_get(cust, "vip"), "1")) {
        printf(", VIP");
    }
    printf("\n");
    if (count->integer > S_MAX_CUSTOMER_CONTACTS) {
        printf("  (the latest %d)\n", S_MAX_CUSTOMER_CONTACTS);
    }
    for (size_t i = 0; list->type == REDIS_REPLY_ARRAY && i + 1 < list->elements; i += 2) {
        const char *other = list->element[i]->str;
        redisReply *h =
            cli_redis(x->c, "HMGET hk:{%s}:contact:%s channel class state queue", x->tenant, other);
        if (!h) {
            freeReplyObject(cust);
            freeReplyObject(list);
            freeReplyObject(count);
            return -1;
        }
        const char *v[4];
        for (size_t k = 0; k < 4; k++) {
            v[k] = h->type == REDIS_REPLY_ARRAY && k < h->elements &&
                           h->element[k]->type == REDIS_REPLY_STRING
                       ? h->element[k]->str
                       : "-";
        }
        printf("  %s  %s  %-6s %-9s %-20s %s%s\n",
               cli_iso_ms(s_ms(list->element[i + 1]->str), a, sizeof a), other, v[0], v[1], v[2],
               v[3], strcmp(other, x->id) ? "" : "  <- this contact");
        freeReplyObject(h);
    }
    freeReplyObject(cust);
    freeReplyObject(list);
    freeReplyObject(count);
    return 0;
}

static int s_print_critical(s_explain_t *x) {
    redisReply *r = cli_redis(x->c, "LRANGE hk:{%s}:critical %d -1", x->tenant, -S_MAX_CRITICAL);
    if (!r) {
        return -1;
    }
    int n = 0;
    printf("\ncritical moments\n");
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        const redisReply *e = r->element[i];
        json_t *j = e->type == REDIS_REPLY_STRING ? json_loadb(e->str, e->len, 0, NULL) : NULL;
        const char *contact = json_string_value(json_object_get(j, "contact"));
        if (contact && !strcmp(contact, x->id)) {
            const char *kind = json_string_value(json_object_get(j, "kind"));
            const char *detail = json_string_value(json_object_get(j, "detail"));
            char a[40];
            printf("  %s  %s  %s\n",
                   cli_iso_ms((int64_t)json_number_value(json_object_get(j, "at")), a, sizeof a),
                   kind ? kind : "?", detail ? detail : "");
            n++;
        }
        json_decref(j);
    }
    if (n == 0) {
        printf("  (none)\n");
    }
    freeReplyObject(r);
    return 0;
}

/* The trail's origin: the router's "received" entry, else the enqueue or gateway time. */
static int s_origin(s_explain_t *x) {
    redisReply *r = cli_redis(x->c, "LINDEX hk:{%s}:trail:%s 0", x->tenant, x->id);
    if (!r) {
        return -1;
    }
    x->t0 = 0;
    if (r->type == REDIS_REPLY_STRING) {
        char *rest = NULL;
        long long ms = strtoll(r->str, &rest, 10);
        if (rest && !strncmp(rest, " received", 9)) {
            x->t0 = ms;
        }
    }
    freeReplyObject(r);
    if (x->t0 == 0) {
        x->t0 = s_ms(s_f(x, "enq_ms"));
    }
    if (x->t0 == 0) {
        x->t0 = s_ms(s_f(x, "received_at_ms"));
    }
    return 0;
}

static void s_usage(void) {
    fprintf(stderr, "usage: hetki explain CONTACT_ID [--tenant T]\n");
}

int cli_explain(int argc, char **argv) {
    static const struct option opts[] = {{"tenant", required_argument, 0, 't'}, {0, 0, 0, 0}};
    const char *tenant = NULL;
    optind = 1;
    int o;
    while ((o = getopt_long(argc + 1, argv - 1, "", opts, NULL)) != -1) {
        if (o != 't') {
            s_usage();
            return 2;
        }
        tenant = optarg;
    }
    if (optind != argc || (tenant && !hk_tenant_ok(tenant))) {
        s_usage();
        return 2;
    }
    s_explain_t x = {.id = argv[argc - 1]};
    if (!x.id[0] || strlen(x.id) > 64 || strpbrk(x.id, " {}*?[]\\")) {
        fprintf(stderr, "hetki: no contact %s\n", x.id);
        return 1;
    }
    x.c = cli_redis_connect();
    if (!x.c) {
        return 3;
    }
    int code = 3;
    int found = s_find(&x, tenant);
    if (found == 0) {
        fprintf(stderr, "hetki: no contact %s\n", x.id);
        code = 1;
        goto cleanup;
    }
    if (found < 0) {
        goto cleanup;
    }
    x.contact = cli_redis(x.c, "HGETALL hk:{%s}:contact:%s", x.tenant, x.id);
    if (!x.contact || s_origin(&x) != 0) {
        goto cleanup;
    }
    s_print_contact(&x);
    if (s_print_decision(&x) != 0 || s_print_trail(&x) != 0 || s_print_customer(&x) != 0 ||
        s_print_critical(&x) != 0) {
        goto cleanup;
    }
    code = 0;
cleanup:
    if (code == 3) {
        fflush(stdout);
        fprintf(stderr, "hetki: Redis stopped answering: %s\n",
                x.c->err ? x.c->errstr : "unexpected reply");
    }
    freeReplyObject(x.contact);
    redisFree(x.c);
    return code;
}
