/* rt_classify: classification from explicit choices and the channel. */
#include "rt_classify.h"

#include <string.h>

static void s_reason(rt_decision_t *d, const char *reason) {
    if (d->n_reasons < RT_MAX_REASONS) {
        d->reasons[d->n_reasons++] = reason;
    }
}

static int s_has_phone(const Hetki__V1__Contact *c) {
    const Hetki__V1__CustomerIdentity *id = c->customer;
    return id && ((id->phone_number && id->phone_number[0]) ||
                  (id->entered_phone && id->entered_phone[0]));
}

void rt_classify(const Hetki__V1__Contact *c, rt_decision_t *d) {
    memset(d, 0, sizeof *d);
    const Hetki__V1__Choices *ch = c->choices;
    d->klass = HETKI__V1__CONTACT_CLASS__CONTACT_CLASS_ROUTINE;
    d->score = 20;
    if (ch && ch->urgent) {
        d->klass = HETKI__V1__CONTACT_CLASS__CONTACT_CLASS_URGENT;
        d->score = 90;
        s_reason(d, "choice:urgent");
    }
    if (ch && ch->talk_to_person) {
        if (d->klass == HETKI__V1__CONTACT_CLASS__CONTACT_CLASS_ROUTINE) {
            d->klass = HETKI__V1__CONTACT_CLASS__CONTACT_CLASS_PERSONAL;
            d->score = 70;
        }
        s_reason(d, "choice:talk_to_person");
    }
    if (ch && ch->callback) {
        if (d->klass == HETKI__V1__CONTACT_CLASS__CONTACT_CLASS_ROUTINE) {
            d->klass = HETKI__V1__CONTACT_CLASS__CONTACT_CLASS_PERSONAL;
            d->score = 60;
        }
        s_reason(d, "choice:callback");
    }
    if (d->klass == HETKI__V1__CONTACT_CLASS__CONTACT_CLASS_ROUTINE) {
        s_reason(d, "no_explicit_choice:routine");
        d->target = "async";
        d->queue = "async";
        return;
    }
    /* Urgent or personal: a human voice. Live on the phone; elsewhere a callback when a
     * number is known, else a human chat. */
    d->queue = "voice";
    if (c->channel == HETKI__V1__CHANNEL__CHANNEL_PHONE) {
        d->target = "voice";
        s_reason(d, "channel:phone:live_voice");
    } else if (s_has_phone(c)) {
        d->target = "callback";
        s_reason(d, "phone_known:callback");
    } else {
        d->target = "human_chat";
        d->queue = "human_chat";
        s_reason(d, "no_phone:human_chat");
    }
}

const char *rt_class_name(Hetki__V1__ContactClass klass) {
    switch (klass) {
    case HETKI__V1__CONTACT_CLASS__CONTACT_CLASS_URGENT:
        return "urgent";
    case HETKI__V1__CONTACT_CLASS__CONTACT_CLASS_PERSONAL:
        return "personal";
    case HETKI__V1__CONTACT_CLASS__CONTACT_CLASS_ROUTINE:
        return "routine";
    default:
        return "unspecified";
    }
}

Hetki__V1__ContactClass rt_class_parse(const char *name) {
    if (!strcmp(name, "urgent")) {
        return HETKI__V1__CONTACT_CLASS__CONTACT_CLASS_URGENT;
    }
    if (!strcmp(name, "personal")) {
        return HETKI__V1__CONTACT_CLASS__CONTACT_CLASS_PERSONAL;
    }
    if (!strcmp(name, "routine")) {
        return HETKI__V1__CONTACT_CLASS__CONTACT_CLASS_ROUTINE;
    }
    return HETKI__V1__CONTACT_CLASS__CONTACT_CLASS_UNSPECIFIED;
}
