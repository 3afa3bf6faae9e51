/* ph_call_int: the internals shared by ph_call.c (the table, inbound calls, events),
 * ph_leg.c (one SIP dialog: requests, responses, retransmitted 2xx) and ph_connect.c
 * (outbound calls and the RFC 3725 connect). Not for other modules. */
#ifndef PH_CALL_INT_H
#define PH_CALL_INT_H

#include "hk_strmap.h"
#include "ph_call.h"
#include "ph_rtp.h"
#include "ph_sdp.h"

#define PH_URI_MAX 320
#define PH_BODY_MAX 4096

typedef enum {
    PH_LEG_IDLE = 0,
    PH_LEG_CALLING,   /* UAC: INVITE sent, no final answer */
    PH_LEG_EARLY,     /* UAS: INVITE received, not answered */
    PH_LEG_ANSWERED,  /* 2xx sent (UAS, awaiting ACK) or received (UAC) */
    PH_LEG_CONFIRMED, /* ACK exchanged */
    PH_LEG_ENDED,
} ph_leg_state_t;

typedef struct ph_leg_t ph_leg_t;

struct ph_leg_t {
    ph_call_t *call;
    int uac; /* we sent the INVITE */
    ph_leg_state_t state;
    char call_id[256];
    char local_tag[17];
    char remote_tag[128];
    char local_uri[PH_URI_MAX];  /* our From (UAC) / To (UAS) without tag */
    char remote_uri[PH_URI_MAX]; /* theirs */
    char target[PH_URI_MAX];     /* where in-dialog requests go (their Contact) */
    osip_list_t route;           /* route set (osip_record_route_t) */
    unsigned local_cseq;
    unsigned invite_cseq; /* CSeq of the INVITE being answered (UAS) */
    ph_peer_t peer;
    osip_transaction_t *inv_tr;   /* IST (UAS) or ICT (UAC) of the initial INVITE */
    osip_transaction_t *reinv_tr; /* ICT of a re-INVITE we sent */
    osip_message_t *last_2xx;     /* UAS: our 2xx, resent until the ACK */
    osip_message_t *last_ack;     /* UAC: our ACK, resent when the 2xx is */
    unsigned ack_cseq;
    int retx_ms, retx_total_ms;
    uv_timer_t retx;    /* 2xx retransmissions */
    uv_timer_t ring;    /* ring timeout */
    int registered;     /* in the Call-ID map */
    int open;           /* timers not yet closed */
    int released;       /* ph_leg_release ran */
    char dial_key[200]; /* tenant/contact/agent in the live-dial map, or empty */
};

typedef enum {
    PH_ST_SUBMITTING = 0, /* INVITE in, contact submitted */
    PH_ST_ANNOUNCING,     /* answered, announcement plays */
    PH_ST_WAITING,        /* waiting for an agent */
    PH_ST_RINGING_AGENT,  /* calling the agent's phone */
    PH_ST_BRIDGING,       /* agent answered, re-INVITE to the caller */
    PH_ST_CONNECTED,
    PH_ST_CALLBACK, /* promise being stored / window being played */
    PH_ST_DIALING,  /* outbound: calling */
    PH_ST_ANSWERED, /* outbound: answered, media with us */
    PH_ST_ENDED,
} ph_call_st_t;

struct ph_call_t {
    ph_calls_t *calls;
    int inbound;
    ph_call_st_t st;
    ph_leg_t a;  /* the caller (inbound) or the first party dialled */
    ph_leg_t *b; /* the party being connected */
    int b_agent; /* b is a voice agent offered the contact (ACCEPT/DECLINE) */
    char tenant[40];
    char contact_id[64];
    char agent_id[80];
    char caller[64];
    char dialled[64];
    char lang[4];
    char end_reason[32];
    int64_t invite_ms;
    int64_t wait_s;
    int connected_once;
    ph_rtp_t *rtp;
    ph_sdp_media_t a_media; /* the caller's media (as we last learnt it) */
    uint64_t sess_id, sess_version;
    char b_offer[PH_BODY_MAX]; /* flow I: the callee's offer from its 2xx */
    ph_call_fn *fn;
    void *arg;
    int refs;        /* async operations pending (a lookup, a submission) */
    int dead;        /* removed from the table; freed when refs and handles are done */
    int handles;     /* uv handles still open */
    char prompt[32]; /* ph_call_dial: played once answered */
    int ring_s;
};

struct ph_calls_t {
    uv_loop_t *loop;
    const ph_config_t *cfg;
    ph_sip_t *sip;
    ph_bus_t *bus;
    ph_register_t *reg;
    ph_policy_t *policy;
    ph_inbound_hooks_t hooks;
    hk_strmap_t *legs;     /* Call-ID -> ph_leg_t */
    hk_strmap_t *contacts; /* contact id -> ph_call_t (inbound, acked) */
    hk_strmap_t *early;    /* contact id -> agent id text (offers before the ack) */
    hk_strmap_t *dials;    /* tenant/contact/agent -> ph_leg_t dialling (never two at once) */
    size_t count;
    int draining;
    ph_call_metrics_t m;
};

/* ---- ph_leg.c ---- */

/* Sets leg up as the UAS side of req (tags, URIs, target, route set, peer). */
int ph_leg_init_uas(ph_leg_t *leg, ph_call_t *call, osip_transaction_t *tr, osip_message_t *req,
                    const ph_peer_t *from);

/* Sets leg up as a UAC towards uri (new Call-ID, tag); -1 when uri has no numeric host. */
int ph_leg_init_uac(ph_leg_t *leg, ph_call_t *call, const char *uri, const char *from_user);

/* Puts leg in the Call-ID map. */
void ph_leg_register(ph_leg_t *leg);

/* Enters a UAC leg in the live-dial map under tenant/contact/agent (nothing to do when
 * contact or agent is empty). -1 when another live leg already dials that contact+agent. */
int ph_leg_claim_dial(ph_leg_t *leg, const char *tenant, const char *contact, const char *agent);

/* Sends an INVITE (initial when not yet answered, otherwise a re-INVITE) with body (may be
 * NULL: no offer). Returns 0 or -1. */
int ph_leg_invite(ph_leg_t *leg, const char *body);

/* Answers the initial INVITE with code (a 2xx carries body and is resent until the ACK). */
int ph_leg_answer(ph_leg_t *leg, int code, const char *body, const char *extra_name,
                  const char *extra_value);

/* Learns the dialog from a 2xx to our INVITE (remote tag, target, route set). */
void ph_leg_learn_2xx(ph_leg_t *leg, const osip_message_t *resp);

/* ACKs the 2xx of INVITE cseq with body (may be NULL); remembered for resends. */
int ph_leg_ack(ph_leg_t *leg, unsigned cseq, const char *body);

/* Resends the ACK for a retransmitted 2xx (when it matches the last one). */
void ph_leg_reack(ph_leg_t *leg, const osip_message_t *resp);

/* Ends the leg: BYE when answered, CANCEL when calling, a final error when early. */
void ph_leg_hangup(ph_leg_t *leg);

/* Frees what the leg holds (detaches transactions, leaves the Call-ID map, closes timers:
 * the call's handle count drops as they close). */
void ph_leg_release(ph_leg_t *leg);

/* The body of msg as NUL-terminated text in out (empty when none); -1 when too large. */
int ph_msg_body(const osip_message_t *msg, char *out, size_t cap);

/* ---- ph_call.c ---- */

/* Moves the call to st and reports it (CallState) when it has a contact. */
void ph_call_set_state(ph_call_t *call, ph_call_st_t st, const char *detail);

/* Ends the call: every leg hung up, ENDED reported to the owner, the call freed when safe. */
void ph_call_end(ph_call_t *call, int code, const char *reason);

/* Allocates a call in the table (counted). */
ph_call_t *ph_call_alloc(ph_calls_t *calls, int inbound);

/* Drops a reference taken for an async operation; frees a dead call at zero. Returns 1 when
 * the call is still alive (not ended). */
int ph_call_unref(ph_call_t *call);

/* Opens the call's RTP endpoint. Returns 0 or -1. */
int ph_call_open_rtp(ph_call_t *call);

/* Hangs the call up after HETKI_PHONE_MAX_CALL_S (the first leg's ring timer). */
void ph_call_arm_max(ph_call_t *call);

/* A new INVITE (server transaction tr). */
void ph_calls_on_invite(ph_calls_t *calls, osip_transaction_t *tr, osip_message_t *req,
                        const ph_peer_t *from);

/* Plays the waiting loop (announcement, pauses) to the first party. */
void ph_call_play_waiting(ph_call_t *call);

/* ---- ph_connect.c ---- */

/* A response on leg (initial INVITE or re-INVITE) of an outbound or connecting call. */
void ph_connect_on_response(ph_leg_t *leg, osip_transaction_t *tr, osip_message_t *resp);

/* A client transaction of leg ended without an answer. */
void ph_connect_on_timeout(ph_leg_t *leg, osip_transaction_t *tr, int code);

/* Starts flow I towards uri for call (agent: ACCEPT/DECLINE follow the agent phone). */
int ph_connect_start(ph_call_t *call, const char *uri, int agent, const ph_dial_opts_t *opts);

/* The b leg gave up (ring timeout, failure): cleans it up, tells the owner, resumes. */
void ph_connect_failed(ph_call_t *call, int code, const char *reason);

#endif
