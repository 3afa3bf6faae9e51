/* chat_text: the error codes of the chat protocol and the texts the service shows customers,
 * in Finnish, Swedish and English (docs/protocols/chat.md, "Error codes"). */
#ifndef CHAT_TEXT_H
#define CHAT_TEXT_H

#include <stddef.h>

typedef enum {
    CHAT_ERR_BAD_JSON = 0,
    CHAT_ERR_BAD_FRAME,
    CHAT_ERR_TOO_LONG,
    CHAT_ERR_RATE,
    CHAT_ERR_NOT_READY,
    CHAT_ERR_UNAVAILABLE,
    CHAT_ERR_REFUSED,
    CHAT_ERR_COUNT
} chat_err_t;

/* The wire code ("bad_json", ...). */
const char *chat_err_code(chat_err_t err);

/* Writes the text for err in lang ("fi", "sv", "en"; anything else is English) into buf.
 * detail, when not empty, is the text for bad_frame and refused (a reason from the router or
 * the validator); limit is the byte limit for too_long. Returns buf. */
char *chat_err_text(chat_err_t err, const char *lang, const char *detail, long limit, char *buf,
                    size_t cap);

#endif
