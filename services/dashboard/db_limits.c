/* db_limits: Origin allowlist, token buckets and input validators of the dashboard. */
#include "db_limits.h"

#include "hk_clock.h"
#include "hk_codec.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Copies the entry [start, end) trimmed of blanks and one trailing '/'. */
static int s_entry(char *out, size_t cap, const char *start, const char *end) {
    while (start < end && isspace((unsigned char)*start)) {
        start++;
    }
    while (end > start && isspace((unsigned char)end[-1])) {
        end--;
    }
    if (end > start && end[-1] == '/') {
        end--;
    }
    size_t n = (size_t)(end - start);
    if (n == 0 || n >= cap) {
        return -1;
    }
    memcpy(out, start, n);
    out[n] = '\0';
    return 0;
}

int db_origins_parse(db_origins_t *o, const char *text) {
    memset(o, 0, sizeof *o);
    const char *p = text ? text : "";
    for (;;) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        char entry[DB_ORIGIN_MAX];
        if (s_entry(entry, sizeof entry, p, end) != 0) {
            return -1;
        }
        if (strcmp(entry, "*") == 0) {
            o->any = 1;
        } else {
            if (o->n == DB_MAX_ORIGINS || !strstr(entry, "://") || strchr(entry, ' ')) {
                return -1;
            }
            snprintf(o->list[o->n++], DB_ORIGIN_MAX, "%s", entry);
        }
        if (!comma) {
            break;
        }
        p = comma + 1;
    }
    return 0;
}

int db_origins_allow(const db_origins_t *o, const char *origin) {
    if (o->any) {
        return 1;
    }
    if (!origin || !*origin) {
        return 0;
    }
    char entry[DB_ORIGIN_MAX];
    if (s_entry(entry, sizeof entry, origin, origin + strlen(origin)) != 0) {
        return 0;
    }
    for (size_t i = 0; i < o->n; i++) {
        if (strcasecmp(o->list[i], entry) == 0) {
            return 1;
        }
    }
    return 0;
}

int64_t db_now_ms(void) {
    return hk_clock_real_us() / 1000;
}

void db_bucket_init(db_bucket_t *b, double burst, int64_t now_ms) {
    b->tokens = burst;
    b->last_ms = now_ms;
}

int db_bucket_take(db_bucket_t *b, double burst, int64_t period_ms, int64_t now_ms) {
    if (now_ms > b->last_ms) {
        b->tokens += (double)(now_ms - b->last_ms) * burst / (double)period_ms;
        if (b->tokens > burst) {
            b->tokens = burst;
        }
        b->last_ms = now_ms;
    }
    if (b->tokens < 1.0) {
        return 0;
    }
    b->tokens -= 1.0;
    return 1;
}

int db_tenant_ok(const char *tenant) {
    size_t n = tenant ? strlen(tenant) : 0;
    if (n == 0 || n > DB_TENANT_MAX) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char c = tenant[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
            return 0;
        }
    }
    return 1;
}

int db_id_ok(const char *id) {
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > DB_ID_MAX) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-')) {
            return 0;
        }
    }
    return 1;
}

int db_ref_ok(const char *id) {
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > DB_ID_MAX) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.' || c == ':')) {
            return 0;
        }
    }
    return 1;
}

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
    if (!db_tenant_ok(tenant)) {
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
