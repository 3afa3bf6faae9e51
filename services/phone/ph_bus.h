/* ph_bus: hetki-phone's requests to the routers over hk_submit (Freelance: resent to
 * another replica on timeout, deduplicated by the router): a call's Contact, the agent
 * commands that follow the agent phone (ACCEPT when it answers, DECLINE when it does not),
 * and CallState reports. Shared by the call layer and the callback scheduler. */
#ifndef PH_BUS_H
#define PH_BUS_H

#include <stddef.h>
#include <uv.h>

#include "hk_registry.h"
#include "hk_submit.h"
#include "ph_config.h"

typedef struct ph_bus_t ph_bus_t;

/* Creates the client; routers come from registry and HETKI_ROUTER_ENDPOINT. Returns NULL
 * (logged) when the static endpoint is unusable. cfg must outlive it. */
ph_bus_t *ph_bus_new(uv_loop_t *loop, void *zctx, hk_registry_t *registry, const ph_config_t *cfg);

/* Submits a contact (dedupe key set by the caller); fn runs exactly once when this returns
 * 0; -1: it cannot be encoded. */
int ph_bus_contact(ph_bus_t *b, const Hetki__V1__Contact *contact, hk_submit_done_fn *fn,
                   void *arg);

/* Sends AgentCommand kind (ACCEPT, DECLINE, ...) for agent about contact_id with a new
 * command id. fn may be NULL (fire and forget, errors logged). Returns 0 or -1. */
int ph_bus_agent_command(ph_bus_t *b, const char *tenant, const char *agent_id,
                         Hetki__V1__AgentCommandKind kind, const char *contact_id,
                         const char *reason, hk_submit_reply_fn *fn, void *arg);

/* Reports a call state (fire and forget; errors logged). detail is key=value text. */
void ph_bus_call_state(ph_bus_t *b, const char *tenant, const char *contact_id,
                       const char *agent_id, const char *state, const char *detail);

/* The hk_submit client ph_bus wraps (for modules that need their own request handling). */
hk_submit_t *ph_bus_submit(ph_bus_t *b);

/* Router replicas believed alive; requests not yet answered. */
size_t ph_bus_live(const ph_bus_t *b);
size_t ph_bus_pending(const ph_bus_t *b);

/* The instance id stamped on contacts and call states. */
const char *ph_bus_gateway(const ph_bus_t *b);

/* Completes what is pending with an error (callbacks run now) and frees; nulls the pointer. */
void ph_bus_destroy(ph_bus_t **b_p);

#endif
