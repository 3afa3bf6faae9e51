/* rt_classify: decides urgent / personal / routine for a contact, with a score (0..100), a
 * target, a queue and the reasons, from the tenant's policy (rt_policy.h).
 *
 * Two steps. rt_classify_base computes what the contact itself says before anything is read
 * from Redis: explicit choices, IVR digits, lexicon hits, the channel and whether a phone
 * number is known. rt_classify_finish adds what Redis knows about the customer (repeat
 * contact, first contact, vulnerable, VIP), picks the class by the policy's thresholds and
 * then the target and the queue. Both are pure: no I/O, no clock, no allocation that
 * outlives the call. */
#ifndef RT_CLASSIFY_H
#define RT_CLASSIFY_H

#include <stddef.h>

#include "hetki/v1/contact.pb-c.h"
#include "hetki/v1/routing.pb-c.h"
#include "rt_policy.h"

#define RT_MAX_REASONS 16
#define RT_REASON_LEN 96

/* The signals known before Redis. reasons[i] points into reason_buf of the same struct, so
 * do not copy an rt_base_t by value and keep using the copy's reasons. */
typedef struct {
    int score; /* sum of the weights so far, 0..100 */
    const char *reasons[RT_MAX_REASONS];
    size_t n_reasons;
    int phone_known;      /* the customer gave or called from a phone number */
    int is_phone_channel; /* the contact is a call */
    int explicit_urgent;  /* choices.urgent or IVR 9: the class is at least urgent */
    int explicit_person;  /* talk to a person, callback or IVR 0: at least personal */
    char reason_buf[RT_MAX_REASONS][RT_REASON_LEN];
} rt_base_t;

/* What Redis knows about the customer (each 0 or 1). */
typedef struct {
    int repeat;        /* a previous contact within the policy's repeat window */
    int first_contact; /* the customer's first-ever contact: the moment of truth */
    int vulnerable;    /* customer flag */
    int vip;           /* customer flag */
} rt_signals_t;

/* The decision. target is a static string; queue and reasons point into this struct's own
 * buffers, so they stay valid as long as it lives (use rt_decision_copy to copy one). */
typedef struct {
    Hetki__V1__ContactClass klass;
    int score;          /* 0..100, higher is more urgent */
    const char *target; /* "voice", "callback", "human_chat" or "async" */
    const char *queue;  /* the tenant queue */
    const char *reasons[RT_MAX_REASONS];
    size_t n_reasons;
    char queue_buf[RT_POLICY_NAME];
    char reason_buf[RT_MAX_REASONS][RT_REASON_LEN];
} rt_decision_t;

/* Computes the pre-Redis signals of contact c (already validated) under policy p. */
void rt_classify_base(const Hetki__V1__Contact *c, const rt_policy_t *p, rt_base_t *out);

/* Adds the Redis-side signals s to b and writes the class, score, target, queue and reasons
 * into out. b is not changed. */
void rt_classify_finish(rt_base_t *b, const rt_signals_t *s, const rt_policy_t *p,
                        rt_decision_t *out);

/* Copies src into dst so that dst's pointers refer to dst's own buffers. */
void rt_decision_copy(rt_decision_t *dst, const rt_decision_t *src);

/* Points msg (initialised here) at d's fields for the bus; msg is valid while d lives. */
void rt_decision_to_proto(const rt_decision_t *d, Hetki__V1__RoutingDecision *msg);

/* "urgent", "personal", "routine" (or "unspecified"). */
const char *rt_class_name(Hetki__V1__ContactClass klass);

/* Parses a class name; returns UNSPECIFIED for anything else. */
Hetki__V1__ContactClass rt_class_parse(const char *name);

#endif
