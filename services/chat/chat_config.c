/* chat_config: the hetki-chat settings table and its cross-field checks. */
#include "chat_config.h"

#include "chat_limits.h"
#include "hk_service.h"

#include <stdio.h>
#include <string.h>

int chat_config_load(chat_config_t *cfg) {
    hk_cfg_entry_t table[] = {
        HK_BASE_CONFIG_ENTRIES(&cfg->base, "9101"),
        {"HETKI_CHAT_PORT", HK_CFG_PORT, "8081", 0, 65535, NULL, &cfg->port,
         "widget, demo page and websocket (/ws); 0 = ephemeral"},
        {"HETKI_CHAT_ORIGINS", HK_CFG_STRING, "http://127.0.0.1:8081,http://localhost:8081", 1, 255,
         NULL, cfg->origins_text,
         "comma-separated Origin values allowed to open the websocket; * allows any"},
        {"HETKI_CHAT_MAX_TEXT", HK_CFG_INT, "4096", 1, 4096, NULL, &cfg->max_text,
         "bytes of text in one customer message"},
        {"HETKI_CHAT_MAX_FRAME", HK_CFG_INT, "16384", 256, 1048576, NULL, &cfg->max_frame,
         "bytes of one websocket message from a client (larger: close 1009)"},
        {"HETKI_CHAT_RATE", HK_CFG_INT, "20", 1, 100000, NULL, &cfg->rate,
         "customer messages per 10 s per connection"},
        {"HETKI_CHAT_IDLE_S", HK_CFG_INT, "600", 1, 86400, NULL, &cfg->idle_s,
         "close a connection silent for this long (1008)"},
        {"HETKI_CHAT_TENANT", HK_CFG_STRING, "demo", 1, 32, NULL, cfg->tenant,
         "the demo page's tenant"},
        {"HETKI_CHAT_ACK_TIMEOUT_MS", HK_CFG_INT, "5000", 100, 60000, NULL, &cfg->ack_timeout_ms,
         "give up on the router's ack after this (the customer gets unavailable)"},
        {"HETKI_CHAT_SESSION_TTL_S", HK_CFG_INT, "2592000", 60, 31536000, NULL, &cfg->session_ttl_s,
         "how long a session can be resumed after it was last seen"},
        {"HETKI_CHAT_HISTORY_MAX", HK_CFG_INT, "1000", 1, 100000, NULL, &cfg->history_max,
         "most conversation messages sent on resume"},
        {"HETKI_ROUTER_ENDPOINT", HK_CFG_STRING, "", 0, 255, NULL, cfg->router_endpoint,
         "static router request endpoint (besides the registry)"},
        {"HETKI_ROUTER_EVENTS_ENDPOINT", HK_CFG_STRING, "", 0, 255, NULL, cfg->events_endpoint,
         "static router events endpoint (besides the registry)"},
    };
    if (hk_service_configure("chat", &cfg->base, table, sizeof table / sizeof table[0]) != 0) {
        return -1;
    }
    hk_origins_t origins;
    if (hk_origins_parse(&origins, cfg->origins_text) != 0) {
        fprintf(stderr,
                "hetki-chat: configuration error: HETKI_CHAT_ORIGINS: expected a comma-separated "
                "list of at most %d origins (scheme://host[:port]) or *\n",
                CHAT_MAX_ORIGINS);
        return -1;
    }
    if (!hk_tenant_ok(cfg->tenant)) {
        fprintf(stderr, "hetki-chat: configuration error: HETKI_CHAT_TENANT: expected 1 to 32 "
                        "characters of a-z, 0-9, '_' and '-'\n");
        return -1;
    }
    if (cfg->port != 0 && cfg->port == cfg->base.admin_port) {
        fprintf(stderr, "hetki-chat: configuration error: HETKI_CHAT_PORT and HETKI_ADMIN_PORT "
                        "must differ\n");
        return -1;
    }
    if (cfg->max_text + 1024 > cfg->max_frame) {
        fprintf(stderr, "hetki-chat: configuration error: HETKI_CHAT_MAX_FRAME must exceed "
                        "HETKI_CHAT_MAX_TEXT by at least 1024 bytes (room for the JSON)\n");
        return -1;
    }
    return 0;
}
