/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Minimal unit-test support in the style of the kernel's test_progs: every
 * ASSERT_* macro returns true when it holds and prints what differed when it
 * does not, so a test reads `if (!ASSERT_EQ(a, b, "what")) goto out;`.
 * A test binary exits 0 when every assertion held, 1 otherwise, 77 to skip
 * (automake's protocol) and 99 for a hard error in the test itself.
 */
#ifndef CACHEWATCH_TEST_H
#define CACHEWATCH_TEST_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define TEST_SKIP 77
#define TEST_HARD_ERROR 99

static int test_failures;
static int test_checks;

#define TEST_FAIL_(fmt, ...)                                                   \
	({                                                                     \
		test_failures++;                                               \
		fprintf(stderr, "%s:%d: FAIL: " fmt "\n", __FILE__, __LINE__,  \
			##__VA_ARGS__);                                        \
		false;                                                         \
	})

#define ASSERT_TRUE(cond, name)                                                \
	({                                                                     \
		test_checks++;                                                 \
		(cond) ? true : TEST_FAIL_("%s: expected true: %s", name, #cond); \
	})

#define ASSERT_FALSE(cond, name) ASSERT_TRUE(!(cond), name)

#define ASSERT_EQ(a, b, name)                                                  \
	({                                                                     \
		long long _a = (long long)(a), _b = (long long)(b);            \
		test_checks++;                                                 \
		_a == _b ? true                                                \
			 : TEST_FAIL_("%s: %s == %lld, expected %s == %lld",   \
				      name, #a, _a, #b, _b);                   \
	})

#define ASSERT_OK(err, name)                                                   \
	({                                                                     \
		long long _e = (long long)(err);                               \
		test_checks++;                                                 \
		_e >= 0 ? true                                                 \
			: TEST_FAIL_("%s: returned %lld (%s)", name, _e,       \
				     strerror((int)-_e));                      \
	})

#define ASSERT_ERR(err, expected, name)                                        \
	({                                                                     \
		long long _e = (long long)(err);                               \
		test_checks++;                                                 \
		_e == (long long)(expected)                                    \
			? true                                                 \
			: TEST_FAIL_("%s: returned %lld, expected %lld", name, \
				     _e, (long long)(expected));               \
	})

#define ASSERT_STREQ(a, b, name)                                               \
	({                                                                     \
		const char *_a = (a), *_b = (b);                               \
		test_checks++;                                                 \
		(_a && _b && strcmp(_a, _b) == 0)                              \
			? true                                                 \
			: TEST_FAIL_("%s: \"%s\", expected \"%s\"", name,      \
				     _a ? _a : "(null)", _b ? _b : "(null)");  \
	})

#define ASSERT_NULL(p, name) ASSERT_TRUE((p) == NULL, name)
#define ASSERT_NOT_NULL(p, name) ASSERT_TRUE((p) != NULL, name)

/* Call at the end of main(); a test that checked nothing is a failure. */
static inline int test_exit(void)
{
	if (test_checks == 0) {
		fprintf(stderr, "FAIL: no assertion was checked\n");
		return 1;
	}
	fprintf(stderr, "%d checks, %d failed\n", test_checks, test_failures);
	return test_failures ? 1 : 0;
}

#endif
