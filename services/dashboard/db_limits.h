/* db_limits: the dashboard's own input rules: texts, session tokens and roles. The Origin
 * allowlist, rate buckets and id rules are common/hk_limits.h. Pure functions, no I/O. */
#ifndef DB_LIMITS_H
#define DB_LIMITS_H

#include <stddef.h>
#include <stdint.h>

#include "db_config.h"
#include "hk_limits.h"

#define DB_ID_MAX HK_CLIENT_ID_MAX /* client request ids */
#define DB_TENANT_MAX HK_TENANT_MAX

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
