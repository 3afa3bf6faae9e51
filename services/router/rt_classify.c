/* rt_classify: classification of a contact into urgent / personal / routine from explicit
 * choices, IVR digits, multilingual lexicons, the channel and the customer's history and
 * flags, with a target, a queue and the reasons behind them.
 *
 * Signals, weights (from the policy) and reasons, in the order the reasons are listed:
 *   choices.urgent            weight_choice_urgent     "choice:urgent"
 *   choices.talk_to_person    weight_choice_person     "choice:talk_to_person"
 *   choices.callback          weight_choice_person     "choice:callback"
 *   IVR key 9 pressed         weight_choice_urgent     "ivr:9:urgent"
 *   IVR key 0 pressed         weight_choice_person     "ivr:0:talk_to_person"
 *   urgent lexicon entry      weight_lexicon_urgent    "lexicon:<lang>:urgent:<entry>"
 *   personal lexicon entry    weight_lexicon_personal  "lexicon:<lang>:personal:<entry>"
 *   phone channel             weight_phone_channel     "channel:phone"
 *   repeat contact            weight_repeat            "repeat_contact"
 *   first-ever contact        weight_first_contact     "first_contact:moment_of_truth"
 *   vulnerable customer       weight_vulnerable        "customer:vulnerable"
 *   VIP customer              weight_vip               "customer:vip"
 * IVR digits are the keys the caller pressed, in order; a 0 anywhere means "talk to a
 * person", a 9 anywhere means "urgent" (the menu the phone gateway plays says so).
 * Each kind of signal counts once: the urgent choices (choices.urgent, IVR 9) add
 * weight_choice_urgent once, the person choices (talk to a person, callback, IVR 0) add
 * weight_choice_person once, and each lexicon kind adds its weight once (the first hit, in
 * the contact's language, or in fi, sv, en order when the language is unknown); every
 * signal that fired is still listed as a reason. The score is the sum, capped to 0..100.
 *
 * The class follows the thresholds, except that explicit choices are never overridden: an
 * urgent choice is always urgent and a person choice at least personal (the score is then
 * raised to that class's threshold so that queue order agrees with the class). The last
 * reason names the target rule. */
#include "rt_classify.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_lexicon.h"

#define S_STACK_NORM 2048

static const char *const s_lang_codes[RT_LANG_COUNT] = {"fi", "sv", "en"};

/* The language of a contact: "fi", "FI", "fi-FI" and "fi_FI" are Finnish; -1 otherwise. */
static int s_lang(const char *code) {
    if (!code || !code[0] || !code[1] || (code[2] && code[2] != '-' && code[2] != '_')) {
        return -1;
    }
    for (int i = 0; i < RT_LANG_COUNT; i++) {
        const char *want = s_lang_codes[i];
        if ((code[0] | 0x20) == want[0] && (code[1] | 0x20) == want[1]) {
            return i;
        }
    }
    return -1;
}

static int s_clamp_score(int score) {
    return score < 0 ? 0 : score > 100 ? 100 : score;
}

/* Appends a reason (copied) to a reason list; silently drops it when the list is full. */
static void s_add_reason(const char **reasons, char (*buf)[RT_REASON_LEN], size_t *n,
                         const char *reason) {
    if (*n < RT_MAX_REASONS) {
        size_t len = strnlen(reason, RT_REASON_LEN - 1);
        memcpy(buf[*n], reason, len);
        buf[*n][len] = '\0';
        reasons[*n] = buf[*n];
        (*n)++;
    }
}

static void s_base_reason(rt_base_t *b, const char *reason) {
    s_add_reason(b->reasons, b->reason_buf, &b->n_reasons, reason);
}

static int s_has_phone(const Hetki__V1__Contact *c) {
    const Hetki__V1__CustomerIdentity *id = c->customer;
    return id && ((id->phone_number && id->phone_number[0]) ||
                  (id->entered_phone && id->entered_phone[0]));
}

/* Adds the lexicon reason "lexicon:<lang>:<kind>:<entry>"; commas and control characters in
 * the entry become spaces, since stored reasons are joined with commas. */
static void s_lexicon_reason(rt_base_t *b, int lang, const char *kind, const char *entry) {
    char reason[RT_REASON_LEN];
    int n = snprintf(reason, sizeof reason, "lexicon:%s:%s:", s_lang_codes[lang], kind);
    size_t o = n > 0 ? (size_t)n : 0;
    size_t len = strnlen(entry, RT_POLICY_WORD);
    for (size_t i = 0; i < len && o + 1 < sizeof reason; i++) {
        char ch = entry[i];
        reason[o++] = ch == ',' || (unsigned char)ch < 0x20 ? ' ' : ch;
    }
    reason[o] = '\0';
    s_base_reason(b, reason);
}

/* Looks for one kind of lexicon entry (urgent or personal) in norm, in the languages from
 * first to last; adds weight and a reason for the first hit. */
static void s_lexicon_kind(rt_base_t *b, const char *norm, const rt_policy_t *p, int first,
                           int last, int urgent) {
    for (int lang = first; lang <= last; lang++) {
        const rt_lexicon_t *lex = &p->lexicons[lang];
        size_t n = urgent ? lex->n_urgent : lex->n_personal;
        if (n > RT_POLICY_MAX_WORDS) {
            n = RT_POLICY_MAX_WORDS;
        }
        const char *entry = NULL;
        if (rt_lexicon_match_prepared(norm, urgent ? lex->urgent : lex->personal,
                                      urgent ? lex->urgent_needle : lex->personal_needle, n,
                                      &entry)) {
            b->score += urgent ? p->weight_lexicon_urgent : p->weight_lexicon_personal;
            s_lexicon_reason(b, lang, urgent ? "urgent" : "personal", entry);
            return;
        }
    }
}

/* Lexicon hits in the subject and the text (normalised once, a phrase never spanning both). */
static void s_lexicons(rt_base_t *b, const Hetki__V1__Contact *c, const rt_policy_t *p) {
    const char *subject = c->subject ? c->subject : "";
    const char *text = c->text ? c->text : "";
    size_t ls = strlen(subject), lt = strlen(text);
    if (ls == 0 && lt == 0) {
        return;
    }
    char stack[S_STACK_NORM];
    size_t need = RT_LEXICON_NORM_SIZE(ls) + RT_LEXICON_NORM_SIZE(lt);
    char *norm = need <= sizeof stack ? stack : malloc(need);
    if (!norm) {
        return; /* no lexicon signal rather than no decision */
    }
    size_t used = rt_lexicon_normalize(subject, ls, norm, need);
    rt_lexicon_normalize(text, lt, norm + used, need - used);
    int lang = s_lang(c->language);
    int first = lang >= 0 ? lang : 0, last = lang >= 0 ? lang : RT_LANG_COUNT - 1;
    s_lexicon_kind(b, norm, p, first, last, 1);
    s_lexicon_kind(b, norm, p, first, last, 0);
    if (norm != stack) {
        free(norm);
    }
}

void rt_classify_base(const Hetki__V1__Contact *c, const rt_policy_t *p, rt_base_t *b) {
    memset(b, 0, sizeof *b);
    const Hetki__V1__Choices *ch = c->choices;
    const char *digits = ch && ch->ivr_digits ? ch->ivr_digits : "";
    int ivr_urgent = strchr(digits, '9') != NULL;
    int ivr_person = strchr(digits, '0') != NULL;
    b->explicit_urgent = (ch && ch->urgent) || ivr_urgent;
    b->explicit_person = (ch && (ch->talk_to_person || ch->callback)) || ivr_person;
    if (ch && ch->urgent) {
        s_base_reason(b, "choice:urgent");
    }
    if (ch && ch->talk_to_person) {
        s_base_reason(b, "choice:talk_to_person");
    }
    if (ch && ch->callback) {
        s_base_reason(b, "choice:callback");
    }
    if (ivr_urgent) {
        s_base_reason(b, "ivr:9:urgent");
    }
    if (ivr_person) {
        s_base_reason(b, "ivr:0:talk_to_person");
    }
    b->score += b->explicit_urgent ? p->weight_choice_urgent : 0;
    b->score += b->explicit_person ? p->weight_choice_person : 0;
    s_lexicons(b, c, p);
    b->is_phone_channel = c->channel == HETKI__V1__CHANNEL__CHANNEL_PHONE;
    if (b->is_phone_channel) {
        b->score += p->weight_phone_channel;
        s_base_reason(b, "channel:phone");
    }
    b->phone_known = s_has_phone(c);
    b->score = s_clamp_score(b->score);
}

static void s_reason(rt_decision_t *d, const char *reason) {
    s_add_reason(d->reasons, d->reason_buf, &d->n_reasons, reason);
}

void rt_classify_finish(rt_base_t *b, const rt_signals_t *s, const rt_policy_t *p,
                        rt_decision_t *d) {
    /* Only the header is cleared: the buffers are written before they are pointed at. */
    d->target = NULL;
    d->queue = NULL;
    d->n_reasons = 0;
    for (size_t i = 0; i < b->n_reasons && i < RT_MAX_REASONS; i++) {
        s_reason(d, b->reasons[i]);
    }
    int score = b->score;
    if (s->repeat) {
        score += p->weight_repeat;
        s_reason(d, "repeat_contact");
    }
    if (s->first_contact) {
        score += p->weight_first_contact;
        s_reason(d, "first_contact:moment_of_truth");
    }
    if (s->vulnerable) {
        score += p->weight_vulnerable;
        s_reason(d, "customer:vulnerable");
    }
    if (s->vip) {
        score += p->weight_vip;
        s_reason(d, "customer:vip");
    }
    score = s_clamp_score(score);

    Hetki__V1__ContactClass klass = HETKI__V1__CONTACT_CLASS__CONTACT_CLASS_ROUTINE;
    if (score >= p->urgent_threshold) {
        klass = HETKI__V1__CONTACT_CLASS__CONTACT_CLASS_URGENT;
    } else if (score >= p->personal_threshold) {
        klass = HETKI__V1__CONTACT_CLASS__CONTACT_CLASS_PERSONAL;
    }
    /* Explicit choices are never overridden. */
    if (b->explicit_urgent && klass != HETKI__V1__CONTACT_CLASS__CONTACT_CLASS_URGENT) {
        klass = HETKI__V1__CONTACT_CLASS__CONTACT_CLASS_URGENT;
        score = s_clamp_score(p->urgent_threshold);
    } else if (b->explicit_person && klass == HETKI__V1__CONTACT_CLASS__CONTACT_CLASS_ROUTINE) {
        klass = HETKI__V1__CONTACT_CLASS__CONTACT_CLASS_PERSONAL;
        score = s_clamp_score(p->personal_threshold);
    }
    d->klass = klass;
    d->score = score;

    const char *queue;
    if (klass == HETKI__V1__CONTACT_CLASS__CONTACT_CLASS_ROUTINE) {
        d->target = "async";
        queue = p->async_queue;
        s_reason(d, "target:async");
    } else if (b->is_phone_channel) {
        d->target = "voice";
        queue = p->voice_queue;
        s_reason(d, "target:voice:live");
    } else if (b->phone_known) {
        d->target = "callback";
        queue = p->voice_queue;
        s_reason(d, "target:callback:phone_known");
    } else {
        d->target = "human_chat";
        queue = p->human_chat_queue;
        s_reason(d, "target:human_chat:no_phone");
    }
    size_t qlen = strnlen(queue, sizeof d->queue_buf - 1);
    memcpy(d->queue_buf, queue, qlen);
    d->queue_buf[qlen] = '\0';
    d->queue = d->queue_buf;
}

/* Is ptr inside the len bytes at base? (Compared as integers: they may be unrelated.) */
static int s_inside(const void *ptr, const void *base, size_t len) {
    uintptr_t p = (uintptr_t)ptr, b = (uintptr_t)base;
    return p >= b && p < b + len;
}

void rt_decision_copy(rt_decision_t *dst, const rt_decision_t *src) {
    if (dst == src) {
        return;
    }
    memcpy(dst, src, sizeof *dst);
    if (s_inside(src->queue, src->queue_buf, sizeof src->queue_buf)) {
        dst->queue = dst->queue_buf + (src->queue - src->queue_buf);
    }
    for (size_t i = 0; i < src->n_reasons && i < RT_MAX_REASONS; i++) {
        const char *r = src->reasons[i];
        if (s_inside(r, src->reason_buf, sizeof src->reason_buf)) {
            dst->reasons[i] = (const char *)dst->reason_buf + (r - (const char *)src->reason_buf);
        }
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

void rt_decision_to_proto(const rt_decision_t *d, Hetki__V1__RoutingDecision *msg) {
    hetki__v1__routing_decision__init(msg);
    msg->class_ = d->klass;
    msg->score = d->score;
    msg->target = (char *)d->target;
    msg->queue = (char *)d->queue;
    msg->n_reasons = d->n_reasons;
    msg->reasons = (char **)d->reasons;
}
