/* hk_log: leveled key=value logging on stderr, one line per event.
 * A line reads: ts=... level=info svc=router inst=router-1 event=contact.stored contact=01J...
 * Formatting is skipped entirely below the threshold (see HK_LOG). */
#ifndef HK_LOG_H
#define HK_LOG_H

typedef enum { HK_LOG_DEBUG = 0, HK_LOG_INFO, HK_LOG_WARN, HK_LOG_ERROR } hk_log_level_t;

extern hk_log_level_t hk_log_threshold;

/* Sets the service and instance names stamped on every line (copied). */
void hk_log_init(const char *service, const char *instance, hk_log_level_t threshold);

/* Parses "debug|info|warn|error"; returns 0, or -1 when the name is unknown. */
int hk_log_level_parse(const char *name, hk_log_level_t *out);

/* Writes one line: the event name, then the caller's key=value text (printf style). */
void hk_log_emit(hk_log_level_t level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Appends key="value" to buf with quotes and control characters escaped, so that
 * untrusted text never breaks a log line. Returns buf. */
char *hk_log_quote(char *buf, unsigned long size, const char *value);

#define HK_LOG(level, event, ...)                                                                  \
    do {                                                                                           \
        if ((level) >= hk_log_threshold) {                                                         \
            hk_log_emit((level), (event), __VA_ARGS__);                                            \
        }                                                                                          \
    } while (0)
#define HK_DEBUG(event, ...) HK_LOG(HK_LOG_DEBUG, event, __VA_ARGS__)
#define HK_INFO(event, ...) HK_LOG(HK_LOG_INFO, event, __VA_ARGS__)
#define HK_WARN(event, ...) HK_LOG(HK_LOG_WARN, event, __VA_ARGS__)
#define HK_ERROR(event, ...) HK_LOG(HK_LOG_ERROR, event, __VA_ARGS__)

#endif
