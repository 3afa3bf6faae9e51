/* chat_config: the settings of hetki-chat (HETKI_* environment variables over defaults, see
 * docs/protocols/chat.md), validated and printed at start. */
#ifndef CHAT_CONFIG_H
#define CHAT_CONFIG_H

#include "hk_limits.h"
#include "hk_config.h"

#define CHAT_MAX_ORIGINS HK_MAX_ORIGINS

typedef struct {
    hk_base_config_t base;
    long port;                            /* HETKI_CHAT_PORT: widget, demo page, websocket */
    char origins_text[HK_CFG_STR_MAX];    /* HETKI_CHAT_ORIGINS as given */
    long max_text;                        /* HETKI_CHAT_MAX_TEXT: bytes of message text */
    long max_frame;                       /* HETKI_CHAT_MAX_FRAME: bytes of one client message */
    long rate;                            /* HETKI_CHAT_RATE: messages per 10 s per connection */
    long idle_s;                          /* HETKI_CHAT_IDLE_S: close after this long silent */
    char tenant[HK_CFG_STR_MAX];          /* HETKI_CHAT_TENANT: the demo page's tenant */
    long ack_timeout_ms;                  /* HETKI_CHAT_ACK_TIMEOUT_MS: give up on the router */
    long session_ttl_s;                   /* HETKI_CHAT_SESSION_TTL_S: session lifetime */
    long history_max;                     /* HETKI_CHAT_HISTORY_MAX: messages sent on resume */
    char router_endpoint[HK_CFG_STR_MAX]; /* HETKI_ROUTER_ENDPOINT: static requests endpoint */
    char events_endpoint[HK_CFG_STR_MAX]; /* HETKI_ROUTER_EVENTS_ENDPOINT: static events */
} chat_config_t;

/* Loads and validates every setting (printing them), starts logging. Returns 0, or -1 after
 * printing the error that names the variable. */
int chat_config_load(chat_config_t *cfg);

#endif
