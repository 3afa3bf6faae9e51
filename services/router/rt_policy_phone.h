/* rt_policy_phone: the [phone] and [phone_agents] sections of a tenant policy
 * (docs/policy.md): the numbers callers dial to reach the tenant, static SIP URIs of agent
 * phones, and the callback promise settings (window, attempts, retry delay). The policy
 * parser (rt_policy_parse.c) calls these for the values; errors come back as a problem text
 * that the parser puts after "line N: field: ". hetki-phone reads the result from Redis
 * (written by `hetki policy load`), never this struct. */
#ifndef RT_POLICY_PHONE_H
#define RT_POLICY_PHONE_H

#include <stddef.h>
#include <stdint.h>

#define RT_PHONE_MAX_NUMBERS 32
#define RT_PHONE_MAX_AGENTS 256
#define RT_PHONE_NUMBER 17   /* "+" and up to 15 digits, NUL */
#define RT_PHONE_AGENT_ID 65 /* 1..64 characters of A-Z a-z 0-9 _ . : - */
#define RT_PHONE_URI 128

typedef struct {
    char agent[RT_PHONE_AGENT_ID];
    char uri[RT_PHONE_URI]; /* sip:... or sips:... */
} rt_phone_agent_t;

typedef struct {
    char numbers[RT_PHONE_MAX_NUMBERS][RT_PHONE_NUMBER]; /* normalised, see below */
    size_t n_numbers;
    rt_phone_agent_t agents[RT_PHONE_MAX_AGENTS];
    size_t n_agents;
    int64_t callback_window_ms;      /* a promise: "we call you back within this" */
    int callback_attempts;           /* calls to the customer before the promise is broken */
    int64_t callback_retry_after_ms; /* wait after an unanswered attempt */
    int language;                    /* rt_lang_t of announcements when the caller's is unknown */
} rt_phone_policy_t;

/* The built-in phone settings: no numbers, no static agents, a 2h window, 3 attempts, 10m
 * between attempts, Finnish announcements. */
void rt_policy_phone_defaults(rt_phone_policy_t *ph);

/* Normalises a dialled number: blanks, '-', '.', '(' and ')' are dropped; what is left must
 * be an optional leading '+' and 3..15 digits. Writes the result (at most RT_PHONE_NUMBER
 * bytes with the NUL) to out and returns NULL, or returns the problem. */
const char *rt_policy_phone_number(const char *text, char *out, size_t outlen);

/* Parses [phone] numbers: a comma-separated list of numbers (replaces the list). Returns
 * NULL or the problem written to problem. */
const char *rt_policy_phone_numbers(rt_phone_policy_t *ph, char *value, char *problem, size_t len);

/* Adds one [phone_agents] line: agent id = SIP URI. Returns NULL or the problem. */
const char *rt_policy_phone_agent(rt_phone_policy_t *ph, const char *agent, const char *uri,
                                  char *problem, size_t len);

/* The checks across the phone keys: returns NULL, or the problem with *which set to the key
 * it concerns ("callback_retry_after"). */
const char *rt_policy_phone_check(const rt_phone_policy_t *ph, const char **which, char *problem,
                                  size_t len);

/* The static SIP URI of agent, or NULL. */
const char *rt_policy_phone_agent_uri(const rt_phone_policy_t *ph, const char *agent);

#endif
