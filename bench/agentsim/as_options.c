/* as_options: table-driven command line parsing for hetki-agentsim. */
#include "as_options.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { S_LONG, S_DOUBLE, S_STRING, S_SEED } s_type_t;

typedef struct {
    const char *name;
    s_type_t type;
    void *target;
} s_opt_t;

/* Splits "a,b/c" into sets of words; fn fills one set from its words. Returns the count of
 * sets, or -1 when a word is refused. */
static int s_parse_sets(char *text, as_set_t *sets, int (*fn)(as_set_t *, const char *)) {
    int n = 0;
    char *save = NULL;
    for (char *set = strtok_r(text, "/", &save); set; set = strtok_r(NULL, "/", &save)) {
        if (n == AS_MAX_SETS) {
            return -1;
        }
        char *save2 = NULL;
        memset(&sets[n], 0, sizeof sets[n]);
        for (char *w = strtok_r(set, ",", &save2); w; w = strtok_r(NULL, ",", &save2)) {
            if (fn(&sets[n], w) != 0) {
                return -1;
            }
        }
        n++;
    }
    return n;
}

static int s_add_channel(as_set_t *s, const char *w) {
    static const char *const names[] = {"", "phone", "chat", "email", "kiosk"};
    for (int i = 1; i < 5; i++) {
        if (!strcmp(w, names[i]) && s->n_ch < 4) {
            s->ch[s->n_ch++] = (Hetki__V1__Channel)i;
            return 0;
        }
    }
    return -1;
}

static int s_add_lang(as_set_t *s, const char *w) {
    if ((strcmp(w, "fi") && strcmp(w, "sv") && strcmp(w, "en")) || s->n_lang >= 3) {
        return -1;
    }
    s->lang[s->n_lang++] = (char *)w;
    return 0;
}

static int s_parse_skills(as_opts_t *o, char *text) {
    char *save = NULL;
    for (char *w = strtok_r(text, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(w, ':');
        if (!colon || o->n_skills >= AS_MAX_SKILLS) {
            return -1;
        }
        *colon = '\0';
        Hetki__V1__Skill *s = &o->skill_store[o->n_skills];
        hetki__v1__skill__init(s);
        s->name = w;
        s->level = atoi(colon + 1);
        o->skills[o->n_skills++] = s;
    }
    return 0;
}

void as_options_usage(void) {
    fprintf(
        stderr,
        "usage: hetki-agentsim [--tenant T] [--agents N] [--prefix P] [--accept P]\n"
        "       [--decline P] [--handle-ms MS] [--think-ms MS] [--recover-ms MS]\n"
        "       [--duration-s S | --until-closed COUNT | --until-accepted COUNT]\n"
        "       [--seed N] [--capacity C]\n"
        "       [--channels chat,email,phone[/chat...]] [--languages fi,sv,en[/en...]]\n"
        "       [--skills name:level,...] [--wrap-code W] [--out FILE]\n"
        "       [--min-routers K] [--attempt-ms MS] [--wait-ms MS] [--progress-s S]\n"
        "Agent i is <prefix>-<i>; with several '/'-separated sets agent i gets set i mod n.\n"
        "Offers are accepted with --accept, declined with --decline, ignored otherwise.\n"
        "Routers are found in Redis (HETKI_REDIS_HOST/PORT) or given by\n"
        "HETKI_ROUTER_ENDPOINT and HETKI_ROUTER_EVENTS_ENDPOINT; SIGTERM stops with a summary.\n");
}

int as_options_parse(as_opts_t *o, int argc, char **argv) {
    const char *channels = "chat,email,phone", *languages = "fi,sv,en", *skills = "";
    *o = (as_opts_t){.agents = 100,
                     .capacity = 100,
                     .handle_ms = 1000,
                     .recover_ms = 500,
                     .min_routers = 1,
                     .attempt_ms = 2000,
                     .deadline_ms = 30000,
                     .wait_ms = 20000,
                     .p_accept = 0.8,
                     .p_decline = 0.1,
                     .seed = 1,
                     .tenant = "load",
                     .prefix = "sim",
                     .wrap_code = "resolved"};
    const s_opt_t table[] = {
        {"tenant", S_STRING, &o->tenant},
        {"agents", S_LONG, &o->agents},
        {"prefix", S_STRING, &o->prefix},
        {"accept", S_DOUBLE, &o->p_accept},
        {"decline", S_DOUBLE, &o->p_decline},
        {"handle-ms", S_LONG, &o->handle_ms},
        {"think-ms", S_LONG, &o->think_ms},
        {"recover-ms", S_LONG, &o->recover_ms},
        {"duration-s", S_LONG, &o->duration_s},
        {"until-closed", S_LONG, &o->until_closed},
        {"until-accepted", S_LONG, &o->until_accepted},
        {"seed", S_SEED, &o->seed},
        {"capacity", S_LONG, &o->capacity},
        {"channels", S_STRING, &channels},
        {"languages", S_STRING, &languages},
        {"skills", S_STRING, &skills},
        {"wrap-code", S_STRING, &o->wrap_code},
        {"out", S_STRING, &o->out_path},
        {"min-routers", S_LONG, &o->min_routers},
        {"attempt-ms", S_LONG, &o->attempt_ms},
        {"deadline-ms", S_LONG, &o->deadline_ms},
        {"wait-ms", S_LONG, &o->wait_ms},
        {"progress-s", S_LONG, &o->progress_s},
    };
    enum { N = sizeof table / sizeof table[0] };
    struct option longopts[N + 1];
    for (int i = 0; i < N; i++) {
        longopts[i] = (struct option){table[i].name, required_argument, NULL, i};
    }
    longopts[N] = (struct option){0, 0, 0, 0};
    int i;
    while ((i = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (i < 0 || i >= N) {
            return -1;
        }
        char *end = NULL;
        switch (table[i].type) {
        case S_LONG:
            *(long *)table[i].target = strtol(optarg, &end, 10);
            break;
        case S_DOUBLE:
            *(double *)table[i].target = strtod(optarg, &end);
            break;
        case S_SEED:
            *(unsigned long long *)table[i].target = strtoull(optarg, &end, 10);
            break;
        case S_STRING:
            *(const char **)table[i].target = optarg;
            break;
        }
        if (end && (*end || end == optarg)) {
            fprintf(stderr, "hetki-agentsim: --%s: not a number: %s\n", table[i].name, optarg);
            return -1;
        }
    }
    if (optind != argc || o->agents <= 0 || o->agents > 1000000 || o->p_accept < 0 ||
        o->p_decline < 0 || o->p_accept + o->p_decline > 1.0 + 1e-9 || o->handle_ms < 0 ||
        o->think_ms < 0 || o->capacity < 0 || o->capacity > 100 || o->min_routers < 1 ||
        o->attempt_ms < 10 || o->deadline_ms < o->attempt_ms || strlen(o->prefix) > 40 ||
        !o->wrap_code[0]) {
        fprintf(stderr, "hetki-agentsim: an option is out of range\n");
        return -1;
    }
    o->bufs[0] = strdup(channels);
    o->bufs[1] = strdup(languages);
    o->bufs[2] = strdup(skills);
    int nc = s_parse_sets(o->bufs[0], o->ch_sets, s_add_channel);
    int nl = s_parse_sets(o->bufs[1], o->lang_sets, s_add_lang);
    if (nc <= 0 || nl <= 0 || s_parse_skills(o, o->bufs[2]) != 0) {
        fprintf(stderr, "hetki-agentsim: bad --channels, --languages or --skills\n");
        return -1;
    }
    o->n_ch_sets = (size_t)nc;
    o->n_lang_sets = (size_t)nl;
    return 0;
}

void as_options_free(as_opts_t *o) {
    for (int i = 0; i < 3; i++) {
        free(o->bufs[i]);
        o->bufs[i] = NULL;
    }
}
