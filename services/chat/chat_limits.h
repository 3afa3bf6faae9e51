/* chat_limits: the chat's own input rules: languages and email addresses. The Origin
 * allowlist, rate buckets and id rules are common/hk_limits.h. Pure functions, no I/O. */
#ifndef CHAT_LIMITS_H
#define CHAT_LIMITS_H

#include <stddef.h>
#include <stdint.h>

#include "chat_config.h"
#include "hk_limits.h"

#define CHAT_ID_MAX HK_CLIENT_ID_MAX /* client message ids */
#define CHAT_TENANT_MAX HK_TENANT_MAX
#define CHAT_EMAIL_MAX 254

/* Maps a language tag ("fi", "sv-FI", "EN") to "fi", "sv" or "en"; NULL when it is none of
 * them. */
const char *chat_lang_norm(const char *lang);

/* True for something that looks like an email address: at most 254 bytes, one '@' with text
 * on both sides, a dot in the domain, no spaces, controls, quotes or angle brackets. */
int chat_email_ok(const char *address);

#endif
