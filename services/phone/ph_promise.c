/* ph_promise: the durable callback promises (ph_promise.h): one Lua script per change
 * (services/phone/lua/promise_*.lua), a due-timer sweep per tenant, and CallState reports to
 * the router for what it must know (promised, retry, due, kept, broken). */
#include "ph_promise.h"

#include "hk_limits.h"
#include "hk_clock.h"
#include "hk_log.h"
#include "hk_strmap.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *ph_lua_get(const char *name);

#define S_DUE_BATCH "100"
#define S_TENANTS_REFRESH_MS 5000

enum { S_CREATE, S_CLAIM, S_RESULT, S_DUE, S_NSCRIPTS };
static const char *const s_scripts[S_NSCRIPTS] = {"promise_create", "promise_claim",
                                                  "promise_result", "promise_due"};

typedef struct {
    int sweeping;
} s_tenant_t;

struct ph_promise_t {
    uv_loop_t *loop;
    hk_redis_t *redis;
    ph_policy_t *policy;
    hk_submit_t *submit;
    char instance[96];
    int scripts[S_NSCRIPTS];
    hk_strmap_t *tenants;
    uv_timer_t sweep, refresh;
    int started;
    size_t inflight;
    int destroying;
    void (*destroyed)(void *arg); /* ph_promise_destroy's done callback */
    void *destroyed_arg;
    uint64_t *m_promised, *m_kept, *m_broken, *m_retries;
};

/* One operation waiting for Redis (or the policy). */
typedef struct {
    ph_promise_t *pr;
    ph_promise_fn *fn;
    void *arg;
    char tenant[PH_POLICY_TENANT];
    char contact_id[PH_PROMISE_ID];
    char phone[PH_PROMISE_PHONE];
    char language[8];
    char source[16];
    char agent[PH_PROMISE_ID];
    char detail[160];
    int result;
} s_op_t;

static int s_id_ok(const char *id, size_t max) {
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > max) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == ':' || c == '-' || c == '+')) {
            return 0;
        }
    }
    return 1;
}

static void s_maybe_free(ph_promise_t *pr) {
    if (pr->destroying && pr->inflight == 0) {
        void (*done)(void *) = pr->destroyed;
        void *arg = pr->destroyed_arg;
        hk_strmap_destroy_values(&pr->tenants, free);
        free(pr);
        if (done) {
            done(arg);
        }
    }
}

/* Fills info from field, value pairs of r starting at element i. */
static void s_info_from(const redisReply *r, size_t i, const char *tenant, ph_promise_info_t *in) {
    memset(in, 0, sizeof *in);
    snprintf(in->tenant, sizeof in->tenant, "%s", tenant);
    for (; i + 1 < r->elements; i += 2) {
        const redisReply *f = r->element[i], *v = r->element[i + 1];
        if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) {
            continue;
        }
        const char *k = f->str, *s = v->str;
        long long n = strtoll(s, NULL, 10);
        if (!strcmp(k, "contact")) {
            snprintf(in->contact_id, sizeof in->contact_id, "%s", s);
        } else if (!strcmp(k, "phone")) {
            snprintf(in->phone, sizeof in->phone, "%s", s);
        } else if (!strcmp(k, "language")) {
            snprintf(in->language, sizeof in->language, "%s", s);
        } else if (!strcmp(k, "window_start")) {
            in->window_start_ms = n;
        } else if (!strcmp(k, "window_end")) {
            in->window_end_ms = n;
        } else if (!strcmp(k, "attempts")) {
            in->attempts = (int)n;
        } else if (!strcmp(k, "max_attempts")) {
            in->max_attempts = (int)n;
        } else if (!strcmp(k, "retry_after")) {
            in->retry_after_ms = n;
        } else if (!strcmp(k, "agent")) {
            snprintf(in->agent_id, sizeof in->agent_id, "%s", s);
        } else if (!strcmp(k, "status")) {
            in->status = !strcmp(s, "dialing")  ? PH_PROMISE_DIALING
                         : !strcmp(s, "kept")   ? PH_PROMISE_KEPT
                         : !strcmp(s, "broken") ? PH_PROMISE_BROKEN
                                                : PH_PROMISE_PENDING;
        }
    }
}

/* ---- reports to the router */

static void s_on_reported(const hk_envelope_t *reply, const char *error, void *arg) {
    char *what = arg;
    if (!reply) {
        HK_WARN("callback.report_failed", "%s error=\"%s\"", what, error ? error : "?");
    } else if (reply->body_case == HETKI__V1__ENVELOPE__BODY_COMMAND_REPLY &&
               reply->command_reply->error_code != HETKI__V1__ERROR_CODE__ERROR_NONE) {
        HK_WARN("callback.report_refused", "%s error=\"%s\"", what,
                reply->command_reply->error_text);
    }
    free(what);
}

/* Sends a CallState about the contact's promise (resent by hk_submit until a router
 * answers; the command id makes a resend harmless). */
static void s_report(ph_promise_t *pr, const char *tenant, const char *cid, const char *agent,
                     const char *state, const char *detail) {
    char id[72], what[200];
    snprintf(id, sizeof id, "%.26s:%.12s:%lld", cid, state, (long long)hk_clock_now_ms());
    snprintf(what, sizeof what, "tenant=%s contact=%s state=%s", tenant, cid, state);
    Hetki__V1__CallState cs = HETKI__V1__CALL_STATE__INIT;
    cs.command_id = id;
    cs.tenant = (char *)tenant;
    cs.contact_id = (char *)cid;
    cs.agent_id = (char *)(agent ? agent : "");
    cs.state = (char *)state;
    cs.detail = (char *)(detail ? detail : "");
    cs.gateway = pr->instance;
    hk_envelope_t env = HETKI__V1__ENVELOPE__INIT;
    env.body_case = HETKI__V1__ENVELOPE__BODY_CALL_STATE;
    env.call_state = &cs;
    char *copy = strdup(what);
    HK_INFO("callback.report", "%s agent=%s detail=\"%s\"", what, agent ? agent : "",
            detail ? detail : "");
    if (!copy || hk_submit_request(pr->submit, &env, s_on_reported, copy) != 0) {
        HK_ERROR("callback.report_failed", "%s error=\"cannot encode\"", what);
        free(copy);
    }
}

/* ---- create */

static void s_finish(s_op_t *op, ph_promise_rc_t rc, const ph_promise_info_t *in, const char *why) {
    ph_promise_t *pr = op->pr;
    if (op->fn) {
        op->fn(rc, in, why, op->arg);
    }
    free(op);
    pr->inflight--;
    s_maybe_free(pr);
}

static ph_promise_rc_t s_script_rc(const redisReply *r) {
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 2 ||
        r->element[0]->type != REDIS_REPLY_INTEGER) {
        return PH_PROMISE_R_UNAVAILABLE;
    }
    switch (r->element[0]->integer) {
    case 0:
        return PH_PROMISE_R_OK;
    case 1:
    case 3: /* claim: no promise, the contact is a callback (why no_promise_callback) */
        return PH_PROMISE_R_NOT_FOUND;
    default:
        return PH_PROMISE_R_STATE;
    }
}

static const char *s_why(const redisReply *r) {
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements >= 2 &&
        r->element[1]->type == REDIS_REPLY_STRING) {
        return r->element[1]->str;
    }
    return r && r->type == REDIS_REPLY_ERROR ? r->str : "redis_unavailable";
}

static void s_on_created(hk_redis_t *redis, redisReply *reply, void *arg) {
    (void)redis;
    s_op_t *op = arg;
    ph_promise_rc_t rc = s_script_rc(reply);
    if (rc == PH_PROMISE_R_STATE) {
        rc = PH_PROMISE_R_INVALID; /* 2: no number to call */
    }
    if (rc != PH_PROMISE_R_OK) {
        HK_WARN("callback.create_failed", "tenant=%s contact=%s error=\"%s\"", op->tenant,
                op->contact_id, s_why(reply));
        s_finish(op, rc, NULL, s_why(reply));
        return;
    }
    ph_promise_info_t in;
    s_info_from(reply, 2, op->tenant, &in);
    in.created = reply->element[1]->type == REDIS_REPLY_INTEGER && reply->element[1]->integer == 1;
    if (in.created) {
        char detail[160];
        snprintf(detail, sizeof detail, "window=%lld-%lld attempts=%d source=%s",
                 (long long)in.window_start_ms, (long long)in.window_end_ms, in.max_attempts,
                 op->source);
        (*op->pr->m_promised)++;
        HK_INFO("callback.promised", "tenant=%s contact=%s phone=%s window_end=%lld source=%s",
                op->tenant, op->contact_id, in.phone, (long long)in.window_end_ms, op->source);
        s_report(op->pr, op->tenant, op->contact_id, NULL, "callback_promised", detail);
    }
    s_finish(op, PH_PROMISE_R_OK, &in, in.created ? "created" : "exists");
}

static void s_on_settings(ph_policy_status_t status, const ph_phone_settings_t *s, void *arg) {
    s_op_t *op = arg;
    ph_promise_t *pr = op->pr;
    if (status != PH_POLICY_OK || !s) {
        s_finish(op, PH_PROMISE_R_UNAVAILABLE, NULL, "policy_unavailable");
        return;
    }
    char key[160], now[24], window[24], attempts[16], retry[24];
    snprintf(key, sizeof key, "hk:{%s}:promise:%s", op->tenant, op->contact_id);
    snprintf(now, sizeof now, "%lld", (long long)hk_clock_now_ms());
    snprintf(window, sizeof window, "%lld", (long long)s->callback_window_ms);
    snprintf(attempts, sizeof attempts, "%d", s->callback_attempts);
    snprintf(retry, sizeof retry, "%lld", (long long)s->callback_retry_after_ms);
    const char *argv[] = {key,    now,      op->contact_id, op->phone,  op->language,
                          window, attempts, retry,          op->source, s->language};
    size_t lens[10];
    for (int i = 0; i < 10; i++) {
        lens[i] = strlen(argv[i]);
    }
    if (hk_redis_eval(pr->redis, pr->scripts[S_CREATE], 1, 10, argv, lens, s_on_created, op) != 0) {
        s_on_created(pr->redis, NULL, op);
    }
}

static s_op_t *s_op(ph_promise_t *pr, const char *tenant, const char *cid, ph_promise_fn *fn,
                    void *arg) {
    s_op_t *op = calloc(1, sizeof *op);
    assert(op);
    op->pr = pr;
    op->fn = fn;
    op->arg = arg;
    snprintf(op->tenant, sizeof op->tenant, "%s", tenant ? tenant : "");
    snprintf(op->contact_id, sizeof op->contact_id, "%s", cid ? cid : "");
    pr->inflight++;
    return op;
}

/* Refuses bad arguments later (never before the caller's call returns). */
static void s_on_invalid(uv_timer_t *t) {
    s_op_t *op = t->data;
    uv_close((uv_handle_t *)t, (uv_close_cb)free);
    s_finish(op, PH_PROMISE_R_INVALID, NULL, "invalid");
}

static void s_invalid_later(s_op_t *op) {
    uv_timer_t *t = calloc(1, sizeof *t);
    assert(t);
    uv_timer_init(op->pr->loop, t);
    t->data = op;
    uv_timer_start(t, s_on_invalid, 0, 0);
}

static int s_args_ok(const char *tenant, const char *cid) {
    return hk_tenant_ok(tenant) && s_id_ok(cid, 64);
}

void ph_promise_create(ph_promise_t *pr, const ph_promise_request_t *req, ph_promise_fn *fn,
                       void *arg) {
    s_op_t *op = s_op(pr, req->tenant, req->contact_id, fn, arg);
    const char *phone = req->phone ? req->phone : "";
    char number[PH_POLICY_NUMBER] = "";
    /* A caller id that is no number ("anonymous") cannot be called back. */
    if (!s_args_ok(req->tenant, req->contact_id) ||
        (phone[0] && ph_policy_normalize_number(phone, number, sizeof number) != 0)) {
        s_invalid_later(op);
        return;
    }
    snprintf(op->phone, sizeof op->phone, "%s", number);
    snprintf(op->language, sizeof op->language, "%.2s", req->language ? req->language : "");
    snprintf(op->source, sizeof op->source, "%s", req->source ? req->source : "channel");
    /* The policy answer may come at once (cached); the script call is asynchronous anyway. */
    ph_policy_settings(pr->policy, op->tenant, s_on_settings, op);
}

/* ---- get, claim, result */

static void s_on_get(hk_redis_t *redis, redisReply *reply, void *arg) {
    (void)redis;
    s_op_t *op = arg;
    if (!reply || reply->type != REDIS_REPLY_ARRAY) {
        s_finish(op, PH_PROMISE_R_UNAVAILABLE, NULL, "redis_unavailable");
        return;
    }
    if (reply->elements == 0) {
        s_finish(op, PH_PROMISE_R_NOT_FOUND, NULL, "no_promise");
        return;
    }
    ph_promise_info_t in;
    s_info_from(reply, 0, op->tenant, &in);
    s_finish(op, PH_PROMISE_R_OK, &in, "");
}

void ph_promise_get(ph_promise_t *pr, const char *tenant, const char *contact_id, ph_promise_fn *fn,
                    void *arg) {
    s_op_t *op = s_op(pr, tenant, contact_id, fn, arg);
    if (!s_args_ok(tenant, contact_id)) {
        s_invalid_later(op);
        return;
    }
    char key[160];
    snprintf(key, sizeof key, "hk:{%s}:promise:%s", tenant, contact_id);
    const char *argv[] = {"HGETALL", key};
    size_t lens[] = {7, strlen(key)};
    if (hk_redis_command(pr->redis, 2, argv, lens, s_on_get, op) != 0) {
        s_on_get(pr->redis, NULL, op);
    }
}

static void s_on_claimed(hk_redis_t *redis, redisReply *reply, void *arg) {
    (void)redis;
    s_op_t *op = arg;
    ph_promise_rc_t rc = s_script_rc(reply);
    ph_promise_info_t in;
    if (rc == PH_PROMISE_R_OK || rc == PH_PROMISE_R_STATE) {
        s_info_from(reply, 2, op->tenant, &in);
    }
    HK_DEBUG("callback.claim", "tenant=%s contact=%s agent=%s result=%s", op->tenant,
             op->contact_id, op->agent, s_why(reply));
    s_finish(op, rc, rc == PH_PROMISE_R_OK || rc == PH_PROMISE_R_STATE ? &in : NULL, s_why(reply));
}

void ph_promise_claim(ph_promise_t *pr, const char *tenant, const char *contact_id,
                      const char *agent_id, ph_promise_fn *fn, void *arg) {
    s_op_t *op = s_op(pr, tenant, contact_id, fn, arg);
    if (!s_args_ok(tenant, contact_id) || !s_id_ok(agent_id, 64)) {
        s_invalid_later(op);
        return;
    }
    snprintf(op->agent, sizeof op->agent, "%s", agent_id);
    char key[160], now[24], claim[24];
    snprintf(key, sizeof key, "hk:{%s}:promise:%s", tenant, contact_id);
    snprintf(now, sizeof now, "%lld", (long long)hk_clock_now_ms());
    snprintf(claim, sizeof claim, "%d", PH_PROMISE_CLAIM_MS);
    const char *argv[] = {key, now, contact_id, agent_id, pr->instance, claim};
    size_t lens[6];
    for (int i = 0; i < 6; i++) {
        lens[i] = strlen(argv[i]);
    }
    if (hk_redis_eval(pr->redis, pr->scripts[S_CLAIM], 1, 6, argv, lens, s_on_claimed, op) != 0) {
        s_on_claimed(pr->redis, NULL, op);
    }
}

static void s_on_result(hk_redis_t *redis, redisReply *reply, void *arg) {
    (void)redis;
    s_op_t *op = arg;
    ph_promise_t *pr = op->pr;
    ph_promise_rc_t rc = s_script_rc(reply);
    if (rc != PH_PROMISE_R_OK) {
        HK_WARN("callback.result_refused", "tenant=%s contact=%s why=%s", op->tenant,
                op->contact_id, s_why(reply));
        ph_promise_info_t in;
        if (rc == PH_PROMISE_R_STATE) {
            s_info_from(reply, 2, op->tenant, &in);
        }
        s_finish(op, rc, rc == PH_PROMISE_R_STATE ? &in : NULL, s_why(reply));
        return;
    }
    ph_promise_info_t in;
    s_info_from(reply, 2, op->tenant, &in);
    const char *action = s_why(reply);
    char detail[240];
    if (!strcmp(action, "kept")) {
        (*pr->m_kept)++;
        snprintf(detail, sizeof detail, "attempt=%d/%d %s", in.attempts + 1, in.max_attempts,
                 op->detail);
        s_report(pr, op->tenant, op->contact_id, in.agent_id, "promise_kept", detail);
    } else if (!strcmp(action, "retry")) {
        (*pr->m_retries)++;
        snprintf(detail, sizeof detail, "attempt=%d/%d next=%lld %s", in.attempts, in.max_attempts,
                 (long long)(hk_clock_now_ms() + in.retry_after_ms), op->detail);
        s_report(pr, op->tenant, op->contact_id, NULL, "callback_retry", detail);
    } else if (!strcmp(action, "broken")) {
        (*pr->m_broken)++;
        snprintf(detail, sizeof detail, "reason=%s attempts=%d/%d %s",
                 in.attempts >= in.max_attempts ? "attempts_used" : "no_time_left", in.attempts,
                 in.max_attempts, op->detail);
        s_report(pr, op->tenant, op->contact_id, NULL, "promise_broken", detail);
    }
    HK_INFO("callback.attempt", "tenant=%s contact=%s agent=%s action=%s attempts=%d/%d",
            op->tenant, op->contact_id, in.agent_id, action, in.attempts, in.max_attempts);
    s_finish(op, PH_PROMISE_R_OK, &in, action);
}

void ph_promise_result(ph_promise_t *pr, const char *tenant, const char *contact_id,
                       ph_attempt_result_t result, const char *detail, ph_promise_fn *fn,
                       void *arg) {
    static const char *const names[] = {"connected", "no_answer", "agent_failed"};
    s_op_t *op = s_op(pr, tenant, contact_id, fn, arg);
    if (!s_args_ok(tenant, contact_id) || result < PH_ATTEMPT_CONNECTED ||
        result > PH_ATTEMPT_AGENT_FAILED) {
        s_invalid_later(op);
        return;
    }
    snprintf(op->detail, sizeof op->detail, "%s", detail ? detail : "");
    char key[160], now[24];
    snprintf(key, sizeof key, "hk:{%s}:promise:%s", tenant, contact_id);
    snprintf(now, sizeof now, "%lld", (long long)hk_clock_now_ms());
    const char *argv[] = {key, now, contact_id, names[result], pr->instance, op->detail};
    size_t lens[6];
    for (int i = 0; i < 6; i++) {
        lens[i] = strlen(argv[i]);
    }
    if (hk_redis_eval(pr->redis, pr->scripts[S_RESULT], 1, 6, argv, lens, s_on_result, op) != 0) {
        s_on_result(pr->redis, NULL, op);
    }
}

/* ---- the due timers */

typedef struct {
    ph_promise_t *pr;
    char tenant[PH_POLICY_TENANT];
} s_sweep_t;

static void s_on_swept(hk_redis_t *redis, redisReply *reply, void *arg) {
    (void)redis;
    s_sweep_t *sw = arg;
    ph_promise_t *pr = sw->pr;
    s_tenant_t *t = pr->tenants ? hk_strmap_get(pr->tenants, sw->tenant) : NULL;
    if (t) {
        t->sweeping = 0;
    }
    if (reply && reply->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i + 3 < reply->elements; i += 4) {
            if (reply->element[i]->type != REDIS_REPLY_STRING ||
                reply->element[i + 1]->type != REDIS_REPLY_STRING ||
                reply->element[i + 2]->type != REDIS_REPLY_STRING ||
                reply->element[i + 3]->type != REDIS_REPLY_STRING) {
                continue;
            }
            const char *cid = reply->element[i]->str, *action = reply->element[i + 1]->str;
            const char *detail = reply->element[i + 2]->str, *agent = reply->element[i + 3]->str;
            HK_INFO("callback.due", "tenant=%s contact=%s action=%s %s", sw->tenant, cid, action,
                    detail);
            if (!strcmp(action, "broken")) {
                (*pr->m_broken)++;
                s_report(pr, sw->tenant, cid, agent[0] ? agent : NULL, "promise_broken", detail);
            } else if (!strcmp(action, "retry")) {
                (*pr->m_retries)++;
                s_report(pr, sw->tenant, cid, NULL, "callback_retry", detail);
            } else if (!strcmp(action, "due")) {
                s_report(pr, sw->tenant, cid, NULL, "callback_due", detail);
            }
        }
    } else if (reply && reply->type == REDIS_REPLY_ERROR) {
        HK_ERROR("callback.sweep_failed", "tenant=%s error=\"%s\"", sw->tenant, reply->str);
    }
    free(sw);
    pr->inflight--;
    s_maybe_free(pr);
}

static void s_on_sweep(uv_timer_t *h) {
    ph_promise_t *pr = h->data;
    if (!hk_redis_ready(pr->redis)) {
        return;
    }
    size_t n = 0;
    char **names = hk_strmap_keys(pr->tenants, &n);
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)hk_clock_now_ms());
    for (size_t i = 0; i < n; i++) {
        s_tenant_t *t = hk_strmap_get(pr->tenants, names[i]);
        if (t->sweeping) {
            continue;
        }
        s_sweep_t *sw = calloc(1, sizeof *sw);
        assert(sw);
        sw->pr = pr;
        snprintf(sw->tenant, sizeof sw->tenant, "%s", names[i]);
        char key[80];
        snprintf(key, sizeof key, "hk:{%s}:promise_due", names[i]);
        const char *argv[] = {key, now, S_DUE_BATCH};
        size_t lens[] = {strlen(key), strlen(now), strlen(S_DUE_BATCH)};
        t->sweeping = 1;
        pr->inflight++;
        if (hk_redis_eval(pr->redis, pr->scripts[S_DUE], 1, 3, argv, lens, s_on_swept, sw) != 0) {
            s_on_swept(pr->redis, NULL, sw);
        }
    }
    free(names);
}

static void s_on_tenants(hk_redis_t *redis, redisReply *reply, void *arg) {
    (void)redis;
    ph_promise_t *pr = arg;
    if (!pr->destroying && reply && reply->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i < reply->elements; i++) {
            const redisReply *x = reply->element[i];
            if (x->type == REDIS_REPLY_STRING && hk_tenant_ok(x->str) &&
                !hk_strmap_get(pr->tenants, x->str)) {
                s_tenant_t *t = calloc(1, sizeof *t);
                assert(t);
                hk_strmap_put(pr->tenants, x->str, t);
            }
        }
    }
    pr->inflight--;
    s_maybe_free(pr);
}

static void s_on_refresh(uv_timer_t *h) {
    ph_promise_t *pr = h->data;
    const char *argv[] = {"SMEMBERS", "hk:tenants"};
    size_t lens[] = {8, 10};
    pr->inflight++;
    if (hk_redis_command(pr->redis, 2, argv, lens, s_on_tenants, pr) != 0) {
        pr->inflight--;
    }
}

ph_promise_t *ph_promise_new(uv_loop_t *loop, hk_redis_t *redis, ph_policy_t *policy,
                             hk_submit_t *submit, hk_metrics_t *metrics, const char *instance) {
    ph_promise_t *pr = calloc(1, sizeof *pr);
    assert(pr && loop && redis && policy && submit && metrics);
    pr->loop = loop;
    pr->redis = redis;
    pr->policy = policy;
    pr->submit = submit;
    snprintf(pr->instance, sizeof pr->instance, "%s", instance ? instance : "phone");
    for (int i = 0; i < S_NSCRIPTS; i++) {
        const char *body = ph_lua_get(s_scripts[i]);
        assert(body);
        pr->scripts[i] = hk_redis_script(redis, s_scripts[i], body);
    }
    pr->tenants = hk_strmap_new();
    uv_timer_init(loop, &pr->sweep);
    uv_timer_init(loop, &pr->refresh);
    pr->sweep.data = pr->refresh.data = pr;
    pr->m_promised =
        hk_metrics_counter(metrics, "phone_callbacks_promised_total", "callback promises made");
    pr->m_kept =
        hk_metrics_counter(metrics, "phone_callbacks_kept_total", "callback promises kept");
    pr->m_broken = hk_metrics_counter(metrics, "phone_callbacks_broken_total",
                                      "callback promises broken (critical moments)");
    pr->m_retries = hk_metrics_counter(metrics, "phone_callback_retries_total",
                                       "callback attempts the customer did not answer");
    return pr;
}

void ph_promise_start(ph_promise_t *pr, int poll_ms) {
    pr->started = 1;
    uv_timer_start(&pr->refresh, s_on_refresh, 0, S_TENANTS_REFRESH_MS);
    uv_timer_start(&pr->sweep, s_on_sweep, (uint64_t)(poll_ms > 0 ? poll_ms : 500),
                   (uint64_t)(poll_ms > 0 ? poll_ms : 500));
}

void ph_promise_stop(ph_promise_t *pr) {
    uv_timer_stop(&pr->sweep);
    uv_timer_stop(&pr->refresh);
}

size_t ph_promise_busy(const ph_promise_t *pr) {
    return pr->inflight;
}

static void s_on_closed(uv_handle_t *h) {
    ph_promise_t *pr = h->data;
    pr->inflight--;
    s_maybe_free(pr);
}

void ph_promise_destroy(ph_promise_t **pr_p, void (*done)(void *arg), void *arg) {
    assert(pr_p);
    ph_promise_t *pr = *pr_p;
    if (!pr) {
        return;
    }
    *pr_p = NULL;
    pr->destroying = 1;
    pr->destroyed = done;
    pr->destroyed_arg = arg;
    pr->inflight += 2;
    uv_close((uv_handle_t *)&pr->sweep, s_on_closed);
    uv_close((uv_handle_t *)&pr->refresh, s_on_closed);
}
