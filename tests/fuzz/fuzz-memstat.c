// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz target: the memory.stat parser (daemon/memstat.c), v1 and v2
 * layouts, on any text: no memory error, and parsing is deterministic.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "memstat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstring(data, size);
	struct memstat a, b;

	if (!text)
		return 0;
	for (int v2 = 0; v2 < 2; v2++) {
		memstat_init(&a);
		memstat_init(&b);
		memstat_parse(&a, v2, text);
		memstat_parse(&b, v2, text);
		FUZZ_ASSERT(!memcmp(&a, &b, sizeof(a)));
	}
	free(text);
	return 0;
}
