/* ph_dispatch: where SIP traffic meets the calls: requests inside and outside dialogs (ACK,
 * BYE, CANCEL, OPTIONS, REGISTER, re-INVITE), responses and ended transactions of the call
 * legs, and the table-wide operations (drain, hang up all, destroy, getters). */
#include "ph_call_int.h"

#include "hk_log.h"
#include "ph_register.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ph_leg_t *s_leg_of(ph_calls_t *calls, const osip_message_t *m) {
    char cid[256];
    snprintf(cid, sizeof cid, "%s%s%s", m->call_id->number, m->call_id->host ? "@" : "",
             m->call_id->host ? m->call_id->host : "");
    return hk_strmap_get(calls->legs, cid);
}

static void s_on_ack(ph_calls_t *calls, osip_message_t *req) {
    ph_leg_t *leg = s_leg_of(calls, req);
    if (!leg || leg->uac) {
        return;
    }
    unsigned cseq = (unsigned)strtoul(req->cseq->number, NULL, 10);
    if (leg->state == PH_LEG_ANSWERED && cseq == leg->invite_cseq) {
        uv_timer_stop(&leg->retx);
        osip_message_free(leg->last_2xx);
        leg->last_2xx = NULL;
        leg->state = PH_LEG_CONFIRMED;
    }
}

static void s_on_bye(ph_calls_t *calls, osip_transaction_t *tr, osip_message_t *req) {
    ph_leg_t *leg = s_leg_of(calls, req);
    if (!leg || leg->state == PH_LEG_ENDED) {
        ph_sip_respond(calls->sip, tr, 481, NULL, NULL, NULL, NULL, NULL);
        return;
    }
    ph_sip_respond(calls->sip, tr, 200, NULL, NULL, NULL, NULL, NULL);
    ph_call_t *call = leg->call;
    leg->state = PH_LEG_ENDED;
    uv_timer_stop(&leg->retx);
    const char *reason;
    if (leg == &call->a) {
        reason = call->inbound ? "caller_hangup" : "hangup";
    } else {
        reason = call->b_agent ? "agent_hangup" : "callee_hangup";
    }
    if (leg != &call->a && call->st != PH_ST_CONNECTED && call->st != PH_ST_ANSWERED) {
        /* The phone being connected hung up before the connect completed. */
        ph_connect_failed(call, 487, reason);
        return;
    }
    ph_call_end(call, 200, reason);
}

static void s_on_cancel(ph_calls_t *calls, osip_transaction_t *tr, osip_message_t *req) {
    ph_leg_t *leg = s_leg_of(calls, req);
    if (!leg || leg->uac) {
        ph_sip_respond(calls->sip, tr, 481, NULL, NULL, NULL, NULL, NULL);
        return;
    }
    ph_sip_respond(calls->sip, tr, 200, NULL, NULL, NULL, NULL, NULL);
    if (leg->state == PH_LEG_EARLY && leg->inv_tr) {
        ph_leg_answer(leg, 487, NULL, NULL, NULL);
        ph_call_end(leg->call, 487, "caller_hangup");
    }
}

void ph_calls_on_request(ph_calls_t *calls, osip_transaction_t *tr, osip_message_t *req,
                         const ph_peer_t *from) {
    const char *method = req->sip_method;
    if (!tr) {
        if (strcmp(method, "ACK") == 0) {
            s_on_ack(calls, req);
        }
        return;
    }
    if (strcmp(method, "INVITE") == 0) {
        ph_calls_on_invite(calls, tr, req, from);
    } else if (strcmp(method, "BYE") == 0) {
        s_on_bye(calls, tr, req);
    } else if (strcmp(method, "CANCEL") == 0) {
        s_on_cancel(calls, tr, req);
    } else if (strcmp(method, "OPTIONS") == 0) {
        ph_sip_respond(calls->sip, tr, calls->draining ? 503 : 200, NULL, NULL, NULL, "Allow",
                       "INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER, INFO");
    } else if (strcmp(method, "REGISTER") == 0) {
        if (calls->reg) {
            ph_register_on_request(calls->reg, tr, req);
        } else {
            ph_sip_respond(calls->sip, tr, 501, NULL, NULL, NULL, NULL, NULL);
        }
    } else if (strcmp(method, "INFO") == 0 || strcmp(method, "NOTIFY") == 0) {
        int known = s_leg_of(calls, req) != NULL;
        ph_sip_respond(calls->sip, tr, known ? 200 : 481, NULL, NULL, NULL, NULL, NULL);
    } else {
        ph_sip_respond(calls->sip, tr, 405, NULL, NULL, NULL, "Allow",
                       "INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER, INFO");
    }
}

/* A 2xx nobody owns (the call ended while the INVITE was out): ACK it and hang up. */
static void s_orphan_2xx(ph_calls_t *calls, osip_message_t *resp) {
    osip_contact_t *ct = NULL;
    char *target = NULL, *from = NULL, *to = NULL;
    if (osip_message_get_contact(resp, 0, &ct) < 0 || !ct || !ct->url ||
        osip_uri_to_str(ct->url, &target) != 0 || osip_uri_to_str(resp->from->url, &from) != 0 ||
        osip_uri_to_str(resp->to->url, &to) != 0) {
        goto cleanup;
    }
    osip_generic_param_t *ftag = NULL, *ttag = NULL;
    osip_from_get_tag(resp->from, &ftag);
    osip_to_get_tag(resp->to, &ttag);
    ph_peer_t peer;
    if (osip_message_get_contact(resp, 0, &ct) < 0 || !ct->url->host ||
        ph_transport_peer_udp(&peer, ct->url->host, ct->url->port ? atoi(ct->url->port) : 5060)) {
        goto cleanup;
    }
    char cid[256], f[300], t[300];
    snprintf(cid, sizeof cid, "%s%s%s", resp->call_id->number, resp->call_id->host ? "@" : "",
             resp->call_id->host ? resp->call_id->host : "");
    snprintf(f, sizeof f, "<%s>", from);
    snprintf(t, sizeof t, "<%s>", to);
    unsigned cseq = (unsigned)strtoul(resp->cseq->number, NULL, 10);
    const char *ft = ftag && ftag->gvalue ? ftag->gvalue : NULL;
    const char *tt = ttag && ttag->gvalue ? ttag->gvalue : NULL;
    osip_message_t *ack = ph_sip_request(calls->sip, "ACK", target, f, ft, t, tt, cid, cseq, NULL);
    if (ack) {
        ph_sip_send_request(calls->sip, ack, &peer, NULL, NULL);
    }
    osip_message_t *bye =
        ph_sip_request(calls->sip, "BYE", target, f, ft, t, tt, cid, cseq + 1, NULL);
    if (bye) {
        ph_sip_send_request(calls->sip, bye, &peer, NULL, NULL);
    }
cleanup:
    osip_free(target);
    osip_free(from);
    osip_free(to);
}

void ph_calls_on_response(ph_calls_t *calls, osip_transaction_t *tr, void *owner,
                          osip_message_t *resp) {
    ph_leg_t *leg = owner;
    if (leg) {
        ph_connect_on_response(leg, tr, resp);
        return;
    }
    if (!MSG_IS_STATUS_2XX(resp) || !resp->cseq || strcmp(resp->cseq->method, "INVITE") != 0) {
        return;
    }
    leg = s_leg_of(calls, resp);
    if (leg && leg->uac) {
        ph_leg_reack(leg, resp);
    } else if (!leg) {
        s_orphan_2xx(calls, resp);
    }
}

void ph_calls_on_timeout(ph_calls_t *calls, osip_transaction_t *tr, void *owner, int code) {
    (void)calls;
    if (owner) {
        ph_connect_on_timeout(owner, tr, code);
    }
}

void ph_calls_on_gone(ph_calls_t *calls, osip_transaction_t *tr, void *owner) {
    (void)calls;
    ph_leg_t *leg = owner;
    if (!leg) {
        return;
    }
    if (leg->inv_tr == tr) {
        leg->inv_tr = NULL;
    }
    if (leg->reinv_tr == tr) {
        leg->reinv_tr = NULL;
    }
}

/* ---- table-wide ---- */

void ph_calls_drain(ph_calls_t *calls) {
    calls->draining = 1;
}

size_t ph_calls_count(const ph_calls_t *calls) {
    return calls->count;
}

void ph_calls_hangup_all(ph_calls_t *calls, const char *reason) {
    size_t n = 0;
    char **keys = hk_strmap_keys(calls->legs, &n);
    for (size_t i = 0; i < n; i++) {
        keys[i] = strdup(keys[i]); /* ending a call removes all its legs' keys from the map */
        assert(keys[i]);
    }
    for (size_t i = 0; i < n; i++) {
        ph_leg_t *leg = hk_strmap_get(calls->legs, keys[i]);
        if (leg && leg->call->st != PH_ST_ENDED) {
            ph_call_end(leg->call, 503, reason);
        }
        free(keys[i]);
    }
    free(keys);
}

void ph_call_hangup(ph_call_t *call, const char *reason) {
    ph_call_end(call, 200, reason ? reason : "hangup");
}

const char *ph_call_sip_id(const ph_call_t *call) {
    return call->a.call_id;
}

const char *ph_call_contact_id(const ph_call_t *call) {
    return call->contact_id;
}

const char *ph_call_tenant(const ph_call_t *call) {
    return call->tenant;
}

const char *ph_call_state(const ph_call_t *call) {
    static const char *names[] = {"ringing",   "announcing", "waiting", "ringing_agent", "bridging",
                                  "connected", "callback",   "dialing", "answered",      "ended"};
    return names[call->st];
}

void ph_calls_destroy(ph_calls_t **calls_p) {
    assert(calls_p);
    ph_calls_t *calls = *calls_p;
    if (!calls) {
        return;
    }
    *calls_p = NULL;
    ph_calls_hangup_all(calls, "shutdown");
    hk_strmap_destroy(&calls->legs);
    hk_strmap_destroy(&calls->contacts);
    hk_strmap_destroy(&calls->dials);
    hk_strmap_destroy_values(&calls->early, free);
    free(calls);
}
