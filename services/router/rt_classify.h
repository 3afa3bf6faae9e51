/* rt_classify: decides urgent / personal / routine for a contact, with a score, a target and
 * the reasons. For now the signals are the customer's explicit choices and the channel. */
#ifndef RT_CLASSIFY_H
#define RT_CLASSIFY_H

#include "hetki/v1/contact.pb-c.h"
#include "hetki/v1/routing.pb-c.h"

#define RT_MAX_REASONS 8

typedef struct {
    Hetki__V1__ContactClass klass;
    int score;          /* 0..100, higher is more urgent */
    const char *target; /* "voice", "callback", "human_chat" or "async" */
    const char *queue;  /* the tenant queue */
    const char *reasons[RT_MAX_REASONS];
    size_t n_reasons;
} rt_decision_t;

/* Classifies contact (already validated). Pure: no I/O, no clock. */
void rt_classify(const Hetki__V1__Contact *contact, rt_decision_t *out);

/* "urgent", "personal", "routine" (or "unspecified"). */
const char *rt_class_name(Hetki__V1__ContactClass klass);

/* Parses a class name; returns UNSPECIFIED for anything else. */
Hetki__V1__ContactClass rt_class_parse(const char *name);

#endif
