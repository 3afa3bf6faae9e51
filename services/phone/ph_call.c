/* ph_call: the call table, the life of a call, and inbound calls up to the agent connect:
 * INVITE -> contact submitted -> router ack -> 200 OK with our SDP -> announcement -> waiting
 * (DTMF 1 or a long wait: callback) -> contact.offered -> ph_connect. See ph_call.h. */
#include "ph_call_int.h"

#include "hk_clock.h"
#include "hk_log.h"
#include "ph_prompts.h"
#include "ph_register.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_RETRY_AFTER "5"
#define S_EARLY_MAX 1000

static const char *s_state_names[] = {
    [PH_ST_SUBMITTING] = "ringing",        [PH_ST_ANNOUNCING] = "announcing",
    [PH_ST_WAITING] = "waiting",           [PH_ST_RINGING_AGENT] = "ringing_agent",
    [PH_ST_BRIDGING] = "ringing_agent",    [PH_ST_CONNECTED] = "connected",
    [PH_ST_CALLBACK] = "callback_offered", [PH_ST_DIALING] = "dialing",
    [PH_ST_ANSWERED] = "answered",         [PH_ST_ENDED] = "ended",
};

ph_calls_t *ph_calls_new(uv_loop_t *loop, const ph_config_t *cfg, ph_sip_t *sip, ph_bus_t *bus,
                         ph_register_t *reg, ph_policy_t *policy, hk_metrics_t *metrics) {
    ph_calls_t *calls = calloc(1, sizeof *calls);
    assert(calls);
    calls->loop = loop;
    calls->cfg = cfg;
    calls->sip = sip;
    calls->bus = bus;
    calls->reg = reg;
    calls->policy = policy;
    calls->legs = hk_strmap_new();
    calls->contacts = hk_strmap_new();
    calls->early = hk_strmap_new();
    calls->dials = hk_strmap_new();
    static const double ms_bounds[] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000};
    ph_call_metrics_t *m = &calls->m;
    m->calls = hk_metrics_counter(metrics, "phone_calls_total", "inbound calls");
    m->answered = hk_metrics_counter(metrics, "phone_calls_answered_total",
                                     "inbound calls answered after the router's ack");
    m->connected = hk_metrics_counter(metrics, "phone_calls_connected_total",
                                      "inbound calls connected to an agent");
    m->abandoned = hk_metrics_counter(metrics, "phone_calls_abandoned_total",
                                      "callers who hung up before being connected");
    m->refused = hk_metrics_counter(metrics, "phone_calls_refused_total",
                                    "INVITEs refused with 503 (router, limits, draining)");
    m->agent_failed = hk_metrics_counter(metrics, "phone_agent_failed_total",
                                         "agent phones busy, declining or not answering");
    m->outbound = hk_metrics_counter(metrics, "phone_outbound_calls_total", "calls we dialled");
    m->active = hk_metrics_gauge(metrics, "phone_calls_active", "calls now");
    m->ack_ms = hk_metrics_histogram(metrics, "phone_router_ack_ms", "INVITE to router ack (ms)",
                                     ms_bounds, sizeof ms_bounds / sizeof ms_bounds[0]);
    return calls;
}

void ph_calls_set_hooks(ph_calls_t *calls, const ph_inbound_hooks_t *hooks) {
    calls->hooks = *hooks;
}

/* ---- lifecycle ---- */

ph_call_t *ph_call_alloc(ph_calls_t *calls, int inbound) {
    ph_call_t *call = calloc(1, sizeof *call);
    assert(call);
    call->calls = calls;
    call->inbound = inbound;
    call->refs = 1; /* the table's */
    call->invite_ms = hk_clock_now_ms();
    snprintf(call->lang, sizeof call->lang, "%s", calls->cfg->language);
    call->sess_id = (uint64_t)hk_clock_real_us();
    call->sess_version = 1;
    calls->count++;
    *calls->m.active = (double)calls->count;
    return call;
}

int ph_call_unref(ph_call_t *call) {
    call->refs--;
    if (call->refs <= 0 && call->handles <= 0) {
        free(call);
        return 0;
    }
    return call->st != PH_ST_ENDED;
}

void ph_call_set_state(ph_call_t *call, ph_call_st_t st, const char *detail) {
    call->st = st;
    if (call->inbound && call->contact_id[0]) {
        int agent = st == PH_ST_RINGING_AGENT || st == PH_ST_CONNECTED;
        ph_bus_call_state(call->calls->bus, call->tenant, call->contact_id,
                          agent ? call->agent_id : NULL, s_state_names[st], detail);
    }
}

static void s_release_b(ph_call_t *call) {
    if (call->b) {
        ph_leg_t *b = call->b;
        call->b = NULL;
        ph_leg_release(b);
    }
}

void ph_call_end(ph_call_t *call, int code, const char *reason) {
    if (call->st == PH_ST_ENDED) {
        return;
    }
    ph_calls_t *calls = call->calls;
    int was_connected = call->st == PH_ST_CONNECTED;
    if (call->inbound && !call->connected_once && call->st != PH_ST_CALLBACK &&
        call->st != PH_ST_SUBMITTING && strcmp(reason, "caller_hangup") == 0) {
        (*calls->m.abandoned)++;
    }
    if (call->inbound && call->st == PH_ST_SUBMITTING && strcmp(reason, "caller_hangup") == 0) {
        (*calls->m.abandoned)++;
    }
    if (call->b && call->b_agent && !was_connected && call->agent_id[0] && call->contact_id[0]) {
        ph_bus_agent_command(calls->bus, call->tenant, call->agent_id,
                             HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_DECLINE, call->contact_id,
                             reason, NULL, NULL);
    }
    if (call->a.state != PH_LEG_ENDED && call->a.state != PH_LEG_IDLE) {
        ph_leg_hangup(&call->a);
    }
    if (call->b && call->b->state != PH_LEG_ENDED && call->b->state != PH_LEG_IDLE) {
        ph_leg_hangup(call->b);
    }
    char detail[64];
    snprintf(detail, sizeof detail, "reason=%s", reason);
    ph_call_set_state(call, PH_ST_ENDED, detail);
    snprintf(call->end_reason, sizeof call->end_reason, "%s", reason);
    HK_INFO("phone.call_ended", "call_id=%s contact=%s reason=%s", call->a.call_id,
            call->contact_id, reason);
    ph_rtp_destroy(&call->rtp);
    if (call->contact_id[0] && hk_strmap_get(calls->contacts, call->contact_id) == call) {
        hk_strmap_remove(calls->contacts, call->contact_id);
    }
    calls->count--;
    *calls->m.active = (double)calls->count;
    ph_call_fn *fn = call->fn;
    call->fn = NULL;
    if (fn) {
        fn(call, PH_CALL_ENDED, code, reason, call->arg);
    }
    call->dead = 1;
    ph_leg_release(&call->a);
    s_release_b(call);
    ph_call_unref(call);
}

static void s_on_max_duration(uv_timer_t *t) {
    ph_leg_t *leg = t->data;
    ph_call_end(leg->call, 200, "max_duration");
}

void ph_call_arm_max(ph_call_t *call) {
    uv_timer_start(&call->a.ring, s_on_max_duration, (uint64_t)call->calls->cfg->max_call_s * 1000,
                   0);
}

/* ---- media ---- */

int ph_call_open_rtp(ph_call_t *call) {
    const ph_config_t *cfg = call->calls->cfg;
    if (!call->rtp) {
        call->rtp = ph_rtp_new(call->calls->loop, cfg->sip_host, (int)cfg->rtp_port_min,
                               (int)cfg->rtp_port_max);
    }
    return call->rtp ? 0 : -1;
}

static void s_on_waiting_done(ph_rtp_t *rtp, int completed, void *arg) {
    ph_call_t *call = arg;
    (void)rtp;
    if (!completed) {
        return;
    }
    if (call->st == PH_ST_ANNOUNCING) {
        ph_call_set_state(call, PH_ST_WAITING, NULL);
    }
    if (call->st == PH_ST_WAITING || call->st == PH_ST_RINGING_AGENT) {
        ph_call_play_waiting(call);
    }
}

void ph_call_play_waiting(ph_call_t *call) {
    if (!call->rtp) {
        return;
    }
    ph_audio_t pieces[PH_PROMPTS_MAX_PIECES];
    int offer = call->calls->hooks.callback != NULL;
    int n = ph_prompts_intro(call->lang, offer, pieces, PH_PROMPTS_MAX_PIECES);
    if (n < 0) {
        return;
    }
    if (call->st != PH_ST_ANNOUNCING) {
        /* Between repeats: about ten seconds of quiet first. */
        memmove(pieces + 5, pieces, (size_t)n * sizeof pieces[0]);
        for (int i = 0; i < 5; i++) {
            pieces[i] = ph_prompts_silence(2000);
        }
        n += 5;
    }
    ph_rtp_play(call->rtp, pieces, (size_t)n, s_on_waiting_done, call);
}

int ph_call_play(ph_call_t *call, const char *const *prompts, size_t n) {
    if (!call->rtp || call->st == PH_ST_CONNECTED || call->st == PH_ST_ENDED) {
        return -1;
    }
    ph_audio_t pieces[PH_PROMPTS_MAX_PIECES];
    size_t k = 0;
    for (size_t i = 0; i < n && k < PH_PROMPTS_MAX_PIECES; i++) {
        const ph_audio_t *a = ph_prompts_get(ph_prompts_lang(call->lang), prompts[i]);
        if (a) {
            pieces[k++] = *a;
        }
    }
    return k ? ph_rtp_play(call->rtp, pieces, k, NULL, NULL) : -1;
}

/* ---- callbacks (phone-callback's hooks) ---- */

static void s_fill_info(ph_call_t *call, ph_call_info_t *info) {
    info->tenant = call->tenant;
    info->contact_id = call->contact_id;
    info->caller = call->caller;
    info->dialled = call->dialled;
    info->language = call->lang;
    info->call_id = call->a.call_id;
    info->estimated_wait_s = call->wait_s;
}

static void s_request_callback(ph_call_t *call, const char *why) {
    ph_calls_t *calls = call->calls;
    if (!calls->hooks.callback || call->st == PH_ST_CALLBACK || call->st == PH_ST_CONNECTED ||
        call->st == PH_ST_BRIDGING || call->st == PH_ST_RINGING_AGENT) {
        return;
    }
    ph_call_info_t info;
    s_fill_info(call, &info);
    ph_call_st_t before = call->st;
    char detail[32];
    snprintf(detail, sizeof detail, "why=%s", why);
    ph_call_set_state(call, PH_ST_CALLBACK, detail);
    if (calls->hooks.callback(call, &info, why, calls->hooks.arg) != 0) {
        call->st = before;
    }
}

static void s_on_bye_played(ph_rtp_t *rtp, int completed, void *arg) {
    ph_call_t *call = arg;
    (void)rtp;
    (void)completed;
    ph_call_end(call, 200, "callback_promised");
}

void ph_call_callback_promised(ph_call_t *call, int64_t from_ms, int64_t to_ms) {
    if (call->st != PH_ST_CALLBACK) {
        return;
    }
    time_t t1 = (time_t)(from_ms / 1000), t2 = (time_t)(to_ms / 1000);
    struct tm a, b;
    localtime_r(&t1, &a);
    localtime_r(&t2, &b);
    ph_audio_t pieces[PH_PROMPTS_MAX_PIECES];
    int n = ph_prompts_window(call->lang, a.tm_hour, a.tm_min, b.tm_hour, b.tm_min, pieces,
                              PH_PROMPTS_MAX_PIECES);
    if (n <= 0 || !call->rtp || ph_rtp_play(call->rtp, pieces, (size_t)n, s_on_bye_played, call)) {
        ph_call_end(call, 200, "callback_promised");
    }
}

void ph_call_callback_failed(ph_call_t *call) {
    if (call->st == PH_ST_CALLBACK) {
        ph_call_set_state(call, PH_ST_WAITING, "callback=failed");
        ph_call_play_waiting(call);
    }
}

static void s_on_digit(ph_rtp_t *rtp, char digit, void *arg) {
    ph_call_t *call = arg;
    (void)rtp;
    if (call->fn) {
        call->fn(call, PH_CALL_DIGIT, digit, NULL, call->arg);
        return;
    }
    if (call->inbound && digit == '1' &&
        (call->st == PH_ST_ANNOUNCING || call->st == PH_ST_WAITING)) {
        s_request_callback(call, "dtmf");
    }
}

/* ---- inbound ---- */

/* Copies the user part of a SIP/tel URI text into out, keeping [0-9A-Za-z+*#._-]. */
static void s_user_of(const char *uri, char *out, size_t cap) {
    out[0] = '\0';
    const char *p = strstr(uri, "sip:");
    const char *t = strstr(uri, "tel:");
    p = p ? p + 4 : (t ? t + 4 : NULL);
    if (!p) {
        return;
    }
    size_t n = 0;
    for (; *p && *p != '@' && *p != ';' && *p != '>' && n + 1 < cap; p++) {
        char c = *p;
        if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            c == '+' || c == '*' || c == '#' || c == '.' || c == '_' || c == '-') {
            out[n++] = c;
        }
    }
    out[n] = '\0';
}

static void s_clean(const char *in, char *out, size_t cap) {
    size_t n = 0;
    for (; in && *in && n + 1 < cap; in++) {
        unsigned char c = (unsigned char)*in;
        if (c >= 32 && c < 127 && c != '"') {
            out[n++] = (char)c;
        }
    }
    out[n] = '\0';
}

static void s_on_ack(const Hetki__V1__Ack *ack, const char *error, void *arg);

static void s_submit(ph_call_t *call) {
    ph_calls_t *calls = call->calls;
    Hetki__V1__CustomerIdentity who = HETKI__V1__CUSTOMER_IDENTITY__INIT;
    who.phone_number = call->caller;
    Hetki__V1__Contact c = HETKI__V1__CONTACT__INIT;
    c.tenant = call->tenant;
    c.channel = HETKI__V1__CHANNEL__CHANNEL_PHONE;
    c.dedupe_key = call->a.call_id;
    c.customer = &who;
    c.language = call->lang;
    char subject[96];
    snprintf(subject, sizeof subject, "Call to %s", call->dialled);
    c.subject = subject;
    c.received_at_ms = call->invite_ms;
    c.gateway = (char *)ph_bus_gateway(calls->bus);
    call->refs++;
    if (ph_bus_contact(calls->bus, &c, s_on_ack, call) != 0) {
        call->refs--;
        ph_leg_answer(&call->a, 500, NULL, NULL, NULL);
        ph_call_end(call, 500, "encode");
    }
}

static void s_on_settings(ph_policy_status_t status, const ph_phone_settings_t *s, void *arg) {
    ph_call_t *call = arg;
    if (!ph_call_unref(call)) {
        return;
    }
    if (status == PH_POLICY_OK && s && s->language[0]) {
        snprintf(call->lang, sizeof call->lang, "%s", s->language);
    }
    s_submit(call);
}

static void s_on_tenant(ph_policy_status_t status, const char *tenant, void *arg) {
    ph_call_t *call = arg;
    if (!ph_call_unref(call)) {
        return;
    }
    const char *t = (status == PH_POLICY_OK && tenant && ph_config_tenant_ok(tenant))
                        ? tenant
                        : call->calls->cfg->default_tenant;
    snprintf(call->tenant, sizeof call->tenant, "%s", t);
    call->refs++;
    ph_policy_settings(call->calls->policy, call->tenant, s_on_settings, call);
}

static void s_start_agent(ph_call_t *call, const char *agent_id);

static void s_on_ack(const Hetki__V1__Ack *ack, const char *error, void *arg) {
    ph_call_t *call = arg;
    if (!ph_call_unref(call)) {
        return;
    }
    ph_calls_t *calls = call->calls;
    hk_histogram_observe(calls->m.ack_ms, (double)(hk_clock_now_ms() - call->invite_ms));
    if (!ack || ack->error_code != HETKI__V1__ERROR_CODE__ERROR_NONE || !ack->contact_id[0]) {
        HK_WARN("phone.router_refused", "call_id=%s error=\"%s\"", call->a.call_id,
                ack ? ack->error_text : (error ? error : "?"));
        (*calls->m.refused)++;
        ph_leg_answer(&call->a, 503, NULL, "Retry-After", S_RETRY_AFTER);
        ph_call_end(call, 503, "router");
        return;
    }
    snprintf(call->contact_id, sizeof call->contact_id, "%s", ack->contact_id);
    call->wait_s = ack->estimated_wait_s;
    hk_strmap_put(calls->contacts, call->contact_id, call);
    char body[PH_BODY_MAX];
    int codec = ph_sdp_choose_codec(&call->a_media);
    ph_sdp_local_t local = {
        .addr = calls->cfg->sip_host, .sess_id = call->sess_id, .sess_version = call->sess_version};
    if (ph_call_open_rtp(call) != 0) {
        ph_leg_answer(&call->a, 503, NULL, "Retry-After", S_RETRY_AFTER);
        ph_call_end(call, 503, "no_rtp_port");
        return;
    }
    local.port = ph_rtp_port(call->rtp);
    if (codec < 0 || ph_sdp_answer(&call->a_media, &local, body, sizeof body) < 0) {
        ph_leg_answer(&call->a, 488, NULL, NULL, NULL);
        ph_call_end(call, 488, "codec");
        return;
    }
    ph_leg_answer(&call->a, 200, body, NULL, NULL);
    ph_call_arm_max(call);
    (*calls->m.answered)++;
    char detail[96];
    snprintf(detail, sizeof detail, "caller=%s wait_s=%lld", call->caller, (long long)call->wait_s);
    ph_call_set_state(call, PH_ST_ANNOUNCING, detail);
    HK_INFO("phone.call_answered", "call_id=%s contact=%s tenant=%s wait_s=%lld", call->a.call_id,
            call->contact_id, call->tenant, (long long)call->wait_s);
    if (ph_rtp_set_remote(call->rtp, call->a_media.addr, call->a_media.port, codec,
                          call->a_media.dtmf_pt) == 0) {
        ph_rtp_on_digit(call->rtp, s_on_digit, call);
        ph_call_play_waiting(call);
    }
    char *agent = hk_strmap_remove(calls->early, call->contact_id);
    if (agent) {
        s_start_agent(call, agent);
        free(agent);
        return;
    }
    long threshold =
        calls->hooks.threshold_s ? calls->hooks.threshold_s(call->tenant, calls->hooks.arg) : -1;
    if (threshold < 0) {
        threshold = calls->cfg->callback_threshold_s;
    }
    if (call->wait_s > threshold) {
        s_request_callback(call, "wait");
    }
}

void ph_calls_on_invite(ph_calls_t *calls, osip_transaction_t *tr, osip_message_t *req,
                        const ph_peer_t *from) {
    char cid[256];
    snprintf(cid, sizeof cid, "%s%s%s", req->call_id->number, req->call_id->host ? "@" : "",
             req->call_id->host ? req->call_id->host : "");
    ph_leg_t *leg = hk_strmap_get(calls->legs, cid);
    osip_generic_param_t *tag = NULL;
    int has_to_tag = osip_to_get_tag(req->to, &tag) == 0 && tag && tag->gvalue;
    if (leg) {
        if (!has_to_tag && leg->last_2xx) {
            osip_message_t *copy = NULL;
            if (osip_message_clone(leg->last_2xx, &copy) == 0) {
                ph_sip_respond_msg(calls->sip, tr, copy);
            }
        } else if (has_to_tag) {
            /* A re-INVITE from a phone: the session is ours to keep as it is. */
            ph_sip_respond(calls->sip, tr, 491, NULL, NULL, NULL, NULL, NULL);
        } else {
            ph_sip_respond(calls->sip, tr, 482, NULL, NULL, NULL, NULL, NULL);
        }
        return;
    }
    if (has_to_tag) {
        ph_sip_respond(calls->sip, tr, 481, NULL, NULL, NULL, NULL, NULL);
        return;
    }
    if (calls->draining || calls->count >= (size_t)calls->cfg->max_calls) {
        (*calls->m.refused)++;
        ph_sip_respond(calls->sip, tr, 503, NULL, NULL, NULL, "Retry-After", S_RETRY_AFTER);
        return;
    }
    char body[PH_BODY_MAX];
    ph_sdp_media_t media;
    const char *why = NULL;
    if (ph_msg_body(req, body, sizeof body) != 0 || !body[0] ||
        ph_sdp_parse(body, strlen(body), &media, &why) != 0 || media.port == 0 ||
        ph_sdp_choose_codec(&media) < 0) {
        ph_sip_respond(calls->sip, tr, 488, NULL, NULL, NULL, NULL, NULL);
        return;
    }
    ph_call_t *call = ph_call_alloc(calls, 1);
    call->a_media = media;
    if (ph_leg_init_uas(&call->a, call, tr, req, from) != 0) {
        ph_sip_respond(calls->sip, tr, 400, NULL, NULL, NULL, NULL, NULL);
        ph_sip_detach(calls->sip, tr);
        call->a.inv_tr = NULL;
        call->a.state = PH_LEG_ENDED;
        ph_call_end(call, 400, "bad_invite");
        return;
    }
    ph_leg_register(&call->a);
    (*calls->m.calls)++;
    osip_header_t *pai = NULL;
    if (osip_message_header_get_byname(req, "P-Asserted-Identity", 0, &pai) >= 0 && pai &&
        pai->hvalue) {
        s_user_of(pai->hvalue, call->caller, sizeof call->caller);
    }
    if (!call->caller[0] && req->from->url && req->from->url->username) {
        s_clean(req->from->url->username, call->caller, sizeof call->caller);
    }
    const char *dialled = req->req_uri->username ? req->req_uri->username
                                                 : (req->to->url ? req->to->url->username : NULL);
    s_clean(dialled, call->dialled, sizeof call->dialled);
    ph_leg_answer(&call->a, 100, NULL, NULL, NULL);
    HK_INFO("phone.call_in", "call_id=%s caller=%s dialled=%s peer=%s:%d", call->a.call_id,
            call->caller, call->dialled, from->ip, from->port);
    call->refs++;
    if (calls->policy) {
        ph_policy_number(calls->policy, call->dialled, s_on_tenant, call);
    } else {
        s_on_tenant(PH_POLICY_NOT_FOUND, NULL, call);
    }
}

/* ---- the agent ---- */

typedef struct {
    ph_call_t *call;
    char agent[80];
} s_lookup_t;

static void s_on_agent_uri(const char *uri, void *arg) {
    s_lookup_t *l = arg;
    ph_call_t *call = l->call;
    char agent[80];
    snprintf(agent, sizeof agent, "%s", l->agent);
    free(l);
    if (!ph_call_unref(call)) {
        return;
    }
    if (call->st != PH_ST_RINGING_AGENT || strcmp(agent, call->agent_id) != 0 || call->b) {
        return;
    }
    ph_dial_opts_t opts = {.tenant = call->tenant,
                           .contact_id = call->contact_id,
                           .agent_id = agent,
                           .from_user = call->caller};
    if (!uri || ph_connect_start(call, uri, 1, &opts) != 0) {
        HK_WARN("phone.agent_unreachable", "contact=%s agent=%s uri=%s", call->contact_id, agent,
                uri ? uri : "(none)");
        ph_connect_failed(call, 404, "no_phone");
    }
}

static void s_start_agent(ph_call_t *call, const char *agent_id) {
    snprintf(call->agent_id, sizeof call->agent_id, "%s", agent_id);
    ph_call_set_state(call, PH_ST_RINGING_AGENT, NULL);
    s_lookup_t *l = calloc(1, sizeof *l);
    assert(l);
    l->call = call;
    snprintf(l->agent, sizeof l->agent, "%s", agent_id);
    call->refs++;
    ph_register_lookup(call->calls->reg, call->tenant, agent_id, s_on_agent_uri, l);
}

int ph_calls_on_event(ph_calls_t *calls, const Hetki__V1__ContactEvent *ev) {
    if (!ev->contact_id || !ev->contact_id[0] || !ev->kind) {
        return 0;
    }
    ph_call_t *call = hk_strmap_get(calls->contacts, ev->contact_id);
    if (strcmp(ev->kind, "contact.offered") == 0) {
        if (!ev->agent_id || !ev->agent_id[0]) {
            return 0;
        }
        if (!call) {
            /* Maybe ours before its ack arrived: remembered briefly. */
            if (hk_strmap_size(calls->early) < S_EARLY_MAX) {
                size_t n = strlen(ev->agent_id) + 1;
                char *copy = malloc(n);
                if (copy) {
                    memcpy(copy, ev->agent_id, n);
                    free(hk_strmap_put(calls->early, ev->contact_id, copy));
                }
            } else {
                hk_strmap_destroy_values(&calls->early, free);
                calls->early = hk_strmap_new();
            }
            return 0;
        }
        if (call->st == PH_ST_ANNOUNCING || call->st == PH_ST_WAITING) {
            s_start_agent(call, ev->agent_id);
            return 1;
        }
        return call->st == PH_ST_CALLBACK ? 0 : 1;
    }
    if (call && strcmp(ev->kind, "contact.offer_timeout") == 0 && ev->agent_id &&
        strcmp(ev->agent_id, call->agent_id) == 0 && call->st == PH_ST_RINGING_AGENT) {
        call->b_agent = 0; /* the router took the offer back: no DECLINE */
        ph_connect_failed(call, 408, "offer_timeout");
        return 1;
    }
    return call ? 1 : 0;
}

ph_call_t *ph_calls_by_contact(ph_calls_t *calls, const char *contact_id) {
    return contact_id ? hk_strmap_get(calls->contacts, contact_id) : NULL;
}
