/* hk_config: table-driven configuration from HETKI_* environment variables. */
#include "hk_config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static int s_parse_long(const char *text, long *out) {
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0') {
        return -1;
    }
    *out = v;
    return 0;
}

static int s_in_choices(const char *choices, const char *text) {
    size_t len = strlen(text);
    const char *p = choices;
    while (p && *p) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == len && strncmp(p, text, n) == 0) {
            return 1;
        }
        p = bar ? bar + 1 : NULL;
    }
    return 0;
}

int hk_config_set(const hk_cfg_entry_t *e, const char *text, char *err, size_t errlen) {
    long v = 0;
    switch (e->type) {
    case HK_CFG_SECRET:
    case HK_CFG_STRING: {
        size_t len = strlen(text);
        if ((long)len < e->min || (long)len > e->max || len >= HK_CFG_STR_MAX) {
            snprintf(err, errlen, "%s=\"%s\": expected a text of %ld to %ld characters", e->name,
                     text, e->min, e->max);
            return -1;
        }
        for (const char *p = text; *p; p++) {
            if ((unsigned char)*p < 0x20) {
                snprintf(err, errlen, "%s: control characters are not allowed", e->name);
                return -1;
            }
        }
        memcpy(e->target, text, len + 1);
        return 0;
    }
    case HK_CFG_ENUM:
        if (!s_in_choices(e->choices, text)) {
            snprintf(err, errlen, "%s=\"%s\": expected one of %s", e->name, text, e->choices);
            return -1;
        }
        snprintf(e->target, HK_CFG_STR_MAX, "%s", text);
        return 0;
    case HK_CFG_BOOL:
        if (!strcasecmp(text, "1") || !strcasecmp(text, "true") || !strcasecmp(text, "yes") ||
            !strcasecmp(text, "on")) {
            *(long *)e->target = 1;
        } else if (!strcasecmp(text, "0") || !strcasecmp(text, "false") ||
                   !strcasecmp(text, "no") || !strcasecmp(text, "off")) {
            *(long *)e->target = 0;
        } else {
            snprintf(err, errlen, "%s=\"%s\": expected a boolean (1/0, true/false, yes/no, on/off)",
                     e->name, text);
            return -1;
        }
        return 0;
    case HK_CFG_INT:
    case HK_CFG_PORT: {
        long lo = e->type == HK_CFG_PORT ? (e->min > 0 ? e->min : 0) : e->min;
        long hi = e->type == HK_CFG_PORT ? (e->max > 0 && e->max < 65535 ? e->max : 65535) : e->max;
        if (s_parse_long(text, &v) != 0) {
            snprintf(err, errlen, "%s=\"%s\": expected a whole number", e->name, text);
            return -1;
        }
        if (v < lo || v > hi) {
            snprintf(err, errlen, "%s=%ld: expected a value from %ld to %ld", e->name, v, lo, hi);
            return -1;
        }
        *(long *)e->target = v;
        return 0;
    }
    }
    snprintf(err, errlen, "%s: unknown setting type", e->name);
    return -1;
}

int hk_config_load(const hk_cfg_entry_t *table, size_t n, char *err, size_t errlen) {
    for (size_t i = 0; i < n; i++) {
        const char *env = getenv(table[i].name);
        const char *text = env ? env : table[i].default_value;
        if (hk_config_set(&table[i], text, err, errlen) != 0) {
            return -1;
        }
    }
    return 0;
}

void hk_config_print(const hk_cfg_entry_t *table, size_t n, FILE *out) {
    for (size_t i = 0; i < n; i++) {
        const hk_cfg_entry_t *e = &table[i];
        if (e->type == HK_CFG_SECRET) {
            fprintf(out, "config %s=%s\n", e->name, *(const char *)e->target ? "***" : "\"\"");
        } else if (e->type == HK_CFG_STRING || e->type == HK_CFG_ENUM) {
            fprintf(out, "config %s=\"%s\"\n", e->name, (const char *)e->target);
        } else {
            fprintf(out, "config %s=%ld\n", e->name, *(const long *)e->target);
        }
    }
}

void hk_config_base_finish(hk_base_config_t *base, const char *service) {
    if (base->instance[0] == '\0') {
        char host[64] = "host";
        gethostname(host, sizeof host - 1);
        host[sizeof host - 1] = '\0';
        snprintf(base->instance, sizeof base->instance, "%s-%s-%ld", service, host, (long)getpid());
    }
    if (base->advertise_host[0] == '\0') {
        snprintf(base->advertise_host, sizeof base->advertise_host, "%s", base->bind_host);
    }
}
