/* ph_leg: one SIP dialog of a call (the caller's, or a phone we call): building its requests,
 * answering its INVITE, resending our 2xx until the ACK (RFC 3261 13.3.1.4) and our ACK when
 * the 2xx is resent, and hanging up (BYE, CANCEL or a final error). */
#include "ph_call_int.h"

#include "hk_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_T1_MS 500
#define S_T2_MS 4000
#define S_TIMER_H_MS (64 * S_T1_MS)

int ph_msg_body(const osip_message_t *msg, char *out, size_t cap) {
    osip_body_t *b = NULL;
    out[0] = '\0';
    if (osip_message_get_body(msg, 0, &b) < 0 || !b || !b->body) {
        return 0;
    }
    if (b->length >= cap) {
        return -1;
    }
    memcpy(out, b->body, b->length);
    out[b->length] = '\0';
    return 0;
}

/* "<uri>" of a URL in out; -1 when it cannot be printed or does not fit. */
static int s_uri_text(const osip_uri_t *url, char *out, size_t cap, int brackets) {
    char *text = NULL;
    if (!url || osip_uri_to_str(url, &text) != 0 || !text) {
        return -1;
    }
    int n = snprintf(out, cap, brackets ? "<%s>" : "%s", text);
    osip_free(text);
    return (n > 0 && (size_t)n < cap) ? 0 : -1;
}

static void s_leg_closed(uv_handle_t *h) {
    ph_leg_t *leg = h->data;
    ph_call_t *call = leg->call;
    call->handles--;
    if (--leg->open == 0 && leg != &call->a) {
        free(leg);
    }
    ph_call_unref(call); /* frees a dead call once nothing is left */
}

static void s_leg_timers(ph_leg_t *leg, ph_call_t *call) {
    leg->call = call;
    uv_timer_init(call->calls->loop, &leg->retx);
    uv_timer_init(call->calls->loop, &leg->ring);
    leg->retx.data = leg->ring.data = leg;
    leg->open = 2;
    call->handles += 2;
    osip_list_init(&leg->route);
}

int ph_leg_init_uas(ph_leg_t *leg, ph_call_t *call, osip_transaction_t *tr, osip_message_t *req,
                    const ph_peer_t *from) {
    s_leg_timers(leg, call);
    leg->uac = 0;
    leg->state = PH_LEG_EARLY;
    snprintf(leg->call_id, sizeof leg->call_id, "%s%s%s", req->call_id->number,
             req->call_id->host ? "@" : "", req->call_id->host ? req->call_id->host : "");
    ph_sip_token(leg->local_tag);
    osip_generic_param_t *tag = NULL;
    if (osip_from_get_tag(req->from, &tag) == 0 && tag && tag->gvalue) {
        snprintf(leg->remote_tag, sizeof leg->remote_tag, "%s", tag->gvalue);
    }
    if (s_uri_text(req->to->url, leg->local_uri, sizeof leg->local_uri, 1) != 0 ||
        s_uri_text(req->from->url, leg->remote_uri, sizeof leg->remote_uri, 1) != 0) {
        return -1;
    }
    osip_contact_t *ct = NULL;
    if (osip_message_get_contact(req, 0, &ct) < 0 || !ct || !ct->url ||
        s_uri_text(ct->url, leg->target, sizeof leg->target, 0) != 0) {
        if (s_uri_text(req->from->url, leg->target, sizeof leg->target, 0) != 0) {
            return -1;
        }
    }
    osip_list_clone(&req->record_routes, &leg->route, (int (*)(void *, void **))osip_from_clone);
    leg->invite_cseq = (unsigned)strtoul(req->cseq->number, NULL, 10);
    leg->local_cseq = 1;
    leg->peer = *from;
    leg->inv_tr = tr;
    osip_transaction_set_your_instance(tr, leg);
    return 0;
}

int ph_leg_init_uac(ph_leg_t *leg, ph_call_t *call, const char *uri, const char *from_user) {
    s_leg_timers(leg, call);
    ph_calls_t *calls = call->calls;
    leg->uac = 1;
    leg->state = PH_LEG_IDLE;
    osip_uri_t *u = NULL;
    int rc = -1;
    if (osip_uri_init(&u) == 0 && osip_uri_parse(u, uri) == 0 && u->host) {
        int port = u->port ? atoi(u->port) : 5060;
        rc = ph_transport_peer_udp(&leg->peer, u->host, port);
        if (rc == 0 && port == ph_sip_port(calls->sip) &&
            strcmp(u->host, ph_sip_host(calls->sip)) == 0) {
            HK_WARN("phone.dial_self", "uri=%s", uri);
            rc = -1; /* our own address: the INVITE would loop back to us */
        }
    }
    osip_uri_free(u);
    if (rc != 0) {
        return -1;
    }
    char tok[17];
    ph_sip_token(tok);
    snprintf(leg->call_id, sizeof leg->call_id, "%s@%s", tok, ph_sip_host(calls->sip));
    ph_sip_token(leg->local_tag);
    snprintf(leg->local_uri, sizeof leg->local_uri, "<sip:%s@%s:%d>",
             from_user && from_user[0] ? from_user : "hetki", ph_sip_host(calls->sip),
             ph_sip_port(calls->sip));
    snprintf(leg->remote_uri, sizeof leg->remote_uri, "<%s>", uri);
    snprintf(leg->target, sizeof leg->target, "%s", uri);
    leg->local_cseq = 1;
    return 0;
}

int ph_leg_claim_dial(ph_leg_t *leg, const char *tenant, const char *contact, const char *agent) {
    hk_strmap_t *dials = leg->call->calls->dials;
    if (!contact || !contact[0] || !agent || !agent[0]) {
        return 0;
    }
    char key[sizeof leg->dial_key];
    int n = snprintf(key, sizeof key, "%s/%s/%s", tenant ? tenant : "", contact, agent);
    if (n < 0 || (size_t)n >= sizeof key) {
        return 0; /* ids that long are refused elsewhere */
    }
    ph_leg_t *live = hk_strmap_get(dials, key);
    if (live && live != leg) {
        HK_WARN("phone.dial_duplicate", "contact=%s agent=%s live=%s", contact, agent,
                live->call_id);
        return -1;
    }
    hk_strmap_put(dials, key, leg);
    snprintf(leg->dial_key, sizeof leg->dial_key, "%s", key);
    return 0;
}

void ph_leg_register(ph_leg_t *leg) {
    hk_strmap_put(leg->call->calls->legs, leg->call_id, leg);
    leg->registered = 1;
}

static void s_set_body(osip_message_t *m, const char *body) {
    if (body && body[0]) {
        osip_message_set_body(m, body, strlen(body));
        osip_message_set_content_type(m, "application/sdp");
    }
}

int ph_leg_invite(ph_leg_t *leg, const char *body) {
    ph_calls_t *calls = leg->call->calls;
    int initial = leg->state == PH_LEG_IDLE;
    unsigned cseq = initial ? leg->local_cseq : ++leg->local_cseq;
    osip_message_t *req = ph_sip_request(
        calls->sip, "INVITE", leg->target, leg->local_uri, leg->local_tag, leg->remote_uri,
        initial ? NULL : leg->remote_tag, leg->call_id, cseq, initial ? NULL : &leg->route);
    if (!req) {
        return -1;
    }
    s_set_body(req, body);
    osip_transaction_t **slot = initial ? &leg->inv_tr : &leg->reinv_tr;
    if (ph_sip_send_request(calls->sip, req, &leg->peer, leg, slot) != 0) {
        return -1;
    }
    if (initial) {
        leg->invite_cseq = cseq;
        leg->state = PH_LEG_CALLING;
    }
    return 0;
}

static void s_on_retx(uv_timer_t *t) {
    ph_leg_t *leg = t->data;
    if (!leg->last_2xx) {
        return;
    }
    leg->retx_total_ms += leg->retx_ms;
    if (leg->retx_total_ms >= S_TIMER_H_MS) {
        HK_WARN("phone.no_ack", "call_id=%s", leg->call_id);
        ph_call_end(leg->call, 408, "no_ack");
        return;
    }
    ph_sip_send_raw(leg->call->calls->sip, leg->last_2xx, &leg->peer);
    leg->retx_ms = leg->retx_ms * 2 > S_T2_MS ? S_T2_MS : leg->retx_ms * 2;
    uv_timer_start(&leg->retx, s_on_retx, (uint64_t)leg->retx_ms, 0);
}

int ph_leg_answer(ph_leg_t *leg, int code, const char *body, const char *extra_name,
                  const char *extra_value) {
    ph_calls_t *calls = leg->call->calls;
    if (!leg->inv_tr || !leg->inv_tr->orig_request) {
        return -1;
    }
    osip_message_t *r = ph_sip_response(calls->sip, leg->inv_tr->orig_request, code, leg->local_tag,
                                        body ? "application/sdp" : NULL, body);
    if (!r) {
        return -1;
    }
    if (extra_name && extra_value) {
        osip_message_set_header(r, extra_name, extra_value);
    }
    osip_transaction_t *tr = leg->inv_tr;
    if (code >= 200) {
        /* The server transaction ends with a final answer; the dialog is ours from here. */
        ph_sip_detach(calls->sip, tr);
        leg->inv_tr = NULL;
    }
    if (code >= 200 && code < 300) {
        osip_message_free(leg->last_2xx);
        leg->last_2xx = NULL;
        osip_message_clone(r, &leg->last_2xx);
        leg->state = PH_LEG_ANSWERED;
        if (leg->peer.proto == PH_UDP && leg->last_2xx) {
            leg->retx_ms = S_T1_MS;
            leg->retx_total_ms = 0;
            uv_timer_start(&leg->retx, s_on_retx, S_T1_MS, 0);
        }
    } else if (code >= 300) {
        leg->state = PH_LEG_ENDED;
    }
    return ph_sip_respond_msg(calls->sip, tr, r);
}

void ph_leg_learn_2xx(ph_leg_t *leg, const osip_message_t *resp) {
    osip_generic_param_t *tag = NULL;
    if (resp->to && osip_to_get_tag(resp->to, &tag) == 0 && tag && tag->gvalue) {
        snprintf(leg->remote_tag, sizeof leg->remote_tag, "%s", tag->gvalue);
    }
    osip_contact_t *ct = NULL;
    char target[PH_URI_MAX];
    if (osip_message_get_contact(resp, 0, &ct) >= 0 && ct && ct->url &&
        s_uri_text(ct->url, target, sizeof target, 0) == 0) {
        snprintf(leg->target, sizeof leg->target, "%s", target);
    }
    if (osip_list_size(&leg->route) == 0) {
        /* UAC route set: the Record-Route of the 2xx, reversed. */
        int n = osip_list_size(&resp->record_routes);
        for (int i = n - 1; i >= 0; i--) {
            osip_record_route_t *rr = osip_list_get(&resp->record_routes, i);
            osip_record_route_t *copy = NULL;
            if (rr && osip_from_clone(rr, &copy) == 0) {
                osip_list_add(&leg->route, copy, -1);
            }
        }
    }
    if (leg->state < PH_LEG_ANSWERED) {
        leg->state = PH_LEG_ANSWERED;
    }
}

int ph_leg_ack(ph_leg_t *leg, unsigned cseq, const char *body) {
    ph_calls_t *calls = leg->call->calls;
    osip_message_t *ack =
        ph_sip_request(calls->sip, "ACK", leg->target, leg->local_uri, leg->local_tag,
                       leg->remote_uri, leg->remote_tag, leg->call_id, cseq, &leg->route);
    if (!ack) {
        return -1;
    }
    s_set_body(ack, body);
    osip_message_free(leg->last_ack);
    leg->last_ack = NULL;
    osip_message_clone(ack, &leg->last_ack);
    leg->ack_cseq = cseq;
    leg->state = PH_LEG_CONFIRMED;
    return ph_sip_send_request(calls->sip, ack, &leg->peer, NULL, NULL);
}

void ph_leg_reack(ph_leg_t *leg, const osip_message_t *resp) {
    if (leg->last_ack && resp->cseq && resp->cseq->number &&
        (unsigned)strtoul(resp->cseq->number, NULL, 10) == leg->ack_cseq) {
        ph_sip_send_raw(leg->call->calls->sip, leg->last_ack, &leg->peer);
    }
}

/* A CANCEL for our pending INVITE (RFC 3261 9.1: same Request-URI, top Via, From, To,
 * Call-ID and CSeq number). */
static void s_cancel(ph_leg_t *leg) {
    ph_calls_t *calls = leg->call->calls;
    osip_message_t *inv = leg->inv_tr ? leg->inv_tr->orig_request : NULL;
    osip_message_t *c = NULL;
    if (!inv || osip_message_init(&c) != 0) {
        return;
    }
    osip_uri_t *uri = NULL;
    osip_via_t *via = osip_list_get(&inv->vias, 0);
    osip_via_t *via2 = NULL;
    osip_message_set_method(c, osip_strdup("CANCEL"));
    osip_message_set_version(c, osip_strdup("SIP/2.0"));
    if (osip_uri_clone(inv->req_uri, &uri) != 0 || !via || osip_via_clone(via, &via2) != 0) {
        osip_uri_free(uri);
        osip_message_free(c);
        return;
    }
    osip_message_set_uri(c, uri);
    osip_list_add(&c->vias, via2, -1);
    osip_from_clone(inv->from, &c->from);
    osip_to_clone(inv->to, &c->to);
    osip_call_id_clone(inv->call_id, &c->call_id);
    char cseq[32];
    snprintf(cseq, sizeof cseq, "%s CANCEL", inv->cseq->number);
    osip_message_set_cseq(c, cseq);
    osip_message_set_max_forwards(c, "70");
    ph_sip_send_request(calls->sip, c, &leg->peer, NULL, NULL);
}

void ph_leg_hangup(ph_leg_t *leg) {
    ph_calls_t *calls = leg->call->calls;
    switch (leg->state) {
    case PH_LEG_EARLY:
        ph_leg_answer(leg, 480, NULL, NULL, NULL);
        break;
    case PH_LEG_CALLING:
        s_cancel(leg);
        break;
    case PH_LEG_ANSWERED:
    case PH_LEG_CONFIRMED: {
        osip_message_t *bye = ph_sip_request(calls->sip, "BYE", leg->target, leg->local_uri,
                                             leg->local_tag, leg->remote_uri, leg->remote_tag,
                                             leg->call_id, ++leg->local_cseq, &leg->route);
        if (bye) {
            ph_sip_send_request(calls->sip, bye, &leg->peer, NULL, NULL);
        }
        break;
    }
    default:
        break;
    }
    leg->state = PH_LEG_ENDED;
    uv_timer_stop(&leg->retx);
    uv_timer_stop(&leg->ring);
}

void ph_leg_release(ph_leg_t *leg) {
    ph_calls_t *calls = leg->call->calls;
    if (leg->released) {
        return;
    }
    leg->released = 1;
    if (leg->registered && hk_strmap_get(calls->legs, leg->call_id) == leg) {
        hk_strmap_remove(calls->legs, leg->call_id);
    }
    leg->registered = 0;
    if (leg->dial_key[0] && hk_strmap_get(calls->dials, leg->dial_key) == leg) {
        hk_strmap_remove(calls->dials, leg->dial_key);
    }
    leg->dial_key[0] = '\0';
    ph_sip_detach(calls->sip, leg->inv_tr);
    ph_sip_detach(calls->sip, leg->reinv_tr);
    leg->inv_tr = leg->reinv_tr = NULL;
    osip_message_free(leg->last_2xx);
    osip_message_free(leg->last_ack);
    leg->last_2xx = leg->last_ack = NULL;
    osip_list_special_free(&leg->route, (void (*)(void *))osip_record_route_free);
    if (leg->open == 2) {
        leg->call->refs += 2; /* each close callback drops one */
        uv_close((uv_handle_t *)&leg->retx, s_leg_closed);
        uv_close((uv_handle_t *)&leg->ring, s_leg_closed);
    }
}
