/* test_policy: the tenant policy format (services/router/rt_policy*.c, docs/policy.md): the
 * defaults are valid and sensible, deploy/policies/demo.policy parses, a table of broken
 * files each fails with the right line and field, durations parse and print, lexicon
 * entries are lowercased (Å Ä Ö too), lexicon extras add to the defaults, and the [phone]
 * and [phone_agents] sections (numbers, static agent SIP URIs, callback settings). */
#include "hk_test.h"
#include "rt_policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef HETKI_SOURCE_DIR
#define HETKI_SOURCE_DIR "."
#endif

/* Three queues and routing, so that a test of one key is not tripped by another. */
#define S_QUEUES                                                                                   \
    "[queue voice]\npromise = 2m\n[queue human_chat]\npromise = 5m\n[queue async]\npromise = 8h\n"

static rt_policy_t s_p; /* large: not on the stack */

static int s_has_word(char (*list)[RT_POLICY_WORD], size_t n, const char *word) {
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(list[i], word)) {
            return 1;
        }
    }
    return 0;
}

static void s_test_defaults(void) {
    char err[512];
    rt_policy_defaults(&s_p, "acme");
    HK_CHECK_STR_EQ(s_p.tenant, "acme");
    HK_CHECK_INT_EQ(s_p.n_queues, 3);
    HK_CHECK(rt_policy_queue(&s_p, "voice") && rt_policy_queue(&s_p, "human_chat") &&
                 rt_policy_queue(&s_p, "async"),
             "default queues");
    HK_CHECK_INT_EQ(rt_policy_queue(&s_p, "voice")->promise_ms, 120000);
    HK_CHECK_INT_EQ(rt_policy_queue(&s_p, "voice")->languages, 7);
    HK_CHECK_INT_EQ(rt_policy_queue(&s_p, "human_chat")->promise_ms, 300000);
    HK_CHECK_INT_EQ(rt_policy_queue(&s_p, "async")->promise_ms, 86400000);
    HK_CHECK(rt_policy_queue(&s_p, "nope") == NULL, "unknown queue");
    HK_CHECK_INT_EQ(s_p.urgent_threshold, 80);
    HK_CHECK_INT_EQ(s_p.personal_threshold, 50);
    HK_CHECK_INT_EQ(s_p.weight_choice_urgent, 90);
    HK_CHECK_INT_EQ(s_p.weight_phone_channel, 10);
    HK_CHECK_INT_EQ(s_p.repeat_window_ms, 7LL * 86400000);
    HK_CHECK_INT_EQ(s_p.cost_phone + s_p.cost_chat + s_p.cost_email + s_p.cost_kiosk, 203);
    HK_CHECK_INT_EQ(s_p.occupancy_cap_pct, 85);
    HK_CHECK_INT_EQ(s_p.offer_lease_ms, 20000);
    HK_CHECK_INT_EQ(s_p.not_responding_after, 2);
    HK_CHECK_INT_EQ(s_p.recovery_pause_ms, 600000);
    HK_CHECK_INT_EQ(s_p.confirmation_window_ms, 72LL * 3600000);
    HK_CHECK_INT_EQ(s_p.followup_after_ms, 10LL * 86400000);
    HK_CHECK_INT_EQ(s_p.callback_threshold_ms, 180000);
    HK_CHECK_INT_EQ(s_p.aging_ms_per_point, 6000);
    HK_CHECK_STR_EQ(s_p.voice_queue, "voice");
    /* Each default lexicon: 20..40 entries, already lowercase, no duplicates. */
    for (int l = 0; l < RT_LANG_COUNT; l++) {
        rt_lexicon_t *lex = &s_p.lexicons[l];
        HK_CHECK(lex->n_urgent >= 20 && lex->n_urgent <= 40, "%s urgent has %zu",
                 rt_lang_code((rt_lang_t)l), lex->n_urgent);
        HK_CHECK(lex->n_personal >= 20 && lex->n_personal <= 40, "%s personal has %zu",
                 rt_lang_code((rt_lang_t)l), lex->n_personal);
        for (int kind = 0; kind < 2; kind++) {
            char(*list)[RT_POLICY_WORD] = kind ? lex->personal : lex->urgent;
            size_t n = kind ? lex->n_personal : lex->n_urgent;
            for (size_t i = 0; i < n; i++) {
                char low[RT_POLICY_WORD];
                snprintf(low, sizeof low, "%s", list[i]);
                rt_policy_lowercase(low);
                HK_CHECK_STR_EQ(list[i], low);
                HK_CHECK(strlen(list[i]) >= 2, "short entry \"%s\"", list[i]);
                for (size_t j = 0; j < i; j++) {
                    HK_CHECK(strcmp(list[i], list[j]) != 0, "duplicate \"%s\"", list[i]);
                }
            }
        }
    }
    HK_CHECK(s_has_word(s_p.lexicons[RT_LANG_FI].urgent, s_p.lexicons[RT_LANG_FI].n_urgent, "hätä"),
             "fi urgent hätä");
    HK_CHECK(s_has_word(s_p.lexicons[RT_LANG_SV].personal, s_p.lexicons[RT_LANG_SV].n_personal,
                        "dödsfall*"),
             "sv personal dödsfall*");
    HK_CHECK(s_has_word(s_p.lexicons[RT_LANG_EN].personal, s_p.lexicons[RT_LANG_EN].n_personal,
                        "passed away"),
             "en personal passed away");
    /* The empty file is valid and is exactly the defaults (with no tenant name). */
    static rt_policy_t empty, defaults;
    HK_CHECK(rt_policy_parse("", &empty, err, sizeof err) == 0, "empty file: %s", err);
    rt_policy_defaults(&defaults, "");
    HK_CHECK(memcmp(&empty, &defaults, sizeof empty) == 0, "empty file differs from defaults");
    HK_CHECK(rt_policy_parse("# only a comment\n\n   \n", &empty, err, sizeof err) == 0, "%s", err);
}

static void s_test_demo(void) {
    char path[512], err[512];
    const char *dir = getenv("HETKI_SOURCE_DIR") ? getenv("HETKI_SOURCE_DIR") : HETKI_SOURCE_DIR;
    snprintf(path, sizeof path, "%s/deploy/policies/demo.policy", dir);
    FILE *f = fopen(path, "rb");
    HK_CHECK(f != NULL, "cannot open %s", path);
    static char text[65536];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    HK_CHECK(rt_policy_parse(text, &s_p, err, sizeof err) == 0, "demo.policy: %s", err);
    HK_CHECK_STR_EQ(s_p.tenant, "demo");
    HK_CHECK_INT_EQ(s_p.status, RT_TENANT_ACTIVE);
    const rt_queue_policy_t *cards = rt_policy_queue(&s_p, "cards");
    HK_CHECK(cards != NULL, "demo has a cards queue");
    HK_CHECK_STR_EQ(cards->skill, "cards");
    HK_CHECK_INT_EQ(cards->min_level, 3);
    HK_CHECK_STR_EQ(cards->overflow_to, "voice");
    HK_CHECK_INT_EQ(cards->overflow_after_ms, 120000);
    HK_CHECK(rt_policy_queue(&s_p, "voice") && rt_policy_queue(&s_p, "human_chat") &&
                 rt_policy_queue(&s_p, "async"),
             "demo keeps the three routing queues");
    HK_CHECK_INT_EQ(rt_policy_queue(&s_p, "estates")->languages, 3); /* fi, sv */
    HK_CHECK_INT_EQ(s_p.occupancy_cap_pct, 85);
    rt_policy_t def;
    rt_policy_defaults(&def, "demo");
    for (int l = 0; l < RT_LANG_COUNT; l++) { /* every lexicon extended */
        HK_CHECK(s_p.lexicons[l].n_urgent > def.lexicons[l].n_urgent, "%s urgent not extended",
                 rt_lang_code((rt_lang_t)l));
        HK_CHECK(s_p.lexicons[l].n_personal > def.lexicons[l].n_personal,
                 "%s personal not extended", rt_lang_code((rt_lang_t)l));
    }
    HK_CHECK(s_has_word(s_p.lexicons[RT_LANG_FI].urgent, s_p.lexicons[RT_LANG_FI].n_urgent,
                        "kortti kadonnut"),
             "fi extra");
    HK_CHECK(
        s_has_word(s_p.lexicons[RT_LANG_FI].urgent, s_p.lexicons[RT_LANG_FI].n_urgent, "kiire"),
        "fi default kept");
}

typedef struct {
    const char *text;
    const char *prefix; /* "line N: field:" */
    const char *words;  /* part of the problem text ("" = any) */
} s_bad_t;

static const s_bad_t s_bad[] = {
    {"[tenant]\nname = Demo\n", "line 2: tenant.name:", "a-z"},
    {"[tenant]\nname = demo\nstatus = paused\n", "line 3: tenant.status:", "active or suspended"},
    {"[queue voice]\npromise = 2m\noverflow_to = async\noverflow_after = 90\n",
     "line 4: queue voice.overflow_after:", "expected a duration like 90s, 5m, 2h"},
    {"[tenant]\nname = x\n\n[weather]\n", "line 4: [weather]:", "unknown section"},
    {"[capacity]\nphone = 100\nfax = 10\n", "line 3: capacity.fax:", "unknown key"},
    {"[queue a]\npromise = 1m\n[queue b]\npromise = 1m\n[queue a]\n",
     "line 5: [queue a]:", "defined twice (first on line 1)"},
    {S_QUEUES "[queue cards]\npromise = 2m\noverflow_to = nowhere\noverflow_after = 1m\n",
     "line 9: queue cards.overflow_to:", "unknown queue \"nowhere\""},
    {S_QUEUES "[queue a]\npromise = 1m\noverflow_to = b\noverflow_after = 1m\n"
              "[queue b]\npromise = 1m\noverflow_to = a\noverflow_after = 1m\n",
     "line 9: queue a.overflow_to:", "overflow cycle a -> b -> a"},
    {S_QUEUES "[queue a]\npromise = 1m\noverflow_to = a\noverflow_after = 1m\n",
     "line 9: queue a.overflow_to:", "overflow cycle a -> a"},
    {S_QUEUES "[routing]\nasync_queue = email\n",
     "line 8: routing.async_queue:", "unknown queue \"email\""},
    {"[queue phone]\npromise = 2m\n", "line 1: routing.voice_queue:", "unknown queue \"voice\""},
    {"[lexicon de]\nurgent = dringend\n", "line 1: [lexicon de]:", "fi, sv or en"},
    {"[queue voice]\npromise = 2m\nlanguages = fi, de\n",
     "line 3: queue voice.languages:", "unknown language \"de\""},
    {"[classification]\nurgent_threshold = 40\n",
     "line 2: classification.urgent_threshold:", "greater than personal_threshold"},
    {"[classification]\nurgent_threshold = 70\npersonal_threshold = 75\n",
     "line 3: classification.personal_threshold:", "greater than personal_threshold"},
    {"[capacity]\nchat = 0\n", "line 2: capacity.chat:", "between 1 and 100"},
    {"[capacity]\nphone = 101\n", "line 2: capacity.phone:", "between 1 and 100"},
    {"[capacity]\nkiosk = lots\n", "line 2: capacity.kiosk:", "whole number"},
    {"[capacity]\noccupancy_cap = 120%\n", "line 2: capacity.occupancy_cap:", "between 1 and 100"},
    {"[lifecycle]\nfollowup_after = 3d\n", "line 2: lifecycle.followup_after:",
     "between 7d and 14d (a follow-up goes out 1-2 weeks after resolution)"},
    {"[lifecycle]\nfollowup_after = 15d\n", "line 2: lifecycle.followup_after:", "7d and 14d"},
    {"name = demo\n", "line 1: name:", "outside any section"},
    {"[tenant]\nname demo\n", "line 2: tenant:", "expected key = value"},
    {"[agents]\noffer_lease = 20s\noffer_lease = 30s\n",
     "line 3: agents.offer_lease:", "set twice (first on line 2)"},
    {"[lexicon fi]\nurgent = kiire, , heti\n", "line 2: lexicon fi.urgent:", "empty entry"},
    {"[lexicon en]\nurgent = call 112\n", "line 2: lexicon en.urgent:", "only letters"},
    {"[queue voice]\nlanguages = fi\n", "line 1: queue voice.promise:", "missing"},
    {"[skills]\nnames = cards\n" S_QUEUES "[queue c]\npromise = 2m\nskill = crads\n",
     "line 11: queue c.skill:", "unknown skill \"crads\""},
    {"[tenant]\nsuspended_message = caf\xC3\n", "line 2: tenant:", "not valid UTF-8"},
    {"[tenant]\n[tenant]\n", "line 2: [tenant]:", "appears twice (first on line 1)"},
    {"[queue voice]\npromise = 2m\noverflow_to = async\n"
     "[queue human_chat]\npromise = 5m\n"
     "[queue async]\npromise = 8h\n",
     "line 3: queue voice.overflow_to:", "set overflow_after too"},
    {"# comment\n\n[agents]\n   # indented comment\nrecovery_pause = soon\n",
     "line 5: agents.recovery_pause:", "expected a duration"},
    {"[agents]\r\nnot_responding_after = 0\r\n",
     "line 2: agents.not_responding_after:", "between 1 and 100"},
    {"[queue voice]\npromise = 1m\ntarget_answer = 2m\n",
     "line 3: queue voice.target_answer:", "not be longer than the promise"},
    {"[queue voice]\npromise = 2m\nmin_level = 3\n",
     "line 3: queue voice.min_level:", "needs a skill"},
    {"[queue Voice]\n", "line 1: [queue Voice]:", "needs a name"},
    {"[agents]\noffer_lease = 1h\n", "line 2: agents.offer_lease:", "between 1s and 10m"},
    {"[tenant\n", "line 1: [tenant:", "alone on its line"},
    {"[lexicon sv]\npersonal = ok\npersonal_extra = död*x\n",
     "line 3: lexicon sv.personal_extra:", "* at the end"},
    {"[lexicon fi]\nurgent_extra = k*\n", "line 2: lexicon fi.urgent_extra:", "shorter than 2"},
    /* [phone] and [phone_agents] */
    {"[phone]\nnumbers = +358 9 123, 0800-FLOWERS\n",
     "line 2: phone.numbers:", "\"0800-FLOWERS\": a number holds digits"},
    {"[phone]\nnumbers = +358 9 123, +3589123\n",
     "line 2: phone.numbers:", "number +3589123 listed twice"},
    {"[phone]\nnumbers = 12\n", "line 2: phone.numbers:", "at least 3 digits"},
    {"[phone]\nnumbers = +1234567890123456\n", "line 2: phone.numbers:", "at most 15 digits"},
    {"[phone]\nnumbers = +358 9 123,\n", "line 2: phone.numbers:", "at least 3 digits"},
    {"[phone]\nnumbers = 1+23\n", "line 2: phone.numbers:", "a number holds digits"},
    {"[phone]\ncallback_window = 30s\n", "line 2: phone.callback_window:", "between 1m and 7d"},
    {"[phone]\ncallback_attempts = 0\n", "line 2: phone.callback_attempts:", "between 1 and 10"},
    {"[phone]\ncallback_retry_after = 0s\n",
     "line 2: phone.callback_retry_after:", "between 1s and 1d"},
    {"[phone]\ncallback_window = 1h\ncallback_retry_after = 2h\n",
     "line 3: phone.callback_retry_after:", "shorter than callback_window"},
    {"[phone]\ncallback_window = 5m\n",
     "line 2: phone.callback_retry_after:", "shorter than callback_window"},
    {"[phone]\nlanguage = de\n", "line 2: phone.language:", "fi, sv or en"},
    {"[phone]\nagent.alice = sip:alice@host\n", "line 2: phone.agent.alice:", "unknown key"},
    {"[phone agents]\n", "line 1: [phone agents]:", "takes no name"},
    {"[phone_agents]\nalice = alice@10.0.0.5\n",
     "line 2: phone_agents.alice:", "expected a SIP URI"},
    {"[phone_agents]\nalice = sip:\n", "line 2: phone_agents.alice:", "no host"},
    {"[phone_agents]\nalice = sip:alice@\n", "line 2: phone_agents.alice:", "no host"},
    {"[phone_agents]\nalice = sip:al ice@host\n", "line 2: phone_agents.alice:", "without blanks"},
    {"[phone_agents]\nal ice = sip:alice@host\n",
     "line 2: phone_agents.al ice:", "an agent id is 1 to 64"},
    {"[phone_agents]\nalice = sip:a@h\nbob = sip:b@h\nalice = sip:c@h\n",
     "line 4: phone_agents.alice:", "listed twice"},
    {"[phone_agents]\nalice =\n", "line 2: phone_agents.alice:", "missing value"},
    {"[phone]\n[phone]\n", "line 2: [phone]:", "appears twice (first on line 1)"},
};

static void s_test_errors(void) {
    char err[512];
    size_t n = sizeof s_bad / sizeof s_bad[0];
    HK_CHECK(n >= 15, "at least 15 broken inputs");
    for (size_t i = 0; i < n; i++) {
        memset(&s_p, 0x5A, sizeof s_p);
        int rc = rt_policy_parse(s_bad[i].text, &s_p, err, sizeof err);
        HK_EXPECT(rc == -1, "case %zu parsed but should fail: %s", i, s_bad[i].text);
        HK_EXPECT(strncmp(err, s_bad[i].prefix, strlen(s_bad[i].prefix)) == 0,
                  "case %zu: error \"%s\", expected it to start with \"%s\"", i, err,
                  s_bad[i].prefix);
        HK_EXPECT(strstr(err, s_bad[i].words) != NULL, "case %zu: error \"%s\" lacks \"%s\"", i,
                  err, s_bad[i].words);
        HK_EXPECT(((unsigned char *)&s_p)[0] == 0x5A, "case %zu: out changed on failure", i);
    }
}

static void s_test_durations(void) {
    static const struct {
        const char *text;
        long long ms;
    } ok[] = {{"30s", 30000},    {"5m", 300000},      {"2h", 7200000},
              {"7d", 604800000}, {"250ms", 250},      {"0s", 0},
              {"90s", 90000},    {"14d", 1209600000}, {"999999999999ms", 999999999999LL}};
    static const char *const bad[] = {"",   "5",   "5 m", "m",  "5min",           "-5s",  "1.5h",
                                      "5M", "5s ", " 5s", "1w", "1234567890123s", "5mss", "s5"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t ms = -1;
        HK_CHECK(rt_policy_parse_duration(ok[i].text, &ms) == 0, "\"%s\" rejected", ok[i].text);
        HK_CHECK_INT_EQ(ms, ok[i].ms);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms = 0;
        HK_CHECK(rt_policy_parse_duration(bad[i], &ms) == -1, "\"%s\" accepted", bad[i]);
    }
    static const struct {
        long long ms;
        const char *text;
    } fmt[] = {{0, "0s"},      {1500, "1500ms"}, {30000, "30s"},     {120000, "2m"},
               {90000, "90s"}, {3600000, "1h"},  {129600000, "36h"}, {864000000, "10d"}};
    for (size_t i = 0; i < sizeof fmt / sizeof fmt[0]; i++) {
        char buf[32];
        rt_policy_format_duration(fmt[i].ms, buf, sizeof buf);
        HK_CHECK_STR_EQ(buf, fmt[i].text);
    }
    /* A duration key takes each unit. */
    char err[512];
    HK_CHECK(rt_policy_parse("[agents]\noffer_lease = 1500ms\nrecovery_pause = 2h\n"
                             "[lifecycle]\nconfirmation_window = 3d\ncallback_threshold = 0s\n",
                             &s_p, err, sizeof err) == 0,
             "%s", err);
    HK_CHECK_INT_EQ(s_p.offer_lease_ms, 1500);
    HK_CHECK_INT_EQ(s_p.recovery_pause_ms, 7200000);
    HK_CHECK_INT_EQ(s_p.confirmation_window_ms, 3LL * 86400000);
    HK_CHECK_INT_EQ(s_p.callback_threshold_ms, 0);
}

static void s_test_lowercase(void) {
    char s[64] = "ÅÄÖ åäö ÉÜ ABC xyz × Æ";
    rt_policy_lowercase(s);
    HK_CHECK_STR_EQ(s, "åäö åäö éü abc xyz × æ");
    char err[512];
    HK_CHECK(rt_policy_parse("[lexicon sv]\nurgent = BRÅDSKANDE,   Akut   Hjälp , ÖVERFALL*\n"
                             "[lexicon fi]\npersonal = KUOLEMA, Hätä, kuolema\n",
                             &s_p, err, sizeof err) == 0,
             "%s", err);
    rt_lexicon_t *sv = &s_p.lexicons[RT_LANG_SV];
    HK_CHECK_INT_EQ(sv->n_urgent, 3);
    HK_CHECK_STR_EQ(sv->urgent[0], "brådskande");
    HK_CHECK_STR_EQ(sv->urgent[1], "akut hjälp");
    HK_CHECK_STR_EQ(sv->urgent[2], "överfall*");
    rt_lexicon_t *fi = &s_p.lexicons[RT_LANG_FI];
    HK_CHECK_INT_EQ(fi->n_personal, 2); /* the duplicate collapses */
    HK_CHECK_STR_EQ(fi->personal[0], "kuolema");
    HK_CHECK_STR_EQ(fi->personal[1], "hätä");
    rt_policy_t def;
    rt_policy_defaults(&def, "");
    HK_CHECK_INT_EQ(fi->n_urgent, def.lexicons[RT_LANG_FI].n_urgent); /* untouched */
}

static void s_test_values(void) {
    char err[512];
    rt_policy_t def;
    rt_policy_defaults(&def, "");
    /* extras add to the defaults; an empty list turns a signal off */
    HK_CHECK(rt_policy_parse("[lexicon en]\nurgent_extra = Card Missing, urgent\npersonal =\n",
                             &s_p, err, sizeof err) == 0,
             "%s", err);
    HK_CHECK_INT_EQ(s_p.lexicons[RT_LANG_EN].n_urgent, def.lexicons[RT_LANG_EN].n_urgent + 1);
    HK_CHECK(s_has_word(s_p.lexicons[RT_LANG_EN].urgent, s_p.lexicons[RT_LANG_EN].n_urgent,
                        "card missing"),
             "extra added");
    HK_CHECK_INT_EQ(s_p.lexicons[RT_LANG_EN].n_personal, 0);
    /* suspension, and a queue without overflow spelled "none" */
    HK_CHECK(rt_policy_parse("\xEF\xBB\xBF[tenant]\nname = acme-2\nstatus = suspended\n"
                             "suspended_message = Palaamme pian: viestisi on tallessa.\n"
                             "[skills]\nnames = cards, loans\n" S_QUEUES
                             "[queue x]\nskill = loans\nmin_level = 5\noverflow_to = none\n"
                             "promise = 1h\n[capacity]\noccupancy_cap = 70\n",
                             &s_p, err, sizeof err) == 0,
             "%s", err);
    HK_CHECK_STR_EQ(s_p.tenant, "acme-2");
    HK_CHECK_INT_EQ(s_p.status, RT_TENANT_SUSPENDED);
    HK_CHECK_STR_EQ(s_p.suspended_message, "Palaamme pian: viestisi on tallessa.");
    HK_CHECK_INT_EQ(s_p.n_skills, 2);
    HK_CHECK_INT_EQ(s_p.n_queues, 4);
    const rt_queue_policy_t *x = rt_policy_queue(&s_p, "x");
    HK_CHECK(x != NULL, "queue x");
    HK_CHECK_STR_EQ(x->overflow_to, "");
    HK_CHECK_INT_EQ(x->min_level, 5);
    HK_CHECK_INT_EQ(x->target_answer_ms, 3600000); /* defaults to the promise */
    HK_CHECK_INT_EQ(s_p.occupancy_cap_pct, 70);
    HK_CHECK_INT_EQ(rt_lang_parse("sv"), RT_LANG_SV);
    HK_CHECK_INT_EQ(rt_lang_parse("de"), -1);
    HK_CHECK_STR_EQ(rt_lang_code(RT_LANG_EN), "en");
    HK_CHECK(rt_policy_name_valid("a_b-9") && !rt_policy_name_valid("") &&
                 !rt_policy_name_valid("A") && !rt_policy_name_valid("a b") &&
                 !rt_policy_name_valid("abcdefghijabcdefghijabcdefghijab"),
             "names");
    /* Errors never overflow the caller's buffer. */
    char tiny[12];
    HK_CHECK(rt_policy_parse("[nope]\n", &s_p, tiny, sizeof tiny) == -1, "tiny buffer");
    HK_CHECK_INT_EQ(strlen(tiny), sizeof tiny - 1);
}

static void s_test_phone(void) {
    char err[512];
    rt_policy_defaults(&s_p, "x");
    HK_CHECK_INT_EQ(s_p.phone.n_numbers, 0);
    HK_CHECK_INT_EQ(s_p.phone.n_agents, 0);
    HK_CHECK_INT_EQ(s_p.phone.callback_window_ms, 7200000);
    HK_CHECK_INT_EQ(s_p.phone.callback_attempts, 3);
    HK_CHECK_INT_EQ(s_p.phone.callback_retry_after_ms, 600000);
    HK_CHECK_INT_EQ(s_p.phone.language, RT_LANG_FI);
    HK_CHECK(rt_policy_parse("[phone]\nnumbers = +358 9 4289 9000, (09) 123-456, 5000\n"
                             "callback_window = 90m\ncallback_attempts = 5\n"
                             "callback_retry_after = 2m\nlanguage = sv\n"
                             "[phone_agents]\nalice = sip:alice@10.0.0.5:5070\n"
                             "agent.b:2 = sips:b@pbx.example.com;transport=tcp\n",
                             &s_p, err, sizeof err) == 0,
             "%s", err);
    HK_CHECK_INT_EQ(s_p.phone.n_numbers, 3);
    HK_CHECK_STR_EQ(s_p.phone.numbers[0], "+358942899000");
    HK_CHECK_STR_EQ(s_p.phone.numbers[1], "09123456");
    HK_CHECK_STR_EQ(s_p.phone.numbers[2], "5000");
    HK_CHECK_INT_EQ(s_p.phone.callback_window_ms, 90 * 60000);
    HK_CHECK_INT_EQ(s_p.phone.callback_attempts, 5);
    HK_CHECK_INT_EQ(s_p.phone.callback_retry_after_ms, 120000);
    HK_CHECK_INT_EQ(s_p.phone.language, RT_LANG_SV);
    HK_CHECK_INT_EQ(s_p.phone.n_agents, 2);
    HK_CHECK_STR_EQ(rt_policy_phone_agent_uri(&s_p.phone, "alice"), "sip:alice@10.0.0.5:5070");
    HK_CHECK_STR_EQ(rt_policy_phone_agent_uri(&s_p.phone, "agent.b:2"),
                    "sips:b@pbx.example.com;transport=tcp");
    HK_CHECK(rt_policy_phone_agent_uri(&s_p.phone, "carol") == NULL, "no carol");
    char num[RT_PHONE_NUMBER];
    HK_CHECK(rt_policy_phone_number(" +358 (40) 123-45.67 ", num, sizeof num) == NULL, "number");
    HK_CHECK_STR_EQ(num, "+358401234567");
    HK_CHECK(rt_policy_phone_number("+", num, sizeof num) != NULL, "a lone +");
    /* An empty [phone] keeps the defaults. */
    HK_CHECK(rt_policy_parse("[phone]\n[phone_agents]\n", &s_p, err, sizeof err) == 0, "%s", err);
    HK_CHECK_INT_EQ(s_p.phone.callback_attempts, 3);
    /* 32 numbers fit, 33 do not. */
    static char text[4096];
    size_t used = (size_t)snprintf(text, sizeof text, "[phone]\nnumbers = ");
    for (int i = 0; i < 33; i++) {
        used += (size_t)snprintf(text + used, sizeof text - used, "%s+35810%04d", i ? ", " : "", i);
    }
    HK_CHECK(rt_policy_parse(text, &s_p, err, sizeof err) == -1, "33 numbers accepted");
    HK_CHECK_CONTAINS(err, "more than 32 numbers");
    text[strlen(text) - strlen(", +358100032")] = '\0';
    HK_CHECK(rt_policy_parse(text, &s_p, err, sizeof err) == 0, "%s", err);
    HK_CHECK_INT_EQ(s_p.phone.n_numbers, 32);
}

int main(void) {
    s_test_defaults();
    s_test_phone();
    s_test_demo();
    s_test_errors();
    s_test_durations();
    s_test_lowercase();
    s_test_values();
    int code = HK_TEST_EXIT();
    if (code == 0) {
        printf("test_policy: ok (%zu broken inputs)\n", sizeof s_bad / sizeof s_bad[0]);
    }
    return code;
}
