/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include "test_util.h"

#include "mirad_strlist.h"

static void
test_empty_list(void **state)
{
	struct mirad_strlist l = {0};

	(void)state;
	assert_int_equal(l.count, 0);
	assert_false(mirad_strlist_contains(&l, "a"));
	mirad_strlist_sort(&l);
	mirad_strlist_free(&l);
	mirad_strlist_free(&l);
	mirad_strlist_free(NULL);
	assert_null(l.items);
}

/* The view follows the array as it grows (past several reallocations). */
static void
test_add_keeps_the_view_current(void **state)
{
	struct mirad_strlist l = {0};
	char buf[16];

	(void)state;
	for (int i = 0; i < 1000; i++) {
		snprintf(buf, sizeof buf, "s%d", i);
		mirad_strlist_add(&l, buf);
		assert_int_equal(l.count, (size_t)i + 1);
		assert_string_equal(l.items[i], buf);
	}
	assert_string_equal(l.items[0], "s0");
	assert_true(mirad_strlist_contains(&l, "s999"));
	assert_false(mirad_strlist_contains(&l, "s1000"));
	mirad_strlist_take(&l, strdup("taken"));
	assert_int_equal(l.count, 1001);
	assert_string_equal(l.items[1000], "taken");
	mirad_strlist_free(&l);
	assert_int_equal(l.count, 0);
	assert_null(l.items);
}

static void
test_split(void **state)
{
	struct mirad_strlist l;

	(void)state;
	assert_int_equal(mirad_strlist_split("a,bb,c", &l), 0);
	assert_int_equal(l.count, 3);
	assert_string_equal(l.items[1], "bb");
	mirad_strlist_free(&l);
	assert_int_equal(mirad_strlist_split("one", &l), 0);
	assert_int_equal(l.count, 1);
	mirad_strlist_free(&l);
	assert_int_equal(mirad_strlist_split("", &l), -1);
	assert_int_equal(l.count, 0);
	assert_int_equal(mirad_strlist_split("a,", &l), -1);
	assert_int_equal(mirad_strlist_split(",a", &l), -1);
	assert_int_equal(mirad_strlist_split("a,,b", &l), -1);
	assert_int_equal(l.count, 0);
}

static void
test_sort_is_bytewise(void **state)
{
	struct mirad_strlist l = {0};

	(void)state;
	mirad_strlist_add(&l, "b");
	mirad_strlist_add(&l, "a");
	mirad_strlist_add(&l, "B");
	mirad_strlist_add(&l, "a");
	mirad_strlist_sort(&l);
	assert_string_equal(l.items[0], "B");
	assert_string_equal(l.items[1], "a");
	assert_string_equal(l.items[2], "a");
	assert_string_equal(l.items[3], "b");
	mirad_strlist_free(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty_list),
	    cmocka_unit_test(test_add_keeps_the_view_current),
	    cmocka_unit_test(test_split),
	    cmocka_unit_test(test_sort_is_bytewise),
	};
	return cmocka_run_group_tests_name("strlist", tests, NULL, NULL);
}
