// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit test of the open-addressing hash table (daemon/hashtab.c), checked
 * against plain reference arrays: 100000 random keys inserted, found,
 * overwritten and deleted in random order; growth keeping the load at most
 * one half; backward-shift deletion in tiny tables whose probe runs wrap
 * around the end (every remaining key must stay reachable after each
 * delete); iteration visiting each live key exactly once; ret_new; and
 * struct keys and values of odd sizes.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hashtab.h"
#include "test.h"
#include "util.h"

#define BIG_N 100000

/* splitmix64: a bijection on 64-bit integers, so distinct inputs give
 * distinct keys; deterministic so a failure can be replayed. */
static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static uint64_t rng(void)
{
	rng_state = mix64(rng_state);
	return rng_state;
}

static void shuffle(size_t *a, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = rng() % i, t = a[i - 1];

		a[i - 1] = a[j];
		a[j] = t;
	}
}

static bool is_pow2(size_t n)
{
	return n && !(n & (n - 1));
}

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

struct val {
	uint64_t payload;
	uint64_t index; /* position in the reference arrays */
};

/* Every key marked present is found with its value; the absent ones not. */
static bool check_all(const struct hashtab *h, const uint64_t *keys, const uint64_t *vals,
		      const bool *present, size_t n, const char *what)
{
	size_t live = 0;

	for (size_t i = 0; i < n; i++) {
		const struct val *v = hashtab_get(h, &keys[i]);

		if (present[i]) {
			live++;
			if (!v)
				return TEST_FAIL_("%s: key %zu (%#" PRIx64 ") lost", what, i,
						  keys[i]);
			if (v->payload != vals[i] || v->index != i)
				return TEST_FAIL_("%s: key %zu has value %#" PRIx64 "/%" PRIu64
						  ", expected %#" PRIx64 "/%zu",
						  what, i, v->payload, v->index, vals[i], i);
		} else if (v) {
			return TEST_FAIL_("%s: deleted key %zu (%#" PRIx64 ") still found", what,
					  i, keys[i]);
		}
	}
	test_checks++;
	return ASSERT_EQ(h->count, live, what);
}

/* hashtab_next visits each live key exactly once, with its own value. */
static bool check_iteration(const struct hashtab *h, const uint64_t *keys, const bool *present,
			    size_t n, const char *what)
{
	bool *seen = calloc(n, sizeof(*seen));
	size_t visits = 0, live = 0;
	bool ok = true;
	void *k, *v;

	if (!seen)
		return TEST_FAIL_("%s: out of memory", what);
	for (size_t pos = 0; hashtab_next(h, &pos, &k, &v);) {
		const struct val *val = v;

		visits++;
		if (val->index >= n || keys[val->index] != *(uint64_t *)k) {
			ok = TEST_FAIL_("%s: iteration returned a key with a foreign value", what);
			break;
		}
		if (!present[val->index]) {
			ok = TEST_FAIL_("%s: iteration returned deleted key %" PRIu64, what,
					val->index);
			break;
		}
		if (seen[val->index]) {
			ok = TEST_FAIL_("%s: iteration returned key %" PRIu64 " twice", what,
					val->index);
			break;
		}
		seen[val->index] = true;
	}
	for (size_t i = 0; i < n; i++)
		live += present[i];
	if (ok)
		ok = ASSERT_EQ(visits, live, what);
	free(seen);
	return ok;
}

static void test_empty(void)
{
	struct hashtab h;
	uint64_t key = 42;
	size_t pos = 0;
	void *k = NULL, *v = NULL;

	hashtab_init(&h, sizeof(uint64_t), sizeof(struct val));
	ASSERT_EQ(h.cap, 0, "empty table has no slots");
	ASSERT_EQ(h.count, 0, "empty table count");
	ASSERT_NULL(hashtab_get(&h, &key), "get on an empty table");
	ASSERT_FALSE(hashtab_del(&h, &key), "del on an empty table");
	ASSERT_FALSE(hashtab_next(&h, &pos, &k, &v), "next on an empty table");
	hashtab_done(&h);
	hashtab_done(&h);
}

static void test_big(void)
{
	uint64_t *keys = malloc(BIG_N * sizeof(*keys));
	uint64_t *vals = malloc(BIG_N * sizeof(*vals));
	bool *present = calloc(BIG_N, sizeof(*present));
	size_t *order = malloc(BIG_N * sizeof(*order));
	size_t prev_cap = 0, grows = 0;
	struct hashtab h;
	bool ok = true;

	if (!keys || !vals || !present || !order) {
		TEST_FAIL_("out of memory");
		goto out;
	}
	hashtab_init(&h, sizeof(uint64_t), sizeof(struct val));
	for (size_t i = 0; i < BIG_N; i++) {
		keys[i] = mix64(i);
		vals[i] = rng();
		order[i] = i;
	}

	/* Insert in random order. */
	shuffle(order, BIG_N);
	for (size_t n = 0; n < BIG_N && ok; n++) {
		size_t i = order[n];
		bool is_new = false;
		struct val *v = hashtab_put(&h, &keys[i], &is_new);

		if (!ASSERT_NOT_NULL(v, "put") || !ASSERT_TRUE(is_new, "new key is new") ||
		    !ASSERT_TRUE(all_zero(v, sizeof(*v)), "new value is zeroed")) {
			ok = false;
			break;
		}
		v->payload = vals[i];
		v->index = i;
		present[i] = true;
		if (h.cap != prev_cap) {
			grows++;
			prev_cap = h.cap;
		}
		if (!is_pow2(h.cap) || h.count != n + 1 || h.count * 2 > h.cap)
			ok = TEST_FAIL_("after %zu inserts: cap %zu count %zu", n + 1, h.cap,
					h.count);
	}
	test_checks++;
	ASSERT_TRUE(ok, "inserting 100000 keys");
	ASSERT_EQ(h.count, BIG_N, "count after inserts");
	ASSERT_TRUE(h.cap >= 2 * BIG_N && h.cap <= 4 * BIG_N, "capacity after growth");
	ASSERT_TRUE(grows >= 14, "table grew step by step");
	check_all(&h, keys, vals, present, BIG_N, "all keys after inserts");
	check_iteration(&h, keys, present, BIG_N, "iteration after inserts");

	/* Keys never inserted are not found. */
	for (size_t i = BIG_N; i < BIG_N + 1000; i++) {
		uint64_t k = mix64(i);

		if (hashtab_get(&h, &k) || hashtab_del(&h, &k)) {
			TEST_FAIL_("absent key %zu found", i);
			break;
		}
	}
	test_checks++;

	/* put of an existing key returns its value, not a new one. */
	ok = true;
	for (size_t i = 0; i < BIG_N; i += 7) {
		bool is_new = true;
		struct val *v = hashtab_put(&h, &keys[i], &is_new);

		if (!v || is_new || v->payload != vals[i] || v->index != i) {
			ok = TEST_FAIL_("put of existing key %zu: new %d", i, is_new);
			break;
		}
		vals[i] = rng();
		v->payload = vals[i];
	}
	test_checks++;
	ASSERT_TRUE(ok, "put of existing keys");
	ASSERT_EQ(h.count, BIG_N, "count unchanged by put of existing keys");
	/* ret_new may be NULL. */
	ASSERT_NOT_NULL(hashtab_put(&h, &keys[3], NULL), "put with ret_new NULL");
	ASSERT_EQ(h.count, BIG_N, "count unchanged by put with NULL ret_new");
	check_all(&h, keys, vals, present, BIG_N, "all keys after overwrite");

	/* Delete in random order; full check every 997 deletions. */
	shuffle(order, BIG_N);
	ok = true;
	for (size_t n = 0; n < BIG_N && ok; n++) {
		size_t i = order[n];

		if (!hashtab_del(&h, &keys[i])) {
			ok = TEST_FAIL_("del of live key %zu returned false", i);
			break;
		}
		present[i] = false;
		if (hashtab_get(&h, &keys[i]) || hashtab_del(&h, &keys[i]))
			ok = TEST_FAIL_("key %zu still there after del", i);
		if (n % 997 == 0 || n == BIG_N / 2)
			ok = ok && check_all(&h, keys, vals, present, BIG_N, "after deletions");
		if (n == BIG_N / 2)
			ok = ok && check_iteration(&h, keys, present, BIG_N,
						   "iteration after half the deletions");
	}
	test_checks++;
	ASSERT_TRUE(ok, "deleting 100000 keys in random order");
	ASSERT_EQ(h.count, 0, "count after deleting everything");
	check_iteration(&h, keys, present, BIG_N, "iteration of an emptied table");

	/* The emptied table is reusable. */
	for (size_t i = 0; i < 1000; i++) {
		struct val *v = hashtab_put(&h, &keys[i], NULL);

		if (!v)
			break;
		v->payload = vals[i];
		v->index = i;
		present[i] = true;
	}
	check_all(&h, keys, vals, present, BIG_N, "reinserted keys");
	hashtab_done(&h);
	ASSERT_EQ(h.count, 0, "count after done");
	ASSERT_NULL(h.slots, "slots after done");
out:
	free(keys);
	free(vals);
	free(present);
	free(order);
}

/*
 * Backward-shift deletion where it is hardest: a 16-slot table holding 8
 * keys whose home slots are 13, 14, 15, 0 and 1, so probe runs cross the
 * end of the array, deleted in every order of random trials.  After each
 * delete every remaining key must still be found.
 */
static void test_wraparound(void)
{
	enum { POOL = 64, KEYS = 8, TRIALS = 20000 };
	uint64_t pool[POOL], keys[KEYS], vals[KEYS];
	bool present[KEYS], ok = true;
	size_t order[KEYS], homes[16] = { 0 };
	size_t found = 0;

	/* Keys whose home slot in a 16-slot table is 13..15 or 0..1. */
	for (uint64_t x = 1; found < POOL; x++) {
		uint64_t k = mix64(x * 0x1000193);
		size_t home = hash_bytes(&k, sizeof(k)) & 15;

		if (home >= 13 || home <= 1) {
			pool[found++] = k;
			homes[home]++;
		}
	}
	for (int trial = 0; trial < TRIALS && ok; trial++) {
		struct hashtab h;
		size_t idx[POOL];

		for (size_t i = 0; i < POOL; i++)
			idx[i] = i;
		shuffle(idx, POOL);
		hashtab_init(&h, sizeof(uint64_t), sizeof(struct val));
		for (size_t i = 0; i < KEYS; i++) {
			struct val *v;

			keys[i] = pool[idx[i]];
			vals[i] = rng();
			v = hashtab_put(&h, &keys[i], NULL);
			if (!v) {
				ok = TEST_FAIL_("put failed");
				break;
			}
			v->payload = vals[i];
			v->index = i;
			present[i] = true;
			order[i] = i;
		}
		if (ok && h.cap != 16)
			ok = TEST_FAIL_("8 keys should fit 16 slots, cap is %zu", h.cap);
		shuffle(order, KEYS);
		for (size_t n = 0; n < KEYS && ok; n++) {
			char what[64];

			if (!hashtab_del(&h, &keys[order[n]])) {
				ok = TEST_FAIL_("trial %d: del of live key returned false", trial);
				break;
			}
			present[order[n]] = false;
			snprintf(what, sizeof(what), "wrap trial %d after %zu deletions", trial,
				 n + 1);
			ok = check_all(&h, keys, vals, present, KEYS, what) &&
			     check_iteration(&h, keys, present, KEYS, what);
		}
		hashtab_done(&h);
	}
	test_checks++;
	ASSERT_TRUE(ok, "wrap-around backward-shift deletion");
	ASSERT_TRUE(homes[15] > 0 && homes[0] > 0, "pool has keys on both sides of the wrap");
}

/*
 * A full small table: deleting and reinserting at random keeps the table
 * consistent for a long time (exercises shifts over runs of every length).
 */
static void test_churn(void)
{
	enum { N = 300, STEPS = 200000 };
	uint64_t keys[N], vals[N];
	bool present[N] = { false }, ok = true;
	struct hashtab h;

	hashtab_init(&h, sizeof(uint64_t), sizeof(struct val));
	for (size_t i = 0; i < N; i++)
		keys[i] = mix64(i + 7777777);
	for (int step = 0; step < STEPS && ok; step++) {
		size_t i = rng() % N;

		if (present[i]) {
			ok = hashtab_del(&h, &keys[i]);
			present[i] = false;
		} else {
			bool is_new = false;
			struct val *v = hashtab_put(&h, &keys[i], &is_new);

			ok = v && is_new;
			if (ok) {
				vals[i] = rng();
				v->payload = vals[i];
				v->index = i;
				present[i] = true;
			}
		}
		if (!ok)
			TEST_FAIL_("churn step %d on key %zu", step, i);
		else if (step % 1000 == 999)
			ok = check_all(&h, keys, vals, present, N, "churn");
	}
	test_checks++;
	ASSERT_TRUE(ok, "insert/delete churn");
	check_iteration(&h, keys, present, N, "iteration after churn");
	ASSERT_TRUE(is_pow2(h.cap) && h.cap <= 1024 && h.count * 2 <= h.cap,
		    "churn with at most 300 keys: at most 1024 slots, load <= 1/2");
	hashtab_done(&h);
}

/* 12-byte keys (no padding) that differ only in their last bytes. */
struct key12 {
	uint32_t a, b, c;
};

/* 24-byte keys. */
struct key24 {
	uint64_t dev;
	uint64_t ino;
	uint32_t gen;
	uint32_t zero;
};

_Static_assert(sizeof(struct key12) == 12, "key12 size");
_Static_assert(sizeof(struct key24) == 24, "key24 size");

static void test_odd_sizes(void)
{
	enum { N = 5000 };
	struct hashtab h12, h24;
	bool ok = true;

	/* key 12 bytes, value 20 bytes: pattern-fill values completely, then
	 * check no write into one slot leaks into another key or value. */
	hashtab_init(&h12, sizeof(struct key12), 20);
	hashtab_init(&h24, sizeof(struct key24), 3);
	for (uint32_t i = 0; i < N && ok; i++) {
		struct key12 k12 = { 0x11111111, 0x22222222, i };
		struct key24 k24 = { 0x0800001, 1000, i, 0 };
		bool is_new = false;
		unsigned char *v;

		v = hashtab_put(&h12, &k12, &is_new);
		ok = v && is_new && all_zero(v, 20);
		if (ok)
			memset(v, (int)(i & 0xff), 20);
		v = ok ? hashtab_put(&h24, &k24, &is_new) : NULL;
		ok = ok && v && is_new && all_zero(v, 3);
		if (ok)
			memset(v, (int)((i * 7) & 0xff), 3);
		if (!ok)
			TEST_FAIL_("odd-size insert %u", i);
	}
	test_checks++;
	ASSERT_EQ(h12.count, N, "12-byte keys differing in the last 4 bytes are distinct");
	ASSERT_EQ(h24.count, N, "24-byte keys differing in gen are distinct");

	for (uint32_t i = 0; i < N && ok; i++) {
		struct key12 k12 = { 0x11111111, 0x22222222, i };
		struct key24 k24 = { 0x0800001, 1000, i, 0 };
		unsigned char e12[20], e24[3];
		const unsigned char *v12 = hashtab_get(&h12, &k12);
		const unsigned char *v24 = hashtab_get(&h24, &k24);

		memset(e12, (int)(i & 0xff), sizeof(e12));
		memset(e24, (int)((i * 7) & 0xff), sizeof(e24));
		if (!v12 || memcmp(v12, e12, sizeof(e12)) || !v24 || memcmp(v24, e24, sizeof(e24)))
			ok = TEST_FAIL_("odd-size value %u wrong", i);
	}
	test_checks++;
	ASSERT_TRUE(ok, "odd-size values intact");

	/* Keys from the iteration are whole keys. */
	{
		size_t visits = 0;
		void *k, *v;

		for (size_t pos = 0; hashtab_next(&h12, &pos, &k, &v);) {
			const struct key12 *key = k;

			visits++;
			if (key->a != 0x11111111 || key->b != 0x22222222 || key->c >= N ||
			    *(unsigned char *)v != (key->c & 0xff)) {
				TEST_FAIL_("iteration over 12-byte keys returned a torn key");
				break;
			}
		}
		ASSERT_EQ(visits, N, "iteration over 12-byte keys");
	}

	/* Delete the odd gens of the 24-byte table; the even ones remain. */
	for (uint32_t i = 1; i < N; i += 2) {
		struct key24 k24 = { 0x0800001, 1000, i, 0 };

		if (!hashtab_del(&h24, &k24)) {
			TEST_FAIL_("del of 24-byte key %u", i);
			break;
		}
	}
	ok = true;
	for (uint32_t i = 0; i < N; i++) {
		struct key24 k24 = { 0x0800001, 1000, i, 0 };
		const unsigned char *v = hashtab_get(&h24, &k24);

		if ((i & 1) ? v != NULL : (!v || v[0] != ((i * 7) & 0xff) ||
					   v[2] != ((i * 7) & 0xff))) {
			ok = TEST_FAIL_("24-byte key %u after deleting odd gens", i);
			break;
		}
	}
	test_checks++;
	ASSERT_TRUE(ok, "24-byte keys after deletions");
	ASSERT_EQ(h24.count, N / 2, "24-byte count after deletions");
	hashtab_done(&h12);
	hashtab_done(&h24);
}

/* hash_bytes reads exactly n bytes and is deterministic. */
static void test_hash_bytes(void)
{
	unsigned char a[32], b[32];

	memset(a, 0x5a, sizeof(a));
	memcpy(b, a, sizeof(b));
	b[12] = 0; /* beyond the first 12 bytes */
	ASSERT_EQ(hash_bytes(a, 12), hash_bytes(b, 12), "hash ignores bytes beyond n");
	ASSERT_TRUE(hash_bytes(a, 13) != hash_bytes(b, 13), "hash covers byte n-1");
	ASSERT_TRUE(hash_bytes(a, 12) != hash_bytes(a, 11), "hash depends on the length");
}

int main(void)
{
	test_empty();
	test_hash_bytes();
	test_big();
	test_wraparound();
	test_churn();
	test_odd_sizes();
	return test_exit();
}
