/* db_ws: the dashboard settings for the shared websocket transport (hk_ws_server). */
#include "db_ws.h"

#include "db_http.h"

#include <assert.h>

#define S_OUT_MAX_FRAMES 4096 /* queued frames before the client counts as not reading */
#define S_WRITES_PER_CALLBACK 64
#define S_BATCH_MAX_BYTES 65536 /* events joined into one `events` message */

hk_ws_server_t *db_ws_new(uv_loop_t *loop, hk_web_t *web, const db_config_t *cfg, db_stats_t *stats,
                          const hk_ws_handlers_t *handlers, void *arg) {
    assert(cfg && stats);
    hk_ws_config_t wcfg = {
        .name = "dashboard",
        .subprotocol = DB_WS_SUBPROTOCOL,
        .path = DB_WS_PATH,
        .bind_host = cfg->base.bind_host,
        .port = cfg->port,
        .origins = cfg->origins_text,
        .max_frame = cfg->max_frame,
        .idle_s = cfg->idle_s,
        .out_max_frames = S_OUT_MAX_FRAMES,
        .out_max_bytes = (size_t)cfg->out_max_bytes,
        .writes_per_callback = S_WRITES_PER_CALLBACK,
        .shared_prefix = "{\"type\":\"event\",\"seq\":",
        .batch_head = "{\"type\":\"events\",\"events\":[",
        .batch_max_bytes = S_BATCH_MAX_BYTES,
    };
    return hk_ws_server_new(loop, web, &wcfg, &stats->ws, db_http_new(), handlers, arg);
}
