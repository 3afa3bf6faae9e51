/* ph_flood: per-source-IP token buckets and bans (see ph_flood.h). */
#include "ph_flood.h"

#include "hk_log.h"
#include "hk_strmap.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_WINDOW_MS 10000
#define S_SWEEP_MS 10000
#define S_IDLE_MS 60000
#define S_MAX_SOURCES 100000

typedef struct {
    double tokens;
    int64_t last_ms;
    int64_t window_ms; /* start of the refusal window */
    int refusals;      /* in the window */
    int64_t banned_until;
} s_source_t;

struct ph_flood_t {
    double rate, burst;
    int ban_after, ban_s;
    hk_strmap_t *sources;
    hk_strmap_t *trusted;
    int64_t last_sweep_ms;
    unsigned long refused, bans;
};

ph_flood_t *ph_flood_new(double rate, double burst, int ban_after, int ban_s, const char *trusted) {
    ph_flood_t *f = calloc(1, sizeof *f);
    assert(f && rate > 0 && burst >= 1);
    f->rate = rate;
    f->burst = burst;
    f->ban_after = ban_after;
    f->ban_s = ban_s;
    f->sources = hk_strmap_new();
    f->trusted = hk_strmap_new();
    char buf[256];
    snprintf(buf, sizeof buf, "%s", trusted ? trusted : "");
    char *save = NULL;
    for (char *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        hk_strmap_put(f->trusted, tok, f);
    }
    return f;
}

static void s_sweep(ph_flood_t *f, int64_t now_ms) {
    size_t n = 0;
    char **keys = hk_strmap_keys(f->sources, &n);
    for (size_t i = 0; i < n; i++) {
        s_source_t *s = hk_strmap_get(f->sources, keys[i]);
        if (s && s->banned_until <= now_ms && now_ms - s->last_ms > S_IDLE_MS) {
            free(hk_strmap_remove(f->sources, keys[i]));
        }
    }
    free(keys);
    f->last_sweep_ms = now_ms;
}

int ph_flood_banned(ph_flood_t *f, const char *ip, int64_t now_ms) {
    s_source_t *s = hk_strmap_get(f->sources, ip);
    return s && s->banned_until > now_ms;
}

ph_flood_verdict_t ph_flood_request(ph_flood_t *f, const char *ip, int64_t now_ms) {
    if (hk_strmap_get(f->trusted, ip)) {
        return PH_FLOOD_OK;
    }
    if (now_ms - f->last_sweep_ms > S_SWEEP_MS) {
        s_sweep(f, now_ms);
    }
    s_source_t *s = hk_strmap_get(f->sources, ip);
    if (!s) {
        if (hk_strmap_size(f->sources) >= S_MAX_SOURCES) {
            /* Table full (a spoofed-address flood): refuse newcomers until the sweep. */
            f->refused++;
            return PH_FLOOD_LIMIT;
        }
        s = calloc(1, sizeof *s);
        if (!s) {
            return PH_FLOOD_LIMIT;
        }
        s->tokens = f->burst;
        s->last_ms = now_ms;
        s->window_ms = now_ms;
        hk_strmap_put(f->sources, ip, s);
    }
    if (s->banned_until > now_ms) {
        return PH_FLOOD_BANNED;
    }
    if (now_ms > s->last_ms) {
        s->tokens += (double)(now_ms - s->last_ms) * f->rate / 1000.0;
        if (s->tokens > f->burst) {
            s->tokens = f->burst;
        }
    }
    s->last_ms = now_ms;
    if (s->tokens >= 1.0) {
        s->tokens -= 1.0;
        return PH_FLOOD_OK;
    }
    f->refused++;
    if (now_ms - s->window_ms > S_WINDOW_MS) {
        s->window_ms = now_ms;
        s->refusals = 0;
    }
    if (++s->refusals >= f->ban_after) {
        s->banned_until = now_ms + (int64_t)f->ban_s * 1000;
        s->refusals = 0;
        f->bans++;
        HK_WARN("phone.flood_ban", "source=%s ban_s=%d", ip, f->ban_s);
        return PH_FLOOD_BANNED;
    }
    return PH_FLOOD_LIMIT;
}

int ph_flood_retry_after(const ph_flood_t *f) {
    int s = (int)(f->burst / f->rate) + 1;
    return s > 60 ? 60 : s;
}

unsigned long ph_flood_refused(const ph_flood_t *f) {
    return f->refused;
}

unsigned long ph_flood_bans(const ph_flood_t *f) {
    return f->bans;
}

size_t ph_flood_size(const ph_flood_t *f) {
    return hk_strmap_size(f->sources);
}

void ph_flood_destroy(ph_flood_t **f_p) {
    assert(f_p);
    ph_flood_t *f = *f_p;
    if (f) {
        *f_p = NULL;
        hk_strmap_destroy_values(&f->sources, free);
        hk_strmap_destroy(&f->trusted);
        free(f);
    }
}
