/* rt_lexicon: finds lexicon words and phrases in customer text, for classification.
 *
 * Text is normalised first: UTF-8 is decoded, ASCII and Latin letters are lowercased (so
 * "Å Ä Ö É Ü" match "å ä ö é ü"), a decomposed letter (a + U+0308 and the like) is composed,
 * and every non-letter (digits, punctuation, symbols, emoji, invalid UTF-8) separates words.
 * The normal form is the words separated by single spaces, with one space before the first
 * and after the last: " kortti on varastettu ".
 *
 * An entry is a word or a phrase of several words. It matches when its words occur as
 * consecutive whole words of the text. An entry ending in '*' matches when its last word is
 * a prefix of a word (Finnish inflection: "varastet*" matches "varastettiin"). Entries are
 * normalised the same way as text, so case and extra spaces in an entry do not matter; an
 * entry with no letters never matches. All functions are safe on any bytes. */
#ifndef RT_LEXICON_H
#define RT_LEXICON_H

#include <stddef.h>

#include "rt_policy.h"

/* Bytes rt_lexicon_normalize needs for len bytes of text (never truncates at this size). */
#define RT_LEXICON_NORM_SIZE(len) ((len) + 3)

/* Writes the normal form of text[0..len) into out (outlen bytes, NUL-terminated) and returns
 * its length. When out is too small the result ends after the last whole word that fits.
 * outlen must be at least 2. */
size_t rt_lexicon_normalize(const char *text, size_t len, char *out, size_t outlen);

/* Like rt_lexicon_match, on text already in normal form (from rt_lexicon_normalize; several
 * normal forms may be concatenated, and a phrase never matches across the join). */
int rt_lexicon_match_normalized(const char *norm, const char (*entries)[RT_POLICY_WORD], size_t n,
                                const char **matched);

/* Fills lex's needles from its entries (n_urgent and n_personal of them); call whenever the
 * entries change, so that matching does not normalise them for every text. */
void rt_lexicon_prepare(rt_lexicon_t *lex);

/* Like rt_lexicon_match_normalized, with the entries' needles from rt_lexicon_prepare
 * (needles[i] is entries[i]'s): the same result without normalising the entries again. */
int rt_lexicon_match_prepared(const char *norm, const char (*entries)[RT_POLICY_WORD],
                              const char (*needles)[RT_POLICY_NEEDLE], size_t n,
                              const char **matched);

/* Returns 1 and sets *matched (when matched is not NULL) to the first of the n entries, in
 * entry order, that occurs in text (NUL-terminated); returns 0 when none does. */
int rt_lexicon_match(const char *text, const char (*entries)[RT_POLICY_WORD], size_t n,
                     const char **matched);

#endif
