/* db_stats: registration of the dashboard service's metrics. */
#include "db_stats.h"

#include <stdio.h>

const char *db_err_code(db_err_t err) {
    static const char *const names[DB_ERR_COUNT] = {
        "bad_json",      "bad_frame", "not_ready",  "bad_credentials", "locked",   "bad_token",
        "session_ended", "forbidden", "not_found",  "not_yours",       "capacity", "state",
        "invalid",       "rate",      "unavailable"};
    return err < DB_ERR_COUNT ? names[err] : "bad_frame";
}

void db_stats_init(db_stats_t *s, hk_metrics_t *m) {
    static const double bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                    0.1,   0.25,   0.5,   1.0,  2.5,   5.0};
    s->ws.connections = hk_metrics_gauge(m, "dashboard_connections", "websocket connections open");
    s->sessions = hk_metrics_gauge(m, "dashboard_sessions", "authenticated connections open");
    s->ws.connections_total =
        hk_metrics_counter(m, "dashboard_connections_total", "websocket connections accepted");
    s->ws.refused = hk_metrics_counter(m, "dashboard_upgrades_refused_total",
                                       "websocket upgrades refused (origin, path, draining)");
    s->ws.frames_in = hk_metrics_counter(m, "dashboard_frames_in_total", "client frames received");
    s->ws.frames_out =
        hk_metrics_counter(m, "dashboard_frames_out_total", "frames sent to clients");
    s->logins = hk_metrics_counter(m, "dashboard_logins_total", "successful logins");
    s->auths = hk_metrics_counter(m, "dashboard_auths_total", "successful token authentications");
    s->commands = hk_metrics_counter(m, "dashboard_commands_total", "commands sent to routers");
    for (int i = 0; i < DB_ERR_COUNT; i++) {
        char name[64], help[96];
        snprintf(name, sizeof name, "dashboard_refused_%s_total", db_err_code((db_err_t)i));
        snprintf(help, sizeof help, "error frames with code %s", db_err_code((db_err_t)i));
        s->errors[i] = hk_metrics_counter(m, name, help);
    }
    s->ws.closed_policy =
        hk_metrics_counter(m, "dashboard_closed_policy_total", "connections closed with 1008");
    s->ws.closed_too_big =
        hk_metrics_counter(m, "dashboard_closed_too_big_total", "connections closed with 1009");
    s->ws.closed_slow = hk_metrics_counter(m, "dashboard_closed_slow_total",
                                           "connections closed because the client did not read");
    s->events = hk_metrics_counter(m, "dashboard_events_total", "router events received");
    s->event_gaps =
        hk_metrics_counter(m, "dashboard_event_gaps_total", "router event sequence gaps");
    s->resyncs = hk_metrics_counter(m, "dashboard_resyncs_total",
                                    "snapshots sent after a gap or a resync request");
    s->snapshots = hk_metrics_counter(m, "dashboard_snapshots_total", "snapshots sent");
    s->fanout_seconds = hk_metrics_histogram(
        m, "dashboard_fanout_seconds", "router publication to the event frame queued for a client",
        bounds, sizeof bounds / sizeof bounds[0]);
    s->verify_seconds =
        hk_metrics_histogram(m, "dashboard_verify_seconds", "password verification time", bounds,
                             sizeof bounds / sizeof bounds[0]);
}
