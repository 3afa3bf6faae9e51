/* chat_text: error codes and their customer-facing texts in fi, sv and en. */
#include "chat_text.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    const char *code;
    const char *en, *fi, *sv; /* too_long: one %ld for the limit */
} s_text_t;

static const s_text_t s_texts[CHAT_ERR_COUNT] = {
    {"bad_json", "The message could not be read.", "Viestiä ei voitu lukea.",
     "Meddelandet kunde inte läsas."},
    {"bad_frame", "The message is not understood.", "Viestiä ei ymmärretty.",
     "Meddelandet förstods inte."},
    {"too_long", "The message is too long (at most %ld bytes).",
     "Viesti on liian pitkä (enintään %ld tavua).", "Meddelandet är för långt (högst %ld byte)."},
    {"rate", "You are sending messages too fast. Please wait a moment.",
     "Lähetät viestejä liian nopeasti. Odota hetki.",
     "Du skickar meddelanden för snabbt. Vänta en stund."},
    {"not_ready", "The chat is not ready yet.", "Keskustelu ei ole vielä valmis.",
     "Chatten är inte redo ännu."},
    {"unavailable", "The message could not be delivered just now; it will be sent again.",
     "Viestiä ei juuri nyt voitu toimittaa; se lähetetään uudelleen.",
     "Meddelandet kunde inte levereras just nu; det skickas igen."},
    {"refused", "The message was not accepted.", "Viestiä ei hyväksytty.",
     "Meddelandet accepterades inte."},
};

const char *chat_err_code(chat_err_t err) {
    return err < CHAT_ERR_COUNT ? s_texts[err].code : "bad_frame";
}

char *chat_err_text(chat_err_t err, const char *lang, const char *detail, long limit, char *buf,
                    size_t cap) {
    if (err >= CHAT_ERR_COUNT) {
        err = CHAT_ERR_BAD_FRAME;
    }
    if ((err == CHAT_ERR_BAD_FRAME || err == CHAT_ERR_REFUSED) && detail && *detail) {
        snprintf(buf, cap, "%s", detail);
        return buf;
    }
    const s_text_t *t = &s_texts[err];
    const char *text = t->en;
    if (lang && strcmp(lang, "fi") == 0) {
        text = t->fi;
    } else if (lang && strcmp(lang, "sv") == 0) {
        text = t->sv;
    }
    if (err == CHAT_ERR_TOO_LONG) {
        snprintf(buf, cap, text, limit);
    } else {
        snprintf(buf, cap, "%s", text);
    }
    return buf;
}
