/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include <signal.h>
#include <sys/wait.h>

#include "test_util.h"

#include "mirad_testpoint.h"

/* In a child process with MIRAD_TEST_STOP_AT=SETTING, pass a
 * "converting" point and then "unpacking" with COUNTS[0..n) one after the
 * other.  Returns true if the child stopped itself (it is then continued
 * and must make all its calls), false if it ran to its end without
 * stopping. */
static bool
stops(const char *setting, const uint64_t *counts, int n)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		setenv("MIRAD_TEST_STOP_AT", setting, 1);
		mirad_test_point("converting", 1000);
		for (int i = 0; i < n; i++)
			mirad_test_point("unpacking", counts[i]);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, WUNTRACED), pid);
	if (WIFEXITED(status)) {
		assert_int_equal(WEXITSTATUS(status), 0);
		return false;
	}
	assert_true(WIFSTOPPED(status));
	assert_int_equal(WSTOPSIG(status), SIGSTOP);
	kill(pid, SIGCONT);
	/* Stopped once only: after SIGCONT it runs to its end. */
	assert_int_equal(waitpid(pid, &status, WUNTRACED), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return true;
}

static void
test_stops_once_at_the_count(void **state)
{
	const uint64_t counts[] = {10, 4096, 8192, 20000, 30000};

	(void)state;
	assert_true(stops("unpacking:8000", counts, 5));
}

/* The stop must happen inside the call that reaches the count: a pipe
 * read while the child is stopped holds only the calls before it. */
static void
test_stops_in_the_call_that_reaches_the_count(void **state)
{
	int fds[2], status, got = 0;
	char buf[8];
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		setenv("MIRAD_TEST_STOP_AT", "unpacking:3", 1);
		for (uint64_t i = 1; i <= 5; i++) {
			mirad_test_point("unpacking", i);
			if (write(fds[1], "x", 1) != 1)
				_exit(1);
		}
		_exit(0);
	}
	close(fds[1]);
	assert_int_equal(waitpid(pid, &status, WUNTRACED), pid);
	assert_true(WIFSTOPPED(status));
	got = (int)read(fds[0], buf, sizeof buf);
	assert_int_equal(got, 2);
	kill(pid, SIGCONT);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(fds[0]);
}

static void
test_other_points_and_bad_settings_never_stop(void **state)
{
	const uint64_t counts[] = {1, 100, 1000000};

	(void)state;
	assert_false(stops("downloading:1", counts, 3));
	assert_false(stops("unpacking", counts, 3));
	assert_false(stops("unpacking:", counts, 3));
	assert_false(stops("unpacking:12x", counts, 3));
	assert_false(stops("unpacking:2000000", counts, 3));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stops_once_at_the_count),
	    cmocka_unit_test(test_stops_in_the_call_that_reaches_the_count),
	    cmocka_unit_test(test_other_points_and_bad_settings_never_stop),
	};
	return cmocka_run_group_tests_name("testpoint", tests, NULL, NULL);
}
