/* ph_policy: what hetki-phone needs from the tenants' policies, read from Redis where
 * `hetki policy load` writes it (docs/policy.md, "[phone]"): which tenant a dialled number
 * belongs to (hk:{phone}:numbers), and a tenant's phone settings: callback window, attempts,
 * retry delay, callback threshold, announcement language and static agent SIP URIs
 * (hk:{t}:phone). Answers are cached for a short time (a new policy is in use within about
 * that time plus a second) and looked up asynchronously through hk_redis. */
#ifndef PH_POLICY_H
#define PH_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "hk_redis.h"

#define PH_POLICY_TENANT 33 /* tenant names are at most 32 characters */
#define PH_POLICY_NUMBER 17 /* "+" and up to 15 digits, NUL */
#define PH_POLICY_CACHE_MS 2000

typedef struct ph_policy_t ph_policy_t;

/* A tenant's phone settings (the built-in defaults when its policy has no [phone] section
 * or it has loaded no policy). */
typedef struct {
    char tenant[PH_POLICY_TENANT];
    long version;                    /* policy version they came from; 0: the defaults */
    int64_t callback_window_ms;      /* a promise's window: [now, now + this] */
    int callback_attempts;           /* calls to the customer before the promise is broken */
    int64_t callback_retry_after_ms; /* wait after an unanswered attempt */
    int64_t callback_threshold_ms;   /* offer a callback when the estimated wait exceeds it */
    char language[3];                /* "fi", "sv" or "en": announcements by default */
} ph_phone_settings_t;

/* Status of a lookup: found, not found (unknown number, no static URI), Redis unavailable
 * (retry later; nothing is assumed). */
typedef enum {
    PH_POLICY_OK = 0,
    PH_POLICY_NOT_FOUND = 1,
    PH_POLICY_UNAVAILABLE = -1
} ph_policy_status_t;

/* Answer to ph_policy_number: tenant is valid only during the call (NULL unless OK). */
typedef void(ph_policy_tenant_fn)(ph_policy_status_t status, const char *tenant, void *arg);

/* Answer to ph_policy_settings: s is valid only during the call (NULL when UNAVAILABLE). */
typedef void(ph_policy_settings_fn)(ph_policy_status_t status, const ph_phone_settings_t *s,
                                    void *arg);

/* Answer to ph_policy_agent_uri: uri valid only during the call (NULL unless OK). */
typedef void(ph_policy_uri_fn)(ph_policy_status_t status, const char *uri, void *arg);

/* Creates the reader on redis (not owned); cache_ms <= 0 means PH_POLICY_CACHE_MS. */
ph_policy_t *ph_policy_new(hk_redis_t *redis, int cache_ms);

/* Normalises a dialled number as the policy does: blanks, '-', '.', '(' and ')' dropped, an
 * optional leading '+' and 3..15 digits ("sip:" user parts like "+358 9 123" qualify).
 * Returns 0 with the result in out, or -1 when it is not a number. */
int ph_policy_normalize_number(const char *text, char *out, size_t outlen);

/* Which tenant owns the dialled number. fn runs exactly once, possibly before this returns
 * (a cached answer). A malformed number is answered NOT_FOUND. */
void ph_policy_number(ph_policy_t *pp, const char *dialled, ph_policy_tenant_fn *fn, void *arg);

/* The tenant's phone settings. fn runs exactly once, possibly before this returns. */
void ph_policy_settings(ph_policy_t *pp, const char *tenant, ph_policy_settings_fn *fn, void *arg);

/* The static SIP URI the policy gives agent_id of tenant ([phone_agents]); NOT_FOUND when it
 * gives none (the agent's phone must then REGISTER). fn runs exactly once, possibly before
 * this returns. */
void ph_policy_agent_uri(ph_policy_t *pp, const char *tenant, const char *agent_id,
                         ph_policy_uri_fn *fn, void *arg);

/* The tenant's settings as last fetched (possibly stale), or NULL when never fetched: for
 * synchronous callers such as ph_call's threshold hook. Valid until the next lookup. */
const ph_phone_settings_t *ph_policy_cached(ph_policy_t *pp, const char *tenant);

/* Forgets every cached answer (tests, or after an operator reload). */
void ph_policy_flush(ph_policy_t *pp);

/* Frees the reader once lookups still waiting for Redis are answered (they still are, as
 * Redis answers or drops them). Nulls the caller's pointer. */
void ph_policy_destroy(ph_policy_t **pp_p);

#endif
