/* chat_limits: Origin allowlist, token buckets and input validators. */
#include "chat_limits.h"

#include "hk_clock.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *chat_lang_norm(const char *lang) {
    static const char *const known[] = {"fi", "sv", "en"};
    if (!lang || strlen(lang) < 2 || (lang[2] != '\0' && lang[2] != '-' && lang[2] != '_')) {
        return NULL;
    }
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (tolower((unsigned char)lang[0]) == known[i][0] &&
            tolower((unsigned char)lang[1]) == known[i][1]) {
            return known[i];
        }
    }
    return NULL;
}

int chat_email_ok(const char *address) {
    size_t n = address ? strlen(address) : 0;
    if (n < 3 || n > CHAT_EMAIL_MAX) {
        return 0;
    }
    const char *at = strchr(address, '@');
    if (!at || at == address || strchr(at + 1, '@') || !at[1] || !strchr(at + 1, '.')) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)address[i];
        if (c <= 0x20 || c == 0x7f || c == '"' || c == '<' || c == '>' || c == ',' || c == ';' ||
            c == '\\') {
            return 0;
        }
    }
    const char *last = address + n - 1;
    return *last != '.' && at[1] != '.';
}
