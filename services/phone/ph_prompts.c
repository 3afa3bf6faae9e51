/* ph_prompts: looks up the embedded announcement clips (generated at build time into
 * ph_prompt_clips.c by cmake/phone_prompts.cmake) and composes spoken times and callback
 * windows. Times: fi and sv use the 24-hour clock ("neljätoista kolmekymmentä",
 * "fjorton trettio", 14.05 as "fjorton noll fem"); en uses the 12-hour clock with "oh" for
 * single-digit minutes and A M / P M ("two oh five P M"). Numbers above 23 are said as tens
 * plus units from the clips n20, n30, n40, n50 and n1..n9. */
#include "ph_prompts.h"

#include <stdio.h>
#include <string.h>

#include "ph_prompt_clips.h"

#define S_SILENCE_MAX_MS 2000
#define S_PAUSE_MS 400

static uint8_t s_silence[S_SILENCE_MAX_MS * 8]; /* mu-law silence, filled on first use */
static int s_silence_ready;

/* The clips as ph_audio_t values, built once from the embedded table (same order). */
static ph_audio_t s_audio[512];
static int s_audio_ready;

const char *ph_prompts_lang(const char *lang) {
    if (lang && (strncmp(lang, "fi", 2) == 0 || strncmp(lang, "FI", 2) == 0) &&
        (lang[2] == '\0' || lang[2] == '-' || lang[2] == '_')) {
        return "fi";
    }
    if (lang && (strncmp(lang, "sv", 2) == 0 || strncmp(lang, "SV", 2) == 0) &&
        (lang[2] == '\0' || lang[2] == '-' || lang[2] == '_')) {
        return "sv";
    }
    return "en";
}

const ph_audio_t *ph_prompts_get(const char *lang, const char *name) {
    char path[64];
    if (!lang || !name) {
        return NULL;
    }
    int n = snprintf(path, sizeof path, "/%s/%s.ul", lang, name);
    if (n < 0 || (size_t)n >= sizeof path) {
        return NULL;
    }
    const hk_embedded_file_t *f = ph_prompt_clips_find(path);
    if (!f) {
        return NULL;
    }
    size_t i = (size_t)(f - ph_prompt_clips_files);
    if (i >= sizeof s_audio / sizeof s_audio[0]) {
        return NULL;
    }
    if (!s_audio_ready) {
        for (size_t k = 0; k < ph_prompt_clips_count && k < sizeof s_audio / sizeof s_audio[0];
             k++) {
            s_audio[k].data = ph_prompt_clips_files[k].data;
            s_audio[k].len = ph_prompt_clips_files[k].len;
        }
        s_audio_ready = 1;
    }
    return &s_audio[i];
}

ph_audio_t ph_prompts_silence(int ms) {
    if (ms < 0) {
        ms = 0;
    }
    if (ms > S_SILENCE_MAX_MS) {
        ms = S_SILENCE_MAX_MS;
    }
    ms -= ms % 20;
    if (!s_silence_ready) {
        memset(s_silence, 0xFF, sizeof s_silence);
        s_silence_ready = 1;
    }
    return (ph_audio_t){.data = s_silence, .len = (size_t)ms * 8};
}

/* Appends clip name of lang; a missing clip is skipped when optional, else an error. */
static int s_add(const char *lang, const char *name, int optional, ph_audio_t *out, size_t cap,
                 size_t *n) {
    const ph_audio_t *a = ph_prompts_get(lang, name);
    if (!a) {
        return optional ? 0 : -1;
    }
    if (*n >= cap) {
        return -1;
    }
    out[(*n)++] = *a;
    return 0;
}

/* Appends the number v (0-59). */
static int s_number(const char *lang, int v, ph_audio_t *out, size_t cap, size_t *n) {
    char name[8];
    if (v <= 23) {
        snprintf(name, sizeof name, "n%d", v);
        return s_add(lang, name, 0, out, cap, n);
    }
    snprintf(name, sizeof name, "n%d", v - v % 10);
    if (s_add(lang, name, 0, out, cap, n) < 0) {
        return -1;
    }
    if (v % 10 == 0) {
        return 0;
    }
    snprintf(name, sizeof name, "n%d", v % 10);
    return s_add(lang, name, 0, out, cap, n);
}

int ph_prompts_time(const char *lang, int h, int m, ph_audio_t *out, size_t cap, size_t *n) {
    lang = ph_prompts_lang(lang);
    int en = strcmp(lang, "en") == 0;
    if (h < 0 || h > 23 || m < 0 || m > 59) {
        return -1;
    }
    int hour = en ? (h % 12 == 0 ? 12 : h % 12) : h;
    if (s_number(lang, hour, out, cap, n) < 0) {
        return -1;
    }
    if (m > 0 && m < 10 && s_add(lang, en ? "oh" : "n0", 0, out, cap, n) < 0) {
        return -1;
    }
    if (m > 0 && s_number(lang, m, out, cap, n) < 0) {
        return -1;
    }
    if (en && s_add(lang, h < 12 ? "am" : "pm", 0, out, cap, n) < 0) {
        return -1;
    }
    return 0;
}

int ph_prompts_window(const char *lang, int h1, int m1, int h2, int m2, ph_audio_t *out,
                      size_t cap) {
    size_t n = 0;
    lang = ph_prompts_lang(lang);
    if (s_add(lang, PH_PROMPT_WINDOW_PRE, 0, out, cap, &n) < 0 ||
        ph_prompts_time(lang, h1, m1, out, cap, &n) < 0 ||
        s_add(lang, PH_PROMPT_WINDOW_AND, 0, out, cap, &n) < 0 ||
        ph_prompts_time(lang, h2, m2, out, cap, &n) < 0 ||
        s_add(lang, PH_PROMPT_WINDOW_POST, 1, out, cap, &n) < 0 || n >= cap) {
        return -1;
    }
    out[n++] = ph_prompts_silence(S_PAUSE_MS);
    if (s_add(lang, PH_PROMPT_CALLBACK_BYE, 0, out, cap, &n) < 0) {
        return -1;
    }
    return (int)n;
}

int ph_prompts_intro(const char *lang, int offer_callback, ph_audio_t *out, size_t cap) {
    size_t n = 0;
    lang = ph_prompts_lang(lang);
    if (s_add(lang, PH_PROMPT_WELCOME, 0, out, cap, &n) < 0) {
        return -1;
    }
    if (offer_callback) {
        if (n >= cap) {
            return -1;
        }
        out[n++] = ph_prompts_silence(S_PAUSE_MS);
        if (s_add(lang, PH_PROMPT_PRESS1, 0, out, cap, &n) < 0) {
            return -1;
        }
    }
    return (int)n;
}

long ph_prompts_duration_ms(const ph_audio_t *pieces, size_t n) {
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        bytes += pieces[i].len;
    }
    return (long)(bytes / 8);
}
