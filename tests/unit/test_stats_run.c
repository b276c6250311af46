/* SPDX-License-Identifier: MIT */
/* Unit tests of mirad-stats' engine (src/stats_run.c): what measures,
 * the entries of a record set (nodes, shards, files), the count tables. */
#include "mirad_platform.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include "test_records.h"
#include <glib.h>

#include "mirad_err.h"
#include "stats_run.h"

static struct mirad_record *
rec(const char *category, const char *split, const char *label,
    const char *image, const char *mask)
{
	return test_record("/d", category, split, label,
	    strcmp(label, "normal") ? "crack" : "good", image, mask);
}

static void
fill(struct mirad_recordset *set)
{
	struct mirad_record *r;

	r = rec("a", "train", "normal", "a/train/0.png", NULL);
	mirad_record_put_number(r, "node", 3);
	mirad_recordset_push(set, r);
	r = rec("a", "test", "normal", "a/test/good.png", NULL);
	mirad_record_put_string(r, "node", "n7");
	mirad_recordset_push(set, r);
	mirad_recordset_push(set,
	    rec("a", "test", "anomaly", "a/test/crack.png",
	        "a/gt/crack_mask.png"));
	mirad_recordset_push(
	    set, rec("b", "train", "normal", "b/train/0.png", NULL));
}

static void
test_measuring(void **state)
{
	struct stats s = {0};

	(void)state;
	/* Counting and --check-sizes decode no pixels. */
	assert_false(stats_measuring(&s));
	s.imaging = true;
	assert_true(stats_measuring(&s));
	s.imaging = false;
	s.html = "report.html";
	assert_true(stats_measuring(&s));
	s.html = NULL;
	s.partial = true;
	assert_true(stats_measuring(&s));
}

static void
test_entries(void **state)
{
	struct mirad_recordset set = {0};
	struct stats s = {0};
	const struct stats_entry *x;

	(void)state;
	fill(&set);
	s.input = "-";
	stats_build_entries(&s, &set);
	assert_int_equal(s.entries.count, 4);
	x = &s.entries.items[0];
	/* A numeric node is printed as a whole number. */
	assert_string_equal(x->node, "3");
	assert_string_equal(x->path, "/d/a/train/0.png");
	assert_null(x->mask_path);
	assert_string_equal(s.entries.items[1].node, "n7");
	x = &s.entries.items[2];
	assert_string_equal(x->label, "anomaly");
	assert_string_equal(x->mask_path, "/d/a/gt/crack_mask.png");
	assert_null(s.entries.items[3].node);
	/* No --partial: no job fingerprint. */
	assert_string_equal(s.job, "");
	stats_run_free(&s);
	mirad_recordset_clear(&set);
}

static void
test_entries_nodes_file_and_shard(void **state)
{
	struct mirad_recordset set = {0};
	struct stats s = {0};
	char path[] = "/tmp/test_stats_nodes_XXXXXX";
	int fd = mkstemp(path);
	static const char csv[] = "image,node\nb/train/0.png,9\n";

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(
	    write(fd, csv, sizeof csv - 1), (ssize_t)sizeof csv - 1);
	close(fd);
	fill(&set);
	s.input = "-";
	s.nodes_file = path;
	/* Shard 1 of 2: the records at odd places; --partial gives the
	 * fingerprint of the whole job. */
	s.shard_index = 1;
	s.shard_count = 2;
	s.partial = true;
	stats_build_entries(&s, &set);
	unlink(path);
	assert_int_equal(s.entries.count, 2);
	assert_string_equal(s.entries.items[0].image, "a/test/good.png");
	assert_string_equal(s.entries.items[1].image, "b/train/0.png");
	/* The file gives the node of a record without one. */
	assert_string_equal(s.entries.items[1].node, "9");
	assert_int_equal(strlen(s.job), 64);
	stats_run_free(&s);
	mirad_recordset_clear(&set);
}

static void
test_reports_counts(void **state)
{
	struct mirad_recordset set = {0};
	struct stats s = {0};
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_non_null(f);
	fill(&set);
	s.input = "-";
	s.format = MIRAD_TABLE_CSV;
	stats_build_entries(&s, &set);
	stats_entries_sort(&s.entries);
	/* Counts only: no pixel module is needed. */
	assert_int_equal(stats_write_reports(&s, f), 0);
	fclose(f);
	assert_non_null(strstr(text, "\na,1,"));
	assert_non_null(strstr(text, "\nb,1,"));
	assert_non_null(strstr(text, "\ntotal,2,"));
	assert_int_equal(s.table.nrows, 2);
	assert_int_equal(s.table.total.n.test_abnormal, 1);
	assert_int_equal(s.table.total.n.test_normal, 1);
	free(text);
	stats_run_free(&s);
	mirad_recordset_clear(&set);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_measuring),
	    cmocka_unit_test(test_entries),
	    cmocka_unit_test(test_entries_nodes_file_and_shard),
	    cmocka_unit_test(test_reports_counts),
	};

	mirad_set_progname("test_stats_run");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
