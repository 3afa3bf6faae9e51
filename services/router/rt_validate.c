/* rt_validate: field-by-field validation of submitted contacts. */
#include "rt_validate.h"

#include <stdio.h>
#include <string.h>

const char *rt_channel_name(Hetki__V1__Channel channel) {
    switch (channel) {
    case HETKI__V1__CHANNEL__CHANNEL_PHONE:
        return "phone";
    case HETKI__V1__CHANNEL__CHANNEL_CHAT:
        return "chat";
    case HETKI__V1__CHANNEL__CHANNEL_EMAIL:
        return "email";
    case HETKI__V1__CHANNEL__CHANNEL_KIOSK:
        return "kiosk";
    default:
        return NULL;
    }
}

static int s_len(const char *field, const char *value, size_t max, char *err, size_t errlen) {
    if (value && strlen(value) > max) {
        snprintf(err, errlen, "%s is longer than %zu bytes", field, max);
        return -1;
    }
    return 0;
}

static int s_no_controls(const char *field, const char *value, char *err, size_t errlen) {
    for (const char *p = value ? value : ""; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            snprintf(err, errlen, "%s contains control characters", field);
            return -1;
        }
    }
    return 0;
}

int rt_validate_contact(const Hetki__V1__Contact *c, char *err, size_t errlen) {
    const char *t = c->tenant ? c->tenant : "";
    size_t tl = strlen(t);
    if (tl == 0 || tl > RT_MAX_TENANT) {
        snprintf(err, errlen, "tenant must be 1 to %d characters", RT_MAX_TENANT);
        return -1;
    }
    for (size_t i = 0; i < tl; i++) {
        char ch = t[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-')) {
            snprintf(err, errlen, "tenant may hold only a-z, 0-9, '_' and '-'");
            return -1;
        }
    }
    if (!rt_channel_name(c->channel)) {
        snprintf(err, errlen, "channel must be phone, chat, email or kiosk");
        return -1;
    }
    if (!c->dedupe_key || !c->dedupe_key[0]) {
        snprintf(err, errlen, "dedupe_key is required");
        return -1;
    }
    if (s_len("dedupe_key", c->dedupe_key, RT_MAX_DEDUPE, err, errlen) ||
        s_no_controls("dedupe_key", c->dedupe_key, err, errlen) ||
        s_len("text", c->text, RT_MAX_TEXT, err, errlen) ||
        s_len("subject", c->subject, RT_MAX_SUBJECT, err, errlen) ||
        s_len("language", c->language, 8, err, errlen) ||
        s_no_controls("language", c->language, err, errlen) ||
        s_len("gateway", c->gateway, RT_MAX_IDENTITY, err, errlen)) {
        return -1;
    }
    const Hetki__V1__CustomerIdentity *id = c->customer;
    if (id && (s_len("customer.phone_number", id->phone_number, RT_MAX_IDENTITY, err, errlen) ||
               s_len("customer.email_address", id->email_address, RT_MAX_IDENTITY, err, errlen) ||
               s_len("customer.chat_session", id->chat_session, RT_MAX_IDENTITY, err, errlen) ||
               s_len("customer.kiosk_device", id->kiosk_device, RT_MAX_IDENTITY, err, errlen) ||
               s_len("customer.entered_phone", id->entered_phone, RT_MAX_IDENTITY, err, errlen) ||
               s_len("customer.entered_email", id->entered_email, RT_MAX_IDENTITY, err, errlen) ||
               s_len("customer.display_name", id->display_name, RT_MAX_IDENTITY, err, errlen))) {
        return -1;
    }
    if (c->choices && s_len("choices.ivr_digits", c->choices->ivr_digits, 32, err, errlen)) {
        return -1;
    }
    if (c->received_at_ms < 0) {
        snprintf(err, errlen, "received_at_ms must not be negative");
        return -1;
    }
    return 0;
}
