/* hk_limits: the rules that bound what a websocket client may do, shared by hetki-chat and
 * hetki-dashboard: the Origin allowlist, token buckets for rates, a clock for them, and the
 * validation of tenant names and ids. Pure functions, no I/O. */
#ifndef HK_LIMITS_H
#define HK_LIMITS_H

#include <stddef.h>
#include <stdint.h>

#define HK_MAX_ORIGINS 32
#define HK_ORIGIN_MAX 128
#define HK_CLIENT_ID_MAX 64 /* client message and request ids, router ids */
#define HK_TENANT_MAX 32    /* [a-z0-9_-]{1,32} */

typedef struct {
    int any; /* "*": every origin is allowed */
    size_t n;
    char list[HK_MAX_ORIGINS][HK_ORIGIN_MAX];
} hk_origins_t;

/* Parses "http://a:1, https://b" or "*" into o (a trailing "/" of an entry is dropped).
 * Returns 0, or -1 when an entry is empty, too long, has no scheme, or there are too many. */
int hk_origins_parse(hk_origins_t *o, const char *text);

/* True when origin (the Origin header, NULL when absent) may open a websocket. Scheme and
 * host compare case-insensitively; an absent Origin is allowed only with "*". */
int hk_origins_allow(const hk_origins_t *o, const char *origin);

/* Monotonic real milliseconds for the transport's limits (rates, idle): never the virtual
 * clock, so a test moving simulated time by days does not close every connection. */
int64_t hk_limits_now_ms(void);

/* A token bucket: up to burst tokens, refilled at burst per period_ms. */
typedef struct {
    double tokens;
    int64_t last_ms;
} hk_bucket_t;

/* Fills the bucket at now_ms. */
void hk_bucket_init(hk_bucket_t *b, double burst, int64_t now_ms);

/* Takes one token at now_ms; returns 1, or 0 when the bucket is empty. */
int hk_bucket_take(hk_bucket_t *b, double burst, int64_t period_ms, int64_t now_ms);

/* True for 1 to 32 characters of a-z 0-9 _ -. */
int hk_tenant_ok(const char *tenant);

/* True for a client id (message or request): 1 to 64 characters of A-Z a-z 0-9 _ -. */
int hk_client_id_ok(const char *id);

/* True for an id of the router's alphabet (agents, accounts, contacts, messages): 1 to 64
 * characters of A-Z a-z 0-9 _ . : -. */
int hk_ref_ok(const char *id);

#endif
