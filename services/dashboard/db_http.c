/* db_http: the dashboard web app's file server settings. */
#include "db_http.h"

#include "db_web.h"
#include "db_ws.h"
#include "hk_log.h"

hk_web_files_t *db_http_new(void) {
    /* The app is small and changes with the binary: revalidate every time. */
    hk_web_files_config_t cfg = {
        .find = db_web_find,
        .ws_path = DB_WS_PATH,
        .ws_text = "websocket only (subprotocol " DB_WS_SUBPROTOCOL ")\n",
        .file_cache = "no-cache",
        .index_at_root = 1,
        .frame_deny = 1,
    };
    hk_web_files_t *files = hk_web_files_new(&cfg);
    HK_INFO("dashboard.web_files", "count=%zu index=%s", db_web_count,
            db_web_find("/index.html") ? "yes" : "no");
    return files;
}
