/* ph_prompts: the announcements hetki-phone plays, generated at build time (espeak-ng + sox,
 * cmake/phone_prompts.cmake, texts in services/phone/prompts/prompts.txt) as 8 kHz mu-law
 * clips in fi, sv and en and embedded in the binary; and the composition of spoken callback
 * windows ("we will call you back between 14:30 and 15:00") from those clips. */
#ifndef PH_PROMPTS_H
#define PH_PROMPTS_H

#include <stddef.h>

#include "ph_rtp.h"

/* Clip names (every language has each, except PH_PROMPT_WINDOW_POST which only fi has). */
#define PH_PROMPT_WELCOME "welcome"               /* thank you for calling; an agent answers soon */
#define PH_PROMPT_PRESS1 "press1"                 /* press 1 if you would like a callback */
#define PH_PROMPT_WINDOW_PRE "window_pre"         /* we will call you back between */
#define PH_PROMPT_WINDOW_AND "window_and"         /* and */
#define PH_PROMPT_WINDOW_POST "window_post"       /* (fi: "välillä") */
#define PH_PROMPT_CALLBACK_BYE "callback_bye"     /* thank you, we will call you; goodbye */
#define PH_PROMPT_GOODBYE "goodbye"               /* thank you for calling; goodbye */
#define PH_PROMPT_CLOSED "closed"                 /* sorry, we cannot take calls now */
#define PH_PROMPT_CONNECTING "connecting"         /* connecting you to an agent now */
#define PH_PROMPT_CALLBACK_HELLO "callback_hello" /* this is the callback you asked for */

/* The most pieces ph_prompts_window and ph_prompts_intro ever produce. */
#define PH_PROMPTS_MAX_PIECES 24

/* The supported language closest to lang ("fi", "sv" or "en"; "fi-FI" -> "fi"; anything
 * else, including NULL, -> "en"). Static storage. */
const char *ph_prompts_lang(const char *lang);

/* The clip name in language lang (as given to ph_prompts_lang), or NULL when there is none.
 * The bytes are static, 8 kHz mu-law. */
const ph_audio_t *ph_prompts_get(const char *lang, const char *name);

/* Silence of ms milliseconds (at most 2000, rounded down to 20 ms). Static storage. */
ph_audio_t ph_prompts_silence(int ms);

/* Appends the spoken time h:m (0-23, 0-59) in lang to out (capacity cap, *n used so far).
 * Returns 0, or -1 for a bad time or when out is full. */
int ph_prompts_time(const char *lang, int h, int m, ph_audio_t *out, size_t cap, size_t *n);

/* Fills out with "we will call you back between h1:m1 and h2:m2" followed by the callback
 * goodbye. Returns the number of pieces, or -1 for bad times or too small a cap. */
int ph_prompts_window(const char *lang, int h1, int m1, int h2, int m2, ph_audio_t *out,
                      size_t cap);

/* Fills out with the inbound announcement: welcome, a pause and, when offer_callback is 1,
 * "press 1 for a callback". Returns the number of pieces, or -1 when cap is too small. */
int ph_prompts_intro(const char *lang, int offer_callback, ph_audio_t *out, size_t cap);

/* Total duration of n pieces in milliseconds (8 bytes per ms). */
long ph_prompts_duration_ms(const ph_audio_t *pieces, size_t n);

#endif
