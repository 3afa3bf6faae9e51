/* rt_calls: CallState reports from hetki-phone (docs/protocols/events.md, "Call states"):
 * validated here, applied by services/router/lua/call_state.lua, which records the state on
 * the contact and in its trail and publishes call.<state>; the callback states also move the
 * contact (hold it for a retry, queue it again, record a broken promise as a critical
 * moment). */
#include "rt_engine_int.h"

#include "hk_limits.h"
#include "hk_log.h"
#include "rt_validate.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_DETAIL 256
#define S_MAX_STATE 32
#define S_MAX_GATEWAY 96

typedef struct {
    rt_engine_t *e;
    rt_reply_fn *fn;
    void *arg;
    char tenant[RT_MAX_TENANT + 1];
    char contact_id[72];
} s_call_t;

/* 1..32 characters of a-z and _ (it becomes part of the event kind call.<state>). */
static int s_state_ok(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > S_MAX_STATE) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_')) {
            return 0;
        }
    }
    return 1;
}

/* Printable text without control characters (it goes into one trail line). */
static int s_text_ok(const char *s, size_t max) {
    size_t n = strlen(s);
    if (n > max) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
            return 0;
        }
    }
    return 1;
}

static void s_reply_now(rt_reply_fn *fn, void *arg, const char *text, const char *contact_id) {
    rt_reply_t r = {HETKI__V1__ERROR_CODE__ERROR_INVALID, text, "", "", contact_id};
    fn(&r, arg);
}

static void s_on_done(hk_redis_t *redis, redisReply *reply, void *arg) {
    (void)redis;
    s_call_t *call = arg;
    rt_engine_t *e = call->e;
    rt_reply_t r = {HETKI__V1__ERROR_CODE__ERROR_UNAVAILABLE, "storage unavailable, retry", "", "",
                    call->contact_id};
    if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements >= 5) {
        r.error_code = (Hetki__V1__ErrorCode)rt_reply_int(reply, 0);
        r.error_text = rt_reply_str(reply, 1);
        r.agent_state = rt_reply_str(reply, 2);
        r.contact_state = rt_reply_str(reply, 3);
        rt_publish_script_events(e, call->tenant, reply);
    } else {
        HK_WARN("call_state.failed", "tenant=%s contact=%s error=\"%s\"", call->tenant,
                call->contact_id,
                reply && reply->type == REDIS_REPLY_ERROR ? reply->str : "no answer from redis");
    }
    call->fn(&r, call->arg);
    free(call);
    rt_engine_done(e);
}

void rt_engine_call_state(rt_engine_t *e, const Hetki__V1__CallState *cs, rt_reply_fn *fn,
                          void *arg) {
    char err[160];
    const char *cid = cs->contact_id ? cs->contact_id : "";
    if (rt_tenant_ok(cs->tenant, err, sizeof err) != 0) {
        s_reply_now(fn, arg, err, cid);
        return;
    }
    if (!hk_ref_ok(cid) || (cs->agent_id[0] && !hk_ref_ok(cs->agent_id)) ||
        (cs->command_id[0] && !hk_ref_ok(cs->command_id))) {
        s_reply_now(fn, arg,
                    "contact_id (required), agent_id and command_id must be 1 to 64 characters "
                    "of A-Z a-z 0-9 _ . : -",
                    cid);
        return;
    }
    if (!s_state_ok(cs->state)) {
        s_reply_now(fn, arg, "state must be 1 to 32 characters of a-z and _", cid);
        return;
    }
    if (!s_text_ok(cs->detail, S_MAX_DETAIL) || !s_text_ok(cs->gateway, S_MAX_GATEWAY)) {
        s_reply_now(fn, arg,
                    "detail (at most 256 bytes) and gateway (at most 96) must be text without "
                    "control characters",
                    cid);
        return;
    }
    char k[200];
    snprintf(k, sizeof k, "hk:{%s}:contact:%s", cs->tenant, cid);
    rt_args_t a;
    rt_args_begin(e, &a, k, cs->tenant);
    rt_arg(&a, cid);
    rt_arg(&a, cs->state);
    rt_arg(&a, cs->agent_id);
    rt_arg(&a, cs->detail);
    rt_arg(&a, cs->gateway);
    rt_arg(&a, cs->command_id);
    s_call_t *call = calloc(1, sizeof *call);
    assert(call);
    call->e = e;
    call->fn = fn;
    call->arg = arg;
    snprintf(call->tenant, sizeof call->tenant, "%s", cs->tenant);
    snprintf(call->contact_id, sizeof call->contact_id, "%s", cid);
    e->inflight++;
    if (hk_redis_eval(e->redis, e->scripts[RT_CALL], 1, a.argc, a.argv, a.lens, s_on_done, call) !=
        0) {
        s_on_done(e->redis, NULL, call);
    }
}
