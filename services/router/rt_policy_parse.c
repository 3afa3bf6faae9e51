/* rt_policy_parse: the policy file parser (docs/policy.md): sections, keys, values, and the
 * checks across fields (queue references, overflow cycles, thresholds). Every error names the
 * line and the field: "line 12: queue voice.overflow_after: expected a duration like 90s". */
#include "rt_policy.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_lexicon.h"

#define S_MAX_LINE 4096
#define S_SEC 1000LL
#define S_MIN (60 * S_SEC)
#define S_HOUR (60 * S_MIN)
#define S_DAY (24 * S_HOUR)
#define S_MAX_KEYS 16
#define S_LEX_KINDS 4 /* urgent, personal, urgent_extra, personal_extra */

/* Is the NUL-terminated s valid UTF-8 (no overlongs, surrogates or code points past
 * U+10FFFF)? */
static bool s_utf8_valid(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned char b = *p;
        int need;
        unsigned char lo = 0x80, hi = 0xBF;
        if (b < 0x80) {
            p++;
            continue;
        } else if (b >= 0xC2 && b <= 0xDF) {
            need = 1;
        } else if (b >= 0xE0 && b <= 0xEF) {
            need = 2;
            lo = b == 0xE0 ? 0xA0 : 0x80;
            hi = b == 0xED ? 0x9F : 0xBF;
        } else if (b >= 0xF0 && b <= 0xF4) {
            need = 3;
            lo = b == 0xF0 ? 0x90 : 0x80;
            hi = b == 0xF4 ? 0x8F : 0xBF;
        } else {
            return false;
        }
        for (int i = 1; i <= need; i++) {
            unsigned char c = p[i];
            if (c < (i == 1 ? lo : 0x80) || c > (i == 1 ? hi : 0xBF)) {
                return false; /* also stops at the NUL */
            }
        }
        p += need + 1;
    }
    return true;
}

/* ---- the key tables */

typedef enum {
    S_INT,     /* int, decimal */
    S_PCT,     /* int, decimal with an optional '%' */
    S_DUR,     /* int64_t milliseconds from "90s", "5m", ... */
    S_NAME,    /* char[RT_POLICY_NAME] of a-z 0-9 _ - */
    S_NONE,    /* like S_NAME, and "none" means "" */
    S_TEXT,    /* char[RT_POLICY_TEXT] */
    S_STATUS,  /* rt_tenant_status_t: active | suspended */
    S_LANGS,   /* int bit mask from "fi, sv, en" */
    S_NAMES,   /* the skill list */
    S_WORDS,   /* lexicon entries (handled by the lexicon code) */
    S_NUMBERS, /* [phone] numbers (rt_policy_phone.c) */
    S_LANG     /* int rt_lang_t from "fi", "sv" or "en" */
} s_type_t;

typedef struct {
    const char *key;
    s_type_t type;
    size_t off; /* into rt_policy_t, or rt_queue_policy_t for queue keys */
    long long min, max;
    const char *hint; /* added to range errors */
} s_key_t;

#define S_P(field) offsetof(rt_policy_t, field)
#define S_Q(field) offsetof(rt_queue_policy_t, field)

static const s_key_t s_tenant_keys[] = {
    {"name", S_NAME, S_P(tenant), 0, 0, NULL},
    {"status", S_STATUS, S_P(status), 0, 0, NULL},
    {"suspended_message", S_TEXT, S_P(suspended_message), 0, 0, NULL},
};
static const s_key_t s_skills_keys[] = {{"names", S_NAMES, 0, 0, 0, NULL}};
static const s_key_t s_queue_keys[] = {
    {"skill", S_NONE, S_Q(skill), 0, 0, NULL},
    {"min_level", S_INT, S_Q(min_level), 1, 5, NULL},
    {"languages", S_LANGS, S_Q(languages), 0, 0, NULL},
    {"overflow_to", S_NONE, S_Q(overflow_to), 0, 0, NULL},
    {"overflow_after", S_DUR, S_Q(overflow_after_ms), S_SEC, 7 * S_DAY, NULL},
    {"promise", S_DUR, S_Q(promise_ms), S_SEC, 30 * S_DAY, NULL},
    {"target_answer", S_DUR, S_Q(target_answer_ms), S_SEC, 30 * S_DAY, NULL},
};
static const s_key_t s_routing_keys[] = {
    {"voice_queue", S_NAME, S_P(voice_queue), 0, 0, NULL},
    {"human_chat_queue", S_NAME, S_P(human_chat_queue), 0, 0, NULL},
    {"async_queue", S_NAME, S_P(async_queue), 0, 0, NULL},
};
static const s_key_t s_class_keys[] = {
    {"urgent_threshold", S_INT, S_P(urgent_threshold), 1, 100, NULL},
    {"personal_threshold", S_INT, S_P(personal_threshold), 1, 100, NULL},
    {"weight_choice_urgent", S_INT, S_P(weight_choice_urgent), 0, 100, NULL},
    {"weight_choice_person", S_INT, S_P(weight_choice_person), 0, 100, NULL},
    {"weight_lexicon_urgent", S_INT, S_P(weight_lexicon_urgent), 0, 100, NULL},
    {"weight_lexicon_personal", S_INT, S_P(weight_lexicon_personal), 0, 100, NULL},
    {"weight_repeat", S_INT, S_P(weight_repeat), 0, 100, NULL},
    {"weight_first_contact", S_INT, S_P(weight_first_contact), 0, 100, NULL},
    {"weight_vulnerable", S_INT, S_P(weight_vulnerable), 0, 100, NULL},
    {"weight_vip", S_INT, S_P(weight_vip), 0, 100, NULL},
    {"weight_phone_channel", S_INT, S_P(weight_phone_channel), 0, 100, NULL},
    {"repeat_window", S_DUR, S_P(repeat_window_ms), 0, 90 * S_DAY, NULL},
};
static const s_key_t s_lexicon_keys[S_LEX_KINDS] = {
    {"urgent", S_WORDS, 0, 0, 0, NULL},
    {"personal", S_WORDS, 0, 0, 0, NULL},
    {"urgent_extra", S_WORDS, 0, 0, 0, NULL},
    {"personal_extra", S_WORDS, 0, 0, 0, NULL},
};
static const s_key_t s_capacity_keys[] = {
    {"phone", S_INT, S_P(cost_phone), 1, 100, NULL},
    {"chat", S_INT, S_P(cost_chat), 1, 100, NULL},
    {"email", S_INT, S_P(cost_email), 1, 100, NULL},
    {"kiosk", S_INT, S_P(cost_kiosk), 1, 100, NULL},
    {"occupancy_cap", S_PCT, S_P(occupancy_cap_pct), 1, 100, NULL},
};
static const s_key_t s_agents_keys[] = {
    {"offer_lease", S_DUR, S_P(offer_lease_ms), S_SEC, 10 * S_MIN, NULL},
    {"not_responding_after", S_INT, S_P(not_responding_after), 1, 100, NULL},
    {"recovery_pause", S_DUR, S_P(recovery_pause_ms), 0, 24 * S_HOUR, NULL},
};
static const s_key_t s_lifecycle_keys[] = {
    {"confirmation_window", S_DUR, S_P(confirmation_window_ms), S_HOUR, 30 * S_DAY, NULL},
    {"followup_after", S_DUR, S_P(followup_after_ms), 7 * S_DAY, 14 * S_DAY,
     "a follow-up goes out 1-2 weeks after resolution"},
    {"callback_threshold", S_DUR, S_P(callback_threshold_ms), 0, 24 * S_HOUR, NULL},
    {"aging_per_point", S_DUR, S_P(aging_ms_per_point), 100, S_HOUR, NULL},
};

static const s_key_t s_phone_keys[] = {
    {"numbers", S_NUMBERS, 0, 0, 0, NULL},
    {"callback_window", S_DUR, S_P(phone.callback_window_ms), S_MIN, 7 * S_DAY, NULL},
    {"callback_attempts", S_INT, S_P(phone.callback_attempts), 1, 10, NULL},
    {"callback_retry_after", S_DUR, S_P(phone.callback_retry_after_ms), S_SEC, 24 * S_HOUR, NULL},
    {"language", S_LANG, S_P(phone.language), 0, 0, NULL},
};

_Static_assert(sizeof s_class_keys / sizeof s_class_keys[0] <= S_MAX_KEYS, "S_MAX_KEYS");

typedef enum {
    S_SEC_TENANT = 0,
    S_SEC_SKILLS,
    S_SEC_QUEUE,
    S_SEC_ROUTING,
    S_SEC_CLASSIFICATION,
    S_SEC_LEXICON,
    S_SEC_CAPACITY,
    S_SEC_AGENTS,
    S_SEC_LIFECYCLE,
    S_SEC_PHONE,
    S_SEC_PHONE_AGENTS, /* keys are agent ids: rt_policy_phone_agent() */
    S_SEC_COUNT,
    S_SEC_NONE = -1
} s_sec_t;

#define S_KEYS(t) t, sizeof t / sizeof t[0]
static const struct {
    const char *name;
    const s_key_t *keys;
    size_t nkeys;
    bool named; /* [queue NAME], [lexicon LANG] */
} s_sections[S_SEC_COUNT] = {
    {"tenant", S_KEYS(s_tenant_keys), false},
    {"skills", S_KEYS(s_skills_keys), false},
    {"queue", S_KEYS(s_queue_keys), true},
    {"routing", S_KEYS(s_routing_keys), false},
    {"classification", S_KEYS(s_class_keys), false},
    {"lexicon", S_KEYS(s_lexicon_keys), true},
    {"capacity", S_KEYS(s_capacity_keys), false},
    {"agents", S_KEYS(s_agents_keys), false},
    {"lifecycle", S_KEYS(s_lifecycle_keys), false},
    {"phone", S_KEYS(s_phone_keys), false},
    {"phone_agents", NULL, 0, false},
};

/* ---- the parser */

typedef struct {
    rt_policy_t *p; /* the result being built */
    char *err;
    size_t errlen;
    int line;
    s_sec_t sec;
    char label[RT_POLICY_NAME + 16]; /* "queue voice", for errors */
    int sec_line[S_SEC_COUNT];       /* header line of the single sections */
    int key_line[S_SEC_COUNT][S_MAX_KEYS];
    int queue; /* index of the current [queue] */
    int queue_line[RT_POLICY_MAX_QUEUES];
    int qkey_line[RT_POLICY_MAX_QUEUES][S_MAX_KEYS];
    int lang; /* language of the current [lexicon] */
    int lex_line[RT_LANG_COUNT];
    int lex_key_line[RT_LANG_COUNT][S_LEX_KINDS];
    char lex_words[RT_LANG_COUNT][S_LEX_KINDS][RT_POLICY_MAX_WORDS][RT_POLICY_WORD];
    size_t lex_n[RT_LANG_COUNT][S_LEX_KINDS];
} s_parse_t;

/* Writes "line N: field: problem" into the error buffer; returns -1. */
static int s_error(s_parse_t *st, int line, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int s_error(s_parse_t *st, int line, const char *field, const char *fmt, ...) {
    char problem[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(problem, sizeof problem, fmt, ap);
    va_end(ap);
    snprintf(st->err, st->errlen, "line %d: %s: %s", line, field, problem);
    return -1;
}

static char *s_trim(char *s) {
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) {
        s[--n] = '\0';
    }
    return s;
}

static int s_range_error(s_parse_t *st, const char *field, const s_key_t *k) {
    char lo[32], hi[32];
    if (k->type == S_DUR) {
        rt_policy_format_duration(k->min, lo, sizeof lo);
        rt_policy_format_duration(k->max, hi, sizeof hi);
    } else {
        snprintf(lo, sizeof lo, "%lld", k->min);
        snprintf(hi, sizeof hi, "%lld", k->max);
    }
    return s_error(st, st->line, field, "must be between %s and %s%s%s%s", lo, hi,
                   k->hint ? " (" : "", k->hint ? k->hint : "", k->hint ? ")" : "");
}

/* Parses "fi, sv" into a language bit mask. */
static int s_parse_langs(s_parse_t *st, const char *field, char *v, int *mask) {
    *mask = 0;
    for (char *save = NULL, *tok = strtok_r(v, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        tok = s_trim(tok);
        int lang = rt_lang_parse(tok);
        if (lang < 0) {
            return s_error(st, st->line, field, "unknown language \"%s\" (expected fi, sv or en)",
                           tok);
        }
        *mask |= 1 << lang;
    }
    if (*mask == 0) {
        return s_error(st, st->line, field, "list at least one of fi, sv, en");
    }
    return 0;
}

/* Checks one lexicon entry (already lowercased, spaces collapsed). */
static const char *s_entry_problem(const char *w) {
    size_t n = strlen(w);
    if (n - (n > 0 && w[n - 1] == '*') < 2) {
        return "is shorter than 2 characters (before any *)";
    }
    if (n >= RT_POLICY_WORD) {
        return "is longer than 47 bytes";
    }
    bool letter = false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)w[i];
        if (c >= 0x80 || (c >= 'a' && c <= 'z')) {
            letter = true;
        } else if (c == '*' && i == n - 1) {
            continue;
        } else if (c != ' ' && c != '-' && c != '\'') {
            return "may hold only letters, spaces, - and ' (and * at the end)";
        }
    }
    return letter ? NULL : "has no letters";
}

/* Splits a comma-separated list into lowercased, de-duplicated entries. An empty value is an
 * empty list. */
static int s_parse_words(s_parse_t *st, const char *field, char *v, char (*out)[RT_POLICY_WORD],
                         size_t *n) {
    *n = 0;
    if (*v == '\0') {
        return 0;
    }
    char *p = v;
    for (;;) {
        char *comma = strchr(p, ',');
        if (comma) {
            *comma = '\0';
        }
        char word[S_MAX_LINE];
        size_t wn = 0;
        for (char *c = s_trim(p); *c; c++) { /* collapse runs of blanks */
            if ((*c == ' ' || *c == '\t') && (wn == 0 || word[wn - 1] == ' ')) {
                continue;
            }
            word[wn++] = *c == '\t' ? ' ' : *c;
        }
        word[wn] = '\0';
        rt_policy_lowercase(word);
        if (wn == 0) {
            return s_error(st, st->line, field, "empty entry (two commas in a row?)");
        }
        const char *problem = s_entry_problem(word);
        if (problem) {
            return s_error(st, st->line, field, "entry \"%.60s\" %s", word, problem);
        }
        bool dup = false;
        for (size_t i = 0; i < *n && !dup; i++) {
            dup = !strcmp(out[i], word);
        }
        if (!dup) {
            if (*n == RT_POLICY_MAX_WORDS) {
                return s_error(st, st->line, field, "more than %d entries", RT_POLICY_MAX_WORDS);
            }
            memcpy(out[(*n)++], word, wn + 1);
        }
        if (!comma) {
            return 0;
        }
        p = comma + 1;
    }
}

/* Parses the value of key k into base (the policy or the current queue). */
static int s_set_value(s_parse_t *st, const char *field, const s_key_t *k, int kidx, char *v,
                       char *base) {
    if (*v == '\0' && k->type != S_WORDS) {
        return s_error(st, st->line, field, "missing value");
    }
    switch (k->type) {
    case S_INT:
    case S_PCT: {
        char *end;
        long long n = strtoll(v, &end, 10);
        if (k->type == S_PCT && *end == '%') {
            end++;
        }
        if (end == v || *end != '\0' || !((v[0] >= '0' && v[0] <= '9') || v[0] == '-')) {
            return s_error(st, st->line, field, "expected a whole number%s",
                           k->type == S_PCT ? " of percent like 85" : "");
        }
        if (n < k->min || n > k->max) {
            return s_range_error(st, field, k);
        }
        *(int *)(base + k->off) = (int)n;
        return 0;
    }
    case S_DUR: {
        int64_t ms;
        if (rt_policy_parse_duration(v, &ms) != 0) {
            return s_error(st, st->line, field, "expected a duration like 90s, 5m, 2h");
        }
        if (ms < k->min || ms > k->max) {
            return s_range_error(st, field, k);
        }
        *(int64_t *)(base + k->off) = ms;
        return 0;
    }
    case S_NAME:
    case S_NONE:
        if (k->type == S_NONE && !strcmp(v, "none")) {
            *(base + k->off) = '\0';
            return 0;
        }
        if (!rt_policy_name_valid(v)) {
            return s_error(st, st->line, field,
                           "expected a name of a-z, 0-9, _ and - (at most %d characters)",
                           RT_POLICY_NAME - 1);
        }
        snprintf(base + k->off, RT_POLICY_NAME, "%s", v);
        return 0;
    case S_TEXT:
        if (strlen(v) >= RT_POLICY_TEXT) {
            return s_error(st, st->line, field, "longer than %d bytes", RT_POLICY_TEXT - 1);
        }
        snprintf(base + k->off, RT_POLICY_TEXT, "%s", v);
        return 0;
    case S_STATUS:
        if (strcmp(v, "active") && strcmp(v, "suspended")) {
            return s_error(st, st->line, field, "expected active or suspended");
        }
        *(rt_tenant_status_t *)(base + k->off) =
            strcmp(v, "active") ? RT_TENANT_SUSPENDED : RT_TENANT_ACTIVE;
        return 0;
    case S_LANGS:
        return s_parse_langs(st, field, v, (int *)(base + k->off));
    case S_NAMES: {
        rt_policy_t *p = st->p;
        p->n_skills = 0;
        for (char *save = NULL, *tok = strtok_r(v, ",", &save); tok;
             tok = strtok_r(NULL, ",", &save)) {
            tok = s_trim(tok);
            if (!rt_policy_name_valid(tok)) {
                return s_error(st, st->line, field,
                               "skill \"%.40s\" is not a name of a-z, 0-9, _ and -", tok);
            }
            for (size_t i = 0; i < p->n_skills; i++) {
                if (!strcmp(p->skills[i], tok)) {
                    return s_error(st, st->line, field, "skill \"%s\" listed twice", tok);
                }
            }
            if (p->n_skills == RT_POLICY_MAX_SKILLS) {
                return s_error(st, st->line, field, "more than %d skills", RT_POLICY_MAX_SKILLS);
            }
            snprintf(p->skills[p->n_skills++], RT_POLICY_NAME, "%s", tok);
        }
        return 0;
    }
    case S_WORDS:
        return s_parse_words(st, field, v, st->lex_words[st->lang][kidx],
                             &st->lex_n[st->lang][kidx]);
    case S_NUMBERS: {
        char problem[200];
        if (rt_policy_phone_numbers(&st->p->phone, v, problem, sizeof problem)) {
            return s_error(st, st->line, field, "%s", problem);
        }
        return 0;
    }
    case S_LANG: {
        int lang = rt_lang_parse(v);
        if (lang < 0) {
            return s_error(st, st->line, field, "expected fi, sv or en");
        }
        *(int *)(base + k->off) = lang;
        return 0;
    }
    }
    return -1;
}

/* Starts a section from the text between the brackets. */
static int s_section(s_parse_t *st, char *inner) {
    char field[S_MAX_LINE + 2];
    inner = s_trim(inner);
    snprintf(field, sizeof field, "[%s]", inner);
    char *arg = inner + strcspn(inner, " \t");
    if (*arg) {
        *arg++ = '\0';
        arg = s_trim(arg);
    }
    st->sec = S_SEC_NONE;
    for (int i = 0; i < S_SEC_COUNT; i++) {
        if (!strcmp(inner, s_sections[i].name)) {
            st->sec = (s_sec_t)i;
        }
    }
    if (st->sec == S_SEC_NONE) {
        return s_error(st, st->line, field,
                       "unknown section (expected tenant, skills, queue NAME, routing, "
                       "classification, lexicon LANG, capacity, agents, lifecycle, phone or "
                       "phone_agents)");
    }
    if (!s_sections[st->sec].named) {
        if (*arg) {
            return s_error(st, st->line, field, "this section takes no name");
        }
        if (st->sec_line[st->sec]) {
            return s_error(st, st->line, field, "section appears twice (first on line %d)",
                           st->sec_line[st->sec]);
        }
        st->sec_line[st->sec] = st->line;
        snprintf(st->label, sizeof st->label, "%s", inner);
        return 0;
    }
    rt_policy_t *p = st->p;
    if (st->sec == S_SEC_LEXICON) {
        st->lang = rt_lang_parse(arg);
        if (st->lang < 0) {
            return s_error(st, st->line, field, "language must be fi, sv or en");
        }
        if (st->lex_line[st->lang]) {
            return s_error(st, st->line, field, "section appears twice (first on line %d)",
                           st->lex_line[st->lang]);
        }
        st->lex_line[st->lang] = st->line;
        snprintf(st->label, sizeof st->label, "lexicon %s", arg);
        return 0;
    }
    if (!rt_policy_name_valid(arg)) {
        return s_error(st, st->line, field,
                       "a queue needs a name of a-z, 0-9, _ and - (at most %d characters), "
                       "like [queue voice]",
                       RT_POLICY_NAME - 1);
    }
    if (!st->sec_line[S_SEC_QUEUE]) { /* the file's queues replace the default ones */
        st->sec_line[S_SEC_QUEUE] = st->line;
        p->n_queues = 0;
    }
    for (size_t i = 0; i < p->n_queues; i++) {
        if (!strcmp(p->queues[i].name, arg)) {
            return s_error(st, st->line, field, "queue defined twice (first on line %d)",
                           st->queue_line[i]);
        }
    }
    if (p->n_queues == RT_POLICY_MAX_QUEUES) {
        return s_error(st, st->line, field, "more than %d queues", RT_POLICY_MAX_QUEUES);
    }
    st->queue = (int)p->n_queues++;
    st->queue_line[st->queue] = st->line;
    rt_policy_queue_defaults(&p->queues[st->queue], arg);
    snprintf(st->label, sizeof st->label, "queue %s", arg);
    return 0;
}

/* Handles one "key = value" line. */
static int s_key_value(s_parse_t *st, char *line) {
    char *eq = strchr(line, '=');
    char field[S_MAX_LINE + 80];
    if (st->sec == S_SEC_NONE) {
        if (eq) {
            *eq = '\0';
        }
        return s_error(st, st->line, eq ? s_trim(line) : "(start)",
                       "key outside any section (start with a section like [tenant])");
    }
    if (!eq) {
        return s_error(st, st->line, st->label, "expected key = value, a [section] or a # comment");
    }
    *eq = '\0';
    char *key = s_trim(line), *value = s_trim(eq + 1);
    snprintf(field, sizeof field, "%s.%s", st->label, key);
    if (st->sec == S_SEC_PHONE_AGENTS) { /* agent id = SIP URI */
        char problem[200];
        if (*value == '\0') {
            return s_error(st, st->line, field, "missing value (a SIP URI like sip:alice@host)");
        }
        if (rt_policy_phone_agent(&st->p->phone, key, value, problem, sizeof problem)) {
            return s_error(st, st->line, field, "%s", problem);
        }
        return 0;
    }
    const s_key_t *keys = s_sections[st->sec].keys;
    int kidx = -1;
    for (size_t i = 0; i < s_sections[st->sec].nkeys; i++) {
        if (!strcmp(keys[i].key, key)) {
            kidx = (int)i;
        }
    }
    if (kidx < 0) {
        char known[400] = "";
        for (size_t i = 0; i < s_sections[st->sec].nkeys; i++) {
            size_t used = strlen(known);
            snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "", keys[i].key);
        }
        return s_error(st, st->line, field, "unknown key (known here: %s)", known);
    }
    int *seen = st->sec == S_SEC_QUEUE     ? &st->qkey_line[st->queue][kidx]
                : st->sec == S_SEC_LEXICON ? &st->lex_key_line[st->lang][kidx]
                                           : &st->key_line[st->sec][kidx];
    if (*seen) {
        return s_error(st, st->line, field, "set twice (first on line %d)", *seen);
    }
    *seen = st->line;
    char *base = st->sec == S_SEC_QUEUE ? (char *)&st->p->queues[st->queue] : (char *)st->p;
    return s_set_value(st, field, &keys[kidx], kidx, value, base);
}

/* Builds each language's final lists (the replacement or default plus the extras) and their
 * needles. */
static int s_merge_lexicons(s_parse_t *st) {
    for (int l = 0; l < RT_LANG_COUNT; l++) {
        rt_lexicon_t *lex = &st->p->lexicons[l];
        for (int kind = 0; kind < 2; kind++) {
            char(*list)[RT_POLICY_WORD] = kind ? lex->personal : lex->urgent;
            size_t *n = kind ? &lex->n_personal : &lex->n_urgent;
            if (st->lex_key_line[l][kind]) {
                *n = st->lex_n[l][kind];
                memcpy(list, st->lex_words[l][kind], *n * RT_POLICY_WORD);
            }
            int extra = kind + 2;
            for (size_t i = 0; i < st->lex_n[l][extra]; i++) {
                const char *w = st->lex_words[l][extra][i];
                bool dup = false;
                for (size_t j = 0; j < *n && !dup; j++) {
                    dup = !strcmp(list[j], w);
                }
                if (dup) {
                    continue;
                }
                if (*n == RT_POLICY_MAX_WORDS) {
                    char field[64];
                    snprintf(field, sizeof field, "lexicon %s.%s", rt_lang_code((rt_lang_t)l),
                             s_lexicon_keys[extra].key);
                    return s_error(st, st->lex_key_line[l][extra], field,
                                   "more than %d entries with the others", RT_POLICY_MAX_WORDS);
                }
                snprintf(list[(*n)++], RT_POLICY_WORD, "%s", w);
            }
        }
        rt_lexicon_prepare(lex);
    }
    return 0;
}

/* The line of queue key name in queue qi, or the queue's header line when it is not set. */
static int s_qline(const s_parse_t *st, size_t qi, const char *name) {
    for (size_t k = 0; k < sizeof s_queue_keys / sizeof s_queue_keys[0]; k++) {
        if (!strcmp(s_queue_keys[k].key, name) && st->qkey_line[qi][k]) {
            return st->qkey_line[qi][k];
        }
    }
    return st->queue_line[qi];
}

static int s_check_queues(s_parse_t *st) {
    rt_policy_t *p = st->p;
    char field[RT_POLICY_NAME + 40];
    for (size_t i = 0; st->sec_line[S_SEC_QUEUE] && i < p->n_queues; i++) {
        rt_queue_policy_t *q = &p->queues[i];
#define S_FIELD(key) (snprintf(field, sizeof field, "queue %s.%s", q->name, key), field)
        if (q->promise_ms == 0) {
            return s_error(st, st->queue_line[i], S_FIELD("promise"),
                           "missing: every queue states the response time it promises");
        }
        if (q->target_answer_ms == 0) {
            q->target_answer_ms = q->promise_ms;
        }
        if (q->target_answer_ms > q->promise_ms) {
            return s_error(st, s_qline(st, i, "target_answer"), S_FIELD("target_answer"),
                           "must not be longer than the promise");
        }
        if (q->skill[0]) {
            bool known = false;
            for (size_t s = 0; s < p->n_skills && !known; s++) {
                known = !strcmp(p->skills[s], q->skill);
            }
            if (!known) {
                return s_error(st, s_qline(st, i, "skill"), S_FIELD("skill"),
                               "unknown skill \"%s\" (list it in [skills] names)", q->skill);
            }
        } else if (s_qline(st, i, "min_level") != st->queue_line[i]) {
            return s_error(st, s_qline(st, i, "min_level"), S_FIELD("min_level"),
                           "needs a skill in this queue");
        }
        if (q->overflow_to[0] && !rt_policy_queue(p, q->overflow_to)) {
            return s_error(st, s_qline(st, i, "overflow_to"), S_FIELD("overflow_to"),
                           "unknown queue \"%s\"", q->overflow_to);
        }
        if (q->overflow_to[0] && q->overflow_after_ms == 0) {
            return s_error(st, s_qline(st, i, "overflow_to"), S_FIELD("overflow_to"),
                           "set overflow_after too (how long to wait before overflowing)");
        }
        if (!q->overflow_to[0] && q->overflow_after_ms != 0) {
            return s_error(st, s_qline(st, i, "overflow_after"), S_FIELD("overflow_after"),
                           "set overflow_to too (the queue to overflow to)");
        }
    }
    /* Overflow cycles: follow each chain; more hops than queues means a loop. */
    for (size_t i = 0; i < p->n_queues; i++) {
        const rt_queue_policy_t *q = &p->queues[i];
        char path[RT_POLICY_MAX_QUEUES * (RT_POLICY_NAME + 4) + 64];
        size_t used = (size_t)snprintf(path, sizeof path, "%s", q->name);
        const rt_queue_policy_t *at = q;
        for (size_t hops = 0; at && at->overflow_to[0]; hops++) {
            at = rt_policy_queue(p, at->overflow_to);
            if (!at) {
                break;
            }
            used += (size_t)snprintf(path + used, sizeof path - used, " -> %s", at->name);
            if (at == q) {
                return s_error(st, s_qline(st, i, "overflow_to"), S_FIELD("overflow_to"),
                               "overflow cycle %s", path);
            }
            if (hops > p->n_queues) {
                break; /* a loop that does not include q: reported for its own queue */
            }
        }
#undef S_FIELD
    }
    return 0;
}

static int s_check_routing(s_parse_t *st) {
    const rt_policy_t *p = st->p;
    const char *names[3] = {p->voice_queue, p->human_chat_queue, p->async_queue};
    for (int i = 0; i < 3; i++) {
        if (!rt_policy_queue(p, names[i])) {
            char field[64];
            snprintf(field, sizeof field, "routing.%s", s_routing_keys[i].key);
            int line = st->key_line[S_SEC_ROUTING][i];
            return s_error(st, line ? line : st->sec_line[S_SEC_QUEUE], field,
                           "unknown queue \"%s\"%s", names[i],
                           line ? "" : " (define it or name another queue in [routing])");
        }
    }
    return 0;
}

static int s_check_thresholds(s_parse_t *st) {
    const rt_policy_t *p = st->p;
    if (p->urgent_threshold <= p->personal_threshold) {
        int ul = st->key_line[S_SEC_CLASSIFICATION][0], pl = st->key_line[S_SEC_CLASSIFICATION][1];
        bool at_urgent = ul >= pl;
        return s_error(st, at_urgent ? ul : pl,
                       at_urgent ? "classification.urgent_threshold"
                                 : "classification.personal_threshold",
                       "urgent_threshold (%d) must be greater than personal_threshold (%d)",
                       p->urgent_threshold, p->personal_threshold);
    }
    return 0;
}

/* The checks across the [phone] keys; an error names the key's line, or the window's. */
static int s_check_phone(s_parse_t *st) {
    const char *which = "";
    char problem[200], field[64];
    if (!rt_policy_phone_check(&st->p->phone, &which, problem, sizeof problem)) {
        return 0;
    }
    int line = 0;
    for (size_t k = 0; k < sizeof s_phone_keys / sizeof s_phone_keys[0]; k++) {
        if (!strcmp(s_phone_keys[k].key, which)) {
            line = st->key_line[S_SEC_PHONE][k];
        }
    }
    if (!line) { /* the default of which clashes with another key that was set */
        line =
            st->key_line[S_SEC_PHONE][1] ? st->key_line[S_SEC_PHONE][1] : st->sec_line[S_SEC_PHONE];
    }
    snprintf(field, sizeof field, "phone.%s", which);
    return s_error(st, line, field, "%s", problem);
}

/* Splits text into lines and feeds them to the section and key handlers. */
static int s_parse_lines(s_parse_t *st, const char *text) {
    const char *s = text;
    if (!strncmp(s, "\xEF\xBB\xBF", 3)) {
        s += 3; /* a UTF-8 byte order mark */
    }
    char *buf = malloc(S_MAX_LINE);
    if (!buf) {
        return s_error(st, 0, "(file)", "out of memory");
    }
    int rc = 0;
    while (*s && rc == 0) {
        st->line++;
        const char *start = s, *eol = strchr(s, '\n');
        size_t len = eol ? (size_t)(eol - s) : strlen(s);
        const char *here = st->sec == S_SEC_NONE ? "(start)" : st->label;
        s = eol ? eol + 1 : s + len;
        if (len >= S_MAX_LINE) {
            rc = s_error(st, st->line, here, "line longer than %d bytes", S_MAX_LINE - 1);
            break;
        }
        memcpy(buf, start, len);
        buf[len] = '\0';
        if (len > 0 && buf[len - 1] == '\r') {
            buf[--len] = '\0';
        }
        if (!s_utf8_valid(buf)) {
            rc = s_error(st, st->line, here, "not valid UTF-8");
            break;
        }
        for (size_t i = 0; i < len; i++) {
            if ((unsigned char)buf[i] < 0x20 && buf[i] != '\t') {
                rc = s_error(st, st->line, here, "contains a control character");
                break;
            }
        }
        char *line = s_trim(buf);
        if (rc != 0 || *line == '\0' || *line == '#') {
            continue;
        }
        if (*line == '[') {
            char *close = strrchr(line, ']');
            if (!close || *s_trim(close + 1) != '\0') {
                rc = s_error(st, st->line, line, "a section header is [name] alone on its line");
            } else {
                *close = '\0';
                rc = s_section(st, line + 1);
            }
        } else {
            rc = s_key_value(st, line);
        }
    }
    free(buf);
    return rc;
}

int rt_policy_parse(const char *text, rt_policy_t *out, char *err, size_t errlen) {
    char dummy[8];
    s_parse_t *st = calloc(1, sizeof *st);
    rt_policy_t *p = malloc(sizeof *p);
    if (!err || errlen == 0) {
        err = dummy;
        errlen = sizeof dummy;
    }
    err[0] = '\0';
    int rc = -1;
    if (!st || !p) {
        snprintf(err, errlen, "line 0: (file): out of memory");
        goto cleanup;
    }
    rt_policy_defaults(p, "");
    st->p = p;
    st->err = err;
    st->errlen = errlen;
    st->sec = S_SEC_NONE;
    if (s_parse_lines(st, text ? text : "") != 0 || s_merge_lexicons(st) != 0 ||
        s_check_queues(st) != 0 || s_check_routing(st) != 0 || s_check_thresholds(st) != 0 ||
        s_check_phone(st) != 0) {
        goto cleanup;
    }
    memcpy(out, p, sizeof *p);
    rc = 0;
cleanup:
    free(p);
    free(st);
    return rc;
}
