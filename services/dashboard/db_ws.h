/* db_ws: the dashboard port on the shared hk_web context: the shared websocket transport
 * (hk_ws_server, subprotocol hetki-dashboard.v1 on /ws) set up with the dashboard settings,
 * serving the web app's files (db_http). Event frames are shared bodies (hk_ws_shared_t: the
 * event's JSON object without its opening brace) sent with hk_ws_conn_send_shared as
 * {"type":"event","seq":seq,<body>; events queued back to back are written as one
 * {"type":"events","events":[...]} message. What the frames mean is db_proto's, through the
 * handlers. */
#ifndef DB_WS_H
#define DB_WS_H

#include <uv.h>

#include "db_config.h"
#include "db_stats.h"
#include "hk_web.h"
#include "hk_ws_server.h"

#define DB_WS_SUBPROTOCOL "hetki-dashboard.v1"
#define DB_WS_PATH "/ws"

/* Close codes (RFC 6455) the dashboard protocol uses. */
#define DB_CLOSE_NORMAL 1000
#define DB_CLOSE_GOING_AWAY 1001
#define DB_CLOSE_POLICY HK_WS_CLOSE_POLICY
#define DB_CLOSE_TOO_BIG HK_WS_CLOSE_TOO_BIG

/* Adds the dashboard vhost on the configured bind host and port. Returns NULL (logged) when it
 * cannot listen. cfg, stats, handlers and arg must outlive it; hk_ws_server_destroy ends it. */
hk_ws_server_t *db_ws_new(uv_loop_t *loop, hk_web_t *web, const db_config_t *cfg, db_stats_t *stats,
                          const hk_ws_handlers_t *handlers, void *arg);

#endif
