/* db_limits: Origin allowlist, token buckets and input validators of the dashboard. */
#include "db_limits.h"

#include "hk_clock.h"
#include "hk_codec.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int db_text_ok(const char *text, size_t max) {
    size_t n = text ? strlen(text) : 0;
    return n >= 1 && n <= max && hk_utf8_valid(text, n);
}

int db_token_parse(const char *token, char *tenant, size_t tenant_len, unsigned char hash[32]) {
    const char *dot = token ? strchr(token, '.') : NULL;
    if (!dot || (size_t)(dot - token) >= tenant_len || strlen(dot + 1) != DB_TOKEN_HEX) {
        return -1;
    }
    memcpy(tenant, token, (size_t)(dot - token));
    tenant[dot - token] = '\0';
    if (!hk_tenant_ok(tenant)) {
        return -1;
    }
    for (const char *p = dot + 1; *p; p++) {
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) {
            return -1;
        }
    }
    crypto_hash_sha256(hash, (const unsigned char *)token, strlen(token));
    return 0;
}

void db_token_new(const char *tenant, char *out, size_t len) {
    unsigned char raw[DB_TOKEN_HEX / 2];
    char hex[DB_TOKEN_HEX + 1];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
    snprintf(out, len, "%s.%s", tenant, hex);
    sodium_memzero(raw, sizeof raw);
}

void db_hex(const unsigned char *bin, size_t n, char *out) {
    sodium_bin2hex(out, n * 2 + 1, bin, n);
}

int db_role_parse(const char *role) {
    if (role && strcmp(role, "agent") == 0) {
        return DB_ROLE_AGENT;
    }
    if (role && strcmp(role, "supervisor") == 0) {
        return DB_ROLE_SUPERVISOR;
    }
    return -1;
}
