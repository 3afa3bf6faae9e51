/* rt_lexicon: UTF-8 aware normalisation of customer text and lexicon matching on word
 * boundaries (see rt_lexicon.h for the rules). */
#include "rt_lexicon.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define S_STACK_NORM 2048

/* Decodes one UTF-8 sequence at s (len > 0 bytes available). Returns the code point and sets
 * *adv to its length, or returns -1 with *adv = 1 for an invalid, overlong, surrogate or
 * truncated sequence. Never reads past s[len - 1]. */
static int32_t s_decode(const unsigned char *s, size_t len, size_t *adv) {
    unsigned char b = s[0];
    *adv = 1;
    if (b < 0x80) {
        return b;
    }
    size_t need;
    int32_t cp;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (b >= 0xC2 && b <= 0xDF) {
        need = 1;
        cp = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
        need = 2;
        cp = b & 0x0F;
        if (b == 0xE0) {
            lo = 0xA0;
        } else if (b == 0xED) {
            hi = 0x9F;
        }
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 3;
        cp = b & 0x07;
        if (b == 0xF0) {
            lo = 0x90;
        } else if (b == 0xF4) {
            hi = 0x8F;
        }
    } else {
        return -1;
    }
    if (len < need + 1) {
        return -1;
    }
    for (size_t i = 1; i <= need; i++) {
        unsigned char c = s[i];
        unsigned char min = i == 1 ? lo : 0x80, max = i == 1 ? hi : 0xBF;
        if (c < min || c > max) {
            return -1;
        }
        cp = (cp << 6) | (c & 0x3F);
    }
    *adv = need + 1;
    return cp;
}

/* Is cp a letter for word splitting? Latin (ASCII, Latin-1, Extended-A/B, IPA, Extended
 * Additional), Greek and Cyrillic; every other script and all symbols separate words. */
static int s_is_letter(int32_t cp) {
    if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z')) {
        return 1;
    }
    if (cp >= 0xC0 && cp <= 0x2AF) {
        return cp != 0xD7 && cp != 0xF7;
    }
    if (cp >= 0x370 && cp <= 0x3FF) {
        return cp != 0x37E && cp != 0x384 && cp != 0x385 && cp != 0x387;
    }
    return (cp >= 0x400 && cp <= 0x52F) || (cp >= 0x1E00 && cp <= 0x1EFF);
}

/* Combining diacritical marks (U+0300..U+036F) continue the current word. */
static int s_is_mark(int32_t cp) {
    return cp >= 0x300 && cp <= 0x36F;
}

/* The lowercase of a letter (Latin-1 and Latin Extended-A fully, basic Greek and Cyrillic). */
static int32_t s_lower(int32_t cp) {
    if (cp >= 'A' && cp <= 'Z') {
        return cp + 32;
    }
    if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) {
        return cp + 0x20;
    }
    if (cp == 0x130) {
        return 'i';
    }
    if (cp == 0x178) {
        return 0xFF;
    }
    if (((cp >= 0x100 && cp <= 0x137) || (cp >= 0x14A && cp <= 0x177)) && cp % 2 == 0) {
        return cp + 1;
    }
    if (((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E)) && cp % 2 == 1) {
        return cp + 1;
    }
    if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2) {
        return cp + 0x20;
    }
    if (cp >= 0x410 && cp <= 0x42F) {
        return cp + 0x20;
    }
    if (cp >= 0x400 && cp <= 0x40F) {
        return cp + 0x50;
    }
    return cp;
}

/* The precomposed lowercase letter for base + combining mark, or 0 when there is none we
 * handle (the marks Finnish, Swedish and loanwords use). */
static int32_t s_compose(unsigned char base, int32_t mark) {
    switch (mark) {
    case 0x308: /* diaeresis */
        switch (base) {
        case 'a':
            return 0xE4;
        case 'o':
            return 0xF6;
        case 'u':
            return 0xFC;
        case 'e':
            return 0xEB;
        case 'i':
            return 0xEF;
        case 'y':
            return 0xFF;
        default:
            return 0;
        }
    case 0x30A: /* ring above */
        return base == 'a' ? 0xE5 : 0;
    case 0x301: /* acute */
        switch (base) {
        case 'a':
            return 0xE1;
        case 'e':
            return 0xE9;
        case 'i':
            return 0xED;
        case 'o':
            return 0xF3;
        case 'u':
            return 0xFA;
        default:
            return 0;
        }
    default:
        return 0;
    }
}

/* Encodes cp (< 0x10000) into buf; returns the byte count. */
static size_t s_encode(int32_t cp, char *buf) {
    if (cp < 0x80) {
        buf[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        buf[0] = (char)(0xC0 | (cp >> 6));
        buf[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    buf[0] = (char)(0xE0 | (cp >> 12));
    buf[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    buf[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
}

size_t rt_lexicon_normalize(const char *text, size_t len, char *out, size_t outlen) {
    const unsigned char *s = (const unsigned char *)text;
    size_t o = 0, word_start = 0, i = 0;
    int in_word = 0, full = 0;
    if (outlen < 2) {
        if (outlen == 1) {
            out[0] = '\0';
        }
        return 0;
    }
    out[o++] = ' ';
    while (i < len && !full) {
        size_t adv;
        int32_t cp = s_decode(s + i, len - i, &adv);
        i += adv;
        char enc[4];
        size_t n = 0;
        int replace_last = 0;
        if (cp >= 0 && s_is_letter(cp)) {
            n = s_encode(s_lower(cp), enc);
        } else if (cp >= 0 && s_is_mark(cp) && in_word) {
            unsigned char prev = (unsigned char)out[o - 1];
            int32_t composed = prev < 0x80 ? s_compose(prev, cp) : 0;
            if (composed) {
                n = s_encode(composed, enc);
                replace_last = 1;
            } else {
                n = s_encode(cp, enc);
            }
        } else {
            if (in_word) {
                out[o++] = ' '; /* room was kept for it when the letter was written */
                in_word = 0;
            }
            continue;
        }
        if (!in_word) {
            word_start = o;
        }
        size_t base = replace_last ? o - 1 : o;
        /* Keep room for the word's closing space and the NUL. */
        if (base + n + 2 > outlen) {
            o = word_start;
            in_word = 0;
            full = 1;
            break;
        }
        memcpy(out + base, enc, n);
        o = base + n;
        in_word = 1;
    }
    if (in_word) {
        out[o++] = ' ';
    }
    out[o] = '\0';
    return o;
}

/* Builds the search needle for entry: " w1 w2 " for a whole-word entry, " w1 w2" (last word a
 * prefix) for one ending in '*'. Returns the needle length, 0 when the entry has no word. */
static size_t s_needle(const char *entry, char *buf, size_t buflen) {
    size_t len = strnlen(entry, RT_POLICY_WORD);
    while (len > 0 && (entry[len - 1] == ' ' || entry[len - 1] == '\t')) {
        len--;
    }
    int prefix = len > 0 && entry[len - 1] == '*';
    if (prefix) {
        len--;
    }
    size_t m = rt_lexicon_normalize(entry, len, buf, buflen);
    if (m <= 1) {
        return 0;
    }
    if (prefix) {
        buf[--m] = '\0';
    }
    return m;
}

int rt_lexicon_match_normalized(const char *norm, const char (*entries)[RT_POLICY_WORD], size_t n,
                                const char **matched) {
    char needle[RT_POLICY_NEEDLE];
    for (size_t i = 0; i < n; i++) {
        if (s_needle(entries[i], needle, sizeof needle) > 0 && strstr(norm, needle)) {
            if (matched) {
                *matched = entries[i];
            }
            return 1;
        }
    }
    return 0;
}

static void s_prepare_list(const char (*entries)[RT_POLICY_WORD], char (*needles)[RT_POLICY_NEEDLE],
                           size_t n) {
    for (size_t i = 0; i < n && i < RT_POLICY_MAX_WORDS; i++) {
        if (s_needle(entries[i], needles[i], RT_POLICY_NEEDLE) == 0) {
            needles[i][0] = '\0';
        }
    }
}

void rt_lexicon_prepare(rt_lexicon_t *lex) {
    s_prepare_list((const char(*)[RT_POLICY_WORD])lex->urgent, lex->urgent_needle, lex->n_urgent);
    s_prepare_list((const char(*)[RT_POLICY_WORD])lex->personal, lex->personal_needle,
                   lex->n_personal);
}

int rt_lexicon_match_prepared(const char *norm, const char (*entries)[RT_POLICY_WORD],
                              const char (*needles)[RT_POLICY_NEEDLE], size_t n,
                              const char **matched) {
    for (size_t i = 0; i < n; i++) {
        if (needles[i][0] && strstr(norm, needles[i])) {
            if (matched) {
                *matched = entries[i];
            }
            return 1;
        }
    }
    return 0;
}

int rt_lexicon_match(const char *text, const char (*entries)[RT_POLICY_WORD], size_t n,
                     const char **matched) {
    char stack[S_STACK_NORM];
    size_t len = strlen(text);
    size_t need = RT_LEXICON_NORM_SIZE(len);
    char *norm = need <= sizeof stack ? stack : malloc(need);
    if (!norm) {
        return 0;
    }
    rt_lexicon_normalize(text, len, norm, need);
    int found = rt_lexicon_match_normalized(norm, entries, n, matched);
    if (norm != stack) {
        free(norm);
    }
    return found;
}
