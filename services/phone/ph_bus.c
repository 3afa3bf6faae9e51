/* ph_bus: hetki-phone's requests to the routers over hk_submit (see ph_bus.h). */
#include "ph_bus.h"

#include "hk_id.h"
#include "hk_log.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

struct ph_bus_t {
    hk_submit_t *submit;
    const ph_config_t *cfg;
};

ph_bus_t *ph_bus_new(uv_loop_t *loop, void *zctx, hk_registry_t *registry, const ph_config_t *cfg) {
    ph_bus_t *b = calloc(1, sizeof *b);
    assert(b);
    b->cfg = cfg;
    hk_submit_opts_t opts = {
        .attempt_timeout_ms = 1000, .deadline_ms = (int)cfg->ack_timeout_ms, .discovery_ms = 500};
    if (opts.attempt_timeout_ms > opts.deadline_ms / 2) {
        opts.attempt_timeout_ms = opts.deadline_ms / 2 > 50 ? opts.deadline_ms / 2 : 50;
    }
    b->submit = hk_submit_new(loop, zctx, registry, &opts);
    if (cfg->router_endpoint[0] && hk_submit_add_endpoint(b->submit, cfg->router_endpoint) != 0) {
        HK_ERROR("phone.bad_router_endpoint", "endpoint=%s", cfg->router_endpoint);
        hk_submit_destroy(&b->submit);
        free(b);
        return NULL;
    }
    return b;
}

int ph_bus_contact(ph_bus_t *b, const Hetki__V1__Contact *contact, hk_submit_done_fn *fn,
                   void *arg) {
    return hk_submit_contact(b->submit, contact, fn, arg);
}

typedef struct {
    char what[48];
    char tenant[40];
    char contact[64];
} s_note_t;

static void s_logged_reply(const hk_envelope_t *reply, const char *error, void *arg) {
    s_note_t *n = arg;
    const char *code_text = NULL;
    if (!reply) {
        code_text = error ? error : "no reply";
    } else if (reply->body_case == HETKI__V1__ENVELOPE__BODY_COMMAND_REPLY &&
               reply->command_reply &&
               reply->command_reply->error_code != HETKI__V1__ERROR_CODE__ERROR_NONE) {
        code_text = reply->command_reply->error_text;
    }
    if (code_text) {
        HK_WARN("phone.bus_refused", "what=%s tenant=%s contact=%s error=\"%s\"", n->what,
                n->tenant, n->contact, code_text);
    }
    free(n);
}

static s_note_t *s_note(const char *what, const char *tenant, const char *contact) {
    s_note_t *n = calloc(1, sizeof *n);
    assert(n);
    snprintf(n->what, sizeof n->what, "%s", what);
    snprintf(n->tenant, sizeof n->tenant, "%s", tenant ? tenant : "");
    snprintf(n->contact, sizeof n->contact, "%s", contact ? contact : "");
    return n;
}

int ph_bus_agent_command(ph_bus_t *b, const char *tenant, const char *agent_id,
                         Hetki__V1__AgentCommandKind kind, const char *contact_id,
                         const char *reason, hk_submit_reply_fn *fn, void *arg) {
    char id[HK_ID_LEN + 1];
    hk_id_new(id);
    Hetki__V1__AgentCommand cmd = HETKI__V1__AGENT_COMMAND__INIT;
    cmd.command_id = id;
    cmd.tenant = (char *)tenant;
    cmd.agent_id = (char *)agent_id;
    cmd.kind = kind;
    cmd.contact_id = (char *)(contact_id ? contact_id : "");
    cmd.reason = (char *)(reason ? reason : "");
    hk_envelope_t env = HETKI__V1__ENVELOPE__INIT;
    env.body_case = HETKI__V1__ENVELOPE__BODY_AGENT_COMMAND;
    env.agent_command = &cmd;
    if (fn) {
        return hk_submit_request(b->submit, &env, fn, arg);
    }
    s_note_t *n = s_note("agent_command", tenant, contact_id);
    if (hk_submit_request(b->submit, &env, s_logged_reply, n) != 0) {
        free(n);
        return -1;
    }
    return 0;
}

void ph_bus_call_state(ph_bus_t *b, const char *tenant, const char *contact_id,
                       const char *agent_id, const char *state, const char *detail) {
    if (!contact_id || !contact_id[0]) {
        return;
    }
    char id[HK_ID_LEN + 1];
    hk_id_new(id);
    Hetki__V1__CallState cs = HETKI__V1__CALL_STATE__INIT;
    cs.command_id = id;
    cs.tenant = (char *)tenant;
    cs.contact_id = (char *)contact_id;
    cs.agent_id = (char *)(agent_id ? agent_id : "");
    cs.state = (char *)state;
    cs.detail = (char *)(detail ? detail : "");
    cs.gateway = (char *)b->cfg->base.instance;
    hk_envelope_t env = HETKI__V1__ENVELOPE__INIT;
    env.body_case = HETKI__V1__ENVELOPE__BODY_CALL_STATE;
    env.call_state = &cs;
    s_note_t *n = s_note("call_state", tenant, contact_id);
    if (hk_submit_request(b->submit, &env, s_logged_reply, n) != 0) {
        free(n);
    }
}

hk_submit_t *ph_bus_submit(ph_bus_t *b) {
    return b->submit;
}

size_t ph_bus_live(const ph_bus_t *b) {
    return hk_submit_live(b->submit);
}

size_t ph_bus_pending(const ph_bus_t *b) {
    return hk_submit_pending(b->submit);
}

const char *ph_bus_gateway(const ph_bus_t *b) {
    return b->cfg->base.instance;
}

void ph_bus_destroy(ph_bus_t **b_p) {
    assert(b_p);
    ph_bus_t *b = *b_p;
    if (b) {
        *b_p = NULL;
        hk_submit_destroy(&b->submit);
        free(b);
    }
}
