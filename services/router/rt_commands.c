/* rt_commands: agent profiles, agent commands and the customer's answer: validated here,
 * applied by one script each. */
#include "rt_engine_int.h"

#include "hk_limits.h"
#include "hk_log.h"
#include "rt_validate.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    rt_engine_t *e;
    rt_reply_fn *fn;
    void *arg;
    char tenant[RT_MAX_TENANT + 1];
    char contact_id[64];
} s_cmd_t;

static void s_reply_now(rt_reply_fn *fn, void *arg, Hetki__V1__ErrorCode code, const char *text,
                        const char *contact_id) {
    rt_reply_t r = {code, text, "", "", contact_id ? contact_id : ""};
    fn(&r, arg);
}

static void s_on_command(hk_redis_t *redis, redisReply *reply, void *arg) {
    s_cmd_t *cmd = arg;
    rt_engine_t *e = cmd->e;
    rt_reply_t r = {HETKI__V1__ERROR_CODE__ERROR_UNAVAILABLE, "storage unavailable, retry", "", "",
                    cmd->contact_id};
    if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements >= 5) {
        r.error_code = (Hetki__V1__ErrorCode)rt_reply_int(reply, 0);
        r.error_text = rt_reply_str(reply, 1);
        r.agent_state = rt_reply_str(reply, 2);
        r.contact_state = rt_reply_str(reply, 3);
        rt_publish_script_events(e, cmd->tenant, reply);
    } else {
        HK_WARN("command.failed", "tenant=%s contact=%s error=\"%s\"", cmd->tenant, cmd->contact_id,
                reply && reply->type == REDIS_REPLY_ERROR ? reply->str : "no answer from redis");
    }
    cmd->fn(&r, cmd->arg);
    free(cmd);
    rt_engine_done(e);
}

static void s_run(rt_engine_t *e, int script, rt_args_t *a, const char *tenant,
                  const char *contact_id, rt_reply_fn *fn, void *arg) {
    s_cmd_t *cmd = calloc(1, sizeof *cmd);
    assert(cmd);
    cmd->e = e;
    cmd->fn = fn;
    cmd->arg = arg;
    snprintf(cmd->tenant, sizeof cmd->tenant, "%s", tenant);
    snprintf(cmd->contact_id, sizeof cmd->contact_id, "%s", contact_id ? contact_id : "");
    e->inflight++;
    if (hk_redis_eval(e->redis, e->scripts[script], 1, a->argc, a->argv, a->lens, s_on_command,
                      cmd) != 0) {
        s_on_command(e->redis, NULL, cmd);
    }
}

static const char *s_channel_word(Hetki__V1__Channel ch) {
    const char *n = rt_channel_name(ch);
    return n ? n : "";
}

void rt_engine_agent_profile(rt_engine_t *e, const Hetki__V1__AgentProfile *p, rt_reply_fn *fn,
                             void *arg) {
    char err[160];
    if (rt_tenant_ok(p->tenant, err, sizeof err) != 0) {
        s_reply_now(fn, arg, HETKI__V1__ERROR_CODE__ERROR_INVALID, err, NULL);
        return;
    }
    if (!hk_ref_ok(p->agent_id)) {
        s_reply_now(fn, arg, HETKI__V1__ERROR_CODE__ERROR_INVALID,
                    "agent_id must be 1 to 64 characters of A-Z a-z 0-9 _ . : -", NULL);
        return;
    }
    if (p->capacity < 0 || p->capacity > 100 || strlen(p->display_name) > 128) {
        s_reply_now(fn, arg, HETKI__V1__ERROR_CODE__ERROR_INVALID,
                    "capacity must be 0..100 and display_name at most 128 bytes", NULL);
        return;
    }
    const rt_policy_t *pol = rt_policy_store_get(e->policies, p->tenant);
    char skills[512] = "", langs[32] = "", channels[64] = "", elig[1024] = "";
    int lang_mask = 0;
    for (size_t i = 0; i < p->n_languages; i++) {
        int l = rt_lang_parse(p->languages[i]);
        if (l < 0) {
            snprintf(err, sizeof err, "languages[%zu]: expected fi, sv or en", i);
            s_reply_now(fn, arg, HETKI__V1__ERROR_CODE__ERROR_INVALID, err, NULL);
            return;
        }
        lang_mask |= 1 << l;
    }
    for (int l = 0; l < RT_LANG_COUNT; l++) {
        if (lang_mask & (1 << l)) {
            size_t used = strlen(langs);
            snprintf(langs + used, sizeof langs - used, "%s%s", used ? " " : "",
                     rt_lang_code((rt_lang_t)l));
        }
    }
    int has_phone = 0, has_chat = 0;
    for (size_t i = 0; i < p->n_channels; i++) {
        const char *w = s_channel_word(p->channels[i]);
        if (!w[0]) {
            s_reply_now(fn, arg, HETKI__V1__ERROR_CODE__ERROR_INVALID,
                        "channels: expected phone, chat, email or kiosk", NULL);
            return;
        }
        has_phone |= p->channels[i] == HETKI__V1__CHANNEL__CHANNEL_PHONE;
        has_chat |= p->channels[i] == HETKI__V1__CHANNEL__CHANNEL_CHAT;
        size_t used = strlen(channels);
        snprintf(channels + used, sizeof channels - used, "%s%s", used ? " " : "", w);
    }
    for (size_t i = 0; i < p->n_skills; i++) {
        const Hetki__V1__Skill *s = p->skills[i];
        if (!hk_ref_ok(s->name) || s->level < 1 || s->level > 5) {
            s_reply_now(fn, arg, HETKI__V1__ERROR_CODE__ERROR_INVALID,
                        "skills: a name of [A-Za-z0-9_.:-] and a level 1..5 each", NULL);
            return;
        }
        size_t used = strlen(skills);
        snprintf(skills + used, sizeof skills - used, "%s%s:%d", used ? " " : "", s->name,
                 s->level);
    }
    /* Eligibility: the queue's skill at its level, a shared language, and the channel the
     * queue's kind of work needs (voice: phone; human chat: chat). */
    for (size_t i = 0; i < pol->n_queues; i++) {
        const rt_queue_policy_t *q = &pol->queues[i];
        int skill_ok = q->skill[0] == '\0';
        for (size_t k = 0; k < p->n_skills && !skill_ok; k++) {
            skill_ok = !strcmp(p->skills[k]->name, q->skill) && p->skills[k]->level >= q->min_level;
        }
        if (!skill_ok || (!strcmp(q->name, pol->voice_queue) && !has_phone) ||
            (!strcmp(q->name, pol->human_chat_queue) && !has_chat)) {
            continue;
        }
        size_t used = strlen(elig);
        snprintf(elig + used, sizeof elig - used, "%s%s:any", used ? " " : "", q->name);
        for (int l = 0; l < RT_LANG_COUNT; l++) {
            if ((lang_mask & q->languages) & (1 << l)) {
                used = strlen(elig);
                snprintf(elig + used, sizeof elig - used, " %s:%s", q->name,
                         rt_lang_code((rt_lang_t)l));
            }
        }
    }
    char akey[160], capacity[8];
    snprintf(akey, sizeof akey, "hk:{%s}:agent:%s", p->tenant, p->agent_id);
    snprintf(capacity, sizeof capacity, "%d", p->capacity ? p->capacity : 100);
    rt_args_t a;
    rt_args_begin(e, &a, akey, p->tenant);
    rt_arg(&a, p->agent_id);
    rt_arg(&a, p->display_name);
    rt_arg(&a, capacity);
    rt_arg(&a, skills);
    rt_arg(&a, langs);
    rt_arg(&a, channels);
    rt_arg(&a, elig);
    s_run(e, RT_PROFILE, &a, p->tenant, NULL, fn, arg);
}

void rt_engine_agent_command(rt_engine_t *e, const Hetki__V1__AgentCommand *cmd, rt_reply_fn *fn,
                             void *arg) {
    char err[160];
    if (rt_tenant_ok(cmd->tenant, err, sizeof err) != 0) {
        s_reply_now(fn, arg, HETKI__V1__ERROR_CODE__ERROR_INVALID, err, cmd->contact_id);
        return;
    }
    if (!hk_ref_ok(cmd->agent_id) || (cmd->command_id[0] && !hk_ref_ok(cmd->command_id))) {
        s_reply_now(fn, arg, HETKI__V1__ERROR_CODE__ERROR_INVALID,
                    "agent_id and command_id must be 1 to 64 characters of A-Z a-z 0-9 _ . : -",
                    cmd->contact_id);
        return;
    }
    int needs_contact = cmd->kind >= HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_ACCEPT;
    if (needs_contact && !hk_ref_ok(cmd->contact_id)) {
        s_reply_now(fn, arg, HETKI__V1__ERROR_CODE__ERROR_INVALID, "contact_id is required",
                    cmd->contact_id);
        return;
    }
    if (strlen(cmd->reason) > 64 || strlen(cmd->note) > 1024 || strlen(cmd->wrap_code) > 64) {
        s_reply_now(fn, arg, HETKI__V1__ERROR_CODE__ERROR_INVALID,
                    "reason and wrap_code are at most 64 bytes, note at most 1024",
                    cmd->contact_id);
        return;
    }
    char k[200];
    if (needs_contact) {
        snprintf(k, sizeof k, "hk:{%s}:contact:%s", cmd->tenant, cmd->contact_id);
    } else {
        snprintf(k, sizeof k, "hk:{%s}:agent:%s", cmd->tenant, cmd->agent_id);
    }
    rt_args_t a;
    rt_args_begin(e, &a, k, cmd->tenant);
    rt_arg(&a, cmd->agent_id);
    int script = -1;
    switch (cmd->kind) {
    case HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_AVAILABLE:
    case HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_PAUSE:
    case HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_OFFLINE:
        script = RT_STATE;
        rt_arg(&a, cmd->kind == HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_AVAILABLE ? "available"
                   : cmd->kind == HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_PAUSE   ? "paused"
                                                                                       : "offline");
        rt_arg(&a, cmd->kind == HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_PAUSE
                       ? (cmd->reason[0] ? cmd->reason : "break")
                       : "");
        break;
    case HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_ACCEPT:
    case HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_DECLINE:
        script = RT_OFFER;
        rt_arg(&a, cmd->contact_id);
        rt_arg(&a, cmd->kind == HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_ACCEPT ? "accept"
                                                                                    : "decline");
        break;
    case HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_TRANSFER:
        if (!cmd->to_queue[0] == !cmd->to_agent[0] ||
            (cmd->to_agent[0] && !hk_ref_ok(cmd->to_agent)) ||
            (cmd->to_queue[0] && !hk_ref_ok(cmd->to_queue))) {
            s_reply_now(fn, arg, HETKI__V1__ERROR_CODE__ERROR_INVALID,
                        "a transfer names exactly one of to_queue and to_agent", cmd->contact_id);
            return;
        }
        script = RT_TRANSFER;
        rt_arg(&a, cmd->contact_id);
        rt_arg(&a, cmd->to_queue);
        rt_arg(&a, cmd->to_agent);
        rt_arg(&a, cmd->note);
        break;
    case HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_PROPOSE_RESOLUTION:
        script = RT_PROPOSE;
        rt_arg(&a, cmd->contact_id);
        break;
    case HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_WRAP_UP:
        if (!cmd->wrap_code[0]) {
            s_reply_now(fn, arg, HETKI__V1__ERROR_CODE__ERROR_INVALID, "wrap_code is required",
                        cmd->contact_id);
            return;
        }
        script = RT_WRAPUP;
        rt_arg(&a, cmd->contact_id);
        rt_arg(&a, cmd->wrap_code);
        rt_arg(&a, cmd->distressing ? "1" : "0");
        break;
    default:
        s_reply_now(fn, arg, HETKI__V1__ERROR_CODE__ERROR_INVALID, "unknown command kind",
                    cmd->contact_id);
        return;
    }
    rt_arg(&a, cmd->command_id);
    s_run(e, script, &a, cmd->tenant, cmd->contact_id, fn, arg);
}

void rt_engine_customer_confirm(rt_engine_t *e, const Hetki__V1__CustomerConfirm *cc,
                                rt_reply_fn *fn, void *arg) {
    char err[160];
    if (rt_tenant_ok(cc->tenant, err, sizeof err) != 0) {
        s_reply_now(fn, arg, HETKI__V1__ERROR_CODE__ERROR_INVALID, err, cc->contact_id);
        return;
    }
    if (!hk_ref_ok(cc->contact_id) || (cc->command_id[0] && !hk_ref_ok(cc->command_id)) ||
        strlen(cc->text) > 4096) {
        s_reply_now(fn, arg, HETKI__V1__ERROR_CODE__ERROR_INVALID,
                    "contact_id (and command_id) must be ids; text at most 4096 bytes",
                    cc->contact_id);
        return;
    }
    char k[200];
    snprintf(k, sizeof k, "hk:{%s}:contact:%s", cc->tenant, cc->contact_id);
    rt_args_t a;
    rt_args_begin(e, &a, k, cc->tenant);
    rt_arg(&a, cc->contact_id);
    rt_arg(&a, cc->confirmed ? "1" : "0");
    rt_arg(&a, cc->text);
    rt_arg(&a, cc->command_id);
    s_run(e, RT_CONFIRM, &a, cc->tenant, cc->contact_id, fn, arg);
}

void rt_engine_chat_message(rt_engine_t *e, const Hetki__V1__ChatMessage *m, rt_reply_fn *fn,
                            void *arg) {
    static const char *const kinds[] = {"", "message", "typing", "read", "person", "email"};
    char err[160];
    if (rt_tenant_ok(m->tenant, err, sizeof err) != 0) {
        s_reply_now(fn, arg, HETKI__V1__ERROR_CODE__ERROR_INVALID, err, m->contact_id);
        return;
    }
    int agent = !strcmp(m->sender, "agent");
    if ((!agent && strcmp(m->sender, "customer") != 0) || !hk_ref_ok(m->contact_id) ||
        !hk_ref_ok(m->message_id) ||
        (agent ? !hk_ref_ok(m->agent_id) : !hk_ref_ok(m->session_id))) {
        s_reply_now(fn, arg, HETKI__V1__ERROR_CODE__ERROR_INVALID,
                    "sender (customer or agent), contact_id, message_id and the session_id "
                    "(customer) or agent_id (agent) are required ids",
                    m->contact_id);
        return;
    }
    if (m->kind < HETKI__V1__CHAT_KIND__CHAT_KIND_MESSAGE ||
        m->kind > HETKI__V1__CHAT_KIND__CHAT_KIND_EMAIL) {
        s_reply_now(fn, arg, HETKI__V1__ERROR_CODE__ERROR_INVALID, "unknown chat kind",
                    m->contact_id);
        return;
    }
    size_t len = strlen(m->text);
    if (len > 4096 || (m->kind == HETKI__V1__CHAT_KIND__CHAT_KIND_MESSAGE && len == 0) ||
        (m->kind == HETKI__V1__CHAT_KIND__CHAT_KIND_EMAIL &&
         (len > 254 || !strchr(m->text, '@') || strchr(m->text, ' ')))) {
        s_reply_now(fn, arg, HETKI__V1__ERROR_CODE__ERROR_INVALID,
                    m->kind == HETKI__V1__CHAT_KIND__CHAT_KIND_EMAIL
                        ? "text must be an email address"
                        : "text must be 1 to 4096 bytes",
                    m->contact_id);
        return;
    }
    const rt_policy_t *p = rt_policy_store_get(e->policies, m->tenant);
    char k[200], person_score[8];
    snprintf(k, sizeof k, "hk:{%s}:contact:%s", m->tenant, m->contact_id);
    snprintf(person_score, sizeof person_score, "%d", p->personal_threshold);
    rt_args_t a;
    rt_args_begin(e, &a, k, m->tenant);
    rt_arg(&a, agent ? "agent" : "customer");
    rt_arg(&a, m->contact_id);
    rt_arg(&a, m->session_id);
    rt_arg(&a, m->message_id);
    rt_arg(&a, kinds[m->kind]);
    rt_arg(&a, m->agent_id);
    rt_arg(&a, m->text);
    rt_arg(&a, person_score);
    rt_arg(&a, p->human_chat_queue);
    s_run(e, RT_CHAT, &a, m->tenant, m->contact_id, fn, arg);
}
