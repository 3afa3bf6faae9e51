/* test_ph_prompts: the announcement clips generated at build time are embedded for fi, sv and
 * en, are plausible speech (length, not silent, mu-law), and spoken times and callback
 * windows are composed from the right clips in each language. */
#include "hk_test.h"
#include "ph_prompts.h"

static const char *s_langs[] = {"fi", "sv", "en"};
static const char *s_names[] = {
    PH_PROMPT_WELCOME,    PH_PROMPT_PRESS1,     PH_PROMPT_WINDOW_PRE,
    PH_PROMPT_WINDOW_AND, PH_PROMPT_GOODBYE,    PH_PROMPT_CALLBACK_BYE,
    PH_PROMPT_CLOSED,     PH_PROMPT_CONNECTING, PH_PROMPT_CALLBACK_HELLO};

/* Speech, not silence: a fair share of samples well away from zero (mu-law 0xFF/0x7F). */
static void s_check_speech(const ph_audio_t *a, const char *what, long min_ms, long max_ms) {
    HK_CHECK(a && a->data && a->len > 0, "%s missing", what);
    long ms = (long)(a->len / 8);
    HK_CHECK(ms >= min_ms && ms <= max_ms, "%s lasts %ld ms, expected %ld..%ld", what, ms, min_ms,
             max_ms);
    size_t loud = 0;
    for (size_t i = 0; i < a->len; i++) {
        int mag = 0x7F - (a->data[i] & 0x7F); /* mu-law: 0x7F/0xFF are the quietest */
        if (mag > 0x30) {
            loud++;
        }
    }
    HK_CHECK(loud * 10 > a->len, "%s is mostly silence (%zu of %zu loud)", what, loud, a->len);
}

static void s_test_clips(void) {
    char what[64];
    for (size_t l = 0; l < 3; l++) {
        for (size_t i = 0; i < sizeof s_names / sizeof s_names[0]; i++) {
            snprintf(what, sizeof what, "%s/%s", s_langs[l], s_names[i]);
            s_check_speech(ph_prompts_get(s_langs[l], s_names[i]), what, 150, 12000);
        }
        for (int n = 0; n <= 50; n++) {
            if (n > 23 && n % 10 != 0) {
                continue;
            }
            char name[8];
            snprintf(name, sizeof name, "n%d", n);
            snprintf(what, sizeof what, "%s/%s", s_langs[l], name);
            s_check_speech(ph_prompts_get(s_langs[l], name), what, 100, 2500);
        }
    }
    /* the welcome is short enough to be reassuring, not a lecture */
    for (size_t l = 0; l < 3; l++) {
        const ph_audio_t *w = ph_prompts_get(s_langs[l], PH_PROMPT_WELCOME);
        HK_CHECK(w->len / 8 < 9000, "%s welcome lasts %zu ms", s_langs[l], w->len / 8);
    }
    HK_CHECK(ph_prompts_get("fi", PH_PROMPT_WINDOW_POST) != NULL, "fi window_post");
    HK_CHECK(ph_prompts_get("en", PH_PROMPT_WINDOW_POST) == NULL, "en has no window_post");
    HK_CHECK(ph_prompts_get("de", PH_PROMPT_WELCOME) == NULL, "de clip");
    HK_CHECK(ph_prompts_get("fi", "../en/welcome") == NULL, "path in a name");
    HK_CHECK(ph_prompts_get(NULL, PH_PROMPT_WELCOME) == NULL, "NULL lang");
}

static void s_test_lang(void) {
    HK_CHECK_STR_EQ(ph_prompts_lang("fi"), "fi");
    HK_CHECK_STR_EQ(ph_prompts_lang("fi-FI"), "fi");
    HK_CHECK_STR_EQ(ph_prompts_lang("SV_se"), "sv");
    HK_CHECK_STR_EQ(ph_prompts_lang("fin"), "en");
    HK_CHECK_STR_EQ(ph_prompts_lang("de"), "en");
    HK_CHECK_STR_EQ(ph_prompts_lang(NULL), "en");
}

/* The pieces of a composition are exactly these clips (by data pointer). */
static void s_expect(const char *lang, const ph_audio_t *got, int n, const char *const *names,
                     int want) {
    HK_CHECK(n == want, "%s: %d pieces, expected %d", lang, n, want);
    for (int i = 0; i < n; i++) {
        if (strcmp(names[i], "(pause)") == 0) {
            HK_CHECK(got[i].len > 0 && got[i].data[0] == 0xFF, "%s piece %d is no pause", lang, i);
            continue;
        }
        const ph_audio_t *a = ph_prompts_get(lang, names[i]);
        HK_CHECK(a && a->data == got[i].data && a->len == got[i].len, "%s piece %d is not %s", lang,
                 i, names[i]);
    }
}

static void s_test_compose(void) {
    ph_audio_t out[PH_PROMPTS_MAX_PIECES];
    const char *fi[] = {"window_pre", "n14",         "n30",     "window_and",
                        "n15",        "window_post", "(pause)", "callback_bye"};
    int n = ph_prompts_window("fi", 14, 30, 15, 0, out, PH_PROMPTS_MAX_PIECES);
    s_expect("fi", out, n, fi, 8);

    const char *sv[] = {"window_pre", "n9",  "n0", "n5",      "window_and",
                        "n23",        "n50", "n9", "(pause)", "callback_bye"};
    n = ph_prompts_window("sv", 9, 5, 23, 59, out, PH_PROMPTS_MAX_PIECES);
    s_expect("sv", out, n, sv, 10);

    const char *en45[] = {"window_pre", "n12", "oh", "n5", "am",      "window_and",
                          "n2",         "n40", "n5", "pm", "(pause)", "callback_bye"};
    n = ph_prompts_window("en-GB", 0, 5, 14, 45, out, PH_PROMPTS_MAX_PIECES);
    s_expect("en", out, n, en45, 12);

    HK_CHECK(ph_prompts_window("fi", 24, 0, 1, 0, out, PH_PROMPTS_MAX_PIECES) == -1, "hour 24");
    HK_CHECK(ph_prompts_window("fi", 1, 60, 1, 0, out, PH_PROMPTS_MAX_PIECES) == -1, "minute 60");
    HK_CHECK(ph_prompts_window("fi", 1, -1, 1, 0, out, PH_PROMPTS_MAX_PIECES) == -1, "minute -1");
    HK_CHECK(ph_prompts_window("en", 23, 59, 23, 59, out, 5) == -1, "cap 5");
    /* every time of the day composes in every language */
    for (size_t l = 0; l < 3; l++) {
        for (int h = 0; h < 24; h++) {
            for (int m = 0; m < 60; m++) {
                n = ph_prompts_window(s_langs[l], h, m, (h + 1) % 24, m, out,
                                      PH_PROMPTS_MAX_PIECES);
                HK_CHECK(n > 5, "%s %02d:%02d", s_langs[l], h, m);
            }
        }
    }

    n = ph_prompts_intro("sv", 1, out, PH_PROMPTS_MAX_PIECES);
    const char *intro[] = {"welcome", "(pause)", "press1"};
    s_expect("sv", out, n, intro, 3);
    n = ph_prompts_intro("xx", 0, out, PH_PROMPTS_MAX_PIECES);
    s_expect("en", out, n, intro, 1);
    HK_CHECK(ph_prompts_intro("fi", 1, out, 2) == -1, "intro cap 2");
    long ms = ph_prompts_duration_ms(out, (size_t)n);
    HK_CHECK(ms > 1000, "welcome %ld ms", ms);

    ph_audio_t s = ph_prompts_silence(130);
    HK_CHECK(s.len == 120 * 8 && s.data[0] == 0xFF && s.data[s.len - 1] == 0xFF, "silence 130");
    HK_CHECK(ph_prompts_silence(99999).len == 2000 * 8, "silence capped");
    HK_CHECK(ph_prompts_silence(-5).len == 0, "negative silence");
}

int main(void) {
    s_test_lang();
    s_test_clips();
    s_test_compose();
    printf("test_ph_prompts: ok\n");
    return HK_TEST_EXIT();
}
