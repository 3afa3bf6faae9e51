/* chat_ws: the chat port on the shared hk_web context: the shared websocket transport
 * (hk_ws_server, subprotocol hetki-chat.v1 on /ws) set up with the chat settings, serving the
 * widget files and demo page (chat_http). What the frames mean is chat_proto's, through the
 * handlers. */
#ifndef CHAT_WS_H
#define CHAT_WS_H

#include <uv.h>

#include "chat_config.h"
#include "chat_stats.h"
#include "hk_web.h"
#include "hk_ws_server.h"

#define CHAT_WS_SUBPROTOCOL "hetki-chat.v1"
#define CHAT_WS_PATH "/ws"

/* Close codes (RFC 6455) the chat protocol uses. */
#define CHAT_CLOSE_NORMAL 1000
#define CHAT_CLOSE_GOING_AWAY 1001
#define CHAT_CLOSE_POLICY HK_WS_CLOSE_POLICY
#define CHAT_CLOSE_TOO_BIG HK_WS_CLOSE_TOO_BIG

/* Adds the chat vhost on the configured bind host and port. Returns NULL (logged) when it
 * cannot listen. cfg, stats, handlers and arg must outlive it; hk_ws_server_destroy ends it. */
hk_ws_server_t *chat_ws_new(uv_loop_t *loop, hk_web_t *web, const chat_config_t *cfg,
                            chat_stats_t *stats, const hk_ws_handlers_t *handlers, void *arg);

#endif
