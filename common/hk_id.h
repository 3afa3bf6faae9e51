/* hk_id: time-ordered unique ids (ULID layout: 48-bit unix ms + 80 random bits, Crockford
 * base32, 26 characters). Ids made by one process are strictly increasing, so sorting ids
 * sorts by creation time across processes to the millisecond. */
#ifndef HK_ID_H
#define HK_ID_H

#include <stdbool.h>
#include <stdint.h>

#define HK_ID_LEN 26

/* Writes a new id and a terminating NUL into out. */
void hk_id_new(char out[HK_ID_LEN + 1]);

/* True when text is exactly a well-formed id. */
bool hk_id_valid(const char *text);

/* The creation time of a valid id in unix ms, or -1 when the id is malformed. */
int64_t hk_id_time_ms(const char *id);

#endif
