/* ph_config: the hetki-phone settings table and its cross-field checks. */
#include "ph_config.h"

#include "hk_service.h"

#include <stdio.h>
#include <string.h>

int ph_config_tenant_ok(const char *text) {
    size_t n = strlen(text);
    if (n < 1 || n > 32) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char c = text[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
            return 0;
        }
    }
    return 1;
}

static int s_fail(const char *msg) {
    fprintf(stderr, "hetki-phone: configuration error: %s\n", msg);
    return -1;
}

int ph_config_load(ph_config_t *cfg) {
    hk_cfg_entry_t table[] = {
        HK_BASE_CONFIG_ENTRIES(&cfg->base, "9103"),
        {"HETKI_PHONE_SIP_PORT", HK_CFG_PORT, "5060", 0, 65535, NULL, &cfg->sip_port,
         "SIP over UDP and TCP; 0 = ephemeral"},
        {"HETKI_PHONE_SIP_HOST", HK_CFG_STRING, "", 0, 63, NULL, cfg->sip_host,
         "numeric address put in Via, Contact and SDP (default: the advertise host)"},
        {"HETKI_PHONE_DEFAULT_TENANT", HK_CFG_STRING, "demo", 1, 32, NULL, cfg->default_tenant,
         "tenant of a dialled number that no mapping names"},
        {"HETKI_PHONE_LANGUAGE", HK_CFG_ENUM, "fi", 0, 0, "fi|sv|en", cfg->language,
         "language of the prompts when the tenant sets none"},
        {"HETKI_PHONE_REALM", HK_CFG_STRING, "hetki", 1, 64, NULL, cfg->realm,
         "digest realm for REGISTER"},
        {"HETKI_PHONE_AGENT_URI", HK_CFG_STRING, "", 0, 255, NULL, cfg->agent_uri,
         "fallback agent phone URI, {agent} is replaced (empty: none)"},
        {"HETKI_PHONE_CALLBACK_URI", HK_CFG_STRING, "", 0, 255, NULL, cfg->callback_uri,
         "where customers are called back, {number} is replaced (empty: no callbacks)"},
        {"HETKI_PHONE_ACK_TIMEOUT_MS", HK_CFG_INT, "5000", 100, 60000, NULL, &cfg->ack_timeout_ms,
         "give up on the router's ack after this (the caller gets 503)"},
        {"HETKI_PHONE_RING_S", HK_CFG_INT, "15", 1, 300, NULL, &cfg->ring_s,
         "ring an agent or callee this long before giving up"},
        {"HETKI_PHONE_CALLBACK_THRESHOLD_S", HK_CFG_INT, "180", 0, 86400, NULL,
         &cfg->callback_threshold_s, "offer a callback above this wait when the tenant sets none"},
        {"HETKI_PHONE_MAX_CALLS", HK_CFG_INT, "2000", 1, 100000, NULL, &cfg->max_calls,
         "calls at once; more get 503"},
        {"HETKI_PHONE_MAX_CALL_S", HK_CFG_INT, "14400", 10, 86400, NULL, &cfg->max_call_s,
         "longest call; hung up after"},
        {"HETKI_PHONE_MAX_MSG", HK_CFG_INT, "8192", 1024, 65535, NULL, &cfg->max_msg,
         "bytes of one SIP message"},
        {"HETKI_PHONE_TCP_IDLE_S", HK_CFG_INT, "60", 1, 3600, NULL, &cfg->tcp_idle_s,
         "close a TCP connection silent this long"},
        {"HETKI_PHONE_TCP_MAX_CONNS", HK_CFG_INT, "1000", 1, 100000, NULL, &cfg->tcp_max_conns,
         "TCP connections at once"},
        {"HETKI_PHONE_FLOOD_RATE", HK_CFG_INT, "50", 1, 1000000, NULL, &cfg->flood_rate,
         "SIP requests per second from one address"},
        {"HETKI_PHONE_FLOOD_BURST", HK_CFG_INT, "100", 1, 1000000, NULL, &cfg->flood_burst,
         "requests one address may send at once"},
        {"HETKI_PHONE_FLOOD_BAN_AFTER", HK_CFG_INT, "100", 1, 1000000, NULL, &cfg->flood_ban_after,
         "refusals within 10 s that ban the address"},
        {"HETKI_PHONE_BAN_S", HK_CFG_INT, "300", 1, 86400, NULL, &cfg->ban_s,
         "how long a flooding address is ignored"},
        {"HETKI_PHONE_TRUSTED", HK_CFG_STRING, "", 0, 255, NULL, cfg->trusted,
         "comma-separated addresses exempt from the flood limits (trunks)"},
        {"HETKI_PHONE_DRAIN_S", HK_CFG_INT, "60", 0, 3600, NULL, &cfg->drain_s,
         "at SIGTERM, wait this long for calls to end, then hang up"},
        {"HETKI_PHONE_RTP_PORT_MIN", HK_CFG_PORT, "20000", 1024, 65535, NULL, &cfg->rtp_port_min,
         "first RTP port"},
        {"HETKI_PHONE_RTP_PORT_MAX", HK_CFG_PORT, "29999", 1024, 65535, NULL, &cfg->rtp_port_max,
         "last RTP port"},
        {"HETKI_PHONE_REGISTER_MAX_S", HK_CFG_INT, "3600", 60, 86400, NULL, &cfg->register_max_s,
         "longest registration granted"},
        {"HETKI_ROUTER_ENDPOINT", HK_CFG_STRING, "", 0, 255, NULL, cfg->router_endpoint,
         "static router request endpoint (besides the registry)"},
        {"HETKI_ROUTER_EVENTS_ENDPOINT", HK_CFG_STRING, "", 0, 255, NULL, cfg->events_endpoint,
         "static router events endpoint (besides the registry)"},
    };
    if (hk_service_configure("phone", &cfg->base, table, sizeof table / sizeof table[0]) != 0) {
        return -1;
    }
    if (!ph_config_tenant_ok(cfg->default_tenant)) {
        return s_fail("HETKI_PHONE_DEFAULT_TENANT: expected 1 to 32 characters of a-z, 0-9, '_' "
                      "and '-'");
    }
    if (cfg->rtp_port_min >= cfg->rtp_port_max) {
        return s_fail("HETKI_PHONE_RTP_PORT_MIN must be below HETKI_PHONE_RTP_PORT_MAX");
    }
    if (cfg->sip_port != 0 && cfg->sip_port == cfg->base.admin_port) {
        return s_fail("HETKI_PHONE_SIP_PORT and HETKI_ADMIN_PORT must differ");
    }
    if (cfg->sip_host[0] == '\0') {
        snprintf(cfg->sip_host, sizeof cfg->sip_host, "%s", cfg->base.advertise_host);
    }
    return 0;
}
