/* rt_policy: the built-in policy defaults (with the default fi/sv/en lexicons) and the small
 * helpers the policy format shares with its users: languages, names, durations, lowercasing.
 * The parser is rt_policy_parse.c. */
#include "rt_policy.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "rt_lexicon.h"

#define S_SEC 1000LL
#define S_MIN (60 * S_SEC)
#define S_HOUR (60 * S_MIN)
#define S_DAY (24 * S_HOUR)

/* The default lexicons, written as in a policy file. Entries ending in '*' match the start
 * of a word (Finnish and Swedish inflect; see rt_lexicon.h). */
static const char *const s_default_lexicons[RT_LANG_COUNT][2] = {
    {/* fi urgent */
     "kiire, kiirettä, kiireellinen, kiireesti, hätä, hätätapaus, heti, välittömästi, "
     "pikaisesti, akuutti, hätä*, varastettu, varastettiin, varastet*, varkaus, kadonnut, "
     "kadotin, katos*, "
     "hukkasin, petos, petok*, huijaus, huijattu, huija*, tietomurto, sulkekaa, sulje*, "
     "sulkea kortti, "
     "estäkää, ei toimi, vaara, vaarallinen, uhkaa*, onnettomuus, tulipalo, vesivahinko, vuotaa",
     /* fi personal */
     "kuolema, kuolem*, kuollut, kuoli, menehtyi, menehtynyt, suru, hautajaiset, kuolinpesä*, "
     "perunkirjoitus, sairas, sairaus, sairaala*, syöpä, leski, avioero, työtön, irtisanottu, "
     "konkurssi, ulosotto, valitus, valitu*, valittaa, reklamaat*, tyytymätön, epäkohtelias, "
     "loukkaava, "
     "ihminen, ihmisen kanssa, oikea ihminen, asiakaspalvelija*, puhua jonkun kanssa, "
     "henkilökohtainen, yksityisasia"},
    {/* sv urgent */
     "brådskande, brådskar, akut, genast, omedelbart, snabbt, nödläge, nödfall, stulen, stulet, "
     "stulna, stal, stals, stöld, bedrägeri*, bedragen, bluff, lurad, lurade, kapad, "
     "dataintrång, spärra, "
     "spärra kortet, borttappad, tappat, förlorat, farligt, hotad, hotar, olycka, brinner, "
     "vattenskada, läcker",
     /* sv personal */
     "dödsfall*, död, avled*, avliden, gick bort, sorg, begravning, dödsbo*, bouppteckning, "
     "sjuk, "
     "sjukdom, sjukhus*, cancer, änka, änkling, skilsmässa, arbetslös, uppsagd, konkurs, "
     "kronofogden, klagomål, klaga, reklamation, missnöjd, otrevlig, kränkande, människa, "
     "en människa, riktig person, prata med någon"},
    {/* en urgent */
     "urgent, urgently, emergency, immediately, right away, asap, as soon as possible, "
     "stolen, theft, fraud, fraudulent, scam, scammed, hacked, unauthorized, unauthorised, "
     "block my card, lost my card, danger, dangerous, threat, threatened, accident, "
     "fire, flooding, leaking",
     /* en personal */
     "death, died, passed away, bereavement, funeral, grief, illness, sick, hospital, cancer, "
     "widow, widower, divorce, unemployed, redundant, laid off, bankrupt, bankruptcy, "
     "debt collector, complaint, complain, unhappy, rude, offensive, human, a person, "
     "real person, talk to someone, speak to someone"},
};

int rt_lang_parse(const char *code) {
    static const char *const codes[RT_LANG_COUNT] = {"fi", "sv", "en"};
    for (int i = 0; i < RT_LANG_COUNT; i++) {
        if (code && !strcmp(code, codes[i])) {
            return i;
        }
    }
    return -1;
}

const char *rt_lang_code(rt_lang_t lang) {
    switch (lang) {
    case RT_LANG_FI:
        return "fi";
    case RT_LANG_SV:
        return "sv";
    case RT_LANG_EN:
        return "en";
    default:
        return "?";
    }
}

int rt_policy_name_valid(const char *name) {
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n >= RT_POLICY_NAME) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
            return 0;
        }
    }
    return 1;
}

void rt_policy_lowercase(char *s) {
    for (unsigned char *p = (unsigned char *)s; *p; p++) {
        if (*p >= 'A' && *p <= 'Z') {
            *p = (unsigned char)(*p + 32);
        } else if (*p == 0xC3 && p[1] >= 0x80 && p[1] <= 0x9E && p[1] != 0x97) {
            /* U+00C0..U+00DE (Å Ä Ö É Ü ...) -> U+00E0..U+00FE, except U+00D7 (x sign) */
            p[1] = (unsigned char)(p[1] + 0x20);
            p++;
        }
    }
}

int rt_policy_parse_duration(const char *text, int64_t *ms) {
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {{"ms", 1}, {"s", S_SEC}, {"m", S_MIN}, {"h", S_HOUR}, {"d", S_DAY}};
    const char *p = text;
    int64_t n = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9') {
        if (++digits > 12) {
            return -1;
        }
        n = n * 10 + (*p++ - '0');
    }
    if (digits == 0) {
        return -1;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (!strcmp(p, units[i].unit)) {
            *ms = n * units[i].ms;
            return 0;
        }
    }
    return -1;
}

void rt_policy_format_duration(int64_t ms, char *buf, size_t len) {
    if (ms != 0 && ms % S_DAY == 0) {
        snprintf(buf, len, "%lldd", (long long)(ms / S_DAY));
    } else if (ms != 0 && ms % S_HOUR == 0) {
        snprintf(buf, len, "%lldh", (long long)(ms / S_HOUR));
    } else if (ms != 0 && ms % S_MIN == 0) {
        snprintf(buf, len, "%lldm", (long long)(ms / S_MIN));
    } else if (ms % S_SEC == 0) {
        snprintf(buf, len, "%llds", (long long)(ms / S_SEC));
    } else {
        snprintf(buf, len, "%lldms", (long long)ms);
    }
}

/* Splits a default list ("a, b c, d") into dst. */
static void s_words_set(char (*dst)[RT_POLICY_WORD], size_t *n, const char *list) {
    *n = 0;
    for (const char *p = list; *p && *n < RT_POLICY_MAX_WORDS;) {
        size_t len = strcspn(p, ",");
        snprintf(dst[(*n)++], RT_POLICY_WORD, "%.*s", (int)len, p);
        p += len;
        while (*p == ',' || *p == ' ') {
            p++;
        }
    }
}

void rt_policy_queue_defaults(rt_queue_policy_t *q, const char *name) {
    memset(q, 0, sizeof *q);
    snprintf(q->name, sizeof q->name, "%s", name);
    q->min_level = 1;
    q->languages = (1 << RT_LANG_FI) | (1 << RT_LANG_SV) | (1 << RT_LANG_EN);
}

static void s_queue_default(rt_queue_policy_t *q, const char *name, int64_t promise,
                            int64_t target) {
    rt_policy_queue_defaults(q, name);
    q->promise_ms = promise;
    q->target_answer_ms = target;
}

void rt_policy_defaults(rt_policy_t *p, const char *tenant) {
    memset(p, 0, sizeof *p);
    snprintf(p->tenant, sizeof p->tenant, "%s", tenant ? tenant : "");
    p->status = RT_TENANT_ACTIVE;
    snprintf(p->suspended_message, sizeof p->suspended_message, "%s",
             "Emme ota juuri nyt vastaan uusia yhteydenottoja; viestisi on tallessa. / Vi tar "
             "inte emot nya ärenden just nu; ditt meddelande är sparat. / We are not taking new "
             "requests right now; your message is saved.");
    s_queue_default(&p->queues[0], "voice", 2 * S_MIN, 30 * S_SEC);
    s_queue_default(&p->queues[1], "human_chat", 5 * S_MIN, 1 * S_MIN);
    s_queue_default(&p->queues[2], "async", 24 * S_HOUR, 8 * S_HOUR);
    p->n_queues = 3;
    snprintf(p->voice_queue, sizeof p->voice_queue, "voice");
    snprintf(p->human_chat_queue, sizeof p->human_chat_queue, "human_chat");
    snprintf(p->async_queue, sizeof p->async_queue, "async");
    for (int l = 0; l < RT_LANG_COUNT; l++) {
        s_words_set(p->lexicons[l].urgent, &p->lexicons[l].n_urgent, s_default_lexicons[l][0]);
        s_words_set(p->lexicons[l].personal, &p->lexicons[l].n_personal, s_default_lexicons[l][1]);
        rt_lexicon_prepare(&p->lexicons[l]);
    }
    p->urgent_threshold = 80;
    p->personal_threshold = 50;
    p->weight_choice_urgent = 90;
    p->weight_choice_person = 60;
    p->weight_lexicon_urgent = 80;
    p->weight_lexicon_personal = 50;
    p->weight_repeat = 25;
    p->weight_first_contact = 15;
    p->weight_vulnerable = 40;
    p->weight_vip = 20;
    p->weight_phone_channel = 10;
    p->repeat_window_ms = 7 * S_DAY;
    p->cost_phone = 100;
    p->cost_chat = 33;
    p->cost_email = 20;
    p->cost_kiosk = 50;
    p->occupancy_cap_pct = 85;
    p->offer_lease_ms = 20 * S_SEC;
    p->not_responding_after = 2;
    p->recovery_pause_ms = 10 * S_MIN;
    p->confirmation_window_ms = 72 * S_HOUR;
    p->followup_after_ms = 10 * S_DAY;
    p->callback_threshold_ms = 3 * S_MIN;
    p->aging_ms_per_point = 6 * S_SEC;
    rt_policy_phone_defaults(&p->phone);
}

const rt_queue_policy_t *rt_policy_queue(const rt_policy_t *p, const char *name) {
    for (size_t i = 0; name && i < p->n_queues; i++) {
        if (!strcmp(p->queues[i].name, name)) {
            return &p->queues[i];
        }
    }
    return NULL;
}
