/* db_config: the hetki-dashboard settings table and its cross-field checks. */
#include "db_config.h"

#include "db_limits.h"
#include "hk_service.h"

#include <stdio.h>
#include <string.h>

/* True for a comma-separated list of 1..64-byte codes without blanks or quotes. */
static int s_codes_ok(const char *text) {
    size_t run = 0;
    for (const char *p = text;; p++) {
        if (*p == ',' || *p == '\0') {
            if (run == 0 || run > 64) {
                return 0;
            }
            run = 0;
            if (*p == '\0') {
                return 1;
            }
        } else if ((unsigned char)*p <= ' ' || *p == '"' || *p == '\\') {
            return 0;
        } else {
            run++;
        }
    }
}

int db_config_load(db_config_t *cfg) {
    hk_cfg_entry_t table[] = {
        HK_BASE_CONFIG_ENTRIES(&cfg->base, "9102"),
        {"HETKI_DASHBOARD_PORT", HK_CFG_PORT, "8080", 0, 65535, NULL, &cfg->port,
         "web app and websocket (/ws); 0 = ephemeral"},
        {"HETKI_DASHBOARD_ORIGINS", HK_CFG_STRING, "http://127.0.0.1:8080,http://localhost:8080", 1,
         255, NULL, cfg->origins_text,
         "comma-separated Origin values allowed to open the websocket; * allows any"},
        {"HETKI_DASHBOARD_MAX_FRAME", HK_CFG_INT, "16384", 1024, 1048576, NULL, &cfg->max_frame,
         "bytes of one websocket message from a client (larger: close 1009)"},
        {"HETKI_DASHBOARD_RATE", HK_CFG_INT, "30", 1, 1000000, NULL, &cfg->rate,
         "command frames per 10 s per connection"},
        {"HETKI_DASHBOARD_IDLE_S", HK_CFG_INT, "300", 1, 86400, NULL, &cfg->idle_s,
         "close a connection silent for this long (1008)"},
        {"HETKI_DASHBOARD_SESSION_TTL_S", HK_CFG_INT, "43200", 10, 2592000, NULL,
         &cfg->session_ttl_s, "lifetime of a session token from login"},
        {"HETKI_DASHBOARD_LOGIN_FAILS", HK_CFG_INT, "10", 1, 1000000, NULL, &cfg->login_fails,
         "failed logins per account within 15 minutes before it is locked"},
        {"HETKI_DASHBOARD_OUT_MAX_BYTES", HK_CFG_INT, "1048576", 65536, 268435456, NULL,
         &cfg->out_max_bytes, "bytes queued for one client before it counts as not reading"},
        {"HETKI_DASHBOARD_STATS_MS", HK_CFG_INT, "1000", 100, 60000, NULL, &cfg->stats_ms,
         "refresh of a changing tenant's queue and agent figures"},
        {"HETKI_DASHBOARD_COMMAND_TIMEOUT_MS", HK_CFG_INT, "5000", 200, 60000, NULL,
         &cfg->command_timeout_ms, "give up on the router's reply after this (unavailable)"},
        {"HETKI_DASHBOARD_WRAP_CODES", HK_CFG_STRING,
         "resolved,info_given,callback_booked,escalated,no_answer,other", 1, 255, NULL,
         cfg->wrap_codes, "comma-separated wrap-up codes the web app offers"},
        {"HETKI_ROUTER_ENDPOINT", HK_CFG_STRING, "", 0, 255, NULL, cfg->router_endpoint,
         "static router request endpoint (besides the registry)"},
        {"HETKI_ROUTER_EVENTS_ENDPOINT", HK_CFG_STRING, "", 0, 255, NULL, cfg->events_endpoint,
         "static router events endpoint (besides the registry)"},
    };
    if (hk_service_configure("dashboard", &cfg->base, table, sizeof table / sizeof table[0]) != 0) {
        return -1;
    }
    hk_origins_t origins;
    if (hk_origins_parse(&origins, cfg->origins_text) != 0) {
        fprintf(stderr,
                "hetki-dashboard: configuration error: HETKI_DASHBOARD_ORIGINS: expected a "
                "comma-separated list of at most %d origins (scheme://host[:port]) or *\n",
                DB_MAX_ORIGINS);
        return -1;
    }
    if (!s_codes_ok(cfg->wrap_codes)) {
        fprintf(stderr, "hetki-dashboard: configuration error: HETKI_DASHBOARD_WRAP_CODES: "
                        "expected comma-separated codes of 1 to 64 bytes without blanks\n");
        return -1;
    }
    if (cfg->port != 0 && cfg->port == cfg->base.admin_port) {
        fprintf(stderr, "hetki-dashboard: configuration error: HETKI_DASHBOARD_PORT and "
                        "HETKI_ADMIN_PORT must differ\n");
        return -1;
    }
    return 0;
}
