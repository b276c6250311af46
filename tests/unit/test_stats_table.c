/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of mirad-stats' number formats and counts table: exact and
 * readable numbers, defect types as (category, defect) pairs, pooled
 * folders as unknown counts, --categories on entries and records.
 */
#include "mirad_platform.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stats_report.h"
#include "stats_table.h"

static void
test_exact_numbers_read_back(void **state)
{
	static const double values[] = {0.009114583333333334, 84.0 / 9216,
	    1.0 / 3, 0.1, 2.0 / 1048576, 1e-300, 123456789.125, -0.5, 10, 0,
	    4789, 1e15, 6.02214076e23};
	char buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
		stats_format_exact(buf, sizeof buf, values[i]);
		assert_true(strtod(buf, NULL) == values[i]);
	}
	/* The shortest such text: no 17-digit noise, whole numbers plain. */
	stats_format_exact(buf, sizeof buf, 0.1);
	assert_string_equal(buf, "0.1");
	stats_format_exact(buf, sizeof buf, 10);
	assert_string_equal(buf, "10");
	stats_format_exact(buf, sizeof buf, 84.0 / 9216);
	assert_string_equal(buf, "0.009114583333333334");
	stats_format_exact(buf, sizeof buf, NAN);
	assert_string_equal(buf, "null");
}

static void
test_readable_numbers(void **state)
{
	char buf[64];

	(void)state;
	stats_format_readable(buf, sizeof buf, 84.0 / 9216);
	assert_string_equal(buf, "0.009115");
	stats_format_readable(buf, sizeof buf, 0.25);
	assert_string_equal(buf, "0.25");
	stats_format_readable(buf, sizeof buf, 3);
	assert_string_equal(buf, "3");
	stats_format_readable(buf, sizeof buf, 1133.4567);
	assert_string_equal(buf, "1133");
	stats_format_readable(buf, sizeof buf, 0);
	assert_string_equal(buf, "0");
}

static void
test_json_print_is_exact(void **state)
{
	cJSON *o = cJSON_CreateObject();
	char *text;

	(void)state;
	cJSON_AddNumberToObject(o, "area", 84.0 / 9216);
	cJSON_AddNumberToObject(o, "n", 5);
	text = stats_json_print(o, false);
	assert_string_equal(text, "{\"area\":0.009114583333333334,\"n\":5}");
	free(text);
	cJSON_Delete(o);
}

static void
add(struct stats_entries *e, const char *cat, const char *label,
    const char *defect, const char *image, const char *node)
{
	stats_entries_add(e, cat, "test", label, defect, image, node, NULL);
}

static void
test_defect_types_are_pairs(void **state)
{
	struct stats_entries e = {0};
	struct stats_table t;

	(void)state;
	/* Node 1 and node 2 share a's crack; b has its own crack. */
	add(&e, "a", "anomaly", "crack", "a/1.png", "1");
	add(&e, "a", "anomaly", "crack", "a/2.png", "2");
	add(&e, "a", "anomaly", "dent", "a/3.png", "2");
	add(&e, "b", "anomaly", "crack", "b/1.png", "1");
	add(&e, "b", "normal", "good", "b/2.png", "1");
	stats_entries_sort(&e);

	stats_table_count(&t, &e, STATS_BY_CATEGORY);
	assert_int_equal(t.nrows, 2);
	assert_int_equal(t.rows[0].defect_types, 2);
	assert_int_equal(t.rows[1].defect_types, 1);
	assert_int_equal(t.total.defect_types, 3);
	assert_false(t.total.defects_unknown);
	stats_table_free(&t);

	stats_table_count(&t, &e, STATS_BY_NODE);
	assert_int_equal(t.nrows, 2);
	assert_int_equal(t.rows[0].defect_types, 2); /* (a,crack) (b,crack) */
	assert_int_equal(t.rows[1].defect_types, 2); /* (a,crack) (a,dent) */
	assert_int_equal(t.total.defect_types, 3);   /* not 4 */
	assert_int_equal(t.total.n.test_normal, 1);
	stats_table_free(&t);
	stats_entries_free(&e);
}

static void
test_pooled_folders_are_unknown(void **state)
{
	struct stats_entries e = {0};
	struct stats_table t;

	(void)state;
	add(&e, "a", "anomaly", "anomaly", "a/1.png", NULL);
	add(&e, "b", "anomaly", "scratch", "b/1.png", NULL);
	add(&e, "c", "normal", "good", "c/1.png", NULL);
	stats_entries_sort(&e);
	stats_table_count(&t, &e, STATS_BY_CATEGORY);
	assert_true(t.rows[0].defects_unknown);
	assert_false(t.rows[1].defects_unknown);
	assert_int_equal(t.rows[1].defect_types, 1);
	assert_false(t.rows[2].defects_unknown);
	assert_int_equal(t.rows[2].defect_types, 0);
	assert_true(t.total.defects_unknown);
	assert_true(stats_defect_is_pooled("bad"));
	assert_false(stats_defect_is_pooled("crack"));
	stats_table_free(&t);
	stats_entries_free(&e);
}

/* --categories keeps the entries (and records) of the named categories in
 * their order, frees the others (a leak or a double free would show under
 * the sanitizers) and removes nothing when a name is unknown. */
static void
test_keep_categories(void **state)
{
	struct stats_entries e = {0};
	struct mirad_recordset set = {0};
	struct mirad_strlist names;
	const char *cats[] = {"a", "b", "c", "b", "a"};
	char err[256];

	(void)state;
	for (int i = 0; i < 5; i++) {
		struct mirad_record *r = mirad_record_new();
		char image[16];

		snprintf(image, sizeof image, "%d.png", i);
		add(&e, cats[i], "normal", "good", image, NULL);
		mirad_record_set(&r->category, cats[i]);
		mirad_record_set(&r->image, image);
		mirad_recordset_push(&set, r);
	}
	assert_int_equal(mirad_strlist_split("b,x", &names), 0);
	assert_int_equal(
	    stats_entries_keep_categories(&e, &names, err, sizeof err), -1);
	assert_non_null(strstr(err, "'x'"));
	assert_int_equal(e.count, 5);
	assert_int_equal(
	    stats_records_keep_categories(&set, &names, err, sizeof err), -1);
	assert_int_equal(set.count, 5);
	mirad_strlist_free(&names);

	assert_int_equal(mirad_strlist_split("c,a", &names), 0);
	assert_int_equal(
	    stats_entries_keep_categories(&e, &names, err, sizeof err), 0);
	assert_int_equal(e.count, 3);
	assert_string_equal(e.items[0].image, "0.png");
	assert_string_equal(e.items[1].image, "2.png");
	assert_string_equal(e.items[2].image, "4.png");
	assert_int_equal(
	    stats_records_keep_categories(&set, &names, err, sizeof err), 0);
	assert_int_equal(set.count, 3);
	assert_string_equal(set.items[1]->image, "2.png");
	assert_string_equal(set.items[2]->image, "4.png");
	/* Both grow again after the cut. */
	add(&e, "d", "normal", "good", "5.png", NULL);
	assert_int_equal(e.count, 4);
	assert_string_equal(e.items[3].category, "d");
	mirad_strlist_free(&names);
	mirad_recordset_clear(&set);
	stats_entries_free(&e);
	assert_null(e.items);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exact_numbers_read_back),
	    cmocka_unit_test(test_readable_numbers),
	    cmocka_unit_test(test_json_print_is_exact),
	    cmocka_unit_test(test_defect_types_are_pairs),
	    cmocka_unit_test(test_pooled_folders_are_unknown),
	    cmocka_unit_test(test_keep_categories),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
