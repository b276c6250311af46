/* SPDX-License-Identifier: MIT */
/*
 * A rate-limited progress meter on stderr.  By default it is shown only when
 * stderr is a terminal (zstd's rule); --progress forces it on, --no-progress
 * and -q off.  One meter at a time per process; updates are thread-safe.
 */
#ifndef MIRAD_PROGRESS_H
#define MIRAD_PROGRESS_H

#include "mirad_platform.h"

enum mirad_progress_mode {
	MIRAD_PROGRESS_AUTO = 0,
	MIRAD_PROGRESS_ON,
	MIRAD_PROGRESS_OFF
};

void mirad_progress_set_mode(enum mirad_progress_mode mode);
/* Start a meter named LABEL (copied) over TOTAL units (0 = unknown). */
void mirad_progress_start(const char *label, uint64_t total);
/* Add DELTA units done; redraws at most every 200 ms. */
void mirad_progress_add(uint64_t delta);
/* Set the total after the start (e.g. once a listing is complete). */
void mirad_progress_set_total(uint64_t total);
/* Erase the meter and forget it. */
void mirad_progress_end(void);
/* Erase a partial line if one is on screen (before a diagnostic). */
void mirad_progress_clear(void);

#endif
