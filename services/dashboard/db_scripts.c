/* db_scripts: the Lua scripts the dashboard runs (the router's snapshot.lua and the
 * dashboard's own read-only views and session script; each with the router's _prelude.lua in
 * front, embedded at build time). */
#include "db_proto_int.h"

#include "hk_log.h"

const char *db_lua_get(const char *name);

int db_script_snapshot = -1, db_script_view = -1, db_script_card = -1, db_script_session_open = -1;

int db_proto_scripts(hk_redis_t *redis) {
    static const struct {
        const char *name;
        int *handle;
        int read_only; /* run as EVALSHA_RO: the dashboard's Redis user reads tenants' keys */
    } scripts[] = {{"snapshot", &db_script_snapshot, 1},
                   {"view", &db_script_view, 1},
                   {"card", &db_script_card, 1},
                   {"session_open", &db_script_session_open, 0}};
    for (size_t i = 0; i < sizeof scripts / sizeof scripts[0]; i++) {
        const char *body = db_lua_get(scripts[i].name);
        if (!body) {
            HK_ERROR("dashboard.script_missing", "script=%s", scripts[i].name);
            return -1;
        }
        *scripts[i].handle = scripts[i].read_only ? hk_redis_script_ro(redis, scripts[i].name, body)
                                                  : hk_redis_script(redis, scripts[i].name, body);
    }
    return 0;
}
