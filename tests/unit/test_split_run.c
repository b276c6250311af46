/* SPDX-License-Identifier: MIT */
/* Unit tests of mirad-split's engine (src/split_run.c): the protocol
 * flag, the protocols in order, the K-shot views and the format check. */
#include "mirad_platform.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include "test_records.h"

#include "mirad_err.h"
#include "split_run.h"

static struct mirad_record *
rec(const char *category, const char *split, const char *label,
    const char *image)
{
	return test_record("/d", category, split, label,
	    strcmp(label, "normal") ? "crack" : "good", image, NULL);
}

/* Two categories, each with N normal train images and three test images
 * (one normal, two anomalies). */
static void
fill(struct mirad_recordset *set, int n)
{
	static const char *const cats[] = {"a", "b"};

	for (int c = 0; c < 2; c++) {
		char img[64];

		for (int i = 0; i < n; i++) {
			snprintf(
			    img, sizeof img, "%s/train/%03d.png", cats[c], i);
			mirad_recordset_push(
			    set, rec(cats[c], "train", "normal", img));
		}
		snprintf(img, sizeof img, "%s/test/good.png", cats[c]);
		mirad_recordset_push(set, rec(cats[c], "test", "normal", img));
		for (int i = 0; i < 2; i++) {
			snprintf(
			    img, sizeof img, "%s/test/crack%d.png", cats[c], i);
			mirad_recordset_push(
			    set, rec(cats[c], "test", "anomaly", img));
		}
	}
}

static size_t
count(
    const struct mirad_recordset *set, const char *split, const char *category)
{
	size_t n = 0;

	for (size_t i = 0; i < set->count; i++)
		n += strcmp(set->items[i]->split, split) == 0 &&
		    (category == NULL ||
		        strcmp(set->items[i]->category, category) == 0);
	return n;
}

static void
test_has_protocol(void **state)
{
	struct split s = {0};

	(void)state;
	/* A plain listing has no header; each protocol option gives one. */
	assert_false(split_has_protocol(&s));
	s.seed_given = true;
	assert_true(split_has_protocol(&s));
	s.seed_given = false;
	s.nodes = "nodes.csv";
	assert_true(split_has_protocol(&s));
	s.nodes = NULL;
	s.in.scan.split_csv = "1cls.csv";
	assert_true(split_has_protocol(&s));
	s.in.scan.split_csv = NULL;
	s.merge = "all";
	assert_true(split_has_protocol(&s));
}

static void
test_views_without_shots(void **state)
{
	struct mirad_recordset set = {0};
	struct split s = {0};
	struct split_view *views;
	size_t n = 0;

	(void)state;
	fill(&set, 3);
	views = split_make_views(&s, &set, &n);
	assert_int_equal(n, 1);
	assert_true(views[0].k == SIZE_MAX);
	/* The one view borrows every record, in order. */
	assert_int_equal(views[0].set.count, set.count);
	for (size_t i = 0; i < set.count; i++)
		assert_ptr_equal(views[0].set.items[i], set.items[i]);
	split_views_free(views, n);
	mirad_recordset_clear(&set);
}

static void
test_views_with_shots(void **state)
{
	struct mirad_recordset set = {0};
	struct split s = {0};
	struct split_view *views;
	size_t n = 0;

	(void)state;
	fill(&set, 5);
	s.shots = calloc(2, sizeof *s.shots);
	assert_non_null(s.shots);
	s.shots[0] = 1;
	s.shots[1] = 3;
	s.nshots = 2;
	views = split_make_views(&s, &set, &n);
	assert_int_equal(n, 2);
	assert_int_equal(views[0].k, 1);
	assert_int_equal(views[1].k, 3);
	/* K normal train images per category, every test image kept. */
	assert_int_equal(count(&views[0].set, "train", "a"), 1);
	assert_int_equal(count(&views[0].set, "train", "b"), 1);
	assert_int_equal(count(&views[1].set, "train", "a"), 3);
	assert_int_equal(count(&views[1].set, "test", NULL), 6);
	/* Nested: the 1-shot image is in the 3-shot set. */
	for (size_t i = 0; i < views[0].set.count; i++) {
		bool found = false;

		for (size_t j = 0; j < views[1].set.count; j++)
			found |= views[0].set.items[i] == views[1].set.items[j];
		assert_true(found);
	}
	split_views_free(views, n);
	split_settings_free(&s);
	mirad_recordset_clear(&set);
}

static void
test_protocols_in_order(void **state)
{
	struct mirad_recordset set = {0};
	struct split s = {0};

	(void)state;
	fill(&set, 4);
	s.input = "test";
	assert_int_equal(mirad_strlist_split("b", &s.categories), 0);
	assert_int_equal(split_parse_amount("2", &s.val), 0);
	assert_int_equal(split_parse_amount("1", &s.train_anomalies), 0);
	split_apply_protocols(&s, &set);
	/* Only category b is left; then one anomaly moves to train and two
	 * normal train images to val. */
	assert_int_equal(set.count, 7);
	assert_int_equal(count(&set, "train", "a"), 0);
	assert_int_equal(count(&set, "val", "b"), 2);
	assert_int_equal(count(&set, "train", "b"), 3);
	assert_int_equal(count(&set, "test", "b"), 2);
	split_settings_free(&s);
	mirad_recordset_clear(&set);
}

static void
test_check_format_accepts(void **state)
{
	struct mirad_recordset set = {0};
	struct split s = {0};
	struct split_view *views;
	size_t n = 0;

	(void)state;
	fill(&set, 2);
	s.format = MIRAD_FORMAT_JSONL;
	views = split_make_views(&s, &set, &n);
	/* Returns (a refusal would exit the test program). */
	split_check_format(&s, &set, views, n);
	assert_int_equal(mirad_format_from_name("tabular-csv", &s.format), 0);
	split_check_format(&s, &set, views, n);
	split_views_free(views, n);
	mirad_recordset_clear(&set);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_has_protocol),
	    cmocka_unit_test(test_views_without_shots),
	    cmocka_unit_test(test_views_with_shots),
	    cmocka_unit_test(test_protocols_in_order),
	    cmocka_unit_test(test_check_format_accepts),
	};

	mirad_set_progname("test_split_run");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
