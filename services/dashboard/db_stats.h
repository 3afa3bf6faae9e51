/* db_stats: the metrics hetki-dashboard exposes on its admin port (/metrics). Pointers into
 * the service's hk_metrics registry, updated directly (one thread). */
#ifndef DB_STATS_H
#define DB_STATS_H

#include <stdint.h>

#include "hk_metrics.h"
#include "hk_ws_server.h"

/* Error frame codes (docs/protocols/dashboard.md), indexes of db_stats_t.errors. */
typedef enum {
    DB_ERR_BAD_JSON = 0,
    DB_ERR_BAD_FRAME,
    DB_ERR_NOT_READY,
    DB_ERR_BAD_CREDENTIALS,
    DB_ERR_LOCKED,
    DB_ERR_BAD_TOKEN,
    DB_ERR_SESSION_ENDED,
    DB_ERR_FORBIDDEN,
    DB_ERR_NOT_FOUND,
    DB_ERR_NOT_YOURS,
    DB_ERR_CAPACITY,
    DB_ERR_STATE,
    DB_ERR_INVALID,
    DB_ERR_RATE,
    DB_ERR_UNAVAILABLE,
    DB_ERR_COUNT
} db_err_t;

/* The code's name as sent in error frames ("bad_json", ...). */
const char *db_err_code(db_err_t err);

typedef struct {
    hk_ws_stats_t ws;   /* the transport's counters (hk_ws_server): connections, frames, closes */
    double *sessions;   /* authenticated connections now */
    uint64_t *logins;   /* successful logins */
    uint64_t *auths;    /* successful token authentications */
    uint64_t *commands; /* commands sent to the routers */
    uint64_t *errors[DB_ERR_COUNT]; /* error frames (refusals) by code */
    uint64_t *events;               /* router events received */
    uint64_t *event_gaps;           /* router event sequence gaps */
    uint64_t *resyncs;              /* snapshots sent after a gap or a resync request */
    uint64_t *snapshots;            /* snapshots sent */
    hk_histogram_t *fanout_seconds; /* router publication to frame queued, per event */
    hk_histogram_t *verify_seconds; /* password verification (thread pool) */
} db_stats_t;

/* Registers every metric in m. */
void db_stats_init(db_stats_t *s, hk_metrics_t *m);

#endif
