/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small open-addressing hash table with fixed-size keys and values stored
 * inline (linear probing, backward-shift deletion, no tombstones).  Used for
 * the daemon's id -> path tables.  Pointers returned by hashtab_get/put stay
 * valid only until the next insertion (which may grow the table).
 */
#ifndef CACHEWATCH_HASHTAB_H
#define CACHEWATCH_HASHTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hashtab {
	size_t key_size;
	size_t val_size;
	size_t slot_size;
	size_t cap;   /* number of slots, a power of two (0 before first use) */
	size_t count; /* occupied slots */
	unsigned char *slots;
};

void hashtab_init(struct hashtab *h, size_t key_size, size_t val_size);
void hashtab_done(struct hashtab *h);
void *hashtab_get(const struct hashtab *h, const void *key);
/* Value of key, inserted zeroed when absent (*ret_new set); NULL on ENOMEM. */
void *hashtab_put(struct hashtab *h, const void *key, bool *ret_new);
bool hashtab_del(struct hashtab *h, const void *key);

/* Iterate: for (size_t i = 0; hashtab_next(h, &i, &k, &v); ) ... */
bool hashtab_next(const struct hashtab *h, size_t *pos, void **ret_key, void **ret_val);

uint64_t hash_bytes(const void *p, size_t n);

#endif
