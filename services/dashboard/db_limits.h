/* db_limits: the rules that bound what a dashboard client may do: the Origin allowlist, token
 * buckets for rates, the validation of tenants, ids and texts, and session tokens. Pure
 * functions, no I/O. */
#ifndef DB_LIMITS_H
#define DB_LIMITS_H

#include <stddef.h>
#include <stdint.h>

#include "db_config.h"

#define DB_ORIGIN_MAX 128
#define DB_ID_MAX 64     /* client message ids */
#define DB_TENANT_MAX 32 /* [a-z0-9_-]{1,32} */

typedef struct {
    int any; /* "*": every origin is allowed */
    size_t n;
    char list[DB_MAX_ORIGINS][DB_ORIGIN_MAX];
} db_origins_t;

/* Parses "http://a:1, https://b" or "*" into o (a trailing "/" of an entry is dropped).
 * Returns 0, or -1 when an entry is empty, too long, has no scheme, or there are too many. */
int db_origins_parse(db_origins_t *o, const char *text);

/* True when origin (the Origin header, NULL when absent) may open a websocket. Scheme and
 * host compare case-insensitively; an absent Origin is allowed only with "*". */
int db_origins_allow(const db_origins_t *o, const char *origin);

/* Monotonic real milliseconds for the transport's limits (rates, idle): never the virtual
 * clock, so a test moving simulated time by days does not close every connection. */
int64_t db_now_ms(void);

/* A token bucket: up to burst tokens, refilled at burst per period_ms. */
typedef struct {
    double tokens;
    int64_t last_ms;
} db_bucket_t;

/* Fills the bucket at now_ms. */
void db_bucket_init(db_bucket_t *b, double burst, int64_t now_ms);

/* Takes one token at now_ms; returns 1, or 0 when the bucket is empty. */
int db_bucket_take(db_bucket_t *b, double burst, int64_t period_ms, int64_t now_ms);

/* True for 1 to 32 characters of a-z 0-9 _ -. */
int db_tenant_ok(const char *tenant);

/* True for a client request id: 1 to 64 characters of A-Z a-z 0-9 _ -. */
int db_id_ok(const char *id);

/* True for an id of the router's alphabet (agents, accounts, contacts): 1 to 64 characters
 * of A-Z a-z 0-9 _ . : -. */
int db_ref_ok(const char *id);

/* True for 1..max bytes of well-formed UTF-8. */
int db_text_ok(const char *text, size_t max);

/* Session tokens: "<tenant>.<64 lowercase hex>" (32 random bytes). */
#define DB_TOKEN_HEX 64
#define DB_TOKEN_MAX (DB_TENANT_MAX + 1 + DB_TOKEN_HEX + 1)

/* Splits a token into its tenant (tenant_len >= DB_TENANT_MAX + 1) and the SHA-256 of the
 * whole token (what Redis stores). Returns 0, or -1 when it is not a well-formed token. */
int db_token_parse(const char *token, char *tenant, size_t tenant_len, unsigned char hash[32]);

/* Writes a new random token of tenant into out (len >= DB_TOKEN_MAX). */
void db_token_new(const char *tenant, char *out, size_t len);

/* Writes n bytes as 2n lowercase hex digits and a NUL into out. */
void db_hex(const unsigned char *bin, size_t n, char *out);

typedef enum { DB_ROLE_AGENT = 0, DB_ROLE_SUPERVISOR = 1 } db_role_t;

/* "agent" -> DB_ROLE_AGENT, "supervisor" -> DB_ROLE_SUPERVISOR, else -1. */
int db_role_parse(const char *role);

#endif
