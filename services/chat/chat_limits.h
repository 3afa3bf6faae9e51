/* chat_limits: the rules that bound what a client may do: the Origin allowlist, token buckets
 * for rates, and the validation of tenants, ids, languages and email addresses. Pure
 * functions, no I/O. */
#ifndef CHAT_LIMITS_H
#define CHAT_LIMITS_H

#include <stddef.h>
#include <stdint.h>

#include "chat_config.h"

#define CHAT_ORIGIN_MAX 128
#define CHAT_ID_MAX 64     /* client message ids */
#define CHAT_TENANT_MAX 32 /* [a-z0-9_-]{1,32} */
#define CHAT_EMAIL_MAX 254

typedef struct {
    int any; /* "*": every origin is allowed */
    size_t n;
    char list[CHAT_MAX_ORIGINS][CHAT_ORIGIN_MAX];
} chat_origins_t;

/* Parses "http://a:1, https://b" or "*" into o (a trailing "/" of an entry is dropped).
 * Returns 0, or -1 when an entry is empty, too long, has no scheme, or there are too many. */
int chat_origins_parse(chat_origins_t *o, const char *text);

/* True when origin (the Origin header, NULL when absent) may open a websocket. Scheme and
 * host compare case-insensitively; an absent Origin is allowed only with "*". */
int chat_origins_allow(const chat_origins_t *o, const char *origin);

/* Monotonic real milliseconds for the transport's limits (rates, idle): never the virtual
 * clock, so a test moving simulated time by days does not close every connection. */
int64_t chat_now_ms(void);

/* A token bucket: up to burst tokens, refilled at burst per period_ms. */
typedef struct {
    double tokens;
    int64_t last_ms;
} chat_bucket_t;

/* Fills the bucket at now_ms. */
void chat_bucket_init(chat_bucket_t *b, double burst, int64_t now_ms);

/* Takes one token at now_ms; returns 1, or 0 when the bucket is empty. */
int chat_bucket_take(chat_bucket_t *b, double burst, int64_t period_ms, int64_t now_ms);

/* True for 1 to 32 characters of a-z 0-9 _ -. */
int chat_tenant_ok(const char *tenant);

/* True for a client message id: 1 to 64 characters of A-Z a-z 0-9 _ -. */
int chat_id_ok(const char *id);

/* True for a reference to any message (an agent's or a customer's): 1 to 64 characters of
 * A-Z a-z 0-9 _ . : - (the router's id alphabet). */
int chat_ref_ok(const char *id);

/* Maps a language tag ("fi", "sv-FI", "EN") to "fi", "sv" or "en"; NULL when it is none of
 * them. */
const char *chat_lang_norm(const char *lang);

/* True for something that looks like an email address: at most 254 bytes, one '@' with text
 * on both sides, a dot in the domain, no spaces, controls, quotes or angle brackets. */
int chat_email_ok(const char *address);

#endif
