/* SPDX-License-Identifier: MIT */
/*
 * A test-only stop point.  With MIRAD_TEST_STOP_AT=POINT:N in the
 * environment the process stops itself (SIGSTOP) the first time the count
 * reported for POINT reaches N, so that a test can kill, interrupt or
 * inspect it at an exact place instead of after a guessed delay.  Without
 * the variable (always, outside the test suite) a call costs one compare.
 * mirad(7) lists the points.
 */
#ifndef MIRAD_TESTPOINT_H
#define MIRAD_TESTPOINT_H

#include "mirad_platform.h"

/* POINT has now reached COUNT units (items done, bytes written). */
void mirad_test_point(const char *point, uint64_t count);

#endif
