/* hk_strmap: a small string-keyed hash map (chained, grows by doubling). Keys are copied;
 * values are the caller's pointers and never freed by the map. */
#ifndef HK_STRMAP_H
#define HK_STRMAP_H

#include <stddef.h>

typedef struct hk_strmap_t hk_strmap_t;

hk_strmap_t *hk_strmap_new(void);

/* Frees the map (not the values) and nulls the caller's pointer. */
void hk_strmap_destroy(hk_strmap_t **self_p);

/* Frees the map and passes every value to free_fn; nulls the caller's pointer. */
void hk_strmap_destroy_values(hk_strmap_t **self_p, void (*free_fn)(void *value));

/* Inserts or replaces; returns the previous value or NULL. */
void *hk_strmap_put(hk_strmap_t *self, const char *key, void *value);

/* The value for key, or NULL. */
void *hk_strmap_get(const hk_strmap_t *self, const char *key);

/* Removes key; returns its value or NULL. */
void *hk_strmap_remove(hk_strmap_t *self, const char *key);

size_t hk_strmap_size(const hk_strmap_t *self);

/* The keys, in no order, as a new array the caller frees (not the keys); they stay valid
 * until the map changes. *n receives the count. */
char **hk_strmap_keys(const hk_strmap_t *self, size_t *n);

#endif
