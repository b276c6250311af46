/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include <glib.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "mirad_testpoint.h"

static gsize environment_read;
static char stop_point[64];
static uint64_t stop_count;
static atomic_bool armed;

static void
read_environment(void)
{
	const char *v = getenv("MIRAD_TEST_STOP_AT");
	const char *colon;
	char *end;
	unsigned long long n;

	if (v == NULL || (colon = strchr(v, ':')) == NULL ||
	    (size_t)(colon - v) >= sizeof stop_point)
		return;
	n = strtoull(colon + 1, &end, 10);
	if (end == colon + 1 || *end != '\0')
		return;
	memcpy(stop_point, v, (size_t)(colon - v));
	stop_point[colon - v] = '\0';
	stop_count = n;
	atomic_store(&armed, true);
}

void
mirad_test_point(const char *point, uint64_t count)
{
	if (g_once_init_enter(&environment_read)) {
		read_environment();
		g_once_init_leave(&environment_read, 1);
	}
	if (!atomic_load(&armed) || count < stop_count ||
	    strcmp(point, stop_point) != 0)
		return;
	/* Once only: after SIGCONT the run goes on to its end. */
	if (atomic_exchange(&armed, false))
		raise(SIGSTOP);
}
