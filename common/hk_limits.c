/* hk_limits: Origin allowlist, token buckets and id validators shared by the websocket
 * services. */
#include "hk_limits.h"

#include "hk_clock.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Copies the entry [start, end) trimmed of blanks and one trailing '/'. */
static int s_entry(char *out, size_t cap, const char *start, const char *end) {
    while (start < end && isspace((unsigned char)*start)) {
        start++;
    }
    while (end > start && isspace((unsigned char)end[-1])) {
        end--;
    }
    if (end > start && end[-1] == '/') {
        end--;
    }
    size_t n = (size_t)(end - start);
    if (n == 0 || n >= cap) {
        return -1;
    }
    memcpy(out, start, n);
    out[n] = '\0';
    return 0;
}

int hk_origins_parse(hk_origins_t *o, const char *text) {
    memset(o, 0, sizeof *o);
    const char *p = text ? text : "";
    for (;;) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        char entry[HK_ORIGIN_MAX];
        if (s_entry(entry, sizeof entry, p, end) != 0) {
            return -1;
        }
        if (strcmp(entry, "*") == 0) {
            o->any = 1;
        } else {
            if (o->n == HK_MAX_ORIGINS || !strstr(entry, "://") || strchr(entry, ' ')) {
                return -1;
            }
            snprintf(o->list[o->n++], HK_ORIGIN_MAX, "%s", entry);
        }
        if (!comma) {
            break;
        }
        p = comma + 1;
    }
    return 0;
}

int hk_origins_allow(const hk_origins_t *o, const char *origin) {
    if (o->any) {
        return 1;
    }
    if (!origin || !*origin) {
        return 0;
    }
    char entry[HK_ORIGIN_MAX];
    if (s_entry(entry, sizeof entry, origin, origin + strlen(origin)) != 0) {
        return 0;
    }
    for (size_t i = 0; i < o->n; i++) {
        if (strcasecmp(o->list[i], entry) == 0) {
            return 1;
        }
    }
    return 0;
}

int64_t hk_limits_now_ms(void) {
    return hk_clock_real_us() / 1000;
}

void hk_bucket_init(hk_bucket_t *b, double burst, int64_t now_ms) {
    b->tokens = burst;
    b->last_ms = now_ms;
}

int hk_bucket_take(hk_bucket_t *b, double burst, int64_t period_ms, int64_t now_ms) {
    if (now_ms > b->last_ms) {
        b->tokens += (double)(now_ms - b->last_ms) * burst / (double)period_ms;
        if (b->tokens > burst) {
            b->tokens = burst;
        }
        b->last_ms = now_ms;
    }
    if (b->tokens < 1.0) {
        return 0;
    }
    b->tokens -= 1.0;
    return 1;
}

/* True for 1 to max characters, each a-z, 0-9, or one of extra; A-Z too when upper. */
static int s_word_ok(const char *s, size_t max, int upper, const char *extra) {
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (upper && c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr(extra, c))) {
            return 0;
        }
    }
    return 1;
}

int hk_tenant_ok(const char *tenant) {
    return s_word_ok(tenant, HK_TENANT_MAX, 0, "_-");
}

int hk_client_id_ok(const char *id) {
    return s_word_ok(id, HK_CLIENT_ID_MAX, 1, "_-");
}

int hk_ref_ok(const char *id) {
    return s_word_ok(id, HK_CLIENT_ID_MAX, 1, "_-.:");
}
