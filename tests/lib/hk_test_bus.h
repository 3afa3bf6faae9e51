/* hk_test_bus: a small synchronous bus client for integration tests. A request goes to one
 * router endpoint over a ZeroMQ DEALER as [empty][envelope] and the test waits, with a
 * timeout, for the reply that carries its correlation id. An event collector subscribes to
 * routers' event endpoints and keeps what arrives so that tests can look for events by kind,
 * contact and agent. Envelopes are encoded and decoded with hk_codec. Blocking by design:
 * tests only. */
#ifndef HK_TEST_BUS_H
#define HK_TEST_BUS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hk_codec.h"

/* The tenant the probes use (hk_test_bus_probe); tests should not use it for anything else. */
#define HK_TEST_PROBE_TENANT "probe"

typedef struct hk_test_bus_t hk_test_bus_t;

/* Connects a DEALER to endpoint ("tcp://127.0.0.1:port"), as a CURVE client when the test set
 * a key (hk_curve_set_key). Returns NULL on failure. */
hk_test_bus_t *hk_test_bus_new(const char *endpoint);

/* Closes the socket and nulls the caller's pointer. */
void hk_test_bus_destroy(hk_test_bus_t **bus_p);

/* Sends env (its body set by the caller; version, a fresh correlation id and the send time
 * are filled in here) and waits up to timeout_ms for the reply with that correlation id;
 * replies to earlier requests are dropped. Returns the reply (the caller frees it with
 * hk_codec_free) or NULL when none came in time. */
hk_envelope_t *hk_test_bus_request(hk_test_bus_t *bus, hk_envelope_t *env, int timeout_ms);

/* Sends env (its body set by the caller) without waiting for the reply; the fresh correlation
 * id is written to corr. Returns 0 or -1. */
int hk_test_bus_send(hk_test_bus_t *bus, hk_envelope_t *env, char *corr, size_t corr_len);

/* The next reply to any request sent on bus, or NULL after timeout_ms. Free it with
 * hk_codec_free. */
hk_envelope_t *hk_test_bus_recv(hk_test_bus_t *bus, int timeout_ms);

/* Submits an urgent chat contact (key is its dedupe key and chat session) whose customer typed
 * in phone (NULL: none), in lang with text; writes the ack's contact id and decision target.
 * Returns 0 when it was acked without error, -1 otherwise. */
int hk_test_bus_urgent_chat(hk_test_bus_t *bus, const char *tenant, const char *key,
                            const char *phone, const char *lang, const char *text, char *id,
                            size_t idlen, char *target, size_t targetlen);

/* Sends data as it is, after an empty delimiter frame when with_delimiter, and returns the
 * first reply that decodes (caller frees), or NULL when none came within timeout_ms. */
hk_envelope_t *hk_test_bus_raw(hk_test_bus_t *bus, const void *data, size_t len, int with_delimiter,
                               int timeout_ms);

/* What a command's reply said, copied out of either reply body: a CommandReply from the
 * engine or an Ack from the bus layer (malformed requests). */
typedef struct {
    int answered; /* 0: no reply in time */
    int is_ack;   /* the reply was an Ack rather than a CommandReply */
    Hetki__V1__ErrorCode code;
    char text[256];
    char agent_state[32];
    char contact_state[32];
    char contact_id[72];
    char router[96];
} hk_test_reply_t;

/* Summarises reply (may be NULL: not answered) into out. */
void hk_test_reply_from(const hk_envelope_t *reply, hk_test_reply_t *out);

/* Sends an agent profile, an agent command or a customer answer and summarises the reply
 * into out. Return out->code, or -1 when no reply came within timeout_ms. */
int hk_test_bus_profile(hk_test_bus_t *bus, const Hetki__V1__AgentProfile *p, hk_test_reply_t *out,
                        int timeout_ms);
int hk_test_bus_command(hk_test_bus_t *bus, const Hetki__V1__AgentCommand *cmd,
                        hk_test_reply_t *out, int timeout_ms);
int hk_test_bus_confirm(hk_test_bus_t *bus, const Hetki__V1__CustomerConfirm *cc,
                        hk_test_reply_t *out, int timeout_ms);

/* Submits a contact and returns the reply envelope (an Ack; the caller frees it), or NULL. */
hk_envelope_t *hk_test_bus_contact(hk_test_bus_t *bus, const Hetki__V1__Contact *c, int timeout_ms);

/* Submits a contact (5 s for the ack); writes the ack's contact id to id and its decision
 * target to target (either may be NULL; "" when not acked). Returns 0 when it was acked
 * without error, -1 otherwise. */
int hk_test_bus_submit(hk_test_bus_t *bus, const Hetki__V1__Contact *c, char *id, size_t idlen,
                       char *target, size_t targetlen);

/* One collected event, copied out of its envelope. */
typedef struct {
    char publisher[96];
    uint64_t seq;
    char kind[64];
    char tenant[40];
    char contact_id[72];
    char agent_id[72];
    char state[32];
    char queue[40];
    uint64_t rev;
    char detail[256];
    int64_t at_ms;
} hk_test_event_t;

typedef struct hk_test_events_t hk_test_events_t;

/* Creates a collector (a SUB socket) subscribed to the probe tenant only. NULL on failure. */
hk_test_events_t *hk_test_events_new(void);

/* Adds a subscription to tenant's events (topic "t:<tenant>"). Returns 0 or -1. */
int hk_test_events_subscribe(hk_test_events_t *ev, const char *tenant);

/* Connects to a router's events endpoint (CURVE as for the bus). Returns 0 or -1. */
int hk_test_events_connect(hk_test_events_t *ev, const char *endpoint);

/* Receives what arrived, waiting up to timeout_ms for the first event. */
void hk_test_events_poll(hk_test_events_t *ev, int timeout_ms);

/* The index of the first collected event at or after from whose kind, contact and agent
 * match (NULL matches anything), waiting up to timeout_ms for it; -1 when none came. */
int hk_test_events_wait(hk_test_events_t *ev, size_t from, const char *kind, const char *contact_id,
                        const char *agent_id, int timeout_ms);

/* Collected events matching (as hk_test_events_wait) at or after from, without waiting. */
size_t hk_test_events_count_matching(hk_test_events_t *ev, size_t from, const char *kind,
                                     const char *contact_id, const char *agent_id);

/* The i-th collected event (in arrival order), or NULL. */
const hk_test_event_t *hk_test_events_get(const hk_test_events_t *ev, size_t i);

/* How many events were collected so far, after taking in what already arrived (probe
 * events are not kept). Events published before a reply may still arrive after it: they
 * are on another connection. */
size_t hk_test_events_size(hk_test_events_t *ev);

/* Closes the collector and nulls the caller's pointer. */
void hk_test_events_destroy(hk_test_events_t **ev_p);

/* Registers a harmless agent of the probe tenant through bus and waits for its event on
 * ev, retrying until timeout_ms. Proves that ev's subscriptions reach that router and
 * returns the router's clock (the event's at_ms, unix ms), or -1 when nothing came. */
int64_t hk_test_bus_probe(hk_test_bus_t *bus, hk_test_events_t *ev, int timeout_ms);

/* A hetki-router process for tests, reachable over the bus. */
typedef struct {
    pid_t pid; /* 0 once stopped or killed */
    int admin_port;
    char instance[32];
    char log[300];      /* its stdout and stderr */
    char contacts[160]; /* registered endpoints */
    char events[160];
    hk_test_bus_t *bus; /* a client connected to contacts */
} hk_test_router_t;

/* Starts hetki-router (HETKI_BIN_DIR) as instance with Redis on 127.0.0.1:redis_port,
 * ephemeral bus ports and extra_env ("K=V", NULL terminated, may be NULL), logging to
 * dir/<instance>.log; waits until it is ready and registered, connects rt->bus, connects ev
 * to its events and probes it. Returns 0, or -1 with the reason on stderr. */
int hk_test_router_start(hk_test_router_t *rt, const char *instance, int redis_port,
                         const char *dir, const char *const *extra_env, hk_test_events_t *ev);

/* Stops the router gracefully (SIGTERM, then SIGKILL after timeout_ms) and closes its bus
 * client; returns the wait status (-1 when it had to be killed). */
int hk_test_router_stop(hk_test_router_t *rt, int timeout_ms);

/* Kills the router with SIGKILL at once and reaps it. Returns 0 or -1. */
int hk_test_router_kill(hk_test_router_t *rt);

#endif
