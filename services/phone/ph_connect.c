/* ph_connect: outbound calls (ph_call_dial) and third-party call control (RFC 3725 flow I):
 * the phone to connect is invited without an offer; its 200 carries an offer, which goes to
 * the call's first party in a re-INVITE; that party's answer goes back in the ACK to the
 * phone, and media flows between the two. A voice agent's phone answering is the agent's
 * ACCEPT of the router's offer; busy, declined or unanswered is a DECLINE. */
#include "ph_call_int.h"

#include "hk_log.h"
#include "ph_prompts.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void s_on_ring_timeout(uv_timer_t *t) {
    ph_leg_t *leg = t->data;
    ph_call_t *call = leg->call;
    if (leg == &call->a) {
        ph_call_fn *fn = call->fn;
        call->fn = NULL; /* FAILED is the last event of a dial */
        if (fn) {
            fn(call, PH_CALL_FAILED, 408, "no_answer", call->arg);
        }
        ph_call_end(call, 408, "no_answer");
    } else {
        ph_connect_failed(call, 408, "no_answer");
    }
}

static void s_dial_failed(ph_call_t *call, int code, const char *reason) {
    ph_call_fn *fn = call->fn;
    call->fn = NULL;
    if (fn) {
        fn(call, PH_CALL_FAILED, code, reason, call->arg);
    }
    call->a.state = call->a.state == PH_LEG_CALLING ? PH_LEG_ENDED : call->a.state;
    ph_call_end(call, code, reason);
}

ph_call_t *ph_call_dial(ph_calls_t *calls, const char *uri, const ph_dial_opts_t *opts,
                        ph_call_fn *fn, void *arg) {
    if (calls->draining || calls->count >= (size_t)calls->cfg->max_calls || !opts ||
        !opts->tenant) {
        return NULL;
    }
    ph_call_t *call = ph_call_alloc(calls, 0);
    snprintf(call->tenant, sizeof call->tenant, "%s", opts->tenant);
    snprintf(call->contact_id, sizeof call->contact_id, "%s",
             opts->contact_id ? opts->contact_id : "");
    snprintf(call->agent_id, sizeof call->agent_id, "%s", opts->agent_id ? opts->agent_id : "");
    if (opts->language) {
        snprintf(call->lang, sizeof call->lang, "%s", ph_prompts_lang(opts->language));
    }
    snprintf(call->prompt, sizeof call->prompt, "%s", opts->prompt ? opts->prompt : "");
    call->ring_s = opts->ring_s > 0 ? opts->ring_s : (int)calls->cfg->ring_s;
    call->st = PH_ST_DIALING;
    char body[PH_BODY_MAX];
    static const int codecs[] = {PH_SDP_PT_PCMU, PH_SDP_PT_PCMA};
    if (ph_leg_init_uac(&call->a, call, uri, opts->from_user) != 0 || ph_call_open_rtp(call)) {
        HK_WARN("phone.dial_failed", "uri=%s reason=bad_uri_or_no_port", uri);
        call->a.state = PH_LEG_ENDED;
        ph_call_end(call, 400, "bad_uri");
        return NULL;
    }
    if (ph_leg_claim_dial(&call->a, call->tenant, call->contact_id, call->agent_id) != 0) {
        call->a.state = PH_LEG_ENDED;
        ph_call_end(call, 482, "dial_live");
        return NULL;
    }
    ph_sdp_local_t local = {.addr = calls->cfg->sip_host,
                            .port = ph_rtp_port(call->rtp),
                            .codecs = codecs,
                            .ncodecs = 2,
                            .dtmf_pt = PH_SDP_PT_DTMF,
                            .dir = PH_SDP_SENDRECV,
                            .sess_id = call->sess_id,
                            .sess_version = call->sess_version};
    ph_leg_register(&call->a);
    if (ph_sdp_build(&local, body, sizeof body) < 0 || ph_leg_invite(&call->a, body) != 0) {
        call->a.state = PH_LEG_ENDED;
        ph_call_end(call, 500, "send");
        return NULL;
    }
    call->fn = fn;
    call->arg = arg;
    (*calls->m.outbound)++;
    uv_timer_start(&call->a.ring, s_on_ring_timeout, (uint64_t)call->ring_s * 1000, 0);
    HK_INFO("phone.dial", "call_id=%s uri=%s contact=%s agent=%s", call->a.call_id, uri,
            call->contact_id, call->agent_id);
    return call;
}

int ph_call_connect(ph_call_t *call, const char *uri, const ph_dial_opts_t *opts, ph_call_fn *fn,
                    void *arg) {
    if (call->b ||
        (call->st != PH_ST_ANSWERED && call->st != PH_ST_WAITING && call->st != PH_ST_ANNOUNCING)) {
        return -1;
    }
    call->fn = fn;
    call->arg = arg;
    return ph_connect_start(call, uri, 0, opts);
}

int ph_connect_start(ph_call_t *call, const char *uri, int agent, const ph_dial_opts_t *opts) {
    ph_leg_t *b = calloc(1, sizeof *b);
    assert(b);
    const char *from_user = opts && opts->from_user ? opts->from_user : NULL;
    if (ph_leg_init_uac(b, call, uri, from_user) != 0) {
        b->state = PH_LEG_ENDED;
        ph_leg_release(b); /* freed once its timers closed */
        return -1;
    }
    const char *dial_agent = agent ? call->agent_id : (opts ? opts->agent_id : NULL);
    if (ph_leg_claim_dial(b, call->tenant, call->contact_id, dial_agent) != 0) {
        b->state = PH_LEG_ENDED;
        ph_leg_release(b);
        return -1;
    }
    call->b = b;
    call->b_agent = agent;
    ph_leg_register(b);
    if (ph_leg_invite(b, NULL) != 0) {
        call->b = NULL;
        ph_leg_release(b);
        return -1;
    }
    int ring_s = opts && opts->ring_s > 0 ? opts->ring_s : (int)call->calls->cfg->ring_s;
    uv_timer_start(&b->ring, s_on_ring_timeout, (uint64_t)ring_s * 1000, 0);
    HK_INFO("phone.connect", "call_id=%s b=%s uri=%s agent=%s", call->a.call_id, b->call_id, uri,
            agent ? call->agent_id : "");
    return 0;
}

/* Our own answer to b's offer (to close its INVITE properly before hanging it up). */
static void s_ack_b_with_ours(ph_call_t *call) {
    ph_leg_t *b = call->b;
    char body[PH_BODY_MAX];
    ph_sdp_media_t remote;
    const char *why = NULL;
    body[0] = '\0';
    if (call->rtp && call->b_offer[0] &&
        ph_sdp_parse(call->b_offer, strlen(call->b_offer), &remote, &why) == 0) {
        ph_sdp_local_t local = {.addr = call->calls->cfg->sip_host,
                                .port = ph_rtp_port(call->rtp),
                                .sess_id = call->sess_id,
                                .sess_version = ++call->sess_version};
        if (ph_sdp_answer(&remote, &local, body, sizeof body) < 0) {
            body[0] = '\0';
        }
    }
    ph_leg_ack(b, b->invite_cseq, body[0] ? body : NULL);
}

void ph_connect_failed(ph_call_t *call, int code, const char *reason) {
    ph_calls_t *calls = call->calls;
    ph_leg_t *b = call->b;
    if (b) {
        if (b->state == PH_LEG_ANSWERED) {
            s_ack_b_with_ours(call);
        }
        if (b->state != PH_LEG_ENDED) {
            ph_leg_hangup(b);
        }
        call->b = NULL;
        ph_leg_release(b);
    }
    HK_INFO("phone.connect_failed", "call_id=%s contact=%s agent=%s code=%d reason=%s",
            call->a.call_id, call->contact_id, call->agent_id, code, reason);
    if (call->b_agent) {
        (*calls->m.agent_failed)++;
        if (call->contact_id[0] && call->agent_id[0]) {
            ph_bus_agent_command(calls->bus, call->tenant, call->agent_id,
                                 HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_DECLINE,
                                 call->contact_id, reason, NULL, NULL);
        }
    }
    call->b_agent = 0;
    if (call->inbound) {
        call->agent_id[0] = '\0';
        char detail[64];
        snprintf(detail, sizeof detail, "agent_failed=%d", code);
        ph_call_set_state(call, PH_ST_WAITING, detail);
        ph_call_play_waiting(call);
        return;
    }
    if (call->st == PH_ST_BRIDGING) {
        call->st = PH_ST_ANSWERED;
    }
    if (call->fn) {
        call->fn(call, PH_CALL_FAILED, code, reason, call->arg);
    }
}

/* b's offer goes to the first party in a re-INVITE. */
static void s_bridge(ph_call_t *call) {
    if (!call->b || call->b->state != PH_LEG_ANSWERED) {
        return;
    }
    ph_call_st_t prev = call->st;
    call->st = PH_ST_BRIDGING;
    if (call->rtp) {
        ph_rtp_stop(call->rtp);
    }
    if (ph_leg_invite(&call->a, call->b_offer) != 0) {
        call->st = prev;
        ph_connect_failed(call, 500, "reinvite");
    }
}

static void s_on_accept(const hk_envelope_t *reply, const char *error, void *arg) {
    ph_call_t *call = arg;
    if (!ph_call_unref(call)) {
        return;
    }
    const Hetki__V1__CommandReply *r =
        reply && reply->body_case == HETKI__V1__ENVELOPE__BODY_COMMAND_REPLY ? reply->command_reply
                                                                             : NULL;
    if (!r || r->error_code != HETKI__V1__ERROR_CODE__ERROR_NONE) {
        HK_WARN("phone.accept_refused", "contact=%s agent=%s error=\"%s\"", call->contact_id,
                call->agent_id, r ? r->error_text : (error ? error : "?"));
        call->b_agent = 0; /* nothing to decline: the offer is gone */
        ph_connect_failed(call, 409, "accept_refused");
        return;
    }
    s_bridge(call);
}

static void s_on_b_response(ph_call_t *call, ph_leg_t *b, osip_transaction_t *tr,
                            osip_message_t *resp) {
    int code = resp->status_code;
    if (code < 200) {
        return;
    }
    if (code >= 300) {
        if (tr == b->inv_tr && b->state == PH_LEG_CALLING) {
            b->state = PH_LEG_ENDED; /* the transaction ACKs a failure itself */
            char reason[32];
            snprintf(reason, sizeof reason, "sip_%d", code);
            ph_connect_failed(call, code, reason);
        }
        return;
    }
    if (b->state != PH_LEG_CALLING) {
        ph_leg_reack(b, resp); /* a resent 2xx; before our ACK it is simply absorbed */
        return;
    }
    uv_timer_stop(&b->ring);
    ph_leg_learn_2xx(b, resp);
    if (ph_msg_body(resp, call->b_offer, sizeof call->b_offer) != 0 || !call->b_offer[0]) {
        call->b_offer[0] = '\0';
        ph_connect_failed(call, 488, "no_offer");
        return;
    }
    if (call->b_agent) {
        call->refs++;
        if (ph_bus_agent_command(call->calls->bus, call->tenant, call->agent_id,
                                 HETKI__V1__AGENT_COMMAND_KIND__AGENT_COMMAND_ACCEPT,
                                 call->contact_id, NULL, s_on_accept, call) != 0) {
            call->refs--;
            ph_connect_failed(call, 500, "accept_encode");
        }
        return;
    }
    s_bridge(call);
}

static void s_connected(ph_call_t *call, const char *answer) {
    ph_leg_t *b = call->b;
    ph_leg_ack(b, b->invite_cseq, answer);
    call->connected_once = 1;
    if (call->inbound) {
        (*call->calls->m.connected)++;
        ph_call_set_state(call, PH_ST_CONNECTED, NULL);
    } else {
        call->st = PH_ST_CONNECTED;
    }
    HK_INFO("phone.connected", "call_id=%s contact=%s agent=%s", call->a.call_id, call->contact_id,
            call->agent_id);
    if (call->fn) {
        call->fn(call, PH_CALL_CONNECTED, 200, NULL, call->arg);
    }
}

static void s_on_a_response(ph_call_t *call, ph_leg_t *a, osip_transaction_t *tr,
                            osip_message_t *resp) {
    int code = resp->status_code;
    int is_reinvite = tr && tr == a->reinv_tr;
    if (code < 200) {
        return;
    }
    if (code >= 300) {
        if (is_reinvite && call->st == PH_ST_BRIDGING) {
            call->st = call->inbound ? PH_ST_WAITING : PH_ST_ANSWERED;
            ph_connect_failed(call, code, "reinvite_refused");
        } else if (!is_reinvite && a->state == PH_LEG_CALLING) {
            a->state = PH_LEG_ENDED;
            char reason[32];
            snprintf(reason, sizeof reason, "sip_%d", code);
            s_dial_failed(call, code, reason);
        }
        return;
    }
    unsigned cseq = (unsigned)strtoul(resp->cseq->number, NULL, 10);
    if (a->last_ack && cseq == a->ack_cseq) {
        ph_leg_reack(a, resp);
        return;
    }
    char body[PH_BODY_MAX];
    if (ph_msg_body(resp, body, sizeof body) != 0) {
        body[0] = '\0';
    }
    if (call->st == PH_ST_BRIDGING && cseq == a->local_cseq) {
        ph_leg_ack(a, cseq, NULL);
        if (!body[0] || !call->b) {
            ph_connect_failed(call, 488, "no_answer_sdp");
            return;
        }
        s_connected(call, body);
        return;
    }
    if (a->state == PH_LEG_CALLING && cseq == a->invite_cseq) {
        /* ph_call_dial answered. */
        uv_timer_stop(&a->ring);
        ph_leg_learn_2xx(a, resp);
        ph_leg_ack(a, cseq, NULL);
        ph_sdp_media_t remote;
        const char *why = NULL;
        int codec = -1;
        if (body[0] && ph_sdp_parse(body, strlen(body), &remote, &why) == 0) {
            codec = ph_sdp_choose_codec(&remote);
        }
        if (codec < 0) {
            s_dial_failed(call, 488, "no_answer_sdp");
            return;
        }
        call->a_media = remote;
        call->st = PH_ST_ANSWERED;
        ph_call_arm_max(call);
        if (call->rtp &&
            ph_rtp_set_remote(call->rtp, remote.addr, remote.port, codec, remote.dtmf_pt) == 0 &&
            call->prompt[0]) {
            const char *p = call->prompt;
            ph_call_play(call, &p, 1);
        }
        if (call->fn) {
            call->fn(call, PH_CALL_ANSWERED, 200, NULL, call->arg);
        }
        return;
    }
    ph_leg_ack(a, cseq, NULL); /* any other 2xx of ours: at least acknowledge it */
}

void ph_connect_on_response(ph_leg_t *leg, osip_transaction_t *tr, osip_message_t *resp) {
    ph_call_t *call = leg->call;
    if (!resp->cseq || strcmp(resp->cseq->method, "INVITE") != 0 || call->st == PH_ST_ENDED) {
        return;
    }
    if (leg == call->b) {
        s_on_b_response(call, leg, tr, resp);
    } else if (leg == &call->a) {
        s_on_a_response(call, leg, tr, resp);
    }
}

void ph_connect_on_timeout(ph_leg_t *leg, osip_transaction_t *tr, int code) {
    ph_call_t *call = leg->call;
    if (call->st == PH_ST_ENDED) {
        return;
    }
    if (leg == call->b && tr == leg->inv_tr && leg->state == PH_LEG_CALLING) {
        leg->state = PH_LEG_ENDED;
        ph_connect_failed(call, code, "timeout");
    } else if (leg == &call->a && tr == leg->reinv_tr && call->st == PH_ST_BRIDGING) {
        call->st = call->inbound ? PH_ST_WAITING : PH_ST_ANSWERED;
        ph_connect_failed(call, code, "reinvite_timeout");
    } else if (leg == &call->a && tr == leg->inv_tr && leg->state == PH_LEG_CALLING) {
        leg->state = PH_LEG_ENDED;
        s_dial_failed(call, code, "timeout");
    }
}
