/* hk_strmap: chained string-keyed hash map with FNV-1a hashing. */
#include "hk_strmap.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct s_entry {
    struct s_entry *next;
    void *value;
    uint64_t hash;
    char key[];
} s_entry_t;

struct hk_strmap_t {
    s_entry_t **buckets;
    size_t nbuckets; /* a power of two */
    size_t size;
};

static uint64_t s_hash(const char *key) {
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h = (h ^ *p) * 1099511628211ULL;
    }
    return h;
}

hk_strmap_t *hk_strmap_new(void) {
    hk_strmap_t *self = calloc(1, sizeof *self);
    assert(self);
    self->nbuckets = 64;
    self->buckets = calloc(self->nbuckets, sizeof *self->buckets);
    assert(self->buckets);
    return self;
}

void hk_strmap_destroy(hk_strmap_t **self_p) {
    hk_strmap_destroy_values(self_p, NULL);
}

void hk_strmap_destroy_values(hk_strmap_t **self_p, void (*free_fn)(void *value)) {
    assert(self_p);
    hk_strmap_t *self = *self_p;
    if (!self) {
        return;
    }
    for (size_t i = 0; i < self->nbuckets; i++) {
        s_entry_t *e = self->buckets[i];
        while (e) {
            s_entry_t *next = e->next;
            if (free_fn) {
                free_fn(e->value);
            }
            free(e);
            e = next;
        }
    }
    free(self->buckets);
    free(self);
    *self_p = NULL;
}

static void s_grow(hk_strmap_t *self) {
    size_t n = self->nbuckets * 2;
    s_entry_t **b = calloc(n, sizeof *b);
    assert(b);
    for (size_t i = 0; i < self->nbuckets; i++) {
        s_entry_t *e = self->buckets[i];
        while (e) {
            s_entry_t *next = e->next;
            size_t k = e->hash & (n - 1);
            e->next = b[k];
            b[k] = e;
            e = next;
        }
    }
    free(self->buckets);
    self->buckets = b;
    self->nbuckets = n;
}

void *hk_strmap_put(hk_strmap_t *self, const char *key, void *value) {
    uint64_t h = s_hash(key);
    for (s_entry_t *e = self->buckets[h & (self->nbuckets - 1)]; e; e = e->next) {
        if (e->hash == h && strcmp(e->key, key) == 0) {
            void *old = e->value;
            e->value = value;
            return old;
        }
    }
    if (self->size + 1 > self->nbuckets) {
        s_grow(self);
    }
    size_t len = strlen(key);
    s_entry_t *e = malloc(sizeof *e + len + 1);
    assert(e);
    memcpy(e->key, key, len + 1);
    e->hash = h;
    e->value = value;
    size_t k = h & (self->nbuckets - 1);
    e->next = self->buckets[k];
    self->buckets[k] = e;
    self->size++;
    return NULL;
}

void *hk_strmap_get(const hk_strmap_t *self, const char *key) {
    uint64_t h = s_hash(key);
    for (s_entry_t *e = self->buckets[h & (self->nbuckets - 1)]; e; e = e->next) {
        if (e->hash == h && strcmp(e->key, key) == 0) {
            return e->value;
        }
    }
    return NULL;
}

void *hk_strmap_remove(hk_strmap_t *self, const char *key) {
    uint64_t h = s_hash(key);
    s_entry_t **pp = &self->buckets[h & (self->nbuckets - 1)];
    for (; *pp; pp = &(*pp)->next) {
        s_entry_t *e = *pp;
        if (e->hash == h && strcmp(e->key, key) == 0) {
            void *value = e->value;
            *pp = e->next;
            free(e);
            self->size--;
            return value;
        }
    }
    return NULL;
}

size_t hk_strmap_size(const hk_strmap_t *self) {
    return self->size;
}

char **hk_strmap_keys(const hk_strmap_t *self, size_t *n) {
    char **keys = malloc((self->size ? self->size : 1) * sizeof *keys);
    assert(keys);
    size_t k = 0;
    for (size_t i = 0; i < self->nbuckets; i++) {
        for (s_entry_t *e = self->buckets[i]; e; e = e->next) {
            keys[k++] = e->key;
        }
    }
    *n = k;
    return keys;
}
