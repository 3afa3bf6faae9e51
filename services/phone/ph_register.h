/* ph_register: the registrar for agent phones and the agent-URI lookup. A REGISTER is
 * challenged with digest authentication (RFC 2617 MD5, qop=auth; nonces carry their time, stamped
 * with a per-process secret: another instance answers stale=true and the phone retries); a binding
 * is stored in Redis (hk:{t}:phone:reg:<agent>, expiring with the registration), so every instance
 * finds an agent's phone. Agents without a registration use their static URI from the policy
 * (hk:{t}:phone:agents), else HETKI_PHONE_AGENT_URI with {agent} replaced. */
#ifndef PH_REGISTER_H
#define PH_REGISTER_H

#include <uv.h>

#include "hk_redis.h"
#include "ph_config.h"
#include "ph_policy.h"
#include "ph_sip.h"

typedef struct ph_register_t ph_register_t;

#define PH_REG_URI_MAX 256

/* Creates the registrar; policy (may be NULL) gives static agent URIs. None is owned. */
ph_register_t *ph_register_new(const ph_config_t *cfg, ph_sip_t *sip, hk_redis_t *redis,
                               ph_policy_t *policy);

/* Handles a REGISTER server transaction (answers it: 401, 200, 403, 400, 503). */
void ph_register_on_request(ph_register_t *reg, osip_transaction_t *tr, osip_message_t *req);

/* The agent's phone: uri is NULL when none is known; valid only during the call. */
typedef void(ph_register_lookup_fn)(const char *uri, void *arg);

/* Looks the agent's phone up (registration, then static URI, then the template); fn runs
 * exactly once, possibly before this returns. */
void ph_register_lookup(ph_register_t *reg, const char *tenant, const char *agent_id,
                        ph_register_lookup_fn *fn, void *arg);

/* Counters: registrations accepted, challenges sent, authentication failures. */
unsigned long ph_register_ok(const ph_register_t *reg);
unsigned long ph_register_failed(const ph_register_t *reg);

void ph_register_destroy(ph_register_t **reg_p);

#endif
