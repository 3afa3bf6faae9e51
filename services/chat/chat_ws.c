/* chat_ws: the chat settings for the shared websocket transport (hk_ws_server). */
#include "chat_ws.h"

#include "chat_http.h"

#include <assert.h>

#define S_OUT_MAX_FRAMES 512      /* queued frames before the client counts as not reading */
#define S_OUT_MAX_BYTES (4 << 20) /* queued bytes, same */

hk_ws_server_t *chat_ws_new(uv_loop_t *loop, hk_web_t *web, const chat_config_t *cfg,
                            chat_stats_t *stats, const hk_ws_handlers_t *handlers, void *arg) {
    assert(cfg && stats);
    hk_ws_config_t wcfg = {
        .name = "chat",
        .subprotocol = CHAT_WS_SUBPROTOCOL,
        .path = CHAT_WS_PATH,
        .bind_host = cfg->base.bind_host,
        .port = cfg->port,
        .origins = cfg->origins_text,
        .max_frame = cfg->max_frame,
        .idle_s = cfg->idle_s,
        .out_max_frames = S_OUT_MAX_FRAMES,
        .out_max_bytes = S_OUT_MAX_BYTES,
        .writes_per_callback = 1,
    };
    return hk_ws_server_new(loop, web, &wcfg, &stats->ws, chat_http_new(cfg->tenant), handlers,
                            arg);
}
