/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mirad_progress.h"
#include "mirad_testpoint.h"

static GMutex lock; /* static: needs no initialisation */
static enum mirad_progress_mode mode;
static bool active;
static bool on_screen;
static char label[64];
static uint64_t done, total;
static double last_draw;

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool
enabled(void)
{
	if (mode == MIRAD_PROGRESS_ON)
		return true;
	if (mode == MIRAD_PROGRESS_OFF)
		return false;
	return isatty(STDERR_FILENO) != 0;
}

void
mirad_progress_set_mode(enum mirad_progress_mode m)
{
	mode = m;
}

static void
draw_locked(void)
{
	if (total > 0)
		fprintf(stderr, "\r%s: %llu/%llu (%.0f%%)\033[K", label,
		    (unsigned long long)done, (unsigned long long)total,
		    100.0 * (double)done / (double)total);
	else
		fprintf(stderr, "\r%s: %llu\033[K", label,
		    (unsigned long long)done);
	fflush(stderr);
	on_screen = true;
}

void
mirad_progress_start(const char *name, uint64_t units)
{
	g_mutex_lock(&lock);
	active = enabled();
	snprintf(label, sizeof label, "%s", name);
	done = 0;
	total = units;
	last_draw = 0;
	g_mutex_unlock(&lock);
}

void
mirad_progress_set_total(uint64_t units)
{
	g_mutex_lock(&lock);
	total = units;
	g_mutex_unlock(&lock);
}

void
mirad_progress_add(uint64_t delta)
{
	double t;
	char point[sizeof label];
	uint64_t now_done;

	g_mutex_lock(&lock);
	done += delta;
	now_done = done;
	memcpy(point, label, sizeof label);
	if (active) {
		t = now_seconds();
		if (t - last_draw >= 0.2) {
			last_draw = t;
			draw_locked();
		}
	}
	g_mutex_unlock(&lock);
	/* Outside the lock: a stopped process must not hold it. */
	mirad_test_point(point, now_done);
}

static void
clear_locked(void)
{
	if (on_screen) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		on_screen = false;
	}
}

void
mirad_progress_end(void)
{
	g_mutex_lock(&lock);
	clear_locked();
	active = false;
	g_mutex_unlock(&lock);
}

void
mirad_progress_clear(void)
{
	g_mutex_lock(&lock);
	clear_locked();
	g_mutex_unlock(&lock);
}
