/* rt_validate: checks a submitted contact before anything is stored. */
#ifndef RT_VALIDATE_H
#define RT_VALIDATE_H

#include <stddef.h>

#include "hetki/v1/contact.pb-c.h"

#define RT_MAX_TENANT 32
#define RT_MAX_DEDUPE 200
#define RT_MAX_TEXT 32768
#define RT_MAX_SUBJECT 1024
#define RT_MAX_IDENTITY 256

/* Returns 0, or -1 with a message naming the field in err. */
int rt_validate_contact(const Hetki__V1__Contact *c, char *err, size_t errlen);

/* "phone", "chat", "email", "kiosk" (or NULL for an invalid channel). */
const char *rt_channel_name(Hetki__V1__Channel channel);

#endif
