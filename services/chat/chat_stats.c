/* chat_stats: registration of the chat service's metrics. */
#include "chat_stats.h"

#include <stdio.h>

void chat_stats_init(chat_stats_t *s, hk_metrics_t *m) {
    static const double bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                    0.1,   0.25,   0.5,   1.0,  2.5,   5.0};
    s->ws.connections = hk_metrics_gauge(m, "chat_connections", "websocket connections open");
    s->ws.connections_total =
        hk_metrics_counter(m, "chat_connections_total", "websocket connections accepted");
    s->ws.refused = hk_metrics_counter(m, "chat_upgrades_refused_total",
                                       "websocket upgrades refused (origin, path, draining)");
    s->ws.frames_in = hk_metrics_counter(m, "chat_frames_in_total", "client frames received");
    s->ws.frames_out = hk_metrics_counter(m, "chat_frames_out_total", "frames sent to clients");
    s->messages_in = hk_metrics_counter(m, "chat_messages_in_total", "customer messages received");
    s->messages_out =
        hk_metrics_counter(m, "chat_messages_out_total", "agent messages sent to customers");
    s->acks = hk_metrics_counter(m, "chat_acks_total", "customer messages acked");
    s->contacts = hk_metrics_counter(m, "chat_contacts_total", "contacts started");
    s->sessions_new = hk_metrics_counter(m, "chat_sessions_new_total", "sessions opened");
    s->sessions_resumed = hk_metrics_counter(m, "chat_sessions_resumed_total", "sessions resumed");
    s->resume_failed =
        hk_metrics_counter(m, "chat_resume_failed_total", "resume tokens not accepted");
    for (int i = 0; i < CHAT_ERR_COUNT; i++) {
        char name[64], help[96];
        snprintf(name, sizeof name, "chat_errors_%s_total", chat_err_code((chat_err_t)i));
        snprintf(help, sizeof help, "error frames with code %s", chat_err_code((chat_err_t)i));
        s->errors[i] = hk_metrics_counter(m, name, help);
    }
    s->ws.closed_policy =
        hk_metrics_counter(m, "chat_closed_policy_total", "connections closed with 1008");
    s->ws.closed_too_big =
        hk_metrics_counter(m, "chat_closed_too_big_total", "connections closed with 1009");
    s->ws.closed_slow = hk_metrics_counter(m, "chat_closed_slow_total",
                                           "connections closed because the client did not read");
    s->events = hk_metrics_counter(m, "chat_events_total", "router events received");
    s->event_gaps = hk_metrics_counter(m, "chat_event_gaps_total", "router event sequence gaps");
    s->ack_seconds = hk_metrics_histogram(m, "chat_ack_seconds", "customer message to ack, seconds",
                                          bounds, sizeof bounds / sizeof bounds[0]);
}
