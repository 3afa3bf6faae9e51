/* rt_policy_phone: values and checks of the [phone] and [phone_agents] policy sections:
 * dialled numbers, static agent SIP URIs and the callback promise settings. */
#include "rt_policy_phone.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define S_MIN (60 * 1000LL)
#define S_HOUR (60 * S_MIN)

void rt_policy_phone_defaults(rt_phone_policy_t *ph) {
    memset(ph, 0, sizeof *ph);
    ph->callback_window_ms = 2 * S_HOUR;
    ph->callback_attempts = 3;
    ph->callback_retry_after_ms = 10 * S_MIN;
    ph->language = 0; /* RT_LANG_FI */
}

const char *rt_policy_phone_number(const char *text, char *out, size_t outlen) {
    char buf[RT_PHONE_NUMBER];
    size_t n = 0, digits = 0;
    for (const char *c = text; *c; c++) {
        if (*c == ' ' || *c == '\t' || *c == '-' || *c == '.' || *c == '(' || *c == ')') {
            continue;
        }
        if (*c == '+' && n == 0) {
            buf[n++] = '+';
            continue;
        }
        if (*c < '0' || *c > '9') {
            return "a number holds digits, an optional leading + and blanks, -, ., ( or )";
        }
        if (++digits > 15) {
            return "a number has at most 15 digits";
        }
        buf[n++] = *c;
    }
    if (digits < 3) {
        return "a number has at least 3 digits";
    }
    buf[n] = '\0';
    if (n + 1 > outlen) {
        return "a number has at most 15 digits";
    }
    memcpy(out, buf, n + 1);
    return NULL;
}

const char *rt_policy_phone_numbers(rt_phone_policy_t *ph, char *value, char *problem, size_t len) {
    ph->n_numbers = 0;
    char *p = value;
    for (;;) {
        char *comma = strchr(p, ',');
        if (comma) {
            *comma = '\0';
        }
        while (*p == ' ' || *p == '\t') {
            p++;
        }
        for (size_t n = strlen(p); n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'); n--) {
            p[n - 1] = '\0';
        }
        char num[RT_PHONE_NUMBER];
        const char *why = rt_policy_phone_number(p, num, sizeof num);
        if (why) {
            snprintf(problem, len, "\"%.40s\": %s", p, why);
            return problem;
        }
        for (size_t i = 0; i < ph->n_numbers; i++) {
            if (!strcmp(ph->numbers[i], num)) {
                snprintf(problem, len, "number %s listed twice", num);
                return problem;
            }
        }
        if (ph->n_numbers == RT_PHONE_MAX_NUMBERS) {
            snprintf(problem, len, "more than %d numbers", RT_PHONE_MAX_NUMBERS);
            return problem;
        }
        memcpy(ph->numbers[ph->n_numbers++], num, sizeof num);
        if (!comma) {
            return NULL;
        }
        p = comma + 1;
    }
}

static bool s_agent_id_ok(const char *id) {
    size_t n = strlen(id);
    if (n == 0 || n >= RT_PHONE_AGENT_ID) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == ':' || c == '-')) {
            return false;
        }
    }
    return true;
}

/* sip:[user@]host[:port][;params]: printable ASCII without blanks, quotes or angle
 * brackets, and a host. */
static const char *s_uri_problem(const char *uri) {
    size_t n = strlen(uri);
    const char *rest = !strncmp(uri, "sip:", 4) ? uri + 4 : !strncmp(uri, "sips:", 5) ? uri + 5 : 0;
    if (!rest) {
        return "expected a SIP URI like sip:alice@10.0.0.5:5060";
    }
    if (n >= RT_PHONE_URI) {
        return "a SIP URI is at most 127 bytes";
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)uri[i];
        if (c <= 0x20 || c >= 0x7f || c == '"' || c == '<' || c == '>') {
            return "a SIP URI holds printable ASCII without blanks, quotes or < >";
        }
    }
    const char *host = strchr(rest, '@') ? strchr(rest, '@') + 1 : rest;
    if (*host == '\0' || *host == ':' || *host == ';' || strchr(host, '@')) {
        return "the SIP URI has no host";
    }
    return NULL;
}

const char *rt_policy_phone_agent(rt_phone_policy_t *ph, const char *agent, const char *uri,
                                  char *problem, size_t len) {
    if (!s_agent_id_ok(agent)) {
        snprintf(problem, len, "an agent id is 1 to 64 characters of A-Z a-z 0-9 _ . : -");
        return problem;
    }
    const char *why = s_uri_problem(uri);
    if (why) {
        snprintf(problem, len, "%s", why);
        return problem;
    }
    if (rt_policy_phone_agent_uri(ph, agent)) {
        snprintf(problem, len, "agent listed twice");
        return problem;
    }
    if (ph->n_agents == RT_PHONE_MAX_AGENTS) {
        snprintf(problem, len, "more than %d agents", RT_PHONE_MAX_AGENTS);
        return problem;
    }
    rt_phone_agent_t *a = &ph->agents[ph->n_agents++];
    snprintf(a->agent, sizeof a->agent, "%s", agent);
    snprintf(a->uri, sizeof a->uri, "%s", uri);
    return NULL;
}

const char *rt_policy_phone_check(const rt_phone_policy_t *ph, const char **which, char *problem,
                                  size_t len) {
    if (ph->callback_retry_after_ms >= ph->callback_window_ms) {
        *which = "callback_retry_after";
        snprintf(problem, len,
                 "must be shorter than callback_window (a retry must fit in the window)");
        return problem;
    }
    return NULL;
}

const char *rt_policy_phone_agent_uri(const rt_phone_policy_t *ph, const char *agent) {
    for (size_t i = 0; agent && i < ph->n_agents; i++) {
        if (!strcmp(ph->agents[i].agent, agent)) {
            return ph->agents[i].uri;
        }
    }
    return NULL;
}
