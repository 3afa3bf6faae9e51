/* ph_sip: SIP messages and transactions over ph_transport with libosip2. Parses what
 * arrives (osip_parse), checks it (required headers, sizes; a malformed request gets 400
 * when a response can be addressed, otherwise it is dropped), applies the per-source flood
 * limits (503 Retry-After, bans), and runs libosip2's four transaction machines (ICT, IST,
 * NICT, NIST) from a uv timer, so retransmissions are absorbed and resent there. The call and
 * registration layers see new requests, responses to their client transactions and the end
 * of transactions through ph_sip_handlers_t; osip_message_t is the message type throughout.
 * Owners of a transaction are an opaque pointer (the "your_instance" of libosip2). */
#ifndef PH_SIP_H
#define PH_SIP_H

/* libosip2's headers use time_t and struct timeval without including their headers. */
#include <sys/time.h>
#include <time.h>

#include <osip2/osip.h>
#include <osipparser2/osip_message.h>
#include <stddef.h>
#include <uv.h>

#include "ph_flood.h"
#include "ph_transport.h"

typedef struct ph_sip_t ph_sip_t;

typedef struct {
    /* A request that starts a server transaction (tr, INVITE or non-INVITE) or, for tr
     * NULL, one outside any transaction (an ACK to a 2xx). The handler answers through
     * ph_sip_respond (or not at all for ACK). req and from are valid during the call. */
    void (*on_request)(ph_sip_t *sip, osip_transaction_t *tr, osip_message_t *req,
                       const ph_peer_t *from, void *arg);
    /* A response to a client transaction; owner is what ph_sip_send_request was given
     * (NULL after ph_sip_detach). tr is NULL for a 2xx that arrives after its INVITE
     * transaction ended (a retransmitted 200, to be ACKed again). */
    void (*on_response)(ph_sip_t *sip, osip_transaction_t *tr, void *owner, osip_message_t *resp,
                        void *arg);
    /* A client transaction ended without a final response (timeout or transport error):
     * code 408 or 503. */
    void (*on_timeout)(ph_sip_t *sip, osip_transaction_t *tr, void *owner, int code, void *arg);
    /* A transaction is about to be freed; owners drop their pointer to it. */
    void (*on_gone)(ph_sip_t *sip, osip_transaction_t *tr, void *owner, void *arg);
} ph_sip_handlers_t;

typedef struct {
    unsigned long received;     /* messages parsed */
    unsigned long bad;          /* malformed: 400 sent or dropped */
    unsigned long limited;      /* refused by the flood limit (503) */
    unsigned long dropped;      /* dropped: banned sources, stray messages */
    unsigned long sent;         /* messages sent */
    unsigned long transactions; /* transactions alive */
} ph_sip_stats_t;

/* Calls osip_init once per process (libosip2 keeps global parser state) and creates the
 * layer on transport t. host/port are what we put in Via and Contact. flood may be NULL. One
 * layer per process at a time. With loop NULL no timer runs (transactions advance only on
 * input) and with t NULL messages are built but not sent: the fuzz target's setup. */
ph_sip_t *ph_sip_new(uv_loop_t *loop, ph_transport_t *t, ph_flood_t *flood, const char *host,
                     int port, const ph_sip_handlers_t *h, void *arg);

/* Feeds one received message (ph_transport's callback; also the fuzz target's entry). */
void ph_sip_input(ph_sip_t *sip, const char *buf, size_t len, const ph_peer_t *from);

/* Builds a response to req (Via, From, To with to_tag when given and To has none, Call-ID,
 * CSeq copied; our Contact on 1xx-2xx of INVITE; body with its Content-Type when given).
 * Returns a new message the caller owns, or NULL. */
osip_message_t *ph_sip_response(ph_sip_t *sip, const osip_message_t *req, int code,
                                const char *to_tag, const char *ctype, const char *body);

/* Sends resp (consumed) through server transaction tr. Returns 0 or -1 (resp freed). */
int ph_sip_respond_msg(ph_sip_t *sip, osip_transaction_t *tr, osip_message_t *resp);

/* Builds and sends a response to the request of tr; extra_name/extra_value may add one
 * header (e.g. Retry-After). Returns 0 or -1. */
int ph_sip_respond(ph_sip_t *sip, osip_transaction_t *tr, int code, const char *to_tag,
                   const char *ctype, const char *body, const char *extra_name,
                   const char *extra_value);

/* Answers req statelessly (no transaction: used for 400/503 before one exists). */
void ph_sip_respond_stateless(ph_sip_t *sip, const osip_message_t *req, const ph_peer_t *to,
                              int code, const char *extra_name, const char *extra_value);

/* Builds a request outside or inside a dialog: Via (new branch), Max-Forwards, From with
 * from_tag, To (with to_tag when not NULL), Call-ID, CSeq, our Contact, Route headers from
 * route (a list of strings, may be NULL). Returns a new message or NULL. */
osip_message_t *ph_sip_request(ph_sip_t *sip, const char *method, const char *ruri,
                               const char *from, const char *from_tag, const char *to,
                               const char *to_tag, const char *call_id, unsigned cseq,
                               const osip_list_t *route);

/* Sends a request (consumed) in a new client transaction to peer; owner gets its responses.
 * ACK requests are sent once without a transaction (tr_out NULL). Returns 0 or -1. */
int ph_sip_send_request(ph_sip_t *sip, osip_message_t *req, const ph_peer_t *peer, void *owner,
                        osip_transaction_t **tr_out);

/* Clears the owner of tr (the owner is going away); the transaction runs to its end. */
void ph_sip_detach(ph_sip_t *sip, osip_transaction_t *tr);

/* Sends a message as it is (a retransmitted 2xx or ACK) without a transaction. */
int ph_sip_send_raw(ph_sip_t *sip, const osip_message_t *msg, const ph_peer_t *peer);

/* The peer a server transaction's request came from. */
const ph_peer_t *ph_sip_tr_peer(const osip_transaction_t *tr);

/* Our SIP host and port (for SDP and Contact). */
const char *ph_sip_host(const ph_sip_t *sip);
int ph_sip_port(const ph_sip_t *sip);

/* Writes a new random token (tags, branches) of 16 characters plus NUL. */
void ph_sip_token(char out[17]);

void ph_sip_stats(const ph_sip_t *sip, ph_sip_stats_t *out);

/* Frees every transaction (owners are not told) and the layer; nulls the pointer. */
void ph_sip_destroy(ph_sip_t **sip_p);

#endif
