/* hk_config: table-driven configuration from HETKI_* environment variables over defaults.
 * Each service declares a table of entries pointing into its own config struct; loading
 * validates every value and names the offending variable in its error. */
#ifndef HK_CONFIG_H
#define HK_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#define HK_CFG_STR_MAX 256

typedef enum {
    HK_CFG_STRING, /* target: char[HK_CFG_STR_MAX]; min/max bound the length */
    HK_CFG_INT,    /* target: long; min/max bound the value */
    HK_CFG_PORT,   /* target: long; 0..65535 (0 asks for an ephemeral port where allowed) */
    HK_CFG_BOOL,   /* target: long; accepts 1/0, true/false, yes/no, on/off */
    HK_CFG_ENUM,   /* target: char[HK_CFG_STR_MAX]; value must be one of choices ("a|b|c") */
    HK_CFG_SECRET, /* like HK_CFG_STRING, but printed as "***" when set */
} hk_cfg_type_t;

typedef struct {
    const char *name; /* environment variable, e.g. "HETKI_REDIS_PORT" */
    hk_cfg_type_t type;
    const char *default_value; /* as text, validated like an environment value */
    long min, max;             /* bounds (see the type) */
    const char *choices;       /* HK_CFG_ENUM only */
    void *target;
    const char *help;
} hk_cfg_entry_t;

/* Settings every service shares. */
typedef struct {
    char instance[HK_CFG_STR_MAX];       /* HETKI_INSTANCE; empty: <service>-<host>-<pid> */
    char log_level[HK_CFG_STR_MAX];      /* HETKI_LOG_LEVEL */
    char redis_host[HK_CFG_STR_MAX];     /* HETKI_REDIS_HOST */
    long redis_port;                     /* HETKI_REDIS_PORT */
    char redis_user[HK_CFG_STR_MAX];     /* HETKI_REDIS_USER: ACL user; empty: default */
    char redis_password[HK_CFG_STR_MAX]; /* HETKI_REDIS_PASSWORD; empty: no AUTH */
    char bind_host[HK_CFG_STR_MAX];      /* HETKI_BIND_HOST: where listeners bind */
    char advertise_host[HK_CFG_STR_MAX]; /* HETKI_ADVERTISE_HOST; empty: the bind host */
    long admin_port;                     /* HETKI_ADMIN_PORT (per service default) */
    long registry_ttl_ms;                /* HETKI_REGISTRY_TTL_MS */
    char curve_secret[HK_CFG_STR_MAX];   /* HETKI_CURVE_SECRET_KEY; empty: plain TCP */
} hk_base_config_t;

/* The entries for hk_base_config_t; admin_default is the service's default admin port. */
// clang-format off
#define HK_BASE_CONFIG_ENTRIES(cfg, admin_default) \
    {"HETKI_INSTANCE", HK_CFG_STRING, "", 0, 95, NULL, (cfg)->instance, \
     "instance id (default <service>-<host>-<pid>)"}, \
    {"HETKI_LOG_LEVEL", HK_CFG_ENUM, "info", 0, 0, "debug|info|warn|error", (cfg)->log_level, \
     "log threshold"}, \
    {"HETKI_REDIS_HOST", HK_CFG_STRING, "127.0.0.1", 1, 255, NULL, (cfg)->redis_host, \
     "Redis host"}, \
    {"HETKI_REDIS_PORT", HK_CFG_PORT, "6380", 1, 65535, NULL, &(cfg)->redis_port, "Redis port"}, \
    {"HETKI_REDIS_USER", HK_CFG_STRING, "", 0, 128, NULL, (cfg)->redis_user, \
     "Redis ACL user (empty: the default user)"}, \
    {"HETKI_REDIS_PASSWORD", HK_CFG_SECRET, "", 0, 255, NULL, (cfg)->redis_password, \
     "Redis password (empty: no AUTH); printed as ***"}, \
    {"HETKI_BIND_HOST", HK_CFG_STRING, "127.0.0.1", 1, 255, NULL, (cfg)->bind_host, \
     "address listeners bind to"}, \
    {"HETKI_ADVERTISE_HOST", HK_CFG_STRING, "", 0, 255, NULL, (cfg)->advertise_host, \
     "address registered for peers (default: bind host)"}, \
    {"HETKI_ADMIN_PORT", HK_CFG_PORT, admin_default, 0, 65535, NULL, &(cfg)->admin_port, \
     "admin HTTP port (/healthz /readyz /metrics)"}, \
    {"HETKI_REGISTRY_TTL_MS", HK_CFG_INT, "3000", 300, 600000, NULL, &(cfg)->registry_ttl_ms, \
     "service registration lifetime; heartbeats every third of it"}, \
    {"HETKI_CURVE_SECRET_KEY", HK_CFG_SECRET, "", 0, 40, NULL, (cfg)->curve_secret, \
     "the deployment's CURVE secret key (Z85; empty: ZeroMQ without CurveZMQ); printed as ***"}
// clang-format on

/* Loads every entry from the environment (or its default). Returns 0, or -1 with a message
 * naming the variable, the bad value and what is expected in err. */
int hk_config_load(const hk_cfg_entry_t *table, size_t n, char *err, size_t errlen);

/* Loads one entry from the given text; same contract as hk_config_load. */
int hk_config_set(const hk_cfg_entry_t *entry, const char *text, char *err, size_t errlen);

/* Prints "NAME=value" for every entry, one per line, prefixed for the log. */
void hk_config_print(const hk_cfg_entry_t *table, size_t n, FILE *out);

/* Fills base->instance when empty with <service>-<hostname>-<pid> and advertise_host from
 * bind_host when empty. */
void hk_config_base_finish(hk_base_config_t *base, const char *service);

#endif
