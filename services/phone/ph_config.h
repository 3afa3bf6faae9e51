/* ph_config: the settings of hetki-phone (HETKI_* environment variables over defaults, see
 * docs/protocols/phone.md), validated and printed at start. */
#ifndef PH_CONFIG_H
#define PH_CONFIG_H

#include "hk_config.h"

typedef struct {
    hk_base_config_t base;
    long sip_port;                        /* HETKI_PHONE_SIP_PORT: UDP and TCP */
    char sip_host[HK_CFG_STR_MAX];        /* HETKI_PHONE_SIP_HOST: our address in SIP/SDP */
    char default_tenant[HK_CFG_STR_MAX];  /* HETKI_PHONE_DEFAULT_TENANT */
    char language[HK_CFG_STR_MAX];        /* HETKI_PHONE_LANGUAGE: prompts when not mapped */
    char realm[HK_CFG_STR_MAX];           /* HETKI_PHONE_REALM: digest realm of REGISTER */
    char agent_uri[HK_CFG_STR_MAX];       /* HETKI_PHONE_AGENT_URI: fallback, {agent} replaced */
    char callback_uri[HK_CFG_STR_MAX];    /* HETKI_PHONE_CALLBACK_URI: {number} replaced */
    long ack_timeout_ms;                  /* HETKI_PHONE_ACK_TIMEOUT_MS: router ack deadline */
    long ring_s;                          /* HETKI_PHONE_RING_S: agent/callee ring timeout */
    long callback_threshold_s;            /* HETKI_PHONE_CALLBACK_THRESHOLD_S: default */
    long max_calls;                       /* HETKI_PHONE_MAX_CALLS: more get 503 */
    long max_call_s;                      /* HETKI_PHONE_MAX_CALL_S: longest call */
    long max_msg;                         /* HETKI_PHONE_MAX_MSG: bytes of one SIP message */
    long tcp_idle_s;                      /* HETKI_PHONE_TCP_IDLE_S: close silent TCP */
    long tcp_max_conns;                   /* HETKI_PHONE_TCP_MAX_CONNS */
    long flood_rate;                      /* HETKI_PHONE_FLOOD_RATE: requests/s per source */
    long flood_burst;                     /* HETKI_PHONE_FLOOD_BURST: bucket size */
    long flood_ban_after;                 /* HETKI_PHONE_FLOOD_BAN_AFTER: refusals in 10 s */
    long ban_s;                           /* HETKI_PHONE_BAN_S: ban length */
    char trusted[HK_CFG_STR_MAX];         /* HETKI_PHONE_TRUSTED: IPs exempt from limits */
    long drain_s;                         /* HETKI_PHONE_DRAIN_S: wait for calls at SIGTERM */
    long rtp_port_min;                    /* HETKI_PHONE_RTP_PORT_MIN */
    long rtp_port_max;                    /* HETKI_PHONE_RTP_PORT_MAX */
    long register_max_s;                  /* HETKI_PHONE_REGISTER_MAX_S: longest Expires */
    char router_endpoint[HK_CFG_STR_MAX]; /* HETKI_ROUTER_ENDPOINT: static requests endpoint */
    char events_endpoint[HK_CFG_STR_MAX]; /* HETKI_ROUTER_EVENTS_ENDPOINT: static events */
} ph_config_t;

/* Loads and validates every setting (printing them), starts logging. Returns 0, or -1 after
 * printing the error that names the variable. */
int ph_config_load(ph_config_t *cfg);

/* True when text is a usable tenant name ([a-z0-9_-]{1,32}). */
int ph_config_tenant_ok(const char *text);

#endif
