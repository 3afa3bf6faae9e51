/* ph_flood: per-source-IP request limits. A token bucket per address (rate per second,
 * burst); a request over the limit is refused (503 Retry-After), and a source refused
 * ban_after times within 10 s is banned (every packet dropped silently) for ban_s. Trusted
 * addresses are exempt. The table is bounded: idle entries are swept. */
#ifndef PH_FLOOD_H
#define PH_FLOOD_H

#include <stddef.h>
#include <stdint.h>

typedef struct ph_flood_t ph_flood_t;

typedef enum {
    PH_FLOOD_OK = 0, /* go ahead */
    PH_FLOOD_LIMIT,  /* refuse with 503 and Retry-After */
    PH_FLOOD_BANNED, /* drop silently */
} ph_flood_verdict_t;

/* trusted: comma-separated numeric addresses (may be ""). */
ph_flood_t *ph_flood_new(double rate, double burst, int ban_after, int ban_s, const char *trusted);

/* Takes one token for a request from ip at now_ms and says what to do with it. */
ph_flood_verdict_t ph_flood_request(ph_flood_t *f, const char *ip, int64_t now_ms);

/* True while ip is banned (for packets that are not requests: dropped too). */
int ph_flood_banned(ph_flood_t *f, const char *ip, int64_t now_ms);

/* Seconds a refused client should wait (for Retry-After). */
int ph_flood_retry_after(const ph_flood_t *f);

/* Counters: refusals, bans started, sources tracked. */
unsigned long ph_flood_refused(const ph_flood_t *f);
unsigned long ph_flood_bans(const ph_flood_t *f);
size_t ph_flood_size(const ph_flood_t *f);

void ph_flood_destroy(ph_flood_t **f_p);

#endif
