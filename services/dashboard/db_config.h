/* db_config: the settings of hetki-dashboard (HETKI_* environment variables over defaults, see
 * docs/protocols/dashboard.md), validated and printed at start. */
#ifndef DB_CONFIG_H
#define DB_CONFIG_H

#include "hk_limits.h"
#include "hk_config.h"

#define DB_MAX_ORIGINS HK_MAX_ORIGINS

typedef struct {
    hk_base_config_t base;
    long port;                            /* HETKI_DASHBOARD_PORT: web app and websocket */
    char origins_text[HK_CFG_STR_MAX];    /* HETKI_DASHBOARD_ORIGINS as given */
    long max_frame;                       /* HETKI_DASHBOARD_MAX_FRAME: bytes of a client frame */
    long rate;                            /* HETKI_DASHBOARD_RATE: frames per 10 s */
    long idle_s;                          /* HETKI_DASHBOARD_IDLE_S: close after this long silent */
    long session_ttl_s;                   /* HETKI_DASHBOARD_SESSION_TTL_S: token lifetime */
    long login_fails;                     /* HETKI_DASHBOARD_LOGIN_FAILS: per account / 15 min */
    long out_max_bytes;                   /* HETKI_DASHBOARD_OUT_MAX_BYTES: queued for a client */
    long stats_ms;                        /* HETKI_DASHBOARD_STATS_MS: stats refresh */
    long command_timeout_ms;              /* HETKI_DASHBOARD_COMMAND_TIMEOUT_MS: router replies */
    char wrap_codes[HK_CFG_STR_MAX];      /* HETKI_DASHBOARD_WRAP_CODES: comma-separated */
    char router_endpoint[HK_CFG_STR_MAX]; /* HETKI_ROUTER_ENDPOINT: static requests endpoint */
    char events_endpoint[HK_CFG_STR_MAX]; /* HETKI_ROUTER_EVENTS_ENDPOINT: static events */
} db_config_t;

/* Loads and validates every setting (printing them), starts logging. Returns 0, or -1 after
 * printing the error that names the variable. */
int db_config_load(db_config_t *cfg);

#endif
