/* rt_tenant: TenantStatus requests. Reads the stored policy, rewrites the `status` key of its
 * [tenant] section (adding the key, or a minimal policy when none is stored), checks that the
 * result parses with the wanted status, and stores it with tenant_status.lua, which refuses
 * when another version was stored since the read (then this reads again, a few times). */
#include "rt_tenant.h"

#include "hk_limits.h"
#include "hk_log.h"
#include "rt_engine_int.h"
#include "rt_policy.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_TRIES 4
#define S_MAX_ID 64

typedef struct {
    rt_engine_t *e;
    rt_reply_fn *fn;
    void *arg;
    char tenant[RT_POLICY_NAME + 1];
    char command_id[S_MAX_ID + 1];
    char status[16];
    char sender[S_MAX_ID + 16];
    int tries;
} s_req_t;

static void s_reply(s_req_t *q, Hetki__V1__ErrorCode code, const char *text) {
    rt_reply_t r = {.error_code = code,
                    .error_text = text ? text : "",
                    .agent_state = "",
                    .contact_state = "",
                    .contact_id = ""};
    q->fn(&r, q->arg);
    rt_engine_t *e = q->e;
    free(q);
    rt_engine_done(e);
}

/* Appends text[0..n) to the buffer (grown); returns 0 or -1. */
static int s_put(char **buf, size_t *len, size_t *cap, const char *text, size_t n) {
    if (*len + n + 1 > *cap) {
        size_t want = (*len + n + 1) * 2;
        char *grown = realloc(*buf, want);
        if (!grown) {
            return -1;
        }
        *buf = grown;
        *cap = want;
    }
    memcpy(*buf + *len, text, n);
    *len += n;
    (*buf)[*len] = '\0';
    return 0;
}

/* The policy text with status set: the key of [tenant] replaced or added, or a minimal policy.
 * Returns a new string, or NULL when out of memory. */
static char *s_rewrite(const char *text, const char *tenant, const char *status) {
    char *out = NULL;
    size_t len = 0, cap = 0;
    char line[64];
    snprintf(line, sizeof line, "status = %s\n", status);
    if (!text || !*text) {
        char head[128];
        snprintf(head, sizeof head, "[tenant]\nname = %s\n", tenant);
        return s_put(&out, &len, &cap, head, strlen(head)) ||
                       s_put(&out, &len, &cap, line, strlen(line))
                   ? (free(out), NULL)
                   : out;
    }
    int in_tenant = 0, seen_tenant = 0, done = 0;
    for (const char *p = text; *p;) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) + 1 : strlen(p);
        const char *t = p;
        while (t < p + n && (*t == ' ' || *t == '\t')) {
            t++;
        }
        int section = *t == '[';
        if (section && in_tenant && !done) {
            done = s_put(&out, &len, &cap, line, strlen(line)) == 0;
        }
        if (section) {
            in_tenant = strncmp(t, "[tenant]", 8) == 0;
            seen_tenant = seen_tenant || in_tenant;
        }
        int is_status = in_tenant && !section && strncmp(t, "status", 6) == 0 &&
                        (t[6] == ' ' || t[6] == '\t' || t[6] == '=');
        if (is_status && !done) {
            done = s_put(&out, &len, &cap, line, strlen(line)) == 0;
        } else if (!is_status && s_put(&out, &len, &cap, p, n) != 0) {
            free(out);
            return NULL;
        }
        if (!eol && n > 0 && !is_status && s_put(&out, &len, &cap, "\n", 1) != 0) {
            free(out);
            return NULL;
        }
        p += n;
    }
    if (!done && in_tenant && s_put(&out, &len, &cap, line, strlen(line)) != 0) {
        free(out);
        return NULL;
    }
    if (!seen_tenant) {
        char *rest = out;
        out = NULL;
        len = cap = 0;
        if (s_put(&out, &len, &cap, "[tenant]\n", 9) != 0 ||
            s_put(&out, &len, &cap, line, strlen(line)) != 0 || s_put(&out, &len, &cap, "\n", 1) ||
            (rest && s_put(&out, &len, &cap, rest, strlen(rest)) != 0)) {
            free(rest);
            free(out);
            return NULL;
        }
        free(rest);
    }
    return out;
}

static void s_read(s_req_t *q);

static void s_on_stored(hk_redis_t *r, redisReply *reply, void *arg) {
    s_req_t *q = arg;
    (void)r;
    if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 1 &&
        reply->element[0]->type == REDIS_REPLY_INTEGER && reply->element[0]->integer == -1) {
        if (++q->tries < S_TRIES) {
            s_read(q); /* another version was stored meanwhile */
            return;
        }
        s_reply(q, HETKI__V1__ERROR_CODE__ERROR_UNAVAILABLE, "the policy keeps changing: retry");
        return;
    }
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements < 5) {
        HK_WARN("tenant.status_failed", "tenant=%s error=\"%s\"", q->tenant,
                reply && reply->type == REDIS_REPLY_ERROR ? reply->str : "no reply");
        s_reply(q, HETKI__V1__ERROR_CODE__ERROR_UNAVAILABLE, "Redis did not answer: retry");
        return;
    }
    rt_publish_script_events(q->e, q->tenant, reply);
    HK_INFO("tenant.status", "tenant=%s status=%s by=\"%s\"", q->tenant, q->status, q->sender + 7);
    s_reply(q, (Hetki__V1__ErrorCode)rt_reply_int(reply, 0), rt_reply_str(reply, 1));
}

static void s_on_policy(hk_redis_t *r, redisReply *reply, void *arg) {
    s_req_t *q = arg;
    (void)r;
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
        s_reply(q, HETKI__V1__ERROR_CODE__ERROR_UNAVAILABLE, "Redis did not answer: retry");
        return;
    }
    redisReply *v = reply->element[0], *t = reply->element[1];
    const char *version = v->type == REDIS_REPLY_STRING ? v->str : "0";
    const char *text = t->type == REDIS_REPLY_STRING ? t->str : NULL;
    static rt_policy_t pol; /* large; one loop thread */
    char err[256];
    int want = strcmp(q->status, "suspended") == 0 ? RT_TENANT_SUSPENDED : RT_TENANT_ACTIVE;
    char *next = NULL;
    if (!text || rt_policy_parse(text, &pol, err, sizeof err) != 0 || (int)pol.status != want) {
        next = s_rewrite(text, q->tenant, q->status);
        if (!next || rt_policy_parse(next, &pol, err, sizeof err) != 0 || (int)pol.status != want) {
            HK_WARN("tenant.status_unwritable", "tenant=%s error=\"%s\"", q->tenant,
                    next ? err : "out of memory");
            free(next);
            s_reply(q, HETKI__V1__ERROR_CODE__ERROR_STATE,
                    "the stored policy cannot be rewritten: load a valid policy first");
            return;
        }
    }
    char key[96];
    snprintf(key, sizeof key, "hk:{%s}:policy", q->tenant);
    rt_args_t a;
    rt_args_begin(q->e, &a, key, q->tenant);
    rt_arg(&a, q->sender);
    rt_arg(&a, q->command_id);
    rt_arg(&a, q->status);
    rt_arg(&a, version);
    rt_arg(&a, next ? next : "");
    int rc = hk_redis_eval(q->e->redis, q->e->scripts[RT_TENANT_STATUS], 1, a.argc, a.argv, a.lens,
                           s_on_stored, q);
    free(next);
    if (rc != 0) {
        s_reply(q, HETKI__V1__ERROR_CODE__ERROR_UNAVAILABLE, "Redis is not reachable: retry");
    }
}

static void s_read(s_req_t *q) {
    char key[96];
    snprintf(key, sizeof key, "hk:{%s}:policy", q->tenant);
    const char *argv[] = {"HMGET", key, "version", "text"};
    size_t lens[] = {5, strlen(key), 7, 4};
    if (hk_redis_command(q->e->redis, 4, argv, lens, s_on_policy, q) != 0) {
        s_reply(q, HETKI__V1__ERROR_CODE__ERROR_UNAVAILABLE, "Redis is not reachable: retry");
    }
}

void rt_tenant_status(rt_engine_t *e, const Hetki__V1__TenantStatus *ts, rt_reply_fn *fn,
                      void *arg) {
    assert(e && ts && fn);
    s_req_t *q = calloc(1, sizeof *q);
    assert(q);
    q->e = e;
    q->fn = fn;
    q->arg = arg;
    e->inflight++;
    const char *why = NULL;
    if (!rt_policy_name_valid(ts->tenant) || strlen(ts->tenant) > RT_POLICY_NAME) {
        why = "tenant: 1 to 31 characters of a-z 0-9 _ -";
    } else if (strcmp(ts->status, "active") != 0 && strcmp(ts->status, "suspended") != 0) {
        why = "status: active or suspended";
    } else if (!hk_ref_ok(ts->command_id)) {
        why = "command_id: 1 to 64 characters of A-Z a-z 0-9 _ . : -";
    } else if (ts->by[0] && !hk_ref_ok(ts->by)) {
        why = "by: an account id";
    }
    if (why) {
        s_reply(q, HETKI__V1__ERROR_CODE__ERROR_INVALID, why);
        return;
    }
    snprintf(q->tenant, sizeof q->tenant, "%s", ts->tenant);
    snprintf(q->command_id, sizeof q->command_id, "%s", ts->command_id);
    snprintf(q->status, sizeof q->status, "%s", ts->status);
    snprintf(q->sender, sizeof q->sender, "tenant:%s", ts->by[0] ? ts->by : "-");
    s_read(q);
}
