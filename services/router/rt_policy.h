/* rt_policy: a tenant's routing policy, parsed from the documented policy file format
 * (docs/policy.md) and validated with errors that name the field and the line. The router
 * keeps one parsed policy per tenant (see rt_policy_store.h) and passes the numbers the Lua
 * scripts need as arguments. */
#ifndef RT_POLICY_H
#define RT_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "rt_policy_phone.h"

#define RT_POLICY_MAX_QUEUES 16
#define RT_POLICY_MAX_SKILLS 32
#define RT_POLICY_MAX_WORDS 64
#define RT_POLICY_NAME 32
#define RT_POLICY_WORD 48
#define RT_POLICY_TEXT 256
/* Bytes of a lexicon entry's search needle (its normal form, see rt_lexicon.h). */
#define RT_POLICY_NEEDLE (RT_POLICY_WORD + 3)

typedef enum { RT_LANG_FI = 0, RT_LANG_SV, RT_LANG_EN, RT_LANG_COUNT } rt_lang_t;

typedef enum { RT_TENANT_ACTIVE = 0, RT_TENANT_SUSPENDED } rt_tenant_status_t;

typedef struct {
    char name[RT_POLICY_NAME];        /* [a-z0-9_-]+ */
    char skill[RT_POLICY_NAME];       /* required skill ("" = none) */
    int min_level;                    /* minimum skill level 1..5 */
    int languages;                    /* bit mask of rt_lang_t served in this queue */
    char overflow_to[RT_POLICY_NAME]; /* queue to overflow to ("" = none) */
    int64_t overflow_after_ms;        /* wait before overflowing (0 = never) */
    int64_t promise_ms;               /* the response time promised to customers */
    int64_t target_answer_ms;         /* service-level target (answered within) */
} rt_queue_policy_t;

typedef struct {
    /* Words or phrases (lowercase UTF-8) that signal urgency or a personal matter. */
    char urgent[RT_POLICY_MAX_WORDS][RT_POLICY_WORD];
    size_t n_urgent;
    char personal[RT_POLICY_MAX_WORDS][RT_POLICY_WORD];
    size_t n_personal;
    /* Each entry's search needle, normalised once by rt_lexicon_prepare when the lists are
     * built ("" for an entry with no word); classification matches these. */
    char urgent_needle[RT_POLICY_MAX_WORDS][RT_POLICY_NEEDLE];
    char personal_needle[RT_POLICY_MAX_WORDS][RT_POLICY_NEEDLE];
} rt_lexicon_t;

typedef struct {
    char tenant[RT_POLICY_NAME];
    rt_tenant_status_t status;
    char suspended_message[RT_POLICY_TEXT]; /* told to customers while suspended */

    rt_queue_policy_t queues[RT_POLICY_MAX_QUEUES];
    size_t n_queues;
    /* Which queue each kind of decision goes to (names of queues above). */
    char voice_queue[RT_POLICY_NAME];      /* urgent/personal on the phone; callbacks */
    char human_chat_queue[RT_POLICY_NAME]; /* urgent/personal without a phone number */
    char async_queue[RT_POLICY_NAME];      /* routine */

    rt_lexicon_t lexicons[RT_LANG_COUNT]; /* defaults filled in when the file has none */

    /* Classification thresholds and weights (scores 0..100). */
    int urgent_threshold;   /* score >= this is urgent */
    int personal_threshold; /* score >= this (and < urgent) is personal */
    int weight_choice_urgent, weight_choice_person, weight_lexicon_urgent, weight_lexicon_personal,
        weight_repeat, weight_first_contact, weight_vulnerable, weight_vip, weight_phone_channel;
    int64_t repeat_window_ms; /* a contact within this of the previous one is a repeat */

    /* Capacity: an agent has 100 units; what one contact of each channel costs. */
    int cost_phone, cost_chat, cost_email, cost_kiosk;
    int occupancy_cap_pct;          /* no new offers above this rolling occupancy */
    int64_t offer_lease_ms;         /* how long an offer waits for accept/decline */
    int not_responding_after;       /* timed-out offers in a row before "not responding" */
    int64_t recovery_pause_ms;      /* pause after a contact marked distressing */
    int64_t confirmation_window_ms; /* close unconfirmed resolutions after this */
    int64_t followup_after_ms;      /* follow-up after closing (7..14 days) */
    int64_t callback_threshold_ms;  /* offer a callback when the wait exceeds this */
    int64_t aging_ms_per_point;     /* queue order: each score point is worth this wait */

    /* Skills the queues may require ([skills] names); agents hold levels 1..5 of them. */
    char skills[RT_POLICY_MAX_SKILLS][RT_POLICY_NAME];
    size_t n_skills;

    /* [phone] and [phone_agents]: dialled numbers, static agent phones, callback promises. */
    rt_phone_policy_t phone;
} rt_policy_t;

/* Fills p with the built-in defaults for tenant (queues voice, human_chat, async; default
 * lexicons in fi, sv, en). */
void rt_policy_defaults(rt_policy_t *p, const char *tenant);

/* Parses and validates policy text (NUL-terminated UTF-8). Returns 0, or -1 with
 * "line N: field: problem" in err and out untouched. The result starts from
 * rt_policy_defaults(out, ""): unset values keep their defaults, out->tenant is [tenant] name
 * ("" when the file names none), and [queue] sections, when present, replace the default
 * queues. */
int rt_policy_parse(const char *text, rt_policy_t *out, char *err, size_t errlen);

/* Resets q to an empty queue named name (no skill, level 1, every language, no promise). */
void rt_policy_queue_defaults(rt_queue_policy_t *q, const char *name);

/* Parses a duration "<digits><unit>" with unit ms, s, m, h or d ("90s", "5m", "7d").
 * Returns 0, or -1 for anything else. */
int rt_policy_parse_duration(const char *text, int64_t *ms);

/* Writes ms in the largest unit that divides it exactly ("2m", "36h", "1500ms"). */
void rt_policy_format_duration(int64_t ms, char *buf, size_t len);

/* Lowercases ASCII letters and the Latin-1 capitals U+00C0..U+00DE (Å Ä Ö É Ü ...) in
 * place; other bytes are left alone. */
void rt_policy_lowercase(char *s);

/* 1 when name is 1..31 characters of a-z, 0-9, _ and - (tenant, queue and skill names). */
int rt_policy_name_valid(const char *name);

/* The queue named name, or NULL. */
const rt_queue_policy_t *rt_policy_queue(const rt_policy_t *p, const char *name);

/* "fi" -> RT_LANG_FI etc.; -1 when not one of fi, sv, en. */
int rt_lang_parse(const char *code);
const char *rt_lang_code(rt_lang_t lang);

#endif
