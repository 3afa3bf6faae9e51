/* db_fanout: router events to the sessions allowed to see them. Each event is turned into
 * JSON once (twice when agents of the tenant must not see its detail) and queued behind a
 * per-connection `seq`; a session whose snapshot is being made buffers its events and gets
 * those newer than the snapshot afterwards; agents' sessions follow which contacts are
 * theirs; offers and accepts push the contact's card to its agent; a gap in the stream sends
 * fresh snapshots. The JSON of an event is shared by every session it goes to (hk_ws_shared_t);
 * only the seq in front of it is per connection (written by hk_ws_server). An event that changes an
 * agent's load (offers, releases, wrap-ups) asks for prompt stats for the supervisors. */
#include "db_proto_int.h"

#include "hk_clock.h"
#include "hk_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void db_fanout_seq_frame(db_sess_t *s, const char *type, const char *rest) {
    char head[64];
    int n = snprintf(head, sizeof head, "{\"type\":\"%s\",\"seq\":%llu,", type,
                     (unsigned long long)++s->seq);
    hk_ws_conn_send_parts(s->conn, head, (size_t)n, rest, strlen(rest));
}

void db_fanout_send(db_sess_t *s, uint64_t rev, hk_ws_shared_t *sh) {
    if (!s->snapping) {
        hk_ws_conn_send_shared(s->conn, ++s->seq, sh);
        return;
    }
    if (s->pend_n >= DB_PENDING_MAX) {
        db_fanout_clear(s);
        s->snap_again = 1; /* the snapshot in flight is too old already */
        return;
    }
    db_pend_t *pd = malloc(sizeof *pd);
    if (!pd) {
        return;
    }
    pd->sh = hk_ws_shared_ref(sh);
    pd->rev = rev;
    pd->next = NULL;
    if (s->pend_tail) {
        s->pend_tail->next = pd;
    } else {
        s->pend_head = pd;
    }
    s->pend_tail = pd;
    s->pend_n++;
}

void db_fanout_flush(db_sess_t *s, uint64_t rev) {
    while (s->pend_head) {
        db_pend_t *pd = s->pend_head;
        s->pend_head = pd->next;
        if (pd->rev == 0 || pd->rev > rev) {
            hk_ws_conn_send_shared(s->conn, ++s->seq, pd->sh);
        }
        hk_ws_shared_unref(&pd->sh);
        free(pd);
    }
    s->pend_tail = NULL;
    s->pend_n = 0;
}

void db_fanout_clear(db_sess_t *s) {
    while (s->pend_head) {
        db_pend_t *pd = s->pend_head;
        s->pend_head = pd->next;
        hk_ws_shared_unref(&pd->sh);
        free(pd);
    }
    s->pend_tail = NULL;
    s->pend_n = 0;
}

/* "a=1 b=x flag" -> {"a":"1","b":"x","flag":true} */
static json_t *s_detail(const char *text) {
    json_t *out = json_object();
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", text ? text : "");
    char *save = NULL;
    for (char *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(w, '=');
        if (eq) {
            *eq = '\0';
            json_object_set_new(out, w, json_string(eq + 1));
        } else {
            json_object_set_new(out, w, json_true());
        }
    }
    return out;
}

static const char *s_class(Hetki__V1__ContactClass c) {
    switch (c) {
    case HETKI__V1__CONTACT_CLASS__CONTACT_CLASS_URGENT:
        return "urgent";
    case HETKI__V1__CONTACT_CLASS__CONTACT_CLASS_PERSONAL:
        return "personal";
    case HETKI__V1__CONTACT_CLASS__CONTACT_CLASS_ROUTINE:
        return "routine";
    default:
        return "";
    }
}

/* The event as JSON text without its opening brace (type and seq go in front), shared. */
static hk_ws_shared_t *s_event_text(const Hetki__V1__ContactEvent *ev, int with_detail) {
    json_t *payload = NULL;
    if (ev->payload && ev->payload[0]) {
        payload = json_loads(ev->payload, 0, NULL);
    }
    json_t *o = json_object();
    json_object_set_new(o, "rev", json_integer((json_int_t)ev->rev));
    json_object_set_new(o, "kind", json_string(ev->kind));
    json_object_set_new(o, "at_ms", json_integer((json_int_t)ev->at_ms));
    json_object_set_new(o, "contact", json_string(ev->contact_id));
    json_object_set_new(o, "agent", json_string(ev->agent_id));
    json_object_set_new(o, "state", json_string(ev->state));
    json_object_set_new(o, "queue", json_string(ev->queue));
    json_object_set_new(o, "detail", with_detail ? s_detail(ev->detail) : json_object());
    json_object_set_new(o, "payload", payload ? payload : json_null());
    if (!o) {
        return NULL;
    }
    const Hetki__V1__RoutingDecision *d = ev->decision;
    if (d && with_detail) {
        json_t *reasons = json_array();
        for (size_t i = 0; i < d->n_reasons; i++) {
            json_array_append_new(reasons, json_string(d->reasons[i]));
        }
        json_object_set_new(o, "decision",
                            json_pack("{s:s, s:i, s:s, s:s, s:o}", "class", s_class(d->class_),
                                      "score", (int)d->score, "target", d->target, "queue",
                                      d->queue, "reasons", reasons));
    }
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!text) {
        return NULL;
    }
    hk_ws_shared_t *sh = hk_ws_shared_new(text + 1, strlen(text + 1)); /* without "{" */
    free(text);
    return sh;
}

/* Whether an event changes an agent's load or the contacts it holds. */
static int s_moves_load(const Hetki__V1__ContactEvent *ev) {
    static const char *const kinds[] = {"contact.offered", "contact.declined",
                                        "contact.offer_timeout", "contact.transferred",
                                        "agent.state"};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (strcmp(ev->kind, kinds[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

static int s_prefix(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Follows which contacts are an agent session's, from the events that name its agent. */
static void s_track(db_sess_t *s, const Hetki__V1__ContactEvent *ev, int me) {
    if (!me || !s->mine) {
        return;
    }
    if (strcmp(ev->kind, "agent.state") == 0 && s_prefix(ev->detail, "wrapped=")) {
        hk_strmap_remove(s->mine, ev->detail + strlen("wrapped="));
        return;
    }
    if (!ev->contact_id[0]) {
        return;
    }
    if (strcmp(ev->kind, "contact.declined") == 0 ||
        strcmp(ev->kind, "contact.offer_timeout") == 0 ||
        strcmp(ev->kind, "contact.transferred") == 0) {
        hk_strmap_remove(s->mine, ev->contact_id);
    } else if (hk_strmap_size(s->mine) < DB_MINE_MAX) {
        hk_strmap_put(s->mine, ev->contact_id, s);
    }
}

void db_proto_on_event(const Hetki__V1__ContactEvent *ev, void *arg) {
    db_proto_t *p = arg;
    (*p->stats->events)++;
    db_tenant_t *t = p->stopped ? NULL : db_tenant_find(p, ev->tenant);
    if (!t || t->n_sessions == 0) {
        return;
    }
    t->dirty = 1;
    int is_agent = s_prefix(ev->kind, "agent.");
    int is_critical = s_prefix(ev->kind, "critical.");
    hk_ws_shared_t *full = s_event_text(ev, 1);
    hk_ws_shared_t *bare = NULL; /* agent.* of other agents, for agents: without detail */
    if (!full) {
        return;
    }
    int push_card = 0;
    for (db_sess_t *s = t->sessions; s; s = s->tnext) {
        if (hk_ws_conn_closing(s->conn)) {
            continue;
        }
        if (s->role == DB_ROLE_SUPERVISOR) {
            db_fanout_send(s, ev->rev, full);
            t->prompt = t->prompt || s_moves_load(ev);
            continue;
        }
        int me = ev->agent_id[0] && strcmp(ev->agent_id, s->account) == 0;
        int mine = ev->contact_id[0] && s->mine && hk_strmap_get(s->mine, ev->contact_id);
        s_track(s, ev, me);
        if (is_critical) {
            continue;
        }
        if (is_agent && !me) {
            if (!bare) {
                bare = s_event_text(ev, 0);
            }
            if (bare) {
                db_fanout_send(s, ev->rev, bare);
            }
        } else if (is_agent || me || mine) {
            db_fanout_send(s, ev->rev, full);
            push_card = push_card || (me && (strcmp(ev->kind, "contact.offered") == 0 ||
                                             strcmp(ev->kind, "contact.assigned") == 0));
        }
    }
    if (!hk_clock_is_virtual() && ev->at_ms > 0) {
        double lag = (double)(db_wall_ms() - ev->at_ms) / 1000.0;
        hk_histogram_observe(p->stats->fanout_seconds, lag < 0 ? 0 : lag);
    }
    if (push_card) {
        db_view_card(p, NULL, ev->tenant, ev->agent_id, ev->contact_id, NULL);
    }
    hk_ws_shared_unref(&full);
    hk_ws_shared_unref(&bare);
}

void db_proto_on_gap(const char *publisher, unsigned long missed, void *arg) {
    db_proto_t *p = arg;
    (*p->stats->event_gaps)++;
    if (p->stopped) {
        return;
    }
    HK_WARN("dashboard.event_gap", "publisher=%s missed=%lu sessions=%zu", publisher, missed,
            p->n_ready);
    for (db_sess_t *s = p->sessions; s; s = s->next) {
        if (s->state == DB_SESS_READY && !hk_ws_conn_closing(s->conn)) {
            db_view_snapshot(s, NULL, 1);
        }
    }
}
