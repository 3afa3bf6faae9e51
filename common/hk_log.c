/* hk_log: leveled key=value logging on stderr. */
#include "hk_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

hk_log_level_t hk_log_threshold = HK_LOG_INFO;
static char s_service[32] = "hetki";
static char s_instance[96] = "-";
static const char *const s_level_names[] = {"debug", "info", "warn", "error"};

void hk_log_init(const char *service, const char *instance, hk_log_level_t threshold) {
    snprintf(s_service, sizeof s_service, "%s", service ? service : "hetki");
    snprintf(s_instance, sizeof s_instance, "%s", instance ? instance : "-");
    hk_log_threshold = threshold;
}

int hk_log_level_parse(const char *name, hk_log_level_t *out) {
    for (int i = 0; i < 4; i++) {
        if (strcmp(name, s_level_names[i]) == 0) {
            *out = (hk_log_level_t)i;
            return 0;
        }
    }
    return -1;
}

char *hk_log_quote(char *buf, unsigned long size, const char *value) {
    size_t o = 0;
    if (size < 3) {
        if (size) {
            buf[0] = '\0';
        }
        return buf;
    }
    buf[o++] = '"';
    for (const char *p = value ? value : ""; *p && o + 3 < size; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            buf[o++] = '?';
        } else {
            buf[o++] = (char)c;
        }
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}

void hk_log_emit(hk_log_level_t level, const char *event, const char *fmt, ...) {
    char line[2048];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    int n = snprintf(line, sizeof line,
                     "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s svc=%s inst=%s event=%s",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (long)(tv.tv_usec / 1000), s_level_names[level], s_service, s_instance, event);
    if (n < 0) {
        return;
    }
    if ((size_t)n < sizeof line - 2 && fmt && *fmt) {
        line[n++] = ' ';
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
        va_end(ap);
        if (m > 0) {
            n += m;
        }
        if ((size_t)n > sizeof line - 2) {
            n = (int)sizeof line - 2;
        }
    }
    line[n++] = '\n';
    fwrite(line, 1, (size_t)n, stderr);
}
