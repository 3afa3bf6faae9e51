/* as_options: the agent simulator's command line: run shape, behaviour probabilities and
 * the agents' profiles (channel and language sets, skills). */
#ifndef AS_OPTIONS_H
#define AS_OPTIONS_H

#include <stddef.h>

#include "hetki/v1/agent.pb-c.h"

#define AS_MAX_SETS 16
#define AS_MAX_SKILLS 16

/* One profile variant: agent i uses channel set i mod n and language set i mod n. */
typedef struct {
    Hetki__V1__Channel ch[4];
    size_t n_ch;
    char *lang[3];
    size_t n_lang;
} as_set_t;

typedef struct {
    long agents, capacity, handle_ms, think_ms, duration_s, until_closed, until_accepted;
    long recover_ms;
    long min_routers, attempt_ms, deadline_ms, wait_ms, progress_s;
    double p_accept, p_decline; /* ignore with the rest */
    unsigned long long seed;
    const char *tenant, *prefix, *out_path, *wrap_code;
    as_set_t ch_sets[AS_MAX_SETS], lang_sets[AS_MAX_SETS];
    size_t n_ch_sets, n_lang_sets;
    Hetki__V1__Skill skill_store[AS_MAX_SKILLS];
    Hetki__V1__Skill *skills[AS_MAX_SKILLS];
    size_t n_skills;
    char *bufs[3]; /* owned copies of the set texts */
} as_opts_t;

/* Parses argv into o (defaults first). Returns 0, or -1 after printing what is wrong. */
int as_options_parse(as_opts_t *o, int argc, char **argv);

/* Prints the usage text on stderr. */
void as_options_usage(void);

/* Frees what parsing allocated. */
void as_options_free(as_opts_t *o);

#endif
