/* test_db_limits: the pure rules the dashboard relies on: the Origin allowlist, token buckets
 * and id validators (common/hk_limits.c, shared with the chat), its text and role rules, and
 * session tokens (random, "<tenant>.<64 hex>", hashed the same way every time, malformed ones
 * refused; services/dashboard/db_limits.c). */
#include "db_limits.h"
#include "hk_test.h"

#include <sodium.h>
#include <string.h>

static void s_test_origins(void) {
    hk_origins_t o;
    HK_CHECK(hk_origins_parse(&o, "http://127.0.0.1:8080, https://Dash.Example/") == 0, "parse");
    HK_EXPECT(hk_origins_allow(&o, "http://127.0.0.1:8080"), "exact origin allowed");
    HK_EXPECT(hk_origins_allow(&o, "https://dash.example"), "case and trailing / ignored");
    HK_EXPECT(!hk_origins_allow(&o, "http://127.0.0.1:8081"), "another port refused");
    HK_EXPECT(!hk_origins_allow(&o, "https://dash.example.evil"), "a longer host refused");
    HK_EXPECT(!hk_origins_allow(&o, NULL), "no Origin refused");
    HK_EXPECT(!hk_origins_allow(&o, ""), "an empty Origin refused");
    HK_CHECK(hk_origins_parse(&o, "*") == 0, "parse *");
    HK_EXPECT(hk_origins_allow(&o, NULL), "* allows a missing Origin");
    HK_EXPECT(hk_origins_parse(&o, "no-scheme.example") != 0, "entries need a scheme");
    HK_EXPECT(hk_origins_parse(&o, "http://a,,http://b") != 0, "empty entries refused");
}

static void s_test_bucket(void) {
    hk_bucket_t b;
    hk_bucket_init(&b, 3, 1000);
    int taken = 0;
    for (int i = 0; i < 10; i++) {
        taken += hk_bucket_take(&b, 3, 10000, 1000);
    }
    HK_EXPECT(taken == 3, "a burst of 3 then refusals, took %d", taken);
    HK_EXPECT(!hk_bucket_take(&b, 3, 10000, 2000), "not refilled after 1 s");
    HK_EXPECT(hk_bucket_take(&b, 3, 10000, 5000), "one token back after 4 s");
    HK_EXPECT(hk_bucket_take(&b, 3, 10000, 1000000), "full again much later");
}

static void s_test_validators(void) {
    HK_EXPECT(hk_tenant_ok("acme-2_x"), "tenant");
    HK_EXPECT(!hk_tenant_ok("Acme"), "upper case tenant");
    HK_EXPECT(!hk_tenant_ok(""), "empty tenant");
    HK_EXPECT(!hk_tenant_ok("abcdefghijklmnopqrstuvwxyz0123456"), "33 characters");
    HK_EXPECT(!hk_tenant_ok(NULL), "NULL tenant");
    HK_EXPECT(hk_client_id_ok("r-1_A"), "req id");
    HK_EXPECT(!hk_client_id_ok("r 1"), "req id with a blank");
    HK_EXPECT(hk_ref_ok("agent.1:x"), "agent id alphabet");
    HK_EXPECT(!hk_ref_ok("a/b"), "slash in an id");
    HK_EXPECT(db_text_ok("Hei, äiti!", 64), "UTF-8 text");
    HK_EXPECT(!db_text_ok("\xc3\x28", 64), "invalid UTF-8");
    HK_EXPECT(!db_text_ok("", 64), "empty text");
    HK_EXPECT(!db_text_ok("12345", 4), "too long");
    HK_EXPECT(db_role_parse("agent") == DB_ROLE_AGENT, "agent role");
    HK_EXPECT(db_role_parse("supervisor") == DB_ROLE_SUPERVISOR, "supervisor role");
    HK_EXPECT(db_role_parse("admin") == -1 && db_role_parse(NULL) == -1, "unknown role");
}

static void s_test_tokens(void) {
    char a[DB_TOKEN_MAX], b[DB_TOKEN_MAX], tenant[DB_TENANT_MAX + 1];
    unsigned char h1[32], h2[32];
    db_token_new("acme", a, sizeof a);
    db_token_new("acme", b, sizeof b);
    HK_CHECK(strlen(a) == 5 + DB_TOKEN_HEX, "token length %zu", strlen(a));
    HK_EXPECT(strncmp(a, "acme.", 5) == 0, "token starts with its tenant: %s", a);
    HK_EXPECT(strcmp(a, b) != 0, "two tokens differ");
    HK_CHECK(db_token_parse(a, tenant, sizeof tenant, h1) == 0, "parse a");
    HK_EXPECT(strcmp(tenant, "acme") == 0, "tenant %s", tenant);
    HK_CHECK(db_token_parse(a, tenant, sizeof tenant, h2) == 0, "parse a again");
    HK_EXPECT(memcmp(h1, h2, 32) == 0, "the same hash each time");
    unsigned char expect[32];
    crypto_hash_sha256(expect, (const unsigned char *)a, strlen(a));
    HK_EXPECT(memcmp(h1, expect, 32) == 0, "the hash is SHA-256 of the whole token");
    char hex[65];
    db_hex(h1, 32, hex);
    HK_EXPECT(strlen(hex) == 64, "hex length");
    char bad[DB_TOKEN_MAX + 8];
    const char *malformed[] = {"", "acme", "acme.", "ACME.00", "acme.xyz", "acme/x.00", NULL};
    for (int i = 0; malformed[i]; i++) {
        HK_EXPECT(db_token_parse(malformed[i], tenant, sizeof tenant, h2) != 0, "malformed %s",
                  malformed[i]);
    }
    snprintf(bad, sizeof bad, "%s", a);
    bad[10] = 'G';
    HK_EXPECT(db_token_parse(bad, tenant, sizeof tenant, h2) != 0, "non-hex digit");
    snprintf(bad, sizeof bad, "%s0", a);
    HK_EXPECT(db_token_parse(bad, tenant, sizeof tenant, h2) != 0, "one digit too many");
    HK_EXPECT(db_token_parse(NULL, tenant, sizeof tenant, h2) != 0, "NULL token");
}

int main(void) {
    HK_CHECK(sodium_init() >= 0, "libsodium");
    s_test_origins();
    s_test_bucket();
    s_test_validators();
    s_test_tokens();
    printf("test_db_limits: ok\n");
    return HK_TEST_EXIT();
}
