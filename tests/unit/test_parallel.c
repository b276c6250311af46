/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include <glib.h>

#include "test_util.h"

#include "mirad_parallel.h"

#define MANY 1000

/* How often each item ran and each thread ended; which items fail. */
struct tally {
	gint runs[MANY];
	gint thread_ends;
	size_t fail_a, fail_b; /* items that return their index + 1 */
	/* Item HOLD waits until item RELEASE has failed. */
	size_t hold, release;
	GMutex lock;
	GCond cond;
	bool released;
};

static void
tally_init(struct tally *t)
{
	memset(t, 0, sizeof *t);
	t->fail_a = t->fail_b = t->hold = t->release = SIZE_MAX;
	g_mutex_init(&t->lock);
	g_cond_init(&t->cond);
}

static void
tally_clear(struct tally *t)
{
	g_mutex_clear(&t->lock);
	g_cond_clear(&t->cond);
}

static int
count_item(size_t i, void *user)
{
	struct tally *t = user;

	g_atomic_int_inc(&t->runs[i]);
	if (i == t->hold) {
		g_mutex_lock(&t->lock);
		while (!t->released)
			g_cond_wait(&t->cond, &t->lock);
		g_mutex_unlock(&t->lock);
	}
	if (i == t->release) {
		g_mutex_lock(&t->lock);
		t->released = true;
		g_cond_broadcast(&t->cond);
		g_mutex_unlock(&t->lock);
	}
	return i == t->fail_a || i == t->fail_b ? (int)i + 1 : 0;
}

static void
count_thread_end(void *user)
{
	struct tally *t = user;

	g_atomic_int_inc(&t->thread_ends);
}

static void
test_no_items_runs_nothing(void **state)
{
	struct tally t;
	size_t failed = 42;

	(void)state;
	tally_init(&t);
	assert_int_equal(
	    mirad_parallel_for(0, 4, count_item, count_thread_end, &t, &failed),
	    0);
	assert_int_equal(t.thread_ends, 0);
	assert_int_equal(failed, 42);
	tally_clear(&t);
}

static void
test_every_item_runs_once(void **state)
{
	(void)state;
	for (unsigned threads = 0; threads <= 4; threads++) {
		struct tally t;

		tally_init(&t);
		assert_int_equal(mirad_parallel_for(MANY, threads, count_item,
		                     count_thread_end, &t, NULL),
		    0);
		for (size_t i = 0; i < MANY; i++)
			assert_int_equal(t.runs[i], 1);
		assert_true(t.thread_ends >= 1);
		assert_true((unsigned)t.thread_ends <=
		    (threads ? threads : mirad_cpu_count()));
		tally_clear(&t);
	}
}

static void
test_fewer_items_than_threads(void **state)
{
	struct tally t;

	(void)state;
	tally_init(&t);
	assert_int_equal(
	    mirad_parallel_for(3, 16, count_item, count_thread_end, &t, NULL),
	    0);
	assert_int_equal(t.runs[0] + t.runs[1] + t.runs[2], 3);
	assert_int_equal(t.runs[3], 0);
	/* No thread is started for nothing to do. */
	assert_true(t.thread_ends >= 1 && t.thread_ends <= 3);
	tally_clear(&t);
}

static void
test_serial_loop_stops_at_the_first_error(void **state)
{
	struct tally t;
	size_t failed = 0;

	(void)state;
	tally_init(&t);
	t.fail_a = 7;
	t.fail_b = 300;
	assert_int_equal(mirad_parallel_for(MANY, 1, count_item,
	                     count_thread_end, &t, &failed),
	    8);
	assert_int_equal(failed, 7);
	for (size_t i = 0; i < MANY; i++)
		assert_int_equal(t.runs[i], i <= 7);
	assert_int_equal(t.thread_ends, 1);
	tally_clear(&t);
}

/* Item 5 fails while item 3 still runs; item 3 then fails too.  The
 * answer is item 3's, as in a serial loop, although 5 failed first. */
static void
test_smallest_failing_index_wins(void **state)
{
	(void)state;
	for (unsigned threads = 2; threads <= 4; threads++) {
		struct tally t;
		size_t failed = 0;

		tally_init(&t);
		t.fail_a = 3;
		t.fail_b = 5;
		t.hold = 3;
		t.release = 5;
		assert_int_equal(mirad_parallel_for(MANY, threads, count_item,
		                     NULL, &t, &failed),
		    4);
		assert_int_equal(failed, 3);
		for (size_t i = 0; i <= 5; i++)
			assert_int_equal(t.runs[i], 1);
		tally_clear(&t);
	}
}

static void
test_cpu_count_is_positive(void **state)
{
	(void)state;
	assert_true(mirad_cpu_count() >= 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_no_items_runs_nothing),
	    cmocka_unit_test(test_every_item_runs_once),
	    cmocka_unit_test(test_fewer_items_than_threads),
	    cmocka_unit_test(test_serial_loop_stops_at_the_first_error),
	    cmocka_unit_test(test_smallest_failing_index_wins),
	    cmocka_unit_test(test_cpu_count_is_positive),
	};
	return cmocka_run_group_tests_name("parallel", tests, NULL, NULL);
}
