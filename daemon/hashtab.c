// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Open-addressing hash table: each slot is [used byte][key][value], with
 * the key and value padded to 8 bytes.  Load factor at most 1/2.  Deletion
 * shifts later members of the probe run back, so lookups never need
 * tombstones.
 */
#include <stdlib.h>
#include <string.h>
#include "hashtab.h"

#define ALIGN8(n) (((n) + 7) & ~(size_t)7)

uint64_t hash_bytes(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a, then a final mix */

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

void hashtab_init(struct hashtab *h, size_t key_size, size_t val_size)
{
	memset(h, 0, sizeof(*h));
	h->key_size = key_size;
	h->val_size = val_size;
	h->slot_size = 8 + ALIGN8(key_size) + ALIGN8(val_size);
}

void hashtab_done(struct hashtab *h)
{
	free(h->slots);
	h->slots = NULL;
	h->cap = h->count = 0;
}

static unsigned char *slot(const struct hashtab *h, size_t i)
{
	return h->slots + i * h->slot_size;
}

static void *slot_key(const struct hashtab *h, unsigned char *s)
{
	(void)h;
	return s + 8;
}

static void *slot_val(const struct hashtab *h, unsigned char *s)
{
	return s + 8 + ALIGN8(h->key_size);
}

/* Index of key's slot, or of the empty slot where it would go. */
static size_t find(const struct hashtab *h, const void *key)
{
	size_t mask = h->cap - 1, i = hash_bytes(key, h->key_size) & mask;

	while (slot(h, i)[0] && memcmp(slot_key(h, slot(h, i)), key, h->key_size) != 0)
		i = (i + 1) & mask;
	return i;
}

void *hashtab_get(const struct hashtab *h, const void *key)
{
	size_t i;

	if (!h->cap)
		return NULL;
	i = find(h, key);
	return slot(h, i)[0] ? slot_val(h, slot(h, i)) : NULL;
}

static int grow(struct hashtab *h)
{
	struct hashtab n = *h;

	n.cap = h->cap ? h->cap * 2 : 16;
	n.count = 0;
	n.slots = calloc(n.cap, n.slot_size);
	if (!n.slots)
		return -1;
	for (size_t i = 0; i < h->cap; i++) {
		unsigned char *s = slot(h, i);

		if (s[0])
			memcpy(slot(&n, find(&n, slot_key(h, s))), s, h->slot_size);
	}
	n.count = h->count;
	free(h->slots);
	*h = n;
	return 0;
}

void *hashtab_put(struct hashtab *h, const void *key, bool *ret_new)
{
	unsigned char *s;
	size_t i;

	if ((h->count + 1) * 2 > h->cap && grow(h) < 0)
		return NULL;
	i = find(h, key);
	s = slot(h, i);
	if (s[0]) {
		if (ret_new)
			*ret_new = false;
		return slot_val(h, s);
	}
	memset(s, 0, h->slot_size);
	s[0] = 1;
	memcpy(slot_key(h, s), key, h->key_size);
	h->count++;
	if (ret_new)
		*ret_new = true;
	return slot_val(h, s);
}

bool hashtab_del(struct hashtab *h, const void *key)
{
	size_t mask, i, j;

	if (!h->cap)
		return false;
	mask = h->cap - 1;
	i = find(h, key);
	if (!slot(h, i)[0])
		return false;
	/* Backward shift: move later members of the run into the hole when
	 * their home slot does not lie cyclically in (i, j]. */
	for (j = (i + 1) & mask; slot(h, j)[0]; j = (j + 1) & mask) {
		size_t home = hash_bytes(slot_key(h, slot(h, j)), h->key_size) & mask;
		bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);

		if (stays)
			continue;
		memcpy(slot(h, i), slot(h, j), h->slot_size);
		i = j;
	}
	slot(h, i)[0] = 0;
	h->count--;
	return true;
}

bool hashtab_next(const struct hashtab *h, size_t *pos, void **ret_key, void **ret_val)
{
	for (; *pos < h->cap; (*pos)++) {
		unsigned char *s = slot(h, *pos);

		if (s[0]) {
			if (ret_key)
				*ret_key = slot_key(h, s);
			if (ret_val)
				*ret_val = slot_val(h, s);
			(*pos)++;
			return true;
		}
	}
	return false;
}
