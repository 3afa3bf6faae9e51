/* chat_stats: the metrics hetki-chat exposes on its admin port (/metrics). Pointers into the
 * service's hk_metrics registry, updated directly (one thread). */
#ifndef CHAT_STATS_H
#define CHAT_STATS_H

#include <stdint.h>

#include "chat_text.h"
#include "hk_metrics.h"
#include "hk_ws_server.h"

typedef struct {
    hk_ws_stats_t ws; /* the transport's counters (hk_ws_server): connections, frames, closes */
    uint64_t *messages_in;            /* customer messages received */
    uint64_t *messages_out;           /* agent messages sent to customers */
    uint64_t *acks;                   /* customer messages acked after the router's ack */
    uint64_t *contacts;               /* contacts started (first messages acked) */
    uint64_t *sessions_new;           /* sessions opened */
    uint64_t *sessions_resumed;       /* sessions resumed with a token */
    uint64_t *resume_failed;          /* resume tokens not accepted (a new session was opened) */
    uint64_t *errors[CHAT_ERR_COUNT]; /* error frames by code */
    uint64_t *events;                 /* router events received */
    uint64_t *event_gaps;             /* event sequence gaps (outboxes are sent again) */
    hk_histogram_t *ack_seconds;      /* customer message to ack */
} chat_stats_t;

/* Registers every metric in m. */
void chat_stats_init(chat_stats_t *s, hk_metrics_t *m);

#endif
