/* test_config: hk_config tables with every setting type: defaults, environment overrides,
 * each kind of bad value (with the variable named in the error) and hk_config_base_finish. */
#include "hk_config.h"
#include "hk_test.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    char name[HK_CFG_STR_MAX];
    long workers;
    long port;
    long eph_port;
    long verbose;
    char mode[HK_CFG_STR_MAX];
} s_config_t;

static s_config_t s_cfg;

static const hk_cfg_entry_t s_table[] = {
    {"HKTEST_NAME", HK_CFG_STRING, "alpha", 1, 8, NULL, s_cfg.name, "a short name"},
    {"HKTEST_WORKERS", HK_CFG_INT, "4", 1, 64, NULL, &s_cfg.workers, "worker count"},
    {"HKTEST_PORT", HK_CFG_PORT, "5555", 1, 65535, NULL, &s_cfg.port, "a port"},
    {"HKTEST_EPH_PORT", HK_CFG_PORT, "0", 0, 65535, NULL, &s_cfg.eph_port, "0 is ephemeral"},
    {"HKTEST_VERBOSE", HK_CFG_BOOL, "no", 0, 0, NULL, &s_cfg.verbose, "chatty logs"},
    {"HKTEST_MODE", HK_CFG_ENUM, "fast", 0, 0, "fast|safe|off", s_cfg.mode, "mode"},
};
#define S_N (sizeof s_table / sizeof s_table[0])

static void s_clear_env(void) {
    for (size_t i = 0; i < S_N; i++) {
        unsetenv(s_table[i].name);
    }
}

/* Loads the table with name=value set; returns the result and leaves the error in err. */
static int s_load_with(const char *name, const char *value, char *err, size_t errlen) {
    s_clear_env();
    HK_CHECK(setenv(name, value, 1) == 0, "setenv %s", name);
    err[0] = '\0';
    int rc = hk_config_load(s_table, S_N, err, errlen);
    unsetenv(name);
    return rc;
}

/* name=value must be refused, naming the variable and containing hint. */
static void s_expect_error(const char *name, const char *value, const char *hint) {
    char err[512];
    int rc = s_load_with(name, value, err, sizeof err);
    HK_CHECK(rc == -1, "%s=\"%s\" was accepted", name, value);
    HK_CHECK(strstr(err, name) != NULL, "error for %s=\"%s\" does not name it: \"%s\"", name, value,
             err);
    if (hint) {
        HK_CHECK(strstr(err, hint) != NULL, "error for %s=\"%s\" does not say \"%s\": \"%s\"", name,
                 value, hint, err);
    }
}

/* name=value must be accepted. */
static void s_expect_ok(const char *name, const char *value) {
    char err[512];
    HK_CHECK(s_load_with(name, value, err, sizeof err) == 0, "%s=\"%s\" refused: %s", name, value,
             err);
}

static void s_test_defaults(void) {
    char err[512] = "";
    s_clear_env();
    memset(&s_cfg, 0x55, sizeof s_cfg);
    HK_CHECK(hk_config_load(s_table, S_N, err, sizeof err) == 0, "defaults refused: %s", err);
    HK_CHECK_STR_EQ(s_cfg.name, "alpha");
    HK_CHECK_INT_EQ(s_cfg.workers, 4);
    HK_CHECK_INT_EQ(s_cfg.port, 5555);
    HK_CHECK_INT_EQ(s_cfg.eph_port, 0);
    HK_CHECK_INT_EQ(s_cfg.verbose, 0);
    HK_CHECK_STR_EQ(s_cfg.mode, "fast");
}

static void s_test_overrides(void) {
    s_clear_env();
    setenv("HKTEST_NAME", "beta-2", 1);
    setenv("HKTEST_WORKERS", "64", 1);
    setenv("HKTEST_PORT", "65535", 1);
    setenv("HKTEST_EPH_PORT", "9100", 1);
    setenv("HKTEST_VERBOSE", "yes", 1);
    setenv("HKTEST_MODE", "safe", 1);
    char err[512] = "";
    HK_CHECK(hk_config_load(s_table, S_N, err, sizeof err) == 0, "overrides refused: %s", err);
    HK_CHECK_STR_EQ(s_cfg.name, "beta-2");
    HK_CHECK_INT_EQ(s_cfg.workers, 64);
    HK_CHECK_INT_EQ(s_cfg.port, 65535);
    HK_CHECK_INT_EQ(s_cfg.eph_port, 9100);
    HK_CHECK_INT_EQ(s_cfg.verbose, 1);
    HK_CHECK_STR_EQ(s_cfg.mode, "safe");

    /* Every boolean spelling, both ways and in any case. */
    const char *yes[] = {"1", "true", "TRUE", "yes", "Yes", "on", "ON"};
    const char *no[] = {"0", "false", "False", "no", "NO", "off", "Off"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        s_expect_ok("HKTEST_VERBOSE", yes[i]);
        HK_CHECK_INT_EQ(s_cfg.verbose, 1);
        s_expect_ok("HKTEST_VERBOSE", no[i]);
        HK_CHECK_INT_EQ(s_cfg.verbose, 0);
    }

    /* Bounds are inclusive. */
    s_expect_ok("HKTEST_WORKERS", "1");
    HK_CHECK_INT_EQ(s_cfg.workers, 1);
    s_expect_ok("HKTEST_NAME", "x");
    s_expect_ok("HKTEST_NAME", "12345678");
    HK_CHECK_STR_EQ(s_cfg.name, "12345678");
    s_expect_ok("HKTEST_PORT", "1");
    HK_CHECK_INT_EQ(s_cfg.port, 1);
    s_expect_ok("HKTEST_EPH_PORT", "0");
    HK_CHECK_INT_EQ(s_cfg.eph_port, 0);
    s_expect_ok("HKTEST_MODE", "off");
    HK_CHECK_STR_EQ(s_cfg.mode, "off");
    s_clear_env();
}

static void s_test_errors(void) {
    /* Not a number. */
    s_expect_error("HKTEST_WORKERS", "many", "number");
    s_expect_error("HKTEST_WORKERS", "", "number");
    s_expect_error("HKTEST_WORKERS", "4x", "number");
    s_expect_error("HKTEST_WORKERS", "99999999999999999999999", "number");
    s_expect_error("HKTEST_PORT", "http", "number");
    s_expect_error("HKTEST_PORT", "80.5", "number");
    /* Out of range. */
    s_expect_error("HKTEST_WORKERS", "0", "1 to 64");
    s_expect_error("HKTEST_WORKERS", "65", "1 to 64");
    s_expect_error("HKTEST_WORKERS", "-3", NULL);
    s_expect_error("HKTEST_PORT", "0", NULL);
    s_expect_error("HKTEST_PORT", "65536", NULL);
    s_expect_error("HKTEST_EPH_PORT", "-1", NULL);
    s_expect_error("HKTEST_EPH_PORT", "70000", NULL);
    /* Bad booleans. */
    s_expect_error("HKTEST_VERBOSE", "maybe", "boolean");
    s_expect_error("HKTEST_VERBOSE", "2", "boolean");
    s_expect_error("HKTEST_VERBOSE", "", "boolean");
    /* Not one of the choices (whole words only, case-sensitive). */
    s_expect_error("HKTEST_MODE", "slow", "fast|safe|off");
    s_expect_error("HKTEST_MODE", "fas", NULL);
    s_expect_error("HKTEST_MODE", "fast|safe", NULL);
    s_expect_error("HKTEST_MODE", "FAST", NULL);
    s_expect_error("HKTEST_MODE", "", NULL);
    /* Strings too long, too short, or with control characters. */
    s_expect_error("HKTEST_NAME", "123456789", NULL);
    s_expect_error("HKTEST_NAME", "", NULL);
    s_expect_error("HKTEST_NAME", "tab\there", "control");
    char huge[4 * HK_CFG_STR_MAX];
    memset(huge, 'z', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    s_expect_error("HKTEST_NAME", huge, NULL);

    /* A bad default is an error too, naming the variable. */
    char err[512] = "";
    long target = 0;
    hk_cfg_entry_t bad = {"HKTEST_BAD_DEFAULT", HK_CFG_INT, "ten", 0, 100, NULL, &target, ""};
    unsetenv(bad.name);
    HK_CHECK(hk_config_load(&bad, 1, err, sizeof err) == -1, "bad default accepted");
    HK_CHECK_CONTAINS(err, "HKTEST_BAD_DEFAULT");

    /* hk_config_set is the same check without the environment. */
    HK_CHECK(hk_config_set(&s_table[1], "12", err, sizeof err) == 0, "set refused: %s", err);
    HK_CHECK_INT_EQ(s_cfg.workers, 12);
    HK_CHECK(hk_config_set(&s_table[1], "100", err, sizeof err) == -1, "set accepted 100");
    HK_CHECK_CONTAINS(err, "HKTEST_WORKERS");
    HK_CHECK_INT_EQ(s_cfg.workers, 12); /* a refused value leaves the target alone */
}

static void s_test_print(void) {
    char err[512] = "";
    s_clear_env();
    HK_CHECK(hk_config_load(s_table, S_N, err, sizeof err) == 0, "defaults refused: %s", err);
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    HK_CHECK(out, "open_memstream");
    hk_config_print(s_table, S_N, out);
    fclose(out);
    HK_CHECK_CONTAINS(text, "HKTEST_NAME=\"alpha\"");
    HK_CHECK_CONTAINS(text, "HKTEST_WORKERS=4");
    HK_CHECK_CONTAINS(text, "HKTEST_PORT=5555");
    HK_CHECK_CONTAINS(text, "HKTEST_VERBOSE=0");
    HK_CHECK_CONTAINS(text, "HKTEST_MODE=\"fast\"");
    free(text);
}

static void s_test_base(void) {
    const char *names[] = {"HETKI_INSTANCE",   "HETKI_LOG_LEVEL",      "HETKI_REDIS_HOST",
                           "HETKI_REDIS_PORT", "HETKI_BIND_HOST",      "HETKI_ADVERTISE_HOST",
                           "HETKI_ADMIN_PORT", "HETKI_REGISTRY_TTL_MS"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        unsetenv(names[i]);
    }
    hk_base_config_t base;
    memset(&base, 0, sizeof base);
    hk_cfg_entry_t table[] = {HK_BASE_CONFIG_ENTRIES(&base, "9100")};
    size_t n = sizeof table / sizeof table[0];
    char err[512] = "";

    /* Defaults, then finish fills the instance and the advertised host. */
    HK_CHECK(hk_config_load(table, n, err, sizeof err) == 0, "base defaults refused: %s", err);
    HK_CHECK_STR_EQ(base.instance, "");
    HK_CHECK_STR_EQ(base.log_level, "info");
    HK_CHECK_STR_EQ(base.redis_host, "127.0.0.1");
    HK_CHECK_INT_EQ(base.redis_port, 6380);
    HK_CHECK_STR_EQ(base.bind_host, "127.0.0.1");
    HK_CHECK_STR_EQ(base.advertise_host, "");
    HK_CHECK_INT_EQ(base.admin_port, 9100);
    HK_CHECK_INT_EQ(base.registry_ttl_ms, 3000);
    hk_config_base_finish(&base, "router");
    char prefix[64];
    snprintf(prefix, sizeof prefix, "router-");
    HK_CHECK(strncmp(base.instance, prefix, strlen(prefix)) == 0, "instance \"%s\"", base.instance);
    char pid[32];
    snprintf(pid, sizeof pid, "-%ld", (long)getpid());
    size_t il = strlen(base.instance), pl = strlen(pid);
    HK_CHECK(il > pl && strcmp(base.instance + il - pl, pid) == 0,
             "instance \"%s\" does not end in the pid", base.instance);
    HK_CHECK_STR_EQ(base.advertise_host, "127.0.0.1");

    /* Overrides are kept by finish. */
    setenv("HETKI_INSTANCE", "router-a", 1);
    setenv("HETKI_BIND_HOST", "0.0.0.0", 1);
    setenv("HETKI_ADVERTISE_HOST", "router-a.svc", 1);
    setenv("HETKI_ADMIN_PORT", "0", 1);
    setenv("HETKI_LOG_LEVEL", "debug", 1);
    memset(&base, 0, sizeof base);
    HK_CHECK(hk_config_load(table, n, err, sizeof err) == 0, "base overrides refused: %s", err);
    hk_config_base_finish(&base, "router");
    HK_CHECK_STR_EQ(base.instance, "router-a");
    HK_CHECK_STR_EQ(base.bind_host, "0.0.0.0");
    HK_CHECK_STR_EQ(base.advertise_host, "router-a.svc");
    HK_CHECK_INT_EQ(base.admin_port, 0);
    HK_CHECK_STR_EQ(base.log_level, "debug");

    /* Advertise falls back to a non-default bind host. */
    unsetenv("HETKI_ADVERTISE_HOST");
    memset(&base, 0, sizeof base);
    HK_CHECK(hk_config_load(table, n, err, sizeof err) == 0, "base refused: %s", err);
    hk_config_base_finish(&base, "router");
    HK_CHECK_STR_EQ(base.advertise_host, "0.0.0.0");

    /* Base errors name the variable. */
    setenv("HETKI_REDIS_PORT", "0", 1);
    HK_CHECK(hk_config_load(table, n, err, sizeof err) == -1, "redis port 0 accepted");
    HK_CHECK_CONTAINS(err, "HETKI_REDIS_PORT");
    unsetenv("HETKI_REDIS_PORT");
    setenv("HETKI_REGISTRY_TTL_MS", "100", 1);
    HK_CHECK(hk_config_load(table, n, err, sizeof err) == -1, "ttl 100 accepted");
    HK_CHECK_CONTAINS(err, "HETKI_REGISTRY_TTL_MS");
    unsetenv("HETKI_REGISTRY_TTL_MS");
    setenv("HETKI_LOG_LEVEL", "loud", 1);
    HK_CHECK(hk_config_load(table, n, err, sizeof err) == -1, "log level loud accepted");
    HK_CHECK_CONTAINS(err, "HETKI_LOG_LEVEL");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        unsetenv(names[i]);
    }
}

int main(void) {
    s_test_defaults();
    s_test_overrides();
    s_test_errors();
    s_test_print();
    s_test_base();
    printf("test_config: ok\n");
    return HK_TEST_EXIT();
}
